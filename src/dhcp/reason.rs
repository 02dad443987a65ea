//! What a decision is: the reply (or none), why, the lease records to persist
//! before the reply leaves, and possibly an address to probe first.

use std::fmt;
use std::net::Ipv4Addr;

use crate::dhcp::pool::Lease;
use crate::dhcp::pxe::BootNote;
use crate::dhcp::reply::Reply;
use crate::dhcp::wire::WireError;

/// Why the core answered as it did: one log line per decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    Offer {
        ip: Ipv4Addr,
        boot: BootNote,
    },
    Ack {
        ip: Ipv4Addr,
        boot: BootNote,
    },
    InformAck {
        boot: BootNote,
    },
    ProxyOffer {
        boot: BootNote,
    },
    ProxyAck {
        boot: BootNote,
    },
    Nak {
        ip: Ipv4Addr,
        why: &'static str,
    },
    Probe(Ipv4Addr),
    Released(Ipv4Addr),
    Declined(Ipv4Addr),
    /// Known-clients-only mode and this MAC has no known profile.
    UnknownClient,
    /// No pool serves the relay or interface address.
    NoPool(Ipv4Addr),
    Exhausted,
    /// The client's reserved address is held by another client or declined.
    ReservedBusy(Ipv4Addr),
    /// The reserved address is not in the subnet the request came from.
    ReservedElsewhere(Ipv4Addr),
    /// The reserved address is one of our own: never handed out.
    ReservedIsServer(Ipv4Addr),
    /// Undecodable datagram.
    Malformed(WireError),
    /// No reply, for the stated reason.
    Silent(&'static str),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Offer { ip, boot } => write!(f, "offered {ip}; {boot}"),
            Self::Ack { ip, boot } => write!(f, "acknowledged {ip}; {boot}"),
            Self::InformAck { boot } => write!(f, "answered INFORM (no lease); {boot}"),
            Self::ProxyOffer { boot } => write!(f, "proxy offer (no address); {boot}"),
            Self::ProxyAck { boot } => write!(f, "proxy ack (no address); {boot}"),
            Self::Nak { ip, why } => write!(f, "NAK for {ip}: {why}"),
            Self::Probe(ip) => write!(f, "probing {ip} before offering it"),
            Self::Released(ip) => write!(f, "client released {ip}"),
            Self::Declined(ip) => write!(f, "client declined {ip}: out of use for a while"),
            Self::UnknownClient => {
                f.write_str("known-clients-only mode: no known profile for this MAC")
            }
            Self::NoPool(a) => write!(f, "no pool serves {a}: not answering"),
            Self::Exhausted => f.write_str("address pool exhausted"),
            Self::ReservedBusy(ip) => write!(
                f,
                "reserved address {ip} is held by another client or declined"
            ),
            Self::ReservedElsewhere(ip) => {
                write!(f, "reserved address {ip} is not in this request's subnet")
            }
            Self::ReservedIsServer(ip) => write!(
                f,
                "reserved address {ip} is netboot's own address: not answering (fix the profile)"
            ),
            Self::Malformed(e) => write!(f, "malformed request: {e}"),
            Self::Silent(why) => f.write_str(why),
        }
    }
}

/// What the shell must do for one request.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The reply to send, after `changes` are on disk.
    pub reply: Option<Reply>,
    /// Why, for the log.
    pub reason: Reason,
    /// Lease records to persist before the reply leaves.
    pub changes: Vec<Lease>,
    /// Ping this address, then call [`Core::probe_result`](crate::dhcp::decide::Core::probe_result) with the request.
    pub probe: Option<Ipv4Addr>,
    /// The profile the client matched (for the log and the status page).
    pub profile: Option<String>,
}

impl Decision {
    pub(crate) fn silent(reason: Reason) -> Self {
        Self {
            reply: None,
            reason,
            changes: Vec::new(),
            probe: None,
            profile: None,
        }
    }
}
