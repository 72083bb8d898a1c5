//! Manifests larger than 4 MiB, for testing our manifest size limit.
//!
//! distribution 2.8 can neither store nor serve one: PUTs over 4 MiB get 400
//! MANIFEST_INVALID "http: request body too large", and a manifest planted in
//! its storage is answered with 500 "storage: read exceeds limit". So the
//! oversized case is an OCI layout; the registry helper builds manifests of
//! an exact size for probing the boundary.

use std::path::Path;

use serde_json::json;

use super::image::{manifest_media_type, MediaTypes};
use super::layout::{tag_in_layout, write_blob, Descriptor};
use super::registry::Registry;

/// An OCI manifest of exactly `size` bytes (padded with one annotation)
/// referencing `config` and `layer` (digest, size) blobs.
fn padded_manifest(config: (&str, usize), layer: (&str, usize), size: usize) -> Vec<u8> {
    let base = manifest_with_padding(config, layer, 0).len();
    assert!(size >= base, "a padded manifest is at least {base} bytes");
    let bytes = manifest_with_padding(config, layer, size - base);
    assert_eq!(bytes.len(), size);
    bytes
}

fn manifest_with_padding(config: (&str, usize), layer: (&str, usize), padding: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": manifest_media_type(MediaTypes::Oci),
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config.0, "size": config.1,
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer.0, "size": layer.1,
        }],
        "annotations": {"org.example.padding": "x".repeat(padding)},
    }))
    .expect("serialise oversized manifest")
}

const CONFIG: &[u8] =
    br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"]}}"#;

/// An empty tar (two zero blocks); its sha256 is the diff_id in `CONFIG`.
fn empty_tar() -> Vec<u8> {
    vec![0u8; 1024]
}

/// A valid OCI manifest of exactly `size` bytes whose config and layer
/// were uploaded to `registry`'s `repo`, ready to PUT with
/// [`Registry::put_manifest`] (distribution accepts at most 4 MiB).
pub fn manifest_of_size(registry: &Registry, repo: &str, size: usize) -> Vec<u8> {
    let config = registry.upload_blob(repo, CONFIG);
    let layer_bytes = empty_tar();
    let layer = registry.upload_blob(repo, &layer_bytes);
    padded_manifest((&config, CONFIG.len()), (&layer, layer_bytes.len()), size)
}

/// Writes an OCI layout at `dir` whose `tag` points at a valid manifest of
/// exactly `size` bytes (config and layer blobs present); returns its descriptor.
pub fn write_oversized_layout(dir: &Path, tag: &str, size: usize) -> Descriptor {
    let config = write_blob(dir, CONFIG);
    let layer_bytes = empty_tar();
    let layer = write_blob(dir, &layer_bytes);
    let manifest = padded_manifest((&config, CONFIG.len()), (&layer, layer_bytes.len()), size);
    let top = Descriptor {
        media_type: manifest_media_type(MediaTypes::Oci).to_string(),
        digest: write_blob(dir, &manifest),
        size: manifest.len() as u64,
    };
    tag_in_layout(dir, tag, &top);
    top
}
