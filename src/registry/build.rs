//! Turning wire profiles into the validated model: every value checked, every
//! problem reported with its file, line and column. Pure: files arrive as
//! text, and the two questions that need the disk (a template's text, whether a
//! boot file exists) go through [`Sources`].

use crate::catalogue::menu::{Choice, Prefs, DEFAULT_TIMEOUT_S};
use std::collections::{BTreeMap, HashSet};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use crate::boot::BootFiles;

use super::diag::{Diagnostic, Pos};
use super::locate::{Seg, SourceMap};
use super::model::{Entry, Host6, Loc, Profile, Rewrite};
use super::options;
use super::parse::{parse_file, too_big, Parsed};
use super::template::{Templates, BUILTIN_VARS};
use super::wire::{WireMenu, WireProfile};

/// What building needs from the outside world.
pub trait Sources {
    /// A template file named relative to the profiles directory: the path to
    /// show in diagnostics and its text, or why it cannot be read.
    fn read_template(&self, rel: &str) -> Result<(PathBuf, String), String>;
    /// Whether `rel` is a file under the boot root.
    fn boot_file_exists(&self, rel: &str) -> bool;
    /// Whether `rel` is a directory under the boot root.
    fn boot_dir_exists(&self, rel: &str) -> bool;
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
    /// Upload directories that must exist under the boot root, and where.
    pub upload_dirs: Vec<(String, Loc)>,
    /// Paths served by `files:` without template syntax.
    pub literal_files: HashSet<String>,
    /// Where each profile's name was written.
    pub name_locs: Vec<Loc>,
    /// Machines as DHCPv6 knows them (by DUID or with an `address6`).
    pub hosts6: Vec<Host6>,
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
        upload_dirs: Vec::new(),
        literal_files: HashSet::new(),
        name_locs: Vec::new(),
        hosts6: Vec::new(),
    };
    for file in files {
        if let Some(problem) = too_big(&file.text) {
            diags.push(Diagnostic::new(&file.path, Pos::new(1, 0), problem));
            continue;
        }
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
pub(super) struct Cx<'a> {
    pub(super) file: &'a Path,
    pub(super) map: &'a SourceMap<'a>,
    pub(super) index: Option<usize>,
    pub(super) sources: &'a dyn Sources,
    pub(super) diags: &'a mut Vec<Diagnostic>,
}

impl Cx<'_> {
    pub(super) fn path<'p>(&self, rel: &[Seg<'p>]) -> Vec<Seg<'p>> {
        let mut out: Vec<Seg<'p>> = self.index.map(Seg::Idx).into_iter().collect();
        out.extend_from_slice(rel);
        out
    }

    pub(super) fn loc(&self, rel: &[Seg<'_>]) -> Loc {
        let pos = self.map.value_pos(&self.path(rel));
        Loc {
            file: self.file.to_path_buf(),
            pos,
        }
    }

    pub(super) fn key_loc(&self, rel: &[Seg<'_>]) -> Loc {
        Loc {
            file: self.file.to_path_buf(),
            pos: self.map.key_pos(&self.path(rel)),
        }
    }

    pub(super) fn err(&mut self, rel: &[Seg<'_>], message: impl Into<String>) {
        let d = self.loc(rel).diag(message);
        self.diags.push(d);
    }

    fn profile(&mut self, parsed: &Parsed, built: &mut Built) {
        let w = &parsed.wire;
        let index = built.profiles.len();
        if w.name.trim().is_empty() {
            self.err(&[Seg::Key("name")], "profile name is empty");
        }
        let (entries, hosts6) = self.entries(w, index);
        let boot = self.boot(w.boot.as_ref().unwrap_or(&BootFiles::default()), built);
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
            keep_versions: self.keep_versions(w),
            menu: w.menu.as_ref().and_then(|m| self.menu(m)),
            boot_params6: self.boot_params6(w),
        };
        if let Some(dir) = &profile.upload_dir {
            let at = self.loc(&[Seg::Key("upload_dir")]);
            built.upload_dirs.push((dir.clone(), at));
        }
        built.name_locs.push(self.loc(&[Seg::Key("name")]));
        built.profiles.push(profile);
        built.entries.extend(entries);
        built.hosts6.extend(hosts6);
        built.file_locs.push(locs);
    }

    pub(super) fn ipv4(&mut self, at: &[Seg<'_>], text: &str) -> Option<Ipv4Addr> {
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

    fn boot(&mut self, b: &BootFiles, built: &mut Built) -> BootFiles {
        let mut files = BootFiles::default();
        for (key, value) in b.entries() {
            let Some(v) = value.as_deref() else { continue };
            let built_value = self.boot_file(key, v, built);
            if let Some(slot) = files.slot(key) {
                *slot = built_value;
            }
        }
        files
    }

    /// One `boot:` value: a URL kept as written (`http` and `http_<arch>`
    /// keys must be http:// or https:// URLs), else a file inside the root.
    fn boot_file(&mut self, key: &'static str, v: &str, built: &mut Built) -> Option<String> {
        let at = [Seg::Key("boot"), Seg::Key(key)];
        let lower = v.trim().to_ascii_lowercase();
        let http = lower.starts_with("http://") || lower.starts_with("https://");
        let http_key = key == "http" || key.starts_with("http_");
        if http || (!http_key && lower.starts_with("tftp://")) {
            return Some(v.trim().to_string());
        }
        if http_key {
            self.err(
                &at,
                format!("`{key}` must be an http:// or https:// URL, not {v:?}"),
            );
            return None;
        }
        let path = self.safe_path(&at, v, "boot file")?;
        built.boot_files.push((path.clone(), self.loc(&at)));
        Some(path)
    }

    /// A relative path that stays inside its root, without a leading `/`.
    /// `keep_versions` is the history of the profile's `upload_dir`.
    fn keep_versions(&mut self, w: &WireProfile) -> Option<usize> {
        if w.keep_versions.is_some() && w.upload_dir.is_none() {
            self.err(
                &[Seg::Key("keep_versions")],
                "keep_versions needs an upload_dir in the same profile (it keeps the history of \
                 that directory); add upload_dir, or set tftp.keep_versions in netboot.yaml",
            );
        }
        w.keep_versions
    }

    /// `menu:`: an entry, or a menu with a default and a timeout.
    fn menu(&mut self, m: &WireMenu) -> Option<Prefs> {
        let choice = self.menu_choice(m)?;
        let args = m
            .args
            .as_ref()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty());
        Some(Prefs { choice, args })
    }

    fn menu_choice(&mut self, m: &WireMenu) -> Option<Choice> {
        let at = [Seg::Key("menu")];
        match (&m.entry, &m.default, m.timeout) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                self.err(
                    &at,
                    "menu: give either `entry` (boot it at once, no menu) or `default`/`timeout` \
                     (the menu), not both",
                );
                None
            }
            (Some(entry), None, None) => Some(Choice::Entry(entry.trim().to_string())),
            (None, default, timeout) => Some(Choice::Menu {
                default: default.as_ref().map(|d| d.trim().to_string()),
                timeout_s: timeout.unwrap_or(DEFAULT_TIMEOUT_S),
            }),
        }
    }

    pub(super) fn safe_path(&mut self, at: &[Seg<'_>], text: &str, what: &str) -> Option<String> {
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

    pub(super) fn vars(
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
}
