//! The lab with IPv6 on (inside its namespaces only) and `netboot serve`
//! with a `dhcp6:` section, shared by the tests of real DHCPv6 clients
//! (`tests/serve_dhcp6.rs`: ISC `dhclient -6`; `tests/serve_dhcp6_udhcpc6.rs`:
//! busybox `udhcpc6`).

use std::time::{Duration, Instant};

use super::{ip, Lab, CLIENT_IF, CLIENT_MAC, SERVER_IF};

/// The DHCPv6 pool of [`serve_v6`], on the server's /64.
pub const V6_POOL: &str = "fd00:231::100-fd00:231::1ff";
/// The server's unique local address: the host of the boot URLs.
pub const SERVER_V6: &str = "fd00:231::1";

/// IPv6 on (without duplicate address detection, so addresses are usable
/// at once) on both sides of the lab's link, our ULA on the server side,
/// and the client's link-local address ready.
pub fn ipv6_lab() -> Lab {
    let lab = Lab::new();
    ipv6_on(&lab);
    with_server_v6(lab)
}

/// IPv6 on in both namespaces of `lab`, with no duplicate address detection.
pub fn ipv6_on(lab: &Lab) {
    for (ns, dev) in [(&lab.srv, SERVER_IF), (&lab.cli, CLIENT_IF)] {
        let keys = [
            "net.ipv6.conf.all.accept_dad=0".to_string(),
            "net.ipv6.conf.default.accept_dad=0".to_string(),
            format!("net.ipv6.conf.{dev}.accept_dad=0"),
            "net.ipv6.conf.all.disable_ipv6=0".to_string(),
            "net.ipv6.conf.default.disable_ipv6=0".to_string(),
            format!("net.ipv6.conf.{dev}.disable_ipv6=0"),
        ];
        for key in keys {
            ip(&["netns", "exec", ns, "sysctl", "-q", "-w", &key]);
        }
    }
}

/// [`ipv6_on`], the server's ULA and the client's link-local address ready.
fn with_server_v6(lab: Lab) -> Lab {
    ip(&[
        "-n",
        &lab.srv,
        "-6",
        "addr",
        "add",
        &format!("{SERVER_V6}/64"),
        "dev",
        SERVER_IF,
        "nodad",
    ]);
    let start = Instant::now();
    loop {
        let out = lab
            .client_cmd("ip")
            .args(["-6", "addr", "show", "dev", CLIENT_IF, "scope", "link"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        if text.contains("fe80") && !text.contains("tentative") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no link-local address on the client: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    lab
}

/// Starts `serve` with a v6 pool and a profile for the client's MAC that
/// gives it `undionly.kpxe` (as `boot.other`: these clients are no firmware).
pub fn serve_v6(lab: &mut Lab, extra_yaml: &str) {
    serve_v6_with(
        lab,
        &format!("dhcp6:\n  range: {V6_POOL}\n{extra_yaml}"),
        "",
    );
}

/// [`serve_v6`] with `yaml` as the whole `netboot.yaml` and `profile_yaml`
/// added to the client's profile.
pub fn serve_v6_with(lab: &mut Lab, yaml: &str, profile_yaml: &str) {
    let config = lab.path("netboot.yaml");
    std::fs::write(&config, yaml).unwrap();
    let profile = format!(
        "name: desk\nmatch:\n  mac: {CLIENT_MAC}\nboot:\n  other: undionly.kpxe\n{profile_yaml}"
    );
    let state = lab.path("state");
    lab.start_serve_on(
        &[("desk.yaml", &profile)],
        &[
            "--config",
            config.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
            "--range",
            "10.231.0.100-10.231.0.199",
        ],
    );
}
