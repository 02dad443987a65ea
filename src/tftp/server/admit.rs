//! The server's side of admission: the sans-IO core
//! ([`crate::tftp::admission`]) behind a lock shared by every listener, each
//! running transfer's channel for its repeated requests, and the claim a
//! transfer holds until it ends, whose release starts the held requests
//! that fit in the slot it frees.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::mpsc;

use crate::tftp::admission::{self, Client, Decision, Limits, Started};
use crate::tftp::config::TftpConfig;
use crate::tftp::late_copies::LateCopies;
use crate::tftp::session::OwnedRequest;

/// A held request whose client has been silent this long is dropped: it
/// has given up (firmware asks every 1-4 s, tftp-hpa and atftp every 5 s).
const PATIENCE: Duration = Duration::from_secs(8);
/// Requests held at once; past that, a request is dropped without an answer
/// (its client asks again), see [`crate::tftp::admission`].
const MAX_HELD: usize = 2048;

/// A request while it is held: what starting it later takes.
pub(super) struct Pending {
    /// Index of the listener it arrived on.
    pub(super) listener: usize,
    pub(super) request: OwnedRequest,
}

/// The admission core behind a lock, with each running transfer's way to
/// hear that its request came again.
struct AdmitState {
    core: admission::Admission<Pending>,
    repeats: HashMap<Client, mpsc::Sender<()>>,
    late: LateCopies,
}

/// The limits on concurrent transfers, shared by every listener.
pub(super) struct Admission {
    state: Mutex<AdmitState>,
    /// Held requests that may start now, to the task that starts them.
    to_start: mpsc::UnboundedSender<Started<Pending>>,
}

/// Copies of a request a transfer is told about at once; more are dropped
/// (each earns at most one reply anyway).
const REPEATS_QUEUED: usize = 4;

/// A transfer's claim on the limits, released on drop.
pub(super) struct Ticket {
    admission: Arc<Admission>,
    client: Client,
    /// When the client first answered the transfer, once it has ended.
    answered: Option<SystemTime>,
}

impl Ticket {
    /// The transfer has ended; its client first answered at `answered`.
    pub(super) fn end(mut self, answered: Option<SystemTime>) {
        self.answered = answered;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let started = {
            let mut state = self.admission.lock();
            let now = Instant::now();
            state.repeats.remove(&self.client);
            state.late.ended(self.client, self.answered, now);
            state.core.finish(self.client, now)
        };
        for next in started {
            // Closed only at shutdown, when nothing starts any more.
            let _ = self.admission.to_start.send(next);
        }
    }
}

/// What became of a request.
pub(super) enum Admit {
    /// Start it, with its claim and the receiving end of its repeat channel.
    Yes(Pending, Ticket, mpsc::Receiver<()>),
    /// The same client port already has a transfer (passed on to it), or a
    /// held request (refreshed).
    Repeat,
    /// A copy of a request already served, which came in before its client
    /// answered that transfer: dropped.
    Late,
    /// Held until a slot frees; `evicted` is a held client dropped to make
    /// room for it.
    Held(Option<SocketAddr>),
    /// Too many held: dropped without an answer (the client asks again).
    Dropped,
}

impl Admission {
    pub(super) fn new(cfg: &TftpConfig, to_start: mpsc::UnboundedSender<Started<Pending>>) -> Self {
        let limits = Limits {
            max_transfers: cfg.max_transfers,
            max_per_client: cfg.max_per_client,
            max_held: MAX_HELD,
            patience: PATIENCE,
        };
        let state = AdmitState {
            core: admission::Admission::new(limits),
            repeats: HashMap::new(),
            late: LateCopies::new(),
        };
        Self {
            state: Mutex::new(state),
            to_start,
        }
    }

    /// The state; a panic elsewhere while it was held leaves it usable
    /// (every change to it is a whole step of the core).
    fn lock(&self) -> std::sync::MutexGuard<'_, AdmitState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Decides on a request of `client` the kernel received at `received`.
    pub(super) fn admit(
        self: &Arc<Self>,
        client: Client,
        pending: Pending,
        received: Option<SystemTime>,
    ) -> Admit {
        let mut state = self.lock();
        if state.late.is_late(&client, received) {
            return Admit::Late;
        }
        match state.core.request(client, pending, Instant::now()) {
            Decision::Start(pending) => {
                let (ticket, repeated) = self.claim(&mut state, client);
                Admit::Yes(pending, ticket, repeated)
            }
            Decision::Running => {
                if let Some(repeats) = state.repeats.get(&client) {
                    // Full or closed: the transfer has enough to answer already.
                    let _ = repeats.try_send(());
                }
                Admit::Repeat
            }
            Decision::Refreshed => Admit::Repeat,
            Decision::Held { evicted } => Admit::Held(evicted.map(|c| c.peer)),
            Decision::Dropped => Admit::Dropped,
        }
    }

    /// The claim of a held request the core has started.
    pub(super) fn claim_started(self: &Arc<Self>, client: Client) -> (Ticket, mpsc::Receiver<()>) {
        let mut state = self.lock();
        self.claim(&mut state, client)
    }

    /// The claim of a transfer the core counts as running.
    fn claim(
        self: &Arc<Self>,
        state: &mut AdmitState,
        client: Client,
    ) -> (Ticket, mpsc::Receiver<()>) {
        let (repeats, repeated) = mpsc::channel(REPEATS_QUEUED);
        state.repeats.insert(client, repeats);
        let ticket = Ticket {
            admission: Arc::clone(self),
            client,
            answered: None,
        };
        (ticket, repeated)
    }
}
