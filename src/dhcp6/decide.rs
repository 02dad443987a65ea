//! **The sans-IO DHCPv6 decision** (RFC 8415 §18.3): (message, context,
//! profiles, lease table, now) → reply + reason + lease changes. No sockets,
//! no clock: the shell (`server`) feeds it and persists the changes before
//! the reply leaves.
//!
//! SOLICIT → ADVERTISE (REPLY with Rapid Commit when asked and allowed),
//! REQUEST → REPLY, RENEW/REBIND extend, RELEASE, DECLINE, CONFIRM and
//! INFORMATION-REQUEST. Messages that must name us (REQUEST, RENEW,
//! RELEASE, DECLINE) are dropped when the server id is missing or another's;
//! those that must not (SOLICIT, REBIND, CONFIRM) when it is present.

use std::net::Ipv6Addr;

use dhcproto::v6::{
    DhcpOption, DhcpOptions, IAAddr, Message, MessageType, OptionCode, Status, IANA,
};

use crate::boot::{ClientId, ClientProfile, ProfileLookup};
use crate::dhcp::lease::{LeaseState, Secs};
use crate::dhcp::pxe::BootNote;

use super::boot;
use super::config::{Dhcp6Config, Holder6, Pool6};
use super::ia::{ia_status, ia_zero, ias, status, Ia};
use super::reason::{Decision6, Reason6};
use super::table::{Lease6, Table6};

/// Seconds an advertised address is held for the client's REQUEST.
const OFFER_HOLD: Secs = 60;

/// Where a request arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context6 {
    /// The client's (link-local) source address.
    pub peer: Ipv6Addr,
    /// Our global or ULA address on the receiving interface: the host of
    /// the boot URLs, and the /64 whose pool serves the request.
    pub ours: Ipv6Addr,
}

/// One request being decided.
struct Ex<'a> {
    req: &'a Message,
    ctx: &'a Context6,
    duid: Vec<u8>,
    client: ClientId,
    profile: Option<ClientProfile>,
    now: Secs,
}

/// The DHCPv6 core: configuration plus the lease table.
#[derive(Debug, Clone)]
pub struct Core6 {
    cfg: Dhcp6Config,
    table: Table6,
}

