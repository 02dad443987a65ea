//! Files that live inside files of the root: the files of a catalogued ISO
//! image, served by TFTP and HTTP as a region of the image (a bounded read
//! at an offset), never unpacked. The catalogue implements [`Regions`]
//! (`catalogue::live::IsoFiles`); both servers ask it before the disk, and
//! open the containing file with their usual confinement.

/// A file served as a region of a file of the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    /// The containing file, relative to the root.
    pub file: String,
    /// Where the region starts in it.
    pub offset: u64,
    /// Its length.
    pub len: u64,
}

impl Region {
    /// Whether the region lies inside a containing file of `file_len` bytes
    /// (a shorter file changed since the catalogue read it).
    pub fn fits(&self, file_len: u64) -> bool {
        self.offset
            .checked_add(self.len)
            .is_some_and(|end| end <= file_len)
    }

    /// The message for a region that does not fit its file.
    pub fn changed_message(&self) -> String {
        format!(
            "{} is shorter than its directory says: changed since it was read",
            self.file
        )
    }
}

/// Files that live inside files of the root (the files of a catalogued ISO
/// image, served without unpacking it).
pub trait Regions: Send + Sync {
    /// For a request name: `None` when it is not inside such a file, else
    /// the region, or why it cannot be served.
    fn region(&self, name: &str) -> Option<Result<Region, String>>;

    /// Whether `name` lies inside one of the containing files, found there
    /// or not (`disc.iso/missing.efi`): then it is not found, rather than
    /// a path through a regular file of the root.
    fn holds(&self, _name: &str) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_fits_only_inside_its_file() {
        let r = Region {
            file: "a.iso".into(),
            offset: 100,
            len: 50,
        };
        assert!(r.fits(150));
        assert!(!r.fits(149));
        let huge = Region {
            offset: u64::MAX,
            ..r
        };
        assert!(!huge.fits(u64::MAX), "no overflow");
    }
}
