//! The small matching languages of profiles: MAC prefixes (`52:54:00:*`) and
//! vendor-class globs (`Cisco*`), with the overlap tests validation uses to
//! refuse two profiles that could claim the same client at the same precedence.

use crate::mac::MacAddr;

/// A MAC prefix of one to five whole bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MacPrefix(Vec<u8>);

impl MacPrefix {
    /// Parses `52:54:00`, `52-54-00`, `5254.00`, `525400`, optionally followed
    /// by `:*` / `*`. `None` unless it is 1 to 5 whole hex bytes.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        let t = t.strip_suffix('*').unwrap_or(t);
        let t = t.trim_end_matches([':', '-', '.']);
        let parts: Vec<&str> = t.split([':', '-']).collect();
        let hex: String = if parts.len() > 1 {
            if parts.iter().any(|p| p.is_empty() || p.len() > 2) {
                return None;
            }
            parts.iter().map(|p| format!("{p:0>2}")).collect()
        } else {
            t.replace('.', "")
        };
        if hex.is_empty() || !hex.len().is_multiple_of(2) || hex.len() > 10 {
            return None;
        }
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let bytes = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(&hex[i * 2..i * 2 + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        Some(Self(bytes))
    }

    /// Number of bytes fixed by the prefix.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a prefix has at least one byte.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `mac` starts with this prefix.
    pub fn matches(&self, mac: &MacAddr) -> bool {
        mac.0.starts_with(&self.0)
    }

    /// A MAC inside the prefix (the rest zero), for rendering checks.
    pub fn example(&self) -> MacAddr {
        let mut out = [0u8; 6];
        out[..self.0.len()].copy_from_slice(&self.0);
        out[5] |= 1;
        MacAddr(out)
    }

    /// Whether some MAC has both prefixes.
    pub fn overlaps(&self, other: &Self) -> bool {
        self.0.starts_with(&other.0) || other.0.starts_with(&self.0)
    }
}

impl std::fmt::Display for MacPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "{}:*", parts.join(":"))
    }
}

/// A shell-style glob: `*` any run of characters, `?` one character, the rest
/// literal and case-sensitive (option 60 is compared as sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob(String);

impl Glob {
    /// A glob from its text (any text is a valid glob).
    pub fn new(text: &str) -> Self {
        Self(text.to_string())
    }

    /// The glob's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `text` matches the whole glob.
    pub fn matches(&self, text: &str) -> bool {
        let p: Vec<char> = self.0.chars().collect();
        let t: Vec<char> = text.chars().collect();
        let (mut pi, mut ti) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(c) if *c == '?' || *c == t[ti] => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|c| *c == '*')
    }

    /// Whether some text might match both globs. Conservative: compares the
    /// literal text before the first and after the last wildcard, so it may say
    /// yes for globs that never meet, never no for globs that do.
    pub fn may_overlap(&self, other: &Self) -> bool {
        let (a, b) = (&self.0, &other.0);
        if !a.contains(['*', '?']) {
            return other.matches(a);
        }
        if !b.contains(['*', '?']) {
            return self.matches(b);
        }
        let prefix = |s: &str| s.split(['*', '?']).next().unwrap_or("").to_string();
        let suffix = |s: &str| s.rsplit(['*', '?']).next().unwrap_or("").to_string();
        let compatible_start = {
            let (pa, pb) = (prefix(a), prefix(b));
            pa.starts_with(&pb) || pb.starts_with(&pa)
        };
        let compatible_end = {
            let (sa, sb) = (suffix(a), suffix(b));
            sa.ends_with(&sb) || sb.ends_with(&sa)
        };
        compatible_start && compatible_end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_in_every_spelling() {
        for s in [
            "52:54:00",
            "52-54-00",
            "525400",
            "52:54:00:*",
            "52:54:00*",
            "5254.00",
        ] {
            assert_eq!(
                MacPrefix::parse(s),
                Some(MacPrefix(vec![0x52, 0x54, 0])),
                "{s}"
            );
        }
        for s in [
            "",
            "*",
            "5",
            "52:54:zz",
            "52:54:00:12:34:56",
            "525400123456",
            "52::54",
        ] {
            assert_eq!(MacPrefix::parse(s), None, "{s}");
        }
    }

    #[test]
    fn prefixes_match_and_overlap() {
        let p = MacPrefix::parse("52:54:00").unwrap();
        let mac: MacAddr = "52:54:00:12:34:56".parse().unwrap();
        assert!(p.matches(&mac));
        assert!(!p.matches(&"52:54:01:12:34:56".parse().unwrap()));
        assert!(p.matches(&p.example()));
        let longer = MacPrefix::parse("52:54:00:12").unwrap();
        assert!(p.overlaps(&longer) && longer.overlaps(&p));
        assert!(!p.overlaps(&MacPrefix::parse("52:55").unwrap()));
        assert_eq!(p.to_string(), "52:54:00:*");
    }

    #[test]
    fn globs_match() {
        let g = Glob::new("Cisco*");
        assert!(g.matches("Cisco Systems, Inc. IP Phone CP-7945G"));
        assert!(!g.matches("cisco"));
        assert!(Glob::new("PXEClient:Arch:0000?:*").matches("PXEClient:Arch:00007:UNDI:003016"));
        assert!(Glob::new("*Phone*").matches("Cisco IP Phone 7945"));
        assert!(Glob::new("a*b*c").matches("aXbYbZc"));
        assert!(!Glob::new("a*b*c").matches("aXbYbZ"));
        assert!(Glob::new("exact").matches("exact"));
    }

    #[test]
    fn glob_overlap_is_conservative() {
        let cisco = Glob::new("Cisco*");
        assert!(cisco.may_overlap(&Glob::new("Cisco Systems*")));
        assert!(cisco.may_overlap(&Glob::new("*Phone")));
        assert!(!cisco.may_overlap(&Glob::new("Polycom*")));
        assert!(cisco.may_overlap(&Glob::new("Cisco 7945")));
        assert!(!cisco.may_overlap(&Glob::new("Aastra")));
    }
}
