//! HTTP requests as transfers in the event stream ([`crate::events`]): a
//! GET that sends a body is a transfer from its first byte to its last (or
//! to the client's going away); a refused request is a transfer that failed
//! with its status code.

use std::net::SocketAddr;

use crate::events::event::Protocol;
use crate::events::{Events, NewTransfer, Tracker};
use crate::mac::MacAddr;

/// Who asked for what.
#[derive(Clone)]
pub struct Request {
    /// The client's address.
    pub peer: SocketAddr,
    /// Its MAC, when a lease names it.
    pub mac: Option<MacAddr>,
    /// The path asked for.
    pub path: String,
}

impl Request {
    fn transfer(&self, size: Option<u64>) -> NewTransfer {
        NewTransfer {
            protocol: Protocol::Http,
            peer: self.peer,
            mac: self.mac,
            file: self.path.clone(),
            size,
            upload: false,
        }
    }
}

/// The start of a body of `size` bytes.
pub fn start(events: &Events, request: &Request, size: u64) -> Tracker {
    Tracker::start(events, request.transfer(Some(size)))
}

/// A request refused with `status`.
pub fn refused(events: &Events, request: &Request, status: u16, why: &str) {
    Tracker::refused(events, request.transfer(None), status, why);
}
