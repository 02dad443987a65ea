//! The sender's window of blocks: how many it takes from the shell (those
//! it may send now, then one read ahead) and each block written into the
//! DATA datagram that will carry it.

use super::{InFlight, Sender, READ_AHEAD_BLOCKS};
use crate::tftp::packet;

impl Sender {
    /// Data bytes per block.
    pub fn blksize(&self) -> usize {
        usize::from(self.cfg.blksize)
    }

    /// True while the sender has room for another block from the file that
    /// it could send now.
    pub fn wants_block(&self) -> bool {
        self.has_room(0)
    }

    /// True while the sender would take one block beyond those it may send
    /// now. The shell reads it after sending, while the client is busy with
    /// the window, so when the ACK comes the next block is already in
    /// memory and the file read is off the round trip (tftpd-hpa reads ahead
    /// the same way). A block read ahead waits until the window moves on.
    pub fn wants_read_ahead(&self) -> bool {
        self.has_room(READ_AHEAD_BLOCKS)
    }

    pub(super) fn has_room(&self, beyond_window: usize) -> bool {
        !self.eof && !self.is_finished() && self.window.len() < self.window_limit() + beyond_window
    }

    /// How many more blocks the sender would take now.
    pub fn blocks_wanted(&self) -> usize {
        if self.eof || self.is_finished() {
            return 0;
        }
        self.window_limit().saturating_sub(self.window.len())
    }

    pub(super) fn window_limit(&self) -> usize {
        if self.guard.is_verified() {
            usize::from(self.cfg.windowsize.max(1))
        } else {
            1
        }
    }

    /// Hands over the next block of the file: exactly `blksize` bytes, or
    /// fewer for the last block (an empty block when the file size is a
    /// multiple of `blksize`).
    pub fn push_block(&mut self, data: &[u8]) {
        let Ok(()) = self.push_block_with(|payload| {
            let n = data.len().min(payload.len());
            payload[..n].copy_from_slice(&data[..n]);
            Ok::<_, std::convert::Infallible>(n)
        });
    }

    /// Like [`Sender::push_block`], but `fill` writes the block straight
    /// into the datagram that will carry it: it gets the `blksize` bytes
    /// after the header and returns how many it wrote (fewer than `blksize`
    /// for the last block). A read from the file into that slice is the only
    /// copy a block then needs. An error from `fill` pushes nothing.
    pub fn push_block_with<E>(
        &mut self,
        fill: impl FnOnce(&mut [u8]) -> Result<usize, E>,
    ) -> Result<(), E> {
        if self.eof || self.is_finished() {
            return Ok(());
        }
        let blksize = self.blksize();
        let mut datagram = self.spare.pop().unwrap_or_default();
        // A reused datagram of a full block already has this length, so
        // this neither zeroes nor moves anything.
        datagram.resize(4 + blksize, 0);
        let written = match fill(&mut datagram[4..]) {
            Ok(n) => n.min(blksize),
            Err(e) => {
                self.spare.push(datagram);
                return Err(e);
            }
        };
        datagram.truncate(4 + written);
        let index = self.next_index;
        self.next_index += 1;
        if written < blksize {
            self.eof = true;
        }
        packet::write_data_header(&mut datagram, self.cfg.rollover.wire(index));
        self.window.push_back(InFlight {
            index,
            datagram,
            sent_at: None,
            resent: false,
        });
        Ok(())
    }
}
