//! ProxyDHCP: answer PXE clients with boot information, never an address.

use dhcproto::v4::MessageType;

use super::{Core, Decision, Exchange, Reason};
use crate::dhcp::pxe;
use crate::dhcp::reply::{self, Port};

impl Core {
    /// ProxyDHCP: PXE clients only, never an address.
    pub(super) fn proxy(
        &mut self,
        ex: &Exchange<'_>,
        kind: MessageType,
    ) -> Result<Decision, Reason> {
        if !pxe::is_pxe(&ex.client) && !pxe::is_http(&ex.client) {
            return Err(Reason::Silent("proxy mode: not a PXE client"));
        }
        let reply_kind = match (kind, ex.ctx.port) {
            (MessageType::Discover, Port::Dhcp) => MessageType::Offer,
            (MessageType::Request, Port::BootServer) => MessageType::Ack,
            (MessageType::Request | MessageType::Inform, Port::Dhcp)
                if ex.server_id().is_some_and(|s| self.is_ours(s)) =>
            {
                MessageType::Ack
            }
            _ => return Err(Reason::Silent("proxy mode: nothing to answer")),
        };
        let mut m = reply::skeleton(ex.req, reply_kind, ex.ctx.server_ip);
        let boot = self.boot(&mut m, ex);
        let r =
            reply::finish(m, ex.req, reply_kind, ex.ctx, &self.cfg).map_err(Reason::Malformed)?;
        let reason = if reply_kind == MessageType::Offer {
            Reason::ProxyOffer { boot }
        } else {
            Reason::ProxyAck { boot }
        };
        Ok(Decision {
            reply: Some(r),
            reason,
            changes: Vec::new(),
            probe: None,
            profile: None,
        })
    }
}
