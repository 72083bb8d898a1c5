//! `rebuild-compare IMAGE VERSION` (and `rebuild-compare verify IMAGE
//! VERSION`) end to end: images pushed by skopeo to a loopback registry or
//! written as OCI layouts, git repositories made with git2, real bubblewrap
//! builds, the maintainers' checksums served by a loopback HTTP server.

use crate::support;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rebuild_compare::binary::Binary;
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::reference::ImageLocation;
use rebuild_compare::image::{AccessOptions, Image};
use serde_json::{json, Value};
use support::cli::{run_in, Run};
use support::fast_app::*;
use support::{
    inspect_raw, push, sha256_digest, write_oci_layout, Compression, ImageBuilder, ImageSet,
    IndexStyle, LayerBuilder, MediaTypes, Registry,
};

/// `rebuild-compare IMAGE VERSION --recipe R --source S --format json
/// --out-dir HOME/OUT` plus `extra`.
fn verify(home: &Path, out: &str, image: &str, recipe: &Path, source: &str, extra: &[&str]) -> Run {
    let out_dir = home.join(out);
    let mut args = vec![
        image,
        VERSION,
        "--recipe",
        recipe.to_str().unwrap(),
        "--source",
        source,
        "--format",
        "json",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// The report's entry for `platform`.
fn platform<'a>(report: &'a Value, platform: &str) -> &'a Value {
    support::cli::platform_entry(report, platform)
}

