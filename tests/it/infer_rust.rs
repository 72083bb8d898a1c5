//! Rust images verified with no hand-written recipe (issue 24): a small
//! program with crates.io dependencies, tagged with git2, built as the
//! official Rust image builds (`/usr/src/app`, `CARGO_HOME=/usr/local/cargo`)
//! with `cargo build --release --locked` and with `cargo auditable build`,
//! published as images in a loopback registry, then verified by `rebuild-compare IMAGE VERSION`,
//! whose sandbox fetches the crates from crates.io and builds offline.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use git2::Repository;
use rebuild_compare::binary::{Binary, RustPackage};
use serde_json::{json, Value};
use support::cli::{run_in_env, Run};
use support::rust_app;
use support::{
    push, sha256_digest, write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle,
    LayerBuilder, MediaTypes, Registry,
};

const VERSION: &str = "v1.0.0";
const AMD64: &str = "linux/amd64";
const COMMIT_TIME: i64 = 1_700_000_000;
const BINARY_PATH: &str = "/usr/local/bin/app";

/// The program tagged [`VERSION`] and the binary its maintainers published.
struct Release {
    source: PathBuf,
    commit: String,
    binary: Vec<u8>,
}

/// Tags the program in a kept directory and builds it once per process.
fn make_release(auditable: bool) -> Release {
    let dir = tempfile::Builder::new()
        .prefix("infer-rust-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
        .keep();
    let source = dir.join("git/app");
    let repo = Repository::init(&source).unwrap();
    let tagged = support::git::commit(&repo, &rust_app::files(), "release", COMMIT_TIME);
    support::git::tag(&repo, VERSION, tagged, COMMIT_TIME);
    let checkout = support::go::checkout(&source, VERSION, &dir.join("checkout"));
    let binary = rust_app::build(&checkout, auditable);
    Release {
        source,
        commit: tagged.to_string(),
        binary,
    }
}

fn plain_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| make_release(false))
}

fn auditable_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| make_release(true))
}

