//! Sending signed attestations to the image's registry and reading back
//! the ones attached there: the cosign `.att` tag (envelopes accumulate,
//! one layer each) and OCI 1.1 referrers (the referrers API where the
//! registry has it, else the referrers tag schema). What the documents hold
//! is [`super::layout`]'s; this module only moves them.

use crate::image::digest::Digest;
use crate::image::manifest::{Descriptor, OCI_INDEX, OCI_MANIFEST};
use crate::image::repository::Repository;
use crate::image::ImageError;

use super::dsse::MAX_ENVELOPE_BYTES;
use super::layout::{self, AttestationLayoutError, DSSE_MEDIA_TYPE, EMPTY_JSON};

/// Attaching or reading attachments failed.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Layout(#[from] AttestationLayoutError),
}

/// Where an envelope was attached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// The cosign tag (`sha256-<hex>.att`).
    pub att_tag: String,
    /// The `.att` manifest pushed; `None` when it already held this envelope.
    pub att_manifest: Option<Digest>,
    /// The referrer manifest (`subject` = the image).
    pub referrer: Digest,
    /// How registries find the referrer.
    pub referrer_index: ReferrerIndex,
}

/// How the referrer is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReferrerIndex {
    /// The registry's referrers API indexes it (it answered `OCI-Subject`).
    Api,
    /// The registry has no referrers API: it is listed in the index at this
    /// tag (the referrers tag schema of OCI distribution 1.1).
    Tag(String),
}

/// One envelope found attached to an image, or why it could not be read.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where (`tag sha256-….att, layer 1`, `referrer sha256:…`).
    pub source: String,
    pub envelope: Result<Vec<u8>, String>,
}

/// Attaches `envelope` (DSSE JSON whose statement has `predicate_type`) to
/// `image` (the descriptor of the image's top-level manifest) in `repo`.
pub fn push_envelope(
    repo: &Repository,
    image: &Descriptor,
    envelope: &[u8],
    predicate_type: &str,
) -> Result<Attached, AttachError> {
    let layer = layout::envelope_layer(envelope, predicate_type);
    repo.push_blob(envelope)?;
    repo.push_blob(EMPTY_JSON)?;

    let att_tag = layout::att_tag(&image.digest);
    let existing = repo.manifest_if_exists(&att_tag)?;
    let what = format!("the attestation tag {att_tag}");
    let att_manifest = match layout::append_to_att_manifest(
        &what,
        existing.as_ref().map(|(bytes, _)| bytes.as_slice()),
        layer.clone(),
    )? {
        Some(manifest) => Some(
            repo.push_manifest(&att_tag, OCI_MANIFEST, &manifest)?
                .digest,
        ),
        None => None,
    };

    let annotations = layer.annotations.clone().map(|mut a| {
        a.retain(|k, _| k == layout::PREDICATE_TYPE_ANNOTATION);
        a
    });
    let referrer = layout::referrer_manifest(layer, image.clone());
    let referrer_digest = Digest::of(&referrer);
    let pushed = repo.push_manifest(&referrer_digest.to_string(), OCI_MANIFEST, &referrer)?;
    let referrer_index = if pushed.subject_accepted {
        ReferrerIndex::Api
    } else {
        let tag = layout::referrers_tag(&image.digest);
        let existing = repo.manifest_if_exists(&tag)?;
        let entry = layout::referrer_entry(&referrer, annotations);
        if let Some(index) = layout::append_to_referrers_index(
            &format!("the referrers tag {tag}"),
            existing.as_ref().map(|(bytes, _)| bytes.as_slice()),
            entry,
        )? {
            repo.push_manifest(&tag, OCI_INDEX, &index)?;
        }
        ReferrerIndex::Tag(tag)
    };
    Ok(Attached {
        att_tag,
        att_manifest,
        referrer: referrer_digest,
        referrer_index,
    })
}

