//! The live state the status page and the API show, folded from the event
//! stream and nothing else: transfers in progress, the last finished ones,
//! each client's last boot as a timeline, the last reload of the profiles
//! and of the catalogue, other DHCP servers heard. Bounded everywhere: old
//! entries go first. Pure: time comes in with each event.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use serde::Serialize;

use super::event::{
    unix_ms, Ended, Event, Outcome, Progress, Protocol, Reload, Reloaded, Rogue, Started,
    StoreHealth, TransferId,
};
use crate::mac::MacAddr;

/// Finished transfers kept.
pub const FINISHED_KEPT: usize = 50;
/// Clients each other DHCP server is remembered with.
const ROGUE_CLIENTS_KEPT: usize = 16;

mod timeline;

pub use timeline::{Client, Step, CLIENTS_KEPT, NEW_BOOT_AFTER, STEPS_KEPT};

/// One transfer, in progress or finished.
#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    /// As started.
    #[serde(flatten)]
    pub started: Started,
    /// Bytes moved so far.
    pub bytes: u64,
    /// When the last bytes were counted.
    #[serde(with = "unix_ms")]
    pub updated: SystemTime,
    /// How it ended, once it has.
    #[serde(flatten)]
    pub outcome: Option<Outcome>,
    /// Datagrams sent again (TFTP).
    pub retransmissions: u64,
}

impl Transfer {
    /// As it stands at `now`: a running transfer's bytes as the transfer
    /// itself counts them.
    pub fn at(&self, now: SystemTime) -> Transfer {
        let mut t = self.clone();
        if t.outcome.is_none() {
            t.bytes = t.bytes.max(t.started.moved.load(Ordering::Relaxed));
            t.updated = now.max(t.updated);
        }
        t
    }

    /// Bytes a second from its start to its last count.
    pub fn rate(&self) -> f64 {
        let secs = self
            .updated
            .duration_since(self.started.at)
            .unwrap_or_default()
            .as_secs_f64();
        if secs > 0.0 {
            self.bytes as f64 / secs
        } else {
            0.0
        }
    }
}

/// Another DHCP server heard on a served segment.
#[derive(Debug, Clone, Serialize)]
pub struct RogueServer {
    /// Its address.
    pub server: Ipv4Addr,
    /// Where it was heard.
    pub interface: String,
    /// First heard.
    #[serde(with = "unix_ms")]
    pub first_seen: SystemTime,
    /// Last heard.
    #[serde(with = "unix_ms")]
    pub last_seen: SystemTime,
    /// Replies heard.
    pub replies: u64,
    /// Some of the clients it answered.
    pub clients: Vec<MacAddr>,
}

/// The state, folded from events.
#[derive(Debug, Default)]
pub struct Live {
    running: BTreeMap<TransferId, Transfer>,
    finished: VecDeque<Transfer>,
    clients: HashMap<MacAddr, Client>,
    reloads: BTreeMap<&'static str, Reload>,
    rogues: BTreeMap<Ipv4Addr, RogueServer>,
    lease_store: Option<StoreHealth>,
}

/// What folding one event changed, for the metrics.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Applied {
    /// New bytes of a transfer, and its protocol and direction (upload).
    pub bytes: Option<(Protocol, bool, u64)>,
    /// The protocol of a transfer that started or ended.
    pub protocol: Option<Protocol>,
    /// True when a server was heard for the first time.
    pub new_rogue: bool,
}

impl Live {
    /// Folds `event` in, at `now`.
    pub fn apply(&mut self, event: &Event, now: SystemTime) -> Applied {
        match event {
            Event::Dhcp(x) => self.dhcp(x),
            Event::Probe(_) => Applied::default(),
            Event::TransferStarted(s) => self.started(s),
            Event::TransferProgress(p) => self.progress(p, now),
            Event::TransferEnded(e) => self.ended(e),
            Event::Reload(r) => {
                self.reloads.insert(reload_name(r.what), r.clone());
                Applied::default()
            }
            Event::RogueDhcp(r) => self.rogue(r),
            Event::LeaseStore(h) => {
                self.lease_store = Some(h.clone());
                Applied::default()
            }
        }
    }

