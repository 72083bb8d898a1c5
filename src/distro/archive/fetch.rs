//! HTTP for the archive: small documents read whole under a cap, and
//! files whose size and sha256 the verified chain gave streamed into the
//! content-addressed cache, where they land only if both match (and are
//! taken from it, hashed again, on reuse).
//!
//! Threat model: the mirror and the network are untrusted; redirects never
//! go from HTTPS down to HTTP, every body is bounded, and nothing fetched
//! is handed on before it is verified (release files by their signature,
//! by the caller).

use std::path::PathBuf;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::{StatusCode, Url};

use crate::image::cache::{Cache, CacheError};
use crate::image::digest::Digest;
use crate::image::http::{read_capped_blocking, redirect_policy, BodyError};

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one whole request may take (a pool file of some hundred MB
/// over a slow mirror).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(1800);

/// A request to the archive that failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot fetch {url}: {reason}")]
    Request { url: String, reason: String },
    #[error("cannot fetch {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error(transparent)]
    Body(#[from] BodyError),
    #[error("{url} does not match the archive's signed index: {source}")]
    Mismatch {
        url: String,
        #[source]
        source: CacheError,
    },
    #[error(transparent)]
    Cache(CacheError),
}

/// An HTTP client for one archive lookup.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client,
}

impl Fetcher {
    pub fn new() -> Result<Fetcher, FetchError> {
        let client = Client::builder()
            .user_agent(concat!("rebuild-compare/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(redirect_policy())
            .build()
            .map_err(|e| FetchError::Request {
                url: String::new(),
                reason: crate::error_chain(&e),
            })?;
        Ok(Fetcher { client })
    }

    /// The body at `url`, at most `limit` bytes; `None` when the server
    /// says it has no such file (404, 410).
    pub fn small(
        &self,
        url: &Url,
        what: &'static str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, FetchError> {
        let Some(response) = self.get(url)? else {
            return Ok(None);
        };
        Ok(Some(read_capped_blocking(response, what, limit)?))
    }

    /// The cached file with this sha256, fetched from `url` when the
    /// cache has no good copy; it must be exactly `size` bytes.
    pub fn into_cache(
        &self,
        url: &Url,
        cache: &Cache,
        sha256: &Digest,
        size: u64,
    ) -> Result<PathBuf, FetchError> {
        if let Some(path) = cache.blob(sha256).map_err(FetchError::Cache)? {
            return Ok(path);
        }
        let mismatch = |source| FetchError::Mismatch {
            url: url.to_string(),
            source,
        };
        let mut response = self.get(url)?.ok_or_else(|| FetchError::Status {
            url: url.to_string(),
            status: StatusCode::NOT_FOUND.as_u16(),
        })?;
        if let Some(declared) = response.content_length().filter(|&n| n != size) {
            return Err(mismatch(CacheError::BlobMismatch(
                crate::image::digest::BlobMismatch::Size {
                    digest: sha256.clone(),
                    expected: size,
                    actual: declared,
                },
            )));
        }
        let mut writer = cache
            .writer(sha256, Some(size))
            .map_err(FetchError::Cache)?;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = match std::io::Read::read(&mut response, &mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(FetchError::Request {
                        url: url.to_string(),
                        reason: crate::error_chain(&e),
                    })
                }
            };
            writer.write_chunk(&buf[..n]).map_err(|e| match e {
                CacheError::BlobMismatch(_) => mismatch(e),
                other => FetchError::Cache(other),
            })?;
        }
        writer.commit().map_err(|e| match e {
            CacheError::BlobMismatch(_) => mismatch(e),
            other => FetchError::Cache(other),
        })
    }

    /// Sends a GET; `None` for 404 and 410.
    fn get(&self, url: &Url) -> Result<Option<reqwest::blocking::Response>, FetchError> {
        let response = self
            .client
            .get(url.clone())
            .send()
            .map_err(|e| FetchError::Request {
                url: url.to_string(),
                reason: crate::error_chain(&e.without_url()),
            })?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        Ok(Some(response))
    }
}