/// `binary` as a linux/amd64 image pushed with skopeo to `registry` as
/// `example/app:v1.0.0` (through an OCI layout in `dir`); returns the image
/// reference without the tag.
fn registry_image(registry: &Registry, dir: &Path, binary: &[u8]) -> String {
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app"])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .layer(
            LayerBuilder::new()
                .file(BINARY_PATH.trim_start_matches('/'), binary, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    write_oci_layout(
        dir,
        VERSION,
        &ImageSet::single(image),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    push(
        dir,
        VERSION,
        &registry.reference(&format!("example/app:{VERSION}")),
        None,
    );
    registry.reference("example/app")
}

/// `rebuild-compare IMAGE v1.0.0 --source SOURCE --format json` with the
/// host's Rust toolchain and cargo-auditable on `PATH`.
fn verify(home: &Path, image: &str, source: &Path) -> Run {
    let path = rust_app::tool_path(&std::env::var("PATH").unwrap());
    let out = home.join("out");
    run_in_env(
        home,
        &[("PATH", path.as_str())],
        &[
            image,
            VERSION,
            "--source",
            source.to_str().unwrap(),
            "--format",
            "json",
            "--out-dir",
            out.to_str().unwrap(),
        ],
    )
}

fn crate_(name: &str, version: &str, source: &str) -> RustPackage {
    RustPackage {
        name: name.into(),
        version: version.into(),
        source: Some(source.into()),
    }
}

/// Asserts the run reproduced the release with the first inferred
/// candidate, after checking `checked` crates against `Cargo.lock`;
/// returns the saved recipe.
/// Asserts that the amd64 platform's cross-checks include `line`.
fn assert_cross_check(run: &Run, line: &str) {
    let report = run.report(0);
    let checks = &support::cli::platform_entry(&report, AMD64)["cross_checks"];
    assert!(
        checks.as_array().unwrap().contains(&json!(line)),
        "{checks:#}"
    );
}

fn assert_reproduced_with_first_candidate(
    run: &Run,
    home: &Path,
    release: &Release,
    checked: usize,
) -> toml::Table {
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible", "{report:#}");
    let saved = home.join("out/inferred-recipe.toml");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(
        report["recipe"],
        json!({"path": saved.to_str().unwrap(), "sha256": sha256_digest(text.as_bytes()),
               "inferred": true})
    );
    assert_eq!(report["source"]["commit"], release.commit.as_str());
    let p = support::cli::platform_entry(&report, AMD64);
    let digest = sha256_digest(&release.binary);
    assert_eq!(p["verdict"], "reproducible", "{p:#}");
    assert_eq!(p["image_binary"]["sha256"], digest.as_str());
    assert_eq!(p["rebuilt"]["sha256"], digest.as_str());
    assert_eq!(
        p["dependencies"],
        json!({"checked": checked, "problems": []})
    );
    let candidates = p["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    assert_eq!(candidates[0]["verdict"], "reproducible");
    text.parse().unwrap()
}

#[test]
fn rust_fixtures_name_their_rustc_and_crates_by_registry_path_or_dep_v0() {
    let plain = Binary::parse(&plain_release().binary);
    let rust = plain.rust.expect("a Rust binary");
    assert!(
        rust.rustc
            .as_deref()
            .is_some_and(|r| r.starts_with("rustc version 1.")),
        "{rust:?}"
    );
    assert_eq!(rust.packages, None);
    assert_eq!(
        rust.registry_crates,
        vec![crate_("smallvec", "1.13.2", "crates.io")]
    );
    let path = format!("{}/registry/src/index.crates.io-", rust_app::CARGO_HOME);
    assert!(plain_release()
        .binary
        .windows(path.len())
        .any(|w| w == path.as_bytes()));

    let auditable = Binary::parse(&auditable_release().binary)
        .rust
        .expect("a Rust binary");
    assert_eq!(
        auditable.packages,
        Some(vec![
            crate_("app", "1.0.0", "local"),
            crate_("itoa", "1.0.11", "crates.io"),
            crate_("smallvec", "1.13.2", "crates.io"),
        ])
    );
    assert!(auditable.registry_crates.is_empty());
}

#[test]
fn cargo_build_binary_is_reproduced_without_a_recipe() {
    let release = plain_release();
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let image = registry_image(&registry, &tmp.path().join("layout"), &release.binary);
    let run = verify(tmp.path(), &image, &release.source);
    let recipe = assert_reproduced_with_first_candidate(&run, tmp.path(), release, 1);
    assert_cross_check(
        &run,
        "ok: 1 dependencies agree with the tag's lock files (only the crates its registry \
         paths name: the binary carries no dependency list)",
    );
    assert_eq!(recipe["build"]["builder"].as_str(), Some("host"));
    assert_eq!(
        recipe["build"]["command"],
        toml::Value::from(vec![
            "cargo",
            "build",
            "--release",
            "--locked",
            "--offline",
            "--bin",
            "app"
        ])
    );
    assert_eq!(
        recipe["build"]["platforms"][AMD64]["env"]["RUSTFLAGS"].as_str(),
        Some("--remap-path-prefix=/cache/cargo=/usr/local/cargo")
    );
}

#[test]
fn cargo_auditable_binary_is_reproduced_without_a_recipe() {
    let release = auditable_release();
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let image = registry_image(&registry, &tmp.path().join("layout"), &release.binary);
    let run = verify(tmp.path(), &image, &release.source);
    let recipe = assert_reproduced_with_first_candidate(&run, tmp.path(), release, 3);
    assert_cross_check(&run, "ok: 3 dependencies agree with the tag's lock files");
    assert_eq!(
        recipe["build"]["command"][1].as_str(),
        Some("auditable"),
        "{recipe:#?}"
    );
}

#[test]
fn a_crate_version_swapped_in_the_published_binary_is_a_mismatch_found_without_building() {
    let mut binary = plain_release().binary.clone();
    let (from, to) = (b"/smallvec-1.13.2/", b"/smallvec-1.13.1/");
    let mut swapped = 0;
    while let Some(at) = binary.windows(from.len()).position(|w| w == from) {
        binary[at..at + to.len()].copy_from_slice(to);
        swapped += 1;
    }
    assert!(swapped > 0, "the fixture embeds smallvec's registry path");
    let tmp = tempfile::tempdir().unwrap();
    let registry = Registry::start();
    let image = registry_image(&registry, &tmp.path().join("layout"), &binary);
    let run = verify(tmp.path(), &image, &plain_release().source);
    let report = run.report(1);
    assert_eq!(report["verdict"], "mismatch", "{report:#}");
    let p = support::cli::platform_entry(&report, AMD64);
    assert_eq!(p["verdict"], "mismatch", "{p:#}");
    assert_eq!(p["rebuilt"], Value::Null, "nothing was built: {p:#}");
    assert_eq!(
        p["candidates"],
        Value::Null,
        "no candidate was tried: {p:#}"
    );
    let problem = "crate smallvec 1.13.1 (crates.io): the tag's Cargo.lock has smallvec 1.13.2";
    assert_eq!(
        p["dependencies"],
        json!({"checked": 1, "problems": [problem]})
    );
    assert!(p["cross_checks"]
        .as_array()
        .unwrap()
        .contains(&Value::from(problem)));
}
