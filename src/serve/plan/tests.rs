//! Plan tests: ranges, flags over the file (values and booleans), one pool
//! per interface, the server name, the state directory, reservations of
//! our own address.

use super::*;
use std::net::Ipv4Addr;

use crate::dhcp::config::Mode;

fn net(text: &str) -> Ipv4Net {
    let (a, p) = text.split_once('/').unwrap();
    Ipv4Net {
        addr: a.parse().unwrap(),
        prefix: p.parse().unwrap(),
    }
}

#[test]
fn default_range_is_the_upper_half() {
    assert_eq!(
        default_range(net("10.42.0.1/24")),
        (
            "10.42.0.128".parse().unwrap(),
            "10.42.0.254".parse().unwrap()
        )
    );
    assert_eq!(
        default_range(net("192.168.8.10/22")),
        (
            "192.168.10.0".parse().unwrap(),
            "192.168.11.254".parse().unwrap()
        )
    );
}

#[test]
fn flags_win_over_the_file_and_names_are_found_in_the_root() {
    let root = tempfile::tempdir().unwrap();
    for f in ["undionly.kpxe", "ipxe.efi", "boot.ipxe"] {
        std::fs::write(root.path().join(f), b"x").unwrap();
    }
    let file = FileConfig::parse(
        Path::new("n.yaml"),
        "dhcp:\n  range: 10.0.0.10-10.0.0.20\n  router: 10.0.0.254\nboot:\n  bios: pxelinux.0\n",
    )
    .unwrap();
    let args = ServeOptions {
        root: Some(root.path().to_path_buf()),
        range: Some("10.0.0.30-10.0.0.40".into()),
        state_dir: Some(root.path().join("state")),
        ..ServeOptions::default()
    };
    let plan = plan(
        &args,
        &file,
        Path::new("."),
        vec![("eth0".into(), net("10.0.0.1/24"))],
    )
    .unwrap();
    let pool = &plan.dhcp.pools[0];
    assert_eq!(
        (pool.first(), pool.last()),
        ("10.0.0.30".parse().unwrap(), "10.0.0.40".parse().unwrap())
    );
    assert_eq!(
        pool.routers,
        vec!["10.0.0.254".parse::<Ipv4Addr>().unwrap()]
    );
    assert_eq!(plan.defaults.bios.as_deref(), Some("pxelinux.0"));
    assert_eq!(plan.defaults.uefi_x64.as_deref(), Some("ipxe.efi"));
    assert_eq!(plan.defaults.ipxe.as_deref(), Some("boot.ipxe"));
    assert_eq!(plan.tftp.listen, vec!["10.0.0.1:69".parse().unwrap()]);
    assert!(plan.tftp.root.secure);
}

#[test]
fn bad_ranges_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let args = |range: &str| ServeOptions {
        root: Some(root.path().to_path_buf()),
        range: Some(range.into()),
        ..ServeOptions::default()
    };
    let nets = || vec![("eth0".to_string(), net("10.0.0.1/24"))];
    for bad in ["10.0.0.50", "10.0.0.9-10.0.0.2", "10.0.1.5-10.0.1.9", "x-y"] {
        assert!(
            plan(&args(bad), &FileConfig::default(), Path::new("."), nets()).is_err(),
            "{bad}"
        );
    }
}

fn root_with_files() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for f in ["undionly.kpxe", "ipxe.efi", "boot.ipxe"] {
        std::fs::write(root.path().join(f), b"x").unwrap();
    }
    root
}

fn args_in(root: &tempfile::TempDir) -> ServeOptions {
    ServeOptions {
        root: Some(root.path().to_path_buf()),
        state_dir: Some(root.path().join("state")),
        ..ServeOptions::default()
    }
}

fn yaml(text: &str) -> FileConfig {
    FileConfig::parse(Path::new("n.yaml"), text).unwrap()
}

