//! HTTP hygiene for everything read from the network: response bodies read
//! with a hard cap (refused on `Content-Length` before a byte is read) and,
//! when read as they arrive, a low-speed limit, redirects that never go
//! from HTTPS down to plain HTTP, and which hosts are loopback (the only
//! ones plain HTTP is allowed to by default).

use std::future::Future;
use std::io::Read;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use reqwest::Url;

/// The most bytes of an error response kept, for its message.
pub const MAX_ERROR_BODY: u64 = 64 * 1024;
/// The low-speed limit: a body that brings fewer than [`LOW_SPEED_BYTES`]
/// in [`LOW_SPEED_WINDOW`] of waiting for the network (1 KiB/s) and has not
/// ended is abandoned, so that a server trickling a small document cannot
/// hold a request until its deadline.
pub const LOW_SPEED_WINDOW: Duration = Duration::from_secs(10);
/// See [`LOW_SPEED_WINDOW`].
pub const LOW_SPEED_BYTES: u64 = 10 * 1024;
/// The most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// A response body that could not be read within its limit.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the {what} at {url} declares {declared} bytes (Content-Length), over the {limit}-byte limit")]
    Declared {
        what: &'static str,
        url: String,
        declared: u64,
        limit: u64,
    },
    #[error("the {what} at {url} is over the {limit}-byte limit")]
    Exceeded {
        what: &'static str,
        url: String,
        limit: u64,
    },
    #[error("the {what} at {url}: fewer than {min_bytes} bytes arrived in {}s of waiting; the server is stalled or too slow", window.as_secs())]
    TooSlow {
        what: &'static str,
        url: String,
        min_bytes: u64,
        window: Duration,
    },
    #[error("cannot read the {what} at {url}: {source}")]
    Read {
        what: &'static str,
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A body being gathered under a limit.
struct Capped {
    what: &'static str,
    url: String,
    limit: u64,
    bytes: Vec<u8>,
}

impl Capped {
    /// Refuses a body whose declared length is already over `limit`.
    fn new(
        what: &'static str,
        url: &Url,
        limit: u64,
        declared: Option<u64>,
    ) -> Result<Self, BodyError> {
        if let Some(declared) = declared.filter(|&n| n > limit) {
            return Err(BodyError::Declared {
                what,
                url: url.to_string(),
                declared,
                limit,
            });
        }
        let capacity = declared.unwrap_or(0).min(limit);
        Ok(Self {
            what,
            url: url.to_string(),
            limit,
            bytes: Vec::with_capacity(usize::try_from(capacity).unwrap_or(0)),
        })
    }

    fn push(&mut self, chunk: &[u8]) -> Result<(), BodyError> {
        if self.bytes.len() as u64 + chunk.len() as u64 > self.limit {
            return Err(BodyError::Exceeded {
                what: self.what,
                url: self.url.clone(),
                limit: self.limit,
            });
        }
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }

    fn read_error(&self, source: impl std::error::Error + Send + Sync + 'static) -> BodyError {
        BodyError::Read {
            what: self.what,
            url: self.url.clone(),
            source: Box::new(source),
        }
    }

    fn too_slow(&self, _: BelowLowSpeed) -> BodyError {
        BodyError::TooSlow {
            what: self.what,
            url: self.url.clone(),
            min_bytes: LOW_SPEED_BYTES,
            window: LOW_SPEED_WINDOW,
        }
    }
}

/// A body fell below the low-speed limit ([`LOW_SPEED_WINDOW`]).
#[derive(Debug)]
pub struct BelowLowSpeed;

/// The low-speed limit kept over one body: the body is read in windows of
/// [`LOW_SPEED_WINDOW`] spent waiting for the network (not the time its
/// reader takes), each of which must bring [`LOW_SPEED_BYTES`] unless the
/// body ends in it.
#[derive(Debug, Default)]
pub struct LowSpeed {
    /// Time waited for the network in the current window.
    waited: Duration,
    /// Bytes received in the current window.
    bytes: u64,
}

impl LowSpeed {
    /// What `next` gives (the next chunk of the body, its end or an
    /// error), waited for within what is left of the window; `None` when
    /// the window ended first with enough bytes: ask again.
    pub async fn wait<T>(
        &mut self,
        next: impl Future<Output = T>,
    ) -> Result<Option<T>, BelowLowSpeed> {
        let left = LOW_SPEED_WINDOW.saturating_sub(self.waited);
        let started = Instant::now();
        let answer = tokio::time::timeout(left, next).await;
        self.waited += started.elapsed();
        match answer {
            Ok(answer) => Ok(Some(answer)),
            Err(_) => {
                self.waited = self.waited.max(LOW_SPEED_WINDOW);
                self.end_window().map(|()| None)
            }
        }
    }

    /// Counts `bytes` received in the current window.
    pub fn received(&mut self, bytes: usize) -> Result<(), BelowLowSpeed> {
        self.bytes += bytes as u64;
        self.end_window()
    }

    /// At the end of a window, checks its bytes and starts the next one.
    fn end_window(&mut self) -> Result<(), BelowLowSpeed> {
        if self.waited < LOW_SPEED_WINDOW {
            return Ok(());
        }
        if self.bytes < LOW_SPEED_BYTES {
            return Err(BelowLowSpeed);
        }
        self.waited = Duration::ZERO;
        self.bytes = 0;
        Ok(())
    }
}

/// Reads a whole body of at most `limit` bytes under the low-speed limit;
/// `what` names it in errors.
pub async fn read_capped(
    mut response: reqwest::Response,
    what: &'static str,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    let mut body = Capped::new(what, response.url(), limit, response.content_length())?;
    let mut speed = LowSpeed::default();
    loop {
        let Some(next) = speed
            .wait(response.chunk())
            .await
            .map_err(|e| body.too_slow(e))?
        else {
            continue;
        };
        match next {
            Ok(Some(chunk)) => {
                body.push(&chunk)?;
                speed.received(chunk.len()).map_err(|e| body.too_slow(e))?;
            }
            Ok(None) => return Ok(body.bytes),
            Err(e) => return Err(body.read_error(e)),
        }
    }
}

/// [`read_capped`] for a blocking response.
pub fn read_capped_blocking(
    mut response: reqwest::blocking::Response,
    what: &'static str,
    limit: u64,
) -> Result<Vec<u8>, BodyError> {
    let url = response.url().clone();
    let mut body = Capped::new(what, &url, limit, response.content_length())?;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match response.read(&mut buf) {
            Ok(0) => return Ok(body.bytes),
            Ok(n) => body.push(&buf[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(body.read_error(e)),
        }
    }
}

/// `text` with control characters as spaces, trimmed, at most `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let clean: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match clean.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &clean[..at]),
        None => clean,
    }
}

