//! The sans-IO decision core: one request in, one [`Decision`] out.
//!
//! `(request, context, profiles, lease table, now) -> Decision`: the reply (or
//! none), the reason for the log line, the lease records to persist before the
//! reply leaves, and possibly "ping this address first". No sockets, no clock,
//! no tokio: the shell (`server.rs`) feeds it and carries out what it says.
//! RFC 2131 states are told apart as §4.3.2 describes: SELECTING (server id
//! present), INIT-REBOOT (requested address, no ciaddr), RENEWING/REBINDING
//! (ciaddr).

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, Message, MessageType, Opcode, OptionCode};

use crate::boot::{ClientId, ClientProfile, ProfileLookup};
use crate::dhcp::config::{DhcpConfig, Mode};
use crate::dhcp::pool::{Holder, Lease, LeaseState, LeaseTable, Secs};
use crate::dhcp::pxe::{self, BootNote, BootParams};
use crate::dhcp::reply::{self, Context, Reply};
use crate::mac::MacAddr;

mod proxy;
mod request;

pub use crate::dhcp::reason::{Decision, Reason};

/// One request being decided.
pub(crate) struct Exchange<'a> {
    req: &'a Message,
    ctx: &'a Context,
    client: ClientId,
    profile: Option<ClientProfile>,
    now: Secs,
}

impl Exchange<'_> {
    fn mac(&self) -> MacAddr {
        self.client.mac
    }

    fn requested(&self) -> Option<Ipv4Addr> {
        match self.req.opts().get(OptionCode::RequestedIpAddress) {
            Some(DhcpOption::RequestedIpAddress(ip)) => Some(*ip),
            _ => None,
        }
    }

    fn server_id(&self) -> Option<Ipv4Addr> {
        match self.req.opts().get(OptionCode::ServerIdentifier) {
            Some(DhcpOption::ServerIdentifier(ip)) => Some(*ip),
            _ => None,
        }
    }

    fn hostname(&self) -> Option<String> {
        if let Some(h) = self.profile.as_ref().and_then(|p| p.hostname.clone()) {
            return Some(h);
        }
        match self.req.opts().get(OptionCode::Hostname) {
            Some(DhcpOption::Hostname(h)) => Some(h.clone()),
            _ => None,
        }
    }
}

/// The decision core: configuration plus the lease table.
#[derive(Debug, Clone)]
pub struct Core {
    cfg: DhcpConfig,
    table: LeaseTable,
}

impl Core {
    /// A core with an empty lease table.
    pub fn new(cfg: DhcpConfig) -> Self {
        let table = LeaseTable::new(&cfg.pools, &cfg.server_addrs());
        Self { cfg, table }
    }

    /// The configuration.
    pub fn config(&self) -> &DhcpConfig {
        &self.cfg
    }

    /// The lease table.
    pub fn table(&self) -> &LeaseTable {
        &self.table
    }

    /// Loads persisted leases (start-up).
    pub fn restore(&mut self, leases: &[Lease]) {
        self.table.restore(leases);
    }

    /// Replaces the static reservations (start-up and profile reload).
    pub fn set_reservations(&mut self, reservations: &[(MacAddr, Ipv4Addr)]) {
        self.table.set_reservations(reservations);
    }

    /// Decides what to do with one request.
    pub fn handle(
        &mut self,
        req: &Message,
        ctx: &Context,
        lookup: &dyn ProfileLookup,
        now: Secs,
    ) -> Decision {
        let Some(kind) = req.opts().msg_type() else {
            return Decision::silent(Reason::Silent(
                "no DHCP message type (plain BOOTP is not served)",
            ));
        };
        if req.opcode() != Opcode::BootRequest {
            return Decision::silent(Reason::Silent("not a BOOTREQUEST"));
        }
        let Some(client) = pxe::client_id(req) else {
            return Decision::silent(Reason::Silent("hardware address shorter than 6 bytes"));
        };
        let profile = lookup.lookup(&client);
        let name = profile.as_ref().map(|p| p.name.clone());
        if self.cfg.known_clients_only && !profile.as_ref().is_some_and(|p| p.known) {
            return Decision {
                profile: name,
                ..Decision::silent(Reason::UnknownClient)
            };
        }
        let ex = Exchange {
            req,
            ctx,
            client,
            profile,
            now,
        };
        let result = match self.cfg.mode {
            Mode::Proxy => self.proxy(&ex, kind),
            Mode::Authoritative => self.authoritative(&ex, kind),
        };
        Decision {
            profile: name,
            ..result.unwrap_or_else(Decision::silent)
        }
    }

