//! Sending a window: equal-sized DATA datagrams in `UDP_SEGMENT` sends
//! gathered straight from the sender's buffers, else (blocks near 64 KiB,
//! or once the kernel or device refused segmentation) in `sendmmsg` calls.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrStorage};

use super::TransferSocket;

/// Datagrams the kernel accepts in one segmented send (`UDP_MAX_SEGMENTS`
/// of older kernels; newer ones take more), and datagrams per `sendmmsg`.
pub const MAX_SEGMENTS: usize = 64;

/// Bytes one segmented send may carry (one IP packet's worth).
const MAX_SEGMENTED_BYTES: usize = 65_000;

/// Bytes of one batch handed to [`TransferSocket::send_all`]: a window of
/// the largest blocks.
pub const MAX_BATCH_BYTES: usize = MAX_SEGMENTS * 65_536;

impl TransferSocket {
    /// Sends `datagrams` (all `segment` bytes long but maybe the last) to
    /// `peer`: in segmented sends of as many as fit one, or else all in one
    /// `sendmmsg`.
    pub fn send_all(
        &mut self,
        datagrams: &[&[u8]],
        segment: usize,
        peer: SocketAddr,
    ) -> io::Result<()> {
        if let [datagram] = datagrams {
            return self.send_to(datagram, peer);
        }
        let per_send = (MAX_SEGMENTED_BYTES / segment.max(1)).min(MAX_SEGMENTS);
        let mut sent = 0;
        if self.segmentation && per_send >= 2 {
            for group in datagrams.chunks(per_send) {
                let result = match group {
                    [one] => self.send_to(one, peer),
                    _ => self.send_segmented(group, segment, peer),
                };
                if let Err(e) = result {
                    tracing::debug!("segmented send failed ({e}); no segmentation from now on");
                    self.segmentation = false;
                    break;
                }
                sent += group.len();
            }
        }
        self.send_many(&datagrams[sent..], peer)
    }

    /// Sends each datagram as it is, up to [`MAX_SEGMENTS`] per system call
    /// (`sendmmsg`; nix's wrapper reads uninitialised receive state when its
    /// results are counted, so this calls libc itself).
    fn send_many(&self, mut datagrams: &[&[u8]], peer: SocketAddr) -> io::Result<()> {
        let addr = socket2::SockAddr::from(peer);
        while !datagrams.is_empty() {
            let count = datagrams.len().min(MAX_SEGMENTS);
            let done = self.sendmmsg(&datagrams[..count], &addr)?;
            datagrams = &datagrams[done.min(count)..];
        }
        Ok(())
    }

    /// One `sendmmsg` of `datagrams` (at most [`MAX_SEGMENTS`]) to `addr`:
    /// how many the kernel took, at least one.
    fn sendmmsg(&self, datagrams: &[&[u8]], addr: &socket2::SockAddr) -> io::Result<usize> {
        let mut iovecs: Vec<libc::iovec> = datagrams
            .iter()
            .map(|d| libc::iovec {
                iov_base: d.as_ptr().cast_mut().cast(),
                iov_len: d.len(),
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .map(|iov| {
                // SAFETY: mmsghdr is plain C data; all zeroes is valid.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = addr.as_ptr().cast_mut().cast();
                h.msg_hdr.msg_namelen = addr.len();
                h.msg_hdr.msg_iov = iov;
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        // SAFETY: `headers` holds one initialised mmsghdr per datagram whose
        // pointers (address, iovecs, datagrams) outlive the call; the kernel
        // only reads them and writes each msg_len.
        let sent = unsafe {
            libc::sendmmsg(
                self.socket.as_raw_fd(),
                headers.as_mut_ptr(),
                headers.len() as libc::c_uint,
                0,
            )
        };
        match usize::try_from(sent) {
            Err(_) => Err(io::Error::last_os_error()),
            Ok(0) => Err(io::Error::other("sendmmsg sent nothing")),
            Ok(done) => Ok(done),
        }
    }

    fn send_segmented(
        &self,
        datagrams: &[&[u8]],
        segment: usize,
        peer: SocketAddr,
    ) -> io::Result<()> {
        let slices: Vec<IoSlice<'_>> = datagrams.iter().map(|d| IoSlice::new(d)).collect();
        let size = u16::try_from(segment).map_err(|_| io::Error::other("segment too large"))?;
        let control = [ControlMessage::UdpGsoSegments(&size)];
        let addr = SockaddrStorage::from(peer);
        let total: usize = datagrams.iter().map(|d| d.len()).sum();
        let sent = sendmsg(
            self.socket.as_raw_fd(),
            &slices,
            &control,
            MsgFlags::empty(),
            Some(&addr),
        )
        .map_err(io::Error::from)?;
        if sent == total {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "segmented send took {sent} of {total} bytes"
            )))
        }
    }
}
