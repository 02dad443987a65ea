//! `netboot http`: the appliance's HTTP server on its own, for users who
//! only want to serve files (as `netboot tftp` is its TFTP server alone).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::tftp::CliError;
use crate::http::config::{HttpConfig, DEFAULT_PORT};
use crate::tftp::fs::RootPolicy;

/// Flags of `netboot http`.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Directory to serve.
    #[arg(default_value = "boot-images")]
    pub directory: PathBuf,

    /// Address to listen on, `[ADDRESS][:PORT]` (`0.0.0.0:80`, `:8080`,
    /// `[::1]:8080`, `127.0.0.1`); repeatable. Default: `[::]:8080`.
    #[arg(short = 'a', long = "address", value_name = "ADDR")]
    pub address: Vec<String>,

    /// Serve files that are not world-readable.
    #[arg(short = 'p', long)]
    pub permissive: bool,

    /// Open connections in all.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub max_connections: usize,

    /// Open connections from one client address.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_per_client: usize,

    /// Seconds a client has to send a request's header.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub header_timeout: u64,

    /// Drop to this user after binding the sockets.
    #[arg(short = 'u', long, value_name = "USER")]
    pub user: Option<String>,

    /// Write the process ID to this file (removed again on exit).
    #[arg(short = 'P', long, value_name = "FILE")]
    pub pidfile: Option<PathBuf>,

    /// More detail in the logs.
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

fn invalid(flag: &'static str, message: impl Into<String>) -> CliError {
    CliError::Invalid {
        flag,
        message: message.into(),
    }
}

impl HttpArgs {
    /// Checks the flags and builds the server configuration.
    pub fn to_config(&self) -> Result<HttpConfig, CliError> {
        let root = self
            .directory
            .canonicalize()
            .ok()
            .filter(|r| r.is_dir())
            .ok_or_else(|| CliError::Directory {
                path: self.directory.clone(),
                source: std::io::Error::other("not a directory"),
            })?;
        let listen = if self.address.is_empty() {
            vec![SocketAddr::new(
                IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                DEFAULT_PORT,
            )]
        } else {
            self.address
                .iter()
                .map(|a| parse_address(a))
                .collect::<Result<_, _>>()?
        };
        let policy = RootPolicy {
            root,
            secure: true,
            create: false,
            permissive: self.permissive,
            case_insensitive: false,
            umask: 0o022,
            max_upload: None,
            dirs: Vec::new(),
        };
        let mut cfg = HttpConfig::new(listen, policy);
        if self.max_connections == 0 || self.max_per_client == 0 || self.header_timeout == 0 {
            return Err(invalid(
                "--max-connections/--max-per-client/--header-timeout",
                "must be at least 1",
            ));
        }
        cfg.max_connections = self.max_connections;
        cfg.max_per_client = self.max_per_client;
        cfg.header_timeout = Duration::from_secs(self.header_timeout);
        Ok(cfg)
    }
}

/// `[ADDRESS][:PORT]`, the port defaulting to 8080.
pub fn parse_address(text: &str) -> Result<SocketAddr, CliError> {
    crate::http::listen::parse_listen(text, DEFAULT_PORT).map_err(|e| invalid("--address", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_admins_write_them() {
        let p = |t| parse_address(t).unwrap().to_string();
        assert_eq!(p(":80"), "[::]:80");
        assert_eq!(p("127.0.0.1"), "127.0.0.1:8080");
        assert_eq!(p("[::1]:8081"), "[::1]:8081");
        assert_eq!(p("0.0.0.0:80"), "0.0.0.0:80");
        assert!(parse_address("nope:x").is_err());
    }
}
