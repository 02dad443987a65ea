//! A DHCP decision as an event of the stream ([`crate::events`]): what the
//! client sent, what we answered with which address, why, the profile it
//! matched, and how long from the request's arrival until the reply left
//! (the lease's commit included when the reply waited for it).

use std::time::{Instant, SystemTime};

use dhcproto::v4::{Message, MessageType};

use crate::dhcp::decide::Decision;
use crate::events::event::Exchange;
use crate::events::{Event, Events};
use crate::mac::MacAddr;

/// A decision to report once its reply has left (or at once, without one).
pub(crate) struct Report {
    events: Events,
    exchange: Exchange,
    received: Instant,
}

impl Report {
    /// The report of `decision` on `msg`, which arrived at `received`.
    pub fn new(events: &Events, msg: &Message, decision: &Decision, received: Instant) -> Self {
        let reply = decision.reply.as_ref();
        let address = reply
            .map(|r| r.message.yiaddr())
            .filter(|ip| !ip.is_unspecified());
        let exchange = Exchange {
            at: SystemTime::now(),
            mac: MacAddr::from_slice(msg.chaddr()).unwrap_or(MacAddr([0; 6])),
            message: name(msg.opts().msg_type()),
            reply: reply.map(|r| name(Some(r.kind))),
            address,
            reason: decision.reason.to_string(),
            profile: decision.profile.clone(),
            latency: received.elapsed(),
        };
        Report {
            events: events.clone(),
            exchange,
            received,
        }
    }

    /// Reports it with its reply withheld, and why.
    pub fn withheld(mut self, why: &str) {
        self.exchange.reason = format!("{}; reply withheld: {why}", self.exchange.reason);
        self.exchange.reply = None;
        self.sent();
    }

    /// Reports it: the reply has left.
    pub fn sent(mut self) {
        self.exchange.latency = self.received.elapsed();
        self.events.emit(Event::Dhcp(self.exchange));
    }
}

/// A message type as the log and the page spell it: `DISCOVER`, `ACK`.
fn name(kind: Option<MessageType>) -> String {
    match kind {
        Some(kind) => format!("{kind:?}").to_uppercase(),
        None => "BOOTP".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_types_read_as_admins_write_them() {
        assert_eq!(name(Some(MessageType::Discover)), "DISCOVER");
        assert_eq!(name(Some(MessageType::Ack)), "ACK");
        assert_eq!(name(None), "BOOTP");
    }
}
