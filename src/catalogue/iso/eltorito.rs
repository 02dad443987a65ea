//! The El Torito boot catalogue (El Torito 1.0, section 2): the validation
//! entry, the default entry and the section entries, each naming a platform
//! and a boot image's first sector. Pure: parses the catalogue's bytes.

use super::descriptors::le32;

/// One boot entry of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
    /// The platform ID of its validation entry or section header.
    pub platform: u8,
    /// The boot media type (low nibble: 0 no emulation, 1-3 floppies, 4 hard disk).
    pub media: u8,
    /// The sector count (512-byte virtual sectors).
    pub sectors: u16,
    /// The boot image's first 2048-byte sector.
    pub load_rba: u32,
}

const ENTRY: usize = 32;

/// The bootable entries of a catalogue, in order. A catalogue whose
/// validation entry is not valid has none; parsing stops at the first entry
/// that is neither a section header nor follows one.
pub(super) fn parse(catalogue: &[u8]) -> Vec<Entry> {
    let mut entries = catalogue.chunks_exact(ENTRY);
    let Some(validation) = entries.next().filter(|v| valid(v)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    if let Some(default) = entries.next() {
        push_bootable(&mut found, validation[1], default);
    }
    while let Some(header) = entries.next() {
        if header[0] == 0x44 {
            continue; // an extension of the last section's last entry
        }
        if header[0] != 0x90 && header[0] != 0x91 {
            break;
        }
        let count = u16::from_le_bytes([header[2], header[3]]);
        let mut taken = 0;
        while taken < count {
            let Some(entry) = entries.next() else { break };
            if entry[0] == 0x44 {
                continue; // an extension of the entry before
            }
            push_bootable(&mut found, header[1], entry);
            taken += 1;
        }
        if header[0] == 0x91 {
            break;
        }
    }
    found
}

/// Header ID 1, key bytes 55 AA, and the 16-bit words summing to zero.
fn valid(v: &[u8]) -> bool {
    let sum = v.chunks_exact(2).fold(0u16, |s, w| {
        s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
    });
    v[0] == 1 && v[30] == 0x55 && v[31] == 0xAA && sum == 0
}

fn push_bootable(found: &mut Vec<Entry>, platform: u8, e: &[u8]) {
    if e[0] == 0x88 {
        found.push(Entry {
            platform,
            media: e[1] & 0x0F,
            sectors: u16::from_le_bytes([e[6], e[7]]),
            load_rba: le32(&e[8..12]),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validation(platform: u8) -> [u8; 32] {
        let mut v = [0u8; 32];
        v[0] = 1;
        v[1] = platform;
        v[30] = 0x55;
        v[31] = 0xAA;
        let sum = v.chunks_exact(2).fold(0u16, |s, w| {
            s.wrapping_add(u16::from_le_bytes([w[0], w[1]]))
        });
        v[28..30].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
        v
    }

    fn entry(bootable: bool, rba: u32, sectors: u16) -> [u8; 32] {
        let mut e = [0u8; 32];
        e[0] = if bootable { 0x88 } else { 0 };
        e[6..8].copy_from_slice(&sectors.to_le_bytes());
        e[8..12].copy_from_slice(&rba.to_le_bytes());
        e
    }

    fn header(last: bool, platform: u8, count: u16) -> [u8; 32] {
        let mut h = [0u8; 32];
        h[0] = if last { 0x91 } else { 0x90 };
        h[1] = platform;
        h[2..4].copy_from_slice(&count.to_le_bytes());
        h
    }

    #[test]
    fn reads_the_default_entry_and_sections() {
        let mut ext = [0u8; 32];
        ext[0] = 0x44;
        let parts = [
            validation(0),
            entry(true, 40, 4),
            header(false, 0xEF, 1),
            entry(true, 50, 0),
            ext,
            header(true, 0x02, 2),
            entry(false, 60, 1),
            entry(true, 61, 1),
            entry(true, 99, 1), // after the final section: ignored
        ];
        let found = parse(&parts.concat());
        let rbas: Vec<(u8, u32)> = found.iter().map(|e| (e.platform, e.load_rba)).collect();
        assert_eq!(rbas, [(0, 40), (0xEF, 50), (2, 61)]);
        assert_eq!(found[0].sectors, 4);
    }

    #[test]
    fn a_catalogue_that_does_not_validate_has_no_entries() {
        let mut bad = validation(0);
        bad[5] ^= 1;
        assert!(parse(&[bad, entry(true, 40, 4)].concat()).is_empty());
        assert!(parse(&[0u8; 10]).is_empty());
        assert!(parse(&[]).is_empty());
    }
}
