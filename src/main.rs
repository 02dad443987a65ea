//! The `netboot` binary: parses the command line and runs a subcommand.

use std::future::Future;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use netboot::cli::backups::BackupsArgs;
use netboot::cli::explain::ExplainArgs;
use netboot::cli::http::HttpArgs;
use netboot::cli::images::{ImagesArgs, NextArgs};
use netboot::cli::serve::{CheckArgs, LeasesArgs, ServeArgs};
use netboot::cli::status::StatusArgs;
use netboot::cli::tftp::TftpArgs;
use netboot::logging::{self, LogFormat};
use netboot::pidfile::Pidfile;
use netboot::privileges::{self, KeptCaps, Target};
use netboot::tftp::mapfile;
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
    Serve(Box<ServeArgs>),
    /// Run a standalone TFTP server (flags compatible with tftpd-hpa).
    Tftp(Box<TftpArgs>),
    /// Run a standalone HTTP server for boot files (ranges, keep-alive).
    Http(HttpArgs),
    /// Validate netboot.yaml and the profiles without serving.
    Check(CheckArgs),
    /// List the leases in the state directory.
    Leases(LeasesArgs),
    /// List the versions uploads kept (--keep-versions) and diff two.
    Backups(BackupsArgs),
    /// List the image catalogue: what each ISO and directory under the boot root boots, and what was skipped.
    Images(ImagesArgs),
    /// Make a machine boot a catalogue entry once (`next MAC ENTRY`), cancel it (`--clear`), or list them.
    Next(NextArgs),
    /// What a running `netboot serve --status` shows: transfers, leases, pools, other DHCP servers, reloads.
    Status(StatusArgs),
    /// Why a machine gets what it gets, offline: its profile and why not the others, the DHCP reply, the chain of boot files.
    Explain(Box<ExplainArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => {
            logging::init(cli.log_format, args.verbose);
            run_serve(*args)
        }
        Command::Tftp(args) => {
            logging::init(cli.log_format, args.verbosity());
            run_tftp(*args)
        }
        Command::Http(args) => {
            logging::init(cli.log_format, args.verbose);
            run_http(args)
        }
        Command::Check(args) => {
            logging::init(cli.log_format, 0);
            run_check(&args)
        }
        Command::Leases(args) => run_leases(&args),
        Command::Backups(args) => run_backups(&args),
        Command::Images(args) => print(netboot::cli::images::images(&args)),
        Command::Next(args) => print(netboot::cli::images::next(&args)),
        Command::Status(args) => print(netboot::cli::status::status(&args)),
        Command::Explain(args) => {
            logging::init(cli.log_format, 0);
            run_explain(&args)
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netboot: {}", said_once(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, each cause added only when the message so far
/// does not already say it (library errors often include their cause's
/// text), so nothing is printed twice.
fn said_once(error: &anyhow::Error) -> String {
    let mut out = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

/// Runs `body` on a multi-threaded runtime with a token cancelled by
/// SIGINT or SIGTERM (blocked since start-up, see `netboot::shutdown`).
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
        netboot::shutdown::on_signal(cancel.clone());
        body(cancel).await
    })
}

/// `netboot serve`: the privileged start-up with one thread, then the
/// servers on the runtime.
fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    netboot::shutdown::block();
    let prepared = netboot::serve::prepare(args.into_options())?;
    with_runtime(|cancel| async move { Ok(prepared.run(cancel).await?) })
}

/// `netboot tftp`: binds, writes the PID file and drops to `--user` while
/// the process has one thread, then serves; the PID file goes on exit.
fn run_tftp(args: TftpArgs) -> anyhow::Result<()> {
    if args.version {
        println!("{}", netboot::cli::tftp::version_text());
        return Ok(());
    }
    let cfg = args.to_config()?;
    netboot::shutdown::block();
    let (rules, map_file) = (std::sync::Arc::clone(&cfg.remap), cfg.map_file.clone());
    let server = TftpServer::bind(cfg)?;
    let pidfile = args.pidfile.as_deref().map(Pidfile::create).transpose()?;
    // root stays root without --user; anyone else lets go of every
    // capability (systemd's ambient CAP_NET_BIND_SERVICE) once the port is
    // bound
    let target = match &args.user {
        Some(user) => privileges::choose(Some(user))?,
        None if nix::unistd::Uid::effective().is_root() => Target::Root,
        None => Target::Unchanged,
    };
    privileges::apply_with_pidfile(&target, &KeptCaps::none(), pidfile.as_ref())?;
    let served = with_runtime(|cancel| async move {
        let hangups = mapfile::reload_on_hangup(map_file, rules, cancel.clone());
        server.run(cancel).await;
        hangups.abort();
        Ok(())
    });
    drop(pidfile);
    served
}

