//! A file's bytes mapped read-only into memory, refusing anything but a
//! regular file.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
}

/// A read-only memory map of a whole file (empty files are not mapped).
pub struct MappedFile {
    map: Option<Mmap>,
}

impl MappedFile {
    /// Maps the regular file at `path`.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        // Opening a FIFO would wait for a writer, and a device has no end:
        // only regular files are opened, and the opened file is checked too.
        let regular = |meta: std::fs::Metadata| {
            if meta.is_file() {
                Ok(meta)
            } else {
                Err(ReadError::NotAFile {
                    path: path.to_path_buf(),
                })
            }
        };
        let open_error = |source| ReadError::Open {
            path: path.to_path_buf(),
            source,
        };
        regular(std::fs::metadata(path).map_err(open_error)?)?;
        let file = File::open(path).map_err(open_error)?;
        let len = regular(file.metadata().map_err(|source| ReadError::Read {
            path: path.to_path_buf(),
            source,
        })?)?
        .len();
        if len == 0 {
            return Ok(Self { map: None });
        }
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes may change
        // underneath the `&[u8]` we hand out if another process writes to
        // or truncates the file while it is mapped. The file is opened
        // read-only and the mapping is private and read-only, so this process
        // never writes through it and no Rust reference aliases a mutable
        // one. We accept the documented residual risk: if another process
        // truncates the file concurrently, touching a page past the new end
        // raises SIGBUS (the process dies, no memory is corrupted); if it
        // rewrites bytes concurrently, the reader sees a mix of old and new
        // contents. The files read are the tool's own extracted or rebuilt
        // artefacts (or paths the user names), which nothing else is
        // expected to modify while they are read.
        let map = unsafe { Mmap::map(&file) }.map_err(|source| ReadError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self { map: Some(map) })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}
