//! The profile registry: YAML profiles under a directory, validated into an
//! immutable [`Registry`] that tells the DHCP side what each client gets
//! ([`crate::boot::ProfileLookup`]) and the TFTP side which virtual files and
//! path rewrites apply. Reloaded whole on change by [`watch()`].
//!
//! Flow: `source` reads files → `parse` (serde_norway, shapes) → `build`
//! (meaning, with positions from `locate`) → `checks` (across profiles,
//! templates) → `lookup::Registry`. Only `source` and `watch` do I/O.
//! The file format is documented in `docs/profiles.md`.

pub mod arch;
pub mod build;
mod build_files;
mod build_match;
mod build_v6;
pub mod checks;
pub mod diag;
pub mod explain;
pub mod locate;
pub mod lookup;
pub mod matcher;
pub mod model;
pub mod options;
pub mod parse;
pub mod pattern;
pub mod source;
pub mod template;
pub mod watch;
pub mod wire;

pub use build::{SourceFile, Sources};
pub use checks::build_registry;
pub use diag::{Diagnostic, Diagnostics, Pos};
pub use explain::{explain, Explanation};
pub use lookup::Registry;
pub use source::check;
pub use template::{ClientFacts, RenderError};
pub use watch::{reload, watch, AfterSwap, Reloaded};

#[cfg(test)]
mod tests;

/// A registry of one profile file, `path` holding `text`, every boot file
/// and directory taken to exist (for other modules' tests).
#[cfg(test)]
pub(crate) fn of_one_file(path: &str, text: &str) -> Registry {
    struct AllThere;
    impl Sources for AllThere {
        fn read_template(&self, _: &str) -> Result<(std::path::PathBuf, String), String> {
            Err("no templates".into())
        }
        fn boot_file_exists(&self, _: &str) -> bool {
            true
        }
        fn boot_dir_exists(&self, _: &str) -> bool {
            true
        }
    }
    let file = SourceFile {
        path: path.into(),
        text: text.into(),
    };
    match build_registry(&[file], &AllThere) {
        Ok(registry) => registry,
        Err(e) => panic!("{path}: {e:?}"),
    }
}