/// `netboot http`: binds, writes the PID file and drops to `--user` while
/// the process has one thread (as `netboot tftp` does), then serves; the
/// PID file goes on exit.
fn run_http(args: HttpArgs) -> anyhow::Result<()> {
    let cfg = args.to_config()?;
    netboot::shutdown::block();
    let server = netboot::http::HttpServer::bind(cfg)?;
    let pidfile = args.pidfile.as_deref().map(Pidfile::create).transpose()?;
    let target = match &args.user {
        Some(user) => privileges::choose(Some(user))?,
        None if nix::unistd::Uid::effective().is_root() => Target::Root,
        None => Target::Unchanged,
    };
    privileges::apply_with_pidfile(&target, &KeptCaps::none(), pidfile.as_ref())?;
    let served = with_runtime(|cancel| async move {
        server.run(cancel).await;
        Ok(())
    });
    drop(pidfile);
    served
}

/// `netboot check`: exactly the checks `netboot serve` runs before it
/// starts (flags given to `check` stand for the same flags of `serve`).
fn run_check(args: &CheckArgs) -> anyhow::Result<()> {
    let checked = netboot::serve::preflight::preflight(&args.as_serve_options())?;
    println!(
        "ok: {} profile(s) in {}, boot files checked in {}",
        checked.registry.profile_count(),
        checked.profiles.display(),
        checked.root.display()
    );
    Ok(())
}

fn run_leases(args: &LeasesArgs) -> anyhow::Result<()> {
    let (file, base) = netboot::serve::load_file(args.config.as_deref())?;
    // the same resolution as `netboot serve`: flag or NETBOOT_STATE_DIR,
    // the file, then /var/lib/netboot (root) or ./netboot-state
    let dir = netboot::serve::plan::state_dir(args.state_dir.as_deref(), &file, &base);
    let url = args.leases_url.clone().or_else(|| file.dhcp.leases.clone());
    let leases = match url {
        Some(url) => {
            let backend = netboot::dhcp::store::Backend::Postgres(url.clone());
            netboot::dhcp::backend::read_now(&backend).with_context(|| {
                format!("cannot read leases in {}", netboot::dhcp::pg::redact(&url))
            })?
        }
        None => read_state_dir(&dir)?,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut table = netboot::dhcp::store::format_table(&leases, now);
    for (mac, next) in netboot::catalogue::next_boot::list(&dir) {
        table.push_str(&format!(
            "{mac}: boots {} once (netboot next)\n",
            next.entry
        ));
    }
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

/// The leases in the embedded store in `dir`.
fn read_state_dir(dir: &std::path::Path) -> anyhow::Result<Vec<netboot::dhcp::pool::Lease>> {
    if !dir.is_dir() {
        anyhow::bail!(
            "the state directory {} does not exist: netboot serve creates it when it first starts; \
             give the one serve uses with --state-dir (or NETBOOT_STATE_DIR)",
            dir.display()
        );
    }
    netboot::dhcp::store::load(dir)
        .with_context(|| format!("cannot read leases in {}", dir.display()))
}

/// Prints a command's text (a closed pipe is not an error).
fn print<E>(text: Result<String, E>) -> anyhow::Result<()>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let text = text?;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

/// `netboot explain`: the report as text, or JSON with `--json`.
fn run_explain(args: &ExplainArgs) -> anyhow::Result<()> {
    let report = netboot::explain::explain(&args.to_options())?;
    let text = if args.json {
        let mut json = serde_json::to_string_pretty(&report).context("cannot write JSON")?;
        json.push('\n');
        json
    } else {
        report.to_string()
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
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
