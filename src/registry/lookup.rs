//! The immutable registry and its questions: which profile a DHCP client gets
//! (by precedence: exact MAC, then longest MAC prefix, then vendor class, then
//! architecture, then default), which virtual file a TFTP client gets, how its
//! paths are rewritten, and the reservations the address pool must respect.

use crate::catalogue::menu::Prefs;
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::boot::{ClientId, ClientProfile, ProfileLookup};
use crate::dhcp6::{Holder6, Reservation6};
use crate::mac::MacAddr;

use super::matcher::Asked;
use super::model::{Entry, FileRule, Host6, Loc, MacCrit, Profile};
use super::template::{ClientFacts, Context, RenderError, Templates};

/// Every profile, ready to answer; built by [`super::check`] and never changed.
#[derive(Debug, Default)]
pub struct Registry {
    profiles: Vec<Profile>,
    entries: Vec<Entry>,
    /// Exact-MAC entries by MAC.
    exact: HashMap<MacAddr, usize>,
    /// Every other entry, highest precedence first (load order among equals,
    /// which validation makes irrelevant: equals never overlap).
    ranked: Vec<usize>,
    templates: Templates,
    /// Machines as DHCPv6 knows them (by DUID, or with an `address6`).
    hosts6: Vec<Host6>,
}

