//! Multi-extent files (ECMA-119 9.1.6, flag bit 7: "not the final
//! directory record of the file"), over images built here byte by byte: a
//! file stored as several directory records reads as one file, its extents
//! in record order wherever they lie, without a 4 GiB file on disk.

use super::*;

const S: usize = SECTOR as usize;
/// Sectors: 16 the primary descriptor, 17 the terminator, 18/19 the L and
/// M path tables, 20 and 21 the root directory, then file data from
/// [`DATA`] (sector `n` filled with the byte `b'A' + n - DATA`).
const ROOT: u32 = 20;
const ROOT_BYTES: u32 = 2 * S as u32;
const DATA: usize = 22;
const SECTORS: usize = 28;

/// A file of the image: its identifier and its (sector, length) extents.
type File<'a> = (&'a [u8], &'a [(u32, u32)]);

fn both32(v: u32) -> [u8; 8] {
    let mut b = [0u8; 8];
    b[..4].copy_from_slice(&v.to_le_bytes());
    b[4..].copy_from_slice(&v.to_be_bytes());
    b
}

fn both16(v: u16) -> [u8; 4] {
    let mut b = [0u8; 4];
    b[..2].copy_from_slice(&v.to_le_bytes());
    b[2..].copy_from_slice(&v.to_be_bytes());
    b
}

/// A directory record (9.1) for `name` at `sector` with `len` bytes.
fn record(name: &[u8], sector: u32, len: u32, flags: u8) -> Vec<u8> {
    let size = 33 + name.len() + (name.len() + 1) % 2;
    let mut r = vec![0u8; size];
    r[0] = size as u8;
    r[2..10].copy_from_slice(&both32(sector));
    r[10..18].copy_from_slice(&both32(len));
    r[18..25].copy_from_slice(&[126, 1, 1, 0, 0, 0, 0]);
    r[25] = flags;
    r[28..32].copy_from_slice(&both16(1));
    r[32] = name.len() as u8;
    r[33..33 + name.len()].copy_from_slice(name);
    r
}

/// The primary volume descriptor (8.4) of a `SECTORS`-sector volume.
fn primary() -> Vec<u8> {
    let mut d = vec![0u8; S];
    d[0] = 1;
    d[1..6].copy_from_slice(b"CD001");
    d[6] = 1;
    d[8..72].fill(b' ');
    d[40..48].copy_from_slice(b"MULTIEXT");
    d[80..88].copy_from_slice(&both32(SECTORS as u32));
    d[120..124].copy_from_slice(&both16(1));
    d[124..128].copy_from_slice(&both16(1));
    d[128..132].copy_from_slice(&both16(S as u16));
    d[132..140].copy_from_slice(&both32(10));
    d[140..144].copy_from_slice(&18u32.to_le_bytes());
    d[148..152].copy_from_slice(&19u32.to_be_bytes());
    d[156..190].copy_from_slice(&record(&[0], ROOT, ROOT_BYTES, 2));
    d[190..813].fill(b' ');
    for date in [813, 830, 847, 864] {
        d[date..date + 16].fill(b'0');
    }
    d[881] = 1;
    d
}