fn verdicts(report: &Value) -> Vec<(String, String)> {
    report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_string(),
                p["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Asserts that `platform` was reproduced: the image binary at
/// `/usr/local/bin/app` and the rebuild are `binary`, nothing else to say.
fn assert_reproduced(report: &Value, name: &str, binary: &[u8]) {
    let p = platform(report, name);
    let digest = sha256_digest(binary);
    assert_eq!(p["verdict"], "reproducible", "{p:#}");
    assert_eq!(p["image_binary"]["path"], "/usr/local/bin/app");
    assert_eq!(p["image_binary"]["sha256"], digest.as_str());
    assert_eq!(p["image_binary"]["size"], binary.len());
    assert_eq!(p["rebuilt"]["sha256"], digest.as_str());
    assert_eq!(p["rebuilt"]["size"], binary.len());
    assert_eq!(p["diff"], Value::Null);
    assert_eq!(p["error"], Value::Null);
}

// --- The Go release shared by the two Go tests -------------------------------

const GO_MAIN: &str = "package main\n\nimport \"fmt\"\n\n\
                       var banner = \"hello from the verify test\"\n\n\
                       func main() { fmt.Println(banner) }\n";
const BANNER: &str = "hello from the verify test";
const PLANTED: &str = "beacon: https://c2.example";

const GO_BUILD: &str = r#"[build]
builder = "host"
command = ["go", "build", "-trimpath", "-o", "/out/hello", "."]
artifact = "/out/hello"
env = { CGO_ENABLED = "0", GOCACHE = "/tmp/gocache", GOPROXY = "off", GOFLAGS = "-buildvcs=true" }

[build.platforms."linux/amd64"]
env = { GOOS = "{os}", GOARCH = "{arch}" }

[build.platforms."linux/arm64"]
env = { GOOS = "{os}", GOARCH = "{arch}" }
"#;

/// A Go program tagged v1.0.0 and the binaries its maintainers published,
/// built from the tag by `rebuild-compare build` (once per test binary).
struct GoRelease {
    source: PathBuf,
    recipe: PathBuf,
    commit: String,
    amd64: Vec<u8>,
    arm64: Vec<u8>,
}

fn go_release() -> &'static GoRelease {
    static RELEASE: OnceLock<GoRelease> = OnceLock::new();
    RELEASE.get_or_init(|| {
        // Kept for the life of the test process (statics are never dropped),
        // unique to it so concurrent test runs never share it.
        let dir = tempfile::Builder::new()
            .prefix("verify-go-release-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let source = dir.join("hello");
        let commit = tagged_repo(
            &source,
            &[
                ("main.go", GO_MAIN),
                ("go.mod", "module example.com/hello\n\ngo 1.19\n"),
            ],
        );
        let recipe = write_recipe(&dir, "hello", "127.0.0.1/test/hello", GO_BUILD);
        let out = dir.join("published");
        let run = run_in(
            &dir.join("publisher"),
            &[
                "build",
                VERSION,
                "--recipe",
                recipe.to_str().unwrap(),
                "--source",
                source.to_str().unwrap(),
                "--out-dir",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(run.code, 0, "publishing build failed:\n{}", run.stderr);
        GoRelease {
            amd64: std::fs::read(out.join("linux-amd64/hello")).unwrap(),
            arm64: std::fs::read(out.join("linux-arm64/hello")).unwrap(),
            source,
            recipe,
            commit,
        }
    })
}

/// A two-platform image of the Go release's binaries at /usr/local/bin/hello.
fn go_image_set(amd64: &[u8], arm64: &[u8]) -> ImageSet {
    let image = |platform: &str, binary: &[u8]| {
        ImageBuilder::new(platform)
            .entrypoint(&["hello"])
            .env("PATH=/usr/local/bin:/usr/bin:/bin")
            .layer(
                LayerBuilder::new()
                    .file("usr/local/bin/hello", binary, 0o755)
                    .build(Compression::Gzip),
            )
            .build()
    };
    ImageSet::new(vec![image(AMD64, amd64), image(ARM64, arm64)])
}

/// Overwrites `from` with `to` (same length) inside `binary`, in place.
fn plant(binary: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let at = binary
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .expect("the banner is in the binary");
    binary[at..at + to.len()].copy_from_slice(to.as_bytes());
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn go_image_built_from_the_tag_is_reproducible_with_a_passed_attestation() {
    let release = go_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let set = go_image_set(&release.amd64, &release.arm64);
    let written = publish(&registry, &tmp.path().join("layout"), &set, "test/hello");
    let image = registry.reference("test/hello");
    let attestation = tmp.path().join("attestation.json");
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &release.recipe,
        release.source.to_str().unwrap(),
        &[
            "--attest",
            attestation.to_str().unwrap(),
            "--verifier-id",
            "https://ci.example/verifier",
        ],
    );
    let report = run.report(0);

    let reference = registry.reference(&format!("test/hello:{VERSION}"));
    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(
        report["image"],
        json!({"reference": reference, "digest": written.top.digest,
               "name": registry.reference("test/hello")})
    );
    assert_eq!(
        report["source"],
        json!({"url": RECIPE_GIT, "fetched_from": release.source.to_str().unwrap(),
               "ref": VERSION, "commit": release.commit})
    );
    let recipe_text = std::fs::read(&release.recipe).unwrap();
    assert_eq!(
        report["recipe"],
        json!({"path": release.recipe.to_str().unwrap(), "sha256": sha256_digest(&recipe_text),
               "inferred": false})
    );
    assert_eq!(report["sandboxed"], true);
    assert_eq!(report["builder"], "host");
    assert_eq!(report["notes"], json!([]));
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "reproducible"), (ARM64, "reproducible")])
    );
    for (i, (name, binary)) in [(AMD64, &release.amd64), (ARM64, &release.arm64)]
        .into_iter()
        .enumerate()
    {
        let p = platform(&report, name);
        let digest = sha256_digest(binary);
        assert_eq!(p["manifest_digest"], written.manifests[i].digest.as_str());
        assert_eq!(p["image_binary"]["path"], "/usr/local/bin/hello");
        assert_eq!(p["image_binary"]["sha256"], digest.as_str());
        assert_eq!(p["image_binary"]["size"], binary.len());
        assert_eq!(p["rebuilt"]["sha256"], digest.as_str());
        assert_eq!(p["rebuilt"]["size"], binary.len());
        assert_eq!(p["published"], Value::Null);
        assert_eq!(p["diff"], Value::Null);
        assert_eq!(p["error"], Value::Null);
        // The Go build info names the tag's commit, unmodified, and the same
        // toolchain; every check that passed is listed.
        let go = Binary::read(Path::new(p["rebuilt"]["path"].as_str().unwrap()))
            .unwrap()
            .go_build_info()
            .unwrap()
            .go_version
            .clone();
        let machine = if name == AMD64 { "x86_64" } else { "aarch64" };
        assert_eq!(
            p["cross_checks"],
            json!([
                format!("ok: ELF binary for {machine}, as the manifest's {name} says"),
                format!("ok: vcs.revision {} is the tag's commit", release.commit),
                "ok: vcs.modified=false",
                format!("ok: go version {go} equals the builder's"),
            ]),
            "{name}"
        );
    }

    let statement = read_json(&attestation);
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://slsa.dev/verification_summary/v1"
    );
    let hex = |digest: &str| digest.trim_start_matches("sha256:").to_string();
    let manifest = |i: usize| {
        let digest = &written.manifests[i].digest;
        json!({"name": format!("{}@{digest}", registry.reference("test/hello")),
               "digest": {"sha256": hex(digest)}})
    };
    assert_eq!(
        statement["subject"],
        json!([
            {"name": reference, "digest": {"sha256": hex(&written.top.digest)}},
            manifest(0),
            {"name": "linux/amd64:/usr/local/bin/hello", "digest": {"sha256": sha256_hex(&release.amd64)}},
            manifest(1),
            {"name": "linux/arm64:/usr/local/bin/hello", "digest": {"sha256": sha256_hex(&release.arm64)}},
        ])
    );
    let predicate = &statement["predicate"];
    assert_eq!(
        predicate["verifier"],
        json!({"id": "https://ci.example/verifier",
               "version": {"rebuild-compare": env!("CARGO_PKG_VERSION")}})
    );
    let time = predicate["timeVerified"].as_str().unwrap();
    assert!(humantime::parse_rfc3339(time).is_ok(), "{time}");
    assert_eq!(
        predicate["resourceUri"],
        format!(
            "{}@{}",
            registry.reference("test/hello"),
            written.top.digest
        )
    );
    assert_eq!(
        predicate["policy"],
        json!({"uri": format!("file://{}", release.recipe.display()),
               "digest": {"sha256": sha256_hex(&recipe_text)}})
    );
    // The index-level statement rests on each platform's, written beside it.
    let beside = |platform: &str| {
        let path = tmp
            .path()
            .join(format!("attestation.{}.json", platform.replace('/', "-")));
        std::fs::read(path).unwrap()
    };
    assert_eq!(
        predicate["inputAttestations"],
        json!([
            {"name": AMD64, "digest": {"sha256": sha256_hex(&beside(AMD64))}},
            {"name": ARM64, "digest": {"sha256": sha256_hex(&beside(ARM64))}},
        ])
    );
    let arm64: Value = serde_json::from_slice(&beside(ARM64)).unwrap();
    assert_eq!(
        arm64["subject"],
        json!([
            manifest(1),
            {"name": reference, "digest": {"sha256": hex(&written.top.digest)}},
            {"name": "linux/arm64:/usr/local/bin/hello", "digest": {"sha256": sha256_hex(&release.arm64)}},
        ])
    );
    assert_eq!(
        arm64["predicate"]["resourceUri"],
        format!(
            "{}@{}",
            registry.reference("test/hello"),
            written.manifests[1].digest
        )
    );
    assert_eq!(arm64["predicate"]["verificationResult"], "PASSED");
    assert_eq!(predicate["verificationResult"], "PASSED");
    assert_eq!(
        predicate["verifiedLevels"],
        json!(["REBUILD_COMPARE_REPRODUCED"])
    );
    assert_eq!(
        predicate["rebuildCompare"],
        json!({
            "source": report["source"],
            "builder": "host",
            "sandboxed": true,
            "platforms": [
                {"platform": AMD64, "verdict": "reproducible",
                 "manifest_digest": written.manifests[0].digest},
                {"platform": ARM64, "verdict": "reproducible",
                 "manifest_digest": written.manifests[1].digest},
            ],
        })
    );
}

