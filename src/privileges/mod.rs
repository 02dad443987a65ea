//! Dropping root once the privileged sockets are open (`--user`), keeping
//! only the capabilities a server still needs afterwards.
//!
//! On Linux, user ids and capabilities belong to each thread: `capset`
//! changes the calling thread only, and so does a raw `setuid`. Rather than
//! chase threads, netboot drops while it has exactly one (checked, see
//! [`threads`]), before its async runtime starts: every thread started
//! afterwards inherits the result. [`choose`] decides who to become
//! ([`decide`] is the pure rule), [`apply`] does it.

mod keep;
mod threads;

use nix::unistd::{Uid, User};

use crate::pidfile::{Pidfile, PidfileError};

pub use self::keep::KeptCaps;
pub use ::caps::Capability;

/// Why the process could not become the requested user.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// No such user in the password database.
    #[error("no user named {0:?} (create it, or choose another --user)")]
    UnknownUser(String),
    /// Root, no `--user`, and neither default user exists.
    #[error("netboot runs as root and would drop to user `netboot` or `nobody`, but neither exists; create one (`sudo useradd --system netboot`) or choose one with --user")]
    NoDefaultUser,
    /// Not root, and asked to become someone else.
    #[error("only root can switch to user {0:?}; run as root, or drop --user (or `user:` in netboot.yaml)")]
    NotRoot(String),
    /// More than one thread: the others would keep their privileges.
    #[error("cannot drop privileges: {0} threads are running already and would keep theirs (a bug in netboot; please report it)")]
    Threads(usize),
    /// The PID file could not be handed to the user.
    #[error(transparent)]
    Pidfile(#[from] PidfileError),
    /// A system call failed.
    #[error("cannot switch to user {user:?}: {what}: {source}")]
    Switch {
        /// The user.
        user: String,
        /// The step that failed.
        what: &'static str,
        /// Why.
        source: std::io::Error,
    },
}

/// Who the process runs as once serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Not started as root: no user to switch; capabilities beyond the
    /// kept ones (e.g. systemd's ambient `CAP_NET_BIND_SERVICE`) are let go.
    Unchanged,
    /// Root was asked for (`--user root`): keeps root and every capability.
    Root,
    /// Become this user (and its primary group, no supplementary groups).
    User {
        /// Its name.
        name: String,
        /// Its user id.
        uid: u32,
        /// Its primary group.
        gid: u32,
    },
}

/// The pure rule behind [`choose`]. `current` is the effective uid;
/// `wanted` the user asked for (`--user`, `user:`), or the default user
/// when none was asked for (`None` when no default exists). `explicit`
/// says whether it was asked for.
pub fn decide(
    current: u32,
    wanted: Option<Target>,
    explicit: bool,
) -> Result<Target, PrivilegeError> {
    let Some(wanted) = wanted else {
        return if current == 0 {
            Err(PrivilegeError::NoDefaultUser)
        } else {
            Ok(Target::Unchanged)
        };
    };
    let Target::User { name, uid, .. } = &wanted else {
        return Ok(wanted);
    };
    match (*uid == current, current == 0) {
        (true, true) => Ok(Target::Root),
        (true, false) => Ok(Target::Unchanged),
        (false, true) => Ok(wanted),
        // not root: a default user is only a wish, an explicit one an error
        (false, false) if explicit => Err(PrivilegeError::NotRoot(name.clone())),
        (false, false) => Ok(Target::Unchanged),
    }
}

/// Looks `name` up in the password database.
fn lookup(name: &str) -> Result<Option<Target>, PrivilegeError> {
    let user = User::from_name(name).map_err(|e| PrivilegeError::Switch {
        user: name.to_string(),
        what: "looking the user up",
        source: e.into(),
    })?;
    Ok(user.map(|u| Target::User {
        name: u.name,
        uid: u.uid.as_raw(),
        gid: u.gid.as_raw(),
    }))
}

/// Who to run as: `requested` (`--user`), else `netboot` when that user
/// exists, else `nobody`; not root and nothing asked: [`Target::Unchanged`].
pub fn choose(requested: Option<&str>) -> Result<Target, PrivilegeError> {
    let current = Uid::effective().as_raw();
    let wanted = match requested {
        Some(name) => {
            Some(lookup(name)?.ok_or_else(|| PrivilegeError::UnknownUser(name.to_string()))?)
        }
        None if current != 0 => None,
        None => match lookup("netboot")? {
            Some(user) => Some(user),
            None => lookup("nobody")?,
        },
    };
    decide(current, wanted, requested.is_some())
}