    /// The lease database's last reported health (none: no database, or
    /// nothing happened to it yet).
    pub fn lease_store(&self) -> Option<&StoreHealth> {
        self.lease_store.as_ref()
    }

    fn started(&mut self, s: &Started) -> Applied {
        self.start_step(s);
        let transfer = Transfer {
            started: s.clone(),
            bytes: 0,
            updated: s.at,
            outcome: None,
            retransmissions: 0,
        };
        self.running.insert(s.id, transfer);
        Applied {
            protocol: Some(s.protocol),
            ..Applied::default()
        }
    }

    fn progress(&mut self, p: &Progress, now: SystemTime) -> Applied {
        let Some(t) = self.running.get_mut(&p.id) else {
            return Applied::default();
        };
        let new = p.bytes.saturating_sub(t.bytes);
        t.bytes = t.bytes.max(p.bytes);
        t.updated = now;
        Applied {
            bytes: Some((t.started.protocol, t.started.upload, new)),
            ..Applied::default()
        }
    }

    fn ended(&mut self, e: &Ended) -> Applied {
        let Some(mut t) = self.running.remove(&e.id) else {
            return Applied::default();
        };
        let new = e.bytes.saturating_sub(t.bytes);
        t.bytes = t.bytes.max(e.bytes);
        t.updated = e.at;
        t.outcome = Some(e.outcome.clone());
        t.retransmissions = e.retransmissions;
        if let Some(mac) = t.started.mac {
            self.end_step(mac, &t);
        }
        let applied = Applied {
            bytes: Some((t.started.protocol, t.started.upload, new)),
            protocol: Some(t.started.protocol),
            new_rogue: false,
        };
        self.finished.push_front(t);
        self.finished.truncate(FINISHED_KEPT);
        applied
    }

    fn rogue(&mut self, r: &Rogue) -> Applied {
        let new_rogue = !self.rogues.contains_key(&r.server);
        let server = self.rogues.entry(r.server).or_insert_with(|| RogueServer {
            server: r.server,
            interface: r.interface.clone(),
            first_seen: r.at,
            last_seen: r.at,
            replies: 0,
            clients: Vec::new(),
        });
        server.last_seen = r.at;
        server.replies += 1;
        if !server.clients.contains(&r.client) && server.clients.len() < ROGUE_CLIENTS_KEPT {
            server.clients.push(r.client);
        }
        Applied {
            new_rogue,
            ..Applied::default()
        }
    }

    /// Transfers in progress, oldest first.
    pub fn running(&self) -> impl Iterator<Item = &Transfer> {
        self.running.values()
    }

    /// Finished transfers, newest first.
    pub fn finished(&self) -> impl Iterator<Item = &Transfer> {
        self.finished.iter()
    }

    /// Known clients, most recently seen first.
    pub fn clients(&self) -> Vec<&Client> {
        let mut all: Vec<&Client> = self.clients.values().collect();
        all.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then(a.mac.cmp(&b.mac)));
        all
    }

    /// One client.
    pub fn client_of(&self, mac: MacAddr) -> Option<&Client> {
        self.clients.get(&mac)
    }

    /// The last reload of each kind.
    pub fn reloads(&self) -> impl Iterator<Item = &Reload> {
        self.reloads.values()
    }

    /// Other DHCP servers heard.
    pub fn rogues(&self) -> impl Iterator<Item = &RogueServer> {
        self.rogues.values()
    }
}

fn reload_name(what: Reloaded) -> &'static str {
    match what {
        Reloaded::Profiles => "profiles",
        Reloaded::Catalogue => "catalogue",
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
