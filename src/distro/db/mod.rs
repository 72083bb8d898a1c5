//! The image's own package database: which installed package owns the
//! binary the image runs, its version, source package and architecture,
//! the digest the database recorded for the file, and the release the
//! image says it is ([`os_release`]).
//!
//! Takes the merged root filesystem of [`crate::rootfs`] and the binary's
//! path as located there; asks each database the image holds ([`dpkg`],
//! [`apk`], [`rpm`]) and hands on a [`Provenance`], or `None` when no database
//! lists the path.
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
pub mod rpm;

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
    let owners = [
        dpkg::find_owner(&files, &binary)?,
        apk::find_owner(&files, &binary)?,
        rpm::find_owner(&files, &binary)?,
    ];
    let mut owners = owners.into_iter().flatten();
    let Some(owned) = owners.next() else {
        return Ok(None);
    };
    if let Some(second) = owners.next() {
        return Err(DbError::TwoDatabases {
            path: binary,
            first: owned.package.to_string(),
            second: second.package.to_string(),
        });
    }
    Ok(Some(Provenance {
        owned,
        os: os_release::read(&files)?,
    }))
}

#[cfg(test)]
mod test_image;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro::package::{DigestAlgorithm, FileDigest, Package, PackageManager};
    use test_image::{debian_base, source, view, Layer};

    fn debian_with_tree() -> Layer {
        debian_base()
            .file(
                "usr/lib/os-release",
                b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n",
            )
            .symlink("etc/os-release", "../usr/lib/os-release")
            .file("usr/bin/tree", b"tree")
            .symlink("usr/bin/tree-link", "tree")
            .file(
                "var/lib/dpkg/status",
                b"Package: tree\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.1.0-1\n",
            )
            .file("var/lib/dpkg/info/tree.list", b"/.\n/bin\n/bin/tree\n")
            .file(
                "var/lib/dpkg/info/tree.md5sums",
                b"0123456789abcdef0123456789abcdef  bin/tree\n",
            )
    }

    #[test]
    fn reads_the_package_and_release_of_a_debian_binary() {
        let image = source(vec![debian_with_tree()]);
        let view = view(&image);
        let expected = Provenance {
            owned: OwnedFile {
                package: Package {
                    manager: PackageManager::Dpkg,
                    name: "tree".to_string(),
                    version: "2.1.0-1".to_string(),
                    source: "tree".to_string(),
                    source_version: None,
                    architecture: "amd64".to_string(),
                },
                path: "/bin/tree".to_string(),
                recorded: Some(FileDigest {
                    algorithm: DigestAlgorithm::Md5,
                    hex: "0123456789abcdef0123456789abcdef".to_string(),
                }),
            },
            os: Some(OsRelease {
                id: "debian".to_string(),
                version_id: Some("12".to_string()),
                codename: Some("bookworm".to_string()),
            }),
        };
        assert_eq!(
            read_provenance_in(&view, "/usr/bin/tree").unwrap(),
            Some(expected.clone())
        );
        assert_eq!(
            read_provenance_in(&view, "/bin/tree-link").unwrap(),
            Some(expected)
        );
    }

    #[test]
    fn a_binary_no_database_lists_has_no_provenance() {
        let image = source(vec![
            debian_with_tree(),
            Layer::new().file("usr/bin/app", b"app"),
        ]);
        assert_eq!(
            read_provenance_in(&view(&image), "/usr/bin/app").unwrap(),
            None
        );
        let image = source(vec![Layer::new().file("app", b"app")]);
        assert_eq!(read_provenance_in(&view(&image), "/app").unwrap(), None);
    }

    #[test]
    fn two_databases_claiming_the_binary_is_an_error() {
        let image = source(vec![
            debian_with_tree(),
            Layer::new().dir("usr/lib/apk/db").file(
                "usr/lib/apk/db/installed",
                b"P:tree\nV:2.1.1-r0\nA:x86_64\nF:usr/bin\nR:tree\n",
            ),
        ]);
        let error = read_provenance_in(&view(&image), "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/usr/bin/tree is owned by dpkg tree=2.1.0-1 (amd64) and also by apk tree=2.1.1-r0 (x86_64): the image holds two package databases that disagree"
        );
    }

    #[test]
    fn a_path_that_is_not_a_file_is_an_error() {
        let image = source(vec![debian_with_tree()]);
        let error = read_provenance_in(&view(&image), "/usr/bin").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/usr/bin in the image is not a regular file"
        );
    }
}
