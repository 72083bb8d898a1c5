//! The closest rebuild: `verify` with a recipe whose rebuild does not
//! reproduce the image binary rebuilds with the inputs the published Go
//! binary records (its build directory, its `-ldflags`), passes only when
//! every input it took is part of the build environment, confirms a
//! program input as the cause, and explains what is left against the
//! closest rebuild. Real Go builds (the published one as a CI runner makes
//! it, in bubblewrap), a loopback registry, images pushed with skopeo.

use crate::support;

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{json, Value};
use support::cli::{platform_entry, run_in, Run};
use support::fast_app::*;
use support::go::{checkout, GoBuild, RUNNER_DIR};
use support::{sha256_digest, ImageSet, Registry};

const MAIN_GO: &str = "package main\n\nimport \"fmt\"\n\n\
                       var banner = \"hello from the adjust test\"\n\n\
                       var endpoint = \"https://api.example\"\n\n\
                       func main() { fmt.Println(banner, endpoint) }\n";
const BANNER: &str = "hello from the adjust test";
const PLANTED: &str = "beacon: https://c2.example";
const ENDPOINT: &str = "https://c2.example/api";

/// The recipe: `go build` without `-trimpath` in the default `/src`.
const RECIPE_BUILD: &str = r#"[build]
builder = "host"
command = ["go", "build", "-o", "/out/app", "."]
artifact = "/out/app"
env = { CGO_ENABLED = "0", GOCACHE = "/cache/gocache", GOPROXY = "off", GOFLAGS = "-buildvcs=true" }

[build.platforms."linux/amd64"]
env = { GOOS = "{os}", GOARCH = "{arch}" }
"#;

/// The tagged source and the recipe for it.
struct Release {
    dir: std::path::PathBuf,
    source: std::path::PathBuf,
    recipe: std::path::PathBuf,
}

fn release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        // Kept for the life of the test process, unique to it.
        let dir = tempfile::Builder::new()
            .prefix("adjust-release-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        let source = dir.join("app");
        tagged_repo(
            &source,
            &[
                ("main.go", MAIN_GO),
                ("go.mod", "module example.com/app\n\ngo 1.19\n"),
            ],
        );
        let recipe = write_recipe(&dir, "app", "127.0.0.1/test/app", RECIPE_BUILD);
        Release {
            dir,
            source,
            recipe,
        }
    })
}

/// The tag built for linux/amd64 as a CI runner builds it: a clean clone
/// bound at [`RUNNER_DIR`], no `-trimpath`, `flags` added.
fn runner_build(name: &str, flags: &[&str]) -> Vec<u8> {
    let release = release();
    let dir = release.dir.join(name);
    let clone = checkout(&release.source, VERSION, &dir.join("checkout"));
    GoBuild::new(&clone, RUNNER_DIR)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-buildvcs=true")
        .env("GOOS", "linux")
        .env("GOARCH", "amd64")
        .build(flags, &dir.join("out"))
}

/// The runner's plain build (no flags), once per test process.
fn plain_runner_binary() -> &'static [u8] {
    static BINARY: OnceLock<Vec<u8>> = OnceLock::new();
    BINARY.get_or_init(|| {
        let binary = runner_build("runner-plain", &[]);
        let embedded = format!("{RUNNER_DIR}/main.go\0");
        assert!(
            binary
                .windows(embedded.len())
                .any(|w| w == embedded.as_bytes()),
            "the runner's binary embeds {RUNNER_DIR}/main.go"
        );
        binary
    })
}

/// The runner's build with `-X main.endpoint=ENDPOINT`, once per test process.
fn endpoint_runner_binary() -> &'static [u8] {
    static BINARY: OnceLock<Vec<u8>> = OnceLock::new();
    BINARY.get_or_init(|| {
        let ldflags = format!("-ldflags=-X main.endpoint={ENDPOINT}");
        runner_build("runner-endpoint", &[&ldflags])
    })
}

/// Publishes `binary` as the linux/amd64 image `test/app:v1.0.0` and
/// verifies it with the recipe, adding `extra`; the report in JSON.
fn verify_published(home: &Path, binary: &[u8], extra: &[&str]) -> Run {
    verify_published_as(home, binary, "json", extra)
}

