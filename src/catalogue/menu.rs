//! The iPXE menu for one client: the catalogue's entries that fit the
//! client's platform and architecture (as iPXE names them in the menu's
//! file name, `menu-${platform}-${buildarch}.ipxe`), with kernels, initrds
//! and images fetched over HTTP from our address as the client reaches it.
//! Pure: catalogue and choice in, script text out.

use std::fmt::Write as _;

use super::model::{Arch, Boot, Kind, SecureBoot};
use super::{Catalogue, Entry};

/// What a client is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    /// The whole menu; `default` is booted after `timeout_s` unless someone
    /// picks another (`None`: the local disk, the safe default).
    Menu {
        /// The entry booted when nobody chooses.
        default: Option<String>,
        /// Seconds the menu waits.
        timeout_s: u32,
    },
    /// One entry, booted at once, no menu.
    Entry(String),
}

/// What a profile's `menu:` says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Prefs {
    /// What the client is shown.
    pub choice: Choice,
    /// Appended to every entry's kernel command line (`console=ttyS0`, say).
    pub args: Option<String>,
}

/// Seconds an unconfigured menu waits before booting the local disk.
pub const DEFAULT_TIMEOUT_S: u32 = 10;

impl Default for Choice {
    fn default() -> Self {
        Choice::Menu {
            default: None,
            timeout_s: DEFAULT_TIMEOUT_S,
        }
    }
}

/// The client as iPXE describes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Client {
    /// `${platform}` is `efi` (else `pcbios`).
    pub efi: bool,
    /// `${buildarch}`.
    pub arch: Arch,
}

impl Client {
    /// From the menu's file name `menu-<platform>-<buildarch>.ipxe`.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("menu-")?.strip_suffix(".ipxe")?;
        let (platform, arch) = rest.split_once('-')?;
        let efi = match platform {
            "efi" => true,
            "pcbios" => false,
            _ => return None,
        };
        let arch = match arch {
            "i386" => Arch::I386,
            "x86_64" => Arch::X86_64,
            "arm64" => Arch::Arm64,
            _ => return None,
        };
        Some(Self { efi, arch })
    }

    /// Whether a kernel for `arch` runs here. A BIOS iPXE is an i386 build
    /// even on a 64-bit CPU, so BIOS clients get x86-64 kernels too.
    fn runs(&self, arch: Arch) -> bool {
        match (self.efi, self.arch, arch) {
            (false, Arch::I386 | Arch::X86_64, Arch::I386 | Arch::X86_64) => true,
            (_, mine, theirs) => mine == theirs,
        }
    }
}

/// What the menu needs besides the catalogue.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// Our HTTP base URL as this client reaches it, ending in `/`.
    pub base_url: &'a str,
    /// The URL an installer requests at its end (`{done_url}` in arguments).
    pub done_url: Option<&'a str>,
    /// `wimboot` is in the root (Windows PE entries need it).
    pub has_wimboot: bool,
    /// `pxelinux.0` is in the root (BIOS machines are offered its menu).
    pub has_pxelinux: bool,
    /// An iPXE EFI binary in the root (`ipxe.efi`): GRUB offers to chain it
    /// when not locked down, so entries GRUB cannot boot stay reachable.
    pub ipxe_efi: Option<&'a str>,
    /// What this client is shown.
    pub choice: &'a Choice,
    /// Appended to every entry's kernel command line.
    pub extra_args: Option<&'a str>,
}

/// The script for `client`.
pub fn ipxe(catalogue: &Catalogue, client: Client, ctx: &Context<'_>) -> String {
    let items: Vec<(&Entry, &Boot)> = catalogue
        .entries
        .iter()
        .filter_map(|e| bootable(e, client, ctx).map(|b| (e, b)))
        .collect();
    let mut out = String::from("#!ipxe\n# Written by netboot from the image catalogue.\n");
    if let Choice::Entry(id) = ctx.choice {
        match items.iter().position(|(e, _)| &e.id == id) {
            Some(at) => {
                let (entry, boot) = items[at];
                out.push_str(&entry_body(entry, boot, client, ctx, "fail"));
                out.push_str(":fail\necho netboot: booting that entry failed\nsleep 5\nexit\n");
                return out;
            }
            None => {
                let _ = writeln!(
                    out,
                    "echo netboot: entry {} is not in the catalogue for this machine",
                    clean(id)
                );
            }
        }
    }
    if items.is_empty() {
        nothing_catalogued(&mut out, client, ctx);
    } else {
        menu(&mut out, &items, client, ctx);
    }
    out
}

/// With no entry for this client: PXELINUX on BIOS when the root has it,
/// else the next boot device, saying why on the console.
fn nothing_catalogued(out: &mut String, client: Client, ctx: &Context<'_>) {
    if ctx.has_pxelinux && !client.efi {
        out.push_str(
            "echo netboot: nothing in the image catalogue for this machine; chaining PXELINUX\n",
        );
        out.push_str("chain pxelinux.0 ||\n");
    }
    out.push_str(
        "echo netboot: nothing to boot for ${platform} ${buildarch} here (no boot.ipxe, no image in the catalogue); trying the next boot device\n\
         sleep 5\n\
         exit\n",
    );
}

