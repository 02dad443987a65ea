//! Addresses handed out: SOLICIT (ADVERTISE, or REPLY with Rapid Commit)
//! and REQUEST. Each IA_NA gets the client's reservation (on the pool's /64,
//! inside the range or not; an address it held before is released once it
//! binds the reserved one), else the address it has, else a free one of
//! the receiving interface's pool, never one reserved for another; none free is
//! a top-level NoAddrsAvail (RFC 8415 §18.3.1). An ADVERTISE carries
//! Preference 255.

use std::net::Ipv6Addr;

use dhcproto::v6::{
    DhcpOption, DhcpOptions, IAAddr, Message, MessageType, OptionCode, Status, IANA,
};

use crate::dhcp::lease::{LeaseState, Secs};

use super::super::boot;
use super::super::config::Pool6;
use super::super::ia::{ia_status, ias, status, Ia};
use super::super::reason::{Decision6, Reason6};
use super::super::table::Lease6;
use super::{decided, Core6, Ex};

/// Seconds an advertised address is held for the client's REQUEST.
const OFFER_HOLD: Secs = 60;

/// The Preference option of every ADVERTISE: 255 makes a client take it at
/// once (RFC 8415 §18.2.1) instead of collecting ADVERTISEs until its first
/// retransmission timeout; OVMF's PXE waits 4 s there (its Solicit IRT).
const PREFERENCE: u8 = 255;

impl Core6 {
    pub(super) fn solicit(&mut self, ex: &Ex<'_>) -> Decision6 {
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
        } else {
            reply.opts_mut().insert(DhcpOption::Preference(PREFERENCE));
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

    pub(super) fn request(&mut self, ex: &Ex<'_>) -> Decision6 {
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
                    if state == LeaseState::Bound {
                        changes.extend(self.release_other(ex, &pool, ia.id, addr));
                    }
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
        if ex.fixed.is_some() {
            return self.usable_fixed(ex, pool);
        }
        let free = |a: Ipv6Addr| {
            self.table.free_for(a, &ex.duid, ex.now) && !self.reserved_for_other(a, ex)
        };
        self.table
            .current(pool, &ex.duid, iaid)
            .filter(|a| free(*a))
            .or_else(|| self.table.fresh(pool, &self.reserved_addrs(), ex.now))
    }

    /// The IA's previous address, released when it binds `addr` instead
    /// (a client moved onto its reservation).
    fn release_other(
        &mut self,
        ex: &Ex<'_>,
        pool: &Pool6,
        iaid: u32,
        addr: Ipv6Addr,
    ) -> Option<Lease6> {
        let old = self.table.current(pool, &ex.duid, iaid)?;
        if old == addr || !self.table.held_by(old, &ex.duid, ex.now) {
            return None;
        }
        let mut lease = self.take(ex, old, iaid, LeaseState::Released);
        lease.expires = ex.now;
        Some(self.table.set(lease))
    }

    pub(super) fn take(
        &mut self,
        ex: &Ex<'_>,
        addr: Ipv6Addr,
        iaid: u32,
        state: LeaseState,
    ) -> Lease6 {
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

    pub(super) fn ia_with(&self, iaid: u32, addr: Ipv6Addr) -> DhcpOption {
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
