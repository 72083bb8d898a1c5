//! Go images verified with no hand-written recipe (issue 14): Go programs
//! made here, tagged with git2, built as their maintainers' pipelines would
//! (a CI runner's checkout without `-trimpath`, a goreleaser release, GOAMD64
//! and build tags on two platforms, a dependency swapped outside the tag, an
//! image annotated with its source, an official Go release other than
//! Debian's), published as images, then verified by `rebuild-compare IMAGE
//! VERSION`, which infers the recipe from the image binary.
//!
//! Each release is built once per test process; a `*_fixture_*` test checks
//! what its binary records before any test relies on it.

use crate::support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use git2::Repository;
use rebuild_compare::binary::{Binary, GoBuildInfo};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use support::cli::{run_in, run_in_env, Run};
use support::go::{GoBuild, RUNNER_DIR};
use support::{
    push, sha256_digest, write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle,
    LayerBuilder, MediaTypes, Registry,
};

const VERSION: &str = "v1.0.0";
const AMD64: &str = "linux/amd64";
const ARM64: &str = "linux/arm64";
/// Every release's module: its source URL would be inferred as
/// `https://github.com/example/app`, which the tests never reach.
const MODULE: &str = "github.com/example/app";
/// When each release was committed and tagged: 2023-11-14T22:13:20Z.
const COMMIT_TIME: i64 = 1_700_000_000;
/// [`COMMIT_TIME`] in RFC 3339, as Go records `vcs.time`.
const COMMIT_DATE: &str = "2023-11-14T22:13:20Z";
/// When the release pipelines built: seven minutes after the commit.
const BUILD_DATE: &str = "2023-11-14T22:20:20Z";
/// Where the images keep the binary (their Entrypoint, found on PATH).
const BINARY_PATH: &str = "/usr/local/bin/app";
const SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";
const REVISION_ANNOTATION: &str = "org.opencontainers.image.revision";

const GO_MOD: &str = "module github.com/example/app\n\ngo 1.19\n";

// --- Releases ------------------------------------------------------------

/// A tagged program and the binaries its maintainers published.
struct Release {
    /// The git repository (tag [`VERSION`], one later commit on the branch).
    source: PathBuf,
    /// The tag's commit.
    commit: String,
    /// (platform, binary) in image order.
    binaries: Vec<(&'static str, Vec<u8>)>,
    /// Where the release was made (checkouts, `out-*/app`, extras).
    dir: PathBuf,
}

impl Release {
    fn binary(&self, platform: &str) -> &[u8] {
        &self
            .binaries
            .iter()
            .find(|(p, _)| *p == platform)
            .unwrap_or_else(|| panic!("no {platform} binary"))
            .1
    }

    fn source_str(&self) -> &str {
        self.source.to_str().unwrap()
    }
}

/// A repository at `dir` whose annotated tag [`VERSION`] holds `files`
/// (committed at [`COMMIT_TIME`]), with a later commit on the branch.
/// Returns the tag's commit.
fn release_repo(dir: &Path, files: &[(&str, &str)]) -> String {
    let repo = Repository::init(dir).unwrap();
    let tagged = support::git::commit(&repo, files, "release", COMMIT_TIME);
    support::git::tag(&repo, VERSION, tagged, COMMIT_TIME);
    support::git::commit(
        &repo,
        &[("LATER", "after the release\n")],
        "later work",
        COMMIT_TIME + 3600,
    );
    tagged.to_string()
}

/// Makes a release in a fresh kept directory: `files` tagged in `DIR/repo`
/// (or `DIR/git/app` with `served`), checked out at `DIR/checkout`, and
/// `build(checkout, dir, commit)` returns the binaries.
fn make_release(
    prefix: &str,
    files: &[(&str, &str)],
    build: impl FnOnce(&Path, &Path, &str) -> Vec<(&'static str, Vec<u8>)>,
) -> Release {
    let dir = support::kept_dir(prefix);
    let source = dir.join("git/app");
    let commit = release_repo(&source, files);
    let checkout = support::go::checkout(&source, VERSION, &dir.join("checkout"));
    let binaries = build(&checkout, &dir, &commit);
    Release {
        source,
        commit,
        binaries,
        dir,
    }
}

/// `package main` printing `app` and `vars` (package-level strings set
/// with `-X`).
fn main_go(imports: &[&str], vars: &[&str], body: &str) -> String {
    let imports: String = imports.iter().map(|i| format!("\t\"{i}\"\n")).collect();
    let vars: String = vars.iter().map(|v| format!("\t{v} = \"dev\"\n")).collect();
    format!(
        "package main\n\nimport (\n{imports})\n\nvar (\n{vars})\n\nfunc main() {{\n\t{body}\n}}\n"
    )
}

/// (a) `go build -ldflags "-X main.version=v1.0.0"` without `-trimpath` in
/// a GitHub runner's checkout directory.
fn runner_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let main = main_go(&["fmt"], &["version"], "fmt.Println(\"app\", version)");
        make_release(
            "infer-runner-",
            &[("main.go", &main), ("go.mod", GO_MOD)],
            |checkout, dir, _| {
                let binary = GoBuild::new(checkout, RUNNER_DIR)
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", "linux")
                    .env("GOARCH", "amd64")
                    .build(
                        &["-ldflags", "-X main.version=v1.0.0"],
                        &dir.join("out-amd64"),
                    );
                vec![(AMD64, binary)]
            },
        )
    })
}

const GORELEASER_YAML: &str = r#"version: 2
project_name: app
builds:
  - main: .
    binary: app
    env:
      - CGO_ENABLED=0
    flags:
      - -trimpath
    ldflags:
      - -s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}}
    goos:
      - linux
    goarch:
      - amd64
"#;