#[test]
fn go_image_with_a_planted_string_is_a_mismatch_explained_by_the_string() {
    let release = go_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let mut tampered = release.amd64.clone();
    plant(&mut tampered, BANNER, PLANTED);
    let set = go_image_set(&tampered, &release.arm64);
    publish(&registry, &tmp.path().join("layout"), &set, "test/hello");
    let attestation = tmp.path().join("attestation.json");
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/hello"),
        &release.recipe,
        release.source.to_str().unwrap(),
        &["--attest", attestation.to_str().unwrap()],
    );
    let report = run.report(1);

    assert_eq!(report["verdict"], "mismatch");
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "mismatch"), (ARM64, "reproducible")])
    );
    let amd64 = platform(&report, AMD64);
    assert_eq!(
        amd64["image_binary"]["sha256"],
        sha256_digest(&tampered).as_str()
    );
    assert_eq!(
        amd64["rebuilt"]["sha256"],
        sha256_digest(&release.amd64).as_str()
    );
    assert_eq!(amd64["error"], Value::Null);
    let diff = &amd64["diff"];
    assert_eq!(diff["identical"], false);
    let explanations: Vec<&str> = diff["explanations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    let strings_line = explanations
        .iter()
        .find(|e| e.starts_with("strings only in A: "))
        .unwrap_or_else(|| panic!("no strings explanation in {explanations:#?}"));
    assert!(strings_line.contains(PLANTED), "{strings_line}");
    assert!(
        explanations
            .iter()
            .any(|e| e.starts_with("strings only in B: ") && e.contains(BANNER)),
        "{explanations:#?}"
    );
    // The bytes planted are the only difference: one section, those bytes.
    let planted_bytes = BANNER
        .bytes()
        .zip(PLANTED.bytes())
        .filter(|(a, b)| a != b)
        .count();
    let differing: Vec<(&str, &str, u64)> = diff["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] != "same")
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["status"].as_str().unwrap(),
                s["differing_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(differing, [(".rodata", "differs", planted_bytes as u64)]);
    let arm64 = platform(&report, ARM64);
    assert_eq!(arm64["diff"], Value::Null);
    assert_eq!(arm64["image_binary"]["sha256"], arm64["rebuilt"]["sha256"]);

    let statement = read_json(&attestation);
    assert_eq!(statement["predicate"]["verificationResult"], "FAILED");
    assert_eq!(statement["predicate"]["verifiedLevels"], json!([]));
    assert_eq!(
        statement["subject"][2],
        json!({"name": "linux/amd64:/usr/local/bin/hello", "digest": {"sha256": sha256_hex(&tampered)}})
    );
}

#[test]
fn local_source_is_recorded_as_fetched_from_beside_the_recipes_url_in_json_and_attestation() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, commit) = fast_source(tmp.path());
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let layout = tmp.path().join("layout");
    write_oci_layout(
        &layout,
        VERSION,
        &faithful_set(&[AMD64]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let image = format!("oci:{}:{VERSION}", layout.display());
    let attestation = tmp.path().join("attestation.json");
    let local = source.canonicalize().unwrap();
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &recipe,
        local.to_str().unwrap(),
        &["--attest", attestation.to_str().unwrap()],
    );
    let report = run.report(0);

    let expected = json!({"url": RECIPE_GIT, "ref": VERSION, "commit": commit,
                          "fetched_from": local.to_str().unwrap()});
    assert_eq!(report["source"], expected);
    let statement = read_json(&attestation);
    assert_eq!(statement["predicate"]["rebuildCompare"]["source"], expected);
}

#[test]
fn oci_layout_image_is_verified_with_the_verify_subcommand() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, commit) = fast_source(tmp.path());
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let layout = tmp.path().join("layout");
    let written = write_oci_layout(
        &layout,
        VERSION,
        &faithful_set(&[AMD64, ARM64]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let image = format!("oci:{}:{VERSION}", layout.display());
    let source_url = format!("file://{}", source.display());
    let out_dir = tmp.path().join("out");
    let run = run_in(
        tmp.path(),
        &[
            "verify",
            &image,
            VERSION,
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            &source_url,
            "--format",
            "json",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
    );
    let report = run.report(0);

    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(
        report["image"],
        json!({"reference": image, "digest": written.top.digest,
               "name": format!("oci:{}", layout.display())})
    );
    assert_eq!(
        report["source"],
        json!({"url": RECIPE_GIT, "fetched_from": source_url, "ref": VERSION, "commit": commit})
    );
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "reproducible"), (ARM64, "reproducible")])
    );
    assert_reproduced(&report, AMD64, &fast_binary(AMD64));
    assert_reproduced(&report, ARM64, &fast_binary(ARM64));
    let rebuilt = platform(&report, ARM64)["rebuilt"]["path"]
        .as_str()
        .unwrap();
    assert_eq!(Path::new(rebuilt), out_dir.join("linux-arm64/app"));
}

/// The manifest digest the registry serves for `reference` now.
fn current_digest(reference: &str) -> String {
    sha256_digest(&inspect_raw(reference, None))
}

#[test]
fn a_tag_moved_after_resolving_is_not_followed() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let first_set = faithful_set(&[AMD64, ARM64]);
    let first = publish(&registry, &tmp.path().join("first"), &first_set, "test/app");
    // The same binaries, repackaged: a new config, so new manifests and index.
    let second_set = ImageSet::new(
        [AMD64, ARM64]
            .iter()
            .map(|p| {
                ImageBuilder::new(p)
                    .entrypoint(&["/usr/local/bin/app"])
                    .label("release", "second")
                    .layer(
                        LayerBuilder::new()
                            .file("usr/local/bin/app", &fast_binary(p), 0o755)
                            .build(Compression::Gzip),
                    )
                    .build()
            })
            .collect(),
    );
    let reference = registry.reference(&format!("test/app:{VERSION}"));

    let access = AccessOptions::new(Cache::new(Some(&tmp.path().join("cache"))).unwrap());
    let image = Image::open(&ImageLocation::parse(&reference).unwrap(), &access).unwrap();
    let resolved = image.resolve().unwrap();
    assert_eq!(resolved.digest.to_string(), first.top.digest);
    let second = publish(
        &registry,
        &tmp.path().join("second"),
        &second_set,
        "test/app",
    );
    assert_eq!(current_digest(&reference), second.top.digest);
    let platforms = image.platforms(&resolved, &[]).unwrap();
    let manifests: Vec<String> = platforms
        .iter()
        .map(|p| p.manifest_digest.to_string())
        .collect();
    let first_manifests: Vec<String> = first.manifests.iter().map(|d| d.digest.clone()).collect();
    assert_eq!(manifests, first_manifests);
    let configs: Vec<String> = platforms
        .iter()
        .map(|p| p.config_digest().to_string())
        .collect();
    let first_configs: Vec<String> = first_set
        .images
        .iter()
        .map(|i| i.config_digest.clone())
        .collect();
    assert_eq!(configs, first_configs);

    // The command line reports the digest the tag pointed to when it
    // started, run after run (the cache never answers for a tag), and a
    // second run may reuse the first one's output directory.
    let (source, _) = fast_source(tmp.path());
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let home = tmp.path().join("home");
    let source = source.to_str().unwrap();
    let report = verify(&home, "out", &reference, &recipe, source, &[]).report(0);
    assert_eq!(report["image"]["digest"], second.top.digest.as_str());
    let third = publish(&registry, &tmp.path().join("third"), &first_set, "test/app");
    assert_eq!(third.top.digest, first.top.digest);
    let report = verify(&home, "out", &reference, &recipe, source, &[]).report(0);
    assert_eq!(report["image"]["digest"], first.top.digest.as_str());
}

