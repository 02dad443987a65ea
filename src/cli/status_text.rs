//! The summary `netboot status` prints: the status API's document as a few
//! lines an admin reads at a glance (what is downloading, the leases and
//! pools, other DHCP servers, reloads, each client's last step). Pure.

use std::fmt::Write;
use std::net::SocketAddr;

use serde_json::Value;

/// Clients listed (the most recently seen).
const CLIENTS_LISTED: usize = 10;

/// The summary of `status` (the JSON of `/api/status`) read from `addr`.
pub fn summary(status: &Value, addr: SocketAddr) -> String {
    let mut out = String::new();
    let up = duration(status["uptime_s"].as_u64().unwrap_or(0));
    let version = status["version"].as_str().unwrap_or("?");
    let _ = writeln!(out, "netboot {version} at http://{addr}/, up {up}");
    transfers(&mut out, status);
    leases(&mut out, status);
    for rogue in list(&status["rogue_dhcp"]) {
        let _ = writeln!(
            out,
            "WARNING: another DHCP server, {}, answers on {} ({} replies)",
            text(&rogue["server"]),
            text(&rogue["interface"]),
            rogue["replies"]
        );
    }
    for reload in list(&status["reloads"]) {
        let verdict = if reload["ok"].as_bool() == Some(true) {
            "taken"
        } else {
            "REJECTED, the last good one stays"
        };
        let _ = writeln!(out, "{} reloaded: {verdict}", text(&reload["what"]));
        for line in text(&reload["detail"]).lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    clients(&mut out, status);
    out
}

fn transfers(out: &mut String, status: &Value) {
    let running = list(&status["transfers"]);
    let _ = writeln!(out, "Transfers in progress: {}", running.len());
    for t in running {
        let size = t["size"].as_u64();
        let done = t["bytes"].as_u64().unwrap_or(0);
        let share = match size {
            Some(size) if size > 0 => format!("{}% of {}", done * 100 / size, bytes(size)),
            _ => bytes(done),
        };
        let left = t["eta_s"]
            .as_u64()
            .map(|s| format!(", {} left", duration(s)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {} {} {}: {share}, {}/s{left}",
            text(&t["protocol"]),
            text(&t["peer"]),
            text(&t["mac"]),
            text(&t["file"]),
            bytes(t["rate"].as_u64().unwrap_or(0))
        );
    }
}

fn leases(out: &mut String, status: &Value) {
    let _ = writeln!(out, "Leases: {}", list(&status["leases"]).len());
    for pool in list(&status["pools"]) {
        let _ = writeln!(
            out,
            "  pool {}-{}: {} of {} leased",
            text(&pool["first"]),
            text(&pool["last"]),
            pool["leased"],
            pool["size"]
        );
    }
}

fn clients(out: &mut String, status: &Value) {
    let all = list(&status["clients"]);
    if all.is_empty() {
        return;
    }
    let _ = writeln!(out, "Last step of each client's boot:");
    for c in all.iter().take(CLIENTS_LISTED) {
        let last = list(&c["boot"]).last().map(|s| {
            let detail = text(&s["detail"]);
            let what = text(&s["what"]);
            if detail.is_empty() {
                what
            } else {
                format!("{what}: {detail}")
            }
        });
        let profile = c["profile"].as_str().unwrap_or("no profile");
        let _ = writeln!(
            out,
            "  {} ({profile}): {}",
            text(&c["mac"]),
            last.unwrap_or_default()
        );
    }
}

fn list(value: &Value) -> Vec<&Value> {
    value
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let (mut value, mut unit) = (n as f64, 0);
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn duration(s: u64) -> String {
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_reads_as_the_page_does() {
        let status = serde_json::json!({
            "version": "0.1.0", "uptime_s": 3700,
            "transfers": [{"protocol": "http", "peer": "10.0.0.5:4000", "mac": "52:54:00:12:34:56",
                "file": "/initrd.gz", "size": 4194304, "bytes": 1048576, "rate": 2097152, "eta_s": 2}],
            "leases": [{"ip": "10.0.0.5"}],
            "pools": [{"first": "10.0.0.100", "last": "10.0.0.199", "size": 100, "leased": 1}],
            "rogue_dhcp": [{"server": "10.0.0.254", "interface": "eth1", "replies": 3}],
            "reloads": [{"what": "profiles", "ok": false, "detail": "lab.yaml:3: unknown key"}],
            "clients": [{"mac": "52:54:00:12:34:56", "profile": "desk",
                "boot": [{"what": "DISCOVER", "detail": ""}, {"what": "/initrd.gz", "detail": ""}]}]
        });
        let text = summary(&status, "127.0.0.1:9090".parse().unwrap());
        for line in [
            "netboot 0.1.0 at http://127.0.0.1:9090/, up 1 h 1 min",
            "Transfers in progress: 1",
            "  http 10.0.0.5:4000 52:54:00:12:34:56 /initrd.gz: 25% of 4.0 MiB, 2.0 MiB/s, 2 s left",
            "  pool 10.0.0.100-10.0.0.199: 1 of 100 leased",
            "WARNING: another DHCP server, 10.0.0.254, answers on eth1 (3 replies)",
            "profiles reloaded: REJECTED, the last good one stays\n  lab.yaml:3: unknown key",
            "  52:54:00:12:34:56 (desk): /initrd.gz",
        ] {
            assert!(text.contains(line), "{line:?} in\n{text}");
        }
    }
}
