//! The profile file format exactly as operators write it: serde shapes with
//! `deny_unknown_fields` and a doc comment per key. Only the *shape* is checked
//! here (by serde_norway, which reports file:line:column); what the values mean
//! is checked once, in `build`, which turns these into the validated model.
//!
//! Values whose spelling matters (MACs, addresses) are kept as strings so that
//! every bad one is reported, not just the first serde stumbles on, and so that
//! a MAC written as `001122334455` keeps its leading zeros.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::boot::BootFiles;

/// One profile: who it matches and what those clients get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireProfile {
    /// Unique name, shown in logs ("why did this machine boot that?").
    pub name: String,
    /// Free text for humans.
    #[serde(default)]
    pub description: Option<String>,
    /// Which clients this profile is for (absent: only the `hosts:` below).
    #[serde(default, rename = "match")]
    pub matches: Option<WireMatch>,
    /// Individual machines (each an exact MAC) sharing this profile, each with
    /// its own fixed address, host name and variables.
    #[serde(default)]
    pub hosts: Vec<WireHost>,
    /// Fixed IPv4 address; only for a profile that matches one exact MAC.
    #[serde(default)]
    pub address: Option<String>,
    /// Fixed IPv6 address (DHCPv6); only for a profile that matches one
    /// exact MAC.
    #[serde(default)]
    pub address6: Option<String>,
    /// Host name (option 12); only for a profile that matches one exact MAC.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Boot files per firmware family (the `boot:` block: file names
    /// relative to the boot root, or URLs), read by [`BootFiles`]'s own
    /// `Deserialize`.
    #[serde(default)]
    pub boot: Option<BootFiles>,
    /// TFTP server to send clients to instead of this one (siaddr, option 66).
    #[serde(default)]
    pub next_server: Option<String>,
    /// Option 150 list: IPv4 addresses, or `self` for this server's own address.
    #[serde(default)]
    pub tftp_servers: Vec<String>,
    /// DHCPv6 boot file parameters (option 60), one string each.
    #[serde(default)]
    pub boot_params6: Vec<String>,
    /// Extra DHCP options by code, each with a typed value.
    #[serde(default)]
    pub options: BTreeMap<u8, WireOption>,
    /// Virtual TFTP files rendered per client from templates: path pattern → source.
    #[serde(default)]
    pub files: BTreeMap<String, WireFile>,
    /// TFTP path rewrites for these clients, first match wins.
    #[serde(default)]
    pub rewrite: Vec<WireRewrite>,
    /// Free variables for templates.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_norway::Value>,
    /// Advisory: where uploads (WRQ) from these clients are meant to land.
    #[serde(default)]
    pub upload_dir: Option<String>,
    /// Previous versions kept of a file these clients' uploads replace in
    /// `upload_dir` (takes the place of `tftp.keep_versions`).
    #[serde(default)]
    pub keep_versions: Option<usize>,
    /// What these clients are shown of the image catalogue.
    #[serde(default)]
    pub menu: Option<WireMenu>,
}

/// The `menu:` block: one catalogue entry booted at once (`entry`), or the
/// menu with a default entry and a timeout.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireMenu {
    /// Boot this entry at once, no menu.
    pub entry: Option<String>,
    /// The entry the menu boots when nobody chooses (default: the local disk).
    pub default: Option<String>,
    /// Seconds the menu waits.
    pub timeout: Option<u32>,
    /// Appended to every entry's kernel command line (`console=ttyS0`, say).
    pub args: Option<String>,
}

/// The `match:` block. Every key given must hold (AND); absent keys match anything.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireMatch {
    /// One exact MAC in any common spelling, or a prefix ending in `*` (`52:54:00:*`).
    #[serde(default)]
    pub mac: Option<String>,
    /// A MAC prefix of one to five bytes (`52:54:00`, `52-54-00`, `525400`).
    #[serde(default)]
    pub mac_prefix: Option<String>,
    /// Client architecture(s), by name (`bios`, `uefi-x64`, …) or option 93 code.
    #[serde(default)]
    pub arch: Option<OneOrMany<ArchSpec>>,
    /// Glob (`*`, `?`) on the vendor class identifier (option 60).
    #[serde(default)]
    pub vendor_class: Option<String>,
    /// `true`: the fallback profile for clients nothing else matches.
    #[serde(default)]
    pub default: bool,
}

/// An architecture given by name or by number.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ArchSpec {
    /// An option 93 code.
    Code(u16),
    /// A name from the table in `docs/profiles.md`.
    Name(String),
}

/// A single value or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// `key: value`
    One(T),
    /// `key: [a, b]`
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values as a list.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(v) => v,
        }
    }
}

/// One machine in `hosts:`: its MAC, its DHCPv6 DUID, or both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireHost {
    /// Its exact MAC.
    #[serde(default)]
    pub mac: Option<String>,
    /// Its DHCPv6 DUID in hex (for machines whose DUID carries no MAC).
    #[serde(default)]
    pub duid: Option<String>,
    /// Its fixed IPv4 address.
    #[serde(default)]
    pub address: Option<String>,
    /// Its fixed IPv6 address.
    #[serde(default)]
    pub address6: Option<String>,
    /// Its host name.
    #[serde(default)]
    pub hostname: Option<String>,
    /// Variables for templates, overriding the profile's.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_norway::Value>,
}

/// A typed DHCP option value: exactly one of these keys (checked in `options`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireOption {
    /// One or more IPv4 addresses.
    #[serde(default)]
    pub ipv4: Option<OneOrMany<String>>,
    /// Text, sent as its UTF-8 bytes.
    #[serde(default)]
    pub string: Option<String>,
    /// One byte.
    #[serde(default)]
    pub u8: Option<u8>,
    /// Two bytes, network order.
    #[serde(default)]
    pub u16: Option<u16>,
    /// Four bytes, network order.
    #[serde(default)]
    pub u32: Option<u32>,
    /// One byte, 0 or 1.
    #[serde(default)]
    pub bool: Option<bool>,
    /// Raw bytes in hex: `"01:04:0a"`, `"01 04 0a"` or `"01040a"`.
    #[serde(default)]
    pub hex: Option<String>,
}

/// Where a virtual file's content comes from: exactly one of the two keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFile {
    /// A template file, relative to the profiles directory.
    #[serde(default)]
    pub template: Option<String>,
    /// The template text inline.
    #[serde(default)]
    pub content: Option<String>,
    /// `text`, or `uboot-script`: the rendered text wrapped in U-Boot's
    /// legacy image header (`mkimage -T script`). Default: `uboot-script`
    /// for names ending `.scr.uimg` or `.scr`, else `text`.
    #[serde(default)]
    pub format: Option<String>,
}

/// A path-prefix rewrite.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireRewrite {
    /// Path prefix the client asks for (whole path components).
    pub from: String,
    /// What to put in its place.
    pub to: String,
}
