//! Conversion of who a profile is for: the `match:` block and `hosts:` into
//! entries with checked MACs, prefixes, architectures and vendor globs.

use std::collections::BTreeMap;

use crate::mac::MacAddr;

use super::arch;
use super::build::Cx;
use super::locate::Seg;
use super::model::{Criteria, Entry, MacCrit};
use super::pattern::{Glob, MacPrefix};
use super::wire::{ArchSpec, WireHost, WireMatch, WireProfile};

impl Cx<'_> {
    pub(super) fn entries(&mut self, w: &WireProfile, profile: usize) -> Vec<Entry> {
        if w.matches.is_none() && w.hosts.is_empty() {
            self.err(
                &[Seg::Key("name")],
                "profile matches no client: add `match:` or `hosts:`",
            );
        }
        let mut out: Vec<Entry> = self.match_entry(w, profile).into_iter().collect();
        for (i, host) in w.hosts.iter().enumerate() {
            out.extend(self.host_entry(host, i, profile));
        }
        out
    }

    /// The entry of the `match:` block, with the top-level address and host name.
    fn match_entry(&mut self, w: &WireProfile, profile: usize) -> Option<Entry> {
        let Some(m) = &w.matches else {
            if w.address.is_some() || w.hostname.is_some() {
                self.err(
                    &[Seg::Key("address")],
                    "`address` and `hostname` at the top need `match: mac:`; put them in `hosts:`",
                );
            }
            return None;
        };
        let address = w
            .address
            .as_deref()
            .and_then(|a| self.ipv4(&[Seg::Key("address")], a));
        let criteria = self.criteria(m)?;
        let exact = matches!(criteria.mac, MacCrit::Exact(_));
        for (key, given) in [
            ("address", w.address.is_some()),
            ("hostname", w.hostname.is_some()),
        ] {
            if given && !exact {
                self.err(
                    &[Seg::Key(key)],
                    format!("`{key}` needs `match: mac:` with one exact MAC; give several machines theirs under `hosts:`"),
                );
            }
        }
        Some(Entry {
            profile,
            criteria,
            address,
            hostname: w.hostname.clone(),
            vars: BTreeMap::new(),
            loc: self.loc(&[Seg::Key("match")]),
        })
    }

    /// The entry of host `i`: an exact MAC with its own address, name and vars.
    fn host_entry(&mut self, host: &WireHost, i: usize, profile: usize) -> Option<Entry> {
        let at = |k| [Seg::Key("hosts"), Seg::Idx(i), Seg::Key(k)];
        let address = host
            .address
            .as_deref()
            .and_then(|a| self.ipv4(&at("address"), a));
        let vars = self.vars(&host.vars, &at("vars"));
        let mac = self.mac(&at("mac"), &host.mac)?;
        Some(Entry {
            profile,
            criteria: Criteria {
                mac: MacCrit::Exact(mac),
                arch: None,
                vendor: None,
            },
            address,
            hostname: host.hostname.clone(),
            vars,
            loc: self.loc(&at("mac")),
        })
    }

    fn criteria(&mut self, m: &WireMatch) -> Option<Criteria> {
        let k = |key| [Seg::Key("match"), Seg::Key(key)];
        let others = m.mac.is_some()
            || m.mac_prefix.is_some()
            || m.arch.is_some()
            || m.vendor_class.is_some();
        if m.default && others {
            self.err(
                &k("default"),
                "`default: true` cannot be combined with other match keys",
            );
            return None;
        }
        if !m.default && !others {
            self.err(
                &[Seg::Key("match")],
                "empty match: give mac, mac_prefix, arch, vendor_class or `default: true`",
            );
            return None;
        }
        let mac = match (&m.mac, &m.mac_prefix) {
            (Some(_), Some(_)) => {
                self.err(
                    &k("mac_prefix"),
                    "give either `mac` or `mac_prefix`, not both",
                );
                return None;
            }
            (Some(text), None) if text.contains('*') => {
                MacCrit::Prefix(self.prefix(&k("mac"), text)?)
            }
            (Some(text), None) => MacCrit::Exact(self.mac(&k("mac"), text)?),
            (None, Some(text)) => MacCrit::Prefix(self.prefix(&k("mac_prefix"), text)?),
            (None, None) => MacCrit::Any,
        };
        let arch = match &m.arch {
            Some(specs) => Some(self.arch(specs.as_slice())?),
            None => None,
        };
        let vendor = match m.vendor_class.as_deref() {
            Some("") => {
                self.err(&k("vendor_class"), "empty vendor_class glob");
                return None;
            }
            other => other.map(Glob::new),
        };
        Some(Criteria { mac, arch, vendor })
    }

    fn arch(&mut self, specs: &[ArchSpec]) -> Option<Vec<u16>> {
        let mut codes = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let found = match spec {
                ArchSpec::Code(c) => Some(vec![arch::canonical(*c)]),
                ArchSpec::Name(n) => arch::codes_for_name(n).or_else(|| {
                    n.trim()
                        .parse::<u16>()
                        .ok()
                        .map(|c| vec![arch::canonical(c)])
                }),
            };
            match (found, spec) {
                (Some(c), _) => codes.extend(c),
                (None, ArchSpec::Name(n)) => {
                    let mut path = vec![Seg::Key("match"), Seg::Key("arch")];
                    if specs.len() > 1 {
                        path.push(Seg::Idx(i));
                    }
                    self.err(
                        &path,
                        format!(
                            "unknown architecture `{n}` (known: {}, or an option 93 number)",
                            arch::known_names()
                        ),
                    );
                    return None;
                }
                (None, ArchSpec::Code(_)) => return None,
            }
        }
        codes.sort_unstable();
        codes.dedup();
        Some(codes)
    }

    fn mac(&mut self, at: &[Seg<'_>], text: &str) -> Option<MacAddr> {
        match text.parse::<MacAddr>() {
            Ok(m) => Some(m),
            Err(e) => {
                self.err(at, format!("bad MAC address {text:?}: {e}"));
                None
            }
        }
    }

    fn prefix(&mut self, at: &[Seg<'_>], text: &str) -> Option<MacPrefix> {
        let p = MacPrefix::parse(text);
        if p.is_none() {
            self.err(at, format!("bad MAC prefix {text:?}: expected 1 to 5 hex bytes such as 52:54:00 or \"52:54:00:*\""));
        }
        p
    }
}
