//! Boot information, proxy mode, known-clients-only, probes and garbage.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcproto::v4::{DhcpOption, Message, MessageType, OptionCode, UnknownOption};

use super::*;

fn pxe_discover(m: MacAddr, arch: u16, class: &str) -> Message {
    let mut d = msg(MessageType::Discover, m);
    d.opts_mut()
        .insert(DhcpOption::ClientSystemArchitecture(arch.into()));
    d.opts_mut()
        .insert(DhcpOption::ClassIdentifier(class.as_bytes().to_vec()));
    d.opts_mut()
        .insert(DhcpOption::ClientMachineIdentifier(vec![
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        ]));
    d
}

#[test]
fn pxe_options_per_arch_ipxe_and_http() {
    let mut lab = Lab::new(config());
    for (arch, class, file, echo) in [
        (
            0u16,
            "PXEClient:Arch:00000:UNDI:002001",
            "undionly.kpxe",
            "PXEClient",
        ),
        (
            7,
            "PXEClient:Arch:00007:UNDI:003016",
            "ipxe.efi",
            "PXEClient",
        ),
        (
            9,
            "PXEClient:Arch:00009:UNDI:003016",
            "ipxe.efi",
            "PXEClient",
        ),
        (
            11,
            "PXEClient:Arch:00011:UNDI:003000",
            "arm64.efi",
            "PXEClient",
        ),
        (
            16,
            "HTTPClient:Arch:00016:UNDI:003001",
            "http://10.231.0.1/boot.efi",
            "HTTPClient",
        ),
    ] {
        let offer = lab
            .send(&pxe_discover(mac(1), arch, class))
            .reply
            .unwrap()
            .message;
        assert_eq!(
            opt(&offer, OptionCode::BootfileName),
            Some(&DhcpOption::BootfileName(file.as_bytes().to_vec())),
            "arch {arch}"
        );
        assert_eq!(offer.fname_str().unwrap().unwrap(), file);
        assert_eq!(
            opt(&offer, OptionCode::ClassIdentifier),
            Some(&DhcpOption::ClassIdentifier(echo.as_bytes().to_vec()))
        );
        assert!(
            opt(&offer, OptionCode::ClientMachineIdentifier).is_some(),
            "option 97 echoed"
        );
    }
    let mut ipxe = pxe_discover(mac(2), 0, "PXEClient:Arch:00000:UNDI:002001");
    ipxe.opts_mut()
        .insert(DhcpOption::UserClass(b"iPXE".to_vec()));
    let offer = lab.send(&ipxe).reply.unwrap().message;
    assert_eq!(
        opt(&offer, OptionCode::BootfileName),
        Some(&DhcpOption::BootfileName(
            b"http://10.231.0.1/boot.ipxe".to_vec()
        ))
    );
    let mut ipxe175 = pxe_discover(mac(3), 7, "PXEClient");
    ipxe175
        .opts_mut()
        .insert(DhcpOption::Unknown(UnknownOption::new(
            OptionCode::Unknown(175),
            vec![1, 1, 1],
        )));
    let offer = lab.send(&ipxe175).reply.unwrap().message;
    assert_eq!(
        offer.fname_str().unwrap().unwrap(),
        "http://10.231.0.1/boot.ipxe"
    );
    // an arch without a family: address only, with the reason
    let d = lab.send(&pxe_discover(mac(4), 2, "PXEClient:Arch:00002"));
    assert!(matches!(
        d.reason,
        Reason::Offer {
            boot: BootNote::UnsupportedArch(2),
            ..
        }
    ));
    let offer = d.reply.unwrap().message;
    assert!(opt(&offer, OptionCode::BootfileName).is_none());
    assert_ne!(offer.yiaddr(), Ipv4Addr::UNSPECIFIED);
}

