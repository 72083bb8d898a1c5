//! The registry transport: the [`super::distribution`] client for one
//! repository, with credentials from [`super::auth`], plain HTTP only for
//! loopback and `--insecure-registry` hosts, and retries with backoff (or
//! the registry's `Retry-After`) on throttling, server errors, dropped,
//! stalled or too slow connections. Blobs stream into the cache and land
//! there only once verified.

use std::future::Future;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::cache::Cache;
use super::digest::{verify_bytes, Digest};
use super::distribution::{Access, Client, DEADLINE};
use super::error::{ImageError, RegistryError};
use super::http::is_loopback;
use super::manifest::Descriptor;
use super::mirrors::{Endpoint, ServedBy};
use super::reference::Reference;
use super::transport::{AccessOptions, RawManifest, Transport};

/// How many times a transient failure is retried.
const RETRIES: u32 = 4;
/// The first backoff; it doubles on each retry.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The most time one request with a small answer (a manifest, with the
/// token it needs) may take in all, its retries and the waits between them
/// included: a retry is made only while a whole attempt ([`DEADLINE`])
/// still fits, so a registry that trickles its answers cannot hold a run.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(120);

/// A repository on a registry, read through the registries.conf mirrors
/// that serve its reference, then its location: the first that serves
/// the top-level manifest serves everything after it.
pub struct RegistryTransport {
    /// The mirrors to try, in order.
    mirrors: Vec<Source>,
    /// The registry's location, tried last.
    location: Source,
    /// Which source served the top-level manifest: a mirror's index, or
    /// `None` for the location.
    chosen: OnceLock<Option<usize>>,
    runtime: tokio::runtime::Runtime,
    progress: crate::progress::SharedProgress,
}

/// One endpoint of a [`RegistryTransport`]: its reference and client.
struct Source {
    reference: Reference,
    client: Arc<Client>,
    served_by: Option<ServedBy>,
}

impl Source {
    fn new(endpoint: Endpoint, options: &AccessOptions) -> Result<Self, ImageError> {
        let client = client_for(&endpoint, options, Access::Pull)?;
        Ok(Self {
            reference: endpoint.reference,
            client: Arc::new(client),
            served_by: endpoint.served_by,
        })
    }
}

impl RegistryTransport {
    /// Prepares a client for each endpoint of the reference (no request is
    /// made yet); a reference registries.conf blocks is refused here.
    pub fn new(reference: Reference, options: &AccessOptions) -> Result<Self, ImageError> {
        let mut endpoints = options
            .registries
            .endpoints(&reference, reference.digest.is_some())?;
        let location = match endpoints.pop() {
            Some(endpoint) => Source::new(endpoint, options)?,
            None => Source::new(
                Endpoint {
                    reference,
                    insecure: false,
                    served_by: None,
                },
                options,
            )?,
        };
        let mirrors = endpoints
            .into_iter()
            .map(|endpoint| Source::new(endpoint, options))
            .collect::<Result<Vec<_>, _>>()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(RegistryError::Runtime)?;
        Ok(Self {
            mirrors,
            location,
            chosen: OnceLock::new(),
            runtime,
            progress: options.progress.clone(),
        })
    }

    /// The top-level manifest from the first source that serves it whole
    /// (its digest checked when the reference pins one); that source
    /// serves everything after it. A mirror that fails in any way passes
    /// the request on; the location's failure is the answer.
    fn first_manifest(&self) -> Result<(&Source, Vec<u8>), ImageError> {
        if let Some(&chosen) = self.chosen.get() {
            let source = self.chosen_source(chosen);
            return Ok((source, self.top_manifest(source)?));
        }
        let mut tried = Vec::new();
        for (index, mirror) in self.mirrors.iter().enumerate() {
            match self.top_manifest(mirror) {
                Ok(bytes) => {
                    let _ = self.chosen.set(Some(index));
                    return Ok((mirror, bytes));
                }
                Err(e) => {
                    // Registry errors name the mirror's reference first already.
                    let chain = crate::error_chain(&e);
                    let named = format!("{}: ", mirror.reference);
                    let why = chain.strip_prefix(&named).unwrap_or(&chain);
                    tracing::warn!("mirror {}: {why}; trying the next source", mirror.reference);
                    tried.push(format!("mirror {}: {why}", mirror.reference));
                }
            }
        }
        match self.top_manifest(&self.location) {
            Ok(bytes) => {
                let _ = self.chosen.set(None);
                Ok((&self.location, bytes))
            }
            Err(e) if tried.is_empty() => Err(e),
            Err(e) => Err(ImageError::MirrorsFailed {
                reference: self.location.reference.to_string(),
                tried: tried.join("; "),
                source: Box::new(e),
            }),
        }
    }

