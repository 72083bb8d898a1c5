//! Manifests, indexes and image configs: the data the transports return,
//! parsed tolerantly (every config field is optional) but bounded (size and
//! fan-out limits), and the platform selection over an index.
//!
//! The media types are oci-client's. Its manifest, index, descriptor and
//! config types (`oci_client::manifest::{OciImageManifest, OciImageIndex,
//! OciDescriptor}`, `oci_client::config::ConfigFile`) are not used: each
//! type below says what they cannot carry that this project relies on.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::platform::Platform;

pub use oci_client::manifest::{
    IMAGE_CONFIG_MEDIA_TYPE as OCI_CONFIG, IMAGE_DOCKER_CONFIG_MEDIA_TYPE as DOCKER_CONFIG,
    IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE as DOCKER_LAYER_GZIP,
    IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE as DOCKER_LAYER_TAR,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE as DOCKER_MANIFEST_LIST,
    IMAGE_MANIFEST_MEDIA_TYPE as DOCKER_MANIFEST, OCI_IMAGE_INDEX_MEDIA_TYPE as OCI_INDEX,
    OCI_IMAGE_MEDIA_TYPE as OCI_MANIFEST,
};

/// Every manifest media type we ask a registry for.
pub const ACCEPTED_MANIFEST_TYPES: &[&str] = &[
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_MANIFEST_LIST,
    DOCKER_MANIFEST,
];

/// The largest manifest or index we parse.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
/// The largest image config we parse.
pub const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;
/// The most entries an index may have.
pub const MAX_INDEX_ENTRIES: usize = 1024;
/// The most layers an image manifest may have.
pub const MAX_LAYERS: usize = 1024;

/// Why a manifest or config was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{what} {digest} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        what: &'static str,
        digest: String,
        size: u64,
        limit: u64,
    },
    #[error("malformed {what} {digest}: {source}")]
    Malformed {
        what: &'static str,
        digest: String,
        source: serde_json::Error,
    },
    #[error(
        "manifest {digest} has media type {media_type:?}, which is not an image manifest or index"
    )]
    UnsupportedMediaType { digest: String, media_type: String },
    #[error("manifest {digest} uses schema version {version}; only schema 2 (OCI and Docker v2) is supported")]
    SchemaVersion { digest: String, version: u32 },
    #[error("{what} {digest} has {count} entries, over the limit of {limit}")]
    FanOut {
        what: &'static str,
        digest: String,
        count: usize,
        limit: usize,
    },
    #[error("platform {requested} is not in the image; available: {available}")]
    PlatformNotFound {
        requested: String,
        available: String,
    },
    #[error("the image has no runnable platform (only attestations or artifacts)")]
    NoPlatforms,
}

/// A content descriptor, as found in manifests and indexes.
///
/// Not `OciDescriptor`: its digest is any string, where this one is parsed
/// as it is read into a [`Digest`] (sha256, 64 lowercase hex digits), so
/// that a hostile manifest's digest is refused at once and never becomes
/// part of a blob's path in a layout or the cache; its size is signed; its
/// media type is required, where a descriptor without one is read here (a
/// manifest's media type then comes from the transport or its shape); and
/// an index entry is another type (`ImageIndexEntry`), where the project
/// passes one descriptor type to every transport.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<DescriptorPlatform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// The `platform` object of an index entry.
///
/// Not oci-client's `Platform`, which requires `os` and `architecture`:
/// an entry that lacks them is read here, and skipped as not runnable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DescriptorPlatform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An OCI image manifest or Docker schema2 manifest.
///
/// Not `OciImageManifest`, whose descriptors are `OciDescriptor`s (see
/// [`Descriptor`]) and whose `layers` are required.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// An OCI image index or Docker manifest list.
///
/// Not `OciImageIndex`, whose entries are not [`Descriptor`]s.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

/// A parsed top-level or per-platform manifest.
#[derive(Debug, Clone)]
pub enum Manifest {
    Index(Index),
    Image(Box<ImageManifest>),
}

/// The fields of a manifest every shape shares, to decide which shape it is.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<u32>,
    media_type: Option<String>,
    manifests: Option<serde_json::Value>,
}

