//! The profile lookup `netboot serve` hands the DHCP responder: the current
//! registry (swapped whole on reload), with the server-wide default boot
//! files filling what a profile leaves out. A UEFI PXE client (x64 or
//! ARM64) whose profile names no boot file gets a signed shim when no flag
//! or `netboot.yaml` named a file for it: the root's (`fill.sh`), else, on
//! x64, the catalogue's (`catalogue::signed_boot`): the path that boots
//! with Secure Boot on or off. HTTP boot and iPXE clients keep their own
//! files. (`self` in option 150 stays 0.0.0.0 here; the DHCP core turns it
//! into our address on the interface the request arrived on.)

use std::net::Ipv4Addr;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use crate::catalogue::signed_boot::{self, RootChains, SignedShim, UefiDefault, Why};
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
    /// profile names none, and why.
    pub uefi_x64_pxe: UefiDefault,
    /// The same for UEFI ARM64 PXE clients.
    pub uefi_arm64_pxe: UefiDefault,
}

impl Layered {
    /// The lookup for `registry` and `catalogue` under `defaults`.
    pub fn new(registry: Arc<Registry>, defaults: &Defaults, catalogue: &Catalogue) -> Self {
        let shim = signed_boot::signed_shim(catalogue);
        Layered {
            registry,
            defaults: defaults.files.clone(),
            uefi_x64_pxe: defaults.uefi_x64_pxe(shim.as_ref()),
            uefi_arm64_pxe: defaults.uefi_arm64_pxe(),
        }
    }

    /// The UEFI PXE default `client` gets and why, when its profile names
    /// no file for its family (for `netboot explain`).
    pub fn default_note(&self, client: &ClientId) -> Option<String> {
        let profile = self.registry.lookup(client).map(|p| p.boot);
        let (name, chosen, own) = match family(client) {
            Ok(Family::UefiX64) => ("x64", &self.uefi_x64_pxe, profile.and_then(|b| b.uefi_x64)),
            Ok(Family::UefiArm64) => (
                "ARM64",
                &self.uefi_arm64_pxe,
                profile.and_then(|b| b.uefi_arm64),
            ),
            _ => return None,
        };
        if own.is_some() {
            return None;
        }
        let file = chosen.file.as_deref()?;
        Some(format!(
            "UEFI {name} PXE machines without a profile's boot file get {file}: {}",
            chosen.reason()
        ))
    }
}

impl Layered {
    /// `profile` (else the built-in defaults) with the defaults filled in.
    fn complete(&self, client: &ClientId, profile: Option<ClientProfile>) -> ClientProfile {
        let mut profile = profile.unwrap_or_else(|| ClientProfile {
            name: "built-in defaults".into(),
            ..ClientProfile::default()
        });
        match family(client) {
            Ok(Family::UefiX64) if profile.boot.uefi_x64.is_none() => {
                profile.boot.uefi_x64.clone_from(&self.uefi_x64_pxe.file);
            }
            Ok(Family::UefiArm64) if profile.boot.uefi_arm64.is_none() => {
                profile
                    .boot
                    .uefi_arm64
                    .clone_from(&self.uefi_arm64_pxe.file);
            }
            _ => {}
        }
        fill(&mut profile.boot, &self.defaults);
        profile
    }
}

impl ProfileLookup for Layered {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        Some(self.complete(client, self.registry.lookup(client)))
    }

    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        self.registry.reservations()
    }

    fn reservations6(&self) -> Vec<crate::dhcp6::Reservation6> {
        self.registry.reservations6()
    }

    fn lookup_duid(&self, duid: &[u8], client: &ClientId) -> Option<ClientProfile> {
        let profile = self.registry.lookup_duid(duid, client)?;
        Some(self.complete(client, Some(profile)))
    }

    fn explain(&self, client: &ClientId) -> Option<String> {
        self.registry.explain(client)
    }
}

fn fill(boot: &mut BootFiles, defaults: &BootFiles) {
    boot.fill_from(defaults);
}

/// The default boot files and what decides the UEFI PXE ones.
#[derive(Clone)]
pub struct Defaults {
    /// Boot files for what profiles leave out.
    pub files: BootFiles,
    /// `files.uefi_x64` came from a flag or `netboot.yaml` (it wins over
    /// every signed shim).
    pub uefi_x64_configured: bool,
    /// `files.uefi_arm64` likewise.
    pub uefi_arm64_configured: bool,
    /// The signed chains in the root (`fill.sh`), looked for when netboot
    /// serves the `grub.cfg` their GRUB reads (HTTP on).
    pub root_chains: RootChains,
    /// The image catalogue in service.
    pub catalogue: live::Shared,
}

impl Defaults {
    /// What `plan` decided, with `catalogue` in service.
    pub fn from_plan(plan: &crate::serve::plan::ServePlan, catalogue: live::Shared) -> Self {
        Defaults {
            files: plan.defaults.clone(),
            uefi_x64_configured: plan.uefi_x64_configured,
            uefi_arm64_configured: plan.uefi_arm64_configured,
            root_chains: plan.root_chains,
            catalogue,
        }
    }

    /// The UEFI x64 file for PXE clients given the catalogue's shim.
    pub fn uefi_x64_pxe(&self, shim: Option<&SignedShim>) -> UefiDefault {
        let root = self.root_chains.x64.then_some(signed_boot::ROOT_X64.0);
        pick(&self.files.uefi_x64, self.uefi_x64_configured, root, shim)
    }

    /// The UEFI ARM64 file for PXE clients.
    pub fn uefi_arm64_pxe(&self) -> UefiDefault {
        let root = self.root_chains.arm64.then_some(signed_boot::ROOT_ARM64.0);
        pick(
            &self.files.uefi_arm64,
            self.uefi_arm64_configured,
            root,
            None,
        )
    }
}

/// `file` is what was configured when `configured`, else merely present.
fn pick(
    file: &Option<String>,
    configured: bool,
    root: Option<&str>,
    shim: Option<&SignedShim>,
) -> UefiDefault {
    let file = file.as_deref();
    let (configured, present) = if configured {
        (file, None)
    } else {
        (None, file)
    };
    signed_boot::choose(configured, root, shim, present)
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
            uefi_arm64_pxe: defaults.uefi_arm64_pxe(),
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

/// Says what UEFI PXE machines are sent, and why.
fn log_choice(defaults: &Defaults, shim: Option<&SignedShim>) {
    let x64 = defaults.uefi_x64_pxe(shim);
    let file = x64.file.as_deref().unwrap_or("nothing");
    let passed_over = match (&x64.why, shim) {
        (Why::Configured | Why::RootChain, Some(s)) => {
            format!(" (not the signed shim of {}: it comes after)", s.entry)
        }
        _ => String::new(),
    };
    tracing::info!(
        "UEFI x64 PXE machines without a profile's boot file get {file}: {}{passed_over}",
        x64.reason()
    );
    let arm64 = defaults.uefi_arm64_pxe();
    if let Some(file) = &arm64.file {
        tracing::info!(
            "UEFI ARM64 PXE machines without a profile's boot file get {file}: {}",
            arm64.reason()
        );
    }
}

#[cfg(test)]
#[path = "lookup_tests.rs"]
mod tests;
