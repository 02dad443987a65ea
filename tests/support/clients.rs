//! Command lines of the real TFTP clients the tests drive (tftp-hpa,
//! atftp, curl, busybox), each run with a time bound against a [`Server`]
//! (or anything else a client can be pointed at, such as a lossy proxy in
//! front of one).

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use super::{run_client, ClientRun, Server, CLIENT_TIMEOUT};

/// Where a client sends its requests.
pub trait Endpoint {
    /// The address requests go to.
    fn endpoint(&self) -> SocketAddr;

    /// The port as a string, for client command lines.
    fn port_arg(&self) -> String {
        self.endpoint().port().to_string()
    }
}

impl Endpoint for Server {
    fn endpoint(&self) -> SocketAddr {
        self.addr
    }
}

/// The server's IP as clients take it on their command line.
fn host(srv: &impl Endpoint) -> String {
    srv.endpoint().ip().to_string()
}

/// The server as a URL authority (`[::1]:PORT` for IPv6).
fn authority(srv: &impl Endpoint) -> String {
    srv.endpoint().to_string()
}

fn path_arg(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// tftp-hpa: `tftp HOST PORT -m MODE -c get REMOTE LOCAL`. tftp-hpa exits
/// 0 even on a server error; look for `Error code N` in the output.
pub fn tftp_hpa_get(srv: &impl Endpoint, remote: &str, local: &Path, mode: &str) -> ClientRun {
    let mut cmd = Command::new("tftp");
    if srv.endpoint().is_ipv6() {
        cmd.arg("-6");
    }
    cmd.args([&host(srv), &srv.port_arg(), "-m", mode, "-c", "get", remote])
        .arg(local);
    run_client(&mut cmd, CLIENT_TIMEOUT)
}

/// tftp-hpa: `tftp HOST PORT -m MODE -c put LOCAL REMOTE`.
pub fn tftp_hpa_put(srv: &impl Endpoint, local: &Path, remote: &str, mode: &str) -> ClientRun {
    let mut cmd = Command::new("tftp");
    if srv.endpoint().is_ipv6() {
        cmd.arg("-6");
    }
    cmd.args([&host(srv), &srv.port_arg(), "-m", mode, "-c", "put"])
        .arg(local)
        .arg(remote);
    run_client(&mut cmd, CLIENT_TIMEOUT)
}

/// atftp with `--option` values such as `"blksize 1024"`, plus extra flags
/// (`--trace`, `--verbose`): `-g -r REMOTE -l LOCAL HOST PORT`.
pub fn atftp_get(
    srv: &impl Endpoint,
    remote: &str,
    local: &Path,
    options: &[&str],
    extra: &[&str],
) -> ClientRun {
    let mut cmd = Command::new("atftp");
    for o in options {
        cmd.args(["--option", o]);
    }
    cmd.args(extra)
        .args(["-g", "-r", remote, "-l", path_arg(local)])
        .args([&host(srv), &srv.port_arg()]);
    run_client(&mut cmd, CLIENT_TIMEOUT)
}

/// atftp upload: `-p -l LOCAL -r REMOTE HOST PORT`.
pub fn atftp_put(srv: &impl Endpoint, local: &Path, remote: &str, options: &[&str]) -> ClientRun {
    let mut cmd = Command::new("atftp");
    for o in options {
        cmd.args(["--option", o]);
    }
    cmd.args(["-p", "-l", path_arg(local), "-r", remote])
        .args([&host(srv), &srv.port_arg()]);
    run_client(&mut cmd, CLIENT_TIMEOUT)
}

/// curl download: `tftp://HOST:PORT/REMOTE [--tftp-blksize N] -o LOCAL`.
/// Exit 68 means "file not found", 69 "permission problem".
pub fn curl_get(
    srv: &impl Endpoint,
    remote: &str,
    local: &Path,
    blksize: Option<u16>,
) -> ClientRun {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-g", "--max-time", "60"])
        .arg(format!("tftp://{}/{remote}", authority(srv)))
        .args(["-o", path_arg(local)]);
    if let Some(b) = blksize {
        cmd.args(["--tftp-blksize", &b.to_string()]);
    }
    run_client(&mut cmd, CLIENT_TIMEOUT)
}

/// curl upload: `-T LOCAL tftp://HOST:PORT/REMOTE`.
pub fn curl_put(
    srv: &impl Endpoint,
    local: &Path,
    remote: &str,
    blksize: Option<u16>,
) -> ClientRun {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-g", "--max-time", "60", "-T", path_arg(local)])
        .arg(format!("tftp://{}/{remote}", authority(srv)));
    if let Some(b) = blksize {
        cmd.args(["--tftp-blksize", &b.to_string()]);
    }
    run_client(&mut cmd, CLIENT_TIMEOUT)
}

/// busybox: `busybox tftp [-b SIZE] -g -r REMOTE -l LOCAL HOST PORT`.
pub fn busybox_get(
    srv: &impl Endpoint,
    remote: &str,
    local: &Path,
    blksize: Option<u16>,
) -> ClientRun {
    busybox(srv, "-g", remote, local, blksize)
}

/// busybox: `busybox tftp [-b SIZE] -p -l LOCAL -r REMOTE HOST PORT`.
pub fn busybox_put(
    srv: &impl Endpoint,
    local: &Path,
    remote: &str,
    blksize: Option<u16>,
) -> ClientRun {
    busybox(srv, "-p", remote, local, blksize)
}

fn busybox(
    srv: &impl Endpoint,
    dir: &str,
    remote: &str,
    local: &Path,
    blksize: Option<u16>,
) -> ClientRun {
    let mut cmd = Command::new("busybox");
    cmd.arg("tftp");
    if let Some(b) = blksize {
        cmd.args(["-b", &b.to_string()]);
    }
    cmd.args([dir, "-r", remote, "-l", path_arg(local)])
        .args([&host(srv), &srv.port_arg()]);
    run_client(&mut cmd, CLIENT_TIMEOUT)
}