impl Registry {
    /// Assembles a registry from validated parts.
    pub(crate) fn new(profiles: Vec<Profile>, entries: Vec<Entry>, templates: Templates) -> Self {
        let mut exact = HashMap::new();
        let mut ranked = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match e.criteria.mac {
                MacCrit::Exact(mac) if e.criteria.arch.is_none() && e.criteria.vendor.is_none() => {
                    exact.insert(mac, i);
                }
                _ => ranked.push(i),
            }
        }
        ranked.sort_by_key(|i| std::cmp::Reverse(entries[*i].criteria.rank()));
        Self {
            profiles,
            entries,
            exact,
            ranked,
            templates,
            hosts6: Vec::new(),
        }
    }

    /// The registry with its machines as DHCPv6 knows them.
    pub(crate) fn with_hosts6(mut self, hosts6: Vec<Host6>) -> Self {
        self.hosts6 = hosts6;
        self
    }

    /// Every fixed IPv6 address with its profile's name and the place it
    /// is written (checked against the served pools and `netboot.yaml`).
    pub fn fixed_addresses6(&self) -> Vec<(Ipv6Addr, &str, &Loc)> {
        self.named(self.hosts6.iter().map(|h| (h.profile, h.address6, &h.loc)))
    }

    /// Each `(profile, address, place)` that has an address, with the
    /// profile's name.
    fn named<'a, A>(
        &'a self,
        found: impl Iterator<Item = (usize, Option<A>, &'a Loc)>,
    ) -> Vec<(A, &'a str, &'a Loc)> {
        found
            .filter_map(|(profile, address, loc)| {
                let name = self.profiles.get(profile).map_or("", |p| p.name.as_str());
                address.map(|a| (a, name, loc))
            })
            .collect()
    }

    /// The machine a profile names by this DUID.
    pub(super) fn host6_by_duid(&self, duid: &[u8]) -> Option<&Host6> {
        self.hosts6.iter().find(|h| h.duid.as_deref() == Some(duid))
    }

    /// Number of profiles.
    pub fn profile_count(&self) -> usize {
        self.profiles.len()
    }

    /// Every fixed address with its profile's name and the place it is
    /// written, for checks that need more than the registry knows (the
    /// server's own addresses, the subnets served).
    pub fn fixed_addresses(&self) -> Vec<(Ipv4Addr, &str, &Loc)> {
        self.named(self.entries.iter().map(|e| (e.profile, e.address, &e.loc)))
    }

    /// Profile names in load order.
    pub fn profile_names(&self) -> Vec<&str> {
        self.profiles.iter().map(|p| p.name.as_str()).collect()
    }

    /// The entry a DHCP client matches: the first, in precedence order,
    /// whose every condition holds (`Criteria::misses`, the matcher
    /// `explain` reports from).
    fn best(&self, client: &ClientId) -> Option<&Entry> {
        let asked = Asked::dhcp(client);
        self.in_order(client.mac)
            .find(|e| e.criteria.holds_for(&asked))
    }

    /// The entries that can match `mac`, highest precedence first: its
    /// exact entry, then every other but the exact entries of other MACs.
    pub(super) fn in_order(&self, mac: MacAddr) -> impl Iterator<Item = &Entry> + '_ {
        let exact = self.exact.get(&mac).copied();
        exact
            .into_iter()
            .chain(self.ranked.iter().copied())
            .filter_map(|i| self.entries.get(i))
    }

    /// The exact entries of MACs other than `mac` (never a match for it).
    pub(super) fn other_exact(&self, mac: MacAddr) -> impl Iterator<Item = &Entry> + '_ {
        let mut other: Vec<usize> = self
            .exact
            .iter()
            .filter(|(m, _)| **m != mac)
            .map(|(_, i)| *i)
            .collect();
        other.sort_unstable();
        other.into_iter().filter_map(|i| self.entries.get(i))
    }

    /// The profile an entry belongs to.
    pub(super) fn profile_of(&self, entry: &Entry) -> Option<&Profile> {
        self.profiles.get(entry.profile)
    }

    /// Entries whose MAC condition holds for `mac`, in precedence order.
    fn candidates(&self, mac: MacAddr) -> impl Iterator<Item = &Entry> + '_ {
        self.in_order(mac)
            .filter(move |e| e.criteria.mac_matches(&mac))
    }

    /// Candidates for a TFTP client, of which only the MAC (and perhaps the
    /// architecture and vendor class) is known: conditions on unknown facts
    /// are taken as met.
    fn tftp_candidates<'a>(
        &'a self,
        facts: &'a ClientFacts,
    ) -> impl Iterator<Item = &'a Entry> + 'a {
        let asked = Asked {
            mac: facts.mac,
            arch: facts.arch,
            vendor: facts.vendor_class.as_deref(),
            unknown_is_met: true,
        };
        self.in_order(facts.mac)
            .filter(move |e| e.criteria.holds_for(&asked))
    }

    /// The content of virtual file `path` for this client, when a profile that
    /// can apply to it defines that file (the one of highest precedence wins).
    pub fn virtual_file(
        &self,
        client: &ClientFacts,
        path: &str,
    ) -> Option<Result<Vec<u8>, RenderError>> {
        let wanted = path.trim_start_matches('/');
        for entry in self.tftp_candidates(client) {
            let profile = self.profiles.get(entry.profile)?;
            let ctx = context(client, profile, entry).to_value();
            for rule in &profile.files {
                let hit = match &rule.literal {
                    Some(lit) => lit == wanted,
                    None => self
                        .templates
                        .render(&rule.path_template, &ctx)
                        .is_ok_and(|p| p.trim_start_matches('/') == wanted),
                };
                if hit {
                    let body = self.templates.render(&rule.body_template, &ctx);
                    return Some(body.map(|text| wrap(rule, client, wanted, text)).map_err(
                        |(_, detail)| RenderError {
                            profile: profile.name.clone(),
                            file: rule.pattern.clone(),
                            detail,
                        },
                    ));
                }
            }
        }
        None
    }

    /// The virtual files `client` can fetch, each with the profile that
    /// renders it (the one of highest precedence when two name it).
    pub fn file_names(&self, client: &ClientFacts) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for entry in self.tftp_candidates(client) {
            let Some(profile) = self.profiles.get(entry.profile) else {
                continue;
            };
            let ctx = context(client, profile, entry).to_value();
            for rule in &profile.files {
                let name = match &rule.literal {
                    Some(lit) => lit.clone(),
                    None => match self.templates.render(&rule.path_template, &ctx) {
                        Ok(p) => p.trim_start_matches('/').to_string(),
                        Err(_) => continue,
                    },
                };
                if !out.iter().any(|(n, _)| *n == name) {
                    out.push((name, profile.name.clone()));
                }
            }
        }
        out
    }

    /// `path` rewritten by the first rule of the best profile that can apply
    /// to `mac` and has a matching rule; `None` when no rule applies.
    pub fn rewrite_path(&self, mac: &MacAddr, path: &str) -> Option<String> {
        let wanted = path.trim_start_matches('/');
        self.candidates(*mac)
            .filter_map(|e| self.profiles.get(e.profile))
            .find_map(|p| p.rewrites.iter().find_map(|r| r.apply(wanted)))
    }

    /// The upload directory of the best profile for `mac` that has one
    /// (only profiles that match by MAC: the TFTP side knows no more of a
    /// client than the MAC its lease gives).
    pub fn upload_dir(&self, mac: &MacAddr) -> Option<&str> {
        self.upload_dir_of(mac).map(|(_, dir)| dir)
    }

    /// [`Self::upload_dir`] with the name of the profile that gives it.
    pub fn upload_dir_of(&self, mac: &MacAddr) -> Option<(&str, &str)> {
        self.candidates(*mac)
            .filter_map(|e| self.profiles.get(e.profile))
            .find_map(|p| Some((p.name.as_str(), p.upload_dir.as_deref()?)))
    }

    /// The `menu:` of the best profile for `mac` that has one.
    pub fn menu_prefs(&self, mac: &MacAddr) -> Option<&Prefs> {
        self.candidates(*mac)
            .filter_map(|e| self.profiles.get(e.profile))
            .find_map(|p| p.menu.as_ref())
    }

    /// `keep_versions` of the profile whose `upload_dir` [`Self::upload_dir`]
    /// returns for `mac`, if it sets one.
    pub fn upload_keep_versions(&self, mac: &MacAddr) -> Option<usize> {
        self.candidates(*mac)
            .filter_map(|e| self.profiles.get(e.profile))
            .find(|p| p.upload_dir.is_some())
            .and_then(|p| p.keep_versions)
    }
}

