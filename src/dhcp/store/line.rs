//! The store's records on disk: one line `CRC32HEX JSON` per state of one
//! key, the [`Line`] a kind of record implements (its file names, key and
//! JSON), and reading the snapshot and journal back (later lines win, torn
//! or damaged lines skipped).

use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{io, StoreError, JOURNAL, LOCK, SNAPSHOT, SNAPSHOT_TMP};
use crate::dhcp::pool::{Lease, LeaseState, Secs};
use crate::mac::MacAddr;

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
