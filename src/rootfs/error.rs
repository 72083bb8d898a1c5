//! Why the root filesystem could not answer: one error type for every
//! stage of `rootfs`, from reading a layer to resolving a path.

use std::error::Error;
use std::io;
use std::path::PathBuf;

use super::path::MAX_SYMLINKS;
use crate::image::digest::Digest;

/// A read error that is the layer source failing (a download, a
/// verification), not the layer's content being corrupt.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SourceFailure(pub Box<dyn Error + Send + Sync>);

/// Why the root filesystem could not answer.
#[derive(Debug, thiserror::Error)]
pub enum RootfsError {
    #[error("unsupported layer media type {media_type} (layer {layer})")]
    UnsupportedMediaType { media_type: String, layer: Digest },
    #[error("corrupt layer {layer}: {detail}")]
    CorruptLayer { layer: Digest, detail: String },
    /// The image side could not provide a layer's bytes.
    #[error(transparent)]
    Source(Box<dyn Error + Send + Sync>),
    #[error("layer index {index} is out of range: the image has {count} layers")]
    NoSuchLayer { index: usize, count: usize },
    #[error(
        "the located file comes from layer {expected}, but layer {index} of this image is {actual}"
    )]
    LayerMismatch {
        index: usize,
        expected: Digest,
        actual: Digest,
    },
    #[error("{}", not_found_message(path, missing))]
    NotFound { path: String, missing: String },
    #[error("too many levels of symbolic links resolving {path} (symlink loop? more than {MAX_SYMLINKS} links)")]
    SymlinkLoop { path: String },
    #[error("cannot resolve {path}: {component} is not a directory")]
    NotADirectory { path: String, component: String },
    #[error("cannot write out the content of {path}")]
    Output {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot unpack into {0}: it must be an existing empty directory")]
    DestinationNotEmpty(PathBuf),
    #[error("internal error: the {0} lock is poisoned (a worker panicked while holding it)")]
    Poisoned(&'static str),
    #[error("cannot {action} {path}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn not_found_message(path: &str, missing: &str) -> String {
    if path == missing {
        format!("{path} not found in the image")
    } else {
        format!("{path} not found in the image ({missing} does not exist)")
    }
}

impl RootfsError {
    /// True for errors that only say a path does not resolve (missing, loop,
    /// file used as directory); false for errors reading the layers.
    pub fn is_lookup_failure(&self) -> bool {
        matches!(
            self,
            Self::NotFound { .. } | Self::SymlinkLoop { .. } | Self::NotADirectory { .. }
        )
    }

    /// A read error: the source's own failure when it is one, else a corrupt layer.
    pub(super) fn reading(layer: &Digest, e: io::Error) -> Self {
        if !e.get_ref().is_some_and(|inner| inner.is::<SourceFailure>()) {
            return Self::corrupt(layer, e);
        }
        match e
            .into_inner()
            .map(|inner| inner.downcast::<SourceFailure>())
        {
            Some(Ok(failure)) => Self::Source(failure.0),
            Some(Err(other)) => Self::corrupt(layer, other),
            None => Self::corrupt(layer, "read failed"),
        }
    }

    /// A layer whose stream ends `missing` bytes short of the end of `name`'s data.
    pub(super) fn truncated(layer: &Digest, name: &str, missing: u64) -> Self {
        Self::corrupt(
            layer,
            format!("the layer ends inside {name}: {missing} bytes of it are missing"),
        )
    }

    pub(super) fn corrupt(layer: &Digest, detail: impl std::fmt::Display) -> Self {
        Self::CorruptLayer {
            layer: layer.clone(),
            detail: detail.to_string(),
        }
    }
}