/// The template context for one client under one entry.
pub(crate) fn context<'a>(
    facts: &'a ClientFacts,
    profile: &'a Profile,
    entry: &'a Entry,
) -> Context<'a> {
    Context {
        facts,
        profile: &profile.name,
        hostname: entry.hostname.as_deref(),
        address: entry.address,
        vars: [&profile.vars, &entry.vars],
    }
}

impl ProfileLookup for Registry {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        let Some(entry) = self.best(client) else {
            tracing::debug!(mac = %client.mac, arch = ?client.arch, vendor_class = ?client.vendor_class, "no profile matches");
            return None;
        };
        let profile = self.profiles.get(entry.profile)?;
        tracing::debug!(mac = %client.mac, profile = %profile.name, by = %entry.criteria.reason(), "profile matched");
        Some(ClientProfile {
            known: entry.criteria.rank().tier >= 2,
            fixed_address: entry.address,
            fixed_address6: entry.address6,
            hostname: entry.hostname.clone(),
            ..given(profile)
        })
    }

    fn lookup_duid(&self, duid: &[u8], _client: &ClientId) -> Option<ClientProfile> {
        let host = self.host6_by_duid(duid)?;
        let profile = self.profiles.get(host.profile)?;
        tracing::debug!(duid = %crate::dhcp6::duid::hex(duid), profile = %profile.name, "profile matched by DUID");
        let fixed_address = host
            .mac
            .and_then(|m| self.exact.get(&m))
            .and_then(|i| self.entries.get(*i))
            .and_then(|e| e.address);
        Some(ClientProfile {
            known: true,
            fixed_address,
            fixed_address6: host.address6,
            hostname: host.hostname.clone(),
            ..given(profile)
        })
    }

    fn reservations6(&self) -> Vec<Reservation6> {
        let mut out = Vec::new();
        for h in &self.hosts6 {
            let Some(addr) = h.address6 else { continue };
            if let Some(d) = &h.duid {
                out.push(Reservation6 {
                    holder: Holder6::Duid(d.clone()),
                    addr,
                });
            }
            if let Some(m) = h.mac {
                out.push(Reservation6 {
                    holder: Holder6::Mac(m),
                    addr,
                });
            }
        }
        out
    }

    fn explain(&self, client: &ClientId) -> Option<String> {
        Some(super::explain::explain(self, client).to_string())
    }

    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        self.entries
            .iter()
            .filter_map(|e| match (&e.criteria.mac, e.address) {
                (MacCrit::Exact(mac), Some(ip)) => Some((*mac, ip)),
                _ => None,
            })
            .collect()
    }
}

/// What every client of `profile` gets, whoever it is.
fn given(profile: &Profile) -> ClientProfile {
    ClientProfile {
        name: profile.name.clone(),
        boot: profile.boot.clone(),
        next_server: profile.next_server,
        tftp_servers: profile.tftp_servers.clone(),
        extra_options: profile.extra_options.clone(),
        boot_params6: profile.boot_params6.clone(),
        ..ClientProfile::default()
    }
}

/// A rendered file's bytes: a U-Boot script image when the rule says so.
fn wrap(rule: &FileRule, client: &ClientFacts, path: &str, text: String) -> Vec<u8> {
    if !rule.uboot_script {
        return text.into_bytes();
    }
    let family = client
        .arch
        .and_then(crate::arch::lookup)
        .and_then(|a| a.family);
    let name = path.rsplit('/').next().unwrap_or(path);
    crate::uimage::script_image(name, text.as_bytes(), crate::uimage::ImageArch::of(family))
}
