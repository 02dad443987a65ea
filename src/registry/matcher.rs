//! The one matcher of the registry: whether a client meets an entry's
//! [`Criteria`], and if not, every condition it fails ([`Miss`]). The DHCP
//! lookup, the TFTP side's per-client files and `netboot explain` all ask
//! this, so the reasons explain gives are the reasons lookup acted on.

use std::fmt;

use crate::boot::ClientId;
use crate::mac::MacAddr;

use super::model::{Criteria, MacCrit};
use super::pattern::{Glob, MacPrefix};

/// What is known of the client being matched.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// Its MAC.
    pub mac: MacAddr,
    /// Option 93, when sent (or known).
    pub arch: Option<u16>,
    /// Option 60, when sent (or known).
    pub vendor: Option<&'a str>,
    /// `None` means "unknown", and a condition on an unknown fact is taken
    /// as met (the TFTP side knows a client by its lease's MAC only); else
    /// `None` means "the client sent none", which fails such a condition.
    pub unknown_is_met: bool,
}

impl<'a> Asked<'a> {
    /// A DHCP client as it asked.
    pub fn dhcp(client: &'a ClientId) -> Self {
        Self {
            mac: client.mac,
            arch: client.arch,
            vendor: client.vendor_class.as_deref(),
            unknown_is_met: false,
        }
    }
}

/// One condition of an entry that the client does not meet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Miss {
    /// The entry is for exactly this MAC; the client has `got`.
    ExactMac {
        /// The MAC the entry names.
        wanted: MacAddr,
        /// The client's.
        got: MacAddr,
    },
    /// The entry is for MACs with this prefix.
    MacPrefix {
        /// The prefix.
        wanted: MacPrefix,
        /// The client's MAC.
        got: MacAddr,
    },
    /// The entry is for these architectures (canonical option 93 codes).
    Arch {
        /// Codes any of which matches.
        wanted: Vec<u16>,
        /// What the client sent (`None`: no option 93).
        sent: Option<u16>,
    },
    /// The entry is for vendor classes matching this glob.
    Vendor {
        /// The glob.
        wanted: Glob,
        /// What the client sent (`None`: no option 60).
        sent: Option<String>,
    },
}

impl Criteria {
    /// Every condition `asked` fails; empty when the entry matches. Each
    /// condition is judged by the same predicate [`Self::holds_for`] uses.
    pub fn misses(&self, asked: &Asked<'_>) -> Vec<Miss> {
        let mut out = Vec::new();
        if !self.mac_matches(&asked.mac) {
            match &self.mac {
                MacCrit::Exact(m) => out.push(Miss::ExactMac {
                    wanted: *m,
                    got: asked.mac,
                }),
                MacCrit::Prefix(p) => out.push(Miss::MacPrefix {
                    wanted: p.clone(),
                    got: asked.mac,
                }),
                MacCrit::Any => {}
            }
        }
        if let (false, Some(codes)) = (self.arch_holds(asked), &self.arch) {
            out.push(Miss::Arch {
                wanted: codes.clone(),
                sent: asked.arch,
            });
        }
        if let (false, Some(glob)) = (self.vendor_holds(asked), &self.vendor) {
            out.push(Miss::Vendor {
                wanted: glob.clone(),
                sent: asked.vendor.map(str::to_string),
            });
        }
        out
    }

    /// Whether `asked` meets every condition (without allocating: this is
    /// the DHCP lookup's path).
    pub fn holds_for(&self, asked: &Asked<'_>) -> bool {
        self.mac_matches(&asked.mac) && self.arch_holds(asked) && self.vendor_holds(asked)
    }

    /// The architecture condition, an unknown architecture met if so asked.
    fn arch_holds(&self, asked: &Asked<'_>) -> bool {
        (asked.unknown_is_met && asked.arch.is_none()) || self.arch_matches(asked.arch)
    }

    /// The vendor class condition, an unknown vendor class met if so asked.
    fn vendor_holds(&self, asked: &Asked<'_>) -> bool {
        (asked.unknown_is_met && asked.vendor.is_none()) || self.vendor_matches(asked.vendor)
    }
}

