//! The seed's core check: which binary does this image run, and what is its
//! sha256? Connects an [`Image`]'s verified layers to the merged view of
//! [`crate::rootfs`], locates the program with [`crate::rootfs::locate`], and hashes
//! or extracts it without unpacking anything else. Per-layer path indexes
//! and the digests of files hashed are kept in the cache, so a repeat
//! `digest` reads no layer at all.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::binary::{identify, Binary, FileKind, Format, ReadError};
use crate::image::cache::Cache;
use crate::image::digest::Digest;
use crate::image::manifest::Descriptor;
use crate::image::platform::Platform;
use crate::image::{Image, PlatformImage};

use super::error::{RootfsError, SourceFailure};
use super::index::{ContentObserver, IndexStore, LayerIndex};
use super::layer::{LayerInfo, LayerSource};
use super::locate::{locate, LocateError, Located, RunConfig};
use super::view::Rootfs;

/// How many leading bytes identify a binary's format and machine.
const HEAD_BYTES: usize = 64 * 1024;

/// Why the binary could not be found or written.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error(transparent)]
    Locate(#[from] LocateError),
    #[error(transparent)]
    Rootfs(#[from] RootfsError),
    #[error("{path} exists; pass --force to overwrite it")]
    Exists { path: PathBuf },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path} is {size} bytes, from a layer of {layer_size} bytes: more than {limit} bytes \
         looks like a decompression bomb; pass --max-size {size} to write it anyway"
    )]
    TooLarge {
        path: String,
        size: u64,
        layer_size: u64,
        limit: u64,
    },
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("internal error: the image worker panicked")]
    Panicked,
}

/// Files up to this size are written whatever their layer's size.
const WRITE_LIMIT_FLOOR: u64 = 256 << 20;
/// Above the floor, a file may be this many times its compressed layer:
/// binaries compress two to five times, a decompression bomb a thousand.
const WRITE_LIMIT_RATIO: u64 = 20;

/// Which binary to take: `--path` (or the recipe's `binary`), else the image's program.
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryRequest<'a> {
    pub path: Option<&'a str>,
}

/// The binary an image runs, hashed.
#[derive(Debug, Clone)]
pub struct FoundBinary {
    pub platform: Platform,
    pub located: Located,
    pub sha256: Digest,
    pub size: u64,
    pub kind: FileKind,
    /// Where the bytes were written, when they were.
    pub extracted: PathBuf,
    /// What the written bytes hold (format, Go build info, Rust metadata),
    /// read once as they were written; `None` when they were only hashed.
    pub binary: Option<Binary>,
    /// Loud warnings, e.g. a binary for another machine than the manifest claims.
    pub warnings: Vec<String>,
}

/// One platform's result of `digest`; its JSON field names are a contract.
#[derive(Debug, Clone, Serialize)]
pub struct DigestEntry {
    pub platform: Platform,
    pub requested: String,
    pub path: String,
    pub sha256: Digest,
    pub size: u64,
    pub format: Format,
    pub machine: String,
    pub layer: Digest,
    pub warnings: Vec<String>,
}

/// The result of `digest`.
#[derive(Debug, Clone, Serialize)]
pub struct DigestReport {
    pub reference: String,
    pub digest: Digest,
    pub platforms: Vec<DigestEntry>,
}

impl From<&FoundBinary> for DigestEntry {
    fn from(f: &FoundBinary) -> Self {
        Self {
            platform: f.platform.clone(),
            requested: f.located.requested.clone(),
            path: f.located.path.clone(),
            sha256: f.sha256.clone(),
            size: f.size,
            format: f.kind.format,
            machine: f.kind.machine.clone(),
            layer: f.located.layer.clone(),
            warnings: f.warnings.clone(),
        }
    }
}

/// An image's layers as a [`LayerSource`]: each opened from the verified
/// blob file (downloaded on first use).
pub struct ImageLayers<'a> {
    image: &'a Image,
    descriptors: Vec<Descriptor>,
    layers: Vec<LayerInfo>,
}

impl<'a> ImageLayers<'a> {
    pub fn new(image: &'a Image, platform_image: &PlatformImage) -> Self {
        let descriptors = platform_image.layers().to_vec();
        let layers = descriptors
            .iter()
            .map(|d| LayerInfo {
                digest: d.digest.clone(),
                media_type: d.media_type.clone(),
                size: d.size,
            })
            .collect();
        Self {
            image,
            descriptors,
            layers,
        }
    }
}

