//! What a package database says about one file: the package that owns it,
//! the path as the database lists it, and the digest it recorded.
//!
//! Threat model: plain data, claims of an untrusted database.

use serde::{Deserialize, Serialize};

use crate::distro::package::{FileDigest, Package};

/// A file as the image's package database lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedFile {
    pub package: Package,
    /// The path as the database lists it (`/bin/tree` for the image's
    /// `/usr/bin/tree` on a usrmerged image), in the escaped form of
    /// [`crate::rootfs::escape_name`].
    pub path: String,
    /// The digest the database records for the file, when it records one.
    pub recorded: Option<FileDigest>,
}
