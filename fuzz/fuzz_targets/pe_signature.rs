//! Fuzz target: the Authenticode check of the image catalogue's Secure Boot
//! verdicts (`catalogue::recognise::pe`) on a hostile file. It must never
//! panic, never ask for a byte outside the file, read at most `MAX_READ`
//! bytes in all, and call a file signed only with a certificate table that
//! lies inside it. The PKCS#7 signer walk (`signer::issuer_name`) and the
//! certificate table parser also get the raw input.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netboot::catalogue::recognise::pe::{parse_table, read_signature, Signature, MAX_READ};
use netboot::catalogue::recognise::signer::issuer_name;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    let mut total = 0u64;
    let result = read_signature(len, |offset, count| {
        let end = offset.checked_add(count as u64);
        assert!(end.is_some_and(|end| end <= len), "{offset}+{count} of {len}");
        total += count as u64;
        Ok::<_, String>(data[offset as usize..offset as usize + count].to_vec())
    });
    assert!(total <= MAX_READ, "{total} bytes read");
    if let Ok((headers, Signature::Signed { .. })) = result {
        let (offset, size) = headers.cert_table.expect("signed without a table");
        assert!(offset + size <= len);
    }
    let _ = issuer_name(data);
    let _ = parse_table(data, len);
});
