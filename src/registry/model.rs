//! The validated profile model the servers use: no serde, no strings where a
//! type exists. Built once by `build` from the wire shapes; never changed after.

use crate::catalogue::menu::Prefs;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use crate::boot::BootFiles;
use crate::mac::MacAddr;

use super::diag::{Diagnostic, Pos};
use super::pattern::{Glob, MacPrefix};

/// Where something was written: a file and a position in it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loc {
    /// The profile file.
    pub file: PathBuf,
    /// Line and column in it.
    pub pos: Pos,
}

impl Loc {
    /// A diagnostic at this place.
    pub fn diag(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&self.file, self.pos, message)
    }
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.pos.line)
    }
}

/// One profile: what its clients get. Who they are is in its [`Entry`]s.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Unique name.
    pub name: String,
    /// Where the profile starts.
    pub loc: Loc,
    /// Boot files per firmware family.
    pub boot: BootFiles,
    /// TFTP server to send clients to instead of this one.
    pub next_server: Option<Ipv4Addr>,
    /// Option 150 list; `0.0.0.0` stands for "this server" (`self`).
    pub tftp_servers: Vec<Ipv4Addr>,
    /// Extra DHCP options, encoded.
    pub extra_options: Vec<(u8, Vec<u8>)>,
    /// Virtual files rendered from templates.
    pub files: Vec<FileRule>,
    /// TFTP path rewrites, first match wins.
    pub rewrites: Vec<Rewrite>,
    /// Template variables.
    pub vars: BTreeMap<String, minijinja::Value>,
    /// Advisory upload directory.
    pub upload_dir: Option<String>,
    /// Versions kept of files replaced in `upload_dir`.
    pub keep_versions: Option<usize>,
    /// What these clients are shown of the image catalogue.
    pub menu: Option<Prefs>,
    /// DHCPv6 boot file parameters (option 60), in order.
    pub boot_params6: Vec<String>,
}

/// One way a profile matches clients: its `match:` block, or one of its hosts.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Index of the profile in the registry.
    pub profile: usize,
    /// What a client must look like.
    pub criteria: Criteria,
    /// Fixed address for this client.
    pub address: Option<Ipv4Addr>,
    /// Fixed IPv6 address for this client.
    pub address6: Option<Ipv6Addr>,
    /// Host name for this client.
    pub hostname: Option<String>,
    /// Host variables, overriding the profile's.
    pub vars: BTreeMap<String, minijinja::Value>,
    /// Where the match (or host MAC) was written.
    pub loc: Loc,
}

/// A machine as DHCPv6 knows it: a `hosts:` entry with a `duid`, or an
/// exact-MAC profile or host with an `address6`. DHCPv6 looks these up by
/// DUID (then by MAC) for its reservations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host6 {
    /// Index of the profile in the registry.
    pub profile: usize,
    /// Its DUID, when given.
    pub duid: Option<Vec<u8>>,
    /// Its MAC, when given.
    pub mac: Option<MacAddr>,
    /// Its fixed IPv6 address.
    pub address6: Option<Ipv6Addr>,
    /// Its host name.
    pub hostname: Option<String>,
    /// Where it is written.
    pub loc: Loc,
}

impl Host6 {
    /// The machine in words: `DUID 00:04:…` or `MAC 52:54:…`.
    pub fn who(&self) -> String {
        match (&self.duid, self.mac) {
            (Some(d), _) => format!("DUID {}", crate::dhcp6::duid::hex(d)),
            (None, Some(m)) => format!("MAC {m}"),
            (None, None) => "a host".to_string(),
        }
    }
}

/// The MAC part of a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MacCrit {
    /// Any MAC.
    Any,
    /// Exactly this MAC.
    Exact(MacAddr),
    /// Any MAC starting with this prefix.
    Prefix(MacPrefix),
}

/// Everything a client must satisfy to match an entry (all of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criteria {
    /// MAC condition.
    pub mac: MacCrit,
    /// Canonical architecture codes, any of which matches; `None`: any arch.
    pub arch: Option<Vec<u16>>,
    /// Vendor class glob; `None`: any vendor class.
    pub vendor: Option<Glob>,
}

