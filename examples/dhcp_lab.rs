//! A lab harness for the DHCP responder: runs `netboot::dhcp::server::run`
//! with a configuration and a fixed profile table built from flags, for the
//! namespace tests in `tests/dhcp_clients.rs` and for benchmarks.
//!
//! Prints `dhcp listening on IF` to stderr once the sockets are bound.
//! Only run it inside a network namespace of your own (or on loopback with
//! high ports): it answers DHCP.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use clap::Parser;
use netboot::boot::{BootFiles, ClientId, ClientProfile, ProfileLookup};
use netboot::dhcp::{self, DhcpConfig, Mode, PoolConfig, Subnet};
use netboot::mac::MacAddr;
use tokio_util::sync::CancellationToken;

#[derive(Parser, Debug)]
#[command(about = "Run the netboot DHCP responder with flags (lab use only)")]
struct Args {
    /// Interface to answer on (repeatable); none = all (loopback benchmarks).
    #[arg(long = "interface")]
    interfaces: Vec<String>,
    /// Our address (server identifier).
    #[arg(long)]
    server_ip: Ipv4Addr,
    /// Subnet of the pool, e.g. 10.231.0.0/24.
    #[arg(long)]
    subnet: Option<String>,
    /// Dynamic range FIRST-LAST.
    #[arg(long)]
    range: Option<String>,
    #[arg(long)]
    router: Vec<Ipv4Addr>,
    #[arg(long)]
    dns: Vec<Ipv4Addr>,
    #[arg(long)]
    domain: Option<String>,
    #[arg(long)]
    bios: Option<String>,
    #[arg(long)]
    uefi_ia32: Option<String>,
    #[arg(long)]
    uefi_x64: Option<String>,
    #[arg(long)]
    uefi_arm64: Option<String>,
    #[arg(long)]
    http: Option<String>,
    #[arg(long)]
    ipxe: Option<String>,
    /// TFTP server (siaddr, option 66); default = server address.
    #[arg(long)]
    next_server: Option<Ipv4Addr>,
    /// Option 150 list for every client.
    #[arg(long)]
    tftp_servers: Vec<Ipv4Addr>,
    /// Reservation MAC=IP (a known client), repeatable.
    #[arg(long = "reserve")]
    reservations: Vec<String>,
    /// Host name MAC=NAME, repeatable.
    #[arg(long = "hostname")]
    hostnames: Vec<String>,
    /// ProxyDHCP mode.
    #[arg(long)]
    proxy: bool,
    /// Answer only MACs given with --reserve or --hostname.
    #[arg(long)]
    known_only: bool,
    /// Ping addresses before offering them.
    #[arg(long)]
    ping_check: bool,
    /// Lease directory.
    #[arg(long)]
    state_dir: Option<PathBuf>,
    #[arg(long, default_value_t = 3600)]
    lease_time: u64,
    #[arg(long, default_value_t = 67)]
    server_port: u16,
    #[arg(long, default_value_t = 68)]
    client_port: u16,
    #[arg(long, default_value_t = 4011)]
    proxy_port: u16,
    #[arg(long, default_value = "0.0.0.0")]
    bind: Ipv4Addr,
}

struct LabProfiles {
    default: ClientProfile,
    known: HashMap<MacAddr, ClientProfile>,
}

impl ProfileLookup for LabProfiles {
    fn lookup(&self, client: &ClientId) -> Option<ClientProfile> {
        Some(self.known.get(&client.mac).unwrap_or(&self.default).clone())
    }
    fn reservations(&self) -> Vec<(MacAddr, Ipv4Addr)> {
        let known = self.known.iter();
        known
            .filter_map(|(m, p)| p.fixed_address.map(|ip| (*m, ip)))
            .collect()
    }
}

fn pair(text: &str) -> anyhow::Result<(MacAddr, &str)> {
    let (mac, value) = text
        .split_once('=')
        .ok_or_else(|| anyhow!("expected MAC=VALUE, got {text}"))?;
    Ok((mac.parse()?, value))
}

fn profiles(a: &Args) -> anyhow::Result<LabProfiles> {
    let boot = BootFiles {
        bios: a.bios.clone(),
        uefi_ia32: a.uefi_ia32.clone(),
        uefi_x64: a.uefi_x64.clone(),
        uefi_arm64: a.uefi_arm64.clone(),
        http: a.http.clone(),
        ipxe: a.ipxe.clone(),
        ..Default::default()
    };
    let default = ClientProfile {
        name: "lab-default".into(),
        boot,
        next_server: a.next_server,
        tftp_servers: a.tftp_servers.clone(),
        ..Default::default()
    };
    let mut known: HashMap<MacAddr, ClientProfile> = HashMap::new();
    let known_profile = |name: &str| ClientProfile {
        name: name.into(),
        known: true,
        ..default.clone()
    };
    for r in &a.reservations {
        let (mac, ip) = pair(r)?;
        let p = known.entry(mac).or_insert_with(|| known_profile(r));
        p.fixed_address = Some(ip.parse().with_context(|| format!("bad address in {r}"))?);
    }
    for h in &a.hostnames {
        let (mac, name) = pair(h)?;
        known
            .entry(mac)
            .or_insert_with(|| known_profile(h))
            .hostname = Some(name.to_string());
    }
    Ok(LabProfiles { default, known })
}

fn config(a: &Args) -> anyhow::Result<DhcpConfig> {
    let mut c = DhcpConfig::new(a.server_ip);
    c.interfaces = a
        .interfaces
        .iter()
        .map(|name| dhcp::Interface::new(name.clone(), a.server_ip))
        .collect();
    c.mode = if a.proxy {
        Mode::Proxy
    } else {
        Mode::Authoritative
    };
    c.known_clients_only = a.known_only;
    c.ping_check = a.ping_check;
    c.state_dir = a.state_dir.clone();
    c.lease_time = Duration::from_secs(a.lease_time);
    c.server_port = a.server_port;
    c.client_port = a.client_port;
    c.proxy_port = a.proxy_port;
    c.bind_addr = a.bind;
    c.server_name = Some("netboot-lab".into());
    if let (Some(subnet), Some(range)) = (&a.subnet, &a.range) {
        let subnet = Subnet::parse(subnet).ok_or_else(|| anyhow!("bad subnet {subnet}"))?;
        let (first, last) = range
            .split_once('-')
            .ok_or_else(|| anyhow!("range is FIRST-LAST"))?;
        let mut pool = PoolConfig::new(subnet, first.parse()?, last.parse()?)?;
        pool.routers = a.router.clone();
        pool.dns_servers = a.dns.clone();
        pool.domain_name = a.domain.clone();
        c.pools.push(pool);
    }
    c.validate()?;
    Ok(c)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let cfg = config(&args)?;
    let lookup: Arc<dyn ProfileLookup> = Arc::new(profiles(&args)?);
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stop.cancel();
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let stop = cancel.clone();
    tokio::spawn(async move {
        term.recv().await;
        stop.cancel();
    });
    dhcp::run(cfg, dhcp::fixed_lookup(lookup), cancel).await?;
    Ok(())
}
