//! File-name remapping rules in the format of tftpd-hpa's `--map-file`, so
//! an existing map file keeps working.
//!
//! One rule per line: `FLAGS REGEX [REPLACEMENT]`, `#` starts a comment.
//! Flags: `r` rewrite the first match, `g` every match, `i` match case-
//! insensitively, `e` stop after this rule if it matched, `s` start over from
//! the first rule if it matched, `a` refuse the request if it matched, `G`
//! only for reads, `P` only for writes. In the replacement `\0`…`\9` are the
//! match and its groups, `\i` the client's IP address, `\x` the client's
//! IPv4 address in hex, `\\` a backslash. Regexes use the `regex` crate's
//! syntax, which covers the POSIX extended syntax map files are written in.
//!
//! Example, for Windows clients and an old `/tftpboot` prefix:
//! ```text
//! rg  \\          /
//! r   ^/tftpboot/ /
//! ```

use std::net::IpAddr;

use regex::{Captures, Regex, RegexBuilder};

/// A parsed map file.
#[derive(Debug, Clone, Default)]
pub struct RemapRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    regex: Regex,
    replacement: String,
    rewrite: bool,
    global: bool,
    end: bool,
    restart: bool,
    abort: bool,
    only_get: bool,
    only_put: bool,
}

/// A map-file line that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("map file line {line}: {message}")]
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
    /// An `a` rule matched: refuse the request.
    Refused,
}

/// Restarts (`s`) allowed per name, so a looping map file cannot hang us.
const MAX_PASSES: usize = 32;

/// Longest name a rewrite may produce. Past PATH_MAX no file can be named,
/// so refusing loses nothing; without a cap, rules that feed each other
/// (`gs () ab` triples the name on each of 32 passes) grow it without bound.
pub const MAX_REWRITTEN_LEN: usize = 4096;

