//! Reading a map file: each line split into fields as tftpd-hpa splits it
//! (a backslash keeps the next character, whitespace included, inside the
//! field; an unescaped `#` ends the line), then the flags and the regex.

use regex::RegexBuilder;

use super::{Flags, RemapError, RemapRules, Rule};

impl RemapRules {
    /// Parses the text of a map file.
    pub fn parse(text: &str) -> Result<Self, RemapError> {
        let mut rules = Vec::new();
        for (number, raw) in text.lines().enumerate() {
            let err = |message: String| RemapError {
                line: number + 1,
                message,
            };
            let fields = fields(raw);
            let Some(flags) = fields.first() else {
                continue;
            };
            let (flags, insensitive) = parse_flags(flags).map_err(err)?;
            let pattern = fields
                .get(1)
                .ok_or_else(|| err("a rule needs flags and a regex".into()))?;
            let regex = RegexBuilder::new(pattern)
                .case_insensitive(insensitive)
                .build()
                .map_err(|e| err(format!("bad regex {pattern:?}: {e}")))?;
            rules.push(Rule {
                regex,
                replacement: fields.get(2).cloned().unwrap_or_default(),
                flags,
            });
        }
        Ok(Self { rules })
    }
}

/// The first three fields of a line (tftpd-hpa ignores the rest). A field
/// ends at whitespace or `#` that no backslash precedes; the backslashes
/// stay in the field (the regex and the replacement give them meaning).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    while out.len() < 3 {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek() {
            None | Some('#') => break,
            Some(_) => {}
        }
        let mut field = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace() && *c != '#') {
            field.push(c);
            if c == '\\' {
                if let Some(escaped) = chars.next() {
                    field.push(escaped);
                }
            }
        }
        out.push(field);
    }
    out
}

/// The flags of a rule, and whether its regex ignores case.
fn parse_flags(text: &str) -> Result<(Flags, bool), String> {
    let mut f = Flags::default();
    let mut insensitive = false;
    for flag in text.chars() {
        match flag {
            'r' => f.rewrite = true,
            // tftpd-hpa ignores a `g` without `r`; here it implies `r`
            'g' => (f.rewrite, f.global) = (true, true),
            'i' => insensitive = true,
            'e' => f.end = true,
            's' => f.restart = true,
            'a' => f.abort = true,
            '~' => f.inverse = true,
            'G' => f.only_get = true,
            'P' => f.only_put = true,
            '4' => f.only_v4 = true,
            '6' => f.only_v6 = true,
            other => {
                return Err(format!(
                    "unknown flag '{other}' in {text:?} (flags: r g i e s a ~ G P 4 6)"
                ))
            }
        }
    }
    if f.inverse && f.rewrite {
        return Err(format!(
            "{text:?}: a rewrite (r, g) cannot be inverted (~): an inverted rule has no match to replace"
        ));
    }
    Ok((f, insensitive))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_on_unescaped_space_and_hash() {
        assert_eq!(fields("  r  a\\ b  c\\#d # x"), vec!["r", "a\\ b", "c\\#d"]);
        assert_eq!(fields("r a#comment"), vec!["r", "a"]);
        assert_eq!(fields("# only a comment"), Vec::<String>::new());
        assert_eq!(fields("r a b extra ignored"), vec!["r", "a", "b"]);
        assert_eq!(fields("r tail\\"), vec!["r", "tail\\"]);
    }

    #[test]
    fn flags_and_their_conflicts() {
        let (f, i) = parse_flags("rgie4").unwrap();
        assert!(f.rewrite && f.global && f.end && f.only_v4 && i);
        assert!(parse_flags("a~6G").unwrap().0.inverse);
        assert!(parse_flags("r~")
            .unwrap_err()
            .contains("cannot be inverted"));
        assert!(parse_flags("rz").unwrap_err().contains("unknown flag 'z'"));
    }
}
