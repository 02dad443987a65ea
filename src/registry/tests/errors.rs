//! Every validation error, with its file, line and column.

use super::{build, build_with, errors, mem};

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

#[test]
fn a_bad_host_reports_every_bad_value() {
    let text = "\
name: lab
hosts:
  - mac: 52:54:00:10:00:0g
    address: 192.168.50.300
    vars: {ip: x}
";
    let e = errors(&[("lab.yaml", text)]);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(
        e[0].starts_with("profiles/lab.yaml:3:10: bad MAC address"),
        "{e:#?}"
    );
    assert!(
        e[1].starts_with("profiles/lab.yaml:4:14: bad IPv4 address"),
        "{e:#?}"
    );
    assert!(
        e[2].starts_with("profiles/lab.yaml:5:12: variable `ip` is built in"),
        "{e:#?}"
    );
}
