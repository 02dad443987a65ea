//! `netboot explain`: why one machine gets what it gets, offline. The
//! settings and profiles are checked as `netboot check` checks them
//! (`serve::preflight`), the pools planned as `serve` plans them
//! (`serve::plan`), the leases read from the state directory (read-only,
//! no lock taken), and then the server's own pieces answer: the registry's
//! matcher says which profile and why ([`crate::registry::explain`]), the
//! DHCP decision core plays the exchange ([`exchange`]), and the chain of
//! boot files is followed through what netboot would serve this client
//! ([`chain`], [`files`]). Nothing is sent and nothing listens; the
//! interfaces' addresses are read as `ip addr` reads them.

pub mod chain;
pub mod exchange;
mod files;
pub mod network;
mod report;
mod scripts;
pub mod wire_text;

pub use report::{Report, StepReport};

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::Arc;

use dhcproto::v4::{DhcpOption, MessageType, OptionCode};

use crate::boot::{ClientId, ProfileLookup};
use crate::dhcp::decide::Core;
use crate::dhcp::pool::Lease;
use crate::dhcp::pxe;
use crate::dhcp::store::{self, StoreError};
use crate::registry::{ClientFacts, Registry};
use crate::serve::lookup::{Defaults, Layered};
use crate::serve::plan::{self, PlanError, ServePlan};
use crate::serve::preflight::preflight;
use crate::serve::{ServeError, ServeOptions};

use exchange::{Client, Step};

/// What to explain: the settings (as `serve`'s options), the client, and
/// optionally an address on the network it asks from.
#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// `--config`, `--profiles`, `--root`, `--state-dir`, `--interface`.
    pub serve: ServeOptions,
    /// What the client sends.
    pub client: Client,
    /// An address on the client's network (picks the pool).
    pub ip: Option<Ipv4Addr>,
}

/// Why there is nothing to explain.
#[derive(Debug, thiserror::Error)]
pub enum ExplainError {
    /// The settings or profiles fail the checks `netboot check` runs.
    #[error(transparent)]
    Serve(#[from] ServeError),
    /// The settings make no plan.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// `--ip` is on no served network.
    #[error("{0}")]
    Network(String),
    /// The lease store cannot be read.
    #[error(
        "cannot read the leases in {dir}: {source}; give the state directory `serve` uses \
         with --state-dir, or its lease database in dhcp.leases"
    )]
    Leases {
        /// The state directory or the database.
        dir: String,
        /// Why.
        source: StoreError,
    },
}

/// Explains one client (reads the settings, profiles, root and leases).
pub fn explain(opts: &ExplainOptions) -> Result<Report, ExplainError> {
    let checked = preflight(&opts.serve)?;
    let served = network::served(&opts.serve, &checked.file);
    let mut plan = plan::plan(&opts.serve, &checked.file, &checked.base, served.nets)?;
    let arrival =
        network::arrival(&plan.networks, &plan.dhcp, opts.ip).map_err(ExplainError::Network)?;
    plan.dhcp.http_port = plan
        .http
        .as_ref()
        .and_then(|h| crate::http::listen::url_port(&h.listen, arrival.server_ip));
    let registry = Arc::new(checked.registry);
    let leases = read_leases(&plan.dhcp)?;
    let mut server = Server::new(&plan, Arc::clone(&registry), &leases, &arrival);
    let id = client_id(&opts.client);
    let steps = server.play(&opts.client);
    let given = last_reply(&steps);
    // iPXE, once loaded, asks again (as the same machine, now leased)
    let ipxe_steps = (!id.is_ipxe && given.is_some()).then(|| {
        let mut again = opts.client.clone();
        again.user_class = Some("iPXE".into());
        server.play(&again)
    });
    let ipxe_file = ipxe_steps.as_deref().and_then(last_reply).and_then(|g| g.0);
    let given = Given {
        reply: given,
        ipxe_file: ipxe_file.as_deref(),
        server_ip: arrival.server_ip,
    };
    let (links, others) = follow(&plan, &registry, &id, &given);
    let ipxe_used = links.iter().any(|l| l.stage == chain::IPXE_AGAIN);
    Ok(Report {
        settings: settings(&plan, &checked.root, &checked.profiles),
        networks: served.notes,
        arrival: arrival.note,
        lease: lease_note(&leases, opts.client.mac, server.now),
        profile: crate::registry::explain(&registry, &id),
        fallback: registry.lookup(&id).is_none(),
        default_note: server.lookup.default_note(&id),
        exchange: steps.iter().map(StepReport::from_step).collect(),
        ipxe: ipxe_steps
            .filter(|_| ipxe_used)
            .and_then(|s| s.last().map(StepReport::from_step)),
        chain: links,
        other_files: others,
    })
}

