//! The live state the status page and the API show, folded from the event
//! stream and nothing else: transfers in progress, the last finished ones,
//! each client's last boot as a timeline, the last reload of the profiles
//! and of the catalogue, other DHCP servers heard. Bounded everywhere: old
//! entries go first. Pure: time comes in with each event.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::Ipv4Addr;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::event::{
    unix_ms, Ended, Event, Exchange, Outcome, Progress, Protocol, Reload, Reloaded, Rogue, Started,
    StoreHealth, TransferId,
};
use crate::mac::MacAddr;

/// Finished transfers kept.
pub const FINISHED_KEPT: usize = 50;
/// Clients whose timeline is kept (the least recently seen go first, an
/// eighth at a time).
pub const CLIENTS_KEPT: usize = 2048;
/// Steps kept in one client's timeline.
pub const STEPS_KEPT: usize = 64;
/// A DISCOVER after this much silence from a client starts a new boot.
pub const NEW_BOOT_AFTER: Duration = Duration::from_secs(300);
/// Clients each other DHCP server is remembered with.
const ROGUE_CLIENTS_KEPT: usize = 16;

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

/// One step of a client's boot.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// When.
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// `dhcp`, `tftp` or `http`.
    pub by: &'static str,
    /// What happened: `DISCOVER`, `OFFER 10.0.0.5`, a file's name.
    pub what: String,
    /// How it went (a reason, an outcome), empty while a transfer runs.
    pub detail: String,
    /// The transfer, for a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferId>,
}

/// What is known of one client.
#[derive(Debug, Clone, Serialize)]
pub struct Client {
    /// Its MAC.
    pub mac: MacAddr,
    /// The profile it matched last.
    pub profile: Option<String>,
    /// The address it was given last.
    pub address: Option<Ipv4Addr>,
    /// When it was last heard of.
    #[serde(with = "unix_ms")]
    pub last_seen: SystemTime,
    /// Its last boot, oldest step first.
    pub boot: VecDeque<Step>,
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

    fn dhcp(&mut self, x: &Exchange) -> Applied {
        let client = self.client(x.mac, x.at);
        if x.message == "DISCOVER" && starts_boot(client, x.at) {
            client.boot.clear();
        }
        if x.profile.is_some() {
            client.profile.clone_from(&x.profile);
        }
        if x.reply.as_deref() == Some("ACK") {
            client.address = x.address.or(client.address);
        }
        push(client, step(x.at, "dhcp", x.message.clone(), String::new()));
        if let Some(reply) = &x.reply {
            let what = match x.address {
                Some(ip) => format!("{reply} {ip}"),
                None => reply.clone(),
            };
            push(client, step(x.at, "dhcp", what, x.reason.clone()));
        } else {
            push(
                client,
                step(x.at, "dhcp", "no reply".into(), x.reason.clone()),
            );
        }
        Applied::default()
    }

    fn started(&mut self, s: &Started) -> Applied {
        if let Some(mac) = s.mac {
            let client = self.client(mac, s.at);
            let mut step = step(s.at, s.protocol.as_str(), s.file.clone(), String::new());
            step.transfer = Some(s.id);
            push(client, step);
        }
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

    /// Writes a transfer's outcome into its step of the client's timeline.
    fn end_step(&mut self, mac: MacAddr, t: &Transfer) {
        let Some(client) = self.clients.get_mut(&mac) else {
            return;
        };
        let id = t.started.id;
        if let Some(step) = client
            .boot
            .iter_mut()
            .rev()
            .find(|s| s.transfer == Some(id))
        {
            step.detail = describe_outcome(t);
        }
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

    /// The client's record, made when new (the stalest one goes when full).
    fn client(&mut self, mac: MacAddr, at: SystemTime) -> &mut Client {
        if !self.clients.contains_key(&mac) && self.clients.len() >= CLIENTS_KEPT {
            self.forget_stalest();
        }
        let client = self.clients.entry(mac).or_insert_with(|| Client {
            mac,
            profile: None,
            address: None,
            last_seen: at,
            boot: VecDeque::new(),
        });
        client.last_seen = client.last_seen.max(at);
        client
    }

    /// Forgets the eighth of the clients seen least recently (in one go, so
    /// that a storm of new clients costs little per client).
    fn forget_stalest(&mut self) {
        let mut seen: Vec<(SystemTime, MacAddr)> = self
            .clients
            .values()
            .map(|c| (c.last_seen, c.mac))
            .collect();
        let cut = (CLIENTS_KEPT / 8).min(seen.len() - 1);
        seen.select_nth_unstable(cut);
        for (_, mac) in &seen[..cut] {
            self.clients.remove(mac);
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

/// Whether a DISCOVER at `at` begins a new boot of `client`.
fn starts_boot(client: &Client, at: SystemTime) -> bool {
    match client.boot.back() {
        None => false,
        Some(last) => at.duration_since(last.at).unwrap_or_default() >= NEW_BOOT_AFTER,
    }
}

fn step(at: SystemTime, by: &'static str, what: String, detail: String) -> Step {
    Step {
        at,
        by,
        what,
        detail,
        transfer: None,
    }
}

fn push(client: &mut Client, step: Step) {
    if client.boot.len() >= STEPS_KEPT {
        client.boot.pop_front();
    }
    client.boot.push_back(step);
}

/// How a transfer went, for its step in a timeline.
fn describe_outcome(t: &Transfer) -> String {
    let secs = t
        .updated
        .duration_since(t.started.at)
        .unwrap_or_default()
        .as_secs_f64();
    match &t.outcome {
        Some(Outcome::Done) => format!("done: {} bytes in {secs:.1} s", t.bytes),
        Some(Outcome::Failed { code, why }) => format!("failed ({code}): {why}"),
        Some(Outcome::Gone { why }) => format!("stopped after {} bytes: {why}", t.bytes),
        Some(Outcome::SizeProbe) => "size asked, then ended by the client".into(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "live_tests.rs"]
mod tests;
