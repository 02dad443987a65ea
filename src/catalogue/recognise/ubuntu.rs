//! Ubuntu (and its flavours and derivatives that boot with casper, such as
//! Linux Mint): `casper/vmlinuz` and `casper/initrd` (or `initrd.lz`,
//! `initrd.gz`), booted with casper's `url=`: it downloads the whole ISO into
//! memory and runs from it.

use super::bootcfg;
use super::{args, common};
use crate::catalogue::model::{Arch, Kind, Recognised};
use crate::catalogue::tree::Tree;

const INITRDS: [&str; 3] = ["casper/initrd", "casper/initrd.lz", "casper/initrd.gz"];

/// The arguments casper needs to find the system over HTTP.
/// `cloud-config-url=/dev/null`: cloud-init reads `url=` from the kernel
/// command line as its own config URL and would fetch the ISO again as
/// cloud-config; the server installer's documentation sets it for netboot.
const ADDED: [&str; 3] = ["ip=dhcp", "url={iso_url}", "cloud-config-url=/dev/null"];

/// An Ubuntu live or live-server ISO.
pub fn try_ubuntu(tree: &dyn Tree) -> Option<Recognised> {
    let entries = bootcfg::entries(tree);
    let entry = entries.iter().find(|e| {
        e.kernel.to_ascii_lowercase().starts_with("casper/") && tree.find(&e.kernel).is_some()
    });
    let kernel = match entry {
        Some(e) => common::find(tree, &e.kernel)?,
        None => common::find(tree, "casper/vmlinuz")?,
    };
    let initrd = entry
        .and_then(|e| bootcfg::initrds_in(tree, e).into_iter().next())
        .or_else(|| INITRDS.iter().find_map(|p| common::find(tree, p)))?;
    let arch = common::disk_info_arch(tree)
        .or_else(|| common::efi_arches(tree).first().copied())
        .or_else(|| common::kernel_arch(tree, &kernel))
        .unwrap_or(Arch::X86_64);
    let distro_args = entry.map(|e| e.args.as_slice()).unwrap_or_default();
    let args = args::network(distro_args, &ADDED);
    let server = is_server(tree);
    let name = common::disk_info(tree).unwrap_or_else(|| "Ubuntu".into());
    Some(Recognised {
        kind: Kind::Linux {
            distro: if server {
                "ubuntu-server"
            } else {
                "ubuntu-live"
            }
            .into(),
        },
        title: format!("{name}{}", if server { " live server" } else { " live" }),
        boots: vec![common::boot(tree, arch, &kernel, vec![initrd], args)],
        notes: vec![
            "casper downloads the whole ISO into memory at boot (url=): the machine needs \
             more RAM than the ISO's size"
                .into(),
        ],
    })
}

