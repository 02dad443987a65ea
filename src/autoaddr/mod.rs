//! Quick mode on a bare port: when the serving interface has no IPv4 address,
//! pick a private /24, make sure nobody on the link uses it, put the server
//! address on the interface for the life of the process and take it off again.
//!
//! The pieces, one concern each:
//! - [`candidates`]: the ordered list of /24s we try and `--assign-address` parsing (pure);
//! - [`sniff`]: the foreign-DHCP-server check as a sans-IO core (bytes and
//!   time in, bytes and a verdict out); the ARP probe's core is shared with
//!   the DHCP server ([`crate::arp`]), and so are the AF_PACKET sockets
//!   ([`crate::packet`]);
//! - [`link`]: the thin blocking shell that runs a check on an AF_PACKET socket;
//! - [`netlink`]: adding and removing the address with a blocking rtnetlink socket;
//! - [`assigned`]: [`AssignedAddress`], the guard that removes the address on drop,
//!   and [`ensure`] / [`watch`], which put it back when a network manager removed it;
//! - [`manager`]: is NetworkManager or systemd-networkd managing the interface?
//! - [`mod@plan`]: ties it together into a [`Plan`] and the start-up message.
//!
//! Everything here is synchronous (the checks take about 3.5 s in all, bounded)
//! so it runs before or outside a tokio runtime, and removal from `Drop` works
//! in either. See `docs/bare-port.md` for the behaviour as a user sees it.

pub mod assigned;
pub mod candidates;
pub mod error;
pub mod link;
pub mod manager;
pub mod netlink;
pub mod plan;
pub mod sniff;

pub use assigned::{assign, ensure, watch, AssignedAddress, Ensured};
pub use candidates::{parse_assign, pool_range, Candidates};
pub use error::AutoAddrError;
pub use manager::{manager_of, Manager};
pub use plan::{plan, Plan, Skip};
pub use sniff::ForeignDhcp;

#[cfg(test)]
mod tests {
    /// The sans-IO cores stay sans-IO: no tokio, sockets, files, processes or
    /// clock outside their tests (the tests may build instants).
    #[test]
    fn cores_do_no_io() {
        let sources = [
            ("sniff.rs", include_str!("sniff.rs")),
            ("candidates.rs", include_str!("candidates.rs")),
            ("../udp4.rs", include_str!("../udp4.rs")),
        ];
        // socket types, not `SocketAddrV4` (a plain value the packet builders take)
        let banned = [
            "tokio::",
            "socket2",
            "UdpSocket",
            "TcpStream",
            "PacketSocket",
            "Socket::",
            "std::fs",
            "Instant::now",
            "SystemTime",
            "Command",
            "libc::",
        ];
        crate::tidy::assert_code_free_of(&sources, &banned);
    }
}
