//! Each client's last boot as a timeline, folded from the events that name
//! its MAC: a step per DHCP message and reply and per transfer (its outcome
//! written in when it ends); a DISCOVER after [`NEW_BOOT_AFTER`] of silence
//! starts a new boot. Bounded: [`STEPS_KEPT`] steps, [`CLIENTS_KEPT`]
//! clients, the least recently seen forgotten first.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::super::event::{unix_ms, Exchange, Outcome, Started, TransferId};
use super::{Applied, Live, Transfer};
use crate::mac::MacAddr;

/// Clients whose timeline is kept (the least recently seen go first, an
/// eighth at a time).
pub const CLIENTS_KEPT: usize = 2048;
/// Steps kept in one client's timeline.
pub const STEPS_KEPT: usize = 64;
/// A DISCOVER after this much silence from a client starts a new boot.
pub const NEW_BOOT_AFTER: Duration = Duration::from_secs(300);
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

impl Live {
    pub(super) fn dhcp(&mut self, x: &Exchange) -> Applied {
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

    /// A transfer's step in its client's timeline (when its MAC is known).
    pub(super) fn start_step(&mut self, s: &Started) {
        let Some(mac) = s.mac else {
            return;
        };
        let client = self.client(mac, s.at);
        let mut step = step(s.at, s.protocol.as_str(), s.file.clone(), String::new());
        step.transfer = Some(s.id);
        push(client, step);
    }

    /// Writes a transfer's outcome into its step of the client's timeline.
    pub(super) fn end_step(&mut self, mac: MacAddr, t: &Transfer) {
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
