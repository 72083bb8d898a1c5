//! Images for the database tests: uncompressed tar layers built in memory,
//! stacked in a [`MemoryLayerSource`].
//!
//! Threat model: none; test fixtures only, built from trusted test data.

use super::error::DbError;
use super::image_files::ImageFiles;
use super::owned::OwnedFile;
use crate::rootfs::{MemoryLayerSource, NoIndexStore, Rootfs};

const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";

/// One layer, entry by entry.
pub struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    pub fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    fn entry(mut self, path: &str, kind: tar::EntryType, link: &str, data: &[u8]) -> Self {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        header.set_mtime(0);
        if !link.is_empty() {
            header.set_link_name(link).unwrap();
        }
        self.0.append_data(&mut header, path, data).unwrap();
        self
    }

    pub fn dir(self, path: &str) -> Self {
        self.entry(path, tar::EntryType::Directory, "", b"")
    }

    pub fn file(self, path: &str, data: &[u8]) -> Self {
        self.entry(path, tar::EntryType::Regular, "", data)
    }

    /// Deletes `path` (in a directory, not at the root) from the layers below.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap();
        self.file(&format!("{dir}/.wh.{name}"), b"")
    }

    pub fn symlink(self, path: &str, target: &str) -> Self {
        self.entry(path, tar::EntryType::Symlink, target, b"")
    }
}

/// The layers, bottom first, as a source a [`Rootfs`] reads.
pub fn source(layers: Vec<Layer>) -> MemoryLayerSource {
    let mut source = MemoryLayerSource::new();
    for layer in layers {
        push(&mut source, layer);
    }
    source
}

/// Adds `layer` on top of the others.
pub fn push(source: &mut MemoryLayerSource, layer: Layer) {
    source.push(OCI_TAR, layer.0.into_inner().unwrap());
}

/// The merged view of `source`.
pub fn view(source: &MemoryLayerSource) -> Rootfs<&MemoryLayerSource> {
    Rootfs::new(source, NoIndexStore).unwrap()
}

/// A usrmerged Debian root: `/bin`, `/sbin`, `/lib` are symlinks into `/usr`.
pub fn debian_base() -> Layer {
    Layer::new()
        .dir("usr")
        .dir("usr/bin")
        .dir("usr/sbin")
        .dir("usr/lib")
        .symlink("bin", "usr/bin")
        .symlink("sbin", "usr/sbin")
        .symlink("lib", "usr/lib")
        .dir("etc")
        .dir("var")
        .dir("var/lib")
        .dir("var/lib/dpkg")
        .dir("var/lib/dpkg/info")
}

/// The owner `find` (a reader's `find_owner`) names for `path`, resolved through the image's
/// symlinks first as [`super::read_provenance_in`] does.
pub fn owner_in<'s>(
    source: &'s MemoryLayerSource,
    path: &str,
    find: impl FnOnce(
        &ImageFiles<'_, &'s MemoryLayerSource, NoIndexStore>,
        &str,
    ) -> Result<Option<OwnedFile>, DbError>,
) -> Result<Option<OwnedFile>, DbError> {
    let view = view(source);
    let files = ImageFiles::new(&view);
    let binary = files.canonical(path)?;
    find(&files, &binary)
}
