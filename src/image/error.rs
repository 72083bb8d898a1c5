//! Why an image could not be read: [`ImageError`] and the errors of each
//! transport it wraps. Kept apart from the transports so that they and the
//! dispatch in `image/mod.rs` all depend on this file, never on each other.

use std::path::PathBuf;
use std::time::Duration;

use super::cache::CacheError;
use super::digest::{BlobMismatch, Digest};
use super::http::BodyError;
use super::manifest::ManifestError;

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    OciLayout(#[from] OciLayoutError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    BlobMismatch(#[from] BlobMismatch),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Auth(#[from] super::auth::AuthError),
    #[error(transparent)]
    RegistriesConf(Box<super::mirrors::RegistriesConfError>),
    /// Every mirror failed, then the registry's location did too (`source`).
    #[error("no mirror served {reference} ({tried}), and then")]
    MirrorsFailed {
        reference: String,
        /// Each mirror and why it failed, `; `-separated.
        tried: String,
        #[source]
        source: Box<ImageError>,
    },
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

impl From<super::mirrors::RegistriesConfError> for ImageError {
    fn from(e: super::mirrors::RegistriesConfError) -> Self {
        Self::RegistriesConf(Box::new(e))
    }
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
        source: reqwest::Error,
    },
    #[error("{reference}: {} error: url {url}, code: {code}, message: {message}", status_kind(*.code))]
    Status {
        reference: String,
        url: String,
        code: u16,
        /// The error body, as one line.
        message: String,
        /// Throttling (429, `TOOMANYREQUESTS`) or a server error (5xx).
        transient: bool,
        /// The `Retry-After` the registry asked for, in seconds, bounded.
        retry_after: Option<u16>,
    },
    #[error("{reference}: {source}")]
    Body {
        reference: String,
        #[source]
        source: BodyError,
    },
    #[error("{reference}: {url} did not answer in full within {}s", deadline.as_secs())]
    Deadline {
        reference: String,
        url: String,
        deadline: Duration,
    },
    #[error("{reference}: blob {digest}: fewer than {min_bytes} bytes arrived in {}s of waiting; the registry is stalled or too slow", window.as_secs())]
    TooSlow {
        reference: String,
        digest: Digest,
        min_bytes: u64,
        window: Duration,
    },
    #[error("{reference}: refusing to send the credentials for {registry} to the token realm {realm}: it is plain HTTP on another host than the registry; ask the registry's operator for an https realm, or remove its credentials from the auth file to pull anonymously")]
    CredentialsWithheld {
        reference: String,
        registry: String,
        realm: String,
    },
    #[error("{reference}: the token realm {realm} {reason}")]
    Token {
        reference: String,
        realm: String,
        reason: String,
    },
    #[error("{reference}: cannot make a URL for the registry: {reason}")]
    BadUrl { reference: String, reason: String },
    #[error("{reference}: blob {digest} changed between two download attempts")]
    ChangedOnRetry { reference: String, digest: Digest },
    #[error("cannot start the network runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot set up the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("{reference}: {source}")]
    BlobMismatch {
        reference: String,
        #[source]
        source: BlobMismatch,
    },
    #[error("{reference}: {what} is {size} bytes, over the {max}-byte limit")]
    TooLarge {
        reference: String,
        what: String,
        size: u64,
        max: u64,
    },
    #[error("{reference}: the registry lists more than {limit} {what}; refusing to read on")]
    TooMany {
        reference: String,
        what: &'static str,
        limit: usize,
    },
    #[error("{reference}: the registry answered a bad {what}: {reason}")]
    BadAnswer {
        reference: String,
        what: &'static str,
        reason: String,
    },
    #[error("{reference}: the registry named {url} as the {what}, which is not on the registry's own scheme, host and port; refusing to send anything there (bytes and credentials go only to the registry). If that host is the same registry under another name, use that name in the reference")]
    OtherOrigin {
        reference: String,
        what: &'static str,
        url: String,
    },
    #[error("{reference}: the registry says it stored {stored}, but what was pushed is {sent}: it altered the content; check the registry (or a proxy in front of it)")]
    StoredOtherDigest {
        reference: String,
        sent: Digest,
        stored: String,
    },
    #[error("{reference}: the repository was opened for reading only; open it with Access::PullPush to push")]
    ReadOnly { reference: String },
    #[error("{reference}: blob {digest}: {source}")]
    Stream {
        reference: String,
        digest: Digest,
        #[source]
        source: std::io::Error,
    },
}

impl RegistryError {
    /// Whether the same request may succeed if tried again: a dropped or
    /// refused connection, a deadline or the low-speed limit, throttling or
    /// a server error. A body over its limit, a refusal or a bad answer is not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Request { source, .. } => {
                !source.is_redirect()
                    && (source.is_connect()
                        || source.is_timeout()
                        || source.is_request()
                        || source.is_body())
            }
            Self::Status { transient, .. } => *transient,
            Self::Body { source, .. } => {
                matches!(source, BodyError::Read { .. } | BodyError::TooSlow { .. })
            }
            Self::Deadline { .. } | Self::TooSlow { .. } | Self::Stream { .. } => true,
            _ => false,
        }
    }

    /// How long the registry asked to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => retry_after.map(|s| Duration::from_secs(s.into())),
            _ => None,
        }
    }
}

/// How an HTTP status reads in [`RegistryError::Status`].
fn status_kind(code: u16) -> &'static str {
    match code {
        500.. => "Server",
        400..=499 => "Request",
        _ => "Unexpected answer",
    }
}

/// Why an OCI layout could not be read.
#[derive(Debug, thiserror::Error)]
pub enum OciLayoutError {
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
