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
//! their own; [`LeaseStore`] is [`Store`] of [`Lease`].
//!
//! The committer reaches a store through the [`Journal`] trait: this
//! embedded journal (the default, and the fastest) or PostgreSQL
//! (`crate::dhcp::pg`), chosen by [`Backend`].

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::dhcp::pool::{Lease, LeaseState, Secs};
use crate::mac::MacAddr;

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

#[derive(Serialize, Deserialize)]
struct Record {
    ip: Ipv4Addr,
    mac: String,
    expires: Secs,
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hostname: Option<String>,
}

/// The file names of one kind of record in the state directory.
#[derive(Debug, Clone, Copy)]
pub struct Names {
    pub snapshot: &'static str,
    pub journal: &'static str,
    /// See [`LOCK`].
    pub lock: &'static str,
    pub snapshot_tmp: &'static str,
}

/// A record a [`Store`] keeps: one line of JSON per state of one key.
pub trait Line: Sized {
    /// Its files.
    const NAMES: Names;
    /// What a later record replaces an earlier one by (the address).
    fn key(&self) -> u128;
    /// The JSON text (one line).
    fn json(&self) -> String;
    /// Parses [`Line::json`]; `None` when it is not such a record.
    fn from_json(json: &str) -> Option<Self>;
}

/// `CRC32HEX JSON\n`.
pub fn frame(json: &str) -> String {
    format!("{:08x} {json}\n", crc32fast::hash(json.as_bytes()))
}

/// The JSON of a framed line (without its newline) when its CRC matches.
pub fn unframe(line: &str) -> Option<&str> {
    let (crc, json) = line.split_once(' ')?;
    (u32::from_str_radix(crc, 16).ok()? == crc32fast::hash(json.as_bytes())).then_some(json)
}

impl Line for Lease {
    const NAMES: Names = Names {
        snapshot: SNAPSHOT,
        journal: JOURNAL,
        lock: LOCK,
        snapshot_tmp: SNAPSHOT_TMP,
    };
    fn key(&self) -> u128 {
        u128::from(u32::from(self.ip))
    }
    fn json(&self) -> String {
        let rec = Record {
            ip: self.ip,
            mac: self.mac.colon(),
            expires: self.expires,
            state: self.state.as_str().to_string(),
            hostname: self.hostname.clone(),
        };
        // serializing a plain struct of strings and numbers cannot fail
        serde_json::to_string(&rec).unwrap_or_default()
    }
    fn from_json(json: &str) -> Option<Self> {
        let rec: Record = serde_json::from_str(json).ok()?;
        Some(Lease {
            ip: rec.ip,
            mac: rec.mac.parse::<MacAddr>().ok()?,
            expires: rec.expires,
            state: LeaseState::parse(&rec.state)?,
            hostname: rec.hostname,
        })
    }
}

/// One journal line (with its newline) for `lease`.
pub fn encode_line(lease: &Lease) -> String {
    frame(&lease.json())
}

/// Parses one line (without its newline); `None` when damaged.
pub fn parse_line(line: &str) -> Option<Lease> {
    parse_any(line)
}

fn parse_any<R: Line>(line: &str) -> Option<R> {
    R::from_json(unframe(line)?)
}

/// Applies every complete, intact line of `bytes` to `into` (keyed by address).
fn replay<R: Line>(bytes: &[u8], into: &mut std::collections::BTreeMap<u128, R>) -> usize {
    let mut skipped = 0;
    let complete = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(end) => &bytes[..end],
        None => return usize::from(!bytes.is_empty()),
    };
    for line in complete.split(|&b| b == b'\n') {
        match std::str::from_utf8(line).ok().and_then(parse_any::<R>) {
            Some(l) => {
                into.insert(l.key(), l);
            }
            None => skipped += 1,
        }
    }
    skipped
}

/// Reads every lease from `dir` (missing files = no leases).
pub fn load(dir: &Path) -> Result<Vec<Lease>, StoreError> {
    load_lines(dir)
}

/// Reads every record of kind `R` from `dir` (missing files = none).
pub fn load_lines<R: Line>(dir: &Path) -> Result<Vec<R>, StoreError> {
    let mut map = std::collections::BTreeMap::new();
    let mut skipped = 0;
    for name in [R::NAMES.snapshot, R::NAMES.journal] {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(bytes) => skipped += replay(&bytes, &mut map),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&path)(e)),
        }
    }
    if skipped > 0 {
        tracing::warn!(dir = %dir.display(), skipped, "lease store: skipped damaged or torn records");
    }
    Ok(map.into_values().collect())
}

/// The open DHCPv4 store.
pub type LeaseStore = Store<Lease>;

/// The open store: appends to the journal, compacts into the snapshot.
#[derive(Debug)]
pub struct Store<R: Line> {
    dir: PathBuf,
    /// Held until the store is dropped (see [`LOCK`]).
    _lock: Flock<File>,
    journal: File,
    records: usize,
    /// Journal length after the last complete append or compaction;
    /// `None` when unknown (a torn write could not be cut off).
    good_len: Option<u64>,
    /// A failed append could not be cut off: the file may end inside a line.
    torn: bool,
    kind: std::marker::PhantomData<fn() -> R>,
}

