//! SIGINT and SIGTERM as a cancellation token. They are blocked while a
//! server starts up ([`block`]: binding, adding addresses, dropping
//! privileges happen before the async runtime exists) and let through once
//! their handlers are installed ([`on_signal`]), so a signal that comes in
//! meanwhile ends the server cleanly (addresses removed, PID file gone)
//! instead of killing it halfway.

use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use tokio_util::sync::CancellationToken;

fn shutdown_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set
}

/// Blocks SIGINT and SIGTERM in the calling thread (and the threads it
/// starts afterwards); they stay pending until [`on_signal`].
pub fn block() {
    let _ =
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&shutdown_signals()), None);
}

/// Installs the handlers, then unblocks the signals in the calling thread
/// (one pending since [`block`] is delivered now), and cancels `token` on
/// the first. Call it in the thread that called [`block`], inside a tokio
/// runtime.
pub fn on_signal(token: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers; stop with SIGKILL");
        return;
    };
    let _ =
        nix::sys::signal::pthread_sigmask(SigmaskHow::SIG_UNBLOCK, Some(&shutdown_signals()), None);
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down");
        token.cancel();
    });
}
