//! Where signed attestations live next to an image in its registry, as
//! plain documents: the manifest tagged `sha256-<hex>.att` that cosign reads
//! (one layer per DSSE envelope, accumulating), and the OCI 1.1 referrer
//! manifest (`subject` = the image) with the referrers tag schema's index
//! (`sha256-<hex>`) for registries without the referrers API. Building and
//! reading these documents is here; sending them is `attach`'s job.

use std::collections::BTreeMap;

use crate::image::digest::Digest;
use crate::image::manifest::{
    Descriptor, ImageManifest, Index, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST,
};

/// The media type of a DSSE envelope layer.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The OCI 1.1 empty descriptor's media type (the referrer's config).
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The empty JSON object both configs hold.
pub const EMPTY_JSON: &[u8] = b"{}";
/// The annotation cosign expects on every attestation layer (empty: the
/// signature is inside the envelope).
pub const COSIGN_SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The annotation naming the statement's predicate type (cosign's `--type`).
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// The most envelopes one `.att` manifest or referrers index may hold:
/// beyond this an attachment is refused rather than grown without bound.
pub const MAX_ATTACHED: usize = 512;

/// A layout document that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AttestationLayoutError {
    #[error("{what} is not an OCI {expected} ({reason}); it was not written by cosign or rebuild-compare, so it is left alone")]
    Unreadable {
        what: String,
        expected: &'static str,
        reason: String,
    },
    #[error("{what} already holds {count} attestations, the most accepted ({MAX_ATTACHED})")]
    Full { what: String, count: usize },
    #[error("{what} lists {count} entries, more than the {MAX_ATTACHED} accepted, so it is not read (neither to check nor to add to)")]
    TooMany { what: String, count: usize },
}

/// The tag of the manifest cosign reads the attestations of `image` from.
pub fn att_tag(image: &Digest) -> String {
    format!("sha256-{}.att", image.hex())
}

/// The referrers tag schema's tag for `image` (OCI distribution 1.1).
pub fn referrers_tag(image: &Digest) -> String {
    format!("sha256-{}", image.hex())
}

/// The descriptor of an envelope blob as a layer, with cosign's annotations.
pub fn envelope_layer(envelope: &[u8], predicate_type: &str) -> Descriptor {
    Descriptor {
        media_type: DSSE_MEDIA_TYPE.to_string(),
        digest: Digest::of(envelope),
        size: envelope.len() as u64,
        platform: None,
        annotations: Some(BTreeMap::from([
            (COSIGN_SIGNATURE_ANNOTATION.to_string(), String::new()),
            (
                PREDICATE_TYPE_ANNOTATION.to_string(),
                predicate_type.to_string(),
            ),
        ])),
        artifact_type: None,
    }
}

fn empty_config(media_type: &str) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: Digest::of(EMPTY_JSON),
        size: EMPTY_JSON.len() as u64,
        platform: None,
        annotations: None,
        artifact_type: None,
    }
}

/// The `.att` manifest with `layer` appended to `existing` (the manifest
/// currently at the tag, if any); `None` when it already holds that
/// envelope. Other layers (other rebuilders', cosign's) are kept as they are.
pub fn append_to_att_manifest(
    what: &str,
    existing: Option<&[u8]>,
    layer: Descriptor,
) -> Result<Option<Vec<u8>>, AttestationLayoutError> {
    let mut manifest = match existing {
        Some(bytes) => read_manifest(what, bytes)?,
        None => ImageManifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_string()),
            artifact_type: None,
            config: empty_config(OCI_CONFIG),
            layers: Vec::new(),
            annotations: None,
        },
    };
    if manifest.layers.iter().any(|l| l.digest == layer.digest) {
        return Ok(None);
    }
    if manifest.layers.len() >= MAX_ATTACHED {
        return Err(AttestationLayoutError::Full {
            what: what.to_string(),
            count: manifest.layers.len(),
        });
    }
    manifest.layers.push(layer);
    Ok(Some(to_json(&manifest)))
}

/// The OCI 1.1 referrer manifest carrying one envelope, about `subject`.
pub fn referrer_manifest(layer: Descriptor, subject: Descriptor) -> Vec<u8> {
    let mut subject = subject;
    subject.platform = None;
    subject.annotations = None;
    subject.artifact_type = None;
    let annotations = layer
        .annotations
        .as_ref()
        .and_then(|a| a.get(PREDICATE_TYPE_ANNOTATION))
        .map(|t| BTreeMap::from([(PREDICATE_TYPE_ANNOTATION.to_string(), t.clone())]));
    let manifest = Referrer {
        schema_version: 2,
        media_type: OCI_MANIFEST,
        artifact_type: DSSE_MEDIA_TYPE,
        config: empty_config(EMPTY_MEDIA_TYPE),
        layers: vec![layer],
        subject,
        annotations,
    };
    to_json(&manifest)
}

