//! Admission of TFTP requests under the server's limits, without I/O: which
//! request starts a transfer now, which waits for a slot, which is dropped.
//!
//! A request over a limit is never refused with an ERROR (a client that gets
//! one gives up, while one left unanswered asks again): it is *held* and
//! starts when a slot frees. The rules:
//!
//! - `max_transfers` transfers run at once in all (threads and sockets).
//! - An address always has up to `max_per_client` of them when slots are
//!   free. Beyond that it may take more only while `max_per_client` slots
//!   stay free, so a newcomer starts at once even while one address (a NAT,
//!   a lab of containers, a storm) holds most slots.
//! - When a slot frees, the held request of the address with the fewest
//!   transfers running goes first (among equals, the address served least
//!   recently, so they take turns); within an address, oldest first.
//! - A held request whose client has not been heard from (first sent or
//!   repeated) for longer than `patience` is dropped: that client has given
//!   up. A repeated request (the same datagram from the same address and
//!   port) refreshes its held entry and never adds a second one.
//! - At most `max_held` requests are held. Past that a request from an
//!   address holding fewer takes the place of the newest request of the
//!   address holding most; otherwise it is dropped. Either way the dropped
//!   client hears nothing and asks again.
//!
//! Time comes in as arguments; the shell (`tftp::server`) does the rest.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// A client's transfer: its address and port, and which request it made.
/// Two requests from one port are the same transfer only when they are the
/// same datagram: a different request from a port whose transfer still runs
/// is a new client that was given the port of one gone (ports are reused),
/// not a repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Client {
    /// Address and port.
    pub peer: SocketAddr,
    /// A hash of the request datagram.
    pub request: u64,
}

impl Client {
    /// The client of request `datagram` from `peer`.
    pub fn new(peer: SocketAddr, datagram: &[u8]) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        datagram.hash(&mut hasher);
        Self {
            peer,
            request: hasher.finish(),
        }
    }

    fn ip(&self) -> IpAddr {
        self.peer.ip()
    }
}

/// The limits admission enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Transfers running at once, in all.
    pub max_transfers: usize,
    /// Transfers an address is always allowed, and the slots kept free for
    /// other addresses when it runs more.
    pub max_per_client: usize,
    /// Requests held at once, in all.
    pub max_held: usize,
    /// A held request whose client is silent this long is dropped.
    pub patience: Duration,
}

/// What to do with a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision<T> {
    /// Start its transfer now (it counts as running from here).
    Start(T),
    /// Held until a slot frees; `evicted` is a held request dropped to
    /// make room for it.
    Held {
        /// The client whose held request was dropped, if any.
        evicted: Option<Client>,
    },
    /// The same client port is already held: its entry was refreshed.
    Refreshed,
    /// The same client port already has a transfer running: a repeat for it.
    Running,
    /// Too many held already: dropped without an answer.
    Dropped,
}

/// A held request that starts now (it counts as running).
#[derive(Debug, PartialEq, Eq)]
pub struct Started<T> {
    /// The client.
    pub client: Client,
    /// The request as it was held.
    pub item: T,
    /// How long it was held.
    pub waited: Duration,
}

struct Held<T> {
    client: Client,
    arrived: Instant,
    seq: u64,
    item: T,
}

/// The requests one address holds, oldest first.
struct Queue<T> {
    held: VecDeque<Held<T>>,
    /// When (in starts) this address last had a held request started.
    served: u64,
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Self {
            held: VecDeque::new(),
            served: 0,
        }
    }
}

/// The admission state: transfers running, requests held.
pub struct Admission<T> {
    limits: Limits,
    running: HashSet<Client>,
    per_addr: HashMap<IpAddr, usize>,
    queues: HashMap<IpAddr, Queue<T>>,
    /// Held clients, with when each was last heard from.
    last_seen: HashMap<Client, Instant>,
    seq: u64,
    /// Held requests started so far.
    starts: u64,
}

impl<T> Admission<T> {
    /// Empty, under `limits` (each at least 1).
    pub fn new(limits: Limits) -> Self {
        let limits = Limits {
            max_transfers: limits.max_transfers.max(1),
            max_per_client: limits.max_per_client.max(1),
            max_held: limits.max_held.max(1),
            patience: limits.patience,
        };
        Self {
            limits,
            running: HashSet::new(),
            per_addr: HashMap::new(),
            queues: HashMap::new(),
            last_seen: HashMap::new(),
            seq: 0,
            starts: 0,
        }
    }

    /// Transfers running.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Requests held.
    pub fn held(&self) -> usize {
        self.last_seen.len()
    }

