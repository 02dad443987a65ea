//! Waiting on a transfer socket: a blocking receive bounded by the socket's
//! receive timeout (set only when it changes), `ppoll` for waits under
//! 2 ms, and before either a brief busy poll for a client known to answer
//! within microseconds (one polling transfer per CPU but one, and none
//! for a while once a poll found the CPU wanted by another thread).

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::{Received, TransferSocket};

/// Longest single wait, so a transfer notices shutdown promptly.
const MAX_WAIT: Duration = Duration::from_millis(200);

/// Waits shorter than this use `ppoll` rather than the socket's receive
/// timeout, which is rounded up to whole clock ticks.
const PRECISE_WAIT: Duration = Duration::from_millis(2);

/// How far the socket's receive timeout may be from the wanted wait before
/// it is set again.
const TIMEOUT_TOLERANCE: Duration = Duration::from_millis(1);

impl TransferSocket {
    /// Waits for a datagram until `deadline` (or for a slice of at most
    /// [`MAX_WAIT`]). For up to `busy` of it the socket is checked without
    /// sleeping (see [`TransferSocket::poll_briefly`]), then the thread sleeps
    /// in the receive.
    pub fn recv_until(
        &self,
        buf: &mut [u8],
        deadline: Option<Instant>,
        busy: Duration,
    ) -> Received {
        let Some(wait) = time_left(deadline, MAX_WAIT) else {
            return Received::Timeout;
        };
        if let Some(got) = self.poll_briefly(buf, busy.min(wait)) {
            return got;
        }
        let Some(wait) = time_left(deadline, wait) else {
            return Received::Timeout;
        };
        if wait < PRECISE_WAIT {
            return self.wait_precisely(buf, wait, deadline);
        }
        self.recv_within(buf, wait, deadline)
    }

    /// Waits up to `wait` in a blocking receive. The wait is the socket's
    /// receive timeout, set only when it is off by more than the tolerance:
    /// in lock-step the wait is the same retransmission timeout block after
    /// block, so a block costs one receive and one send, no further system
    /// call.
    fn recv_within(&self, buf: &mut [u8], wait: Duration, deadline: Option<Instant>) -> Received {
        let current = self.timeout.get();
        if current.is_none_or(|c| c.abs_diff(wait) > TIMEOUT_TOLERANCE) {
            if let Err(e) = self.socket.set_read_timeout(Some(wait)) {
                tracing::debug!("cannot set the receive timeout: {e}");
                return Received::Again;
            }
            self.timeout.set(Some(wait));
        }
        match self.socket.recv_from(buf) {
            Ok((len, from)) => Received::Datagram(len, from),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                timeout_or_again(deadline)
            }
            Err(e) => {
                tracing::debug!("receive error: {e}");
                Received::Again
            }
        }
    }

    /// Waits up to `wait` for a datagram with `ppoll`, whose timer is
    /// precise to microseconds, where the socket's receive timeout counts
    /// whole clock ticks (up to 4 ms): the pause between two bursts of a
    /// window is a round trip, tens of microseconds on a LAN.
    fn wait_precisely(
        &self,
        buf: &mut [u8],
        wait: Duration,
        deadline: Option<Instant>,
    ) -> Received {
        let mut fd = libc::pollfd {
            fd: self.socket.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout = libc::timespec {
            tv_sec: 0,
            tv_nsec: libc::c_long::try_from(wait.as_nanos()).unwrap_or(0),
        };
        // SAFETY: one valid pollfd, a valid timespec, no signal mask.
        let ready = unsafe { libc::ppoll(&mut fd, 1, &timeout, std::ptr::null()) };
        if ready > 0 {
            if let Ok(Some((len, from))) = self.try_recv(buf) {
                return Received::Datagram(len, from);
            }
        }
        timeout_or_again(deadline)
    }

    /// Checks the socket without sleeping for up to `busy`, giving the CPU
    /// to anything else runnable between checks; the datagram if one came.
    ///
    /// A thread asleep in a receive is woken by the sender's CPU, and on a
    /// virtual machine whose idle CPUs halt (no idle polling), waking a
    /// halted CPU is an exit to the hypervisor that costs about as much as
    /// the round trip itself: in lock-step on loopback that doubled the time
    /// per block. The shell asks for this only when the client answers
    /// within microseconds (the measured round trip is shorter than the
    /// budget), and at most one thread per CPU but one polls at any moment
    /// ([`PollSlot`]), so a busy server never spends more than that.
    ///
    /// Polling pays only while a CPU would otherwise idle. When a yield
    /// hands the CPU to another runnable thread (a virtual machine's CPU
    /// thread, a build), this thread waits its turn and answers late, where
    /// a sleeping receive would have been woken ahead of the others: the
    /// poll stops, and the next waits sleep ([`PollGate`]).
    pub(super) fn poll_briefly(&self, buf: &mut [u8], busy: Duration) -> Option<Received> {
        let mut gate = self.poll_gate.get();
        let may = !busy.is_zero() && gate.may_poll();
        let got = if may {
            self.poll_within(buf, busy, &mut gate)
        } else {
            None
        };
        self.poll_gate.set(gate);
        got
    }

    fn poll_within(&self, buf: &mut [u8], busy: Duration, gate: &mut PollGate) -> Option<Received> {
        let _slot = PollSlot::take()?;
        let until = Instant::now() + busy;
        loop {
            match self.try_recv(buf) {
                Ok(Some((len, from))) => return Some(Received::Datagram(len, from)),
                Ok(None) => {}
                // an ICMP error and the like: the sleeping receive reports it
                Err(_) => return None,
            }
            let before = Instant::now();
            if before >= until {
                return None;
            }
            std::thread::yield_now();
            if !gate.yielded(before.elapsed()) {
                return None;
            }
        }
    }

    /// A datagram already queued on the socket, taken without waiting;
    /// `None` when there is none.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Option<(usize, SocketAddr)>> {
        // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the kernel
        // only writes initialised bytes into the buffer.
        let uninit = unsafe { &mut *(std::ptr::from_mut(buf) as *mut [std::mem::MaybeUninit<u8>]) };
        match SockRef::from(&self.socket).recv_from_with_flags(uninit, libc::MSG_DONTWAIT) {
            Ok((len, from)) => Ok(from.as_socket().map(|from| (len, from))),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// What is left of a wait until `deadline`, at most `otherwise` (all of it
/// without a deadline); `None` once the deadline has passed.
fn time_left(deadline: Option<Instant>, otherwise: Duration) -> Option<Duration> {
    match deadline {
        Some(at) => match at.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Some(left.min(otherwise)),
            _ => None,
        },
        None => Some(otherwise),
    }
}

/// A wait that brought nothing: the deadline passed, or only a slice did.
fn timeout_or_again(deadline: Option<Instant>) -> Received {
    if deadline.is_some_and(|at| Instant::now() >= at) {
        Received::Timeout
    } else {
        Received::Again
    }
}

/// A yield that kept the CPU away this long gave it to another thread for
/// a scheduler slice (a CPU-bound one: a virtual machine, a build); short
/// interruptions (an interrupt, a kernel thread) are far shorter.
const CONTENDED: Duration = Duration::from_micros(500);

/// Waits that sleep without polling after a poll found the CPU contended.
const SLEEPS_AFTER_CONTENTION: u32 = 256;

/// Whether a transfer's next wait may poll: not for
/// [`SLEEPS_AFTER_CONTENTION`] waits after a yield lost the CPU for longer
/// than [`CONTENDED`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct PollGate {
    sleeps_left: u32,
}