/// (b) What `goreleaser release` makes of [`GORELEASER_YAML`] at the tag,
/// [`BUILD_DATE`] being the time it ran.
fn goreleaser_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let main = main_go(
            &["fmt"],
            &["version", "commit", "date"],
            "fmt.Println(\"app\", version, commit, date)",
        );
        make_release(
            "infer-goreleaser-",
            &[
                ("main.go", &main),
                ("go.mod", GO_MOD),
                (".goreleaser.yaml", GORELEASER_YAML),
            ],
            |checkout, dir, commit| {
                // {{.Version}} is the tag without its `v`.
                let ldflags = format!(
                    "-s -w -X main.version=1.0.0 -X main.commit={commit} -X main.date={BUILD_DATE}"
                );
                let binary = GoBuild::new(checkout, RUNNER_DIR)
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", "linux")
                    .env("GOARCH", "amd64")
                    .env("GOAMD64", "v1")
                    .build(&["-trimpath", "-ldflags", &ldflags], &dir.join("out-amd64"));
                vec![(AMD64, binary)]
            },
        )
    })
}

/// (c) `CGO_ENABLED=0 GOAMD64=v3 go build -trimpath -tags netgo` for amd64,
/// and the same for arm64.
fn microarch_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let main = main_go(
            &["fmt", "net"],
            &[],
            "fmt.Println(\"app\", net.ParseIP(\"127.0.0.1\"))",
        );
        make_release(
            "infer-microarch-",
            &[("main.go", &main), ("go.mod", GO_MOD)],
            |checkout, dir, _| {
                let flags = ["-trimpath", "-tags", "netgo"];
                let amd64 = GoBuild::new(checkout, RUNNER_DIR)
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", "linux")
                    .env("GOARCH", "amd64")
                    .env("GOAMD64", "v3")
                    .build(&flags, &dir.join("out-amd64"));
                let arm64 = GoBuild::new(checkout, RUNNER_DIR)
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", "linux")
                    .env("GOARCH", "arm64")
                    .build(&flags, &dir.join("out-arm64"));
                vec![(AMD64, amd64), (ARM64, arm64)]
            },
        )
    })
}

const LIB_GO_MOD: &str = "module example.com/lib\n\ngo 1.19\n";
const LIB_GO: &str = "package lib\n\nfunc Greeting() string { return \"hello from lib\" }\n";
const FORK_GO: &str = "package lib\n\nfunc Greeting() string { return \"hello from the fork\" }\n";
/// Where the swapped release's builder kept the fork and its `go.work`.
const FORK_DIR: &str = "/home/runner/fork";
const WORKSPACE_DIR: &str = "/home/runner/workspace";

/// `h1:` of a module's files (`dirhash.Hash1`, as go.sum records it).
fn h1(files: &[(&str, &str)]) -> String {
    let mut files = files.to_vec();
    files.sort();
    let summary: String = files
        .iter()
        .map(|(name, content)| format!("{}  {name}\n", hex::encode(Sha256::digest(content))))
        .collect();
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(summary))
    )
}

/// (d) A tag that vendors example.com/lib v1.0.0; the published binary was
/// built from it with a `go.work` outside the tag replacing that module by a
/// fork (`-mod=readonly`, so the fork is what is compiled in), which leaves
/// `vcs.modified=false` and the tag's `vcs.revision` in the binary.
fn swapped_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let main = main_go(
            &["fmt", "example.com/lib"],
            &[],
            "fmt.Println(lib.Greeting())",
        );
        let go_mod = format!("{GO_MOD}\nrequire example.com/lib v1.0.0\n");
        let go_sum = format!(
            "example.com/lib v1.0.0 {}\nexample.com/lib v1.0.0/go.mod {}\n",
            h1(&[
                ("example.com/lib@v1.0.0/go.mod", LIB_GO_MOD),
                ("example.com/lib@v1.0.0/lib.go", LIB_GO),
            ]),
            h1(&[("go.mod", LIB_GO_MOD)])
        );
        make_release(
            "infer-swapped-",
            &[
                ("main.go", &main),
                ("go.mod", &go_mod),
                ("go.sum", &go_sum),
                (
                    "vendor/modules.txt",
                    "# example.com/lib v1.0.0\n## explicit; go 1.19\nexample.com/lib\n",
                ),
                ("vendor/example.com/lib/lib.go", LIB_GO),
            ],
            |checkout, dir, _| {
                let fork = dir.join("fork");
                std::fs::create_dir_all(&fork).unwrap();
                std::fs::write(fork.join("go.mod"), LIB_GO_MOD).unwrap();
                std::fs::write(fork.join("lib.go"), FORK_GO).unwrap();
                let workspace = dir.join("workspace");
                std::fs::create_dir_all(&workspace).unwrap();
                std::fs::write(
                    workspace.join("go.work"),
                    format!(
                        "go 1.19\n\nuse {RUNNER_DIR}\n\nreplace example.com/lib => {FORK_DIR}\n"
                    ),
                )
                .unwrap();
                let binary = GoBuild::new(checkout, RUNNER_DIR)
                    .bind(&fork, FORK_DIR)
                    .bind(&workspace, WORKSPACE_DIR)
                    .env("GOWORK", &format!("{WORKSPACE_DIR}/go.work"))
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", "linux")
                    .env("GOARCH", "amd64")
                    .build(&["-mod=readonly", "-trimpath"], &dir.join("out-amd64"));
                vec![(AMD64, binary)]
            },
        )
    })
}

/// (e) A plain `go build -trimpath`, published in an image annotated with
/// where its source is (served by a loopback HTTPS git server from
/// `DIR/git`).
fn annotated_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let main = main_go(&["fmt"], &[], "fmt.Println(\"annotated app\")");
        make_release(
            "infer-annotated-",
            &[("main.go", &main), ("go.mod", GO_MOD)],
            |checkout, dir, _| {
                let binary = GoBuild::new(checkout, RUNNER_DIR)
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", "linux")
                    .env("GOARCH", "amd64")
                    .build(&["-trimpath"], &dir.join("out-amd64"));
                vec![(AMD64, binary)]
            },
        )
    })
}

/// The `-ldflags` of the Go 1.21.13 release.
fn go121_ldflags() -> String {
    format!("-X main.version={VERSION} -X main.date={BUILD_DATE}")
}

/// (f) Built with the official Go 1.21.13 (not Debian's 1.19.8), the build
/// time stamped in with `-X main.date`.
fn go121_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let main = main_go(
            &["fmt"],
            &["version", "date"],
            "fmt.Println(\"app\", version, \"built\", date)",
        );
        make_release(
            "infer-go121-",
            &[("main.go", &main), ("go.mod", GO_MOD)],
            |checkout, dir, _| {
                let binary = GoBuild::new(checkout, RUNNER_DIR)
                    .toolchain(&support::go::go_1_21_13_root())
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", "linux")
                    .env("GOARCH", "amd64")
                    .build(
                        &["-trimpath", "-buildvcs=false", "-ldflags", &go121_ldflags()],
                        &dir.join("out-amd64"),
                    );
                vec![(AMD64, binary)]
            },
        )
    })
}

