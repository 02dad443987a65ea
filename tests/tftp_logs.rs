//! What the admin reads in the log: one line per transfer with the client,
//! file, mode, options agreed, bytes, time, throughput and outcome (in the
//! human and the JSON format); progress every 10 % for long transfers; and
//! with `--verbose` a line per DATA and ACK.

mod support;

use std::time::Duration;

use support::raw::{ack, error, rrq, wrq, Packet, RawClient, ERR_OPTION};
use support::{assert_file_is, assert_same_bytes, pseudo_random, Server};

const WAIT: Duration = Duration::from_secs(5);

/// Downloads `name` with the raw client, options as given; returns the
/// client's port (the `peer` in the log).
fn download(srv: &Server, name: &str, options: &[(&str, &str)], blksize: usize) -> (u16, Vec<u8>) {
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq(name, "octet", options));
    let got = if options.is_empty() {
        client.read_rest(None, blksize, 1)
    } else {
        assert!(matches!(client.recv(), Packet::Oack(_)));
        client.send(&ack(0));
        client.read_rest(None, blksize, 1)
    };
    (client.sock.local_addr().unwrap().port(), got)
}

#[track_caller]
fn the_line(srv: &Server, needle: &str) -> String {
    assert!(
        srv.wait_for_log(needle, WAIT),
        "no {needle:?}:\n{}",
        srv.log()
    );
    let lines = srv.log_lines(needle);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    lines[0].clone()
}

#[test]
fn a_download_ends_with_one_line_saying_everything() {
    let srv = Server::start(&[]);
    let body = pseudo_random(3000, 1);
    srv.put_file("boot/pxelinux.0", &body, 0o644);
    let (port, got) = download(
        &srv,
        "boot/pxelinux.0",
        &[("blksize", "1024"), ("tsize", "0")],
        1024,
    );
    assert_same_bytes(&got, &body, "download");
    let line = the_line(&srv, "transfer complete");
    for part in [
        " INFO ",
        &format!("peer=127.0.0.1:{port}"),
        "op=\"RRQ\"",
        "file=boot/pxelinux.0",
        "mode=octet",
        "options=\"blksize=1024,tsize=3000\"",
        "bytes=3000",
        " ms=",
        " mib_per_s=",
    ] {
        assert!(line.contains(part), "{part:?} missing from {line}");
    }
}

#[test]
fn other_outcomes_are_one_line_each() {
    let srv = Server::start(&["--create", "--timeout", "1"]);
    srv.put_file("f", &pseudo_random(5000, 2), 0o644);
    // An upload: the WRQ line and where it landed.
    let body = pseudo_random(1500, 3);
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("up", "octet", &[]));
    assert_eq!(client.recv(), Packet::Ack(0));
    client.write_all(&body, 512);
    assert_file_is(&srv.root().join("up"), &body);
    let line = the_line(&srv, "file=up}: transfer complete");
    assert!(
        line.contains("op=\"WRQ\"") && line.contains("bytes=1500"),
        "{line}"
    );
    the_line(&srv, "upload stored");
    // A UEFI-style size probe.
    let mut probe = RawClient::new(srv.addr);
    probe.request(&rrq("f", "octet", &[("tsize", "0")]));
    assert_eq!(probe.recv().option("tsize"), Some("5000"));
    probe.send(&error(ERR_OPTION, "User aborted the transfer"));
    let line = the_line(&srv, "size probe answered");
    assert!(line.contains("size=5000"), "{line}");
    // A client that stops halfway (verified, then silent past --timeout).
    let mut quitter = RawClient::new(srv.addr);
    quitter.request(&rrq("f", "octet", &[]));
    quitter.recv();
    quitter.send(&ack(1));
    let line = the_line(&srv, "transfer timed out");
    assert!(line.contains("bytes=512"), "{line}");
    // A missing file.
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("nothing-here", "octet", &[]));
    client.recv();
    let line = the_line(&srv, "file not found");
    assert!(line.contains("file=nothing-here"), "{line}");
}

