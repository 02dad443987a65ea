//! The chain of files a client fetches, stage by stage: the boot file the
//! DHCP reply names, then what that loader reads (iPXE asks DHCP again and
//! gets a script; PXELINUX and GRUB look for their configuration under
//! names of their own), then the kernels, initrds and chained scripts the
//! script or configuration names. Pure: each name is looked up through
//! [`Files`], which says how netboot would serve it to this client.

use std::fmt;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::dhcp::pxe::Family;
use crate::mac::MacAddr;

use super::scripts::{
    config_files, config_names, fetches, ipxe_vars, loader, shim_next, Loader, CHAINS,
};

/// How netboot would serve a name to this client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Found {
    /// Rendered for this client (a profile's `files:`, a catalogue menu, the
    /// iPXE script netboot writes); `text` is what it would get.
    Rendered {
        /// By what.
        by: String,
        /// The content.
        #[serde(skip)]
        text: String,
    },
    /// A file of the boot root (`text` when it is small and UTF-8).
    Root {
        /// Its size in bytes.
        size: u64,
        /// The content, for scripts and configurations.
        #[serde(skip)]
        text: Option<String>,
    },
    /// A file inside a catalogued ISO.
    InIso {
        /// The ISO, relative to the root.
        iso: String,
    },
    /// Nothing of that name: the client would get "file not found".
    Missing,
    /// Rendering it fails: the client would get an error.
    Broken {
        /// Why.
        why: String,
    },
    /// Served by another server, or named so only the client can tell:
    /// not checked.
    Elsewhere {
        /// Why.
        why: String,
    },
}

impl Found {
    fn text(&self) -> Option<&str> {
        match self {
            Self::Rendered { text, .. } => Some(text),
            Self::Root { text, .. } => text.as_deref(),
            _ => None,
        }
    }

    fn exists(&self) -> bool {
        !matches!(self, Self::Missing | Self::Broken { .. })
    }

    /// [`Found::Elsewhere`] for `why`.
    pub fn elsewhere(why: impl Into<String>) -> Self {
        Self::Elsewhere { why: why.into() }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rendered { by, .. } => write!(f, "rendered for this client by {by}"),
            Self::Root { size, .. } => write!(f, "in the boot root, {size} bytes"),
            Self::InIso { iso } => write!(f, "inside the catalogued ISO {iso}"),
            Self::Missing => f.write_str("MISSING: not in the boot root, and nothing renders it"),
            Self::Broken { why } => write!(f, "FAILS: {why}"),
            Self::Elsewhere { why } => write!(f, "not checked: {why}"),
        }
    }
}

/// Looks names up as netboot would serve them to this client.
pub trait Files {
    /// `name` (no leading `/`), with the name it was rewritten to, if it was.
    fn find(&self, name: &str) -> (Found, Option<String>);
}

/// One file in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    /// Who fetches it, and why (`firmware (bios) loads`, `iPXE runs`, ...).
    pub stage: String,
    /// The name asked for.
    pub name: String,
    /// The name a profile's rewrite turns it into.
    pub rewritten: Option<String>,
    /// How it would be served.
    pub found: Found,
}

/// What the chain starts from.
pub struct Start<'a> {
    /// The firmware family the DHCP core saw.
    pub family: Family,
    /// The boot file of the reply (option 67), if any.
    pub file: Option<&'a str>,
    /// siaddr of the reply: the TFTP server.
    pub next_server: Ipv4Addr,
    /// Our address on the client's network.
    pub server_ip: Ipv4Addr,
    /// The boot file iPXE gets when it asks again, if iPXE runs.
    pub ipxe_file: Option<&'a str>,
    /// The client's MAC and address (PXELINUX and GRUB look for files named
    /// after them).
    pub mac: MacAddr,
    /// Its address.
    pub ip: Ipv4Addr,
}

/// The stage of the script iPXE gets when it asks DHCP again.
pub const IPXE_AGAIN: &str = "iPXE asks DHCP again and runs";

/// The stage of the GRUB a shim loads.
pub const SHIM_LOADS: &str = "shim loads GRUB from its own directory";

/// Bound on chained scripts and listed lines.
const MAX_LINKS: usize = 40;

/// The chain from the reply's boot file on.
pub fn chain(start: &Start<'_>, files: &dyn Files) -> Vec<Link> {
    let mut out = Vec::new();
    let Some(file) = start.file else {
        return out;
    };
    let first_stage = format!("firmware ({}) loads", family_name(start.family));
    if start.family == Family::Ipxe {
        script(start, files, &first_stage, file, 0, &mut out);
        return out;
    }
    let Some(name) = ours(start, file, start.next_server) else {
        out.push(elsewhere(&first_stage, file, start.next_server));
        return out;
    };
    let found = push(&mut out, files, &first_stage, &name);
    if !found {
        return out;
    }
    let stage = IPXE_AGAIN;
    match (loader(&name), start.ipxe_file) {
        (Loader::Ipxe, Some(next)) => script(start, files, stage, next, 0, &mut out),
        (kind @ (Loader::Pxelinux | Loader::Grub), _) => {
            config(start, files, kind, &name, &mut out)
        }
        (Loader::Shim, _) => {
            let grub = shim_next(&name);
            if push(&mut out, files, SHIM_LOADS, &grub) {
                config(start, files, Loader::Grub, &grub, &mut out);
            }
        }
        _ if runs_pxe_get(start.family, &out) => {
            config(start, files, Loader::Pxelinux, "", &mut out)
        }
        _ => {}
    }
    out
}