impl Manifest {
    /// Parses manifest bytes already verified against `digest`. The media type
    /// comes from the document itself, else from the transport (`hint`, e.g. a
    /// Content-Type or descriptor), else from its shape.
    pub fn parse(
        bytes: &[u8],
        digest: &Digest,
        hint: Option<&str>,
    ) -> Result<(Self, String), ManifestError> {
        check_size("manifest", digest, bytes.len() as u64, MAX_MANIFEST_BYTES)?;
        let malformed = |source| ManifestError::Malformed {
            what: "manifest",
            digest: digest.to_string(),
            source,
        };
        let probe: Probe = serde_json::from_slice(bytes).map_err(malformed)?;
        match probe.schema_version {
            Some(2) => {}
            Some(version) => {
                return Err(ManifestError::SchemaVersion {
                    digest: digest.to_string(),
                    version,
                })
            }
            None => {
                return Err(ManifestError::SchemaVersion {
                    digest: digest.to_string(),
                    version: 0,
                })
            }
        }
        let media_type = probe
            .media_type
            .or_else(|| {
                hint.filter(|h| ACCEPTED_MANIFEST_TYPES.contains(h))
                    .map(str::to_string)
            })
            .unwrap_or_else(|| {
                if probe.manifests.is_some() {
                    OCI_INDEX.to_string()
                } else {
                    OCI_MANIFEST.to_string()
                }
            });
        let manifest = match media_type.as_str() {
            OCI_INDEX | DOCKER_MANIFEST_LIST => {
                let index: Index = serde_json::from_slice(bytes).map_err(malformed)?;
                check_fan_out("index", digest, index.manifests.len(), MAX_INDEX_ENTRIES)?;
                Self::Index(index)
            }
            OCI_MANIFEST | DOCKER_MANIFEST => {
                let manifest: ImageManifest = serde_json::from_slice(bytes).map_err(malformed)?;
                check_fan_out("manifest", digest, manifest.layers.len(), MAX_LAYERS)?;
                Self::Image(Box::new(manifest))
            }
            other => {
                return Err(ManifestError::UnsupportedMediaType {
                    digest: digest.to_string(),
                    media_type: other.to_string(),
                })
            }
        };
        Ok((manifest, media_type))
    }
}

fn check_size(
    what: &'static str,
    digest: &Digest,
    size: u64,
    limit: u64,
) -> Result<(), ManifestError> {
    if size > limit {
        return Err(ManifestError::TooLarge {
            what,
            digest: digest.to_string(),
            size,
            limit,
        });
    }
    Ok(())
}

fn check_fan_out(
    what: &'static str,
    digest: &Digest,
    count: usize,
    limit: usize,
) -> Result<(), ManifestError> {
    if count > limit {
        return Err(ManifestError::FanOut {
            what,
            digest: digest.to_string(),
            count,
            limit,
        });
    }
    Ok(())
}

/// Refuses a config or manifest descriptor that declares more than `limit` bytes, before fetching it.
pub fn check_declared_size(
    what: &'static str,
    desc: &Descriptor,
    limit: u64,
) -> Result<(), ManifestError> {
    check_size(what, &desc.digest, desc.size, limit)
}

/// An image config (`application/vnd.oci.image.config.v1+json` or Docker's): every field optional.
///
/// Not oci-client's `ConfigFile`, which requires `architecture`, `os` and
/// `rootfs` and refuses a `created` that is not RFC 3339: a config is read
/// here for the few fields the project uses, whatever else it holds.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

/// The `config` object of an image config: what a runtime uses to start the container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub env: Option<Vec<String>>,
    #[serde(default)]
    pub working_dir: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    /// Labels; values that are not strings are kept as JSON and ignored by readers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, serde_json::Value>>,
}

/// The `rootfs` object of an image config.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

impl ImageConfig {
    /// Parses config bytes already verified against `digest`.
    pub fn parse(bytes: &[u8], digest: &Digest) -> Result<Self, ManifestError> {
        check_size("config", digest, bytes.len() as u64, MAX_CONFIG_BYTES)?;
        serde_json::from_slice(bytes).map_err(|source| ManifestError::Malformed {
            what: "config",
            digest: digest.to_string(),
            source,
        })
    }

    /// The platform the config claims.
    pub fn platform(&self) -> Platform {
        Platform::new(&self.os, &self.architecture, self.variant.as_deref())
    }

    /// The container config, or an empty one.
    pub fn container(&self) -> ContainerConfig {
        self.config.clone().unwrap_or_default()
    }
}

/// Whether an index entry is a runnable image rather than an attestation,
/// signature or other artifact.
fn is_runnable(entry: &Descriptor) -> bool {
    let image_type = matches!(entry.media_type.as_str(), OCI_MANIFEST | DOCKER_MANIFEST);
    let attestation = entry
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key("vnd.docker.reference.type"));
    let unknown_platform = entry
        .platform
        .as_ref()
        .is_none_or(|p| p.os == "unknown" || p.architecture == "unknown" || p.os.is_empty());
    image_type && entry.artifact_type.is_none() && !attestation && !unknown_platform
}

/// The runnable entries of an index with their platforms, in index order.
pub fn runnable_entries(index: &Index) -> Vec<(Platform, &Descriptor)> {
    index
        .manifests
        .iter()
        .filter(|e| is_runnable(e))
        .filter_map(|e| {
            let p = e.platform.as_ref()?;
            Some((
                Platform::new(&p.os, &p.architecture, p.variant.as_deref()),
                e,
            ))
        })
        .collect()
}

