//! The registry's HTTP API, as much of the distribution spec as a pull
//! needs: manifests by tag or digest and blobs from an offset. A request
//! the registry answers with a challenge (`WWW-Authenticate: Bearer …` or
//! `Basic …`) is authenticated and sent again once; credentials go only
//! where [`may_send_credentials`] allows. Every body is bounded, every
//! small request has a deadline and a blob body a low-speed limit, and
//! every failure becomes a [`RegistryError`] that says whether a retry may
//! help.

use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, RANGE, RETRY_AFTER, WWW_AUTHENTICATE,
};
use reqwest::{Response, StatusCode, Url};
use serde::Deserialize;

use super::auth::Credentials;
use super::digest::Digest;
use super::error::RegistryError;
use super::http::{self, BodyError, MAX_ERROR_BODY};
use super::manifest::{ACCEPTED_MANIFEST_TYPES, MAX_MANIFEST_BYTES};
use super::reference::{Reference, DOCKER_HUB};

/// The most time a request with a small answer (a manifest, a token, an
/// error) may take in all, and a blob request until its body starts.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// The most time a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest token response read.
pub const MAX_TOKEN_BYTES: u64 = 1024 * 1024;
/// The longest `Retry-After` honoured, in seconds.
pub const MAX_RETRY_AFTER: u16 = 60;
/// The low-speed limit: a blob download that brings fewer than
/// [`LOW_SPEED_BYTES`] in [`LOW_SPEED_WINDOW`] of waiting for the network
/// (1 KiB/s) is abandoned, and retried from the byte it reached.
pub const LOW_SPEED_WINDOW: Duration = Duration::from_secs(10);
/// See [`LOW_SPEED_WINDOW`].
pub const LOW_SPEED_BYTES: u64 = 10 * 1024;

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

/// A client for one repository of one registry.
pub struct Client {
    http: reqwest::Client,
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
    /// `plain_http`, with `credentials` for its registry if any.
    pub fn new(
        reference: &Reference,
        plain_http: bool,
        credentials: Option<Credentials>,
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
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(http::redirect_policy())
            .user_agent(concat!("rebuild-compare/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(RegistryError::Client)?;
        Ok(Self {
            http,
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
            let response = self.get(shown, &url, headers).await?;
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
            let response = self.get(shown, &url, headers).await?;
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
                    waited: Duration::ZERO,
                    bytes: 0,
                },
            })
        };
        within_deadline(shown, &url, work).await
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

    /// GETs `url` with `headers` and the current authorization; a 401 from
    /// the registry itself with a challenge this client can answer is
    /// answered and the request sent once more.
    async fn get(
        &self,
        shown: &str,
        url: &Url,
        headers: HeaderMap,
    ) -> Result<Response, RegistryError> {
        let mut answered = false;
        loop {
            let sent = self.authorization.lock().await.clone();
            let mut request = self.http.get(url.clone()).headers(headers.clone());
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

    /// A pull token for the repository from `realm`, with the credentials
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
        url.query_pairs_mut()
            .append_pair("scope", &format!("repository:{}:pull", self.repository));
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

/// A blob body being read under the low-speed limit: only the time spent
/// waiting for the network counts, not the time the reader takes.
pub struct BlobBody {
    response: Response,
    shown: String,
    digest: Digest,
    /// Time waited for the network in the current window.
    waited: Duration,
    /// Bytes received in the current window.
    bytes: u64,
}

impl BlobBody {
    /// The next chunk, `None` at the end of the body.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, RegistryError> {
        loop {
            let left = LOW_SPEED_WINDOW.saturating_sub(self.waited);
            let started = Instant::now();
            let next = tokio::time::timeout(left, self.response.chunk()).await;
            self.waited += started.elapsed();
            match next {
                Ok(Ok(Some(chunk))) => {
                    self.bytes += chunk.len() as u64;
                    self.end_window()?;
                    return Ok(Some(chunk));
                }
                Ok(Ok(None)) => return Ok(None),
                Ok(Err(e)) => {
                    return Err(RegistryError::Stream {
                        reference: self.shown.clone(),
                        digest: self.digest.clone(),
                        source: std::io::Error::other(e),
                    })
                }
                // The window is over without a chunk.
                Err(_) => {
                    self.waited = self.waited.max(LOW_SPEED_WINDOW);
                    self.end_window()?;
                }
            }
        }
    }

    /// At the end of a window, checks its bytes and starts the next one.
    fn end_window(&mut self) -> Result<(), RegistryError> {
        if self.waited < LOW_SPEED_WINDOW {
            return Ok(());
        }
        if self.bytes < LOW_SPEED_BYTES {
            return Err(RegistryError::TooSlow {
                reference: self.shown.clone(),
                digest: self.digest.clone(),
                min_bytes: LOW_SPEED_BYTES,
                window: LOW_SPEED_WINDOW,
            });
        }
        self.waited = Duration::ZERO;
        self.bytes = 0;
        Ok(())
    }
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
