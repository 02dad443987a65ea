#![allow(dead_code)] // each test crate uses a part
//! The 512 bytes of real-mode code the sanboot tests boot: a boot sector
//! that writes a line to COM1, reads one sector at LBA [`DEEP_LBA`] through
//! INT 13h (the drive iPXE hands it in `dl`) and writes the text found
//! there. On a disk image a sector is 512 bytes; on a CD (an ISO booted by
//! its El Torito no-emulation entry) 2048, so the text lies at
//! `DEEP_LBA * 2048` ([`deep_offset`]). For UEFI, a FAT image holding
//! `EFI/BOOT/BOOTX64.EFI` ([`write_esp`]): iPXE again, whose start after
//! the SAN boot ([`second_ipxe`]) shows the firmware loaded it from the
//! image. Shared by tests/pxe_boot_sanboot.rs and tests/pxe_boot_catalogue.rs.

/// The first line the boot sector writes.
pub const FIRST_LINE: &str = "NETBOOT-SANBOOT: boot sector";
/// The text at LBA 4096, written by the boot sector after reading it.
pub const DEEP_LINE: &str = "NETBOOT-SANBOOT-MARKER: LBA 4096 read over HTTP";
/// What the boot sector writes when INT 13h fails.
pub const FAIL_LINE: &str = "NETBOOT-SANBOOT: INT 13h read failed";
/// The sector the boot sector reads.
pub const DEEP_LBA: u64 = 4096;
/// The image's size. With no partition table iPXE guesses 255 heads of 63
/// sectors for INT 13h: an image under 255 * 63 * 512 bytes (7.8 MiB) has
/// no whole cylinder, and iPXE fails even the read of the boot sector with
/// "Input/output error (http://ipxe.org/1d852039)".
pub const DISK_BYTES: u64 = 16 << 20;

/// The boot sector's code, loaded at 0000:7C00, assembled with GNU as
/// (`.code16`, linked at 0x7c00); the messages follow it at 0x7C52 and
/// 0x7C71:
///
/// ```text
/// 7c00 31 c0        xor  ax,ax
/// 7c02 8e d8        mov  ds,ax
/// 7c04 8e c0        mov  es,ax
/// 7c06 fc           cld
/// 7c07 88 d3        mov  bl,dl          ; the boot drive iPXE passes in dl
/// 7c09 be 52 7c     mov  si,FIRST_LINE
/// 7c0c e8 1c 00     call print
/// 7c0f 88 da        mov  dl,bl
/// 7c11 b4 42        mov  ah,0x42        ; extended read ...
/// 7c13 be 42 7c     mov  si,dap         ; ... as the packet at 7c42 says
/// 7c16 cd 13        int  0x13
/// 7c18 72 09        jc   fail
/// 7c1a be 00 80     mov  si,0x8000      ; the sector read: DEEP_LINE
/// 7c1d e8 0b 00     call print
/// 7c20 f4           halt: hlt
/// 7c21 eb fd        jmp  halt
/// 7c23 be 71 7c     fail: mov si,FAIL_LINE
/// 7c26 e8 02 00     call print
/// 7c29 eb f5        jmp  halt
/// 7c2b ac           print: lodsb        ; NUL-terminated string at ds:si
/// 7c2c 84 c0        test al,al
/// 7c2e 74 11        jz   done
/// 7c30 88 c4        mov  ah,al
/// 7c32 ba fd 03     mov  dx,0x3fd       ; COM1 line status
/// 7c35 ec           wait: in al,dx
/// 7c36 a8 20        test al,0x20        ; transmitter empty?
/// 7c38 74 fb        jz   wait
/// 7c3a 88 e0        mov  al,ah
/// 7c3c b2 f8        mov  dl,0xf8        ; COM1 data (0x3f8)
/// 7c3e ee           out  dx,al
/// 7c3f eb ea        jmp  print
/// 7c41 c3           done: ret
/// 7c42 10 00 01 00 00 80 00 00  00 10 00 00 00 00 00 00
///                   dap: size 16, 1 sector, to 0000:8000, from LBA 4096
/// ```
const CODE: [u8; 0x52] = [
    0x31, 0xc0, 0x8e, 0xd8, 0x8e, 0xc0, 0xfc, 0x88, 0xd3, 0xbe, 0x52, 0x7c, 0xe8, 0x1c, 0x00, 0x88,
    0xda, 0xb4, 0x42, 0xbe, 0x42, 0x7c, 0xcd, 0x13, 0x72, 0x09, 0xbe, 0x00, 0x80, 0xe8, 0x0b, 0x00,
    0xf4, 0xeb, 0xfd, 0xbe, 0x71, 0x7c, 0xe8, 0x02, 0x00, 0xeb, 0xf5, 0xac, 0x84, 0xc0, 0x74, 0x11,
    0x88, 0xc4, 0xba, 0xfd, 0x03, 0xec, 0xa8, 0x20, 0x74, 0xfb, 0x88, 0xe0, 0xb2, 0xf8, 0xee, 0xeb,
    0xea, 0xc3, 0x10, 0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00,
];

/// The 512-byte boot sector: code, the two messages at the addresses the
/// code names, zeros, and the 0x55AA signature.
pub fn boot_sector() -> [u8; 512] {
    let mut sector = [0u8; 512];
    let mut at = CODE.len();
    sector[..at].copy_from_slice(&CODE);
    for (line, address) in [(FIRST_LINE, 0x7c52), (FAIL_LINE, 0x7c71)] {
        assert_eq!(0x7c00 + at, address, "message placement");
        let text = format!("{line}\r\n");
        sector[at..at + text.len()].copy_from_slice(text.as_bytes());
        at += text.len() + 1; // and its NUL
    }
    sector[510] = 0x55;
    sector[511] = 0xaa;
    sector
}

/// Where the boot sector finds [`DEEP_LINE`] in an image whose sectors are
/// `sector` bytes long.
pub fn deep_offset(sector: u64) -> u64 {
    DEEP_LBA * sector
}

/// What iPXE prints as it boots a SAN device (then its drive number), and
/// as an iPXE starts.
pub const SAN_BOOTING: &str = "Booting from SAN device ";
pub const IPXE_STARTS: &str = "iPXE initialising devices";

/// A FAT image of `kib` KiB holding `EFI/BOOT/BOOTX64.EFI` = `efi`.
pub fn write_esp(path: &std::path::Path, efi: &std::path::Path, kib: u32) -> Result<(), String> {
    let run = |program: &str, args: &[&str]| -> Result<(), String> {
        let out = std::process::Command::new(program)
            .args(args)
            .env("MTOOLS_SKIP_CHECK", "1")
            .output()
            .map_err(|e| format!("{program}: {e} (install dosfstools and mtools)"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    let img = path.to_str().ok_or("path")?;
    run("mkfs.fat", &["-C", img, &kib.to_string()])?;
    run("mmd", &["-i", img, "::EFI", "::EFI/BOOT"])?;
    let efi = efi.to_str().ok_or("path")?;
    run("mcopy", &["-i", img, efi, "::EFI/BOOT/BOOTX64.EFI"])?;
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .map_err(|e| e.to_string())
}

/// An iPXE started after iPXE booted the SAN device: BOOTX64.EFI ran.
pub fn second_ipxe(serial: &str) -> bool {
    serial
        .split_once(SAN_BOOTING)
        .is_some_and(|(_, after)| after.contains(IPXE_STARTS))
}
