//! Finding where things are in a profile file, for diagnostics.
//!
//! serde_norway reports positions for syntax, type and unknown-key errors, but
//! the meaning of a value (a bad MAC, a duplicate address) is checked after
//! deserialisation, when positions are gone. This module parses the same text a
//! second time with `saphyr`, which keeps a span on every node, and answers
//! "where is `hosts[2].mac`?". It is also used to cut a file holding a list of
//! profiles into one text per profile, so that serde errors in several profiles
//! of one file are all reported.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::diag::Pos;

/// One step of a path into a YAML document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    /// A mapping key (integer keys are matched by their decimal spelling).
    Key(&'a str),
    /// A sequence index.
    Idx(usize),
}

/// How a profile file is laid out at its top level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// No document, or an empty one: no profiles.
    Empty,
    /// One mapping: one profile.
    Single,
    /// A sequence of this many profiles.
    List(usize),
    /// Anything else, or text saphyr could not parse: leave it to serde.
    Unknown,
}

/// A profile file's text and its marked tree.
pub struct SourceMap<'t> {
    text: &'t str,
    root: Option<MarkedYaml<'t>>,
    parsed: bool,
}

impl<'t> SourceMap<'t> {
    /// Parses `text`; a text saphyr cannot parse gives a map that locates nothing.
    pub fn new(text: &'t str) -> Self {
        let docs = MarkedYaml::load_from_str(text).ok();
        let parsed = docs.is_some();
        let root = docs.and_then(|d| d.into_iter().next());
        Self { text, root, parsed }
    }

    /// The top-level layout.
    pub fn shape(&self) -> Shape {
        if self.text.trim().is_empty() {
            return Shape::Empty;
        }
        match self.root.as_ref().map(|r| &r.data) {
            None if self.parsed => Shape::Empty,
            None => Shape::Unknown,
            Some(YamlData::Value(Scalar::Null)) => Shape::Empty,
            Some(YamlData::Mapping(_)) => Shape::Single,
            Some(YamlData::Sequence(items)) => Shape::List(items.len()),
            Some(_) => Shape::Unknown,
        }
    }

    /// The text of list item `index` alone, at its original lines and columns
    /// (everything else blanked), so serde's positions stay true. `None` when
    /// the items cannot be cut apart cleanly (flow style, two on one line).
    pub fn item_text(&self, index: usize) -> Option<String> {
        let YamlData::Sequence(items) = &self.root.as_ref()?.data else {
            return None;
        };
        let start = items.get(index)?.span.start;
        let next_line = items.get(index + 1).map(|n| n.span.start.line());
        if next_line.is_some_and(|l| l <= start.line()) {
            return None;
        }
        let mut out = String::with_capacity(self.text.len());
        for (n, line) in self.text.split('\n').enumerate() {
            let line_no = n + 1;
            if line_no == start.line() {
                let (lead, rest) = split_at_char(line, start.col());
                if !lead.chars().all(|c| c == ' ' || c == '-') {
                    return None;
                }
                out.push_str(&" ".repeat(lead.chars().count()));
                out.push_str(rest);
            } else if line_no > start.line() && next_line.is_none_or(|l| line_no < l) {
                out.push_str(line);
            }
            out.push('\n');
        }
        Some(out)
    }

