//! Client architecture names used in profiles (`match: arch:`) and their
//! option 93 codes, read from the one table in [`crate::arch`]. Codes 7 and 9
//! are both x64 UEFI in practice (many firmwares send 9), so they are one
//! architecture here.

use crate::arch::TABLE;

/// The name profiles use for `code` (`uefi-arm64`), from [`crate::arch`].
pub fn name_of(code: u16) -> Option<&'static str> {
    crate::arch::lookup(code).map(|a| a.name)
}

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
    let mut out: Vec<u16> = TABLE
        .iter()
        .filter(|a| a.name == wanted)
        .map(|a| canonical(a.code))
        .collect();
    out.dedup();
    (!out.is_empty()).then_some(out)
}

/// All known names, for error messages.
pub fn known_names() -> String {
    let mut names: Vec<&str> = Vec::new();
    for a in &TABLE {
        if !names.contains(&a.name) {
            names.push(a.name);
        }
    }
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
        assert_eq!(codes_for_name("uboot_arm64"), Some(vec![22]));
        assert_eq!(codes_for_name("http-loongarch64"), Some(vec![40]));
        assert_eq!(name_of(9), Some("uefi-x64"));
        assert_eq!(known_names().matches("uefi-x64").count(), 1);
    }
}
