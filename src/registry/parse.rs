//! From a profile file's text to its wire profiles: one profile (a mapping) or
//! a list of them, deserialised by serde_norway. Shape errors (syntax, wrong
//! type, unknown key) become diagnostics with serde's line and column; in a
//! list, each profile is deserialised on its own so that every broken profile
//! is reported, not only the first.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::diag::{Diagnostic, Pos};
use super::locate::{Shape, SourceMap};
use super::wire::WireProfile;

/// A profile as written, with its index when the file holds a list.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The profile.
    pub wire: WireProfile,
    /// Its index in the file's top-level list; `None` when the file is one profile.
    pub index: Option<usize>,
}

/// Deserialises every profile of one file, adding a diagnostic per problem.
pub fn parse_file(
    path: &Path,
    text: &str,
    map: &SourceMap<'_>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Parsed> {
    match map.shape() {
        Shape::Empty => Vec::new(),
        Shape::Single => parse_single(path, text, diags),
        Shape::List(n) => parse_list(path, text, map, n, diags),
        Shape::Unknown => parse_unknown(path, text, diags),
    }
}

/// Largest profile file accepted.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Deepest `[`/`{` nesting accepted. The YAML parser under serde_norway takes
/// time quadratic in nesting depth, so absurd nesting is refused up front.
pub const MAX_FLOW_DEPTH: usize = 64;

/// Why a text is refused before parsing, if it is. Counts brackets without
/// regard to quoting: a real profile is nowhere near either limit.
pub fn too_big(text: &str) -> Option<String> {
    if text.len() > MAX_FILE_BYTES {
        return Some(format!(
            "file is {} bytes, more than the {MAX_FILE_BYTES} a profile file may have",
            text.len()
        ));
    }
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (max > MAX_FLOW_DEPTH).then(|| format!("nesting deeper than {MAX_FLOW_DEPTH} levels"))
}

fn parse_single(path: &Path, text: &str, diags: &mut Vec<Diagnostic>) -> Vec<Parsed> {
    match from_str::<WireProfile>(path, text) {
        Ok(wire) => vec![Parsed { wire, index: None }],
        Err(d) => {
            diags.push(d);
            Vec::new()
        }
    }
}

fn parse_list(
    path: &Path,
    text: &str,
    map: &SourceMap<'_>,
    n: usize,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Parsed> {
    let whole_err = match from_str::<Vec<WireProfile>>(path, text) {
        Ok(list) => return indexed(list),
        Err(d) => d,
    };
    let mut out = Vec::new();
    let mut item_diags = Vec::new();
    for index in 0..n {
        let Some(item) = map.item_text(index) else {
            diags.push(whole_err);
            return Vec::new();
        };
        match from_str::<WireProfile>(path, &item) {
            Ok(wire) => out.push(Parsed {
                wire,
                index: Some(index),
            }),
            Err(d) => item_diags.push(d),
        }
    }
    if item_diags.is_empty() {
        // Cut apart, every profile parses (aliases across items?): trust the whole.
        diags.push(whole_err);
        return Vec::new();
    }
    diags.extend(item_diags);
    out
}

fn parse_unknown(path: &Path, text: &str, diags: &mut Vec<Diagnostic>) -> Vec<Parsed> {
    match from_str::<serde_norway::Value>(path, text) {
        Err(d) => diags.push(d),
        Ok(serde_norway::Value::Mapping(_)) => return parse_single(path, text, diags),
        Ok(serde_norway::Value::Sequence(_)) => match from_str::<Vec<WireProfile>>(path, text) {
            Ok(list) => return indexed(list),
            Err(d) => diags.push(d),
        },
        Ok(serde_norway::Value::Null) => {}
        Ok(_) => diags.push(Diagnostic::new(
            path,
            Pos::new(1, 1),
            "a profile file holds one profile (a mapping with `name:`) or a list of them",
        )),
    }
    Vec::new()
}

fn indexed(list: Vec<WireProfile>) -> Vec<Parsed> {
    list.into_iter()
        .enumerate()
        .map(|(i, wire)| Parsed {
            wire,
            index: Some(i),
        })
        .collect()
}

fn from_str<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, Diagnostic> {
    serde_norway::from_str(text).map_err(|e| serde_diag(path, &e))
}

/// A serde_norway error as a diagnostic, its position taken out of the message.
pub fn serde_diag(path: &Path, err: &serde_norway::Error) -> Diagnostic {
    let mut message = err.to_string();
    let pos = match err.location() {
        Some(loc) => {
            if let Some(at) = message.rfind(" at line ") {
                message.truncate(at);
            }
            Pos::new(loc.line(), loc.column())
        }
        None => Pos::new(1, 0),
    };
    Diagnostic::new(path, pos, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Parsed>, Vec<String>) {
        let map = SourceMap::new(text);
        let mut diags = Vec::new();
        let out = parse_file(Path::new("p.yaml"), text, &map, &mut diags);
        (out, diags.iter().map(|d| d.to_string()).collect())
    }

    #[test]
    fn one_profile_or_a_list() {
        let (one, d) = parse("name: a\nmatch: {default: true}\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].index, None);
        let (many, d) = parse("- name: a\n- name: b\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(many[1].wire.name, "b");
        assert_eq!(many[1].index, Some(1));
        assert!(parse("").0.is_empty());
    }

    #[test]
    fn macs_keep_leading_zeros() {
        let (one, d) = parse("name: a\nmatch:\n  mac: 001122334455\n");
        assert!(d.is_empty(), "{d:?}");
        let m = one[0].wire.matches.as_ref().unwrap();
        assert_eq!(m.mac.as_deref(), Some("001122334455"));
        let (one, _) = parse("name: a\nmatch:\n  mac: 52:54:00:12:34:56\n");
        let m = one[0].wire.matches.as_ref().unwrap();
        assert_eq!(m.mac.as_deref(), Some("52:54:00:12:34:56"));
    }

    #[test]
    fn options_are_typed_maps() {
        let text = "name: a\noptions:\n  6: {ipv4: [10.0.0.1, 10.0.0.2]}\n  15: {string: lab}\n  43:\n    hex: '0601'\n";
        let (one, d) = parse(text);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(one[0].wire.options.len(), 3);
    }

    #[test]
    fn every_broken_profile_in_a_list_is_reported() {
        let text = "- name: a\n  colour: red\n- name: b\n- name: c\n  boot:\n    bois: x\n";
        let (ok, d) = parse(text);
        assert_eq!(ok.len(), 1, "{d:?}");
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(
            d[0].starts_with("p.yaml:2:3: unknown field `colour`"),
            "{d:?}"
        );
        assert!(
            d[1].starts_with("p.yaml:6:5: boot: unknown field `bois`"),
            "{d:?}"
        );
    }

    #[test]
    fn syntax_and_shape_errors_have_positions() {
        let (_, d) = parse("name: a\nboot: [\n");
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with("p.yaml:3:"), "{d:?}");
        let (_, d) = parse("just a string\n");
        assert!(
            d[0].starts_with("p.yaml:1:1: a profile file holds"),
            "{d:?}"
        );
        let (_, d) = parse("name: a\noptions:\n  300: {u8: 1}\n");
        assert!(d[0].starts_with("p.yaml:3:"), "{d:?}");
    }
}
