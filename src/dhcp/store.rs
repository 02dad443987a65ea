//! The persistent lease store: an append-only journal plus a snapshot.
//!
//! Files in the state directory: `leases.lock` (held while a server has the
//! store open, so a second server on the same directory stops with an error
//! naming the first one's PID), `leases.snapshot` and `leases.journal`, both
//! made of lines `CRC32HEX JSON\n`, the CRC (IEEE, `crc32fast`) taken over the
//! JSON text. Each line is the whole state of one address; later lines win.
//! Loading reads the snapshot, then replays the journal; a line without its
//! newline (a torn tail) or with a wrong CRC is skipped, so a crash at any byte
//! loses at most the record being written, whose ACK had not left yet.
//!
//! [`LeaseStore::append`] writes a group of records with one `write` and one
//! `fdatasync`. When an append fails part-way, its bytes may sit in the file
//! as a line without its end; the next batch must not be glued to it (it
//! would be skipped on reload, although its ACKs went out). So the store
//! cuts the journal back to its last good length, and if even that fails,
//! starts the next batch with a newline, which closes the torn line. [`LeaseStore::compact`] writes a new snapshot through a temp
//! file, `fsync`, `rename` and an `fsync` of the directory, then empties the
//! journal; replaying an old journal over the new snapshot gives the same
//! state, so a crash between the two steps is harmless.
//!
//! The file handling is generic over the record ([`Line`]: its file names,
//! key and JSON), so the DHCPv6 leases (`crate::dhcp6::store`) use the same
//! lock, group-commit append, torn-write recovery and compaction in files of
//! their own; [`LeaseStore`] is [`Store`] of [`Lease`]. Submodules: `line`
//! (records on disk, reading them back), `files` (the open store).
//!
//! The committer reaches a store through the [`Journal`] trait: this
//! embedded journal (the default, and the fastest) or PostgreSQL
//! (`crate::dhcp::pg`), chosen by [`Backend`].

use std::path::{Path, PathBuf};

use crate::dhcp::pool::{Lease, LeaseState, Secs};

mod files;
mod line;

pub use files::{LeaseStore, Store};
pub use line::{encode_line, frame, load, load_lines, parse_line, unframe, Line, Names};

const SNAPSHOT: &str = "leases.snapshot";
const JOURNAL: &str = "leases.journal";
/// Locked (`flock`, exclusive) for as long as a store is open, and holding
/// that server's PID: two servers appending to one store would hand out the
/// same addresses.
const LOCK: &str = "leases.lock";
/// Every file the store keeps in its directory (the last one only while a
/// snapshot is written): what `serve` hands to the user it drops to.
pub const FILES: [&str; 4] = [SNAPSHOT, JOURNAL, LOCK, SNAPSHOT_TMP];
const SNAPSHOT_TMP: &str = "leases.snapshot.tmp";

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("lease store {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Another server has the store open.
    #[error(
        "the lease store in {dir} is in use by another netboot ({holder}): two servers on one \
         store would hand out the same addresses; stop that one, or give this one its own \
         --state-dir"
    )]
    Busy { dir: PathBuf, holder: String },
    /// The PostgreSQL store failed (its message says what and the fix).
    #[error(transparent)]
    Database(#[from] crate::dhcp::pg::PgError),
}

impl StoreError {
    /// True while a known outage lasts (the database said so once already):
    /// not worth a log line per batch.
    pub fn is_known_outage(&self) -> bool {
        matches!(self, Self::Database(crate::dhcp::pg::PgError::Down { .. }))
    }
}

/// A lease store as the committer uses it: opened and loaded beforehand
/// (`LeaseStore::open`, `crate::dhcp::pg::PgStore::open`), then appended to
/// in batches and compacted now and then.
pub trait Journal: Send + 'static {
    /// Persists `leases` durably as one unit (one write and one sync, or one
    /// transaction). Returns the records the store refused because another
    /// server holds their address (never any for the embedded journal):
    /// their replies must not leave. An error means nothing is persisted.
    fn append(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, StoreError>;
    /// Tells the store that `all` is the complete state of this server.
    fn compact(&mut self, all: &[Lease]) -> Result<(), StoreError>;
}

impl<J: Journal + ?Sized> Journal for Box<J> {
    fn append(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, StoreError> {
        (**self).append(leases)
    }
    fn compact(&mut self, all: &[Lease]) -> Result<(), StoreError> {
        (**self).compact(all)
    }
}

impl Journal for LeaseStore {
    fn append(&mut self, leases: &[Lease]) -> Result<Vec<Lease>, StoreError> {
        LeaseStore::append(self, leases).map(|()| Vec::new())
    }
    fn compact(&mut self, all: &[Lease]) -> Result<(), StoreError> {
        LeaseStore::compact(self, all)
    }
}

/// Where a server keeps its leases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// In memory only (no state directory).
    Memory,
    /// The embedded snapshot and journal in this directory.
    Embedded(PathBuf),
    /// A PostgreSQL database at this URL (`dhcp.leases`, `--leases-url`).
    Postgres(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The `netboot leases` table: MAC, IP, hostname, expiry and state.
pub fn format_table(leases: &[Lease], now: Secs) -> String {
    let mut out = format!(
        "{:<17}  {:<15}  {:<20}  {:<16}  {}\n",
        "MAC", "IP", "HOSTNAME", "EXPIRES", "STATE"
    );
    for l in leases {
        let expires = if l.expires > now {
            format!("in {}s", l.expires - now)
        } else {
            format!("{}s ago", now - l.expires)
        };
        let state = if l.expires <= now && l.state == LeaseState::Bound {
            "expired"
        } else {
            l.state.as_str()
        };
        out.push_str(&format!(
            "{:<17}  {:<15}  {:<20}  {:<16}  {}\n",
            l.mac.colon(),
            l.ip.to_string(),
            l.hostname.as_deref().unwrap_or("-"),
            expires,
            state
        ));
    }
    out
}

#[cfg(test)]
mod tests;
