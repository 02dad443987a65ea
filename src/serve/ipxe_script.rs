//! The iPXE script `netboot serve` writes itself when the boot root has no
//! `boot.ipxe` (or `autoexec.ipxe`) and nothing names one: an iPXE client
//! then gets this script, never a boot loader of another architecture (a
//! BIOS `pxelinux.0` sent to UEFI iPXE cannot run). On BIOS it chains
//! `pxelinux.0` when the root has it; otherwise it says on the console what
//! is missing and hands the machine back to its firmware's next boot device.

use std::path::Path;

/// The name the script is served under (over TFTP, as a file of the root
/// that exists for every client).
pub const NAME: &str = "netboot.ipxe";

/// The script for a boot root: `has_pxelinux` says whether `pxelinux.0`
/// is there for BIOS machines.
pub fn script(has_pxelinux: bool) -> String {
    let mut out = String::from(
        "#!ipxe\n\
         # Written by netboot: the boot root has no boot.ipxe and no profile gives this\n\
         # machine an iPXE script. Put a boot.ipxe in the boot root, or give the machine's\n\
         # profile `boot: {ipxe: ...}`, to choose what iPXE clients boot.\n\
         echo netboot: iPXE ${buildarch} on ${platform}, MAC ${net0/mac}, address ${net0/ip}\n\
         echo netboot: no boot.ipxe in the boot root and no profile script for this machine\n",
    );
    if has_pxelinux {
        out.push_str("iseq ${platform} pcbios && chain pxelinux.0 ||\n");
    }
    out.push_str(
        "echo netboot: nothing to boot for ${platform} here; trying the next boot device\n\
         sleep 5\n\
         exit\n",
    );
    out
}

/// The script for `root` as it is now.
pub fn for_root(root: &Path) -> Vec<u8> {
    script(root.join("pxelinux.0").is_file()).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_pxelinux_only_on_bios_and_only_when_present() {
        let with = script(true);
        assert!(with.starts_with("#!ipxe\n"));
        assert!(with.contains("iseq ${platform} pcbios && chain pxelinux.0 ||\n"));
        let without = script(false);
        assert!(!without.contains("chain"), "{without}");
        for s in [&with, &without] {
            assert!(s.trim_end().ends_with("exit"), "{s}");
            assert!(
                !s.contains(".efi") && !s.contains(".kpxe"),
                "no binary: {s}"
            );
        }
    }
}