impl RemapRules {
    /// Parses the text of a map file.
    pub fn parse(text: &str) -> Result<Self, RemapError> {
        let mut rules = Vec::new();
        for (number, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |message: String| RemapError {
                line: number + 1,
                message,
            };
            let mut fields = line.split_whitespace();
            let flags = fields.next().unwrap_or_default();
            let pattern = fields
                .next()
                .ok_or_else(|| err("a rule needs flags and a regex".into()))?;
            let replacement = fields.next().unwrap_or("").to_string();
            let mut insensitive = false;
            let (
                mut rewrite,
                mut global,
                mut end,
                mut restart,
                mut abort,
                mut only_get,
                mut only_put,
            ) = (false, false, false, false, false, false, false);
            for flag in flags.chars() {
                match flag {
                    'r' => rewrite = true,
                    'g' => {
                        rewrite = true;
                        global = true;
                    }
                    'i' => insensitive = true,
                    'e' => end = true,
                    's' => restart = true,
                    'a' => abort = true,
                    'G' => only_get = true,
                    'P' => only_put = true,
                    other => return Err(err(format!("unknown flag '{other}'"))),
                }
            }
            let regex = RegexBuilder::new(pattern)
                .case_insensitive(insensitive)
                .build()
                .map_err(|e| err(format!("bad regex {pattern:?}: {e}")))?;
            let rule = Rule {
                regex,
                replacement,
                rewrite,
                global,
                end,
                restart,
                abort,
                only_get,
                only_put,
            };
            rules.push(rule);
        }
        Ok(Self { rules })
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Applies the rules to a requested name.
    pub fn apply(&self, name: &str, is_write: bool, client: IpAddr) -> Remapped {
        let mut current = name.to_string();
        let mut passes = 0;
        let mut index = 0;
        while index < self.rules.len() {
            let rule = &self.rules[index];
            index += 1;
            if (rule.only_get && is_write) || (rule.only_put && !is_write) {
                continue;
            }
            if !rule.regex.is_match(&current) {
                continue;
            }
            if rule.abort {
                return Remapped::Refused;
            }
            if rule.rewrite {
                match rewrite(rule, &current, client) {
                    Some(rewritten) => current = rewritten,
                    None => {
                        tracing::warn!(
                            "the map file rewrites {name:?} past {MAX_REWRITTEN_LEN} bytes; refused"
                        );
                        return Remapped::Refused;
                    }
                }
            }
            if rule.end {
                break;
            }
            if rule.restart && passes < MAX_PASSES {
                passes += 1;
                index = 0;
            }
        }
        Remapped::Name(current)
    }
}

/// Replaces the first match (every match with `g`), as `Regex::replace`
/// does, but stops with `None` once the result passes
/// [`MAX_REWRITTEN_LEN`].
fn rewrite(rule: &Rule, input: &str, client: IpAddr) -> Option<String> {
    let limit = if rule.global { usize::MAX } else { 1 };
    let mut out = String::new();
    let mut last = 0;
    for caps in rule.regex.captures_iter(input).take(limit) {
        let Some(whole) = caps.get(0) else { continue };
        out.push_str(&input[last..whole.start()]);
        expand(&rule.replacement, &caps, client, &mut out);
        last = whole.end();
        if out.len() > MAX_REWRITTEN_LEN {
            return None;
        }
    }
    out.push_str(&input[last..]);
    (out.len() <= MAX_REWRITTEN_LEN).then_some(out)
}

fn expand(template: &str, caps: &Captures, client: IpAddr, out: &mut String) {
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(d @ '0'..='9') => {
                let group = d as usize - '0' as usize;
                out.push_str(caps.get(group).map_or("", |m| m.as_str()));
            }
            Some('i') => out.push_str(&client.to_string()),
            Some('x') => match client {
                IpAddr::V4(v4) => {
                    for octet in v4.octets() {
                        out.push_str(&format!("{octet:02X}"));
                    }
                }
                IpAddr::V6(v6) => out.push_str(&v6.to_string()),
            },
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 10));

    fn name(rules: &RemapRules, input: &str) -> Remapped {
        rules.apply(input, false, CLIENT)
    }

    #[test]
    fn backslashes_and_prefixes() {
        let rules = RemapRules::parse("rg \\\\ /\nr ^/tftpboot/ /\n").unwrap();
        assert_eq!(
            name(&rules, "\\Boot\\BCD"),
            Remapped::Name("/Boot/BCD".into())
        );
        assert_eq!(
            name(&rules, "/tftpboot/pxelinux.0"),
            Remapped::Name("/pxelinux.0".into())
        );
    }

    #[test]
    fn groups_client_address_and_case() {
        let rules = RemapRules::parse("ri ^(.*)\\.CFG$ hosts/\\x/\\1.cfg # per host\n").unwrap();
        assert_eq!(
            name(&rules, "Lab.cfg"),
            Remapped::Name("hosts/C000020A/Lab.cfg".into())
        );
    }

    #[test]
    fn abort_end_and_direction() {
        let rules = RemapRules::parse("aP ^secret\nre ^a b\nr ^b c\n").unwrap();
        assert_eq!(rules.apply("secret", true, CLIENT), Remapped::Refused);
        assert_eq!(
            rules.apply("secret", false, CLIENT),
            Remapped::Name("secret".into())
        );
        assert_eq!(name(&rules, "a"), Remapped::Name("b".into()), "e stops");
    }

    #[test]
    fn restart_loops_are_bounded() {
        let rules = RemapRules::parse("rs ^ x\n").unwrap();
        let Remapped::Name(out) = name(&rules, "f") else {
            panic!()
        };
        assert_eq!(out.len(), MAX_PASSES + 2);
    }

    #[test]
    fn runaway_rewrites_are_refused() {
        // Found by fuzz/tftp_request: each pass triples the name, and the
        // `s` flag asks for 32 passes (3^33 bytes before the cap).
        let rules = RemapRules::parse("gs () ab\n").unwrap();
        assert_eq!(name(&rules, "a"), Remapped::Refused);
        let chained = RemapRules::parse(&"g () ab\n".repeat(40)).unwrap();
        assert_eq!(name(&chained, "pxelinux.0"), Remapped::Refused);
        let long = format!("{}\\", "x".repeat(MAX_REWRITTEN_LEN - 1));
        let mild = RemapRules::parse("g \\\\ /\n").unwrap();
        let want = format!("{}/", "x".repeat(MAX_REWRITTEN_LEN - 1));
        assert_eq!(
            name(&mild, &long),
            Remapped::Name(want),
            "at the cap is fine"
        );
    }

    #[test]
    fn rewrite_matches_regex_replace() {
        let rules = RemapRules::parse("g (a|) <\\1>\nr b+ [\\0]\n").unwrap();
        let expected = Regex::new("(a|)").unwrap().replace_all("abba", "<$1>");
        let expected = Regex::new("b+").unwrap().replace(&expected, "[$0]");
        assert_eq!(name(&rules, "abba"), Remapped::Name(expected.into_owned()));
    }

    #[test]
    fn errors_name_the_line() {
        let err = RemapRules::parse("# c\nrz a b\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(RemapRules::parse("r (unclosed x").is_err());
        assert!(RemapRules::parse("r").is_err());
    }
}
