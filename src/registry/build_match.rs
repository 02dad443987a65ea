//! Conversion of who a profile is for: the `match:` block and `hosts:` into
//! entries with checked MACs, prefixes, architectures and vendor globs.

use std::collections::BTreeMap;

use crate::mac::MacAddr;

use super::arch;
use super::build::Cx;
use super::locate::Seg;
use super::model::{Criteria, Entry, Host6, MacCrit};
use super::pattern::{Glob, MacPrefix};
use super::wire::{ArchSpec, WireHost, WireMatch, WireProfile};

impl Cx<'_> {
    /// The profile's entries, and its machines as DHCPv6 knows them.
    pub(super) fn entries(&mut self, w: &WireProfile, profile: usize) -> (Vec<Entry>, Vec<Host6>) {
        if w.matches.is_none() && w.hosts.is_empty() {
            self.err(
                &[Seg::Key("name")],
                "profile matches no client: add `match:` or `hosts:`",
            );
        }
        let mut out: Vec<Entry> = self.match_entry(w, profile).into_iter().collect();
        let mut hosts6: Vec<Host6> = out.iter().filter_map(host6_of_match).collect();
        for (i, host) in w.hosts.iter().enumerate() {
            let (entry, host6) = self.host_entry(host, i, profile);
            out.extend(entry);
            hosts6.extend(host6);
        }
        (out, hosts6)
    }

    /// The entry of the `match:` block, with the top-level address and host name.
    fn match_entry(&mut self, w: &WireProfile, profile: usize) -> Option<Entry> {
        let Some(m) = &w.matches else {
            if w.address.is_some() || w.address6.is_some() || w.hostname.is_some() {
                self.err(
                    &[Seg::Key("address")],
                    "`address`, `address6` and `hostname` at the top need `match: mac:`; put them in `hosts:`",
                );
            }
            return None;
        };
        let address = w
            .address
            .as_deref()
            .and_then(|a| self.ipv4(&[Seg::Key("address")], a));
        let address6 = w
            .address6
            .as_deref()
            .and_then(|a| self.ipv6(&[Seg::Key("address6")], a));
        let criteria = self.criteria(m)?;
        let exact = matches!(criteria.mac, MacCrit::Exact(_));
        for (key, given) in [
            ("address", w.address.is_some()),
            ("address6", w.address6.is_some()),
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
            address6: address6.filter(|_| exact),
            hostname: w.hostname.clone(),
            vars: BTreeMap::new(),
            loc: self.loc(&[Seg::Key("match")]),
        })
    }

    /// Host `i`: an entry for its exact MAC (with its own address, name
    /// and vars), and the machine as DHCPv6 knows it when it has a `duid`
    /// or an `address6`. A host may give `duid` without `mac`; it is then
    /// known to DHCPv6 only.
    fn host_entry(
        &mut self,
        host: &WireHost,
        i: usize,
        profile: usize,
    ) -> (Option<Entry>, Option<Host6>) {
        let at = |k| [Seg::Key("hosts"), Seg::Idx(i), Seg::Key(k)];
        let address = host
            .address
            .as_deref()
            .and_then(|a| self.ipv4(&at("address"), a));
        let address6 = host
            .address6
            .as_deref()
            .and_then(|a| self.ipv6(&at("address6"), a));
        let duid = host.duid.as_deref().and_then(|d| self.duid(&at("duid"), d));
        let vars = self.vars(&host.vars, &at("vars"));
        let mac = match &host.mac {
            Some(text) => self.mac(&at("mac"), text),
            None => {
                self.without_mac(host, i);
                None
            }
        };
        let loc = self.loc(&at(if host.mac.is_some() { "mac" } else { "duid" }));
        let host6 = (duid.is_some() || address6.is_some()).then(|| Host6 {
            profile,
            duid,
            mac,
            address6,
            hostname: host.hostname.clone(),
            loc: loc.clone(),
        });
        let entry = mac.map(|mac| Entry {
            profile,
            criteria: Criteria {
                mac: MacCrit::Exact(mac),
                arch: None,
                vendor: None,
            },
            address,
            address6,
            hostname: host.hostname.clone(),
            vars,
            loc,
        });
        (entry, host6)
    }

    /// What a host without `mac` may not give: it needs a `duid`, and its
    /// IPv4 address and vars need a MAC (DHCPv4 and TFTP know it by that).
    fn without_mac(&mut self, host: &WireHost, i: usize) {
        let at = |k| [Seg::Key("hosts"), Seg::Idx(i), Seg::Key(k)];
        if host.duid.is_none() {
            self.err(
                &[Seg::Key("hosts"), Seg::Idx(i)],
                "a host needs `mac` (its MAC address) or `duid` (its DHCPv6 DUID), or both",
            );
        }
        if host.address.is_some() {
            self.err(
                &at("address"),
                "`address` (IPv4) needs the host's `mac`: DHCPv4 knows a machine by its MAC; \
                 add `mac`, or give only `address6`",
            );
        }
        if !host.vars.is_empty() {
            self.err(
                &at("vars"),
                "`vars` needs the host's `mac`: its files are served by the MAC of its lease",
            );
        }
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

/// The exact-MAC `match:` entry with an `address6`, as DHCPv6 knows it.
fn host6_of_match(e: &Entry) -> Option<Host6> {
    let MacCrit::Exact(mac) = e.criteria.mac else {
        return None;
    };
    e.address6.map(|a| Host6 {
        profile: e.profile,
        duid: None,
        mac: Some(mac),
        address6: Some(a),
        hostname: e.hostname.clone(),
        loc: e.loc.clone(),
    })
}