#[test]
fn a_tag_moved_while_the_command_runs_is_not_followed() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let first = publish(
        &registry,
        &tmp.path().join("first"),
        &faithful_set(&[AMD64, ARM64]),
        "test/app",
    );
    // What the tag moves to: other binaries, so reading any of it would be a mismatch.
    let moved_dir = tmp.path().join("moved");
    let moved_set = ImageSet::new(vec![
        app_image(AMD64, b"app moved\n"),
        app_image(ARM64, b"app moved\n"),
    ]);
    let moved = write_oci_layout(
        &moved_dir,
        VERSION,
        &moved_set,
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let reference = registry.reference(&format!("test/app:{VERSION}"));
    // Each platform's fetch step asks for the tag to move, through a file in
    // its /out (its network cannot reach this test's loopback), and waits
    // until the test has moved it.
    let target = reference.clone();
    let work_outs: Vec<PathBuf> = ["linux-amd64", "linux-arm64"]
        .iter()
        .map(|dir| tmp.path().join("out").join(dir).join("work/out"))
        .collect();
    let mover = thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(300);
        let mut answered = 0;
        let mut pending = work_outs;
        while !pending.is_empty() && Instant::now() < deadline {
            for out in std::mem::take(&mut pending) {
                if !out.join("move").exists() {
                    pending.push(out);
                    continue;
                }
                if answered == 0 {
                    push(&moved_dir, VERSION, &target, None);
                }
                std::fs::write(out.join("moved"), "").unwrap();
                answered += 1;
            }
            thread::sleep(Duration::from_millis(10));
        }
        answered
    });
    let build = FAST_BUILD.replacen(
        "builder = \"host\"\n",
        "builder = \"host\"\nfetch = [\"/bin/sh\", \"-c\", \"touch /out/move; i=0; \
         while [ ! -e /out/moved ] && [ $i -lt 3000 ]; do sleep 0.1; i=$((i+1)); done\"]\n",
        1,
    );
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", &build);
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    assert_eq!(mover.join().unwrap(), 2);
    assert_eq!(current_digest(&reference), moved.top.digest);
    let report = run.report(0);

    assert_eq!(report["image"]["digest"], first.top.digest.as_str());
    assert_reproduced(&report, AMD64, &fast_binary(AMD64));
    assert_reproduced(&report, ARM64, &fast_binary(ARM64));
}

/// What a [`LoopbackServer`] answers for a request target: a 200 body, or 404.
type Respond = Box<dyn FnMut(&str) -> Option<String> + Send>;

/// A loopback HTTP server answering `GET`s through `respond` for at most
/// `limit` requests or until stopped, then gone.
struct LoopbackServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<String>>>,
}

impl LoopbackServer {
    fn start(limit: usize, mut respond: Respond) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(300);
            let mut requested = Vec::new();
            while requested.len() < limit
                && !stopped.load(Ordering::SeqCst)
                && Instant::now() < deadline
            {
                match listener.accept() {
                    Ok((stream, _)) => requested.push(answer(stream, &mut respond)),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(10))
                    }
                    Err(e) => panic!("loopback server accept: {e}"),
                }
            }
            requested
        });
        LoopbackServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// Serves `files` (`(path, body)`), 404 for anything else.
    fn serve_files(files: &[(&str, String)], limit: usize) -> Self {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(path, body)| (path.to_string(), body.clone()))
            .collect();
        Self::start(
            limit,
            Box::new(move |target| {
                files
                    .iter()
                    .find(|(path, _)| path == target)
                    .map(|(_, body)| body.clone())
            }),
        )
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server and returns the request targets it answered, in order.
    fn requests(mut self) -> Vec<String> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request's head from `stream`, answers it and returns its target.
fn answer(stream: TcpStream, respond: &mut Respond) -> String {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).unwrap();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
    }
    let target = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let body = if request_line.starts_with("GET ") {
        respond(&target)
    } else {
        None
    };
    let (status, body) = match body {
        Some(body) => ("200 OK", body),
        None => ("404 Not Found", "not found\n".to_string()),
    };
    let mut writer = &stream;
    write!(
        writer,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    target
}

/// [`FAST_BUILD`] with the maintainers' SHA256SUMS at `base`.
fn published_recipe(dir: &Path, base: &str) -> PathBuf {
    let published = format!(
        "\n[published]\nsha256sums = \"{base}/{{version}}/SHA256SUMS\"\nentry = \"app-{{os}}-{{arch}}\"\n"
    );
    write_recipe(
        dir,
        "app",
        "127.0.0.1/test/app",
        &format!("{FAST_BUILD}{published}"),
    )
}

#[test]
fn published_checksums_that_match_the_image_keep_it_reproducible() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64, ARM64]),
        "test/app",
    );
    let sums = format!(
        "{}  app-linux-amd64\n{}  app-linux-arm64\n",
        sha256_hex(&fast_binary(AMD64)),
        sha256_hex(&fast_binary(ARM64))
    );
    let server = LoopbackServer::serve_files(&[("/v1.0.0/SHA256SUMS", sums)], 4);
    let recipe = published_recipe(tmp.path(), &server.url());
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let sums_url = format!("{}/v1.0.0/SHA256SUMS", server.url());
    assert_eq!(server.requests(), vec!["/v1.0.0/SHA256SUMS"; 2]);
    let report = run.report(0);

    assert_eq!(report["verdict"], "reproducible");
    for name in [AMD64, ARM64] {
        assert_reproduced(&report, name, &fast_binary(name));
        let p = platform(&report, name);
        assert_eq!(
            p["published"],
            json!({"sha256": sha256_digest(&fast_binary(name)), "url": sums_url,
                   "matches_image": true, "matches_rebuilt": true})
        );
        assert_eq!(p["published"]["sha256"], p["image_binary"]["sha256"]);
    }
}

