//! The status page, API and metrics of `netboot serve --status`, inside
//! network namespaces this test creates and deletes: a client gets a lease
//! (udhcpc), fetches a file over TFTP and downloads a large one over HTTP
//! at a limited rate (curl) while headless Chromium loads the page twice;
//! the test reads the page's DOM as a user reads the page (the transfer's
//! progress bar grows, the lease names its profile, the client's timeline
//! runs from DISCOVER to the last file), checks `/metrics` with promtool
//! and against what it did, and takes the screenshot the README shows.

mod netns;

use std::process::Stdio;
use std::time::Duration;

use netns::{Lab, CLIENT_MAC, SERVER_IP};

const STATUS: &str = "127.0.0.1:9090";

const DESK: &str = "name: desk\nmatch:\n  mac: 52:54:00:12:34:56\nhostname: desk-01\n";

/// Headless Chromium on the status page with `extra` flags; its output.
fn chromium(lab: &Lab, extra: &[&str]) -> String {
    let profile = format!("--user-data-dir={}", lab.path("chromium").display());
    let url = format!("http://{STATUS}/");
    let mut args = vec![
        "60",
        "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
    ];
    args.extend([profile.as_str(), "--virtual-time-budget=3000"]);
    args.extend(extra);
    args.push(&url);
    let (ok, out) = lab.server_run("timeout", &args);
    assert!(ok, "chromium: {out}");
    out
}

/// The page's DOM after its script has run, as Chromium renders it.
fn dom(lab: &Lab) -> String {
    chromium(lab, &["--dump-dom"])
}

/// The value of the first `<progress>` in the row of transfers in progress.
fn progress_value(dom: &str) -> Option<u64> {
    let table = dom
        .split("id=\"transfers\"")
        .nth(1)?
        .split("</table>")
        .next()?;
    let bar = table.split("<progress").nth(1)?;
    let value = bar.split("value=\"").nth(1)?;
    value.split('"').next()?.parse().ok()
}

fn curl_server(lab: &Lab, path: &str) -> String {
    let (ok, out) = lab.server_run(
        "curl",
        &["-sf", "-m", "10", &format!("http://{STATUS}{path}")],
    );
    assert!(ok, "curl {path}: {out}");
    out
}

