//! `netboot serve`'s HTTP server, inside network namespaces this test
//! creates and deletes: a UEFI HTTP boot client (udhcpc as `HTTPClient`,
//! arch 16) is given a URL for its architecture on our address, iPXE its
//! script over HTTP, and curl in the client's namespace fetches the boot
//! file, the file rendered for that client and its profile's rewrite over
//! HTTP, with the client's MAC in the log; `--no-http` switches it off.

mod http_support;
mod netns;

use netns::{Lab, ServeDirs, CLIENT_MAC, SERVER_IP};

/// curl in the client namespace: (body, status code).
fn curl(lab: &Lab, path: &str) -> (Vec<u8>, u16) {
    let out = lab
        .client_cmd("curl")
        .args(["-s", "-m", "10", "-w", "\n%{http_code}"])
        .arg(format!("http://{SERVER_IP}/{path}"))
        .output()
        .unwrap();
    http_support::split_code(out.stdout)
}

const DESK: &str = "name: desk\nmatch:\n  mac: 52:54:00:12:34:56\naddress: 10.231.0.42\n\
    hostname: desk-01\nfiles:\n  desk.ipxe:\n    content: \"#!ipxe\\nkernel {{ http_url }}/vmlinuz\\n\"\n\
    boot:\n  ipxe: desk.ipxe\nrewrite:\n  - {from: grub.cfg, to: desk/grub.cfg}\n";

#[test]
fn http_boot_clients_and_ipxe_are_sent_to_our_http_server() {
    if !netns::ready(&["udhcpc", "curl"]) {
        return;
    }
    let mut lab = Lab::new();
    let ServeDirs { root, .. } = lab.start_serve_on(&[("desk.yaml", DESK)], &["--no-ping"]);
    assert!(
        lab.log_contains("HTTP: http://10.231.0.1:80/"),
        "{}",
        lab.log()
    );

    let http = lab.udhcpc(&["-V", "HTTPClient:Arch:00016:UNDI:003001", "-x", "0x5d:0010"]);
    assert_eq!(
        http.get("boot_file").map(String::as_str),
        Some("http://10.231.0.1/ipxe.efi"),
        "{http:?}\n{}",
        lab.log()
    );
    let ipxe = lab.udhcpc(&["-x", "0x4d:69505845"]);
    assert_eq!(
        ipxe.get("boot_file").map(String::as_str),
        Some("http://10.231.0.1/desk.ipxe")
    );

    lab.client_addr("10.231.0.42/24");
    let (efi, code) = curl(&lab, "ipxe.efi");
    assert_eq!(
        (code, efi),
        (200, std::fs::read(root.join("ipxe.efi")).unwrap())
    );
    let (script, code) = curl(&lab, "desk.ipxe");
    assert_eq!(code, 200);
    assert_eq!(
        String::from_utf8(script).unwrap(),
        "#!ipxe\nkernel http://10.231.0.1/vmlinuz\n",
        "rendered for this client, {{ http_url }} as it reaches us"
    );
    std::fs::create_dir_all(root.join("desk")).unwrap();
    std::fs::write(root.join("grub.cfg"), "menuentry everyone\n").unwrap();
    std::fs::write(root.join("desk/grub.cfg"), "menuentry desk\n").unwrap();
    let (grub, _) = curl(&lab, "grub.cfg");
    assert_eq!(grub, b"menuentry desk\n", "the profile's rewrite over HTTP");
    let said = format!("mac={CLIENT_MAC} method=GET path=/desk.ipxe}}: sent status=200");
    assert!(lab.log_contains(&said), "{}", lab.log());
}

