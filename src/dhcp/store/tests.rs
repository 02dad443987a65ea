use super::*;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;

use crate::mac::MacAddr;

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
