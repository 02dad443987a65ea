//! What the status server may change, and who may change it: a machine's
//! one-shot boot of a catalogue entry (`POST` or `DELETE
//! /api/next-boot/<MAC>`), for a request that carries the token netboot
//! keeps in its state directory (`Authorization: Bearer <token>`). The
//! token is made once, readable by the state directory's owner only, and
//! read before privileges are dropped.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::catalogue::live::Shared;
use crate::catalogue::next_boot::{self, NextBoot, Until};
use crate::mac::MacAddr;

/// The token's file in the state directory.
pub const TOKEN_FILE: &str = "status-token";

/// What state-changing requests are checked against and act on.
#[derive(Clone)]
pub struct Control {
    /// The state directory (one-shot boots live under it).
    pub state_dir: PathBuf,
    /// The token a request must carry.
    pub token: String,
    /// The image catalogue, to check an entry exists.
    pub catalogue: Shared,
}

/// A refused or failed change: the HTTP status and why.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal(pub u16, pub String);

/// The body of `POST /api/next-boot/<MAC>`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    entry: String,
    #[serde(default)]
    until: Until,
}

impl Control {
    /// Whether `header` (an `Authorization` value) carries the token.
    pub fn allows(&self, header: Option<&str>) -> bool {
        let given = header.and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("");
        // the same time whatever the first wrong byte
        given.len() == self.token.len()
            && given
                .bytes()
                .zip(self.token.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Sets `mac`'s next boot from a JSON `body`.
    pub fn set(&self, mac: MacAddr, body: &[u8]) -> Result<String, Refusal> {
        let request: Request = serde_json::from_slice(body).map_err(|e| {
            Refusal(
                400,
                format!("the body must be {{\"entry\": ID, \"until\": \"kernel\"|\"done\"}}: {e}"),
            )
        })?;
        if self.catalogue.load().entry(&request.entry).is_none() {
            return Err(Refusal(
                404,
                format!("no catalogue entry {:?} (see /api/images)", request.entry),
            ));
        }
        let next = NextBoot {
            entry: request.entry,
            until: request.until,
        };
        next_boot::set(&self.state_dir, &mac, &next)
            .map_err(|e| Refusal(500, format!("cannot write the one-shot boot: {e}")))?;
        tracing::info!(%mac, entry = %next.entry, "one-shot boot set from the status API");
        Ok(format!("{mac} boots {} next\n", next.entry))
    }

    /// Cancels `mac`'s next boot.
    pub fn clear(&self, mac: MacAddr) -> Result<String, Refusal> {
        match next_boot::clear(&self.state_dir, &mac) {
            Ok(true) => Ok(format!("{mac}: one-shot boot cancelled\n")),
            Ok(false) => Err(Refusal(404, format!("{mac} has no one-shot boot"))),
            Err(e) => Err(Refusal(
                500,
                format!("cannot cancel the one-shot boot: {e}"),
            )),
        }
    }
}

/// The token in `state_dir`, made (random, mode 0600) when there is none.
pub fn token(state_dir: &Path) -> std::io::Result<String> {
    let path = state_dir.join(TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(text.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    std::fs::create_dir_all(state_dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(state_dir)?;
    tmp.as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    writeln!(tmp, "{token}")?;
    tmp.as_file().sync_all()?;
    tmp.persist(&path).map_err(|e| e.error)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn control(dir: &Path) -> Control {
        Control {
            state_dir: dir.to_path_buf(),
            token: token(dir).unwrap(),
            catalogue: crate::catalogue::live::empty(dir.to_path_buf()),
        }
    }

    #[test]
    fn the_token_is_made_once_private_and_checked_whole() {
        let dir = tempfile::tempdir().unwrap();
        let c = control(dir.path());
        assert_eq!(token(dir.path()).unwrap(), c.token, "kept across restarts");
        let mode = std::fs::metadata(dir.path().join(TOKEN_FILE)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
        assert!(c.allows(Some(&format!("Bearer {}", c.token))));
        assert!(!c.allows(Some(&format!("Bearer {}x", c.token))));
        assert!(!c.allows(Some(&c.token)));
        assert!(!c.allows(None));
    }

    #[test]
    fn an_unknown_entry_or_a_bad_body_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let c = control(dir.path());
        let mac: MacAddr = "52:54:00:00:00:01".parse().unwrap();
        assert_eq!(c.set(mac, b"{\"entry\": \"nope.iso\"}").unwrap_err().0, 404);
        assert_eq!(c.set(mac, b"entry=nope").unwrap_err().0, 400);
        assert_eq!(c.clear(mac).unwrap_err().0, 404);
        assert!(next_boot::get(dir.path(), &mac).is_none());
    }
}
