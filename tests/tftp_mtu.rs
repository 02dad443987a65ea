//! `--mtu-clamp`: the block size granted fits the path MTU to the client.
//! The kernel's path MTU is read on a socket connected to the client; on
//! loopback that is about 64 KiB (65503-byte blocks), and end to end the client sits behind a veth
//! pair of MTU 1400 in network namespaces of the test's own.

mod netns;
mod support;

use std::net::SocketAddr;

use netboot::tftp::udp::path_block_limit;
use support::raw::{ack, rrq, Packet, RawClient};
use support::{assert_same_bytes, pseudo_random, Server};

/// The loopback interface's MTU (65536 by default).
fn loopback_mtu() -> usize {
    std::fs::read_to_string("/sys/class/net/lo/mtu")
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn the_path_limit_on_loopback_is_its_mtu_less_the_headers() {
    let mtu = loopback_mtu();
    let addr = |a: &str| -> SocketAddr { a.parse().unwrap() };
    // IPv4 20 + UDP 8 + TFTP 4 bytes of headers, in a packet of at most
    // 65535 bytes.
    let limit = path_block_limit(addr("127.0.0.1:69"), addr("127.0.0.1:2000"));
    assert_eq!(limit.map(usize::from), Some(mtu.min(65535) - 32));
    if support::require_ipv6_loopback() {
        // IPv6 40 + UDP 8 + TFTP 4.
        let limit = path_block_limit(addr("[::1]:69"), addr("[::1]:2000"));
        assert_eq!(limit.map(usize::from), Some(mtu - 52));
    }
}

/// Sets `dev`'s MTU inside namespace `ns`.
fn set_mtu(ns: &str, dev: &str, mtu: u32) {
    let status = std::process::Command::new("ip")
        .args(["-n", ns, "link", "set", dev, "mtu", &mtu.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "ip -n {ns} link set {dev} mtu {mtu}");
}

/// Asks for the largest block from inside the client namespace; returns
/// the blksize granted and the bytes received.
fn fetch_from_client_side(lab: &netns::Lab, server: SocketAddr) -> (String, Vec<u8>) {
    netns::in_netns(&lab.cli.clone(), move || {
        let mut client = RawClient::bound("10.231.0.2:0", server);
        // A fresh veth may drop the first packets: ask again, as clients do.
        let request = rrq("f", "octet", &[("blksize", "65464")]);
        client.request(&request);
        let oack = (0..10)
            .find_map(|_| {
                let reply = client.recv_within(std::time::Duration::from_millis(500));
                if reply.is_none() {
                    client.repeat_request(&request);
                }
                reply
            })
            .expect("no answer through the veth");
        let granted = oack.option("blksize").unwrap_or_default().to_string();
        assert!(matches!(oack, Packet::Oack(_)), "{oack:?}");
        client.send(&ack(0));
        let blksize = granted.parse().unwrap();
        (granted, client.read_rest(None, blksize, 1))
    })
}

#[test]
fn a_veth_of_mtu_1400_caps_blksize_at_1368_end_to_end() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = netns::Lab::new();
    lab.client_addr("10.231.0.2/24");
    set_mtu(&lab.srv, netns::SERVER_IF, 1400);
    set_mtu(&lab.cli, netns::CLIENT_IF, 1400);
    let body = pseudo_random(100_000, 1400);
    for (clamp, want) in [(true, "1368"), (false, "65464")] {
        let mut args = vec!["--address", "10.231.0.1:0"];
        if clamp {
            args.push("--mtu-clamp");
        }
        let srv = Server::start_wrapped(&["ip", "netns", "exec", &lab.srv], &args);
        srv.put_file("f", &body, 0o644);
        let (granted, got) = fetch_from_client_side(&lab, srv.addr);
        assert_eq!(granted, want, "--mtu-clamp {clamp}");
        assert_same_bytes(&got, &body, "through the veth");
        let needle = format!("options=\"blksize={want}\"");
        assert!(
            srv.wait_for_log(&needle, std::time::Duration::from_secs(5)),
            "{needle} not logged:\n{}",
            srv.log()
        );
    }
}