impl LayerSource for ImageLayers<'_> {
    fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }

    fn open(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        let desc = self.descriptor(index)?;
        let path = self
            .image
            .blob(desc)
            .map_err(|e| RootfsError::Source(Box::new(e)))?;
        let file = File::open(&path).map_err(|source| RootfsError::Io {
            action: "open layer",
            path,
            source,
        })?;
        Ok(Box::new(io::BufReader::with_capacity(256 * 1024, file)))
    }

    fn open_to_end(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        let desc = self.descriptor(index)?;
        let blob = self
            .image
            .open_blob(desc)
            .map_err(|e| RootfsError::Source(Box::new(e)))?;
        Ok(Box::new(SourceRead(blob)))
    }
}

impl ImageLayers<'_> {
    /// Layer `index`'s descriptor, logged as it is read.
    fn descriptor(&self, index: usize) -> Result<&Descriptor, RootfsError> {
        let desc = self
            .descriptors
            .get(index)
            .ok_or(RootfsError::NoSuchLayer {
                index,
                count: self.descriptors.len(),
            })?;
        tracing::debug!("reading layer {}", desc.digest);
        Ok(desc)
    }
}

/// Derived data kept as JSON files in one cache subdirectory, sealed by
/// the cache ([`Cache::save_derived`]): an unreadable, foreign-format or
/// forged file is ignored and rebuilt from the verified layers.
struct JsonDir {
    cache: Cache,
    dir: &'static str,
}

impl JsonDir {
    fn new(cache: &Cache, dir: &'static str) -> Self {
        Self {
            cache: cache.clone(),
            dir,
        }
    }

    fn load<T: DeserializeOwned>(&self, name: &str) -> Option<T> {
        let bytes = self.cache.load_derived(self.dir, name)?;
        serde_json::from_slice(&bytes).ok()
    }

    fn save<T: Serialize>(&self, name: &str, value: &T) -> io::Result<()> {
        // Serialised whole first: written straight to the file, every
        // token would be a system call.
        self.cache
            .save_derived(self.dir, name, &serde_json::to_vec(value)?)
    }
}

/// Turns a layer stream's read errors that are the image side failing into [`SourceFailure`]s.
struct SourceRead(Box<dyn Read + Send>);

impl Read for SourceRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| match e.into_inner() {
            Some(inner) => io::Error::other(SourceFailure(inner)),
            None => io::Error::other("reading the layer failed"),
        })
    }
}

/// Per-layer path indexes kept in the cache (`index/<hex>.json`).
pub struct DiskIndexStore {
    files: JsonDir,
}

impl DiskIndexStore {
    pub fn new(cache: &Cache) -> Self {
        Self {
            files: JsonDir::new(cache, "index"),
        }
    }
}

impl IndexStore for DiskIndexStore {
    fn load(&self, layer: &Digest) -> Option<LayerIndex> {
        self.files.load(&format!("{}.json", layer.hex()))
    }

    fn save(&self, layer: &Digest, index: &LayerIndex) {
        if let Err(e) = self.files.save(&format!("{}.json", layer.hex()), index) {
            tracing::warn!("cannot cache the path index of layer {layer}: {e}");
        }
    }
}

/// Version of the [`HashedFile`] format; files of another version are ignored.
const HASHED_FORMAT: u32 = 1;

/// A file's digest and kind, cached (`hashed/<layer hex>-<entry>.json`) so a
/// repeat `digest` need not decompress the layer that holds the file.
#[derive(Debug, Serialize, Deserialize)]
struct HashedFile {
    format: u32,
    sha256: Digest,
    size: u64,
    kind: FileKind,
}

/// The cache of [`HashedFile`]s, keyed by layer and tar entry.
struct HashedFiles {
    files: JsonDir,
}

impl HashedFiles {
    fn new(cache: &Cache) -> Self {
        Self {
            files: JsonDir::new(cache, "hashed"),
        }
    }

    fn name(layer: &Digest, entry: u64) -> String {
        format!("{}-{entry}.json", layer.hex())
    }

    fn load(&self, located: &Located) -> Option<HashedFile> {
        self.files
            .load::<HashedFile>(&Self::name(&located.layer, located.entry))
            .filter(|h| h.format == HASHED_FORMAT && h.size == located.size)
    }

