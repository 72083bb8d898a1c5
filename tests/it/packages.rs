//! The image's package database read from a real image (an OCI layout, as
//! `apt-get install` leaves one): the package owning the binary the image
//! runs, the release the image says it is, and the database's recorded
//! digest checked against the extracted binary.

use crate::support;

use md5::Digest as _;
use rebuild_compare::distro::db::{read_provenance, OsRelease, OwnedFile, Provenance};
use rebuild_compare::distro::{DigestAlgorithm, FileDigest, Package, PackageManager};
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::reference::ImageLocation;
use rebuild_compare::image::{AccessOptions, Image};
use rebuild_compare::rootfs::extract::{extract_to_dir, BinaryRequest};
use support::{
    write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle, LayerBuilder, MediaTypes,
};

const TREE: &[u8] = b"\x7fELF\x02\x01\x01 the tree binary";

const STATUS: &str = "Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\n\nPackage: tree\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.1.0-1\n";

#[test]
fn names_the_debian_package_owning_the_binary_an_image_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let tree_md5 = hex::encode(md5::Md5::digest(TREE));
    let base = LayerBuilder::new()
        .dir("usr", 0o755)
        .dir("usr/bin", 0o755)
        .dir("usr/lib", 0o755)
        .symlink("bin", "usr/bin")
        .dir("etc", 0o755)
        .file(
            "usr/lib/os-release",
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
            0o644,
        )
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file("etc/debian_version", b"12.5\n", 0o644)
        .dir("var/lib/dpkg/info", 0o755)
        .file("var/lib/dpkg/info/base-files.list", b"/.\n/etc\n/etc/debian_version\n", 0o644)
        .file("var/lib/dpkg/status", b"Package: base-files\nStatus: install ok installed\nArchitecture: amd64\nVersion: 12.4+deb12u5\n", 0o644)
        .build(Compression::Gzip);
    let installed = LayerBuilder::new()
        .file("usr/bin/tree", TREE, 0o755)
        .file("var/lib/dpkg/status", STATUS.as_bytes(), 0o644)
        .file(
            "var/lib/dpkg/info/tree.list",
            b"/.\n/bin\n/bin/tree\n",
            0o644,
        )
        .file(
            "var/lib/dpkg/info/tree.md5sums",
            format!("{tree_md5}  bin/tree\n").as_bytes(),
            0o644,
        )
        .build(Compression::Gzip);
    let image = ImageBuilder::new("linux/amd64")
        .entrypoint(&["tree"])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .layer(base)
        .layer(installed)
        .build();
    let layout = tmp.path().join("layout");
    write_oci_layout(
        &layout,
        "v1",
        &ImageSet::single(image),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let cache = Cache::new(Some(&tmp.path().join("cache"))).unwrap();
    let location = ImageLocation::parse(&format!("oci:{}:v1", layout.display())).unwrap();
    let image = Image::open(&location, &AccessOptions::new(cache)).unwrap();
    let resolved = image.resolve().unwrap();
    let platform_image = image.platforms(&resolved, &[]).unwrap().remove(0);
    let found = extract_to_dir(
        &image,
        &platform_image,
        &BinaryRequest::default(),
        &tmp.path().join("out"),
    )
    .unwrap();
    assert_eq!(found.located.path, "/usr/bin/tree");

    let provenance = read_provenance(&image, &platform_image, &found.located.path).unwrap();
    let recorded = FileDigest {
        algorithm: DigestAlgorithm::Md5,
        hex: tree_md5,
    };
    assert_eq!(
        provenance,
        Some(Provenance {
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
                recorded: Some(recorded.clone()),
            },
            os: Some(OsRelease {
                id: "debian".to_string(),
                version_id: Some("12".to_string()),
                codename: Some("bookworm".to_string()),
            }),
        })
    );
    assert_eq!(
        FileDigest::of_file(DigestAlgorithm::Md5, &found.extracted).unwrap(),
        recorded
    );
}