#[test]
fn a_router_or_phone_gets_an_address_and_no_boot_file_unless_its_profile_gives_one() {
    let mut lab = Lab::new(config());
    let router = os_msg(MessageType::Discover, mac(7));
    let d = lab.send(&router);
    let offer = d.reply.unwrap().message;
    assert_ne!(offer.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert!(
        opt(&offer, OptionCode::BootfileName).is_none(),
        "no PXE file for a router"
    );
    assert!(opt(&offer, OptionCode::TFTPServerName).is_none());
    assert!(offer
        .fname_str()
        .is_none_or(|f| f.map_or(true, |f| f.is_empty())));
    assert!(
        d.reason.to_string().contains("not network-boot firmware"),
        "{}",
        d.reason
    );

    let mut p = profiles();
    p.default.as_mut().unwrap().boot.other = Some("network-confg".into());
    lab.profiles = p;
    let offer = lab
        .send(&os_msg(MessageType::Discover, mac(8)))
        .reply
        .unwrap()
        .message;
    assert_eq!(
        opt(&offer, OptionCode::BootfileName),
        Some(&DhcpOption::BootfileName(b"network-confg".to_vec())),
        "autoinstall's configuration file, from the profile"
    );
}

#[test]
fn next_server_from_profile() {
    let mut lab = Lab::new(config());
    let mut p = profiles();
    p.default.as_mut().unwrap().next_server = Some(Ipv4Addr::new(10, 231, 0, 9));
    lab.profiles = p;
    let offer = lab.discover(mac(1));
    assert_eq!(offer.siaddr(), Ipv4Addr::new(10, 231, 0, 9));
    assert_eq!(
        opt(&offer, OptionCode::TFTPServerName),
        Some(&DhcpOption::TFTPServerName(b"10.231.0.9".to_vec()))
    );
}

#[test]
fn proxy_mode_answers_pxe_only_without_address() {
    let mut cfg = config();
    cfg.mode = Mode::Proxy;
    let mut lab = Lab::new(cfg);
    let d = lab.send(&pxe_discover(mac(1), 7, "PXEClient:Arch:00007:UNDI:003016"));
    let r = d.reply.unwrap();
    assert_eq!(r.kind, MessageType::Offer);
    assert_eq!(r.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        opt(&r.message, OptionCode::ClassIdentifier),
        Some(&DhcpOption::ClassIdentifier(b"PXEClient".to_vec()))
    );
    assert_eq!(
        opt(&r.message, OptionCode::VendorExtensions),
        Some(&DhcpOption::VendorExtensions(vec![6, 1, 8, 255]))
    );
    assert_eq!(
        opt(&r.message, OptionCode::ServerIdentifier),
        Some(&DhcpOption::ServerIdentifier(SERVER))
    );
    assert!(opt(&r.message, OptionCode::AddressLeaseTime).is_none());
    assert_eq!(r.message.fname_str().unwrap().unwrap(), "ipxe.efi");
    assert!(d.changes.is_empty());
    // non-PXE: nothing
    assert!(lab
        .send(&msg(MessageType::Discover, mac(2)))
        .reply
        .is_none());
    // port 4011 request: unicast ACK to the source
    let mut req = pxe_discover(mac(1), 7, "PXEClient:Arch:00007");
    req.opts_mut()
        .insert(DhcpOption::MessageType(MessageType::Request));
    req.set_ciaddr(Ipv4Addr::new(10, 231, 0, 140));
    let src = SocketAddrV4::new(Ipv4Addr::new(10, 231, 0, 140), 4011);
    let ctx4011 = Context {
        source: src,
        port: Port::BootServer,
        server_ip: SERVER,
    };
    let d = lab.core.handle(&req, &ctx4011, &lab.profiles, lab.now);
    let r = d.reply.unwrap();
    assert_eq!(r.kind, MessageType::Ack);
    assert_eq!(r.dest, Destination::Ip(src));
    assert_eq!(r.message.yiaddr(), Ipv4Addr::UNSPECIFIED);
    assert_eq!(
        opt(&r.message, OptionCode::BootfileName),
        Some(&DhcpOption::BootfileName(b"ipxe.efi".to_vec()))
    );
}

#[test]
fn known_clients_only() {
    let mut cfg = config();
    cfg.known_clients_only = true;
    let mut lab = Lab::new(cfg);
    let d = lab.send(&msg(MessageType::Discover, mac(1)));
    assert!(d.reply.is_none());
    assert_eq!(d.reason, Reason::UnknownClient);
    assert_eq!(
        lab.discover(mac(50)).yiaddr(),
        Ipv4Addr::new(10, 231, 0, 50)
    );
}

#[test]
fn probe_is_requested_once_and_answered_ping_moves_on() {
    let mut cfg = config();
    cfg.ping_check = true;
    let mut lab = Lab::new(cfg);
    let disc = msg(MessageType::Discover, mac(1));
    let d = lab.send(&disc);
    let first = d.probe.unwrap();
    assert!(d.reply.is_none());
    // another client meanwhile gets a different address probed
    let other = lab.send(&msg(MessageType::Discover, mac(2))).probe.unwrap();
    assert_ne!(other, first);
    // the first address answered the ping: marked declined, next one probed
    let d = lab
        .core
        .probe_result(first, true, &disc, &ctx(), &lab.profiles, lab.now);
    assert_eq!(d.changes[0].state, LeaseState::Declined);
    let second = d.probe.unwrap();
    assert_ne!(second, first);
    // silence: offered without another probe
    let d = lab
        .core
        .probe_result(second, false, &disc, &ctx(), &lab.profiles, lab.now);
    assert_eq!(d.reply.unwrap().message.yiaddr(), second);
    // the returning client is not probed again
    assert!(lab.send(&disc).probe.is_none());
}

#[test]
fn garbage_never_panics() {
    let mut lab = Lab::new(config());
    let mut m = msg(MessageType::Discover, mac(1));
    m.set_opcode(dhcproto::v4::Opcode::BootReply);
    assert!(lab.send(&m).reply.is_none());
    let mut m = msg(MessageType::Offer, mac(1));
    m.opts_mut().remove(OptionCode::ServerIdentifier);
    assert!(lab.send(&m).reply.is_none());
    let mut m = msg(MessageType::Request, mac(1));
    m.opts_mut().insert(DhcpOption::ServerIdentifier(SERVER));
    assert_eq!(lab.send(&m).reply.unwrap().kind, MessageType::Nak);
}
