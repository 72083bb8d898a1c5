//! Image access over every transport: resolve a location to one pinned
//! digest, then read its per-platform manifests, configs and layers by
//! digest only, each verified before anything is computed from it.
//!
//! Transports ([`crate::registry`], [`crate::layout`], [`crate::archive`])
//! implement [`Transport`]; the rest of the crate only sees [`Image`].

use std::path::{Path, PathBuf};

use crate::cache::{Cache, CacheError};
use crate::digest::{verify_bytes, Digest, VerifyError};
use crate::manifest::{
    check_declared_size, list_platforms, select_platforms, Descriptor, ImageConfig, ImageManifest,
    Manifest, ManifestError, MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES,
};
use crate::platform::Platform;
use crate::reference::ImageLocation;

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    #[error(transparent)]
    Layout(#[from] crate::layout::LayoutError),
    #[error(transparent)]
    Archive(#[from] crate::archive::ArchiveError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    Verify(#[from] VerifyError),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
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

/// How to reach images: where the cache lives and how to authenticate.
#[derive(Clone)]
pub struct AccessOptions {
    pub cache: Cache,
    /// `--authfile`: credentials file to use instead of the default lookup.
    pub authfile: Option<PathBuf>,
    /// `--insecure-registry HOST[:PORT]`: registries reached over plain HTTP
    /// (loopback registries always are, as with Docker).
    pub insecure_registries: Vec<String>,
    /// Who is told about downloads.
    pub progress: crate::progress::SharedProgress,
}

impl AccessOptions {
    /// Default access through `cache`: default credentials, loopback-only plain HTTP, no progress.
    pub fn new(cache: Cache) -> Self {
        Self {
            cache,
            authfile: None,
            insecure_registries: Vec::new(),
            progress: crate::progress::silent(),
        }
    }
}

/// Top-level manifest bytes as a transport returns them.
pub struct RawManifest {
    pub bytes: Vec<u8>,
    /// What the transport says the bytes are (Content-Type, descriptor), if anything.
    pub media_type_hint: Option<String>,
    /// The digest the location is pinned to, if it names one; the bytes must hash to it.
    pub pinned: Option<Digest>,
}

/// One way of reaching an image's content. Every method returns only bytes
/// that have been verified against the digest they were asked for.
pub trait Transport: Send + Sync {
    /// The top-level manifest (index or image manifest) the location names.
    fn resolve(&self) -> Result<RawManifest, ImageError>;
    /// A manifest named by an index entry, verified.
    fn manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError>;
    /// A blob as a verified local file (downloaded into `cache` when remote).
    fn blob(&self, desc: &Descriptor, cache: &Cache) -> Result<PathBuf, ImageError>;
    /// A blob for a reader that reads it to the end: a remote blob may be
    /// read while it downloads, and is verified only by that end, which
    /// comes as an error instead if the bytes do not match. Local
    /// transports give the verified file.
    fn open_blob(
        &self,
        desc: &Descriptor,
        cache: &Cache,
    ) -> Result<Box<dyn std::io::Read + Send>, ImageError> {
        Ok(crate::cache::open_buffered(&self.blob(desc, cache)?)?)
    }
}

/// What a location resolved to, pinned by digest.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The location as the user should read it back (normalised reference).
    pub reference: String,
    /// The digest of the top-level manifest or index.
    pub digest: Digest,
    pub media_type: String,
    pub manifest: Manifest,
}

/// One platform's image: its manifest, config and layers.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    pub platform: Platform,
    pub manifest_digest: Digest,
    pub manifest: ImageManifest,
    pub config: ImageConfig,
}

impl PlatformImage {
    /// The config's digest.
    pub fn config_digest(&self) -> &Digest {
        &self.manifest.config.digest
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Descriptor] {
        &self.manifest.layers
    }
}

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
            ImageLocation::Registry(reference) => Box::new(
                crate::registry::RegistryTransport::new(reference.clone(), options)?,
            ),
            ImageLocation::OciLayout { dir, tag } => {
                Box::new(crate::layout::LayoutTransport::open(dir, tag.as_deref())?)
            }
            ImageLocation::DockerArchive { file, reference } => Box::new(
                crate::archive::ArchiveTransport::open(file, reference.as_deref())?,
            ),
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
                return Err(VerifyError::Digest {
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

    /// The cache this image reads through.
    pub fn cache(&self) -> &Cache {
        &self.cache
    }
}

/// Lists the platforms of a resolved image without fetching them, for messages.
pub fn available_platforms(resolved: &ResolvedImage) -> String {
    match &resolved.manifest {
        Manifest::Index(index) => {
            let entries = crate::manifest::runnable_entries(index);
            list_platforms(entries.iter().map(|(p, _)| p))
        }
        Manifest::Image(_) => "(a single-platform image)".to_string(),
    }
}

/// Hashes a local file fully against a descriptor; used by local transports.
pub(crate) fn verify_file(path: &Path, desc: &Descriptor) -> Result<(), ImageError> {
    let file = crate::cache::open(path)?;
    let mut reader = crate::digest::VerifyingReader::new(
        std::io::BufReader::new(file),
        desc.digest.clone(),
        Some(desc.size),
    );
    match std::io::copy(&mut reader, &mut std::io::sink()) {
        Ok(_) => Ok(()),
        Err(e) => match crate::digest::verify_error(&e) {
            Some(v) => Err(v.clone().into()),
            None => Err(CacheError::Io {
                path: path.to_path_buf(),
                source: e,
            }
            .into()),
        },
    }
}