/// Becomes `target`, keeping `keep` (permitted and effective; the bounding
/// set is cut to it too, and no capability is inheritable or ambient). Must
/// run while the process has one thread.
pub fn apply(target: &Target, keep: &KeptCaps) -> Result<(), PrivilegeError> {
    let user = match target {
        Target::Root => return Ok(()),
        Target::Unchanged => current_name(),
        Target::User { name, .. } => name.clone(),
    };
    let fail = |(what, source)| PrivilegeError::Switch {
        user: user.clone(),
        what,
        source,
    };
    let tasks = threads::settle_to_one()
        .map_err(|source| fail(("counting threads in /proc/self/task", source)))?;
    if tasks != 1 {
        return Err(PrivilegeError::Threads(tasks));
    }
    match target {
        Target::User { uid, gid, .. } => keep::become_user(*uid, *gid, keep).map_err(fail),
        _ => keep::lower_to(keep).map_err(fail),
    }
}

fn current_name() -> String {
    let uid = Uid::effective();
    User::from_uid(uid)
        .ok()
        .flatten()
        .map_or_else(|| uid.to_string(), |u| u.name)
}

/// One line for the start-up message: who serves, keeping what.
pub fn describe(target: &Target, keep: &KeptCaps) -> String {
    match target {
        Target::Root => "runs as root with every capability (--user root); \
             run as an unprivileged --user unless you need this"
            .to_string(),
        Target::Unchanged => format!(
            "runs as user {}, keeping {}",
            current_name(),
            KeptCaps::effective().unwrap_or_else(|| keep.clone())
        ),
        Target::User { name, .. } => format!("runs as user {name}, keeping {keep}"),
    }
}

/// [`apply`], handing `pidfile` to the user first (so it can remove it on
/// exit) and warning when it still could not (its directory is not
/// writable by the user).
pub fn apply_with_pidfile(
    target: &Target,
    keep: &KeptCaps,
    pidfile: Option<&Pidfile>,
) -> Result<(), PrivilegeError> {
    if let (Some(file), Target::User { uid, gid, .. }) = (pidfile, target) {
        file.hand_to(*uid, *gid)?;
    }
    apply(target, keep)?;
    if let Some(file) = pidfile.filter(|f| !f.removable()) {
        let dir = file.path().parent().unwrap_or(std::path::Path::new("."));
        tracing::warn!(
            "user {} may not remove the PID file {} on exit (it cannot write to {}): it will be emptied instead; put it in a directory that user owns, such as /run/netboot",
            current_name(),
            file.path().display(),
            dir.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, uid: u32) -> Option<Target> {
        Some(Target::User {
            name: name.into(),
            uid,
            gid: uid,
        })
    }

    #[test]
    fn root_becomes_the_user_asked_for_or_the_default() {
        assert_eq!(
            decide(0, user("nobody", 65534), true).unwrap(),
            user("nobody", 65534).unwrap()
        );
        assert_eq!(
            decide(0, user("netboot", 998), false).unwrap(),
            user("netboot", 998).unwrap()
        );
    }

    #[test]
    fn root_asked_to_stay_root_stays() {
        assert_eq!(decide(0, user("root", 0), true).unwrap(), Target::Root);
        assert_eq!(decide(0, user("toor", 0), true).unwrap(), Target::Root);
    }

    #[test]
    fn root_without_a_default_user_is_told_how_to_make_one() {
        let e = decide(0, None, false).unwrap_err().to_string();
        assert!(e.contains("useradd --system netboot"), "{e}");
    }

    #[test]
    fn not_root_switches_nothing_and_refuses_an_explicit_other_user() {
        assert_eq!(decide(1000, None, false).unwrap(), Target::Unchanged);
        assert_eq!(
            decide(1000, user("netboot", 998), false).unwrap(),
            Target::Unchanged
        );
        assert_eq!(
            decide(998, user("netboot", 998), true).unwrap(),
            Target::Unchanged
        );
        let e = decide(1000, user("nobody", 65534), true).unwrap_err();
        assert!(matches!(e, PrivilegeError::NotRoot(_)), "{e}");
    }
}
