//! The registry transport, through `oci-client`: anonymous bearer-token
//! flow or credentials from [`crate::auth`], plain HTTP only for loopback
//! and `--insecure-registry` hosts, retries with backoff on throttling,
//! server errors and dropped connections. Blobs stream into the cache and
//! land there only once verified.

use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;

use crate::cache::Cache;
use crate::digest::Digest;
use crate::image::{AccessOptions, ImageError, RawManifest, Transport};
use crate::manifest::{Descriptor, ACCEPTED_MANIFEST_TYPES};
use crate::reference::Reference;

/// How many times a transient failure is retried.
const RETRIES: u32 = 4;
/// The first backoff; it doubles on each retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

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

/// A repository on a registry, reached through `oci-client`.
pub struct RegistryTransport {
    reference: Reference,
    client: oci_client::Client,
    auth: RegistryAuth,
    runtime: tokio::runtime::Runtime,
    progress: crate::progress::SharedProgress,
}

impl RegistryTransport {
    /// Prepares a client for the reference's registry (no request is made yet).
    pub fn new(reference: Reference, options: &AccessOptions) -> Result<Self, ImageError> {
        let plain_http = is_loopback(&reference.registry)
            || options
                .insecure_registries
                .iter()
                .any(|h| h == &reference.registry);
        let protocol = if plain_http {
            ClientProtocol::HttpsExcept(vec![reference.registry.clone()])
        } else {
            ClientProtocol::Https
        };
        let client = oci_client::Client::new(ClientConfig {
            protocol,
            connect_timeout: Some(Duration::from_secs(30)),
            read_timeout: Some(Duration::from_secs(120)),
            ..Default::default()
        });
        let explicit = options.authfile.is_some();
        let auth = match crate::auth::auth_file(options.authfile.as_deref()) {
            Some(file) => match crate::auth::credentials_for(&reference.registry, &file, explicit)?
            {
                Some(c) => RegistryAuth::Basic(c.username, c.password),
                None => RegistryAuth::Anonymous,
            },
            None => RegistryAuth::Anonymous,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(RegistryError::Runtime)?;
        Ok(Self {
            reference,
            client,
            auth,
            runtime,
            progress: options.progress.clone(),
        })
    }

    fn oci_reference(&self, digest: Option<&Digest>) -> oci_client::Reference {
        let r = &self.reference;
        match (digest.or(r.digest.as_ref()), &r.tag) {
            (Some(d), _) => oci_client::Reference::with_digest(
                r.registry.clone(),
                r.repository.clone(),
                d.to_string(),
            ),
            (None, Some(tag)) => oci_client::Reference::with_tag(
                r.registry.clone(),
                r.repository.clone(),
                tag.clone(),
            ),
            (None, None) => oci_client::Reference::with_tag(
                r.registry.clone(),
                r.repository.clone(),
                crate::reference::DEFAULT_TAG.to_string(),
            ),
        }
    }

    fn manifest_bytes(&self, digest: Option<&Digest>) -> Result<Vec<u8>, ImageError> {
        let reference = self.oci_reference(digest);
        let shown = match digest {
            Some(d) => self.reference.pinned(d.clone()).to_string(),
            None => self.reference.to_string(),
        };
        let (bytes, _) = self.retrying(&shown, || {
            self.client
                .pull_manifest_raw(&reference, &self.auth, ACCEPTED_MANIFEST_TYPES)
        })?;
        Ok(bytes.to_vec())
    }

    /// Runs a request, retrying transient failures with exponential backoff.
    fn retrying<T, F, Fut>(&self, shown: &str, mut request: F) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            match self.runtime.block_on(request()) {
                Ok(v) => return Ok(v),
                Err(e) if attempt < RETRIES && is_transient(&e) => {
                    tracing::warn!("{shown}: {e}; retrying in {backoff:?}");
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    attempt += 1;
                }
                Err(e) => return Err(classify(shown, e)),
            }
        }
    }

    fn download(&self, desc: &Descriptor, cache: &Cache) -> Result<PathBuf, ImageError> {
        let reference = self.oci_reference(None);
        let digest = desc.digest.to_string();
        let shown = self.reference.name();
        let mut attempt = 0;
        let mut backoff = FIRST_BACKOFF;
        loop {
            let mut writer = cache.writer(&desc.digest, Some(desc.size))?;
            let mut transfer = self.progress.download(&short(&desc.digest), desc.size);
            let result: Result<(), ImageError> = self.runtime.block_on(async {
                let mut stream = self
                    .client
                    .pull_blob_stream(&reference, digest.as_str())
                    .await
                    .map_err(|e| classify(&shown, e))?;
                while let Some(chunk) = stream.next().await {
                    let chunk = match chunk {
                        Ok(chunk) => chunk,
                        // oci-client checks the digest too, at the end of the
                        // stream: our own check of the same bytes decides.
                        Err(e) if is_digest_error(&e) => break,
                        Err(source) => {
                            return Err(RegistryError::Stream {
                                reference: shown.clone(),
                                digest: desc.digest.clone(),
                                source,
                            }
                            .into())
                        }
                    };
                    writer.write_chunk(&chunk)?;
                    transfer.advance(chunk.len() as u64);
                }
                transfer.finish();
                Ok(())
            });
            match result {
                Ok(()) => return Ok(writer.commit()?),
                Err(ImageError::Registry(RegistryError::Stream { source, .. }))
                    if attempt < RETRIES =>
                {
                    tracing::warn!(
                        "{shown}: blob {}: {source}; retrying in {backoff:?}",
                        desc.digest
                    );
                }
                Err(ImageError::Registry(RegistryError::Request { source, .. }))
                    if attempt < RETRIES && is_transient(&source) =>
                {
                    tracing::warn!(
                        "{shown}: blob {}: {source}; retrying in {backoff:?}",
                        desc.digest
                    );
                }
                Err(e) => return Err(e),
            }
            std::thread::sleep(backoff);
            backoff *= 2;
            attempt += 1;
        }
    }
}

