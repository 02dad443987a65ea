//! [`chain::Files`] as `netboot serve` would answer one client: the
//! profile's rewrite, then what is rendered for it (its profile's
//! `files:`, the catalogue's menus, the iPXE script netboot writes), then
//! the files inside catalogued ISOs (as the HTTP server looks), then the
//! boot root through the TFTP server's rules (`tftp::fs`: confinement, case
//! folding, regular files only, world-readable). The same pieces
//! `serve::files::RegistryFiles` asks, with the client's facts given
//! instead of found in a lease. Reads the root (stats, small text files).

use std::fs::File;
use std::io::Read;

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use arc_swap::ArcSwap;

use crate::catalogue::scan;
use crate::dhcp::pxe;
use crate::mac::MacAddr;
use crate::registry::{ClientFacts, Registry};
use crate::serve::menus::{Asker, Menus};
use crate::serve::plan::ServePlan;
use crate::tftp::fs::{FsError, RootPolicy};

use super::chain::{Files, Found};

/// Largest file read to follow a script or configuration.
const TEXT_LIMIT: u64 = 256 * 1024;

/// Everything netboot serves one client.
pub struct ServedFiles<'a> {
    /// The profiles.
    pub registry: &'a Registry,
    /// The client as the TFTP and HTTP servers know it (from its lease);
    /// `None` when netboot has no lease for it (ProxyDHCP): then nothing is
    /// rendered per client.
    pub facts: Option<ClientFacts>,
    /// Menus and one-shot boots, over the catalogue of the root.
    pub menus: Menus,
    /// Our HTTP base URL as the client reaches it (`None` without HTTP).
    pub base_url: Option<String>,
    /// Files netboot writes for everyone.
    pub generated: &'a [(String, Vec<u8>)],
    /// The boot root as the TFTP server serves it (confinement, case
    /// folding, the world-readable rule).
    pub root: &'a RootPolicy,
}

impl<'a> ServedFiles<'a> {
    /// The files `plan` serves `client` (its MAC, and the address and host
    /// name of its lease: an unspecified address for no lease of ours) on
    /// the network where we are `server_ip`; the root's catalogue is
    /// scanned here.
    pub fn new(
        plan: &'a ServePlan,
        registry: &'a Registry,
        client: (MacAddr, Ipv4Addr, Option<String>),
        server_ip: Ipv4Addr,
    ) -> Self {
        let (mac, ip, hostname) = client;
        let root: &Path = &plan.tftp.root.root;
        let menus = Menus {
            catalogue: Arc::new(ArcSwap::from_pointee(scan::scan(root, None))),
            state_dir: plan.dhcp.state_dir.clone().unwrap_or_default(),
        };
        let base_url = plan.dhcp.http_port.map(|p| pxe::http_url(server_ip, p, ""));
        let facts = (!ip.is_unspecified()).then(|| {
            let mut f = ClientFacts::new(mac, ip, server_ip);
            f.hostname = hostname;
            f.http_url = base_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string());
            f
        });
        Self {
            registry,
            facts,
            menus,
            base_url,
            generated: &plan.generated,
            root: &plan.tftp.root,
        }
    }
}

impl Files for ServedFiles<'_> {
    fn find(&self, name: &str) -> (Found, Option<String>) {
        let rewritten = self
            .facts
            .as_ref()
            .and_then(|f| self.registry.rewrite_path(&f.mac, name));
        let name = rewritten.as_deref().unwrap_or(name);
        (self.look(name), rewritten)
    }
}

impl ServedFiles<'_> {
    fn look(&self, name: &str) -> Found {
        if let Some(found) = self.rendered(name) {
            return found;
        }
        if let Some((iso, _)) = self.menus.catalogue.load().iso_file(name) {
            return Found::InIso {
                iso: iso.to_string(),
            };
        }
        let opened = self
            .root
            .resolve(name.as_bytes())
            .and_then(|path| self.root.open_read(&path));
        match opened {
            Ok((file, size)) => Found::Root {
                size,
                text: small_text(file, size),
            },
            Err(FsError::NotFound) => Found::Missing,
            Err(e) => Found::Broken {
                why: format!("netboot refuses it: {e}"),
            },
        }
    }

    fn rendered(&self, name: &str) -> Option<Found> {
        if let Some(facts) = &self.facts {
            if let Some(body) = self.registry.virtual_file(facts, name) {
                return Some(match body {
                    Ok(bytes) => Found::Rendered {
                        by: "its profile's `files:`".into(),
                        text: String::from_utf8_lossy(&bytes).into_owned(),
                    },
                    Err(e) => Found::Broken { why: e.to_string() },
                });
            }
        }
        let asker = Asker {
            mac: self.facts.as_ref().map(|f| f.mac),
            base_url: self.base_url.clone(),
            prefs: self
                .facts
                .as_ref()
                .and_then(|f| self.registry.menu_prefs(&f.mac)),
        };
        if let Some(menu) = self.menus.file(&asker, name) {
            return Some(Found::Rendered {
                by: "the image catalogue's menu".into(),
                text: String::from_utf8_lossy(&menu).into_owned(),
            });
        }
        self.generated
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, bytes)| Found::Rendered {
                by: "netboot (the root has no boot.ipxe)".into(),
                text: String::from_utf8_lossy(bytes).into_owned(),
            })
    }
}

/// The file's text when it is small enough to follow.
fn small_text(file: File, size: u64) -> Option<String> {
    if size > TEXT_LIMIT {
        return None;
    }
    let mut text = String::new();
    file.take(TEXT_LIMIT).read_to_string(&mut text).ok()?;
    Some(text)
}
