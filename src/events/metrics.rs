//! Prometheus metrics, counted from the event stream (with what folding an
//! event into the live state changed) and written in Prometheus' text
//! format by the `prometheus-client` crate. Pool sizes are gauges set by
//! the status server from the lease view just before each scrape.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::event::Event;
use super::live::Applied;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DhcpLabels {
    message: String,
    reply: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReplyLabels {
    reply: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProbeLabels {
    by: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransferLabels {
    protocol: String,
    outcome: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProtocolLabels {
    protocol: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    what: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServerLabels {
    server: String,
}

/// Labels of a pool's gauges.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// The pool's range, `first-last`.
    pub pool: String,
}

/// Every metric netboot exports.
pub struct Metrics {
    registry: Registry,
    dhcp_messages: Family<DhcpLabels, Counter>,
    dhcp_seconds: Family<ReplyLabels, Histogram>,
    probes: Family<ProbeLabels, Counter>,
    transfers: Family<TransferLabels, Counter>,
    bytes_sent: Family<ProtocolLabels, Counter>,
    bytes_received: Family<ProtocolLabels, Counter>,
    retransmissions: Family<ProtocolLabels, Counter>,
    in_progress: Family<ProtocolLabels, Gauge>,
    reloads: Family<ReloadLabels, Counter>,
    rogue_replies: Family<ServerLabels, Counter>,
    /// Addresses in each pool.
    pub pool_size: Family<PoolLabels, Gauge>,
    /// Addresses of each pool leased now.
    pub pool_used: Family<PoolLabels, Gauge>,
}

fn latency_histogram() -> Histogram {
    // 100 µs to about 3 s
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("netboot"),
            dhcp_messages: Family::default(),
            dhcp_seconds: Family::new_with_constructor(latency_histogram),
            probes: Family::default(),
            transfers: Family::default(),
            bytes_sent: Family::default(),
            bytes_received: Family::default(),
            retransmissions: Family::default(),
            in_progress: Family::default(),
            reloads: Family::default(),
            rogue_replies: Family::default(),
            pool_size: Family::default(),
            pool_used: Family::default(),
        };
        m.register();
        m
    }
}

impl Metrics {
    fn register(&mut self) {
        let r = &mut self.registry;
        r.register(
            "dhcp_messages",
            "DHCP messages received, by type and the reply sent (none: no reply)",
            self.dhcp_messages.clone(),
        );
        r.register(
            "dhcp_reply_seconds",
            "From a DHCP message's arrival to its reply's decision (lease commit included)",
            self.dhcp_seconds.clone(),
        );
        r.register(
            "probes",
            "Address probes before an offer, by method and result",
            self.probes.clone(),
        );
        r.register("transfers", "Finished TFTP and HTTP transfers, by outcome and error code (TFTP code or HTTP status)", self.transfers.clone());
        r.register("sent_bytes", "File bytes sent", self.bytes_sent.clone());
        r.register(
            "received_bytes",
            "File bytes received (TFTP uploads)",
            self.bytes_received.clone(),
        );
        r.register(
            "retransmissions",
            "Datagrams sent again",
            self.retransmissions.clone(),
        );
        r.register(
            "transfers_in_progress",
            "Transfers running now",
            self.in_progress.clone(),
        );
        r.register(
            "reloads",
            "Reloads of the profiles and the image catalogue, by result",
            self.reloads.clone(),
        );
        r.register(
            "rogue_dhcp_replies",
            "Replies heard from other DHCP servers on served segments",
            self.rogue_replies.clone(),
        );
        r.register(
            "pool_addresses",
            "Addresses in each DHCP pool",
            self.pool_size.clone(),
        );
        r.register(
            "pool_leased_addresses",
            "Addresses of each DHCP pool leased now",
            self.pool_used.clone(),
        );
    }

    /// Counts `event`, given what folding it changed.
    pub fn record(&self, event: &Event, applied: &Applied) {
        if let Some((protocol, upload, bytes)) = applied.bytes {
            let labels = proto(protocol.as_str());
            match upload {
                true => self.bytes_received.get_or_create(&labels).inc_by(bytes),
                false => self.bytes_sent.get_or_create(&labels).inc_by(bytes),
            };
        }
        match event {
            Event::Dhcp(x) => {
                let reply = x.reply.clone().unwrap_or_else(|| "none".into());
                let labels = DhcpLabels {
                    message: x.message.clone(),
                    reply: reply.clone(),
                };
                self.dhcp_messages.get_or_create(&labels).inc();
                if x.reply.is_some() {
                    self.dhcp_seconds
                        .get_or_create(&ReplyLabels { reply })
                        .observe(x.latency.as_secs_f64());
                }
            }
            Event::Probe(p) => {
                let result = if p.in_use { "in_use" } else { "free" };
                let labels = ProbeLabels {
                    by: p.by.into(),
                    result: result.into(),
                };
                self.probes.get_or_create(&labels).inc();
            }
            Event::TransferStarted(s) => {
                self.in_progress
                    .get_or_create(&proto(s.protocol.as_str()))
                    .inc();
            }
            Event::TransferEnded(e) => self.ended(e, applied),
            Event::TransferProgress(_) => {}
            Event::Reload(r) => {
                let what = format!("{:?}", r.what).to_lowercase();
                let result = if r.ok { "ok" } else { "rejected" };
                self.reloads
                    .get_or_create(&ReloadLabels {
                        what,
                        result: result.into(),
                    })
                    .inc();
            }
            Event::RogueDhcp(r) => {
                self.rogue_replies
                    .get_or_create(&ServerLabels {
                        server: r.server.to_string(),
                    })
                    .inc();
            }
        }
    }

    fn ended(&self, e: &super::event::Ended, applied: &Applied) {
        let Some(protocol) = applied.protocol else {
            return;
        };
        let labels = proto(protocol.as_str());
        self.in_progress.get_or_create(&labels).dec();
        self.retransmissions
            .get_or_create(&labels)
            .inc_by(e.retransmissions);
        let code = match &e.outcome {
            super::event::Outcome::Failed { code, .. } => code.to_string(),
            _ => String::new(),
        };
        let labels = TransferLabels {
            protocol: protocol.as_str().into(),
            outcome: e.outcome.label().into(),
            code,
        };
        self.transfers.get_or_create(&labels).inc();
    }

    /// The text format of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // writing to a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn proto(protocol: &str) -> ProtocolLabels {
    ProtocolLabels {
        protocol: protocol.into(),
    }
}
