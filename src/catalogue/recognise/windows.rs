//! Windows PE (and Windows setup media, whose `sources/boot.wim` is a PE):
//! `bootmgr`, `boot/bcd`, `boot/boot.sdi`, `sources/boot.wim`, found without
//! regard to case, handed to `wimboot` as its files.

use super::common;
use crate::catalogue::model::{Arch, Boot, Kind, Recognised, SecureBoot};
use crate::catalogue::tree::Tree;

/// What `wimboot` is given, in order (`bootmgr` only when present: UEFI
/// media may lack it, and wimboot then takes `bootmgfw.efi` from the WIM).
const FILES: [&str; 4] = ["bootmgr", "boot/bcd", "boot/boot.sdi", "sources/boot.wim"];

/// Windows PE, booted through wimboot.
pub fn try_windows(tree: &dyn Tree) -> Option<Recognised> {
    let found: Vec<Option<String>> = FILES.iter().map(|p| common::find(tree, p)).collect();
    if found[1..].iter().any(Option::is_none) {
        return None;
    }
    let mut arches = common::efi_arches(tree);
    if found[0].is_some() && !arches.contains(&Arch::X86_64) {
        arches.push(Arch::X86_64);
    }
    if arches.is_empty() {
        return None;
    }
    arches.sort();
    let initrds: Vec<String> = found.into_iter().flatten().collect();
    let setup = tree
        .find("sources/install.wim")
        .or_else(|| tree.find("sources/install.esd"));
    let boots = arches
        .into_iter()
        .map(|arch| Boot {
            arch,
            kernel: String::new(),
            initrds: initrds.clone(),
            args: String::new(),
            secure_boot: SecureBoot::Unsigned {
                reason: "booted through wimboot, which is not signed for Secure Boot".into(),
            },
        })
        .collect();
    Some(Recognised {
        kind: Kind::WindowsPe,
        title: if setup.is_some() {
            "Windows setup"
        } else {
            "Windows PE"
        }
        .into(),
        boots,
        notes: vec!["needs wimboot in the boot root (netboot ships none)".into()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue::recognise::fixtures::{signed, MS_CA};
    use crate::catalogue::tree::MemTree;

    /// A Windows 11 setup ISO, upper and mixed case as Microsoft writes it.
    fn win11() -> MemTree {
        MemTree::new()
            .with_size("BOOTMGR", 434_000)
            .with("EFI/BOOT/BOOTX64.EFI", signed(MS_CA))
            .with_size("BOOT/BCD", 16_384)
            .with_size("BOOT/BOOT.SDI", 3_170_304)
            .with_size("SOURCES/BOOT.WIM", 680_000_000)
            .with_size("SOURCES/INSTALL.WIM", 5_200_000_000)
            .with_size("SETUP.EXE", 100_000)
    }

    #[test]
    fn recognises_windows_setup_whatever_the_case() {
        let r = try_windows(&win11()).unwrap();
        assert_eq!(r.kind, Kind::WindowsPe);
        assert_eq!(r.title, "Windows setup");
        assert_eq!(r.boots.len(), 1);
        assert_eq!(r.boots[0].arch, Arch::X86_64);
        assert_eq!(r.boots[0].kernel, "");
        assert_eq!(
            r.boots[0].initrds,
            ["BOOTMGR", "BOOT/BCD", "BOOT/BOOT.SDI", "SOURCES/BOOT.WIM"]
        );
        assert!(matches!(
            r.boots[0].secure_boot,
            SecureBoot::Unsigned { .. }
        ));
    }

    #[test]
    fn an_arm64_pe_without_bootmgr_is_arm64_only() {
        let tree = MemTree::new()
            .with_size("efi/boot/bootaa64.efi", 1_000)
            .with_size("boot/bcd", 16_384)
            .with_size("boot/boot.sdi", 3_170_304)
            .with_size("sources/boot.wim", 400_000_000);
        let r = try_windows(&tree).unwrap();
        assert_eq!(r.title, "Windows PE");
        assert_eq!(r.boots.len(), 1);
        assert_eq!(r.boots[0].arch, Arch::Arm64);
        assert_eq!(
            r.boots[0].initrds,
            ["boot/bcd", "boot/boot.sdi", "sources/boot.wim"]
        );
        let no_wim = MemTree::new()
            .with_size("bootmgr", 1)
            .with_size("boot/bcd", 1)
            .with_size("boot/boot.sdi", 1);
        assert_eq!(try_windows(&no_wim), None);
    }
}