#[test]
fn the_status_page_shows_a_live_download_the_lease_and_the_boot_story() {
    if !netns::ready(&["udhcpc", "curl", "chromium", "promtool", "busybox"]) {
        return;
    }
    let mut lab = Lab::new();
    let dirs = lab.start_serve_on(&[("desk.yaml", DESK)], &["--no-ping", "--status", STATUS]);
    let big = vec![7u8; 64 << 20];
    std::fs::write(dirs.root.join("rootfs.img"), &big).unwrap();
    std::fs::write(dirs.root.join("boot.cfg"), "ok\n").unwrap();
    lab.wait_log(
        "status page on http://127.0.0.1:9090/",
        Duration::from_secs(10),
    );

    let lease = lab.udhcpc(&[]);
    let ip = lease.get("ip").cloned().unwrap_or_default();
    assert!(ip.starts_with("10.231.0."), "{lease:?}\n{}", lab.log());
    lab.client_addr(&format!("{ip}/24"));
    let tftp = lab
        .client_cmd("busybox")
        .args(["tftp", "-g", "-r", "boot.cfg", "-l", "/dev/null", SERVER_IP])
        .status()
        .unwrap();
    assert!(tftp.success());

    // 64 MiB at 1 MiB/s: a minute to look at it, even on a busy machine
    let download = lab
        .client_cmd("curl")
        .args(["-sf", "-m", "120", "--limit-rate", "1M", "-o", "/dev/null"])
        .arg(format!("http://{SERVER_IP}/rootfs.img"))
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let download = lab.adopt(download);
    std::thread::sleep(Duration::from_secs(1));
    let first = dom(&lab);
    let a = progress_value(&first);
    assert!(a.is_some(), "no progress bar:\n{first}");
    // curl at a limited rate reads in bursts, and the socket buffers hold
    // megabytes already sent: look again (for up to ~20 s of a 64-s
    // download) until the bar moved
    let mut second = dom(&lab);
    for _ in 0..30 {
        if progress_value(&second) > a {
            break;
        }
        std::thread::sleep(Duration::from_millis(700));
        second = dom(&lab);
    }
    let b = progress_value(&second);
    assert!(b > a, "progress {a:?} then {b:?}:\n{second}");
    assert!(second.contains("rootfs.img"), "{second}");

    let lease_row = second
        .split(&format!("data-mac=\"{CLIENT_MAC}\""))
        .nth(1)
        .unwrap_or("");
    assert!(lease_row.contains("class=\"profile\">desk<"), "{second}");
    let card = second
        .split("class=\"client\"")
        .skip(1)
        .find(|c| c.contains(CLIENT_MAC))
        .unwrap_or("");
    let (offer, ack) = (format!("OFFER {ip}"), format!("ACK {ip}"));
    let order = [
        "DISCOVER",
        &offer,
        "REQUEST",
        &ack,
        "boot.cfg",
        "/rootfs.img",
    ];
    let mut at = 0;
    for step in order {
        let found = card[at..]
            .find(step)
            .unwrap_or_else(|| panic!("{step} after {at}:\n{card}"));
        at += found + step.len();
    }

    let netboot = env!("CARGO_BIN_EXE_netboot");
    let (ok, said) = lab.server_run(netboot, &["status", "--address", STATUS]);
    assert!(ok, "{said}");
    assert!(said.contains("Transfers in progress: 1\n  http "), "{said}");
    assert!(
        said.contains("/rootfs.img: ") && said.contains("(desk): /rootfs.img"),
        "{said}"
    );

    // the README's picture: NETBOOT_UPDATE_SCREENSHOT=1 puts it in docs/
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let screenshot = repo.join("target/status-page.png");
    let shot = format!("--screenshot={}", screenshot.display());
    chromium(&lab, &["--window-size=1280,1100", &shot]);
    assert!(std::fs::metadata(&screenshot).is_ok_and(|m| m.len() > 10_000));
    if std::env::var_os("NETBOOT_UPDATE_SCREENSHOT").is_some() {
        std::fs::copy(&screenshot, repo.join("docs/status-page.png")).unwrap();
    }

    lab.kill_child(download);
    let status = curl_server(&lab, "/api/status");
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(json["leases"][0]["profile"], "desk", "{status}");
    assert_eq!(json["pools"][0]["leased"], 1, "{status}");
    let reload = &json["reloads"][0];
    assert_eq!(reload["what"], "profiles", "{status}");
    let detail = reload["detail"].as_str().unwrap_or("");
    assert!(
        detail.starts_with("1 profiles from ") && detail.ends_with("(loaded at start)"),
        "{status}"
    );
    metrics_agree(&lab);
}

/// `/metrics` passes promtool and counts what the test did.
fn metrics_agree(lab: &Lab) {
    let text = curl_server(lab, "/metrics");
    let file = lab.path("metrics.txt");
    std::fs::write(&file, &text).unwrap();
    let check = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("promtool check metrics < {}", file.display()))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let value = |series: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{series} missing:\n{text}"))
    };
    assert_eq!(
        value("netboot_dhcp_messages_total{message=\"DISCOVER\",reply=\"OFFER\"}"),
        1.0
    );
    assert_eq!(
        value("netboot_dhcp_messages_total{message=\"REQUEST\",reply=\"ACK\"}"),
        1.0
    );
    assert_eq!(
        value("netboot_transfers_total{code=\"\",outcome=\"done\",protocol=\"tftp\"}"),
        1.0
    );
    assert_eq!(value("netboot_sent_bytes_total{protocol=\"tftp\"}"), 3.0);
    assert_eq!(
        value("netboot_pool_leased_addresses{pool=\"10.231.0.128-10.231.0.254\"}"),
        1.0
    );
    assert!(value("netboot_dhcp_reply_seconds_count{reply=\"ACK\"}") >= 1.0);
}

