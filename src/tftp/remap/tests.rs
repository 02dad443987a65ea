//! Map-file rules applied to names: each flag, each escape, the bounds.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
const CLIENT6: IpAddr = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));

fn name(rules: &RemapRules, input: &str) -> Remapped {
    rules.apply(input, false, CLIENT)
}

fn mapped(text: &str) -> Remapped {
    Remapped::Name(text.into())
}

#[test]
fn backslashes_and_prefixes() {
    let rules = RemapRules::parse("rg \\\\ /\nr ^/tftpboot/ /\n").unwrap();
    assert_eq!(name(&rules, "\\Boot\\BCD"), mapped("/Boot/BCD"));
    assert_eq!(name(&rules, "/tftpboot/pxelinux.0"), mapped("/pxelinux.0"));
}

#[test]
fn groups_client_address_and_case() {
    let rules = RemapRules::parse("ri ^(.*)\\.CFG$ hosts/\\x/\\1.cfg # per host\n").unwrap();
    assert_eq!(name(&rules, "Lab.cfg"), mapped("hosts/C000020A/Lab.cfg"));
}

#[test]
fn hex_and_dotted_addresses_for_both_families() {
    let rules = RemapRules::parse("r ^ \\x/\\i/\n").unwrap();
    assert_eq!(
        rules.apply("f", false, CLIENT6),
        mapped("20010DB8000000000000000000000001/2001:db8::1/f")
    );
    let v4_mapped = IpAddr::V6(Ipv4Addr::new(127, 0, 0, 1).to_ipv6_mapped());
    assert_eq!(
        rules.apply("f", false, v4_mapped),
        mapped("7F000001/127.0.0.1/f"),
        "an IPv4 client on a dual-stack socket is an IPv4 client"
    );
}

#[test]
fn family_flags() {
    let rules = RemapRules::parse("r4 ^ v4/\nr6 ^ v6/\n").unwrap();
    assert_eq!(rules.apply("f", false, CLIENT), mapped("v4/f"));
    assert_eq!(rules.apply("f", false, CLIENT6), mapped("v6/f"));
}

#[test]
fn upper_lower_and_end_of_case() {
    let rules = RemapRules::parse("r ^(.*)/(.*)$ \\U\\1\\E/\\L\\2-X\n").unwrap();
    assert_eq!(name(&rules, "boot/GRUB.CFG"), mapped("BOOT/grub.cfg-x"));
    let macro_case = RemapRules::parse("r ^ \\L\\x\\E/\n").unwrap();
    assert_eq!(name(&macro_case, "f"), mapped("c000020a/f"));
}

#[test]
fn escaped_space_and_hash_in_fields() {
    let rules = RemapRules::parse("r a\\ b c\\#d\\ e # comment\n").unwrap();
    assert_eq!(name(&rules, "xa by"), mapped("xc#d ey"));
}

#[test]
fn inverted_rules() {
    let rules = RemapRules::parse("a~ ^pxelinux Only\\ pxelinux\\ files\n").unwrap();
    assert_eq!(
        name(&rules, "grub.cfg"),
        Remapped::Refused(Some("Only pxelinux files".into()))
    );
    assert_eq!(name(&rules, "pxelinux.0"), mapped("pxelinux.0"));
    let end = RemapRules::parse("e~ ^/\nr ^ /\n").unwrap();
    assert_eq!(name(&end, "a"), mapped("a"), "~e stops when there is no /");
    assert_eq!(name(&end, "/a"), mapped("//a"));
}

#[test]
fn abort_end_and_direction() {
    let rules = RemapRules::parse("aP ^secret\nre ^a b\nr ^b c\n").unwrap();
    assert_eq!(rules.apply("secret", true, CLIENT), Remapped::Refused(None));
    assert_eq!(rules.apply("secret", false, CLIENT), mapped("secret"));
    assert_eq!(name(&rules, "a"), mapped("b"), "e stops");
    let message = RemapRules::parse("a ^(.*)\\.exe$ no\\ \\1\\ for\\ \\i\n").unwrap();
    assert_eq!(
        name(&message, "evil.exe"),
        Remapped::Refused(Some("no evil for 192.0.2.10".into()))
    );
    // as in tftpd-hpa, the text around the match stays in the message
    let partial = RemapRules::parse("a ^secret No\\ secrets\n").unwrap();
    assert_eq!(
        name(&partial, "secret-area"),
        Remapped::Refused(Some("No secrets-area".into()))
    );
}

#[test]
fn global_rewrites_until_no_match() {
    // tftpd-hpa's g: the result is searched again from the start
    let rules = RemapRules::parse("rg // /\nrg /\\./ /\n").unwrap();
    assert_eq!(name(&rules, "a////b/./././c"), mapped("a/b/c"));
}

#[test]
fn restart_loops_are_bounded() {
    let rules = RemapRules::parse("rs ^ x\n").unwrap();
    let Remapped::Name(out) = name(&rules, "f") else {
        panic!()
    };
    assert_eq!(out.len(), MAX_PASSES + 2);
}

#[test]
fn runaway_rewrites_are_refused() {
    // Found by fuzz/tftp_request: each pass triples the name, and the
    // `s` flag asks for 32 passes (3^33 bytes before the cap).
    let rules = RemapRules::parse("gs () ab\n").unwrap();
    assert_eq!(name(&rules, "a"), Remapped::Refused(None));
    let chained = RemapRules::parse(&"g () ab\n".repeat(40)).unwrap();
    assert_eq!(name(&chained, "pxelinux.0"), Remapped::Refused(None));
    // an empty match always matches again: g stops at the step budget
    let forever = RemapRules::parse("g x* \n").unwrap();
    assert_eq!(name(&forever, "abc"), Remapped::Refused(None));
    let long = format!("{}\\", "x".repeat(MAX_REWRITTEN_LEN - 1));
    let mild = RemapRules::parse("g \\\\ /\n").unwrap();
    let want = format!("{}/", "x".repeat(MAX_REWRITTEN_LEN - 1));
    assert_eq!(name(&mild, &long), mapped(&want), "at the cap is fine");
}

#[test]
fn errors_name_the_line() {
    let err = RemapRules::parse("# c\nrz a b\n").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(RemapRules::parse("r (unclosed x").is_err());
    assert!(RemapRules::parse("r").is_err());
    assert!(RemapRules::parse("\n\nr~ a b\n").unwrap_err().line == 3);
}
