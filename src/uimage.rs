//! U-Boot script images (`mkimage -T script -C none`): a rendered script
//! wrapped in U-Boot's 64-byte legacy image header, so that U-Boot's
//! `source` runs it (distro boot's `boot.scr.uimg`).
//!
//! The layout, all big-endian: magic `0x27051956`, header CRC32 (computed
//! with that field zero), time, data size, load and entry address, data
//! CRC32, OS, CPU architecture, image type (6, script), compression (0),
//! a 32-byte NUL-padded name. A script is a multi-file image of one file:
//! the data is the file's length, a zero word ending the length list, then
//! the script. U-Boot checks magic, both CRCs and the type, not the
//! architecture. The time is 0 so that a client's file is the same bytes
//! each time it is rendered.

const MAGIC: u32 = 0x2705_1956;
const HEADER_LEN: usize = 64;
const NAME_LEN: usize = 32;
const OS_LINUX: u8 = 5;
const TYPE_SCRIPT: u8 = 6;
const COMP_NONE: u8 = 0;

/// U-Boot's `IH_ARCH_*` value for the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageArch {
    /// 0: none given.
    Invalid,
    /// 2: ARM 32-bit.
    Arm,
    /// 22: ARM 64-bit.
    Arm64,
    /// 26: RISC-V.
    Riscv,
}

impl ImageArch {
    fn code(self) -> u8 {
        match self {
            Self::Invalid => 0,
            Self::Arm => 2,
            Self::Arm64 => 22,
            Self::Riscv => 26,
        }
    }

    /// The header architecture of a client's family.
    pub fn of(family: Option<crate::arch::Family>) -> Self {
        use crate::arch::Family as F;
        match family {
            Some(F::UefiArm32 | F::UbootArm32) => Self::Arm,
            Some(F::UefiArm64 | F::UbootArm64 | F::Rpi) => Self::Arm64,
            Some(F::UefiRiscv32 | F::UefiRiscv64) => Self::Riscv,
            _ => Self::Invalid,
        }
    }
}

/// `script` as a U-Boot script image named `name` (cut to 32 bytes, as mkimage does).
pub fn script_image(name: &str, script: &[u8], arch: ImageArch) -> Vec<u8> {
    let mut data = Vec::with_capacity(script.len() + 8);
    data.extend_from_slice(&be32(script.len()));
    data.extend_from_slice(&0u32.to_be_bytes());
    data.extend_from_slice(script);
    let mut header = [0u8; HEADER_LEN];
    header[0..4].copy_from_slice(&MAGIC.to_be_bytes());
    header[12..16].copy_from_slice(&be32(data.len()));
    header[24..28].copy_from_slice(&crc32fast::hash(&data).to_be_bytes());
    header[28] = OS_LINUX;
    header[29] = arch.code();
    header[30] = TYPE_SCRIPT;
    header[31] = COMP_NONE;
    let name = name.as_bytes();
    let n = name.len().min(NAME_LEN);
    header[32..32 + n].copy_from_slice(&name[..n]);
    let hcrc = crc32fast::hash(&header);
    header[4..8].copy_from_slice(&hcrc.to_be_bytes());
    let mut out = header.to_vec();
    out.extend_from_slice(&data);
    out
}

/// True for a file name U-Boot loads as a script image (`boot.scr.uimg`,
/// `boot.scr`).
pub fn is_script_name(path: &str) -> bool {
    path.ends_with(".scr.uimg") || path.ends_with(".scr")
}

fn be32(n: usize) -> [u8; 4] {
    u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes()
}

#[cfg(test)]
#[path = "uimage_tests.rs"]
mod tests;