/// An OCI image manifest with a `subject`, as the referrers API indexes it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Referrer {
    schema_version: u32,
    media_type: &'static str,
    artifact_type: &'static str,
    config: Descriptor,
    layers: Vec<Descriptor>,
    subject: Descriptor,
    #[serde(skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, String>>,
}

/// The descriptor a referrers index lists for a pushed referrer manifest.
pub fn referrer_entry(
    manifest: &[u8],
    annotations: Option<BTreeMap<String, String>>,
) -> Descriptor {
    Descriptor {
        media_type: OCI_MANIFEST.to_string(),
        digest: Digest::of(manifest),
        size: manifest.len() as u64,
        platform: None,
        annotations,
        artifact_type: Some(DSSE_MEDIA_TYPE.to_string()),
    }
}

/// The referrers tag schema's index with `entry` added; `None` when it is
/// already listed.
pub fn append_to_referrers_index(
    what: &str,
    existing: Option<&[u8]>,
    entry: Descriptor,
) -> Result<Option<Vec<u8>>, AttestationLayoutError> {
    let mut index = match existing {
        Some(bytes) => read_index(what, bytes)?,
        None => Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_string()),
            manifests: Vec::new(),
            annotations: None,
        },
    };
    if index.manifests.iter().any(|m| m.digest == entry.digest) {
        return Ok(None);
    }
    if index.manifests.len() >= MAX_ATTACHED {
        return Err(AttestationLayoutError::Full {
            what: what.to_string(),
            count: index.manifests.len(),
        });
    }
    index.manifests.push(entry);
    Ok(Some(to_json(&index)))
}

/// Reads an `.att` or referrer manifest (OCI image manifest JSON).
pub fn read_manifest(what: &str, bytes: &[u8]) -> Result<ImageManifest, AttestationLayoutError> {
    let unreadable = |reason: String| AttestationLayoutError::Unreadable {
        what: what.to_string(),
        expected: "image manifest",
        reason,
    };
    let manifest: ImageManifest =
        serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
    match manifest.media_type.as_deref() {
        None | Some(OCI_MANIFEST) => {}
        Some(other) => return Err(unreadable(format!("media type {other}"))),
    }
    if manifest.schema_version != 2 {
        return Err(unreadable(format!(
            "schema version {}",
            manifest.schema_version
        )));
    }
    if manifest.layers.len() > MAX_ATTACHED {
        return Err(AttestationLayoutError::TooMany {
            what: what.to_string(),
            count: manifest.layers.len(),
        });
    }
    Ok(manifest)
}

/// Reads a referrers index (from the API or the tag schema) to add to it.
pub fn read_index(what: &str, bytes: &[u8]) -> Result<Index, AttestationLayoutError> {
    let index = parse_index(what, bytes)?;
    if index.manifests.len() > MAX_ATTACHED {
        return Err(AttestationLayoutError::TooMany {
            what: what.to_string(),
            count: index.manifests.len(),
        });
    }
    Ok(index)
}

/// The DSSE referrers a referrers index lists (a registry may ignore the
/// `artifactType` filter, so other artifacts are dropped here), at most
/// [`MAX_ATTACHED`] of them: many SBOMs or signatures listed beside them
/// never hide the attestations. The document itself is bounded by the
/// manifest size cap.
pub fn dsse_referrers(what: &str, bytes: &[u8]) -> Result<Vec<Descriptor>, AttestationLayoutError> {
    let referrers: Vec<Descriptor> = parse_index(what, bytes)?
        .manifests
        .into_iter()
        .filter(|m| m.artifact_type.as_deref() == Some(DSSE_MEDIA_TYPE))
        .collect();
    if referrers.len() > MAX_ATTACHED {
        return Err(AttestationLayoutError::TooMany {
            what: what.to_string(),
            count: referrers.len(),
        });
    }
    Ok(referrers)
}

fn parse_index(what: &str, bytes: &[u8]) -> Result<Index, AttestationLayoutError> {
    let unreadable = |reason: String| AttestationLayoutError::Unreadable {
        what: what.to_string(),
        expected: "image index",
        reason,
    };
    let index: Index = serde_json::from_slice(bytes).map_err(|e| unreadable(e.to_string()))?;
    match index.media_type.as_deref() {
        None | Some(OCI_INDEX) => Ok(index),
        Some(other) => Err(unreadable(format!("media type {other}"))),
    }
}

/// The envelope layers of an `.att` or referrer manifest.
pub fn envelope_layers(manifest: &ImageManifest) -> impl Iterator<Item = &Descriptor> {
    manifest
        .layers
        .iter()
        .filter(|l| l.media_type == DSSE_MEDIA_TYPE)
}