impl Transport for RegistryTransport {
    fn resolve(&self) -> Result<RawManifest, ImageError> {
        let bytes = self.manifest_bytes(None)?;
        Ok(RawManifest {
            bytes,
            media_type_hint: None,
            pinned: self.reference.digest.clone(),
        })
    }

    fn manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        self.manifest_bytes(Some(&desc.digest))
    }

    fn blob(&self, desc: &Descriptor, cache: &Cache) -> Result<PathBuf, ImageError> {
        if let Some(path) = cache.blob(&desc.digest) {
            tracing::debug!("blob {} from cache", desc.digest);
            return Ok(path);
        }
        tracing::info!("pulling blob {} ({} bytes)", desc.digest, desc.size);
        self.download(desc, cache)
    }
}

/// `sha256:0123456789ab`, for progress lines.
fn short(digest: &Digest) -> String {
    format!("sha256:{}", &digest.hex()[..12])
}

/// Whether the registry is on this machine, where Docker allows plain HTTP.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.rsplit_once(':').map_or(registry, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                registry
            }
        }),
    };
    host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a stream error is oci-client's own digest check failing.
fn is_digest_error(e: &std::io::Error) -> bool {
    e.get_ref().is_some_and(|inner| {
        inner
            .downcast_ref::<oci_client::errors::DigestError>()
            .is_some()
    })
}

fn is_transient(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        OciDistributionError::RequestError(e) => {
            e.is_connect() || e.is_timeout() || e.is_request() || e.is_body()
        }
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| matches!(e.code, OciErrorCode::Toomanyrequests)),
        OciDistributionError::IoError(_) => true,
        _ => false,
    }
}

fn classify(shown: &str, e: OciDistributionError) -> RegistryError {
    let reference = shown.to_string();
    match &e {
        OciDistributionError::RegistryError { envelope, .. }
            if envelope.errors.iter().any(|x| {
                matches!(
                    x.code,
                    OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                        | OciErrorCode::BlobUnknown
                        | OciErrorCode::NotFound
                )
            }) =>
        {
            RegistryError::NotFound { reference }
        }
        OciDistributionError::ServerError { code: 404, .. }
        | OciDistributionError::ImageManifestNotFoundError(_) => {
            RegistryError::NotFound { reference }
        }
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => {
            RegistryError::Unauthorized { reference }
        }
        OciDistributionError::RegistryError { envelope, .. }
            if envelope
                .errors
                .iter()
                .any(|x| matches!(x.code, OciErrorCode::Unauthorized | OciErrorCode::Denied)) =>
        {
            RegistryError::Unauthorized { reference }
        }
        _ => RegistryError::Request {
            reference,
            source: e,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries_use_plain_http() {
        for host in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "docker.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "ghcr.io",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
