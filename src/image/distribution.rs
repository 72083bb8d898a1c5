//! The registry's HTTP API, as much of the distribution spec as a pull
//! needs (manifests by tag or digest, blobs from an offset) and as small
//! reads and writes of one repository need (blob uploads, manifest pushes,
//! tag listing, referrers). A request the registry answers with a
//! challenge (`WWW-Authenticate: Bearer …` or `Basic …`) is authenticated
//! and sent again once; credentials go only
//! where [`may_send_credentials`] allows, and a write (its bytes and the
//! authorization) only to the registry's own origin: writes follow no
//! redirect, and an upload location or next tags page elsewhere is refused.
//! Every body is bounded and has a low-speed limit, every small request
//! has a deadline, and every failure becomes a [`RegistryError`] that says
//! whether a retry may help.

use std::collections::HashSet;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LINK, LOCATION, RANGE,
    RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Deserialize;

use super::auth::Credentials;
use super::digest::{verify_bytes, BlobMismatch, Digest};
use super::error::RegistryError;
use super::http::{
    self, BelowLowSpeed, BodyError, LowSpeed, LOW_SPEED_BYTES, LOW_SPEED_WINDOW, MAX_ERROR_BODY,
};
use super::manifest::{ACCEPTED_MANIFEST_TYPES, MAX_MANIFEST_BYTES, OCI_INDEX};
use super::reference::{validate_tag, Reference, DOCKER_HUB};

/// The most time a request with a small answer (a manifest, a token, an
/// error) may take in all, and a blob request until its body starts.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// The most time a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest token response read.
pub const MAX_TOKEN_BYTES: u64 = 1024 * 1024;
/// The longest `Retry-After` honoured, in seconds.
pub const MAX_RETRY_AFTER: u16 = 60;
/// The largest blob pushed: uploads are monolithic (one PUT), meant for
/// small artifacts such as attestations.
pub const MAX_PUSH_BLOB_BYTES: u64 = 16 * 1024 * 1024;
/// The tags asked for per page. Each page is a round trip, and registries
/// that paginate default to small pages (often 100): at 1000 a page the
/// 2,000 tags of a busy repository take 2 requests rather than 20, so a
/// listing stays well under a few seconds, while a page stays tens of KiB.
/// A registry that caps `n` lower answers smaller pages and a next link,
/// which is followed.
pub const TAGS_PAGE_SIZE: u32 = 1000;
/// The largest tags page read.
pub const MAX_TAGS_PAGE_BYTES: u64 = 4 * 1024 * 1024;
/// The most tags listed for one repository.
pub const MAX_TAGS: usize = 1_000_000;
/// The most tags pages followed for one repository.
pub const MAX_TAGS_PAGES: usize = 10_000;
/// `OCI-Subject`: the registry processed a pushed manifest's `subject`
/// (OCI distribution 1.1), i.e. it serves the referrers API.
const OCI_SUBJECT: &str = "oci-subject";
/// The registry's digest of what it stored or served.
const DOCKER_CONTENT_DIGEST: &str = "docker-content-digest";

/// Whether the credentials for the registry at `registry` (its base URL,
/// as it is reached) may go to the token realm `realm`: yes over HTTPS;
/// over plain HTTP only when the realm is on the registry's own host and
/// the registry itself is reached over plain HTTP (a loopback registry, or
/// one named with `--insecure-registry`), i.e. where the user already
/// accepted plain HTTP. Never to another host over plain HTTP, loopback or
/// not: a registry cannot steer them to a listener of its choosing, on
/// this machine or on the network, in the clear.
pub fn may_send_credentials(registry: &Url, realm: &Url) -> bool {
    match realm.scheme() {
        "https" => true,
        "http" => registry.scheme() == "http" && realm.host_str() == registry.host_str(),
        _ => false,
    }
}

/// What a client is for: reading only, or also writing. It decides the
/// scope of the tokens asked for (`pull`, or `pull,push`): a push token is
/// asked for only when pushing is the point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    PullPush,
}

/// What the registry answered a manifest push with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedManifest {
    /// The manifest's digest: the sha256 of the bytes pushed (which the
    /// registry's `Docker-Content-Digest`, when it sends one, matched).
    pub digest: Digest,
    /// The registry answered with `OCI-Subject`: it processed the
    /// manifest's `subject` and lists it in the subject's referrers (OCI
    /// distribution 1.1). False: a registry without the referrers API, on
    /// which the pusher maintains the `sha256-<hex>` referrers tag itself.
    pub subject_accepted: bool,
}

