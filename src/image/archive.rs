//! The `docker-archive:FILE[:REF]` transport: a `docker save` tarball.
//!
//! The archive has no manifest of its own, so, as skopeo does, we
//! synthesise a Docker schema2 manifest from its `manifest.json` entry:
//! the config is named by its sha256, each layer by the sha256 of its
//! bytes, verified against the config's `rootfs.diff_ids` (or the blob name
//! in newer archives). Layers are copied into the cache as they are verified.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::cache::{Cache, CacheError};
use super::digest::{hash_reader, BlobMismatch, Digest};
use super::error::{ArchiveError, ImageError};
use super::manifest::{
    Descriptor, ImageConfig, ImageManifest, DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR,
    DOCKER_MANIFEST, MAX_CONFIG_BYTES, MAX_LAYERS,
};
use super::reference::Reference;
use super::transport::{RawManifest, Transport};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// Where a member's bytes sit inside the tarball.
#[derive(Clone, Copy)]
struct Member {
    offset: u64,
    size: u64,
}

/// A `docker save` tarball and the image it names.
pub struct ArchiveTransport {
    path: PathBuf,
    manifest_bytes: Vec<u8>,
    config_bytes: Vec<u8>,
    /// Layer descriptors' digests to their member and the diff_id it must hash to uncompressed.
    layers: HashMap<Digest, (Member, Digest)>,
}

impl ArchiveTransport {
    /// Reads the archive's table of contents and synthesises the manifest of the named image.
    pub fn open(path: &Path, wanted: Option<&str>) -> Result<Self, ArchiveError> {
        let io = |source| ArchiveError::Io {
            path: path.to_path_buf(),
            source,
        };
        let not_archive = |reason: String| ArchiveError::NotAnArchive {
            path: path.to_path_buf(),
            reason,
        };
        let members = index_members(path).map_err(io)?;
        let read_member = |name: &str, limit: u64| -> Result<Vec<u8>, ArchiveError> {
            let m = members
                .get(name)
                .ok_or_else(|| not_archive(format!("it lacks {name}")))?;
            if m.size > limit {
                return Err(not_archive(format!("{name} is over {limit} bytes")));
            }
            read_range(path, *m).map_err(io)
        };
        let toc = read_member("manifest.json", MAX_CONFIG_BYTES)?;
        let entries: Vec<ArchiveEntry> = serde_json::from_slice(&toc)
            .map_err(|e| not_archive(format!("malformed manifest.json: {e}")))?;
        let entry = pick_entry(path, &entries, wanted)?;
        if entry.layers.len() > MAX_LAYERS {
            return Err(not_archive(format!("over {MAX_LAYERS} layers")));
        }

        let config_bytes = read_member(&entry.config, MAX_CONFIG_BYTES)?;
        let config_digest = Digest::of(&config_bytes);
        if let Some(named) = digest_in_name(&entry.config) {
            if named != config_digest {
                return Err(BlobMismatch::Digest {
                    expected: named,
                    actual: config_digest,
                })
                .map_err(|e| not_archive(e.to_string()));
            }
        }
        let config = ImageConfig::parse(&config_bytes, &config_digest)
            .map_err(|e| not_archive(e.to_string()))?;
        let diff_ids = config.rootfs.map(|r| r.diff_ids).unwrap_or_default();
        if diff_ids.len() != entry.layers.len() {
            return Err(not_archive(format!(
                "the config lists {} diff_ids for {} layers",
                diff_ids.len(),
                entry.layers.len()
            )));
        }

        let mut layer_descs = Vec::new();
        let mut layers = HashMap::new();
        for (name, diff_id) in entry.layers.iter().zip(diff_ids) {
            let member = *members
                .get(name.as_str())
                .ok_or_else(|| not_archive(format!("it lacks layer {name}")))?;
            let gzip = starts_with_gzip(path, member).map_err(io)?;
            // A layer named by its digest is that digest; an unnamed uncompressed
            // layer is its diff_id. Both are verified when the layer is read.
            let digest = match digest_in_name(name) {
                Some(d) => d,
                None if !gzip => diff_id.clone(),
                None => {
                    let (d, _) = hash_reader(open_member(path, member).map_err(io)?).map_err(io)?;
                    d
                }
            };
            layer_descs.push(Descriptor {
                media_type: if gzip {
                    DOCKER_LAYER_GZIP
                } else {
                    DOCKER_LAYER_TAR
                }
                .to_string(),
                digest: digest.clone(),
                size: member.size,
                platform: None,
                annotations: None,
                artifact_type: None,
            });
            layers.insert(digest, (member, diff_id));
        }
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(DOCKER_MANIFEST.to_string()),
            artifact_type: None,
            config: Descriptor {
                media_type: DOCKER_CONFIG.to_string(),
                digest: config_digest,
                size: config_bytes.len() as u64,
                platform: None,
                annotations: None,
                artifact_type: None,
            },
            layers: layer_descs,
            annotations: None,
        };
        let manifest_bytes = serde_json::to_vec(&manifest)
            .map_err(|e| not_archive(format!("cannot synthesise a manifest: {e}")))?;
        Ok(Self {
            path: path.to_path_buf(),
            manifest_bytes,
            config_bytes,
            layers,
        })
    }
}