#[test]
fn published_checksum_disagreeing_with_the_image_is_a_mismatch() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64, ARM64]),
        "test/app",
    );
    let other = b"app linux/amd64 as the maintainers built it\n";
    let sums = format!(
        "{}  app-linux-amd64\n{}  app-linux-arm64\n",
        sha256_hex(other),
        sha256_hex(&fast_binary(ARM64))
    );
    let server = LoopbackServer::serve_files(&[("/v1.0.0/SHA256SUMS", sums)], 4);
    let recipe = published_recipe(tmp.path(), &server.url());
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let sums_url = format!("{}/v1.0.0/SHA256SUMS", server.url());
    assert_eq!(server.requests(), vec!["/v1.0.0/SHA256SUMS"; 2]);
    let report = run.report(1);

    assert_eq!(report["verdict"], "mismatch");
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "mismatch"), (ARM64, "reproducible")])
    );
    let amd64 = platform(&report, AMD64);
    let image_digest = sha256_digest(&fast_binary(AMD64));
    // The rebuild agrees with the image: only the published digest disagrees.
    assert_eq!(amd64["image_binary"]["sha256"], image_digest.as_str());
    assert_eq!(amd64["rebuilt"]["sha256"], image_digest.as_str());
    assert_eq!(
        amd64["published"],
        json!({"sha256": sha256_digest(other), "url": sums_url,
               "matches_image": false, "matches_rebuilt": false})
    );
    assert_eq!(amd64["diff"], Value::Null);
    assert_eq!(platform(&report, ARM64)["published"]["matches_image"], true);
}

#[test]
fn image_without_a_recipe_names_close_matches_before_inferring_one() {
    let tmp = tempfile::tempdir().unwrap();
    let recipes = tmp.path().join("recipes");
    std::fs::create_dir_all(&recipes).unwrap();
    write_recipe(&recipes, "known", "127.0.0.1:9/nothing/knwon", FAST_BUILD);
    let run = run_in(
        tmp.path(),
        &[
            "127.0.0.1:9/nothing/known",
            "v1",
            "--recipes",
            recipes.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "note: no recipe covers 127.0.0.1:9/nothing/known (close matches: \
             127.0.0.1:9/nothing/knwon; pass one with --recipe builtin:NAME if you meant it)"
        )
    );
    assert!(
        run.stderr
            .contains("error: cannot read the published image 127.0.0.1:9/nothing/known:v1: "),
        "{}",
        run.stderr
    );
}

#[test]
fn failed_build_is_that_platforms_error_while_the_other_is_still_compared() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64, ARM64]),
        "test/app",
    );
    let recipe = write_recipe(
        tmp.path(),
        "app",
        "127.0.0.1/test/app",
        r#"[build]
builder = "host"
command = ["/bin/sh", "-c", "if [ -n \"$BREAK\" ]; then echo \"linker ran out of {arch} bytes\" >&2; exit 3; fi; printf 'app {os}/{arch}\\n' > /out/app"]
artifact = "/out/app"

[build.platforms."linux/amd64"]
[build.platforms."linux/arm64"]
env = { BREAK = "1" }
"#,
    );
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let report = run.report(2);

    assert_eq!(report["verdict"], "error");
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "reproducible"), (ARM64, "error")])
    );
    assert_reproduced(&report, AMD64, &fast_binary(AMD64));
    let arm64 = platform(&report, ARM64);
    assert_eq!(
        arm64["image_binary"]["sha256"],
        sha256_digest(&fast_binary(ARM64)).as_str()
    );
    assert_eq!(arm64["rebuilt"], Value::Null);
    let error = arm64["error"].as_str().unwrap();
    let log = tmp.path().join("out/linux-arm64/build.log");
    let head = format!(
        "rebuild: command failed (exit status 3); log: {}\n",
        log.display()
    );
    assert!(error.starts_with(&head), "{error}");
    assert!(
        error.ends_with("\n  | linker ran out of arm64 bytes"),
        "{error}"
    );
    assert_eq!(
        report["notes"],
        json!(["1 platform(s) could not be compared"])
    );
    assert_eq!(
        run.stderr,
        "error: verification incomplete: 1 platform(s) could not be compared\n"
    );
}

#[test]
fn platform_the_recipe_cannot_build_is_skipped_and_the_rest_passes() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let set = faithful_set(&[AMD64, "linux/s390x"]);
    let written = publish(&registry, &tmp.path().join("layout"), &set, "test/app");
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let attestation = tmp.path().join("attestation.json");
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &["--attest", attestation.to_str().unwrap()],
    );
    let report = run.report(0);

    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "reproducible"), ("linux/s390x", "skipped")])
    );
    assert_reproduced(&report, AMD64, &fast_binary(AMD64));
    let s390x = platform(&report, "linux/s390x");
    assert_eq!(
        s390x["error"],
        "the recipe cannot build linux/s390x (it builds linux/amd64, linux/arm64)"
    );
    assert_eq!(s390x["image_binary"], Value::Null);
    assert_eq!(s390x["rebuilt"], Value::Null);
    // Not compared, yet the manifest that was read is named.
    assert_eq!(
        s390x["manifest_digest"],
        written.manifests[1].digest.as_str()
    );
    assert_eq!(
        report["notes"],
        json!(["1 platform(s) skipped: the recipe cannot build them; they were not verified"])
    );
    // Only what was compared is attested: the one platform's statement,
    // its manifest first, the image beside it.
    let statement = read_json(&attestation);
    assert_eq!(statement["predicate"]["verificationResult"], "PASSED");
    let subjects: Vec<&str> = statement["subject"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    let reference = registry.reference(&format!("test/app:{VERSION}"));
    let amd64_manifest = format!(
        "{}@{}",
        registry.reference("test/app"),
        written.manifests[0].digest
    );
    assert_eq!(
        subjects,
        [
            amd64_manifest.as_str(),
            reference.as_str(),
            "linux/amd64:/usr/local/bin/app"
        ]
    );
}

#[test]
fn image_with_only_platforms_the_recipe_cannot_build_is_an_error() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let set = faithful_set(&["linux/s390x", "linux/riscv64"]);
    publish(&registry, &tmp.path().join("layout"), &set, "test/app");
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let report = run.report(2);

    assert_eq!(report["verdict"], "error");
    assert_eq!(
        verdicts(&report),
        pairs(&[("linux/riscv64", "skipped"), ("linux/s390x", "skipped")])
    );
    assert_eq!(
        report["notes"],
        json!([
            "2 platform(s) skipped: the recipe cannot build them; they were not verified",
            "no platform could be compared, so nothing was verified"
        ])
    );
    assert_eq!(
        run.stderr,
        "error: verification incomplete: 2 platform(s) skipped: the recipe cannot build them; \
         they were not verified; no platform could be compared, so nothing was verified\n"
    );
}

