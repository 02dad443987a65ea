//! The profile lookup `netboot serve` hands the DHCP responder: the current
//! registry (swapped whole on reload), with the server-wide default boot
//! files filling what a profile leaves out. (`self` in option 150 stays
//! 0.0.0.0 here; the DHCP core turns it into our address on the interface
//! the request arrived on.)

use std::net::Ipv4Addr;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use crate::mac::MacAddr;
use crate::registry::Registry;

/// Registry + defaults, as one [`ProfileLookup`].
pub struct Layered {
    /// The registry as last loaded.
    pub registry: Arc<Registry>,
    /// Boot files for what profiles leave out.
    pub defaults: BootFiles,
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
    let pairs = [
        (&mut boot.bios, &defaults.bios),
        (&mut boot.uefi_ia32, &defaults.uefi_ia32),
        (&mut boot.uefi_x64, &defaults.uefi_x64),
        (&mut boot.uefi_arm64, &defaults.uefi_arm64),
        (&mut boot.http, &defaults.http),
        (&mut boot.ipxe, &defaults.ipxe),
    ];
    for (slot, default) in pairs {
        if slot.is_none() {
            slot.clone_from(default);
        }
    }
}

/// A lookup source for the DHCP shell that follows registry reloads: a new
/// [`Layered`] is built only when the registry was swapped.
pub fn source(
    shared: Arc<ArcSwap<Registry>>,
    defaults: BootFiles,
) -> crate::dhcp::server::LookupSource {
    let cache: ArcSwap<(usize, Arc<dyn ProfileLookup>)> = ArcSwap::from_pointee((
        0,
        Arc::new(Layered {
            registry: Arc::new(Registry::default()),
            defaults: defaults.clone(),
        }) as Arc<dyn ProfileLookup>,
    ));
    Arc::new(move || {
        let registry = shared.load_full();
        let key = Arc::as_ptr(&registry) as usize;
        let cached = cache.load();
        if cached.0 == key {
            return Arc::clone(&cached.1);
        }
        let layered: Arc<dyn ProfileLookup> = Arc::new(Layered {
            registry,
            defaults: defaults.clone(),
        });
        cache.store(Arc::new((key, Arc::clone(&layered))));
        layered
    })
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
}
