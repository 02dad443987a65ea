//! The boot file an x86-64 UEFI PXE machine is sent when nothing configured
//! names one: DHCP cannot tell whether Secure Boot is on, so the path that
//! works either way. When the catalogue holds an entry whose Secure Boot
//! verdict is `Signed` on x86-64 (a signed shim, GRUB and kernel from the
//! distribution), that is the entry's shim, served from inside the ISO;
//! shim fetches GRUB from the same directory, GRUB gets the catalogue's
//! `grub.cfg` and boots a signed kernel over HTTP. The first such entry by
//! id is taken, so the choice does not move between scans. Pure.

use super::model::{Arch, SecureBoot};
use super::Catalogue;

/// A shim's path must fit the DHCP reply's `file` field (128 bytes, NUL
/// included): shim builds GRUB's path from that field, not option 67.
pub const MAX_BOOT_FILE: usize = 127;

/// The signed shim chosen for UEFI x64 PXE clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedShim {
    /// The catalogue entry it belongs to.
    pub entry: String,
    /// Its path relative to the root (`debian-12.iso/EFI/boot/bootx64.efi`),
    /// the boot file sent.
    pub boot_file: String,
}

/// The first entry by id whose x86-64 boot is signed, and the path of its
/// shim; `None` when there is none (or every such path is too long for the
/// DHCP reply).
pub fn signed_shim(catalogue: &Catalogue) -> Option<SignedShim> {
    let mut found: Vec<SignedShim> = catalogue
        .entries
        .iter()
        .filter_map(|entry| {
            entry.recognised.boots.iter().find_map(|boot| {
                let SecureBoot::Signed { shim, .. } = &boot.secure_boot else {
                    return None;
                };
                (boot.arch == Arch::X86_64).then(|| SignedShim {
                    entry: entry.id.clone(),
                    boot_file: format!("{}/{shim}", entry.id),
                })
            })
        })
        .filter(|s| s.boot_file.len() <= MAX_BOOT_FILE)
        .collect();
    found.sort_by(|a, b| a.entry.cmp(&b.entry));
    found.into_iter().next()
}

/// The UEFI x64 boot file for a PXE client no profile gives one to: what
/// a flag or `netboot.yaml` configured, else the catalogue's signed shim,
/// else the first usual boot loader present in the root (`ipxe.efi`, ...).
pub fn uefi_x64_default(
    configured: Option<&str>,
    shim: Option<&SignedShim>,
    present: Option<&str>,
) -> Option<String> {
    configured
        .or(shim.map(|s| s.boot_file.as_str()))
        .or(present)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalogue::model::{Boot, Kind, Recognised};
    use crate::catalogue::{Entry, Source};

    fn entry(id: &str, arch: Arch, signed: bool) -> Entry {
        let secure_boot = if signed {
            SecureBoot::Signed {
                shim: "EFI/boot/bootx64.efi".into(),
                grub: "EFI/boot/grubx64.efi".into(),
                signer: None,
            }
        } else {
            SecureBoot::Unsigned {
                reason: "no shim".into(),
            }
        };
        Entry {
            id: id.into(),
            source: Source::Iso(Arc::default()),
            size: 1,
            recognised: Recognised {
                kind: Kind::Linux {
                    distro: "debian-installer".into(),
                },
                title: id.into(),
                boots: vec![Boot {
                    arch,
                    kernel: "install.amd/vmlinuz".into(),
                    initrds: vec![],
                    args: String::new(),
                    secure_boot,
                }],
                notes: vec![],
            },
            stamp: None,
        }
    }

    fn catalogue(entries: Vec<Entry>) -> Catalogue {
        Catalogue {
            entries,
            ..Catalogue::default()
        }
    }

    #[test]
    fn the_first_signed_x86_64_entry_by_id_gives_its_shim() {
        let c = catalogue(vec![
            entry("alpine.iso", Arch::X86_64, false),
            entry("z/debian.iso", Arch::X86_64, true),
            entry("arm.iso", Arch::Arm64, true),
            entry("fedora.iso", Arch::X86_64, true),
        ]);
        assert_eq!(
            signed_shim(&c),
            Some(SignedShim {
                entry: "fedora.iso".into(),
                boot_file: "fedora.iso/EFI/boot/bootx64.efi".into(),
            })
        );
    }

    #[test]
    fn nothing_signed_for_x86_64_gives_no_shim() {
        let c = catalogue(vec![
            entry("alpine.iso", Arch::X86_64, false),
            entry("arm.iso", Arch::Arm64, true),
        ]);
        assert_eq!(signed_shim(&c), None);
        assert_eq!(signed_shim(&Catalogue::default()), None);
    }

    #[test]
    fn a_shim_path_too_long_for_the_dhcp_file_field_is_passed_over() {
        let long = format!("{}.iso", "x".repeat(110));
        let c = catalogue(vec![entry(&long, Arch::X86_64, true)]);
        assert_eq!(signed_shim(&c), None);
        let c = catalogue(vec![
            entry(&long, Arch::X86_64, true),
            entry("zz.iso", Arch::X86_64, true),
        ]);
        assert_eq!(signed_shim(&c).unwrap().entry, "zz.iso");
    }

    #[test]
    fn configured_wins_then_the_shim_then_what_is_present() {
        let shim = SignedShim {
            entry: "d.iso".into(),
            boot_file: "d.iso/EFI/boot/bootx64.efi".into(),
        };
        let pick = |c, s, p| uefi_x64_default(c, s, p);
        assert_eq!(
            pick(Some("mine.efi"), Some(&shim), Some("ipxe.efi")).as_deref(),
            Some("mine.efi")
        );
        assert_eq!(
            pick(None, Some(&shim), Some("ipxe.efi")).as_deref(),
            Some("d.iso/EFI/boot/bootx64.efi"),
            "the signed shim wins over an ipxe.efi merely present"
        );
        assert_eq!(
            pick(None, None, Some("ipxe.efi")).as_deref(),
            Some("ipxe.efi")
        );
        assert_eq!(pick(None, None, None), None);
    }
}
