//! Log output: human-readable lines by default, JSON lines on request;
//! `RUST_LOG` overrides the level chosen by `--verbose`.

use tracing_subscriber::EnvFilter;

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Plain text for people.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Installs the global subscriber. `verbosity` 0 is info, 1+ is debug.
pub fn init(format: LogFormat, verbosity: u8) {
    let default = if verbosity == 0 { "info" } else { "debug" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Human => builder.with_target(false).init(),
        LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}