    /// The shell's ping of `ip` (asked for by a decision on `req`) finished.
    /// An answered ping takes the address out of use; either way the request
    /// is decided again.
    #[allow(clippy::too_many_arguments)]
    pub fn probe_result(
        &mut self,
        ip: Ipv4Addr,
        in_use: bool,
        req: &Message,
        ctx: &Context,
        lookup: &dyn ProfileLookup,
        now: Secs,
    ) -> Decision {
        if !in_use {
            self.table.mark_probed(ip);
            return self.handle(req, ctx, lookup, now);
        }
        let until = now + self.cfg.decline_hold.as_secs();
        let lease = self.table.decline(ip, MacAddr([0; 6]), until);
        let mut d = self.handle(req, ctx, lookup, now);
        d.changes.insert(0, lease);
        d
    }

    fn authoritative(&mut self, ex: &Exchange<'_>, kind: MessageType) -> Result<Decision, Reason> {
        match kind {
            MessageType::Discover => self.discover(ex),
            MessageType::Request => self.request(ex),
            MessageType::Release => Ok(self.release(ex)),
            MessageType::Decline => Ok(self.decline(ex)),
            MessageType::Inform => self.inform(ex),
            _ => Err(Reason::Silent("message type a server does not answer")),
        }
    }

    /// The pool a request is served from: the relay's (giaddr), else the
    /// one on the subnet of our address on the receiving interface.
    fn pool(&self, req: &Message, ctx: &Context) -> Result<usize, Reason> {
        let addr = if req.giaddr().is_unspecified() {
            ctx.server_ip
        } else {
            req.giaddr()
        };
        self.table.pool_for(addr).ok_or(Reason::NoPool(addr))
    }

    /// True when `ip` is one of our addresses (a server identifier we sent).
    fn is_ours(&self, ip: Ipv4Addr) -> bool {
        self.table.is_server(ip)
    }

    /// The client's reservation (profile first), checked against the pool.
    fn reserved(&self, ex: &Exchange<'_>, pool: usize) -> Result<Option<Ipv4Addr>, Reason> {
        let fixed = ex.profile.as_ref().and_then(|p| p.fixed_address);
        let Some(ip) = fixed.or_else(|| self.table.reservation(ex.mac())) else {
            return Ok(None);
        };
        if self.is_ours(ip) {
            return Err(Reason::ReservedIsServer(ip));
        }
        if !self.table.subnet(pool).is_some_and(|s| s.is_host(ip)) {
            return Err(Reason::ReservedElsewhere(ip));
        }
        Ok(Some(ip))
    }

    fn discover(&mut self, ex: &Exchange<'_>) -> Result<Decision, Reason> {
        let pool = self.pool(ex.req, ex.ctx)?;
        let mac = ex.mac();
        let alloc = match self.reserved(ex, pool)? {
            Some(ip) => {
                if !matches!(self.table.holder(ip, ex.now), Holder::Free)
                    && self.table.holder(ip, ex.now) != Holder::Client(mac)
                {
                    return Err(Reason::ReservedBusy(ip));
                }
                crate::dhcp::pool::Allocation {
                    ip,
                    needs_probe: false,
                }
            }
            None => self
                .table
                .allocate(pool, mac, ex.requested(), ex.now)
                .ok_or(Reason::Exhausted)?,
        };
        let until = ex.now + self.cfg.offer_hold.as_secs();
        if alloc.needs_probe && self.cfg.ping_check {
            self.table.offer(alloc.ip, mac, until, false);
            return Ok(Decision {
                reply: None,
                reason: Reason::Probe(alloc.ip),
                changes: Vec::new(),
                probe: Some(alloc.ip),
                profile: None,
            });
        }
        self.table.offer(alloc.ip, mac, until, true);
        let (reply, boot) = self.lease_reply(
            ex,
            MessageType::Offer,
            pool,
            alloc.ip,
            Some(self.lease_secs()),
        )?;
        let changes = if self.cfg.records_offers() {
            // a client's own bound lease is in the database already: an
            // OFFER of it needs no record (half the writes of renewals)
            let lease = self.table.lease(alloc.ip);
            lease
                .filter(|l| l.state != LeaseState::Bound)
                .into_iter()
                .collect()
        } else {
            Vec::new()
        };
        Ok(Decision {
            reply: Some(reply),
            reason: Reason::Offer { ip: alloc.ip, boot },
            changes,
            probe: None,
            profile: None,
        })
    }