/// An image whose root holds `files`: each a list of (sector, length)
/// extents, one directory record per extent, all but the last flagged
/// multi-extent (`last_flag` is the last one's flags). A record never
/// crosses a sector of the directory (9.1): it starts the next one.
fn image(files: &[File<'_>], last_flag: u8) -> Vec<u8> {
    let mut img = vec![0u8; SECTORS * S];
    img[16 * S..17 * S].copy_from_slice(&primary());
    img[17 * S] = 255;
    img[17 * S + 1..17 * S + 6].copy_from_slice(b"CD001");
    img[17 * S + 6] = 1;
    let table = |at: usize, extent: [u8; 4], parent: [u8; 2]| {
        let mut t = vec![1u8, 0];
        t.extend_from_slice(&extent);
        t.extend_from_slice(&parent);
        t.extend_from_slice(&[0, 0]);
        (at, t)
    };
    for (at, t) in [
        table(18 * S, ROOT.to_le_bytes(), 1u16.to_le_bytes()),
        table(19 * S, ROOT.to_be_bytes(), 1u16.to_be_bytes()),
    ] {
        img[at..at + t.len()].copy_from_slice(&t);
    }
    let mut dir = record(&[0], ROOT, ROOT_BYTES, 2);
    dir.extend(record(&[1], ROOT, ROOT_BYTES, 2));
    for (name, extents) in files {
        for (i, &(sector, len)) in extents.iter().enumerate() {
            let flags = if i + 1 < extents.len() {
                0x80
            } else {
                last_flag
            };
            let r = record(name, sector, len, flags);
            if dir.len() % S + r.len() > S {
                dir.resize(dir.len().next_multiple_of(S), 0);
            }
            dir.extend(r);
        }
    }
    img[ROOT as usize * S..ROOT as usize * S + dir.len()].copy_from_slice(&dir);
    for n in DATA..SECTORS {
        img[n * S..(n + 1) * S].fill(b'A' + (n - DATA) as u8);
    }
    img
}

fn read(img: &[u8], file: &IsoFile) -> Vec<u8> {
    let mut out = Vec::new();
    for r in file.ranges(0, file.size) {
        out.extend_from_slice(&img[r.offset as usize..(r.offset + r.len) as usize]);
    }
    out
}

#[test]
fn a_file_in_several_records_is_one_file_with_its_extents_in_record_order() {
    let big: &[(u32, u32)] = &[(24, S as u32), (22, S as u32), (25, 100)];
    let small: &[(u32, u32)] = &[(26, 5)];
    let img = image(&[(b"BIG.BIN;1", big), (b"SMALL.TXT;1", small)], 0);
    let index = read_image(img.as_slice(), &Limits::default()).unwrap();
    assert_eq!(index.volume_id, "MULTIEXT");
    let names: Vec<&str> = index.files.keys().map(String::as_str).collect();
    assert_eq!(names, ["big.bin", "small.txt"]);
    let file = &index.files["big.bin"];
    assert_eq!(file.size, 2 * SECTOR + 100);
    assert_eq!(index.sizes["big.bin"], 2 * SECTOR + 100);
    let offsets: Vec<u64> = file.extents.iter().map(|e| e.offset).collect();
    assert_eq!(offsets, [24 * SECTOR, 22 * SECTOR, 25 * SECTOR]);
    let mut want = vec![b'C'; S];
    want.extend(vec![b'A'; S]);
    want.extend(vec![b'D'; 100]);
    assert_eq!(read(&img, file), want);
    // a range across the first boundary
    assert_eq!(
        file.ranges(SECTOR - 2, 4),
        [
            Extent {
                offset: 25 * SECTOR - 2,
                len: 2
            },
            Extent {
                offset: 22 * SECTOR,
                len: 2
            }
        ]
    );
    assert_eq!(read(&img, &index.files["small.txt"]), b"EEEEE");
}

#[test]
fn a_multi_extent_file_without_its_final_record_is_damaged_not_a_panic() {
    let big: &[(u32, u32)] = &[(22, S as u32), (23, 10)];
    let img = image(&[(b"BIG.BIN;1", big)], 0x80);
    let err = read_image(img.as_slice(), &Limits::default()).unwrap_err();
    assert!(matches!(err, IsoError::Damaged(_)), "{err:?}");
    assert!(err.to_string().contains("multi-extent"), "{err}");
}

#[test]
fn an_extent_of_a_multi_extent_file_past_the_end_is_a_truncated_copy() {
    let big: &[(u32, u32)] = &[(22, S as u32), (40, 10)];
    let img = image(&[(b"BIG.BIN;1", big)], 0);
    let err = read_image(img.as_slice(), &Limits::default()).unwrap_err();
    assert!(
        matches!(&err, IsoError::Truncated { what, .. } if what == "file big.bin"),
        "{err:?}"
    );
}

#[test]
fn the_records_of_a_file_may_continue_in_the_next_sector_of_the_directory() {
    // after `.` and `..` (34 bytes each) and 43 fillers of 44 bytes, BIG's
    // first record (46 bytes) ends at 2006: its second starts sector 21
    let fillers: Vec<String> = (0..43).map(|i| format!("F{i:03}.TXT;1")).collect();
    let mut files: Vec<File<'_>> = fillers
        .iter()
        .map(|f| (f.as_bytes(), &[(27u32, 1u32)][..]))
        .collect();
    let big: &[(u32, u32)] = &[(22, S as u32), (23, S as u32), (24, 7)];
    files.push((b"ZBIG.BINARY;1", big));
    let img = image(&files, 0);
    let first = ROOT as usize * S + 68 + 43 * 44;
    assert_eq!(img[first + 33..first + 46], *b"ZBIG.BINARY;1");
    assert_eq!(img[first + 46..(ROOT as usize + 1) * S], [0; 42]);
    assert_eq!(img[(ROOT as usize + 1) * S + 33], b'Z');
    let index = read_image(img.as_slice(), &Limits::default()).unwrap();
    assert_eq!(index.files.len(), 44);
    let file = &index.files["zbig.binary"];
    assert_eq!(file.extents.len(), 3, "{:?}", file.extents);
    let mut want = vec![b'A'; S];
    want.extend(vec![b'B'; S]);
    want.extend(vec![b'C'; 7]);
    assert_eq!(read(&img, file), want);
}

#[test]
fn the_fuzz_seed_is_a_multi_extent_image() {
    // fuzz/make_seeds.py's multi_extent_iso(), the layout of the first test
    let seed = include_bytes!("../../../fuzz/corpus/iso_image/seed_multi_extent");
    let index = read_image(&seed[..], &Limits::default()).unwrap();
    let file = &index.files["big.bin"];
    assert_eq!((file.extents.len(), file.size), (3, 2 * SECTOR + 100));
    assert_eq!(read(seed, file)[..S], [b'C'; S]);
}