impl<R: Line> Store<R> {
    /// Opens (creating) the store in `dir`, returns it with the leases found.
    /// The loaded state is compacted at once, so a torn journal tail is gone
    /// before anything is appended.
    /// Fails with [`StoreError::Busy`] while another store is open on `dir`.
    pub fn open(dir: &Path) -> Result<(Self, Vec<R>), StoreError> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock = lock(dir, R::NAMES.lock)?;
        let leases = load_lines::<R>(dir)?;
        let journal_path = dir.join(R::NAMES.journal);
        let journal = open_append(&journal_path)?;
        let mut store = Self {
            dir: dir.to_path_buf(),
            _lock: lock,
            journal,
            records: 0,
            good_len: Some(0),
            torn: false,
            kind: std::marker::PhantomData,
        };
        store.compact(&leases)?;
        Ok((store, leases))
    }

    /// Writes `leases` to the journal with one write and one `fdatasync`.
    pub fn append(&mut self, leases: &[R]) -> Result<(), StoreError> {
        self.append_with(leases, |f, bytes| {
            f.write_all(bytes)?;
            f.sync_data()
        })
    }

    /// [`LeaseStore::append`] through `write` (the seam a test uses to tear
    /// a write part-way).
    fn append_with(
        &mut self,
        leases: &[R],
        write: impl FnOnce(&mut File, &[u8]) -> std::io::Result<()>,
    ) -> Result<(), StoreError> {
        if leases.is_empty() {
            return Ok(());
        }
        let mut text = String::new();
        if self.torn {
            text.push('\n');
        }
        text.extend(leases.iter().map(|l| frame(&l.json())));
        let path = self.dir.join(R::NAMES.journal);
        if let Err(e) = write(&mut self.journal, text.as_bytes()) {
            self.recover();
            return Err(io(&path)(e));
        }
        self.good_len = if self.torn {
            // the torn bytes are still in front: ask the file
            self.journal.metadata().ok().map(|m| m.len())
        } else {
            self.good_len.map(|n| n + text.len() as u64)
        };
        self.torn = false;
        self.records += leases.len();
        Ok(())
    }

    /// After a failed append: cut the journal back to its last good length,
    /// or, when that fails too, remember to close the torn line first.
    fn recover(&mut self) {
        let cut = match self.good_len {
            Some(len) => self
                .journal
                .set_len(len)
                .and_then(|()| self.journal.sync_data()),
            None => Err(std::io::Error::other("length before the write unknown")),
        };
        match cut {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(error = %e, "lease journal: cannot cut off a failed write; the next write starts on a new line");
                self.torn = true;
                self.good_len = None;
            }
        }
    }

    /// Records appended since the last compaction.
    pub fn journal_records(&self) -> usize {
        self.records
    }

    /// Replaces the snapshot with `all` (the complete current state) and
    /// empties the journal.
    pub fn compact(&mut self, all: &[R]) -> Result<(), StoreError> {
        let tmp = self.dir.join(R::NAMES.snapshot_tmp);
        let snap = self.dir.join(R::NAMES.snapshot);
        let text: String = all.iter().map(|l| frame(&l.json())).collect();
        {
            let mut f = File::create(&tmp).map_err(io(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        fs::rename(&tmp, &snap).map_err(io(&snap))?;
        sync_dir(&self.dir)?;
        let journal_path = self.dir.join(R::NAMES.journal);
        self.journal.set_len(0).map_err(io(&journal_path))?;
        self.journal.sync_all().map_err(io(&journal_path))?;
        self.records = 0;
        self.good_len = Some(0);
        self.torn = false;
        Ok(())
    }
}

/// Takes the store's lock (without waiting) and writes our PID into it.
fn lock(dir: &Path, name: &str) -> Result<Flock<File>, StoreError> {
    let path = dir.join(name);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io(&path))?;
    let mut locked = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(locked) => locked,
        Err((_, Errno::EWOULDBLOCK)) => {
            let holder = fs::read_to_string(&path)
                .ok()
                .and_then(|text| text.trim().parse::<u32>().ok())
                .map_or_else(|| "another process".to_string(), |pid| format!("PID {pid}"));
            return Err(StoreError::Busy {
                dir: dir.to_path_buf(),
                holder,
            });
        }
        Err((_, errno)) => return Err(io(&path)(errno.into())),
    };
    // Only a hint for the message above: failing to write it is harmless.
    let _ = locked
        .set_len(0)
        .and_then(|()| writeln!(locked, "{}", std::process::id()));
    Ok(locked)
}

fn open_append(path: &Path) -> Result<File, StoreError> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io(path))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
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
mod tests {
    use super::*;

