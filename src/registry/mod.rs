//! The profile registry (see `docs/profiles.md`).
pub mod arch;
pub mod diag;
pub mod locate;
pub mod options;
pub mod pattern;
pub mod wire;
