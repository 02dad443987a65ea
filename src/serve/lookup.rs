//! The profile lookup `netboot serve` hands the DHCP responder: the current
//! registry (swapped whole on reload), with the server-wide default boot
//! files filling what a profile leaves out. An x86-64 UEFI PXE client
//! whose profile names no boot file gets the catalogue's signed shim when
//! there is one and no flag or `netboot.yaml` named a UEFI x64 file
//! (`catalogue::signed_boot`): the path that boots with Secure Boot on or
//! off. (`self` in option 150 stays 0.0.0.0 here; the DHCP core turns it
//! into our address on the interface the request arrived on.)

use std::net::Ipv4Addr;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use crate::catalogue::signed_boot::{self, SignedShim};
use crate::catalogue::{live, Catalogue};
use crate::dhcp::pxe::{family, Family};
use crate::mac::MacAddr;
use crate::registry::Registry;

/// Registry + defaults, as one [`ProfileLookup`].
pub struct Layered {
    /// The registry as last loaded.
    pub registry: Arc<Registry>,
    /// Boot files for what profiles leave out.
    pub defaults: BootFiles,
    /// The UEFI x64 file for PXE clients (not iPXE, not HTTP boot) whose
    /// profile names none: the configured one, else the catalogue's signed
    /// shim, else `defaults.uefi_x64`.
    pub uefi_x64_pxe: Option<String>,
}

impl Layered {
    /// The lookup for `registry` and `catalogue` under `defaults`.
    pub fn new(registry: Arc<Registry>, defaults: &Defaults, catalogue: &Catalogue) -> Self {
        let shim = signed_boot::signed_shim(catalogue);
        Layered {
            registry,
            defaults: defaults.files.clone(),
            uefi_x64_pxe: defaults.uefi_x64_pxe(shim.as_ref()),
        }
    }
}

impl ProfileLookup for Layered {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        let mut profile = self
            .registry
            .lookup(client)
            .unwrap_or_else(|| ClientProfile {
                name: "built-in defaults".into(),
                ..ClientProfile::default()
            });
        if profile.boot.uefi_x64.is_none() && family(client) == Ok(Family::UefiX64) {
            profile.boot.uefi_x64.clone_from(&self.uefi_x64_pxe);
        }
        fill(&mut profile.boot, &self.defaults);
        Some(profile)
    }

    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        self.registry.reservations()
    }

    fn explain(&self, client: &ClientId) -> Option<String> {
        self.registry.explain(client)
    }
}

fn fill(boot: &mut BootFiles, defaults: &BootFiles) {
    boot.fill_from(defaults);
}

/// The default boot files and what decides the UEFI x64 one.
#[derive(Clone)]
pub struct Defaults {
    /// Boot files for what profiles leave out.
    pub files: BootFiles,
    /// `files.uefi_x64` came from a flag or `netboot.yaml` (it wins over the
    /// catalogue's signed shim).
    pub uefi_x64_configured: bool,
    /// The image catalogue in service.
    pub catalogue: live::Shared,
}

impl Defaults {
    /// The UEFI x64 file for PXE clients given the catalogue's shim.
    fn uefi_x64_pxe(&self, shim: Option<&SignedShim>) -> Option<String> {
        let file = self.files.uefi_x64.as_deref();
        let (configured, present) = if self.uefi_x64_configured {
            (file, None)
        } else {
            (None, file)
        };
        signed_boot::uefi_x64_default(configured, shim, present)
    }
}

/// What the last [`Layered`] was built from: the registry and the
/// catalogue themselves (held, so their addresses cannot be reused by a
/// later one while compared).
struct Cached {
    registry: Arc<Registry>,
    catalogue: Arc<Catalogue>,
    lookup: Arc<dyn ProfileLookup>,
}

