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
                current = rewrite(rule, &current, client);
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

fn rewrite(rule: &Rule, input: &str, client: IpAddr) -> String {
    let expand = |caps: &Captures| expand(&rule.replacement, caps, client);
    if rule.global {
        rule.regex.replace_all(input, expand).into_owned()
    } else {
        rule.regex.replace(input, expand).into_owned()
    }
}

fn expand(template: &str, caps: &Captures, client: IpAddr) -> String {
    let mut out = String::new();
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
    out
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
    fn errors_name_the_line() {
        let err = RemapRules::parse("# c\nrz a b\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(RemapRules::parse("r (unclosed x").is_err());
        assert!(RemapRules::parse("r").is_err());
    }
}
