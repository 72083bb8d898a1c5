//! The image side: from what the user typed to verified bytes.
//!
//! Takes an image location ([`mod@reference`]) and hands on one pinned digest
//! ([`ResolvedImage`]), each platform's manifest and config
//! ([`PlatformImage`]) and its layer blobs, every byte checked against its
//! digest ([`digest`]) and kept in the content-addressed [`cache`].
//! [`Image`] dispatches over the [`Transport`] trait ([`transport`]), which
//! the [`registry`] (with [`auth`] and its HTTP client, `distribution`), OCI
//! [`layout`] and docker [`archive`] transports implement; [`http`] holds
//! the limits every network read obeys; [`manifest`] and [`platform`] parse and select
//! what they return; [`inspect`] describes what an image runs.
//! [`repository`] reads and writes the small things beside images in a
//! registry repository: tags, pushed artifacts, referrers; [`tags`] ranks
//! the tags nearest one that does not exist.
//!
//! # Why oci-client and a transport of our own
//!
//! References follow `oci-client`'s grammar ([`mod@reference`]) and
//! manifests its media types ([`manifest`], which says why its manifest,
//! descriptor and config types are not used). Its `Client` is not used:
//! registries are read through this module's transport, which enforces
//! what that client does not.
//!
//! - **Body caps.** Every manifest, config, token, error body and tags page
//!   is read under a hard limit, refused on its `Content-Length` before a
//!   byte is read ([`http`]); oci-client reads whole bodies into memory
//!   whatever their size.
//! - **Digest verification of every byte.** A blob fails as soon as it runs
//!   past the size its descriptor declares, and at its end unless size and
//!   sha256 match; no later stage sees the end of an unverified blob
//!   ([`digest`]), and a manifest is hashed before it is parsed.
//!   oci-client's `pull_blob` hands every byte on before it checks the
//!   digest at the end, and has no size limit.
//! - **Credential scope.** Credentials go to a token realm over plain HTTP
//!   only on the registry's own plain-HTTP host, and a write (its bytes and
//!   its authorization) only to the registry's own origin, following no
//!   redirect; oci-client sends them to whatever realm a challenge names.
//! - **Redirect policy.** At most ten redirects, never from HTTPS down to
//!   plain HTTP ([`http::redirect_policy`]); oci-client keeps reqwest's
//!   default policy, which follows such a downgrade.
//! - **Deadlines.** Every small request has a deadline, its retries a
//!   budget, and every body a low-speed limit, so a registry that stalls or
//!   trickles cannot hold a run; oci-client sets no timeout unless asked,
//!   and none for a whole request.

pub mod archive;
pub mod auth;
pub mod cache;
pub mod digest;
mod distribution;
mod error;
pub mod http;
pub mod inspect;
pub mod layout;
pub mod manifest;
pub mod mirrors;
pub mod platform;
pub mod reference;
pub mod registry;
pub mod repository;
mod resolved;
pub mod tags;
pub mod transport;

use std::path::PathBuf;

pub use error::{ArchiveError, ImageError, OciLayoutError, RegistryError};
pub use resolved::{available_platforms, index_platforms, PlatformImage, ResolvedImage};
pub use transport::{AccessOptions, RawManifest, Transport};

use cache::{Cache, CacheError};
use digest::{verify_bytes, BlobMismatch, Digest};
use inspect::InspectReport;
use manifest::{
    check_declared_size, select_platforms, Descriptor, ImageConfig, ImageManifest, Manifest,
    MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES,
};
use platform::Platform;
use reference::ImageLocation;

/// An image at some location, read through its transport.
pub struct Image {
    location: ImageLocation,
    transport: Box<dyn Transport>,
    cache: Cache,
}

impl Image {
    /// Prepares to read the image at `location` (nothing is fetched yet).
    pub fn open(location: &ImageLocation, options: &AccessOptions) -> Result<Self, ImageError> {
        let transport: Box<dyn Transport> = match location {
            ImageLocation::Registry(reference) => Box::new(registry::RegistryTransport::new(
                reference.clone(),
                options,
            )?),
            ImageLocation::OciLayout { dir, tag } => {
                Box::new(layout::LayoutTransport::open(dir, tag.as_deref())?)
            }
            ImageLocation::DockerArchive { file, reference } => {
                Box::new(archive::ArchiveTransport::open(file, reference.as_deref())?)
            }
        };
        Ok(Self {
            location: location.clone(),
            transport,
            cache: options.cache.clone(),
        })
    }