/// The Go 1.21.13 builder image (made once; pushed per registry).
fn go121_builder() -> &'static support::Image {
    static IMAGE: OnceLock<support::Image> = OnceLock::new();
    IMAGE.get_or_init(|| support::go::builder_image(&support::go::go_1_21_13_root()))
}

/// The URL a hostile build sets `main.version` to.
const PLANTED_URL: &str = "https://evil.example/x";
/// Where the second runner of [`two_runners_release`] checked out the tag.
const SECOND_RUNNER_DIR: &str = "/home/gitlab-runner/builds/example/app";

/// `app` printing `vars`, built without `-trimpath` in [`RUNNER_DIR`] for
/// linux/amd64 with `ldflags(commit)`.
fn runner_built(prefix: &str, vars: &[&str], ldflags: impl FnOnce(&str) -> String) -> Release {
    let print: String = vars.iter().map(|v| format!(", {v}")).collect();
    let main = main_go(&["fmt"], vars, &format!("fmt.Println(\"app\"{print})"));
    make_release(
        prefix,
        &[("main.go", &main), ("go.mod", GO_MOD)],
        |checkout, dir, commit| {
            let binary = GoBuild::new(checkout, RUNNER_DIR)
                .env("CGO_ENABLED", "0")
                .env("GOOS", "linux")
                .env("GOARCH", "amd64")
                .build(&["-ldflags", &ldflags(commit)], &dir.join("out-amd64"));
            vec![(AMD64, binary)]
        },
    )
}

/// (g) `go build -ldflags "-X main.version=https://evil.example/x"`: a
/// string variable pointed at a URL, which is no release metadata.
fn planted_url_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        runner_built("infer-planted-url-", &["version"], |_| {
            format!("-X main.version={PLANTED_URL}")
        })
    })
}

/// (h) `-X main.version=v1.0.0 -X main.commit=<7-digit commit>`: release
/// metadata only.
fn metadata_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        runner_built("infer-metadata-", &["version", "commit"], |commit| {
            format!("-X main.version={VERSION} -X main.commit={}", &commit[..7])
        })
    })
}

/// (i) amd64 built in [`RUNNER_DIR`], arm64 by another runner in
/// [`SECOND_RUNNER_DIR`], both without `-trimpath`.
fn two_runners_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let main = main_go(&["fmt"], &["version"], "fmt.Println(\"app\", version)");
        make_release(
            "infer-two-runners-",
            &[("main.go", &main), ("go.mod", GO_MOD)],
            |checkout, dir, _| {
                let ldflags = format!("-X main.version={VERSION}");
                let build = |at: &str, arch: &str| {
                    GoBuild::new(checkout, at)
                        .env("CGO_ENABLED", "0")
                        .env("GOOS", "linux")
                        .env("GOARCH", arch)
                        .build(&["-ldflags", &ldflags], &dir.join(format!("out-{arch}")))
                };
                vec![
                    (AMD64, build(RUNNER_DIR, "amd64")),
                    (ARM64, build(SECOND_RUNNER_DIR, "arm64")),
                ]
            },
        )
    })
}

// --- Images ---------------------------------------------------------------

/// One platform of the app image: [`BINARY_PATH`], run through the
/// Entrypoint and PATH.
fn app_image(platform: &str, binary: &[u8], annotations: &[(&str, &str)]) -> support::Image {
    let mut image = ImageBuilder::new(platform)
        .entrypoint(&["app"])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .layer(
            LayerBuilder::new()
                .file(BINARY_PATH.trim_start_matches('/'), binary, 0o755)
                .build(Compression::Gzip),
        );
    for (key, value) in annotations {
        image = image.annotation(key, value);
    }
    image.build()
}

/// The release's binaries as one image index, annotated (index and
/// manifests) with `annotations`.
fn release_set(release: &Release, annotations: &[(&str, &str)]) -> ImageSet {
    let mut set = ImageSet::new(
        release
            .binaries
            .iter()
            .map(|(platform, binary)| app_image(platform, binary, annotations))
            .collect(),
    );
    for (key, value) in annotations {
        set = set.annotation(key, value);
    }
    set
}

/// Writes `set` as an OCI layout in `dir`, tagged [`VERSION`]; returns the
/// image reference (`oci:DIR:v1.0.0`).
fn layout_image(dir: &Path, set: &ImageSet) -> String {
    write_oci_layout(dir, VERSION, set, IndexStyle::Index, MediaTypes::Oci);
    format!("oci:{}:{VERSION}", dir.display())
}

/// Pushes `set` to `registry` as `repo:v1.0.0` (through an OCI layout in
/// `dir`); returns the image reference without the tag.
fn registry_image(registry: &Registry, dir: &Path, set: &ImageSet, repo: &str) -> String {
    write_oci_layout(dir, VERSION, set, IndexStyle::Index, MediaTypes::Oci);
    push(
        dir,
        VERSION,
        &registry.reference(&format!("{repo}:{VERSION}")),
        None,
    );
    registry.reference(repo)
}

// --- Running and reading reports -------------------------------------------

/// `rebuild-compare IMAGE v1.0.0 --format json --out-dir HOME/OUT` plus
/// `extra`, with `env` added to the isolated environment.
fn verify(home: &Path, out: &str, image: &str, env: &[(&str, &str)], extra: &[&str]) -> Run {
    let out_dir = home.join(out);
    let mut args = vec![
        image,
        VERSION,
        "--format",
        "json",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in_env(home, env, &args)
}

/// The report's entry for `platform`.
fn platform<'a>(report: &'a Value, platform: &str) -> &'a Value {
    support::cli::platform_entry(report, platform)
}

fn platforms(report: &Value) -> Vec<String> {
    report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["platform"].as_str().unwrap().to_string())
        .collect()
}

