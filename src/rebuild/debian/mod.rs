//! Rebuilds a Debian source package the way Debian's buildds do, in the
//! sandbox: from its verified `.dsc` and files to the `.deb`s
//! `dpkg-buildpackage -B` writes.
//!
//! [`dsc`] reads the source package's control file; [`root`] makes (or
//! reuses from the cache) a build root with mmdebstrap holding the build
//! dependencies; [`package`] unpacks the source with `dpkg-source -x`,
//! applies a binNMU changelog entry and runs `dpkg-buildpackage`, each as
//! root of the build's own user namespace inside [`super::sandbox`], with
//! no network, and collects the `.deb`s.
//!
//! Threat model: the source package is untrusted code: it is unpacked and
//! built only inside the sandbox (never on the host), whose root is the
//! read-only build root; the host reads back only regular files named
//! `*.deb` from the build directory.

pub mod dsc;
pub mod package;
pub mod root;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use url::Url;

use crate::image::cache::{Cache, CacheError};
use crate::image::digest::Digest;
use crate::rebuild::sandbox::SandboxError;

pub use package::build;

/// What to build: a source package's files, where, for which release.
#[derive(Debug, Clone, Copy)]
pub struct DebianBuildRequest<'a> {
    /// Holds the `.dsc` and every file it lists, each already verified.
    pub source_dir: &'a Path,
    /// The `.dsc`'s file name in `source_dir`.
    pub dsc: &'a str,
    /// The release whose packages make the build root (`bookworm`).
    pub release: &'a str,
    /// Debian's architecture name (`amd64`).
    pub architecture: &'a str,
    /// The archive the build root's packages come from.
    pub mirror: &'a Url,
    /// The binary package's binNMU changelog entry (its
    /// `changelog.Debian.ARCH.gz`, uncompressed), prepended to
    /// `debian/changelog` as Debian's buildds do; `None`: no binNMU.
    pub binnmu_changelog: Option<&'a str>,
    /// Keeps the build roots.
    pub cache: &'a Cache,
    /// Receives the `.deb`s and `build.log`; the build itself runs in
    /// `build/` there (removed after a success, kept after a failure).
    pub out_dir: &'a Path,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct DebianBuild {
    /// The `.deb`s `dpkg-buildpackage` wrote, copied to the output directory.
    pub debs: Vec<PathBuf>,
    /// Everything the build root's creation and the build printed.
    pub log: PathBuf,
    pub root: BuildRoot,
}

/// The build root a build ran on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRoot {
    /// The sha256 of the tarball mmdebstrap wrote.
    pub sha256: Digest,
    /// Whether it came from the cache rather than being made for this build.
    pub reused: bool,
    /// Package → version of the compiler, binutils, libc and packaging
    /// tools in it (`gcc-12`, `binutils-x86-64-linux-gnu`, `libc6-dev`,
    /// `dpkg-dev`, `debhelper`, ...).
    pub toolchain: BTreeMap<String, String>,
}

/// Why a source package did not build.
#[derive(Debug, thiserror::Error)]
pub enum DebianBuildError {
    #[error("{}: {message}", path.display())]
    Dsc { path: PathBuf, message: String },
    #[error("{0}")]
    Input(String),
    #[error("cannot make the build root: {message}; log: {}", log.display())]
    Root { message: String, log: PathBuf },
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error("dpkg-buildpackage wrote no .deb; log: {}", log.display())]
    NoDebs { log: PathBuf },
}

/// Wraps an I/O error with what was being done to which path.
fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> DebianBuildError {
    let path = path.to_path_buf();
    move |source| DebianBuildError::Io {
        action,
        path,
        source,
    }
}
