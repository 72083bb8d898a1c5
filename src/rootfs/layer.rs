//! The seam between the image side and the root filesystem: the layers of
//! one image as descriptors, and a [`LayerSource`] that opens their
//! verified (still compressed) bytes.

use std::io::Read;

use serde::{Deserialize, Serialize};

use super::error::RootfsError;
use crate::image::digest::Digest;

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
    /// [`SourceFailure`](super::error::SourceFailure) if they do not match.
    fn open_to_end(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        self.open(index)
    }
}

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