impl PollGate {
    /// A wait starts: whether it may poll.
    pub(super) fn may_poll(&mut self) -> bool {
        if self.sleeps_left == 0 {
            return true;
        }
        self.sleeps_left -= 1;
        false
    }

    /// A yield while polling took `took`: whether to keep polling.
    pub(super) fn yielded(&mut self, took: Duration) -> bool {
        if took <= CONTENDED {
            return true;
        }
        self.sleeps_left = SLEEPS_AFTER_CONTENTION;
        false
    }
}

/// One of the process's busy-poll slots: one per CPU but one, so polling
/// transfers leave at least one CPU to everything else (none on a machine
/// with a single CPU).
struct PollSlot;

static POLLING: AtomicUsize = AtomicUsize::new(0);

impl PollSlot {
    fn take() -> Option<Self> {
        static SLOTS: OnceLock<usize> = OnceLock::new();
        let slots =
            *SLOTS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()) - 1);
        POLLING
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < slots).then_some(n + 1)
            })
            .ok()
            .map(|_| PollSlot)
    }
}

impl Drop for PollSlot {
    fn drop(&mut self) {
        POLLING.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[test]
    fn a_yield_that_loses_the_cpu_stops_polling_for_a_while() {
        let mut gate = PollGate::default();
        assert!(gate.may_poll());
        assert!(gate.yielded(Duration::from_micros(2)), "an idle CPU: go on");
        assert!(
            gate.yielded(Duration::from_micros(60)),
            "an interrupt: go on"
        );
        assert!(
            !gate.yielded(Duration::from_millis(2)),
            "another thread ran a slice"
        );
        let sleeping = (0..SLEEPS_AFTER_CONTENTION).filter(|_| !gate.may_poll());
        assert_eq!(sleeping.count() as u32, SLEEPS_AFTER_CONTENTION);
        assert!(gate.may_poll(), "then polling is tried again");
    }
}
