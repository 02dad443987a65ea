//! The boot file a UEFI PXE machine (x64 or ARM64) is sent when nothing
//! configured names one: DHCP cannot tell whether Secure Boot is on, so the
//! path that works either way, a shim signed by Microsoft's UEFI CA, then
//! the signed GRUB it loads, then a signed kernel. Two places hold one:
//!
//! - the root, where `boot-images/fill.sh` copies Debian's signed shim and
//!   GRUB netboot image (`shimx64.efi` + `grubx64.efi`, `shimaa64.efi` +
//!   `grubaa64.efi`); GRUB reads the `grub.cfg` netboot generates from the
//!   catalogue ([`RootChains`]);
//! - a catalogue entry whose Secure Boot verdict is `Signed` on x86-64 (an
//!   ISO with its distribution's shim, GRUB and kernel), served from inside
//!   the ISO ([`signed_shim`]): the first such entry by id, so the choice
//!   does not move between scans.
//!
//! The root's chain wins over an ISO's: it is one file that does not move
//! as images come and go, it is updated with the server's packages (shim
//! and GRUB revocations, SBAT), and its GRUB shows every catalogue entry.
//! [`choose`] says which file and why. Pure.

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

/// Which signed chains (shim + the GRUB it loads, by the names shim asks
/// for) the root holds, as `boot-images/fill.sh` puts them there.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RootChains {
    /// `shimx64.efi` and `grubx64.efi`.
    pub x64: bool,
    /// `shimaa64.efi` and `grubaa64.efi`.
    pub arm64: bool,
}

/// The x64 chain's shim and GRUB in the root.
pub const ROOT_X64: (&str, &str) = ("shimx64.efi", "grubx64.efi");
/// The ARM64 chain's shim and GRUB in the root.
pub const ROOT_ARM64: (&str, &str) = ("shimaa64.efi", "grubaa64.efi");

impl RootChains {
    /// The chains whose two files `exists` says are there.
    pub fn find(exists: impl Fn(&str) -> bool) -> Self {
        let both = |(shim, grub): (&str, &str)| exists(shim) && exists(grub);
        RootChains {
            x64: both(ROOT_X64),
            arm64: both(ROOT_ARM64),
        }
    }
}

/// Why a UEFI PXE default is what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Why {
    /// A flag or `netboot.yaml` named it.
    Configured,
    /// The root's signed shim (`fill.sh`).
    RootChain,
    /// The signed shim of this catalogue entry.
    Catalogue(String),
    /// The first usual boot loader present in the root (`ipxe.efi`, ...):
    /// no signed chain anywhere.
    Present,
    /// Nothing at all.
    Nothing,
}

/// A UEFI PXE default and its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UefiDefault {
    /// The boot file sent.
    pub file: Option<String>,
    /// Why.
    pub why: Why,
}

impl UefiDefault {
    /// The reason in words, for the start-up summary, the log and
    /// `netboot explain`.
    pub fn reason(&self) -> String {
        match &self.why {
            Why::Configured => "as configured (a flag or netboot.yaml)".into(),
            Why::RootChain => "the signed shim in the root (from boot-images/fill.sh), \
                which boots with Secure Boot on or off"
                .into(),
            Why::Catalogue(entry) => format!(
                "the signed shim of {entry}, which boots with Secure Boot on or off \
                 (the first signed entry by name)"
            ),
            Why::Present => "no signed shim in the root or the image catalogue \
                (boot-images/fill.sh copies one); Secure Boot machines refuse it"
                .into(),
            Why::Nothing => "no boot file for it in the root".into(),
        }
    }
}

/// The UEFI boot file for a PXE client no profile gives one to: what a
/// flag or `netboot.yaml` configured, else the root's signed shim, else
/// the catalogue's, else the first usual boot loader present in the root.
pub fn choose(
    configured: Option<&str>,
    root_shim: Option<&str>,
    shim: Option<&SignedShim>,
    present: Option<&str>,
) -> UefiDefault {
    let (file, why) = if let Some(f) = configured {
        (Some(f), Why::Configured)
    } else if let Some(f) = root_shim {
        (Some(f), Why::RootChain)
    } else if let Some(s) = shim {
        (Some(s.boot_file.as_str()), Why::Catalogue(s.entry.clone()))
    } else if let Some(f) = present {
        (Some(f), Why::Present)
    } else {
        (None, Why::Nothing)
    };
    UefiDefault {
        file: file.map(str::to_string),
        why,
    }
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
    fn configured_wins_then_the_root_then_the_catalogue_then_what_is_present() {
        let shim = SignedShim {
            entry: "d.iso".into(),
            boot_file: "d.iso/EFI/boot/bootx64.efi".into(),
        };
        let pick = |c, r, s, p| {
            let d = choose(c, r, s, p);
            (d.file, d.why)
        };
        let root = Some("shimx64.efi");
        assert_eq!(
            pick(Some("mine.efi"), root, Some(&shim), Some("ipxe.efi")),
            (Some("mine.efi".into()), Why::Configured)
        );
        assert_eq!(
            pick(None, root, Some(&shim), Some("ipxe.efi")),
            (Some("shimx64.efi".into()), Why::RootChain),
            "the root's chain wins over an ISO's"
        );
        assert_eq!(
            pick(None, None, Some(&shim), Some("ipxe.efi")),
            (
                Some("d.iso/EFI/boot/bootx64.efi".into()),
                Why::Catalogue("d.iso".into())
            ),
            "the signed shim wins over an ipxe.efi merely present"
        );
        assert_eq!(
            pick(None, None, None, Some("ipxe.efi")),
            (Some("ipxe.efi".into()), Why::Present)
        );
        assert_eq!(pick(None, None, None, None), (None, Why::Nothing));
    }

    #[test]
    fn a_root_chain_needs_both_the_shim_and_its_grub() {
        let with = |names: &'static [&'static str]| RootChains::find(|n| names.contains(&n));
        assert_eq!(
            with(&["shimx64.efi", "grubx64.efi", "shimaa64.efi"]),
            RootChains {
                x64: true,
                arm64: false
            }
        );
        assert_eq!(with(&["shimx64.efi"]), RootChains::default());
        assert_eq!(
            with(&["shimaa64.efi", "grubaa64.efi"]),
            RootChains {
                x64: false,
                arm64: true
            }
        );
    }

    #[test]
    fn every_reason_says_where_the_file_comes_from() {
        let r = |why| UefiDefault { file: None, why }.reason();
        assert!(r(Why::RootChain).contains("fill.sh"));
        assert!(r(Why::Catalogue("d.iso".into())).contains("d.iso"));
        assert!(r(Why::Present).contains("Secure Boot machines refuse it"));
    }
}
