//! The volume descriptor set (ECMA-119 8): the primary volume descriptor's
//! name, size and block size, whether a Joliet supplementary descriptor is
//! present, and where El Torito's boot record puts the boot catalogue. Read
//! here, before the directory parser, so an image that is not ISO 9660 or is
//! cut short gets a clear reason, and nothing huge is handed on.

use super::{IsoError, ReadAt, SECTOR};

/// The descriptor set starts at sector 16 (32 KiB).
const FIRST: u64 = 16;
/// Descriptors read at most before the terminator must have come.
const MAX_DESCRIPTORS: u64 = 64;

/// What the volume descriptors say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Descriptors {
    /// The primary volume identifier, trimmed.
    pub volume_id: String,
    /// The volume's size in bytes as the primary descriptor gives it.
    pub volume_bytes: u64,
    /// The path table's size in bytes (the directory parser reads it whole).
    pub path_table_size: u32,
    /// The boot catalogue's sector, from an El Torito boot record.
    pub boot_catalog: Option<u32>,
}

/// Reads the descriptor set from sector 16 to its terminator.
pub(super) fn read(src: &(impl ReadAt + ?Sized)) -> Result<Descriptors, IsoError> {
    let mut primary = None;
    let mut boot_catalog = None;
    for n in FIRST..FIRST + MAX_DESCRIPTORS {
        let d = descriptor(src, n)?;
        if d[1..6] != *b"CD001" {
            if n == FIRST {
                return Err(IsoError::NotIso(NO_PRIMARY.into()));
            }
            break;
        }
        match d[0] {
            0 if d[7..30] == *b"EL TORITO SPECIFICATION" => boot_catalog = Some(le32(&d[71..75])),
            1 if primary.is_none() => primary = Some(parse_primary(&d)?),
            255 => break,
            _ => {}
        }
    }
    let (volume_id, volume_bytes, path_table_size) =
        primary.ok_or_else(|| IsoError::NotIso(NO_PRIMARY.into()))?;
    Ok(Descriptors {
        volume_id,
        volume_bytes,
        path_table_size,
        boot_catalog,
    })
}

const NO_PRIMARY: &str = "no primary volume descriptor at 32 KiB";

/// Sector `n` of the set: an image shorter than the first is not ISO 9660,
/// one that ends inside the set is truncated.
fn descriptor(src: &(impl ReadAt + ?Sized), n: u64) -> Result<[u8; SECTOR as usize], IsoError> {
    let (len, end) = (src.len(), n * SECTOR + SECTOR);
    if end > len && n == FIRST {
        return Err(IsoError::NotIso(format!("only {len} bytes, {NO_PRIMARY}")));
    }
    if end > len {
        let what = "the volume descriptor set".into();
        return Err(IsoError::Truncated { what, end, len });
    }
    let mut d = [0u8; SECTOR as usize];
    src.read_exact_at(&mut d, n * SECTOR)?;
    Ok(d)
}

fn parse_primary(d: &[u8; SECTOR as usize]) -> Result<(String, u64, u32), IsoError> {
    let block_size = u16::from_le_bytes([d[128], d[129]]);
    if block_size != SECTOR as u16 {
        return Err(IsoError::Unsupported(format!(
            "logical block size {block_size}, not 2048"
        )));
    }
    let volume_id = String::from_utf8_lossy(&d[40..72])
        .trim_end_matches([' ', '\0'])
        .to_string();
    let volume_bytes = u64::from(le32(&d[80..84])) * SECTOR;
    Ok((volume_id, volume_bytes, le32(&d[132..136])))
}

/// A little-endian u32 from four bytes (callers slice exactly four).
pub(super) fn le32(b: &[u8]) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    u32::from_le_bytes(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image_with(descriptors: &[[u8; 2048]]) -> Vec<u8> {
        let mut img = vec![0u8; 16 * 2048];
        for d in descriptors {
            img.extend_from_slice(d);
        }
        img
    }

    fn descriptor(kind: u8) -> [u8; 2048] {
        let mut d = [0u8; 2048];
        d[0] = kind;
        d[1..6].copy_from_slice(b"CD001");
        d[6] = 1;
        d
    }

    fn primary() -> [u8; 2048] {
        let mut d = descriptor(1);
        d[40..72].copy_from_slice(&[b' '; 32]);
        d[40..46].copy_from_slice(b"DEBIAN");
        d[80..84].copy_from_slice(&20u32.to_le_bytes());
        d[128..130].copy_from_slice(&2048u16.to_le_bytes());
        d
    }

    #[test]
    fn reads_the_name_size_and_boot_record() {
        let mut boot = descriptor(0);
        boot[7..30].copy_from_slice(b"EL TORITO SPECIFICATION");
        boot[71..75].copy_from_slice(&33u32.to_le_bytes());
        let img = image_with(&[primary(), boot, descriptor(255)]);
        let d = read(img.as_slice()).unwrap();
        assert_eq!(d.volume_id, "DEBIAN");
        assert_eq!(d.volume_bytes, 20 * 2048);
        assert_eq!(d.boot_catalog, Some(33));
    }

    #[test]
    fn says_why_an_image_is_not_iso_9660() {
        let err = read(vec![0u8; 1000].as_slice()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not an ISO 9660 image: only 1000 bytes, no primary volume descriptor at 32 KiB"
        );
        let err = read(vec![0u8; 40000].as_slice()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not an ISO 9660 image: no primary volume descriptor at 32 KiB"
        );
        let mut odd = primary();
        odd[128..130].copy_from_slice(&512u16.to_le_bytes());
        let err = read(image_with(&[odd, descriptor(255)]).as_slice()).unwrap_err();
        assert!(matches!(err, IsoError::Unsupported(_)), "{err}");
    }

    #[test]
    fn a_descriptor_set_cut_short_is_truncated() {
        let err = read(image_with(&[primary()]).as_slice()).unwrap_err();
        assert!(
            matches!(
                err,
                IsoError::Truncated {
                    end: 36864,
                    len: 34816,
                    ..
                }
            ),
            "{err}"
        );
    }
}
