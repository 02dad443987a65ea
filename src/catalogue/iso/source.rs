//! Positioned reads of an image (`ReadAt`, for files and byte slices), and
//! the bounded `Read + Seek` cursor the directory parser reads through: every
//! byte it reads is charged to a budget, so no image makes indexing read
//! more than `Limits::max_metadata_bytes`.

use std::cell::Cell;
use std::io::{self, Read, Seek, SeekFrom};

/// An image that can be read at any offset without moving a cursor.
pub trait ReadAt {
    /// Reads into `buf` from `offset`; fewer bytes (or 0) at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// The image's length in bytes.
    fn len(&self) -> u64;
    /// Whether the image is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills `buf` from `offset`; an error if the image ends first.
    fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let mut done = 0;
        while done < buf.len() {
            let at = offset.saturating_add(done as u64);
            match self.read_at(&mut buf[done..], at) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "the image ends at byte {}, before byte {}",
                            self.len(),
                            at + 1
                        ),
                    ))
                }
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl ReadAt for std::fs::File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self, buf, offset)
    }

    /// The length now (0 if it cannot be read: every read then fails cleanly).
    fn len(&self) -> u64 {
        self.metadata().map(|m| m.len()).unwrap_or(0)
    }
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(<[u8]>::len(self));
        let n = buf.len().min(<[u8]>::len(self) - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }

    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }
}

impl ReadAt for Vec<u8> {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.as_slice().read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        (**self).read_at(buf, offset)
    }

    fn len(&self) -> u64 {
        (**self).len()
    }
}

/// A `Read + Seek` view of `src` (at most `len` bytes) that charges every
/// byte read to `budget` and fails once it is spent, setting `spent`.
pub(super) struct Budgeted<'a, R: ReadAt + ?Sized> {
    src: &'a R,
    len: u64,
    pos: u64,
    budget: &'a Cell<u64>,
    spent: &'a Cell<bool>,
}

impl<'a, R: ReadAt + ?Sized> Budgeted<'a, R> {
    pub(super) fn new(src: &'a R, len: u64, budget: &'a Cell<u64>, spent: &'a Cell<bool>) -> Self {
        Self {
            src,
            len,
            pos: 0,
            budget,
            spent,
        }
    }
}

impl<R: ReadAt + ?Sized> Read for Budgeted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.budget.get();
        let want = (buf.len() as u64).min(self.len.saturating_sub(self.pos));
        if want == 0 {
            return Ok(0);
        }
        if left == 0 {
            self.spent.set(true);
            return Err(io::Error::other("the metadata read budget is spent"));
        }
        let want = want.min(left) as usize;
        let n = self.src.read_at(&mut buf[..want], self.pos)?;
        self.budget.set(left - n as u64);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: ReadAt + ?Sized> Seek for Budgeted<'_, R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek outside the image"))?;
        self.pos = target;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_read_at_any_offset_and_stop_at_the_end() {
        let data = b"hello world".to_vec();
        let mut buf = [0u8; 5];
        assert_eq!(data.read_at(&mut buf, 6).unwrap(), 5);
        assert_eq!(&buf, b"world");
        assert_eq!(data.read_at(&mut buf, 9).unwrap(), 2);
        assert_eq!(data.read_at(&mut buf, u64::MAX).unwrap(), 0);
        let err = data.read_exact_at(&mut buf, 9).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn the_budgeted_cursor_stops_when_its_budget_is_spent() {
        let data = vec![7u8; 100];
        let (budget, spent) = (Cell::new(30), Cell::new(false));
        let mut cursor = Budgeted::new(data.as_slice(), 100, &budget, &spent);
        let mut buf = [0u8; 20];
        assert_eq!(cursor.read(&mut buf).unwrap(), 20);
        assert_eq!(cursor.read(&mut buf).unwrap(), 10);
        assert!(cursor.read(&mut buf).is_err());
        assert!(spent.get());
        assert_eq!(cursor.seek(SeekFrom::End(0)).unwrap(), 100);
        assert!(cursor.seek(SeekFrom::Current(-101)).is_err());
    }
}
