//! From a request target to a name inside the served root, with the same
//! confinement as TFTP: percent-decoding is done exactly once, before any
//! check (so `%252e%252e` stays the literal name `%2e%2e`, never `..`), then
//! the decoded name must be UTF-8 (overlong encodings such as `%c0%ae` are
//! not), carry no NUL and no backslash, and pass [`relative_path`]: no `..`
//! component, nothing empty. The query string is ignored.

use std::path::PathBuf;

use crate::tftp::fs::relative_path;

/// Why a request path is refused (always 400 or 403: never a file).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// A `%` not followed by two hex digits.
    #[error("malformed percent-encoding")]
    BadEscape,
    /// Decoded bytes that are not UTF-8 (overlong encodings included).
    #[error("file name is not UTF-8")]
    NotUtf8,
    /// A NUL byte or a backslash.
    #[error("NUL or backslash in file name")]
    Forbidden,
    /// `..`, an empty name, or otherwise outside the root.
    #[error("{0}")]
    Outside(String),
}

/// A request path, decoded and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestPath {
    /// The decoded name, without leading `/` (as TFTP names are looked up).
    pub name: String,
    /// The same, as a path relative to the root.
    pub relative: PathBuf,
}

/// Decodes and checks the path part of a request target (`/a/b%20c?x=1`).
pub fn request_path(target: &str) -> Result<RequestPath, PathError> {
    let raw = target.split(['?', '#']).next().unwrap_or_default();
    let bytes = percent_decode(raw.as_bytes())?;
    let name = String::from_utf8(bytes).map_err(|_| PathError::NotUtf8)?;
    if name.contains(['\0', '\\']) {
        return Err(PathError::Forbidden);
    }
    let relative = relative_path(name.as_bytes()).map_err(|e| PathError::Outside(e.to_string()))?;
    let name = name.trim_start_matches('/').to_string();
    Ok(RequestPath { name, relative })
}

/// `%XY` → the byte XY, once; everything else as it is.
fn percent_decode(input: &[u8]) -> Result<Vec<u8>, PathError> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        if b != b'%' {
            out.push(b);
            i += 1;
            continue;
        }
        let hex = input.get(i + 1..i + 3).ok_or(PathError::BadEscape)?;
        let text = std::str::from_utf8(hex).map_err(|_| PathError::BadEscape)?;
        let value = u8::from_str_radix(text, 16).map_err(|_| PathError::BadEscape)?;
        out.push(value);
        i += 3;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_encoded_names_inside_the_root() {
        let p = request_path("/pxelinux.cfg/01-52-54-00-12-34-56").unwrap();
        assert_eq!(p.name, "pxelinux.cfg/01-52-54-00-12-34-56");
        assert_eq!(request_path("/a%20b.iso?x=1").unwrap().name, "a b.iso");
        assert_eq!(
            request_path("//debian/./linux").unwrap().relative,
            PathBuf::from("debian/linux")
        );
        // decoded once: %252e is the literal name "%2e", not "."
        assert_eq!(request_path("/%252e%252e/x").unwrap().name, "%2e%2e/x");
    }

    #[test]
    fn escapes_are_refused() {
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/%2E%2E%2Fetc%2Fpasswd",
            "/a/%2e%2e/%2e%2e/b",
            "/",
            "",
            "/%00",
            "/a%00b",
            "/a\\..\\b",
            "/a%5c..%5cb",
            "/%c0%ae%c0%ae/etc",
            "/%e0%80%ae",
            "/%",
            "/%4",
            "/%zz",
            "/%ff",
        ] {
            assert!(request_path(bad).is_err(), "{bad:?} accepted");
        }
    }
}