    fn save(&self, layer: &Digest, entry: u64, hashed: &HashedFile) {
        if let Err(e) = self.files.save(&Self::name(layer, entry), hashed) {
            tracing::warn!("cannot cache the digest of entry {entry} of layer {layer}: {e}");
        }
    }

    fn save_found(&self, found: &FoundBinary) {
        let hashed = HashedFile {
            format: HASHED_FORMAT,
            sha256: found.sha256.clone(),
            size: found.size,
            kind: found.kind.clone(),
        };
        self.save(&found.located.layer, found.located.entry, &hashed);
    }
}

/// Hashes, while a layer is indexed, every regular file named like the
/// program the image runs, so the file `locate` then picks is usually
/// hashed already and its layer need not be decompressed a second time.
/// Digests are cached only once their layer verified.
struct HashWhileIndexing {
    name: String,
    hashed: HashedFiles,
    pending: std::sync::Mutex<Vec<(Digest, u64, HashedFile)>>,
}

impl HashWhileIndexing {
    /// For the program `request` or the config names, if it has a file name.
    fn for_program(cache: &Cache, config: &RunConfig, request: &BinaryRequest<'_>) -> Option<Self> {
        let program = match request.path {
            Some(path) => path.to_string(),
            None => config.command_line().into_iter().next()?,
        };
        let name = Path::new(&program).file_name()?.to_str()?.to_string();
        Some(Self {
            name,
            hashed: HashedFiles::new(cache),
            pending: std::sync::Mutex::new(Vec::new()),
        })
    }
}

impl ContentObserver for HashWhileIndexing {
    fn wants(&self, path: &str) -> bool {
        path.rsplit('/').next() == Some(self.name.as_str())
    }

    fn observe(&self, layer: &Digest, entry: u64, data: &mut dyn Read) -> io::Result<()> {
        let hashed = hash_alongside(data)?;
        if let Ok(mut pending) = self.pending.lock() {
            pending.push((layer.clone(), entry, hashed));
        }
        Ok(())
    }

    fn verified(&self, layer: &Digest) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        for (_, entry, hashed) in pending.iter().filter(|(l, _, _)| l == layer) {
            self.hashed.save(layer, *entry, hashed);
        }
        pending.retain(|(l, _, _)| l != layer);
    }
}

/// Reads `data` to its end while a second thread hashes what was read, so
/// that decompressing a large file and hashing it overlap.
fn hash_alongside(data: &mut dyn Read) -> io::Result<HashedFile> {
    const BUFFERS: usize = 4;
    const BUFFER_SIZE: usize = 256 * 1024;
    let (to_hash, filled) = std::sync::mpsc::sync_channel::<Vec<u8>>(BUFFERS);
    let (to_fill, emptied) = std::sync::mpsc::channel::<Vec<u8>>();
    for _ in 0..BUFFERS {
        // The receiver is right here: sending cannot fail.
        let _ = to_fill.send(Vec::with_capacity(BUFFER_SIZE));
    }
    std::thread::scope(|scope| {
        let hashing = scope.spawn(move || {
            let mut hasher = Sha256::new();
            for buffer in filled {
                hasher.update(&buffer);
                // The reader may have stopped: the buffer is then not needed.
                let _ = to_fill.send(buffer);
            }
            hasher
        });
        let mut head = Vec::with_capacity(HEAD_BYTES);
        let mut size = 0u64;
        let read = loop {
            let Ok(mut buffer) = emptied.recv() else {
                break Err(io::Error::other("the hashing thread stopped"));
            };
            buffer.clear();
            match data.take(BUFFER_SIZE as u64).read_to_end(&mut buffer) {
                Ok(0) => break Ok(()),
                Ok(_) => {}
                Err(e) => break Err(e),
            }
            keep_head(&mut head, &buffer);
            size += buffer.len() as u64;
            if to_hash.send(buffer).is_err() {
                break Err(io::Error::other("the hashing thread stopped"));
            }
        };
        drop(to_hash);
        let hasher = hashing
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        read.map(|()| HashedFile {
            format: HASHED_FORMAT,
            kind: identify(&head),
            sha256: Digest::from_hasher(hasher),
            size,
        })
    })
}

