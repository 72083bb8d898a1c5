//! The `oci:DIR[:TAG]` transport: an OCI image layout on disk
//! (`oci-layout`, `index.json`, `blobs/sha256/…`), the format `skopeo copy`
//! and `umoci` write. Blobs are verified in place before use.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::cache::Cache;
use super::digest::Digest;
use super::error::{ImageError, OciLayoutError};
use super::manifest::{Descriptor, Index, MAX_MANIFEST_BYTES};
use super::transport::{verify_file, RawManifest, Transport};

/// The annotation that names an entry of a layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An OCI layout, with the entry the location names.
pub struct LayoutTransport {
    dir: PathBuf,
    entry: Descriptor,
    verified: Mutex<HashSet<Digest>>,
}

impl LayoutTransport {
    /// Opens the layout at `dir` and picks the entry tagged `tag`, or its only entry.
    pub fn open(dir: &Path, tag: Option<&str>) -> Result<Self, OciLayoutError> {
        let not_layout = |reason: String| OciLayoutError::NotALayout {
            dir: dir.to_path_buf(),
            reason,
        };
        if !dir.join("oci-layout").is_file() {
            return Err(not_layout("no oci-layout file".into()));
        }
        let index_path = dir.join("index.json");
        let meta = std::fs::metadata(&index_path)
            .map_err(|e| not_layout(format!("cannot read index.json: {e}")))?;
        if meta.len() > MAX_MANIFEST_BYTES {
            return Err(not_layout(format!(
                "index.json is {} bytes, over the {MAX_MANIFEST_BYTES}-byte limit",
                meta.len()
            )));
        }
        let bytes = std::fs::read(&index_path)
            .map_err(|e| not_layout(format!("cannot read index.json: {e}")))?;
        let index: Index =
            serde_json::from_slice(&bytes).map_err(|source| OciLayoutError::Malformed {
                path: index_path,
                source,
            })?;
        let tags: Vec<&str> = index
            .manifests
            .iter()
            .filter_map(|m| m.annotations.as_ref()?.get(REF_NAME).map(String::as_str))
            .collect();
        let available = if tags.is_empty() {
            "none".to_string()
        } else {
            tags.join(", ")
        };
        let entry = match tag {
            Some(tag) => index
                .manifests
                .iter()
                .find(|m| {
                    m.annotations
                        .as_ref()
                        .and_then(|a| a.get(REF_NAME))
                        .is_some_and(|name| name == tag)
                })
                .ok_or_else(|| OciLayoutError::TagNotFound {
                    dir: dir.to_path_buf(),
                    tag: tag.to_string(),
                    available: available.clone(),
                })?,
            None => match index.manifests.as_slice() {
                [only] => only,
                [] => return Err(not_layout("index.json lists no images".into())),
                many => {
                    return Err(OciLayoutError::Ambiguous {
                        dir: dir.to_path_buf(),
                        count: many.len(),
                        available,
                    })
                }
            },
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            entry: entry.clone(),
            verified: Mutex::new(HashSet::new()),
        })
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.dir.join("blobs").join("sha256").join(digest.hex())
    }

    /// The blob's path once its content has been checked against `desc`.
    fn verified_blob(&self, desc: &Descriptor) -> Result<PathBuf, ImageError> {
        let path = self.blob_path(&desc.digest);
        if !path.is_file() {
            return Err(OciLayoutError::MissingBlob {
                dir: self.dir.clone(),
                digest: desc.digest.clone(),
            }
            .into());
        }
        let already = self
            .verified
            .lock()
            .map(|v| v.contains(&desc.digest))
            .unwrap_or(false);
        if !already {
            verify_file(&path, desc)?;
            if let Ok(mut v) = self.verified.lock() {
                v.insert(desc.digest.clone());
            }
        }
        Ok(path)
    }

    fn read_small(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        let path = self.verified_blob(desc)?;
        std::fs::read(&path).map_err(|source| super::cache::CacheError::Io { path, source }.into())
    }
}

impl Transport for LayoutTransport {
    fn resolve(&self) -> Result<RawManifest, ImageError> {
        super::manifest::check_declared_size("manifest", &self.entry, MAX_MANIFEST_BYTES)?;
        Ok(RawManifest {
            bytes: self.read_small(&self.entry)?,
            media_type_hint: Some(self.entry.media_type.clone()),
            pinned: Some(self.entry.digest.clone()),
        })
    }

    fn manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        self.read_small(desc)
    }

    fn blob(&self, desc: &Descriptor, _cache: &Cache) -> Result<PathBuf, ImageError> {
        self.verified_blob(desc)
    }
}