#[test]
fn every_interface_gets_a_pool_on_its_own_subnet() {
    let root = root_with_files();
    let args = ServeOptions {
        range: Some("10.1.0.50-10.1.0.60".into()),
        router: Some("10.1.0.254".parse().unwrap()),
        dns: vec!["9.9.9.9".parse().unwrap()],
        ..args_in(&root)
    };
    let nets = vec![
        ("vs0".to_string(), net("10.0.0.1/24")),
        ("vs1".to_string(), net("10.1.0.1/24")),
    ];
    let plan = plan(&args, &FileConfig::default(), Path::new("."), nets).unwrap();
    let d = &plan.dhcp;
    let served: Vec<(String, Ipv4Addr)> = d
        .interfaces
        .iter()
        .map(|i| (i.name.clone(), i.server_ip))
        .collect();
    assert_eq!(
        served,
        vec![
            ("vs0".to_string(), "10.0.0.1".parse().unwrap()),
            ("vs1".to_string(), "10.1.0.1".parse().unwrap())
        ]
    );
    let pools: Vec<String> = d
        .pools
        .iter()
        .map(|p| {
            format!(
                "{} {}-{} {:?} {:?}",
                p.subnet(),
                p.first(),
                p.last(),
                p.routers,
                p.dns_servers
            )
        })
        .collect();
    assert_eq!(
        pools,
        vec![
            "10.0.0.0/24 10.0.0.128-10.0.0.254 [] [9.9.9.9]",
            "10.1.0.0/24 10.1.0.50-10.1.0.60 [10.1.0.254] [9.9.9.9]",
        ],
        "the range and router go to the interface whose subnet holds them"
    );
    assert_eq!(
        plan.tftp.listen,
        vec![
            "10.0.0.1:69".parse().unwrap(),
            "10.1.0.1:69".parse().unwrap()
        ]
    );
}

#[test]
fn interfaces_sharing_a_subnet_or_a_stray_router_are_refused() {
    let root = root_with_files();
    let same = vec![
        ("vs0".to_string(), net("10.0.0.1/24")),
        ("vs1".to_string(), net("10.0.0.2/24")),
    ];
    let err = plan(
        &args_in(&root),
        &FileConfig::default(),
        Path::new("."),
        same,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("vs0 and vs1 are both on 10.0.0.0/24"),
        "{err}"
    );
    let args = ServeOptions {
        router: Some("192.168.1.1".parse().unwrap()),
        ..args_in(&root)
    };
    let one = vec![("vs0".to_string(), net("10.0.0.1/24"))];
    let err = plan(&args, &FileConfig::default(), Path::new("."), one).unwrap_err();
    assert!(err.to_string().contains("router 192.168.1.1"), "{err}");
}

#[test]
fn boolean_flags_override_the_file_both_ways() {
    let root = root_with_files();
    let nets = || vec![("eth0".to_string(), net("10.0.0.1/24"))];
    let on = yaml(
        "dhcp:\n  proxy: true\n  known_clients_only: true\n  ping_check: false\ntftp:\n  create: true\n",
    );
    let p = plan(&args_in(&root), &on, Path::new("."), nets()).unwrap();
    assert_eq!(p.dhcp.mode, Mode::Proxy);
    assert!(p.dhcp.known_clients_only && !p.dhcp.ping_check && p.tftp.root.create);
    let args = ServeOptions {
        proxy: Some(false),
        known_clients_only: Some(false),
        ping: Some(true),
        create: Some(false),
        ..args_in(&root)
    };
    let p = plan(&args, &on, Path::new("."), nets()).unwrap();
    assert_eq!(p.dhcp.mode, Mode::Authoritative);
    assert!(!p.dhcp.known_clients_only && p.dhcp.ping_check && !p.tftp.root.create);
    assert_eq!(p.dhcp.pools.len(), 1, "authoritative again: a pool");
    let off = yaml("dhcp:\n  proxy: false\n  ping_check: true\n");
    let args = ServeOptions {
        proxy: Some(true),
        known_clients_only: Some(true),
        ping: Some(false),
        create: Some(true),
        ..args_in(&root)
    };
    let p = plan(&args, &off, Path::new("."), nets()).unwrap();
    assert_eq!(p.dhcp.mode, Mode::Proxy);
    assert!(p.dhcp.known_clients_only && !p.dhcp.ping_check && p.tftp.root.create);
}