impl Core6 {
    /// A core with an empty table.
    pub fn new(cfg: Dhcp6Config) -> Self {
        Self {
            cfg,
            table: Table6::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Dhcp6Config {
        &self.cfg
    }

    /// The lease table.
    pub fn table(&self) -> &Table6 {
        &self.table
    }

    /// Loads persisted leases (start-up).
    pub fn restore(&mut self, leases: &[Lease6]) {
        self.table.restore(leases);
    }

    /// Decides what to do with one request.
    pub fn handle(
        &mut self,
        req: &Message,
        ctx: &Context6,
        lookup: &dyn ProfileLookup,
        now: Secs,
    ) -> Decision6 {
        let kind = req.msg_type();
        if let Err(why) = self.check_server_id(req, kind) {
            return Decision6::silent(why);
        }
        let duid = boot::client_duid(req).map(<[u8]>::to_vec);
        let Some(duid) = duid.or_else(|| (kind == MessageType::InformationRequest).then(Vec::new))
        else {
            return Decision6::silent("no client identifier (option 1)");
        };
        let client = boot::client_id(req, ctx.peer);
        let profile = lookup.lookup(&client);
        let name = profile.as_ref().map(|p| p.name.clone());
        let ex = Ex {
            req,
            ctx,
            duid,
            client,
            profile,
            now,
        };
        let d = match kind {
            MessageType::Solicit => self.solicit(&ex),
            MessageType::Request => self.request(&ex),
            MessageType::Renew => self.extend(&ex, false),
            MessageType::Rebind => self.extend(&ex, true),
            MessageType::Release => self.release(&ex),
            MessageType::Decline => self.decline(&ex),
            MessageType::Confirm => self.confirm(&ex),
            MessageType::InformationRequest => self.inform(&ex),
            _ => Decision6::silent("message type a server does not answer"),
        };
        Decision6 { profile: name, ..d }
    }

    fn check_server_id(&self, req: &Message, kind: MessageType) -> Result<(), &'static str> {
        let sid = match req.opts().get(OptionCode::ServerId) {
            Some(DhcpOption::ServerId(s)) => Some(s.as_slice()),
            _ => None,
        };
        let ours = sid.map(|s| s == self.cfg.server_duid.as_slice());
        match (kind, ours) {
            (MessageType::Solicit | MessageType::Rebind | MessageType::Confirm, Some(_)) => {
                Err("a server identifier where none belongs")
            }
            (
                MessageType::Request
                | MessageType::Renew
                | MessageType::Release
                | MessageType::Decline,
                None,
            ) => Err("no server identifier"),
            (_, Some(false)) => Err("for another server"),
            _ => Ok(()),
        }
    }

    /// The pool of the receiving interface's /64 (`None`: stateless).
    fn pool(&self, ctx: &Context6) -> Option<Pool6> {
        self.cfg.pools.iter().copied().find(|p| p.on_link(ctx.ours))
    }

    fn solicit(&mut self, ex: &Ex<'_>) -> Decision6 {
        let ias = ias(ex.req);
        let rapid = self.cfg.rapid_commit && ex.req.opts().get(OptionCode::RapidCommit).is_some();
        let (file, boot) = self.boot(ex);
        let kind = if rapid {
            MessageType::Reply
        } else {
            MessageType::Advertise
        };
        let mut reply = self.reply(ex, kind, file.as_deref());
        if rapid {
            reply.opts_mut().insert(DhcpOption::RapidCommit);
        }
        let state = if rapid {
            LeaseState::Bound
        } else {
            LeaseState::Offered
        };
        let (addrs, changes) = match self.assign(ex, &ias, state, &mut reply) {
            Ok(done) => done,
            Err(why) => return no_addrs(reply, why),
        };
        let reason = if rapid {
            Reason6::Bound { addrs, boot, rapid }
        } else {
            Reason6::Advertised { addrs, boot }
        };
        let changes = if rapid { changes } else { Vec::new() };
        decided(reply, reason, changes)
    }

    fn request(&mut self, ex: &Ex<'_>) -> Decision6 {
        let ias = ias(ex.req);
        let (file, boot) = self.boot(ex);
        let mut reply = self.reply(ex, MessageType::Reply, file.as_deref());
        match self.assign(ex, &ias, LeaseState::Bound, &mut reply) {
            Ok((addrs, changes)) => decided(
                reply,
                Reason6::Bound {
                    addrs,
                    boot,
                    rapid: false,
                },
                changes,
            ),
            Err(why) => no_addrs(reply, why),
        }
    }

    /// Gives each IA an address (in `state`) and writes the IAs into
    /// `reply`. `Err` when the request names no IA_NA we can serve at all.
    fn assign(
        &mut self,
        ex: &Ex<'_>,
        ias: &[Ia],
        state: LeaseState,
        reply: &mut Message,
    ) -> Result<(Vec<Ipv6Addr>, Vec<Lease6>), &'static str> {
        if ias.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let pool = self.pool(ex.ctx).ok_or("stateless: no address pool here")?;
        let (mut addrs, mut changes) = (Vec::new(), Vec::new());
        for ia in ias {
            match self.pick(ex, &pool, ia.id) {
                Some(addr) => {
                    changes.push(self.take(ex, addr, ia.id, state));
                    reply.opts_mut().insert(self.ia_with(ia.id, addr));
                    addrs.push(addr);
                }
                None => reply
                    .opts_mut()
                    .insert(ia_status(ia.id, Status::NoAddrsAvail)),
            }
        }
        if addrs.is_empty() {
            return Err("the pool has no free address");
        }
        Ok((addrs, changes))
    }

