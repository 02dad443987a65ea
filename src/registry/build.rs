//! Turning wire profiles into the validated model: every value checked, every
//! problem reported with its file, line and column. Pure: files arrive as
//! text, and the two questions that need the disk (a template's text, whether a
//! boot file exists) go through [`Sources`].

use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::boot::BootFiles;
use crate::mac::MacAddr;

use super::arch;
use super::diag::Diagnostic;
use super::locate::{Seg, SourceMap};
use super::model::{Criteria, Entry, FileRule, Loc, MacCrit, Profile, Rewrite};
use super::options;
use super::parse::{parse_file, Parsed};
use super::pattern::{Glob, MacPrefix};
use super::template::{Templates, BUILTIN_VARS};
use super::wire::{ArchSpec, WireBoot, WireFile, WireMatch, WireProfile};

/// What building needs from the outside world.
pub trait Sources {
    /// A template file named relative to the profiles directory: the path to
    /// show in diagnostics and its text, or why it cannot be read.
    fn read_template(&self, rel: &str) -> Result<(PathBuf, String), String>;
    /// Whether `rel` is a file under the boot root.
    fn boot_file_exists(&self, rel: &str) -> bool;
}

/// One profile file: the path to show in diagnostics and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path as shown in diagnostics (`profiles/lab.yaml`).
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
}

/// Everything the conversion produced, before the cross-profile checks.
pub struct Built {
    /// Profiles in load order.
    pub profiles: Vec<Profile>,
    /// Entries in load order.
    pub entries: Vec<Entry>,
    /// Compiled templates.
    pub templates: Templates,
    /// Where each file rule was written: (path pattern, body template origin).
    pub file_locs: Vec<Vec<(Loc, Loc)>>,
    /// Boot files to look for under the boot root, with where they were named.
    pub boot_files: Vec<(String, Loc)>,
    /// Paths served by `files:` without template syntax.
    pub literal_files: HashSet<String>,
    /// Where each profile's name was written.
    pub name_locs: Vec<Loc>,
}

/// Converts every profile of every file; problems go to `diags`.
pub fn convert_all(
    files: &[SourceFile],
    sources: &dyn Sources,
    diags: &mut Vec<Diagnostic>,
) -> Built {
    let mut built = Built {
        profiles: Vec::new(),
        entries: Vec::new(),
        templates: Templates::default(),
        file_locs: Vec::new(),
        boot_files: Vec::new(),
        literal_files: HashSet::new(),
        name_locs: Vec::new(),
    };
    for file in files {
        let map = SourceMap::new(&file.text);
        for parsed in parse_file(&file.path, &file.text, &map, diags) {
            let mut cx = Cx {
                file: &file.path,
                map: &map,
                index: parsed.index,
                sources,
                diags,
            };
            cx.profile(&parsed, &mut built);
        }
    }
    built
}

