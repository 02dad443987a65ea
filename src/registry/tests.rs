//! Tests of the whole pure pipeline (text in, registry or diagnostics out)
//! with in-memory sources.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::boot::{ClientId, ProfileLookup};
use crate::mac::MacAddr;

use super::{build_registry, ClientFacts, Registry, SourceFile, Sources};

#[derive(Default)]
struct Mem {
    templates: HashMap<String, String>,
    boot: HashSet<String>,
}

impl Sources for Mem {
    fn read_template(&self, rel: &str) -> Result<(PathBuf, String), String> {
        self.templates
            .get(rel)
            .map(|t| (PathBuf::from("profiles").join(rel), t.clone()))
            .ok_or_else(|| "no such file".to_string())
    }
    fn boot_file_exists(&self, rel: &str) -> bool {
        self.boot.contains(rel)
    }
}

fn mem() -> Mem {
    let mut m = Mem::default();
    for f in [
        "pxelinux.0",
        "ipxe.efi",
        "undionly.kpxe",
        "snponly.efi",
        "grubx64.efi",
    ] {
        m.boot.insert(f.to_string());
    }
    m
}

fn build_with(sources: &Mem, files: &[(&str, &str)]) -> Result<Registry, Vec<String>> {
    let files: Vec<SourceFile> = files
        .iter()
        .map(|(name, text)| SourceFile {
            path: PathBuf::from("profiles").join(name),
            text: text.to_string(),
        })
        .collect();
    build_registry(&files, sources).map_err(|d| d.iter().map(|d| d.to_string()).collect())
}

fn build(files: &[(&str, &str)]) -> Result<Registry, Vec<String>> {
    build_with(&mem(), files)
}

