//! The content-addressed cache: verified blobs under
//! `$XDG_CACHE_HOME/rebuild-compare/blobs/sha256/<hex>` (or `--cache-dir`).
//!
//! A blob is written to a temporary file beside its final place, hashed as it
//! is written, and renamed into place only when size and digest match: a file
//! at a content address is therefore trusted by that address. Other stages
//! keep their own subdirectories (`git/`, `index/`, `rootfs/`, `deps/`).

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::digest::{Digest, VerifyError};

/// A cache operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot use cache directory {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir")]
    NoHome,
}

/// The cache root and its layout.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// The cache at `dir`, or the user's default (`$XDG_CACHE_HOME/rebuild-compare`,
    /// else `$HOME/.cache/rebuild-compare`).
    pub fn new(dir: Option<&Path>) -> Result<Self, CacheError> {
        let root = match dir {
            Some(d) => d.to_path_buf(),
            None => default_root().ok_or(CacheError::NoHome)?,
        };
        Ok(Self { root })
    }

    /// The cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A subdirectory of the cache for one stage, created on demand.
    pub fn dir(&self, name: &str) -> Result<PathBuf, CacheError> {
        let dir = self.root.join(name);
        fs::create_dir_all(&dir).map_err(|source| CacheError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(dir)
    }

    /// Where the blob with this digest lives.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root.join("blobs").join("sha256").join(digest.hex())
    }

    /// The cached blob, if present.
    pub fn blob(&self, digest: &Digest) -> Option<PathBuf> {
        let path = self.blob_path(digest);
        path.is_file().then_some(path)
    }

    /// Streams `reader` into the cache, verifying it against `digest` and
    /// `size`; the blob appears at its content address only if it matches.
    pub fn insert(
        &self,
        digest: &Digest,
        size: Option<u64>,
        mut reader: impl Read,
    ) -> Result<PathBuf, CacheError> {
        let mut writer = self.writer(digest, size)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|source| self.io_err(source))?;
            if n == 0 {
                break;
            }
            writer.write_chunk(&buf[..n])?;
        }
        writer.commit()
    }

    /// A writer that lands a blob at its content address once verified.
    pub fn writer(&self, digest: &Digest, size: Option<u64>) -> Result<BlobWriter, CacheError> {
        let final_path = self.blob_path(digest);
        let dir = final_path.parent().unwrap_or(&self.root).to_path_buf();
        fs::create_dir_all(&dir).map_err(|source| CacheError::Io {
            path: dir.clone(),
            source,
        })?;
        let file = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&dir)
            .map_err(|source| CacheError::Io { path: dir, source })?;
        Ok(BlobWriter {
            file,
            final_path,
            digest: digest.clone(),
            size,
            written: 0,
            hasher: Sha256::new(),
        })
    }

    fn io_err(&self, source: io::Error) -> CacheError {
        CacheError::Io {
            path: self.root.clone(),
            source,
        }
    }
}

/// A blob being written into the cache; see [`Cache::writer`].
pub struct BlobWriter {
    file: tempfile::NamedTempFile,
    final_path: PathBuf,
    digest: Digest,
    size: Option<u64>,
    written: u64,
    hasher: Sha256,
}

impl BlobWriter {
    /// Appends a chunk, failing as soon as it exceeds the declared size.
    pub fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), CacheError> {
        self.written += chunk.len() as u64;
        if let Some(expected) = self.size {
            if self.written > expected {
                return Err(VerifyError::TooLong {
                    digest: self.digest.clone(),
                    expected,
                }
                .into());
            }
        }
        self.hasher.update(chunk);
        self.file.write_all(chunk).map_err(|source| CacheError::Io {
            path: self.file.path().to_path_buf(),
            source,
        })
    }

    /// How many bytes were written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The digest of the bytes written so far.
    pub fn digest_so_far(&self) -> Digest {
        Digest::from_hasher(self.hasher.clone())
    }

    /// Verifies what was written and moves it to its content address.
    pub fn commit(self) -> Result<PathBuf, CacheError> {
        if let Some(expected) = self.size {
            if self.written != expected {
                return Err(VerifyError::Size {
                    digest: self.digest,
                    expected,
                    actual: self.written,
                }
                .into());
            }
        }
        let actual = Digest::from_hasher(self.hasher);
        if actual != self.digest {
            return Err(VerifyError::Digest {
                expected: self.digest,
                actual,
            }
            .into());
        }
        self.file
            .persist(&self.final_path)
            .map_err(|e| CacheError::Io {
                path: self.final_path.clone(),
                source: e.error,
            })?;
        Ok(self.final_path)
    }
}

fn default_root() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("rebuild-compare"))
}

/// Opens a cached blob for reading.
pub fn open(path: &Path) -> Result<File, CacheError> {
    File::open(path).map_err(|source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Opens a verified blob file for streaming through a decompressor.
pub fn open_buffered(path: &Path) -> Result<Box<dyn Read + Send>, CacheError> {
    Ok(Box::new(io::BufReader::with_capacity(
        256 * 1024,
        open(path)?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_only_verified_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(Some(dir.path())).unwrap();
        let good = Digest::of(b"layer");
        let path = cache.insert(&good, Some(5), &b"layer"[..]).unwrap();
        assert_eq!(fs::read(path).unwrap(), b"layer");
        assert!(cache.blob(&good).is_some());

        let claimed = Digest::of(b"other");
        let err = cache.insert(&claimed, Some(5), &b"layer"[..]).unwrap_err();
        assert!(matches!(
            err,
            CacheError::Verify(VerifyError::Digest { .. })
        ));
        assert!(cache.blob(&claimed).is_none());
        let leftovers = fs::read_dir(cache.blob_path(&good).parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(leftovers, 1, "the refused blob left no partial file");
    }
}
