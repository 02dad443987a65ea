//! Shared helpers for the TFTP integration tests: start the real `netboot`
//! binary on a free loopback port with a temporary root, make deterministic
//! test files, run real client programs with a time bound, and compare what
//! arrived. The packet-level client lives in [`raw`].
//!
//! Every test file includes this with `mod support;` and uses only part of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod clients;
pub mod lossy;
pub mod pg;
pub mod raw;

use std::io::Read;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long the server may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Default bound on one client run.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `netboot tftp`, killed (and reaped) on drop.
pub struct Server {
    child: Child,
    /// Where the server listens (the first listening line printed).
    pub addr: SocketAddr,
    /// Every address the server printed as listening.
    pub addrs: Vec<SocketAddr>,
    log: Arc<Mutex<String>>,
    /// Holds `root/` (served) and room outside it for escape tests.
    base: tempfile::TempDir,
    root: PathBuf,
}

impl Server {
    /// Starts the server on `127.0.0.1:0` (unless `args` has an
    /// `--address`) serving a fresh temporary directory.
    pub fn start(args: &[&str]) -> Server {
        match Self::try_start(args) {
            Ok(s) => s,
            Err(log) => panic!("netboot tftp {args:?} did not start:\n{log}"),
        }
    }

    /// Like [`Server::start`], but a server that exits before listening is
    /// an `Err` carrying everything it printed.
    pub fn try_start(args: &[&str]) -> Result<Server, String> {
        Self::try_start_wrapped(&[], args, &|_| {})
    }

    /// Like [`Server::start`], with `prepare` given the root to fill before
    /// the server starts.
    pub fn start_prepared(args: &[&str], prepare: &dyn Fn(&Path)) -> Server {
        match Self::try_start_wrapped(&[], args, prepare) {
            Ok(s) => s,
            Err(log) => panic!("netboot tftp {args:?} did not start:\n{log}"),
        }
    }

    /// Like [`Server::start`], with the binary run through `wrapper` (a
    /// command that ends by exec'ing its arguments, such as `ip netns exec
    /// NS` or `unshare -m ...`): the root is still the last argument.
    pub fn start_wrapped(wrapper: &[&str], args: &[&str]) -> Server {
        match Self::try_start_wrapped(wrapper, args, &|_| {}) {
            Ok(s) => s,
            Err(log) => panic!("{wrapper:?} netboot tftp {args:?} did not start:\n{log}"),
        }
    }