/// The saved inferred recipe of a run with `--out-dir out`.
fn inferred_recipe_path(out: &Path) -> PathBuf {
    out.join("inferred-recipe.toml")
}

/// Asserts that a run with no recipe reproduced every platform of
/// `release` with an inferred recipe it saved to `out`, trying at most four
/// candidates per platform and stopping at the first reproducible one;
/// returns the report and the saved recipe parsed as TOML.
fn assert_reproduced_with_inferred_recipe(
    run: &Run,
    out: &Path,
    release: &Release,
) -> (Value, toml::Table) {
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible", "{report:#}");
    let saved = inferred_recipe_path(out);
    let text = std::fs::read_to_string(&saved)
        .unwrap_or_else(|e| panic!("the inferred recipe {}: {e}", saved.display()));
    assert_eq!(
        report["recipe"],
        json!({"path": saved.to_str().unwrap(), "sha256": sha256_digest(text.as_bytes()),
               "inferred": true})
    );
    assert_eq!(report["source"]["ref"], VERSION);
    assert_eq!(report["source"]["commit"], release.commit.as_str());
    let expected: Vec<String> = release
        .binaries
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    assert_eq!(platforms(&report), expected);
    let mut reproducing = Vec::new();
    for (name, binary) in &release.binaries {
        let p = platform(&report, name);
        let digest = sha256_digest(binary);
        assert_eq!(p["verdict"], "reproducible", "{p:#}");
        assert_eq!(p["image_binary"]["path"], BINARY_PATH);
        assert_eq!(p["image_binary"]["sha256"], digest.as_str());
        assert_eq!(p["rebuilt"]["sha256"], digest.as_str());
        assert_eq!(p["rebuilt"]["size"], binary.len());
        assert_eq!(p["error"], Value::Null);
        // No release here has dependencies: the check ran and found nothing.
        assert_eq!(p["dependencies"], json!({"checked": 0, "problems": []}));
        let candidates = p["candidates"].as_array().expect("candidates listed");
        assert!(
            (1..=4).contains(&candidates.len()),
            "1 to 4 candidates tried: {candidates:?}"
        );
        let (last, before) = candidates.split_last().unwrap();
        assert_eq!(last["verdict"], "reproducible", "{candidates:?}");
        for tried in candidates {
            assert!(tried["label"].is_string(), "{tried:#}");
            assert!(
                tried["sha256"].as_str().unwrap().starts_with("sha256:"),
                "{tried:#}"
            );
        }
        for failed in before {
            assert_ne!(failed["verdict"], "reproducible", "{candidates:?}");
        }
        reproducing.push(last["sha256"].clone());
    }
    assert!(
        reproducing.contains(&report["recipe"]["sha256"]),
        "the saved recipe is a candidate that reproduced: {report:#}"
    );
    let recipe: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("the saved recipe is TOML ({e}):\n{text}"));
    (report, recipe)
}

/// Asserts that `platform` found its recipe with the first candidate.
fn assert_first_candidate_reproduced(report: &Value, name: &str) {
    let candidates = &platform(report, name)["candidates"];
    assert_eq!(candidates.as_array().unwrap().len(), 1, "{candidates:?}");
    assert_eq!(candidates[0]["verdict"], "reproducible");
}

/// The Go build info of `binary`.
fn build_info(binary: &[u8]) -> GoBuildInfo {
    Binary::parse(binary)
        .go_build_info()
        .cloned()
        .expect("a Go binary")
}

/// `key=value` of each build setting, in the binary's order.
fn settings(info: &GoBuildInfo) -> Vec<String> {
    info.settings
        .iter()
        .map(|s| format!("{}={}", s.key, s.value))
        .collect()
}

