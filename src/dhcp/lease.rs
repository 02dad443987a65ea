//! The lease vocabulary shared by the table, the store and the decision log:
//! states, records, holders and allocations.

use std::net::Ipv4Addr;

use crate::mac::MacAddr;

/// Seconds since the Unix epoch.
pub type Secs = u64;

/// What a lease record says about its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeaseState {
    /// Offered to a client, waiting for its REQUEST (not persisted).
    Offered,
    /// Granted by an ACK.
    Bound,
    /// Given back by the client (RELEASE) or expired; remembered so the client
    /// gets the same address next time.
    Released,
    /// Declined by a client or found in use by the ping probe: nobody gets it
    /// until `expires`.
    Declined,
}

impl LeaseState {
    /// Lower-case name for tables and the journal.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Offered => "offered",
            Self::Bound => "bound",
            Self::Released => "released",
            Self::Declined => "declined",
        }
    }

    /// Parses [`LeaseState::as_str`] output.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "offered" => Self::Offered,
            "bound" => Self::Bound,
            "released" => Self::Released,
            "declined" => Self::Declined,
            _ => return None,
        })
    }
}

/// One lease record, as persisted and listed by `netboot leases`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub mac: MacAddr,
    /// When the lease (or the offer, or the decline hold) ends.
    pub expires: Secs,
    pub state: LeaseState,
    pub hostname: Option<String>,
}

/// Who holds an address right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Nobody: the address may be handed out (reservations aside).
    Free,
    /// This client (offered or bound, unexpired).
    Client(MacAddr),
    /// Out of use after a DECLINE or a ping answer.
    Declined,
}

/// An address chosen for a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    pub ip: Ipv4Addr,
    /// True when the address is new to this client and was not probed yet:
    /// the caller may want to ping it first.
    pub needs_probe: bool,
}
