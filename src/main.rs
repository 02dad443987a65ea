//! The `netboot` binary: parses the command line and runs a subcommand.

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use netboot::cli::backups::BackupsArgs;
use netboot::cli::serve::{CheckArgs, LeasesArgs, ServeArgs};
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
    /// Run DHCP, TFTP and the profile registry together: the appliance.
    Serve(ServeArgs),
    /// Run a standalone TFTP server (flags compatible with tftpd-hpa).
    Tftp(TftpArgs),
    /// Validate netboot.yaml and the profiles without serving.
    Check(CheckArgs),
    /// List the leases in the state directory.
    Leases(LeasesArgs),
    /// List the versions uploads kept (--keep-versions) and diff two.
    Backups(BackupsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            logging::init(cli.log_format, args.verbose);
            with_runtime(|cancel| async move { Ok(netboot::serve::run(args, cancel).await?) })
        }
        Command::Tftp(args) => {
            logging::init(cli.log_format, args.verbosity());
            run_tftp(args)
        }
        Command::Check(args) => {
            logging::init(cli.log_format, 0);
            run_check(&args)
        }
        Command::Leases(args) => run_leases(&args),
        Command::Backups(args) => run_backups(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netboot: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `body` on a multi-threaded runtime with a token cancelled by
/// SIGINT or SIGTERM.
fn with_runtime<F, Fut>(body: F) -> anyhow::Result<()>
where
    F: FnOnce(CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let cancel = CancellationToken::new();
        tokio::spawn(shutdown_on_signal(cancel.clone()));
        body(cancel).await
    })
}

fn run_tftp(args: TftpArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    with_runtime(|cancel| async move {
        let server = TftpServer::bind(cfg)?;
        if let Some(user) = &args.user {
            netboot::privileges::drop_to(user)?;
        }
        if let Some(pidfile) = &args.pidfile {
            std::fs::write(pidfile, format!("{}\n", std::process::id()))
                .with_context(|| format!("cannot write {}", pidfile.display()))?;
        }
        server.run(cancel).await;
        Ok(())
    })
}

fn run_check(args: &CheckArgs) -> anyhow::Result<()> {
    let (file, base) = netboot::serve::load_file(args.config.as_deref())?;
    let in_base = |p: &std::path::Path| base.join(p);
    let profiles = args
        .profiles
        .clone()
        .or_else(|| file.profiles.as_deref().map(in_base))
        .unwrap_or_else(|| "profiles".into());
    let root = args
        .root
        .clone()
        .or_else(|| file.root.as_deref().map(in_base))
        .unwrap_or_else(|| "boot-images".into());
    let registry = netboot::serve::load_registry(&profiles, &root)?;
    println!(
        "ok: {} profile(s) in {}, boot files checked in {}",
        registry.profile_count(),
        profiles.display(),
        root.display()
    );
    Ok(())
}

fn run_leases(args: &LeasesArgs) -> anyhow::Result<()> {
    let (file, base) = netboot::serve::load_file(args.config.as_deref())?;
    // the same resolution as `netboot serve`: flag or NETBOOT_STATE_DIR,
    // the file, then /var/lib/netboot (root) or ./netboot-state
    let dir = netboot::serve::plan::state_dir(args.state_dir.as_deref(), &file, &base);
    let leases = netboot::dhcp::store::load(&dir)
        .with_context(|| format!("cannot read leases in {}", dir.display()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let table = netboot::dhcp::store::format_table(&leases, now);
    let mut out = std::io::stdout().lock();
    let written = table
        .lines()
        .try_for_each(|line| writeln!(out, "{line}"))
        .and_then(|()| out.flush());
    match written {
        // `netboot leases | head`: the reader has all it wanted
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the lease table"),
    }
}

fn run_backups(args: &BackupsArgs) -> anyhow::Result<()> {
    let (file, base) = match &args.dir {
        Some(_) => Default::default(),
        None => netboot::serve::load_file(args.config.as_deref())?,
    };
    let dir = args.search_dir(&file, &base);
    let mut out = std::io::stdout().lock();
    let printed = netboot::backups::report(
        &dir,
        args.name.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
        &mut out,
    );
    match printed {
        // `netboot backups r1 | head`: the reader has all it wanted
        Err(netboot::backups::BackupsError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            Ok(())
        }
        other => Ok(other?),
    }
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
