//! Checks across profiles, run after every profile converted on its own:
//! unique names, one profile per exact MAC, one MAC per fixed address (IPv4
//! and IPv6), one host per DUID, no two
//! profiles claiming the same clients at the same precedence, boot files that
//! exist, and templates that render for a stand-in client.

use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::dhcp6::duid;

use crate::mac::MacAddr;

use super::build::{convert_all, Built, SourceFile, Sources};
use super::build_files::template_diag;
use super::diag::Diagnostic;
use super::lookup::{context, Registry};
use super::model::{Entry, Host6, Loc, MacCrit};
use super::template::ClientFacts;

/// Builds a registry from profile files, or returns every problem found.
pub fn build_registry(
    files: &[SourceFile],
    sources: &dyn Sources,
) -> Result<Registry, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let built = convert_all(files, sources, &mut diags);
    unique_names(&built, &mut diags);
    exact_macs_and_addresses(&built, &mut diags);
    addresses6_and_duids(&built, &mut diags);
    no_ambiguity(&built, &mut diags);
    boot_files_exist(&built, sources, &mut diags);
    upload_dirs_exist(&built, sources, &mut diags);
    templates_render(&built, &mut diags);
    if diags.is_empty() {
        Ok(Registry::new(built.profiles, built.entries, built.templates).with_hosts6(built.hosts6))
    } else {
        diags.sort_by(|a, b| (&a.file, a.pos).cmp(&(&b.file, b.pos)));
        diags.dedup();
        Err(diags)
    }
}

fn unique_names(built: &Built, diags: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, &Loc> = HashMap::new();
    for (p, loc) in built.profiles.iter().zip(&built.name_locs) {
        if let Some(first) = seen.get(p.name.as_str()) {
            diags.push(loc.diag(format!(
                "profile name `{}` is already used at {first}",
                p.name
            )));
        } else {
            seen.insert(&p.name, loc);
        }
    }
}

fn exact_macs_and_addresses(built: &Built, diags: &mut Vec<Diagnostic>) {
    let mut macs: HashMap<MacAddr, &Entry> = HashMap::new();
    let mut addrs: HashMap<Ipv4Addr, (MacAddr, &Entry)> = HashMap::new();
    for e in &built.entries {
        let MacCrit::Exact(mac) = e.criteria.mac else {
            continue;
        };
        if let Some(first) = macs.get(&mac) {
            let name = profile_name(built, first);
            diags.push(e.loc.diag(format!(
                "duplicate MAC {mac}: already matched exactly by profile `{name}` at {}",
                first.loc
            )));
            continue;
        }
        macs.insert(mac, e);
        let Some(ip) = e.address else { continue };
        if let Some((other, first)) = addrs.get(&ip) {
            diags.push(e.loc.diag(format!(
                "address {ip} for {mac} is already reserved for {other} at {}",
                first.loc
            )));
        } else {
            addrs.insert(ip, (mac, e));
        }
    }
}

/// No IPv6 address reserved for two machines, no DUID named twice.
fn addresses6_and_duids(built: &Built, diags: &mut Vec<Diagnostic>) {
    let mut addrs: HashMap<Ipv6Addr, &Host6> = HashMap::new();
    let mut duids: HashMap<&[u8], &Host6> = HashMap::new();
    for h in &built.hosts6 {
        if let Some(d) = h.duid.as_deref() {
            if let Some(first) = duids.get(d) {
                diags.push(h.loc.diag(format!(
                    "duplicate DUID {}: already given to a host of profile `{}` at {}",
                    duid::hex(d),
                    profile_name_of(built, first.profile),
                    first.loc
                )));
                continue;
            }
            duids.insert(d, h);
        }
        let Some(ip) = h.address6 else { continue };
        if let Some(first) = addrs.get(&ip) {
            diags.push(h.loc.diag(format!(
                "address6 {ip} is already reserved for {} at {}; give each machine its own",
                first.who(),
                first.loc
            )));
        } else {
            addrs.insert(ip, h);
        }
    }
}

fn no_ambiguity(built: &Built, diags: &mut Vec<Diagnostic>) {
    let others: Vec<&Entry> = built
        .entries
        .iter()
        .filter(|e| !matches!(e.criteria.mac, MacCrit::Exact(_)))
        .collect();
    for (i, a) in others.iter().enumerate() {
        for b in &others[..i] {
            if a.criteria.rank() == b.criteria.rank() && a.criteria.overlaps(&b.criteria) {
                diags.push(a.loc.diag(format!(
                    "profile `{}` can match the same clients as profile `{}` (at {}) with the same precedence; make one more specific or merge them",
                    profile_name(built, a),
                    profile_name(built, b),
                    b.loc
                )));
            }
        }
    }
}

fn boot_files_exist(built: &Built, sources: &dyn Sources, diags: &mut Vec<Diagnostic>) {
    for (name, loc) in &built.boot_files {
        if !built.literal_files.contains(name) && !sources.boot_file_exists(name) {
            let mut d = loc.diag(format!(
                "boot file `{name}` not found under the boot root (nor given by a `files:` entry)"
            ));
            d.missing_boot_file = Some(name.clone());
            diags.push(d);
        }
    }
}

fn upload_dirs_exist(built: &Built, sources: &dyn Sources, diags: &mut Vec<Diagnostic>) {
    for (dir, loc) in &built.upload_dirs {
        if !sources.boot_dir_exists(dir) {
            diags.push(loc.diag(format!(
                "upload_dir `{dir}` is not a directory in the boot root: create it there, \
                 writable by the user netboot runs as"
            )));
        }
    }
}

/// Renders every file of every entry for a stand-in client, so a misspelt
/// variable is found now rather than when a device asks.
fn templates_render(built: &Built, diags: &mut Vec<Diagnostic>) {
    for entry in &built.entries {
        let (Some(profile), Some(locs)) = (
            built.profiles.get(entry.profile),
            built.file_locs.get(entry.profile),
        ) else {
            continue;
        };
        let facts = stand_in(entry);
        let ctx = context(&facts, profile, entry).to_value();
        for (rule, (path_loc, body_loc)) in profile.files.iter().zip(locs) {
            let path = built.templates.render(&rule.path_template, &ctx);
            if let Err((_, msg)) = path {
                diags.push(path_loc.diag(format!("file pattern does not render: {msg}")));
            }
            if let Err((line, msg)) = built.templates.render(&rule.body_template, &ctx) {
                let d = template_diag(body_loc, line, &format!("template does not render: {msg}"));
                diags.push(d);
            }
        }
    }
}

/// A client the entry would match, with every fact known.
fn stand_in(entry: &Entry) -> ClientFacts {
    let mac = match &entry.criteria.mac {
        MacCrit::Exact(m) => *m,
        MacCrit::Prefix(p) => p.example(),
        MacCrit::Any => MacAddr([0x02, 0, 0, 0, 0, 1]),
    };
    let mut facts = ClientFacts::new(
        mac,
        entry.address.unwrap_or(Ipv4Addr::new(192, 0, 2, 10)),
        Ipv4Addr::new(192, 0, 2, 1),
    );
    facts.hostname = Some(entry.hostname.clone().unwrap_or_else(|| "client".into()));
    facts
}

fn profile_name<'a>(built: &'a Built, e: &Entry) -> &'a str {
    profile_name_of(built, e.profile)
}

fn profile_name_of(built: &Built, index: usize) -> &str {
    built
        .profiles
        .get(index)
        .map(|p| p.name.as_str())
        .unwrap_or("?")
}
