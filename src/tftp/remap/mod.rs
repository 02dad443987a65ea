//! File-name remapping rules in the format of tftpd-hpa's `--map-file`, so
//! an existing map file keeps working.
//!
//! One rule per line: `FLAGS REGEX [REPLACEMENT]`, `#` starts a comment, and
//! a backslash keeps a space or `#` inside a field. Flags: `r` rewrite the
//! first match, `g` rewrite again until the regex no longer matches, `i`
//! match case-insensitively, `e` stop after this rule if it matched, `s`
//! start over from the first rule if it matched, `a` refuse the request if
//! it matched (with a replacement, the name as `r` would rewrite it is the
//! error message), `~` the rule
//! applies when the regex does *not* match, `G` only for reads, `P` only for
//! writes, `4` only for IPv4 clients, `6` only for IPv6 clients. In the
//! replacement `\0`…`\9` are the match and its groups, `\i` the client's IP
//! address, `\x` the client's address in hex (8 digits for IPv4, 32 for
//! IPv6), `\U`/`\L` turn what follows to upper/lower case until `\E`, and a
//! backslash before any other character stands for that character. Regexes
//! use the `regex` crate's syntax, which covers the POSIX extended syntax
//! map files are written in.
//!
//! Example, for Windows clients and an old `/tftpboot` prefix:
//! ```text
//! rg  \\          /
//! r   ^/tftpboot/ /
//! ```

mod parse;

use std::net::IpAddr;

use regex::{Captures, Regex};

/// A parsed map file.
#[derive(Debug, Clone, Default)]
pub struct RemapRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    regex: Regex,
    replacement: String,
    flags: Flags,
}

#[derive(Debug, Clone, Copy, Default)]
struct Flags {
    rewrite: bool,
    global: bool,
    end: bool,
    restart: bool,
    abort: bool,
    inverse: bool,
    only_get: bool,
    only_put: bool,
    only_v4: bool,
    only_v6: bool,
}

impl Flags {
    fn applies(&self, is_write: bool, client: IpAddr) -> bool {
        !((self.only_get && is_write)
            || (self.only_put && !is_write)
            || (self.only_v4 && !client.is_ipv4())
            || (self.only_v6 && !client.is_ipv6()))
    }
}

/// A map-file line that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RemapError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The result of remapping a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remapped {
    /// Use this name.
    Name(String),
    /// An `a` rule matched (or the rules ran away): refuse the request,
    /// with the rule's own message when it has one.
    Refused(Option<String>),
}

/// Restarts (`s`) allowed per name, so a looping map file cannot hang us.
const MAX_PASSES: usize = 32;

/// Rewrites a `g` rule may make for one name, all rules together (what
/// tftpd-hpa calls map steps). Past it the name is refused.
pub const MAX_STEPS: usize = 4096;

/// Longest name a rewrite may produce. Past PATH_MAX no file can be named,
/// so refusing loses nothing; without a cap, rules that feed each other
/// (`gs () ab` triples the name on each of 32 passes) grow it without bound.
pub const MAX_REWRITTEN_LEN: usize = 4096;

impl RemapRules {
    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Applies the rules to a requested name from `client` (an
    /// IPv4-mapped IPv6 address counts as the IPv4 address it carries).
    pub fn apply(&self, name: &str, is_write: bool, client: IpAddr) -> Remapped {
        let client = client.to_canonical();
        let mut current = name.to_string();
        let mut passes = 0;
        let mut steps = 0;
        let mut index = 0;
        while index < self.rules.len() {
            let rule = &self.rules[index];
            index += 1;
            if !rule.flags.applies(is_write, client) {
                continue;
            }
            let caps = rule.regex.captures(&current);
            if caps.is_some() == rule.flags.inverse {
                continue;
            }
            if rule.flags.abort {
                return Remapped::Refused(rule.message(&current, caps.as_ref(), client));
            }
            if rule.flags.rewrite {
                match rule.rewrite(&current, client, &mut steps) {
                    Some(rewritten) => current = rewritten,
                    None => {
                        tracing::warn!(
                            "the map file rewrites {name:?} past {MAX_REWRITTEN_LEN} bytes or {MAX_STEPS} steps; refused"
                        );
                        return Remapped::Refused(None);
                    }
                }
            }
            if rule.flags.end {
                break;
            }
            if rule.flags.restart && passes < MAX_PASSES {
                passes += 1;
                index = 0;
            }
        }
        Remapped::Name(current)
    }
}

impl Rule {
    /// The error message of an `a` rule with a replacement: the name as
    /// `r` would rewrite it (the text around the match stays, as in
    /// tftpd-hpa), or the replacement alone for a `~` rule.
    fn message(&self, name: &str, caps: Option<&Captures>, client: IpAddr) -> Option<String> {
        if self.replacement.is_empty() {
            return None;
        }
        let mut out = String::new();
        let whole = caps.and_then(|c| c.get(0));
        out.push_str(whole.map_or("", |m| &name[..m.start()]));
        expand(&self.replacement, caps, client, &mut out);
        out.push_str(whole.map_or("", |m| &name[m.end()..]));
        Some(out)
    }

    /// Replaces the first match; with `g`, again on the result until the
    /// regex no longer matches (tftpd-hpa's `g`). `None` once the name
    /// passes [`MAX_REWRITTEN_LEN`] or the steps pass [`MAX_STEPS`].
    fn rewrite(&self, input: &str, client: IpAddr, steps: &mut usize) -> Option<String> {
        let mut current = input.to_string();
        loop {
            let Some(caps) = self.regex.captures(&current) else {
                return Some(current);
            };
            let whole = caps.get(0)?;
            let mut out = String::with_capacity(current.len());
            out.push_str(&current[..whole.start()]);
            expand(&self.replacement, Some(&caps), client, &mut out);
            out.push_str(&current[whole.end()..]);
            *steps += 1;
            if out.len() > MAX_REWRITTEN_LEN || *steps > MAX_STEPS {
                return None;
            }
            current = out;
            if !self.flags.global {
                return Some(current);
            }
        }
    }
}

/// Case conversion in force while a replacement is expanded.
#[derive(Clone, Copy)]
enum Case {
    Keep,
    Upper,
    Lower,
}

impl Case {
    fn push(self, out: &mut String, text: &str) {
        match self {
            Case::Keep => out.push_str(text),
            Case::Upper => out.push_str(&text.to_ascii_uppercase()),
            Case::Lower => out.push_str(&text.to_ascii_lowercase()),
        }
    }
}

/// Expands a replacement: groups (empty when the rule is inverted and so
/// has no match), the client's address, case conversion, escapes.
fn expand(template: &str, caps: Option<&Captures>, client: IpAddr, out: &mut String) {
    let mut case = Case::Keep;
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            case.push(out, c.encode_utf8(&mut [0; 4]));
            continue;
        }
        match chars.next() {
            Some(d @ '0'..='9') => {
                let group = d as usize - '0' as usize;
                let text = caps.and_then(|c| c.get(group)).map_or("", |m| m.as_str());
                case.push(out, text);
            }
            Some('i') => case.push(out, &client.to_string()),
            Some('x') => case.push(out, &hex_address(client)),
            Some('U') => case = Case::Upper,
            Some('L') => case = Case::Lower,
            Some('E') => case = Case::Keep,
            Some(other) => case.push(out, other.encode_utf8(&mut [0; 4])),
            None => out.push('\\'),
        }
    }
}

/// `\x`: the address's bytes in upper-case hex, as PXELINUX names
/// per-host files (`C000020A`, or 32 digits for IPv6).
fn hex_address(client: IpAddr) -> String {
    let bytes = match client {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    };
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests;
