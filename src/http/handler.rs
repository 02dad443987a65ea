//! One request: GET or HEAD only; the path decoded and confined
//! ([`super::path`]); the client's own files first (a rendered file, a
//! path rewrite: client identified as TFTP does it, IP → lease → MAC →
//! profile), then the root through the same checks as TFTP (no symlink out
//! of the root, regular files only, opened without following links); then
//! the answer [`super::plan`] decides, streamed by [`super::body`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tracing::info_span;

use super::body::{self, Body, Content, Delivery};
use super::config::HttpConfig;
use super::path::{request_path, PathError};
use super::plan::{self, etag_for, Resource};
use super::report;
use super::sendfile::SendfileSpans;
use crate::regions::Region;
use crate::tftp::fs::FsError;

/// Answers one request (never fails: errors are responses).
pub async fn handle(
    cfg: &HttpConfig,
    peer: SocketAddr,
    req: Request<Incoming>,
    sendfile: Option<SendfileSpans>,
) -> Response<Body> {
    let started = Instant::now();
    let mac = cfg.client_files.as_ref().and_then(|f| f.mac(peer.ip()));
    let span = match &mac {
        Some(mac) => {
            info_span!("http", %peer, %mac, method = %req.method(), path = %req.uri().path())
        }
        None => info_span!("http", %peer, method = %req.method(), path = %req.uri().path()),
    };
    let request = report::Request {
        peer,
        mac: mac.as_deref().and_then(|m| m.parse().ok()),
        path: req.uri().path().to_string(),
    };
    let refuse = |status: StatusCode, why: &str| {
        report::refused(&cfg.events, &request, status.as_u16(), why);
        refuse(&span, status, why)
    };
    let head = match *req.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => return refuse(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD"),
    };
    let name = match request_path(req.uri().path()) {
        Ok(p) => p.name,
        Err(e @ (PathError::BadEscape | PathError::NotUtf8)) => {
            return refuse(StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(e) => return refuse(StatusCode::FORBIDDEN, &e.to_string()),
    };
    let found = match find(cfg, peer, name).await {
        Ok(found) => found,
        Err(e) => return refuse(status_of(&e), &e.to_string()),
    };
    if !head {
        if let Some(files) = &cfg.client_files {
            files.fetched(peer.ip(), &found.name);
        }
    }
    let answer = plan::answer(&found.resource, req.headers(), head);
    let tracker = (!head && answer.status.is_success())
        .then(|| report::start(&cfg.events, &request, answer.body_len()));
    let delivery = Delivery {
        span,
        status: answer.status.as_u16(),
        planned: answer.body_len(),
        sent: 0,
        started,
        ranges: describe_ranges(answer.ranges.as_deref()),
        next_progress: std::time::Duration::from_secs(5),
        tracker,
    };
    let mut response = Response::new(body::stream(found.content, answer.body, delivery, sendfile));
    *response.status_mut() = answer.status;
    response.headers_mut().extend(answer.headers);
    response
}

fn describe_ranges(ranges: Option<&[std::ops::RangeInclusive<u64>]>) -> String {
    match ranges {
        None => "-".into(),
        Some(list) => {
            let parts: Vec<String> = list
                .iter()
                .map(|r| format!("{}-{}", r.start(), r.end()))
                .collect();
            parts.join(",")
        }
    }
}

/// A resource found for a request.
struct Found {
    /// The name served (after the client's path rewrite).
    name: String,
    resource: Resource,
    content: Content,
}

/// The client's rendered file or rewrite, else the file in the root.
async fn find(cfg: &HttpConfig, peer: SocketAddr, name: String) -> Result<Found, FsError> {
    let mut name = name;
    if let Some(files) = &cfg.client_files {
        if let Some(to) = files.rewrite(peer.ip(), &name) {
            name = to;
        }
        if let Some(rendered) = files.file(peer.ip(), &name) {
            let bytes = Bytes::from(rendered.map_err(|e| FsError::Io(std::io::Error::other(e)))?);
            let resource = Resource {
                len: bytes.len() as u64,
                modified: None,
                etag: format!("\"r-{:08x}\"", crc32fast::hash(&bytes)),
            };
            return Ok(Found {
                name,
                resource,
                content: Content::Memory(bytes),
            });
        }
    }
    let region = cfg.regions.as_ref().and_then(|r| r.region(&name));
    if region.is_none() && cfg.regions.as_ref().is_some_and(|r| r.holds(&name)) {
        return Err(FsError::NotFound);
    }
    let root = cfg.root.clone();
    tokio::task::spawn_blocking(move || match region {
        Some(region) => open_region(&root, region.map_err(FsError::Access)?, name),
        None => open(&root, name),
    })
    .await
    .map_err(|e| FsError::Io(std::io::Error::other(e)))?
}

fn open(root: &crate::tftp::fs::RootPolicy, name: String) -> Result<Found, FsError> {
    let path = root.resolve(name.as_bytes())?;
    let (file, len) = root.open_read(&path)?;
    let modified: Option<SystemTime> = file.metadata().ok().and_then(|m| m.modified().ok());
    let resource = Resource {
        len,
        modified,
        etag: etag_for(len, modified),
    };
    Ok(Found {
        name,
        resource,
        content: Content::File(Arc::new(file)),
    })
}

/// A file inside a file of the root: the containing file opened with the
/// same checks, the region checked to lie inside it.
fn open_region(
    root: &crate::tftp::fs::RootPolicy,
    region: Region,
    name: String,
) -> Result<Found, FsError> {
    let path = root.resolve(region.file.as_bytes())?;
    let (file, file_len) = root.open_read(&path)?;
    if !region.fits(file_len) {
        return Err(FsError::Io(std::io::Error::other(region.changed_message())));
    }
    let modified: Option<SystemTime> = file.metadata().ok().and_then(|m| m.modified().ok());
    let whole = etag_for(file_len, modified);
    let resource = Resource {
        len: region.len,
        modified,
        etag: format!("{}-{:x}\"", whole.trim_end_matches('"'), region.offset),
    };
    Ok(Found {
        name,
        resource,
        content: Content::Region(Arc::new(file), region.offset),
    })
}

fn status_of(e: &FsError) -> StatusCode {
    match e {
        FsError::NotFound => StatusCode::NOT_FOUND,
        FsError::Access(_) => StatusCode::FORBIDDEN,
        FsError::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            StatusCode::FORBIDDEN
        }
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// An error response with a one-line text body, logged.
fn refuse(span: &tracing::Span, status: StatusCode, why: &str) -> Response<Body> {
    tracing::info!(parent: span, status = status.as_u16(), "refused: {why}");
    let text = format!(
        "{} {}: {why}\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    let len = text.len();
    let mut response = Response::new(http_body_util::BodyExt::boxed_unsync(
        http_body_util::BodyExt::map_err(http_body_util::Full::new(Bytes::from(text)), |never| {
            match never {}
        }),
    ));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    response
}