/// The live server installer (subiquity): said by `.disk/info`, or its squashfs layers.
fn is_server(tree: &dyn Tree) -> bool {
    let info = common::text(tree, ".disk/info").unwrap_or_default();
    info.to_ascii_lowercase().contains("server")
        || !common::files_in(tree, "casper", "ubuntu-server").is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::model::SecureBoot;
    use crate::catalogue::recognise::fixtures::{signed, signed_arm64, MS_CA};
    use crate::catalogue::tree::MemTree;

    const CANONICAL: &str = "Canonical Ltd. Master Certificate Authority";

    /// Ubuntu Server 24.04.1 amd64 as the ISO lays it out.
    fn server() -> MemTree {
        let grub = "set timeout=30\nloadfont unicode\nset menu_color_normal=white/black\n\
            menuentry \"Try or Install Ubuntu Server\" {\n\tset gfxpayload=keep\n\
            \tlinux\t/casper/vmlinuz  ---\n\tinitrd\t/casper/initrd\n}\n\
            menuentry \"Ubuntu Server with the HWE kernel\" {\n\tset gfxpayload=keep\n\
            \tlinux\t/casper/hwe-vmlinuz  ---\n\tinitrd\t/casper/hwe-initrd\n}\n";
        MemTree::new()
            .with(
                ".disk/info",
                "Ubuntu-Server 24.04.1 LTS \"Noble Numbat\" - Release amd64 (20240827)",
            )
            .with("EFI/boot/bootx64.efi", signed(MS_CA))
            .with("EFI/boot/grubx64.efi", signed(CANONICAL))
            .with_size("EFI/boot/mmx64.efi", 856_000)
            .with("boot/grub/grub.cfg", grub)
            .with("casper/vmlinuz", signed(CANONICAL))
            .with_size("casper/initrd", 71_000_000)
            .with("casper/hwe-vmlinuz", signed(CANONICAL))
            .with_size("casper/hwe-initrd", 72_000_000)
            .with_size("casper/ubuntu-server-minimal.squashfs", 160_000_000)
            .with_size(
                "casper/ubuntu-server-minimal.ubuntu-server.squashfs",
                480_000_000,
            )
            .with_size("casper/install-sources.yaml", 1_000)
    }

    #[test]
    fn recognises_the_live_server_and_boots_it_with_url() {
        let r = try_ubuntu(&server()).unwrap();
        assert_eq!(
            r.kind,
            Kind::Linux {
                distro: "ubuntu-server".into()
            }
        );
        assert_eq!(
            r.title,
            "Ubuntu-Server 24.04.1 LTS \"Noble Numbat\" live server"
        );
        let b = &r.boots[0];
        assert_eq!(
            (b.arch, b.kernel.as_str()),
            (Arch::X86_64, "casper/vmlinuz")
        );
        assert_eq!(b.initrds, ["casper/initrd"]);
        assert_eq!(
            b.args,
            "ip=dhcp url={iso_url} cloud-config-url=/dev/null ---"
        );
        assert_eq!(
            b.secure_boot,
            SecureBoot::Signed {
                shim: "EFI/boot/bootx64.efi".into(),
                grub: "EFI/boot/grubx64.efi".into(),
                signer: Some(MS_CA.into())
            }
        );
    }

    #[test]
    fn recognises_an_older_desktop_with_isolinux_and_initrd_lz() {
        let txt = "default live\nlabel live\n  menu label ^Try Ubuntu without installing\n\
            \x20 kernel /casper/vmlinuz.efi\n\
            \x20 append  file=/cdrom/preseed/ubuntu.seed boot=casper initrd=/casper/initrd.lz quiet splash ---\n";
        let tree = MemTree::new()
            .with(
                ".disk/info",
                "Ubuntu 16.04.7 LTS \"Xenial Xerus\" - Release amd64 (20200810)",
            )
            .with("isolinux/txt.cfg", txt)
            .with("casper/vmlinuz.efi", signed(CANONICAL))
            .with_size("casper/initrd.lz", 40_000_000)
            .with_size("casper/filesystem.squashfs", 1_500_000_000);
        let r = try_ubuntu(&tree).unwrap();
        assert_eq!(
            r.kind,
            Kind::Linux {
                distro: "ubuntu-live".into()
            }
        );
        let b = &r.boots[0];
        assert_eq!(b.kernel, "casper/vmlinuz.efi");
        assert_eq!(b.initrds, ["casper/initrd.lz"]);
        assert_eq!(
            b.args,
            "boot=casper quiet splash ip=dhcp url={iso_url} cloud-config-url=/dev/null ---"
        );
        assert!(
            matches!(&b.secure_boot, SecureBoot::Unsigned { reason } if reason == "no shim at EFI/BOOT/BOOTX64.EFI")
        );
    }

    #[test]
    fn an_arm64_image_is_arm64() {
        let tree = MemTree::new()
            .with(
                ".disk/info",
                "Ubuntu 24.04.1 LTS \"Noble Numbat\" - Release arm64 (20240827)",
            )
            .with("casper/vmlinuz", signed_arm64(CANONICAL))
            .with_size("casper/initrd", 70_000_000);
        let r = try_ubuntu(&tree).unwrap();
        assert_eq!(r.boots[0].arch, Arch::Arm64);
        assert_eq!(r.title, "Ubuntu 24.04.1 LTS \"Noble Numbat\" live");
        assert_eq!(
            try_ubuntu(&MemTree::new().with_size("casper/vmlinuz", 9)),
            None
        );
    }
}
