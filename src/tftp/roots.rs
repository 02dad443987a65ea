//! Several served directories (`netboot tftp DIR1 DIR2 …`, as tftpd-hpa
//! takes them) and where a requested name may be found among them. Pure:
//! this lists the candidate paths in order; `fs` looks at the disk.
//!
//! tftpd-hpa without `-s` serves a name only when it is absolute and starts
//! with one of the directories (`/srv/tftp/pxelinux.0`), and opens that
//! very path. netboot does the same with such a name, and takes any other
//! name relative to each directory in turn, the first directory first (a
//! leading `/` means "from the directory", as under tftpd-hpa's `-s`
//! chroot). Under `--secure` there is one directory and a name is always
//! relative to it, `/srv/tftp/x` meaning `ROOT/srv/tftp/x`, as in the chroot.

use std::path::{Path, PathBuf};

/// One served directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedDir {
    /// Its real path (canonical): what names are joined to.
    pub path: PathBuf,
    /// The absolute path as the command line named it (perhaps through a
    /// symlink, `/tftpboot` → `/srv/tftp`): a request may start with
    /// either.
    pub named: PathBuf,
}

/// Where the file for `name` may be, most likely first. `relative` is
/// the name already checked for shape (`fs::relative_path`); `dirs` are
/// the served directories in order (the root first). With `full_paths`
/// (no `--secure`), an absolute name under one of the directories is
/// that directory's file before anything else.
pub fn candidates(
    name: &[u8],
    relative: &Path,
    dirs: &[ServedDir],
    full_paths: bool,
) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if full_paths && name.first() == Some(&b'/') {
        let absolute = Path::new("/").join(relative);
        for dir in dirs {
            for prefix in [&dir.named, &dir.path] {
                if let Ok(rest) = absolute.strip_prefix(prefix) {
                    if !rest.as_os_str().is_empty() {
                        out.push(dir.path.join(rest));
                    }
                }
            }
        }
    }
    out.extend(dirs.iter().map(|dir| dir.path.join(relative)));
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(path: &str, named: &str) -> ServedDir {
        ServedDir {
            path: path.into(),
            named: named.into(),
        }
    }

    fn paths(list: &[&str]) -> Vec<PathBuf> {
        list.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn relative_names_are_tried_in_each_directory_in_turn() {
        let dirs = [dir("/srv/a", "/srv/a"), dir("/srv/b", "/srv/b")];
        let got = candidates(b"x/y", Path::new("x/y"), &dirs, true);
        assert_eq!(got, paths(&["/srv/a/x/y", "/srv/b/x/y"]));
    }

    #[test]
    fn full_paths_name_the_directory_they_start_with() {
        let dirs = [dir("/srv/tftp", "/tftpboot"), dir("/srv/b", "/srv/b")];
        let want_b = paths(&[
            "/srv/b/pxelinux.0",
            "/srv/tftp/srv/b/pxelinux.0",
            "/srv/b/srv/b/pxelinux.0",
        ]);
        let got = candidates(
            b"/srv/b/pxelinux.0",
            Path::new("srv/b/pxelinux.0"),
            &dirs,
            true,
        );
        assert_eq!(got, want_b);
        let got = candidates(b"/tftpboot/x", Path::new("tftpboot/x"), &dirs, true);
        assert_eq!(
            got[0],
            PathBuf::from("/srv/tftp/x"),
            "the name as given counts"
        );
        // a component-wise prefix only: /srv/bb is not under /srv/b
        let got = candidates(b"/srv/bb/x", Path::new("srv/bb/x"), &dirs, true);
        assert_eq!(got, paths(&["/srv/tftp/srv/bb/x", "/srv/b/srv/bb/x"]));
    }

    #[test]
    fn under_secure_a_full_path_is_inside_the_root() {
        let dirs = [dir("/srv/tftp", "/srv/tftp")];
        let got = candidates(b"/srv/tftp/x", Path::new("srv/tftp/x"), &dirs, false);
        assert_eq!(got, paths(&["/srv/tftp/srv/tftp/x"]));
    }
}