/// `7 (uefi-x64)`: an option 93 code with the name profiles use for it.
pub fn arch_name(code: u16) -> String {
    match super::arch::name_of(code) {
        Some(name) => format!("{code} ({name})"),
        None => code.to_string(),
    }
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ExactMac { wanted, got } => write!(f, "MAC {wanted} is not {got}"),
            Self::MacPrefix { wanted, got } => {
                write!(f, "MAC prefix {wanted} does not match {got}")
            }
            Self::Arch { wanted, sent } => {
                let names: Vec<String> = wanted.iter().map(|c| arch_name(*c)).collect();
                write!(f, "wants arch {}, client sent ", names.join(" or "))?;
                match sent {
                    Some(code) => f.write_str(&arch_name(*code)),
                    None => f.write_str("none (no option 93)"),
                }
            }
            Self::Vendor { wanted, sent } => {
                write!(f, "wants vendor class {:?}, client sent ", wanted.as_str())?;
                match sent {
                    Some(text) => write!(f, "{text:?}"),
                    None => f.write_str("none (no option 60)"),
                }
            }
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

    fn asked(mac: &str, arch: Option<u16>, vendor: Option<&'static str>) -> Asked<'static> {
        Asked {
            mac: mac.parse().unwrap(),
            arch,
            vendor,
            unknown_is_met: false,
        }
    }

    #[test]
    fn every_failed_condition_is_reported() {
        let p = MacPrefix::parse("00:11:22").unwrap();
        let c = crit(MacCrit::Prefix(p), Some(vec![7]), Some("Cisco*"));
        let got = c.misses(&asked("52:54:00:00:00:01", Some(0), None));
        let text: Vec<String> = got.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "MAC prefix 00:11:22:* does not match 52:54:00:00:00:01",
                "wants arch 7 (uefi-x64), client sent 0 (bios)",
                "wants vendor class \"Cisco*\", client sent none (no option 60)",
            ]
        );
        assert!(c.holds_for(&asked("00:11:22:00:00:01", Some(9), Some("Cisco 7945"))));
    }

    #[test]
    fn unknown_facts_are_met_only_when_asked_so() {
        let c = crit(MacCrit::Any, Some(vec![0]), Some("X*"));
        let mut a = asked("02:00:00:00:00:01", None, None);
        assert_eq!(c.misses(&a).len(), 2);
        a.unknown_is_met = true;
        assert!(c.holds_for(&a));
        a.arch = Some(7);
        assert_eq!(
            c.misses(&a),
            [Miss::Arch {
                wanted: vec![0],
                sent: Some(7)
            }]
        );
    }

    #[test]
    fn holds_exactly_when_nothing_is_missed() {
        let p = MacPrefix::parse("52:54").unwrap();
        let crits = [
            crit(MacCrit::Any, None, None),
            crit(MacCrit::Prefix(p), Some(vec![7]), None),
            crit(MacCrit::Any, Some(vec![0, 11]), Some("PXE*")),
            crit(
                MacCrit::Exact("52:54:00:00:00:01".parse().unwrap()),
                None,
                Some("X"),
            ),
        ];
        for c in &crits {
            for mac in ["52:54:00:00:00:01", "00:11:22:33:44:55"] {
                for arch in [None, Some(0), Some(9), Some(11)] {
                    for vendor in [None, Some("PXEClient"), Some("X")] {
                        for unknown_is_met in [false, true] {
                            let a = Asked {
                                unknown_is_met,
                                ..asked(mac, arch, vendor)
                            };
                            assert_eq!(c.holds_for(&a), c.misses(&a).is_empty(), "{c:?} {a:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn exact_mac_and_unnamed_arch_read_plainly() {
        let c = crit(
            MacCrit::Exact("52:54:00:10:00:01".parse().unwrap()),
            None,
            None,
        );
        let m = c.misses(&asked("52:54:00:10:00:02", None, None));
        assert_eq!(
            m[0].to_string(),
            "MAC 52:54:00:10:00:01 is not 52:54:00:10:00:02"
        );
        assert_eq!(arch_name(9), "9 (uefi-x64)");
        assert_eq!(arch_name(4000), "4000");
    }
}
