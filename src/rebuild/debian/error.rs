//! Why a Debian source package did not build, for every step of
//! [`super::build`].
//!
//! Threat model: messages quote values from the `.dsc` and the build log
//! only as data (debug-quoted or as the log's tail).

use std::path::{Path, PathBuf};

use crate::image::cache::CacheError;
use crate::rebuild::sandbox::SandboxError;

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
pub(super) fn io_error(
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> DebianBuildError {
    let path = path.to_path_buf();
    move |source| DebianBuildError::Io {
        action,
        path,
        source,
    }
}
