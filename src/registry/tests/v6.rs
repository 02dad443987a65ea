//! The IPv6 keys: `address6` on exact-MAC profiles and hosts, hosts known
//! by `duid` alone, `boot_params6`; what DHCPv6 gets from them and every
//! validation message with its file, line and column.

use std::net::Ipv6Addr;

use crate::boot::ProfileLookup;
use crate::dhcp6::{duid, Holder6, Reservation6};

use super::{build, client, errors, mac};

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

const LAB: &str = "\
- name: one
  match: {mac: 52:54:00:00:00:01}
  address6: fd00:99::50
  boot_params6: [\"console=ttyS0\", \"auto=true\"]
  boot: {uefi_x64: ipxe.efi}
- name: lab
  hosts:
    - mac: 52:54:00:00:00:02
      address: 10.0.0.2
      address6: fd00:99::51
    - duid: 00:04:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99
      address6: fd00:99::52
      hostname: uuid-box
    - mac: 52:54:00:00:00:04
      duid: 00:02:00:00:ab:11:01:02
";

#[test]
fn address6_and_boot_params6_reach_the_client_profile() {
    let r = build(&[("lab.yaml", LAB)]).unwrap();
    let p = r
        .lookup(&client("52:54:00:00:00:01", Some(7), None))
        .unwrap();
    assert_eq!(p.fixed_address6, Some(a("fd00:99::50")));
    assert_eq!(p.boot_params6, vec!["console=ttyS0", "auto=true"]);
    let p = r.lookup(&client("52:54:00:00:00:02", None, None)).unwrap();
    assert_eq!(p.fixed_address6, Some(a("fd00:99::51")));
    assert_eq!(p.fixed_address, Some("10.0.0.2".parse().unwrap()));
    assert!(p.boot_params6.is_empty());
}

#[test]
fn a_host_known_by_duid_alone_is_found_by_its_duid() {
    let r = build(&[("lab.yaml", LAB)]).unwrap();
    let uuid = duid::parse_hex("00:04:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99").unwrap();
    let anyone = client("02:00:00:00:00:09", None, None);
    let p = r.lookup_duid(&uuid, &anyone).unwrap();
    assert_eq!(p.name, "lab");
    assert_eq!(p.fixed_address6, Some(a("fd00:99::52")));
    assert_eq!(p.hostname.as_deref(), Some("uuid-box"));
    assert!(r.lookup_duid(&[0, 4, 1, 2], &anyone).is_none());
    // by MAC it matches nothing: it has no MAC
    assert!(r.lookup(&anyone).is_none());
}

#[test]
fn reservations6_list_each_holder() {
    let r = build(&[("lab.yaml", LAB)]).unwrap();
    let uuid = duid::parse_hex("00:04:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99").unwrap();
    assert_eq!(
        r.reservations6(),
        vec![
            Reservation6 {
                holder: Holder6::Mac(mac("52:54:00:00:00:01")),
                addr: a("fd00:99::50"),
            },
            Reservation6 {
                holder: Holder6::Mac(mac("52:54:00:00:00:02")),
                addr: a("fd00:99::51"),
            },
            Reservation6 {
                holder: Holder6::Duid(uuid),
                addr: a("fd00:99::52"),
            },
        ]
    );
    let places: Vec<String> = r
        .fixed_addresses6()
        .iter()
        .map(|(ip, name, loc)| format!("{loc} {name} {ip}"))
        .collect();
    assert_eq!(
        places,
        vec![
            "profiles/lab.yaml:2 one fd00:99::50",
            "profiles/lab.yaml:8 lab fd00:99::51",
            "profiles/lab.yaml:11 lab fd00:99::52",
        ]
    );
}

#[test]
fn bad_address6_duid_and_boot_params6_name_file_line_column() {
    let text = "\
- name: a
  match: {mac: 52:54:00:00:00:01}
  address6: fd00:99::zz
  boot_params6: [\"\", ok]
- name: b
  hosts:
    - mac: 52:54:00:00:00:02
      address6: fe80::1
    - duid: 00:zz
    - hostname: nobody
    - duid: 00:04:01:02:03
      address: 10.0.0.9
";
    let e = errors(&[("v6.yaml", text)]);
    assert_eq!(e.len(), 6, "{e:#?}");
    assert!(
        e[0].starts_with("profiles/v6.yaml:3:13: bad IPv6 address \"fd00:99::zz\": write one such as fd00:99::50"),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with("profiles/v6.yaml:4:18: boot parameter \"\" is empty"),
        "{e:#?}"
    );
    assert!(
        e[2].starts_with("profiles/v6.yaml:8:17: fe80::1 cannot be handed out by DHCPv6"),
        "{e:#?}"
    );
    assert!(
        e[3].starts_with("profiles/v6.yaml:9:13: bad DUID \"00:zz\": write its bytes in hex"),
        "{e:#?}"
    );
    assert!(
        e[4].starts_with("profiles/v6.yaml:10:7: a host needs `mac` (its MAC address) or `duid`"),
        "{e:#?}"
    );
    assert!(
        e[5].starts_with("profiles/v6.yaml:12:16: `address` (IPv4) needs the host's `mac`"),
        "{e:#?}"
    );
}

#[test]
fn the_same_address6_or_duid_twice_is_refused_across_files() {
    let a = "name: a\nmatch: {mac: 52:54:00:00:00:01}\naddress6: fd00:99::50\n";
    let b = "\
name: b
hosts:
  - {duid: 00:04:01:02:03, address6: 'fd00:99:0::50'}
  - {mac: 52:54:00:00:00:03, duid: 00-04-01-02-03}
";
    let e = errors(&[("a.yaml", a), ("b.yaml", b)]);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with(
            "profiles/b.yaml:3:12: address6 fd00:99::50 is already reserved for MAC \
             52:54:00:00:00:01 at profiles/a.yaml:2"
        ),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with(
            "profiles/b.yaml:4:11: duplicate DUID 00:04:01:02:03: already given to a host of \
             profile `b` at profiles/b.yaml:3"
        ),
        "{e:#?}"
    );
}

#[test]
fn address6_needs_one_exact_mac() {
    let text = "name: a\nmatch: {mac_prefix: 52:54:00}\naddress6: fd00:99::50\n";
    let e = errors(&[("p.yaml", text)]);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with("profiles/p.yaml:3:11: `address6` needs `match: mac:` with one exact MAC"),
        "{e:#?}"
    );
}
