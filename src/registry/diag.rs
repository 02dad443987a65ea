//! Diagnostics: one problem found while loading profiles, with the file, line
//! and column it comes from, displayed as `profiles/lab.yaml:12:7: message`.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position inside a source file: 1-based line, 1-based column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    /// Line, counted from 1. Zero means "the file as a whole".
    pub line: usize,
    /// Column, counted from 1. Zero means "the whole line".
    pub col: usize,
}

impl Pos {
    /// A position at `line`, `col` (both 1-based).
    pub fn new(line: usize, col: usize) -> Self {
        Self { line, col }
    }
}

/// One problem in the profiles, tied to where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in (a profile or a template), as given to `check`.
    pub file: PathBuf,
    /// Where in that file.
    pub pos: Pos,
    /// What is wrong, in words an operator can act on.
    pub message: String,
    /// The boot file this problem says is missing from the boot root, if
    /// that is the problem (several of them are reported as one line).
    pub missing_boot_file: Option<String>,
}

impl Diagnostic {
    /// A diagnostic for `file` at `pos`.
    pub fn new(file: &Path, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            pos,
            message: message.into(),
            missing_boot_file: None,
        }
    }

    /// Where, as `file:line` (no column), for lists of places.
    pub fn place(&self) -> String {
        if self.pos.line > 0 {
            format!("{}:{}", self.file.display(), self.pos.line)
        } else {
            self.file.display().to_string()
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.pos.line > 0 {
            write!(f, ":{}", self.pos.line)?;
            if self.pos.col > 0 {
                write!(f, ":{}", self.pos.col)?;
            }
        }
        write!(f, ": {}", self.message)
    }
}

/// Several diagnostics as one error value (for `?` into `anyhow`). Boot
/// files missing from the boot root are said once, on one line naming every
/// place that wants them and the fix, however many profiles name them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

fn render(diags: &[Diagnostic]) -> String {
    let (missing, other): (Vec<&Diagnostic>, Vec<&Diagnostic>) =
        diags.iter().partition(|d| d.missing_boot_file.is_some());
    let mut lines: Vec<String> = Vec::new();
    if other.len() == 1 && missing.is_empty() {
        return other[0].to_string();
    }
    if !other.is_empty() {
        lines.push(format!("{} problem(s) in the profiles:", other.len()));
        lines.extend(other.iter().map(|d| format!("  {d}")));
    }
    if !missing.is_empty() {
        lines.push(missing_line(&missing));
    }
    lines.join("\n")
}

/// `the profiles name boot files that are not in the boot root: a (p:9), …`
fn missing_line(missing: &[&Diagnostic]) -> String {
    let mut files: Vec<(&str, Vec<String>)> = Vec::new();
    for d in missing {
        let name = d.missing_boot_file.as_deref().unwrap_or_default();
        match files.iter_mut().find(|(n, _)| *n == name) {
            Some((_, places)) => places.push(d.place()),
            None => files.push((name, vec![d.place()])),
        }
    }
    let listed: Vec<String> = files
        .iter()
        .map(|(name, places)| format!("{name} ({})", places.join(", ")))
        .collect();
    format!(
        "the profiles name boot files that are not in the boot root: {}; \
         run `sudo boot-images/fill.sh` to copy the usual ones from Debian's packages, \
         or put your own there",
        listed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_file_line_column() {
        let d = Diagnostic::new(
            Path::new("profiles/lab.yaml"),
            Pos::new(12, 7),
            "bad MAC address",
        );
        assert_eq!(d.to_string(), "profiles/lab.yaml:12:7: bad MAC address");
        let whole = Diagnostic::new(Path::new("p.yaml"), Pos::default(), "unreadable");
        assert_eq!(whole.to_string(), "p.yaml: unreadable");
    }

    fn missing(file: &str, line: usize, name: &str) -> Diagnostic {
        let mut d = Diagnostic::new(Path::new(file), Pos::new(line, 9), "not found");
        d.missing_boot_file = Some(name.into());
        d
    }

    #[test]
    fn missing_boot_files_are_one_line_with_the_fix() {
        let all = Diagnostics(vec![
            missing("profiles/a.yaml", 9, "pxelinux.0"),
            missing("profiles/b.yaml", 19, "pxelinux.0"),
            missing("profiles/b.yaml", 20, "snponly.efi"),
        ]);
        let shown = all.to_string();
        assert_eq!(shown.lines().count(), 1, "{shown}");
        assert!(shown.contains("pxelinux.0 (profiles/a.yaml:9, profiles/b.yaml:19), snponly.efi (profiles/b.yaml:20)"), "{shown}");
        assert!(shown.contains("boot-images/fill.sh"), "{shown}");
    }

    #[test]
    fn other_problems_carry_no_boot_file_hint() {
        let one = Diagnostics(vec![Diagnostic::new(
            Path::new("p.yaml"),
            Pos::new(6, 1),
            "did not find expected node content",
        )]);
        assert_eq!(
            one.to_string(),
            "p.yaml:6:1: did not find expected node content"
        );
        let two = Diagnostics(vec![one.0[0].clone(), missing("p.yaml", 9, "x.efi")]);
        let shown = two.to_string();
        assert!(
            shown.starts_with("1 problem(s) in the profiles:\n  p.yaml:6:1:"),
            "{shown}"
        );
        assert_eq!(shown.matches("fill.sh").count(), 1, "{shown}");
    }
}
