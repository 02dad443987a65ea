//! Who signed a PE image: the issuer of the first signer of an Authenticode
//! PKCS#7 `SignedData` (DER), by its common name (else its organisation).
//!
//! Just enough DER to walk ContentInfo -> SignedData -> signerInfos -> the
//! first SignerInfo's issuerAndSerialNumber -> Name; no X.509 parsing, no
//! verification. Every length is bounds-checked; anything unexpected gives
//! `None`.

/// `1.2.840.113549.1.7.2`, PKCS#7 signedData.
const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
/// `2.5.4.3`, commonName.
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
/// `2.5.4.10`, organizationName.
const ORGANIZATION: &[u8] = &[0x55, 0x04, 0x0a];

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;
const EXPLICIT_0: u8 = 0xa0;

/// One DER element: its tag and contents.
struct Tlv<'a> {
    tag: u8,
    body: &'a [u8],
}

/// The element at the start of `b` and what follows it.
fn tlv(b: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, b) = b.split_first()?;
    if tag & 0x1f == 0x1f {
        return None;
    }
    let (&first, b) = b.split_first()?;
    let (len, b) = if first < 0x80 {
        (usize::from(first), b)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = b
            .get(..n)?
            .iter()
            .fold(0usize, |acc, &x| acc << 8 | usize::from(x));
        (len, b.get(n..)?)
    };
    Some((
        Tlv {
            tag,
            body: b.get(..len)?,
        },
        b.get(len..)?,
    ))
}

/// The elements inside a constructed element's contents, until one is malformed.
fn children(mut b: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    std::iter::from_fn(move || {
        let (item, rest) = tlv(b)?;
        b = rest;
        Some(item)
    })
}

/// The only element of `b` when it has tag `tag`.
fn expect(b: &[u8], tag: u8) -> Option<&[u8]> {
    let (item, _) = tlv(b)?;
    (item.tag == tag).then_some(item.body)
}

/// The issuer name of the first signer of a PKCS#7 SignedData.
pub fn issuer_name(pkcs7: &[u8]) -> Option<String> {
    let mut content = children(expect(pkcs7, SEQUENCE)?);
    let oid = content.next()?;
    if oid.tag != OID || oid.body != SIGNED_DATA {
        return None;
    }
    let wrapped = content.next()?;
    if wrapped.tag != EXPLICIT_0 {
        return None;
    }
    let signed_data = expect(wrapped.body, SEQUENCE)?;
    let signer_infos = children(signed_data).filter(|t| t.tag == SET).last()?;
    let mut signer = children(expect(signer_infos.body, SEQUENCE)?);
    let _version = signer.next()?;
    let sid = signer.next()?;
    if sid.tag != SEQUENCE {
        return None;
    }
    let name = expect(sid.body, SEQUENCE)?;
    attribute(name, COMMON_NAME).or_else(|| attribute(name, ORGANIZATION))
}

/// The value of attribute `oid` in an X.501 Name.
fn attribute(name: &[u8], oid: &[u8]) -> Option<String> {
    children(name)
        .filter(|rdn| rdn.tag == SET)
        .flat_map(|rdn| children(rdn.body))
        .find_map(|atv| {
            let mut parts = children(atv.body);
            let key = parts.next()?;
            (key.tag == OID && key.body == oid).then(|| text(&parts.next()?))?
        })
}

/// A directory string's text (UTF8String, PrintableString, T61, IA5, BMP).
fn text(value: &Tlv<'_>) -> Option<String> {
    let s = match value.tag {
        0x0c | 0x13 | 0x14 | 0x16 => String::from_utf8_lossy(value.body).into_owned(),
        0x1e => {
            let units = value
                .body
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or('?'))
                .collect()
        }
        _ => return None,
    };
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    (!s.trim().is_empty()).then(|| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{der, pkcs7};
    use super::*;

    #[test]
    fn names_the_issuer_of_the_first_signer() {
        let p = pkcs7("Debian Secure Boot CA");
        assert_eq!(issuer_name(&p).as_deref(), Some("Debian Secure Boot CA"));
    }

    #[test]
    fn falls_back_to_the_organisation_and_reads_bmp_strings() {
        let bmp: Vec<u8> = "Acme".encode_utf16().flat_map(u16::to_be_bytes).collect();
        let atv = der(
            SEQUENCE,
            &[der(OID, ORGANIZATION), der(0x1e, &bmp)].concat(),
        );
        let name = der(SEQUENCE, &der(SET, &atv));
        let p = super::super::fixtures::pkcs7_with_name(&name);
        assert_eq!(issuer_name(&p).as_deref(), Some("Acme"));
    }

    #[test]
    fn gives_nothing_for_garbage_or_cut_input() {
        let p = pkcs7("Microsoft Corporation UEFI CA 2011");
        for cut in 0..p.len() {
            assert_eq!(issuer_name(&p[..cut]), None, "cut at {cut}");
        }
        assert_eq!(issuer_name(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
        assert_eq!(issuer_name(&[0x1f, 0x01, 0x00]), None);
        assert_eq!(issuer_name(b""), None);
    }
}