#[test]
fn no_http_means_no_http_server_and_no_urls() {
    if !netns::ready(&["udhcpc", "curl"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_serve_on(&[], &["--no-ping", "--no-http"]);
    assert!(lab.log_contains("HTTP: off"), "{}", lab.log());
    let ipxe = lab.udhcpc(&["-x", "0x4d:69505845"]);
    assert_eq!(
        ipxe.get("boot_file").map(String::as_str),
        Some("netboot.ipxe")
    );
    let ip = ipxe.get("ip").cloned().expect("a lease");
    lab.client_addr(&format!("{ip}/24"));
    let (_, code) = curl(&lab, "ipxe.efi");
    assert_eq!(code, 0, "nothing listens");
}

/// curl in the client namespace at `url` (IPv6 literals as written),
/// retried for up to 10 s while the address may still be tentative.
fn curl_url(lab: &Lab, url: &str) -> (Vec<u8>, u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let out = lab
            .client_cmd("curl")
            .args(["-s", "-g", "-m", "5", "-w", "\n%{http_code}", url])
            .output()
            .unwrap();
        let got = http_support::split_code(out.stdout);
        if got.1 != 0 || std::time::Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The link-local address of `dev` in namespace `ns`.
fn link_local(ns: &str, dev: &str) -> String {
    let out = std::process::Command::new("ip")
        .args([
            "-n", ns, "-6", "-o", "addr", "show", "dev", dev, "scope", "link",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let cidr = text
        .split_whitespace()
        .skip_while(|w| *w != "inet6")
        .nth(1)
        .unwrap_or_else(|| panic!("no link-local address on {dev}: {text}"));
    cidr.split('/').next().unwrap().to_string()
}

const V6_SERVER: &str = "fd00:231::1";

fn add_ipv6(lab: &Lab) {
    netns::ip(&[
        "-n",
        &lab.srv,
        "addr",
        "add",
        &format!("{V6_SERVER}/64"),
        "dev",
        netns::SERVER_IF,
        "nodad",
    ]);
    netns::ip(&[
        "-n",
        &lab.cli,
        "addr",
        "add",
        "fd00:231::2/64",
        "dev",
        netns::CLIENT_IF,
        "nodad",
    ]);
}

#[test]
fn ipv6_clients_reach_http_on_the_interfaces_ipv6_addresses() {
    if !netns::ready(&["curl"]) {
        return;
    }
    let mut lab = Lab::new();
    add_ipv6(&lab);
    let ServeDirs { root, .. } = lab.start_serve_on(&[], &["--no-ping"]);
    let said = format!("HTTP: http://10.231.0.1:80/, http://[{V6_SERVER}]:80/, http://[fe80::");
    assert!(lab.log_contains(&said), "{}", lab.log());
    let efi = std::fs::read(root.join("ipxe.efi")).unwrap();
    let (body, code) = curl_url(&lab, &format!("http://[{V6_SERVER}]/ipxe.efi"));
    assert_eq!((code, body == efi), (200, true), "{}", lab.log());
    // the link-local address, reached through the client's interface
    let fe80 = link_local(&lab.srv, netns::SERVER_IF);
    let url = format!("http://[{fe80}%25{}]/ipxe.efi", netns::CLIENT_IF);
    let (body, code) = curl_url(&lab, &url);
    assert_eq!((code, body == efi), (200, true), "{url}\n{}", lab.log());
    assert!(lab.log_contains("peer=[fd00:231::2]:"), "{}", lab.log());
}

#[test]
fn http_listen_in_netboot_yaml_says_where_and_dhcp_sends_clients_there() {
    if !netns::ready(&["udhcpc", "curl"]) {
        return;
    }
    let mut lab = Lab::new();
    add_ipv6(&lab);
    let config = lab.dir.path().join("netboot.yaml");
    let yaml = format!("http:\n  listen:\n    - 10.231.0.1:8081\n    - \"[{V6_SERVER}]:8081\"\n");
    std::fs::write(&config, yaml).unwrap();
    let ServeDirs { root, .. } =
        lab.start_serve_on(&[], &["--no-ping", "--config", config.to_str().unwrap()]);
    let said = format!("HTTP: http://10.231.0.1:8081/, http://[{V6_SERVER}]:8081/ (");
    assert!(lab.log_contains(&said), "{}", lab.log());
    let ipxe = lab.udhcpc(&["-x", "0x4d:69505845"]);
    let boot = ipxe.get("boot_file").cloned().unwrap_or_default();
    assert!(boot.starts_with("http://10.231.0.1:8081/"), "{ipxe:?}");
    let efi = std::fs::read(root.join("ipxe.efi")).unwrap();
    let (body, code) = curl_url(&lab, &format!("http://[{V6_SERVER}]:8081/ipxe.efi"));
    assert_eq!((code, body == efi), (200, true), "{}", lab.log());
    let ip = ipxe.get("ip").cloned().expect("a lease");
    lab.client_addr(&format!("{ip}/24"));
    let (body, code) = curl_url(&lab, "http://10.231.0.1:8081/ipxe.efi");
    assert_eq!((code, body == efi), (200, true), "{}", lab.log());
}
