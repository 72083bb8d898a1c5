//! The image's own package database: which installed package owns the
//! binary the image runs, its version, source package and architecture,
//! the digest the database recorded for the file, and the release the
//! image says it is ([`os_release`]).
//!
//! Takes the merged root filesystem of [`crate::rootfs`] and the binary's
//! path as located there; asks each database the image holds ([`dpkg`],
//! [`apk`]) and hands on a [`Provenance`], or `None` when no database
//! lists the path. RPM databases are not read yet.
//!
//! Threat model: whoever wrote the image wrote its database too, so its
//! answer only names what to look up in the distribution's signed archive
//! and its recorded digest is a weak, in-image check. Every file is capped
//! in size, paths resolve inside the image only, and a database that
//! exists but is malformed, or that names two owners, is an error.

pub mod apk;
pub mod dpkg;
mod error;
mod image_files;
pub mod os_release;
mod owned;

use serde::{Deserialize, Serialize};

pub use error::DbError;
pub use image_files::ImageFiles;
pub use os_release::OsRelease;
pub use owned::OwnedFile;

use crate::image::{Image, PlatformImage};
use crate::rootfs::extract::{DiskIndexStore, ImageLayers};
use crate::rootfs::{IndexStore, LayerSource, NodeKind, Rootfs};

/// Where the image's package database says the binary came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub owned: OwnedFile,
    /// The release the image says it is, when it says.
    pub os: Option<OsRelease>,
}

/// The provenance of `binary_path` (as the root filesystem located it,
/// e.g. `/usr/bin/tree`) in the image's layers, reusing the layer indexes
/// the extraction cached.
pub fn read_provenance(
    image: &Image,
    platform_image: &PlatformImage,
    binary_path: &str,
) -> Result<Option<Provenance>, DbError> {
    let view = Rootfs::new(
        ImageLayers::new(image, platform_image),
        DiskIndexStore::new(image.cache()),
    )
    .map_err(|source| DbError::Read {
        path: binary_path.to_string(),
        source,
    })?;
    read_provenance_in(&view, binary_path)
}

/// The provenance of `binary_path` in any merged root filesystem.
pub fn read_provenance_in<S: LayerSource, I: IndexStore>(
    view: &Rootfs<S, I>,
    binary_path: &str,
) -> Result<Option<Provenance>, DbError> {
    let node = view
        .resolve_path(binary_path, true)
        .map_err(|source| DbError::Read {
            path: binary_path.to_string(),
            source,
        })?;
    if !matches!(node.kind, NodeKind::File(_)) {
        return Err(DbError::NotAFile {
            path: binary_path.to_string(),
        });
    }
    let files = ImageFiles::new(view);
    let binary = files.canonical(&node.path)?;
    let owned = match (
        dpkg::find_owner(&files, &binary)?,
        apk::find_owner(&files, &binary)?,
    ) {
        (None, None) => return Ok(None),
        (Some(owned), None) | (None, Some(owned)) => owned,
        (Some(first), Some(second)) => {
            return Err(DbError::TwoDatabases {
                path: binary,
                first: first.package.to_string(),
                second: second.package.to_string(),
            })
        }
    };
    Ok(Some(Provenance {
        owned,
        os: os_release::read(&files)?,
    }))
}

#[cfg(test)]
mod test_image;
