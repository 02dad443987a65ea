//! Why a client gets the profile it gets: the entry that matched and by
//! which selector, and for every other profile the conditions it failed or
//! the entry that outranked it. Pure, and derived from the matcher lookup
//! itself uses ([`Criteria::misses`] over [`Registry::in_order`]), so what
//! it says is what the DHCP server did. `netboot explain` prints it; the
//! DHCP server can log it at debug level (`explain(&registry, &client)`,
//! then `{}`).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::boot::ClientId;

use super::lookup::Registry;
use super::matcher::{arch_name, Asked, Miss};
use super::model::{Criteria, Entry, Loc, MacCrit};

/// Which kind of condition chose a profile (the precedence tiers, highest
/// first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Selector {
    /// `hosts:` or `match: mac:` naming this MAC.
    ExactMac,
    /// `match: mac_prefix:`.
    MacPrefix,
    /// `match: vendor_class:` (perhaps with `arch:`).
    VendorClass,
    /// `match: arch:` alone.
    Arch,
    /// `match: default: true`.
    Default,
}

impl Selector {
    /// The kind of an entry's criteria.
    pub fn of(criteria: &Criteria) -> Self {
        match (&criteria.mac, &criteria.vendor, &criteria.arch) {
            (MacCrit::Exact(_), ..) => Self::ExactMac,
            (MacCrit::Prefix(_), ..) => Self::MacPrefix,
            (MacCrit::Any, Some(_), _) => Self::VendorClass,
            (MacCrit::Any, None, Some(_)) => Self::Arch,
            (MacCrit::Any, None, None) => Self::Default,
        }
    }

    fn words(self) -> &'static str {
        match self {
            Self::ExactMac => "exact MAC",
            Self::MacPrefix => "MAC prefix",
            Self::VendorClass => "vendor class",
            Self::Arch => "architecture",
            Self::Default => "default",
        }
    }
}

/// The profile that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matched {
    /// Its name.
    pub profile: String,
    /// Where the matching entry is written (`profiles/lab.yaml:8`).
    pub at: String,
    /// The kind of condition.
    pub selector: Selector,
    /// Every condition of the entry (`MAC prefix 52:54:00:* + arch 7`).
    pub conditions: String,
    /// The entry's host name.
    pub hostname: Option<String>,
    /// The entry's fixed address.
    pub address: Option<Ipv4Addr>,
    /// The entry's fixed IPv6 address (DHCPv6).
    pub address6: Option<Ipv6Addr>,
}

/// Why a profile was not chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum WhyNot {
    /// It matches too, but the chosen entry ranks higher.
    Outranked {
        /// Its matching entry's conditions.
        conditions: String,
        /// Its matching entry's kind.
        selector: Selector,
        /// The chosen profile.
        winner: String,
        /// The chosen entry's kind.
        winner_selector: Selector,
    },
    /// None of its entries matches: per entry, what failed.
    Missed {
        /// The failed conditions of each entry, in the profile's order.
        entries: Vec<Vec<String>>,
        /// Those entries are all hosts (exact MACs), none of them this one.
        hosts: Vec<String>,
    },
}

/// A profile considered and not chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Considered {
    /// Its name.
    pub profile: String,
    /// Where it starts (`profiles/router-backup.yaml:8`).
    pub at: String,
    /// Why not.
    pub why_not: WhyNot,
}

/// The whole answer for one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The client's MAC.
    pub mac: String,
    /// Option 93 as sent.
    pub arch: Option<u16>,
    /// Option 60 as sent.
    pub vendor_class: Option<String>,
    /// Whether the request is iPXE's.
    pub ipxe: bool,
    /// The profile chosen, if any.
    pub matched: Option<Matched>,
    /// Every other profile, in precedence order of its best entry.
    pub others: Vec<Considered>,
}

/// Explains which profile `client` gets and why the others are not it.
pub fn explain(registry: &Registry, client: &ClientId) -> Explanation {
    let asked = Asked::dhcp(client);
    let entries: Vec<&Entry> = registry
        .in_order(client.mac)
        .chain(registry.other_exact(client.mac))
        .collect();
    let winner = entries.iter().find(|e| e.criteria.holds_for(&asked));
    let matched = winner.and_then(|e| matched(registry, e));
    let mut order: Vec<usize> = Vec::new();
    for e in &entries {
        let chosen = winner.is_some_and(|w| w.profile == e.profile);
        if !chosen && !order.contains(&e.profile) {
            order.push(e.profile);
        }
    }
    let others = order
        .into_iter()
        .filter_map(|p| {
            let mine: Vec<&Entry> = entries.iter().copied().filter(|e| e.profile == p).collect();
            considered(registry, &mine, &asked, matched.as_ref())
        })
        .collect();
    Explanation {
        mac: client.mac.colon(),
        arch: client.arch,
        vendor_class: client.vendor_class.clone(),
        ipxe: client.is_ipxe,
        matched,
        others,
    }
}

