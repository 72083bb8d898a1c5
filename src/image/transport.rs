//! The seam between [`super::Image`] and the places images are read from:
//! the [`Transport`] trait that the registry, OCI layout and docker-archive
//! transports implement, what they are given ([`AccessOptions`]) and what
//! they return ([`RawManifest`], verified blobs).

use std::path::{Path, PathBuf};

use super::cache::{Cache, CacheError};
use super::digest::Digest;
use super::error::ImageError;
use super::manifest::Descriptor;

/// How to reach images: where the cache lives and how to authenticate.
#[derive(Clone)]
pub struct AccessOptions {
    pub cache: Cache,
    /// `--authfile`: credentials file to use instead of the default lookup.
    pub authfile: Option<PathBuf>,
    /// `--insecure-registry HOST[:PORT]`: registries reached over plain HTTP
    /// (loopback registries always are, as with Docker).
    pub insecure_registries: Vec<String>,
    /// `containers-registries.conf(5)`: mirrors, `insecure`, `blocked`.
    pub registries: super::mirrors::RegistriesConf,
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
            registries: super::mirrors::RegistriesConf::default(),
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
        Ok(super::cache::open_buffered(&self.blob(desc, cache)?)?)
    }

    /// The registries.conf mirror (or rewritten location) that served the
    /// top-level manifest, and so everything after it, if one did.
    fn served_by(&self) -> Option<super::mirrors::ServedBy> {
        None
    }
}

/// Hashes a local file fully against a descriptor; used by local transports.
pub(crate) fn verify_file(path: &Path, desc: &Descriptor) -> Result<(), ImageError> {
    let file = super::cache::open(path)?;
    let mut reader = super::digest::VerifyingReader::new(
        std::io::BufReader::new(file),
        desc.digest.clone(),
        Some(desc.size),
    );
    match std::io::copy(&mut reader, &mut std::io::sink()) {
        Ok(_) => Ok(()),
        Err(e) => match super::digest::blob_mismatch(&e) {
            Some(v) => Err(v.clone().into()),
            None => Err(CacheError::Io {
                path: path.to_path_buf(),
                source: e,
            }
            .into()),
        },
    }
}
