//! Child processes owned by a test (server, VM, packet capture), stopped by PID
//! when dropped, even when the test panics.
//!
//! Every child writes stdout and stderr to one log file, gets `PR_SET_PDEATHSIG`
//! so that it dies with the test thread if the test process is killed outright,
//! and is stopped with SIGTERM, then SIGKILL after a bounded grace period.

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// How often logs and serial consoles are polled.
pub const POLL: Duration = Duration::from_millis(500);

/// Grace period between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

/// A running child process that is stopped when dropped.
pub struct Guarded {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl Guarded {
    /// Starts `cmd` with stdin closed and stdout + stderr appended to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> Result<Self, String> {
        let out = File::create(log).map_err(|e| format!("create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("clone log handle: {e}"))?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        let child = cmd.spawn().map_err(|e| format!("start {name}: {e}"))?;
        Ok(Guarded {
            name: name.to_string(),
            child: Some(child),
            log: log.to_path_buf(),
        })
    }

    /// The log file that receives the child's output.
    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The child's exit status if it has already exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits until every needle appears in the log (ignoring case), the
    /// child exits, or the timeout passes. Returns the time it took.
    pub fn wait_for_log(
        &mut self,
        needles: &[&str],
        timeout: Duration,
    ) -> Result<Duration, String> {
        let start = Instant::now();
        loop {
            let text = read_lossy(&self.log);
            let lower = text.to_lowercase();
            if needles.iter().all(|n| lower.contains(&n.to_lowercase())) {
                return Ok(start.elapsed());
            }
            if let Some(status) = self.exited() {
                return Err(format!(
                    "{} exited ({status}) before printing {needles:?}; log:\n{}",
                    self.name,
                    tail(&text, 40)
                ));
            }
            if start.elapsed() >= timeout {
                return Err(format!(
                    "{} did not print {needles:?} within {timeout:?}; log:\n{}",
                    self.name,
                    tail(&text, 40)
                ));
            }
            sleep(POLL);
        }
    }

    /// Stops the child: SIGTERM, a bounded wait, then SIGKILL. Idempotent.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: plain syscall on the PID of a child we own and have not reaped.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + TERM_GRACE;
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            sleep(Duration::from_millis(50));
        }
        eprintln!("{} ignored SIGTERM; killing it", self.name);
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads a file as text, replacing invalid UTF-8; a missing file reads as "".
pub fn read_lossy(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Runs a short command to completion and fails with its stderr if it fails.
pub fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
