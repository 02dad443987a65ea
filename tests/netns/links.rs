//! More of the lab: client namespaces on links of their own, a segment
//! behind the client namespace (a routed network), another machine on the
//! client's link, busybox tftp from any of the namespaces, the lease
//! table, the server namespace's neighbour table,
//! commands and signals in the server namespace, another DHCP server
//! (dnsmasq), stopping adopted processes
//! gently, and a stand-in boot root with `netboot serve` started on it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{ip, Lab, CLIENT_IF, COUNTER};

/// Stand-ins for the usual boot files in `dir`, world-readable.
pub fn boot_root(dir: &Path) {
    // `backups/` as shipped in boot-images/, for profiles' upload_dir
    std::fs::create_dir_all(dir.join("backups")).unwrap();
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

/// What [`Lab::start_serve_on`] served from.
pub struct ServeDirs {
    /// Stand-in boot files ([`boot_root`]).
    pub root: PathBuf,
    /// The profiles directory (empty when no profile was given).
    pub profiles: PathBuf,
}

impl Lab {
    /// Starts `netboot serve --interface vs0 --root ROOT --profiles DIR
    /// EXTRA`: ROOT holds the stand-in boot files, DIR the `profiles` given
    /// as (file name, YAML), if any.
    pub fn start_serve_on(&mut self, profiles: &[(&str, &str)], extra: &[&str]) -> ServeDirs {
        let dirs = ServeDirs {
            root: self.path("root"),
            profiles: self.path("profiles"),
        };
        boot_root(&dirs.root);
        std::fs::create_dir_all(&dirs.profiles).unwrap();
        for (name, yaml) in profiles {
            std::fs::write(dirs.profiles.join(name), yaml).unwrap();
        }
        let (root, dir) = (dirs.root.to_str().unwrap(), dirs.profiles.to_str().unwrap());
        let args: Vec<&str> = ["--root", root, "--profiles", dir]
            .into_iter()
            .chain(extra.iter().copied())
            .collect();
        self.start_serve(&args, None);
        dirs
    }

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

    /// A namespace one hop beyond the client namespace (which then plays a
    /// router): veth `near_if` in the client namespace (with `near_cidr` on
    /// it) to `vc0` with MAC `mac` in the new namespace, whose name is
    /// returned. Deleted with the lab.
    pub fn add_segment_behind_client(
        &mut self,
        near_if: &str,
        near_cidr: &str,
        mac: &str,
    ) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let ns = format!("nbt-far-{}-{n}", std::process::id());
        // recorded first, so a failure below still deletes it
        self.extra.push(ns.clone());
        ip(&["netns", "add", &ns]);
        let cli = self.cli.clone();
        ip(&[
            "-n", &cli, "link", "add", near_if, "type", "veth", "peer", "name", CLIENT_IF, "netns",
            &ns,
        ]);
        ip(&["-n", &cli, "addr", "add", near_cidr, "dev", near_if]);
        ip(&["-n", &cli, "link", "set", near_if, "up"]);
        ip(&["-n", &ns, "link", "set", CLIENT_IF, "address", mac]);
        ip(&["-n", &ns, "link", "set", CLIENT_IF, "up"]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    /// Fetches `remote` from `server` with busybox tftp inside namespace
    /// `ns` (bounded); the bytes that arrived, or None when it failed.
    pub fn tftp_get_in(&self, ns: &str, server: &str, remote: &str) -> Option<Vec<u8>> {
        let local = self.path("fetched");
        let _ = std::fs::remove_file(&local);
        let ok = Command::new("ip")
            .args(["netns", "exec", ns, "timeout", "20", "busybox", "tftp"])
            .args(["-g", "-r", remote, "-l"])
            .arg(&local)
            .arg(server)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            std::fs::read(&local).ok()
        } else {
            None
        }
    }

    /// Puts another machine on the client's link: the client namespace gets
    /// a bridge `br0` (MAC `client_mac`) holding `vc0`, and a new namespace
    /// (returned, deleted with the lab) holds `cidr` on an interface with
    /// MAC `mac` plugged into that bridge. It answers ARP for its address
    /// but ignores pings. DHCP clients in the client namespace then run on
    /// `br0`.
    pub fn add_squatter(&mut self, cidr: &str, mac: &str, client_mac: &str) -> String {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let ns = format!("nbt-sq-{}-{n}", std::process::id());
        // recorded first, so a failure below still deletes it
        self.extra.push(ns.clone());
        ip(&["netns", "add", &ns]);
        let cli = self.cli.clone();
        ip(&["-n", &cli, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &cli, "link", "set", "br0", "address", client_mac]);
        ip(&["-n", &cli, "link", "set", CLIENT_IF, "master", "br0"]);
        ip(&[
            "-n", &cli, "link", "add", "vq0", "type", "veth", "peer", "name", "vq1", "netns", &ns,
        ]);
        ip(&["-n", &cli, "link", "set", "vq0", "master", "br0"]);
        for dev in ["vq0", "br0"] {
            ip(&["-n", &cli, "link", "set", dev, "up"]);
        }
        ip(&["-n", &ns, "link", "set", "vq1", "address", mac]);
        ip(&["-n", &ns, "addr", "add", cidr, "dev", "vq1"]);
        ip(&["-n", &ns, "link", "set", "vq1", "up"]);
        let quiet = Command::new("ip")
            .args(["netns", "exec", &ns, "sysctl", "-qw"])
            .arg("net.ipv4.icmp_echo_ignore_all=1")
            .status()
            .expect("run sysctl");
        assert!(quiet.success(), "cannot make {ns} ignore pings");
        ns
    }

    /// dnsmasq as another DHCP server in namespace `ns` on `iface` (which
    /// holds an address in 192.168.77.0/24), handing out .50 to .99;
    /// returns once it says it serves its range (bounded).
    pub fn start_dnsmasq(&mut self, ns: &str, iface: &str) {
        let leases = self.path(&format!("dnsmasq-{ns}.leases"));
        let mut dnsmasq = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "dnsmasq",
                "-d",
                "--conf-file=/dev/null",
                "--port=0",
            ])
            .args(["--bind-interfaces", "--no-resolv", "--user=root"])
            .arg("--dhcp-range=192.168.77.50,192.168.77.99,1h")
            .arg(format!("--interface={iface}"))
            .arg(format!("--dhcp-leasefile={}", leases.display()))
            .arg("--pid-file=")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dnsmasq");
        let stderr = dnsmasq.stderr.take().expect("dnsmasq's stderr");
        self.adopt(dnsmasq);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut seen = Vec::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) if line.contains("DHCP, IP range") => return,
                Ok(line) => seen.push(line),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!(
            "dnsmasq did not start serving within 10 s:\n{}",
            seen.join("\n")
        );
    }

    /// The server namespace's neighbour (ARP) table, one entry a line, as
    /// `ip neigh show` lists it. An `ip` failure fails the test.
    pub fn server_neighbours(&self) -> Vec<String> {
        let out = Command::new("ip")
            .args(["-n", &self.srv, "-4", "neigh", "show"])
            .output()
            .expect("ip neigh");
        assert!(
            out.status.success(),
            "ip -n {} neigh show: {}",
            self.srv,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
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

/// `netboot leases` for state directory `state`: the table it prints.
pub fn leases_table(state: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_netboot"))
        .arg("leases")
        .arg("--state-dir")
        .arg(state)
        .output()
        .expect("run netboot leases");
    assert!(out.status.success(), "netboot leases: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fails the test unless `netboot leases` lists a row holding every one of
/// `words` (a MAC, an address, a state).
pub fn assert_lease_listed(state: &Path, words: &[&str]) {
    let table = leases_table(state);
    assert!(
        table.lines().any(|l| words.iter().all(|w| l.contains(w))),
        "no lease row with {words:?}:\n{table}"
    );
}
