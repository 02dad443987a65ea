//! Who `netboot serve` runs as: once its sockets are open and any bare-port
//! address added, it drops root ([`crate::privileges`]) to `--user`
//! (`user:`; default `netboot`, else `nobody`), keeping CAP_NET_RAW (packet
//! sockets it already has, raw ICMP for ping probes) and, while it keeps an
//! address on a bare port, CAP_NET_ADMIN (to put it back, and to remove it
//! on exit). Before the drop the state directory is handed to that user;
//! after it, the directories it must read or write are checked as that user,
//! so a permission problem is one clear start-up error, not failures later.

use crate::catalogue::next_boot;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use nix::unistd::AccessFlags;

use crate::pidfile::Pidfile;
use crate::privileges::{self, Capability, KeptCaps, Target};

use super::plan::ServePlan;
use super::ServeError;

/// The capabilities `serve` keeps: CAP_NET_RAW, and CAP_NET_ADMIN when it
/// keeps an address on a bare port.
pub fn kept(bare_port: bool) -> KeptCaps {
    if bare_port {
        KeptCaps::of(&[Capability::CAP_NET_RAW, Capability::CAP_NET_ADMIN])
    } else {
        KeptCaps::of(&[Capability::CAP_NET_RAW])
    }
}

/// Hands the state directory to the target user, drops to it, checks the
/// directories as that user and says who serves.
pub(super) fn drop_privileges(
    target: &Target,
    plan: &ServePlan,
    bare_port: bool,
    pidfile: Option<&Pidfile>,
) -> Result<(), ServeError> {
    let keep = kept(bare_port);
    if let (Target::User { name, uid, gid }, Some(dir)) = (target, &plan.dhcp.state_dir) {
        hand_over(dir, name, *uid, *gid)?;
    }
    privileges::apply_with_pidfile(target, &keep, pidfile)?;
    check_access(plan)?;
    match target {
        Target::Unchanged => tracing::debug!(
            "not started as root: no user to switch to; {}",
            privileges::describe(target, &keep)
        ),
        Target::Root => {
            eprintln!("  {}", privileges::describe(target, &keep));
            tracing::warn!("serving as root (--user root): every capability is kept");
        }
        Target::User { .. } => eprintln!("  {}", privileges::describe(target, &keep)),
    }
    Ok(())
}

/// Gives `dir` (created when missing) and the lease files in it to the
/// user. A directory that holds other files stays as it is (it is not
/// netboot's to give away): an error naming the fix.
fn hand_over(dir: &Path, name: &str, uid: u32, gid: u32) -> Result<(), ServeError> {
    let fail = |e: std::io::Error| {
        ServeError::StateDir(format!(
            "cannot give the state directory {} to user {name}: {e}; run `sudo chown {name} {}` or choose another --state-dir",
            dir.display(),
            dir.display()
        ))
    };
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let meta = std::fs::metadata(dir).map_err(fail)?;
    if meta.uid() != uid {
        let foreign = std::fs::read_dir(dir)
            .map_err(fail)?
            .filter_map(Result::ok)
            .any(|e| {
                e.file_name() != next_boot::DIR
                    && e.file_name() != crate::status::control::TOKEN_FILE
                    && !crate::dhcp::store::FILES
                        .iter()
                        .chain(crate::dhcp6::store::FILES.iter())
                        .chain(std::iter::once(&crate::dhcp6::ula::FILE))
                        .any(|f| e.file_name() == *f)
            });
        if foreign {
            return Err(ServeError::StateDir(format!(
                "the state directory {} holds files other than netboot's leases, so netboot does not give it to user {name}; give that user write access (`sudo chown {name} {}`) or choose another --state-dir",
                dir.display(),
                dir.display()
            )));
        }
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(fail)?;
    }
    for file in crate::dhcp::store::FILES
        .iter()
        .chain(crate::dhcp6::store::FILES.iter())
    {
        let path = dir.join(file);
        if path.symlink_metadata().is_ok() {
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).map_err(fail)?;
        }
    }
    // one-shot boots: `netboot next` (root) writes them, serve removes them
    let next = dir.join(next_boot::DIR);
    std::fs::create_dir_all(&next).map_err(fail)?;
    std::os::unix::fs::lchown(&next, Some(uid), Some(gid)).map_err(fail)?;
    Ok(())
}

/// As the user now served as: the TFTP root and the profiles must be
/// readable and the state directory writable; a root uploads may not
/// create files in is a warning.
fn check_access(plan: &ServePlan) -> Result<(), ServeError> {
    let read = AccessFlags::R_OK | AccessFlags::X_OK;
    let write = AccessFlags::W_OK | AccessFlags::X_OK;
    let root = &plan.tftp.root.root;
    need(root, read, "read the TFTP root")?;
    if plan.profiles.is_dir() {
        need(&plan.profiles, read, "read the profiles")?;
    }
    if let Some(dir) = &plan.dhcp.state_dir {
        // a missing one is created by the lease store: its parent then
        let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(dir);
        need(existing, write, "keep leases in")?;
    }
    if plan.tftp.root.create && nix::unistd::access(root.as_path(), write).is_err() {
        let user = user_name();
        eprintln!(
            "  warning: uploads cannot create files directly in {}: user {user} may not write there (give it the directories uploads go to, e.g. `sudo chown {user} {}/uploads`)",
            root.display(),
            root.display()
        );
    }
    Ok(())
}

fn need(path: &Path, how: AccessFlags, what: &str) -> Result<(), ServeError> {
    nix::unistd::access(path, how).map_err(|e| {
        let user = user_name();
        let fix = if how.contains(AccessFlags::W_OK) {
            format!("`sudo chown {user} {}`", path.display())
        } else {
            format!("`sudo chmod a+rX {}` and its parent directories", path.display())
        };
        ServeError::Access(format!(
            "user {user} (which netboot runs as) cannot {what} {}: {e}; allow it ({fix}) or choose another --user",
            path.display()
        ))
    })
}

fn user_name() -> String {
    let uid = nix::unistd::Uid::current();
    nix::unistd::User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}
