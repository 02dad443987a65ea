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
//!
//! Here: the checks every message passes and the reply's common options;
//! `assign` hands addresses out (SOLICIT, REQUEST), `held` answers about
//! the ones a client has (RENEW, REBIND, RELEASE, DECLINE, CONFIRM) and
//! INFORMATION-REQUEST.

use std::net::Ipv6Addr;

use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode};

use crate::boot::{ClientId, ClientProfile, ProfileLookup};
use crate::dhcp::lease::Secs;
use crate::dhcp::pxe::BootNote;

use super::boot;
use super::config::{Dhcp6Config, Pool6, Reservation6};
use super::reason::{Decision6, Reason6};
use super::table::{Lease6, Table6};

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
    /// The client's reserved address, if it has one (`reserve`).
    fixed: Option<Ipv6Addr>,
    now: Secs,
}

/// The DHCPv6 core: configuration plus the lease table.
#[derive(Debug, Clone)]
pub struct Core6 {
    cfg: Dhcp6Config,
    table: Table6,
    /// The profiles' reservations (`set_profile_reservations`).
    profile_reservations: Vec<Reservation6>,
}

impl Core6 {
    /// A core with an empty table.
    pub fn new(cfg: Dhcp6Config) -> Self {
        Self {
            cfg,
            table: Table6::default(),
            profile_reservations: Vec::new(),
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
        let by_duid = (!duid.is_empty())
            .then(|| lookup.lookup_duid(&duid, &client))
            .flatten();
        let profile = by_duid.or_else(|| lookup.lookup(&client));
        let name = profile.as_ref().map(|p| p.name.clone());
        let mac = boot::client_mac(req, ctx.peer);
        let fixed = self.fixed_for(profile.as_ref(), &duid, mac);
        let ex = Ex {
            req,
            ctx,
            duid,
            client,
            profile,
            fixed,
            now,
        };
        let d = self.dispatch(kind, &ex);
        Decision6 { profile: name, ..d }
    }

    /// The decision for one message type.
    fn dispatch(&mut self, kind: MessageType, ex: &Ex<'_>) -> Decision6 {
        match kind {
            MessageType::Solicit => self.solicit(ex),
            MessageType::Request => self.request(ex),
            MessageType::Renew => self.extend(ex, false),
            MessageType::Rebind => self.extend(ex, true),
            MessageType::Release => self.release(ex),
            MessageType::Decline => self.decline(ex),
            MessageType::Confirm => self.confirm(ex),
            MessageType::InformationRequest => self.inform(ex),
            _ => Decision6::silent("message type a server does not answer"),
        }
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
        if let Some(p) = &ex.profile {
            boot::apply_params(opts, ex.req, &p.boot_params6);
        }
        m
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

mod assign;
mod held;
mod reserve;

#[cfg(test)]
mod held_tests;
#[cfg(test)]
mod reserve_tests;
#[cfg(test)]
mod tests;