/// Locates the binary in the merged view of `platform_image`'s layers;
/// with `hash_candidates`, files that may turn out to be it are hashed as
/// their layers are indexed.
fn open_view<'a>(
    image: &'a Image,
    platform_image: &PlatformImage,
    request: &BinaryRequest<'_>,
    hash_candidates: bool,
) -> Result<(Rootfs<ImageLayers<'a>, DiskIndexStore>, Located), ExtractError> {
    let store = DiskIndexStore::new(image.cache());
    let config = platform_image.config.container();
    let mut view = Rootfs::new(ImageLayers::new(image, platform_image), store)?;
    if hash_candidates {
        if let Some(observer) = HashWhileIndexing::for_program(image.cache(), &config, request) {
            view = view.with_observer(observer);
        }
    }
    let located = locate(&view, &config, request.path)?;
    Ok((view, located))
}

/// Streams the located file to `out`, hashing it as it goes.
fn copy_and_hash(
    view: &Rootfs<ImageLayers<'_>, DiskIndexStore>,
    platform_image: &PlatformImage,
    located: Located,
    out: &mut dyn Write,
) -> Result<FoundBinary, ExtractError> {
    let mut sink = HashingSink::new(out);
    let size = view.copy_file(&located, &mut sink)?;
    let kind = identify(&sink.head);
    Ok(found_binary(
        platform_image,
        located,
        Digest::from_hasher(sink.hasher),
        size,
        kind,
    ))
}

fn found_binary(
    platform_image: &PlatformImage,
    located: Located,
    sha256: Digest,
    size: u64,
    kind: FileKind,
) -> FoundBinary {
    let platform = platform_image.platform.clone();
    let warnings = platform_claim(&platform, &kind, &located.path)
        .into_iter()
        .collect();
    FoundBinary {
        platform,
        located,
        sha256,
        size,
        kind,
        extracted: PathBuf::new(),
        binary: None,
        warnings,
    }
}

/// Finds the binary and hashes it without writing it anywhere; a file
/// hashed before (same layer, same entry) is not read again.
pub fn digest_binary(
    image: &Image,
    platform_image: &PlatformImage,
    request: &BinaryRequest<'_>,
) -> Result<FoundBinary, ExtractError> {
    let (view, located) = open_view(image, platform_image, request, true)?;
    let hashed = HashedFiles::new(image.cache());
    let found = match hashed.load(&located) {
        Some(h) => found_binary(platform_image, located, h.sha256, h.size, h.kind),
        None => {
            let found = copy_and_hash(&view, platform_image, located, &mut io::sink())?;
            hashed.save_found(&found);
            found
        }
    };
    for warning in &found.warnings {
        tracing::warn!("{warning}");
    }
    Ok(found)
}

/// Refuses to write a file larger than `max_size`, or by default than
/// [`WRITE_LIMIT_RATIO`] times its compressed layer (and
/// [`WRITE_LIMIT_FLOOR`]): a small layer declaring a huge file would fill
/// the disk with what its tar header claims.
fn check_size(
    platform_image: &PlatformImage,
    located: &Located,
    max_size: Option<u64>,
) -> Result<(), ExtractError> {
    let layer_size = platform_image
        .layers()
        .get(located.layer_index)
        .map_or(0, |layer| layer.size);
    let limit = max_size.unwrap_or_else(|| {
        layer_size
            .saturating_mul(WRITE_LIMIT_RATIO)
            .max(WRITE_LIMIT_FLOOR)
    });
    if located.size > limit {
        return Err(ExtractError::TooLarge {
            path: located.path.clone(),
            size: located.size,
            layer_size,
            limit,
        });
    }
    Ok(())
}

