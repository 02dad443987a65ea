//! `netboot status`: what a running `netboot serve --status` shows on its
//! page, as text on the command line (or its JSON with `--json`), read from
//! its API with hyper's client.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::HOST;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::serve::plan::DEFAULT_STATUS;

/// Flags of `netboot status`.
#[derive(Debug, Clone, Default, Args)]
pub struct StatusArgs {
    /// The status address of the running server (default: `status.listen`
    /// of netboot.yaml, else 127.0.0.1:9090).
    #[arg(long, value_name = "ADDR:PORT")]
    pub address: Option<SocketAddr>,

    /// `netboot.yaml` naming the address; default: `./netboot.yaml` when it exists.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print the API's JSON as it is.
    #[arg(long)]
    pub json: bool,
}

/// Why there is no status to show.
#[derive(Debug, thiserror::Error)]
pub enum StatusCliError {
    /// Nothing answers there.
    #[error("no status page at {addr}: {why} (is `netboot serve --status` running? give its address with --address)")]
    Unreachable {
        /// Where.
        addr: SocketAddr,
        /// Why.
        why: String,
    },
    /// netboot.yaml could not be read.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigFileError),
    /// The address in netboot.yaml is not ADDR:PORT.
    #[error("status.listen {0:?} in netboot.yaml is not ADDRESS:PORT")]
    BadAddress(String),
    /// Something answered, but not with the status.
    #[error("{addr} answered, but not with netboot's status: {why}")]
    NotStatus {
        /// Where.
        addr: SocketAddr,
        /// Why.
        why: String,
    },
}

/// `netboot status`: the summary, or the JSON.
pub fn status(args: &StatusArgs) -> Result<String, StatusCliError> {
    let addr = address(args)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| unreachable_at(addr, e))?;
    let text = runtime.block_on(fetch(addr, "/api/status"))?;
    let value: Value = serde_json::from_str(&text).map_err(|e| StatusCliError::NotStatus {
        addr,
        why: e.to_string(),
    })?;
    if args.json {
        return Ok(format!("{text}\n"));
    }
    Ok(super::status_text::summary(&value, addr))
}

fn address(args: &StatusArgs) -> Result<SocketAddr, StatusCliError> {
    if let Some(addr) = args.address {
        return Ok(addr);
    }
    let (file, _) = crate::serve::load_file(args.config.as_deref())?;
    let text = file.status.listen.unwrap_or_else(|| DEFAULT_STATUS.into());
    text.parse().map_err(|_| StatusCliError::BadAddress(text))
}

fn unreachable_at(addr: SocketAddr, why: impl ToString) -> StatusCliError {
    StatusCliError::Unreachable {
        addr,
        why: why.to_string(),
    }
}

/// GETs `path` from `addr` (bounded in time and size).
async fn fetch(addr: SocketAddr, path: &str) -> Result<String, StatusCliError> {
    let work = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| unreachable_at(addr, e))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable_at(addr, e))?;
        tokio::spawn(conn);
        let not_status = |why: String| StatusCliError::NotStatus { addr, why };
        let req = Request::get(path)
            .header(HOST, addr.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(|e| not_status(e.to_string()))?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| not_status(e.to_string()))?;
        if !res.status().is_success() {
            return Err(not_status(format!("HTTP {}", res.status())));
        }
        let body = Limited::new(res.into_body(), 64 << 20).collect().await;
        let bytes = body.map_err(|e| not_status(e.to_string()))?.to_bytes();
        String::from_utf8(bytes.to_vec()).map_err(|e| not_status(e.to_string()))
    };
    tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .map_err(|_| unreachable_at(addr, "no answer within 10 s"))?
}
