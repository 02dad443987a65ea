//! Client architectures: every code of IANA's "Processor Architecture
//! Types" registry (DHCPv4 option 93, DHCPv6 option 61), 0 to 41, with the
//! name profiles use for it, the firmware family whose boot file it gets
//! and whether it boots over PXE (TFTP) or HTTP.
//!
//! The one home of this map: `registry::arch` (names in `match: arch:`),
//! `dhcp::pxe` (which boot file a client gets) and `explain` read it.
//! Codes 7 and 9 are both x64 UEFI in practice (many firmwares send 9 for
//! x64, IANA's 9 is EFI byte code), so 9 is x64 here; 17 (EBC over HTTP)
//! follows it. Deprecated and obscure codes have a row with no family: the
//! client gets an address only, and the log says why.

/// A firmware family: one boot-file key in profiles and `netboot.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Bios,
    UefiIa32,
    UefiX64,
    UefiArm32,
    UefiArm64,
    UefiRiscv32,
    UefiRiscv64,
    UefiLoongarch64,
    UbootArm32,
    UbootArm64,
    /// Raspberry Pi's network boot (rpiboot, code 41).
    Rpi,
}

impl Family {
    /// Every family, in the order of the documentation.
    pub const ALL: [Family; 11] = [
        Self::Bios,
        Self::UefiIa32,
        Self::UefiX64,
        Self::UefiArm32,
        Self::UefiArm64,
        Self::UefiRiscv32,
        Self::UefiRiscv64,
        Self::UefiLoongarch64,
        Self::UbootArm32,
        Self::UbootArm64,
        Self::Rpi,
    ];

    /// The `boot:` key of its file over TFTP (`uefi_arm64`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Bios => "bios",
            Self::UefiIa32 => "uefi_ia32",
            Self::UefiX64 => "uefi_x64",
            Self::UefiArm32 => "uefi_arm32",
            Self::UefiArm64 => "uefi_arm64",
            Self::UefiRiscv32 => "uefi_riscv32",
            Self::UefiRiscv64 => "uefi_riscv64",
            Self::UefiLoongarch64 => "uefi_loongarch64",
            Self::UbootArm32 => "uboot_arm32",
            Self::UbootArm64 => "uboot_arm64",
            Self::Rpi => "rpi",
        }
    }

    /// The `boot:` key of its HTTP boot URL (`http_arm64`); `None` for a
    /// family that has no HTTP code.
    pub fn http_key(self) -> Option<&'static str> {
        Some(match self {
            Self::Bios => "http_bios",
            Self::UefiIa32 => "http_ia32",
            Self::UefiX64 => "http_x64",
            Self::UefiArm32 => "http_arm32",
            Self::UefiArm64 => "http_arm64",
            Self::UefiRiscv32 => "http_riscv32",
            Self::UefiRiscv64 => "http_riscv64",
            Self::UefiLoongarch64 => "http_loongarch64",
            Self::UbootArm32 => "http_uboot_arm32",
            Self::UbootArm64 => "http_uboot_arm64",
            Self::Rpi => return None,
        })
    }

    /// Words for logs and `explain` (`UEFI ARM64`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Bios => "BIOS",
            Self::UefiIa32 => "UEFI IA32",
            Self::UefiX64 => "UEFI x64",
            Self::UefiArm32 => "UEFI ARM32",
            Self::UefiArm64 => "UEFI ARM64",
            Self::UefiRiscv32 => "UEFI RISC-V 32",
            Self::UefiRiscv64 => "UEFI RISC-V 64",
            Self::UefiLoongarch64 => "UEFI LoongArch64",
            Self::UbootArm32 => "U-Boot ARM32",
            Self::UbootArm64 => "U-Boot ARM64",
            Self::Rpi => "Raspberry Pi",
        }
    }

    /// The U-Boot family of the same processor, for a client that says it is
    /// U-Boot (vendor class `U-Boot…`) whatever code it sends (U-Boot built
    /// with UEFI support sends 11 on ARM64); other processors keep theirs.
    pub fn as_uboot(self) -> Family {
        match self {
            Self::UefiArm32 | Self::UbootArm32 => Self::UbootArm32,
            Self::UefiArm64 | Self::UbootArm64 => Self::UbootArm64,
            other => other,
        }
    }

    /// iPXE's `${platform}` and `${buildarch}` on this family.
    pub fn ipxe_vars(self) -> (&'static str, &'static str) {
        match self {
            Self::Bios => ("pcbios", "i386"),
            Self::UefiIa32 => ("efi", "i386"),
            Self::UefiArm32 | Self::UbootArm32 => ("efi", "arm32"),
            Self::UefiArm64 | Self::UbootArm64 | Self::Rpi => ("efi", "arm64"),
            Self::UefiRiscv32 => ("efi", "riscv32"),
            Self::UefiRiscv64 => ("efi", "riscv64"),
            Self::UefiLoongarch64 => ("efi", "loong64"),
            Self::UefiX64 => ("efi", "x86_64"),
        }
    }
}

/// How a code's client fetches its boot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// PXE: a file name, fetched over TFTP.
    Pxe,
    /// UEFI (or U-Boot) HTTP boot: a URL.
    Http,
}

/// One code of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arch {
    /// The option 93 / option 61 code.
    pub code: u16,
    /// The name profiles use in `match: arch:` (`uefi-arm64`).
    pub name: &'static str,
    /// IANA's description.
    pub iana: &'static str,
    /// Whose boot file it gets; `None`: an address only.
    pub family: Option<Family>,
    /// PXE or HTTP.
    pub transport: Transport,
}

use Family as F;
use Transport::{Http, Pxe};