#[test]
fn sname_is_the_host_name_unless_configured() {
    let root = root_with_files();
    let nets = || vec![("eth0".to_string(), net("10.0.0.1/24"))];
    let p = plan(
        &args_in(&root),
        &FileConfig::default(),
        Path::new("."),
        nets(),
    )
    .unwrap();
    assert_eq!(p.dhcp.server_name, host_name());
    assert!(p.dhcp.server_name.is_some(), "this machine has a host name");
    let file = yaml("dhcp:\n  server_name: pxe-lab\n");
    let p = plan(&args_in(&root), &file, Path::new("."), nets()).unwrap();
    assert_eq!(p.dhcp.server_name.as_deref(), Some("pxe-lab"));
    let args = ServeOptions {
        server_name: Some("from-flag".into()),
        ..args_in(&root)
    };
    let p = plan(&args, &file, Path::new("."), nets()).unwrap();
    assert_eq!(p.dhcp.server_name.as_deref(), Some("from-flag"));
    let p = plan(
        &args_in(&root),
        &yaml("dhcp:\n  server_name: \"\"\n"),
        Path::new("."),
        nets(),
    )
    .unwrap();
    assert_eq!(p.dhcp.server_name, None, "empty: no sname");
    let long = ServeOptions {
        server_name: Some("x".repeat(64)),
        ..args_in(&root)
    };
    assert!(plan(&long, &FileConfig::default(), Path::new("."), nets()).is_err());
}

#[test]
fn state_dir_flag_then_file_then_default() {
    let file = yaml("state_dir: leases\n");
    let base = Path::new("/etc/netboot");
    assert_eq!(
        state_dir(Some(Path::new("/tmp/s")), &file, base),
        PathBuf::from("/tmp/s")
    );
    assert_eq!(
        state_dir(None, &file, base),
        PathBuf::from("/etc/netboot/leases")
    );
    assert_eq!(
        state_dir(None, &FileConfig::default(), base),
        default_state_dir()
    );
    assert_eq!(
        default_state_dir_for(true),
        PathBuf::from("/var/lib/netboot")
    );
    assert_eq!(default_state_dir_for(false), PathBuf::from("netboot-state"));
}

#[test]
fn a_profile_reserving_our_own_address_is_reported_at_its_line() {
    let root = root_with_files();
    let profiles = root.path().join("profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(
        profiles.join("desk.yaml"),
        "name: desk\nmatch:\n  mac: 52:54:00:12:34:56\naddress: 10.0.0.1\n",
    )
    .unwrap();
    let registry = crate::registry::check(&profiles, root.path()).unwrap();
    let nets = vec![("vs0".to_string(), net("10.0.0.1/24"))];
    let p = plan(
        &args_in(&root),
        &FileConfig::default(),
        Path::new("."),
        nets,
    )
    .unwrap();
    let found = own_addresses_reserved(&p, &registry);
    assert_eq!(found.len(), 1);
    let shown = found[0].to_string();
    assert!(shown.contains("desk.yaml:"), "{shown}");
    assert!(
        shown.contains("10.0.0.1 is netboot's own address on vs0"),
        "{shown}"
    );
}

