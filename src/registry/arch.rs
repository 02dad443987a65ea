//! Client architecture names used in profiles and their option 93 codes
//! (IANA "Processor Architecture Types"). Codes 7 and 9 are both x64 UEFI in
//! practice (many firmwares send 9), so they are one architecture here.

/// Names a profile may use in `match: arch:`, with the codes each stands for.
pub const ARCH_NAMES: &[(&str, &[u16])] = &[
    ("bios", &[0]),
    ("uefi-ia32", &[6]),
    ("uefi-x64", &[7, 9]),
    ("uefi-arm32", &[10]),
    ("uefi-arm64", &[11]),
    ("http-ia32", &[15]),
    ("http-x64", &[16]),
    ("http-arm32", &[18]),
    ("http-arm64", &[19]),
    ("http-bios", &[20]),
    ("uboot-arm32", &[21]),
    ("uboot-arm64", &[22]),
    ("uefi-riscv32", &[25]),
    ("http-riscv32", &[26]),
    ("uefi-riscv64", &[27]),
    ("http-riscv64", &[28]),
    ("uefi-loongarch64", &[39]),
    ("rpi", &[41]),
];

/// The code matching uses for `code`: 9 and 7 are the same (x64 UEFI).
pub fn canonical(code: u16) -> u16 {
    if code == 9 {
        7
    } else {
        code
    }
}

/// The canonical codes for a name (case-insensitive, `_` and `-` alike), or
/// `None` for an unknown name.
pub fn codes_for_name(name: &str) -> Option<Vec<u16>> {
    let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
    ARCH_NAMES
        .iter()
        .find(|(n, _)| *n == wanted)
        .map(|(_, codes)| {
            let mut out: Vec<u16> = codes.iter().map(|c| canonical(*c)).collect();
            out.dedup();
            out
        })
}

/// All known names, for error messages.
pub fn known_names() -> String {
    let names: Vec<&str> = ARCH_NAMES.iter().map(|(n, _)| *n).collect();
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x64_uefi_is_seven_and_nine() {
        assert_eq!(codes_for_name("uefi-x64"), Some(vec![7]));
        assert_eq!(canonical(9), canonical(7));
        assert_eq!(codes_for_name("UEFI_X64"), Some(vec![7]));
    }

    #[test]
    fn unknown_names_are_none() {
        assert_eq!(codes_for_name("uefi-x65"), None);
        assert_eq!(codes_for_name("bios"), Some(vec![0]));
        assert!(known_names().contains("uefi-arm64"));
    }
}
