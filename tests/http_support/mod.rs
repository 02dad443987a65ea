//! Starts the real `netboot http` on 127.0.0.1 with a port the kernel picks
//! and a temporary root, and runs real clients (curl, wget) against it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `netboot http`, killed on drop.
pub struct HttpServer {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
    dir: tempfile::TempDir,
}

impl HttpServer {
    /// `netboot http --address 127.0.0.1:0 ARGS ROOT` with an empty root.
    // The child is reaped by `Drop` once returned, and here on a failed start.
    #[allow(clippy::zombie_processes)]
    pub fn start(args: &[&str]) -> HttpServer {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        std::fs::create_dir(&root).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_netboot"))
            .args(["http", "--address", "127.0.0.1:0"])
            .args(args)
            .arg(&root)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = log.lock().unwrap().lines().find_map(|l| {
                let rest = l.split("HTTP listening on http://").nth(1)?;
                rest.split('/').next()?.parse::<SocketAddr>().ok()
            });
            if let Some(addr) = found {
                return HttpServer {
                    child,
                    addr,
                    log,
                    dir,
                };
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("netboot http did not start:\n{}", log.lock().unwrap());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The served directory.
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A scratch directory outside the root.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// `http://ADDR/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.addr, path.trim_start_matches('/'))
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Every address it said it listens on, in order.
    pub fn listening(&self) -> Vec<SocketAddr> {
        self.log()
            .lines()
            .filter_map(|l| {
                let rest = l.split("HTTP listening on http://").nth(1)?;
                rest.split('/').next()?.parse().ok()
            })
            .collect()
    }

    /// The server's process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then its exit status (`None`: still running after 10 s).
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).ok()?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits up to 5 s for a log line containing `needle`.
    pub fn wait_log(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Fails loudly in CI when a client program is missing, skips elsewhere.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found && std::env::var_os("CI").is_some() {
        panic!("`{tool}` is missing (CI is set, so this is a failure)");
    }
    if !found {
        eprintln!("skipping: `{tool}` is missing");
    }
    found
}

/// Runs `program ARGS` bounded by `timeout 60`.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new("timeout")
        .arg("60")
        .arg(program)
        .args(args)
        .output()
        .unwrap()
}

/// curl with `ARGS`, its stdout, and the status code it printed last
/// (`-w %{http_code}` is added).
pub fn curl(args: &[&str]) -> (Vec<u8>, u16) {
    let out = run("curl", &[&["-s", "-w", "\n%{http_code}"], args].concat());
    split_code(out.stdout)
}

/// curl's output with `-w "\n%{http_code}"`: the body and the status code.
pub fn split_code(text: Vec<u8>) -> (Vec<u8>, u16) {
    let cut = text.iter().rposition(|&b| b == b'\n').unwrap_or(0);
    let code = String::from_utf8_lossy(&text[cut..])
        .trim()
        .parse()
        .unwrap_or(0);
    (text[..cut].to_vec(), code)
}

/// Deterministic test bytes.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}