    /// The location this image is read from.
    pub fn location(&self) -> &ImageLocation {
        &self.location
    }

    /// Resolves the location to one digest: everything read afterwards is read by digest.
    pub fn resolve(&self) -> Result<ResolvedImage, ImageError> {
        let raw = self.transport.resolve()?;
        let digest = Digest::of(&raw.bytes);
        if let Some(expected) = raw.pinned {
            if expected != digest {
                return Err(BlobMismatch::Digest {
                    expected,
                    actual: digest,
                }
                .into());
            }
        }
        let (manifest, media_type) =
            Manifest::parse(&raw.bytes, &digest, raw.media_type_hint.as_deref())?;
        Ok(ResolvedImage {
            reference: self.location.to_string(),
            digest,
            media_type,
            manifest,
            served_by: self.transport.served_by(),
        })
    }

    /// The platform images of a resolved image: the requested ones, or all
    /// runnable ones (skipping attestations and artifacts) when none is requested.
    pub fn platforms(
        &self,
        resolved: &ResolvedImage,
        requested: &[Platform],
    ) -> Result<Vec<PlatformImage>, ImageError> {
        match &resolved.manifest {
            Manifest::Image(manifest) => {
                let config = self.config(manifest)?;
                let platform = config.platform();
                if let Some(want) = requested.iter().find(|want| !want.matches(&platform)) {
                    return Err(ImageError::PlatformNotFound {
                        requested: want.to_string(),
                        available: platform.to_string(),
                    });
                }
                Ok(vec![PlatformImage {
                    platform,
                    manifest_digest: resolved.digest.clone(),
                    manifest: (**manifest).clone(),
                    config,
                }])
            }
            Manifest::Index(index) => select_platforms(index, requested)?
                .into_iter()
                .map(|(platform, desc)| self.platform_image(platform, desc))
                .collect(),
        }
    }

    fn platform_image(
        &self,
        platform: Platform,
        desc: &Descriptor,
    ) -> Result<PlatformImage, ImageError> {
        check_declared_size("manifest", desc, MAX_MANIFEST_BYTES)?;
        let bytes = self.transport.manifest(desc)?;
        verify_bytes(&bytes, &desc.digest, Some(desc.size))?;
        let (manifest, _) = Manifest::parse(&bytes, &desc.digest, Some(&desc.media_type))?;
        let manifest = match manifest {
            Manifest::Image(m) => *m,
            Manifest::Index(_) => {
                return Err(ImageError::NestedIndex {
                    digest: desc.digest.clone(),
                })
            }
        };
        let config = self.config(&manifest)?;
        Ok(PlatformImage {
            platform,
            manifest_digest: desc.digest.clone(),
            manifest,
            config,
        })
    }

    fn config(&self, manifest: &ImageManifest) -> Result<ImageConfig, ImageError> {
        let desc = &manifest.config;
        check_declared_size("config", desc, MAX_CONFIG_BYTES)?;
        let path = self.transport.blob(desc, &self.cache)?;
        let bytes = std::fs::read(&path).map_err(|source| CacheError::Io { path, source })?;
        verify_bytes(&bytes, &desc.digest, Some(desc.size))?;
        Ok(ImageConfig::parse(&bytes, &desc.digest)?)
    }

    /// A layer (or any blob) as a verified local file, fetched on first use.
    pub fn blob(&self, desc: &Descriptor) -> Result<PathBuf, ImageError> {
        self.transport.blob(desc, &self.cache)
    }

    /// A blob for reading to its end; see [`Transport::open_blob`].
    pub fn open_blob(
        &self,
        desc: &Descriptor,
    ) -> Result<Box<dyn std::io::Read + Send>, ImageError> {
        self.transport.open_blob(desc, &self.cache)
    }

    /// Resolves the image and describes the requested platforms (all
    /// runnable ones by default), as `docker inspect` would.
    pub fn inspect(&self, platforms: &[Platform]) -> Result<InspectReport, ImageError> {
        let resolved = self.resolve()?;
        let images = self.platforms(&resolved, platforms)?;
        Ok(InspectReport::new(resolved, &images))
    }

    /// The cache this image reads through.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }
}
