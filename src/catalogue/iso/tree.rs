//! An indexed image as a catalogue `Tree`: the recognisers read an ISO's
//! files exactly as a directory's, each read mapped through the file's
//! extents to positioned reads of the image.

use crate::catalogue::tree::{Tree, TreeError};

use super::{read_image, IsoError, IsoImage, Limits, ReadAt};

/// An image's files over the image itself.
#[derive(Debug)]
pub struct IsoTree<R: ReadAt> {
    image: IsoImage,
    src: R,
}

impl<R: ReadAt> IsoTree<R> {
    /// Indexes `src` (see `read_image`).
    pub fn open(src: R, limits: &Limits) -> Result<Self, IsoError> {
        let image = read_image(&src, limits)?;
        Ok(Self { image, src })
    }

    /// An image indexed before, over its source.
    pub fn from_parts(image: IsoImage, src: R) -> Self {
        Self { image, src }
    }

    /// What the index found.
    pub fn image(&self) -> &IsoImage {
        &self.image
    }

    /// The index and the source back.
    pub fn into_parts(self) -> (IsoImage, R) {
        (self.image, self.src)
    }
}

impl<R: ReadAt> Tree for IsoTree<R> {
    fn files(&self) -> &std::collections::BTreeMap<String, u64> {
        &self.image.sizes
    }

    fn read_at(&self, path: &str, offset: u64, len: usize) -> Result<Vec<u8>, TreeError> {
        let file = self
            .image
            .files
            .get(path)
            .ok_or_else(|| TreeError::Missing(path.into()))?;
        let ranges = file.ranges(offset, len as u64);
        let total: u64 = ranges.iter().map(|r| r.len).sum();
        let mut out = vec![0u8; total as usize];
        let mut at = 0usize;
        for r in ranges {
            let end = at + r.len as usize;
            self.src
                .read_exact_at(&mut out[at..end], r.offset)
                .map_err(|error| TreeError::Io {
                    path: path.into(),
                    error,
                })?;
            at = end;
        }
        Ok(out)
    }
}
