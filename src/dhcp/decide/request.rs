//! REQUEST handling: SELECTING, INIT-REBOOT, RENEWING/REBINDING and NAKs.

use std::net::Ipv4Addr;

use dhcproto::v4::{DhcpOption, MessageType};

use super::{Core, Decision, Exchange, Reason};
use crate::dhcp::pool::Holder;
use crate::dhcp::reply;

/// The address to acknowledge, or the address and reason for a NAK.
type Verdict = Result<Ipv4Addr, (Ipv4Addr, &'static str)>;

impl Core {
    pub(super) fn request(&mut self, ex: &Exchange<'_>) -> Result<Decision, Reason> {
        let pool = self.pool(ex.req, ex.ctx)?;
        let reserved = self.reserved(ex, pool)?;
        let checked = match ex.server_id() {
            Some(sid) => self.selecting(ex, pool, reserved, sid)?,
            None => self.verifying(ex, pool, reserved)?,
        };
        let ip = match checked {
            Ok(ip) => ip,
            Err((ip, why)) => return self.nak(ex, ip, why),
        };
        let expires = ex.now + u64::from(self.lease_secs());
        let lease = self.table.bind(ip, ex.mac(), expires, ex.hostname());
        let (reply, boot) =
            self.lease_reply(ex, MessageType::Ack, pool, ip, Some(self.lease_secs()))?;
        Ok(Decision {
            reply: Some(reply),
            reason: Reason::Ack { ip, boot },
            changes: vec![lease],
            probe: None,
            profile: None,
        })
    }

    /// SELECTING: the client names a server. Ours → the address must be the
    /// one offered (or still usable); another → withdraw our offer silently.
    fn selecting(
        &mut self,
        ex: &Exchange<'_>,
        pool: usize,
        reserved: Option<Ipv4Addr>,
        sid: Ipv4Addr,
    ) -> Result<Verdict, Reason> {
        let mac = ex.mac();
        if !self.is_ours(sid) {
            self.table.cancel_offer(pool, mac, ex.now);
            return Err(Reason::Silent(
                "client chose another server; our offer is withdrawn",
            ));
        }
        let ip = ex.requested().unwrap_or(ex.req.ciaddr());
        let t = &self.table;
        let ok = match reserved {
            Some(r) => ip == r && t.usable_by(pool, ip, mac, ex.now),
            None => {
                t.holder(ip, ex.now) == Holder::Client(mac)
                    || (t.in_range(pool, ip) && t.usable_by(pool, ip, mac, ex.now))
            }
        };
        if ok {
            Ok(Ok(ip))
        } else {
            Ok(Err((
                ip,
                "not the address we offered, or no longer available",
            )))
        }
    }

    /// INIT-REBOOT (requested address, no ciaddr) or RENEWING/REBINDING
    /// (ciaddr): wrong subnet or someone else's → NAK; no record → silent.
    fn verifying(
        &self,
        ex: &Exchange<'_>,
        pool: usize,
        reserved: Option<Ipv4Addr>,
    ) -> Result<Verdict, Reason> {
        let ciaddr = ex.req.ciaddr();
        let ip = if ciaddr.is_unspecified() {
            ex.requested().ok_or(Reason::Silent(
                "REQUEST without server id, ciaddr or requested address",
            ))?
        } else {
            ciaddr
        };
        let on_subnet = self.table.subnet(pool).is_some_and(|s| s.is_host(ip));
        if !on_subnet {
            return Ok(Err((ip, "address is not on this client's subnet")));
        }
        if reserved.is_some_and(|r| r != ip) {
            return Ok(Err((ip, "this client has a different reserved address")));
        }
        if !self.table.usable_by(pool, ip, ex.mac(), ex.now) {
            return Ok(Err((
                ip,
                "address is held by another client, declined or reserved",
            )));
        }
        let ours = self.table.lease(ip).is_some_and(|l| l.mac == ex.mac());
        if !ours && reserved.is_none() {
            return Err(Reason::Silent(
                "no record of this client's lease: staying silent (RFC 2131 4.3.2)",
            ));
        }
        Ok(Ok(ip))
    }

    fn nak(&self, ex: &Exchange<'_>, ip: Ipv4Addr, why: &'static str) -> Result<Decision, Reason> {
        let mut m = reply::skeleton(ex.req, MessageType::Nak, ex.ctx.server_ip);
        if !ex.req.giaddr().is_unspecified() {
            // RFC 2131 4.3.2: a relay must broadcast the NAK to the client
            m.set_flags(ex.req.flags().set_broadcast());
        }
        m.opts_mut().insert(DhcpOption::Message(why.to_string()));
        let r = reply::finish(m, ex.req, MessageType::Nak, ex.ctx, &self.cfg)
            .map_err(Reason::Malformed)?;
        Ok(Decision {
            reply: Some(r),
            reason: Reason::Nak { ip, why },
            changes: Vec::new(),
            probe: None,
            profile: None,
        })
    }
}
