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
pub mod db;
pub mod deb;
pub mod deb822;
pub mod package;

pub use package::{DigestAlgorithm, FileDigest, Package, PackageManager};