fn contains(binary: &[u8], needle: &str) -> bool {
    binary.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Runs a published linux/amd64 binary (static, so the host runs it).
fn output_of(binary: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app");
    std::fs::write(&path, binary).unwrap();
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = std::process::Command::new(&path).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

// --- (a) go build without -trimpath in a runner's checkout ------------------

#[test]
fn runner_fixture_embeds_its_checkout_directory_and_records_its_ldflags() {
    let release = runner_release();
    let binary = release.binary(AMD64);
    let info = build_info(binary);
    assert_eq!(info.go_version, "go1.19.8");
    assert_eq!(info.path.as_deref(), Some(MODULE));
    assert_eq!(
        settings(&info),
        [
            "-compiler=gc".to_string(),
            "-ldflags=-X main.version=v1.0.0".to_string(),
            "CGO_ENABLED=0".to_string(),
            "GOARCH=amd64".to_string(),
            "GOOS=linux".to_string(),
            "GOAMD64=v1".to_string(),
            "vcs=git".to_string(),
            format!("vcs.revision={}", release.commit),
            format!("vcs.time={COMMIT_DATE}"),
            "vcs.modified=false".to_string(),
        ]
    );
    assert!(contains(binary, &format!("{RUNNER_DIR}/main.go")));
    assert_eq!(output_of(binary), "app v1.0.0\n");
}

#[test]
fn go_binary_built_without_trimpath_in_a_runner_directory_is_reproduced_in_the_inferred_workdir() {
    let release = runner_release();
    let tmp = tempfile::tempdir().unwrap();
    let image = layout_image(&tmp.path().join("layout"), &release_set(release, &[]));
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &["--source", release.source_str()],
    );
    let (report, recipe) =
        assert_reproduced_with_inferred_recipe(&run, &tmp.path().join("out"), release);
    assert_first_candidate_reproduced(&report, AMD64);
    assert_eq!(recipe["build"]["workdir"].as_str(), Some(RUNNER_DIR));
    let command = recipe["build"]["command"].as_array().unwrap();
    assert!(
        command.contains(&toml::Value::from("-ldflags=-X main.version=v1.0.0")),
        "the recorded -ldflags are passed as one argument: {command:?}"
    );
    assert!(
        !command.contains(&toml::Value::from("-trimpath")),
        "{command:?}"
    );
}

#[test]
fn recipe_infer_writes_a_recipe_that_verify_accepts_unchanged() {
    let release = runner_release();
    let tmp = tempfile::tempdir().unwrap();
    let image = layout_image(&tmp.path().join("layout"), &release_set(release, &[]));
    let source = release.source_str();

    let printed = run_in(
        tmp.path(),
        &["recipe", "infer", &image, VERSION, "--source", source],
    );
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let file = tmp.path().join("app.toml");
    let written = run_in(
        tmp.path(),
        &[
            "recipe",
            "infer",
            &image,
            VERSION,
            "--source",
            source,
            "-o",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(written.stdout, "");
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(text, printed.stdout, "-o writes what stdout shows");

    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &["--recipe", file.to_str().unwrap(), "--source", source],
    );
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible", "{report:#}");
    assert_eq!(
        report["recipe"],
        json!({"path": file.to_str().unwrap(), "sha256": sha256_digest(text.as_bytes()),
               "inferred": false})
    );
    let p = platform(&report, AMD64);
    assert_eq!(p["verdict"], "reproducible", "{p:#}");
    assert_eq!(
        p["rebuilt"]["sha256"],
        sha256_digest(release.binary(AMD64)).as_str()
    );
    assert_eq!(
        p["candidates"],
        Value::Null,
        "a given recipe has no candidates"
    );
}

#[test]
fn recipe_infer_for_an_image_without_a_go_binary_is_a_one_line_error() {
    let tmp = tempfile::tempdir().unwrap();
    let set = ImageSet::single(app_image(AMD64, b"#!/bin/sh\necho app\n", &[]));
    let image = layout_image(&tmp.path().join("layout"), &set);
    let source = tmp.path().join("repo");
    release_repo(&source, &[("app.sh", "#!/bin/sh\necho app\n")]);
    let run = run_in(
        tmp.path(),
        &[
            "recipe",
            "infer",
            &image,
            VERSION,
            "--source",
            source.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert!(
        run.stderr.starts_with("error: ") && run.stderr.lines().count() == 1,
        "one line: {:?}",
        run.stderr
    );
}

// --- (b) a goreleaser release -------------------------------------------------

#[test]
fn goreleaser_fixture_records_trimpath_without_its_ldflags_and_a_date_after_the_commit() {
    let release = goreleaser_release();
    let binary = release.binary(AMD64);
    let info = build_info(binary);
    assert_eq!(info.go_version, "go1.19.8");
    assert_eq!(
        settings(&info),
        [
            "-compiler=gc".to_string(),
            "-trimpath=true".to_string(),
            "CGO_ENABLED=0".to_string(),
            "GOARCH=amd64".to_string(),
            "GOOS=linux".to_string(),
            "GOAMD64=v1".to_string(),
            "vcs=git".to_string(),
            format!("vcs.revision={}", release.commit),
            format!("vcs.time={COMMIT_DATE}"),
            "vcs.modified=false".to_string(),
        ],
        "Go drops -ldflags from the build info when -trimpath is set"
    );
    assert!(!contains(binary, RUNNER_DIR));
    assert_eq!(
        output_of(binary),
        format!("app 1.0.0 {} {BUILD_DATE}\n", release.commit)
    );
    assert!(BUILD_DATE > COMMIT_DATE);
}

#[test]
fn goreleaser_release_is_reproduced_from_its_config_with_the_build_date_from_the_binary() {
    let release = goreleaser_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &[]),
        "example/app",
    );
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &["--source", release.source_str()],
    );
    let (report, _) =
        assert_reproduced_with_inferred_recipe(&run, &tmp.path().join("out"), release);
    assert_first_candidate_reproduced(&report, AMD64);
    let p = platform(&report, AMD64);
    let label = p["candidates"][0]["label"].as_str().unwrap();
    assert!(label.contains("goreleaser"), "{label}");
    let inputs = p["inputs"].as_object().unwrap();
    assert!(
        inputs.values().any(|value| value == BUILD_DATE),
        "the build date is read from the binary: {inputs:?}"
    );
}

// --- (c) GOAMD64=v3, -tags netgo, and arm64 -------------------------------------

#[test]
fn microarch_fixture_records_goamd64_v3_and_netgo_on_amd64_and_an_arm64_build() {
    let release = microarch_release();
    let expected = |arch: &str, level: Option<&str>| {
        let mut settings = vec![
            "-compiler=gc".to_string(),
            "-tags=netgo".to_string(),
            "-trimpath=true".to_string(),
            "CGO_ENABLED=0".to_string(),
            format!("GOARCH={arch}"),
            "GOOS=linux".to_string(),
        ];
        settings.extend(level.map(|l| format!("GOAMD64={l}")));
        settings.extend([
            "vcs=git".to_string(),
            format!("vcs.revision={}", release.commit),
            format!("vcs.time={COMMIT_DATE}"),
            "vcs.modified=false".to_string(),
        ]);
        settings
    };
    assert_eq!(
        settings(&build_info(release.binary(AMD64))),
        expected("amd64", Some("v3"))
    );
    assert_eq!(
        settings(&build_info(release.binary(ARM64))),
        expected("arm64", None)
    );
    // An aarch64 ELF.
    assert_eq!(&release.binary(ARM64)[18..20], &183u16.to_le_bytes());
}

#[test]
fn goamd64_v3_netgo_and_arm64_platforms_are_reproduced_with_an_inferred_recipe() {
    let release = microarch_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &[]),
        "example/app",
    );
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &["--source", release.source_str()],
    );
    assert_reproduced_with_inferred_recipe(&run, &tmp.path().join("out"), release);
}

// --- (d) a dependency swapped outside the tag ----------------------------------

#[test]
fn swapped_fixture_records_the_fork_that_replaced_the_vendored_module_and_runs_it() {
    let release = swapped_release();
    let published = release.binary(AMD64);
    let info = build_info(published);
    assert_eq!(info.deps.len(), 1, "{:?}", info.deps);
    let dep = &info.deps[0];
    assert_eq!(
        (dep.path.as_str(), dep.version.as_str(), dep.sum.as_deref()),
        ("example.com/lib", "v1.0.0", None)
    );
    let fork = dep.replace.as_deref().expect("replaced");
    assert_eq!(
        (
            fork.path.as_str(),
            fork.version.as_str(),
            fork.sum.as_deref()
        ),
        (FORK_DIR, "(devel)", None)
    );
    assert!(settings(&info).contains(&format!("vcs.revision={}", release.commit)));
    assert!(settings(&info).contains(&"vcs.modified=false".to_string()));
    assert_eq!(output_of(published), "hello from the fork\n");

    // The tag itself builds offline from its vendor/ into the library it names.
    let honest = GoBuild::new(&release.dir.join("checkout"), RUNNER_DIR)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=vendor")
        .build(&["-trimpath"], &release.dir.join("out-honest"));
    let info = build_info(&honest);
    assert_eq!(info.deps.len(), 1);
    assert_eq!(
        (info.deps[0].path.as_str(), info.deps[0].version.as_str()),
        ("example.com/lib", "v1.0.0")
    );
    assert_eq!(info.deps[0].replace, None);
    assert_eq!(output_of(&honest), "hello from lib\n");
}

