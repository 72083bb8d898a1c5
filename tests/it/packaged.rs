//! `verify` on an image built the way `apt-get install tree` builds one,
//! with no recipe: the image's dpkg database names the package, Debian's
//! signed archive says what the package holds (the published digest), and
//! the source package is rebuilt in a fresh build root. Against the real
//! archive (deb.debian.org), sharing one cache with the other tests that
//! build Debian packages ([`shared_debian_cache`]): the build root is made once.

use crate::support;

use std::path::Path;

use serde_json::{json, Value};
use support::cli::{platform_entry, run_in, run_in_env};
use support::debian_image::{
    push_tree_image, shared_debian_cache, Variant, OTHER_VERSION, PLATFORM, TAG,
    TAMPERED_TREE_SHA256, TREE_PATH, TREE_SHA256,
};
use support::{Answer, HostileServer, Registry};

/// The archive's `tree 2.1.0-1` package for amd64.
const TREE_DEB: &str = "http://deb.debian.org/debian/pool/main/t/tree/tree_2.1.0-1_amd64.deb";

/// `verify IMAGE 2.1.0-1 --format json` with the shared cache; its exit
/// code and report.
fn verify(variant: Variant) -> (i32, Value, String) {
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    let pushed = push_tree_image(&registry, home.path(), variant);
    verify_in(home.path(), &pushed.reference, &[])
}

/// `verify REFERENCE 2.1.0-1 --format json EXTRA...` run in `home`, output
/// under `home/out`, with the shared cache.
fn verify_in(home: &Path, reference: &str, extra: &[&str]) -> (i32, Value, String) {
    let shared = shared_debian_cache();
    let out = home.join("out");
    let state_home = shared.state_home.to_str().expect("UTF-8 temp dir");
    let mut args = vec![
        "verify",
        reference,
        TAG,
        "--format",
        "json",
        "--cache-dir",
        shared.dir.to_str().expect("UTF-8 temp dir"),
        "--out-dir",
        out.to_str().expect("UTF-8 temp dir"),
    ];
    args.extend_from_slice(extra);
    let run = run_in_env(home, &[("XDG_STATE_HOME", state_home)], &args);
    (run.code, run.json(), run.stderr.clone())
}

fn package(version: &str) -> Value {
    json!({
        "manager": "dpkg",
        "name": "tree",
        "version": version,
        "source": "tree",
        "architecture": "amd64",
    })
}

fn checks(platform: &Value) -> Vec<String> {
    platform["cross_checks"]
        .as_array()
        .expect("cross_checks")
        .iter()
        .map(|c| c.as_str().expect("a check is a string").to_string())
        .collect()
}

#[test]
fn an_apt_installed_binary_is_its_archive_package_and_rebuilds_from_its_source_package() {
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    let pushed = push_tree_image(&registry, home.path(), Variant::Genuine);
    let (code, report, stderr) = verify_in(home.path(), &pushed.reference, &[]);
    let platform = platform_entry(&report, PLATFORM);
    assert_eq!(platform["package"], package("2.1.0-1"), "{stderr}");
    assert_eq!(platform["image_binary"]["path"], TREE_PATH);
    assert_eq!(platform["image_binary"]["sha256"], TREE_SHA256);
    assert_eq!(
        platform["published"],
        json!({
            "sha256": TREE_SHA256,
            "url": TREE_DEB,
            "matches_image": true,
            "matches_rebuilt": false,
        }),
        "{platform:#}"
    );
    // Rebuilt with today's bookworm toolchain: only the build ID (and the
    // .gnu_debuglink derived from it) differs from the buildd's binary.
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report["verdict"], "mismatch");
    assert_eq!(platform["causes"], json!(["build-id-only"]));
    assert_eq!(
        report["source"]["url"],
        "http://deb.debian.org/debian/pool/main/t/tree/tree_2.1.0-1.dsc"
    );
    assert_eq!(report["source"]["ref"], "tree=2.1.0-1");
    assert_eq!(report["recipe"]["inferred"], true);
    let checks = checks(platform);
    assert!(
        checks.contains(&"ok: the dpkg database's md5sum of /usr/bin/tree agrees (a weak check: whoever wrote the image wrote its database too)".to_string()),
        "{checks:#?}"
    );
    assert!(
        checks.iter().any(|c| c.starts_with("ok: tree 2.1.0-1 is in the archive's bookworm: http://deb.debian.org/debian/dists/bookworm/InRelease signed by ")
            && c.ends_with(&format!(", its index names {TREE_DEB}"))),
        "{checks:#?}"
    );
    assert!(
        checks.contains(
            &"ok: the image binary is the /usr/bin/tree that tree 2.1.0-1 holds".to_string()
        ),
        "{checks:#?}"
    );
}

