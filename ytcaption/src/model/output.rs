//! Writing a ggml file safely: to a temporary path beside the output, hashed (SHA-256) on
//! the way, synced and renamed into place. Shared by the importer ([`super::ct2`]) and the
//! quantizer ([`super::quantize`]).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use super::ggml::GgmlWriter;
use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;

/// A writer that hashes what goes through it.
pub(crate) struct HashWriter<W: Write> {
    pub(crate) inner: W,
    pub(crate) hasher: Sha256,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Finishes a ggml file written to `file`'s temporary path (its SHA-256 computed on the way),
/// syncs it and renames it into place: `(bytes written, hex SHA-256)`.
pub(crate) fn commit_ggml(
    w: GgmlWriter<HashWriter<BufWriter<File>>>,
    file: AtomicFile,
) -> Result<(u64, String)> {
    let ctx = || format!("writing {}", file.tmp_path().display());
    let bytes = w.bytes_written();
    let sink = w.finish().map_err(|e| Error::io(ctx(), e))?;
    let sha256 = hex::encode(sink.hasher.finalize());
    let f = sink
        .inner
        .into_inner()
        .map_err(|e| Error::io(ctx(), e.into_error()))?;
    drop(f);
    file.commit()?;
    Ok((bytes, sha256))
}

/// The atomic writer of `output` (its parent directory created), after refusing a directory.
pub(crate) fn temp_path_for(output: &Path) -> Result<AtomicFile> {
    if output.file_name().is_none() {
        return Err(Error::invalid(format!(
            "{} is not a file path",
            output.display()
        )));
    }
    if output.is_dir() {
        return Err(Error::invalid(format!(
            "{} is a directory; give the output file's path (e.g. {}/ggml-model.bin)",
            output.display(),
            output.display()
        )));
    }
    AtomicFile::new(output)
}
