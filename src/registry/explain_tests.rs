//! `explain` against the example profiles in `profiles/`: every kind of
//! match, every "why not" line, and agreement with `lookup`.

use crate::boot::{ClientId, ProfileLookup};
use crate::registry::tests::{build_with, client, mem};
use crate::registry::Registry;

use super::*;

const ARM: &str = "\
name: arm-boards
match:
  arch: uefi-arm64
boot:
  uefi_arm64: grubaa64.efi
";

/// The example profiles, plus `extra` files.
fn examples(extra: &[(&str, &str)]) -> Registry {
    let mut sources = mem();
    sources.boot.insert("grubaa64.efi".into());
    sources.templates.insert(
        "templates/sep.cnf.xml.j2".into(),
        include_str!("../../profiles/templates/sep.cnf.xml.j2").into(),
    );
    let mut files = vec![
        (
            "cisco-phones.yaml",
            include_str!("../../profiles/cisco-phones.yaml"),
        ),
        ("default.yaml", include_str!("../../profiles/default.yaml")),
        (
            "ipxe-chain.yaml",
            include_str!("../../profiles/ipxe-chain.yaml"),
        ),
        ("lab.yaml", include_str!("../../profiles/lab.yaml")),
        (
            "router-backup.yaml",
            include_str!("../../profiles/router-backup.yaml"),
        ),
    ];
    files.extend_from_slice(extra);
    build_with(&sources, &files).unwrap()
}

/// The lines about profiles not chosen, by profile name.
fn why_not(e: &Explanation, profile: &str) -> String {
    let c = e.others.iter().find(|c| c.profile == profile).unwrap();
    c.why_not.to_string()
}

const PHONE: &str = "Cisco Systems, Inc. IP Phone CP-7945G";

#[test]
fn exact_mac_wins_and_every_other_profile_says_why_not() {
    let reg = examples(&[]);
    let e = explain(&reg, &client("52-54-00-10-00-01", Some(7), None));
    assert_eq!(
        e.to_string(),
        "client 52:54:00:10:00:01: arch 7 (uefi-x64), vendor class none\n\
         profile lab (lab.yaml:7), by exact MAC: exact MAC 52:54:00:10:00:01 (host name lab-pc-01, fixed address 192.168.50.11)\n  \
         not ipxe-chain (ipxe-chain.yaml:4): matches too (MAC prefix 52:54:00:*), but lab wins: exact MAC comes before MAC prefix\n  \
         not routers (router-backup.yaml:8): MAC prefix 00:1e:bd:* does not match 52:54:00:10:00:01\n  \
         not cisco-phones (cisco-phones.yaml:3): wants vendor class \"Cisco Systems, Inc. IP Phone*\", client sent none (no option 60)\n  \
         not cisco-pnp (router-backup.yaml:22): wants vendor class \"ciscopnp\", client sent none (no option 60)\n  \
         not default (default.yaml:4): matches too (default), but lab wins: exact MAC comes before default\n"
    );
    assert_eq!(e.matched.as_ref().unwrap().selector, Selector::ExactMac);
}

#[test]
fn mac_prefix_match_and_hosts_that_are_not_this_one() {
    let reg = examples(&[]);
    let e = explain(&reg, &client("52:54:00:99:00:01", Some(0), None));
    let m = e.matched.as_ref().unwrap();
    assert_eq!(
        (m.profile.as_str(), m.selector),
        ("ipxe-chain", Selector::MacPrefix)
    );
    assert_eq!(m.conditions, "MAC prefix 52:54:00:*");
    assert_eq!(
        why_not(&e, "lab"),
        "not one of its hosts (52:54:00:10:00:01, 52:54:00:10:00:02, 52:54:00:10:00:03)"
    );
}

#[test]
fn vendor_class_match_and_a_vendor_class_that_differs() {
    let reg = examples(&[]);
    let e = explain(&reg, &client("00:0d:29:aa:bb:cc", None, Some(PHONE)));
    let m = e.matched.as_ref().unwrap();
    assert_eq!(
        (m.profile.as_str(), m.selector),
        ("cisco-phones", Selector::VendorClass)
    );
    assert_eq!(
        why_not(&e, "cisco-pnp"),
        format!("wants vendor class \"ciscopnp\", client sent {PHONE:?}")
    );
    assert_eq!(
        why_not(&e, "default"),
        "matches too (default), but cisco-phones wins: vendor class comes before default"
    );
}

#[test]
fn mac_prefix_outranks_vendor_class() {
    let reg = examples(&[]);
    let e = explain(&reg, &client("00:1e:bd:00:00:01", None, Some("ciscopnp")));
    assert_eq!(e.matched.as_ref().unwrap().profile, "routers");
    assert_eq!(
        why_not(&e, "cisco-pnp"),
        "matches too (vendor class \"ciscopnp\"), but routers wins: MAC prefix comes before vendor class"
    );
}

