//! Fuzz target: netascii translation. Local bytes encoded (whole or in
//! chunks) then decoded in arbitrary chunk splits come back unchanged;
//! `encoded_len` predicts the wire size; decoding arbitrary wire bytes never
//! panics and does not depend on how the stream is split into blocks.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use netboot::tftp::netascii::{encoded_len, Decoder, Encoder};

#[derive(Debug, Arbitrary)]
struct Input {
    /// Chunk lengths for encoding and decoding, reused cyclically.
    splits: Vec<u8>,
    /// Interpret `data` as wire bytes too (not only as a local file).
    also_as_wire: bool,
    data: Vec<u8>,
}

/// Cuts `data` into pieces whose lengths follow `splits` cyclically
/// (0 stands for an empty chunk, which the decoder must also accept).
fn chunks<'a>(data: &'a [u8], splits: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut i = 0;
    while !rest.is_empty() {
        let want = splits.get(i % splits.len().max(1)).copied().unwrap_or(64);
        let n = usize::from(want).min(rest.len());
        let (head, tail) = rest.split_at(n);
        out.push(head);
        rest = tail;
        i += 1;
        if i > data.len() * 2 + 2 && n == 0 {
            // Only zero-length splits: take the rest in one go.
            out.push(rest);
            break;
        }
    }
    out
}

fn decode(pieces: &[&[u8]]) -> Vec<u8> {
    let mut decoder = Decoder::default();
    let mut out = Vec::new();
    for piece in pieces {
        decoder.decode(piece, &mut out);
    }
    decoder.finish(&mut out);
    out
}

fuzz_target!(|input: Input| {
    let data = &input.data;

    let mut whole = Vec::new();
    Encoder.encode(data, &mut whole);
    assert_eq!(
        encoded_len(data),
        whole.len() as u64,
        "encoded_len is wrong"
    );

    let mut chunked = Vec::new();
    let mut encoder = Encoder;
    for piece in chunks(data, &input.splits) {
        encoder.encode(piece, &mut chunked);
    }
    assert_eq!(chunked, whole, "encoding depends on the chunking");

    let pieces = chunks(&whole, &input.splits);
    assert_eq!(&decode(&pieces), data, "netascii round trip failed");
    assert_eq!(&decode(&[&whole]), data, "netascii round trip failed");

    if input.also_as_wire {
        let reference = decode(&[data]);
        assert_eq!(decode(&chunks(data, &input.splits)), reference);
        assert!(reference.len() <= data.len(), "decoding grew the data");
    }
});
