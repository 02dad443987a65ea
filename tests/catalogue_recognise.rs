//! The Secure Boot verdicts of the image catalogue's recognisers on Debian's
//! real signed binaries: the shim (`bootnetx64.efi`, signed by Microsoft's
//! UEFI CA 2011 and 2023), GRUB and the kernel (signed by Debian's Secure Boot
//! CA) from `debian-installer-12-netboot-amd64`, and iPXE's unsigned
//! `ipxe.efi`. Needs those packages (`.ci/install-deps.sh`); fails if missing.

use netboot::catalogue::model::{Arch, Kind, SecureBoot};
use netboot::catalogue::recognise::{recognise, recognise_directory, secure};
use netboot::catalogue::tree::MemTree;

const DI: &str = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64";

fn real(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{path}: {e}; install debian-installer-12-netboot-amd64 and ipxe (.ci/install-deps.sh)"
        )
    })
}

/// Debian's netboot files laid out as on the installer disc.
fn debian_disc() -> MemTree {
    MemTree::new()
        .with(
            "EFI/boot/bootx64.efi",
            real(&format!("{DI}/bootnetx64.efi")),
        )
        .with("EFI/boot/grubx64.efi", real(&format!("{DI}/grubx64.efi")))
        .with("install.amd/vmlinuz", real(&format!("{DI}/linux")))
        .with_size("install.amd/initrd.gz", 30_000_000)
}

#[test]
fn debians_signed_chain_is_signed_and_names_microsofts_cas() {
    let r = recognise(&debian_disc());
    assert_eq!(
        r.kind,
        Kind::Linux {
            distro: "debian-installer".into()
        }
    );
    assert_eq!(r.boots[0].arch, Arch::X86_64);
    assert_eq!(
        r.boots[0].secure_boot,
        SecureBoot::Signed {
            shim: "EFI/boot/bootx64.efi".into(),
            grub: "EFI/boot/grubx64.efi".into(),
            signer: Some("Microsoft Corporation UEFI CA 2011, Microsoft UEFI CA 2023".into()),
        }
    );
    let tree = debian_disc();
    for path in ["EFI/boot/grubx64.efi", "install.amd/vmlinuz"] {
        assert_eq!(
            secure::signers(&tree, path).unwrap(),
            ["Debian Secure Boot CA"],
            "{path}"
        );
    }
}

#[test]
fn debians_netboot_directory_is_a_plain_entry_whose_kernel_is_signed_but_has_no_shim() {
    let dir = MemTree::new()
        .with("linux", real(&format!("{DI}/linux")))
        .with_size("initrd.gz", 30_000_000);
    let r = recognise_directory(&dir).unwrap();
    assert_eq!(
        r.kind,
        Kind::Linux {
            distro: "directory".into()
        }
    );
    assert_eq!(r.boots[0].arch, Arch::X86_64, "from the kernel's PE header");
    assert_eq!(
        r.boots[0].secure_boot,
        SecureBoot::Unsigned {
            reason: "no shim at EFI/BOOT/BOOTX64.EFI".into()
        }
    );
}

#[test]
fn an_unsigned_ipxe_in_place_of_the_shim_is_named() {
    let tree = debian_disc().with("EFI/boot/bootx64.efi", real("/usr/lib/ipxe/ipxe.efi"));
    let r = recognise(&tree);
    assert_eq!(
        r.boots[0].secure_boot,
        SecureBoot::Unsigned {
            reason: "EFI/boot/bootx64.efi carries no Authenticode signature".into()
        }
    );
}