fn errors(files: &[(&str, &str)]) -> Vec<String> {
    match build(files) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

fn client(m: &str, arch: Option<u16>, vendor: Option<&str>) -> ClientId {
    ClientId {
        mac: mac(m),
        arch,
        vendor_class: vendor.map(str::to_string),
        is_ipxe: false,
    }
}

const PRECEDENCE: &str = "\
- name: default
  match: {default: true}
- name: x64
  match: {arch: uefi-x64}
- name: phones
  match: {vendor_class: \"Cisco*\"}
- name: qemu
  match: {mac: \"52:54:00:*\"}
- name: qemu-lab
  match: {mac_prefix: 52:54:00:12}
- name: one
  match: {mac: 52-54-00-12-34-56}
  address: 10.0.0.50
";

#[test]
fn precedence_exact_prefix_vendor_arch_default() {
    let reg = build(&[("p.yaml", PRECEDENCE)]).unwrap();
    let name = |c: ClientId| reg.lookup(&c).map(|p| p.name);
    let is = |s: &str| Some(s.to_string());
    assert_eq!(
        name(client("52:54:00:12:34:56", Some(7), Some("Cisco IP"))),
        is("one")
    );
    assert_eq!(
        name(client("52:54:00:12:99:99", Some(7), None)),
        is("qemu-lab")
    );
    assert_eq!(name(client("52:54:00:77:99:99", Some(7), None)), is("qemu"));
    assert_eq!(
        name(client("00:11:22:33:44:55", Some(7), Some("Cisco IP"))),
        is("phones")
    );
    assert_eq!(name(client("00:11:22:33:44:55", Some(7), None)), is("x64"));
    assert_eq!(name(client("00:11:22:33:44:55", Some(9), None)), is("x64"));
    assert_eq!(
        name(client("00:11:22:33:44:55", Some(0), None)),
        is("default")
    );
    assert_eq!(name(client("00:11:22:33:44:55", None, None)), is("default"));
    let one = reg
        .lookup(&client("52:54:00:12:34:56", None, None))
        .unwrap();
    assert!(one.known);
    assert_eq!(one.fixed_address, Some(Ipv4Addr::new(10, 0, 0, 50)));
    assert!(
        !reg.lookup(&client("00:11:22:33:44:55", None, None))
            .unwrap()
            .known
    );
    assert_eq!(
        reg.reservations(),
        vec![(mac("52:54:00:12:34:56"), Ipv4Addr::new(10, 0, 0, 50))]
    );
}

#[test]
fn arch_nine_in_profile_matches_seven() {
    let reg = build(&[("p.yaml", "name: a\nmatch: {arch: 9}\n")]).unwrap();
    assert!(reg
        .lookup(&client("00:11:22:33:44:55", Some(7), None))
        .is_some());
    assert!(reg
        .lookup(&client("00:11:22:33:44:55", Some(0), None))
        .is_none());
}

#[test]
fn what_the_client_gets() {
    let text = "\
name: lab
match: {mac: 00:1b:54:aa:0f:e1}
hostname: pc1
boot: {bios: pxelinux.0, uefi_x64: ipxe.efi, http: 'http://10.0.0.1/boot.efi', ipxe: boot.ipxe}
next_server: 10.0.0.2
tftp_servers: [self, 10.0.0.3]
options:
  42: {ipv4: 10.0.0.1}
files:
  boot.ipxe: {content: \"#!ipxe\\n\"}
";
    let reg = build(&[("lab.yaml", text)]).unwrap();
    let p = reg
        .lookup(&client("00:1b:54:aa:0f:e1", None, None))
        .unwrap();
    assert_eq!(p.hostname.as_deref(), Some("pc1"));
    assert_eq!(p.boot.bios.as_deref(), Some("pxelinux.0"));
    assert_eq!(p.boot.ipxe.as_deref(), Some("boot.ipxe"));
    assert_eq!(p.next_server, Some(Ipv4Addr::new(10, 0, 0, 2)));
    assert_eq!(
        p.tftp_servers,
        vec![Ipv4Addr::UNSPECIFIED, Ipv4Addr::new(10, 0, 0, 3)]
    );
    assert_eq!(p.extra_options, vec![(42, vec![10, 0, 0, 1])]);
}

fn facts(m: &str) -> ClientFacts {
    ClientFacts::new(
        mac(m),
        Ipv4Addr::new(10, 0, 0, 7),
        Ipv4Addr::new(10, 0, 0, 1),
    )
}

#[test]
fn virtual_files_render_every_mac_form() {
    let text = "\
name: phones
match: {mac_prefix: 00:1b:54}
vars: {site: lab}
files:
  \"SEP{{ mac.upper }}.cnf.xml\": {template: templates/sep.j2}
  \"pxelinux.cfg/{{ mac.pxelinux }}\": {content: \"{{ mac.dash }} {{ mac.lower }}\\n\"}
";
    let mut m = mem();
    m.templates.insert(
        "templates/sep.j2".into(),
        "<mac>{{ mac }}</mac><ip>{{ ip }}</ip><tftp>{{ server_ip }}</tftp>{{ site }}\n".into(),
    );
    let reg = build_with(&m, &[("p.yaml", text)]).unwrap();
    let f = facts("00:1b:54:aa:0f:e1");
    let sep = reg
        .virtual_file(&f, "SEP001B54AA0FE1.cnf.xml")
        .unwrap()
        .unwrap();
    assert_eq!(
        String::from_utf8(sep).unwrap(),
        "<mac>00:1b:54:aa:0f:e1</mac><ip>10.0.0.7</ip><tftp>10.0.0.1</tftp>lab\n"
    );
    let cfg = reg
        .virtual_file(&f, "/pxelinux.cfg/01-00-1b-54-aa-0f-e1")
        .unwrap()
        .unwrap();
    assert_eq!(cfg, b"00-1b-54-aa-0f-e1 001b54aa0fe1\n");
    assert!(reg.virtual_file(&f, "SEP001B54AA0FE2.cnf.xml").is_none());
    assert!(reg
        .virtual_file(&facts("00:1c:00:00:00:01"), "SEP001C00000001.cnf.xml")
        .is_none());
}

#[test]
fn rewrites_per_client() {
    let text = "\
- name: lab
  match: {mac_prefix: 52:54:00}
  rewrite:
    - {from: grub.cfg, to: grub/lab.cfg}
- name: default
  match: {default: true}
  rewrite:
    - {from: /grub.cfg, to: grub/default.cfg}
";
    let reg = build(&[("p.yaml", text)]).unwrap();
    let lab = mac("52:54:00:01:02:03");
    assert_eq!(
        reg.rewrite_path(&lab, "/grub.cfg"),
        Some("grub/lab.cfg".into())
    );
    assert_eq!(reg.rewrite_path(&lab, "grub.cfg-01-52"), None);
    let other = mac("00:00:00:01:02:03");
    assert_eq!(
        reg.rewrite_path(&other, "grub.cfg"),
        Some("grub/default.cfg".into())
    );
}

#[test]
fn hosts_share_a_profile() {
    let text = "\
name: lab
boot: {bios: pxelinux.0}
hosts:
  - {mac: 52:54:00:00:00:01, address: 10.0.0.11, hostname: pc1}
  - {mac: 525400000002, address: 10.0.0.12, hostname: pc2, vars: {seat: 2}}
files:
  seat-{{ mac.lower }}: {content: \"{{ hostname }} {{ address }} {{ seat | default(0) }}\"}
";
    let reg = build(&[("lab.yaml", text)]).unwrap();
    let p = reg
        .lookup(&client("52:54:00:00:00:02", None, None))
        .unwrap();
    assert_eq!(p.hostname.as_deref(), Some("pc2"));
    assert_eq!(p.fixed_address, Some(Ipv4Addr::new(10, 0, 0, 12)));
    assert_eq!(reg.reservations().len(), 2);
    let body = reg.virtual_file(&facts("52:54:00:00:00:02"), "seat-525400000002");
    assert_eq!(body.unwrap().unwrap(), b"pc2 10.0.0.12 2");
}

#[test]
fn bad_mac_and_ip_name_file_line_column() {
    let text = "\
- name: a
  match:
    mac: 52:54:zz:12:34:56
  address: 10.0.0.300
- name: b
  hosts:
    - mac: 52:54:00:12:34:57
      address: 10.0.0.1.2
";
    let e = errors(&[("lab.yaml", text)]);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(
        e[0].starts_with("profiles/lab.yaml:3:10: bad MAC address \"52:54:zz:12:34:56\""),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with("profiles/lab.yaml:4:12: bad IPv4 address \"10.0.0.300\""),
        "{e:#?}"
    );
    assert!(
        e[2].starts_with("profiles/lab.yaml:8:16: bad IPv4 address"),
        "{e:#?}"
    );
}

#[test]
fn duplicate_macs_and_addresses_across_files() {
    let a = "name: a\nmatch: {mac: 52:54:00:12:34:56}\naddress: 10.0.0.5\n";
    let b = "name: b\nhosts:\n  - {mac: 52-54-00-12-34-56}\n  - {mac: 52:54:00:00:00:09, address: 10.0.0.5}\n";
    let e = errors(&[("a.yaml", a), ("b.yaml", b)]);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e[0].starts_with("profiles/b.yaml:3:11: duplicate MAC 52:54:00:12:34:56: already matched exactly by profile `a` at profiles/a.yaml:2"), "{e:#?}");
    assert!(e[1].starts_with("profiles/b.yaml:4:11: address 10.0.0.5 for 52:54:00:00:00:09 is already reserved for 52:54:00:12:34:56"), "{e:#?}");
}

#[test]
fn identical_or_ambiguous_matches_are_refused() {
    let text = "\
- name: a
  match: {arch: [bios, uefi-x64]}
- name: b
  match: {arch: 9}
- name: c
  match: {default: true}
- name: d
  match: {default: true}
- name: e
  match: {arch: uefi-arm64}
";
    let e = errors(&[("p.yaml", text)]);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with(
            "profiles/p.yaml:4:10: profile `b` can match the same clients as profile `a`"
        ),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with("profiles/p.yaml:8:10: profile `d`"),
        "{e:#?}"
    );
}

#[test]
fn unknown_arch_and_keys() {
    let text = "\
- name: a
  match: {arch: [bios, uefi-x65]}
- name: b
  match: {default: true}
  boot: {bois: pxelinux.0}
";
    let e = errors(&[("p.yaml", text)]);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(
        e[0].starts_with("profiles/p.yaml:2:24: unknown architecture `uefi-x65`"),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with("profiles/p.yaml:5:10: boot: unknown field `bois`"),
        "{e:#?}"
    );
}

#[test]
fn missing_boot_files_and_exemptions() {
    let text = "\
name: a
match: {default: true}
boot:
  bios: pxelinux.0
  uefi_x64: missing.efi
  uefi_arm64: ../../etc/passwd
  http: tftp://10.0.0.1/x.efi
  ipxe: boot.ipxe
files:
  boot.ipxe: {content: \"#!ipxe\"}
";
    let e = errors(&[("p.yaml", text)]);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(
        e[2].starts_with("profiles/p.yaml:7:9: `http` must be an http://"),
        "{e:#?}"
    );
    assert!(
        e[0].starts_with("profiles/p.yaml:5:13: boot file `missing.efi` not found"),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with("profiles/p.yaml:6:15: boot file \"../../etc/passwd\""),
        "{e:#?}"
    );
}

#[test]
fn template_errors_point_into_the_template() {
    let text = "\
name: a
match: {default: true}
files:
  a.cfg:
    content: |
      line one
      {{ mac.upper }
  b.cfg:
    content: |
      fine
      {{ mac.uppper }}
  c.cfg: {template: templates/c.j2}
  \"d-{{ nope }}\": {content: x}
";
    let mut m = mem();
    m.templates
        .insert("templates/c.j2".into(), "ok\n{% if %}\n".into());
    let e = build_with(&m, &[("p.yaml", text)]).unwrap_err();
    assert_eq!(e.len(), 4, "{e:#?}");
    assert!(
        e[0].starts_with("profiles/p.yaml:7: template syntax error"),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with("profiles/p.yaml:11: template does not render: undefined"),
        "{e:#?}"
    );
    assert!(
        e[2].starts_with("profiles/p.yaml:13:3: file pattern does not render"),
        "{e:#?}"
    );
    assert!(
        e[3].starts_with("profiles/templates/c.j2:2: template syntax error"),
        "{e:#?}"
    );
}

#[test]
fn syntax_errors_and_every_file_reported() {
    let e = errors(&[
        ("a.yaml", "name: a\nmatch: [\n"),
        (
            "b.yaml",
            "name: b\nmatch: {default: true}\nnext_server: nope\n",
        ),
        ("c.yaml", "name: c\n"),
    ]);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e[0].starts_with("profiles/a.yaml:3:"), "{e:#?}");
    assert!(
        e[1].starts_with("profiles/b.yaml:3:14: bad IPv4 address"),
        "{e:#?}"
    );
    assert!(
        e[2].starts_with("profiles/c.yaml:1:7: profile matches no client"),
        "{e:#?}"
    );
}

#[test]
fn misc_semantic_errors() {
    let text = "\
- name: a
  match: {mac_prefix: 52:54:00}
  address: 10.0.0.1
  options:
    53: {u8: 1}
  vars: {mac: x}
- name: a
  match: {mac: \"52:54:zz:*\", default: true}
";
    let e = errors(&[("p.yaml", text)]);
    assert_eq!(e.len(), 5, "{e:#?}");
    assert!(e[0].contains("`address` needs `match: mac:`"), "{e:#?}");
    assert!(e[1].contains("option 53 cannot be set"), "{e:#?}");
    assert!(
        e[2].starts_with("profiles/p.yaml:6:10: variable `mac` is built in"),
        "{e:#?}"
    );
    assert!(e[3].contains("profile name `a` is already used"), "{e:#?}");
    assert!(
        e[4].contains("`default: true` cannot be combined"),
        "{e:#?}"
    );
}

#[test]
fn empty_registry_matches_nothing() {
    let reg = build(&[("empty.yaml", "# nothing yet\n")]).unwrap();
    assert_eq!(reg.profile_count(), 0);
    assert!(reg
        .lookup(&client("00:11:22:33:44:55", None, None))
        .is_none());
    assert!(Registry::default().reservations().is_empty());
}

#[test]
fn deeply_nested_input_does_not_overflow() {
    let deep = format!(
        "name: a\nvars:\n  x: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(build(&[("p.yaml", &deep)]).is_err());
    let deep_map = format!("name: a\nvars:\n  x: {}\n", "{a: ".repeat(50_000));
    let e = build(&[("p.yaml", &deep_map)]).unwrap_err();
    assert_eq!(
        e,
        vec!["profiles/p.yaml:1: nesting deeper than 64 levels".to_string()]
    );
    let big = format!("name: a\n#{}\n", "x".repeat(2 << 20));
    assert!(build(&[("p.yaml", &big)]).unwrap_err()[0].contains("more than"));
}

mod fuzz {
    use proptest::prelude::*;

    use super::*;

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
}