#[test]
fn mismatch_outranks_a_failed_platform_and_the_notes_say_it_was_not_compared() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let tampered = b"app linux/amd64 with a backdoor\n";
    let set = ImageSet::new(vec![
        app_image(AMD64, tampered),
        app_image(ARM64, &fast_binary(ARM64)),
    ]);
    publish(&registry, &tmp.path().join("layout"), &set, "test/app");
    let recipe = write_recipe(
        tmp.path(),
        "app",
        "127.0.0.1/test/app",
        r#"[build]
builder = "host"
command = ["/bin/sh", "-c", "test {arch} = amd64 && printf 'app {os}/{arch}\\n' > /out/app"]
artifact = "/out/app"

[build.platforms."linux/amd64"]
[build.platforms."linux/arm64"]
"#,
    );
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let report = run.report(1);

    assert_eq!(report["verdict"], "mismatch");
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "mismatch"), (ARM64, "error")])
    );
    let amd64 = platform(&report, AMD64);
    assert_eq!(
        amd64["image_binary"]["sha256"],
        sha256_digest(tampered).as_str()
    );
    assert_eq!(
        amd64["rebuilt"]["sha256"],
        sha256_digest(&fast_binary(AMD64)).as_str()
    );
    // Only what was inserted, not the line it was inserted into.
    assert_eq!(
        amd64["diff"]["explanations"][0],
        "strings only in A: \" with a backdoor\""
    );
    assert_eq!(amd64["causes"], json!(["data"]));
    assert_eq!(
        report["notes"],
        json!(["1 platform(s) could not be compared"])
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn published_single_digest_file_is_fetched_for_the_requested_platform_only() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let set = faithful_set(&[AMD64, ARM64]);
    publish(&registry, &tmp.path().join("layout"), &set, "test/app");
    let digest_file = format!("sha256:{}\n", sha256_hex(&fast_binary(ARM64)));
    let server = LoopbackServer::serve_files(&[("/v1.0.0/app-linux-arm64.sha256", digest_file)], 4);
    let published = format!(
        "\n[published]\nsha256 = \"{}/{{version}}/app-{{os}}-{{arch}}.sha256\"\n",
        server.url()
    );
    let recipe = write_recipe(
        tmp.path(),
        "app",
        "127.0.0.1/test/app",
        &format!("{FAST_BUILD}{published}"),
    );
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &["--platform", ARM64],
    );
    let url = format!("{}/v1.0.0/app-linux-arm64.sha256", server.url());
    assert_eq!(server.requests(), ["/v1.0.0/app-linux-arm64.sha256"]);
    let report = run.report(0);

    assert_eq!(verdicts(&report), pairs(&[(ARM64, "reproducible")]));
    assert_reproduced(&report, ARM64, &fast_binary(ARM64));
    assert_eq!(
        platform(&report, ARM64)["published"],
        json!({"sha256": sha256_digest(&fast_binary(ARM64)), "url": url,
               "matches_image": true, "matches_rebuilt": true})
    );
}

#[test]
fn published_checksums_over_plain_http_off_loopback_are_refused_as_an_error() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let set = faithful_set(&[AMD64]);
    publish(&registry, &tmp.path().join("layout"), &set, "test/app");
    let recipe = published_recipe(tmp.path(), "http://checksums.invalid");
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let report = run.report(2);

    assert_eq!(report["verdict"], "error");
    let amd64 = platform(&report, AMD64);
    assert_eq!(amd64["verdict"], "error");
    assert_eq!(amd64["image_binary"]["sha256"], amd64["rebuilt"]["sha256"]);
    assert_eq!(amd64["published"], Value::Null);
    assert_eq!(amd64["published_skipped"], false);
    assert_eq!(
        amd64["error"],
        "published checksum: refusing to fetch published checksums over plain HTTP \
         from http://checksums.invalid/v1.0.0/SHA256SUMS: use https (plain HTTP is \
         allowed for loopback hosts only)"
    );
}

/// A loopback port nothing listens on (bound, then let go).
fn closed_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn unreachable_published_checksums_make_the_platform_an_error_naming_the_url_and_cause() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64]),
        "test/app",
    );
    let base = format!("http://127.0.0.1:{}", closed_loopback_port());
    let recipe = published_recipe(tmp.path(), &base);
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let report = run.report(2);

    assert_eq!(report["verdict"], "error");
    let amd64 = platform(&report, AMD64);
    assert_eq!(amd64["verdict"], "error");
    // The rebuild matched the image binary, but the declared check did not run.
    assert_eq!(
        amd64["rebuilt"]["sha256"],
        sha256_digest(&fast_binary(AMD64)).as_str()
    );
    assert_eq!(amd64["published"], Value::Null);
    assert_eq!(
        amd64["error"],
        format!(
            "published checksum: cannot fetch published checksums from {base}/v1.0.0/SHA256SUMS: \
             error sending request: client error (Connect): tcp connect error: Connection refused \
             (os error 111)"
        )
    );
    assert!(!amd64["cross_checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c.as_str().unwrap().contains("published")));
}

#[test]
fn skip_published_proceeds_and_the_report_and_attestation_record_the_skipped_check() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64, ARM64]),
        "test/app",
    );
    let recipe = published_recipe(
        tmp.path(),
        &format!("http://127.0.0.1:{}", closed_loopback_port()),
    );
    let attestation = tmp.path().join("attestation.json");
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[
            "--skip-published",
            "--attest",
            attestation.to_str().unwrap(),
        ],
    );
    let report = run.report(0);

    assert_eq!(report["verdict"], "reproducible");
    for name in [AMD64, ARM64] {
        assert_reproduced(&report, name, &fast_binary(name));
        let p = platform(&report, name);
        assert_eq!(p["published"], Value::Null);
        assert_eq!(p["published_skipped"], true);
    }
    let predicate = &read_json(&attestation)["predicate"];
    assert_eq!(predicate["verificationResult"], "PASSED");
    assert_eq!(
        predicate["rebuildCompare"]["platforms"],
        json!([
            {"platform": AMD64, "verdict": "reproducible", "published_skipped": true,
             "manifest_digest": platform(&report, AMD64)["manifest_digest"]},
            {"platform": ARM64, "verdict": "reproducible", "published_skipped": true,
             "manifest_digest": platform(&report, ARM64)["manifest_digest"]},
        ])
    );

    // The text report says so in the table and per platform.
    let text = run_in(
        tmp.path(),
        &[
            &registry.reference("test/app"),
            VERSION,
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            source.to_str().unwrap(),
            "--out-dir",
            tmp.path().join("text").to_str().unwrap(),
            "--skip-published",
        ],
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    let published_column: Vec<&str> = text
        .stdout
        .lines()
        .filter(|l| l.starts_with("linux/") && l.ends_with("reproducible"))
        .map(|l| l.split_whitespace().nth(3).unwrap())
        .collect();
    assert_eq!(published_column, ["skipped", "skipped"], "{}", text.stdout);
    assert_eq!(
        text.stdout
            .matches("\n  published checksum: not checked (--skip-published)\n")
            .count(),
        2,
        "{}",
        text.stdout
    );
}

