//! Quick mode on a bare port, when it must not or cannot take an address:
//! another DHCP server answers (suggest `--proxy`), the process lacks the
//! capabilities (name the exact commands), the interface is missing or down
//! (list the interfaces), or a configured range does not fit the subnet.
//! Each runs the real `netboot serve` inside network namespaces this test
//! creates (tests/netns) and checks that nothing was left on the interface.

mod netns;

use std::process::ExitStatus;

use netns::bare::{quick_dir, serve_to_exit};
use netns::{Lab, CLIENT_IF, SERVER_IF};

const BIN: &str = env!("CARGO_BIN_EXE_netboot");

/// Failed with exit status 1 (not the `timeout` wrapper's 124), added
/// nothing to the interface and never said it did.
fn refused(lab: &Lab, status: ExitStatus, text: &str) {
    assert_eq!(status.code(), Some(1), "{text}");
    assert!(!text.contains("netboot added"), "{text}");
    let left = lab.server_addrs();
    assert!(left.trim().is_empty(), "something was assigned: {left}");
}

#[test]
fn a_foreign_dhcp_server_means_no_addresses_and_a_hint_at_proxy() {
    if !netns::ready(&["dnsmasq"]) {
        return;
    }
    let mut lab = Lab::bare();
    lab.client_addr("192.168.77.1/24");
    let (ns, iface) = (lab.cli.clone(), CLIENT_IF);
    lab.start_dnsmasq(&ns, iface);
    let cwd = quick_dir(&lab);
    let (status, text) = serve_to_exit(&lab, &[], &[], &cwd);
    refused(&lab, status, &text);
    assert!(
        text.contains("netboot: another DHCP server (192.168.77.1, which offered 192.168.77.")
            && text.contains(") answers on vs0; netboot will not hand out addresses on top of it."),
        "{text}"
    );
    assert!(
        text.contains("`netboot serve --interface vs0 --proxy`"),
        "{text}"
    );
}

#[test]
fn without_root_it_names_the_commands_and_both_capabilities() {
    if !netns::ready(&["setpriv"]) {
        return;
    }
    let lab = Lab::bare();
    let cwd = quick_dir(&lab);
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
    ];
    let (status, text) = serve_to_exit(&lab, &nobody, &[], &cwd);
    refused(&lab, status, &text);
    assert!(
        text.contains(
            "netboot: not allowed to check vs0 for other machines and DHCP servers: vs0 has no \
             IPv4 address, and taking one for it needs CAP_NET_RAW (raw sockets, to check the link \
             for other machines and DHCP servers) and then CAP_NET_ADMIN (to add the address)"
        ),
        "{text}"
    );
    assert!(
        text.contains("run netboot as root (`sudo netboot serve ...`)"),
        "{text}"
    );
    assert!(
        text.contains("have an admin run `sudo ip addr add 10.42.0.1/24 dev vs0` first"),
        "{text}"
    );
    assert!(
        text.contains(
            "give netboot the capabilities once: \
             `sudo setcap cap_net_admin,cap_net_raw,cap_net_bind_service+ep $(which netboot)`"
        ),
        "{text}"
    );
}

#[test]
fn root_without_cap_net_admin_names_that_capability_and_adds_nothing() {
    if !netns::ready(&["setpriv"]) {
        return;
    }
    let lab = Lab::bare();
    let cwd = quick_dir(&lab);
    let no_net_admin = [
        "setpriv",
        "--bounding-set",
        "-net_admin",
        "--inh-caps",
        "-net_admin",
    ];
    let (status, text) = serve_to_exit(&lab, &no_net_admin, &[], &cwd);
    refused(&lab, status, &text);
    assert!(
        text.contains(
            "netboot: not allowed to add 10.42.0.1/24 to vs0: netboot runs as root, but without \
             CAP_NET_ADMIN, which adding an address needs"
        ),
        "{text}"
    );
    assert!(
        text.contains("`--cap-add NET_ADMIN`")
            && text.contains("have an admin run `sudo ip addr add 10.42.0.1/24 dev vs0` first"),
        "{text}"
    );
}

#[test]
fn a_missing_interface_lists_the_ones_that_exist() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::bare();
    // an empty boot root and profiles directory, so only the interface is wrong
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_str().unwrap();
    let args = [
        "30",
        BIN,
        "serve",
        "--interface",
        "eth9",
        "--root",
        dir,
        "--profiles",
        dir,
    ];
    let (ok, text) = lab.server_run("timeout", &args);
    assert!(!ok);
    assert!(
        text.contains("there is no interface \"eth9\"; interfaces here: lo, vs0"),
        "{text}"
    );
}

#[test]
fn an_interface_that_is_down_names_the_fix_and_lists_the_interfaces() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::bare();
    netns::ip(&["-n", &lab.srv, "link", "set", SERVER_IF, "down"]);
    let cwd = quick_dir(&lab);
    let (status, text) = serve_to_exit(&lab, &[], &[], &cwd);
    refused(&lab, status, &text);
    assert!(
        text.contains(
            "netboot: interface vs0 is down; bring it up with `sudo ip link set vs0 up` and start \
             netboot again (interfaces here: lo (up), vs0 (down))"
        ),
        "{text}"
    );
}

#[test]
fn a_config_range_outside_the_subnet_is_refused_before_anything_is_added() {
    if !netns::ready(&[]) {
        return;
    }
    let lab = Lab::bare();
    let cwd = quick_dir(&lab);
    std::fs::write(
        cwd.join("netboot.yaml"),
        "dhcp:\n  range: 192.168.1.100-192.168.1.200\n",
    )
    .unwrap();
    let (status, text) = serve_to_exit(&lab, &[], &["--config", "netboot.yaml"], &cwd);
    refused(&lab, status, &text);
    assert!(
        text.contains(
            "netboot: dhcp.range in netboot.yaml is 192.168.1.100-192.168.1.200, which does not \
             lie in 10.42.0.0/24, the subnet netboot takes for vs0"
        ),
        "{text}"
    );
    assert!(text.contains("`--assign-address 192.168.1.1/24`"), "{text}");
}