#[test]
fn dependency_swapped_outside_the_tag_is_a_mismatch_found_without_building() {
    let release = swapped_release();
    let tmp = tempfile::tempdir().unwrap();
    let image = layout_image(&tmp.path().join("layout"), &release_set(release, &[]));
    let source = ["--source", release.source_str()];
    let run = verify(tmp.path(), "out", &image, &[], &source);
    let report = run.report(1);
    assert_eq!(report["verdict"], "mismatch", "{report:#}");
    let saved = inferred_recipe_path(&tmp.path().join("out"));
    assert_eq!(
        report["recipe"],
        json!({"path": saved.to_str().unwrap(),
               "sha256": sha256_digest(&std::fs::read(&saved).unwrap()), "inferred": true})
    );
    let p = platform(&report, AMD64);
    assert_eq!(p["verdict"], "mismatch", "{p:#}");
    assert_eq!(p["rebuilt"], Value::Null, "nothing was built: {p:#}");
    assert_eq!(
        p["candidates"],
        Value::Null,
        "no candidate was tried: {p:#}"
    );
    assert_eq!(p["dependencies"]["checked"], 1, "{p:#}");
    let problems = p["dependencies"]["problems"].as_array().unwrap();
    assert!(
        problems.iter().any(|problem| {
            let problem = problem.as_str().unwrap();
            problem.contains("example.com/lib") && problem.contains(FORK_DIR)
        }),
        "{problems:?}"
    );
    let cross_checks = p["cross_checks"].as_array().unwrap();
    for problem in problems {
        assert!(
            cross_checks.contains(problem),
            "{problem} is a failed cross-check: {cross_checks:?}"
        );
        assert!(!problem.as_str().unwrap().starts_with("ok: "));
    }

    let text = run_in(
        tmp.path(),
        &[
            &image,
            VERSION,
            "--source",
            release.source_str(),
            "--out-dir",
            tmp.path().join("out-text").to_str().unwrap(),
        ],
    );
    assert_eq!(text.code, 1, "{}", text.stderr);
    let saved = inferred_recipe_path(&tmp.path().join("out-text"));
    assert_eq!(
        text.stdout.lines().next(),
        Some(format!("recipe: inferred (saved to {})", saved.display()).as_str()),
        "{}",
        text.stdout
    );
}

// --- (e) the source named by the image's OCI annotation ------------------------

#[test]
fn annotated_fixture_image_names_its_repository_and_revision_in_index_and_manifest() {
    let release = annotated_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let url = "https://127.0.0.1:1/app";
    let annotations = [
        (SOURCE_ANNOTATION, url),
        (REVISION_ANNOTATION, release.commit.as_str()),
    ];
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &annotations),
        "example/app",
    );
    let expected = json!({SOURCE_ANNOTATION: url, REVISION_ANNOTATION: release.commit});
    let index = support::inspect_raw_json(&format!("{image}:{VERSION}"), None);
    assert_eq!(index["annotations"], expected);
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap();
    let manifest = support::inspect_raw_json(&format!("{image}@{manifest_digest}"), None);
    assert_eq!(manifest["annotations"], expected);
    let info = build_info(release.binary(AMD64));
    assert_eq!(info.path.as_deref(), Some(MODULE));
    assert!(settings(&info).contains(&format!("vcs.revision={}", release.commit)));
}

#[test]
fn source_is_found_through_the_images_oci_source_annotation() {
    let release = annotated_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let ca = support::git_server::TestCa::create(&tmp.path().join("tls"));
    let server = support::git_server::GitServer::https(release.source.parent().unwrap(), &ca, None);
    let url = server.url("app");
    let annotations = [
        (SOURCE_ANNOTATION, url.as_str()),
        (REVISION_ANNOTATION, release.commit.as_str()),
    ];
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &annotations),
        "example/app",
    );
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[("SSL_CERT_FILE", ca.ca_cert.to_str().unwrap())],
        &[],
    );
    let (report, recipe) =
        assert_reproduced_with_inferred_recipe(&run, &tmp.path().join("out"), release);
    assert_eq!(report["source"]["url"], url.as_str());
    assert_eq!(recipe["source"]["git"].as_str(), Some(url.as_str()));
}

