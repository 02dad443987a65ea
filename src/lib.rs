//! netboot: an all-in-one PXE/netboot appliance.
//!
//! The library holds every piece of the appliance; `src/main.rs` only parses the
//! command line and starts the pieces. See `docs/ARCHITECTURE.md` for the map.

pub mod arch;
pub mod arp;
pub mod autoaddr;
pub mod backups;
pub mod boot;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod dhcp;
pub mod dhcp6;
pub mod events;
pub mod explain;
pub mod http;
pub mod logging;
pub mod mac;
pub mod net;
pub mod packet;
pub mod pidfile;
pub mod privileges;
pub mod ra;
pub mod regions;
pub mod registry;
pub mod serve;
pub mod shutdown;
pub mod status;
pub mod tftp;
#[cfg(test)]
mod tidy;
pub mod udp4;
pub mod uimage;
pub mod watch;
