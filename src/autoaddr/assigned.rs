//! The address quick mode put on the interface, as a guard: [`assign`] adds
//! it, [`AssignedAddress::remove`] or `Drop` take it off again (synchronously,
//! so it works inside a tokio runtime, outside one and during shutdown), and
//! [`ensure`] / [`watch`] put it back when a network manager removed it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::net::{self, Ipv4Net};

use super::error::AutoAddrError;
use super::netlink;

/// An address netboot added to an interface and will remove again.
///
/// It names the interface, not its index, so an adapter that is unplugged and
/// plugged back in is found again. Netlink requests go to the network
/// namespace of the calling thread: drop it where it was assigned (a process
/// that never calls `setns` has only one).
#[derive(Debug)]
pub struct AssignedAddress {
    ifname: String,
    net: Ipv4Net,
    removed: AtomicBool,
}

/// What [`ensure`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// The address was still there.
    Present,
    /// It had been removed (by a network manager, most likely) and was put back.
    Restored,
}

/// Adds `net` (server address and prefix, e.g. `10.42.0.1/24`) to `ifname`.
///
/// Refuses an interface that is down (naming `ip link set … up`), and names
/// the `ip addr add` command, and `setcap` or the missing capability, when
/// the process lacks CAP_NET_ADMIN. An address that is already there is reported as
/// [`AutoAddrError::AlreadyPresent`]: it is not ours to remove.
pub fn assign(ifname: &str, net: Ipv4Net) -> Result<AssignedAddress, AutoAddrError> {
    let iface = net::interface(ifname)?;
    if !iface.up {
        return Err(AutoAddrError::down(ifname));
    }
    let index = index_of(ifname)?;
    netlink::add(index, net).map_err(|e| add_error(ifname, net, e))?;
    tracing::info!(interface = ifname, address = %net, "added address to the interface for this run");
    Ok(AssignedAddress {
        ifname: ifname.to_string(),
        net,
        removed: AtomicBool::new(false),
    })
}

fn index_of(ifname: &str) -> Result<u32, AutoAddrError> {
    nix::net::if_::if_nametoindex(ifname).map_err(|_| {
        match net::interface(ifname) {
            Err(e) => e.into(),
            // it exists after all: a race with a rename; report plainly
            Ok(_) => AutoAddrError::Netlink {
                what: "index lookup".into(),
                ifname: ifname.to_string(),
                source: std::io::Error::from_raw_os_error(libc::ENODEV),
            },
        }
    })
}

fn add_error(ifname: &str, net: Ipv4Net, e: std::io::Error) -> AutoAddrError {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        return AutoAddrError::add_permission(ifname, net);
    }
    let ifname = ifname.to_string();
    if netlink::is_present(&e) {
        AutoAddrError::AlreadyPresent { ifname, net }
    } else {
        AutoAddrError::Netlink {
            what: format!("add {net}"),
            ifname,
            source: e,
        }
    }
}

impl AssignedAddress {
    /// The address and prefix on the interface.
    pub fn net(&self) -> Ipv4Net {
        self.net
    }

    /// The interface name.
    pub fn interface(&self) -> &str {
        &self.ifname
    }

    /// Removes the address now. Already gone (removed by someone else, or the
    /// interface unplugged) counts as success. Idempotent.
    pub fn remove(&self) -> Result<(), AutoAddrError> {
        if self.removed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // the interface is gone (unplugged): its addresses went with it
        let Ok(index) = index_of(&self.ifname) else {
            return Ok(());
        };
        match netlink::remove(index, self.net) {
            Ok(()) => {
                tracing::info!(interface = %self.ifname, address = %self.net, "removed the address netboot added");
                Ok(())
            }
            Err(e) if netlink::is_gone(&e) => Ok(()),
            Err(e) => {
                // let Drop try once more
                self.removed.store(false, Ordering::SeqCst);
                Err(AutoAddrError::Netlink {
                    what: format!("remove {}", self.net),
                    ifname: self.ifname.clone(),
                    source: e,
                })
            }
        }
    }
}

impl Drop for AssignedAddress {
    fn drop(&mut self) {
        if let Err(e) = self.remove() {
            tracing::warn!(
                "could not remove {} from {}: {e}; remove it with `sudo ip addr del {} dev {}`",
                self.net,
                self.ifname,
                self.net,
                self.ifname
            );
        }
    }
}

/// Puts the address back when it has gone (a network manager reconfiguring
/// the interface, or an unplugged and replugged USB adapter whose index
/// changed). Cheap: one netlink request. Call it every few seconds.
pub fn ensure(addr: &AssignedAddress) -> Result<Ensured, AutoAddrError> {
    if addr.removed.load(Ordering::SeqCst) {
        return Ok(Ensured::Present);
    }
    let index = index_of(&addr.ifname)?;
    match netlink::add(index, addr.net) {
        Err(e) if netlink::is_present(&e) => Ok(Ensured::Present),
        Err(e) => Err(add_error(&addr.ifname, addr.net, e)),
        Ok(()) => {
            tracing::warn!(
                "{} had been removed from {} (by a network manager?); netboot put it back",
                addr.net,
                addr.ifname
            );
            Ok(Ensured::Restored)
        }
    }
}

/// Calls [`ensure`] every `every` until `stop` is cancelled, logging failures
/// at warn. Meant to be spawned beside the servers.
pub async fn watch(addr: &AssignedAddress, every: Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        if let Err(e) = ensure(addr) {
            tracing::warn!("cannot keep {} on {}: {e}", addr.net, addr.ifname);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const NET: Ipv4Net = Ipv4Net {
        addr: Ipv4Addr::new(10, 42, 0, 1),
        prefix: 24,
    };

    #[test]
    fn missing_interface_lists_the_others() {
        let e = assign("no-such-if0", NET).unwrap_err();
        assert!(matches!(e, AutoAddrError::NoSuchInterface(_)));
        assert!(e.to_string().contains("lo"), "{e}");
    }

    #[test]
    fn add_errors_name_the_fix() {
        let eperm = add_error("eth0", NET, std::io::Error::from_raw_os_error(libc::EPERM));
        assert!(eperm
            .to_string()
            .contains("sudo ip addr add 10.42.0.1/24 dev eth0"));
        let eexist = add_error("eth0", NET, std::io::Error::from_raw_os_error(libc::EEXIST));
        assert!(matches!(eexist, AutoAddrError::AlreadyPresent { .. }));
    }
}