#[test]
fn the_json_line_has_the_same_fields() {
    let srv = Server::start(&["--log-format", "json"]);
    srv.put_file("f", &pseudo_random(2000, 4), 0o644);
    let (port, _) = download(&srv, "f", &[("blksize", "1468")], 1468);
    let line = the_line(&srv, "transfer complete");
    let json: serde_json::Value = serde_json::from_str(&line).unwrap();
    let fields = &json["fields"];
    assert_eq!(fields["message"], "transfer complete", "{json}");
    assert_eq!(fields["bytes"], 2000, "{json}");
    assert_eq!(fields["mode"], "octet", "{json}");
    assert_eq!(fields["options"], "blksize=1468", "{json}");
    assert!(
        fields["ms"].is_u64() && fields["mib_per_s"].is_string(),
        "{json}"
    );
    assert_eq!(json["span"]["peer"], format!("127.0.0.1:{port}"), "{json}");
    assert_eq!(json["span"]["file"], "f", "{json}");
}

/// The `percent=` values of the progress lines, in order.
fn progress_percents(srv: &Server) -> Vec<u64> {
    srv.log_lines("progress percent=")
        .iter()
        .map(|l| {
            let rest = &l[l.find("percent=").unwrap() + 8..];
            rest.split_whitespace().next().unwrap().parse().unwrap()
        })
        .collect()
}

#[test]
fn a_long_transfer_logs_progress_every_tenth() {
    // The "longer than a few seconds" threshold, lowered for the test.
    let srv = Server::start(&["--progress-after-ms", "0", "--create"]);
    let body = pseudo_random(1 << 20, 5);
    srv.put_file("big", &body, 0o644);
    let (_, got) = download(&srv, "big", &[], 512);
    assert_same_bytes(&got, &body, "download");
    the_line(&srv, "file=big}: transfer complete");
    assert_eq!(
        progress_percents(&srv),
        (1..=9).map(|t| t * 10).collect::<Vec<_>>()
    );
    let line = &srv.log_lines("progress percent=50")[0];
    assert!(
        line.contains("total=1048576") && line.contains("file=big"),
        "{line}"
    );

    // An upload announcing its size (tsize) reports progress too.
    let mut client = RawClient::new(srv.addr);
    let size = body.len().to_string();
    client.request(&wrq("up", "octet", &[("tsize", &size)]));
    assert!(matches!(client.recv(), Packet::Oack(_)));
    client.write_all(&body, 512);
    the_line(&srv, "file=up}: transfer complete");
    assert_eq!(progress_percents(&srv).len(), 18, "{}", srv.log());
}

#[test]
fn a_short_transfer_logs_no_progress() {
    let srv = Server::start(&[]);
    let body = pseudo_random(1 << 20, 6);
    srv.put_file("big", &body, 0o644);
    download(&srv, "big", &[("blksize", "65464")], 65464);
    the_line(&srv, "transfer complete");
    assert_eq!(progress_percents(&srv), Vec::<u64>::new());
}

#[test]
fn verbose_logs_every_data_and_ack() {
    let srv = Server::start(&["--verbose", "--create"]);
    srv.put_file("f", &pseudo_random(1100, 7), 0o644);
    download(&srv, "f", &[], 512);
    the_line(&srv, "transfer complete");
    for block in 1..=3 {
        the_line(&srv, &format!("DATA sent block={block} "));
        the_line(&srv, &format!("ACK received block={block}"));
    }
    let mut client = RawClient::new(srv.addr);
    client.request(&wrq("up", "octet", &[]));
    assert_eq!(client.recv(), Packet::Ack(0));
    client.write_all(&pseudo_random(600, 8), 512);
    the_line(&srv, "file=up}: transfer complete");
    for block in 1..=2 {
        the_line(&srv, &format!("DATA received block={block} "));
        the_line(&srv, &format!("ACK sent block={block}"));
    }

    // Without it: none of these lines.
    let quiet = Server::start(&[]);
    quiet.put_file("f", &pseudo_random(1100, 7), 0o644);
    download(&quiet, "f", &[], 512);
    the_line(&quiet, "transfer complete");
    for needle in ["DATA sent", "ACK received", "DEBUG"] {
        assert!(!quiet.log().contains(needle), "{needle}:\n{}", quiet.log());
    }
}
