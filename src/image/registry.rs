//! The registry transport, through `oci-client`: anonymous bearer-token
//! flow or credentials from [`super::auth`], plain HTTP only for loopback
//! and `--insecure-registry` hosts, retries with backoff on throttling,
//! server errors and dropped connections. Blobs stream into the cache and
//! land there only once verified.

use std::future::Future;
use std::io::{self, Read};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use oci_client::client::{BlobResponse, ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::secrets::RegistryAuth;

use super::cache::Cache;
use super::digest::Digest;
use super::error::{ImageError, RegistryError};
use super::manifest::{Descriptor, ACCEPTED_MANIFEST_TYPES};
use super::reference::Reference;
use super::transport::{AccessOptions, RawManifest, Transport};

/// How many times a transient failure is retried.
const RETRIES: u32 = 4;
/// The first backoff; it doubles on each retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

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
        let auth = match super::auth::auth_file(options.authfile.as_deref()) {
            Some(file) => match super::auth::credentials_for(&reference.registry, &file, explicit)?
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
                super::reference::DEFAULT_TAG.to_string(),
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

    /// Starts pulling a blob into the cache on the runtime's threads and
    /// returns a reader of its bytes as they arrive.
    fn stream(&self, desc: &Descriptor, cache: &Cache) -> Result<BlobStream, ImageError> {
        let writer = cache.writer(&desc.digest, Some(desc.size))?;
        let (sender, receiver) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
        let pull = BlobPull {
            client: self.client.clone(),
            reference: self.oci_reference(None),
            shown: self.reference.name(),
            desc: desc.clone(),
            cache: cache.clone(),
            progress: self.progress.clone(),
            sender,
        };
        self.runtime.spawn(pull.run(writer));
        Ok(BlobStream {
            receiver,
            current: Bytes::new(),
            ended: false,
        })
    }
}

/// Chunks buffered between the download and the reader.
const STREAM_CHUNKS: usize = 64;

/// What the download task tells the reader.
enum StreamMessage {
    Data(Bytes),
    /// The blob is complete, verified and in the cache.
    End,
    Failed(ImageError),
}

/// One blob being pulled by a task on the runtime. The request asks for a
/// range from the first byte not yet received, so a retry resumes where a
/// dropped connection stopped; a registry that answers with the whole blob
/// instead starts it again, and the bytes the reader already has must then
/// come again unchanged (checked by hash) and are not sent twice. The
/// reader sees one consistent stream, and its end only once the whole blob
/// verified. (Ranged responses also spare oci-client hashing the blob a
/// second time: our own check is the one that decides.)
struct BlobPull {
    client: oci_client::Client,
    reference: oci_client::Reference,
    shown: String,
    desc: Descriptor,
    cache: Cache,
    progress: crate::progress::SharedProgress,
    sender: tokio::sync::mpsc::Sender<StreamMessage>,
}

/// Why a download attempt stopped.
enum Stop {
    /// The reader went away: nothing more to do.
    ReaderGone,
    Failed(ImageError),
}

impl From<ImageError> for Stop {
    fn from(e: ImageError) -> Self {
        Self::Failed(e)
    }
}

impl From<super::cache::CacheError> for Stop {
    fn from(e: super::cache::CacheError) -> Self {
        Self::Failed(e.into())
    }
}

/// What the reader already had when a registry answered a resume with the
/// whole blob: how many bytes, and their digest. The new download must
/// bring those bytes again unchanged before it brings anything new.
struct Delivered {
    bytes: u64,
    digest: Digest,
}

impl BlobPull {
    async fn run(self, writer: super::cache::BlobWriter) {
        let mut writer = writer;
        let mut resent = None;
        let mut attempt = 0;
        let mut backoff = FIRST_BACKOFF;
        // One progress bar for the blob across every attempt; it finishes
        // only once the blob verified, and is dropped (cleared) otherwise.
        let mut transfer = self
            .progress
            .download(&short(&self.desc.digest), self.desc.size);
        let message = loop {
            match self.attempt(&mut writer, &mut resent, &mut *transfer).await {
                Ok(()) => break StreamMessage::End,
                Err(Stop::ReaderGone) => return,
                Err(Stop::Failed(e)) if attempt < RETRIES && is_retryable(&e) => {
                    // The error names the repository and the blob already.
                    tracing::warn!("{e}; retrying in {backoff:?}");
                }
                Err(Stop::Failed(e)) => break StreamMessage::Failed(e),
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            attempt += 1;
        };
        let message = match message {
            StreamMessage::End => match writer.commit() {
                Ok(_) => {
                    transfer.finish();
                    StreamMessage::End
                }
                Err(e) => StreamMessage::Failed(e.into()),
            },
            other => other,
        };
        // The reader may be gone by now; then there is no one to tell.
        let _ = self.sender.send(message).await;
    }

    /// One request, from the first byte `writer` lacks to the end. Every
    /// byte the cache writer holds was sent to the reader, except while
    /// `resent` (the reader's part of a blob sent again) is being checked.
    async fn attempt(
        &self,
        writer: &mut super::cache::BlobWriter,
        resent: &mut Option<Delivered>,
        transfer: &mut dyn crate::progress::Transfer,
    ) -> Result<(), Stop> {
        let digest = self.desc.digest.to_string();
        let response = self
            .client
            .pull_blob_stream_partial(&self.reference, digest.as_str(), writer.written(), None)
            .await
            .map_err(|e| ImageError::from(classify(&self.shown, e)))?;
        let mut stream = match response {
            BlobResponse::Partial(stream) => stream,
            BlobResponse::Full(stream) => {
                if writer.written() > 0 {
                    if resent.is_none() {
                        *resent = Some(Delivered {
                            bytes: writer.written(),
                            digest: writer.digest_so_far(),
                        });
                    }
                    *writer = self.cache.writer(&self.desc.digest, Some(self.desc.size))?;
                }
                stream
            }
        };
        transfer.restart_at(writer.written());
        while let Some(chunk) = stream.next().await {
            let mut chunk = match chunk {
                Ok(chunk) => chunk,
                // oci-client checks the digest too, at the end of a whole
                // blob: our own check of the same bytes decides.
                Err(e) if is_digest_error(&e) => break,
                Err(source) => {
                    return Err(ImageError::from(RegistryError::Stream {
                        reference: self.shown.clone(),
                        digest: self.desc.digest.clone(),
                        source,
                    })
                    .into())
                }
            };
            transfer.advance(chunk.len() as u64);
            if let Some(delivered) = resent {
                let known = usize::try_from(delivered.bytes - writer.written())
                    .unwrap_or(usize::MAX)
                    .min(chunk.len());
                writer.write_chunk(&chunk[..known])?;
                chunk = chunk.slice(known..);
                if writer.written() == delivered.bytes {
                    if writer.digest_so_far() != delivered.digest {
                        return Err(ImageError::from(RegistryError::ChangedOnRetry {
                            reference: self.shown.clone(),
                            digest: self.desc.digest.clone(),
                        })
                        .into());
                    }
                    *resent = None;
                }
            }
            if !chunk.is_empty() {
                writer.write_chunk(&chunk)?;
                if self.sender.send(StreamMessage::Data(chunk)).await.is_err() {
                    return Err(Stop::ReaderGone);
                }
            }
        }
        Ok(())
    }
}

/// Whether a failed download is worth starting again.
fn is_retryable(e: &ImageError) -> bool {
    match e {
        ImageError::Registry(RegistryError::Stream { .. }) => true,
        ImageError::Registry(RegistryError::Request { source, .. }) => is_transient(source),
        _ => false,
    }
}

/// A blob's bytes as the download task delivers them. The read that
/// returns 0 (the end) comes only after the whole blob was verified and
/// cached; a mismatch or a failed download is an error instead.
pub struct BlobStream {
    receiver: tokio::sync::mpsc::Receiver<StreamMessage>,
    current: Bytes,
    ended: bool,
}

impl Read for BlobStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.receiver.blocking_recv() {
                Some(StreamMessage::Data(chunk)) => self.current = chunk,
                Some(StreamMessage::End) => self.ended = true,
                Some(StreamMessage::Failed(e)) => return Err(io::Error::other(e)),
                None => {
                    return Err(io::Error::other(
                        "the download stopped before the blob was complete",
                    ))
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
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
        if let Some(path) = cache.blob(&desc.digest)? {
            tracing::debug!("blob {} from cache", desc.digest);
            return Ok(path);
        }
        tracing::info!("pulling blob {} ({} bytes)", desc.digest, desc.size);
        let mut stream = self.stream(desc, cache)?;
        io::copy(&mut stream, &mut io::sink())
            .map_err(|e| stream_error(e, &self.reference.name(), desc))?;
        Ok(cache.blob_path(&desc.digest))
    }

    fn open_blob(
        &self,
        desc: &Descriptor,
        cache: &Cache,
    ) -> Result<Box<dyn Read + Send>, ImageError> {
        if let Some(path) = cache.blob(&desc.digest)? {
            tracing::debug!("blob {} from cache", desc.digest);
            return Ok(super::cache::open_buffered(&path)?);
        }
        tracing::info!(
            "pulling blob {} ({} bytes), reading it as it arrives",
            desc.digest,
            desc.size
        );
        Ok(Box::new(self.stream(desc, cache)?))
    }
}

/// The [`ImageError`] a [`BlobStream`] read failed with.
fn stream_error(e: io::Error, shown: &str, desc: &Descriptor) -> ImageError {
    let stream = |source| {
        ImageError::from(RegistryError::Stream {
            reference: shown.to_string(),
            digest: desc.digest.clone(),
            source,
        })
    };
    let kind = e.kind();
    match e.into_inner().map(|inner| inner.downcast::<ImageError>()) {
        Some(Ok(image_error)) => *image_error,
        Some(Err(other)) => stream(io::Error::new(kind, other)),
        None => stream(io::Error::from(kind)),
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
