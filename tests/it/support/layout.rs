//! Writes OCI image layouts (`oci-layout`, `index.json`, `blobs/sha256/...`)
//! from an [`ImageSet`], as an image index or a single manifest, with OCI or
//! Docker media types.

use std::fs;
use std::path::Path;

use serde_json::json;

use super::image::{
    annotations_json, index_media_type, manifest_media_type, sha256_digest, ImageSet, MediaTypes,
};

/// The annotation that names a tag in a layout's `index.json`.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Whether the tag points at an index (manifest list) or directly at a manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexStyle {
    /// An image index / manifest list with one `platform` entry per image.
    Index,
    /// The single image's manifest (the set must hold exactly one image, no attestations).
    SingleManifest,
}

/// A content descriptor (media type, digest, size) of something written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The blob's media type.
    pub media_type: String,
    /// `sha256:<hex>`.
    pub digest: String,
    /// Size in bytes.
    pub size: u64,
}

/// What [`write_oci_layout`] wrote.
#[derive(Debug, Clone)]
pub struct WrittenLayout {
    /// The descriptor the tag points at (index or manifest).
    pub top: Descriptor,
    /// One image manifest per image, in `ImageSet` order.
    pub manifests: Vec<Descriptor>,
}

/// Writes `bytes` to `dir/blobs/sha256/<hex>` and returns their digest.
pub fn write_blob(dir: &Path, bytes: &[u8]) -> String {
    let digest = sha256_digest(bytes);
    let path = blob_path(dir, &digest);
    fs::create_dir_all(path.parent().expect("blob dir")).expect("create blobs dir");
    fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    digest
}

/// `dir/blobs/sha256/<hex>` for `digest` (`sha256:<hex>`).
pub fn blob_path(dir: &Path, digest: &str) -> std::path::PathBuf {
    let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
    dir.join("blobs/sha256").join(hex)
}

/// Adds (or replaces) the `index.json` entry for `tag` pointing at `top`,
/// creating `oci-layout` and `index.json` if absent. Other tags are kept.
pub fn tag_in_layout(dir: &Path, tag: &str, top: &Descriptor) {
    fs::create_dir_all(dir).expect("create layout dir");
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("write oci-layout");
    let index_path = dir.join("index.json");
    let mut entries: Vec<serde_json::Value> = match fs::read(&index_path) {
        Ok(bytes) => {
            let doc: serde_json::Value =
                serde_json::from_slice(&bytes).expect("existing index.json is JSON");
            doc["manifests"].as_array().cloned().unwrap_or_default()
        }
        Err(_) => Vec::new(),
    };
    entries.retain(|e| e["annotations"][REF_NAME_ANNOTATION].as_str() != Some(tag));
    entries.push(json!({
        "mediaType": top.media_type,
        "digest": top.digest,
        "size": top.size,
        "annotations": {REF_NAME_ANNOTATION: tag},
    }));
    let doc = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    });
    fs::write(
        &index_path,
        serde_json::to_vec(&doc).expect("serialise index.json"),
    )
    .expect("write index.json");
}

/// Writes `set` into the OCI layout at `dir` under `tag` (other tags already
/// in the layout are kept) and returns the descriptors written.
///
/// With `MediaTypes::Docker` the manifests are Docker schema2 and the index a
/// Docker manifest list, still stored in an OCI layout (skopeo reads that).
/// Attestations require `MediaTypes::Oci` and `IndexStyle::Index`.
pub fn write_oci_layout(
    dir: &Path,
    tag: &str,
    set: &ImageSet,
    style: IndexStyle,
    media: MediaTypes,
) -> WrittenLayout {
    let mut manifests = Vec::new();
    let mut index_entries = Vec::new();
    for image in &set.images {
        write_blob(dir, &image.config);
        for layer in &image.layers {
            let path = blob_path(dir, &layer.digest);
            fs::create_dir_all(path.parent().expect("blob dir")).expect("create blobs dir");
            layer.write_blob_to(&path);
        }
        let manifest = image.manifest_bytes(media);
        let desc = Descriptor {
            media_type: manifest_media_type(media).to_string(),
            digest: write_blob(dir, &manifest),
            size: manifest.len() as u64,
        };
        index_entries.push(json!({
            "mediaType": desc.media_type,
            "digest": desc.digest,
            "size": desc.size,
            "platform": image.platform.to_json(),
        }));
        if set.attestations {
            assert_eq!(media, MediaTypes::Oci, "attestations need OCI media types");
            let att = write_attestation(dir, &desc.digest);
            index_entries.push(json!({
                "mediaType": att.media_type,
                "digest": att.digest,
                "size": att.size,
                "platform": {"architecture": "unknown", "os": "unknown"},
                "annotations": {
                    "vnd.docker.reference.digest": desc.digest,
                    "vnd.docker.reference.type": "attestation-manifest",
                },
            }));
        }
        manifests.push(desc);
    }
    let top = match style {
        IndexStyle::SingleManifest => {
            assert!(
                set.images.len() == 1 && !set.attestations && set.annotations.is_empty(),
                "SingleManifest needs exactly one image, no attestations and no index annotations"
            );
            manifests[0].clone()
        }
        IndexStyle::Index => {
            let mut doc = json!({
                "schemaVersion": 2,
                "mediaType": index_media_type(media),
                "manifests": index_entries,
            });
            if !set.annotations.is_empty() {
                doc["annotations"] = annotations_json(&set.annotations);
            }
            let bytes = serde_json::to_vec(&doc).expect("serialise index");
            Descriptor {
                media_type: index_media_type(media).to_string(),
                digest: write_blob(dir, &bytes),
                size: bytes.len() as u64,
            }
        }
    };
    tag_in_layout(dir, tag, &top);
    WrittenLayout { top, manifests }
}

/// A BuildKit-like attestation manifest for `subject` (an in-toto layer).
fn write_attestation(dir: &Path, subject: &str) -> Descriptor {
    let statement = serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "harness", "digest": {"sha256": subject.trim_start_matches("sha256:")}}],
        "predicate": {},
    }))
    .expect("serialise statement");
    let config = br#"{"architecture":"unknown","os":"unknown","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = write_blob(dir, config);
    let layer_digest = write_blob(dir, &statement);
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest,
            "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.in-toto+json",
            "digest": layer_digest,
            "size": statement.len(),
            "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"},
        }],
    }))
    .expect("serialise attestation manifest");
    Descriptor {
        media_type: "application/vnd.oci.image.manifest.v1+json".to_string(),
        digest: write_blob(dir, &manifest),
        size: manifest.len() as u64,
    }
}
