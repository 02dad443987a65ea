//! Why an ISO image could not be read, in words a user can act on: the
//! catalogue logs "skipped NAME: <reason>" and waits on `Truncated`.

/// Why `read_image` gave up on an image.
#[derive(Debug, thiserror::Error)]
pub enum IsoError {
    /// No ISO 9660 volume where one must be (garbage, another format).
    #[error("not an ISO 9660 image: {0}")]
    NotIso(String),
    /// Something the image points at lies past its end: the file is still
    /// being copied, or was cut short. The catalogue waits and retries.
    #[error("truncated: {what} ends at byte {end}, past the end of the image ({len} bytes); wait for the copy to finish or copy it again")]
    Truncated {
        /// What lies past the end (`file install.amd/vmlinuz`, `the volume`).
        what: String,
        /// Where it ends, in bytes from the start of the image.
        end: u64,
        /// The image's length.
        len: u64,
    },
    /// The image's structures contradict themselves.
    #[error("damaged ISO 9660 image: {0}")]
    Damaged(String),
    /// A directory contains one of its own ancestors.
    #[error("damaged ISO 9660 image: directory loop at {0}")]
    DirectoryLoop(String),
    /// The image exceeds a limit set for indexing it.
    #[error("too large to index: {what} (limit {limit}); such an image is not a boot image")]
    TooLarge {
        /// What exceeded it (`files`, `directory depth`, `bytes of directory records`).
        what: &'static str,
        /// The limit.
        limit: u64,
    },
    /// A feature this reader does not serve from (logical block size other than
    /// 2048, interleaved files).
    #[error("unsupported ISO 9660 image: {0}")]
    Unsupported(String),
    /// Reading the image failed.
    #[error("reading the image: {0}")]
    Io(#[from] std::io::Error),
}
