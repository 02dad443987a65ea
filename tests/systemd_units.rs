//! The systemd units in dist/systemd pass `systemd-analyze verify` without
//! a single warning (with ExecStart= pointed at the binary just built, as
//! verify checks that it exists), and run netboot with no root at all.

use std::path::Path;
use std::process::Command;

const UNITS: [&str; 2] = ["netboot.service", "netboot-tftp.service"];

fn unit_text(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("dist/systemd")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn units_verify_cleanly() {
    let found = Command::new("sh")
        .args(["-c", "command -v systemd-analyze"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "systemd-analyze missing: install Debian's `systemd` package (.ci/install-deps.sh does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for name in UNITS {
        let text = unit_text(name).replace("/usr/local/bin/netboot", env!("CARGO_BIN_EXE_netboot"));
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        paths.push(path);
    }
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .args(&paths)
        .output()
        .expect("run systemd-analyze");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{said}"
    );
    assert!(
        said.trim().is_empty(),
        "systemd-analyze verify warned:\n{said}"
    );
}

#[test]
fn units_run_netboot_without_root() {
    for name in UNITS {
        let text = unit_text(name);
        let has = |line: &str| text.lines().any(|l| l.trim() == line);
        for line in [
            "User=netboot",
            "NoNewPrivileges=yes",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
        ] {
            assert!(has(line), "{name} lacks {line}");
        }
        let caps = if name == "netboot.service" {
            "CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_NET_ADMIN"
        } else {
            "CAP_NET_BIND_SERVICE"
        };
        assert!(has(&format!("AmbientCapabilities={caps}")), "{name}");
        assert!(has(&format!("CapabilityBoundingSet={caps}")), "{name}");
    }
    let serve = unit_text("netboot.service");
    assert!(serve.contains("StateDirectory=netboot"));
    assert!(serve.contains("NETBOOT_STATE_DIR=%S/netboot"));
}