#[test]
fn a_binary_changed_after_apt_installed_it_is_a_mismatch_against_its_own_package() {
    let (code, report, stderr) = verify(Variant::TamperedBinary);
    assert_eq!(code, 1, "{stderr}");
    let platform = platform_entry(&report, PLATFORM);
    assert_eq!(platform["package"], package("2.1.0-1"));
    assert_eq!(platform["image_binary"]["sha256"], TAMPERED_TREE_SHA256);
    assert_eq!(platform["published"]["sha256"], TREE_SHA256);
    assert_eq!(platform["published"]["matches_image"], false);
    assert_eq!(platform["verdict"], "mismatch");
    let checks = checks(platform);
    assert!(
        checks.contains(&format!(
            "the image binary {TAMPERED_TREE_SHA256} differs from the /usr/bin/tree that tree 2.1.0-1 holds ({TREE_SHA256}): the image changed it"
        )),
        "{checks:#?}"
    );
    assert!(
        checks
            .iter()
            .any(|c| c.starts_with("the image binary's md5sum ")
                && c.ends_with(" the dpkg database records for /usr/bin/tree")),
        "{checks:#?}"
    );
    // The planted byte, not the build ID, is what the diff names first.
    assert_eq!(platform["causes"], json!(["data", "build-id-consequence"]));
    assert_eq!(
        platform["diff"]["explanations"][0],
        "strings only in A: \"v9.1.0\""
    );
}

#[test]
fn a_package_database_naming_another_version_is_reported_not_trusted() {
    let (code, report, stderr) = verify(Variant::OtherVersionInDb);
    assert_eq!(code, 2, "{stderr}");
    let platform = platform_entry(&report, PLATFORM);
    assert_eq!(platform["package"], package(OTHER_VERSION));
    assert_eq!(platform["verdict"], "error");
    assert_eq!(platform["rebuilt"], Value::Null);
    assert_eq!(
        platform["error"],
        "not rebuilt: the archive's package could not be had\n\
         published checksum: tree 2.1.0-2 (amd64) is not in bookworm, bookworm-updates, bookworm-security; they have 2.1.0-1"
    );
}

#[test]
fn a_release_file_whose_signature_does_not_verify_is_an_error() {
    // Debian's own InRelease, one hex digit of its signed text changed,
    // served by a loopback mirror.
    let url = "http://deb.debian.org/debian/dists/bookworm/InRelease";
    let genuine = reqwest::blocking::get(url)
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.bytes())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
        .to_vec();
    let text = String::from_utf8(genuine).expect("InRelease is text");
    let at = text.find("SHA256:\n ").expect("a SHA256 field") + "SHA256:\n ".len();
    let digit = if text.as_bytes()[at] == b'0' {
        "1"
    } else {
        "0"
    };
    let altered = format!("{}{digit}{}", &text[..at], &text[at + 1..]);
    let mirror = HostileServer::start("127.0.0.1", move |request| match request.path() {
        "/debian/dists/bookworm/InRelease" => Answer::Full {
            status: 200,
            headers: Vec::new(),
            body: altered.clone().into_bytes(),
        },
        _ => Answer::status(404, "not found"),
    });
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    let pushed = push_tree_image(&registry, home.path(), Variant::Genuine);
    let out = home.path().join("out");
    let run = run_in(
        home.path(),
        &[
            "verify",
            &pushed.reference,
            TAG,
            "--format",
            "json",
            "--out-dir",
            out.to_str().expect("UTF-8 temp dir"),
            "--archive-mirror",
            &format!("{}/debian", mirror.url()),
            "--archive-security-mirror",
            &format!("{}/debian-security", mirror.url()),
        ],
    );
    let report = run.report(2);
    let platform = platform_entry(&report, PLATFORM);
    assert_eq!(platform["verdict"], "error");
    assert_eq!(platform["published"], Value::Null);
    assert_eq!(platform["rebuilt"], Value::Null);
    let error = platform["error"].as_str().expect("error");
    let expected = format!(
        "published checksum: {}/debian/dists/bookworm/InRelease: the signature by ",
        mirror.url()
    );
    assert!(
        error.contains(&expected)
            && error.ends_with(
                " does not verify: the signed text was altered, or the signature is forged"
            ),
        "{error}"
    );
}

#[test]
fn recipe_infer_writes_the_debian_recipe_of_an_apt_installed_binary_without_building() {
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    let pushed = push_tree_image(&registry, home.path(), Variant::Genuine);
    let repository = pushed.reference.trim_end_matches(&format!(":{TAG}"));
    let run = run_in(home.path(), &["recipe", "infer", repository, TAG]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "# Inferred by rebuild-compare from the image's package database and os-release.\n\
             [image]\nrepository = \"{repository}\"\ntag = \"{{version}}\"\n\n\
             [source]\ndebian = \"tree=2.1.0-1\"\nrelease = \"bookworm\"\n"
        )
    );
    assert_eq!(
        run.stderr,
        "note: the image's dpkg database says dpkg tree=2.1.0-1 (amd64) owns /usr/bin/tree: a Debian recipe rebuilds its source package tree=2.1.0-1 for bookworm\n"
    );
}