/// Precedence of an entry: higher wins. Compared field by field, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// 3 exact MAC, 2 MAC prefix, 1 architecture/vendor class, 0 default.
    pub tier: u8,
    /// Bytes of MAC fixed (6 for exact, prefix length, 0 otherwise).
    pub mac_bytes: u8,
    /// A vendor class condition is more specific than an architecture one.
    pub has_vendor: bool,
    /// An architecture condition.
    pub has_arch: bool,
}

impl Criteria {
    /// This entry's precedence.
    pub fn rank(&self) -> Rank {
        let (tier, mac_bytes) = match &self.mac {
            MacCrit::Exact(_) => (3, 6),
            MacCrit::Prefix(p) => (2, u8::try_from(p.len()).unwrap_or(5)),
            MacCrit::Any if self.arch.is_some() || self.vendor.is_some() => (1, 0),
            MacCrit::Any => (0, 0),
        };
        Rank {
            tier,
            mac_bytes,
            has_vendor: self.vendor.is_some(),
            has_arch: self.arch.is_some(),
        }
    }

    /// Why a client matching these criteria matched, for logs.
    pub fn reason(&self) -> String {
        let mut parts = Vec::new();
        match &self.mac {
            MacCrit::Exact(m) => parts.push(format!("exact MAC {m}")),
            MacCrit::Prefix(p) => parts.push(format!("MAC prefix {p}")),
            MacCrit::Any => {}
        }
        if let Some(v) = &self.vendor {
            parts.push(format!("vendor class {:?}", v.as_str()));
        }
        if let Some(codes) = &self.arch {
            let codes: Vec<String> = codes.iter().map(u16::to_string).collect();
            parts.push(format!("arch {}", codes.join("/")));
        }
        if parts.is_empty() {
            "default".to_string()
        } else {
            parts.join(" + ")
        }
    }

    /// Whether the MAC condition holds.
    pub fn mac_matches(&self, mac: &MacAddr) -> bool {
        match &self.mac {
            MacCrit::Any => true,
            MacCrit::Exact(m) => m == mac,
            MacCrit::Prefix(p) => p.matches(mac),
        }
    }

    /// Whether the architecture condition holds for a client sending `arch`
    /// (`None`: the client sent no option 93).
    pub fn arch_matches(&self, arch: Option<u16>) -> bool {
        match (&self.arch, arch) {
            (None, _) => true,
            (Some(codes), Some(a)) => codes.contains(&super::arch::canonical(a)),
            (Some(_), None) => false,
        }
    }

    /// Whether the vendor class condition holds.
    pub fn vendor_matches(&self, vendor: Option<&str>) -> bool {
        match (&self.vendor, vendor) {
            (None, _) => true,
            (Some(g), Some(v)) => g.matches(v),
            (Some(_), None) => false,
        }
    }

    /// Whether one client could satisfy both criteria.
    pub fn overlaps(&self, other: &Self) -> bool {
        let mac = match (&self.mac, &other.mac) {
            (MacCrit::Any, _) | (_, MacCrit::Any) => true,
            (MacCrit::Exact(a), MacCrit::Exact(b)) => a == b,
            (MacCrit::Exact(m), MacCrit::Prefix(p)) | (MacCrit::Prefix(p), MacCrit::Exact(m)) => {
                p.matches(m)
            }
            (MacCrit::Prefix(a), MacCrit::Prefix(b)) => a.overlaps(b),
        };
        let arch = match (&self.arch, &other.arch) {
            (Some(a), Some(b)) => a.iter().any(|c| b.contains(c)),
            _ => true,
        };
        let vendor = match (&self.vendor, &other.vendor) {
            (Some(a), Some(b)) => a.may_overlap(b),
            _ => true,
        };
        mac && arch && vendor
    }
}