/// A lookup source for the DHCP shell that follows registry reloads and
/// catalogue rescans: a new [`Layered`] is built only when either was
/// swapped.
pub fn source(
    shared: Arc<ArcSwap<Registry>>,
    defaults: Defaults,
) -> crate::dhcp::server::LookupSource {
    let registry = Arc::new(Registry::default());
    let cache: ArcSwap<Cached> = ArcSwap::from_pointee(Cached {
        registry: Arc::clone(&registry),
        catalogue: Arc::new(Catalogue::default()),
        lookup: Arc::new(Layered {
            registry,
            defaults: defaults.files.clone(),
            uefi_x64_pxe: defaults.uefi_x64_pxe(None),
        }),
    });
    Arc::new(move || {
        let registry = shared.load_full();
        let catalogue = defaults.catalogue.load_full();
        let cached = cache.load();
        if Arc::ptr_eq(&cached.registry, &registry) && Arc::ptr_eq(&cached.catalogue, &catalogue) {
            return Arc::clone(&cached.lookup);
        }
        let lookup: Arc<dyn ProfileLookup> =
            Arc::new(Layered::new(Arc::clone(&registry), &defaults, &catalogue));
        cache.store(Arc::new(Cached {
            registry,
            catalogue,
            lookup: Arc::clone(&lookup),
        }));
        lookup
    })
}

/// For the catalogue's watcher: says once, after a scan that changed the
/// signed shim chosen (or found the first), what UEFI x64 PXE machines
/// are sent now.
pub fn log_changes(defaults: Defaults) -> live::AfterScan {
    let mut last: Option<Option<SignedShim>> = None;
    Box::new(move |catalogue| {
        let shim = signed_boot::signed_shim(catalogue);
        if last.as_ref() != Some(&shim) {
            log_choice(&defaults, shim.as_ref());
            last = Some(shim);
        }
    })
}