#[test]
fn a_source_the_image_names_gets_no_credentials_and_no_local_paths() {
    let release = annotated_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let ca = support::git_server::TestCa::create(&tmp.path().join("tls"));
    let server = support::git_server::GitServer::https(
        release.source.parent().unwrap(),
        &ca,
        Some("builder:s3cret"),
    );
    let url = server.url("app");
    // The verifier's git would answer this server with the right password.
    let host = url.trim_start_matches("https://").trim_end_matches("/app");
    std::fs::write(
        tmp.path().join(".gitconfig"),
        "[credential]\n\thelper = store\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join(".git-credentials"),
        format!("https://builder:s3cret@{host}\n"),
    )
    .unwrap();
    let trust = [("SSL_CERT_FILE", ca.ca_cert.to_str().unwrap())];
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &[(SOURCE_ANNOTATION, url.as_str())]),
        "example/private",
    );
    let run = verify(tmp.path(), "out", &image, &trust, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "error: cannot fetch {url}: the image named this source, so no credentials are sent to it"
        )),
        "{}",
        run.stderr
    );
    // The same server with --source: the user's credentials are used.
    let run = verify(tmp.path(), "out2", &image, &trust, &["--source", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // A local path in the annotation is refused, never read.
    let local = registry_image(
        &registry,
        &tmp.path().join("layout-local"),
        &release_set(release, &[(SOURCE_ANNOTATION, "file:///etc/private-repo")]),
        "example/local",
    );
    let run = verify(tmp.path(), "out3", &local, &trust, &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "error: the image names the local path file:///etc/private-repo as its source: a source taken \
         from the image must be a remote URL; pass --source with the local path to read it\n"
    );
}

// --- (f) a hand-written recipe reading inputs from the binary ------------------

/// The recipe of the Go 1.21.13 release on `registry`: `builder` and `date`
/// as given, `more` added before `[build]`.
fn go121_recipe(
    dir: &Path,
    name: &str,
    registry: &Registry,
    builder: &str,
    date: &str,
    more: &str,
) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        r#"[image]
repository = "{repository}"
tag = "{{version}}"

[source]
git = "https://git.example/example/app.git"
ref = "{{version}}"
{more}
[build]
builder = "{builder}"
command = ["go", "build", "-trimpath", "-buildvcs=false", "-ldflags=-X main.version={{version}} -X main.date={date}", "-o", "/out/app", "."]
artifact = "/out/app"
env = {{ CGO_ENABLED = "0", GOCACHE = "/tmp/gocache", GOPROXY = "off", GOTOOLCHAIN = "local" }}

[build.platforms."linux/amd64"]
env = {{ GOOS = "{{os}}", GOARCH = "{{arch}}" }}
"#,
        repository = registry.reference("example/app"),
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Pushes the Go 1.21.13 builder image to `registry` as `test/golang:1.21.13`.
fn push_go121_builder(registry: &Registry, dir: &Path) {
    let set = ImageSet::single(go121_builder().clone());
    write_oci_layout(
        dir,
        "1.21.13",
        &set,
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(
        dir,
        "1.21.13",
        &registry.reference("test/golang:1.21.13"),
        None,
    );
}

#[test]
fn go121_fixture_is_rebuilt_exactly_in_the_small_go_builder_image() {
    let release = go121_release();
    let binary = release.binary(AMD64);
    let info = build_info(binary);
    assert_eq!(info.go_version, "go1.21.13");
    assert_eq!(
        settings(&info),
        [
            "-buildmode=exe",
            "-compiler=gc",
            "-trimpath=true",
            "DefaultGODEBUG=panicnil=1",
            "CGO_ENABLED=0",
            "GOARCH=amd64",
            "GOOS=linux",
            "GOAMD64=v1",
        ]
    );
    assert_eq!(
        output_of(binary),
        format!("app v1.0.0 built {BUILD_DATE}\n")
    );

    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push_go121_builder(&registry, &tmp.path().join("builder"));
    let recipe = go121_recipe(
        tmp.path(),
        "literal",
        &registry,
        &registry.reference("test/golang:1.21.13"),
        BUILD_DATE,
        "",
    );
    let out = tmp.path().join("out");
    let run = run_in(
        tmp.path(),
        &[
            "build",
            VERSION,
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            release.source_str(),
            "--out-dir",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let rebuilt = std::fs::read(out.join("linux-amd64/app")).unwrap();
    assert_eq!(sha256_digest(&rebuilt), sha256_digest(binary));
}

#[test]
fn recipe_with_inputs_reproduces_a_binary_built_with_another_go_release() {
    let release = go121_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    push_go121_builder(&registry, &tmp.path().join("builder"));
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &[]),
        "example/app",
    );
    let recipe = go121_recipe(
        tmp.path(),
        "inputs",
        &registry,
        &format!("{}/test/golang:{{go_version}}", registry.host()),
        "{input:build_date}",
        "\n[inputs.build_date]\nfrom_binary = '\\b(20\\d\\d-[01]\\d-[0-3]\\dT[0-2]\\d:[0-5]\\d:[0-5]\\dZ)\\b'\n",
    );
    let text = std::fs::read_to_string(&recipe).unwrap();
    let text = text.replace(
        "[build]\n",
        "[build]\nsource_date_epoch = \"{input:build_date}\"\n",
    );
    std::fs::write(&recipe, &text).unwrap();

    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &[
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            release.source_str(),
        ],
    );
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible", "{report:#}");
    assert_eq!(
        report["recipe"],
        json!({"path": recipe.to_str().unwrap(), "sha256": sha256_digest(text.as_bytes()),
               "inferred": false})
    );
    let p = platform(&report, AMD64);
    assert_eq!(p["verdict"], "reproducible", "{p:#}");
    assert_eq!(
        p["rebuilt"]["sha256"],
        sha256_digest(release.binary(AMD64)).as_str()
    );
    assert_eq!(
        p["inputs"],
        json!({"go_version": "1.21.13", "input:build_date": BUILD_DATE})
    );
}

// --- (g), (h), (i) what an inferred pass takes from the binary -----------------

#[test]
fn planted_url_and_metadata_fixtures_record_their_ldflags_and_two_runners_their_directories() {
    let planted = planted_url_release();
    let info = build_info(planted.binary(AMD64));
    assert!(
        settings(&info).contains(&format!("-ldflags=-X main.version={PLANTED_URL}")),
        "{info:?}"
    );
    assert_eq!(
        output_of(planted.binary(AMD64)),
        format!("app {PLANTED_URL}\n")
    );
    let metadata = metadata_release();
    let short = &metadata.commit[..7];
    assert!(
        settings(&build_info(metadata.binary(AMD64))).contains(&format!(
            "-ldflags=-X main.version={VERSION} -X main.commit={short}"
        ))
    );
    assert_eq!(
        output_of(metadata.binary(AMD64)),
        format!("app {VERSION} {short}\n")
    );
    let two = two_runners_release();
    assert!(contains(
        two.binary(AMD64),
        &format!("{RUNNER_DIR}/main.go")
    ));
    assert!(!contains(two.binary(AMD64), SECOND_RUNNER_DIR));
    assert!(contains(
        two.binary(ARM64),
        &format!("{SECOND_RUNNER_DIR}/main.go")
    ));
    assert!(!contains(two.binary(ARM64), RUNNER_DIR));
    assert!(settings(&build_info(two.binary(ARM64))).contains(&"GOARCH=arm64".to_string()));
}

#[test]
fn a_recorded_x_value_that_is_a_url_reproduces_but_stays_a_mismatch_with_its_cause_confirmed() {
    let release = planted_url_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &[]),
        "example/app",
    );
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &["--source", release.source_str()],
    );
    let report = run.report(1);
    assert_eq!(report["verdict"], "mismatch", "{report:#}");
    let p = platform(&report, AMD64);
    assert_eq!(p["verdict"], "mismatch", "{p:#}");
    let digest = sha256_digest(release.binary(AMD64));
    assert_eq!(p["image_binary"]["sha256"], digest.as_str());
    assert_eq!(
        p["rebuilt"]["sha256"],
        digest.as_str(),
        "the rebuild with the recorded -ldflags is bit for bit the image binary"
    );
    let reason = format!(
        "reproduces exactly with `-X main.version={PLANTED_URL}`, which is not release metadata (the tag, the commit, a time stamp, a tree state, a builder name): nothing but the image binary supplies it, and an -X value can point a program at another server, so this is no pass"
    );
    assert_eq!(
        p["confirmed_cause"],
        json!({"input": "-X main.version", "value": PLANTED_URL, "reason": reason})
    );
    assert_eq!(p["causes"], json!(["ldflags-values"]));
    assert!(
        p["cross_checks"]
            .as_array()
            .unwrap()
            .contains(&Value::from(reason)),
        "{p:#}"
    );
    assert_eq!(p["diff"], Value::Null);
    let candidates = p["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{candidates:?}");
    assert_eq!(candidates[0]["label"], "recorded -ldflags");
    assert_eq!(candidates[0]["verdict"], "reproducible");
    let saved = std::fs::read_to_string(inferred_recipe_path(&tmp.path().join("out"))).unwrap();
    assert!(
        saved.contains(&format!(
            "# -X main.version={PLANTED_URL}: not release metadata, only the binary supplies it"
        )),
        "the saved recipe says what it rests on:\n{saved}"
    );

    let text_out = tmp.path().join("text-out");
    let text = run_in(
        tmp.path(),
        &[
            &image,
            VERSION,
            "--source",
            release.source_str(),
            "--out-dir",
            text_out.to_str().unwrap(),
        ],
    );
    assert_eq!(text.code, 1, "{}\n{}", text.stdout, text.stderr);
    assert!(
        text.stdout.contains(&format!(
            "cross-check: reproduces exactly with `-X main.version={PLANTED_URL}`"
        )),
        "{}",
        text.stdout
    );
}