    /// The address for one IA: reservation, the IA's current one, a fresh one.
    fn pick(&self, ex: &Ex<'_>, pool: &Pool6, iaid: u32) -> Option<Ipv6Addr> {
        let free = |a: Ipv6Addr| self.table.free_for(a, &ex.duid, ex.now);
        if let Some(fixed) = self.reserved(ex) {
            return (pool.contains(fixed) && free(fixed)).then_some(fixed);
        }
        let others: Vec<Ipv6Addr> = self.cfg.reservations.iter().map(|r| r.addr).collect();
        self.table
            .current(pool, &ex.duid, iaid)
            .filter(|a| free(*a))
            .or_else(|| self.table.fresh(pool, &others, ex.now))
    }

    fn reserved(&self, ex: &Ex<'_>) -> Option<Ipv6Addr> {
        let mac = boot::client_mac(ex.req, ex.ctx.peer);
        self.cfg
            .reservations
            .iter()
            .find(|r| match &r.holder {
                Holder6::Duid(d) => *d == ex.duid,
                Holder6::Mac(m) => Some(*m) == mac,
            })
            .map(|r| r.addr)
    }

    fn take(&mut self, ex: &Ex<'_>, addr: Ipv6Addr, iaid: u32, state: LeaseState) -> Lease6 {
        let life = match state {
            LeaseState::Offered => OFFER_HOLD,
            _ => Secs::from(self.cfg.lease_time),
        };
        self.table.set(Lease6 {
            addr,
            duid: ex.duid.clone(),
            iaid,
            mac: boot::client_mac(ex.req, ex.ctx.peer),
            expires: ex.now + life,
            state,
        })
    }

    /// RENEW (`rebind` false) or REBIND: extend what the client holds.
    fn extend(&mut self, ex: &Ex<'_>, rebind: bool) -> Decision6 {
        let ias = ias(ex.req);
        if ias.is_empty() {
            return Decision6::silent("no IA_NA to extend");
        }
        let pool = self.pool(ex.ctx);
        let (file, _) = self.boot(ex);
        let mut reply = self.reply(ex, MessageType::Reply, file.as_deref());
        let (mut addrs, mut changes) = (Vec::new(), Vec::new());
        for ia in &ias {
            let ok = ia.addrs.iter().copied().find(|a| {
                pool.is_some_and(|p| p.contains(*a)) && self.table.free_for(*a, &ex.duid, ex.now)
            });
            match ok {
                Some(addr) => {
                    changes.push(self.take(ex, addr, ia.id, LeaseState::Bound));
                    reply.opts_mut().insert(self.ia_with(ia.id, addr));
                    addrs.push(addr);
                }
                None if rebind => reply.opts_mut().insert(ia_zero(ia)),
                None => reply.opts_mut().insert(ia_status(ia.id, Status::NoBinding)),
            }
        }
        let reason = if addrs.is_empty() {
            Reason6::NoBinding
        } else {
            Reason6::Renewed(addrs)
        };
        decided(reply, reason, changes)
    }

    fn release(&mut self, ex: &Ex<'_>) -> Decision6 {
        self.give_back(ex, LeaseState::Released, ex.now)
    }

    fn decline(&mut self, ex: &Ex<'_>) -> Decision6 {
        let until = ex.now + Secs::from(self.cfg.decline_hold);
        self.give_back(ex, LeaseState::Declined, until)
    }

    /// RELEASE or DECLINE: the client's addresses change `state`.
    fn give_back(&mut self, ex: &Ex<'_>, state: LeaseState, until: Secs) -> Decision6 {
        let mut reply = self.reply(ex, MessageType::Reply, None);
        let (mut addrs, mut changes) = (Vec::new(), Vec::new());
        for ia in ias(ex.req) {
            let held: Vec<Ipv6Addr> = ia
                .addrs
                .iter()
                .copied()
                .filter(|a| self.table.held_by(*a, &ex.duid, ex.now))
                .collect();
            if held.is_empty() {
                reply.opts_mut().insert(ia_status(ia.id, Status::NoBinding));
            }
            for addr in held {
                let mut lease = self.take(ex, addr, ia.id, state);
                lease.expires = until;
                changes.push(self.table.set(lease));
                addrs.push(addr);
            }
        }
        reply
            .opts_mut()
            .insert(status(Status::Success, "thank you"));
        let reason = match state {
            LeaseState::Declined => Reason6::Declined(addrs),
            _ => Reason6::Released(addrs),
        };
        decided(reply, reason, changes)
    }

