//! The tokio shell around the decision core: sockets, the clock, probes and
//! the group-committing lease writer.
//!
//! The decision loop owns the [`Core`] and polls every socket itself (no
//! per-packet task hop). A decision with lease changes goes to the committer
//! task (`commit.rs`), which writes the changes of every decision queued
//! while its previous `fdatasync` ran with one write and one `fdatasync`, and
//! only then sends those replies: no ACK leaves before its lease is on disk.
//! Decisions without lease changes (OFFERs, NAKs) are sent at once. A probe
//! runs as its own task and re-feeds the request with the result, so other
//! clients are not held up. On cancel, the committer drains what is queued.
//!
//! Profiles come from a [`LookupSource`], called once per request: hand in a
//! closure over an `ArcSwap` (or anything else) to swap profiles on reload;
//! the reservations are re-read whenever the returned `Arc` changes.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use dhcproto::v4::{Message, MessageType};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::boot::ProfileLookup;
use crate::dhcp::backend::{self, Opened};
use crate::dhcp::commit::{commit_loop, send, Commit, Outgoing};
use crate::dhcp::config::{ConfigError, DhcpConfig};
use crate::dhcp::decide::{Core, Decision};
pub use crate::dhcp::listen::Sockets;
use crate::dhcp::listen::{recv_any, Listener};
use crate::dhcp::pool::{Lease, Secs};
use crate::dhcp::probe_run::{Done, Probes, Request};
use crate::dhcp::probing;
use crate::dhcp::reply::Context;
use crate::dhcp::report::Report;
use crate::dhcp::standby::Standby;
use crate::dhcp::store::StoreError;
use crate::dhcp::view::LeaseView;
use crate::dhcp::wire;
use crate::events::event::Probe;
use crate::events::{Event, Events};
use crate::mac::MacAddr;

/// Where the shell gets the current profiles: called once per request.
pub type LookupSource = Arc<dyn Fn() -> Arc<dyn ProfileLookup> + Send + Sync>;

/// A [`LookupSource`] that always returns `lookup` (no hot reload).
pub fn fixed_lookup(lookup: Arc<dyn ProfileLookup>) -> LookupSource {
    Arc::new(move || Arc::clone(&lookup))
}

/// Why the DHCP responder could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum DhcpError {
    #[error("invalid DHCP configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("cannot open DHCP socket {what}: {source}")]
    Socket {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("lease store task failed: {0}")]
    Task(String),
}

/// Compact the journal after this many records (and at least twice the table).
const COMPACT_AFTER: usize = 20_000;

/// Runs the DHCP responder until `cancel` fires.
pub async fn run(
    config: DhcpConfig,
    lookup: LookupSource,
    cancel: CancellationToken,
) -> Result<(), DhcpError> {
    run_with_view(config, lookup, LeaseView::default(), cancel).await
}

/// [`run`], also keeping `view` up to date with the granted leases (for
/// the TFTP server's per-client files).
pub async fn run_with_view(
    config: DhcpConfig,
    lookup: LookupSource,
    view: LeaseView,
    cancel: CancellationToken,
) -> Result<(), DhcpError> {
    let sockets = Sockets::open(&config)?;
    run_with_sockets(config, sockets, lookup, view, Events::default(), cancel).await
}

/// [`run_with_view`] on sockets opened beforehand ([`Sockets::open`], with
/// the same `config`), perhaps before privileges were dropped.
pub async fn run_with_sockets(
    config: DhcpConfig,
    sockets: Sockets,
    lookup: LookupSource,
    view: LeaseView,
    events: Events,
    cancel: CancellationToken,
) -> Result<(), DhcpError> {
    config.validate()?;
    let Opened {
        store,
        leases,
        others,
    } = backend::open(&config, &events, &cancel).await?;
    view.apply(&leases);
    let mut core = Core::new(config.clone());
    core.restore(&leases);
    let listeners = sockets.register()?;
    let names: Vec<&str> = listeners
        .iter()
        .map(|l| l.link.as_ref().map_or("*", |l| l.name.as_str()))
        .collect();
    info!(leases = leases.len(), mode = ?config.mode, "dhcp listening on {}", names.join(","));

    let (commit_tx, commit_rx) = mpsc::unbounded_channel::<Commit>();
    let committer = tokio::spawn(commit_loop(store, commit_rx, view.clone()));
    let mut shell = Shell {
        core,
        listeners: Arc::new(listeners),
        lookup,
        current: None,
        commit_tx,
        since_compact: 0,
        probes: Probes::new(),
        events,
        others,
        view,
        standby: Standby::new(config.answer_delay),
    };
    shell.decide_loop(cancel).await;
    let Shell { commit_tx, .. } = shell;
    drop(commit_tx);
    committer.await.map_err(|e| DhcpError::Task(e.to_string()))
}