/// A virtual file: a TFTP path pattern and the template that renders it.
#[derive(Debug, Clone)]
pub struct FileRule {
    /// The pattern as written (for logs).
    pub pattern: String,
    /// The pattern when it has no template syntax (compared without rendering).
    pub literal: Option<String>,
    /// Name of the path template in the registry's template set.
    pub path_template: String,
    /// Name of the body template in the registry's template set.
    pub body_template: String,
    /// Served as a U-Boot script image (`crate::uimage`), not as text.
    pub uboot_script: bool,
}

/// A TFTP path prefix rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// Prefix asked for, without leading `/`, whole path components.
    pub from: String,
    /// Replacement.
    pub to: String,
}

impl Rewrite {
    /// The rewritten path, when `path` (already without leading `/`) starts with `from`.
    pub fn apply(&self, path: &str) -> Option<String> {
        let from = self.from.trim_end_matches('/');
        let rest = path.strip_prefix(from)?;
        if !from.is_empty() && (rest.is_empty() || rest.starts_with('/')) {
            Some(format!("{}{}", self.to.trim_end_matches('/'), rest))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crit(mac: MacCrit, arch: Option<Vec<u16>>, vendor: Option<&str>) -> Criteria {
        Criteria {
            mac,
            arch,
            vendor: vendor.map(Glob::new),
        }
    }

    #[test]
    fn ranks_order_exact_prefix_vendor_arch_default() {
        let mac: MacAddr = "52:54:00:12:34:56".parse().unwrap();
        let p3 = MacPrefix::parse("52:54:00").unwrap();
        let p4 = MacPrefix::parse("52:54:00:12").unwrap();
        let exact = crit(MacCrit::Exact(mac), None, None).rank();
        let long = crit(MacCrit::Prefix(p4), None, None).rank();
        let short = crit(MacCrit::Prefix(p3), None, None).rank();
        let vendor = crit(MacCrit::Any, None, Some("Cisco*")).rank();
        let arch = crit(MacCrit::Any, Some(vec![7]), None).rank();
        let default = crit(MacCrit::Any, None, None).rank();
        assert!(exact > long && long > short && short > vendor);
        assert!(vendor > arch && arch > default);
    }

    #[test]
    fn reasons_name_the_conditions() {
        let p = MacPrefix::parse("52:54:00").unwrap();
        let c = crit(MacCrit::Prefix(p), Some(vec![0, 7]), Some("X*"));
        assert_eq!(
            c.reason(),
            "MAC prefix 52:54:00:* + vendor class \"X*\" + arch 0/7"
        );
        assert_eq!(crit(MacCrit::Any, None, None).reason(), "default");
    }

    #[test]
    fn arch_seven_and_nine_alike() {
        let c = crit(MacCrit::Any, Some(vec![7]), None);
        assert!(c.arch_matches(Some(7)) && c.arch_matches(Some(9)));
        assert!(!c.arch_matches(Some(0)) && !c.arch_matches(None));
    }

    #[test]
    fn overlap() {
        let a = crit(MacCrit::Any, Some(vec![0]), None);
        let b = crit(MacCrit::Any, Some(vec![7]), None);
        assert!(!a.overlaps(&b));
        assert!(a.overlaps(&crit(MacCrit::Any, Some(vec![0, 7]), None)));
        let cisco = crit(MacCrit::Any, None, Some("Cisco*"));
        assert!(!cisco.overlaps(&crit(MacCrit::Any, None, Some("Polycom*"))));
    }

    #[test]
    fn rewrites_whole_components() {
        let r = Rewrite {
            from: "grub.cfg".into(),
            to: "grub/lab.cfg".into(),
        };
        assert_eq!(r.apply("grub.cfg"), Some("grub/lab.cfg".into()));
        assert_eq!(r.apply("grub.cfg-01-aa"), None);
        let dir = Rewrite {
            from: "debian-installer/".into(),
            to: "debian-12/".into(),
        };
        assert_eq!(
            dir.apply("debian-installer/amd64/linux"),
            Some("debian-12/amd64/linux".into())
        );
        assert_eq!(dir.apply("debian-installerX/a"), None);
    }
}