#[test]
fn another_dhcp_server_is_named_in_the_log_the_page_and_the_metrics() {
    if !netns::ready(&["udhcpc", "curl", "chromium", "dnsmasq"]) {
        return;
    }
    let mut lab = Lab::new();
    lab.start_serve_on(&[], &["--no-ping", "--status", STATUS]);
    let ns = lab.add_squatter("192.168.77.1/24", "02:00:00:00:77:01", CLIENT_MAC);
    lab.start_dnsmasq(&ns, "vq1");
    // a client on the bridge asks for broadcast replies, as PXE firmware does
    let _ = lab.udhcpc_on(&lab.cli, "br0", &["-B"]);
    lab.wait_log(
        "another DHCP server answers on this segment",
        Duration::from_secs(10),
    );
    assert!(lab.log_contains("server=192.168.77.1"), "{}", lab.log());

    let status = curl_server(&lab, "/api/status");
    let json: serde_json::Value = serde_json::from_str(&status).unwrap();
    assert_eq!(json["rogue_dhcp"][0]["server"], "192.168.77.1", "{status}");
    assert_eq!(json["rogue_dhcp"][0]["clients"][0], CLIENT_MAC, "{status}");
    let metrics = curl_server(&lab, "/metrics");
    let series = "netboot_rogue_dhcp_replies_total{server=\"192.168.77.1\"}";
    assert!(metrics.lines().any(|l| l.starts_with(series)), "{metrics}");
    let page = dom(&lab);
    let alert = "Another DHCP server answers on vs0: 192.168.77.1";
    assert!(page.contains(alert), "{page}");
}

#[test]
fn a_one_shot_boot_is_set_over_the_api_only_with_the_token() {
    if !netns::ready(&["curl"]) {
        return;
    }
    let mut lab = Lab::new();
    let dirs = lab.start_serve_on(&[], &["--no-ping", "--status", STATUS]);
    std::fs::create_dir_all(dirs.root.join("tools")).unwrap();
    std::fs::write(dirs.root.join("tools/initrd.img"), b"initrd").unwrap();
    std::fs::write(dirs.root.join("tools/vmlinuz"), b"kernel").unwrap();
    lab.wait_log("image catalogue entries=1", Duration::from_secs(10));
    let images = curl_server(&lab, "/api/images");
    assert!(images.contains("\"id\":\"tools\""), "{images}");

    let url = format!("http://{STATUS}/api/next-boot/{CLIENT_MAC}");
    let post = |auth: &str, body: &str| {
        let (_, said) = lab.server_run(
            "curl",
            &[
                "-s",
                "-m",
                "10",
                "-w",
                " %{http_code}",
                "-X",
                "POST",
                "-H",
                auth,
                "--data",
                body,
                &url,
            ],
        );
        said
    };
    let entry = r#"{"entry": "tools"}"#;
    let refused = post("X-None: 1", entry);
    assert!(
        refused.ends_with(" 401") && refused.contains("status-token"),
        "{refused}"
    );
    assert!(post("Authorization: Bearer 0123", entry).ends_with(" 401"));
    let token = std::fs::read_to_string(lab.path("state").join("status-token")).unwrap();
    let auth = format!("Authorization: Bearer {}", token.trim());
    assert!(post(&auth, r#"{"entry": "nope"}"#).ends_with(" 404"));
    let set = post(&auth, entry);
    assert!(
        set.ends_with(" 200") && set.contains("boots tools next"),
        "{set}"
    );
    let file = lab.path("state").join("next-boot/52-54-00-12-34-56");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("\"entry\":\"tools\""));
    let (_, cleared) = lab.server_run(
        "curl",
        &[
            "-s",
            "-m",
            "10",
            "-w",
            " %{http_code}",
            "-X",
            "DELETE",
            "-H",
            &auth,
            &url,
        ],
    );
    assert!(cleared.ends_with(" 200"), "{cleared}");
    assert!(!file.exists());
}
