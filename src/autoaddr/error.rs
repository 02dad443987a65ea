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
    /// The interface is administratively down; the message lists the
    /// interfaces that exist, with their state.
    #[error(
        "interface {ifname} is down; bring it up with `sudo ip link set {ifname} up` and start netboot again \
         (interfaces here: {})", existing.join(", ")
    )]
    InterfaceDown {
        /// The interface.
        ifname: String,
        /// Every interface of the namespace, as `name (up)` or `name (down)`.
        existing: Vec<String>,
    },
    /// The interface has no Ethernet address, so ARP and DHCP cannot run on it.
    #[error(
        "interface {ifname} has no Ethernet (MAC) address; netboot serves Ethernet segments only"
    )]
    NotEthernet {
        /// The interface.
        ifname: String,
    },
    /// Adding the address was refused: the process lacks CAP_NET_ADMIN.
    #[error("{}", add_permission(ifname, *net, *as_root))]
    AddPermission {
        /// The interface.
        ifname: String,
        /// The address netboot wanted.
        net: Ipv4Net,
        /// The process runs as root (so a capability bounding set, not the
        /// user, is what is missing).
        as_root: bool,
    },
    /// The link checks could not open a raw socket: the process lacks
    /// CAP_NET_RAW (and, on a bare port, needs CAP_NET_ADMIN after it).
    #[error("{}", check_permission(ifname, *suggest, *as_root))]
    CheckPermission {
        /// The interface.
        ifname: String,
        /// The address to suggest for `ip addr add` (the first candidate, or
        /// `--assign-address`).
        suggest: Ipv4Net,
        /// The process runs as root.
        as_root: bool,
    },
    /// The thread listening for other DHCP servers died, so the segment was
    /// not checked: serving addresses on it would be a guess.
    #[error(
        "the check for other DHCP servers on {ifname} failed unexpectedly (its thread panicked); \
         netboot does not hand out addresses on a segment it could not check. Start it again, \
         and report this if it repeats"
    )]
    ListenerFailed {
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

/// The message of [`AutoAddrError::AddPermission`].
fn add_permission(ifname: &str, net: Ipv4Net, as_root: bool) -> String {
    let by_hand = format!(
        "have an admin run `sudo ip addr add {net} dev {ifname}` first (netboot then serves with that \
         address and changes nothing on {ifname})"
    );
    if as_root {
        format!(
            "not allowed to add {net} to {ifname}: netboot runs as root, but without CAP_NET_ADMIN, which \
             adding an address needs (its capability bounding set lacks it, as in a container started \
             without NET_ADMIN). Either start netboot with CAP_NET_ADMIN (for a container: \
             `--cap-add NET_ADMIN`), or {by_hand}"
        )
    } else {
        format!(
            "not allowed to add {net} to {ifname}: adding an address needs CAP_NET_ADMIN, which this process \
             lacks. Either run netboot as root (`sudo netboot serve ...`), or {by_hand}, or give netboot the \
             capabilities a bare port needs once (CAP_NET_ADMIN to add the address, CAP_NET_RAW to check \
             the link, CAP_NET_BIND_SERVICE for ports 67 and 69): `{SETCAP}`"
        )
    }
}

/// The message of [`AutoAddrError::CheckPermission`].
fn check_permission(ifname: &str, suggest: Ipv4Net, as_root: bool) -> String {
    let needs = format!(
        "{ifname} has no IPv4 address, and taking one for it needs CAP_NET_RAW (raw sockets, to check \
         the link for other machines and DHCP servers) and then CAP_NET_ADMIN (to add the address)"
    );
    let by_hand = format!(
        "have an admin run `sudo ip addr add {suggest} dev {ifname}` first (netboot then serves with \
         that address and needs neither)"
    );
    if as_root {
        format!(
            "not allowed to check {ifname} for other machines and DHCP servers: netboot runs as root, but \
             without CAP_NET_RAW (its capability bounding set lacks it, as in a container started without \
             NET_RAW). {needs}. Either start netboot with both (for a container: \
             `--cap-add NET_RAW --cap-add NET_ADMIN`), or {by_hand}"
        )
    } else {
        format!(
            "not allowed to check {ifname} for other machines and DHCP servers: {needs}, and this process \
             has neither. Either run netboot as root (`sudo netboot serve ...`), or {by_hand}, or give \
             netboot the capabilities once: `{SETCAP}`"
        )
    }
}

/// True when the process runs as root (effective user 0).
fn running_as_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

impl AutoAddrError {
    /// [`Self::AddPermission`] for this process.
    pub(crate) fn add_permission(ifname: &str, net: Ipv4Net) -> Self {
        Self::AddPermission {
            ifname: ifname.to_string(),
            net,
            as_root: running_as_root(),
        }
    }

    /// [`Self::InterfaceDown`], listing the interfaces that exist.
    pub(crate) fn down(ifname: &str) -> Self {
        let existing = crate::net::interfaces()
            .map(|all| {
                all.into_values()
                    .map(|i| format!("{} ({})", i.name, if i.up { "up" } else { "down" }))
                    .collect()
            })
            .unwrap_or_default();
        Self::InterfaceDown {
            ifname: ifname.to_string(),
            existing,
        }
    }

    /// A [`Self::CheckPermission`] that suggests `net` (the address the user
    /// asked for) instead of the first candidate; other errors unchanged.
    pub(crate) fn suggesting(self, net: Ipv4Net) -> Self {
        match self {
            Self::CheckPermission {
                ifname, as_root, ..
            } => Self::CheckPermission {
                ifname,
                suggest: net,
                as_root,
            },
            other => other,
        }
    }

    /// Maps a socket error of a link check, turning EPERM into the capability
    /// hint (which suggests the first candidate; see [`Self::suggesting`]).
    pub(crate) fn check(ifname: &str, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::PermissionDenied {
            Self::CheckPermission {
                ifname: ifname.to_string(),
                suggest: super::candidates::FIRST,
                as_root: running_as_root(),
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

    const NET: Ipv4Net = Ipv4Net {
        addr: Ipv4Addr::new(10, 42, 0, 1),
        prefix: 24,
    };

    fn add(as_root: bool) -> String {
        AutoAddrError::AddPermission {
            ifname: "eth0".into(),
            net: NET,
            as_root,
        }
        .to_string()
    }

    fn check(as_root: bool) -> String {
        AutoAddrError::CheckPermission {
            ifname: "eth0".into(),
            suggest: NET,
            as_root,
        }
        .to_string()
    }

    #[test]
    fn permission_messages_name_the_commands_and_the_capabilities() {
        for text in [add(false), check(false)] {
            assert!(
                text.contains("`sudo ip addr add 10.42.0.1/24 dev eth0`"),
                "{text}"
            );
            assert!(text.contains(&format!("`{SETCAP}`")), "{text}");
            assert!(text.contains("run netboot as root"), "{text}");
            assert!(
                text.contains("CAP_NET_ADMIN") && text.contains("CAP_NET_RAW"),
                "{text}"
            );
        }
        assert!(add(false).starts_with(
            "not allowed to add 10.42.0.1/24 to eth0: adding an address needs CAP_NET_ADMIN"
        ));
        assert!(check(false).starts_with("not allowed to check eth0"));
    }

    #[test]
    fn as_root_the_messages_blame_the_missing_capability_not_the_user() {
        let text = add(true);
        assert!(
            text.contains("runs as root, but without CAP_NET_ADMIN"),
            "{text}"
        );
        assert!(text.contains("`--cap-add NET_ADMIN`"), "{text}");
        assert!(text.contains("`sudo ip addr add 10.42.0.1/24 dev eth0`"));
        assert!(!text.contains("run netboot as root") && !text.contains("setcap"));
        let text = check(true);
        assert!(
            text.contains("runs as root, but without CAP_NET_RAW"),
            "{text}"
        );
        assert!(
            text.contains("CAP_NET_ADMIN (to add the address)"),
            "{text}"
        );
        assert!(text.contains("`--cap-add NET_RAW --cap-add NET_ADMIN`"));
    }

    #[test]
    fn an_explicit_address_is_what_the_check_message_suggests() {
        let asked = Ipv4Net {
            addr: Ipv4Addr::new(10, 9, 0, 1),
            prefix: 24,
        };
        let e = AutoAddrError::check("eth0", std::io::Error::from_raw_os_error(libc::EPERM))
            .suggesting(asked);
        assert!(
            e.to_string()
                .contains("`sudo ip addr add 10.9.0.1/24 dev eth0`"),
            "{e}"
        );
    }

    #[test]
    fn down_message_names_the_command_and_the_interfaces() {
        let e = AutoAddrError::InterfaceDown {
            ifname: "eth0".into(),
            existing: vec!["eth0 (down)".into(), "lo (up)".into()],
        };
        let text = e.to_string();
        assert!(text.contains("`sudo ip link set eth0 up`"), "{text}");
        assert!(
            text.ends_with("(interfaces here: eth0 (down), lo (up))"),
            "{text}"
        );
        let e = AutoAddrError::down("lo");
        assert!(e.to_string().contains("lo ("), "{e}");
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
