//! Dropping root after the privileged sockets are bound (`--user`).

use nix::unistd::{self, Gid, Uid, User};

/// Why the process could not become the requested user.
#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    /// No such user in the password database.
    #[error("no user named {0:?} (create it, or drop --user)")]
    UnknownUser(String),
    /// Not root, and asked to become someone else.
    #[error("only root can switch to user {0:?}; run as root or drop --user")]
    NotRoot(String),
    /// A system call failed.
    #[error("cannot switch to user {user:?}: {source}")]
    Switch {
        /// The user.
        user: String,
        /// Why.
        source: nix::Error,
    },
}

/// Becomes `name` (its primary group, no supplementary groups), for good.
/// Running already as that user is fine.
pub fn drop_to(name: &str) -> Result<(), PrivilegeError> {
    let user = User::from_name(name)
        .ok()
        .flatten()
        .ok_or_else(|| PrivilegeError::UnknownUser(name.to_string()))?;
    if Uid::effective() == user.uid {
        return Ok(());
    }
    if !Uid::effective().is_root() {
        return Err(PrivilegeError::NotRoot(name.to_string()));
    }
    let fail = |source| PrivilegeError::Switch {
        user: name.to_string(),
        source,
    };
    unistd::setgroups(&[user.gid]).map_err(fail)?;
    unistd::setgid(Gid::from_raw(user.gid.as_raw())).map_err(fail)?;
    unistd::setuid(user.uid).map_err(fail)?;
    Ok(())
}
