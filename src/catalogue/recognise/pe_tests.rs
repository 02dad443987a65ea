use super::super::fixtures::{pe_image, pkcs7, signed, unsigned, CERT_DIR_AT, MS_CA, PE_AT};
use super::*;

fn put(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn a_signed_image_names_its_signer() {
    let (headers, sig) = signature_of(&signed(MS_CA)).unwrap();
    assert_eq!(headers.machine, MACHINE_AMD64);
    assert_eq!(
        sig,
        Signature::Signed {
            signers: vec![MS_CA.into()]
        }
    );
}

#[test]
fn an_image_without_a_certificate_table_is_unsigned() {
    let (headers, sig) = signature_of(&unsigned()).unwrap();
    assert_eq!(headers.cert_table, None);
    assert_eq!(sig, Signature::Unsigned);
    let (headers, _) = signature_of(&pe_image(MACHINE_ARM64, None)).unwrap();
    assert_eq!(headers.machine, MACHINE_ARM64);
}

#[test]
fn two_signatures_give_two_signers() {
    let mut b = signed(MS_CA);
    let second = pkcs7("Microsoft UEFI CA 2023");
    let len = 8 + second.len();
    b.extend((len as u32).to_le_bytes());
    b.extend([0x00, 0x02, 0x02, 0x00]);
    b.extend(second);
    b.resize(b.len().next_multiple_of(8), 0);
    let size = (b.len() - 0x200) as u32;
    put(&mut b, CERT_DIR_AT + 4, size);
    let (_, sig) = signature_of(&b).unwrap();
    let want = vec![MS_CA.to_string(), "Microsoft UEFI CA 2023".into()];
    assert_eq!(sig, Signature::Signed { signers: want });
}

#[test]
fn a_pe32_image_is_read_too() {
    let mut b = unsigned();
    let opt = PE_AT + 24;
    b[opt..opt + 2].copy_from_slice(&0x10bu16.to_le_bytes());
    put(&mut b, opt + 92, 16);
    put(&mut b, opt + 96 + 32, 0x100);
    put(&mut b, opt + 96 + 36, 16);
    b[0x100..0x108].copy_from_slice(&[16, 0, 0, 0, 0x00, 0x02, 0x02, 0x00]);
    let (_, sig) = signature_of(&b).unwrap();
    assert_eq!(sig, Signature::Signed { signers: vec![] });
}

#[test]
fn other_certificate_types_are_not_a_signature() {
    let mut b = signed(MS_CA);
    b[0x206..0x208].copy_from_slice(&0x0001u16.to_le_bytes()); // X.509, not PKCS#7
    assert_eq!(signature_of(&b).unwrap().1, Signature::Unsigned);
}

#[test]
fn not_pe_files_are_told_apart() {
    assert_eq!(
        signature_of(b"\x1f\x8b\x08gzip").unwrap_err(),
        PeError::NotMz
    );
    let mut kernel = vec![0u8; 0x300];
    kernel[..2].copy_from_slice(b"MZ"); // a bzImage without an EFI stub
    assert!(matches!(signature_of(&kernel), Err(PeError::NoPeHeader(_))));
}

#[test]
fn every_truncation_fails_cleanly() {
    let b = signed(MS_CA);
    for cut in 0..b.len() {
        let r = signature_of(&b[..cut]);
        assert!(
            !matches!(r, Ok((_, Signature::Signed { .. }))),
            "cut at {cut}: {r:?}"
        );
    }
}

#[test]
fn hostile_offsets_are_refused() {
    let mut far = signed(MS_CA);
    put(&mut far, 0x3c, u32::MAX);
    assert_eq!(
        signature_of(&far).unwrap_err(),
        PeError::NoPeHeader(u32::MAX as u64)
    );

    let mut outside = signed(MS_CA);
    put(&mut outside, CERT_DIR_AT, u32::MAX);
    put(&mut outside, CERT_DIR_AT + 4, u32::MAX);
    assert!(matches!(
        signature_of(&outside),
        Err(PeError::TableOutside { .. })
    ));

    let mut zero = signed(MS_CA);
    put(&mut zero, 0x200, 0); // an entry of length 0 would loop forever
    assert_eq!(signature_of(&zero).unwrap_err(), PeError::BadEntry(0));

    let mut long = signed(MS_CA);
    put(&mut long, 0x200, 1 << 30);
    assert_eq!(signature_of(&long).unwrap_err(), PeError::BadEntry(0));

    let mut magic = signed(MS_CA);
    magic[PE_AT + 24] = 0x77;
    assert!(matches!(signature_of(&magic), Err(PeError::BadMagic(_))));
}

#[test]
fn reads_only_the_headers_and_the_table() {
    let mut b = signed(MS_CA);
    b.splice(0x200..0x200, vec![0u8; 8 << 20]); // an 8 MiB body before the table
    put(&mut b, CERT_DIR_AT, 0x200 + (8 << 20));
    let mut read = 0u64;
    let sig = read_signature(b.len() as u64, |offset, count| {
        read += count as u64;
        let start = offset as usize;
        Ok::<_, String>(b[start..start + count].to_vec())
    });
    assert!(matches!(sig, Ok((_, Signature::Signed { .. }))), "{sig:?}");
    assert!(read <= MAX_READ, "{read} bytes read");
}
