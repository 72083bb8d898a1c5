//! One repository of a registry, for small reads and writes beside the
//! images in it: its tags, artifacts (pushed blobs and manifests, such as
//! attestations) and the referrers of a manifest. A blocking handle over
//! the `distribution` client, reached and authenticated exactly as the
//! registry transport reaches a registry, with the same retries of
//! transient failures; push tokens are asked for only by a handle opened
//! for [`Access::PullPush`]. A handle opened for [`Access::Pull`] reads
//! tags, manifests and small blobs through the registries.conf mirrors
//! first (each request from the first that answers it); referrers and
//! everything written go to the registry's location only.

use bytes::Bytes;

use super::digest::Digest;
use super::distribution::Client;
use super::error::{ImageError, RegistryError};
use super::mirrors::{Endpoint, PullFrom};
use super::reference::Reference;
use super::registry::{client_for, retrying};
use super::transport::AccessOptions;

pub use super::distribution::{
    Access, PushedManifest, MAX_PUSH_BLOB_BYTES, MAX_TAGS, MAX_TAGS_PAGES, MAX_TAGS_PAGE_BYTES,
    TAGS_PAGE_SIZE,
};

/// A repository on a registry (`registry/repository`; a tag or digest in
/// the reference it was opened with is ignored).
pub struct Repository {
    /// `registry/repository`, naming the repository in errors.
    name: String,
    client: Client,
    /// The mirrors reads try first (none for a handle that pushes).
    mirrors: Vec<MirrorRepository>,
    runtime: tokio::runtime::Runtime,
}

/// The repository on one mirror, and the requests it serves.
struct MirrorRepository {
    name: String,
    client: Client,
    pull_from: PullFrom,
}

impl Repository {
    /// Prepares a client for `reference`'s repository, for `access` (no
    /// request is made yet): plain HTTP only for loopback and
    /// `--insecure-registry` hosts, credentials from the auth files.
    pub fn open(
        reference: &Reference,
        options: &AccessOptions,
        access: Access,
    ) -> Result<Self, ImageError> {
        let mut mirrors = Vec::new();
        let location = match access {
            Access::Pull => {
                let mut endpoints = options.registries.all_endpoints(reference)?;
                let location = endpoints.pop();
                for (endpoint, pull_from) in endpoints {
                    mirrors.push(MirrorRepository {
                        name: endpoint.reference.name(),
                        client: client_for(&endpoint, options, access)?,
                        pull_from,
                    });
                }
                location.map(|(endpoint, _)| endpoint)
            }
            Access::PullPush => None,
        };
        let location = location.unwrap_or_else(|| Endpoint {
            reference: reference.clone(),
            insecure: false,
            served_by: None,
        });
        let client = client_for(&location, options, access)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(RegistryError::Runtime)?;
        Ok(Self {
            name: location.reference.name(),
            client,
            mirrors,
            runtime,
        })
    }

    /// The first answer to a read by tag or by digest (`by_digest`): from
    /// the mirrors that serve it, in order, then the location. A mirror
    /// that fails, or whose answer is not `found` (it lacks the thing),
    /// passes the read on; the location's answer is the answer.
    fn read<T>(
        &self,
        by_digest: bool,
        found: impl Fn(&T) -> bool,
        mut request: impl FnMut(&Client, &str) -> Result<T, ImageError>,
    ) -> Result<T, ImageError> {
        let serving = self
            .mirrors
            .iter()
            .filter(|m| m.pull_from.serves(by_digest));
        for mirror in serving {
            match request(&mirror.client, &mirror.name) {
                Ok(answer) if found(&answer) => {
                    tracing::info!("{} answered by mirror {}", self.name, mirror.name);
                    return Ok(answer);
                }
                Ok(_) => tracing::warn!(
                    "mirror {} does not have it; trying the next source",
                    mirror.name
                ),
                Err(e) => tracing::warn!(
                    "mirror {}: {}; trying the next source",
                    mirror.name,
                    crate::error_chain(&e)
                ),
            }
        }
        request(&self.client, &self.name)
    }

