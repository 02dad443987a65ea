//! An ISO file opened for the catalogue: the reader's view of its files (for
//! the recognisers) and where each file lies in the image (for serving it
//! as a region of the ISO, without unpacking).

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use super::iso::{IsoError, IsoTree, Limits};
use super::tree::Tree;
use super::IsoRegions;

/// An ISO read for the catalogue.
pub struct OpenedIso {
    /// Its files.
    pub tree: Box<dyn Tree>,
    /// Where they lie in the image.
    pub regions: IsoRegions,
    /// Its volume identifier (a title when nothing better is known).
    pub volume_id: String,
}

/// Why an ISO is not in the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsoProblem {
    /// Files lie past its end: still being copied, or cut short.
    #[error("{0}")]
    Incomplete(String),
    /// Not a readable ISO 9660 image.
    #[error("{0}")]
    Broken(String),
}

/// Reads the ISO at `path` (opened without following a link).
pub fn open(path: &Path) -> Result<OpenedIso, IsoProblem> {
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| IsoProblem::Broken(format!("cannot open it: {e}")))?;
    let tree = IsoTree::open(file, &Limits::default()).map_err(problem)?;
    let image = tree.image();
    let regions = image
        .files
        .iter()
        .map(|(path, file)| {
            let extents = file.extents.iter().map(|e| (e.offset, e.len)).collect();
            (path.clone(), extents)
        })
        .collect();
    Ok(OpenedIso {
        volume_id: image.volume_id.trim().to_string(),
        regions,
        tree: Box::new(tree),
    })
}

fn problem(e: IsoError) -> IsoProblem {
    match e {
        IsoError::Truncated { .. } => IsoProblem::Incomplete(e.to_string()),
        other => IsoProblem::Broken(other.to_string()),
    }
}
