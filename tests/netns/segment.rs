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
        for ns in self.namespaces.iter().rev() {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}
