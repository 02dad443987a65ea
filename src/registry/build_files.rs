//! Conversion of a profile's virtual files: path patterns and bodies compiled
//! into the registry's template set, with positions kept for later errors.

use super::build::{Built, Cx};
use super::diag::{Diagnostic, Pos};
use super::locate::Seg;
use super::model::{FileRule, Loc};
use super::wire::{WireFile, WireProfile};

impl Cx<'_> {
    pub(super) fn files(
        &mut self,
        w: &WireProfile,
        built: &mut Built,
    ) -> (Vec<FileRule>, Vec<(Loc, Loc)>) {
        let mut rules = Vec::new();
        let mut locs = Vec::new();
        for (pattern, wf) in &w.files {
            let at = [Seg::Key("files"), Seg::Key(pattern)];
            let key_loc = self.key_loc(&at);
            let Some(clean) = self.safe_path(&at, pattern, "file pattern") else {
                continue;
            };
            let path_template = format!("path:{}:{}", w.name, clean);
            if let Err((_, msg)) = built.templates.add(&path_template, &clean) {
                self.diags
                    .push(key_loc.diag(format!("template error in file pattern: {msg}")));
                continue;
            }
            let Some((body_template, body_loc)) = self.body(w, pattern, wf, built) else {
                continue;
            };
            let Some(uboot_script) = self.format(pattern, &clean, wf) else {
                continue;
            };
            let literal = (!clean.contains("{{") && !clean.contains("{%")).then(|| clean.clone());
            if let Some(l) = &literal {
                built.literal_files.insert(l.clone());
            }
            rules.push(FileRule {
                pattern: clean,
                literal,
                path_template,
                body_template,
                uboot_script,
            });
            locs.push((key_loc, body_loc));
        }
        (rules, locs)
    }

    /// `format:`: true for a U-Boot script image, `None` (reported) for an
    /// unknown format.
    fn format(&mut self, pattern: &str, clean: &str, wf: &WireFile) -> Option<bool> {
        match wf.format.as_deref().map(str::trim) {
            None => Some(crate::uimage::is_script_name(clean)),
            Some("text") => Some(false),
            Some("uboot-script") => Some(true),
            Some(other) => {
                let at = [Seg::Key("files"), Seg::Key(pattern), Seg::Key("format")];
                self.err(
                    &at,
                    format!("unknown format `{other}`: use `text` or `uboot-script`"),
                );
                None
            }
        }
    }

    /// Registers the body template; returns its name and where its line 1 is
    /// (line 0 for a template file: lines count from the file's start).
    fn body(
        &mut self,
        w: &WireProfile,
        pattern: &str,
        wf: &WireFile,
        built: &mut Built,
    ) -> Option<(String, Loc)> {
        let at = |k| [Seg::Key("files"), Seg::Key(pattern), Seg::Key(k)];
        let (name, source, loc) = match (&wf.template, &wf.content) {
            (Some(rel), None) => {
                let rel = self.safe_path(&at("template"), rel, "template")?;
                match self.sources.read_template(&rel) {
                    Ok((path, text)) => (
                        format!("file:{rel}"),
                        text,
                        Loc {
                            file: path,
                            pos: Default::default(),
                        },
                    ),
                    Err(e) => {
                        self.err(&at("template"), format!("template {rel:?}: {e}"));
                        return None;
                    }
                }
            }
            (None, Some(text)) => (
                format!("content:{}:{pattern}", w.name),
                text.clone(),
                self.loc(&at("content")),
            ),
            _ => {
                self.err(
                    &[Seg::Key("files"), Seg::Key(pattern)],
                    "give exactly one of `template:` or `content:`",
                );
                return None;
            }
        };
        if let Err((line, msg)) = built.templates.add(&name, &source) {
            self.diags.push(template_diag(
                &loc,
                line,
                &format!("template syntax error: {msg}"),
            ));
            return None;
        }
        Some((name, loc))
    }
}

/// A diagnostic for line `line` of a template whose line 1 is at `base`.
pub fn template_diag(base: &Loc, line: Option<usize>, message: &str) -> Diagnostic {
    let mut pos = base.pos;
    let inner = line.unwrap_or(1).max(1);
    if pos.line == 0 {
        pos = Pos::new(inner, 0);
    } else {
        pos.line += inner - 1;
        if inner > 1 {
            pos.col = 0;
        }
    }
    Diagnostic::new(&base.file, pos, message)
}
