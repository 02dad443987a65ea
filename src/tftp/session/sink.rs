//! Received bytes on their way to an upload: decoded from netascii when
//! needed, written in large chunks on the blocking pool, committed at the end.

use super::CHUNK_BYTES;
use crate::tftp::fs::{FsError, Upload};
use crate::tftp::netascii;
use crate::tftp::packet::Mode;

/// Received bytes on their way to the upload file: decoded from netascii
/// when needed, and written in large chunks on the blocking pool.
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

    pub(super) async fn flush_if_full(&mut self) -> Result<(), FsError> {
        if self.pending.len() >= CHUNK_BYTES {
            self.flush(false).await?;
        }
        Ok(())
    }

    pub(super) async fn commit(&mut self) -> Result<(), FsError> {
        if let Some(decoder) = &mut self.decoder {
            decoder.finish(&mut self.pending);
        }
        self.flush(true).await
    }

    /// Writes what is pending (and commits) on the blocking pool. After a
    /// failure or a commit the upload is gone: dropping it removed the
    /// temporary file, or it is in place.
    async fn flush(&mut self, commit: bool) -> Result<(), FsError> {
        let mut upload = self
            .upload
            .take()
            .ok_or_else(|| FsError::Access("upload already closed".into()))?;
        let data = std::mem::replace(&mut self.pending, Vec::with_capacity(CHUNK_BYTES));
        let (upload, result) = tokio::task::spawn_blocking(move || {
            let result = upload.write(&data).and_then(|()| {
                if commit {
                    upload.commit().map(|_| ())
                } else {
                    Ok(())
                }
            });
            (upload, result)
        })
        .await
        .map_err(|e| FsError::Io(std::io::Error::other(e)))?;
        if result.is_ok() && !commit {
            self.upload = Some(upload);
        }
        result
    }
}
