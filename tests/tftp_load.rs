//! Bigger transfers: 20 real clients at once, and a 40 MiB download at
//! blksize 512 whose block numbers roll over past 65535.

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
    if !require_tool("curl", "curl") {
        return;
    }
    let srv = Server::start(&[]);
    // 81920 blocks of 512 bytes: block numbers wrap after 65535.
    let body = pseudo_random(40 << 20, 40);
    srv.put_file("big", &body, 0o644);
    let want = sha256_hex(&body);
    drop(body);
    let local = scratch();
    let out = local.path().join("big");
    curl_get(&srv, "big", &out, Some(512)).assert_success();
    let got = std::fs::read(&out).unwrap();
    assert_eq!(got.len(), 40 << 20);
    assert_eq!(sha256_hex(&got), want);
}
