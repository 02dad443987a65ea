//! The image catalogue as each client sees it: its iPXE menu
//! (`menu-<platform>-<arch>.ipxe`: a one-shot boot first, else its
//! profile's `menu:`, else the whole menu with the local disk as default)
//! and its GRUB menu (`grub.cfg` where GRUB looks for it, unless the root
//! has that file, and the probe that moves GRUB to HTTP when it can),
//! the done URL an installer calls at its end (`netboot-done`), and the end
//! of a one-shot boot once the machine has fetched the entry's kernel.

use std::path::PathBuf;

use crate::catalogue::grub_menu;
use crate::catalogue::menu::{self, Choice, Prefs};
use crate::catalogue::next_boot::{self, Until};
use crate::catalogue::{live, Catalogue, Entry};
use crate::mac::MacAddr;

/// The name of the done URL, relative to our HTTP base URL.
pub const DONE: &str = "netboot-done";

/// iPXE EFI binaries GRUB's menu may chain, in order of preference
/// (`ipxe.efi` carries its own drivers; `snponly.efi` uses the firmware's).
const IPXE_EFI: [&str; 2] = ["ipxe.efi", "snponly.efi"];

/// Menus and one-shot boots.
pub struct Menus {
    /// The catalogue in service.
    pub catalogue: live::Shared,
    /// Where one-shot boots are kept.
    pub state_dir: PathBuf,
}

/// Who asks, as far as the menus care.
pub struct Asker<'a> {
    /// Its MAC, when its lease says.
    pub mac: Option<MacAddr>,
    /// Our HTTP base URL as it reaches us (`None` without HTTP).
    pub base_url: Option<String>,
    /// Its profile's `menu:`.
    pub prefs: Option<&'a Prefs>,
}

impl Menus {
    /// The menu or done URL `path` names for `asker`, if it names one.
    pub fn file(&self, asker: &Asker<'_>, path: &str) -> Option<Vec<u8>> {
        if path == DONE {
            return Some(self.done(asker.mac));
        }
        if path == grub_menu::HTTP_PROBE {
            let probe = grub_menu::http_probe(asker.base_url.as_deref()?);
            return probe.map(String::into_bytes);
        }
        let client = menu::Client::from_file_name(path);
        let grub = grub_menu::is_grub_cfg(path);
        if client.is_none() && !grub {
            return None;
        }
        let catalogue = self.catalogue.load();
        if grub && (asker.base_url.is_none() || catalogue.root.join(path).exists()) {
            return None;
        }
        let choice = self.choice(asker);
        let done_url = asker.base_url.as_ref().map(|b| format!("{b}{DONE}"));
        let ctx = menu::Context {
            base_url: asker.base_url.as_deref().unwrap_or(""),
            done_url: done_url.as_deref(),
            has_wimboot: catalogue.root.join("wimboot").is_file(),
            has_pxelinux: catalogue.root.join("pxelinux.0").is_file(),
            ipxe_efi: IPXE_EFI
                .iter()
                .copied()
                .find(|name| catalogue.root.join(name).is_file()),
            choice: &choice,
            extra_args: asker.prefs.and_then(|p| p.args.as_deref()),
        };
        let empty = Catalogue::default();
        let shown = if asker.base_url.is_some() {
            &**catalogue
        } else {
            &empty
        };
        Some(
            match client {
                Some(client) => menu::ipxe(shown, client, &ctx),
                None => grub_menu::grub_cfg(shown, &ctx),
            }
            .into_bytes(),
        )
    }

    /// A one-shot boot first, else the profile's choice, else the default.
    fn choice(&self, asker: &Asker<'_>) -> Choice {
        let next = asker
            .mac
            .and_then(|mac| next_boot::get(&self.state_dir, &mac));
        match (next, asker.prefs) {
            (Some(next), _) => Choice::Entry(next.entry),
            (None, Some(prefs)) => prefs.choice.clone(),
            (None, None) => Choice::default(),
        }
    }

    /// The installer's call at its end: a one-shot boot is over.
    fn done(&self, mac: Option<MacAddr>) -> Vec<u8> {
        let Some(mac) = mac else {
            return b"netboot: who are you? (no lease for this address)\n".to_vec();
        };
        self.end(&mac, "the installer called its done URL");
        b"netboot: done\n".to_vec()
    }

    /// A file was fetched: if it is the kernel of `mac`'s one-shot entry,
    /// that boot is over.
    pub fn fetched(&self, mac: &MacAddr, path: &str) {
        let Some(next) = next_boot::get(&self.state_dir, mac) else {
            return;
        };
        if next.until != Until::Kernel {
            return;
        }
        let catalogue = self.catalogue.load();
        if catalogue
            .entry(&next.entry)
            .is_some_and(|e| is_first_fetch(e, path))
        {
            self.end(mac, &format!("it fetched {path}"));
        }
    }

    fn end(&self, mac: &MacAddr, why: &str) {
        match next_boot::clear(&self.state_dir, mac) {
            Ok(true) => {
                tracing::info!(%mac, "one-shot boot over ({why}): back to its profile's choice")
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(%mac, "cannot end the one-shot boot: {e}"),
        }
    }
}

/// Whether fetching `path` means the machine is booting `entry`: its
/// kernel, its image (sanboot), or Windows PE's `boot.wim`.
fn is_first_fetch(entry: &Entry, path: &str) -> bool {
    let path = path.trim_start_matches('/');
    let Some(inner) = path.strip_prefix(entry.id.as_str()) else {
        return false;
    };
    if inner.is_empty() {
        return true;
    }
    let Some(inner) = inner.strip_prefix('/') else {
        return false;
    };
    entry.recognised.boots.iter().any(|b| {
        b.kernel.eq_ignore_ascii_case(inner)
            || b.initrds
                .iter()
                .any(|i| i.eq_ignore_ascii_case(inner) && i.to_ascii_lowercase().ends_with(".wim"))
    })
}