    /// A request from `client` arrived at `now`.
    pub fn request(&mut self, client: Client, item: T, now: Instant) -> Decision<T> {
        if self.running.contains(&client) {
            return Decision::Running;
        }
        if let Some(seen) = self.last_seen.get_mut(&client) {
            *seen = now;
            return Decision::Refreshed;
        }
        let waiting = self.queues.get(&client.ip()).map_or(0, |q| q.held.len());
        if waiting == 0 && self.can_start(client.ip()) {
            self.mark_running(client);
            return Decision::Start(item);
        }
        let mut evicted = None;
        if self.held() >= self.limits.max_held {
            self.purge(now);
        }
        if self.held() >= self.limits.max_held {
            match self.evict_for(client.ip()) {
                Some(victim) => evicted = Some(victim),
                None => return Decision::Dropped,
            }
        }
        self.hold(client, item, now);
        Decision::Held { evicted }
    }

    /// The transfer of `client` ended at `now`: the held requests that start
    /// in the slot it freed (and any other slot free for them).
    pub fn finish(&mut self, client: Client, now: Instant) -> Vec<Started<T>> {
        if self.running.remove(&client) {
            if let Some(n) = self.per_addr.get_mut(&client.ip()) {
                *n -= 1;
                if *n == 0 {
                    self.per_addr.remove(&client.ip());
                }
            }
        }
        self.fill(now)
    }

    /// Drops every held request whose client has been silent too long.
    pub fn purge(&mut self, now: Instant) {
        let patience = self.limits.patience;
        let last_seen = &mut self.last_seen;
        for queue in self.queues.values_mut() {
            queue.held.retain(|h| {
                let alive = last_seen
                    .get(&h.client)
                    .is_some_and(|seen| now.saturating_duration_since(*seen) <= patience);
                if !alive {
                    last_seen.remove(&h.client);
                }
                alive
            });
        }
        self.queues.retain(|_, q| !q.held.is_empty());
    }

    fn can_start(&self, ip: IpAddr) -> bool {
        let free = self.limits.max_transfers.saturating_sub(self.running.len());
        let mine = self.per_addr.get(&ip).copied().unwrap_or(0);
        free > 0 && (mine < self.limits.max_per_client || free > self.limits.max_per_client)
    }

    fn mark_running(&mut self, client: Client) {
        self.running.insert(client);
        *self.per_addr.entry(client.ip()).or_insert(0) += 1;
    }

    fn hold(&mut self, client: Client, item: T, now: Instant) {
        self.seq += 1;
        let held = Held {
            client,
            arrived: now,
            seq: self.seq,
            item,
        };
        self.queues
            .entry(client.ip())
            .or_default()
            .held
            .push_back(held);
        self.last_seen.insert(client, now);
    }

    /// Drops the newest request of the address holding most, if it holds
    /// at least two more than `ip`; returns its client.
    fn evict_for(&mut self, ip: IpAddr) -> Option<Client> {
        let mine = self.queues.get(&ip).map_or(0, |q| q.held.len());
        let (fattest, most) = self
            .queues
            .iter()
            .map(|(addr, q)| (*addr, q.held.len()))
            .max_by_key(|(addr, len)| (*len, std::cmp::Reverse(*addr)))?;
        if most <= mine + 1 {
            return None;
        }
        let queue = self.queues.get_mut(&fattest)?;
        let victim = queue.held.pop_back()?;
        if queue.held.is_empty() {
            self.queues.remove(&fattest);
        }
        self.last_seen.remove(&victim.client);
        Some(victim.client)
    }

    /// Starts held requests while slots allow: fewest running first, then
    /// the address served least recently, then the oldest request.
    fn fill(&mut self, now: Instant) -> Vec<Started<T>> {
        let mut started = Vec::new();
        while let Some(ip) = self.next_address() {
            let Some(held) = self.pop_alive(ip, now) else {
                continue;
            };
            self.mark_running(held.client);
            started.push(Started {
                client: held.client,
                waited: now.saturating_duration_since(held.arrived),
                item: held.item,
            });
        }
        started
    }

    /// The address whose held request goes next, if any may start.
    fn next_address(&self) -> Option<IpAddr> {
        self.queues
            .iter()
            .filter(|(ip, _)| self.can_start(**ip))
            .filter_map(|(ip, q)| q.held.front().map(|h| (*ip, q.served, h.seq)))
            .min_by_key(|(ip, served, seq)| {
                let running = self.per_addr.get(ip).copied().unwrap_or(0);
                (running, *served, *seq)
            })
            .map(|(ip, _, _)| ip)
    }

    /// The oldest held request of `ip`, or `None` if it was stale (then
    /// dropped; the caller asks again).
    fn pop_alive(&mut self, ip: IpAddr, now: Instant) -> Option<Held<T>> {
        let queue = self.queues.get_mut(&ip)?;
        let held = queue.held.pop_front();
        self.starts += 1;
        queue.served = self.starts;
        if queue.held.is_empty() {
            self.queues.remove(&ip);
        }
        let held = held?;
        let seen = self.last_seen.remove(&held.client)?;
        (now.saturating_duration_since(seen) <= self.limits.patience).then_some(held)
    }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
