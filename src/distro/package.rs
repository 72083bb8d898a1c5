//! The package types every part of `distro` shares: which manager's
//! database names a file, the package it names, and the digest it records.
//!
//! Threat model: plain data; the values come from untrusted databases and
//! say only what those databases claim.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The package manager whose database owns a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageManager {
    /// Debian and its derivatives: `/var/lib/dpkg`.
    Dpkg,
    /// Alpine: `/lib/apk/db/installed`.
    Apk,
    /// Fedora, RHEL and their kin: `/var/lib/rpm`.
    Rpm,
}

impl std::fmt::Display for PackageManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Dpkg => "dpkg",
            Self::Apk => "apk",
            Self::Rpm => "rpm",
        })
    }
}

/// A binary package as a package database names it (the report's
/// `package` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub manager: PackageManager,
    /// The binary package's name (`hello`).
    pub name: String,
    /// The binary package's version (`2.10-3`, `1.6-2.1+b1`).
    pub version: String,
    /// The source package's name (the binary's own name when the database
    /// names none).
    pub source: String,
    /// The source package's version, when the database says it differs
    /// from the binary's (a binNMU: `1.6-2.1` for `1.6-2.1+b1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// The package's architecture as its manager spells it (`amd64`,
    /// `x86_64`, `all`).
    pub architecture: String,
}

impl Package {
    /// The source package's version: its own when recorded, else the binary's.
    pub fn source_version(&self) -> &str {
        self.source_version.as_deref().unwrap_or(&self.version)
    }
}

impl std::fmt::Display for Package {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}={} ({})",
            self.manager, self.name, self.version, self.architecture
        )
    }
}

/// A digest algorithm a package database or archive records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DigestAlgorithm {
    Md5,
    Sha1,
    Sha256,
}

/// A file digest as recorded, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub algorithm: DigestAlgorithm,
    pub hex: String,
}

impl FileDigest {
    /// The digest of the file at `path` (a local copy, e.g. the binary
    /// extracted from the image), to compare with a recorded one.
    pub fn of_file(algorithm: DigestAlgorithm, path: &Path) -> std::io::Result<FileDigest> {
        let file = std::fs::File::open(path)?;
        let hex = match algorithm {
            DigestAlgorithm::Md5 => hex_digest::<md5::Md5>(file)?,
            DigestAlgorithm::Sha1 => hex_digest::<sha1::Sha1>(file)?,
            DigestAlgorithm::Sha256 => hex_digest::<sha2::Sha256>(file)?,
        };
        Ok(FileDigest { algorithm, hex })
    }
}

/// Lowercase hex of `D` over everything `reader` gives.
fn hex_digest<D: sha2::Digest>(mut reader: impl Read) -> std::io::Result<String> {
    let mut hasher = D::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(buffer.get(..n).unwrap_or_default());
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_a_file_with_each_algorithm() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("abc");
        std::fs::write(&path, b"abc").unwrap();
        let hex_of = |algorithm| FileDigest::of_file(algorithm, &path).unwrap().hex;
        assert_eq!(
            hex_of(DigestAlgorithm::Md5),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert_eq!(
            hex_of(DigestAlgorithm::Sha1),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex_of(DigestAlgorithm::Sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