/// The boot of `entry` this client can run, if any.
fn bootable<'e>(entry: &'e Entry, client: Client, ctx: &Context<'_>) -> Option<&'e Boot> {
    if entry.recognised.kind == Kind::WindowsPe && !ctx.has_wimboot {
        return None;
    }
    let fits = |b: &&Boot| client.runs(b.arch);
    let boots = &entry.recognised.boots;
    boots
        .iter()
        .filter(fits)
        .find(|b| b.arch == client.arch)
        .or_else(|| boots.iter().find(fits))
}

fn menu(out: &mut String, items: &[(&Entry, &Boot)], client: Client, ctx: &Context<'_>) {
    let (default, timeout_s) = match ctx.choice {
        Choice::Menu { default, timeout_s } => (default.as_deref(), *timeout_s),
        Choice::Entry(_) => (None, DEFAULT_TIMEOUT_S),
    };
    let default_label = items
        .iter()
        .position(|(e, _)| Some(e.id.as_str()) == default)
        .map_or("local".to_string(), |i| format!("e{i}"));
    out.push_str(":menu\nmenu netboot: ${net0/mac} (${platform} ${buildarch})\n");
    for (i, (entry, boot)) in items.iter().enumerate() {
        let _ = writeln!(
            out,
            "item e{i} {}{}",
            clean(&entry.recognised.title),
            marks(entry, boot)
        );
    }
    if ctx.has_pxelinux && !client.efi {
        out.push_str("item pxelinux The PXELINUX menu\n");
    }
    out.push_str("item local Boot from the local disk\n");
    let _ = writeln!(
        out,
        "choose --default {default_label} --timeout {} target && goto ${{target}} || goto local",
        u64::from(timeout_s) * 1000
    );
    for (i, (entry, boot)) in items.iter().enumerate() {
        let _ = writeln!(out, ":e{i}");
        out.push_str(&entry_body(entry, boot, client, ctx, "failed"));
    }
    out.push_str(":failed\necho netboot: booting that entry failed\nsleep 3\ngoto menu\n");
    out.push_str(":pxelinux\nchain pxelinux.0 || goto failed\n");
    out.push_str(":local\necho netboot: booting from the local disk\nexit\n");
}

/// What the menu line says besides the title.
fn marks(entry: &Entry, boot: &Boot) -> String {
    let kind = match entry.recognised.kind {
        Kind::Sanboot => " [whole image: sanboot]",
        Kind::WindowsPe => " [wimboot]",
        Kind::Linux { .. } => "",
    };
    let sb = match boot.secure_boot {
        SecureBoot::Signed { .. } => " [Secure Boot ok]",
        SecureBoot::Unsigned { .. } => "",
    };
    format!("{kind}{sb}")
}

/// The commands that boot `entry`, jumping to `fail` on failure.
fn entry_body(entry: &Entry, boot: &Boot, client: Client, ctx: &Context<'_>, fail: &str) -> String {
    let iso_url = format!("{}{}", ctx.base_url, encode_path(&entry.id));
    let tree_url = format!("{iso_url}/");
    let mut out = format!("echo netboot: booting {}\n", clean(&entry.recognised.title));
    match entry.recognised.kind {
        Kind::Sanboot => {
            let _ = writeln!(out, "sanboot --no-describe {iso_url} || goto {fail}");
            return out;
        }
        Kind::WindowsPe => {
            let _ = writeln!(out, "kernel {}wimboot || goto {fail}", ctx.base_url);
        }
        Kind::Linux { .. } => {
            let mut line = format!(
                "kernel {tree_url}{} {}",
                encode_path(&boot.kernel),
                command_line(entry, boot, ctx)
            );
            if client.efi {
                for initrd in &boot.initrds {
                    let _ = write!(line, " initrd={}", file_name(initrd));
                }
            }
            let _ = writeln!(out, "{} || goto {fail}", line.trim_end());
        }
    }
    for initrd in &boot.initrds {
        let _ = writeln!(
            out,
            "initrd -n {} {tree_url}{} || goto {fail}",
            file_name(initrd),
            encode_path(initrd)
        );
    }
    let _ = writeln!(out, "boot || goto {fail}");
    out
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A path for a URL: each byte outside the unreserved set and `/` encoded.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `boot`'s kernel command line for this client, safe in a script line:
/// `{iso_url}`, `{tree_url}` and `{done_url}` filled in, the profile's
/// `menu.args` added. Shared by the iPXE and GRUB menus.
pub(super) fn command_line(entry: &Entry, boot: &Boot, ctx: &Context<'_>) -> String {
    let iso_url = format!("{}{}", ctx.base_url, encode_path(&entry.id));
    let args = boot
        .args
        .replace("{iso_url}", &iso_url)
        .replace("{tree_url}", &format!("{iso_url}/"))
        .replace("{done_url}", ctx.done_url.unwrap_or(""));
    match ctx.extra_args {
        Some(extra) => clean(&format!("{args} {extra}")),
        None => clean(&args),
    }
}

/// Text safe in an iPXE script or `grub.cfg` line: no settings or variable
/// expansion, no control characters, no line breaks.
pub(super) fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c == '$' || c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
#[path = "menu_tests.rs"]
mod tests;
