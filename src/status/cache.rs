//! The `/api/status` document, built at most once per [`FRESH_FOR`] and
//! shared by every reader in that time: fifty open pages cost about what
//! one does, and the event stream's lock is taken a couple of times a
//! second whatever the number of readers.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;

/// How long a built document is served again. The page polls once a
/// second, so every poll still sees a newer document than the last.
pub const FRESH_FOR: Duration = Duration::from_millis(500);

/// The last document and when it was built.
#[derive(Default)]
pub struct Cached {
    last: Mutex<Option<(Instant, Bytes)>>,
}

impl Cached {
    /// The document built less than [`FRESH_FOR`] ago, else a new one from
    /// `build` (readers arriving meanwhile wait for it, not build their own).
    pub fn get(&self, now: Instant, build: impl FnOnce() -> String) -> Bytes {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((at, doc)) = last.as_ref() {
            if now.saturating_duration_since(*at) < FRESH_FOR {
                return doc.clone();
            }
        }
        let doc = Bytes::from(build());
        *last = Some((now, doc.clone()));
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_document_is_served_again_and_a_stale_one_rebuilt() {
        let cache = Cached::default();
        let t0 = Instant::now();
        assert_eq!(cache.get(t0, || "one".into()), "one");
        let soon = t0 + FRESH_FOR / 2;
        assert_eq!(cache.get(soon, || "two".into()), "one");
        let later = t0 + FRESH_FOR;
        assert_eq!(cache.get(later, || "three".into()), "three");
    }
}
