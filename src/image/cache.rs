//! The content-addressed cache: verified blobs under
//! `$XDG_CACHE_HOME/rebuild-compare/blobs/sha256/<hex>` (or `--cache-dir`).
//!
//! A blob is written to a temporary file beside its final place, hashed as it
//! is written, and renamed into place only when size and digest match. The
//! cache may have been restored from somewhere hostile (CI caches often
//! are), so nothing in it is trusted as written: a cached blob is hashed
//! again before its first use in a run ([`Cache::blob`]), and derived
//! entries (layer indexes, digests of files) are sealed with an HMAC under a
//! key kept outside the cache ([`Cache::load_derived`]), so that they cannot
//! be forged without that key. Other stages keep their own subdirectories
//! (`git/`, `index/`, `hashed/`, `rootfs/`, `deps/`).

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use hmac::{KeyInit, Mac};
use sha2::{Digest as _, Sha256};

use super::digest::{hash_reader, BlobMismatch, Digest};

type HmacSha256 = hmac::Hmac<Sha256>;

/// Bytes of the key that seals derived entries, and of each seal.
const SEAL_BYTES: usize = 32;

/// A cache operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot use cache directory {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    BlobMismatch(#[from] BlobMismatch),
    #[error("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir")]
    NoHome,
}

/// The cache root and its layout.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    /// Blobs hashed against their address in this run.
    verified: Arc<Mutex<HashSet<Digest>>>,
    /// Where the sealing key lives (outside the cache), if anywhere.
    key_path: Option<PathBuf>,
    /// The sealing key, read or made on first use; `None` when there is
    /// none to be had (derived entries are then neither read nor written).
    key: Arc<OnceLock<Option<[u8; SEAL_BYTES]>>>,
}

impl Cache {
    /// The cache at `dir`, or the user's default (`$XDG_CACHE_HOME/rebuild-compare`,
    /// else `$HOME/.cache/rebuild-compare`), sealed with the key at
    /// `$XDG_STATE_HOME/rebuild-compare/cache.key` (else
    /// `$HOME/.local/state/rebuild-compare/cache.key`).
    pub fn new(dir: Option<&Path>) -> Result<Self, CacheError> {
        let root = match dir {
            Some(d) => d.to_path_buf(),
            None => default_root().ok_or(CacheError::NoHome)?,
        };
        Ok(Self::with_key_path(root, default_key_path()))
    }

    /// The cache at `root`, its derived entries sealed with the key at
    /// `key_path` (made on first use). A key inside the cache would seal
    /// nothing, so it is refused and derived entries are not used. Opening
    /// the cache removes the partial downloads killed runs left in it,
    /// whether or not this run writes a blob.
    pub fn with_key_path(root: PathBuf, key_path: Option<PathBuf>) -> Self {
        let key_path = key_path.filter(|key| {
            let inside = absolute(key).starts_with(absolute(&root));
            if inside {
                tracing::warn!(
                    "the cache key {} is inside the cache {}; cached indexes and digests are not used",
                    key.display(),
                    root.display()
                );
            }
            !inside
        });
        let cache = Self {
            root,
            verified: Arc::default(),
            key_path,
            key: Arc::default(),
        };
        remove_abandoned_partials(&cache.blobs_dir());
        cache
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
        self.blobs_dir().join(digest.hex())
    }

    /// The directory of the blobs (and of their partial downloads).
    fn blobs_dir(&self) -> PathBuf {
        self.root.join("blobs").join("sha256")
    }

    /// The cached blob, if present and its bytes hash to `digest` (checked
    /// once per run). A file that does not is removed with a warning and
    /// reported absent, so that it is fetched again.
    pub fn blob(&self, digest: &Digest) -> Result<Option<PathBuf>, CacheError> {
        let path = self.blob_path(digest);
        if !path.is_file() {
            return Ok(None);
        }
        if self.is_verified(digest) {
            return Ok(Some(path));
        }
        let (actual, _) = hash_reader(open(&path)?).map_err(|source| CacheError::Io {
            path: path.clone(),
            source,
        })?;
        if &actual != digest {
            tracing::warn!(
                "cached blob {} hashes to {actual}; removed, it will be fetched again",
                path.display()
            );
            fs::remove_file(&path).map_err(|source| CacheError::Io {
                path: path.clone(),
                source,
            })?;
            return Ok(None);
        }
        self.mark_verified(digest);
        Ok(Some(path))
    }

    fn is_verified(&self, digest: &Digest) -> bool {
        self.verified
            .lock()
            .is_ok_and(|verified| verified.contains(digest))
    }

    fn mark_verified(&self, digest: &Digest) {
        if let Ok(mut verified) = self.verified.lock() {
            verified.insert(digest.clone());
        }
    }