/// The DHCP server as `serve` would run it, offline: its decision core
/// with the stored leases and the profiles' reservations, the lookup it
/// asks (profiles, then the default boot files), where the request arrives.
struct Server {
    core: Core,
    lookup: Layered,
    server_ip: Ipv4Addr,
    giaddr: Option<Ipv4Addr>,
    now: u64,
}

impl Server {
    fn new(
        plan: &ServePlan,
        registry: Arc<Registry>,
        leases: &[Lease],
        arrival: &network::Arrival,
    ) -> Self {
        // the catalogue is in service, and its signed shim a default, with HTTP only
        let root = plan.tftp.root.root.clone();
        let catalogue = match plan.http {
            Some(_) => crate::catalogue::scan::scan(&root, None),
            None => crate::catalogue::Catalogue::default(),
        };
        let defaults = Defaults::from_plan(plan, crate::catalogue::live::empty(root));
        let lookup = Layered::new(registry, &defaults, &catalogue);
        let mut core = Core::new(plan.dhcp.clone());
        core.restore(leases);
        core.set_reservations(&lookup.reservations());
        Self {
            core,
            lookup,
            server_ip: arrival.server_ip,
            giaddr: arrival.giaddr,
            now: now(),
        }
    }

    fn play(&mut self, client: &Client) -> Vec<Step> {
        let (ip, agent, now) = (self.server_ip, self.giaddr, self.now);
        exchange::play(&mut self.core, &self.lookup, client, ip, agent, now)
    }
}

/// The profile-matching view of the client, as the core derives it.
fn client_id(client: &Client) -> ClientId {
    ClientId {
        mac: client.mac,
        arch: client.arch,
        vendor_class: client.vendor_class.clone(),
        is_ipxe: client
            .user_class
            .as_deref()
            .is_some_and(|c| c.contains("iPXE")),
    }
}