    fn confirm(&mut self, ex: &Ex<'_>) -> Decision6 {
        let addrs: Vec<Ipv6Addr> = ias(ex.req).into_iter().flat_map(|ia| ia.addrs).collect();
        let Some(pool) = self.pool(ex.ctx) else {
            return Decision6::silent("stateless: nothing to confirm");
        };
        if addrs.is_empty() {
            return Decision6::silent("CONFIRM names no address");
        }
        let on_link = addrs.iter().all(|a| pool.on_link(*a));
        let mut reply = self.reply(ex, MessageType::Reply, None);
        let (code, text) = if on_link {
            (Status::Success, "on link")
        } else {
            (Status::NotOnLink, "not on this link")
        };
        reply.opts_mut().insert(status(code, text));
        decided(reply, Reason6::Confirmed(on_link), Vec::new())
    }

    fn inform(&mut self, ex: &Ex<'_>) -> Decision6 {
        if !ias(ex.req).is_empty() {
            return Decision6::silent("INFORMATION-REQUEST with an IA");
        }
        let (file, boot) = self.boot(ex);
        let reply = self.reply(ex, MessageType::Reply, file.as_deref());
        decided(reply, Reason6::Informed(boot), Vec::new())
    }

    fn boot(&self, ex: &Ex<'_>) -> (Option<String>, BootNote) {
        boot::url(
            &ex.client,
            ex.profile.as_ref(),
            ex.ctx.ours,
            self.cfg.http_port,
        )
    }

    /// A reply of `kind` with the server and client ids, DNS and boot options.
    fn reply(&self, ex: &Ex<'_>, kind: MessageType, file: Option<&str>) -> Message {
        let mut m = Message::new_with_id(kind, ex.req.xid());
        let opts = m.opts_mut();
        opts.insert(DhcpOption::ServerId(self.cfg.server_duid.clone()));
        if !ex.duid.is_empty() {
            opts.insert(DhcpOption::ClientId(ex.duid.clone()));
        }
        if !self.cfg.dns.is_empty() {
            opts.insert(DhcpOption::DomainNameServers(self.cfg.dns.clone()));
        }
        boot::apply(opts, ex.req, &ex.client, file);
        m
    }

    fn ia_with(&self, iaid: u32, addr: Ipv6Addr) -> DhcpOption {
        let valid = self.cfg.lease_time;
        let mut opts = DhcpOptions::new();
        opts.insert(DhcpOption::IAAddr(IAAddr {
            addr,
            preferred_life: valid,
            valid_life: valid,
            opts: DhcpOptions::new(),
        }));
        DhcpOption::IANA(IANA {
            id: iaid,
            t1: valid / 2,
            t2: valid / 5 * 4,
            opts,
        })
    }
}

fn decided(reply: Message, reason: Reason6, changes: Vec<Lease6>) -> Decision6 {
    Decision6 {
        reply: Some(reply),
        reason,
        changes,
        profile: None,
    }
}

/// An ADVERTISE or REPLY that says "no addresses" at the top level (RFC
/// 8415 §18.3.1): the client keeps soliciting.
fn no_addrs(mut reply: Message, why: &'static str) -> Decision6 {
    reply.opts_mut().remove_all(OptionCode::IANA);
    reply.opts_mut().remove(OptionCode::RapidCommit);
    if reply.msg_type() == MessageType::Reply {
        reply.set_msg_type(MessageType::Advertise);
    }
    reply
        .opts_mut()
        .insert(status(Status::NoAddrsAvail, "no addresses available"));
    decided(reply, Reason6::NoAddrs(why), Vec::new())
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
