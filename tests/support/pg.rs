//! A PostgreSQL cluster of the test's own: `initdb` in a temporary
//! directory (as the `postgres` user when the test runs as root: the server
//! refuses root), a server listening only on a Unix socket in that directory
//! (`listen_addresses=''`), password authentication for the superuser
//! `netboot`, and a database `netboot`. Stopped (`pg_ctl stop -m immediate`)
//! and deleted on drop, also when the test fails. Nothing here uses a server
//! that was already running.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The superuser's password in every test cluster.
pub const PASSWORD: &str = "netboot-test-pw";

/// A running test cluster.
pub struct Cluster {
    dir: tempfile::TempDir,
}

/// Where Debian puts the server programs.
fn bin(program: &str) -> PathBuf {
    let debian = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(debian)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    match versions.last() {
        Some(v) => v.join("bin").join(program),
        None => {
            panic!("PostgreSQL is not installed ({debian:?} is missing): run .ci/install-deps.sh")
        }
    }
}

impl Cluster {
    /// Creates and starts a cluster with the database `netboot`.
    pub fn start() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pg")
            .tempdir_in("/tmp")
            .expect("temp dir");
        // others may pass through to the socket (a server that dropped to
        // nobody connects there), not list or read
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
        if nix::unistd::Uid::effective().is_root() {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success(), "chown postgres the cluster directory");
        }
        let cluster = Self { dir };
        let pw = cluster.dir.path().join("pw");
        std::fs::write(&pw, PASSWORD).unwrap();
        std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o600)).unwrap();
        cluster.chown_file("pw");
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "netboot",
                "--pwfile",
                &cluster.path("pw"),
                "-A",
                "scram-sha-256",
            ],
        );
        cluster.restart();
        let url = cluster.url("postgres");
        let out = Command::new("psql")
            .args([url.as_str(), "-qc", "CREATE DATABASE netboot"])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "createdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn data(&self) -> String {
        self.path("data")
    }

    /// The directory holding the server's socket.
    pub fn socket_dir(&self) -> String {
        self.dir.path().display().to_string()
    }

    fn chown_file(&self, name: &str) {
        if nix::unistd::Uid::effective().is_root() {
            Command::new("chown")
                .arg("postgres:postgres")
                .arg(self.path(name))
                .status()
                .unwrap();
        }
    }

    /// A URL for `database` as the superuser, over the Unix socket.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://netboot:{PASSWORD}@/{database}?host={}",
            self.socket_dir()
        )
    }

    /// Runs a server program as the cluster's owner; panics with its output
    /// when it fails.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = self
            .command(program, args)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = if nix::unistd::Uid::effective().is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(bin(program));
            c
        } else {
            Command::new(bin(program))
        };
        cmd.args(args).current_dir(self.dir.path());
        cmd
    }

    /// Stops the server at once (as a crash or a power cut would).
    pub fn stop(&self) {
        let data = self.data();
        self.run("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]);
    }

    /// Starts the server (again, after [`Self::stop`]): only on the socket
    /// in the cluster's directory.
    pub fn restart(&self) {
        let data = self.data();
        let log = self.path("log");
        let opts = format!(
            "-c listen_addresses='' -k {} -c fsync=on",
            self.socket_dir()
        );
        self.run(
            "pg_ctl",
            &[
                "-D", &data, "-l", &log, "-o", &opts, "-w", "-t", "30", "start",
            ],
        );
    }

    /// Runs SQL through `psql` against the database `netboot`.
    pub fn psql(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .args([self.url("netboot").as_str(), "-qAtc", sql])
            .output()
            .expect("psql");
        assert!(
            out.status.success(),
            "psql {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
