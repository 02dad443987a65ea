//! The JSON documents of the status API, built from the event stream's
//! live state and the lease view at the moment they are asked for. The
//! page reads `/api/status`, which holds all of them; docs/status.md
//! describes each field.

use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::dhcp::view::{Holder, LeaseView};
use crate::events::event::unix_ms;
use crate::events::event::{Reload, StoreHealth};
use crate::events::live::{Client, Live, RogueServer, Transfer};
use crate::events::Events;
use crate::mac::MacAddr;

/// Clients listed in `/api/status` (all are in `/api/clients`).
const CLIENTS_SHOWN: usize = 50;

/// What the status server reads.
#[derive(Clone)]
pub struct Sources {
    /// The event stream.
    pub events: Events,
    /// The granted leases.
    pub leases: LeaseView,
    /// The DHCP pools, `(first, last)`.
    pub pools: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// When netboot started.
    pub started: SystemTime,
    /// What may be changed, with the token (none without a state directory).
    pub control: Option<super::control::Control>,
}

/// A transfer with what the page shows of it.
#[derive(Serialize)]
pub struct TransferRow {
    #[serde(flatten)]
    transfer: Transfer,
    /// Bytes a second, so far.
    rate: u64,
    /// Seconds left at that rate, when the size is known.
    eta_s: Option<u64>,
}

fn row(transfer: &Transfer, now: SystemTime) -> TransferRow {
    let transfer = transfer.at(now);
    let rate = transfer.rate();
    let left = transfer
        .started
        .size
        .map(|s| s.saturating_sub(transfer.bytes));
    let eta_s = match left {
        Some(left) if rate > 0.0 => Some((left as f64 / rate).ceil() as u64),
        _ => None,
    };
    TransferRow {
        transfer,
        rate: rate as u64,
        eta_s,
    }
}

/// One lease.
#[derive(Serialize)]
pub struct LeaseRow {
    ip: Ipv4Addr,
    mac: MacAddr,
    hostname: Option<String>,
    /// Seconds since the Unix epoch.
    expires: u64,
    /// The profile the client matched last (from its DHCP exchanges).
    profile: Option<String>,
}

/// One pool.
#[derive(Serialize)]
pub struct PoolRow {
    first: Ipv4Addr,
    last: Ipv4Addr,
    size: u64,
    leased: u64,
}

/// `/api/status`: everything the page shows.
#[derive(Serialize)]
pub struct Status<'a> {
    version: &'static str,
    #[serde(with = "unix_ms")]
    now: SystemTime,
    uptime_s: u64,
    transfers: Vec<TransferRow>,
    finished: Vec<TransferRow>,
    leases: Vec<LeaseRow>,
    pools: Vec<PoolRow>,
    clients: Vec<&'a Client>,
    reloads: Vec<&'a Reload>,
    rogue_dhcp: Vec<&'a RogueServer>,
    lease_store: Option<&'a StoreHealth>,
}

impl Sources {
    /// The whole status, as JSON text.
    pub fn status_json(&self) -> String {
        // the leases are copied before the event stream's lock is taken
        let bound = self.bound_now();
        let pools = self.pools_of(&bound);
        let live = self.events.live();
        let now = SystemTime::now();
        let status = Status {
            version: env!("CARGO_PKG_VERSION"),
            now,
            uptime_s: now
                .duration_since(self.started)
                .unwrap_or_default()
                .as_secs(),
            transfers: live.running().map(|t| row(t, now)).collect(),
            finished: live.finished().map(|t| row(t, now)).collect(),
            leases: leases(&live, bound),
            pools,
            clients: live.clients().into_iter().take(CLIENTS_SHOWN).collect(),
            reloads: live.reloads().collect(),
            rogue_dhcp: live.rogues().collect(),
            lease_store: live.lease_store(),
        };
        to_json(&status)
    }

    /// The bound leases not expired yet.
    fn bound_now(&self) -> Vec<(Ipv4Addr, Holder)> {
        let now = unix_now();
        let mut bound = self.leases.bound();
        bound.retain(|(_, h)| h.expires > now);
        bound
    }

    /// Each pool's size and the addresses of it leased now.
    pub fn pools(&self) -> Vec<PoolRow> {
        self.pools_of(&self.bound_now())
    }

    fn pools_of(&self, bound: &[(Ipv4Addr, Holder)]) -> Vec<PoolRow> {
        self.pools
            .iter()
            .map(|&(first, last)| PoolRow {
                first,
                last,
                size: u64::from(u32::from(last)) - u64::from(u32::from(first)) + 1,
                leased: bound
                    .iter()
                    .filter(|(ip, _)| (first..=last).contains(ip))
                    .count() as u64,
            })
            .collect()
    }

    /// The image catalogue's entries, as JSON text.
    pub fn images_json(&self) -> String {
        let Some(control) = &self.control else {
            return "[]".into();
        };
        let catalogue = control.catalogue.load();
        let entries: Vec<serde_json::Value> = catalogue
            .entries
            .iter()
            .map(|e| {
                let signed = e.recognised.boots.iter().any(|b| {
                    matches!(
                        b.secure_boot,
                        crate::catalogue::model::SecureBoot::Signed { .. }
                    )
                });
                serde_json::json!({
                    "id": e.id,
                    "title": e.recognised.title,
                    "kind": format!("{:?}", e.recognised.kind),
                    "size": e.size,
                    "secure_boot": signed,
                })
            })
            .collect();
        to_json(&entries)
    }

    /// Every known client, as JSON text.
    pub fn clients_json(&self) -> String {
        to_json(&self.events.live().clients())
    }

    /// One client, as JSON text; `None` when it is not known.
    pub fn client_json(&self, mac: MacAddr) -> Option<String> {
        self.events.live().client_of(mac).map(to_json)
    }

    /// The metrics in Prometheus' text format, the pools' gauges set now.
    pub fn metrics_text(&self) -> String {
        let metrics = self.events.metrics();
        for pool in self.pools() {
            let range = format!("{}-{}", pool.first, pool.last);
            metrics.set_pool(&range, pool.size, pool.leased);
        }
        metrics.encode()
    }
}

/// The leases, each with the profile its client matched.
fn leases(live: &Live, bound: Vec<(Ipv4Addr, Holder)>) -> Vec<LeaseRow> {
    bound
        .into_iter()
        .map(|(ip, holder)| LeaseRow {
            ip,
            mac: holder.mac,
            profile: live.client_of(holder.mac).and_then(|c| c.profile.clone()),
            hostname: holder.hostname,
            expires: holder.expires,
        })
        .collect()
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