/// A U-Boot script that runs `pxe get`: U-Boot then reads a PXELINUX
/// configuration under PXELINUX's names (`pxelinux.cfg/01-<mac>`, the hex
/// address shortened, `default-<arch>...`, `default`).
fn runs_pxe_get(family: Family, out: &[Link]) -> bool {
    matches!(family, Family::UbootArm32 | Family::UbootArm64)
        && out
            .last()
            .and_then(|l| l.found.text())
            .is_some_and(|t| t.contains("pxe get"))
}

fn family_name(f: Family) -> String {
    match f {
        Family::Http => "UEFI HTTP boot".into(),
        Family::Ipxe => "iPXE".into(),
        Family::Other => "not network-boot firmware".into(),
        Family::UbootArm32 | Family::UbootArm64 | Family::Rpi => f
            .firmware()
            .map_or_else(String::new, |a| a.label().to_string()),
        fam => fam
            .firmware()
            .map_or_else(String::new, |a| format!("{} PXE", a.label())),
    }
}

/// The name a file has on our servers, `None` when another server has it.
fn ours(start: &Start<'_>, file: &str, tftp_server: Ipv4Addr) -> Option<String> {
    for scheme in ["http://", "tftp://"] {
        if let Some(rest) = file.strip_prefix(scheme) {
            let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = host.split(':').next().unwrap_or(host);
            return (host == start.server_ip.to_string()).then(|| path.to_string());
        }
    }
    if file.contains("://") {
        return None;
    }
    (tftp_server == start.server_ip || tftp_server.is_unspecified())
        .then(|| file.trim_start_matches('/').to_string())
}

fn elsewhere(stage: &str, file: &str, next_server: Ipv4Addr) -> Link {
    let why = if file.contains("://") {
        format!("{file} is on another server")
    } else {
        format!("the profile sends the client to the TFTP server {next_server}")
    };
    Link {
        stage: stage.to_string(),
        name: file.to_string(),
        rewritten: None,
        found: Found::elsewhere(why),
    }
}

/// Looks `name` up, records the link; whether it exists.
fn push(out: &mut Vec<Link>, files: &dyn Files, stage: &str, name: &str) -> bool {
    let (found, rewritten) = files.find(name);
    let exists = found.exists();
    out.push(Link {
        stage: stage.to_string(),
        name: name.to_string(),
        rewritten,
        found,
    });
    exists
}

/// An iPXE script and what it names, chained scripts followed.
fn script(
    start: &Start<'_>,
    files: &dyn Files,
    stage: &str,
    file: &str,
    depth: usize,
    out: &mut Vec<Link>,
) {
    let Some(name) = ours(start, file, start.server_ip) else {
        out.push(elsewhere(stage, file, start.server_ip));
        return;
    };
    let name = ipxe_vars(&name, start.family);
    let Some(text) = push_text(out, files, stage, &name) else {
        return;
    };
    for (what, arg) in text.lines().filter_map(fetches) {
        if out.len() >= MAX_LINKS {
            return;
        }
        match what {
            CHAINS if depth < 4 => script(start, files, what, arg, depth + 1, out),
            CHAINS => {}
            _ => leaf(start, files, what, &ipxe_vars(arg, start.family), out),
        }
    }
}

/// Looks `name` up, records the link; its text, when it has one to follow.
fn push_text(out: &mut Vec<Link>, files: &dyn Files, stage: &str, name: &str) -> Option<String> {
    let (found, rewritten) = files.find(name);
    let text = found.text().map(str::to_string);
    out.push(Link {
        stage: stage.to_string(),
        name: name.to_string(),
        rewritten,
        found,
    });
    text
}

/// A kernel, initrd or image named by a script or configuration.
fn leaf(start: &Start<'_>, files: &dyn Files, stage: &str, arg: &str, out: &mut Vec<Link>) {
    if arg.contains("${") {
        out.push(Link {
            stage: stage.to_string(),
            name: arg.to_string(),
            rewritten: None,
            found: Found::elsewhere("named with iPXE settings only the client knows"),
        });
        return;
    }
    match ours(start, arg, start.server_ip) {
        Some(name) => {
            push(out, files, stage, &name);
        }
        None => out.push(elsewhere(stage, arg, start.server_ip)),
    }
}

/// PXELINUX's or GRUB's configuration: the names it tries, in order, the
/// first that exists, then the kernels and initrds in it. `loader` is the
/// file the configuration's reader was loaded from.
fn config(start: &Start<'_>, files: &dyn Files, kind: Loader, loader: &str, out: &mut Vec<Link>) {
    let dir = loader.rfind('/').map_or("", |i| &loader[..=i]);
    let names = config_names(start.mac, start.ip, kind, dir);
    let uboot = matches!(start.family, Family::UbootArm32 | Family::UbootArm64);
    let (stage, last) = match kind {
        Loader::Pxelinux if uboot => ("U-Boot's `pxe get` reads", "pxelinux.cfg/default"),
        Loader::Pxelinux => ("PXELINUX reads its configuration", "pxelinux.cfg/default"),
        _ => ("GRUB reads its configuration", "grub.cfg"),
    };
    let Some(name) = names.iter().find(|n| files.find(n).0.exists()) else {
        out.push(Link {
            stage: stage.to_string(),
            name: format!("{last} (nor {})", names[0]),
            rewritten: None,
            found: Found::Missing,
        });
        return;
    };
    let text = push_text(out, files, stage, name).unwrap_or_default();
    for (what, path) in config_files(&text) {
        if out.len() >= MAX_LINKS {
            return;
        }
        leaf(start, files, what, &path, out);
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