impl Transport for ArchiveTransport {
    fn resolve(&self) -> Result<RawManifest, ImageError> {
        Ok(RawManifest {
            bytes: self.manifest_bytes.clone(),
            media_type_hint: Some(DOCKER_MANIFEST.to_string()),
            pinned: None,
        })
    }

    fn manifest(&self, _desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        Ok(self.manifest_bytes.clone())
    }

    fn blob(&self, desc: &Descriptor, cache: &Cache) -> Result<PathBuf, ImageError> {
        if desc.digest == Digest::of(&self.config_bytes) {
            return Ok(cache.insert(&desc.digest, Some(desc.size), &self.config_bytes[..])?);
        }
        if let Some(path) = cache.blob(&desc.digest)? {
            return Ok(path);
        }
        let io = |source| ArchiveError::Io {
            path: self.path.clone(),
            source,
        };
        let (member, diff_id) =
            self.layers
                .get(&desc.digest)
                .ok_or_else(|| ArchiveError::NotAnArchive {
                    path: self.path.clone(),
                    reason: format!("it has no blob {}", desc.digest),
                })?;
        if desc.media_type == DOCKER_LAYER_GZIP {
            let decoded =
                flate2::read::GzDecoder::new(open_member(&self.path, *member).map_err(io)?);
            let (actual, _) = hash_reader(decoded).map_err(io)?;
            if &actual != diff_id {
                return Err(ArchiveError::LayerMismatch {
                    path: self.path.clone(),
                    layer: desc.digest.to_string(),
                    expected: diff_id.clone(),
                    actual,
                }
                .into());
            }
        }
        let reader = open_member(&self.path, *member).map_err(io)?;
        cache
            .insert(&desc.digest, Some(member.size), reader)
            .map_err(|e| match e {
                CacheError::BlobMismatch(BlobMismatch::Digest { actual, .. }) => {
                    ArchiveError::LayerMismatch {
                        path: self.path.clone(),
                        layer: desc.digest.to_string(),
                        expected: diff_id.clone(),
                        actual,
                    }
                    .into()
                }
                other => other.into(),
            })
    }
}

fn pick_entry<'a>(
    path: &Path,
    entries: &'a [ArchiveEntry],
    wanted: Option<&str>,
) -> Result<&'a ArchiveEntry, ArchiveError> {
    let tags: Vec<&str> = entries
        .iter()
        .flat_map(|e| e.repo_tags.iter().flatten().map(String::as_str))
        .collect();
    let available = if tags.is_empty() {
        format!("{} untagged image(s)", entries.len())
    } else {
        tags.join(", ")
    };
    match wanted {
        Some(wanted) => {
            let wanted_norm = Reference::parse(wanted).ok();
            entries
                .iter()
                .find(|e| {
                    e.repo_tags.iter().flatten().any(|t| {
                        t == wanted
                            || (wanted_norm.is_some() && Reference::parse(t).ok() == wanted_norm)
                    })
                })
                .ok_or_else(|| ArchiveError::NotFound {
                    path: path.to_path_buf(),
                    wanted: wanted.to_string(),
                    available,
                })
        }
        None => match entries {
            [only] => Ok(only),
            [] => Err(ArchiveError::NotAnArchive {
                path: path.to_path_buf(),
                reason: "manifest.json lists no images".into(),
            }),
            many => Err(ArchiveError::Ambiguous {
                path: path.to_path_buf(),
                count: many.len(),
                available,
            }),
        },
    }
}

/// `blobs/sha256/<hex>` or `<hex>.json` -> the digest the name promises.
fn digest_in_name(name: &str) -> Option<Digest> {
    let base = name.rsplit('/').next()?;
    let base = base.strip_suffix(".json").unwrap_or(base);
    Digest::from_hex(base)
}

/// Scans the tarball's headers once: member name -> position of its bytes.
fn index_members(path: &Path) -> std::io::Result<HashMap<String, Member>> {
    let mut archive = tar::Archive::new(File::open(path)?);
    let mut members = HashMap::new();
    let mut links = Vec::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let name = entry
            .path()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_string();
        let kind = entry.header().entry_type();
        if kind.is_symlink() {
            if let Some(target) = entry.link_name()? {
                links.push((resolve_link(&name, &target.to_string_lossy()), name));
            }
        } else if kind.is_file() {
            let member = Member {
                offset: entry.raw_file_position(),
                size: entry.size(),
            };
            members.insert(name, member);
        }
    }
    // Older `docker save` layouts name layers `<id>/layer.tar`, a symlink to the blob.
    for (target, name) in links {
        if let Some(member) = target.and_then(|t| members.get(&t).copied()) {
            members.insert(name, member);
        }
    }
    Ok(members)
}

/// The member a relative symlink inside the archive points to (`a/layer.tar -> ../x.tar` is `x.tar`).
fn resolve_link(name: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = name.split('/').collect();
    parts.pop();
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

fn open_member(path: &Path, m: Member) -> std::io::Result<impl Read> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(m.offset))?;
    Ok(std::io::BufReader::new(f.take(m.size)))
}

fn read_range(path: &Path, m: Member) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(m.size as usize);
    open_member(path, m)?.read_to_end(&mut out)?;
    Ok(out)
}

fn starts_with_gzip(path: &Path, m: Member) -> std::io::Result<bool> {
    let mut magic = [0u8; 2];
    let mut reader = open_member(path, m)?;
    let n = reader.read(&mut magic)?;
    Ok(n == 2 && magic == [0x1f, 0x8b])
}
