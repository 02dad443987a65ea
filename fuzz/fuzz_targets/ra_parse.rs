//! Arbitrary bytes as an ICMPv6 message through the RS/RA parser: never
//! panics, and a parsed RA built again parses to the same RA.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netboot::ra::wire::{self, Icmp6};

fuzz_target!(|data: &[u8]| {
    if let Some(Icmp6::Advertisement(a)) = wire::parse(data) {
        let again = wire::build(&a);
        assert_eq!(wire::parse(&again), Some(Icmp6::Advertisement(a)));
    }
});
