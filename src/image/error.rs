//! Why an image could not be read: [`ImageError`] and the errors of each
//! transport it wraps. Kept apart from the transports so that they and the
//! dispatch in `image/mod.rs` all depend on this file, never on each other.

use std::path::PathBuf;

use oci_client::errors::OciDistributionError;

use super::cache::CacheError;
use super::digest::{Digest, VerifyError};
use super::manifest::ManifestError;

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Layout(#[from] LayoutError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Auth(#[from] super::auth::AuthError),
    #[error("{reference} resolved to {actual}, not the pinned {expected}")]
    PinMismatch {
        reference: String,
        expected: Digest,
        actual: Digest,
    },
    #[error("manifest {digest} is an index inside an index; nested indexes are not supported")]
    NestedIndex { digest: Digest },
    #[error("platform {requested} is not in the image; available: {available}")]
    PlatformNotFound {
        requested: String,
        available: String,
    },
}

/// A registry request that failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{reference}: not found in the registry (check the repository and tag)")]
    NotFound { reference: String },
    #[error("{reference}: the registry refused the credentials; log in (docker login / skopeo login) or pass --authfile")]
    Unauthorized { reference: String },
    #[error("{reference}: {source}")]
    Request {
        reference: String,
        #[source]
        source: OciDistributionError,
    },
    #[error("{reference}: blob {digest} changed between two download attempts")]
    ChangedOnRetry { reference: String, digest: Digest },
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
    #[error("{reference}: blob {digest}: {source}")]
    Stream {
        reference: String,
        digest: Digest,
        #[source]
        source: std::io::Error,
    },
}

/// Why an OCI layout could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("{dir} is not an OCI image layout: {reason}")]
    NotALayout { dir: PathBuf, reason: String },
    #[error("malformed {path}: {source}")]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("no image tagged {tag:?} in {dir}; tags: {available}")]
    TagNotFound {
        dir: PathBuf,
        tag: String,
        available: String,
    },
    #[error("{dir} holds {count} images; name one as oci:{dir}:TAG (tags: {available})")]
    Ambiguous {
        dir: PathBuf,
        count: usize,
        available: String,
    },
    #[error("blob {digest} is missing from {dir}")]
    MissingBlob { dir: PathBuf, digest: Digest },
}

/// Why a docker archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot read docker archive {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a docker archive: {reason}")]
    NotAnArchive { path: PathBuf, reason: String },
    #[error("no image {wanted:?} in {path}; it holds: {available}")]
    NotFound {
        path: PathBuf,
        wanted: String,
        available: String,
    },
    #[error("{path} holds {count} images; name one as docker-archive:{path}:REF (it holds: {available})")]
    Ambiguous {
        path: PathBuf,
        count: usize,
        available: String,
    },
    #[error("layer {layer} of {path} does not match the config's diff_id {expected}: it hashes to {actual}")]
    LayerMismatch {
        path: PathBuf,
        layer: String,
        expected: Digest,
        actual: Digest,
    },
}
