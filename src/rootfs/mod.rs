//! The image's root filesystem, read straight from its layers.
//!
//! Stage between the image side (which hands over verified, still
//! compressed layer blobs through [`LayerSource`]) and the comparison: it
//! merges the layers with OCI semantics (whiteouts, opaque directories,
//! replacement, hardlinks) without unpacking them, answers path look-ups
//! newest layer first, streams one file's bytes out of its layer, and can
//! unpack the whole merged tree into a directory for a build sandbox.
//!
//! Layers are indexed lazily: a look-up reads (and decompresses) only the
//! layers it has to consult, newest first, and every index is offered to an
//! [`IndexStore`] so that a repeat run reads no layer just to find a path.

mod decode;
mod igzip;
mod index;
mod memory;
mod path;
mod unpack;
mod view;

use std::error::Error;
use std::io::{self, Read};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;

pub use index::{
    ContentObserver, IndexEntry, IndexStore, LayerIndex, MemoryIndexStore, NoIndexStore,
    INDEX_FORMAT,
};
pub use memory::MemoryLayerSource;
pub use path::clean_join;
pub use unpack::{unpack, UnpackStats};
pub use view::{FileContent, MergedView, Node, NodeKind, Rootfs, MAX_SYMLINKS};

/// One layer descriptor, as the image manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    pub digest: Digest,
    pub media_type: String,
    /// Size of the (compressed) blob in bytes.
    pub size: u64,
}

/// The layers of one image, bottom (index 0) to top, as the image side provides them.
pub trait LayerSource: Sync {
    /// The layer descriptors, bottom (index 0) to top.
    fn layers(&self) -> &[LayerInfo];
    /// Opens the layer's verified (still compressed) bytes; may download on first use.
    fn open(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError>;
    /// Opens the layer for a reader that reads it to the end: the bytes may
    /// be verified only by that end, which is then an error wrapped in
    /// [`SourceFailure`] if they do not match.
    fn open_to_end(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        self.open(index)
    }
}

/// A read error that is the layer source failing (a download, a
/// verification), not the layer's content being corrupt.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SourceFailure(pub Box<dyn Error + Send + Sync>);

impl<T: LayerSource + ?Sized> LayerSource for &T {
    fn layers(&self) -> &[LayerInfo] {
        (**self).layers()
    }
    fn open(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        (**self).open(index)
    }
}

impl<T: LayerSource + ?Sized> LayerSource for Box<T> {
    fn layers(&self) -> &[LayerInfo] {
        (**self).layers()
    }
    fn open(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        (**self).open(index)
    }
}

impl<T: LayerSource + Send + ?Sized> LayerSource for std::sync::Arc<T> {
    fn layers(&self) -> &[LayerInfo] {
        (**self).layers()
    }
    fn open(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        (**self).open(index)
    }
}

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
    fn reading(layer: &Digest, e: io::Error) -> Self {
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
    fn truncated(layer: &Digest, name: &str, missing: u64) -> Self {
        Self::corrupt(
            layer,
            format!("the layer ends inside {name}: {missing} bytes of it are missing"),
        )
    }

    fn corrupt(layer: &Digest, detail: impl std::fmt::Display) -> Self {
        Self::CorruptLayer {
            layer: layer.clone(),
            detail: detail.to_string(),
        }
    }
}