/// [`verify_published`] with the report in `format`.
fn verify_published_as(home: &Path, binary: &[u8], format: &str, extra: &[&str]) -> Run {
    let release = release();
    let registry = Registry::start();
    let set = ImageSet::new(vec![app_image(AMD64, binary)]);
    publish(&registry, &home.join("layout"), &set, "test/app");
    let image = registry.reference("test/app");
    let out = home.join("out");
    let mut args = vec![
        image.as_str(),
        VERSION,
        "--recipe",
        release.recipe.to_str().unwrap(),
        "--source",
        release.source.to_str().unwrap(),
        "--format",
        format,
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// Overwrites `from` with `to` (same length) inside `binary`.
fn plant(binary: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let at = binary
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .expect("the banner is in the binary");
    binary[at..at + to.len()].copy_from_slice(to.as_bytes());
}

fn build_directory_change() -> Value {
    json!({"build_directory": {"recipe": "/src", "published": RUNNER_DIR, "kind": "environment"}})
}

#[test]
fn runner_build_in_another_directory_is_reproducible_naming_the_directory_it_took() {
    let published = plain_runner_binary();
    let tmp = tempfile::tempdir().unwrap();
    let attestation = tmp.path().join("attestation.json");
    let run = verify_published(
        tmp.path(),
        published,
        &["--attest", attestation.to_str().unwrap()],
    );
    let report = run.report(0);
    let text = verify_published_as(&tmp.path().join("text"), published, "text", &[]);
    assert_eq!(text.code, 0, "{}", text.stderr);
    for line in [
        format!("  adjusted build_directory: recipe /src, published {RUNNER_DIR} (environment)"),
        "  compared against: adjusted:1".to_string(),
        "verdict: REPRODUCIBLE given the published inputs listed above".to_string(),
    ] {
        assert!(
            text.stdout.lines().any(|l| l == line),
            "{line}\n{}",
            text.stdout
        );
    }
    assert_eq!(report["verdict"], "reproducible");
    let p = platform_entry(&report, AMD64);
    assert_eq!(p["verdict"], "reproducible", "{p:#}");
    assert_eq!(p["compared_against"], "adjusted:1");
    assert_eq!(p["adjusted"], build_directory_change());
    assert_eq!(p["rebuilt"]["sha256"], sha256_digest(published).as_str());
    assert_eq!(p["diff"], Value::Null);
    assert_eq!(p["confirmed_cause"], Value::Null);
    let adjustments = &p["adjustments"];
    assert_ne!(
        adjustments["recipe_rebuilt"]["sha256"],
        p["rebuilt"]["sha256"]
    );
    assert!(adjustments["recipe_differing_bytes"].as_u64().unwrap() > 0);
    let rebuilds = adjustments["rebuilds"].as_array().unwrap();
    assert_eq!(rebuilds.len(), 1, "{adjustments:#}");
    assert_eq!(rebuilds[0]["label"], "adjusted:1");
    assert_eq!(rebuilds[0]["differing_bytes"], 0);
    assert_eq!(rebuilds[0]["adjusted"], build_directory_change());

    // The adjusted recipe is saved beside the report and builds in the
    // runner's directory.
    let saved = tmp.path().join("out/linux-amd64/adjusted-recipe.toml");
    assert_eq!(adjustments["adjusted_recipe"], saved.to_str().unwrap());
    let recipe: toml::Table = std::fs::read_to_string(&saved).unwrap().parse().unwrap();
    assert_eq!(recipe["build"]["workdir"].as_str(), Some(RUNNER_DIR));
    assert_eq!(
        recipe["build"]["platforms"]
            .as_table()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["linux/amd64"]
    );

    // The attestation passes given that input, and names it.
    let statement: Value = serde_json::from_slice(&std::fs::read(&attestation).unwrap()).unwrap();
    let predicate = &statement["predicate"];
    assert_eq!(predicate["verificationResult"], "PASSED");
    assert_eq!(
        predicate["verifiedLevels"],
        json!(["REBUILD_COMPARE_REPRODUCED_GIVEN_PUBLISHED_INPUTS"])
    );
    assert_eq!(
        predicate["rebuildCompare"]["platforms"][0]["adjusted"],
        build_directory_change()
    );
}

#[test]
fn planted_string_is_explained_against_the_closest_rebuild_not_as_paths() {
    let mut tampered = plain_runner_binary().to_vec();
    plant(&mut tampered, BANNER, PLANTED);
    let tmp = tempfile::tempdir().unwrap();
    let report = verify_published(tmp.path(), &tampered, &[]).report(1);
    assert_eq!(report["verdict"], "mismatch");
    let p = platform_entry(&report, AMD64);
    assert_eq!(p["verdict"], "mismatch", "{p:#}");
    assert_eq!(p["compared_against"], "adjusted:1");
    assert_eq!(p["adjusted"], build_directory_change());
    assert_eq!(p["confirmed_cause"], Value::Null);
    let rebuilds = p["adjustments"]["rebuilds"].as_array().unwrap();
    assert_eq!(rebuilds.len(), 1);
    assert_eq!(p["rebuilt"]["sha256"], rebuilds[0]["rebuilt"]["sha256"]);
    assert!(
        rebuilds[0]["differing_bytes"].as_u64().unwrap()
            < p["adjustments"]["recipe_differing_bytes"].as_u64().unwrap()
    );
    assert_eq!(p["adjustments"]["adjusted_recipe"], Value::Null);

    let causes: Vec<&str> = p["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(causes.first(), Some(&"data"), "{causes:?}");
    assert!(!causes.contains(&"paths"), "{causes:?}");
    let explanations: Vec<&str> = p["diff"]["explanations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        explanations
            .iter()
            .any(|e| e.starts_with("strings only in A: ") && e.contains(PLANTED)),
        "{explanations:#?}"
    );
    let differing: Vec<(&str, u64)> = p["diff"]["sections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] != "same")
        .map(|s| {
            (
                s["name"].as_str().unwrap(),
                s["differing_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    let planted_bytes = BANNER
        .bytes()
        .zip(PLANTED.bytes())
        .filter(|(a, b)| a != b)
        .count() as u64;
    assert_eq!(differing, [(".rodata", planted_bytes)]);
}

#[test]
fn an_x_value_the_recipe_does_not_set_is_a_confirmed_cause_not_a_pass() {
    let published = endpoint_runner_binary();
    let tmp = tempfile::tempdir().unwrap();
    let report = verify_published(tmp.path(), published, &[]).report(1);
    let text = verify_published_as(&tmp.path().join("text"), published, "text", &[]);
    assert_eq!(text.code, 1, "{}", text.stderr);
    for line in [
        format!("  adjusted -X main.endpoint: recipe (none), published {ENDPOINT} (program)"),
        format!(
            "  confirmed: reproduces exactly with `-X main.endpoint={ENDPOINT}`, which the recipe \
             does not set (and the published build environment: build_directory); update the \
             recipe to accept it"
        ),
        "verdict: MISMATCH".to_string(),
    ] {
        assert!(
            text.stdout.lines().any(|l| l == line),
            "{line}\n{}",
            text.stdout
        );
    }
    assert_eq!(report["verdict"], "mismatch");
    let p = platform_entry(&report, AMD64);
    assert_eq!(p["verdict"], "mismatch", "{p:#}");
    assert_eq!(p["compared_against"], "adjusted:2");
    assert_eq!(p["rebuilt"]["sha256"], sha256_digest(published).as_str());
    assert_eq!(p["confirmed_cause"]["input"], "-X main.endpoint");
    assert_eq!(p["confirmed_cause"]["value"], ENDPOINT);
    assert_eq!(
        p["confirmed_cause"]["reason"],
        format!(
            "reproduces exactly with `-X main.endpoint={ENDPOINT}`, which the recipe does not set \
             (and the published build environment: build_directory)"
        )
    );
    assert_eq!(p["causes"], json!(["ldflags-values"]));
    let endpoint = json!({"recipe": null, "published": ENDPOINT, "kind": "program"});
    let mut both = build_directory_change();
    both["-X main.endpoint"] = endpoint;
    assert_eq!(p["adjusted"], both);
    let rebuilds = p["adjustments"]["rebuilds"].as_array().unwrap();
    let tried: Vec<(&str, &Value)> = rebuilds
        .iter()
        .map(|r| (r["label"].as_str().unwrap(), &r["adjusted"]))
        .collect();
    assert_eq!(
        tried,
        [
            ("adjusted:1", &build_directory_change()),
            ("adjusted:2", &both)
        ]
    );
    assert_ne!(rebuilds[0]["differing_bytes"], 0);
    assert_eq!(rebuilds[1]["differing_bytes"], 0);
    // The recipe that reproduces it is saved for a reviewer to adopt.
    let saved = tmp.path().join("out/linux-amd64/adjusted-recipe.toml");
    assert_eq!(p["adjustments"]["adjusted_recipe"], saved.to_str().unwrap());
    let recipe: toml::Table = std::fs::read_to_string(&saved).unwrap().parse().unwrap();
    assert_eq!(
        recipe["build"]["command"],
        toml::Value::Array(
            [
                "go",
                "build",
                &format!("-ldflags=-X main.endpoint={ENDPOINT}"),
                "-o",
                "/out/app",
                "."
            ]
            .iter()
            .map(|w| toml::Value::String(w.to_string()))
            .collect()
        )
    );
}

#[test]
fn no_adjust_compares_with_the_recipes_rebuild_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let report = verify_published(tmp.path(), plain_runner_binary(), &["--no-adjust"]).report(1);
    let p = platform_entry(&report, AMD64);
    assert_eq!(p["verdict"], "mismatch");
    for field in [
        "compared_against",
        "adjusted",
        "adjustments",
        "confirmed_cause",
    ] {
        assert_eq!(p.get(field), None, "{field}");
    }
    assert!(p["causes"].as_array().unwrap().iter().any(|c| c == "paths"));
    assert!(!tmp.path().join("out/linux-amd64/adjusted").exists());
}

#[test]
fn max_adjustments_one_tries_only_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let report = verify_published(
        tmp.path(),
        endpoint_runner_binary(),
        &["--max-adjustments", "1"],
    )
    .report(1);
    let p = platform_entry(&report, AMD64);
    assert_eq!(p["verdict"], "mismatch");
    assert_eq!(p["confirmed_cause"], Value::Null);
    assert_eq!(p["compared_against"], "adjusted:1");
    assert_eq!(p["adjustments"]["rebuilds"].as_array().unwrap().len(), 1);
    assert_eq!(
        p["adjustments"]["notes"],
        json!(["1 adjusted rebuild(s) not tried: --max-adjustments is 1"])
    );
}
