//! `attestation verify` and `--push-attestation`, end to end: pin the
//! image, then attach an envelope to it, or find every envelope attached to
//! it (or read one from a file) and check each. Plain data out: a
//! [`AttestationReport`] for the renderer, an [`Attached`] for the note.

use std::path::Path;

use serde::Serialize;

use super::attach::{self, AttachError, Attached};
use super::check::{self, AttestationCheck, CheckOptions, Outcome};
use super::decide::{self, PlatformDecision, ShippedPlatform};
use super::dsse::MAX_ENVELOPE_BYTES;
use super::statement::PREDICATE_TYPE;
use crate::image::digest::Digest;
use crate::image::manifest::{select_platforms, Descriptor, Manifest};
use crate::image::platform::Platform;
use crate::image::reference::{ImageLocation, Reference, ReferenceError};
use crate::image::repository::{Access, Repository};
use crate::image::ImageError;
use crate::image::{AccessOptions, Image, ResolvedImage};

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
    /// `PASSED` (every platform passed), `FAILED` (one failed) or
    /// `UNVERIFIED` (none failed, one is unattested or invalid).
    pub outcome: Outcome,
    /// Each platform checked (every platform the image ships, or those
    /// asked for), and what decides it.
    pub platforms: Vec<PlatformDecision>,
    pub attestations: Vec<AttestationCheck>,
}

/// Checks every attestation attached to `image` in its registry, and
/// decides each of its platforms (the `requested` ones, when given).
pub fn verify_image(
    image: &str,
    requested: &[Platform],
    access: &AccessOptions,
    options: &CheckOptions,
) -> Result<AttestationReport, LookupError> {
    let location = ImageLocation::parse(image)?;
    let Some(reference) = location.registry_reference() else {
        return Err(LookupError::NotInRegistry {
            location: image.to_string(),
        });
    };
    let opened = Image::open(&location, access)?;
    let resolved = opened.resolve()?;
    let shipped = shipped_platforms(&opened, &resolved, requested)?;
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
    let platforms = decide::decide(&attestations, &shipped);
    Ok(AttestationReport {
        target: image.to_string(),
        digest: Some(resolved.digest.to_string()),
        outcome: decide::outcome(&platforms),
        platforms,
        attestations,
    })
}

/// The platforms `image` (resolved as `resolved`) ships, each with its
/// manifest digest: the runnable entries of its index (read from the index
/// alone), or the one platform of a single manifest; only the `requested`
/// ones when given, each of which must be there.
pub fn shipped_platforms(
    image: &Image,
    resolved: &ResolvedImage,
    requested: &[Platform],
) -> Result<Vec<ShippedPlatform>, ImageError> {
    Ok(match &resolved.manifest {
        Manifest::Index(index) => select_platforms(index, requested)?
            .into_iter()
            .map(|(platform, entry)| ShippedPlatform {
                platform,
                manifest_digest: entry.digest.clone(),
            })
            .collect(),
        Manifest::Image(_) => image
            .platforms(resolved, requested)?
            .into_iter()
            .map(|found| ShippedPlatform {
                platform: found.platform,
                manifest_digest: found.manifest_digest,
            })
            .collect(),
    })
}

/// Checks the envelope in the file at `path`, per platform as its
/// statement claims (the `requested` ones, when given); a statement that
/// gives no per-platform verdict decides by its result alone.
pub fn verify_file(
    path: &Path,
    requested: &[Platform],
    options: &CheckOptions,
) -> Result<AttestationReport, LookupError> {
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
    let checked = check::check_envelope(&shown, &bytes, None, options);
    let platforms = decide::claimed(&checked, requested);
    let outcome = match checked.result.as_deref() {
        _ if !platforms.is_empty() => decide::outcome(&platforms),
        Some("PASSED") if checked.is_valid() => Outcome::Passed,
        Some(_) if checked.is_valid() => Outcome::Failed,
        _ => Outcome::Unverified,
    };
    Ok(AttestationReport {
        target: shown,
        digest: None,
        outcome,
        platforms,
        attestations: vec![checked],
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