    /// `source`'s top-level manifest, checked against the digest its
    /// reference pins, if any.
    fn top_manifest(&self, source: &Source) -> Result<Vec<u8>, ImageError> {
        let bytes = self.manifest_bytes(source, None)?;
        if let Some(pinned) = &source.reference.digest {
            verify_bytes(&bytes, pinned, None)?;
        }
        Ok(bytes)
    }

    fn chosen_source(&self, chosen: Option<usize>) -> &Source {
        chosen
            .and_then(|index| self.mirrors.get(index))
            .unwrap_or(&self.location)
    }

    /// The source that served the top-level manifest, asking for it first
    /// if no request has been made yet and there are mirrors to choose from.
    fn source(&self) -> Result<&Source, ImageError> {
        match self.chosen.get() {
            Some(&chosen) => Ok(self.chosen_source(chosen)),
            None if self.mirrors.is_empty() => Ok(&self.location),
            None => Ok(self.first_manifest()?.0),
        }
    }

    fn manifest_bytes(
        &self,
        source: &Source,
        digest: Option<&Digest>,
    ) -> Result<Vec<u8>, ImageError> {
        let r = &source.reference;
        let target = match (digest.or(r.digest.as_ref()), &r.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(tag)) => tag.clone(),
            (None, None) => super::reference::DEFAULT_TAG.to_string(),
        };
        let shown = match digest {
            Some(d) => r.pinned(d.clone()).to_string(),
            None => r.to_string(),
        };
        Ok(retrying(&self.runtime, || {
            source.client.manifest(&shown, &target)
        })?)
    }

    /// Starts pulling a blob into the cache on the runtime's threads and
    /// returns a reader of its bytes as they arrive.
    fn stream(&self, desc: &Descriptor, cache: &Cache) -> Result<BlobStream, ImageError> {
        let source = self.source()?;
        let writer = cache.writer(&desc.digest, Some(desc.size))?;
        let (sender, receiver) = tokio::sync::mpsc::channel(STREAM_CHUNKS);
        let pull = BlobPull {
            client: Arc::clone(&source.client),
            shown: source.reference.name(),
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

/// A client for an endpoint's repository as every registry access makes
/// it: plain HTTP only for loopback, `--insecure-registry` and
/// registries.conf `insecure` hosts, and the credentials the auth files
/// hold for the endpoint's own host (a mirror never gets the location's).
pub(super) fn client_for(
    endpoint: &Endpoint,
    options: &AccessOptions,
    access: Access,
) -> Result<Client, ImageError> {
    let reference = &endpoint.reference;
    let plain_http = endpoint.insecure
        || is_loopback(&reference.registry)
        || options
            .insecure_registries
            .iter()
            .any(|h| h == &reference.registry);
    let explicit = options.authfile.is_some();
    let credentials = match super::auth::auth_file(options.authfile.as_deref()) {
        Some(file) => super::auth::credentials_for(&reference.registry, &file, explicit)?,
        None => None,
    };
    Ok(Client::new(reference, plain_http, credentials, access)?)
}

/// Runs a request on `runtime`, retrying transient failures with
/// exponential backoff within [`REQUEST_BUDGET`].
pub(super) fn retrying<T, F, Fut>(
    runtime: &tokio::runtime::Runtime,
    mut request: F,
) -> Result<T, RegistryError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RegistryError>>,
{
    let started = Instant::now();
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        match runtime.block_on(request()) {
            Ok(v) => return Ok(v),
            Err(e)
                if attempt < RETRIES
                    && e.is_transient()
                    && retry_fits(started.elapsed(), wait_before_retry(&e, backoff)) =>
            {
                let wait = wait_before_retry(&e, backoff);
                tracing::warn!("{e}; retrying in {wait:?}");
                std::thread::sleep(wait);
                backoff *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Whether a retry after `wait`, `elapsed` into a request, still ends
/// within [`REQUEST_BUDGET`] if it takes its whole [`DEADLINE`].
fn retry_fits(elapsed: Duration, wait: Duration) -> bool {
    elapsed + wait + DEADLINE <= REQUEST_BUDGET
}

/// How long to wait before retrying after `e`: the backoff, or longer if
/// the registry asked for it (`Retry-After`, bounded).
fn wait_before_retry(e: &RegistryError, backoff: Duration) -> Duration {
    e.retry_after().map_or(backoff, |asked| asked.max(backoff))
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
/// verified.
struct BlobPull {
    client: Arc<Client>,
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
                Err(Stop::Failed(ImageError::Registry(e)))
                    if attempt < RETRIES && e.is_transient() =>
                {
                    // The error names the repository and the blob already.
                    let wait = wait_before_retry(&e, backoff);
                    tracing::warn!("{e}; retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                }
                Err(Stop::Failed(e)) => break StreamMessage::Failed(e),
            }
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
        let response = self
            .client
            .blob(
                &self.shown,
                &self.desc.digest,
                self.desc.size,
                writer.written(),
            )
            .await
            .map_err(ImageError::from)?;
        if response.whole && writer.written() > 0 {
            if resent.is_none() {
                *resent = Some(Delivered {
                    bytes: writer.written(),
                    digest: writer.digest_so_far(),
                });
            }
            *writer = self.cache.writer(&self.desc.digest, Some(self.desc.size))?;
        }
        transfer.restart_at(writer.written());
        let mut body = response.body;
        while let Some(mut chunk) = body.chunk().await.map_err(ImageError::from)? {
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
        let (source, bytes) = self.first_manifest()?;
        Ok(RawManifest {
            bytes,
            media_type_hint: None,
            pinned: source.reference.digest.clone(),
        })
    }

    fn manifest(&self, desc: &Descriptor) -> Result<Vec<u8>, ImageError> {
        let source = self.source()?;
        self.manifest_bytes(source, Some(&desc.digest))
    }

    fn blob(&self, desc: &Descriptor, cache: &Cache) -> Result<PathBuf, ImageError> {
        if let Some(path) = cache.blob(&desc.digest)? {
            tracing::debug!("blob {} from cache", desc.digest);
            return Ok(path);
        }
        tracing::info!("pulling blob {} ({} bytes)", desc.digest, desc.size);
        let mut stream = self.stream(desc, cache)?;
        let shown = self.source()?.reference.name();
        io::copy(&mut stream, &mut io::sink()).map_err(|e| stream_error(e, &shown, desc))?;
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

    fn served_by(&self) -> Option<ServedBy> {
        let chosen = *self.chosen.get()?;
        self.chosen_source(chosen).served_by.clone()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::distribution::MAX_RETRY_AFTER;

    #[test]
    fn a_retry_is_made_only_while_a_whole_attempt_still_fits_in_the_budget() {
        assert!(retry_fits(Duration::from_secs(10), FIRST_BACKOFF));
        assert!(retry_fits(REQUEST_BUDGET - DEADLINE, Duration::ZERO));
        // An answer trickled until its deadline leaves no room for another.
        assert!(!retry_fits(DEADLINE, FIRST_BACKOFF));
        assert!(!retry_fits(
            Duration::from_secs(50),
            Duration::from_secs(MAX_RETRY_AFTER.into())
        ));
    }
}