/// Every envelope attached to the image `digest` in `repo`: the `.att`
/// tag's layers, then the referrers' (API, else the tag schema), each read
/// by digest, at most [`MAX_ENVELOPE_BYTES`], and listed once. A document
/// that cannot be read is an entry with its error, so one bad attachment
/// never hides the others.
pub fn fetch_envelopes(repo: &Repository, digest: &Digest) -> Vec<Found> {
    let mut found = Vec::new();
    let att_tag = layout::att_tag(digest);
    match repo.manifest_if_exists(&att_tag) {
        Ok(None) => {}
        Ok(Some((bytes, _))) => {
            let what = format!("tag {att_tag}");
            match layout::read_manifest(&what, &bytes) {
                Ok(manifest) => {
                    for (n, layer) in layout::envelope_layers(&manifest).enumerate() {
                        found.push(read_layer(repo, format!("{what}, layer {}", n + 1), layer));
                    }
                }
                Err(e) => found.push(failed(what, e.to_string())),
            }
        }
        Err(e) => found.push(failed(format!("tag {att_tag}"), e.to_string())),
    }
    for referrer in referrers(repo, digest, &mut found) {
        let what = format!("referrer {}", referrer.digest);
        let manifest = match repo.manifest_if_exists(&referrer.digest.to_string()) {
            Ok(Some((bytes, actual))) if actual == referrer.digest => {
                layout::read_manifest(&what, &bytes).map_err(|e| e.to_string())
            }
            Ok(Some((_, actual))) => {
                Err(format!("{what} is listed but the registry served {actual}"))
            }
            Ok(None) => Err(format!(
                "{what} is listed but the registry does not have it"
            )),
            Err(e) => Err(e.to_string()),
        };
        match manifest {
            Ok(manifest) => {
                for layer in layout::envelope_layers(&manifest) {
                    found.push(read_layer(repo, what.clone(), layer));
                }
            }
            Err(e) => found.push(failed(what, e)),
        }
    }
    dedupe(found)
}

/// The DSSE referrers of `digest`: from the referrers API, else from the
/// referrers tag schema's index; a failure is recorded in `found`.
fn referrers(repo: &Repository, digest: &Digest, found: &mut Vec<Found>) -> Vec<Descriptor> {
    let (what, index) = match repo.referrers(digest, Some(DSSE_MEDIA_TYPE)) {
        Ok(Some(bytes)) => ("the referrers API".to_string(), Ok(Some(bytes))),
        Ok(None) => {
            let tag = layout::referrers_tag(digest);
            let index = repo
                .manifest_if_exists(&tag)
                .map(|found| found.map(|(bytes, _)| bytes));
            (format!("the referrers tag {tag}"), index)
        }
        Err(e) => ("the referrers API".to_string(), Err(e)),
    };
    let referrers = match index {
        Ok(Some(bytes)) => layout::dsse_referrers(&what, &bytes).map_err(|e| e.to_string()),
        Ok(None) => return Vec::new(),
        Err(e) => Err(e.to_string()),
    };
    referrers.unwrap_or_else(|e| {
        found.push(failed(what, e));
        Vec::new()
    })
}

fn read_layer(repo: &Repository, source: String, layer: &Descriptor) -> Found {
    let envelope = if layer.size > MAX_ENVELOPE_BYTES as u64 {
        Err(format!(
            "the envelope layer {} declares {} bytes, more than the {} an attestation may have",
            layer.digest, layer.size, MAX_ENVELOPE_BYTES as u64
        ))
    } else {
        repo.small_blob(&layer.digest, layer.size, MAX_ENVELOPE_BYTES as u64)
            .map_err(|e| e.to_string())
    };
    Found {
        source: format!("{source} ({})", layer.digest),
        envelope,
    }
}

fn failed(source: String, error: String) -> Found {
    Found {
        source,
        envelope: Err(error),
    }
}

/// Keeps the first of envelopes found in several places (the same blob in
/// the `.att` tag and as a referrer).
fn dedupe(found: Vec<Found>) -> Vec<Found> {
    let mut seen = std::collections::HashSet::new();
    found
        .into_iter()
        .filter(|f| match &f.envelope {
            Ok(bytes) => seen.insert(Digest::of(bytes)),
            Err(_) => true,
        })
        .collect()
}
