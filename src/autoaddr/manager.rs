//! Is a network manager in charge of the interface? NetworkManager and
//! systemd-networkd may remove an address they did not configure (or keep
//! restarting DHCP on the port), so `serve` prints how to let go of the
//! interface for the session. Detection reads the managers' runtime state;
//! the parsers are pure and tested on sample text.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A network manager that manages the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manager {
    /// NetworkManager, with the device state it reports (`disconnected`, ...).
    NetworkManager {
        /// The interface.
        ifname: String,
        /// Its device state as NetworkManager names it.
        state: String,
    },
    /// systemd-networkd, with the link's administrative state.
    Networkd {
        /// The interface.
        ifname: String,
        /// `ADMIN_STATE` from networkd's link state file (`configured`, ...).
        state: String,
    },
}

impl Manager {
    /// What to tell the user at start-up: who manages the port, what may
    /// happen, and how to stop it for this session.
    pub fn advice(&self) -> String {
        match self {
            Self::NetworkManager { ifname, state } => format!(
                "NetworkManager manages {ifname} (state: {state}) and may remove the address netboot adds \
                 or start its own DHCP client there; to let go of it until NetworkManager restarts: \
                 `sudo nmcli device set {ifname} managed no` (undo: `sudo nmcli device set {ifname} managed yes`)"
            ),
            Self::Networkd { ifname, state } => format!(
                "systemd-networkd manages {ifname} (state: {state}) and may remove the address netboot adds; \
                 to let go of it until reboot: `printf '[Match]\\nName={ifname}\\n\\n[Link]\\nUnmanaged=yes\\n' \
                 | sudo tee /run/systemd/network/00-netboot-{ifname}.network && sudo networkctl reload` \
                 (undo: delete that file and run `sudo networkctl reload`)"
            ),
        }
    }
}

impl std::fmt::Display for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.advice())
    }
}

/// The network manager in charge of `ifname`, if any. Interfaces in another
/// network namespace than init's are nobody's: both managers run in init's.
pub fn manager_of(ifname: &str) -> Option<Manager> {
    let index = nix::net::if_::if_nametoindex(ifname).ok()?;
    if !in_init_netns() {
        return None;
    }
    let nmcli = run_bounded("nmcli", &["-t", "-f", "DEVICE,STATE", "device"]);
    manager_in(Path::new("/run"), ifname, index, nmcli.as_deref())
}

/// Detection against a given `/run` and an already captured `nmcli` output.
pub fn manager_in(run: &Path, ifname: &str, index: u32, nmcli: Option<&str>) -> Option<Manager> {
    let nm_state = match nmcli {
        Some(out) => nmcli_state(out, ifname),
        None => std::fs::read_to_string(run.join(format!("NetworkManager/devices/{index}")))
            .ok()
            .filter(|text| nm_device_managed(text))
            .map(|_| "managed".to_string()),
    };
    if let Some(state) = nm_state.filter(|s| s != "unmanaged") {
        return Some(Manager::NetworkManager {
            ifname: ifname.to_string(),
            state,
        });
    }
    let links = run.join(format!("systemd/netif/links/{index}"));
    let state = networkd_admin_state(&std::fs::read_to_string(links).ok()?)?;
    (!matches!(state.as_str(), "unmanaged" | "pending" | "")).then(|| Manager::Networkd {
        ifname: ifname.to_string(),
        state,
    })
}

/// The state of `ifname` in `nmcli -t -f DEVICE,STATE device` output
/// (terse mode escapes `:` in names as `\:`).
pub fn nmcli_state(out: &str, ifname: &str) -> Option<String> {
    let escaped = ifname.replace(':', "\\:");
    out.lines().find_map(|line| {
        let state = line.strip_prefix(&escaped)?.strip_prefix(':')?;
        Some(state.trim().to_string())
    })
}

/// True when NetworkManager's device state file says `managed=true`.
pub fn nm_device_managed(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|l| l.replace(' ', "") == "managed=true")
}

/// `ADMIN_STATE` from a networkd link state file.
pub fn networkd_admin_state(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("ADMIN_STATE="))
        .map(|s| s.trim().to_string())
}

/// False when this thread's network namespace is not init's (a container or
/// a test namespace); true when it is, or when we cannot tell.
fn in_init_netns() -> bool {
    use std::os::unix::fs::MetadataExt;
    let ours = std::fs::metadata("/proc/thread-self/ns/net").map(|m| (m.dev(), m.ino()));
    let init = std::fs::metadata("/proc/1/ns/net").map(|m| (m.dev(), m.ino()));
    match (ours, init) {
        (Ok(a), Ok(b)) => a == b,
        _ => true,
    }
}

/// Runs a program for at most two seconds; its stdout when it succeeded.
fn run_bounded(program: &str, args: &[&str]) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(None) if start.elapsed() < Duration::from_secs(2) => {
                std::thread::sleep(Duration::from_millis(20));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NMCLI: &str = "eth0:connecting (getting IP configuration)\nwlan0:connected\nlo:unmanaged\nen\\:x:disconnected\n";

    #[test]
    fn nmcli_states() {
        assert_eq!(
            nmcli_state(NMCLI, "eth0").as_deref(),
            Some("connecting (getting IP configuration)")
        );
        assert_eq!(nmcli_state(NMCLI, "lo").as_deref(), Some("unmanaged"));
        assert_eq!(nmcli_state(NMCLI, "en:x").as_deref(), Some("disconnected"));
        assert_eq!(nmcli_state(NMCLI, "eth"), None);
        assert_eq!(nmcli_state(NMCLI, "eth1"), None);
    }

    #[test]
    fn networkd_state_file() {
        let text =
            "# This is private data. Do not parse.\nADMIN_STATE=configured\nOPER_STATE=routable\n";
        assert_eq!(networkd_admin_state(text).as_deref(), Some("configured"));
        assert_eq!(networkd_admin_state("OPER_STATE=off\n"), None);
    }

    #[test]
    fn detection_from_a_run_directory() {
        let run = tempfile::tempdir().unwrap();
        assert_eq!(manager_in(run.path(), "eth0", 2, None), None);
        let links = run.path().join("systemd/netif/links");
        std::fs::create_dir_all(&links).unwrap();
        std::fs::write(links.join("2"), "ADMIN_STATE=unmanaged\n").unwrap();
        assert_eq!(manager_in(run.path(), "eth0", 2, None), None);
        std::fs::write(links.join("2"), "ADMIN_STATE=configuring\n").unwrap();
        let m = manager_in(run.path(), "eth0", 2, None).unwrap();
        assert!(matches!(m, Manager::Networkd { .. }));
        assert!(m.advice().contains("Unmanaged=yes"), "{m}");
        assert!(m.advice().contains("networkctl reload"));

        let nm = run.path().join("NetworkManager/devices");
        std::fs::create_dir_all(&nm).unwrap();
        std::fs::write(nm.join("2"), "[device]\nmanaged=true\n").unwrap();
        let m = manager_in(run.path(), "eth0", 2, None).unwrap();
        assert!(
            m.advice().contains("sudo nmcli device set eth0 managed no"),
            "{m}"
        );
        // nmcli's answer wins over the state file
        let m = manager_in(run.path(), "eth0", 2, Some("eth0:unmanaged\n")).unwrap();
        assert!(matches!(m, Manager::Networkd { .. }));
    }

    #[test]
    fn missing_interface_has_no_manager() {
        assert_eq!(manager_of("no-such-if0"), None);
    }
}