#[test]
fn missing_image_binary_is_that_platforms_error_and_the_rebuild_is_still_reported() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let without_binary = ImageBuilder::new(ARM64)
        .entrypoint(&["app"])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", b"ID=test\n", 0o644)
                .build(Compression::Gzip),
        )
        .build();
    let set = ImageSet::new(vec![app_image(AMD64, &fast_binary(AMD64)), without_binary]);
    publish(&registry, &tmp.path().join("layout"), &set, "test/app");
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let run = verify(
        tmp.path(),
        "out",
        &registry.reference("test/app"),
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let report = run.report(2);

    assert_eq!(report["verdict"], "error");
    assert_eq!(
        verdicts(&report),
        pairs(&[(AMD64, "reproducible"), (ARM64, "error")])
    );
    let arm64 = platform(&report, ARM64);
    assert_eq!(arm64["image_binary"], Value::Null);
    assert_eq!(
        arm64["rebuilt"]["sha256"],
        sha256_digest(&fast_binary(ARM64)).as_str()
    );
    assert_eq!(
        arm64["error"],
        "image binary: program \"app\" not found: no executable regular file of that name \
         in PATH /usr/local/bin:/usr/bin:/bin"
    );
}

// --- A Go release built without -trimpath in a CI runner's directory ---------

/// Where GitHub Actions checks a repository `x/x` out.
const RUNNER_DIR: &str = "/home/runner/work/x/x";

/// Builds the tag of `source` for linux/amd64 as a CI runner would, without
/// `-trimpath`, in [`RUNNER_DIR`]: a clean clone of the tag bound there by
/// bwrap, built by Debian's `go` (rebuild-compare plays no part in it).
fn runner_build(source: &Path, dir: &Path) -> Vec<u8> {
    let checkout = support::go::checkout(source, VERSION, &dir.join("runner-checkout"));
    support::go::GoBuild::new(&checkout, RUNNER_DIR)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-buildvcs=true")
        .env("GOOS", "linux")
        .env("GOARCH", "amd64")
        .build(&[], &dir.join("runner-out"))
}

/// The Go build without `-trimpath`; `workdir` is a `workdir = ...` line or empty.
fn untrimmed_go_build(workdir: &str) -> String {
    format!(
        r#"[build]
builder = "host"
{workdir}
command = ["go", "build", "-o", "/out/hello", "."]
artifact = "/out/hello"
env = {{ CGO_ENABLED = "0", GOCACHE = "/cache/gocache", GOPROXY = "off", GOFLAGS = "-buildvcs=true" }}

[build.platforms."linux/amd64"]
env = {{ GOOS = "{{os}}", GOARCH = "{{arch}}" }}
"#
    )
}

