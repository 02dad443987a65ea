//! Tests of the whole pure pipeline (text in, registry or diagnostics out)
//! with in-memory sources: matching and serving here, validation errors in
//! `errors`, robustness against arbitrary input in `fuzz`.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;

use crate::boot::{ClientId, ProfileLookup};
use crate::mac::MacAddr;

use super::{build_registry, ClientFacts, Registry, SourceFile, Sources};

#[derive(Default)]
pub(super) struct Mem {
    pub(super) templates: HashMap<String, String>,
    pub(super) boot: HashSet<String>,
    pub(super) dirs: HashSet<String>,
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
    fn boot_dir_exists(&self, rel: &str) -> bool {
        self.dirs.contains(rel.trim_end_matches('/'))
    }
}

pub(super) fn mem() -> Mem {
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
    m.dirs.insert("backups".to_string());
    m
}

pub(super) fn build_with(sources: &Mem, files: &[(&str, &str)]) -> Result<Registry, Vec<String>> {
    let files: Vec<SourceFile> = files
        .iter()
        .map(|(name, text)| SourceFile {
            path: PathBuf::from("profiles").join(name),
            text: text.to_string(),
        })
        .collect();
    build_registry(&files, sources).map_err(|d| d.iter().map(|d| d.to_string()).collect())
}

pub(super) fn build(files: &[(&str, &str)]) -> Result<Registry, Vec<String>> {
    build_with(&mem(), files)
}

pub(super) fn errors(files: &[(&str, &str)]) -> Vec<String> {
    match build(files) {
        Ok(_) => panic!("expected errors"),
        Err(e) => e,
    }
}

pub(super) fn mac(s: &str) -> MacAddr {
    s.parse().unwrap()
}

pub(super) fn client(m: &str, arch: Option<u16>, vendor: Option<&str>) -> ClientId {
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

pub(super) fn facts(m: &str) -> ClientFacts {
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
fn empty_registry_matches_nothing() {
    let reg = build(&[("empty.yaml", "# nothing yet\n")]).unwrap();
    assert_eq!(reg.profile_count(), 0);
    assert!(reg
        .lookup(&client("00:11:22:33:44:55", None, None))
        .is_none());
    assert!(Registry::default().reservations().is_empty());
}

mod errors;
mod fuzz;
mod uboot;
mod v6;

#[test]
fn keep_versions_goes_with_the_profiles_upload_dir() {
    let routers =
        "name: routers\nmatch: {mac_prefix: 52:54:00}\nupload_dir: backups/\nkeep_versions: 30\n";
    let switches = "name: switches\nmatch: {mac_prefix: 02:00:00}\nupload_dir: sw/\n";
    let mut sources = mem();
    sources.dirs.insert("sw".into());
    let reg = build_with(&sources, &[("r.yaml", routers), ("s.yaml", switches)]).unwrap();
    assert_eq!(reg.upload_dir(&mac("52:54:00:01:02:03")), Some("backups/"));
    assert_eq!(
        reg.upload_keep_versions(&mac("52:54:00:01:02:03")),
        Some(30)
    );
    assert_eq!(
        reg.upload_keep_versions(&mac("02:00:00:01:02:03")),
        None,
        "tftp.keep_versions applies"
    );
    let e = errors(&[(
        "x.yaml",
        "name: x\nmatch: {mac_prefix: 52:54:00}\nkeep_versions: 3\n",
    )]);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(
        e[0].starts_with("profiles/x.yaml:3:16: keep_versions needs an upload_dir"),
        "{e:#?}"
    );
}

#[test]
fn a_profiles_menu_is_one_entry_or_a_default_with_a_timeout() {
    use crate::catalogue::menu::{Choice, Prefs};
    let lab = "name: lab\nmatch: {mac_prefix: 52:54:00}\nmenu: {default: debian.iso, timeout: 5, args: console=ttyS0}\n";
    let one = "name: one\nmatch: {mac: 02:00:00:00:00:01}\nmenu: {entry: rescue}\n";
    let reg = build_with(&mem(), &[("l.yaml", lab), ("o.yaml", one)]).unwrap();
    assert_eq!(
        reg.menu_prefs(&mac("52:54:00:01:02:03")),
        Some(&Prefs {
            choice: Choice::Menu {
                default: Some("debian.iso".into()),
                timeout_s: 5
            },
            args: Some("console=ttyS0".into()),
        })
    );
    assert_eq!(
        reg.menu_prefs(&mac("02:00:00:00:00:01")).map(|p| &p.choice),
        Some(&Choice::Entry("rescue".into()))
    );
    assert_eq!(reg.menu_prefs(&mac("02:00:00:00:00:02")), None);
    let e = errors(&[(
        "x.yaml",
        "name: x\nmatch: {mac_prefix: 52:54:00}\nmenu: {entry: a, default: b}\n",
    )]);
    assert_eq!(e.len(), 1, "{e:#?}");
    assert!(e[0].starts_with("profiles/x.yaml:3:"), "{e:#?}");
    assert!(e[0].contains("either `entry`"), "{e:#?}");
}
