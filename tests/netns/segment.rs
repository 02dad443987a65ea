//! One Ethernet segment shared by several servers and a client: a bridge
//! inside a namespace of its own, one namespace per server (10.232.0.N/24
//! on `eth0`) and a client namespace (`eth0`, MAC [`SEGMENT_CLIENT_MAC`]),
//! each on a veth port of the bridge. The guard kills the servers it
//! started (by PID) and deletes every namespace on drop, even when a test
//! panics.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{ip, COUNTER};

/// The client's MAC on the shared segment.
pub const SEGMENT_CLIENT_MAC: &str = "52:54:00:ab:cd:01";

/// A shared segment with `n` server namespaces.
pub struct Segment {
    tag: String,
    pub dir: tempfile::TempDir,
    servers: Vec<Option<Child>>,
    namespaces: Vec<String>,
    /// Other processes started here (killed on drop).
    others: Vec<Child>,
}

impl Segment {
    /// The bridge, `n` server namespaces and the client namespace.
    pub fn new(n: usize) -> Self {
        let tag = format!(
            "{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let mut seg = Self {
            dir: tempfile::tempdir().expect("tempdir"),
            servers: (0..n).map(|_| None).collect(),
            namespaces: Vec::new(),
            others: Vec::new(),
            tag,
        };
        std::fs::set_permissions(
            seg.dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod");
        let br = seg.add_ns("br");
        ip(&["-n", &br, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &br, "link", "set", "br0", "up"]);
        for i in 0..n {
            let ns = seg.attach(&format!("s{i}"), &format!("02:00:00:00:01:{:02x}", i + 1));
            let cidr = format!("{}/24", Self::server_ip(i));
            ip(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"]);
        }
        seg.attach("c", SEGMENT_CLIENT_MAC);
        seg
    }

    /// Server `i`'s address.
    pub fn server_ip(i: usize) -> String {
        format!("10.232.0.{}", i + 1)
    }

    fn ns(&self, short: &str) -> String {
        format!("nbt-{short}-{}", self.tag)
    }

    fn add_ns(&mut self, short: &str) -> String {
        let ns = self.ns(short);
        // recorded first, so a failure below still deletes it
        self.namespaces.push(ns.clone());
        ip(&["netns", "add", &ns]);
        ip(&["-n", &ns, "link", "set", "lo", "up"]);
        ns
    }

    /// A namespace `short` whose `eth0` (MAC `mac`) is a bridge port.
    fn attach(&mut self, short: &str, mac: &str) -> String {
        let ns = self.add_ns(short);
        let br = self.ns("br");
        let port = format!("p{short}");
        ip(&[
            "-n", &br, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ]);
        ip(&["-n", &br, "link", "set", &port, "master", "br0", "up"]);
        ip(&["-n", &ns, "link", "set", "eth0", "address", mac, "up"]);
        ns
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn log_path(i: usize, dir: &Path) -> PathBuf {
        dir.join(format!("server{i}.log"))
    }

    /// Starts `netboot serve --interface eth0 ARGS` as server `i` (its own
    /// state directory) and waits for its DHCP readiness line.
    pub fn start(&mut self, i: usize, args: &[&str]) {
        let state = self.path(&format!("state{i}"));
        let log = std::fs::File::create(Self::log_path(i, self.dir.path())).expect("log file");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns(&format!("s{i}")),
                env!("CARGO_BIN_EXE_netboot"),
            ])
            .args(["serve", "--interface", "eth0", "--state-dir"])
            .arg(&state)
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn netboot");
        self.servers[i] = Some(child);
        self.wait_log(i, "dhcp listening on", Duration::from_secs(20));
    }

    /// Server `i`'s log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(Self::log_path(i, self.dir.path())).unwrap_or_default()
    }

    /// Waits (bounded) for a line of server `i`'s log containing `needle`.
    pub fn wait_log(&mut self, i: usize, needle: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log(i).contains(needle) {
                return;
            }
            if let Some(Ok(Some(status))) = self.servers[i].as_mut().map(|c| c.try_wait()) {
                panic!("server {i} exited with {status}:\n{}", self.log(i));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no `{needle}` from server {i} within {limit:?}:\n{}",
            self.log(i)
        );
    }

