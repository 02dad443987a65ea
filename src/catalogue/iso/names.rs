//! A directory record's name as Linux shows it when it mounts the image:
//! the Rock Ridge name (NM) when there is one, else the Joliet name (UCS-2
//! big-endian), else the primary ISO 9660 name lower-cased; the version
//! (`;1`) and a trailing `.` removed from the last two. A name that cannot be
//! a path component (empty, `.`, `..`, with `/` or NUL) is refused.

/// Which names a tree of the image carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Names {
    /// The primary tree, with Rock Ridge names where a record has one.
    RockRidge,
    /// The Joliet supplementary tree.
    Joliet,
    /// The primary tree's own names.
    Primary,
}

/// The name of a record with identifier `raw` and Rock Ridge name `nm`.
pub(super) fn name(names: Names, raw: &[u8], nm: Option<&str>) -> Option<String> {
    let name = match (names, nm) {
        (Names::RockRidge, Some(nm)) => nm.to_string(),
        (Names::Joliet, _) => strip_version(&joliet(raw)).to_string(),
        _ => strip_version(&String::from_utf8_lossy(raw)).to_ascii_lowercase(),
    };
    usable(&name).then_some(name)
}

fn joliet(raw: &[u8]) -> String {
    let units: Vec<u16> = raw
        .chunks_exact(2)
        .map(|w| u16::from_be_bytes([w[0], w[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// `NAME.EXT;1` → `NAME.EXT`, `NAME.;1` → `NAME`.
fn strip_version(name: &str) -> &str {
    let name = match name.rsplit_once(';') {
        Some((base, v)) if v.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    };
    let trimmed = name.trim_end_matches('.');
    if trimmed.is_empty() {
        name
    } else {
        trimmed
    }
}

fn usable(name: &str) -> bool {
    !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ucs2(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(u16::to_be_bytes).collect()
    }

    #[test]
    fn primary_names_look_as_linux_mounts_them() {
        assert_eq!(
            name(Names::Primary, b"VMLINUZ.;1", None).as_deref(),
            Some("vmlinuz")
        );
        assert_eq!(
            name(Names::Primary, b"INITRD.GZ;1", None).as_deref(),
            Some("initrd.gz")
        );
        assert_eq!(
            name(Names::Primary, b"INSTALL.AMD", None).as_deref(),
            Some("install.amd")
        );
        assert_eq!(
            name(Names::RockRidge, b"VMLINUZ.;1", None).as_deref(),
            Some("vmlinuz")
        );
    }

    #[test]
    fn rock_ridge_and_joliet_names_win() {
        let rr = name(Names::RockRidge, b"A_VERY_L.CFG;1", Some("A Very Long.cfg"));
        assert_eq!(rr.as_deref(), Some("A Very Long.cfg"));
        let j = name(Names::Joliet, &ucs2("Grub.Cfg;1"), None);
        assert_eq!(j.as_deref(), Some("Grub.Cfg"));
        assert_eq!(
            name(Names::Joliet, &ucs2("Ünïcode"), None).as_deref(),
            Some("Ünïcode")
        );
    }

    #[test]
    fn names_that_are_not_path_components_are_refused() {
        for raw in [&b""[..], b"\0", b"..", b"a/b", b";1"] {
            assert_eq!(name(Names::Primary, raw, None), None, "{raw:?}");
        }
        assert_eq!(name(Names::RockRidge, b"X", Some("..")), None);
        assert_eq!(name(Names::Joliet, &ucs2("a/b"), None), None);
    }
}
