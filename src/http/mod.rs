//! The HTTP server of the appliance: the same tree as TFTP (the root, each
//! client's rendered files and path rewrites), with the same confinement,
//! over HTTP/1.1 for boot clients: GET and HEAD, single and multiple
//! ranges, validators and conditional requests, keep-alive, files past
//! 4 GiB. hyper parses HTTP; the modules here decide what to answer.
//!
//! `listen` (listen addresses as written, which one a client's URL uses,
//! the served interfaces' IPv6 addresses), `path` (request target →
//! confined name) and `plan` (status, headers and
//! body pieces for a resource and a request's headers) are pure; `handler`
//! finds the resource, `body` streams it (`read` reads a file's chunks
//! without waiting on the disk inline, `sendfile` sends the cached ones with
//! no copy), `server` accepts connections
//! under the limits.

pub mod body;
pub mod config;
pub mod handler;
pub mod listen;
pub mod path;
pub mod plan;
pub mod read;
pub mod report;
pub mod sendfile;
pub mod server;

pub use config::HttpConfig;
pub use server::{HttpError, HttpServer};
