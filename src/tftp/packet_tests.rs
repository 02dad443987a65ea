//! Unit and property tests of `tftp::packet`.

use super::*;
use proptest::prelude::*;

#[test]
fn parses_rrq_with_options() {
    let raw = b"\x00\x01pxelinux.0\x00OCTET\x00tsize\x000\x00blksize\x001468\x00";
    let Packet::Rrq(req) = Packet::parse(raw).unwrap() else {
        panic!("not an RRQ")
    };
    assert_eq!(req.filename, b"pxelinux.0");
    assert_eq!(req.mode, Mode::Octet);
    assert_eq!(req.options, vec![("tsize", "0"), ("blksize", "1468")]);
}

#[test]
fn tolerates_nul_padding_after_request() {
    let raw = b"\x00\x01f\x00octet\x00\x00\x00\x00";
    assert!(matches!(Packet::parse(raw), Ok(Packet::Rrq(_))));
}

#[test]
fn rejects_bad_requests() {
    assert_eq!(Packet::parse(b"\x00"), Err(ParseError::TooShort));
    assert_eq!(
        Packet::parse(b"\x00\x09"),
        Err(ParseError::UnknownOpcode(9))
    );
    assert_eq!(
        Packet::parse(b"\x00\x01f\x00octet"),
        Err(ParseError::Unterminated)
    );
    assert_eq!(
        Packet::parse(b"\x00\x01\x00octet\x00"),
        Err(ParseError::EmptyFilename)
    );
    assert!(matches!(
        Packet::parse(b"\x00\x01f\x00binary\x00"),
        Err(ParseError::UnknownMode(_))
    ));
    assert!(matches!(
        Packet::parse(b"\x00\x01f\x00octet\x00tsize\x00"),
        Err(ParseError::OptionWithoutValue(_))
    ));
    assert_eq!(Packet::parse(b"\x00\x04\x00"), Err(ParseError::TooShort));
}

#[test]
fn error_without_trailing_nul_is_accepted() {
    let p = Packet::parse(b"\x00\x05\x00\x08abort").unwrap();
    assert_eq!(
        p,
        Packet::Error {
            code: ErrorCode::OptionRefused,
            message: "abort".into()
        }
    );
}

#[test]
fn error_within_never_exceeds_the_limit() {
    let full = error_packet(ErrorCode::FileNotFound, "File not found");
    assert_eq!(
        error_within(ErrorCode::FileNotFound, "File not found", 100),
        Some(full.clone())
    );
    assert_eq!(
        error_within(ErrorCode::FileNotFound, "File not found", full.len()),
        Some(full)
    );
    let short = error_within(ErrorCode::FileNotFound, "File not found", 14).unwrap();
    assert_eq!(short, b"\x00\x05\x00\x01Not found\x00", "whole words");
    let none = error_within(ErrorCode::FileNotFound, "File not found", 10).unwrap();
    assert_eq!(none, b"\x00\x05\x00\x01\x00", "never a cut word");
    assert_eq!(
        error_within(ErrorCode::IllegalOperation, "x", 5).unwrap(),
        b"\x00\x05\x00\x04\x00"
    );
    assert_eq!(error_within(ErrorCode::IllegalOperation, "x", 4), None);
    // A multi-byte character is never split.
    let cut = error_within(ErrorCode::NotDefined, "é", 6).unwrap();
    assert_eq!(cut.len(), 5);
    let cut = error_within(ErrorCode::NotDefined, "déjà vu", 11).unwrap();
    assert_eq!(cut, "\x00\x05\x00\x00déjà\x00".as_bytes());
}

proptest! {
    #[test]
    fn error_within_fits_and_parses(message in "\\PC{0,40}", limit in 0usize..60) {
        match error_within(ErrorCode::AccessViolation, &message, limit) {
            Some(bytes) => {
                prop_assert!(bytes.len() <= limit);
                let parsed = Packet::parse(&bytes).unwrap();
                let Packet::Error { code, message: got } = parsed else {
                    panic!("not an ERROR")
                };
                prop_assert_eq!(code, ErrorCode::AccessViolation);
                // the message, its head, or a standard text: whole words
                let standard = ["Access violation", "Access denied", "Denied", ""];
                prop_assert!(
                    got == message.trim()
                        || message.split_once(": ").map(|(h, _)| h.trim()) == Some(got.as_str())
                        || standard.contains(&got.as_str()),
                    "{got:?} from {message:?}"
                );
            }
            None => prop_assert!(limit < MIN_ERROR_LEN),
        }
    }
}

fn arb_packet_bytes() -> impl Strategy<Value = Vec<u8>> {
    let name = "[a-z]{1,8}";
    let value = "[0-9a-z]{0,8}";
    let opts = proptest::collection::vec((name, value), 0..4);
    prop_oneof![
        (
            proptest::collection::vec(1u8..=255, 1..40),
            prop_oneof![Just(Mode::Octet), Just(Mode::Netascii), Just(Mode::Mail)],
            opts.clone(),
            any::<bool>()
        )
            .prop_map(|(f, mode, o, read)| {
                let options: Vec<(&str, &str)> =
                    o.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
                let req = Request {
                    filename: &f,
                    mode,
                    options,
                };
                if read {
                    Packet::Rrq(req).to_bytes()
                } else {
                    Packet::Wrq(req).to_bytes()
                }
            }),
        (any::<u16>(), proptest::collection::vec(any::<u8>(), 0..600))
            .prop_map(|(block, data)| Packet::Data { block, data: &data }.to_bytes()),
        any::<u16>().prop_map(|block| Packet::Ack { block }.to_bytes()),
        (0u16..9, "[ -~]{0,30}").prop_map(|(c, m)| Packet::Error {
            code: ErrorCode::from_code(c),
            message: m
        }
        .to_bytes()),
        opts.prop_map(|o| {
            let options: Vec<(&str, &str)> =
                o.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            Packet::Oack { options }.to_bytes()
        }),
    ]
}

proptest! {
    #[test]
    fn encode_parse_round_trip(bytes in arb_packet_bytes()) {
        let parsed = Packet::parse(&bytes).unwrap();
        prop_assert_eq!(parsed.to_bytes(), bytes);
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Packet::parse(&bytes);
    }
}
