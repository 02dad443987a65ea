//! IPv6 on `::1` with every real client (downloads, an upload, netascii),
//! and the address families as tftpd-hpa's `-4`/`-6` set them: `[::]`
//! serves both unless `-6`, which leaves IPv4 alone; `-4` serves IPv4 only.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use support::clients::{atftp_get, busybox_get, curl_get, curl_put, tftp_hpa_get, tftp_hpa_put};
use support::raw::{rrq, RawClient};
use support::{
    assert_file_is, assert_same_bytes, pseudo_random, require_ipv6_loopback, require_tool, scratch,
    Server,
};

#[test]
fn ipv6_loopback_serves_every_client() {
    if !require_ipv6_loopback() {
        return;
    }
    let srv = Server::start(&["--address", "[::1]:0"]);
    assert!(srv.addr.is_ipv6());
    let body = pseudo_random(200_000, 6);
    srv.put_file("f6", &body, 0o644);
    let local = scratch();
    let out = local.path().join("f6");
    if require_tool("curl", "curl") {
        curl_get(&srv, "f6", &out, Some(1468)).assert_success();
        assert_file_is(&out, &body);
    }
    if require_tool("tftp", "tftp-hpa") {
        std::fs::remove_file(&out).ok();
        let run = tftp_hpa_get(&srv, "f6", &out, "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&out, &body);
    }
    if require_tool("atftp", "atftp") {
        std::fs::remove_file(&out).ok();
        atftp_get(&srv, "f6", &out, &["blksize 1024"], &[]).assert_success();
        assert_file_is(&out, &body);
    }
    if require_tool("busybox", "busybox") {
        std::fs::remove_file(&out).ok();
        busybox_get(&srv, "f6", &out, Some(1024)).assert_success();
        assert_file_is(&out, &body);
    }
    let mut client = RawClient::new(srv.addr);
    client.request(&rrq("f6", "octet", &[]));
    assert_same_bytes(&client.read_rest(None, 512, 1), &body, "raw over ::1");
}

#[test]
fn ipv6_loopback_takes_uploads_and_netascii() {
    if !require_ipv6_loopback() {
        return;
    }
    let srv = Server::start(&["--address", "[::1]:0", "--create"]);
    let local = scratch();
    let body = pseudo_random(100_000, 61);
    let path = local.path().join("up");
    std::fs::write(&path, &body).unwrap();
    if require_tool("tftp", "tftp-hpa") {
        let run = tftp_hpa_put(&srv, &path, "hpa-up", "binary");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&srv.root().join("hpa-up"), &body);
        // Netascii both ways: Unix text on disk, CR LF on the wire.
        let text = b"line one\nline two\r\nlone\rcr\n".repeat(100);
        srv.put_file("text", &text, 0o644);
        let got = local.path().join("text");
        let run = tftp_hpa_get(&srv, "text", &got, "netascii");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&got, &text);
        let run = tftp_hpa_put(&srv, &got, "text-back", "netascii");
        assert!(!run.output().contains("Error"), "{run:?}");
        assert_file_is(&srv.root().join("text-back"), &text);
    }
    if require_tool("curl", "curl") {
        curl_put(&srv, &path, "curl-up", Some(1468)).assert_success();
        assert_file_is(&srv.root().join("curl-up"), &body);
    }
}

#[test]
fn two_addresses_are_both_served() {
    if !require_ipv6_loopback() {
        return;
    }
    let srv = Server::start(&["--address", "127.0.0.1:0", "--address", "[::1]:0"]);
    assert_eq!(srv.addrs.len(), 2, "{:?}", srv.addrs);
    srv.put_file("f", b"both", 0o644);
    for addr in srv.addrs.clone() {
        let mut client = RawClient::new(addr);
        client.request(&rrq("f", "octet", &[]));
        assert_eq!(client.read_rest(None, 512, 1), b"both");
    }
}

/// Downloads `f` from `ip` on the server's port: the bytes, or `None` when
/// nothing answers within a second.
fn fetch_via(srv: &Server, ip: &str) -> Option<Vec<u8>> {
    let addr = SocketAddr::new(ip.parse().unwrap(), srv.port());
    let mut client = RawClient::new(addr);
    client.request(&rrq("f", "octet", &[]));
    let first = client.recv_within(Duration::from_secs(1))?;
    Some(client.read_rest(Some(first), 512, 1))
}

/// Whether a socket of our own can take `ip` on the server's port (it
/// cannot while the server holds that family's port).
fn port_free_on(srv: &Server, ip: &str) -> bool {
    UdpSocket::bind(SocketAddr::new(ip.parse().unwrap(), srv.port())).is_ok()
}

#[test]
fn the_ipv6_wildcard_serves_ipv4_too_without_a_family_flag() {
    if !require_ipv6_loopback() {
        return;
    }
    let srv = Server::start(&["--address", "[::]:0"]);
    srv.put_file("f", b"dual", 0o644);
    assert!(srv.log().contains("(IPv6 and IPv4)"), "{}", srv.log());
    assert_eq!(fetch_via(&srv, "::1").as_deref(), Some(&b"dual"[..]));
    assert_eq!(fetch_via(&srv, "127.0.0.1").as_deref(), Some(&b"dual"[..]));
}

#[test]
fn dash_6_serves_ipv6_only_even_on_the_wildcard() {
    if !require_ipv6_loopback() {
        return;
    }
    for address in ["[::]:0", ":0"] {
        let srv = Server::start(&["-6", "--address", address]);
        srv.put_file("f", b"six", 0o644);
        assert!(srv.addr.is_ipv6(), "{address}: {}", srv.addr);
        assert!(srv.log().contains("(IPv6 only)"), "{}", srv.log());
        assert_eq!(fetch_via(&srv, "::1").as_deref(), Some(&b"six"[..]));
        assert_eq!(fetch_via(&srv, "127.0.0.1"), None, "{address}: IPv4 served");
        assert!(port_free_on(&srv, "127.0.0.1"), "{address}: IPv4 port held");
    }
}

#[test]
fn dash_4_serves_ipv4_only() {
    if !require_ipv6_loopback() {
        return;
    }
    let srv = Server::start(&["-4", "--address", ":0"]);
    srv.put_file("f", b"four", 0o644);
    assert!(srv.addr.is_ipv4(), "{}", srv.addr);
    assert_eq!(fetch_via(&srv, "127.0.0.1").as_deref(), Some(&b"four"[..]));
    assert_eq!(fetch_via(&srv, "::1"), None, "IPv6 served");
    assert!(port_free_on(&srv, "::1"), "IPv6 port held");
}

#[test]
fn both_wildcards_on_one_port_serve_each_family() {
    if !require_ipv6_loopback() {
        return;
    }
    // a port free in both families, as an admin would name it
    let port = {
        let probe = UdpSocket::bind("[::]:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let four = format!("0.0.0.0:{port}");
    let six = format!("[::]:{port}");
    let srv = Server::start(&["--address", &four, "--address", &six]);
    assert_eq!(srv.addrs.len(), 2, "{:?}\n{}", srv.addrs, srv.log());
    srv.put_file("f", b"each", 0o644);
    assert_eq!(fetch_via(&srv, "127.0.0.1").as_deref(), Some(&b"each"[..]));
    assert_eq!(fetch_via(&srv, "::1").as_deref(), Some(&b"each"[..]));
}
