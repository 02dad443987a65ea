//! Bigger transfers: 20 real clients at once, and a 40 MiB download at
//! blksize 512 whose block numbers roll over past 65535 (curl, tftp-hpa,
//! atftp and busybox, each checked by checksum).

mod support;

use std::path::Path;
use std::sync::Arc;

use support::clients::{atftp_get, busybox_get, curl_get, tftp_hpa_get};
use support::{assert_file_is, pseudo_random, require_tool, scratch, sha256_hex, Server};

/// The clients present on this machine, by the tool name.
fn available_clients() -> Vec<&'static str> {
    [
        ("curl", "curl"),
        ("tftp", "tftp-hpa"),
        ("atftp", "atftp"),
        ("busybox", "busybox"),
    ]
    .into_iter()
    .filter(|(tool, package)| require_tool(tool, package))
    .map(|(tool, _)| tool)
    .collect()
}

fn fetch(tool: &str, srv: &Server, remote: &str, local: &Path) -> support::ClientRun {
    match tool {
        "curl" => curl_get(srv, remote, local, Some(1468)),
        "tftp" => tftp_hpa_get(srv, remote, local, "binary"),
        "atftp" => atftp_get(srv, remote, local, &["blksize 1024", "windowsize 8"], &[]),
        _ => busybox_get(srv, remote, local, Some(1024)),
    }
}

#[test]
fn twenty_clients_at_once_all_get_their_bytes() {
    let tools = available_clients();
    if tools.is_empty() {
        return;
    }
    // All clients come from 127.0.0.1: allow more than the default 16 per
    // client address.
    let srv = Arc::new(Server::start(&["--max-per-client", "32"]));
    let files: Vec<(String, Vec<u8>)> = (0..20)
        .map(|i| {
            let name = format!("f{i}");
            let body = pseudo_random(300_000 + i * 4099, i as u64);
            srv.put_file(&name, &body, 0o644);
            (name, body)
        })
        .collect();
    let local = Arc::new(scratch());
    let handles: Vec<_> = files
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let (srv, local, name) = (Arc::clone(&srv), Arc::clone(&local), name.clone());
            let tool = tools[i % tools.len()];
            std::thread::spawn(move || {
                let out = local.path().join(&name);
                let run = fetch(tool, &srv, &name, &out);
                (tool, run)
            })
        })
        .collect();
    for (handle, (name, body)) in handles.into_iter().zip(&files) {
        let (tool, run) = handle.join().expect("client thread");
        assert!(
            run.status.success() && !run.output().contains("Error"),
            "{tool} {name}: {run:?}"
        );
        assert_file_is(&local.path().join(name), body);
    }
}

#[test]
fn forty_mib_at_blksize_512_rolls_block_numbers_over() {
    let tools = available_clients();
    if tools.is_empty() {
        return;
    }
    let srv = Server::start(&[]);
    // 81920 blocks of 512 bytes: block numbers wrap after 65535.
    let body = pseudo_random(40 << 20, 40);
    srv.put_file("big", &body, 0o644);
    let want = sha256_hex(&body);
    drop(body);
    let local = scratch();
    let count = tools.len();
    for tool in tools {
        let out = local.path().join(format!("big-{tool}"));
        let run = match tool {
            "curl" => curl_get(&srv, "big", &out, Some(512)),
            "tftp" => tftp_hpa_get(&srv, "big", &out, "binary"),
            "atftp" => atftp_get(&srv, "big", &out, &["blksize 512", "tsize 0"], &[]),
            _ => busybox_get(&srv, "big", &out, Some(512)),
        };
        assert!(
            run.status.success() && !run.output().contains("Error"),
            "{tool}: {run:?}"
        );
        let got = std::fs::read(&out).unwrap();
        assert_eq!(got.len(), 40 << 20, "{tool}");
        assert_eq!(sha256_hex(&got), want, "{tool}");
        std::fs::remove_file(&out).unwrap();
    }
    // The last client may exit before the server has logged its line.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while srv.log_lines("transfer complete").len() < count && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let lines = srv.log_lines("transfer complete");
    assert_eq!(lines.len(), count, "{lines:#?}");
    assert!(
        lines.iter().all(|l| l.contains("bytes=41943040")),
        "{lines:#?}"
    );
}