    #[test]
    fn a_second_store_on_the_same_directory_is_refused_until_the_first_closes() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = LeaseStore::open(dir.path()).unwrap();
        let err = LeaseStore::open(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, StoreError::Busy { .. }), "{err:?}");
        assert!(
            text.contains(&format!("PID {}", std::process::id())) && text.contains("--state-dir"),
            "{text}"
        );
        drop(first);
        LeaseStore::open(dir.path()).expect("free again once the first is closed");
    }

    fn lease(n: u8, state: LeaseState) -> Lease {
        Lease {
            ip: Ipv4Addr::new(10, 0, 0, n),
            mac: MacAddr([2, 0, 0, 0, 0, n]),
            expires: 1000 + u64::from(n),
            state,
            hostname: n.is_multiple_of(2).then(|| format!("host-{n}")),
        }
    }

    #[test]
    fn round_trip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, loaded) = LeaseStore::open(dir.path()).unwrap();
        assert!(loaded.is_empty());
        s.append(&[lease(1, LeaseState::Bound), lease(2, LeaseState::Bound)])
            .unwrap();
        s.append(&[lease(1, LeaseState::Released)]).unwrap();
        drop(s);
        let got = load(dir.path()).unwrap();
        assert_eq!(
            got,
            vec![lease(1, LeaseState::Released), lease(2, LeaseState::Bound)]
        );
        let (mut s, again) = LeaseStore::open(dir.path()).unwrap();
        assert_eq!(again, got);
        s.compact(&again).unwrap();
        assert_eq!(load(dir.path()).unwrap(), got);
        let table = format_table(&got, 1001);
        assert!(
            table.contains("02:00:00:00:00:02")
                && table.contains("host-2")
                && table.contains("released")
        );
    }

    /// Crash at every byte: truncate the journal at every offset; loading
    /// never fails and keeps every record whose line was fully written.
    #[test]
    fn torn_journal_at_every_offset() {
        let dir = tempfile::tempdir().unwrap();
        let records: Vec<Lease> = (1..=6)
            .map(|n| {
                lease(
                    n,
                    if n % 3 == 0 {
                        LeaseState::Declined
                    } else {
                        LeaseState::Bound
                    },
                )
            })
            .collect();
        let full: String = records.iter().map(encode_line).collect();
        let mut ends = Vec::new();
        let mut pos = 0;
        for r in &records {
            pos += encode_line(r).len();
            ends.push(pos);
        }
        for cut in 0..=full.len() {
            fs::write(dir.path().join(JOURNAL), &full.as_bytes()[..cut]).unwrap();
            let got = load(dir.path()).unwrap();
            let complete = ends.iter().filter(|&&e| e <= cut).count();
            assert_eq!(got, records[..complete].to_vec(), "cut at {cut}");
            // reopening (which compacts) and appending keeps everything
            let (mut s, reopened) = LeaseStore::open(dir.path()).unwrap();
            assert_eq!(reopened.len(), complete);
            s.append(&[lease(50, LeaseState::Bound)]).unwrap();
            drop(s);
            assert_eq!(load(dir.path()).unwrap().len(), complete + 1);
            fs::remove_file(dir.path().join(SNAPSHOT)).unwrap();
        }
    }

    /// A write that fails part-way leaves half a line; the next batch (whose
    /// ACKs go out) must survive a reload, in both recovery paths.
    #[test]
    fn a_torn_append_does_not_swallow_the_next_batch() {
        for cut_fails in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let (mut s, _) = LeaseStore::open(dir.path()).unwrap();
            s.append(&[lease(1, LeaseState::Bound)]).unwrap();
            let torn = s.append_with(&[lease(2, LeaseState::Bound)], |f, bytes| {
                f.write_all(&bytes[..bytes.len() / 2])?;
                Err(std::io::Error::other("disk full"))
            });
            assert!(torn.is_err());
            if cut_fails {
                // as if set_len had failed: half a line stays in the file
                let half = encode_line(&lease(2, LeaseState::Bound));
                let mut f = OpenOptions::new()
                    .append(true)
                    .open(dir.path().join(JOURNAL))
                    .unwrap();
                f.write_all(&half.as_bytes()[..half.len() / 2]).unwrap();
                s.torn = true;
                s.good_len = None;
            }
            s.append(&[lease(3, LeaseState::Bound)]).unwrap();
            drop(s);
            assert_eq!(
                load(dir.path()).unwrap(),
                vec![lease(1, LeaseState::Bound), lease(3, LeaseState::Bound)],
                "cut fails: {cut_fails}"
            );
        }
    }

    #[test]
    fn damaged_line_in_the_middle_is_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = encode_line(&lease(1, LeaseState::Bound));
        text.push_str("deadbeef {\"garbage\":1}\n");
        text.push_str(&encode_line(&lease(2, LeaseState::Bound)).replace("10.0.0.2", "10.0.0.9"));
        text.push_str(&encode_line(&lease(3, LeaseState::Bound)));
        fs::write(dir.path().join(JOURNAL), text).unwrap();
        let got = load(dir.path()).unwrap();
        assert_eq!(
            got,
            vec![lease(1, LeaseState::Bound), lease(3, LeaseState::Bound)]
        );
    }
}
