//! `attestation verify` and `--push-attestation`, end to end: pin the
//! image, then attach an envelope to it, or find every envelope attached to
//! it (or read one from a file) and check each. Plain data out: a
//! [`AttestationReport`] for the renderer, an [`Attached`] for the note.

use std::path::Path;

use serde::Serialize;

use super::attach::{self, AttachError, Attached};
use super::check::{self, AttestationCheck, CheckOptions, Outcome};
use super::dsse::MAX_ENVELOPE_BYTES;
use super::statement::PREDICATE_TYPE;
use crate::image::digest::Digest;
use crate::image::manifest::{Descriptor, Manifest};
use crate::image::reference::{ImageLocation, Reference, ReferenceError};
use crate::image::repository::{Access, Repository};
use crate::image::ImageError;
use crate::image::{AccessOptions, Image};

/// Finding or attaching attestations failed before any could be checked.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error("{location} is not in a registry: attestations are attached to images in registries (to check a local envelope, pass its file)")]
    NotInRegistry { location: String },
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{image} is no longer in its registry; nothing was attached")]
    Gone { image: String },
    #[error("{path} is larger than the {MAX_ENVELOPE_BYTES} bytes an attestation may have")]
    TooLarge { path: String },
}

/// What `attestation verify` found.
#[derive(Debug, Clone, Serialize)]
pub struct AttestationReport {
    /// The image reference or the file, as given.
    pub target: String,
    /// The image's pinned digest (for a file: `null`; each attestation
    /// names its own resource).
    pub digest: Option<String>,
    /// `PASSED`, `FAILED` or `UNVERIFIED`.
    pub outcome: Outcome,
    pub attestations: Vec<AttestationCheck>,
}

/// Checks every attestation attached to `image` in its registry.
pub fn verify_image(
    image: &str,
    access: &AccessOptions,
    options: &CheckOptions,
) -> Result<AttestationReport, LookupError> {
    let location = ImageLocation::parse(image)?;
    let Some(reference) = location.registry_reference() else {
        return Err(LookupError::NotInRegistry {
            location: image.to_string(),
        });
    };
    let resolved = Image::open(&location, access)?.resolve()?;
    let repo = Repository::open(reference, access, Access::Pull)?;
    let attestations: Vec<AttestationCheck> = attach::fetch_envelopes(&repo, &resolved.digest)
        .into_iter()
        .map(|found| match found.envelope {
            Ok(bytes) => {
                check::check_envelope(&found.source, &bytes, Some(&resolved.digest), options)
            }
            Err(error) => AttestationCheck::invalid(&found.source, error),
        })
        .collect();
    Ok(AttestationReport {
        target: image.to_string(),
        digest: Some(resolved.digest.to_string()),
        outcome: check::outcome(&attestations),
        attestations,
    })
}

/// Checks the envelope in the file at `path`.
pub fn verify_file(path: &Path, options: &CheckOptions) -> Result<AttestationReport, LookupError> {
    let shown = path.display().to_string();
    let read = |source| LookupError::Read {
        path: shown.clone(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_ENVELOPE_BYTES as u64 + 1),
        &mut bytes,
    )
    .map_err(read)?;
    if bytes.len() as u64 > MAX_ENVELOPE_BYTES as u64 {
        return Err(LookupError::TooLarge { path: shown });
    }
    let attestations = vec![check::check_envelope(&shown, &bytes, None, options)];
    Ok(AttestationReport {
        target: shown,
        digest: None,
        outcome: check::outcome(&attestations),
        attestations,
    })
}

/// Attaches `envelope` to the image `name@digest` (as pinned by a verify
/// run), with the credentials `access` has for its registry.
pub fn attach_to_image(
    name: &str,
    digest: &Digest,
    envelope: &[u8],
    access: &AccessOptions,
) -> Result<Attached, LookupError> {
    let reference = Reference::parse(name)?.pinned(digest.clone());
    let repo = Repository::open(&reference, access, Access::PullPush)?;
    let shown = format!("{name}@{digest}");
    let bytes = match repo.manifest_if_exists(&digest.to_string())? {
        Some((bytes, actual)) if actual == *digest => bytes,
        Some((_, actual)) => {
            return Err(ImageError::PinMismatch {
                reference: shown,
                expected: digest.clone(),
                actual,
            }
            .into())
        }
        None => return Err(LookupError::Gone { image: shown }),
    };
    let (_, media_type) = Manifest::parse(&bytes, digest, None).map_err(ImageError::from)?;
    let image = Descriptor {
        media_type,
        digest: digest.clone(),
        size: bytes.len() as u64,
        platform: None,
        annotations: None,
        artifact_type: None,
    };
    Ok(attach::push_envelope(
        &repo,
        &image,
        envelope,
        PREDICATE_TYPE,
    )?)
}