/// The boot file, siaddr and yiaddr of the last reply, if there was one.
fn last_reply(steps: &[Step]) -> Option<(Option<String>, Ipv4Addr, Ipv4Addr)> {
    let reply = steps.iter().rev().find_map(|s| s.reply.as_ref())?;
    let m = &reply.message;
    let file = match m.opts().get(OptionCode::BootfileName) {
        Some(DhcpOption::BootfileName(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        _ => m
            .fname_str()
            .and_then(Result::ok)
            .map(str::to_string)
            .filter(|f| !f.is_empty()),
    };
    (reply.kind != MessageType::Nak).then_some((file, m.siaddr(), m.yiaddr()))
}

/// What the DHCP side gave the client.
struct Given<'a> {
    /// The last reply's boot file, siaddr and yiaddr, if there was one.
    reply: Option<(Option<String>, Ipv4Addr, Ipv4Addr)>,
    /// The boot file iPXE gets when it asks again.
    ipxe_file: Option<&'a str>,
    /// Our address on the client's network.
    server_ip: Ipv4Addr,
}

/// The chain from the reply's boot file, through what `serve` would
/// serve, and the other files served to this client (in words).
fn follow(
    plan: &ServePlan,
    registry: &Registry,
    id: &ClientId,
    given: &Given<'_>,
) -> (Vec<chain::Link>, Vec<String>) {
    let Some((file, next_server, ip)) = given.reply.clone() else {
        return (Vec::new(), Vec::new());
    };
    let profile = registry.lookup(id);
    let hostname = profile.as_ref().and_then(|p| p.hostname.clone());
    let files = files::ServedFiles::new(plan, registry, (id.mac, ip, hostname), given.server_ip);
    let links = match pxe::family(id) {
        Ok(family) => chain::chain(
            &chain::Start {
                family,
                file: file.as_deref(),
                next_server,
                server_ip: given.server_ip,
                ipxe_file: given.ipxe_file,
                mac: id.mac,
                ip,
            },
            &files,
        ),
        Err(_) => Vec::new(),
    };
    let name = profile.map(|p| p.name);
    let others = other_files(registry, files.facts.as_ref(), name.as_deref(), &links);
    (links, others)
}

/// The files its profile renders for this client that the chain did not
/// fetch, and where its uploads go. (The TFTP side knows a client by its
/// lease's MAC alone, so files of profiles that match by vendor class or
/// architecture are served to it too; those are left out here.)
fn other_files(
    registry: &Registry,
    facts: Option<&ClientFacts>,
    profile: Option<&str>,
    links: &[chain::Link],
) -> Vec<String> {
    let Some(facts) = facts else {
        return vec![
            "netboot has no lease for this client (ProxyDHCP): files rendered per client are not served to it"
                .to_string(),
        ];
    };
    let fetched = |name: &str| {
        links
            .iter()
            .any(|l| l.name == name || l.rewritten.as_deref() == Some(name))
    };
    let mut out: Vec<String> = registry
        .file_names(facts)
        .into_iter()
        .filter(|(name, by)| !fetched(name) && Some(by.as_str()) == profile)
        .map(|(name, by)| format!("{name}: rendered for this client by profile {by}"))
        .collect();
    if let Some((by, dir)) = registry.upload_dir_of(&facts.mac) {
        let kept = registry
            .upload_keep_versions(&facts.mac)
            .map_or(String::new(), |n| format!(", the last {n} versions kept"));
        out.push(format!(
            "its uploads (TFTP write requests) land in {dir} (profile {by}){kept}"
        ));
    }
    out
}

/// The leases of the state directory, read without taking its lock (a
/// running server keeps it); none when the directory does not exist.
/// The leases where `serve` keeps them: the state directory or the
/// shared database (read, never written).
fn read_leases(dhcp: &crate::dhcp::config::DhcpConfig) -> Result<Vec<Lease>, ExplainError> {
    let backend = dhcp.backend();
    crate::dhcp::backend::read_now(&backend).map_err(|source| ExplainError::Leases {
        dir: match backend {
            store::Backend::Postgres(url) => crate::dhcp::pg::redact(&url),
            store::Backend::Embedded(dir) => dir.display().to_string(),
            store::Backend::Memory => "memory".into(),
        },
        source,
    })
}

fn lease_note(leases: &[Lease], mac: crate::mac::MacAddr, now: u64) -> Option<String> {
    let lease = leases
        .iter()
        .filter(|l| l.mac == mac)
        .max_by_key(|l| l.expires)?;
    let when = if lease.expires > now {
        format!("expires in {} s", lease.expires - now)
    } else {
        format!("expired {} s ago", now - lease.expires)
    };
    Some(format!("{} ({}, {when})", lease.ip, lease.state.as_str()))
}

fn settings(plan: &ServePlan, root: &Path, profiles: &Path) -> Vec<String> {
    let mut out = Vec::new();
    match &plan.config_file {
        Some(path) => out.push(format!("settings: {}", path.display())),
        None => out.push("settings: no netboot.yaml (flags and defaults)".into()),
    }
    out.push(format!("boot root: {}", root.display()));
    out.push(format!("profiles: {}", profiles.display()));
    if let Some(dir) = &plan.dhcp.state_dir {
        let state = if dir.is_dir() {
            ""
        } else {
            " (does not exist: no leases yet)"
        };
        out.push(format!("leases: {}{state}", dir.display()));
    }
    out
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