const fn row(
    code: u16,
    name: &'static str,
    iana: &'static str,
    family: Option<F>,
    t: Transport,
) -> Arch {
    Arch {
        code,
        name,
        iana,
        family,
        transport: t,
    }
}

/// Every code IANA lists, in order; the row's index is its code.
pub const TABLE: [Arch; 42] = [
    row(0, "bios", "x86 BIOS", Some(F::Bios), Pxe),
    row(1, "pc98", "NEC/PC98 (deprecated)", None, Pxe),
    row(2, "itanium", "Itanium", None, Pxe),
    row(3, "alpha", "DEC Alpha (deprecated)", None, Pxe),
    row(4, "arc-x86", "Arc x86 (deprecated)", None, Pxe),
    row(
        5,
        "lean-client",
        "Intel Lean Client (deprecated)",
        None,
        Pxe,
    ),
    row(6, "uefi-ia32", "x86 UEFI", Some(F::UefiIa32), Pxe),
    row(7, "uefi-x64", "x64 UEFI", Some(F::UefiX64), Pxe),
    row(8, "xscale", "EFI Xscale (deprecated)", None, Pxe),
    row(
        9,
        "uefi-x64",
        "EBC (sent by x64 UEFI in practice)",
        Some(F::UefiX64),
        Pxe,
    ),
    row(10, "uefi-arm32", "ARM 32-bit UEFI", Some(F::UefiArm32), Pxe),
    row(11, "uefi-arm64", "ARM 64-bit UEFI", Some(F::UefiArm64), Pxe),
    row(12, "ppc-openfirmware", "PowerPC Open Firmware", None, Pxe),
    row(13, "ppc-epapr", "PowerPC ePAPR", None, Pxe),
    row(14, "power-opal", "POWER OPAL v3", None, Pxe),
    row(
        15,
        "http-ia32",
        "x86 UEFI boot from HTTP",
        Some(F::UefiIa32),
        Http,
    ),
    row(
        16,
        "http-x64",
        "x64 UEFI boot from HTTP",
        Some(F::UefiX64),
        Http,
    ),
    row(
        17,
        "http-ebc",
        "EBC boot from HTTP (taken as x64, as 9)",
        Some(F::UefiX64),
        Http,
    ),
    row(
        18,
        "http-arm32",
        "ARM 32-bit UEFI boot from HTTP",
        Some(F::UefiArm32),
        Http,
    ),
    row(
        19,
        "http-arm64",
        "ARM 64-bit UEFI boot from HTTP",
        Some(F::UefiArm64),
        Http,
    ),
    row(
        20,
        "http-bios",
        "x86 BIOS boot from HTTP",
        Some(F::Bios),
        Http,
    ),
    row(
        21,
        "uboot-arm32",
        "ARM 32-bit U-Boot",
        Some(F::UbootArm32),
        Pxe,
    ),
    row(
        22,
        "uboot-arm64",
        "ARM 64-bit U-Boot",
        Some(F::UbootArm64),
        Pxe,
    ),
    row(
        23,
        "http-uboot-arm32",
        "ARM 32-bit U-Boot boot from HTTP",
        Some(F::UbootArm32),
        Http,
    ),
    row(
        24,
        "http-uboot-arm64",
        "ARM 64-bit U-Boot boot from HTTP",
        Some(F::UbootArm64),
        Http,
    ),
    row(
        25,
        "uefi-riscv32",
        "RISC-V 32-bit UEFI",
        Some(F::UefiRiscv32),
        Pxe,
    ),
    row(
        26,
        "http-riscv32",
        "RISC-V 32-bit UEFI boot from HTTP",
        Some(F::UefiRiscv32),
        Http,
    ),
    row(
        27,
        "uefi-riscv64",
        "RISC-V 64-bit UEFI",
        Some(F::UefiRiscv64),
        Pxe,
    ),
    row(
        28,
        "http-riscv64",
        "RISC-V 64-bit UEFI boot from HTTP",
        Some(F::UefiRiscv64),
        Http,
    ),
    row(29, "uefi-riscv128", "RISC-V 128-bit UEFI", None, Pxe),
    row(
        30,
        "http-riscv128",
        "RISC-V 128-bit UEFI boot from HTTP",
        None,
        Http,
    ),
    row(31, "s390-basic", "s390 Basic", None, Pxe),
    row(32, "s390-extended", "s390 Extended", None, Pxe),
    row(33, "uefi-mips32", "MIPS 32-bit UEFI", None, Pxe),
    row(34, "uefi-mips64", "MIPS 64-bit UEFI", None, Pxe),
    row(35, "uefi-sunway32", "Sunway 32-bit UEFI", None, Pxe),
    row(36, "uefi-sunway64", "Sunway 64-bit UEFI", None, Pxe),
    row(37, "uefi-loongarch32", "LoongArch 32-bit UEFI", None, Pxe),
    row(
        38,
        "http-loongarch32",
        "LoongArch 32-bit UEFI boot from HTTP",
        None,
        Http,
    ),
    row(
        39,
        "uefi-loongarch64",
        "LoongArch 64-bit UEFI",
        Some(F::UefiLoongarch64),
        Pxe,
    ),
    row(
        40,
        "http-loongarch64",
        "LoongArch 64-bit UEFI boot from HTTP",
        Some(F::UefiLoongarch64),
        Http,
    ),
    row(41, "rpi", "arm rpiboot", Some(F::Rpi), Pxe),
];

/// The row of `code`, `None` past the registry's end.
pub fn lookup(code: u16) -> Option<&'static Arch> {
    TABLE.get(usize::from(code))
}

/// True for a code whose client boots over HTTP (a URL as its boot file).
pub fn is_http(code: u16) -> bool {
    lookup(code).is_some_and(|a| a.transport == Http)
}

#[cfg(test)]
#[path = "arch_tests.rs"]
mod tests;