#[test]
fn go_binary_built_without_trimpath_in_a_runner_directory_is_reproduced_with_workdir() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("hello");
    tagged_repo(
        &source,
        &[
            ("main.go", GO_MAIN),
            ("go.mod", "module example.com/hello\n\ngo 1.19\n"),
        ],
    );
    let published = runner_build(&source, tmp.path());
    let embedded = format!("{RUNNER_DIR}/main.go");
    assert!(
        published
            .windows(embedded.len())
            .any(|w| w == embedded.as_bytes()),
        "the runner's binary embeds {embedded}"
    );
    let layout = tmp.path().join("layout");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["hello"])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .layer(
            LayerBuilder::new()
                .file("usr/local/bin/hello", &published, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    write_oci_layout(
        &layout,
        VERSION,
        &ImageSet::new(vec![image]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let image = format!("oci:{}:{VERSION}", layout.display());
    let source = source.to_str().unwrap();

    let in_runner_dir = write_recipe(
        tmp.path(),
        "runner",
        "127.0.0.1/test/hello",
        &untrimmed_go_build(&format!("workdir = {RUNNER_DIR:?}")),
    );
    let run = verify(tmp.path(), "out", &image, &in_runner_dir, source, &[]);
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible");
    let p = platform(&report, AMD64);
    assert_eq!(p["verdict"], "reproducible");
    assert_eq!(p["rebuilt"]["sha256"], sha256_digest(&published).as_str());
    // Every cross-check ran and passed.
    let go = Binary::read(Path::new(p["rebuilt"]["path"].as_str().unwrap()))
        .unwrap()
        .go_build_info()
        .unwrap()
        .go_version
        .clone();
    assert_eq!(
        p["cross_checks"],
        json!([
            "ok: ELF binary for x86_64, as the manifest's linux/amd64 says",
            format!(
                "ok: vcs.revision {} is the tag's commit",
                report["source"]["commit"].as_str().unwrap()
            ),
            "ok: vcs.modified=false",
            format!("ok: go version {go} equals the builder's"),
        ])
    );

    let in_src = write_recipe(
        tmp.path(),
        "src",
        "127.0.0.1/test/hello",
        &untrimmed_go_build(""),
    );
    // Today's comparison, with the recipe's rebuild alone (the closest
    // rebuild is tests/adjust.rs's).
    let run = verify(
        tmp.path(),
        "out-src",
        &image,
        &in_src,
        source,
        &["--no-adjust"],
    );
    let report = run.report(1);
    assert_eq!(report["verdict"], "mismatch");
    let explanations = &platform(&report, AMD64)["diff"]["explanations"];
    assert!(
        explanations.as_array().unwrap().iter().any(|e| e
            == "paths under /home/runner/work/x/x embedded only in A and under /src only in B: \
                built in different directories (built without -trimpath (Go) or \
                -ffile-prefix-map (C/Rust))"),
        "{explanations:#}"
    );
}

#[test]
fn untagged_oci_layout_with_several_images_is_read_at_the_recipes_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let layout = tmp.path().join("layout");
    let older = ImageSet::new(vec![app_image(AMD64, b"app v0.9.0\n")]);
    write_oci_layout(
        &layout,
        "v0.9.0",
        &older,
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let written = write_oci_layout(
        &layout,
        VERSION,
        &faithful_set(&[AMD64]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    write_oci_layout(
        &layout,
        "latest",
        &older,
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let untagged = format!("oci:{}", layout.display());
    let source = source.to_str().unwrap();

    let run = verify(tmp.path(), "out", &untagged, &recipe, source, &[]);
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(
        report["image"],
        json!({"reference": format!("{untagged}:{VERSION}"), "digest": written.top.digest,
               "name": untagged})
    );
    assert_eq!(
        report["notes"],
        json!([format!(
            "{untagged} holds 3 images; verified the one tagged {VERSION}, the recipe's tag for {VERSION}"
        )])
    );
    assert_reproduced(&report, AMD64, &fast_binary(AMD64));

    let tagged_otherwise = tmp.path().join("v2.toml");
    std::fs::write(
        &tagged_otherwise,
        std::fs::read_to_string(&recipe)
            .unwrap()
            .replace("tag = \"{version}\"", "tag = \"v2-{version}\""),
    )
    .unwrap();
    let run = verify(
        tmp.path(),
        "out-missing",
        &untagged,
        &tagged_otherwise,
        source,
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot read the published image {untagged}:v2-{VERSION}: no image \
             tagged \"v2-{VERSION}\" in {}; tags: v0.9.0, {VERSION}, latest\n",
            layout.display()
        )
    );
}

#[test]
fn oci_layout_holding_one_image_needs_no_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let layout = tmp.path().join("layout");
    let written = write_oci_layout(
        &layout,
        "anything",
        &faithful_set(&[AMD64]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let untagged = format!("oci:{}", layout.display());
    let run = verify(
        tmp.path(),
        "out",
        &untagged,
        &recipe,
        source.to_str().unwrap(),
        &[],
    );
    let report = run.report(0);
    assert_eq!(report["image"]["reference"], untagged);
    assert_eq!(report["image"]["digest"], written.top.digest);
    assert_eq!(report["notes"], json!([]));
}

#[test]
fn finds_recipe_for_a_mirror_registry_reference_and_notes_why() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64]),
        "test/app",
    );
    let recipes = tmp.path().join("recipes");
    std::fs::create_dir_all(&recipes).unwrap();
    let recipe = write_recipe(&recipes, "app", "docker.io/test/app", FAST_BUILD);
    let mirror = registry.reference("test/app");
    let out_dir = tmp.path().join("out");
    let run = run_in(
        tmp.path(),
        &[
            &mirror,
            VERSION,
            "--recipes",
            recipes.to_str().unwrap(),
            "--source",
            source.to_str().unwrap(),
            "--format",
            "json",
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
    );
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(report["recipe"]["path"], recipe.to_str().unwrap());
    assert_eq!(
        report["image"]["reference"],
        registry.reference(&format!("test/app:{VERSION}"))
    );
    assert_eq!(
        report["notes"],
        json!([format!(
            "recipe {}: covers docker.io/test/app, matched by repository path test/app on {}",
            recipe.display(),
            registry.host()
        )])
    );
    assert_reproduced(&report, AMD64, &fast_binary(AMD64));
}

/// Runs `rebuild-compare ARGS` on a pseudo-terminal (`script` from
/// bsdutils, 120 columns) with the isolation of [`run_in`], and returns
/// everything the terminal received, stdout and stderr interleaved.
fn run_on_terminal(home: &Path, args: &[&str]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut line = format!(
        "stty cols 120 rows 40; exec {}",
        quote(env!("CARGO_BIN_EXE_rebuild-compare"))
    );
    for arg in args {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    let mut script = std::process::Command::new("script");
    script.args(["-qec", &line, "/dev/null"]);
    support::cli::isolate(&mut script, home);
    let out = script
        .env("TERM", "xterm")
        .output()
        .expect("run script (bsdutils)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn on_a_terminal_the_build_spinner_shows_its_time_and_ends_with_a_line_of_its_own() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64]),
        "test/app",
    );
    let slow_build = FAST_BUILD.replace(
        r#"command = ["/bin/sh", "-c", "printf"#,
        r#"command = ["/bin/sh", "-c", "echo compiling the app; sleep 1; printf"#,
    );
    assert_ne!(slow_build, FAST_BUILD);
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", &slow_build);
    let out_dir = tmp.path().join("out");
    let screen = run_on_terminal(
        tmp.path(),
        &[
            &registry.reference("test/app"),
            VERSION,
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            source.to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
        ],
    );
    // The spinner: platform, time run so far, last log line.
    let spinner = screen
        .split(['\r', '\n'])
        .find(|l| l.contains("build linux/amd64") && l.contains("compiling the app"))
        .unwrap_or_else(|| panic!("no spinner line in {screen:?}"));
    let after = spinner
        .split("build linux/amd64")
        .nth(1)
        .unwrap()
        .trim_start();
    let elapsed = after.split_whitespace().next().unwrap();
    assert!(
        elapsed.ends_with('s')
            && elapsed[..elapsed.len() - 1]
                .bytes()
                .all(|b| b.is_ascii_digit()),
        "{spinner:?}"
    );
    assert_eq!(
        after.trim_start_matches(elapsed).trim(),
        "compiling the app",
        "{spinner:?}"
    );
    // The finished build's line ends with a newline, and the report starts
    // on a line of its own.
    let done = screen
        .find("build linux/amd64 done in ")
        .unwrap_or_else(|| panic!("no done line in {screen:?}"));
    let rest = &screen[done + "build linux/amd64 done in ".len()..];
    let end = rest.find("\r\n").unwrap();
    let took = &rest[..end];
    assert!(
        took.ends_with('s') && took[..took.len() - 1].bytes().all(|b| b.is_ascii_digit()),
        "{:?}",
        &rest[..end + 2]
    );
    let image = screen.find("Image    ").unwrap();
    assert!(screen[..image].ends_with('\n'), "{screen:?}");
    assert!(screen.contains("verdict: REPRODUCIBLE"), "{screen:?}");
}

#[test]
fn recipe_with_an_https_git_url_verifies_end_to_end_over_a_loopback_https_server() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("git");
    let (_, commit) = fast_source(&root);
    let ca = support::git_server::TestCa::create(&tmp.path().join("tls"));
    let server = support::git_server::GitServer::https(&root, &ca, None);
    let url = server.url("upstream");
    publish(
        &registry,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64, ARM64]),
        "test/app",
    );
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let text = std::fs::read_to_string(&recipe)
        .unwrap()
        .replace(RECIPE_GIT, &url);
    std::fs::write(&recipe, text).unwrap();
    let out_dir = tmp.path().join("out");
    let run = support::cli::run_in_env(
        tmp.path(),
        &[("SSL_CERT_FILE", ca.ca_cert.to_str().unwrap())],
        &[
            &registry.reference("test/app"),
            VERSION,
            "--recipe",
            recipe.to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(
        report["source"],
        json!({"url": url, "ref": VERSION, "commit": commit})
    );
    assert_reproduced(&report, AMD64, &fast_binary(AMD64));
    assert_reproduced(&report, ARM64, &fast_binary(ARM64));
}
