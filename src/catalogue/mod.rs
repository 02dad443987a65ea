//! The image catalogue: everything bootable under the boot root (ISO files,
//! directories with a kernel and an initrd, Windows PE) found, recognised and
//! turned into menu entries, with no configuration.
//!
//! - `tree`: the files of a candidate (a directory, or the inside of an ISO)
//!   as one read-only view the recognisers work on.
//! - `model`: what recognition yields (kind, architectures, kernel, initrds,
//!   arguments, Secure Boot verdict).
//! - `iso`: the ISO 9660 reader (Joliet, Rock Ridge, El Torito): the image's
//!   file tree and each file's extents in the image, so files are served
//!   straight out of the ISO.
//! - `recognise`: the pure layout recognisers (Debian, Ubuntu, Fedora family,
//!   Arch, Alpine, Windows PE, unknown).

pub mod iso;
pub mod model;
pub mod tree;