/// Selects the index entries for the requested platforms (all runnable ones
/// when none is requested). A requested platform absent from the index is an
/// error listing what is available.
pub fn select_platforms<'a>(
    index: &'a Index,
    requested: &[Platform],
) -> Result<Vec<(Platform, &'a Descriptor)>, ManifestError> {
    let runnable = runnable_entries(index);
    if runnable.is_empty() {
        return Err(ManifestError::NoPlatforms);
    }
    if requested.is_empty() {
        return Ok(runnable);
    }
    requested
        .iter()
        .map(|want| {
            runnable
                .iter()
                .find(|(p, _)| want.matches(p))
                .cloned()
                .ok_or_else(|| ManifestError::PlatformNotFound {
                    requested: want.to_string(),
                    available: list_platforms(runnable.iter().map(|(p, _)| p)),
                })
        })
        .collect()
}

/// `linux/amd64, linux/arm64`.
pub fn list_platforms<'a>(platforms: impl Iterator<Item = &'a Platform>) -> String {
    platforms
        .map(Platform::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest::of(b"x")
    }

    fn entry(media_type: &str, os: &str, arch: &str) -> serde_json::Value {
        serde_json::json!({
            "mediaType": media_type,
            "digest": format!("sha256:{}", "a".repeat(64)),
            "size": 10,
            "platform": {"os": os, "architecture": arch}
        })
    }

    #[test]
    fn skips_attestations_and_selects_platforms() {
        let mut att = entry(OCI_MANIFEST, "unknown", "unknown");
        att["annotations"] =
            serde_json::json!({"vnd.docker.reference.type": "attestation-manifest"});
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [entry(OCI_MANIFEST, "linux", "amd64"), entry(OCI_MANIFEST, "linux", "arm64"), att]
        });
        let (m, mt) = Manifest::parse(doc.to_string().as_bytes(), &digest(), None).unwrap();
        assert_eq!(mt, OCI_INDEX);
        let Manifest::Index(index) = m else {
            panic!("not an index")
        };
        let all = select_platforms(&index, &[]).unwrap();
        let names: Vec<String> = all.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(names, ["linux/amd64", "linux/arm64"]);
        let err = select_platforms(&index, &["linux/s390x".parse().unwrap()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "platform linux/s390x is not in the image; available: linux/amd64, linux/arm64"
        );
    }

    #[test]
    fn refuses_schema1_and_oversized_manifests() {
        let doc = br#"{"schemaVersion": 1, "name": "x"}"#;
        assert!(matches!(
            Manifest::parse(doc, &digest(), None),
            Err(ManifestError::SchemaVersion { version: 1, .. })
        ));
        let big = vec![b' '; MAX_MANIFEST_BYTES as usize + 1];
        assert!(matches!(
            Manifest::parse(&big, &digest(), None),
            Err(ManifestError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_descriptor_digest_that_could_name_a_path_is_refused_as_the_manifest_is_read() {
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": format!("sha256:{}", "a".repeat(64)), "size": 2},
            "layers": [{"mediaType": DOCKER_LAYER_TAR, "digest": "sha256:../../../etc/passwd", "size": 1}]
        });
        let err = Manifest::parse(doc.to_string().as_bytes(), &digest(), None).unwrap_err();
        assert!(matches!(err, ManifestError::Malformed { .. }), "{err:?}");
        let expected = format!(
            "malformed manifest {}: malformed digest \"sha256:../../../etc/passwd\": \
             expected sha256: followed by 64 lowercase hex digits",
            digest()
        );
        assert!(err.to_string().starts_with(&expected), "{err}");
    }

    #[test]
    fn reads_entries_without_media_type_or_os_and_skips_them() {
        let doc = serde_json::json!({
            "schemaVersion": 2,
            "manifests": [
                entry(OCI_MANIFEST, "linux", "amd64"),
                {"mediaType": OCI_MANIFEST, "digest": format!("sha256:{}", "b".repeat(64)), "size": 10,
                 "platform": {"architecture": "arm64"}},
                {"digest": format!("sha256:{}", "c".repeat(64)), "size": 10},
            ]
        });
        let (m, mt) = Manifest::parse(doc.to_string().as_bytes(), &digest(), None).unwrap();
        assert_eq!(mt, OCI_INDEX);
        let Manifest::Index(index) = m else {
            panic!("not an index")
        };
        assert_eq!(index.manifests.len(), 3);
        assert_eq!(index.manifests[2].media_type, "");
        let runnable: Vec<String> = select_platforms(&index, &[])
            .unwrap()
            .iter()
            .map(|(p, _)| p.to_string())
            .collect();
        assert_eq!(runnable, ["linux/amd64"]);
    }

    #[test]
    fn config_fields_are_optional() {
        let c = ImageConfig::parse(b"{}", &digest()).unwrap();
        assert!(c.container().entrypoint.is_none());
        let c = ImageConfig::parse(
            br#"{"architecture":"arm64","os":"linux","config":{"Entrypoint":["/app"],"Env":["PATH=/bin"]}}"#,
            &digest(),
        )
        .unwrap();
        assert_eq!(c.platform().to_string(), "linux/arm64");
        assert_eq!(c.container().entrypoint.unwrap(), ["/app"]);
    }
}