/// The conversion context of one profile.
struct Cx<'a> {
    file: &'a Path,
    map: &'a SourceMap<'a>,
    index: Option<usize>,
    sources: &'a dyn Sources,
    diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    fn path<'p>(&self, rel: &[Seg<'p>]) -> Vec<Seg<'p>> {
        let mut out: Vec<Seg<'p>> = self.index.map(Seg::Idx).into_iter().collect();
        out.extend_from_slice(rel);
        out
    }

    fn loc(&self, rel: &[Seg<'_>]) -> Loc {
        let pos = self.map.value_pos(&self.path(rel));
        Loc {
            file: self.file.to_path_buf(),
            pos,
        }
    }

    fn key_loc(&self, rel: &[Seg<'_>]) -> Loc {
        Loc {
            file: self.file.to_path_buf(),
            pos: self.map.key_pos(&self.path(rel)),
        }
    }

    fn err(&mut self, rel: &[Seg<'_>], message: impl Into<String>) {
        let d = self.loc(rel).diag(message);
        self.diags.push(d);
    }

    fn profile(&mut self, parsed: &Parsed, built: &mut Built) {
        let w = &parsed.wire;
        let index = built.profiles.len();
        if w.name.trim().is_empty() {
            self.err(&[Seg::Key("name")], "profile name is empty");
        }
        let entries = self.entries(w, index);
        let boot = self.boot(w.boot.as_ref().unwrap_or(&WireBoot::default()), built);
        let (files, locs) = self.files(w, built);
        let profile = Profile {
            name: w.name.trim().to_string(),
            loc: self.loc(&[]),
            boot,
            next_server: w
                .next_server
                .as_deref()
                .and_then(|s| self.ipv4(&[Seg::Key("next_server")], s)),
            tftp_servers: self.tftp_servers(&w.tftp_servers),
            extra_options: self.options(w),
            files,
            rewrites: self.rewrites(w),
            vars: self.vars(&w.vars, &[Seg::Key("vars")]),
            upload_dir: w
                .upload_dir
                .as_deref()
                .and_then(|d| self.safe_path(&[Seg::Key("upload_dir")], d, "upload_dir")),
        };
        built.name_locs.push(self.loc(&[Seg::Key("name")]));
        built.profiles.push(profile);
        built.entries.extend(entries);
        built.file_locs.push(locs);
    }

    fn entries(&mut self, w: &WireProfile, profile: usize) -> Vec<Entry> {
        let mut out = Vec::new();
        let hosts = !w.hosts.is_empty();
        if w.matches.is_none() && !hosts {
            self.err(
                &[Seg::Key("name")],
                "profile matches no client: add `match:` or `hosts:`",
            );
        }
        if let Some(m) = &w.matches {
            let address = w
                .address
                .as_deref()
                .and_then(|a| self.ipv4(&[Seg::Key("address")], a));
            if let Some(criteria) = self.criteria(m) {
                let exact = matches!(criteria.mac, MacCrit::Exact(_));
                for (key, given) in [
                    ("address", w.address.is_some()),
                    ("hostname", w.hostname.is_some()),
                ] {
                    if given && !exact {
                        self.err(&[Seg::Key(key)], format!("`{key}` needs `match: mac:` with one exact MAC; give several machines theirs under `hosts:`"));
                    }
                }
                out.push(Entry {
                    profile,
                    criteria,
                    address,
                    hostname: w.hostname.clone(),
                    vars: BTreeMap::new(),
                    loc: self.loc(&[Seg::Key("match")]),
                });
            }
        } else if w.address.is_some() || w.hostname.is_some() {
            self.err(
                &[Seg::Key("address")],
                "`address` and `hostname` at the top need `match: mac:`; put them in `hosts:`",
            );
        }
        for (i, host) in w.hosts.iter().enumerate() {
            let at = |k| [Seg::Key("hosts"), Seg::Idx(i), Seg::Key(k)];
            let Some(mac) = self.mac(&at("mac"), &host.mac) else {
                continue;
            };
            let address = host
                .address
                .as_deref()
                .and_then(|a| self.ipv4(&at("address"), a));
            out.push(Entry {
                profile,
                criteria: Criteria {
                    mac: MacCrit::Exact(mac),
                    arch: None,
                    vendor: None,
                },
                address,
                hostname: host.hostname.clone(),
                vars: self.vars(
                    &host.vars,
                    &[Seg::Key("hosts"), Seg::Idx(i), Seg::Key("vars")],
                ),
                loc: self.loc(&at("mac")),
            });
        }
        out
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

    fn ipv4(&mut self, at: &[Seg<'_>], text: &str) -> Option<Ipv4Addr> {
        match text.trim().parse::<Ipv4Addr>() {
            Ok(ip) if !ip.is_unspecified() && !ip.is_broadcast() => Some(ip),
            _ => {
                self.err(at, format!("bad IPv4 address {text:?}"));
                None
            }
        }
    }

    fn tftp_servers(&mut self, list: &[String]) -> Vec<Ipv4Addr> {
        let mut out = Vec::new();
        for (i, s) in list.iter().enumerate() {
            if s.trim() == "self" {
                out.push(Ipv4Addr::UNSPECIFIED);
            } else if let Some(ip) = self.ipv4(&[Seg::Key("tftp_servers"), Seg::Idx(i)], s) {
                out.push(ip);
            }
        }
        out
    }

    fn options(&mut self, w: &WireProfile) -> Vec<(u8, Vec<u8>)> {
        let mut out = Vec::new();
        for (code, value) in &w.options {
            let key = code.to_string();
            match options::encode(*code, value) {
                Ok(bytes) => out.push((*code, bytes)),
                Err(e) => self.err(&[Seg::Key("options"), Seg::Key(&key)], e),
            }
        }
        out
    }

    fn boot(&mut self, b: &WireBoot, built: &mut Built) -> BootFiles {
        let mut field = |cx: &mut Self, key: &'static str, v: &Option<String>| {
            let v = v.as_deref()?;
            if is_url(v) {
                return Some(v.to_string());
            }
            let at = [Seg::Key("boot"), Seg::Key(key)];
            if key == "http" {
                cx.err(
                    &at,
                    format!("`http` must be an http:// or https:// URL, not {v:?}"),
                );
                return None;
            }
            let path = cx.safe_path(&at, v, "boot file")?;
            built.boot_files.push((path.clone(), cx.loc(&at)));
            Some(path)
        };
        BootFiles {
            bios: field(self, "bios", &b.bios),
            uefi_ia32: field(self, "uefi_ia32", &b.uefi_ia32),
            uefi_x64: field(self, "uefi_x64", &b.uefi_x64),
            uefi_arm64: field(self, "uefi_arm64", &b.uefi_arm64),
            http: field(self, "http", &b.http),
            ipxe: field(self, "ipxe", &b.ipxe),
        }
    }

    /// A relative path that stays inside its root, without a leading `/`.
    fn safe_path(&mut self, at: &[Seg<'_>], text: &str, what: &str) -> Option<String> {
        let trimmed = text.trim().trim_start_matches('/');
        let bad = trimmed.is_empty()
            || trimmed.contains('\0')
            || trimmed.split(['/', '\\']).any(|c| c == "..");
        if bad {
            self.err(
                at,
                format!("{what} {text:?} must be a non-empty path inside its root, without `..`"),
            );
            return None;
        }
        Some(trimmed.to_string())
    }

    fn rewrites(&mut self, w: &WireProfile) -> Vec<Rewrite> {
        let mut out = Vec::new();
        for (i, r) in w.rewrite.iter().enumerate() {
            let at = |k| [Seg::Key("rewrite"), Seg::Idx(i), Seg::Key(k)];
            let from = self.safe_path(&at("from"), &r.from, "rewrite `from`");
            let to = self.safe_path(&at("to"), &r.to, "rewrite `to`");
            if let (Some(from), Some(to)) = (from, to) {
                out.push(Rewrite { from, to });
            }
        }
        out
    }

    fn vars(
        &mut self,
        vars: &BTreeMap<String, serde_norway::Value>,
        at: &[Seg<'_>],
    ) -> BTreeMap<String, minijinja::Value> {
        let mut out = BTreeMap::new();
        for (name, value) in vars {
            let mut path = at.to_vec();
            path.push(Seg::Key(name));
            let ident = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if BUILTIN_VARS.contains(&name.as_str()) {
                let d = Loc {
                    file: self.file.to_path_buf(),
                    pos: self.map.key_pos(&self.path(&path)),
                }
                .diag(format!(
                    "variable `{name}` is built in; choose another name"
                ));
                self.diags.push(d);
            } else if !ident {
                self.err(
                    &path,
                    format!("variable name `{name}` is not an identifier (letters, digits, `_`)"),
                );
            } else {
                out.insert(
                    name.clone(),
                    minijinja::Value::from(minijinja::value::Serde(value)),
                );
            }
        }
        out
    }

    fn files(&mut self, w: &WireProfile, built: &mut Built) -> (Vec<FileRule>, Vec<(Loc, Loc)>) {
        let mut rules = Vec::new();
        let mut locs = Vec::new();
        for (pattern, wf) in &w.files {
            let at = [Seg::Key("files"), Seg::Key(pattern)];
            let key_loc = self.key_loc(&at);
            let Some(clean) = self.safe_path(&at, pattern, "file pattern") else {
                continue;
            };
            let path_template = format!("path:{}:{}", w.name, clean);
            if let Err((_, msg)) = built.templates.add(&path_template, &clean) {
                self.diags
                    .push(key_loc.diag(format!("template error in file pattern: {msg}")));
                continue;
            }
            let Some((body_template, body_loc)) = self.body(w, pattern, wf, built) else {
                continue;
            };
            let literal = (!clean.contains("{{") && !clean.contains("{%")).then(|| clean.clone());
            if let Some(l) = &literal {
                built.literal_files.insert(l.clone());
            }
            rules.push(FileRule {
                pattern: clean,
                literal,
                path_template,
                body_template,
            });
            locs.push((key_loc, body_loc));
        }
        (rules, locs)
    }

    /// Registers the body template; returns its name and where its line 1 is
    /// (line 0 for a template file: lines count from the file's start).
    fn body(
        &mut self,
        w: &WireProfile,
        pattern: &str,
        wf: &WireFile,
        built: &mut Built,
    ) -> Option<(String, Loc)> {
        let at = |k| [Seg::Key("files"), Seg::Key(pattern), Seg::Key(k)];
        let (name, source, loc) = match (&wf.template, &wf.content) {
            (Some(rel), None) => {
                let rel = self.safe_path(&at("template"), rel, "template")?;
                match self.sources.read_template(&rel) {
                    Ok((path, text)) => (
                        format!("file:{rel}"),
                        text,
                        Loc {
                            file: path,
                            pos: Default::default(),
                        },
                    ),
                    Err(e) => {
                        self.err(&at("template"), format!("template {rel:?}: {e}"));
                        return None;
                    }
                }
            }
            (None, Some(text)) => (
                format!("content:{}:{pattern}", w.name),
                text.clone(),
                self.loc(&at("content")),
            ),
            _ => {
                self.err(
                    &[Seg::Key("files"), Seg::Key(pattern)],
                    "give exactly one of `template:` or `content:`",
                );
                return None;
            }
        };
        if let Err((line, msg)) = built.templates.add(&name, &source) {
            self.diags.push(template_diag(
                &loc,
                line,
                &format!("template syntax error: {msg}"),
            ));
            return None;
        }
        Some((name, loc))
    }
}

/// A diagnostic for line `line` of a template whose line 1 is at `base`.
pub fn template_diag(base: &Loc, line: Option<usize>, message: &str) -> Diagnostic {
    let mut pos = base.pos;
    let inner = line.unwrap_or(1).max(1);
    if pos.line == 0 {
        pos = super::diag::Pos::new(inner, 0);
    } else {
        pos.line += inner - 1;
        if inner > 1 {
            pos.col = 0;
        }
    }
    Diagnostic::new(&base.file, pos, message)
}

fn is_url(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("tftp://")
}
