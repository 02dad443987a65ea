//! Authenticode signatures of PE/COFF images (UEFI applications such as shim
//! and GRUB, and x86-64/arm64 kernels with an EFI stub): the DOS header, the
//! PE header, the optional header's data directory 4 (the certificate table:
//! a file offset and a size) and the `WIN_CERTIFICATE` entries in it.
//!
//! Nothing is verified cryptographically: this says whether a file carries a
//! PKCS#7 signature and who issued the signing certificate (`signer`), which
//! is what a Secure Boot verdict from the files can say. Only the headers and
//! the certificate table are read, through a positioned reader, never the
//! whole file (kernels are megabytes; ISOs are read through HTTP ranges).

use super::signer;

/// The DOS header's size; `e_lfanew` (the PE header's offset) is at 0x3c.
const DOS_LEN: u64 = 64;
/// A PE header further into the file than this is not a real image.
const MAX_PE_OFFSET: u64 = 1 << 20;
/// "PE\0\0", the COFF file header (20) and a PE32+ optional header up to the
/// end of its 16 data directories (112 + 16 * 8).
const NT_LEN: u64 = 4 + 20 + 240;
/// The most of a certificate table read (real ones are 1.5 to 20 KiB).
pub const MAX_TABLE_READ: u64 = 64 * 1024;
/// The most bytes one signature check reads, all reads together.
pub const MAX_READ: u64 = DOS_LEN + NT_LEN + MAX_TABLE_READ;

/// `WIN_CERT_REVISION_2_0`.
const REVISION_2: u16 = 0x0200;
/// `WIN_CERT_TYPE_PKCS_SIGNED_DATA`.
const TYPE_PKCS7: u16 = 0x0002;

/// COFF machine types this module names.
pub const MACHINE_I386: u16 = 0x014c;
/// x86-64.
pub const MACHINE_AMD64: u16 = 0x8664;
/// AArch64.
pub const MACHINE_ARM64: u16 = 0xaa64;

/// Why a file is not a PE image this module can judge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeError {
    /// No `MZ` at the start.
    #[error("not a PE image (no MZ header)")]
    NotMz,
    /// `e_lfanew` points nowhere useful, or there is no `PE\0\0` there.
    #[error("not a PE image (no PE header at offset {0})")]
    NoPeHeader(u64),
    /// The headers end before the certificate table's entry.
    #[error("its PE headers are truncated")]
    Truncated,
    /// Neither PE32 nor PE32+.
    #[error("its optional header has the unknown magic {0:#06x}")]
    BadMagic(u16),
    /// The certificate table's offset and size do not fit in the file.
    #[error("its certificate table ({offset}+{size}) lies outside the {len}-byte file")]
    TableOutside {
        /// File offset from data directory 4.
        offset: u64,
        /// Size from data directory 4.
        size: u64,
        /// The file's length.
        len: u64,
    },
    /// A `WIN_CERTIFICATE` whose length is impossible.
    #[error("its certificate table has a malformed entry at byte {0}")]
    BadEntry(u64),
    /// The reader failed.
    #[error("it could not be read: {0}")]
    Read(String),
}

/// What the PE headers say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers {
    /// The COFF machine type (`MACHINE_*`).
    pub machine: u16,
    /// The certificate table (file offset, size), when data directory 4 names one.
    pub cert_table: Option<(u64, u64)>,
}

/// Whether a PE image carries an Authenticode signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    /// No certificate table, or none of its entries is a PKCS#7 signature.
    Unsigned,
    /// At least one PKCS#7 `WIN_CERTIFICATE` (revision 2.0).
    Signed {
        /// The issuers of the signing certificates (common names), one per
        /// signature, when the DER could be followed that far.
        signers: Vec<String>,
    },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// The PE header's offset from a DOS header (the file's first 64 bytes).
pub fn pe_offset(dos: &[u8]) -> Result<u64, PeError> {
    if dos.get(..2) != Some(b"MZ") {
        return Err(PeError::NotMz);
    }
    let at = u64::from(u32_at(dos, 0x3c).ok_or(PeError::NotMz)?);
    if !(4..=MAX_PE_OFFSET).contains(&at) {
        return Err(PeError::NoPeHeader(at));
    }
    Ok(at)
}

