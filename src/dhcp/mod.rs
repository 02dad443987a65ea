//! The DHCPv4 responder: a sans-IO decision core ([`decide`]) over an address
//! pool and lease table ([`pool`]), PXE/iPXE boot-file logic ([`pxe`]), a
//! crash-safe lease store ([`store`]), the address probe before an offer (by
//! ARP on the link, [`arp_probe`], or ICMP for relayed pools, [`probe`]; the
//! choice and its bounds in [`probing`]), unicast replies as link-layer
//! frames ([`unicast`]) and the tokio shell ([`server`]) that moves datagrams
//! in and out.
//!
//! Invariant: `decide`, `pool`, `pxe`, `reply`, `wire`, `probing` and `config`
//! do no I/O and never read the clock; time comes in as an argument (seconds
//! since the Unix epoch, or an `Instant` for the probe budget).
//! See `docs/dhcp.md` for modes, the store format and the probe.

pub mod arp_probe;
pub mod backend;
mod commit;
pub mod config;
pub mod decide;
pub mod lease;
mod listen;
pub mod pg;
pub mod pool;
pub mod probe;
mod probe_run;
pub mod probing;
pub mod pxe;
pub mod reason;
pub mod reply;
mod report;
pub mod rogue;
pub mod rogue_watch;
pub mod server;
mod standby;
pub mod store;
pub mod unicast;
pub mod view;
pub mod wire;

#[cfg(test)]
mod invariants;
#[cfg(test)]
mod tests;

pub use config::{ConfigError, DhcpConfig, Interface, Mode, PoolConfig, Subnet};
pub use decide::{Core, Decision, Reason};
pub use pool::{Lease, LeaseState, LeaseTable};
pub use server::{fixed_lookup, run, DhcpError, LookupSource};
