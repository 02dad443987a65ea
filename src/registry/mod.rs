//! The profile registry (see `docs/profiles.md`).
pub mod arch;
pub mod diag;
pub mod locate;
pub mod model;
pub mod options;
pub mod parse;
pub mod pattern;
pub mod template;
pub mod wire;