    /// Takes server `i`'s bridge port down (it hears nothing) or up again.
    pub fn port(&self, i: usize, up: bool) {
        let br = self.ns("br");
        let port = format!("ps{i}");
        ip(&[
            "-n",
            &br,
            "link",
            "set",
            &port,
            if up { "up" } else { "down" },
        ]);
    }

    /// Kills server `i` with SIGKILL (a crash), by its PID.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.servers[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Adds an address to the client namespace's `eth0`.
    pub fn client_addr(&self, cidr: &str) {
        ip(&["-n", &self.ns("c"), "addr", "add", cidr, "dev", "eth0"]);
    }

    /// Gives the client namespace's `eth0` another MAC (another machine).
    pub fn client_mac(&self, mac: &str) {
        ip(&["-n", &self.ns("c"), "link", "set", "eth0", "address", mac]);
    }

    /// A router on the segment (`10.232.0.254`) to another segment
    /// (`10.240.0.0/24`, the router `.1`) with a client namespace `far`
    /// (`eth0`, MAC `mac`) on it, and `dhcrelay` on the router relaying to
    /// `server`; server `via` routes that segment through the router.
    pub fn add_relayed_segment(&mut self, mac: &str, server: &str, via: usize) {
        let router = self.attach("r", "02:00:00:00:02:01");
        ip(&[
            "-n",
            &router,
            "addr",
            "add",
            "10.232.0.254/24",
            "dev",
            "eth0",
        ]);
        let far = self.add_ns("far");
        ip(&[
            "-n", &router, "link", "add", "vr0", "type", "veth", "peer", "name", "eth0", "netns",
            &far,
        ]);
        ip(&["-n", &router, "addr", "add", "10.240.0.1/24", "dev", "vr0"]);
        ip(&["-n", &router, "link", "set", "vr0", "up"]);
        ip(&["-n", &far, "link", "set", "eth0", "address", mac, "up"]);
        let via_ns = self.ns(&format!("s{via}"));
        ip(&[
            "-n",
            &via_ns,
            "route",
            "add",
            "10.240.0.0/24",
            "via",
            "10.232.0.254",
        ]);
        let forward = Command::new("ip")
            .args([
                "netns",
                "exec",
                &router,
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
            ])
            .status()
            .expect("sysctl");
        assert!(forward.success(), "ip_forward in the router namespace");
        let relay = Command::new("ip")
            .args(["netns", "exec", &router, "dhcrelay", "-4", "-d", "-pf"])
            .arg(self.path("dhcrelay.pid"))
            .args(["-id", "vr0", "-iu", "eth0", server])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dhcrelay");
        self.others.push(relay);
        std::thread::sleep(Duration::from_secs(1));
    }

    /// busybox udhcpc once in the far namespace (bounded): the `bound`
    /// event's `ip` and `serverid`, empty when no lease came.
    pub fn udhcpc_far(&self) -> (String, String) {
        let out = self.path("udhcpc-far.out");
        let script = self.path("udhcpc-far.sh");
        let body = format!(
            "#!/bin/sh\n[ \"$1\" = bound ] && echo \"$ip $serverid\" > {}\nexit 0\n",
            out.display()
        );
        std::fs::write(&script, body).expect("udhcpc script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod");
        let _ = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.ns("far"),
                "timeout",
                "20",
                "udhcpc",
                "-i",
                "eth0",
            ])
            .args(["-n", "-q", "-f", "-t", "3", "-T", "2", "-s"])
            .arg(&script)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let mut words = text.split_whitespace().map(str::to_string);
        (
            words.next().unwrap_or_default(),
            words.next().unwrap_or_default(),
        )
    }

    /// A command run in the client namespace.
    pub fn client_cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.ns("c"), program]);
        c
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        for i in 0..self.servers.len() {
            self.kill(i);
        }
        for child in &mut self.others {
            let _ = child.kill();
            let _ = child.wait();
        }
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}
