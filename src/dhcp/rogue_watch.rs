//! Listens on each served interface for other DHCP servers' replies
//! ([`crate::dhcp::rogue`] tells them apart): one AF_PACKET socket per
//! interface, with a kernel filter that passes only UDP to port 68, so the
//! serving traffic (TFTP, HTTP) never reaches it; one thread per socket.
//! Each reply heard goes to the event stream (the status page, the
//! metrics), and each server is warned about once in the log.
//!
//! It hears what reaches our port of the switch: replies broadcast to a
//! client (PXE firmware asks for broadcast replies) and those unicast to a
//! client on a hub or a flooding switch.

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use socket2::SockFilter;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::dhcp::rogue::{heard, Heard};
use crate::events::event::Rogue;
use crate::events::{Event, Events};
use crate::packet::PacketSocket;
use crate::udp4::ETH_P_IP;

/// How often a listening thread looks at the cancel token.
const TICK: Duration = Duration::from_millis(500);

/// Interfaces' sockets, opened (with CAP_NET_RAW) and filtered.
pub struct RogueWatch {
    links: Vec<(String, PacketSocket)>,
}

impl RogueWatch {
    /// Opens a filtered socket on each of `interfaces`; one that cannot be
    /// opened (no CAP_NET_RAW) is said once and left unwatched.
    pub fn open(interfaces: &[String]) -> Self {
        let links = interfaces
            .iter()
            .filter_map(|name| match open_filtered(name) {
                Ok(sock) => Some((name.clone(), sock)),
                Err(e) => {
                    info!(interface = %name, error = %e, "not listening for other DHCP servers here (it needs CAP_NET_RAW)");
                    None
                }
            })
            .collect();
        Self { links }
    }

    /// Listens until `cancel`, reporting replies of servers other than
    /// `ours` to `events`.
    pub fn start(
        self,
        ours: Vec<Ipv4Addr>,
        events: Events,
        cancel: CancellationToken,
    ) -> Vec<JoinHandle<()>> {
        self.links
            .into_iter()
            .filter_map(|(name, sock)| {
                let (ours, events, cancel) = (ours.clone(), events.clone(), cancel.clone());
                let thread = format!("rogue-dhcp-{name}");
                let why = format!("cannot listen for other DHCP servers on {name}");
                std::thread::Builder::new()
                    .name(thread)
                    .spawn(move || listen(&name, sock, &ours, &events, &cancel))
                    .map_err(|e| warn!("{why}: {e}"))
                    .ok()
            })
            .collect()
    }
}

fn open_filtered(name: &str) -> std::io::Result<PacketSocket> {
    let index = nix::net::if_::if_nametoindex(name).map_err(std::io::Error::from)?;
    let sock = PacketSocket::open(index, ETH_P_IP)?;
    sock.attach_filter(&udp_to_port_68())?;
    Ok(sock)
}

/// A classic BPF program over an IPv4 packet (the socket sees no link
/// header): keep unfragmented UDP to port 68, drop everything else.
fn udp_to_port_68() -> [SockFilter; 9] {
    let op = SockFilter::new;
    const LD_B_ABS: u16 = 0x30; // A = byte at k
    const LD_H_ABS: u16 = 0x28; // A = half-word at k
    const LDX_MSH: u16 = 0xb1; // X = 4 * (byte at k & 0x0f): the IP header's length
    const LD_H_IND: u16 = 0x48; // A = half-word at X + k
    const JEQ: u16 = 0x15;
    const JSET: u16 = 0x45;
    const RET: u16 = 0x06;
    [
        op(LD_B_ABS, 0, 0, 9),      // the IP protocol
        op(JEQ, 0, 6, 17),          // UDP, else drop
        op(LD_H_ABS, 0, 0, 6),      // flags and fragment offset
        op(JSET, 4, 0, 0x1fff),     // a fragment after the first: drop
        op(LDX_MSH, 0, 0, 0),       // X = where UDP starts
        op(LD_H_IND, 0, 0, 2),      // the UDP destination port
        op(JEQ, 0, 1, 68),          // the DHCP client port, else drop
        op(RET, 0, 0, 0x0004_0000), // keep the packet
        op(RET, 0, 0, 0),           // drop it
    ]
}

fn listen(
    name: &str,
    mut sock: PacketSocket,
    ours: &[Ipv4Addr],
    events: &Events,
    cancel: &CancellationToken,
) {
    let mut warned = HashSet::new();
    let mut buf = vec![0u8; 2048];
    while !cancel.is_cancelled() {
        let n = match sock.recv(&mut buf, TICK) {
            Ok(Some(n)) => n,
            Ok(None) => continue,
            Err(e) => {
                warn!(interface = %name, error = %e, "stopped listening for other DHCP servers");
                return;
            }
        };
        if let Some(h) = buf.get(..n).and_then(|p| heard(p, ours)) {
            if warned.insert(h.server) {
                warn!(interface = %name, server = %h.server, client = %h.client, "another DHCP server answers on this segment ({} to {}): clients may take its answer instead of ours; switch it off, or run netboot with --proxy beside it", h.message, h.client);
            }
            report(name, h, events);
        }
    }
}

fn report(interface: &str, h: Heard, events: &Events) {
    events.emit(Event::RogueDhcp(Rogue {
        at: SystemTime::now(),
        server: h.server,
        client: h.client,
        message: h.message.to_string(),
        interface: interface.to_string(),
    }));
}
