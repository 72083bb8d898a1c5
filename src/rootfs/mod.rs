//! The image's root filesystem and the program it runs, read straight from
//! its layers.
//!
//! Takes verified, still compressed layer blobs from [`crate::image`]
//! (through [`LayerSource`]) and hands on the binary the image runs: its
//! path, layer, sha256 and bytes ([`extract`]), found the way a container
//! runtime finds it ([`locate`]). On the way it merges the layers with OCI
//! semantics (whiteouts, opaque directories, replacement, hardlinks)
//! without unpacking them, answers path look-ups newest layer first, and
//! can unpack the whole merged tree into a directory for a build sandbox.
//!
//! Layers are indexed lazily: a look-up reads (and decompresses) only the
//! layers it has to consult, newest first, and every index is offered to an
//! [`IndexStore`] so that a repeat run reads no layer just to find a path.

mod decode;
mod error;
pub mod extract;
mod igzip;
mod index;
mod layer;
pub mod locate;
mod memory;
mod path;
mod unpack;
mod view;

pub use error::{RootfsError, SourceFailure};
pub use index::{
    ContentObserver, IndexEntry, IndexStore, LayerIndex, MemoryIndexStore, NoIndexStore,
    INDEX_FORMAT,
};
pub use layer::{LayerInfo, LayerSource};
pub use memory::MemoryLayerSource;
pub use path::{clean_join, escape_name, MAX_SYMLINKS};
pub use unpack::{unpack, UnpackStats};
pub use view::{FileContent, Located, MergedView, Node, NodeKind, Rootfs};