/// Redirects as a registry or download client follows them: at most
/// [`MAX_REDIRECTS`], never from HTTPS down to plain HTTP. (reqwest itself
/// drops `Authorization` on any redirect to another scheme, host or port.)
pub fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else if is_downgrade(attempt.previous(), attempt.url()) {
            let refused = format!(
                "refusing a redirect from HTTPS to plain HTTP ({})",
                attempt.url()
            );
            attempt.error(refused)
        } else {
            attempt.follow()
        }
    })
}

/// Whether going to `next` after `previous` leaves HTTPS.
pub fn is_downgrade(previous: &[Url], next: &Url) -> bool {
    next.scheme() != "https" && previous.iter().any(|url| url.scheme() == "https")
}

/// Whether a host (`name`, `name:port`, `[v6]:port`) is on this machine:
/// `localhost`, 127.0.0.0/8 or ::1, where plain HTTP does not leave it.
pub fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        }),
    };
    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn loopback_hosts_are_localhost_127_and_v6_one() {
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

    #[test]
    fn a_declared_length_over_the_limit_is_refused_before_reading() {
        let err = Capped::new("manifest", &url("http://r/m"), 10, Some(11))
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "the manifest at http://r/m declares 11 bytes (Content-Length), over the 10-byte limit"
        );
    }

    #[test]
    fn a_body_is_cut_at_the_limit_whatever_it_declared() {
        let mut body = Capped::new("token", &url("http://r/t"), 10, None).unwrap();
        body.push(b"0123456789").unwrap();
        let err = body.push(b"x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the token at http://r/t is over the 10-byte limit"
        );
        assert_eq!(body.bytes, b"0123456789");
    }

    #[test]
    fn a_window_of_waiting_must_bring_the_low_speed_bytes() {
        let mut trickled = LowSpeed {
            waited: LOW_SPEED_WINDOW,
            bytes: 0,
        };
        assert!(trickled.received(10).is_err());

        let mut fast = LowSpeed {
            waited: LOW_SPEED_WINDOW - Duration::from_millis(1),
            bytes: 0,
        };
        fast.received(1).unwrap();
        fast.waited = LOW_SPEED_WINDOW;
        fast.received(LOW_SPEED_BYTES as usize).unwrap();
        // A new window starts.
        assert_eq!((fast.waited, fast.bytes), (Duration::ZERO, 0));
    }

    #[test]
    fn https_to_http_is_a_downgrade_at_any_hop() {
        let https = url("https://a/x");
        let http = url("http://b/y");
        assert!(is_downgrade(std::slice::from_ref(&https), &http));
        assert!(is_downgrade(&[https.clone(), url("https://c/")], &http));
        assert!(!is_downgrade(
            std::slice::from_ref(&http),
            &url("http://c/")
        ));
        assert!(!is_downgrade(std::slice::from_ref(&http), &https));
    }

    #[test]
    fn error_bodies_become_one_short_line() {
        assert_eq!(one_line(" a\nb\x1b[31m \n", 100), "a b [31m");
        assert_eq!(one_line("abcdef", 3), "abc…");
    }
}
