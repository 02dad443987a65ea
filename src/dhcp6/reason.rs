//! What a DHCPv6 decision is: the reply (or none), why (one log line), and
//! the lease records to persist before the reply leaves.

use std::fmt;
use std::net::Ipv6Addr;

use dhcproto::v6::Message;

use crate::dhcp::pxe::BootNote;

use super::table::Lease6;

/// Why the core answered as it did.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason6 {
    Advertised {
        addrs: Vec<Ipv6Addr>,
        boot: BootNote,
    },
    /// REPLY to a REQUEST, or to a SOLICIT with Rapid Commit.
    Bound {
        addrs: Vec<Ipv6Addr>,
        boot: BootNote,
        rapid: bool,
    },
    Renewed(Vec<Ipv6Addr>),
    /// RENEW or REBIND of other addresses by a client with a reservation:
    /// given `to`, the others returned with lifetimes 0.
    Moved {
        to: Ipv6Addr,
        from: Vec<Ipv6Addr>,
    },
    NoBinding,
    Released(Vec<Ipv6Addr>),
    Declined(Vec<Ipv6Addr>),
    Confirmed(bool),
    Informed(BootNote),
    /// No address to give (pool used up, reservation busy, stateless).
    NoAddrs(&'static str),
    /// No reply, for the stated reason.
    Silent(&'static str),
}

/// One request's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision6 {
    pub reply: Option<Message>,
    pub reason: Reason6,
    /// Records to persist (in order) before `reply` leaves.
    pub changes: Vec<Lease6>,
    /// The profile that matched, for the log.
    pub profile: Option<String>,
}

impl Decision6 {
    /// No reply.
    pub fn silent(why: &'static str) -> Self {
        Self {
            reply: None,
            reason: Reason6::Silent(why),
            changes: Vec::new(),
            profile: None,
        }
    }
}

fn list(addrs: &[Ipv6Addr]) -> String {
    if addrs.is_empty() {
        return "no address".into();
    }
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for Reason6 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Advertised { addrs, boot } => write!(f, "advertised {}; {boot}", list(addrs)),
            Self::Bound { addrs, boot, rapid } => {
                let how = if *rapid { " (rapid commit)" } else { "" };
                write!(f, "bound {}{how}; {boot}", list(addrs))
            }
            Self::Renewed(a) => write!(f, "extended {}", list(a)),
            Self::Moved { to, from } => write!(
                f,
                "moved to its reserved address {to}; {} given back (lifetime 0)",
                list(from)
            ),
            Self::NoBinding => f.write_str("no binding for the client's IA"),
            Self::Released(a) => write!(f, "released {}", list(a)),
            Self::Declined(a) => write!(f, "declined {}", list(a)),
            Self::Confirmed(true) => f.write_str("confirmed: addresses on link"),
            Self::Confirmed(false) => f.write_str("not on link"),
            Self::Informed(boot) => write!(f, "information; {boot}"),
            Self::NoAddrs(why) => write!(f, "no address: {why}"),
            Self::Silent(why) => write!(f, "no reply: {why}"),
        }
    }
}
