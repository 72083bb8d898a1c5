//! The seed's core check: which binary does this image run, and what is its
//! sha256? Connects an [`Image`]'s verified layers to the merged view of
//! [`crate::rootfs`], locates the program with [`crate::locate`], and hashes
//! or extracts it without unpacking anything else. Per-layer path indexes
//! are kept in the cache so a repeat run reads only the layer it needs.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::cache::Cache;
use crate::diff::{identify_bytes, FileKind, Format};
use crate::digest::Digest;
use crate::image::{Image, PlatformImage};
use crate::locate::{locate, LocateError, Located};
use crate::manifest::Descriptor;
use crate::platform::Platform;
use crate::rootfs::{IndexStore, LayerIndex, LayerInfo, LayerSource, Rootfs, RootfsError};

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
    #[error("internal error: the image worker panicked")]
    Panicked,
}

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
        let desc = self
            .descriptors
            .get(index)
            .ok_or(RootfsError::NoSuchLayer {
                index,
                count: self.descriptors.len(),
            })?;
        tracing::debug!("reading layer {}", desc.digest);
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
}

/// Per-layer path indexes kept in the cache (`index/<hex>.json`), written
/// atomically; an unreadable or foreign-format index is ignored and rebuilt.
pub struct DiskIndexStore {
    dir: Option<PathBuf>,
}

impl DiskIndexStore {
    pub fn new(cache: &Cache) -> Self {
        Self {
            dir: cache.dir("index").ok(),
        }
    }

    fn path(&self, layer: &Digest) -> Option<PathBuf> {
        Some(self.dir.as_ref()?.join(format!("{}.json", layer.hex())))
    }
}

impl IndexStore for DiskIndexStore {
    fn load(&self, layer: &Digest) -> Option<LayerIndex> {
        let bytes = fs::read(self.path(layer)?).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn save(&self, layer: &Digest, index: &LayerIndex) {
        let (Some(dir), Some(path)) = (&self.dir, self.path(layer)) else {
            return;
        };
        let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut tmp| {
            serde_json::to_writer(&mut tmp, index)?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        });
        if let Err(e) = written {
            tracing::warn!("cannot cache the path index of layer {layer}: {e}");
        }
    }
}

/// Locates the binary and streams it to `out`, hashing it as it goes.
fn find_and_copy(
    image: &Image,
    platform_image: &PlatformImage,
    request: &BinaryRequest<'_>,
    out: &mut dyn Write,
) -> Result<FoundBinary, ExtractError> {
    let store = DiskIndexStore::new(image.cache());
    let view = Rootfs::new(ImageLayers::new(image, platform_image), store)?;
    let located = locate(&view, &platform_image.config.container(), request.path)?;
    let mut sink = HashingSink {
        hasher: Sha256::new(),
        head: Vec::with_capacity(HEAD_BYTES),
        out,
    };
    let size = view.copy_file(&located, &mut sink)?;
    let kind = identify_bytes(&sink.head);
    let platform = platform_image.platform.clone();
    let warnings = platform_claim(&platform, &kind, &located.path)
        .into_iter()
        .collect();
    Ok(FoundBinary {
        platform,
        located,
        sha256: Digest::from_hasher(sink.hasher),
        size,
        kind,
        extracted: PathBuf::new(),
        warnings,
    })
}

/// Finds the binary and hashes it without writing it anywhere.
pub fn digest_binary(
    image: &Image,
    platform_image: &PlatformImage,
    request: &BinaryRequest<'_>,
) -> Result<FoundBinary, ExtractError> {
    let found = find_and_copy(image, platform_image, request, &mut io::sink())?;
    for warning in &found.warnings {
        tracing::warn!("{warning}");
    }
    Ok(found)
}

/// Writes the binary to `output` (mode 0755) atomically: a temporary file
/// beside it, renamed into place. An existing file is kept unless `force`.
pub fn extract_to(
    image: &Image,
    platform_image: &PlatformImage,
    request: &BinaryRequest<'_>,
    output: &Path,
    force: bool,
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
        let found = find_and_copy(image, platform_image, request, &mut writer)?;
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
    let found = extract_to(image, platform_image, request, &staging, true)?;
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
            "PLATFORM MISMATCH: the manifest says {platform}, but {path} is a {} binary for {actual}",
            kind.format.name()
        )
    })
}

/// Hashes everything written, keeps the first bytes, and passes it all on.
struct HashingSink<'a> {
    hasher: Sha256,
    head: Vec<u8>,
    out: &'a mut dyn Write,
}

impl Write for HashingSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        self.head.extend_from_slice(&buf[..n.min(room)]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
