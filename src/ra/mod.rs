//! Router Advertisements where netboot is the only source of them, so hosts
//! ask DHCPv6 for addresses (M) and the boot URL (O): the wire format
//! ([`wire`], pure), when to send and when to fall silent ([`advertiser`],
//! pure), the RA a PXE firmware gets alone ([`firmware`], pure), and the
//! raw ICMPv6 shell ([`shell`]) that listens first and
//! never advertises on an interface where another router does.

pub mod advertiser;
pub mod firmware;
pub mod shell;
pub mod wire;
