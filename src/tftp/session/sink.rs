//! Received bytes on their way to an upload: decoded from netascii when
//! needed, written in large chunks, committed at the end. Writes block the
//! transfer's own thread, never the async runtime.

use super::CHUNK_BYTES;
use crate::tftp::fs::{FsError, Upload};
use crate::tftp::netascii;
use crate::tftp::packet::Mode;

/// Received bytes on their way to the upload file: decoded from netascii
/// when needed, and written in large chunks.
pub(super) struct Sink {
    upload: Option<Upload>,
    decoder: Option<netascii::Decoder>,
    pending: Vec<u8>,
}

impl Sink {
    pub(super) fn new(mode: Mode, upload: Upload) -> Self {
        Self {
            upload: Some(upload),
            decoder: (mode == Mode::Netascii).then(netascii::Decoder::default),
            pending: Vec::with_capacity(CHUNK_BYTES),
        }
    }

    pub(super) fn push(&mut self, data: &[u8]) {
        match &mut self.decoder {
            Some(decoder) => decoder.decode(data, &mut self.pending),
            None => self.pending.extend_from_slice(data),
        }
    }

    pub(super) fn flush_if_full(&mut self) -> Result<(), FsError> {
        if self.pending.len() >= CHUNK_BYTES {
            self.flush(false)?;
        }
        Ok(())
    }

    pub(super) fn commit(&mut self) -> Result<(), FsError> {
        if let Some(decoder) = &mut self.decoder {
            decoder.finish(&mut self.pending);
        }
        self.flush(true)
    }

    /// Writes what is pending (and commits). After a failure or a commit
    /// the upload is gone: dropping it removed the temporary file, or it is
    /// in place.
    fn flush(&mut self, commit: bool) -> Result<(), FsError> {
        let mut upload = self
            .upload
            .take()
            .ok_or_else(|| FsError::Access("upload already closed".into()))?;
        upload.write(&self.pending)?;
        self.pending.clear();
        if commit {
            upload.commit()?;
        } else {
            self.upload = Some(upload);
        }
        Ok(())
    }
}
