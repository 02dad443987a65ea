//! Netascii translation (RFC 764 line ends as TFTP uses them): on the wire a
//! line ends in CR LF and a lone CR is sent as CR NUL; on disk (Unix) a line
//! ends in LF. Both directions stream, carrying a pending CR across chunks.

/// Local bytes → wire bytes.
#[derive(Debug, Default, Clone)]
pub struct Encoder;

impl Encoder {
    /// Appends the wire form of `input` to `out`.
    pub fn encode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            match b {
                b'\n' => out.extend_from_slice(b"\r\n"),
                b'\r' => out.extend_from_slice(b"\r\0"),
                _ => out.push(b),
            }
        }
    }
}

/// The wire size of `input` once encoded (for tsize on netascii reads).
pub fn encoded_len(input: &[u8]) -> u64 {
    input.len() as u64 + input.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64
}

/// Wire bytes → local bytes.
#[derive(Debug, Default, Clone)]
pub struct Decoder {
    pending_cr: bool,
}

impl Decoder {
    /// Appends the local form of `input` to `out`.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if self.pending_cr {
                self.pending_cr = false;
                match b {
                    b'\n' => {
                        out.push(b'\n');
                        continue;
                    }
                    0 => {
                        out.push(b'\r');
                        continue;
                    }
                    // A bare CR (not allowed, but seen): keep it.
                    _ => out.push(b'\r'),
                }
            }
            if b == b'\r' {
                self.pending_cr = true;
            } else {
                out.push(b);
            }
        }
    }

    /// Flushes a CR left at the very end of the stream.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Encoder.encode(input, &mut out);
        out
    }

    fn decode_chunks(chunks: &[&[u8]]) -> Vec<u8> {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        for c in chunks {
            d.decode(c, &mut out);
        }
        d.finish(&mut out);
        out
    }

    #[test]
    fn line_ends_and_lone_cr() {
        assert_eq!(encode(b"a\nb\rc"), b"a\r\nb\r\0c");
        assert_eq!(decode_chunks(&[b"a\r\nb\r\0c"]), b"a\nb\rc");
        assert_eq!(encoded_len(b"a\nb\rc"), 7);
    }

    #[test]
    fn cr_split_across_blocks() {
        assert_eq!(
            decode_chunks(&[b"line\r", b"\nnext\r", b"\0x"]),
            b"line\nnext\rx"
        );
        assert_eq!(decode_chunks(&[b"end\r"]), b"end\r");
        assert_eq!(decode_chunks(&[b"a\rb"]), b"a\rb", "bare CR kept");
    }

    proptest! {
        #[test]
        fn round_trip_any_split(data in proptest::collection::vec(any::<u8>(), 0..300), split in 0usize..300) {
            let wire = encode(&data);
            prop_assert_eq!(wire.len() as u64, encoded_len(&data));
            let at = split.min(wire.len());
            prop_assert_eq!(decode_chunks(&[&wire[..at], &wire[at..]]), data);
        }
    }
}