fn unix_now() -> Secs {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

struct Shell {
    core: Core,
    listeners: Arc<Vec<Listener>>,
    lookup: LookupSource,
    current: Option<Arc<dyn ProfileLookup>>,
    commit_tx: mpsc::UnboundedSender<Commit>,
    since_compact: usize,
    /// Address probes in flight and the requests waiting for them.
    probes: Probes,
    /// Where decisions and probes are reported.
    events: Events,
    /// Leases other servers wrote to the shared database.
    others: Option<mpsc::Receiver<Vec<Lease>>>,
    /// The granted leases, for the TFTP and HTTP servers.
    view: LeaseView,
    /// OFFERs held by a standby (`dhcp.answer_delay_ms`).
    standby: Option<Standby>,
}

impl Shell {
    async fn decide_loop(&mut self, cancel: CancellationToken) {
        let listeners = Arc::clone(&self.listeners);
        let mut buf = vec![0u8; 4096];
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                (i, got) = recv_any(&listeners, &mut buf) => match got {
                    Ok((n, SocketAddr::V4(source))) => {
                        let bytes = buf.get(..n).unwrap_or(&[]);
                        self.on_datagram(bytes, source, i, Instant::now()).await;
                    }
                    Ok(_) => {}
                    Err(e) => warn!(error = %e, "dhcp receive failed"),
                },
                done = self.probes.next() => self.on_probe(done).await,
                rows = backend::others(&mut self.others) => self.on_others(rows),
            }
        }
    }

    /// Leases another server wrote: the database's word is final.
    fn on_others(&mut self, rows: Option<Vec<Lease>>) {
        match rows {
            Some(rows) => {
                debug!(leases = rows.len(), "leases written by other servers");
                self.core.restore(&rows);
                self.view.apply(&rows);
            }
            None => self.others = None,
        }
    }

    /// The current profiles; refreshes reservations when they were swapped.
    fn profiles(&mut self) -> Arc<dyn ProfileLookup> {
        let fresh = (self.lookup)();
        let same = self
            .current
            .as_ref()
            .is_some_and(|c| std::ptr::addr_eq(Arc::as_ptr(c), Arc::as_ptr(&fresh)));
        if !same {
            self.core.set_reservations(&fresh.reservations());
            self.current = Some(Arc::clone(&fresh));
        }
        fresh
    }

    async fn on_datagram(
        &mut self,
        bytes: &[u8],
        source: SocketAddrV4,
        listener: usize,
        received: Instant,
    ) {
        let msg = match wire::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                debug!(%source, error = %e, "ignoring undecodable datagram");
                return;
            }
        };
        let Some(l) = self.listeners.get(listener) else {
            return;
        };
        let ctx = Context {
            source,
            port: l.port,
            server_ip: l.server_ip,
        };
        if let (Some(s), Some(MessageType::Request)) = (&mut self.standby, msg.opts().msg_type()) {
            s.client_moved_on(MacAddr::from_slice(msg.chaddr()).unwrap_or(MacAddr([0; 6])));
        }
        let profiles = self.profiles();
        if tracing::enabled!(tracing::Level::DEBUG) {
            explain_choice(&*profiles, &msg);
        }
        let decision = self.core.handle(&msg, &ctx, &*profiles, unix_now());
        let req = Request {
            msg,
            ctx,
            listener,
            received,
        };
        self.carry_out(decision, req).await;
    }

    /// A probe ended: the request that started it is decided again with
    /// the verdict, then every request that waited for it.
    async fn on_probe(&mut self, done: Done) {
        let Done {
            ip,
            in_use,
            by,
            requests,
        } = done;
        if let Some(by) = by {
            let in_use = in_use.is_some();
            self.events.emit(Event::Probe(Probe {
                address: ip,
                by,
                in_use,
            }));
        }
        let profiles = self.profiles();
        let mut requests = requests.into_iter();
        let Some(first) = requests.next() else {
            return;
        };
        if let Some(why) = &in_use {
            exchange_span(&first.msg)
                .in_scope(|| warn!(%ip, "address in use, not offered ({why})"));
        }
        let (msg, ctx) = (&first.msg, &first.ctx);
        let now = unix_now();
        let d = self
            .core
            .probe_result(ip, in_use.is_some(), msg, ctx, &*profiles, now);
        self.carry_out(d, first).await;
        for req in requests {
            let d = self.core.handle(&req.msg, &req.ctx, &*profiles, now);
            self.carry_out(d, req).await;
        }
    }

    async fn carry_out(&mut self, d: Decision, req: Request) {
        let msg = &req.msg;
        let span = exchange_span(msg);
        let profile = d.profile.as_deref().unwrap_or("-");
        span.in_scope(
            || info!(reason = %d.reason, reply = ?d.reply.as_ref().map(|r| r.kind), profile, "decision"),
        );
        let report = Report::new(&self.events, msg, &d, req.received);
        let Some(l) = self.listeners.get(req.listener) else {
            return;
        };
        let offer = d
            .reply
            .as_ref()
            .is_some_and(|r| r.kind == MessageType::Offer);
        let out = d.reply.map(|r| Outgoing {
            sock: Arc::clone(&l.sock),
            bytes: r.bytes,
            dest: r.dest,
            link: l.link.clone(),
        });
        if let (true, Some(standby)) = (offer, &mut self.standby) {
            let mac = MacAddr::from_slice(msg.chaddr()).unwrap_or(MacAddr([0; 6]));
            let tx = self.commit_tx.clone();
            standby.hold_offer(mac, tx, d.changes, out, report);
        } else if !d.changes.is_empty() {
            // the reply (if any) leaves once the changes are on disk
            self.commit(d.changes, out, report);
        } else {
            if let Some(o) = out {
                send(&o).instrument(span).await;
            }
            report.sent();
        }
        if let Some(ip) = d.probe {
            self.start_probe(ip, req);
        }
    }

    fn commit(&mut self, changes: Vec<Lease>, out: Option<Outgoing>, report: Report) {
        self.since_compact += changes.len();
        let _ = self
            .commit_tx
            .send(Commit::Leases(changes, out, Some(Box::new(report))));
        if self.since_compact > COMPACT_AFTER.max(2 * self.core.table().len()) {
            self.since_compact = 0;
            let _ = self
                .commit_tx
                .send(Commit::Compact(self.core.table().snapshot()));
        }
    }

    /// Probes `ip` before it is offered to `req`'s client (or lets `req`
    /// wait for the probe of `ip` already running).
    fn start_probe(&mut self, ip: Ipv4Addr, req: Request) {
        let link = self
            .listeners
            .get(req.listener)
            .and_then(|l| l.link.clone());
        let on_link = probing::on_link(&self.core.config().pools, req.ctx.server_ip, ip);
        let timeout = self.core.config().ping_timeout;
        self.probes.start(ip, req, link, on_link, timeout);
    }
}

/// At debug level: why the client gets its profile and not the others, as
/// `netboot explain` says it.
fn explain_choice(profiles: &dyn ProfileLookup, msg: &Message) {
    let Some(client) = crate::dhcp::pxe::client_id(msg) else {
        return;
    };
    if let Some(why) = profiles.explain(&client) {
        exchange_span(msg).in_scope(|| debug!("profile choice:\n{why}"));
    }
}

/// The span of one DHCP exchange: the client's MAC, the transaction id and
/// the message type, on every line logged about it.
fn exchange_span(msg: &Message) -> tracing::Span {
    let mac = crate::mac::MacAddr::from_slice(msg.chaddr()).unwrap_or(crate::mac::MacAddr([0; 6]));
    let kind = msg.opts().msg_type();
    info_span!("dhcp", %mac, xid = %format_args!("{:08x}", msg.xid()), kind = ?kind)
}
