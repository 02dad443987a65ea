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
