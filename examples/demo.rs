//! End-to-end demo, no network needed: `cargo run --example demo`.
//!
//! 1. Makes a git repository of a small Go program (`examples/demo/`) and tags it `v1.0.0`.
//! 2. "Publishes" it as its maintainers would: builds it for linux/amd64 and
//!    linux/arm64 with the recipe `examples/demo/recipe.toml` and packs the
//!    binaries into a faithful two-platform image (an OCI layout).
//! 3. Packs a tampered image too: the same, but the amd64 binary has a string
//!    planted in it, as a compromised release pipeline might.
//! 4. Runs the verification on both: the faithful image is `reproducible`,
//!    the tampered one a `mismatch`, with the explanation of why.
//!
//! Needs `go` (Debian: golang-go) and `bwrap` (bubblewrap). Pass a directory
//! to keep the work there; by default it goes to a temporary directory.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use rebuild_compare::diff::DiffOptions;
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::AccessOptions;
use rebuild_compare::rebuild::build::{self, BuildOptions};
use rebuild_compare::rebuild::plan::ReleasePlan;
use rebuild_compare::rebuild::recipe::Recipe;
use rebuild_compare::report;
use rebuild_compare::verify::{self, VerifyRequest};
use serde_json::json;
use sha2::{Digest as _, Sha256};

const VERSION: &str = "v1.0.0";
const BINARY: &str = "usr/local/bin/hello";
const PLATFORMS: [(&str, &str); 2] = [("amd64", "linux-amd64"), ("arm64", "linux-arm64")];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let kept = std::env::args_os().nth(1).map(PathBuf::from);
    let temp = tempfile::tempdir()?;
    let work = kept.unwrap_or_else(|| temp.path().to_path_buf());
    fs::create_dir_all(&work)?;
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");

    println!("== 1. the source: a git repository tagged {VERSION}");
    let repo = work.join("hello");
    make_repository(&demo, &repo)?;

    println!("== 2. the maintainers build and publish it (faithful image)");
    let recipe = Recipe::load(&demo.join("recipe.toml"))?;
    let cache = Cache::new(Some(&work.join("cache")))?;
    let options = BuildOptions {
        out_dir: work.join("published-build"),
        cache_dir: cache.root().to_path_buf(),
        timeout: std::time::Duration::from_secs(600),
        sandboxed: true,
        progress: rebuild_compare::progress::silent(),
        tmp_size: rebuild_compare::rebuild::sandbox::DEFAULT_TMP_SIZE,
    };
    let no_builder_images = |r: &str| -> Result<_, build::BuildError> {
        Err(build::BuildError::Builder {
            reference: r.to_string(),
            message: "the demo builds on the host".into(),
        })
    };
    let source = repo.display().to_string();
    let release = ReleasePlan::render(&recipe, VERSION);
    let plan = build::plan(release, Some(&source), options, &no_builder_images)?;
    let platforms = build::select_platforms(&recipe, &[])?;
    let built = build::build_all(&plan, &platforms);
    if let Some(failure) = built.failed.first() {
        return Err(format!("building {} failed: {}", failure.platform, failure.error).into());
    }
    let binaries: Vec<Vec<u8>> = PLATFORMS
        .iter()
        .map(|(_, dir)| fs::read(work.join("published-build").join(dir).join("hello")))
        .collect::<Result<_, _>>()?;
    let faithful = work.join("faithful");
    write_image(&faithful, &binaries)?;

    println!("== 3. an attacker plants a string in the amd64 binary (tampered image)");
    let mut tampered_binaries = binaries.clone();
    plant(
        &mut tampered_binaries[0],
        b"hello from the rebuild-compare demo",
        b"beacon: https://c2.example/implant!!",
    )?;
    let tampered = work.join("tampered");
    write_image(&tampered, &tampered_binaries)?;

    let access = AccessOptions::new(cache);
    for (name, layout) in [("faithful", &faithful), ("tampered", &tampered)] {
        println!();
        println!(
            "== 4. rebuild-compare oci:{}:{VERSION} {VERSION}",
            layout.display()
        );
        let image = format!("oci:{}:{VERSION}", layout.display());
        let request = VerifyRequest {
            image: &image,
            version: VERSION,
            recipe: &recipe,
            recipe_note: None,
            source_override: Some(&source),
            platforms: &[],
            skip_published: false,
            build: BuildOptions {
                out_dir: work.join(format!("verify-{name}")),
                cache_dir: access.cache.root().to_path_buf(),
                timeout: std::time::Duration::from_secs(600),
                sandboxed: true,
                progress: rebuild_compare::progress::silent(),
                tmp_size: rebuild_compare::rebuild::sandbox::DEFAULT_TMP_SIZE,
            },
            access: &access,
            diff: DiffOptions::default(),
            max_adjustments: 2,
        };
        let report = verify::verify(&request)?;
        report::verify::render_text(&report, &mut std::io::stdout().lock(), false)?;
    }
    Ok(())
}