fn matched(registry: &Registry, entry: &Entry) -> Option<Matched> {
    let profile = registry.profile_of(entry)?;
    Some(Matched {
        profile: profile.name.clone(),
        at: place(&entry.loc),
        selector: Selector::of(&entry.criteria),
        conditions: entry.criteria.reason(),
        hostname: entry.hostname.clone(),
        address: entry.address,
        address6: entry.address6,
    })
}

/// One profile's verdict from its entries (in precedence order).
fn considered(
    registry: &Registry,
    entries: &[&Entry],
    asked: &Asked<'_>,
    winner: Option<&Matched>,
) -> Option<Considered> {
    let first = entries.first()?;
    let profile = registry.profile_of(first)?;
    let holding = entries.iter().find(|e| e.criteria.holds_for(asked));
    let why_not = match (holding, winner) {
        (Some(e), Some(w)) => WhyNot::Outranked {
            conditions: e.criteria.reason(),
            selector: Selector::of(&e.criteria),
            winner: w.profile.clone(),
            winner_selector: w.selector,
        },
        _ => missed(entries, asked),
    };
    Some(Considered {
        profile: profile.name.clone(),
        at: place(&profile.loc),
        why_not,
    })
}

fn missed(entries: &[&Entry], asked: &Asked<'_>) -> WhyNot {
    let misses: Vec<Vec<Miss>> = entries.iter().map(|e| e.criteria.misses(asked)).collect();
    let hosts: Vec<String> = misses
        .iter()
        .filter_map(|m| match m.as_slice() {
            [Miss::ExactMac { wanted, .. }] => Some(wanted.colon()),
            _ => None,
        })
        .collect();
    if hosts.len() == entries.len() && entries.len() > 1 {
        let mut hosts = hosts;
        hosts.sort();
        return WhyNot::Missed {
            entries: Vec::new(),
            hosts,
        };
    }
    WhyNot::Missed {
        entries: misses
            .iter()
            .map(|m| m.iter().map(ToString::to_string).collect())
            .collect(),
        hosts: Vec::new(),
    }
}

/// `lab.yaml:8`: the file name and line (profiles live in one directory).
fn place(loc: &Loc) -> String {
    let name = loc.file.file_name().map_or_else(
        || loc.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    format!("{name}:{}", loc.pos.line)
}

impl fmt::Display for WhyNot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Outranked {
                conditions,
                selector,
                winner,
                winner_selector,
            } if selector == winner_selector => write!(
                f,
                "matches too ({conditions}), but {winner} is more specific and wins"
            ),
            Self::Outranked {
                conditions,
                selector,
                winner,
                winner_selector,
            } => write!(
                f,
                "matches too ({conditions}), but {winner} wins: {} comes before {}",
                winner_selector.words(),
                selector.words()
            ),
            Self::Missed { hosts, .. } if !hosts.is_empty() => {
                write!(f, "not one of its hosts ({})", hosts.join(", "))
            }
            Self::Missed { entries, .. } => {
                let each: Vec<String> = entries.iter().map(|m| m.join(", ")).collect();
                f.write_str(&each.join("; "))
            }
        }
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arch = self.arch.map_or_else(|| "none".to_string(), arch_name);
        let vendor = self
            .vendor_class
            .as_deref()
            .map_or_else(|| "none".to_string(), |v| format!("{v:?}"));
        let ipxe = if self.ipxe { ", iPXE" } else { "" };
        writeln!(
            f,
            "client {}: arch {arch}, vendor class {vendor}{ipxe}",
            self.mac
        )?;
        match &self.matched {
            Some(m) => {
                write!(
                    f,
                    "profile {} ({}), by {}: {}",
                    m.profile,
                    m.at,
                    m.selector.words(),
                    m.conditions
                )?;
                let extra: Vec<String> = [
                    m.hostname.as_ref().map(|h| format!("host name {h}")),
                    m.address.map(|a| format!("fixed address {a}")),
                    m.address6.map(|a| format!("fixed IPv6 address {a}")),
                ]
                .into_iter()
                .flatten()
                .collect();
                if !extra.is_empty() {
                    write!(f, " ({})", extra.join(", "))?;
                }
                writeln!(f)?;
            }
            None => writeln!(f, "no profile matches")?,
        }
        for c in &self.others {
            writeln!(f, "  not {} ({}): {}", c.profile, c.at, c.why_not)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "explain_tests.rs"]
mod tests;
