//! The directories `netboot tftp` serves, checked, and what `-V` prints.

use std::path::PathBuf;

use super::{invalid, CliError};
use crate::tftp::roots::ServedDir;

/// What `netboot tftp -V` prints: the version, then what is built in, as
/// `in.tftpd -V` lists it.
pub fn version_text() -> String {
    format!(
        "netboot {} (tftp: tftpd-hpa compatible flags), with remap, with IPv6, \
         options blksize blksize2 tsize timeout utimeout windowsize rollover",
        env!("CARGO_PKG_VERSION")
    )
}

/// The directories, checked; never empty.
pub(super) fn served_dirs(
    directories: &[PathBuf],
    secure: bool,
) -> Result<Vec<ServedDir>, CliError> {
    if secure && directories.len() > 1 {
        return Err(invalid(
            "--secure",
            format!(
                "serves exactly one directory, as tftpd-hpa's -s does, and {} were given; \
                 give one, or drop --secure to serve several",
                directories.len()
            ),
        ));
    }
    let mut out = Vec::new();
    for dir in directories {
        let failed = |source| CliError::Directory {
            path: dir.clone(),
            source,
        };
        let path = dir.canonicalize().map_err(failed)?;
        if !path.is_dir() {
            return Err(failed(std::io::Error::other("not a directory")));
        }
        let named = std::path::absolute(dir).map_err(failed)?;
        out.push(ServedDir { path, named });
    }
    if out.is_empty() {
        return Err(invalid("DIRECTORY", "give a directory to serve"));
    }
    Ok(out)
}
