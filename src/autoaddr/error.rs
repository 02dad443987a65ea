//! Why quick mode could not give the interface an address, in plain words
//! that name the fix (the command an admin can run).

use crate::net::{Ipv4Net, NetError};

/// The capabilities `netboot serve` needs on a bare port, as one `setcap` line.
pub const SETCAP: &str =
    "sudo setcap cap_net_admin,cap_net_raw,cap_net_bind_service+ep $(which netboot)";

/// Everything that can go wrong in [`crate::autoaddr`].
#[derive(Debug, thiserror::Error)]
pub enum AutoAddrError {
    /// `--assign-address` was not usable.
    #[error("--assign-address {input:?}: {why}")]
    BadAssign {
        /// What the user wrote.
        input: String,
        /// Why it was refused, with an example that works.
        why: String,
    },
    /// No interface of that name; the message lists those that exist.
    #[error(transparent)]
    NoSuchInterface(#[from] NetError),
    /// The interface is administratively down.
    #[error(
        "interface {ifname} is down; bring it up with `sudo ip link set {ifname} up` and start netboot again"
    )]
    InterfaceDown {
        /// The interface.
        ifname: String,
    },
    /// The interface has no Ethernet address, so ARP and DHCP cannot run on it.
    #[error(
        "interface {ifname} has no Ethernet (MAC) address; netboot serves Ethernet segments only"
    )]
    NotEthernet {
        /// The interface.
        ifname: String,
    },
    /// Adding (or removing) the address was refused: no CAP_NET_ADMIN.
    #[error(
        "not allowed to add {net} to {ifname} (netboot needs CAP_NET_ADMIN for that); either run netboot as root, \
         or have an admin run `sudo ip addr add {net} dev {ifname}` first (then netboot uses that address), \
         or give netboot the capabilities once: `{SETCAP}`"
    )]
    AddPermission {
        /// The interface.
        ifname: String,
        /// The address netboot wanted.
        net: Ipv4Net,
    },
    /// The link checks could not open a raw socket: no CAP_NET_RAW.
    #[error(
        "not allowed to check {ifname} for other machines and DHCP servers (raw sockets need CAP_NET_RAW); \
         run netboot as root, or give it the capabilities once: `{SETCAP}`, \
         or give {ifname} an address yourself (`sudo ip addr add 10.42.0.1/24 dev {ifname}`)"
    )]
    CheckPermission {
        /// The interface.
        ifname: String,
    },
    /// The address was already on the interface when we tried to add it.
    #[error("{net} is already on {ifname}; netboot uses it as it is and will not remove it")]
    AlreadyPresent {
        /// The interface.
        ifname: String,
        /// The address.
        net: Ipv4Net,
    },
    /// Every candidate subnet is in use on the link or on this machine.
    #[error(
        "every candidate subnet is in use ({}); choose one with --assign-address, e.g. --assign-address 10.99.0.1/24",
        skipped.join("; ")
    )]
    NoFreeSubnet {
        /// Each candidate with the reason it was skipped.
        skipped: Vec<String>,
    },
    /// The explicitly chosen address is in use on the link.
    #[error("--assign-address {net}: {why}; choose another address")]
    ExplicitInUse {
        /// The address chosen.
        net: Ipv4Net,
        /// Who uses it.
        why: String,
    },
    /// A netlink request failed for another reason.
    #[error("netlink {what} on {ifname} failed: {source}")]
    Netlink {
        /// What we asked (`add 10.42.0.1/24`).
        what: String,
        /// The interface.
        ifname: String,
        /// The kernel's answer.
        source: std::io::Error,
    },
    /// A link check failed for another reason.
    #[error("link check on {ifname} failed: {source}")]
    Check {
        /// The interface.
        ifname: String,
        /// The socket error.
        source: std::io::Error,
    },
}

impl AutoAddrError {
    /// Maps a socket error of a link check, turning EPERM into the capability hint.
    pub(crate) fn check(ifname: &str, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            Self::CheckPermission {
                ifname: ifname.to_string(),
            }
        } else {
            Self::Check {
                ifname: ifname.to_string(),
                source,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn permission_message_names_the_commands() {
        let e = AutoAddrError::AddPermission {
            ifname: "eth0".into(),
            net: Ipv4Net {
                addr: Ipv4Addr::new(10, 42, 0, 1),
                prefix: 24,
            },
        };
        let text = e.to_string();
        assert!(
            text.contains("sudo ip addr add 10.42.0.1/24 dev eth0"),
            "{text}"
        );
        assert!(text.contains(SETCAP), "{text}");
    }

    #[test]
    fn down_message_names_the_command() {
        let e = AutoAddrError::InterfaceDown {
            ifname: "eth0".into(),
        };
        assert!(e.to_string().contains("sudo ip link set eth0 up"));
    }

    #[test]
    fn eperm_on_a_check_becomes_the_capability_hint() {
        let e = AutoAddrError::check("eth0", std::io::Error::from_raw_os_error(libc::EPERM));
        assert!(matches!(e, AutoAddrError::CheckPermission { .. }));
        assert!(e.to_string().contains("CAP_NET_RAW"));
        let e = AutoAddrError::check("eth0", std::io::Error::from_raw_os_error(libc::ENETDOWN));
        assert!(matches!(e, AutoAddrError::Check { .. }));
    }
}
