//! The image `support::debian_image` makes as `apt-get install tree` would:
//! `digest` and `extract` find Debian's `/usr/bin/tree` through the image's
//! PATH with the package's bytes (or the tampered ones), and dpkg itself
//! reads the image's database as the one it wrote: the packages, their
//! versions, tree's file list, and `dpkg --verify` against its md5sums.

use crate::support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use serde_json::json;
use support::cli::run_in;
use support::debian_image::{
    push_tree_image, tree_image, Variant, PLATFORM, TAG, TREE_PATH, TREE_SHA256,
};
use support::{Image, Registry};

/// The size of the package's `/usr/bin/tree` (the tampered one's too).
const TREE_SIZE: u64 = 81592;

/// Every path `tree.list` names, as dpkg wrote it for tree 2.1.0-1.
const TREE_LIST: &str = "/.
/usr
/usr/bin
/usr/bin/tree
/usr/share
/usr/share/doc
/usr/share/doc/tree
/usr/share/doc/tree/README.gz
/usr/share/doc/tree/TODO
/usr/share/doc/tree/changelog.Debian.gz
/usr/share/doc/tree/changelog.gz
/usr/share/doc/tree/copyright
/usr/share/man
/usr/share/man/man1
/usr/share/man/man1/tree.1.gz
";

#[test]
fn digest_finds_the_packages_tree_through_path_genuine_or_tampered() {
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    for variant in [Variant::Genuine, Variant::TamperedBinary] {
        let pushed = push_tree_image(&registry, home.path(), variant);
        let run = run_in(
            home.path(),
            &["digest", &pushed.reference, "--format", "json"],
        );
        let report = run.report(0);
        assert_eq!(report["reference"], pushed.reference.as_str());
        assert_eq!(report["digest"], pushed.digest.as_str());
        assert_eq!(
            report["platforms"],
            json!([{
                "platform": PLATFORM,
                "requested": TREE_PATH,
                "path": TREE_PATH,
                "sha256": variant.tree_sha256(),
                "size": TREE_SIZE,
                "format": "elf",
                "machine": "x86_64",
                "layer": pushed.image.layers[1].digest,
                "warnings": [],
            }]),
            "{variant:?}"
        );
    }
}

#[test]
fn extract_writes_the_packages_tree_executable_from_registry_or_layout() {
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    let pushed = push_tree_image(&registry, home.path(), Variant::Genuine);
    let layout = format!("oci:{}:{TAG}", pushed.layout.display());
    for (name, image) in [("registry", &pushed.reference), ("layout", &layout)] {
        let output = home.path().join(name);
        let run = run_in(
            home.path(),
            &[
                "extract",
                image,
                "--platform",
                PLATFORM,
                "-o",
                output.to_str().expect("UTF-8 path"),
            ],
        );
        assert_eq!(run.code, 0, "{image}: stderr:\n{}", run.stderr);
        let bytes = fs::read(&output).expect("read the extracted binary");
        assert_eq!(support::sha256_digest(&bytes), TREE_SHA256, "{image}");
        let mode = fs::metadata(&output).expect("stat").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o755, "{image}");
    }
}

/// Unpacks `image`'s layers, lowest first, into `root` (the fixture's
/// layers have no whiteouts).
fn unpack(image: &Image, root: &Path) {
    for layer in &image.layers {
        let tar = layer.tar_bytes();
        let mut archive = tar::Archive::new(tar.as_slice());
        archive.set_overwrite(true);
        archive.set_preserve_permissions(true);
        archive.unpack(root).expect("unpack layer");
    }
}

/// `dpkg-query --admindir=ROOT/var/lib/dpkg ARGS`'s stdout (must succeed).
fn dpkg_query(root: &Path, args: &[&str]) -> String {
    let out = Command::new("dpkg-query")
        .arg(format!(
            "--admindir={}",
            root.join("var/lib/dpkg").display()
        ))
        .args(args)
        .output()
        .expect("run dpkg-query (Debian's dpkg package)");
    assert!(out.status.success(), "dpkg-query {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("dpkg-query prints UTF-8")
}

/// `dpkg --root=ROOT --verify tree`'s stdout: one line per file whose md5
/// differs from `tree.md5sums` (dpkg exits 0 either way).
fn dpkg_verify(root: &Path) -> String {
    let out = Command::new("dpkg")
        .arg(format!("--root={}", root.display()))
        .args(["--verify", "tree"])
        .output()
        .expect("run dpkg (Debian's dpkg package)");
    assert!(out.status.success(), "dpkg --verify: {out:?}");
    String::from_utf8(out.stdout).expect("dpkg prints UTF-8")
}

#[test]
fn dpkg_reads_the_images_database_as_the_one_it_wrote() {
    let packages = "${Package} ${Version} ${Architecture} ${db:Status-Abbrev}\n";
    let cases = [
        (Variant::Genuine, "2.1.0-1", ""),
        (
            Variant::TamperedBinary,
            "2.1.0-1",
            "??5??????   /usr/bin/tree\n",
        ),
        (Variant::OtherVersionInDb, "2.1.0-2", ""),
        (Variant::TamperedBinaryAndMd5sums, "2.1.0-1", ""),
    ];
    for (variant, version, verify_output) in cases {
        let root = tempfile::tempdir().expect("temp dir");
        unpack(&tree_image(variant), root.path());
        assert_eq!(
            dpkg_query(root.path(), &["-W", &format!("-f={packages}")]),
            format!(
                "base-files 12.4+deb12u11 amd64 ii \n\
                 libc6 2.36-9+deb12u14 amd64 ii \n\
                 tree {version} amd64 ii \n"
            ),
            "{variant:?}"
        );
        assert_eq!(
            dpkg_query(root.path(), &["-S", TREE_PATH]),
            "tree: /usr/bin/tree\n",
            "{variant:?}"
        );
        assert_eq!(
            dpkg_query(root.path(), &["-L", "tree"]),
            TREE_LIST,
            "{variant:?}"
        );
        assert_eq!(dpkg_verify(root.path()), verify_output, "{variant:?}");
    }
}
