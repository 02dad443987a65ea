//! Messages about addresses the client already has: RENEW and REBIND
//! (extended where still ours and not reserved for another; a client with
//! a reservation it does not hold is moved onto it), RELEASE and DECLINE (given back), CONFIRM
//! (still on link?), and INFORMATION-REQUEST (options only, no address).

use std::net::Ipv6Addr;

use dhcproto::v6::{DhcpOption, MessageType, Status};

use crate::dhcp::lease::{LeaseState, Secs};

use super::super::config::Pool6;
use super::super::ia::{ia_status, ia_zero, ias, status, Ia};
use super::super::reason::{Decision6, Reason6};
use super::super::table::Lease6;
use super::{decided, Core6, Ex};

impl Core6 {
    /// RENEW (`rebind` false) or REBIND: extend what the client holds, or
    /// move it onto its reservation.
    pub(super) fn extend(&mut self, ex: &Ex<'_>, rebind: bool) -> Decision6 {
        let ias = ias(ex.req);
        if ias.is_empty() {
            return Decision6::silent("no IA_NA to extend");
        }
        let pool = self.pool(ex.ctx);
        let fixed = pool.and_then(|p| self.usable_fixed(ex, &p));
        let (file, _) = self.boot(ex);
        let mut reply = self.reply(ex, MessageType::Reply, file.as_deref());
        let (mut addrs, mut changes) = (Vec::new(), Vec::new());
        for ia in &ias {
            let (option, done) = match fixed {
                Some(to) => {
                    let (option, moved) = self.move_to(ex, ia, to);
                    (option, Some((to, moved)))
                }
                None => self.extend_ia(ex, ia, pool.as_ref(), rebind),
            };
            reply.opts_mut().insert(option);
            if let Some((addr, lease)) = done {
                addrs.push(addr);
                changes.extend(lease);
            }
        }
        let from: Vec<Ipv6Addr> = ias
            .iter()
            .flat_map(|ia| ia.addrs.iter().copied())
            .filter(|a| fixed.is_some_and(|to| to != *a))
            .collect();
        let reason = match (addrs.is_empty(), fixed) {
            (true, _) => Reason6::NoBinding,
            (false, Some(to)) if !from.is_empty() => Reason6::Moved { to, from },
            (false, _) => Reason6::Renewed(addrs),
        };
        decided(reply, reason, changes)
    }

    /// One IA of a RENEW or REBIND, for a client without a reservation
    /// here: its address extended while ours to give (in the pool, not
    /// another's, not reserved for another), else NoBinding (RENEW) or its
    /// addresses with lifetimes 0 (REBIND).
    fn extend_ia(
        &mut self,
        ex: &Ex<'_>,
        ia: &Ia,
        pool: Option<&Pool6>,
        rebind: bool,
    ) -> (DhcpOption, Option<(Ipv6Addr, Vec<Lease6>)>) {
        let ok = ia.addrs.iter().copied().find(|a| {
            pool.is_some_and(|p| p.contains(*a))
                && self.table.free_for(*a, &ex.duid, ex.now)
                && !self.reserved_for_other(*a, ex)
        });
        match ok {
            Some(addr) => {
                let lease = self.take(ex, addr, ia.id, LeaseState::Bound);
                (self.ia_with(ia.id, addr), Some((addr, vec![lease])))
            }
            None if rebind => (ia_zero(ia), None),
            None => (ia_status(ia.id, Status::NoBinding), None),
        }
    }

    pub(super) fn release(&mut self, ex: &Ex<'_>) -> Decision6 {
        self.give_back(ex, LeaseState::Released, ex.now)
    }

    pub(super) fn decline(&mut self, ex: &Ex<'_>) -> Decision6 {
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

    pub(super) fn confirm(&mut self, ex: &Ex<'_>) -> Decision6 {
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

    pub(super) fn inform(&mut self, ex: &Ex<'_>) -> Decision6 {
        if !ias(ex.req).is_empty() {
            return Decision6::silent("INFORMATION-REQUEST with an IA");
        }
        let (file, boot) = self.boot(ex);
        let reply = self.reply(ex, MessageType::Reply, file.as_deref());
        decided(reply, Reason6::Informed(boot), Vec::new())
    }
}
