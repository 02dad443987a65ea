//! Quick mode on a bare port, for real, inside network namespaces this test
//! creates and deletes: `nba-srv-*` holds the netboot side of a veth pair with
//! no IPv4 address, `nba-peer-*` the other side (a machine on the same link).
//! The library runs on a thread that has joined the server namespace (setns
//! only moves that thread); the unprivileged case re-executes this test
//! binary under `ip netns exec … setpriv`. Nothing touches the root
//! namespace's interfaces. Needs root, iproute2, dnsmasq and setpriv; skipped
//! with a reason outside CI when they are missing, a failure in CI.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use netboot::autoaddr::{self, AutoAddrError, Ensured, Plan};
use netboot::net::Ipv4Net;

const SRV_IF: &str = "bs0";
const PEER_IF: &str = "bp0";
const CHILD_ENV: &str = "NETBOOT_AUTOADDR_CHILD";

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn ready() -> bool {
    let mut missing = Vec::new();
    if !nix::unistd::Uid::effective().is_root() {
        missing.push("root (network namespaces)".to_string());
    }
    for tool in ["ip", "dnsmasq", "setpriv"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            missing.push(format!("`{tool}`"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let msg = format!("autoaddr namespace test needs {}", missing.join(", "));
    assert!(
        std::env::var_os("CI").is_none(),
        "{msg} (CI is set, so this is a failure)"
    );
    eprintln!("skipping: {msg}");
    false
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().expect("run ip");
    assert!(
        out.status.success(),
        "ip {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two namespaces joined by a veth pair; deleted on drop, with every process
/// the test started, even when the test panics.
struct Lab {
    srv: String,
    peer: String,
    dir: tempfile::TempDir,
    children: Vec<Child>,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Lab {
    fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let lab = Self {
            srv: format!("nba-srv-{pid}-{n}"),
            peer: format!("nba-peer-{pid}-{n}"),
            dir: tempfile::tempdir().expect("tempdir"),
            children: Vec::new(),
            log: Default::default(),
        };
        ip(&["netns", "add", &lab.srv]);
        ip(&["netns", "add", &lab.peer]);
        ip(&[
            "-n", &lab.srv, "link", "add", SRV_IF, "type", "veth", "peer", "name", PEER_IF,
            "netns", &lab.peer,
        ]);
        for (ns, dev) in [(&lab.srv, SRV_IF), (&lab.peer, PEER_IF)] {
            ip(&["-n", ns, "link", "set", dev, "up"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        lab
    }

    fn peer_addr(&self, cidr: &str) {
        ip(&["-n", &self.peer, "addr", "add", cidr, "dev", PEER_IF]);
    }

    /// The IPv4 addresses on the server side, as `ip` prints them.
    fn srv_addrs(&self) -> String {
        ip(&["-n", &self.srv, "-4", "-o", "addr", "show", "dev", SRV_IF])
    }

    /// Runs `f` on a thread inside the server namespace.
    fn in_srv<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.srv);
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).expect("open netns");
            // SAFETY: setns on a valid namespace fd moves only this thread
            let rc =
                unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("namespace thread")
    }

    /// Starts dnsmasq as a DHCP server on the peer side and waits (bounded)
    /// until it is ready.
    fn foreign_dhcp(&mut self) {
        let leases = self.dir.path().join("leases");
        let mut child = Command::new("ip")
            .args(["netns", "exec", &self.peer, "dnsmasq", "-d", "--port=0"])
            .args([
                "--conf-file=/dev/null",
                "--bind-interfaces",
                "--user=root",
                "--log-dhcp",
            ])
            .arg(format!("--interface={PEER_IF}"))
            .arg("--dhcp-range=192.168.77.50,192.168.77.100,255.255.255.0")
            .arg(format!("--dhcp-leasefile={}", leases.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn dnsmasq");
        let stderr = child.stderr.take().expect("stderr");
        self.children.push(child);
        let (tx, rx) = std::sync::mpsc::channel();
        let log = std::sync::Arc::clone(&self.log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line.clone());
                let _ = tx.send(line);
            }
        });
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(10) {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(line) if line.contains("DHCP, IP range") => return,
                _ => {}
            }
        }
        panic!("dnsmasq did not start within 10 s");
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in [&self.srv, &self.peer] {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

fn net(text: &str) -> Ipv4Net {
    autoaddr::parse_assign(text).unwrap()
}

#[test]
fn bare_port_takes_the_first_candidate_and_gives_it_back() {
    if !ready() {
        return;
    }
    let lab = Lab::new();
    let plan = lab.in_srv(|| autoaddr::plan(SRV_IF, None)).unwrap();
    let Plan::Assign {
        net: chosen,
        ref skipped,
        foreign_dhcp,
        carrier,
    } = plan
    else {
        panic!("expected an assignment, got {plan:?}");
    };
    assert_eq!(chosen, net("10.42.0.1/24"));
    assert!(skipped.is_empty(), "{skipped:?}");
    assert_eq!(foreign_dhcp, None);
    assert!(carrier);
    assert!(plan.summary(SRV_IF, None).contains("10.42.0.2-10.42.0.254"));
    assert_eq!(lab.in_srv(|| autoaddr::manager_of(SRV_IF)), None);

    // the guard never leaves the namespace thread: dropping it elsewhere
    // would ask the wrong namespace to remove the address
    let srv = lab.srv.clone();
    let shown = move || ip(&["-n", &srv, "-4", "-o", "addr", "show", "dev", SRV_IF]);
    let srv = lab.srv.clone();
    lab.in_srv(move || {
        let addr = autoaddr::assign(SRV_IF, chosen).unwrap();
        assert_eq!(addr.net(), chosen);
        assert!(shown().contains("inet 10.42.0.1/24"), "{}", shown());
        // a network manager takes it away; ensure puts it back
        ip(&["-n", &srv, "addr", "del", "10.42.0.1/24", "dev", SRV_IF]);
        assert_eq!(autoaddr::ensure(&addr).unwrap(), Ensured::Restored);
        assert!(shown().contains("inet 10.42.0.1/24"));
        assert_eq!(autoaddr::ensure(&addr).unwrap(), Ensured::Present);
        drop(addr);
        assert!(!shown().contains("10.42.0.1"), "{}", shown());
        // assigning what is there already is refused, and nothing is removed
        ip(&["-n", &srv, "addr", "add", "10.42.0.1/24", "dev", SRV_IF]);
        let again = autoaddr::assign(SRV_IF, chosen).unwrap_err();
        assert!(
            matches!(again, AutoAddrError::AlreadyPresent { .. }),
            "{again}"
        );
        assert!(shown().contains("10.42.0.1/24"));
        ip(&["-n", &srv, "addr", "del", "10.42.0.1/24", "dev", SRV_IF]);
        // remove() then drop: removed once, no error
        let addr = autoaddr::assign(SRV_IF, chosen).unwrap();
        addr.remove().unwrap();
        assert!(!shown().contains("10.42.0.1"));
        // a fatal error that unwinds through serve removes it too
        let unwound = std::panic::catch_unwind(|| {
            let _addr = autoaddr::assign(SRV_IF, chosen).unwrap();
            panic!("(expected) a fatal error while serving");
        });
        assert!(unwound.is_err());
        assert!(!shown().contains("10.42.0.1"), "{}", shown());
    });
    // an IPv4 link-local fallback address does not count as configured
    ip(&[
        "-n",
        &lab.srv,
        "addr",
        "add",
        "169.254.7.7/16",
        "dev",
        SRV_IF,
    ]);
    let plan = lab.in_srv(|| autoaddr::plan(SRV_IF, None)).unwrap();
    assert_eq!(plan.net(), net("10.42.0.1/24"), "{plan:?}");
    assert!(matches!(plan, Plan::Assign { .. }));
    // with an address in place, plan touches nothing
    ip(&["-n", &lab.srv, "addr", "add", "10.9.0.7/24", "dev", SRV_IF]);
    let plan = lab.in_srv(|| autoaddr::plan(SRV_IF, None)).unwrap();
    assert_eq!(plan, Plan::Existing(net("10.9.0.7/24")));
}

#[test]
fn drop_inside_a_runtime_and_watch_restore_the_address() {
    if !ready() {
        return;
    }
    let lab = Lab::new();
    let srv = lab.srv.clone();
    lab.in_srv(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let addr = autoaddr::assign(SRV_IF, net("10.43.0.1/24")).unwrap();
            let stop = tokio_util::sync::CancellationToken::new();
            let watcher = {
                let stop = stop.clone();
                async move {
                    autoaddr::watch(&addr, Duration::from_millis(100), stop).await;
                    addr
                }
            };
            let check = async {
                ip(&["-n", &srv, "addr", "del", "10.43.0.1/24", "dev", SRV_IF]);
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(5) {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let shown = ip(&["-n", &srv, "-4", "-o", "addr", "show", "dev", SRV_IF]);
                    if shown.contains("10.43.0.1/24") {
                        stop.cancel();
                        return true;
                    }
                }
                stop.cancel();
                false
            };
            let (addr, restored) = tokio::join!(watcher, check);
            assert!(restored, "watch did not put the address back within 5 s");
            drop(addr); // inside the runtime
        });
    });
    assert!(
        !lab.srv_addrs().contains("10.43.0.1"),
        "{}",
        lab.srv_addrs()
    );
}

#[test]
fn an_address_in_use_on_the_link_is_skipped() {
    if !ready() {
        return;
    }
    let lab = Lab::new();
    lab.peer_addr("10.42.0.1/24");
    let started = Instant::now();
    let plan = lab.in_srv(|| autoaddr::plan(SRV_IF, None)).unwrap();
    let Plan::Assign {
        net: chosen,
        ref skipped,
        ..
    } = plan
    else {
        panic!("expected an assignment, got {plan:?}");
    };
    assert_eq!(chosen, net("10.43.0.1/24"));
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].net, net("10.42.0.1/24"));
    assert!(skipped[0].why.contains("answers ARP"), "{}", skipped[0].why);
    assert!(started.elapsed() < Duration::from_secs(8), "bounded checks");
    assert!(plan.summary(SRV_IF, None).contains("not 10.42.0.0/24"));
    // the explicit choice of a taken address is an error, not a skip
    let err = lab
        .in_srv(|| autoaddr::plan(SRV_IF, Some(net("10.42.0.1/24"))))
        .unwrap_err();
    assert!(matches!(err, AutoAddrError::ExplicitInUse { .. }), "{err}");
    let plan = lab.in_srv(|| autoaddr::plan(SRV_IF, Some(net("10.42.0.9/24"))));
    assert_eq!(plan.unwrap().net(), net("10.42.0.9/24"));
}

#[test]
fn another_dhcp_server_on_the_segment_is_reported() {
    if !ready() {
        return;
    }
    let mut lab = Lab::new();
    lab.peer_addr("192.168.77.1/24");
    lab.foreign_dhcp();
    let plan = lab.in_srv(|| autoaddr::plan(SRV_IF, None)).unwrap();
    let Plan::Assign { foreign_dhcp, .. } = plan else {
        panic!("expected an assignment, got {plan:?}");
    };
    let Some(foreign) = foreign_dhcp else {
        panic!(
            "dnsmasq's offer was not seen:\n{}",
            lab.log.lock().unwrap().join("\n")
        );
    };
    assert_eq!(foreign.server.to_string(), "192.168.77.1");
    assert!(foreign.offered.to_string().starts_with("192.168.77."));
    assert!(plan.summary(SRV_IF, None).contains("--proxy"));
}

#[test]
fn down_and_missing_interfaces_name_the_fix() {
    if !ready() {
        return;
    }
    let lab = Lab::new();
    let missing = lab.in_srv(|| autoaddr::plan("eth9", None)).unwrap_err();
    let text = missing.to_string();
    assert!(text.contains(SRV_IF) && text.contains("lo"), "{text}");
    ip(&["-n", &lab.srv, "link", "set", SRV_IF, "down"]);
    let down = lab.in_srv(|| autoaddr::plan(SRV_IF, None)).unwrap_err();
    assert!(
        down.to_string().contains("sudo ip link set bs0 up"),
        "{down}"
    );
    let down = lab
        .in_srv(|| autoaddr::assign(SRV_IF, net("10.42.0.1/24")))
        .unwrap_err();
    assert!(
        matches!(down, AutoAddrError::InterfaceDown { .. }),
        "{down}"
    );
    assert!(!lab.srv_addrs().contains("10.42.0.1"));
}

#[test]
fn without_privileges_the_messages_name_the_commands() {
    if !ready() {
        return;
    }
    let lab = Lab::new();
    let exe = std::env::current_exe().unwrap();
    let out = Command::new("ip")
        .args(["netns", "exec", &lab.srv, "setpriv"])
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(&exe)
        .args([
            "--exact",
            "unprivileged_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("ASSIGN: ") && stdout.contains("sudo ip addr add 10.42.0.1/24 dev bs0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("setcap cap_net_admin,cap_net_raw"),
        "{stdout}"
    );
    assert!(
        stdout.contains("PLAN: ") && stdout.contains("CAP_NET_RAW"),
        "{stdout}"
    );
    assert!(!lab.srv_addrs().contains("10.42.0.1"));
}

/// The unprivileged half of the test above; does nothing unless re-executed.
#[test]
fn unprivileged_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let assign = autoaddr::assign(SRV_IF, net("10.42.0.1/24")).unwrap_err();
    assert!(
        matches!(assign, AutoAddrError::AddPermission { .. }),
        "{assign}"
    );
    println!("ASSIGN: {assign}");
    let plan = autoaddr::plan(SRV_IF, None).unwrap_err();
    assert!(
        matches!(plan, AutoAddrError::CheckPermission { .. }),
        "{plan}"
    );
    println!("PLAN: {plan}");
}
