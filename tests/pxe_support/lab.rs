//! A private network for one boot: a network namespace created by the test
//! (`nbpxe-<pid>-<n>`) holding a bridge with the server's address and a tap for
//! the VM, plus a temporary directory for the TFTP root, logs and captures.
//!
//! Nothing here touches the root namespace's interfaces. The namespace is
//! deleted when the `Lab` is dropped (also on panic); namespaces left behind by
//! a test process that was killed outright are swept at the next start.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempDir;

use super::process::run;

/// Prefix of every namespace these tests create.
const NS_PREFIX: &str = "nbpxe-";
/// The server's address on the lab bridge.
pub const SERVER_IP: &str = "10.77.0.1";
/// The lab subnet's prefix length.
pub const PREFIX_LEN: u8 = 24;
/// Addresses handed to clients.
pub const RANGE_FIRST: &str = "10.77.0.100";
pub const RANGE_LAST: &str = "10.77.0.150";
/// The bridge the server listens on.
pub const BRIDGE: &str = "br0";
/// The tap the VM's NIC is attached to.
pub const TAP: &str = "tap0";
/// Address of the site DHCP server in the neighbour namespace (proxy tests).
pub const NEIGHBOUR_IP: &str = "10.77.0.2";
/// The neighbour's interface, a veth whose peer is on the lab bridge.
pub const NEIGHBOUR_IF: &str = "eth0";

static NEXT_LAB: AtomicUsize = AtomicUsize::new(0);

/// A network namespace owned by this test process.
pub struct Netns {
    name: String,
}

impl Netns {
    fn create() -> Result<Self, String> {
        let n = NEXT_LAB.fetch_add(1, Ordering::SeqCst);
        let name = format!("{NS_PREFIX}{}-{n}", std::process::id());
        run(Command::new("ip").args(["netns", "add", &name]))?;
        Ok(Netns { name })
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside the namespace (`ip netns exec`
    /// execs it, so the child's PID is the program's own).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).arg(program);
        cmd
    }

    /// Runs `ip ARGS` inside the namespace.
    fn ip(&self, args: &[&str]) -> Result<String, String> {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = run(Command::new("ip").args(["netns", "del", &self.name])) {
            eprintln!("could not delete namespace {}: {e}", self.name);
        }
    }
}

/// One boot's namespace, bridge, tap and scratch directory.
pub struct Lab {
    // Field order is drop order: the namespaces go before the directory.
    pub ns: Netns,
    /// A second namespace on the same bridge, standing for another host
    /// (the site's DHCP server when netboot is a ProxyDHCP).
    pub neighbour: Option<Netns>,
    dir: TempDir,
}

impl Lab {
    /// Creates the namespace with `br0` (10.77.0.1/24) and `tap0` on it.
    pub fn new() -> Result<Self, String> {
        sweep_stale_namespaces();
        let dir = tempfile::Builder::new()
            .prefix("nbpxe-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        // `serve` drops root: it must be able to look inside
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .map_err(|e| format!("chmod temp dir: {e}"))?;
        let ns = Netns::create()?;
        let addr = format!("{SERVER_IP}/{PREFIX_LEN}");
        ns.ip(&["link", "set", "lo", "up"])?;
        ns.ip(&["link", "add", BRIDGE, "type", "bridge"])?;
        ns.ip(&["addr", "add", &addr, "dev", BRIDGE])?;
        ns.ip(&["tuntap", "add", TAP, "mode", "tap"])?;
        ns.ip(&["link", "set", TAP, "master", BRIDGE])?;
        ns.ip(&["link", "set", TAP, "up"])?;
        ns.ip(&["link", "set", BRIDGE, "up"])?;
        Ok(Lab {
            ns,
            neighbour: None,
            dir,
        })
    }

    /// Adds a neighbour namespace with `eth0` (10.77.0.2/24), a veth whose
    /// peer `vnb0` is on the lab bridge.
    pub fn add_neighbour(&mut self) -> Result<&Netns, String> {
        let nb = Netns::create()?;
        let addr = format!("{NEIGHBOUR_IP}/{PREFIX_LEN}");
        let veth = ["link", "add", "vnb0", "type", "veth", "peer", "name"];
        self.ns
            .ip(&[&veth[..], &[NEIGHBOUR_IF, "netns", nb.name()]].concat())?;
        self.ns.ip(&["link", "set", "vnb0", "master", BRIDGE])?;
        self.ns.ip(&["link", "set", "vnb0", "up"])?;
        nb.ip(&["link", "set", "lo", "up"])?;
        nb.ip(&["addr", "add", &addr, "dev", NEIGHBOUR_IF])?;
        nb.ip(&["link", "set", NEIGHBOUR_IF, "up"])?;
        Ok(self.neighbour.insert(nb))
    }

    /// The neighbour namespace (added if need be) holding `ip` as well, so
    /// it can speak as the machine that had that address (a VM that has
    /// stopped, whose lease names it).
    #[allow(dead_code)] // tests/pxe_boot_catalogue.rs
    pub fn neighbour_as(&mut self, ip: &str) -> Result<&Netns, String> {
        if self.neighbour.is_none() {
            self.add_neighbour()?;
        }
        let nb = self.neighbour.as_ref().ok_or("no neighbour namespace")?;
        nb.ip(&[
            "addr",
            "add",
            &format!("{ip}/{PREFIX_LEN}"),
            "dev",
            NEIGHBOUR_IF,
        ])?;
        Ok(nb)
    }

    /// The scratch directory (TFTP root, logs, capture).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Deletes `nbpxe-<pid>-<n>` namespaces whose creating process is gone
/// (a test run killed with SIGKILL cannot run its Drop guards).
fn sweep_stale_namespaces() {
    let Ok(list) = run(Command::new("ip").args(["netns", "list"])) else {
        return;
    };
    for line in list.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        let Some(pid) = name
            .strip_prefix(NS_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("deleting stale namespace {name}");
            let _ = run(Command::new("ip").args(["netns", "del", name]));
        }
    }
}