    /// A derived entry `dir/name` (data computed from verified blobs), if
    /// its seal verifies under the key; a forged, edited or unsealed entry
    /// is ignored (with a warning when it carries a wrong seal), so the
    /// caller computes the data again.
    pub fn load_derived(&self, dir: &str, name: &str) -> Option<Vec<u8>> {
        let key = self.key()?;
        let path = self.root.join(dir).join(name);
        let bytes = fs::read(&path).ok()?;
        let (seal, data) = bytes.split_at_checked(SEAL_BYTES)?;
        if seal_mac(&key, dir, name, data).verify_slice(seal).is_err() {
            tracing::warn!(
                "cache entry {} does not carry this machine's seal; ignored",
                path.display()
            );
            return None;
        }
        Some(data.to_vec())
    }

    /// Writes a derived entry `dir/name` atomically, sealed under the key
    /// (nothing is written when there is no key).
    pub fn save_derived(&self, dir: &str, name: &str, data: &[u8]) -> io::Result<()> {
        let Some(key) = self.key() else {
            return Ok(());
        };
        let dir_path = self.root.join(dir);
        fs::create_dir_all(&dir_path)?;
        let seal = seal_mac(&key, dir, name, data).finalize().into_bytes();
        let mut sealed = Vec::with_capacity(SEAL_BYTES + data.len());
        sealed.extend_from_slice(&seal);
        sealed.extend_from_slice(data);
        let mut tmp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(&dir_path)?;
        tmp.write_all(&sealed)?;
        tmp.persist(dir_path.join(name)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Seals a directory tree derived into the cache (an unpacked builder
    /// image) as it is now: every entry's path, inode, size, mode and
    /// change time, so that a tree restored from elsewhere or edited in
    /// place no longer passes [`Cache::tree_is_sealed`].
    pub fn seal_tree(&self, name: &str, tree: &Path) -> io::Result<()> {
        self.save_derived("trees", name, &tree_fingerprint(tree)?)
    }

    /// True when `tree` is exactly the tree sealed under `name`.
    pub fn tree_is_sealed(&self, name: &str, tree: &Path) -> bool {
        let Some(sealed) = self.load_derived("trees", name) else {
            return false;
        };
        tree_fingerprint(tree).is_ok_and(|now| now == sealed)
    }

    /// The sealing key, read from its file or made there (mode 0600) on first use.
    fn key(&self) -> Option<[u8; SEAL_BYTES]> {
        *self.key.get_or_init(|| {
            let path = self.key_path.as_ref()?;
            match read_or_make_key(path) {
                Ok(key) => Some(key),
                Err(e) => {
                    tracing::warn!(
                        "cannot use the cache key {}: {e}; cached indexes and digests are not used",
                        path.display()
                    );
                    None
                }
            }
        })
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
                return Err(BlobMismatch::TooLong {
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
                return Err(BlobMismatch::Size {
                    digest: self.digest,
                    expected,
                    actual: self.written,
                }
                .into());
            }
        }
        let actual = Digest::from_hasher(self.hasher);
        if actual != self.digest {
            return Err(BlobMismatch::Digest {
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

/// A partial download nothing has written to for this long was left by a
/// run that was killed; a live download writes to its file continually.
const ABANDONED_AFTER: std::time::Duration = std::time::Duration::from_secs(60 * 60);

/// Removes the `.partial-*` files of `dir` that killed runs left behind.
fn remove_abandoned_partials(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let abandoned = entry
            .file_name()
            .as_encoded_bytes()
            .starts_with(b".partial-")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| modified.elapsed().is_ok_and(|age| age > ABANDONED_AFTER));
        if abandoned {
            match fs::remove_file(entry.path()) {
                Ok(()) => tracing::debug!("removed abandoned {}", entry.path().display()),
                Err(e) => tracing::debug!("cannot remove {}: {e}", entry.path().display()),
            }
        }
    }
}

/// The HMAC of a derived entry: its place in the cache and its bytes.
fn seal_mac(key: &[u8; SEAL_BYTES], dir: &str, name: &str, data: &[u8]) -> HmacSha256 {
    // A key of any length is valid for HMAC, so this cannot fail.
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    for part in [
        b"rebuild-compare derived v1".as_slice(),
        dir.as_bytes(),
        name.as_bytes(),
    ] {
        mac.update(&(part.len() as u64).to_le_bytes());
        mac.update(part);
    }
    mac.update(data);
    mac
}

fn read_or_make_key(path: &Path) -> io::Result<[u8; SEAL_BYTES]> {
    match fs::read(path) {
        Ok(bytes) => {
            return bytes.try_into().map_err(|_| {
                io::Error::other(format!(
                    "it is not {SEAL_BYTES} bytes long; delete it to make a new one"
                ))
            })
        }
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    if let Some(parent) = path.parent() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    let mut key = [0u8; SEAL_BYTES];
    getrandom::fill(&mut key).map_err(io::Error::other)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".cache.key-")
        .permissions(std::fs::Permissions::from_mode(0o600))
        .tempfile_in(path.parent().unwrap_or(Path::new(".")))?;
    tmp.write_all(&key)?;
    // Another run may have made the key at the same time: keep theirs.
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(key),
        Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => fs::read(path)?
            .try_into()
            .map_err(|_| io::Error::other("the key is malformed")),
        Err(e) => Err(e.error),
    }
}

/// The sha256 of a tree's metadata, entry by entry in path order, symlinks
/// not followed. A restored or rewritten file gets a new inode or change
/// time, which no one but the kernel sets.
fn tree_fingerprint(tree: &Path) -> io::Result<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::MetadataExt;
    let mut hasher = Sha256::new();
    let mut pending = vec![tree.to_path_buf()];
    while let Some(path) = pending.pop() {
        let meta = fs::symlink_metadata(&path)?;
        let relative = path.strip_prefix(tree).unwrap_or(&path);
        let bytes = relative.as_os_str().as_bytes();
        hasher.update((bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
        for field in [
            meta.dev(),
            meta.ino(),
            u64::from(meta.mode()),
            meta.size(),
            meta.ctime() as u64,
            meta.ctime_nsec() as u64,
        ] {
            hasher.update(field.to_le_bytes());
        }
        if meta.is_dir() {
            let mut children: Vec<PathBuf> = fs::read_dir(&path)?
                .map(|entry| entry.map(|e| e.path()))
                .collect::<io::Result<_>>()?;
            children.sort();
            pending.extend(children.into_iter().rev());
        }
    }
    Ok(hasher.finalize().to_vec())
}

/// `path` made absolute against the working directory, lexically.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

fn default_key_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("rebuild-compare").join("cache.key"))
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
        assert!(cache.blob(&good).unwrap().is_some());

        let claimed = Digest::of(b"other");
        let err = cache.insert(&claimed, Some(5), &b"layer"[..]).unwrap_err();
        assert!(matches!(
            err,
            CacheError::BlobMismatch(BlobMismatch::Digest { .. })
        ));
        assert!(cache.blob(&claimed).unwrap().is_none());
        let leftovers = fs::read_dir(cache.blob_path(&good).parent().unwrap())
            .unwrap()
            .count();
        assert_eq!(leftovers, 1, "the refused blob left no partial file");
    }

    #[test]
    fn a_cached_blob_that_no_longer_matches_is_removed_and_absent() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::with_key_path(dir.path().join("cache"), None);
        let digest = Digest::of(b"layer");
        let path = cache.insert(&digest, Some(5), &b"layer"[..]).unwrap();
        fs::write(&path, b"LAYER").unwrap();
        assert!(cache.blob(&digest).unwrap().is_none());
        assert!(!path.exists());
    }

    #[test]
    fn derived_entries_need_the_key_that_sealed_them() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("cache");
        let cache = Cache::with_key_path(root.clone(), Some(dir.path().join("state/key")));
        cache.save_derived("index", "a.json", b"{}").unwrap();
        assert_eq!(cache.load_derived("index", "a.json").unwrap(), b"{}");
        // Under another name, or with another key, the same bytes are not accepted.
        fs::copy(root.join("index/a.json"), root.join("index/b.json")).unwrap();
        assert_eq!(cache.load_derived("index", "b.json"), None);
        let other = Cache::with_key_path(root.clone(), Some(dir.path().join("state/other")));
        assert_eq!(other.load_derived("index", "a.json"), None);
        let key_mode = fs::metadata(dir.path().join("state/key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(key_mode & 0o777, 0o600);
    }

    #[test]
    fn a_key_inside_the_cache_seals_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::with_key_path(dir.path().to_path_buf(), Some(dir.path().join("key")));
        cache.save_derived("index", "a.json", b"{}").unwrap();
        assert!(!dir.path().join("index/a.json").exists());
        assert!(!dir.path().join("key").exists());
    }

    #[test]
    fn partial_downloads_of_killed_runs_are_removed_on_opening_fresh_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Cache::with_key_path(dir.path().join("cache"), None).blobs_dir();
        fs::create_dir_all(&blobs).unwrap();
        let old = blobs.join(".partial-old");
        let fresh = blobs.join(".partial-fresh");
        fs::write(&old, b"half").unwrap();
        fs::write(&fresh, b"half").unwrap();
        let two_hours_ago = std::time::SystemTime::now() - 2 * ABANDONED_AFTER;
        File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        Cache::with_key_path(dir.path().join("cache"), None);
        assert!(!old.exists());
        assert!(fresh.exists());
    }
}