/// Says what UEFI x64 PXE machines are sent.
fn log_choice(defaults: &Defaults, shim: Option<&SignedShim>) {
    let file = defaults
        .uefi_x64_pxe(shim)
        .unwrap_or_else(|| "nothing".into());
    match shim {
        Some(s) if defaults.uefi_x64_configured => tracing::info!(
            "UEFI x64 PXE machines without a profile's boot file get {file} as configured, \
             not the signed shim of {} (drop the flag or boot.uefi_x64 to use it)",
            s.entry
        ),
        Some(s) => tracing::info!(
            "UEFI x64 PXE machines without a profile's boot file get {file}: the signed shim \
             of {}, which boots with Secure Boot on or off (the first signed entry by name)",
            s.entry
        ),
        None => tracing::info!(
            "UEFI x64 PXE machines without a profile's boot file get {file}: no signed entry \
             in the image catalogue"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_gaps() {
        let layered = Layered {
            registry: Arc::new(Registry::default()),
            defaults: BootFiles {
                bios: Some("undionly.kpxe".into()),
                ..BootFiles::default()
            },
            uefi_x64_pxe: None,
        };
        let client = ClientId {
            mac: MacAddr([2, 0, 0, 0, 0, 1]),
            arch: Some(0),
            vendor_class: None,
            is_ipxe: false,
        };
        let got = layered.lookup(&client).unwrap();
        assert_eq!(got.boot.bios.as_deref(), Some("undionly.kpxe"));
        assert_eq!(got.name, "built-in defaults");
        let mut boot = BootFiles {
            bios: Some("mine.0".into()),
            ..BootFiles::default()
        };
        fill(&mut boot, &layered.defaults);
        assert_eq!(
            boot.bios.as_deref(),
            Some("mine.0"),
            "a profile's own file wins"
        );
    }

    fn client(arch: u16, vendor: &str, is_ipxe: bool) -> ClientId {
        ClientId {
            mac: MacAddr([2, 0, 0, 0, 0, 7]),
            arch: Some(arch),
            vendor_class: Some(vendor.into()),
            is_ipxe,
        }
    }

    #[test]
    fn only_uefi_x64_pxe_clients_get_the_signed_shim() {
        let layered = Layered {
            registry: Arc::new(Registry::default()),
            defaults: BootFiles {
                uefi_x64: Some("ipxe.efi".into()),
                ipxe: Some("netboot.ipxe".into()),
                ..BootFiles::default()
            },
            uefi_x64_pxe: Some("d.iso/EFI/boot/bootx64.efi".into()),
        };
        let file = |c: &ClientId| layered.lookup(c).unwrap().boot.uefi_x64;
        for arch in [7, 9] {
            let pxe = client(arch, "PXEClient:Arch:00007:UNDI:003000", false);
            assert_eq!(file(&pxe).as_deref(), Some("d.iso/EFI/boot/bootx64.efi"));
        }
        let http = client(16, "HTTPClient:Arch:00016:UNDI:003000", false);
        assert_eq!(
            file(&http).as_deref(),
            Some("ipxe.efi"),
            "HTTP boot keeps iPXE"
        );
        let ipxe = client(7, "PXEClient:Arch:00007:UNDI:003010", true);
        let got = layered.lookup(&ipxe).unwrap().boot;
        assert_eq!(got.ipxe.as_deref(), Some("netboot.ipxe"));
    }

    #[test]
    fn a_configured_uefi_file_wins_over_the_shim_and_the_shim_over_one_present() {
        let shim = SignedShim {
            entry: "d.iso".into(),
            boot_file: "d.iso/EFI/boot/bootx64.efi".into(),
        };
        let defaults = |configured| Defaults {
            files: BootFiles {
                uefi_x64: Some("ipxe.efi".into()),
                ..BootFiles::default()
            },
            uefi_x64_configured: configured,
            catalogue: live::empty(std::path::PathBuf::from("/nonexistent")),
        };
        assert_eq!(
            defaults(true).uefi_x64_pxe(Some(&shim)).as_deref(),
            Some("ipxe.efi")
        );
        assert_eq!(
            defaults(false).uefi_x64_pxe(Some(&shim)).as_deref(),
            Some("d.iso/EFI/boot/bootx64.efi")
        );
        assert_eq!(
            defaults(false).uefi_x64_pxe(None).as_deref(),
            Some("ipxe.efi")
        );
    }

    fn signed_entry(id: &str) -> crate::catalogue::Entry {
        use crate::catalogue::model::{Arch, Boot, Kind, Recognised, SecureBoot};
        crate::catalogue::Entry {
            id: id.into(),
            source: crate::catalogue::Source::Iso(Arc::default()),
            size: 1,
            recognised: Recognised {
                kind: Kind::Linux {
                    distro: "debian-installer".into(),
                },
                title: id.into(),
                boots: vec![Boot {
                    arch: Arch::X86_64,
                    kernel: "install.amd/vmlinuz".into(),
                    initrds: vec![],
                    args: String::new(),
                    secure_boot: SecureBoot::Signed {
                        shim: "EFI/boot/bootx64.efi".into(),
                        grub: "EFI/boot/grubx64.efi".into(),
                        signer: None,
                    },
                }],
                notes: vec![],
            },
            stamp: None,
        }
    }

    #[test]
    fn the_source_follows_catalogue_rescans() {
        let catalogue = live::empty(std::path::PathBuf::from("/nonexistent"));
        let defaults = Defaults {
            files: BootFiles {
                uefi_x64: Some("ipxe.efi".into()),
                ..BootFiles::default()
            },
            uefi_x64_configured: false,
            catalogue: Arc::clone(&catalogue),
        };
        let source = source(
            Arc::new(ArcSwap::from_pointee(Registry::default())),
            defaults,
        );
        let pxe = client(7, "PXEClient:Arch:00007:UNDI:003000", false);
        let file = || source().lookup(&pxe).unwrap().boot.uefi_x64;
        assert_eq!(file().as_deref(), Some("ipxe.efi"));
        catalogue.store(Arc::new(Catalogue {
            entries: vec![signed_entry("d.iso")],
            ..Catalogue::default()
        }));
        assert_eq!(file().as_deref(), Some("d.iso/EFI/boot/bootx64.efi"));
        catalogue.store(Arc::new(Catalogue::default()));
        assert_eq!(file().as_deref(), Some("ipxe.efi"), "the ISO removed");
    }
}