    /// Whether the repository holds blob `digest`.
    pub fn blob_exists(&self, digest: &Digest) -> Result<bool, ImageError> {
        let shown = self.at_digest(digest);
        Ok(retrying(&self.runtime, || {
            self.client.blob_exists(&shown, digest)
        })?)
    }

    /// Pushes `bytes` (at most [`MAX_PUSH_BLOB_BYTES`]) as a blob and
    /// returns its digest; a blob the repository has already is not sent
    /// again. The upload goes only to the registry's own origin.
    pub fn push_blob(&self, bytes: &[u8]) -> Result<Digest, ImageError> {
        let digest = Digest::of(bytes);
        let shown = self.at_digest(&digest);
        let bytes = Bytes::copy_from_slice(bytes);
        retrying(&self.runtime, || {
            self.client.push_blob(&shown, &digest, bytes.clone())
        })?;
        Ok(digest)
    }

    /// Pushes manifest `bytes` of `media_type` as `target`, a tag or a
    /// digest (`sha256:…`). The blobs it names must be pushed first.
    pub fn push_manifest(
        &self,
        target: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<PushedManifest, ImageError> {
        let shown = self.at(target);
        let bytes = Bytes::copy_from_slice(bytes);
        Ok(retrying(&self.runtime, || {
            self.client
                .push_manifest(&shown, target, media_type, bytes.clone())
        })?)
    }

    /// The manifest `target` (a tag or a digest) and the sha256 of its
    /// bytes, or `None` when there is none (a 404 is an answer here, not an
    /// error). A digest target is verified against the bytes.
    pub fn manifest_if_exists(
        &self,
        target: &str,
    ) -> Result<Option<(Vec<u8>, Digest)>, ImageError> {
        self.read(target.contains(':'), Option::is_some, |client, name| {
            let shown = at(name, target);
            Ok(retrying(&self.runtime, || {
                client.manifest_if_exists(&shown, target)
            })?)
        })
    }

    /// The referrers index (OCI image index JSON) of manifest `digest`,
    /// asked for with `artifact_type` as a filter (the registry may ignore
    /// it: filter the answer again). `None`: the registry has no referrers
    /// API; read the referrers tag `sha256-<hex>` instead.
    pub fn referrers(
        &self,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<u8>>, ImageError> {
        let shown = self.at_digest(digest);
        Ok(retrying(&self.runtime, || {
            self.client.referrers(&shown, digest, artifact_type)
        })?)
    }

    /// Every tag of the repository, sorted, in pages of `page_size` tags
    /// (default [`TAGS_PAGE_SIZE`]) followed to the last, within
    /// [`MAX_TAGS`], [`MAX_TAGS_PAGES`] and [`MAX_TAGS_PAGE_BYTES`].
    pub fn tags(&self, page_size: Option<u32>) -> Result<Vec<String>, ImageError> {
        self.read(
            false,
            |_| true,
            |client, name| Ok(retrying(&self.runtime, || client.tags(name, page_size))?),
        )
    }

    /// Blob `digest` of `size` bytes (as its descriptor says), read whole
    /// and verified; refused before any request when `size` is over `max`.
    pub fn small_blob(&self, digest: &Digest, size: u64, max: u64) -> Result<Vec<u8>, ImageError> {
        self.read(
            true,
            |_| true,
            |client, name| {
                let shown = format!("{name}@{digest}");
                Ok(retrying(&self.runtime, || {
                    client.small_blob(&shown, digest, size, max)
                })?)
            },
        )
    }

    /// `registry/repository@digest`.
    fn at_digest(&self, digest: &Digest) -> String {
        format!("{}@{digest}", self.name)
    }

    /// `registry/repository:tag` or `registry/repository@digest`.
    fn at(&self, target: &str) -> String {
        at(&self.name, target)
    }
}

/// `name:tag` or `name@digest`.
fn at(name: &str, target: &str) -> String {
    let sep = if target.contains(':') { '@' } else { ':' };
    format!("{name}{sep}{target}")
}