    fn lease_secs(&self) -> u32 {
        u32::try_from(self.cfg.lease_time.as_secs()).unwrap_or(u32::MAX)
    }

    fn release(&mut self, ex: &Exchange<'_>) -> Decision {
        if ex.server_id().is_some_and(|s| !self.is_ours(s)) {
            return Decision::silent(Reason::Silent("RELEASE for another server"));
        }
        let ip = ex.req.ciaddr();
        match self.table.release(ip, ex.mac(), ex.now) {
            Some(lease) => Decision {
                reply: None,
                reason: Reason::Released(ip),
                changes: vec![lease],
                probe: None,
                profile: None,
            },
            None => Decision::silent(Reason::Silent(
                "RELEASE for an address this client does not hold",
            )),
        }
    }

    fn decline(&mut self, ex: &Exchange<'_>) -> Decision {
        let Some(ip) = ex.requested() else {
            return Decision::silent(Reason::Silent("DECLINE without requested address"));
        };
        if self.table.holder(ip, ex.now) != Holder::Client(ex.mac()) {
            return Decision::silent(Reason::Silent(
                "DECLINE for an address this client does not hold",
            ));
        }
        let until = ex.now + self.cfg.decline_hold.as_secs();
        let lease = self.table.decline(ip, ex.mac(), until);
        Decision {
            reply: None,
            reason: Reason::Declined(ip),
            changes: vec![lease],
            probe: None,
            profile: None,
        }
    }

    fn inform(&mut self, ex: &Exchange<'_>) -> Result<Decision, Reason> {
        let ciaddr = ex.req.ciaddr();
        let addr = if ex.req.giaddr().is_unspecified() {
            ciaddr
        } else {
            ex.req.giaddr()
        };
        let pool = self.table.pool_for(addr).ok_or(Reason::NoPool(addr))?;
        let (reply, boot) =
            self.lease_reply(ex, MessageType::Ack, pool, Ipv4Addr::UNSPECIFIED, None)?;
        Ok(Decision {
            reply: Some(reply),
            reason: Reason::InformAck { boot },
            changes: Vec::new(),
            probe: None,
            profile: None,
        })
    }

    /// An OFFER or ACK with lease options (none for INFORM) and boot options.
    fn lease_reply(
        &self,
        ex: &Exchange<'_>,
        kind: MessageType,
        pool: usize,
        ip: Ipv4Addr,
        lease_secs: Option<u32>,
    ) -> Result<(Reply, BootNote), Reason> {
        let mut m = reply::skeleton(ex.req, kind, ex.ctx.server_ip);
        m.set_yiaddr(ip);
        let pool_cfg = self.cfg.pools.get(pool).ok_or(Reason::NoPool(ip))?;
        reply::lease_options(&mut m, pool_cfg, lease_secs);
        if let Some(h) = ex.profile.as_ref().and_then(|p| p.hostname.clone()) {
            m.opts_mut().insert(DhcpOption::Hostname(h));
        }
        let boot = self.boot(&mut m, ex);
        let r = reply::finish(m, ex.req, kind, ex.ctx, &self.cfg).map_err(Reason::Malformed)?;
        Ok((r, boot))
    }

    fn boot(&self, m: &mut Message, ex: &Exchange<'_>) -> BootNote {
        let params = BootParams {
            tftp_server: self.cfg.tftp_server(ex.ctx.server_ip),
            server_ip: ex.ctx.server_ip,
            server_name: self.cfg.server_name.as_deref(),
            http_port: self.cfg.http_port,
        };
        let (file, note) = pxe::select(&ex.client, ex.profile.as_ref(), &params);
        pxe::apply(
            m,
            ex.req,
            &ex.client,
            ex.profile.as_ref(),
            file.as_deref(),
            &params,
        );
        note
    }
}