    fn try_start_wrapped(
        wrapper: &[&str],
        args: &[&str],
        prepare: &dyn Fn(&Path),
    ) -> Result<Server, String> {
        let base = tempfile::Builder::new()
            .prefix("netboot-tftp-test-")
            .tempdir()
            .expect("temp dir");
        let root = base.path().join("root");
        std::fs::create_dir(&root).unwrap();
        // World-accessible like a real TFTP root (the server may run as
        // another user after --user).
        for dir in [base.path(), &root] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        prepare(&root);
        let binary = env!("CARGO_BIN_EXE_netboot");
        let mut cmd = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut cmd = Command::new(program);
                cmd.args(rest).arg(binary);
                cmd
            }
            None => Command::new(binary),
        };
        cmd.arg("tftp");
        if !args.iter().any(|a| *a == "--address" || *a == "-a") {
            cmd.args(["--address", "127.0.0.1:0"]);
        }
        cmd.args(args)
            .arg(&root)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn netboot");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("piped stderr");
        spawn_line_collector(stderr, Arc::clone(&log));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let addrs = listening_addrs(&log.lock().unwrap());
            let expected = args
                .iter()
                .filter(|a| **a == "--address" || **a == "-a")
                .count()
                .max(1);
            if addrs.len() >= expected {
                return Ok(Server {
                    child,
                    addr: addrs[0],
                    addrs,
                    log,
                    base,
                    root,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                // Let the collector catch the last lines.
                std::thread::sleep(Duration::from_millis(100));
                let text = log.lock().unwrap().clone();
                return Err(format!("exited with {status}\n{text}"));
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let text = log.lock().unwrap().clone();
                return Err(format!(
                    "no listening line within {START_TIMEOUT:?}\n{text}"
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM (to this server's own PID) and waits up to 10 s for
    /// it to exit; its exit status (`None`: still running, killed on drop).
    pub fn terminate(&mut self) -> Option<ExitStatus> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        wait_bounded(&mut self.child, Duration::from_secs(10))
    }

    /// The log lines containing `needle`.
    pub fn log_lines(&self, needle: &str) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_string)
            .collect()
    }

    /// The served directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding the root: files here are outside it.
    pub fn outside(&self) -> &Path {
        self.base.path()
    }

    /// The port of [`Server::addr`].
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The port as a string, for client command lines.
    pub fn port_arg(&self) -> String {
        self.addr.port().to_string()
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits up to `timeout` for the log to contain `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.log().contains(needle)
    }

    /// Writes `name` (relative to the root, subdirectories created) with
    /// `data` and permission bits `mode`; returns its path.
    pub fn put_file(&self, name: &str, data: &[u8], mode: u32) -> PathBuf {
        let path = self.root().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, data).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// Names in the root directory (not recursive), sorted.
    pub fn root_entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.root())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `stream` line by line into `log` on a thread of its own.
fn spawn_line_collector(stream: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(stream);
        let mut line = String::new();
        while let Ok(n) = std::io::BufRead::read_line(&mut reader, &mut line) {
            if n == 0 {
                break;
            }
            if let Ok(mut l) = log.lock() {
                l.push_str(&line);
            }
            line.clear();
        }
    });
}

/// The addresses in every `TFTP listening on ADDR,` line of `log`.
fn listening_addrs(log: &str) -> Vec<SocketAddr> {
    const MARK: &str = "TFTP listening on ";
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find(MARK)? + MARK.len()..];
            let end = rest.find([',', ' ']).unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

/// `len` bytes of deterministic pseudo-random content (xorshift64*).
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Lower-case hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Asserts `got == want` with a short message (sizes, checksums, first
/// differing offset) instead of dumping megabytes.
#[track_caller]
pub fn assert_same_bytes(got: &[u8], want: &[u8], what: &str) {
    if got == want {
        return;
    }
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    panic!(
        "{what}: got {} bytes (sha256 {}), want {} bytes (sha256 {}); first difference at offset {first}",
        got.len(),
        sha256_hex(got),
        want.len(),
        sha256_hex(want),
    );
}

/// Asserts the file at `path` holds exactly `want`.
#[track_caller]
pub fn assert_file_is(path: &Path, want: &[u8]) {
    let got = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert_same_bytes(&got, want, &path.display().to_string());
}

/// What a client run produced.
#[derive(Debug)]
pub struct ClientRun {
    /// Exit status (always set: a hung client makes the run panic).
    pub status: ExitStatus,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl ClientRun {
    /// Both streams, for matching messages whichever stream they go to.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Panics with the output unless the client exited with status 0.
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.status.success(), "client failed: {self:#?}");
        self
    }
}

/// Runs `cmd` (stdin closed) and waits at most `timeout`; a client still
/// running then is killed and the test fails.
#[track_caller]
pub fn run_client(cmd: &mut Command, timeout: Duration) -> ClientRun {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let status = wait_bounded(&mut child, timeout);
    let stdout = join_text(out);
    let stderr = join_text(err);
    match status {
        Some(status) => ClientRun {
            status,
            stdout,
            stderr,
        },
        None => panic!("{cmd:?} still running after {timeout:?}; killed\n{stdout}{stderr}"),
    }
}

/// Waits for `child` up to `timeout`; kills and reaps it if it is still
/// running then (returning `None`).
pub fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn drain(stream: Option<impl Read + Send + 'static>) -> Option<JoinHandle<Vec<u8>>> {
    stream.map(|mut s| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    })
}

fn join_text(handle: Option<JoinHandle<Vec<u8>>>) -> String {
    handle
        .and_then(|h| h.join().ok())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// Whether `tool` is on the PATH. Missing: in CI (env `CI` set) the test
/// fails naming the Debian package; elsewhere it prints `SKIP` and the
/// caller returns early.
#[track_caller]
pub fn require_tool(tool: &str, apt_package: &str) -> bool {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| is_executable(&d.join(tool))))
        .unwrap_or(false);
    if found {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("{tool} is required in CI: apt-get install {apt_package}");
    }
    skip(&format!("{tool} not found (apt-get install {apt_package})"));
    false
}

/// Prints `SKIP: why` straight to the process's stderr, so it shows even
/// though the test harness captures `eprintln!`.
pub fn skip(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIP: {why}");
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A scratch directory for a client's local files.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("netboot-client-")
        .tempdir()
        .expect("temp dir")
}

/// The file's permission bits.
pub fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Netascii wire form of Unix text: LF → CR LF, CR → CR NUL.
pub fn netascii_encode(local: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(local.len() * 2);
    for &b in local {
        match b {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\r' => out.extend_from_slice(b"\r\0"),
            _ => out.push(b),
        }
    }
    out
}

/// Whether `::1` is configured on this machine (binding it works).
pub fn ipv6_loopback_available() -> bool {
    std::net::UdpSocket::bind("[::1]:0").is_ok()
}

/// Whether the test may use `::1`. Missing: in CI (env `CI` set) the test
/// fails; elsewhere it prints `SKIP` and the caller returns early.
#[track_caller]
pub fn require_ipv6_loopback() -> bool {
    if ipv6_loopback_available() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("::1 is required in CI (IPv6 on the loopback interface)");
    }
    skip("::1 is not configured on this machine");
    false
}

/// Whether the test runs as root. Not root: in CI (env `CI` set) the test
/// fails; elsewhere it prints `SKIP` and the caller returns early.
#[track_caller]
pub fn require_root(why: &str) -> bool {
    if nix::unistd::Uid::effective().is_root() {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!("root is required in CI: {why}");
    }
    skip(&format!("not root: {why}"));
    false
}