fn to_json(value: &impl serde::Serialize) -> Vec<u8> {
    // Serialising these plain structs cannot fail (string keys only).
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image() -> Descriptor {
        Descriptor {
            media_type: OCI_INDEX.to_string(),
            digest: Digest::of(b"image index"),
            size: 11,
            platform: None,
            annotations: None,
            artifact_type: None,
        }
    }

    #[test]
    fn tags_follow_cosign_and_the_referrers_tag_schema() {
        let digest = Digest::of(b"x");
        assert_eq!(att_tag(&digest), format!("sha256-{}.att", digest.hex()));
        assert_eq!(referrers_tag(&digest), format!("sha256-{}", digest.hex()));
    }

    #[test]
    fn envelopes_accumulate_in_the_att_manifest_once_each() {
        let first = envelope_layer(b"{\"a\":1}", "https://slsa.dev/verification_summary/v1");
        let second = envelope_layer(b"{\"b\":2}", "https://slsa.dev/verification_summary/v1");
        let one = append_to_att_manifest("t", None, first.clone())
            .unwrap()
            .unwrap();
        let two = append_to_att_manifest("t", Some(&one), second.clone())
            .unwrap()
            .unwrap();
        assert_eq!(
            append_to_att_manifest("t", Some(&two), first.clone()).unwrap(),
            None
        );
        let manifest: serde_json::Value = serde_json::from_slice(&two).unwrap();
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);
        assert_eq!(manifest["config"]["mediaType"], OCI_CONFIG);
        assert_eq!(
            manifest["config"]["digest"],
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
        let layers = manifest["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[0]["digest"], first.digest.to_string());
        assert_eq!(layers[1]["mediaType"], DSSE_MEDIA_TYPE);
        assert_eq!(
            layers[1]["annotations"],
            serde_json::json!({
                "dev.cosignproject.cosign/signature": "",
                "predicateType": "https://slsa.dev/verification_summary/v1"
            })
        );
    }

    #[test]
    fn a_foreign_document_at_the_tag_is_left_alone() {
        let layer = envelope_layer(b"{}", "p");
        for bad in [
            &b"not json"[..],
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#,
            br#"{"schemaVersion":1,"config":{"mediaType":"x","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}"#,
        ] {
            let err = append_to_att_manifest("tag x", Some(bad), layer.clone()).unwrap_err();
            assert!(err.to_string().starts_with("tag x is not an OCI image manifest"), "{err}");
        }
    }

    #[test]
    fn a_full_manifest_refuses_one_more() {
        let mut bytes = append_to_att_manifest("t", None, envelope_layer(b"0", "p"))
            .unwrap()
            .unwrap();
        for i in 1..MAX_ATTACHED {
            bytes = append_to_att_manifest(
                "t",
                Some(&bytes),
                envelope_layer(i.to_string().as_bytes(), "p"),
            )
            .unwrap()
            .unwrap();
        }
        let err =
            append_to_att_manifest("t", Some(&bytes), envelope_layer(b"last", "p")).unwrap_err();
        assert!(matches!(
            err,
            AttestationLayoutError::Full {
                count: MAX_ATTACHED,
                ..
            }
        ));
    }

    #[test]
    fn a_document_listing_more_than_the_cap_is_not_read() {
        let entry = referrer_entry(b"{}", None);
        let index = Index {
            schema_version: 2,
            media_type: Some(OCI_INDEX.to_string()),
            manifests: vec![entry; MAX_ATTACHED + 1],
            annotations: None,
        };
        let err = read_index("the referrers API", &to_json(&index)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the referrers API lists 513 entries, more than the 512 accepted, so it is not read \
             (neither to check nor to add to)"
        );
    }

    #[test]
    fn a_referrer_names_the_image_as_subject_and_is_indexed_once() {
        let layer = envelope_layer(b"{\"e\":1}", "https://slsa.dev/verification_summary/v1");
        let referrer = referrer_manifest(layer, image());
        let value: serde_json::Value = serde_json::from_slice(&referrer).unwrap();
        assert_eq!(value["artifactType"], DSSE_MEDIA_TYPE);
        assert_eq!(value["config"]["mediaType"], EMPTY_MEDIA_TYPE);
        assert_eq!(value["subject"]["digest"], image().digest.to_string());
        assert_eq!(value["subject"]["size"], 11);
        assert_eq!(
            value["annotations"]["predicateType"],
            "https://slsa.dev/verification_summary/v1"
        );
        let entry = referrer_entry(&referrer, None);
        let index = append_to_referrers_index("i", None, entry.clone())
            .unwrap()
            .unwrap();
        assert_eq!(
            append_to_referrers_index("i", Some(&index), entry.clone()).unwrap(),
            None
        );
        let parsed = read_index("i", &index).unwrap();
        assert_eq!(parsed.manifests, vec![entry]);
    }
}
