//! The `netboot` binary: parses the command line and runs a subcommand.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use netboot::cli::tftp::TftpArgs;
use netboot::logging::{self, LogFormat};
use netboot::tftp::server::TftpServer;
use tokio_util::sync::CancellationToken;

/// All-in-one PXE/netboot appliance: TFTP, DHCP and a YAML profile registry.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "human")]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a standalone TFTP server (flags compatible with tftpd-hpa).
    Tftp(TftpArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tftp(args) => {
            logging::init(cli.log_format, args.verbosity());
            run_tftp(args)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netboot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_tftp(args: TftpArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let server = TftpServer::bind(cfg)?;
        if let Some(user) = &args.user {
            netboot::privileges::drop_to(user)?;
        }
        if let Some(pidfile) = &args.pidfile {
            std::fs::write(pidfile, format!("{}\n", std::process::id()))
                .with_context(|| format!("cannot write {}", pidfile.display()))?;
        }
        let cancel = CancellationToken::new();
        tokio::spawn(shutdown_on_signal(cancel.clone()));
        server.run(cancel).await;
        Ok(())
    })
}

/// Cancels `token` on SIGINT or SIGTERM.
async fn shutdown_on_signal(token: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot install signal handlers; stop with SIGKILL");
        return;
    };
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    tracing::info!("shutting down");
    token.cancel();
}
