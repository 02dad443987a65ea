//! Unit tests of the reader over images built in memory (the xorriso-built
//! ones are in tests/iso_reader.rs).

use super::*;

#[test]
fn a_file_range_maps_through_its_extents() {
    let file = IsoFile {
        extents: vec![
            Extent {
                offset: 1000,
                len: 10,
            },
            Extent {
                offset: 5000,
                len: 5,
            },
        ],
        size: 15,
    };
    let r = |o, l| file.ranges(o, l);
    assert_eq!(
        r(0, 4),
        [Extent {
            offset: 1000,
            len: 4
        }]
    );
    assert_eq!(
        r(8, 4),
        [
            Extent {
                offset: 1008,
                len: 2
            },
            Extent {
                offset: 5000,
                len: 2
            }
        ]
    );
    assert_eq!(
        r(12, 100),
        [Extent {
            offset: 5002,
            len: 3
        }]
    );
    assert_eq!(r(15, 1), []);
    assert_eq!(r(u64::MAX, u64::MAX), []);
}

#[test]
fn garbage_is_not_an_iso() {
    let garbage: Vec<u8> = (0..100_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    let err = read_image(garbage.as_slice(), &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "not an ISO 9660 image: no primary volume descriptor at 32 KiB"
    );
    assert!(matches!(
        read_image(&Vec::new(), &Limits::default()),
        Err(IsoError::NotIso(_))
    ));
}
