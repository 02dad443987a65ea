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
}

impl Diagnostic {
    /// A diagnostic for `file` at `pos`.
    pub fn new(file: &Path, pos: Pos, message: impl Into<String>) -> Self {
        Self {
            file: file.to_path_buf(),
            pos,
            message: message.into(),
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

/// Several diagnostics as one error value (for `?` into `anyhow`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} problem(s) in the profiles:\n{}", .0.len(), render(.0))]
pub struct Diagnostics(pub Vec<Diagnostic>);

fn render(diags: &[Diagnostic]) -> String {
    let lines: Vec<String> = diags.iter().map(|d| format!("  {d}")).collect();
    lines.join("\n")
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
}
