//! Test fixtures: tiny synthetic PE images (signed or not), PKCS#7 blobs and
//! DER, and a tree builder for the layouts' tests.

use super::pe::{MACHINE_AMD64, MACHINE_ARM64};

/// A DER element.
pub fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match body.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(body);
    out
}

/// A PKCS#7 SignedData whose only signer was issued by `name` (a DER Name),
/// with a dummy certificate set in front, as Authenticode has.
pub fn pkcs7_with_name(name: &[u8]) -> Vec<u8> {
    let oid_signed = der(
        0x06,
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
    );
    let signer = der(
        0x30,
        &[
            der(0x02, &[1]),
            der(0x30, &[name, &der(0x02, &[7])].concat()),
        ]
        .concat(),
    );
    let signed_data = der(
        0x30,
        &[
            der(0x02, &[1]),
            der(0x31, &der(0x30, &der(0x06, &[0x60, 0x86, 0x48]))),
            der(0x30, &der(0x06, &[0x2b, 0x06, 0x01])),
            der(
                0xa0,
                &der(0x30, b"a certificate would be here, issued by someone else"),
            ),
            der(0x31, &signer),
        ]
        .concat(),
    );
    der(0x30, &[oid_signed, der(0xa0, &signed_data)].concat())
}

/// A PKCS#7 SignedData whose signer's issuer has common name `cn`.
pub fn pkcs7(cn: &str) -> Vec<u8> {
    let atv = der(
        0x30,
        &[der(0x06, &[0x55, 0x04, 0x03]), der(0x0c, cn.as_bytes())].concat(),
    );
    let country = der(
        0x30,
        &[der(0x06, &[0x55, 0x04, 0x06]), der(0x13, b"US")].concat(),
    );
    pkcs7_with_name(&der(0x30, &[der(0x31, &country), der(0x31, &atv)].concat()))
}

/// Offset of the PE header in `pe_image`.
pub const PE_AT: usize = 0x80;
/// Offset of data directory 4 (the certificate table) in `pe_image`.
pub const CERT_DIR_AT: usize = PE_AT + 24 + 112 + 32;

/// A PE32+ image for `machine`, signed by `signer` (a PKCS#7 issued by that
/// CN, in a revision 2.0 WIN_CERTIFICATE after 0x200 bytes of body) or not.
pub fn pe_image(machine: u16, signer: Option<&str>) -> Vec<u8> {
    let mut b = vec![0u8; 0x200];
    b[..2].copy_from_slice(b"MZ");
    b[0x3c..0x40].copy_from_slice(&(PE_AT as u32).to_le_bytes());
    b[PE_AT..PE_AT + 4].copy_from_slice(b"PE\0\0");
    b[PE_AT + 4..PE_AT + 6].copy_from_slice(&machine.to_le_bytes());
    b[PE_AT + 20..PE_AT + 22].copy_from_slice(&240u16.to_le_bytes());
    let opt = PE_AT + 24;
    b[opt..opt + 2].copy_from_slice(&0x20bu16.to_le_bytes());
    b[opt + 108..opt + 112].copy_from_slice(&16u32.to_le_bytes());
    if let Some(cn) = signer {
        let p = pkcs7(cn);
        let len = 8 + p.len();
        let at = b.len();
        b.extend((len as u32).to_le_bytes());
        b.extend(0x0200u16.to_le_bytes());
        b.extend(0x0002u16.to_le_bytes());
        b.extend(p);
        b.resize(at + len.next_multiple_of(8), 0);
        let size = (b.len() - at) as u32;
        b[CERT_DIR_AT..CERT_DIR_AT + 4].copy_from_slice(&(at as u32).to_le_bytes());
        b[CERT_DIR_AT + 4..CERT_DIR_AT + 8].copy_from_slice(&size.to_le_bytes());
    }
    b
}

/// A signed x86-64 EFI binary (shim by Microsoft, GRUB or a kernel by a distribution).
pub fn signed(cn: &str) -> Vec<u8> {
    pe_image(MACHINE_AMD64, Some(cn))
}

/// An unsigned x86-64 EFI binary.
pub fn unsigned() -> Vec<u8> {
    pe_image(MACHINE_AMD64, None)
}

/// A signed arm64 EFI binary.
pub fn signed_arm64(cn: &str) -> Vec<u8> {
    pe_image(MACHINE_ARM64, Some(cn))
}

/// Microsoft's UEFI CA, which signs distributions' shims.
pub const MS_CA: &str = "Microsoft Corporation UEFI CA 2011";
