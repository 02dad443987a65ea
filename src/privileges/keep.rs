//! The capability sets of the calling thread, through the `caps` crate:
//! becoming a user while keeping a few capabilities, or, when not root,
//! letting go of every capability but those few.

use std::collections::HashSet;
use std::fmt;
use std::io;

use ::caps::{CapSet, Capability};

/// The capabilities a server keeps once it serves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeptCaps(HashSet<Capability>);

impl KeptCaps {
    /// Nothing.
    pub fn none() -> Self {
        Self::default()
    }

    /// Exactly `caps`.
    pub fn of(caps: &[Capability]) -> Self {
        Self(caps.iter().copied().collect())
    }

    /// What the calling thread has in effect now (`None` if unreadable).
    pub fn effective() -> Option<Self> {
        ::caps::read(None, CapSet::Effective).ok().map(Self)
    }

    fn set(&self) -> &HashSet<Capability> {
        &self.0
    }
}

impl fmt::Display for KeptCaps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        names.sort();
        match names.as_slice() {
            [] => f.write_str("no capabilities"),
            [one] => f.write_str(one),
            [rest @ .., last] => write!(f, "{} and {last}", rest.join(", ")),
        }
    }
}

/// A failed step: what it was, and why.
pub type StepError = (&'static str, io::Error);

fn step<E: fmt::Display>(what: &'static str) -> impl FnOnce(E) -> StepError {
    move |e| (what, io::Error::other(e.to_string()))
}

/// Sets this thread's effective, permitted and inheritable sets to `caps`
/// (effective first: it must stay inside permitted) and clears ambient.
fn set_all(caps: &HashSet<Capability>) -> Result<(), StepError> {
    ::caps::set(None, CapSet::Effective, caps)
        .map_err(step("setting the effective capabilities"))?;
    ::caps::set(None, CapSet::Permitted, caps)
        .map_err(step("setting the permitted capabilities"))?;
    ::caps::clear(None, CapSet::Inheritable)
        .map_err(step("clearing the inheritable capabilities"))?;
    ::caps::clear(None, CapSet::Ambient).map_err(step("clearing the ambient capabilities"))
}

/// Root → `uid`/`gid` (no supplementary groups), keeping `keep`: the
/// bounding set is cut first (that needs CAP_SETPCAP, which goes with
/// root), then ids change with `PR_SET_KEEPCAPS` set so the permitted set
/// survives, then the sets are cut to `keep`, and no new privileges may be
/// gained (no setuid executables). Checked afterwards.
pub fn become_user(uid: u32, gid: u32, keep: &KeptCaps) -> Result<(), StepError> {
    let bounding =
        ::caps::read(None, CapSet::Bounding).map_err(step("reading the bounding set"))?;
    for cap in bounding.difference(keep.set()) {
        ::caps::drop(None, CapSet::Bounding, *cap).map_err(step("cutting the bounding set"))?;
    }
    ::caps::securebits::set_keepcaps(true).map_err(step("PR_SET_KEEPCAPS"))?;
    let gid = nix::unistd::Gid::from_raw(gid);
    let uid = nix::unistd::Uid::from_raw(uid);
    nix::unistd::setgroups(&[gid]).map_err(step("setgroups"))?;
    nix::unistd::setresgid(gid, gid, gid).map_err(step("setresgid"))?;
    nix::unistd::setresuid(uid, uid, uid).map_err(step("setresuid"))?;
    ::caps::securebits::set_keepcaps(false).map_err(step("PR_SET_KEEPCAPS"))?;
    set_all(keep.set())?;
    no_new_privs()?;
    let effective =
        ::caps::read(None, CapSet::Effective).map_err(step("reading the effective set"))?;
    if nix::unistd::getuid() != uid || nix::unistd::geteuid() != uid || &effective != keep.set() {
        return Err((
            "checking the result",
            io::Error::other("ids or capabilities did not change as asked"),
        ));
    }
    Ok(())
}

/// Not root: keeps the capabilities of `keep` it has, lets go of the rest.
pub fn lower_to(keep: &KeptCaps) -> Result<(), StepError> {
    let permitted =
        ::caps::read(None, CapSet::Permitted).map_err(step("reading the permitted set"))?;
    let kept: HashSet<Capability> = permitted.intersection(keep.set()).copied().collect();
    if kept == permitted {
        return Ok(());
    }
    set_all(&kept)
}

fn no_new_privs() -> Result<(), StepError> {
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integer arguments and touches no memory
    let rc = unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(("PR_SET_NO_NEW_PRIVS", io::Error::last_os_error()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_caps_read_as_a_list() {
        assert_eq!(KeptCaps::none().to_string(), "no capabilities");
        assert_eq!(
            KeptCaps::of(&[Capability::CAP_NET_RAW]).to_string(),
            "CAP_NET_RAW"
        );
        let two = KeptCaps::of(&[Capability::CAP_NET_RAW, Capability::CAP_NET_ADMIN]);
        assert_eq!(two.to_string(), "CAP_NET_ADMIN and CAP_NET_RAW");
    }
}
