//! The DHCPv6 server (PXE over IPv6, RFC 8415 and RFC 5970): a sans-IO
//! decision core ([`decide`]) over a lease table ([`table`]) and
//! configuration ([`config`]), the boot options ([`boot`]), DUIDs
//! ([`duid`]). `decide`, `table`, `config`, `boot` and `duid` do no I/O and
//! never read the clock.

pub mod boot;
pub mod config;
pub mod decide;
pub mod duid;
mod ia;
pub mod links;
pub mod reason;
pub mod server;
pub mod store;
pub mod table;
pub mod ula;
pub mod wire;

pub use config::{Dhcp6Config, Holder6, Pool6, Reservation6};
pub use decide::{Context6, Core6};
pub use reason::{Decision6, Reason6};
pub use table::{Lease6, Table6};

#[cfg(test)]
mod tidy {
    /// The cores do no I/O and never read the clock.
    #[test]
    fn the_dhcpv6_and_ra_cores_are_sans_io() {
        crate::tidy::assert_code_free_of(
            &[
                ("dhcp6/decide.rs", include_str!("decide.rs")),
                ("dhcp6/decide/assign.rs", include_str!("decide/assign.rs")),
                ("dhcp6/decide/held.rs", include_str!("decide/held.rs")),
                ("dhcp6/decide/reserve.rs", include_str!("decide/reserve.rs")),
                ("dhcp6/table.rs", include_str!("table.rs")),
                ("dhcp6/config.rs", include_str!("config.rs")),
                ("dhcp6/boot.rs", include_str!("boot.rs")),
                ("dhcp6/duid.rs", include_str!("duid.rs")),
                ("dhcp6/ia.rs", include_str!("ia.rs")),
                ("dhcp6/wire.rs", include_str!("wire.rs")),
                ("ra/wire.rs", include_str!("../ra/wire.rs")),
                ("ra/advertiser.rs", include_str!("../ra/advertiser.rs")),
            ],
            &[
                "tokio",
                "socket2",
                "nix::",
                "std::fs",
                "::now()",
                "SystemTime",
                "UdpSocket",
            ],
        );
    }
}
