//! Maintainers' published checksums, the seed's chain of trust: fetches a
//! `SHA256SUMS`-style file (or a file holding one digest) over HTTPS (plain
//! HTTP only for loopback hosts; never redirected from HTTPS to HTTP; at
//! most 1 MiB, within 60 s) and finds the digest of one artifact, so the
//! image binary and the rebuild can be checked against it.

use std::time::Duration;

use crate::image::digest::Digest;
use crate::image::http::{is_loopback, read_capped_blocking, redirect_policy, BodyError};

/// The most bytes a checksum file may have.
const MAX_CHECKSUM_FILE: u64 = 1024 * 1024;

/// Why the published checksum could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    #[error("refusing to fetch published checksums over plain HTTP from {url}: use https (plain HTTP is allowed for loopback hosts only)")]
    Insecure { url: String },
    #[error("invalid checksum URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("cannot fetch published checksums from {url}: {reason}")]
    Fetch { url: String, reason: String },
    #[error("{0}")]
    TooLarge(BodyError),
    #[error("{url} lists no sha256 for {entry:?}")]
    NoEntry { url: String, entry: String },
    #[error("{url} does not hold a sha256 digest")]
    NoDigest { url: String },
}

/// Where a published digest comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChecksumSource {
    /// A `SHA256SUMS`-style file and the file name to look up in it.
    Sums { url: String, entry: String },
    /// A file holding one digest.
    Single { url: String },
}

impl ChecksumSource {
    /// The URL fetched.
    pub fn url(&self) -> &str {
        match self {
            Self::Sums { url, .. } | Self::Single { url } => url,
        }
    }
}

/// Fetches the checksum file and returns the published digest.
pub fn fetch(source: &ChecksumSource) -> Result<Digest, PublishedError> {
    let url = source.url();
    let text = fetch_text(url)?;
    match source {
        ChecksumSource::Sums { entry, .. } => {
            find_in_sums(&text, entry).ok_or_else(|| PublishedError::NoEntry {
                url: url.to_string(),
                entry: entry.clone(),
            })
        }
        ChecksumSource::Single { .. } => {
            single_digest(&text).ok_or_else(|| PublishedError::NoDigest {
                url: url.to_string(),
            })
        }
    }
}

fn fetch_text(url: &str) -> Result<String, PublishedError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| PublishedError::BadUrl {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    match parsed.scheme() {
        "https" => {}
        "http" => {
            let host = parsed.host_str().unwrap_or_default();
            if !is_loopback(host) {
                return Err(PublishedError::Insecure {
                    url: url.to_string(),
                });
            }
        }
        other => {
            return Err(PublishedError::BadUrl {
                url: url.to_string(),
                reason: format!("unsupported scheme {other}"),
            })
        }
    }
    let fetch_err = |reason: String| PublishedError::Fetch {
        url: url.to_string(),
        reason,
    };
    // The URL is in the error's own message; the cause (refused, timed
    // out, a certificate) is in its sources.
    let request_err = |e: reqwest::Error| fetch_err(crate::error_chain(&e.without_url()));
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(redirect_policy())
        .build()
        .map_err(request_err)?;
    let response = client.get(parsed).send().map_err(request_err)?;
    if !response.status().is_success() {
        return Err(fetch_err(format!("HTTP {}", response.status())));
    }
    let body = match read_capped_blocking(response, "checksum file", MAX_CHECKSUM_FILE) {
        Ok(body) => body,
        Err(e @ BodyError::Read { .. }) => return Err(fetch_err(e.to_string())),
        Err(e) => return Err(PublishedError::TooLarge(e)),
    };
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// Finds `entry` in `sha256sum` output (`<hex>  name`, `<hex> *name`) or BSD
/// style (`SHA256 (name) = <hex>`). A listed path matches on its file name too.
pub fn find_in_sums(text: &str, entry: &str) -> Option<Digest> {
    let matches = |name: &str| name == entry || name.rsplit('/').next() == Some(entry);
    text.lines().find_map(|line| {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("SHA256 (") {
            let (name, hex) = rest.split_once(") = ")?;
            return matches(name).then(|| Digest::from_hex(&hex.trim().to_ascii_lowercase()))?;
        }
        let (hex, name) = line.split_once(char::is_whitespace)?;
        let name = name.trim_start().trim_start_matches('*');
        matches(name).then(|| Digest::from_hex(&hex.to_ascii_lowercase()))?
    })
}

/// The digest in a file holding one (`<hex>`, `<hex>  name` or `sha256:<hex>`).
pub fn single_digest(text: &str) -> Option<Digest> {
    let token = text.split_whitespace().next()?;
    let hex = token.strip_prefix("sha256:").unwrap_or(token);
    Digest::from_hex(&hex.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn finds_entries_in_both_sum_styles() {
        let gnu = format!("{A}  crictl-linux-amd64.tar.gz\n{B} *bin/linux/arm64/crictl\n");
        assert_eq!(
            find_in_sums(&gnu, "crictl-linux-amd64.tar.gz")
                .unwrap()
                .hex(),
            A
        );
        assert_eq!(find_in_sums(&gnu, "crictl").unwrap().hex(), B);
        assert!(find_in_sums(&gnu, "kubectl").is_none());
        let bsd = format!("SHA256 (kubectl) = {}\n", B.to_uppercase());
        assert_eq!(find_in_sums(&bsd, "kubectl").unwrap().hex(), B);
    }

    #[test]
    fn reads_single_digest_files() {
        assert_eq!(single_digest(&format!("{A}\n")).unwrap().hex(), A);
        assert_eq!(
            single_digest(&format!("sha256:{A}  kubectl"))
                .unwrap()
                .hex(),
            A
        );
        assert!(single_digest("not a digest").is_none());
    }

    #[test]
    fn refuses_plain_http_off_loopback() {
        let err = fetch(&ChecksumSource::Single {
            url: "http://example.com/kubectl.sha256".into(),
        })
        .unwrap_err();
        assert!(matches!(err, PublishedError::Insecure { .. }));
    }
}
