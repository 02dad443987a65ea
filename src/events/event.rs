//! What can happen in netboot, as the subsystems report it: plain data,
//! serialisable as the JSON the API and the live page read.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::mac::MacAddr;

/// One thing that happened.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// A DHCP message was answered (or not) and why.
    Dhcp(Exchange),
    /// An address was probed before it was offered.
    Probe(Probe),
    /// A download or upload began.
    TransferStarted(Started),
    /// A transfer moved on (sent from time to time, not per block).
    TransferProgress(Progress),
    /// A transfer ended.
    TransferEnded(Ended),
    /// The profiles or the image catalogue were read again.
    Reload(Reload),
    /// Another DHCP server answered a client on a served segment.
    RogueDhcp(Rogue),
    /// The lease database stopped answering, or answers again.
    LeaseStore(StoreHealth),
}

/// One DHCP decision.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    /// When it was decided.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// The client.
    pub mac: MacAddr,
    /// What it sent: `DISCOVER`, `REQUEST`, ...
    pub message: String,
    /// What we answered (`OFFER`, `ACK`, `NAK`), `None` when we kept quiet.
    pub reply: Option<String>,
    /// The address offered or acknowledged.
    pub address: Option<Ipv4Addr>,
    /// Why, in words.
    pub reason: String,
    /// The profile that matched, if any.
    pub profile: Option<String>,
    /// From the request's arrival to the decision (the commit of a lease
    /// included when the reply waited for it).
    #[serde(with = "micros")]
    pub latency: Duration,
}

/// One address probe.
#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    /// The address probed.
    pub address: Ipv4Addr,
    /// `arp` or `icmp`.
    pub by: &'static str,
    /// Whether something answered (the address is in use).
    pub in_use: bool,
}

/// Which server moved the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TFTP.
    Tftp,
    /// HTTP.
    Http,
}

impl Protocol {
    /// The name used in metrics' labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tftp => "tftp",
            Protocol::Http => "http",
        }
    }
}

/// Identifies one transfer from its start to its end.
pub type TransferId = u64;

/// A transfer began.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// Its id (see [`super::Events::next_id`]).
    pub id: TransferId,
    /// TFTP or HTTP.
    pub protocol: Protocol,
    /// When.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// The client's address.
    pub peer: SocketAddr,
    /// The client's MAC, when a lease names it.
    pub mac: Option<MacAddr>,
    /// The file asked for.
    pub file: String,
    /// Bytes to send, when known.
    pub size: Option<u64>,
    /// True for an upload (TFTP write).
    pub upload: bool,
    /// Bytes moved so far, kept current by the transfer itself (progress
    /// events are spaced out; the page reads this).
    #[serde(skip)]
    pub moved: Arc<AtomicU64>,
}

/// A transfer's bytes so far.
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    /// The transfer.
    pub id: TransferId,
    /// Bytes moved so far.
    pub bytes: u64,
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Every byte arrived.
    Done,
    /// Refused or failed: the TFTP error code or HTTP status, and why.
    Failed {
        /// TFTP error code or HTTP status.
        code: u16,
        /// In words.
        why: String,
    },
    /// The client stopped answering or went away.
    Gone {
        /// In words.
        why: String,
    },
    /// The client asked for the size only and ended the transfer after
    /// the answer (UEFI firmware's first request for each file).
    SizeProbe,
}

impl Outcome {
    /// The name used in metrics' labels.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Failed { .. } => "failed",
            Outcome::Gone { .. } => "gone",
            Outcome::SizeProbe => "size_probe",
        }
    }
}

/// A transfer ended.
#[derive(Debug, Clone, Serialize)]
pub struct Ended {
    /// The transfer.
    pub id: TransferId,
    /// When.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// How.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Bytes moved.
    pub bytes: u64,
    /// Datagrams sent again (TFTP).
    pub retransmissions: u64,
}

/// What was read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reloaded {
    /// The profile registry.
    Profiles,
    /// The image catalogue.
    Catalogue,
}

/// A reload and its result.
#[derive(Debug, Clone, Serialize)]
pub struct Reload {
    /// When.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// Of what.
    pub what: Reloaded,
    /// Taken (true) or rejected, the old state kept (false).
    pub ok: bool,
    /// The errors of a rejected edit, or a summary of a taken one.
    pub detail: String,
}

/// A reply from another DHCP server.
#[derive(Debug, Clone, Serialize)]
pub struct Rogue {
    /// When.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// Its address (option 54, else the IP source).
    pub server: Ipv4Addr,
    /// The client it answered.
    pub client: MacAddr,
    /// What it sent (`OFFER`, `ACK`, ...).
    pub message: String,
    /// The interface it was heard on.
    pub interface: String,
}

/// The shared lease database's health, as the DHCP server saw it last.
#[derive(Debug, Clone, Serialize)]
pub struct StoreHealth {
    /// When it changed.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// True when it answers.
    pub up: bool,
    /// The database (`user@host:port/db`) and, when down, why.
    pub detail: String,
}

/// Times as milliseconds since the Unix epoch.
pub mod unix_ms {
    use std::time::{SystemTime, UNIX_EPOCH};

    /// Serialises `at`.
    pub fn serialize<S: serde::Serializer>(at: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        let ms = at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        s.serialize_u64(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

/// Durations as microseconds.
mod micros {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }
}