#[test]
fn the_busy_poll_comes_from_the_file_and_is_bounded() {
    let root = root_with_files();
    let nets = || vec![("vs0".to_string(), net("10.0.0.1/24"))];
    let args = args_in(&root);
    let default = plan(&args, &FileConfig::default(), Path::new("."), nets()).unwrap();
    assert_eq!(
        default.tftp.busy_poll,
        crate::tftp::config::DEFAULT_BUSY_POLL
    );
    let off = plan(
        &args,
        &yaml("tftp:\n  busy_poll_us: 0\n"),
        Path::new("."),
        nets(),
    )
    .unwrap();
    assert_eq!(off.tftp.busy_poll, std::time::Duration::ZERO);
    let err = plan(
        &args,
        &yaml("tftp:\n  busy_poll_us: 20000\n"),
        Path::new("."),
        nets(),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(err.to_string().contains("tftp.busy_poll_us"), "{err}");
}

#[test]
fn uploads_follow_tftpd_hpa_and_keep_the_versions_the_file_asks_for() {
    let root = root_with_files();
    let nets = || vec![("vs0".to_string(), net("10.0.0.1/24"))];
    let args = args_in(&root);
    let default = plan(&args, &FileConfig::default(), Path::new("."), nets()).unwrap();
    assert_eq!(default.tftp.root.umask, 0, "uploads rw-rw-rw-");
    assert_eq!(default.tftp.keep_versions, 0);
    let file = yaml("tftp:\n  keep_versions: 30\n");
    let p = plan(&args, &file, Path::new("."), nets()).unwrap();
    assert_eq!(p.tftp.keep_versions, 30);
}

#[test]
fn leases_url_from_the_flag_over_the_file_and_only_postgres() {
    let root = tempfile::tempdir().unwrap();
    let plan_with = |yaml: &str, flag: Option<&str>| {
        let file = FileConfig::parse(Path::new("n.yaml"), yaml).unwrap();
        let args = ServeOptions {
            root: Some(root.path().to_path_buf()),
            state_dir: Some(root.path().join("state")),
            leases_url: flag.map(String::from),
            ..ServeOptions::default()
        };
        plan(
            &args,
            &file,
            Path::new("."),
            vec![("eth0".into(), net("10.0.0.1/24"))],
        )
    };
    let file_url = "dhcp:\n  leases: postgres://a@/db?host=/run/postgresql\n";
    let p = plan_with(file_url, None).unwrap();
    assert_eq!(
        p.dhcp.backend(),
        crate::dhcp::store::Backend::Postgres("postgres://a@/db?host=/run/postgresql".into())
    );
    let p = plan_with(file_url, Some("postgresql://b:pw@db/x")).unwrap();
    assert_eq!(p.dhcp.leases_url.as_deref(), Some("postgresql://b:pw@db/x"));
    let p = plan_with("{}\n", None).unwrap();
    assert_eq!(
        p.dhcp.backend(),
        crate::dhcp::store::Backend::Embedded(root.path().join("state"))
    );
    let err = plan_with("{}\n", Some("mysql://u:secret@h/db"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("not a PostgreSQL URL") && err.contains("u:***@h") && !err.contains("secret"),
        "{err}"
    );
}

#[test]
fn every_family_gets_the_file_or_its_usual_name() {
    let root = tempfile::tempdir().unwrap();
    for f in ["grubaa64.efi", "bootriscv64.efi", "grubriscv64.efi"] {
        std::fs::write(root.path().join(f), b"x").unwrap();
    }
    let file = FileConfig::parse(
        Path::new("n.yaml"),
        "boot:\n  uefi_loongarch64: loong.efi\n  http_x64: http://10.0.0.1/x.efi\n",
    )
    .unwrap();
    let files = default_boot_files(&ServeOptions::default(), &file, root.path());
    assert_eq!(files.uefi_arm64.as_deref(), Some("grubaa64.efi"));
    assert_eq!(files.uefi_riscv64.as_deref(), Some("bootriscv64.efi"));
    assert_eq!(files.uefi_loongarch64.as_deref(), Some("loong.efi"));
    assert_eq!(files.uefi_arm32, None, "only names the root has");
    assert_eq!(files.uboot_arm64.as_deref(), Some("boot.scr.uimg"));
    assert_eq!(files.uboot_arm32.as_deref(), Some("boot.scr.uimg"));
    assert_eq!(
        files.http_by_arch.http_x64.as_deref(),
        Some("http://10.0.0.1/x.efi")
    );
    assert_eq!(files.rpi, None);
}
