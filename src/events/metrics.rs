//! Prometheus metrics, counted from the event stream (with what folding an
//! event into the live state changed) and written in Prometheus' text
//! format by the `prometheus` crate (the classic format that Prometheus
//! and `promtool` read). Pool sizes are gauges set by the status server
//! from the lease view just before each scrape.

use prometheus::{
    exponential_buckets, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

use super::event::{Ended, Event, Outcome};
use super::live::Applied;

/// Every metric netboot exports.
pub struct Metrics {
    registry: Registry,
    dhcp_messages: IntCounterVec,
    dhcp_seconds: HistogramVec,
    probes: IntCounterVec,
    transfers: IntCounterVec,
    bytes_sent: IntCounterVec,
    bytes_received: IntCounterVec,
    retransmissions: IntCounterVec,
    in_progress: IntGaugeVec,
    reloads: IntCounterVec,
    rogue_replies: IntCounterVec,
    pool_size: IntGaugeVec,
    pool_used: IntGaugeVec,
    lease_store_up: IntGaugeVec,
}

// The definitions below fail only for a malformed name or label, and theirs
// are fixed here (the unit test below builds them all): `expect` on them
// cannot meet anything from outside.

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let opts = Opts::new(format!("netboot_{name}"), help);
    let metric = IntCounterVec::new(opts, labels).expect("a fixed metric definition");
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let opts = Opts::new(format!("netboot_{name}"), help);
    let metric = IntGaugeVec::new(opts, labels).expect("a fixed metric definition");
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

fn latency(registry: &Registry) -> HistogramVec {
    // 100 µs to about 3 s
    let buckets = exponential_buckets(0.0001, 2.0, 16).expect("fixed buckets");
    let opts = HistogramOpts::new(
        "netboot_dhcp_reply_seconds",
        "From a DHCP message's arrival until its reply left (the lease's commit included)",
    )
    .buckets(buckets);
    let metric = HistogramVec::new(opts, &["reply"]).expect("a fixed metric definition");
    let _ = registry.register(Box::new(metric.clone()));
    metric
}

impl Default for Metrics {
    fn default() -> Self {
        let r = Registry::new();
        let proto = &["protocol"];
        Metrics {
            dhcp_messages: counter(&r, "dhcp_messages_total", "DHCP messages received, by type and the reply sent (none: no reply)", &["message", "reply"]),
            dhcp_seconds: latency(&r),
            probes: counter(&r, "probes_total", "Address probes before an offer, by method and result", &["by", "result"]),
            transfers: counter(&r, "transfers_total", "Finished TFTP and HTTP transfers, by outcome and error code (TFTP code or HTTP status)", &["protocol", "outcome", "code"]),
            bytes_sent: counter(&r, "sent_bytes_total", "File bytes sent", proto),
            bytes_received: counter(&r, "received_bytes_total", "File bytes received (TFTP uploads)", proto),
            retransmissions: counter(&r, "retransmissions_total", "Datagrams sent again", proto),
            in_progress: gauge(&r, "transfers_in_progress", "Transfers running now", proto),
            reloads: counter(&r, "reloads_total", "Reloads of the profiles and the image catalogue, by result", &["what", "result"]),
            rogue_replies: counter(&r, "rogue_dhcp_replies_total", "Replies heard from other DHCP servers on served segments", &["server"]),
            pool_size: gauge(&r, "pool_addresses", "Addresses in each DHCP pool", &["pool"]),
            pool_used: gauge(&r, "pool_leased_addresses", "Addresses of each DHCP pool leased now", &["pool"]),
            lease_store_up: gauge(&r, "lease_store_up", "1 while the lease database answers, 0 while it is down (only with a database)", &[]),
            registry: r,
        }
    }
}

impl Metrics {
    /// Counts `event`, given what folding it changed.
    pub fn record(&self, event: &Event, applied: &Applied) {
        if let Some((protocol, upload, bytes)) = applied.bytes {
            let counter = if upload {
                &self.bytes_received
            } else {
                &self.bytes_sent
            };
            counter
                .with_label_values(&[protocol.as_str()])
                .inc_by(bytes);
        }
        match event {
            Event::Dhcp(x) => {
                let reply = x.reply.as_deref().unwrap_or("none");
                self.dhcp_messages
                    .with_label_values(&[x.message.as_str(), reply])
                    .inc();
                if x.reply.is_some() {
                    let seconds = x.latency.as_secs_f64();
                    self.dhcp_seconds
                        .with_label_values(&[reply])
                        .observe(seconds);
                }
            }
            Event::Probe(p) => {
                let result = if p.in_use { "in_use" } else { "free" };
                self.probes.with_label_values(&[p.by, result]).inc();
            }
            Event::TransferStarted(s) => {
                self.in_progress
                    .with_label_values(&[s.protocol.as_str()])
                    .inc();
            }
            Event::TransferEnded(e) => self.ended(e, applied),
            Event::TransferProgress(_) => {}
            Event::Reload(r) => {
                let what = format!("{:?}", r.what).to_lowercase();
                let result = if r.ok { "ok" } else { "rejected" };
                self.reloads
                    .with_label_values(&[what.as_str(), result])
                    .inc();
            }
            Event::RogueDhcp(r) => {
                let server = r.server.to_string();
                self.rogue_replies
                    .with_label_values(&[server.as_str()])
                    .inc();
            }
            Event::LeaseStore(h) => self
                .lease_store_up
                .with_label_values(&[] as &[&str])
                .set(i64::from(h.up)),
        }
    }

    fn ended(&self, e: &Ended, applied: &Applied) {
        let Some(protocol) = applied.protocol else {
            return;
        };
        let protocol = protocol.as_str();
        self.in_progress.with_label_values(&[protocol]).dec();
        self.retransmissions
            .with_label_values(&[protocol])
            .inc_by(e.retransmissions);
        let code = match &e.outcome {
            Outcome::Failed { code, .. } => code.to_string(),
            _ => String::new(),
        };
        let labels = [protocol, e.outcome.label(), code.as_str()];
        self.transfers.with_label_values(&labels).inc();
    }

    /// Sets a pool's gauges (`pool`: its range, `first-last`).
    pub fn set_pool(&self, pool: &str, size: u64, leased: u64) {
        let gauge = |g: &IntGaugeVec, v: u64| {
            g.with_label_values(&[pool])
                .set(i64::try_from(v).unwrap_or(i64::MAX))
        };
        gauge(&self.pool_size, size);
        gauge(&self.pool_used, leased);
    }

    /// The text format of every metric.
    pub fn encode(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.registry.gather())
            .unwrap_or_else(|e| format!("# metrics could not be written: {e}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::event::{Exchange, Protocol};

    #[test]
    fn every_metric_is_defined_and_counts() {
        let m = Metrics::default();
        let x = Exchange {
            at: std::time::SystemTime::now(),
            mac: "52:54:00:00:00:01".parse().unwrap(),
            message: "DISCOVER".into(),
            reply: Some("OFFER".into()),
            address: None,
            reason: String::new(),
            profile: None,
            latency: std::time::Duration::from_micros(250),
        };
        let applied = Applied {
            bytes: Some((Protocol::Tftp, false, 1000)),
            ..Applied::default()
        };
        m.record(&Event::Dhcp(x), &applied);
        m.set_pool("10.0.0.100-10.0.0.199", 100, 3);
        let text = m.encode();
        for line in [
            "netboot_dhcp_messages_total{message=\"DISCOVER\",reply=\"OFFER\"} 1",
            "netboot_sent_bytes_total{protocol=\"tftp\"} 1000",
            "netboot_pool_leased_addresses{pool=\"10.0.0.100-10.0.0.199\"} 3",
            "netboot_dhcp_reply_seconds_count{reply=\"OFFER\"} 1",
            "# HELP netboot_dhcp_messages_total DHCP messages received",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }
}