/// A client for one repository of one registry.
pub struct Client {
    http: reqwest::Client,
    /// For writes: follows no redirect, so bytes and credentials go only
    /// to the URL checked to be the registry's own.
    writer: reqwest::Client,
    access: Access,
    /// `scheme://host[:port]/`, as the registry is reached.
    base: Url,
    /// The registry as named in references and auth files.
    registry: String,
    repository: String,
    credentials: Option<Credentials>,
    /// What the last challenge was answered with, sent with every request
    /// to the registry itself.
    authorization: tokio::sync::Mutex<Option<HeaderValue>>,
}

/// What a registry answered a blob request with.
pub struct BlobResponse {
    /// The whole blob (200), not the range asked for (206).
    pub whole: bool,
    pub body: BlobBody,
}

/// One authentication challenge of a `WWW-Authenticate` header.
#[derive(Debug, PartialEq, Eq)]
enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
    },
    Basic,
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct TagList {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    errors: Vec<EnvelopeError>,
}

#[derive(Deserialize)]
struct EnvelopeError {
    #[serde(default)]
    code: String,
}

impl Client {
    /// A client for `reference`'s repository, over plain HTTP when
    /// `plain_http`, with `credentials` for its registry if any, for `access`.
    pub fn new(
        reference: &Reference,
        plain_http: bool,
        credentials: Option<Credentials>,
        access: Access,
    ) -> Result<Self, RegistryError> {
        let host = if reference.registry == DOCKER_HUB {
            "registry-1.docker.io"
        } else {
            reference.registry.as_str()
        };
        let scheme = if plain_http { "http" } else { "https" };
        let base =
            Url::parse(&format!("{scheme}://{host}/")).map_err(|e| RegistryError::BadUrl {
                reference: reference.to_string(),
                reason: e.to_string(),
            })?;
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .user_agent(concat!("rebuild-compare/", env!("CARGO_PKG_VERSION")))
        };
        let http = builder()
            .redirect(http::redirect_policy())
            .build()
            .map_err(RegistryError::Client)?;
        let writer = builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(RegistryError::Client)?;
        Ok(Self {
            http,
            writer,
            access,
            base,
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
            credentials,
            authorization: tokio::sync::Mutex::new(None),
        })
    }

    /// The manifest `target` (a tag or a digest), at most
    /// [`MAX_MANIFEST_BYTES`], within [`DEADLINE`]. `shown` names it in errors.
    pub async fn manifest(&self, shown: &str, target: &str) -> Result<Vec<u8>, RegistryError> {
        let url = self.url(shown, &format!("manifests/{target}"))?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, accept_value());
        let work = async {
            let response = self.send(shown, Method::GET, &url, headers, None).await?;
            if response.status() != StatusCode::OK {
                return Err(refusal(shown, response).await);
            }
            http::read_capped(response, "manifest", MAX_MANIFEST_BYTES)
                .await
                .map_err(|source| RegistryError::Body {
                    reference: shown.to_string(),
                    source,
                })
        };
        within_deadline(shown, &url, work).await
    }

    /// Blob `digest` of `size` bytes from byte `offset` on (a `Range`
    /// request, which the registry may answer with the whole blob instead).
    /// The answer must start within [`DEADLINE`] and declare no more than
    /// the bytes asked for; its body then has the low-speed limit.
    pub async fn blob(
        &self,
        shown: &str,
        digest: &Digest,
        size: u64,
        offset: u64,
    ) -> Result<BlobResponse, RegistryError> {
        let url = self.url(shown, &format!("blobs/{digest}"))?;
        let mut headers = HeaderMap::new();
        if let Ok(range) = HeaderValue::from_str(&format!("bytes={offset}-")) {
            headers.insert(RANGE, range);
        }
        let work = async {
            let response = self.send(shown, Method::GET, &url, headers, None).await?;
            let whole = match response.status() {
                StatusCode::OK => true,
                StatusCode::PARTIAL_CONTENT => false,
                _ => return Err(refusal(shown, response).await),
            };
            let limit = if whole {
                size
            } else {
                size.saturating_sub(offset)
            };
            if let Some(declared) = response.content_length().filter(|&n| n > limit) {
                return Err(RegistryError::Body {
                    reference: shown.to_string(),
                    source: BodyError::Declared {
                        what: "blob",
                        url: response.url().to_string(),
                        declared,
                        limit,
                    },
                });
            }
            Ok(BlobResponse {
                whole,
                body: BlobBody {
                    response,
                    shown: shown.to_string(),
                    digest: digest.clone(),
                    speed: LowSpeed::default(),
                },
            })
        };
        within_deadline(shown, &url, work).await
    }

    /// Whether blob `digest` is in the repository (`HEAD`: 200 yes, 404 no).
    pub async fn blob_exists(&self, shown: &str, digest: &Digest) -> Result<bool, RegistryError> {
        let url = self.url(shown, &format!("blobs/{digest}"))?;
        let work = async {
            let response = self
                .send(shown, Method::HEAD, &url, HeaderMap::new(), None)
                .await?;
            match response.status() {
                StatusCode::OK => Ok(true),
                StatusCode::NOT_FOUND => Ok(false),
                _ => Err(refusal(shown, response).await),
            }
        };
        within_deadline(shown, &url, work).await
    }

    /// Pushes `bytes` (which hash to `digest`; the registry checks it too)
    /// as a blob, unless the repository has it already: a monolithic
    /// upload (`POST` for a location, then one `PUT` of the bytes to it) of
    /// at most [`MAX_PUSH_BLOB_BYTES`]. The location must be on the
    /// registry's own origin; each request has [`DEADLINE`].
    pub async fn push_blob(
        &self,
        shown: &str,
        digest: &Digest,
        bytes: Bytes,
    ) -> Result<(), RegistryError> {
        self.writable(shown)?;
        check_push_size(shown, "the blob to push", &bytes, MAX_PUSH_BLOB_BYTES)?;
        if self.blob_exists(shown, digest).await? {
            return Ok(());
        }
        let start = self.url(shown, "blobs/uploads/")?;
        let location = within_deadline(shown, &start, async {
            let response = self
                .send(shown, Method::POST, &start, HeaderMap::new(), None)
                .await?;
            if response.status() != StatusCode::ACCEPTED {
                return Err(refusal(shown, response).await);
            }
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| RegistryError::BadAnswer {
                    reference: shown.to_string(),
                    what: "blob upload",
                    reason: "no upload location (Location header)".into(),
                })?;
            self.own_url(shown, "blob upload location", response.url(), location)
        })
        .await?;
        let mut put = location;
        put.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        within_deadline(shown, &put, async {
            let response = self
                .send(shown, Method::PUT, &put, headers, Some(bytes))
                .await?;
            if response.status() != StatusCode::CREATED {
                return Err(refusal(shown, response).await);
            }
            check_stored_digest(shown, response.headers(), digest)
        })
        .await
    }

    /// Pushes manifest `bytes` of `media_type` as `target` (a tag or a
    /// digest), at most [`MAX_MANIFEST_BYTES`], within [`DEADLINE`]. The
    /// registry must store exactly these bytes: a `Docker-Content-Digest`
    /// answer other than their sha256 is an error.
    pub async fn push_manifest(
        &self,
        shown: &str,
        target: &str,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<PushedManifest, RegistryError> {
        self.writable(shown)?;
        check_target(shown, target)?;
        check_push_size(shown, "the manifest to push", &bytes, MAX_MANIFEST_BYTES)?;
        let digest = Digest::of(&bytes);
        let url = self.url(shown, &format!("manifests/{target}"))?;
        let mut headers = HeaderMap::new();
        let content_type =
            HeaderValue::from_str(media_type).map_err(|_| RegistryError::BadUrl {
                reference: shown.to_string(),
                reason: format!("media type {media_type:?} is not a header value"),
            })?;
        headers.insert(CONTENT_TYPE, content_type);
        let work = async {
            let response = self
                .send(shown, Method::PUT, &url, headers, Some(bytes))
                .await?;
            if response.status() != StatusCode::CREATED {
                return Err(refusal(shown, response).await);
            }
            check_stored_digest(shown, response.headers(), &digest)?;
            Ok(PushedManifest {
                subject_accepted: response.headers().contains_key(OCI_SUBJECT),
                digest,
            })
        };
        within_deadline(shown, &url, work).await
    }

    /// The manifest `target` (a tag or a digest) and the sha256 of its
    /// bytes, or `None` when the registry has no such manifest; a digest
    /// target must match the bytes read. At most [`MAX_MANIFEST_BYTES`],
    /// within [`DEADLINE`].
    pub async fn manifest_if_exists(
        &self,
        shown: &str,
        target: &str,
    ) -> Result<Option<(Vec<u8>, Digest)>, RegistryError> {
        check_target(shown, target)?;
        match self.manifest(shown, target).await {
            Ok(bytes) => {
                let digest = Digest::of(&bytes);
                if let Ok(pinned) = Digest::parse(target) {
                    verify_bytes(&bytes, &pinned, None).map_err(|source| {
                        RegistryError::BlobMismatch {
                            reference: shown.to_string(),
                            source,
                        }
                    })?;
                }
                Ok(Some((bytes, digest)))
            }
            Err(RegistryError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The referrers index of `digest` (`GET /v2/NAME/referrers/DIGEST`,
    /// filtered by `artifact_type` when given and the registry applies
    /// filters: callers filter again), at most [`MAX_MANIFEST_BYTES`],
    /// within [`DEADLINE`]. `None` when the registry answers 404: it has no
    /// referrers API, and the referrers tag `sha256-<hex>` stands in for it.
    pub async fn referrers(
        &self,
        shown: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<u8>>, RegistryError> {
        let mut url = self.url(shown, &format!("referrers/{digest}"))?;
        if let Some(artifact_type) = artifact_type {
            url.query_pairs_mut()
                .append_pair("artifactType", artifact_type);
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static(OCI_INDEX));
        let work = async {
            let response = self.send(shown, Method::GET, &url, headers, None).await?;
            match response.status() {
                StatusCode::OK => {}
                StatusCode::NOT_FOUND => return Ok(None),
                _ => return Err(refusal(shown, response).await),
            }
            http::read_capped(response, "referrers index", MAX_MANIFEST_BYTES)
                .await
                .map(Some)
                .map_err(|source| RegistryError::Body {
                    reference: shown.to_string(),
                    source,
                })
        };
        within_deadline(shown, &url, work).await
    }

    /// Every tag of the repository, sorted and without duplicates: `GET
    /// /v2/NAME/tags/list?n=…` (`page_size`, default [`TAGS_PAGE_SIZE`])
    /// and each `Link: <…>; rel="next"` page after it, which must be on the
    /// registry's own origin and never come twice. Each page has
    /// [`DEADLINE`] and at most [`MAX_TAGS_PAGE_BYTES`]; at most
    /// [`MAX_TAGS_PAGES`] pages and [`MAX_TAGS`] tags are read.
    pub async fn tags(
        &self,
        shown: &str,
        page_size: Option<u32>,
    ) -> Result<Vec<String>, RegistryError> {
        let mut url = self.url(shown, "tags/list")?;
        url.query_pairs_mut()
            .append_pair("n", &page_size.unwrap_or(TAGS_PAGE_SIZE).max(1).to_string());
        let mut tags = Vec::new();
        let mut visited = HashSet::new();
        let too_many = |what: &'static str, limit: usize| RegistryError::TooMany {
            reference: shown.to_string(),
            what,
            limit,
        };
        loop {
            if visited.len() == MAX_TAGS_PAGES {
                return Err(too_many("tags pages", MAX_TAGS_PAGES));
            }
            if !visited.insert(url.clone()) {
                return Err(RegistryError::BadAnswer {
                    reference: shown.to_string(),
                    what: "tags list",
                    reason: format!("its next page {url} came before (a loop)"),
                });
            }
            let (page, next) = within_deadline(shown, &url, self.tags_page(shown, &url)).await?;
            if tags.len() + page.len() > MAX_TAGS {
                return Err(too_many("tags", MAX_TAGS));
            }
            tags.extend(page);
            match next {
                Some(next) => url = next,
                None => break,
            }
        }
        tags.sort_unstable();
        tags.dedup();
        Ok(tags)
    }

    /// One tags page and the URL of the next, if any.
    async fn tags_page(
        &self,
        shown: &str,
        url: &Url,
    ) -> Result<(Vec<String>, Option<Url>), RegistryError> {
        let bad = |reason: String| RegistryError::BadAnswer {
            reference: shown.to_string(),
            what: "tags list",
            reason,
        };
        let response = self
            .send(shown, Method::GET, url, HeaderMap::new(), None)
            .await?;
        if response.status() != StatusCode::OK {
            return Err(refusal(shown, response).await);
        }
        let next = match next_link(response.headers()) {
            Some(link) => Some(self.own_url(shown, "next tags page", response.url(), &link)?),
            None => None,
        };
        let body = http::read_capped(response, "tags list", MAX_TAGS_PAGE_BYTES)
            .await
            .map_err(|source| RegistryError::Body {
                reference: shown.to_string(),
                source,
            })?;
        let list: TagList =
            serde_json::from_slice(&body).map_err(|e| bad(format!("not JSON ({e})")))?;
        let tags = list.tags.unwrap_or_default();
        if let Some(Err(reason)) = tags.iter().map(|t| validate_tag(t)).find(Result::is_err) {
            return Err(bad(format!("an invalid tag: {reason}")));
        }
        Ok((tags, next))
    }

    /// Blob `digest`, which its descriptor says is `size` bytes, read whole
    /// and verified: refused before any request when `size` is over `max`,
    /// cut after `size` bytes, and returned only when it hashes to
    /// `digest`. Within [`DEADLINE`].
    pub async fn small_blob(
        &self,
        shown: &str,
        digest: &Digest,
        size: u64,
        max: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        if size > max {
            return Err(RegistryError::TooLarge {
                reference: shown.to_string(),
                what: format!("blob {digest}"),
                size,
                max,
            });
        }
        let url = self.url(shown, &format!("blobs/{digest}"))?;
        let work = async {
            let mut body = self.blob(shown, digest, size, 0).await?.body;
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            while let Some(chunk) = body.chunk().await? {
                if bytes.len() as u64 + chunk.len() as u64 > size {
                    return Err(RegistryError::BlobMismatch {
                        reference: shown.to_string(),
                        source: BlobMismatch::TooLong {
                            digest: digest.clone(),
                            expected: size,
                        },
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            verify_bytes(&bytes, digest, Some(size)).map_err(|source| {
                RegistryError::BlobMismatch {
                    reference: shown.to_string(),
                    source,
                }
            })?;
            Ok(bytes)
        };
        within_deadline(shown, &url, work).await
    }

    /// Refuses writes on a client made for reading only.
    fn writable(&self, shown: &str) -> Result<(), RegistryError> {
        match self.access {
            Access::PullPush => Ok(()),
            Access::Pull => Err(RegistryError::ReadOnly {
                reference: shown.to_string(),
            }),
        }
    }

    /// `link` (absolute, or relative to `at`) as a URL on the registry's
    /// own origin, the only place this client sends requests to.
    fn own_url(
        &self,
        shown: &str,
        what: &'static str,
        at: &Url,
        link: &str,
    ) -> Result<Url, RegistryError> {
        let url = at.join(link).map_err(|e| RegistryError::BadAnswer {
            reference: shown.to_string(),
            what,
            reason: format!("{link:?} is not a URL ({e})"),
        })?;
        if !same_origin(&url, &self.base) {
            return Err(RegistryError::OtherOrigin {
                reference: shown.to_string(),
                what,
                url: url.to_string(),
            });
        }
        Ok(url)
    }

    /// `/v2/<repository>/<rest>` on the registry.
    fn url(&self, shown: &str, rest: &str) -> Result<Url, RegistryError> {
        self.base
            .join(&format!("v2/{}/{rest}", self.repository))
            .map_err(|e| RegistryError::BadUrl {
                reference: shown.to_string(),
                reason: e.to_string(),
            })
    }

    /// Sends `method url` with `headers`, `body` and the current
    /// authorization; a 401 from the registry itself with a challenge this
    /// client can answer is answered and the request sent once more. Only
    /// GET and HEAD follow redirects (within [`http::redirect_policy`]);
    /// any other request goes to `url` alone, which callers make or check
    /// to be on the registry's own origin.
    async fn send(
        &self,
        shown: &str,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response, RegistryError> {
        let http = if method == Method::GET || method == Method::HEAD {
            &self.http
        } else {
            &self.writer
        };
        let mut answered = false;
        loop {
            let sent = self.authorization.lock().await.clone();
            let mut request = http
                .request(method.clone(), url.clone())
                .headers(headers.clone());
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            if let Some(value) = &sent {
                request = request.header(AUTHORIZATION, value.clone());
            }
            let response = request
                .send()
                .await
                .map_err(|source| RegistryError::Request {
                    reference: shown.to_string(),
                    source,
                })?;
            if answered
                || response.status() != StatusCode::UNAUTHORIZED
                || !same_origin(response.url(), &self.base)
            {
                return Ok(response);
            }
            let Some(challenge) = challenge(response.headers()) else {
                return Ok(response);
            };
            if !self.answer(shown, challenge, sent.as_ref()).await? {
                return Ok(response);
            }
            answered = true;
        }
    }

    /// Answers a challenge to a request that carried `sent`; false when
    /// there is nothing new to send (no credentials for Basic, or the same
    /// authorization again).
    async fn answer(
        &self,
        shown: &str,
        challenge: Challenge,
        sent: Option<&HeaderValue>,
    ) -> Result<bool, RegistryError> {
        let mut current = self.authorization.lock().await;
        if current.as_ref() != sent {
            // Another request answered a challenge meanwhile: use that.
            return Ok(true);
        }
        let value = match challenge {
            Challenge::Bearer { realm, service } => {
                self.token(shown, &realm, service.as_deref()).await?
            }
            Challenge::Basic => match &self.credentials {
                Some(credentials) => basic(credentials),
                None => return Ok(false),
            },
        };
        if current.as_ref() == Some(&value) {
            return Ok(false);
        }
        *current = Some(value);
        Ok(true)
    }

    /// A token for the repository from `realm` (scope `pull`, or
    /// `pull,push` for a client made for writing), with the credentials
    /// when [`may_send_credentials`] allows (and an error when it does not:
    /// a token asked for without them would hide why the pull then fails).
    async fn token(
        &self,
        shown: &str,
        realm: &str,
        service: Option<&str>,
    ) -> Result<HeaderValue, RegistryError> {
        let refused = |reason: String| RegistryError::Token {
            reference: shown.to_string(),
            realm: realm.to_string(),
            reason,
        };
        let mut url = Url::parse(realm).map_err(|e| refused(format!("is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused("is not an http(s) URL".into()));
        }
        let actions = match self.access {
            Access::Pull => "pull",
            Access::PullPush => "pull,push",
        };
        url.query_pairs_mut().append_pair(
            "scope",
            &format!("repository:{}:{actions}", self.repository),
        );
        if let Some(service) = service {
            url.query_pairs_mut().append_pair("service", service);
        }
        let mut request = self.http.get(url.clone());
        if let Some(credentials) = &self.credentials {
            if !may_send_credentials(&self.base, &url) {
                return Err(RegistryError::CredentialsWithheld {
                    reference: shown.to_string(),
                    registry: self.registry.clone(),
                    realm: realm.to_string(),
                });
            }
            request = request.header(AUTHORIZATION, basic(credentials));
        }
        let response = request
            .send()
            .await
            .map_err(|source| RegistryError::Request {
                reference: shown.to_string(),
                source,
            })?;
        if response.status() != StatusCode::OK {
            return Err(refusal(shown, response).await);
        }
        let body = http::read_capped(response, "token", MAX_TOKEN_BYTES)
            .await
            .map_err(|source| RegistryError::Body {
                reference: shown.to_string(),
                source,
            })?;
        let reply: TokenReply = serde_json::from_slice(&body)
            .map_err(|e| refused(format!("answered no token JSON ({e})")))?;
        let token = reply
            .token
            .or(reply.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| refused("answered without a token".into()))?;
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| refused("answered a token that is not a header value".into()))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// A blob body being read under the low-speed limit ([`LowSpeed`]): a
/// download below it is abandoned, and retried from the byte it reached.
pub struct BlobBody {
    response: Response,
    shown: String,
    digest: Digest,
    speed: LowSpeed,
}

impl BlobBody {
    /// The next chunk, `None` at the end of the body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, RegistryError> {
        let next = loop {
            let waited = self.speed.wait(self.response.chunk()).await;
            if let Some(next) = waited.map_err(|e| self.too_slow(e))? {
                break next;
            }
        };
        match next {
            Ok(Some(chunk)) => {
                self.speed
                    .received(chunk.len())
                    .map_err(|e| self.too_slow(e))?;
                Ok(Some(chunk))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(RegistryError::Stream {
                reference: self.shown.clone(),
                digest: self.digest.clone(),
                source: std::io::Error::other(e),
            }),
        }
    }

    fn too_slow(&self, _: BelowLowSpeed) -> RegistryError {
        RegistryError::TooSlow {
            reference: self.shown.clone(),
            digest: self.digest.clone(),
            min_bytes: LOW_SPEED_BYTES,
            window: LOW_SPEED_WINDOW,
        }
    }
}

/// Refuses `bytes` over `max` before anything is sent.
fn check_push_size(shown: &str, what: &str, bytes: &[u8], max: u64) -> Result<(), RegistryError> {
    let size = bytes.len() as u64;
    if size > max {
        return Err(RegistryError::TooLarge {
            reference: shown.to_string(),
            what: what.to_string(),
            size,
            max,
        });
    }
    Ok(())
}

/// Refuses a manifest target that is neither a tag nor a digest, before it
/// becomes part of a URL.
fn check_target(shown: &str, target: &str) -> Result<(), RegistryError> {
    if target.contains(':') {
        Digest::parse(target).map(drop).map_err(|e| e.to_string())
    } else {
        validate_tag(target)
    }
    .map_err(|reason| RegistryError::BadUrl {
        reference: shown.to_string(),
        reason,
    })
}

/// Checks the registry's `Docker-Content-Digest` for what it stored, when
/// it sends one, against the digest of what was sent.
fn check_stored_digest(
    shown: &str,
    headers: &HeaderMap,
    sent: &Digest,
) -> Result<(), RegistryError> {
    let Some(value) = headers.get(DOCKER_CONTENT_DIGEST) else {
        return Ok(());
    };
    let stored = String::from_utf8_lossy(value.as_bytes()).trim().to_string();
    if Digest::parse(&stored).is_ok_and(|d| &d == sent) {
        return Ok(());
    }
    Err(RegistryError::StoredOtherDigest {
        reference: shown.to_string(),
        sent: sent.clone(),
        stored: http::one_line(&stored, 100),
    })
}

/// The target of the first `Link` header entry with `rel="next"`
/// (RFC 8288: `<target>; rel="next"`, entries separated by commas).
fn next_link(headers: &HeaderMap) -> Option<String> {
    for value in headers.get_all(LINK) {
        let Ok(mut rest) = value.to_str() else {
            continue;
        };
        while let Some(open) = rest.find('<') {
            let Some((target, after)) = rest[open + 1..].split_once('>') else {
                break;
            };
            let (params, next) = after
                .split_once('<')
                .map_or((after, ""), |(p, _)| (p, &after[p.len()..]));
            let is_next = params.split(';').any(|param| {
                param.split_once('=').is_some_and(|(name, value)| {
                    name.trim().eq_ignore_ascii_case("rel")
                        && value
                            .trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|rel| rel.eq_ignore_ascii_case("next"))
                })
            });
            if is_next {
                return Some(target.to_string());
            }
            rest = next;
        }
    }
    None
}

/// Runs `work` within [`DEADLINE`].
async fn within_deadline<T>(
    shown: &str,
    url: &Url,
    work: impl std::future::Future<Output = Result<T, RegistryError>>,
) -> Result<T, RegistryError> {
    tokio::time::timeout(DEADLINE, work)
        .await
        .unwrap_or_else(|_| {
            Err(RegistryError::Deadline {
                reference: shown.to_string(),
                url: url.to_string(),
                deadline: DEADLINE,
            })
        })
}

/// The error a non-success answer means; its body is read (at most
/// [`MAX_ERROR_BODY`]) only for the message and the registry's error codes.
async fn refusal(shown: &str, response: Response) -> RegistryError {
    let reference = shown.to_string();
    let status = response.status();
    let url = response.url().to_string();
    let retry_after = retry_after(response.headers());
    let body = http::read_capped(response, "error body", MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let codes: Vec<String> = serde_json::from_slice::<Envelope>(&body)
        .map(|e| e.errors.into_iter().map(|e| e.code).collect())
        .unwrap_or_default();
    let has = |names: &[&str]| codes.iter().any(|c| names.contains(&c.as_str()));
    let client_error = status.is_client_error();
    if status == StatusCode::NOT_FOUND
        || (client_error
            && has(&[
                "MANIFEST_UNKNOWN",
                "NAME_UNKNOWN",
                "BLOB_UNKNOWN",
                "NOT_FOUND",
            ]))
    {
        return RegistryError::NotFound { reference };
    }
    if status == StatusCode::UNAUTHORIZED || (client_error && has(&["UNAUTHORIZED", "DENIED"])) {
        return RegistryError::Unauthorized { reference };
    }
    let throttled = status == StatusCode::TOO_MANY_REQUESTS || has(&["TOOMANYREQUESTS"]);
    RegistryError::Status {
        reference,
        url,
        code: status.as_u16(),
        message: http::one_line(&String::from_utf8_lossy(&body), 512),
        transient: throttled || status.is_server_error(),
        retry_after,
    }
}

/// `Retry-After` in seconds, at most [`MAX_RETRY_AFTER`] (the date form is
/// not read: the backoff applies then).
fn retry_after(headers: &HeaderMap) -> Option<u16> {
    let seconds: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(u16::try_from(seconds).map_or(MAX_RETRY_AFTER, |s| s.min(MAX_RETRY_AFTER)))
}

/// The challenge to answer among a response's `WWW-Authenticate` headers:
/// the first Bearer one with a realm, else Basic.
fn challenge(headers: &HeaderMap) -> Option<Challenge> {
    let mut basic = false;
    for value in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(text) = value.to_str() else { continue };
        let Ok(challenges) = http_auth::parse_challenges(text) else {
            continue;
        };
        for c in challenges {
            if c.scheme.eq_ignore_ascii_case("bearer") {
                let param = |name: &str| {
                    c.params
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.to_unescaped())
                };
                if let Some(realm) = param("realm") {
                    return Some(Challenge::Bearer {
                        realm,
                        service: param("service"),
                    });
                }
            } else if c.scheme.eq_ignore_ascii_case("basic") {
                basic = true;
            }
        }
    }
    basic.then_some(Challenge::Basic)
}

/// `Basic base64(user:password)`, marked sensitive.
fn basic(credentials: &Credentials) -> HeaderValue {
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", credentials.username, credentials.password));
    // Base64 is always a valid header value.
    let mut value = HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"));
    value.set_sensitive(true);
    value
}

fn accept_value() -> HeaderValue {
    HeaderValue::from_str(&ACCEPTED_MANIFEST_TYPES.join(", "))
        .unwrap_or_else(|_| HeaderValue::from_static("*/*"))
}

/// Same scheme, host and port.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn credentials_go_to_https_realms_and_the_plain_http_registrys_own_host() {
        let hub = url("https://registry-1.docker.io/");
        let local = url("http://127.0.0.1:5000/");
        let insecure = url("http://registry.lan:5000/");
        let cases = [
            // Over HTTPS, any realm host (Docker Hub's is auth.docker.io).
            (&hub, "https://auth.docker.io/token", true),
            (&local, "https://auth.example.com/token", true),
            // Never HTTPS down to HTTP, not even on the same host.
            (&hub, "http://registry-1.docker.io/token", false),
            (&hub, "http://auth.docker.io/token", false),
            // A plain-HTTP registry's own host, on any port.
            (&local, "http://127.0.0.1:5000/token", true),
            (&local, "http://127.0.0.1:5001/token", true),
            (&insecure, "http://registry.lan:5001/token", true),
            // Another host over plain HTTP: never, loopback or not.
            (&local, "http://127.0.0.2:5000/token", false),
            (&local, "http://localhost:5000/token", false),
            (&insecure, "http://auth.lan/token", false),
            (&insecure, "http://127.0.0.1/token", false),
            (&hub, "http://127.0.0.1:8080/token", false),
            // Nothing but http(s).
            (&local, "ftp://127.0.0.1/token", false),
        ];
        for (registry, realm, expected) in cases {
            assert_eq!(
                may_send_credentials(registry, &url(realm)),
                expected,
                "{registry} -> {realm}"
            );
        }
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(WWW_AUTHENTICATE, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn reads_bearer_and_basic_challenges() {
        assert_eq!(
            challenge(&headers(&[
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#
            ])),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
            })
        );
        assert_eq!(
            challenge(&headers(&[r#"Basic realm="registry""#])),
            Some(Challenge::Basic)
        );
        assert_eq!(
            challenge(&headers(&[
                r#"Basic realm="x""#,
                r#"Bearer realm="https://a/t""#
            ])),
            Some(Challenge::Bearer {
                realm: "https://a/t".into(),
                service: None
            })
        );
        assert_eq!(challenge(&headers(&["Bearer service=\"x\""])), None);
        assert_eq!(challenge(&headers(&["Negotiate"])), None);
    }

    #[test]
    fn finds_the_next_page_among_link_headers() {
        let next = |values: &[&str]| {
            let mut map = HeaderMap::new();
            for v in values {
                map.append(LINK, HeaderValue::from_str(v).unwrap());
            }
            next_link(&map)
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            next(&[r#"</v2/a/tags/list?n=2&last=b>; rel="next""#]),
            some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(
            next(&[r#"<https://r/prev>; rel="prev", </b>; rel="next""#]),
            some("/b")
        );
        assert_eq!(
            next(&[r#"<https://r/p>; rel="prev""#, "</c>; rel=next"]),
            some("/c")
        );
        assert_eq!(
            next(&[r#"</d,e>; title="x"; REL="last next""#]),
            some("/d,e")
        );
        assert_eq!(next(&[r#"</f>; rel="prev""#, "no link", "<unclosed"]), None);
    }

    #[test]
    fn retry_after_is_read_in_seconds_and_bounded() {
        let with = |v: &str| {
            let mut map = HeaderMap::new();
            map.insert(RETRY_AFTER, HeaderValue::from_str(v).unwrap());
            retry_after(&map)
        };
        assert_eq!(with("3"), Some(3));
        assert_eq!(with("86400"), Some(MAX_RETRY_AFTER));
        assert_eq!(with("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
