//! Group commit: the lease changes of every decision queued while the previous
//! `fdatasync` ran are written with one write and one `fdatasync`, and only
//! then are those replies sent, so no ACK leaves before its lease is on disk.

use std::net::SocketAddrV4;
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::warn;

use crate::dhcp::pool::Lease;
use crate::dhcp::store::{LeaseStore, StoreError};
use crate::dhcp::view::LeaseView;

/// A reply waiting to be sent.
pub(crate) struct Outgoing {
    pub sock: Arc<UdpSocket>,
    pub bytes: Vec<u8>,
    pub dest: SocketAddrV4,
}

/// Work for the committer, in decision order.
pub(crate) enum Commit {
    /// Persist these records, then send the reply.
    Leases(Vec<Lease>, Option<Outgoing>),
    /// Rewrite the snapshot with this complete state.
    Compact(Vec<Lease>),
}

pub(crate) async fn send(o: &Outgoing) {
    // the common case needs no wake-up: the socket buffer has room
    let result = match o.sock.try_send_to(&o.bytes, o.dest.into()) {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            o.sock.send_to(&o.bytes, o.dest).await
        }
        other => other,
    };
    if let Err(e) = result {
        warn!(dest = %o.dest, error = %e, "dhcp send failed");
    }
}

/// Group commit: everything queued while the previous sync ran is written
/// with one sync, then those replies leave.
pub(crate) async fn commit_loop(
    mut store: Option<LeaseStore>,
    mut rx: mpsc::UnboundedReceiver<Commit>,
    view: LeaseView,
) {
    let persist = store.is_some();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 8192 {
            match rx.try_recv() {
                Ok(c) => batch.push(c),
                Err(_) => break,
            }
        }
        let mut outgoing = Vec::with_capacity(batch.len());
        let mut jobs = Vec::new();
        let mut pending = Vec::new();
        let mut changes = Vec::new();
        for c in batch {
            match c {
                Commit::Leases(leases, out) => {
                    changes.extend(leases.iter().cloned());
                    pending.extend(leases);
                    outgoing.extend(out);
                }
                Commit::Compact(all) => {
                    jobs.push(Job::Append(std::mem::take(&mut pending)));
                    jobs.push(Job::Compact(all));
                }
            }
        }
        jobs.push(Job::Append(pending));
        let ok = match store.take() {
            None => !persist,
            Some(s) => match tokio::task::spawn_blocking(move || run_jobs(s, jobs)).await {
                Ok((s, result)) => {
                    store = Some(s);
                    match result {
                        Ok(()) => true,
                        Err(e) => {
                            tracing::error!(error = %e, "lease store write failed: withholding ACKs");
                            false
                        }
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "lease store task panicked; leases no longer persisted");
                    false
                }
            },
        };
        if ok {
            view.apply(&changes);
            for o in &outgoing {
                send(o).await;
            }
        }
    }
}

enum Job {
    Append(Vec<Lease>),
    Compact(Vec<Lease>),
}

fn run_jobs(mut store: LeaseStore, jobs: Vec<Job>) -> (LeaseStore, Result<(), StoreError>) {
    for job in jobs {
        let r = match job {
            Job::Append(l) => store.append(&l),
            Job::Compact(all) => store.compact(&all),
        };
        if let Err(e) = r {
            return (store, Err(e));
        }
    }
    (store, Ok(()))
}
