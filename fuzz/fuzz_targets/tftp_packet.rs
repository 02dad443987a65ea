//! Fuzz target: any datagram through `Packet::parse`. A packet that parses
//! must encode to bytes that parse back to the same packet, and that
//! encoding must be canonical (encoding the re-parsed packet changes nothing).

#![no_main]

use libfuzzer_sys::fuzz_target;
use netboot::tftp::packet::Packet;

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = Packet::parse(data) else {
        return;
    };
    let opcode = u16::from_be_bytes([data[0], data[1]]);
    assert_eq!(packet.opcode() as u16, opcode, "opcode changed in parsing");
    if let Packet::Rrq(req) | Packet::Wrq(req) = &packet {
        assert!(!req.filename.is_empty(), "empty file name accepted");
        assert!(!req.filename.contains(&0), "NUL inside a file name");
    }
    if let Packet::Data { data: payload, .. } = &packet {
        assert_eq!(payload.len() + 4, data.len(), "DATA payload lost bytes");
    }
    let encoded = packet.to_bytes();
    let again = match Packet::parse(&encoded) {
        Ok(again) => again,
        Err(e) => panic!("encoding of {packet:?} does not parse: {e}"),
    };
    assert_eq!(again, packet, "round trip changed the packet");
    assert_eq!(again.to_bytes(), encoded, "encoding is not canonical");
    assert_eq!(again.opcode(), packet.opcode());
});
