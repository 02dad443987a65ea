//! Real DHCP clients (udhcpc) against the lab server, the DHCP engine on
//! its own (dhclient and nmap run against `netboot serve`, in
//! serve_clients.rs), inside network namespaces this test creates and deletes. Needs root and the
//! tools; skipped with a reason outside CI when they are missing.

mod netns;

use netns::{Lab, CLIENT_MAC, SERVER_IP};

const POOL: &[&str] = &[
    "--subnet",
    "10.231.0.0/24",
    "--range",
    "10.231.0.100-10.231.0.199",
    "--router",
    "10.231.0.1",
    "--dns",
    "10.231.0.53",
    "--bios",
    "undionly.kpxe",
    "--uefi-x64",
    "ipxe.efi",
    "--ipxe",
    "http://10.231.0.1/boot.ipxe",
];

#[test]
fn udhcpc_gets_lease_boot_file_and_options() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_server(POOL);
    let got = lab.udhcpc_pxe(&[]);
    assert_eq!(
        got.get("ip").map(String::as_str),
        Some("10.231.0.100"),
        "{got:?}\n{}",
        lab.log()
    );
    assert_eq!(got["siaddr"], SERVER_IP);
    assert_eq!(got["boot_file"], "undionly.kpxe");
    assert_eq!(got["serverid"], SERVER_IP);
    assert_eq!(got["subnet"], "255.255.255.0");
    assert_eq!(got["router"], "10.231.0.1");
    assert_eq!(got["dns"], "10.231.0.53");
    assert!(
        lab.log_contains("acknowledged 10.231.0.100"),
        "{}",
        lab.log()
    );
}

#[test]
fn udhcpc_uefi_and_ipxe_get_their_files() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_server(POOL);
    // option 93 = 7 (x64 UEFI) as two bytes of hex, vendor class PXEClient
    let got = lab.udhcpc(&["-V", "PXEClient:Arch:00007:UNDI:003016", "-x", "0x5d:0007"]);
    assert_eq!(
        got.get("boot_file").map(String::as_str),
        Some("ipxe.efi"),
        "{got:?}\n{}",
        lab.log()
    );
    let got = lab.udhcpc(&["-x", "0x4d:69505845"]);
    assert_eq!(
        got.get("boot_file").map(String::as_str),
        Some("http://10.231.0.1/boot.ipxe"),
        "{got:?}"
    );
}

#[test]
fn proxy_mode_gives_boot_info_but_no_address() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_server(&["--proxy", "--bios", "undionly.kpxe"]);
    let plain = lab.udhcpc(&[]);
    assert!(
        plain.is_empty(),
        "a non-PXE client got an answer: {plain:?}"
    );
    assert!(
        lab.log_contains("proxy mode: not a PXE client"),
        "{}",
        lab.log()
    );
    let pxe = lab.udhcpc(&["-V", "PXEClient:Arch:00000:UNDI:002001"]);
    assert!(
        lab.log_contains("proxy offer (no address)"),
        "{}",
        lab.log()
    );
    // udhcpc may or may not accept an offer without an address; if it does,
    // it must not have been handed one
    if let Some(ip) = pxe.get("ip") {
        assert!(!ip.starts_with("10.231.0."), "proxy handed out {ip}");
        assert_eq!(pxe["boot_file"], "undionly.kpxe");
    }
}

#[test]
fn leases_survive_a_restart() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    let state = lab.path("state");
    let state_s = state.display().to_string();
    let mut args = POOL.to_vec();
    args.extend(["--state-dir", &state_s]);
    lab.start_server(&args);
    let first = lab.udhcpc(&["-r", "10.231.0.100"]);
    assert_eq!(
        first.get("ip").map(String::as_str),
        Some("10.231.0.100"),
        "{}",
        lab.log()
    );
    lab.stop_server();
    let leases = netboot::dhcp::store::load(&state).unwrap();
    assert_eq!(leases.len(), 1);
    assert_eq!(leases[0].mac.to_string(), CLIENT_MAC);
    lab.server_log.lock().unwrap().clear();
    lab.start_server(&args);
    assert!(lab.log_contains("leases=1"), "{}", lab.log());
    // the reloaded table gives the client its address back
    let again = lab.udhcpc(&["-r", "10.231.0.100"]);
    assert_eq!(
        again.get("ip").map(String::as_str),
        Some("10.231.0.100"),
        "{}",
        lab.log()
    );
}

#[test]
fn probe_skips_an_address_in_use() {
    if !netns::ready(&["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new();
    // a squatter on the first pool address, inside the client namespace
    lab.client_addr("10.231.0.100/24");
    let mut args = POOL.to_vec();
    args.push("--ping-check");
    lab.start_server(&args);
    let got = lab.udhcpc(&[]);
    assert_eq!(
        got.get("ip").map(String::as_str),
        Some("10.231.0.101"),
        "{got:?}\n{}",
        lab.log()
    );
    // on the server's own link the probe is by ARP
    assert!(
        lab.log_contains(
            "address in use, not offered (ARP probe: machine 52:54:00:12:34:56 answers ARP for it)"
        ),
        "{}",
        lab.log()
    );
}

/// A PXE client's REQUEST to the boot server port (4011) in proxy mode gets a
/// unicast ACK with the boot file and no address.
#[test]
fn proxy_mode_answers_port_4011() {
    use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode};
    use dhcproto::{Decodable, Decoder, Encodable, Encoder};
    use std::net::{Ipv4Addr, UdpSocket};

    if !netns::ready(&[]) {
        return;
    }
    let mut lab = Lab::new();
    lab.client_addr("10.231.0.140/24");
    lab.start_server(&["--proxy", "--uefi-x64", "ipxe.efi"]);
    let reply = netns::in_netns(&lab.cli.clone(), || {
        let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
        let client = Ipv4Addr::new(10, 231, 0, 140);
        let mut m = Message::new(
            client,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::UNSPECIFIED,
            &mac,
        );
        m.opts_mut()
            .insert(DhcpOption::MessageType(MessageType::Request));
        m.opts_mut().insert(DhcpOption::ClassIdentifier(
            b"PXEClient:Arch:00007:UNDI:003016".to_vec(),
        ));
        m.opts_mut()
            .insert(DhcpOption::ClientSystemArchitecture(7.into()));
        let mut bytes = Vec::new();
        m.encode(&mut Encoder::new(&mut bytes)).unwrap();
        let sock = UdpSocket::bind((client, 0)).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 1500];
        for _ in 0..5 {
            sock.send_to(&bytes, (Ipv4Addr::new(10, 231, 0, 1), 4011))
                .unwrap();
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                return Some(Message::decode(&mut Decoder::new(&buf[..n])).unwrap());
            }
        }
        None
    });
    let reply = reply.unwrap_or_else(|| panic!("no answer on 4011:\n{}", lab.log()));
    assert_eq!(reply.opts().msg_type(), Some(MessageType::Ack));
    assert_eq!(reply.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(reply.siaddr(), Ipv4Addr::new(10, 231, 0, 1));
    assert_eq!(
        reply.opts().get(OptionCode::BootfileName),
        Some(&DhcpOption::BootfileName(b"ipxe.efi".to_vec()))
    );
    assert!(lab.log_contains("proxy ack (no address)"), "{}", lab.log());
}