#[test]
fn recorded_x_values_of_the_tag_and_a_short_commit_are_reproduced_as_release_metadata() {
    let release = metadata_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &[]),
        "example/app",
    );
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &["--source", release.source_str()],
    );
    let (report, recipe) =
        assert_reproduced_with_inferred_recipe(&run, &tmp.path().join("out"), release);
    assert_first_candidate_reproduced(&report, AMD64);
    assert_eq!(platform(&report, AMD64).get("confirmed_cause"), None);
    let command = recipe["build"]["command"].as_array().unwrap();
    let ldflags = format!(
        "-ldflags=-X main.version={VERSION} -X main.commit={}",
        &release.commit[..7]
    );
    assert!(command.contains(&toml::Value::from(ldflags)), "{command:?}");
}

#[test]
fn platforms_built_in_two_runner_directories_are_each_reproduced_in_their_own() {
    let release = two_runners_release();
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = registry_image(
        &registry,
        &tmp.path().join("layout"),
        &release_set(release, &[]),
        "example/app",
    );
    let out = tmp.path().join("out");
    let attestation = tmp.path().join("att.json");
    let run = verify(
        tmp.path(),
        "out",
        &image,
        &[],
        &[
            "--source",
            release.source_str(),
            "--attest",
            attestation.to_str().unwrap(),
        ],
    );
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible", "{report:#}");
    assert_eq!(platforms(&report), [AMD64, ARM64]);
    for (name, dir) in [(AMD64, RUNNER_DIR), (ARM64, SECOND_RUNNER_DIR)] {
        let p = platform(&report, name);
        let digest = sha256_digest(release.binary(name));
        assert_eq!(p["verdict"], "reproducible", "{p:#}");
        assert_eq!(p["rebuilt"]["sha256"], digest.as_str());
        assert_first_candidate_reproduced(&report, name);
        let saved = out
            .join(name.replace('/', "-"))
            .join("inferred-recipe.toml");
        let text = std::fs::read_to_string(&saved)
            .unwrap_or_else(|e| panic!("{name}'s recipe {}: {e}", saved.display()));
        assert_eq!(
            p["candidates"][0]["sha256"],
            sha256_digest(text.as_bytes()).as_str(),
            "{name}'s saved recipe is the candidate that reproduced it"
        );
        let recipe_digest = sha256_digest(text.as_bytes());
        assert_eq!(p["recipe"]["path"], saved.to_str().unwrap(), "{name}");
        assert_eq!(p["recipe"]["sha256"], recipe_digest.as_str(), "{name}");
        let statement_file = tmp
            .path()
            .join(format!("att.{}.json", name.replace('/', "-")));
        let statement: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&statement_file).unwrap()).unwrap();
        assert_eq!(
            statement["predicate"]["policy"]["digest"]["sha256"],
            recipe_digest.trim_start_matches("sha256:"),
            "{name}'s statement names the recipe that built it"
        );
        let recipe: toml::Table = text.parse().unwrap();
        assert_eq!(recipe["build"]["workdir"].as_str(), Some(dir), "{name}");
        let platforms: Vec<&String> = recipe["build"]["platforms"]
            .as_table()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(platforms, [name], "{name}'s recipe builds {name} only");
    }
    let amd64_recipe = out.join("linux-amd64").join("inferred-recipe.toml");
    assert_eq!(report["recipe"]["path"], amd64_recipe.to_str().unwrap());
    assert!(
        !inferred_recipe_path(&out).exists(),
        "no one recipe is saved for platforms one recipe cannot build"
    );
    let notes = report["notes"].as_array().unwrap();
    assert!(
        notes.iter().any(|n| n.as_str().unwrap().starts_with(
            "the platforms' binaries record different build inputs (build directory, -trimpath or -ldflags), so each of these gets candidates of its own: linux/amd64; linux/arm64"
        )),
        "{notes:?}"
    );
}
