use super::*;

#[test]
fn every_code_has_its_row_in_order() {
    for code in 0..=41u16 {
        let row = lookup(code).unwrap();
        assert_eq!(row.code, code);
        assert!(!row.name.is_empty() && !row.iana.is_empty());
    }
    assert_eq!(lookup(42), None);
}

#[test]
fn every_code_maps_to_one_family_or_none() {
    let expected: [(u16, Option<&str>, Transport); 42] = [
        (0, Some("bios"), Pxe),
        (1, None, Pxe),
        (2, None, Pxe),
        (3, None, Pxe),
        (4, None, Pxe),
        (5, None, Pxe),
        (6, Some("uefi_ia32"), Pxe),
        (7, Some("uefi_x64"), Pxe),
        (8, None, Pxe),
        (9, Some("uefi_x64"), Pxe),
        (10, Some("uefi_arm32"), Pxe),
        (11, Some("uefi_arm64"), Pxe),
        (12, None, Pxe),
        (13, None, Pxe),
        (14, None, Pxe),
        (15, Some("uefi_ia32"), Http),
        (16, Some("uefi_x64"), Http),
        (17, Some("uefi_x64"), Http),
        (18, Some("uefi_arm32"), Http),
        (19, Some("uefi_arm64"), Http),
        (20, Some("bios"), Http),
        (21, Some("uboot_arm32"), Pxe),
        (22, Some("uboot_arm64"), Pxe),
        (23, Some("uboot_arm32"), Http),
        (24, Some("uboot_arm64"), Http),
        (25, Some("uefi_riscv32"), Pxe),
        (26, Some("uefi_riscv32"), Http),
        (27, Some("uefi_riscv64"), Pxe),
        (28, Some("uefi_riscv64"), Http),
        (29, None, Pxe),
        (30, None, Http),
        (31, None, Pxe),
        (32, None, Pxe),
        (33, None, Pxe),
        (34, None, Pxe),
        (35, None, Pxe),
        (36, None, Pxe),
        (37, None, Pxe),
        (38, None, Http),
        (39, Some("uefi_loongarch64"), Pxe),
        (40, Some("uefi_loongarch64"), Http),
        (41, Some("rpi"), Pxe),
    ];
    for (code, key, transport) in expected {
        let row = lookup(code).unwrap();
        assert_eq!(row.family.map(Family::key), key, "code {code}");
        assert_eq!(row.transport, transport, "code {code}");
    }
}

#[test]
fn http_codes_name_their_http_key() {
    let http: Vec<(u16, &str)> = TABLE
        .iter()
        .filter(|a| a.transport == Http)
        .filter_map(|a| Some((a.code, a.family?.http_key()?)))
        .collect();
    assert!(http.contains(&(18, "http_arm32")));
    assert!(http.contains(&(28, "http_riscv64")));
    assert!(http.contains(&(40, "http_loongarch64")));
    assert!(http.contains(&(24, "http_uboot_arm64")));
    assert!(is_http(16) && !is_http(7) && !is_http(99));
}

#[test]
fn keys_are_distinct() {
    let mut keys: Vec<&str> = Family::ALL.iter().map(|f| f.key()).collect();
    keys.extend(Family::ALL.iter().filter_map(|f| f.http_key()));
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n);
}

#[test]
fn uboot_takes_the_uboot_family_of_its_processor() {
    assert_eq!(Family::UefiArm64.as_uboot(), Family::UbootArm64);
    assert_eq!(Family::UefiArm32.as_uboot(), Family::UbootArm32);
    assert_eq!(Family::UefiRiscv64.as_uboot(), Family::UefiRiscv64);
}
