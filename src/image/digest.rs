//! Content digests and verified byte streams.
//!
//! Every byte the image side hands to a later stage passes through
//! [`VerifyingReader`] (or [`verify_bytes`]): the stream fails as soon as it
//! exceeds the descriptor's size, and at its end unless size and sha256 match.
//! Nothing downstream can observe the end of an unverified blob.

use std::fmt;
use std::io::{self, Read};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// A `sha256:<64 lowercase hex>` content digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

/// Why a string is not a digest we accept.
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("unsupported digest algorithm in {0:?} (only sha256 is supported)")]
    Algorithm(String),
    #[error("malformed digest {0:?}: expected sha256: followed by 64 lowercase hex digits")]
    Malformed(String),
}

impl Digest {
    /// Parses `sha256:<hex>`.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let Some((algorithm, hex)) = s.split_once(':') else {
            return Err(DigestError::Malformed(s.to_string()));
        };
        if algorithm != "sha256" {
            if algorithm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+._-".contains(c))
                && !algorithm.is_empty()
            {
                return Err(DigestError::Algorithm(s.to_string()));
            }
            return Err(DigestError::Malformed(s.to_string()));
        }
        Self::from_hex(hex).ok_or_else(|| DigestError::Malformed(s.to_string()))
    }

    /// A digest from 64 lowercase hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        (hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then(
            || Self {
                hex: hex.to_string(),
            },
        )
    }

    /// The sha256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    /// The digest a finished hasher computed.
    pub fn from_hasher(hasher: Sha256) -> Self {
        Self {
            hex: hex::encode(hasher.finalize()),
        }
    }

    /// The 64 hex digits, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A blob whose bytes did not match what its descriptor promised.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BlobMismatch {
    #[error("blob {expected} failed verification: its content hashes to {actual}")]
    Digest { expected: Digest, actual: Digest },
    #[error("blob {digest} failed verification: expected {expected} bytes, got {actual}")]
    Size {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
    #[error(
        "blob {digest} failed verification: more than the {expected} bytes its descriptor declares"
    )]
    TooLong { digest: Digest, expected: u64 },
}

impl From<BlobMismatch> for io::Error {
    fn from(e: BlobMismatch) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, e)
    }
}

/// Finds a [`BlobMismatch`] inside an I/O error produced by a [`VerifyingReader`].
pub fn blob_mismatch(e: &io::Error) -> Option<&BlobMismatch> {
    e.get_ref().and_then(|inner| inner.downcast_ref())
}

/// Checks a whole in-memory blob against its digest and size.
pub fn verify_bytes(bytes: &[u8], digest: &Digest, size: Option<u64>) -> Result<(), BlobMismatch> {
    if let Some(expected) = size {
        if bytes.len() as u64 != expected {
            return Err(BlobMismatch::Size {
                digest: digest.clone(),
                expected,
                actual: bytes.len() as u64,
            });
        }
    }
    let actual = Digest::of(bytes);
    if &actual != digest {
        return Err(BlobMismatch::Digest {
            expected: digest.clone(),
            actual,
        });
    }
    Ok(())
}

/// Wraps a reader and fails it unless exactly `size` bytes hashing to `digest` come out.
///
/// Reading past the declared size fails immediately; a short stream or a
/// wrong hash fails at end of stream, before the final `Ok(0)` is returned.
pub struct VerifyingReader<R> {
    inner: R,
    digest: Digest,
    size: Option<u64>,
    read: u64,
    hasher: Sha256,
    done: bool,
}

impl<R: Read> VerifyingReader<R> {
    /// Verifies `inner` against `digest` and, when known, `size`.
    pub fn new(inner: R, digest: Digest, size: Option<u64>) -> Self {
        Self {
            inner,
            digest,
            size,
            read: 0,
            hasher: Sha256::new(),
            done: false,
        }
    }

    fn finish(&mut self) -> Result<(), BlobMismatch> {
        if let Some(expected) = self.size {
            if self.read != expected {
                return Err(BlobMismatch::Size {
                    digest: self.digest.clone(),
                    expected,
                    actual: self.read,
                });
            }
        }
        let actual = Digest::from_hasher(std::mem::take(&mut self.hasher));
        if actual != self.digest {
            return Err(BlobMismatch::Digest {
                expected: self.digest.clone(),
                actual,
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.finish()?;
            self.done = true;
            return Ok(0);
        }
        self.read += n as u64;
        if let Some(expected) = self.size {
            if self.read > expected {
                return Err(BlobMismatch::TooLong {
                    digest: self.digest.clone(),
                    expected,
                }
                .into());
            }
        }
        sha2::Digest::update(&mut self.hasher, &buf[..n]);
        Ok(n)
    }
}

/// Hashes a whole stream, returning its digest and length.
pub fn hash_reader(mut reader: impl Read) -> io::Result<(Digest, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok((Digest::from_hasher(hasher), total)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        sha2::Digest::update(&mut hasher, &buf[..n]);
        total += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_matching_stream() {
        let data = b"hello world";
        let d = Digest::of(data);
        let mut out = Vec::new();
        VerifyingReader::new(&data[..], d, Some(11))
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn rejects_wrong_hash_at_end_of_stream() {
        let d = Digest::of(b"other");
        let err = VerifyingReader::new(&b"hello"[..], d.clone(), Some(5))
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        match blob_mismatch(&err) {
            Some(BlobMismatch::Digest { expected, actual }) => {
                assert_eq!(expected, &d);
                assert_eq!(actual, &Digest::of(b"hello"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rejects_stream_longer_than_declared() {
        let d = Digest::of(b"hello");
        let err = VerifyingReader::new(&b"hello"[..], d, Some(3))
            .read_to_end(&mut Vec::new())
            .unwrap_err();
        assert!(matches!(
            blob_mismatch(&err),
            Some(BlobMismatch::TooLong { .. })
        ));
    }

    #[test]
    fn parses_only_sha256() {
        assert!(Digest::parse(&format!("sha256:{}", "a".repeat(64))).is_ok());
        assert!(matches!(
            Digest::parse(&format!("sha512:{}", "a".repeat(128))),
            Err(DigestError::Algorithm(_))
        ));
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_err());
        assert!(Digest::parse("sha256:abc").is_err());
    }
}
