//! Boot storms from one address: real clients (atftp, tftp-hpa, busybox,
//! curl) started at once from 127.0.0.1 against `netboot tftp`, with its
//! shipped limits and with far fewer slots than clients. Every one gets its
//! file intact; none is refused (a client that gets an ERROR gives up, as
//! firmware does): requests over a limit wait for a slot.

mod support;

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use support::clients::{atftp_get, busybox_get, curl_get, tftp_hpa_get};
use support::{pseudo_random, require_tool, scratch, Server};

/// Distinct files per storm.
const FILES: usize = 8;
/// The whole storm, start to last exit.
const BOUND: Duration = Duration::from_secs(30);

fn tools() -> Vec<&'static str> {
    [
        ("atftp", "atftp"),
        ("tftp", "tftp-hpa"),
        ("busybox", "busybox"),
        ("curl", "curl"),
    ]
    .into_iter()
    .filter(|(tool, package)| require_tool(tool, package))
    .map(|(tool, _)| tool)
    .collect()
}

fn fetch(tool: &str, srv: &Server, remote: &str, local: &Path) -> support::ClientRun {
    match tool {
        "atftp" => atftp_get(srv, remote, local, &["blksize 1468"], &[]),
        "tftp" => tftp_hpa_get(srv, remote, local, "binary"),
        "busybox" => busybox_get(srv, remote, local, Some(1468)),
        _ => curl_get(srv, remote, local, Some(1468)),
    }
}

#[test]
fn two_hundred_clients_from_one_address_all_get_their_files() {
    // Shipped limits: no --max-transfers or --max-per-client. Files of
    // boot-loader sizes (ipxe.efi is ~1 MB).
    storm(&[], 200, 500_000);
}

#[test]
fn sixty_clients_sharing_eight_slots_all_get_their_files() {
    // Most requests wait: held unanswered, started as slots free.
    let srv = storm(&["--max-transfers", "8", "-v"], 60, 100_000);
    let held = srv.log_lines("held");
    assert!(!held.is_empty(), "no request waited:\n{}", srv.log());
}

/// Runs CLIENTS downloads at once against a server started with `args`;
/// returns the server for more checks.
fn storm(args: &[&str], clients: usize, size: usize) -> Arc<Server> {
    let tools = tools();
    assert!(!tools.is_empty(), "no TFTP client installed");
    let srv = Arc::new(Server::start(args));
    let files: Vec<Vec<u8>> = (0..FILES)
        .map(|i| {
            let body = pseudo_random(size + i * 7001, 100 + i as u64);
            srv.put_file(&format!("boot{i}"), &body, 0o644);
            body
        })
        .collect();
    let local = Arc::new(scratch());
    let barrier = Arc::new(Barrier::new(clients));
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|i| {
            let (srv, local, barrier) =
                (Arc::clone(&srv), Arc::clone(&local), Arc::clone(&barrier));
            let tool = tools[i % tools.len()];
            std::thread::spawn(move || {
                let out = local.path().join(format!("c{i}"));
                barrier.wait();
                fetch(tool, &srv, &format!("boot{}", i % FILES), &out)
            })
        })
        .collect();
    let mut failed = Vec::new();
    for (i, handle) in handles.into_iter().enumerate() {
        let run = handle.join().expect("client thread");
        let tool = tools[i % tools.len()];
        let got = std::fs::read(local.path().join(format!("c{i}"))).unwrap_or_default();
        let intact = got == files[i % FILES];
        if !run.status.success() || run.output().contains("Error") || !intact {
            let size = got.len();
            failed.push(format!(
                "{tool} c{i} ({size} bytes, intact {intact}): {run:?}"
            ));
        }
    }
    let took = started.elapsed();
    assert!(
        failed.is_empty(),
        "{} of {clients} failed: {failed:#?}\n{}",
        failed.len(),
        srv.log()
    );
    assert!(took < BOUND, "the storm took {took:?}");
    let refused = srv.log_lines("refused");
    assert!(refused.is_empty(), "{refused:#?}");
    srv
}