#[test]
fn architecture_match_and_architectures_that_differ_or_are_missing() {
    let reg = examples(&[("arm.yaml", ARM)]);
    let e = explain(&reg, &client("02:00:00:00:00:01", Some(11), None));
    let m = e.matched.as_ref().unwrap();
    assert_eq!(
        (m.profile.as_str(), m.selector),
        ("arm-boards", Selector::Arch)
    );
    assert_eq!(
        why_not(&e, "default"),
        "matches too (default), but arm-boards wins: architecture comes before default"
    );
    let x64 = explain(&reg, &client("02:00:00:00:00:01", Some(9), None));
    assert_eq!(
        why_not(&x64, "arm-boards"),
        "wants arch 11 (uefi-arm64), client sent 9 (uefi-x64)"
    );
    let none = explain(&reg, &client("02:00:00:00:00:01", None, None));
    assert_eq!(
        why_not(&none, "arm-boards"),
        "wants arch 11 (uefi-arm64), client sent none (no option 93)"
    );
}

#[test]
fn default_match_when_nothing_else_fits() {
    let reg = examples(&[]);
    let e = explain(&reg, &client("02:00:00:00:00:01", None, None));
    let m = e.matched.as_ref().unwrap();
    assert_eq!(
        (m.profile.as_str(), m.selector),
        ("default", Selector::Default)
    );
    assert_eq!(m.conditions, "default");
    assert_eq!(e.others.len(), 5, "{e}");
}

#[test]
fn a_longer_prefix_of_the_same_kind_is_more_specific() {
    let longer = "name: lab-vms\nmatch:\n  mac_prefix: 52:54:00:99\n";
    let reg = examples(&[("vms.yaml", longer)]);
    let e = explain(&reg, &client("52:54:00:99:00:01", None, None));
    assert_eq!(e.matched.as_ref().unwrap().profile, "lab-vms");
    assert_eq!(
        why_not(&e, "ipxe-chain"),
        "matches too (MAC prefix 52:54:00:*), but lab-vms is more specific and wins"
    );
}

#[test]
fn every_failed_condition_of_an_entry_is_listed() {
    let both = "name: arm-phones\nmatch:\n  mac_prefix: 00:11:22\n  arch: uefi-arm64\n  vendor_class: Foo*\n";
    let reg = examples(&[("both.yaml", both)]);
    let e = explain(&reg, &client("02:00:00:00:00:01", Some(0), Some("Bar")));
    assert_eq!(
        why_not(&e, "arm-phones"),
        "MAC prefix 00:11:22:* does not match 02:00:00:00:00:01, \
         wants arch 11 (uefi-arm64), client sent 0 (bios), \
         wants vendor class \"Foo*\", client sent \"Bar\""
    );
}

#[test]
fn no_profile_matches_without_a_default() {
    let mut sources = mem();
    sources.boot.insert("grubaa64.efi".into());
    let reg = build_with(&sources, &[("arm.yaml", ARM)]).unwrap();
    let e = explain(&reg, &client("02:00:00:00:00:01", Some(7), None));
    assert!(e.matched.is_none());
    assert!(e.to_string().contains("\nno profile matches\n"), "{e}");
}

#[test]
fn explain_agrees_with_lookup() {
    let reg = examples(&[("arm.yaml", ARM)]);
    let macs = [
        "52:54:00:10:00:01",
        "52:54:00:10:00:03",
        "52:54:00:42:00:01",
        "00:1e:bd:01:02:03",
        "02:00:00:00:00:01",
    ];
    let vendors = [
        None,
        Some(PHONE),
        Some("ciscopnp"),
        Some("PXEClient:Arch:00007"),
    ];
    for mac in macs {
        for arch in [None, Some(0), Some(7), Some(9), Some(11)] {
            for vendor in vendors {
                let c: ClientId = client(mac, arch, vendor);
                let said = explain(&reg, &c).matched.map(|m| m.profile);
                let did = reg.lookup(&c).map(|p| p.name);
                assert_eq!(said, did, "{c:?}");
            }
        }
    }
}

#[test]
fn the_lookup_trait_gives_the_same_text_for_the_servers_log() {
    let reg = examples(&[]);
    let c = client("52:54:00:10:00:01", Some(7), None);
    assert_eq!(reg.explain(&c), Some(explain(&reg, &c).to_string()));
}

#[test]
fn a_single_exact_mac_says_which_mac_it_wants() {
    let one = "name: printer\nmatch:\n  mac: 02:00:00:00:00:99\n";
    let reg = examples(&[("printer.yaml", one)]);
    let e = explain(&reg, &client("02:00:00:00:00:01", None, None));
    assert_eq!(
        why_not(&e, "printer"),
        "MAC 02:00:00:00:00:99 is not 02:00:00:00:00:01"
    );
}

#[test]
fn the_ipv6_reservation_is_shown_beside_the_ipv4_one() {
    let text = "\
name: v6
hosts:
  - mac: 52:54:00:66:00:01
    address: 192.168.50.61
    address6: fd00:99::61
";
    let reg = build_with(&mem(), &[("v6.yaml", text)]).unwrap();
    let e = explain(&reg, &client("52:54:00:66:00:01", None, None));
    let m = e.matched.as_ref().unwrap();
    assert_eq!(m.address6, Some("fd00:99::61".parse().unwrap()));
    assert!(
        e.to_string().contains(
            "by exact MAC: exact MAC 52:54:00:66:00:01 (fixed address 192.168.50.61, \
             fixed IPv6 address fd00:99::61)"
        ),
        "{e}"
    );
}