/// Writes the binary to `output` (mode 0755) atomically: a temporary file
/// beside it, renamed into place. An existing file is kept unless `force`;
/// a file larger than `max_size` (by default, see [`check_size`]) is refused.
/// What the written file holds is read once, into [`FoundBinary::binary`].
pub fn extract_to(
    image: &Image,
    platform_image: &PlatformImage,
    request: &BinaryRequest<'_>,
    output: &Path,
    force: bool,
    max_size: Option<u64>,
) -> Result<FoundBinary, ExtractError> {
    let write_err = |source| ExtractError::Write {
        path: output.to_path_buf(),
        source,
    };
    if !force && output.symlink_metadata().is_ok() {
        return Err(ExtractError::Exists {
            path: output.to_path_buf(),
        });
    }
    let parent = match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".rebuild-compare-")
        .tempfile_in(parent)
        .map_err(write_err)?;
    let mut found = {
        let mut writer = io::BufWriter::new(tmp.as_file_mut());
        let (view, located) = open_view(image, platform_image, request, false)?;
        check_size(platform_image, &located, max_size)?;
        let found = copy_and_hash(&view, platform_image, located, &mut writer)?;
        HashedFiles::new(image.cache()).save_found(&found);
        writer.flush().map_err(write_err)?;
        found
    };
    tmp.as_file()
        .set_permissions(fs::Permissions::from_mode(0o755))
        .map_err(write_err)?;
    if force {
        tmp.persist(output).map_err(|e| write_err(e.error))?;
    } else {
        tmp.persist_noclobber(output)
            .map_err(|e| write_err(e.error))?;
    }
    found.extracted = output.to_path_buf();
    found.binary = Some(Binary::read(output)?);
    for warning in &found.warnings {
        tracing::warn!("{warning}");
    }
    Ok(found)
}

/// Extracts the binary into `dir` under its own file name (replacing an earlier run's copy).
pub fn extract_to_dir(
    image: &Image,
    platform_image: &PlatformImage,
    request: &BinaryRequest<'_>,
    dir: &Path,
) -> Result<FoundBinary, ExtractError> {
    fs::create_dir_all(dir).map_err(|source| ExtractError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let staging = dir.join(".binary");
    let found = extract_to(image, platform_image, request, &staging, true, None)?;
    let name = Path::new(&found.located.path)
        .file_name()
        .map_or_else(|| "binary".into(), |n| n.to_os_string());
    let output = dir.join(name);
    fs::rename(&staging, &output).map_err(|source| ExtractError::Write {
        path: output.clone(),
        source,
    })?;
    Ok(FoundBinary {
        extracted: output,
        ..found
    })
}

/// A loud warning when the binary is for another machine than the manifest says.
fn platform_claim(platform: &Platform, kind: &FileKind, path: &str) -> Option<String> {
    if !matches!(kind.format, Format::Elf | Format::Pe | Format::Macho) {
        return None;
    }
    let claimed = platform.machine_name();
    let actual = kind.machine.as_str();
    let agrees = actual == claimed || actual.contains(claimed);
    (!agrees).then(|| {
        format!(
            "PLATFORM MISMATCH: the manifest says {platform}, but {path} is {} binary for {actual}",
            match kind.format {
                Format::Elf => "an ELF",
                Format::Pe => "a PE",
                _ => "a Mach-O",
            }
        )
    })
}

/// Adds to `head` what it still lacks of a file's first [`HEAD_BYTES`]
/// bytes, from the next `bytes` of the file.
fn keep_head(head: &mut Vec<u8>, bytes: &[u8]) {
    let room = HEAD_BYTES.saturating_sub(head.len());
    head.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

/// Hashes everything written, keeps the first bytes, and passes it all on.
struct HashingSink<'a> {
    hasher: Sha256,
    head: Vec<u8>,
    out: &'a mut dyn Write,
}

impl<'a> HashingSink<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        Self {
            hasher: Sha256::new(),
            head: Vec::with_capacity(HEAD_BYTES),
            out,
        }
    }
}

impl Write for HashingSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        keep_head(&mut self.head, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_alongside_gives_the_digest_size_and_kind_of_what_it_read() {
        let mut data = b"#!/bin/sh\n".to_vec();
        data.extend((0..3_000_000u32).map(|i| (i % 251) as u8));
        let hashed = hash_alongside(&mut &data[..]).unwrap();
        assert_eq!(hashed.sha256, Digest::of(&data));
        assert_eq!(hashed.size, data.len() as u64);
        assert_eq!(hashed.kind, identify(&data[..HEAD_BYTES]));
    }

    #[test]
    fn hash_alongside_passes_on_a_read_error() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::InvalidData, "bad layer"));
                }
                let n = buf.len().min(self.0);
                self.0 -= n;
                Ok(n)
            }
        }
        let err = hash_alongside(&mut Failing(1_000_000)).unwrap_err();
        assert_eq!(err.to_string(), "bad layer");
    }
}
