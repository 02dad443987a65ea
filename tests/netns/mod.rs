//! A private two-namespace network for DHCP tests: `nbt-srv-<pid>-<n>` holds
//! the server side of a veth pair (10.231.0.1/24), `nbt-cli-<pid>-<n>` the
//! client side; [`Lab::add_link`] adds more client namespaces on links of
//! their own. Nothing touches the root namespace's interfaces; the guard
//! kills the processes it started and deletes every namespace on drop, even
//! when a test panics.

#![allow(dead_code)]

pub mod bare;
mod links;
pub mod segment;
pub mod v6;

#[allow(unused_imports)]
pub use links::{assert_lease_listed, boot_root, leases_table, ServeDirs};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SERVER_IP: &str = "10.231.0.1";
pub const CLIENT_MAC: &str = "52:54:00:12:34:56";
pub const SERVER_IF: &str = "vs0";
pub const CLIENT_IF: &str = "vc0";
/// udhcpc flags that make it look like BIOS PXE firmware (vendor class
/// `PXEClient`, option 93 = 0): only network-boot firmware gets a boot file.
pub const PXE_BIOS: &[&str] = &["-V", "PXEClient:Arch:00000:UNDI:002001", "-x", "0x5d:0000"];

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Checks root and the tools; in CI a missing piece fails the test, outside
/// CI the test is skipped with a printed reason. Returns false to skip.
pub fn ready(tools: &[&str]) -> bool {
    let mut missing: Vec<String> = Vec::new();
    if !nix::unistd::Uid::effective().is_root() {
        missing.push("root (network namespaces)".into());
    }
    for t in tools.iter().chain(&["ip"]) {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            missing.push(format!("`{t}`"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("DHCP namespace test needs {}", missing.join(", "));
    if std::env::var_os("CI").is_some() {
        panic!("{msg} (CI is set, so this is a failure)");
    }
    eprintln!("skipping: {msg}");
    false
}

/// The lab binary built by cargo next to the test executable.
pub fn lab_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("examples").join("dhcp_lab");
    assert!(
        bin.exists(),
        "{} missing: run `cargo build --example dhcp_lab`",
        bin.display()
    );
    bin
}

/// Runs `ip ARGS`, failing the test on error.
pub fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub struct Lab {
    pub srv: String,
    pub cli: String,
    pub dir: tempfile::TempDir,
    server: Option<Child>,
    pub server_log: Arc<Mutex<Vec<String>>>,
    children: Vec<Child>,
    /// Client namespaces added by [`Lab::add_link`].
    extra: Vec<String>,
}

impl Lab {
    pub fn new() -> Self {
        let lab = Self::bare();
        ip(&[
            "-n",
            &lab.srv,
            "addr",
            "add",
            &format!("{SERVER_IP}/24"),
            "dev",
            SERVER_IF,
        ]);
        lab
    }

    /// The same two namespaces, with no IPv4 address on the server side
    /// (a laptop port on an unconfigured switch).
    pub fn bare() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let srv = format!("nbt-srv-{pid}-{n}");
        let cli = format!("nbt-cli-{pid}-{n}");
        // the guard exists before the first namespace, so a failure below cleans up
        let lab = Self {
            srv: srv.clone(),
            cli: cli.clone(),
            dir: tempfile::tempdir().expect("tempdir"),
            server: None,
            server_log: Arc::new(Mutex::new(Vec::new())),
            children: Vec::new(),
            extra: Vec::new(),
        };
        // `serve` drops root (to nobody here): its root, profiles and state
        // directory live in here, so it must be able to look inside
        std::fs::set_permissions(
            lab.dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .expect("chmod lab dir");
        ip(&["netns", "add", &srv]);
        ip(&["netns", "add", &cli]);
        ip(&[
            "-n", &srv, "link", "add", SERVER_IF, "type", "veth", "peer", "name", CLIENT_IF,
            "netns", &cli,
        ]);
        ip(&["-n", &srv, "link", "set", SERVER_IF, "up"]);
        ip(&["-n", &srv, "link", "set", "lo", "up"]);
        ip(&["-n", &cli, "link", "set", CLIENT_IF, "address", CLIENT_MAC]);
        ip(&["-n", &cli, "link", "set", CLIENT_IF, "up"]);
        ip(&["-n", &cli, "link", "set", "lo", "up"]);
        lab
    }

    /// Adds an address inside the client namespace.
    pub fn client_addr(&self, cidr: &str) {
        ip(&["-n", &self.cli, "addr", "add", cidr, "dev", CLIENT_IF]);
    }

    /// Starts the lab server in the server namespace and waits (bounded) for
    /// its readiness line.
    pub fn start_server(&mut self, extra: &[&str]) {
        let mut args: Vec<String> = vec![
            "--interface".into(),
            SERVER_IF.into(),
            "--server-ip".into(),
            SERVER_IP.into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        self.spawn_server(&lab_binary(), &args, None, "dhcp listening on");
    }

    /// Starts `netboot serve --interface vs0 ARGS` in the server namespace
    /// (from `cwd` when given) and waits for the DHCP readiness line.
    pub fn start_serve(&mut self, extra: &[&str], cwd: Option<&Path>) {
        let mut args: Vec<String> = vec!["serve".into(), "--interface".into(), SERVER_IF.into()];
        args.extend(extra.iter().map(|s| s.to_string()));
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_netboot"));
        self.spawn_server(&bin, &args, cwd, "dhcp listening on");
    }

    /// [`Lab::start_serve`] with the binary run through `wrapper` (a
    /// command that ends by exec'ing its arguments, such as `setpriv ...`).
    pub fn start_serve_wrapped(&mut self, wrapper: &[&str], extra: &[&str]) {
        let (program, rest) = wrapper.split_first().expect("a wrapper command");
        let mut args: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
        args.push(env!("CARGO_BIN_EXE_netboot").into());
        args.extend(["serve", "--interface", SERVER_IF].map(String::from));
        args.extend(extra.iter().map(|s| s.to_string()));
        self.spawn_server(Path::new(program), &args, None, "dhcp listening on");
    }

    /// Runs a command in the server namespace to its end (bounded by the
    /// caller's `timeout` wrapper) and returns (success, stdout + stderr).
    pub fn server_run(&self, program: &str, args: &[&str]) -> (bool, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.srv, program])
            .args(args)
            .output()
            .expect("run in server namespace");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    /// The server interface's IPv4 addresses, as `ip -o -4 addr` lists them.
    /// An `ip` failure fails the test (an empty answer would look like "no
    /// address", which is what several tests assert).
    pub fn server_addrs(&self) -> String {
        let out = Command::new("ip")
            .args([
                "-n", &self.srv, "-o", "-4", "addr", "show", "dev", SERVER_IF,
            ])
            .output()
            .expect("ip addr");
        assert!(
            out.status.success(),
            "ip -n {} addr show dev {SERVER_IF}: {}",
            self.srv,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn spawn_server(&mut self, program: &Path, args: &[String], cwd: Option<&Path>, ready: &str) {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.srv])
            .arg(program)
            .args(args);
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        // Leases stay in the lab's own directory unless --state-dir says otherwise.
        cmd.env("NETBOOT_STATE_DIR", self.path("state"));
        cmd.stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn server");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::clone(&self.server_log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().expect("log").push(line);
            }
        });
        self.server = Some(child);
        self.wait_log(ready, Duration::from_secs(20));
    }

    /// The running server's process ID (`ip netns exec` execs it).
    pub fn server_pid(&self) -> u32 {
        self.server.as_ref().expect("no server running").id()
    }

    /// Waits until a server log line contains `needle`.
    pub fn wait_log(&mut self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log_has(needle) {
                return;
            }
            if let Some(s) = self.server.as_mut() {
                if let Ok(Some(status)) = s.try_wait() {
                    panic!("server exited with {status}:\n{}", self.log());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "no `{needle}` from the server within {limit:?}:\n{}",
            self.log()
        );
    }

    /// True once a server log line contains `needle`. The log is read by
    /// another thread, so a line the server just wrote may still be on its
    /// way: this waits up to 3 s for it.
    pub fn log_contains(&self, needle: &str) -> bool {
        let start = Instant::now();
        loop {
            if self.log_has(needle) {
                return true;
            }
            if start.elapsed() > Duration::from_secs(3) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log_has(&self, needle: &str) -> bool {
        self.server_log
            .lock()
            .expect("log")
            .iter()
            .any(|l| l.contains(needle))
    }

    pub fn log(&self) -> String {
        self.server_log.lock().expect("log").join("\n")
    }

    /// Stops the server (SIGTERM via kill on our own child's PID), falling
    /// back to SIGKILL after 5 s; cleanup only, the exit status is not looked
    /// at (see [`Self::stop_server_with`]).
    pub fn stop_server(&mut self) {
        if let Some(mut s) = self.server.take() {
            if signal_and_wait(&mut s, "TERM", Duration::from_secs(5)).is_none() {
                let _ = s.kill();
                let _ = s.wait();
            }
        }
    }

    /// Sends `signal` (`TERM`, `INT`) to the server and waits up to 10 s for
    /// it to exit; its exit status. A server that does not stop is killed
    /// and fails the test.
    pub fn stop_server_with(&mut self, signal: &str) -> std::process::ExitStatus {
        let mut s = self.server.take().expect("no server running");
        if let Some(status) = signal_and_wait(&mut s, signal, Duration::from_secs(10)) {
            return status;
        }
        let _ = s.kill();
        let _ = s.wait();
        panic!("no exit within 10 s of SIG{signal}:\n{}", self.log());
    }

    /// Gives the client side another MAC address (another machine, as far
    /// as the DHCP server can tell).
    pub fn client_mac(&self, mac: &str) {
        ip(&["-n", &self.cli, "link", "set", CLIENT_IF, "address", mac]);
    }

    /// Runs busybox udhcpc once in the client namespace (bounded); returns
    /// the variables of its `bound` event, empty when it got no lease.
    pub fn udhcpc(&self, extra: &[&str]) -> std::collections::HashMap<String, String> {
        self.udhcpc_in(&self.cli, extra)
    }

    /// [`Lab::udhcpc`] as BIOS PXE firmware ([`PXE_BIOS`]) plus `extra`.
    pub fn udhcpc_pxe(&self, extra: &[&str]) -> std::collections::HashMap<String, String> {
        self.udhcpc_in(&self.cli, &[PXE_BIOS, extra].concat())
    }

    /// [`Lab::udhcpc`] in client namespace `ns`.
    pub fn udhcpc_in(&self, ns: &str, extra: &[&str]) -> std::collections::HashMap<String, String> {
        self.udhcpc_on(ns, CLIENT_IF, extra)
    }

    /// [`Lab::udhcpc`] in namespace `ns` on interface `ifname`.
    pub fn udhcpc_on(
        &self,
        ns: &str,
        ifname: &str,
        extra: &[&str],
    ) -> std::collections::HashMap<String, String> {
        let out = self.path(&format!("udhcpc-{ns}.out"));
        let _ = std::fs::remove_file(&out);
        let script = self.path(&format!("udhcpc-{ns}.sh"));
        let body = format!(
            "#!/bin/sh\n[ \"$1\" = bound ] || exit 0\nfor v in ip siaddr boot_file sname serverid subnet router dns hostname lease opt150; do eval \"echo $v=\\$$v\"; done > {}\n",
            out.display()
        );
        std::fs::write(&script, body).expect("write udhcpc script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .expect("chmod udhcpc script");
        let _ = Command::new("ip")
            .args(["netns", "exec", ns, "timeout"])
            .args([
                "20", "udhcpc", "-i", ifname, "-n", "-q", "-f", "-t", "3", "-T", "2",
            ])
            .arg("-s")
            .arg(&script)
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A command run inside the client namespace.
    pub fn client_cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.cli, program]);
        c
    }

    /// Keeps a long-running client process so the guard kills it.
    pub fn adopt(&mut self, child: Child) -> usize {
        self.children.push(child);
        self.children.len() - 1
    }

    pub fn kill_child(&mut self, idx: usize) {
        if let Some(c) = self.children.get_mut(idx) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        self.stop_server();
        for ns in [&self.srv, &self.cli].into_iter().chain(&self.extra) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Sends `signal` to our own child by its PID and waits up to `limit` for it
/// to exit.
fn signal_and_wait(
    child: &mut Child,
    signal: &str,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status();
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// Runs `f` on a thread that has joined namespace `ns` (sockets it creates
/// live there); the calling thread's namespace is untouched.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open netns");
        // SAFETY: setns on a valid namespace fd affects only this thread
        let rc = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&file), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
        f()
    })
    .join()
    .expect("netns thread")
}

/// A parsed perfdhcp report: (DISCOVERs sent, ACKs received).
pub fn perfdhcp_counts(report: &str) -> (u64, u64) {
    let counts: Vec<u64> = report
        .lines()
        .filter_map(|l| {
            l.strip_prefix("sent packets: ")
                .or(l.strip_prefix("received packets: "))
        })
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    // DISCOVER-OFFER sent, received; REQUEST-ACK sent, received
    match counts.as_slice() {
        [sent, _, _, acks, ..] => (*sent, *acks),
        _ => panic!("no statistics in perfdhcp's report:\n{report}"),
    }
}
