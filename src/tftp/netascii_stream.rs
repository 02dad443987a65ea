//! A netascii download streamed from the file, with no size limit: a first
//! pass counts the line ends to give the exact wire size (for tsize), then
//! the file is read in chunks (through the same chunked reads as octet
//! downloads) and translated as it goes. Reads block the transfer's thread.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use super::netascii::{encoded_len, Encoder};
use super::source::FileSource;

/// Raw bytes read and translated at a time.
const RAW_CHUNK: usize = 64 << 10;

/// A file translated to netascii block by block.
pub struct NetasciiStream {
    file: FileSource,
    /// Wire bytes the whole file makes, from the first pass.
    wire_len: u64,
    /// Raw bytes not read yet.
    raw_left: u64,
    /// Raw bytes translated per read.
    chunk: usize,
    raw: Vec<u8>,
    /// Translated bytes; those before `pos` are handed out.
    wire: Vec<u8>,
    pos: usize,
    /// Wire bytes produced so far.
    produced: u64,
}

impl NetasciiStream {
    /// Counts the wire size of the file's `size` bytes, then streams it,
    /// reading `chunk` raw bytes at a time.
    pub fn open(file: File, size: u64, chunk: usize) -> io::Result<Self> {
        let chunk = chunk.max(1);
        let wire_len = count_wire_len(&file, size, chunk.max(RAW_CHUNK))?;
        Ok(Self {
            file: FileSource::new(file, size, chunk.max(RAW_CHUNK) * 4),
            wire_len,
            raw_left: size,
            chunk,
            raw: Vec::with_capacity(chunk),
            wire: Vec::with_capacity(2 * chunk),
            pos: 0,
            produced: 0,
        })
    }

    /// Total wire bytes (the tsize).
    pub fn len(&self) -> u64 {
        self.wire_len
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.wire_len == 0
    }

    /// The next `blksize` wire bytes (fewer at the end).
    pub fn next_block(&mut self, blksize: usize) -> io::Result<&[u8]> {
        while self.wire.len() - self.pos < blksize && self.raw_left > 0 {
            self.wire.drain(..self.pos);
            self.pos = 0;
            let want = (self.chunk as u64).min(self.raw_left) as usize;
            self.raw.clear();
            while self.raw.len() < want {
                let piece = self.file.next_block(want - self.raw.len())?;
                if piece.is_empty() {
                    return Err(io::Error::other("file shrank while being sent"));
                }
                self.raw.extend_from_slice(piece);
            }
            self.raw_left -= want as u64;
            let before = self.wire.len();
            Encoder.encode(&self.raw, &mut self.wire);
            self.produced += (self.wire.len() - before) as u64;
            // The size promised in the OACK must hold.
            if self.produced > self.wire_len
                || (self.raw_left == 0 && self.produced != self.wire_len)
            {
                return Err(io::Error::other("file changed while being sent"));
            }
        }
        let start = self.pos;
        let end = (start + blksize).min(self.wire.len());
        self.pos = end;
        Ok(&self.wire[start..end])
    }
}

/// The netascii size of the first `size` bytes of `file`.
fn count_wire_len(file: &File, size: u64, chunk: usize) -> io::Result<u64> {
    let mut buf = vec![0u8; chunk];
    let (mut offset, mut wire) = (0u64, 0u64);
    while offset < size {
        let want = (size - offset).min(chunk as u64) as usize;
        let n = file.read_at(&mut buf[..want], offset)?;
        if n == 0 {
            return Err(io::Error::other("file shrank while being sent"));
        }
        wire += encoded_len(&buf[..n]);
        offset += n as u64;
    }
    Ok(wire)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_of(text: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Encoder.encode(text, &mut out);
        out
    }

    fn stream_all(text: &[u8], chunk: usize, blksize: usize) -> (u64, Vec<Vec<u8>>) {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut tmp, text).unwrap();
        let file = File::open(tmp.path()).unwrap();
        let mut stream = NetasciiStream::open(file, text.len() as u64, chunk).unwrap();
        let mut blocks = Vec::new();
        loop {
            let block = stream.next_block(blksize).unwrap().to_vec();
            let last = block.len() < blksize;
            blocks.push(block);
            if last {
                return (stream.len(), blocks);
            }
        }
    }

    #[test]
    fn line_ends_across_chunks_and_blocks_translate_exactly() {
        // Chunks of 7 raw bytes put CRs and LFs on every boundary.
        let text = b"a\nb\r\nc\rd\n\n\r\re\n".repeat(50);
        let want = wire_of(&text);
        for (chunk, blksize) in [(7, 8), (1, 512), (13, 9), (4096, 512)] {
            let (len, blocks) = stream_all(&text, chunk, blksize);
            assert_eq!(len, want.len() as u64, "tsize, chunk {chunk}");
            assert!(blocks[..blocks.len() - 1]
                .iter()
                .all(|b| b.len() == blksize));
            assert_eq!(blocks.concat(), want, "chunk {chunk} blksize {blksize}");
        }
    }

    #[test]
    fn an_exact_multiple_ends_with_an_empty_block_and_empty_is_empty() {
        // 4 raw bytes make 8 wire bytes: two full blocks of 4, then empty.
        let (len, blocks) = stream_all(b"a\nb\n", 3, 3);
        assert_eq!(len, 6);
        assert_eq!(blocks, vec![b"a\r\n".to_vec(), b"b\r\n".to_vec(), vec![]]);
        let (len, blocks) = stream_all(b"", 3, 512);
        assert_eq!((len, blocks), (0, vec![vec![]]));
    }

    #[test]
    fn a_file_changed_after_the_count_is_an_error_not_a_wrong_size() {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut tmp, b"abcdefgh").unwrap();
        let file = File::open(tmp.path()).unwrap();
        let mut stream = NetasciiStream::open(file, 8, 4).unwrap();
        assert_eq!(stream.len(), 8);
        // Same size, but now with line ends: more wire bytes than promised.
        std::fs::write(tmp.path(), b"\n\n\n\n\n\n\n\n").unwrap();
        let err = stream.next_block(512).unwrap_err();
        assert!(err.to_string().contains("changed"), "{err}");
    }
}
