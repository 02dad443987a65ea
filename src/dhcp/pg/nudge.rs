//! Being told at once when another server commits leases, so that
//! [`super::follow`] reads them within a fraction of a second instead of at
//! its next tick: every batch notifies the channel [`CHANNEL`] with the
//! writing server's name (`pg_notify` inside the batch's statement,
//! delivered at commit), and each server keeps one connection of its own
//! (outside the pool) that `LISTEN`s to it.

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::error::Error;
use tokio_postgres::{AsyncMessage, NoTls};

use super::PgStore;

/// The notification channel of lease commits.
pub const CHANNEL: &str = "netboot_leases";

impl PgStore {
    /// Listens for the other servers' commits: the receiver gets one `()`
    /// for any number of commits since it last looked, and closes when the
    /// connection ends (the database went away). `None` when no connection
    /// could listen (the follower then reads at its ticks alone).
    pub(super) async fn nudges(&self) -> Option<mpsc::Receiver<()>> {
        let (client, mut connection) = match self.config.connect(NoTls).await {
            Ok(c) => c,
            Err(e) => return not_listening(&e),
        };
        let (tx, rx) = mpsc::channel(1);
        let (listening_tx, listening) = oneshot::channel();
        let me = self.server.clone();
        tokio::spawn(async move {
            let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
            let sql = format!("LISTEN {CHANNEL}");
            let listen = client.batch_execute(&sql);
            tokio::pin!(listen);
            let mut listening_tx = Some(listening_tx);
            loop {
                tokio::select! {
                    done = &mut listen, if listening_tx.is_some() => {
                        let failed = done.is_err();
                        if let Some(t) = listening_tx.take() {
                            let _ = t.send(done);
                        }
                        if failed {
                            return;
                        }
                    }
                    message = messages.next() => match message {
                        Some(Ok(AsyncMessage::Notification(n))) if n.payload() != me => {
                            // full: a nudge already waits, and covers this one
                            if let Err(mpsc::error::TrySendError::Closed(())) = tx.try_send(()) {
                                return;
                            }
                        }
                        Some(Ok(_)) => {}
                        // the connection ended: the receiver closes
                        _ => return,
                    },
                }
            }
        });
        match listening.await {
            Ok(Ok(())) => Some(rx),
            Ok(Err(e)) => not_listening(&e),
            // the task ended before LISTEN finished: the connection broke
            Err(_) => None,
        }
    }
}

fn not_listening(e: &Error) -> Option<mpsc::Receiver<()>> {
    tracing::debug!(error = %e, "cannot listen for the other servers' commits; reading them every second");
    None
}
