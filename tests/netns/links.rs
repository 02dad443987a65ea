//! More of the lab: client namespaces on links of their own, commands and
//! signals in the server namespace, stopping adopted processes gently, and
//! a stand-in boot root.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{ip, Lab, CLIENT_IF, COUNTER};

/// Stand-ins for the usual boot files in `dir`, world-readable.
pub fn boot_root(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, body) in [
        ("pxelinux.0", &b"PXELINUX stand-in\n"[..]),
        ("undionly.kpxe", b"iPXE stand-in\n"),
        ("ipxe.efi", b"iPXE EFI stand-in\n"),
    ] {
        std::fs::write(dir.join(name), body).unwrap();
        std::fs::set_permissions(
            dir.join(name),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .unwrap();
    }
}

impl Lab {
    /// Another client namespace on a link of its own: veth `server_if` in
    /// the server namespace (with `server_cidr` on it) to `vc0` with MAC
    /// `mac` in the new namespace, whose name is returned. Deleted with the
    /// lab.
    pub fn add_link(&mut self, server_if: &str, server_cidr: &str, mac: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let ns = format!("nbt-cl{}-{}-{n}", self.extra.len() + 2, std::process::id());
        // recorded first, so a failure below still deletes it
        self.extra.push(ns.clone());
        ip(&["netns", "add", &ns]);
        ip(&[
            "-n", &self.srv, "link", "add", server_if, "type", "veth", "peer", "name", CLIENT_IF,
            "netns", &ns,
        ]);
        ip(&[
            "-n",
            &self.srv,
            "addr",
            "add",
            server_cidr,
            "dev",
            server_if,
        ]);
        ip(&["-n", &self.srv, "link", "set", server_if, "up"]);
        ip(&["-n", &ns, "link", "set", CLIENT_IF, "address", mac]);
        ip(&["-n", &ns, "link", "set", CLIENT_IF, "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    /// A command run inside the server namespace.
    pub fn server_cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.srv, program]);
        c
    }

    /// Sends `signal` (`"HUP"`, …) to the server, our own child, by PID;
    /// false when it is not running.
    pub fn signal_server(&mut self, signal: &str) -> bool {
        let Some(s) = self.server.as_mut() else {
            return false;
        };
        if !matches!(s.try_wait(), Ok(None)) {
            return false;
        }
        Command::new("kill")
            .args([&format!("-{signal}"), &s.id().to_string()])
            .status()
            .is_ok_and(|st| st.success())
    }

    /// True while the server process runs.
    pub fn server_running(&mut self) -> bool {
        self.server
            .as_mut()
            .is_some_and(|s| matches!(s.try_wait(), Ok(None)))
    }

    /// Stops an adopted process with SIGTERM (so it can flush), waiting at
    /// most 5 s before killing it.
    pub fn stop_child(&mut self, idx: usize) {
        let Some(c) = self.children.get_mut(idx) else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
    }
}
