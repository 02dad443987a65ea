//! [`chain::Files`] as `netboot serve` would answer one client: the
//! profile's rewrite, then what is rendered for it (its profile's
//! `files:`, the catalogue's menus, the iPXE script netboot writes), then
//! the boot root, then the files inside catalogued ISOs. The same pieces
//! `serve::files::RegistryFiles` asks, with the client's facts given
//! instead of found in a lease. Reads the root (stats, small text files).

use std::io::Read;
use std::path::PathBuf;

use crate::catalogue::Catalogue;
use crate::registry::{ClientFacts, Registry};
use crate::serve::menus::{Asker, Menus};

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
    /// Menus and one-shot boots.
    pub menus: &'a Menus,
    /// Our HTTP base URL as the client reaches it (`None` without HTTP).
    pub base_url: Option<String>,
    /// Files netboot writes for everyone.
    pub generated: &'a [(String, Vec<u8>)],
    /// The boot root.
    pub root: PathBuf,
    /// The catalogue of the root.
    pub catalogue: &'a Catalogue,
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
        let path = match crate::tftp::fs::relative_path(name.as_bytes()) {
            Ok(rel) => self.root.join(rel),
            Err(e) => {
                return Found::Broken {
                    why: format!("not a name netboot serves ({e})"),
                }
            }
        };
        if let Ok(meta) = std::fs::metadata(&path) {
            if meta.is_file() {
                return Found::Root {
                    size: meta.len(),
                    text: small_text(&path, meta.len()),
                };
            }
        }
        match self.catalogue.iso_file(name) {
            Some((iso, _)) => Found::InIso {
                iso: iso.to_string(),
            },
            None => Found::Missing,
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
fn small_text(path: &std::path::Path, size: u64) -> Option<String> {
    if size > TEXT_LIMIT {
        return None;
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(TEXT_LIMIT)
        .read_to_string(&mut text)
        .ok()?;
    Some(text)
}
