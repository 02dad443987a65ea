//! The open store's files: the lock, group-commit appends to the journal
//! with torn-write recovery, and compaction into the snapshot.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::line::{frame, load_lines, Line};
use super::{io, StoreError};
use crate::dhcp::pool::Lease;

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
    pub(super) good_len: Option<u64>,
    /// A failed append could not be cut off: the file may end inside a line.
    pub(super) torn: bool,
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
    pub(super) fn append_with(
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