/// Copies the demo program into a fresh repository, commits and tags it.
fn make_repository(demo: &Path, repo: &Path) -> Result<(), Box<dyn std::error::Error>> {
    if repo.exists() {
        fs::remove_dir_all(repo)?;
    }
    fs::create_dir_all(repo)?;
    for file in ["main.go", "go.mod"] {
        fs::copy(demo.join(file), repo.join(file))?;
    }
    let git = git2::Repository::init(repo)?;
    let mut index = git.index()?;
    index.add_all(["*"], git2::IndexAddOption::DEFAULT, None)?;
    index.write()?;
    let tree = git.find_tree(index.write_tree()?)?;
    let when = git2::Time::new(1_700_000_000, 0);
    let who = git2::Signature::new("Demo Maintainer", "maintainer@example.com", &when)?;
    let commit = git.commit(Some("HEAD"), &who, &who, "hello 1.0.0", &tree, &[])?;
    git.tag_lightweight(VERSION, &git.find_object(commit, None)?, false)?;
    Ok(())
}

/// Overwrites `from` with `to` (same length) inside `binary`.
fn plant(binary: &mut [u8], from: &[u8], to: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
    let at = binary
        .windows(from.len())
        .position(|w| w == from)
        .ok_or("the banner string is not in the binary")?;
    binary[at..at + to.len()].copy_from_slice(to);
    Ok(())
}

/// Writes a two-platform OCI image layout tagged VERSION, each platform one
/// gzip layer holding its binary at /usr/local/bin/hello.
fn write_image(dir: &Path, binaries: &[Vec<u8>]) -> Result<(), Box<dyn std::error::Error>> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir.join("blobs/sha256"))?;
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)?;
    let mut manifests = Vec::new();
    for ((arch, _), binary) in PLATFORMS.iter().zip(binaries) {
        let tar = layer_tar(binary)?;
        let diff_id = hex(&tar);
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar)?;
        let layer = gz.finish()?;
        let layer_desc = blob(dir, "application/vnd.oci.image.layer.v1.tar+gzip", &layer)?;
        let config = serde_json::to_vec(&json!({
            "architecture": arch, "os": "linux",
            "config": {"Entrypoint": ["hello"], "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{diff_id}")]}
        }))?;
        let config_desc = blob(dir, "application/vnd.oci.image.config.v1+json", &config)?;
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": config_desc, "layers": [layer_desc]
        }))?;
        let mut desc = blob(dir, "application/vnd.oci.image.manifest.v1+json", &manifest)?;
        desc["platform"] = json!({"os": "linux", "architecture": arch});
        manifests.push(desc);
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests
    }))?;
    let mut top = blob(dir, "application/vnd.oci.image.index.v1+json", &index)?;
    top["annotations"] = json!({"org.opencontainers.image.ref.name": VERSION});
    let layout_index = json!({"schemaVersion": 2, "manifests": [top]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&layout_index)?)?;
    Ok(())
}

fn layer_tar(binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(binary.len() as u64);
    header.set_mode(0o755);
    header.set_mtime(1_700_000_000);
    header.set_cksum();
    tar.append_data(&mut header, BINARY, binary)?;
    tar.into_inner()
}

fn hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Stores a blob and returns its descriptor.
fn blob(dir: &Path, media_type: &str, bytes: &[u8]) -> std::io::Result<serde_json::Value> {
    let digest = hex(bytes);
    fs::write(dir.join("blobs/sha256").join(&digest), bytes)?;
    Ok(json!({"mediaType": media_type, "digest": format!("sha256:{digest}"), "size": bytes.len()}))
}