/// The machine and certificate table from the bytes at the PE header's offset
/// `at` (as many of `NT_LEN` as the file has).
pub fn parse_headers(nt: &[u8], at: u64) -> Result<Headers, PeError> {
    if nt.get(..4) != Some(b"PE\0\0") {
        return Err(PeError::NoPeHeader(at));
    }
    let machine = u16_at(nt, 4).ok_or(PeError::Truncated)?;
    let opt_size = usize::from(u16_at(nt, 20).ok_or(PeError::Truncated)?);
    let opt = nt.get(24..).ok_or(PeError::Truncated)?;
    let (count_at, dirs_at) = match u16_at(opt, 0).ok_or(PeError::Truncated)? {
        0x10b => (92, 96),
        0x20b => (108, 112),
        magic => return Err(PeError::BadMagic(magic)),
    };
    let count = u32_at(opt, count_at).ok_or(PeError::Truncated)?;
    let entry = dirs_at + 4 * 8;
    if count < 5 || opt_size < entry + 8 {
        return Ok(Headers {
            machine,
            cert_table: None,
        });
    }
    let offset = u64::from(u32_at(opt, entry).ok_or(PeError::Truncated)?);
    let size = u64::from(u32_at(opt, entry + 4).ok_or(PeError::Truncated)?);
    let cert_table = (offset != 0 && size != 0).then_some((offset, size));
    Ok(Headers {
        machine,
        cert_table,
    })
}

/// The signature in a certificate table: `table` holds its first bytes (at
/// most `MAX_TABLE_READ`), `declared` is its size from the data directory.
pub fn parse_table(table: &[u8], declared: u64) -> Result<Signature, PeError> {
    let mut signed = false;
    let mut signers: Vec<String> = Vec::new();
    let mut pos = 0usize;
    while let Some(head) = table.get(pos..pos + 8) {
        let length = u64::from(u32_at(head, 0).unwrap_or(0));
        let (revision, kind) = (u16_at(head, 4), u16_at(head, 6));
        if length < 8 || pos as u64 + length > declared {
            return Err(PeError::BadEntry(pos as u64));
        }
        let end = table.len().min(pos + length as usize);
        if revision == Some(REVISION_2) && kind == Some(TYPE_PKCS7) {
            signed = true;
            if let Some(name) = table.get(pos + 8..end).and_then(signer::issuer_name) {
                if !signers.contains(&name) {
                    signers.push(name);
                }
            }
        }
        pos = pos.saturating_add(length as usize).saturating_add(7) & !7;
    }
    Ok(if signed {
        Signature::Signed { signers }
    } else {
        Signature::Unsigned
    })
}

/// Reads the headers and the signature of a file of `len` bytes through
/// `read(offset, count)`, which must return `count` bytes (every request lies
/// inside the file; `MAX_READ` bytes at most in all).
pub fn read_signature<E: std::fmt::Display>(
    len: u64,
    mut read: impl FnMut(u64, usize) -> Result<Vec<u8>, E>,
) -> Result<(Headers, Signature), PeError> {
    let mut get = |offset: u64, want: u64| -> Result<Vec<u8>, PeError> {
        let count = want.min(len.saturating_sub(offset)) as usize;
        let bytes = read(offset, count).map_err(|e| PeError::Read(e.to_string()))?;
        match bytes.len() == count {
            true => Ok(bytes),
            false => Err(PeError::Read(format!("{} bytes at {offset}", bytes.len()))),
        }
    };
    if len < DOS_LEN {
        return Err(PeError::NotMz);
    }
    let at = pe_offset(&get(0, DOS_LEN)?)?;
    if at >= len {
        return Err(PeError::NoPeHeader(at));
    }
    let headers = parse_headers(&get(at, NT_LEN)?, at)?;
    let Some((offset, size)) = headers.cert_table else {
        return Ok((headers, Signature::Unsigned));
    };
    if offset.checked_add(size).is_none_or(|end| end > len) || size < 8 {
        return Err(PeError::TableOutside { offset, size, len });
    }
    let table = get(offset, size.min(MAX_TABLE_READ))?;
    Ok((headers, parse_table(&table, size)?))
}

/// `read_signature` over a file held in memory (tests, the fuzz target).
pub fn signature_of(bytes: &[u8]) -> Result<(Headers, Signature), PeError> {
    read_signature(bytes.len() as u64, |offset, count| {
        let start = offset as usize;
        bytes
            .get(start..start + count)
            .map(<[u8]>::to_vec)
            .ok_or("outside the file")
    })
}

#[cfg(test)]
#[path = "pe_tests.rs"]
mod tests;
