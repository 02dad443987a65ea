//! Bad input never panics: generated YAML-like text and arbitrary text.

use proptest::prelude::*;

use crate::boot::ProfileLookup;

use super::{build, client, facts};

const KEYS: &[&str] = &[
    "name",
    "match",
    "mac",
    "mac_prefix",
    "arch",
    "vendor_class",
    "default",
    "hosts",
    "address",
    "hostname",
    "boot",
    "bios",
    "uefi_x64",
    "ipxe",
    "next_server",
    "tftp_servers",
    "options",
    "files",
    "content",
    "template",
    "rewrite",
    "from",
    "to",
    "vars",
    "42",
    "ipv4",
    "hex",
    "u8",
];

fn yamlish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        proptest::sample::select(KEYS).prop_map(str::to_string),
        Just(": ".to_string()),
        Just("\n".to_string()),
        Just("\n  ".to_string()),
        Just("- ".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(", ".to_string()),
        Just("\"{{ mac.upper }}\"".to_string()),
        Just("52:54:00:*".to_string()),
        Just("10.0.0.1".to_string()),
        Just("true".to_string()),
        "[ -~]{0,6}",
    ];
    proptest::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn building_never_panics(text in yamlish()) {
        let result = build(&[("p.yaml", &text)]);
        if let Ok(reg) = result {
            let c = client("52:54:00:00:00:01", Some(7), Some("x"));
            let _ = reg.lookup(&c);
            let _ = reg.virtual_file(&facts("52:54:00:00:00:01"), "SEP525400000001.cnf.xml");
            let _ = reg.rewrite_path(&c.mac, "grub.cfg");
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(text in "\\PC{0,200}") {
        let _ = build(&[("p.yaml", &text)]);
    }
}