    /// Where the value at `path` starts; the deepest existing ancestor when the
    /// path does not exist; line 1 when nothing could be parsed.
    pub fn value_pos(&self, path: &[Seg<'_>]) -> Pos {
        self.find(path, false)
    }

    /// Where the key of the last mapping step of `path` starts (for problems with
    /// a key itself, such as a file pattern).
    pub fn key_pos(&self, path: &[Seg<'_>]) -> Pos {
        self.find(path, true)
    }

    fn find(&self, path: &[Seg<'_>], want_key: bool) -> Pos {
        let Some(mut node) = self.root.as_ref() else {
            return Pos::new(1, 0);
        };
        let mut pos = to_pos(node);
        for seg in path {
            let next = match (seg, &node.data) {
                (Seg::Idx(i), YamlData::Sequence(items)) => items.get(*i).map(|n| (n, None)),
                (Seg::Key(k), YamlData::Mapping(map)) => map
                    .iter()
                    .find(|(key, _)| scalar_text(key).as_deref() == Some(*k))
                    .map(|(key, value)| (value, Some(key))),
                _ => None,
            };
            let Some((value, key)) = next else {
                return pos;
            };
            pos = match key {
                Some(k) if want_key => to_pos(k),
                _ => to_pos(value),
            };
            // An empty value (`key:` with nothing after) has no useful span.
            if pos.line == 0 {
                pos = key.map(to_pos).unwrap_or(pos);
            }
            node = value;
        }
        pos
    }
}

fn to_pos(node: &MarkedYaml<'_>) -> Pos {
    let m = node.span.start;
    Pos::new(m.line(), m.col() + 1)
}

fn scalar_text(node: &MarkedYaml<'_>) -> Option<String> {
    match &node.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

fn split_at_char(line: &str, chars: usize) -> (&str, &str) {
    let at = line
        .char_indices()
        .nth(chars)
        .map(|(i, _)| i)
        .unwrap_or(line.len());
    line.split_at(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "\
- name: a
  match:
    mac: 52:54:00:12:34:56
- name: b
  hosts:
    - mac: aa
      address: 10.0.0.1
";

    #[test]
    fn locates_values_and_keys() {
        let map = SourceMap::new(LIST);
        assert_eq!(map.shape(), Shape::List(2));
        let mac = [Seg::Idx(0), Seg::Key("match"), Seg::Key("mac")];
        assert_eq!(map.value_pos(&mac), Pos::new(3, 10));
        assert_eq!(map.key_pos(&mac), Pos::new(3, 5));
        let addr = [
            Seg::Idx(1),
            Seg::Key("hosts"),
            Seg::Idx(0),
            Seg::Key("address"),
        ];
        assert_eq!(map.value_pos(&addr), Pos::new(7, 16));
        // A missing key falls back to its parent.
        let missing = [Seg::Idx(1), Seg::Key("boot"), Seg::Key("bios")];
        assert_eq!(map.value_pos(&missing), Pos::new(4, 3));
    }

    #[test]
    fn cuts_list_items_keeping_positions() {
        let map = SourceMap::new(LIST);
        let second = map.item_text(1).unwrap();
        let lines: Vec<&str> = second.lines().collect();
        assert_eq!(lines[0], "");
        assert_eq!(lines[3], "  name: b");
        assert_eq!(lines[6], "      address: 10.0.0.1");
        let first = map.item_text(0).unwrap();
        assert_eq!(first.lines().nth(3), Some(""));
    }

    #[test]
    fn flow_lists_are_not_cut() {
        let map = SourceMap::new("[{name: a}, {name: b}]");
        assert_eq!(map.shape(), Shape::List(2));
        assert_eq!(map.item_text(0), None);
    }

    #[test]
    fn shapes() {
        assert_eq!(SourceMap::new("").shape(), Shape::Empty);
        assert_eq!(SourceMap::new("# only a comment\n").shape(), Shape::Empty);
        assert_eq!(SourceMap::new("name: a\n").shape(), Shape::Single);
        assert_eq!(SourceMap::new("just text").shape(), Shape::Unknown);
        assert_eq!(SourceMap::new("a: [").shape(), Shape::Unknown);
    }

    #[test]
    fn block_scalars_start_at_their_text() {
        // So a template's line N is at value_pos().line + N - 1.
        let map = SourceMap::new("files:\n  x:\n    content: |\n      hi\n");
        let path = [Seg::Key("files"), Seg::Key("x"), Seg::Key("content")];
        assert_eq!(map.value_pos(&path), Pos::new(4, 7));
    }
}
