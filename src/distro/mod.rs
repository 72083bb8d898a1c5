//! Binaries that came from a distribution's package: which package the
//! image's own package database says owns the binary, and what the
//! distribution's signed archive says that package holds.
//!
//! Takes the merged root filesystem from [`crate::rootfs`] and hands on
//! plain data: the owning [`Package`] with the digest its database records
//! for the file (a weak check: whoever wrote the image wrote the database
//! too), and, from the archive, the package's own copy of the file, reached
//! through a chain that starts at the distribution's keyring. The source
//! package rebuild that uses both lives in [`crate::rebuild`].
//!
//! Threat model: the image, its package database, the archive mirror and
//! the network are all untrusted. Nothing the database says is believed
//! beyond naming what to look up; every archive byte is verified through
//! the signed release file before it is parsed or used.

pub mod archive;
pub mod deb;
pub mod deb822;

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
