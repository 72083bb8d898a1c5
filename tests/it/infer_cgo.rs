//! A cgo release built by its own Makefile, verified with no recipe (issue
//! 26): a Go program linking a small C library through cgo, tagged with
//! git2, whose Makefile sets `-X` values from its `VERSION` file and `git
//! describe --long`; `make static` links it as a static PIE with the
//! external linker, `make` dynamically. Both are built as a release pipeline
//! would (a clean checkout of the tag in a CI runner's directory, bubblewrap,
//! no network, Debian's go 1.19.8 and the machine's gcc), published as
//! images, then verified by `rebuild-compare IMAGE v1.2.0`, which infers the
//! recipe from the image binary and the tag.
//!
//! The release is built once per test process; the `cgo_fixture_*` tests
//! check what its binaries record before any test relies on them.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use git2::Repository;
use object::read::elf::{ElfFile64, ProgramHeader as _};
use object::{Endianness, Object as _, ObjectKind, ObjectSection as _};
use rebuild_compare::binary::Binary;
use rebuild_compare::rebuild::infer::{
    Evidence, Inference, MemoryFiles, PlatformEvidence, SourceEvidence, Toolchains,
};
use rebuild_compare::rebuild::recipe::schema::Builder;
use serde_json::Value;
use support::cli::{run_in, Run};
use support::go::RUNNER_DIR;
use support::{
    push, sha256_digest, write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle,
    LayerBuilder, MediaTypes, Registry,
};

const VERSION: &str = "v1.2.0";
/// The `VERSION` file at the tag: the version without its `v`.
const VERSION_FILE: &str = "1.2.0\n";
const AMD64: &str = "linux/amd64";
/// The release's module: its source URL would be inferred as
/// `https://github.com/example/cgoapp`, which the tests never reach.
const MODULE: &str = "github.com/example/cgoapp";
/// When the release was committed and tagged: 2023-11-14T22:13:20Z.
const COMMIT_TIME: i64 = 1_700_000_000;
/// [`COMMIT_TIME`] in RFC 3339, as Go records `vcs.time`.
const COMMIT_DATE: &str = "2023-11-14T22:13:20Z";
/// The file both Makefile targets write, in the checkout.
const OUTPUT: &str = "cgoapp";
/// Where the images keep the binary (their Entrypoint, found on PATH).
const BINARY_PATH: &str = "/usr/local/bin/cgoapp";
/// The dynamic linker the default target's binary names.
const INTERPRETER: &str = "/lib64/ld-linux-x86-64.so.2";

const GO_MOD: &str = "module github.com/example/cgoapp\n\ngo 1.19\n";

const MAIN_GO: &str = r#"package main

import (
	"fmt"

	"github.com/example/cgoapp/greet"
)

var (
	version   = "dev"
	gitCommit = ""
)

func main() {
	fmt.Println(greet.Hello())
	fmt.Println("version", version)
	fmt.Println("commit", gitCommit)
}
"#;

/// The cgo side: the C file is in the package, so cgo compiles it without
/// any `${SRCDIR}` path in a `#cgo` line.
const GREET_GO: &str = r#"// Package greet says hello from a small C library linked in by cgo.
package greet

// #include "greet.h"
import "C"

import "unsafe"

// Hello is the C library's greeting.
func Hello() string {
	buffer := make([]byte, 128)
	n := C.greet_format((*C.char)(unsafe.Pointer(&buffer[0])), C.size_t(len(buffer)))
	if n < 0 {
		return "no greeting"
	}
	if int(n) >= len(buffer) {
		n = C.int(len(buffer) - 1)
	}
	return string(buffer[:n])
}
"#;

const GREET_H: &str = r#"#ifndef GREET_H
#define GREET_H

#include <stddef.h>

int greet_format(char *out, size_t size);

#endif
"#;

/// A format string and a runtime path: static C content that is no build
/// directory.
const GREET_C: &str = r#"#include <stdio.h>
#include <unistd.h>

#include "greet.h"

int greet_format(char *out, size_t size) {
	char target[4096];
	ssize_t length = readlink("/proc/self/exe", target, sizeof target);
	return snprintf(out, size, "hello from C (executable path of %zd bytes)", length > 0 ? length : 0);
}
"#;

const MAKEFILE: &str = "GO ?= go
VERSION := $(shell cat VERSION)
COMMIT := $(shell git describe --dirty --long --always)
BUILDTAGS := netgo osusergo
LDFLAGS := -X main.version=$(VERSION) -X main.gitCommit=$(COMMIT)

cgoapp:
\t$(GO) build -trimpath -tags \"$(BUILDTAGS)\" -ldflags \"$(LDFLAGS)\" -o cgoapp .

static:
\tCGO_ENABLED=1 $(GO) build -trimpath -buildmode=pie -tags \"$(BUILDTAGS)\" -ldflags \"$(LDFLAGS) -linkmode external -extldflags --static-pie\" -o cgoapp .

.PHONY: cgoapp static
";

// --- The release -------------------------------------------------------------

/// The tagged program and the two binaries its Makefile made.
struct Release {
    /// The git repository (tag [`VERSION`], one later commit on the branch).
    source: PathBuf,
    /// The tag's commit.
    commit: String,
    /// `git describe --long` of the tag's checkout (`v1.2.0-0-g<commit>`).
    describe: String,
    /// What `make static` made.
    static_build: Made,
    /// What `make` (the default target) made.
    dynamic_build: Made,
}

impl Release {
    fn source_str(&self) -> &str {
        self.source.to_str().unwrap()
    }
}

/// A binary a Makefile target made, and where: tests run it from there,
/// a file no thread of the test process ever held open for writing.
struct Made {
    /// `cgoapp` in the target's checkout.
    path: PathBuf,
    /// Its bytes.
    binary: Vec<u8>,
}

/// A repository at `dir` whose annotated tag [`VERSION`] holds the program
/// (committed at [`COMMIT_TIME`]), with a later commit on the branch.
/// Returns the tag's commit.
fn release_repo(dir: &Path) -> String {
    let repo = Repository::init(dir).unwrap();
    let files = [
        ("go.mod", GO_MOD),
        ("VERSION", VERSION_FILE),
        ("main.go", MAIN_GO),
        ("greet/greet.go", GREET_GO),
        ("greet/greet.h", GREET_H),
        ("greet/greet.c", GREET_C),
        ("Makefile", MAKEFILE),
    ];
    let tagged = support::git::commit(&repo, &files, "release", COMMIT_TIME);
    support::git::tag(&repo, VERSION, tagged, COMMIT_TIME);
    support::git::commit(
        &repo,
        &[("LATER", "after the release\n")],
        "later work",
        COMMIT_TIME + 3600,
    );
    tagged.to_string()
}

/// `git describe --long` in `checkout`.
fn describe(checkout: &Path) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(checkout)
        .args(["describe", "--long"])
        .output()
        .unwrap();
    assert!(out.status.success(), "git describe: {out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

/// The release, built once: `make static` and `make` in two clean
/// checkouts of the tag, each bound at [`RUNNER_DIR`].
fn cgo_release() -> &'static Release {
    static RELEASE: OnceLock<Release> = OnceLock::new();
    RELEASE.get_or_init(|| {
        let dir = support::kept_dir("infer-cgo-");
        let source = dir.join("git/cgoapp");
        let commit = release_repo(&source);
        let build = |name: &str, args: &[&str]| {
            let checkout = support::go::checkout(&source, VERSION, &dir.join(name));
            let binary = support::go::GoBuild::new(&checkout, RUNNER_DIR)
                .env("CGO_ENABLED", "1")
                .make(args, OUTPUT);
            Made {
                path: checkout.join(OUTPUT),
                binary,
            }
        };
        let static_build = build("checkout-static", &["static"]);
        let dynamic_build = build("checkout-dynamic", &[]);
        Release {
            describe: describe(static_build.path.parent().unwrap()),
            source,
            commit,
            static_build,
            dynamic_build,
        }
    })
}

// --- The machine's C toolchain ------------------------------------------------

/// The versions of the C compiler and C library that built the release.
struct CToolchain {
    /// `12.2.0`.
    gcc_version: String,
    /// The distribution's name for its build: `Debian 12.2.0-14+deb12u1`.
    gcc_distribution: String,
    /// `2.36`.
    glibc_version: String,
}

impl CToolchain {
    /// What GCC writes in `.comment`: `GCC: (Debian 12.2.0-14+deb12u1) 12.2.0`.
    fn comment(&self) -> String {
        format!("GCC: ({}) {}", self.gcc_distribution, self.gcc_version)
    }

    /// `GCC 12.2.0`.
    fn gcc(&self) -> String {
        format!("GCC {}", self.gcc_version)
    }

    /// `GCC 12.2.0 (Debian 12.2.0-14+deb12u1)`.
    fn gcc_with_distribution(&self) -> String {
        format!("GCC {} ({})", self.gcc_version, self.gcc_distribution)
    }

    /// `glibc 2.36`.
    fn glibc(&self) -> String {
        format!("glibc {}", self.glibc_version)
    }
}

/// The first line `tool --version` prints.
fn version_line(tool: &str) -> String {
    let out = Command::new(tool)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("run {tool} --version: {e}"));
    assert!(out.status.success(), "{tool} --version: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines().next().unwrap().to_string()
}

/// `gcc --version` (`gcc (Debian 12.2.0-14+deb12u1) 12.2.0`) and `ldd
/// --version` (`ldd (Debian GLIBC 2.36-9+deb12u14) 2.36`) read apart.
fn c_toolchain() -> CToolchain {
    let gcc = version_line("gcc");
    let (_, distribution_and_version) = gcc.split_once(" (").unwrap();
    let (gcc_distribution, gcc_version) = distribution_and_version.rsplit_once(") ").unwrap();
    let ldd = version_line("ldd");
    let (_, glibc_version) = ldd.rsplit_once(' ').unwrap();
    CToolchain {
        gcc_version: gcc_version.to_string(),
        gcc_distribution: gcc_distribution.to_string(),
        glibc_version: glibc_version.to_string(),
    }
}

// --- Reading the binaries -------------------------------------------------------

/// How a binary is linked, as its ELF header and program headers say.
#[derive(Debug, PartialEq)]
struct Linking {
    kind: ObjectKind,
    /// The `PT_INTERP` path, if any.
    interpreter: Option<String>,
}

fn linking(binary: &[u8]) -> Linking {
    let elf = ElfFile64::<Endianness>::parse(binary).unwrap();
    let endian = elf.endian();
    let interpreters: Vec<String> = elf
        .elf_program_headers()
        .iter()
        .filter_map(|header| header.interpreter(endian, binary).unwrap())
        .map(|path| String::from_utf8(path.to_vec()).unwrap())
        .collect();
    assert!(interpreters.len() <= 1, "{interpreters:?}");
    Linking {
        kind: elf.kind(),
        interpreter: interpreters.into_iter().next(),
    }
}

/// The `.comment` section's text.
fn comment(binary: &[u8]) -> String {
    let file = object::File::parse(binary).unwrap();
    let section = file
        .section_by_name(".comment")
        .expect("a .comment section");
    String::from_utf8_lossy(section.data().unwrap()).into_owned()
}

/// `key=value` of each Go build setting, in the binary's order.
fn settings(binary: &[u8]) -> Vec<String> {
    let parsed = Binary::parse(binary);
    let info = parsed.go_build_info().expect("a Go binary");
    assert_eq!(info.go_version, "go1.19.8");
    assert_eq!(info.path.as_deref(), Some(MODULE));
    info.settings
        .iter()
        .map(|s| format!("{}={}", s.key, s.value))
        .collect()
}

/// What both targets record: `-ldflags` and the build mode are left out
/// under `-trimpath`.
fn expected_settings(release: &Release) -> Vec<String> {
    [
        "-compiler=gc",
        "-tags=netgo,osusergo",
        "-trimpath=true",
        "CGO_ENABLED=1",
        "GOARCH=amd64",
        "GOOS=linux",
        "GOAMD64=v1",
        "vcs=git",
        &format!("vcs.revision={}", release.commit),
        &format!("vcs.time={COMMIT_DATE}"),
        "vcs.modified=false",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn contains(binary: &[u8], needle: &str) -> bool {
    binary.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Runs a linux/amd64 binary on the host; returns the length of the
/// canonical path it ran from and what it printed.
fn run_binary(path: &Path) -> (usize, String) {
    let path = std::fs::canonicalize(path).unwrap();
    let out = Command::new(&path).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    (
        path.as_os_str().len(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// Asserts what both binaries hold: the build settings, GCC's `.comment`,
/// `git describe --long` of the tag, and that they run, printing the C
/// library's greeting (the length of `/proc/self/exe`'s target), the
/// `VERSION` file's value and the description.
fn assert_release_build(release: &Release, made: &Made) {
    let binary = &made.binary;
    let toolchain = c_toolchain();
    assert!(
        toolchain.gcc_distribution.starts_with("Debian "),
        "{}",
        toolchain.gcc_distribution
    );
    assert!(
        comment(binary).contains(&toolchain.comment()),
        "{:?}",
        comment(binary)
    );
    assert_eq!(settings(binary), expected_settings(release));
    let abbreviated = release
        .describe
        .strip_prefix("v1.2.0-0-g")
        .unwrap_or_else(|| panic!("{}", release.describe));
    assert!(
        abbreviated.len() >= 7 && release.commit.starts_with(abbreviated),
        "{} names {}",
        release.describe,
        release.commit
    );
    assert!(contains(binary, &release.describe));
    let (path_len, printed) = run_binary(&made.path);
    assert_eq!(
        printed,
        format!(
            "hello from C (executable path of {path_len} bytes)\nversion 1.2.0\ncommit {}\n",
            release.describe
        )
    );
}

// --- The fixture ------------------------------------------------------------------

#[test]
fn cgo_fixture_static_target_is_a_static_pie_with_describe_and_version_file_values() {
    let release = cgo_release();
    let made = &release.static_build;
    assert_eq!(
        linking(&made.binary),
        Linking {
            kind: ObjectKind::Dynamic,
            interpreter: None
        }
    );
    assert_release_build(release, made);
}

#[test]
fn cgo_fixture_default_target_is_dynamically_linked() {
    let release = cgo_release();
    let made = &release.dynamic_build;
    assert_eq!(
        linking(&made.binary),
        Linking {
            kind: ObjectKind::Executable,
            interpreter: Some(INTERPRETER.to_string())
        }
    );
    assert_release_build(release, made);
}

// --- Images and runs ------------------------------------------------------------------

/// Publishes `binary` as a one-platform linux/amd64 image at
/// [`BINARY_PATH`] (Entrypoint `cgoapp`, found on PATH) to `registry` as
/// `repo:v1.2.0`, through an OCI layout in `dir`; returns the image
/// reference without the tag.
fn publish(registry: &Registry, dir: &Path, binary: &[u8], repo: &str) -> String {
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&[OUTPUT])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .layer(
            LayerBuilder::new()
                .file(BINARY_PATH.trim_start_matches('/'), binary, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let set = ImageSet::new(vec![image]);
    write_oci_layout(dir, VERSION, &set, IndexStyle::Index, MediaTypes::Oci);
    push(
        dir,
        VERSION,
        &registry.reference(&format!("{repo}:{VERSION}")),
        None,
    );
    registry.reference(repo)
}

/// `rebuild-compare IMAGE v1.2.0 --source SOURCE --format json --out-dir
/// HOME/OUT` plus `extra`.
fn verify(home: &Path, out: &str, image: &str, release: &Release, extra: &[&str]) -> Run {
    let out_dir = home.join(out);
    let mut args = vec![
        image,
        VERSION,
        "--source",
        release.source_str(),
        "--format",
        "json",
        "--out-dir",
        out_dir.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// Publishes `binary` as `repo` and verifies it with no recipe; returns
/// the run's home, the image and the run.
fn verify_published(binary: &[u8], repo: &str) -> (tempfile::TempDir, Registry, String, Run) {
    let release = cgo_release();
    let registry = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let image = publish(&registry, &home.path().join("layout"), binary, repo);
    let run = verify(home.path(), "out", &image, release, &[]);
    (home, registry, image, run)
}

/// Asserts that a run with no recipe reproduced `binary` with the Makefile
/// target `label` (`command` in the saved recipe, whose text holds each of
/// `explained`), trying 1 to 4 candidates that each say what they changed,
/// and that verifying again with the saved recipe reproduces it too.
fn assert_reproduced_by_the_makefile(
    binary: &[u8],
    repo: &str,
    label: &str,
    command: &[&str],
    explained: &[String],
) {
    let release = cgo_release();
    let (home, _registry, image, run) = verify_published(binary, repo);
    let digest = sha256_digest(binary);
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible", "{report:#}");
    let p = support::cli::platform_entry(&report, AMD64);
    assert_eq!(p["verdict"], "reproducible", "{p:#}");
    assert_eq!(p["image_binary"]["path"], BINARY_PATH);
    assert_eq!(p["rebuilt"]["sha256"], digest.as_str());
    let candidates = p["candidates"].as_array().expect("candidates listed");
    assert!(
        (1..=4).contains(&candidates.len()),
        "1 to 4 candidates tried: {candidates:#?}"
    );
    let (last, before) = candidates.split_last().unwrap();
    assert_eq!(last["verdict"], "reproducible", "{candidates:#?}");
    assert_eq!(last["label"], label, "{candidates:#?}");
    for failed in before {
        assert_ne!(failed["verdict"], "reproducible", "{candidates:#?}");
    }
    for tried in candidates {
        let changes = tried["changes"].as_array().expect("changes listed");
        assert!(changes.iter().all(Value::is_string), "{tried:#}");
    }
    assert_eq!(candidates[0]["changes"], serde_json::json!([]));

    let saved = home.path().join("out/inferred-recipe.toml");
    let text = std::fs::read_to_string(&saved)
        .unwrap_or_else(|e| panic!("the inferred recipe {}: {e}", saved.display()));
    let recipe: toml::Table = text
        .parse()
        .unwrap_or_else(|e| panic!("the saved recipe is TOML ({e}):\n{text}"));
    let expected_command: Vec<toml::Value> =
        command.iter().map(|arg| toml::Value::from(*arg)).collect();
    assert_eq!(
        recipe["build"]["command"].as_array(),
        Some(&expected_command),
        "{text}"
    );
    assert_eq!(recipe["build"]["artifact"].as_str(), Some(OUTPUT), "{text}");
    for words in explained {
        assert!(text.contains(words.as_str()), "no {words:?} in:\n{text}");
    }

    let recipe_file = home.path().join("cgoapp.toml");
    std::fs::write(&recipe_file, &text).unwrap();
    let again = verify(
        home.path(),
        "out-recipe",
        &image,
        release,
        &["--recipe", recipe_file.to_str().unwrap()],
    );
    let report = again.report(0);
    assert_eq!(report["verdict"], "reproducible", "{report:#}");
    let p = support::cli::platform_entry(&report, AMD64);
    assert_eq!(p["rebuilt"]["sha256"], digest.as_str(), "{p:#}");
}

/// What every inferred recipe of the release explains: the C compiler and
/// where the `-X` values come from.
fn explained_by_every_recipe() -> Vec<String> {
    vec![
        c_toolchain().gcc(),
        "VERSION".to_string(),
        "git describe".to_string(),
    ]
}

// --- Verified with no recipe ------------------------------------------------------

#[test]
fn static_cgo_release_built_by_make_static_is_reproduced_with_no_recipe() {
    let mut explained = explained_by_every_recipe();
    explained.push("static-pie".to_string());
    assert_reproduced_by_the_makefile(
        &cgo_release().static_build.binary,
        "example/cgoapp-static",
        "make static",
        &["make", "static"],
        &explained,
    );
}

#[test]
fn dynamic_cgo_release_built_by_make_is_reproduced_with_no_recipe() {
    assert_reproduced_by_the_makefile(
        &cgo_release().dynamic_build.binary,
        "example/cgoapp-dynamic",
        "make",
        &["make"],
        &explained_by_every_recipe(),
    );
}

#[test]
fn static_c_runtime_strings_never_yield_paths() {
    let release = cgo_release();
    let home = tempfile::tempdir().unwrap();
    let run = run_in(
        home.path(),
        &[
            "diff",
            release.static_build.path.to_str().unwrap(),
            release.dynamic_build.path.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let diff = run.report(1);
    assert!(
        contains(&release.static_build.binary, "/proc/self/exe"),
        "the C library's runtime path is in the binary"
    );
    assert_eq!(
        diff["causes"],
        serde_json::json!(["data", "code", "build-id-consequence"]),
        "{:#}",
        diff["explanations"]
    );
}

#[test]
fn inference_notes_name_the_c_toolchain_and_libraries() {
    let (_home, _registry, _image, run) =
        verify_published(&cgo_release().static_build.binary, "example/cgoapp-static");
    let report = run.report(0);
    let toolchain = c_toolchain();
    let (glibc, gcc) = (toolchain.glibc(), toolchain.gcc_with_distribution());
    let notes = report["notes"].as_array().expect("notes listed");
    assert!(
        notes.iter().any(|note| {
            let note = note.as_str().unwrap();
            note.contains(&glibc) && note.contains(&gcc)
        }),
        "no note names {glibc} and {gcc}: {notes:#?}"
    );
}

// --- Without the Makefile: go build candidates from the ELF ------------------

/// Infers from the static binary with the tag's tree less its Makefile, as
/// a project without one would be, the host's C compiler given by `host_cc`.
fn infer_without_makefile(host_cc: &str) -> Inference {
    let release = cgo_release();
    let binary = release.static_build.binary.clone();
    let platforms = [PlatformEvidence {
        platform: AMD64.parse().unwrap(),
        go: Binary::parse(&binary).go_build_info().cloned(),
        binary,
        rust: None,
    }];
    let files = MemoryFiles::new([
        ("go.mod", GO_MOD),
        ("VERSION", VERSION_FILE),
        ("main.go", MAIN_GO),
        ("greet/greet.go", GREET_GO),
        ("greet/greet.h", GREET_H),
        ("greet/greet.c", GREET_C),
    ]);
    let annotations = std::collections::BTreeMap::new();
    let out = Command::new("go")
        .args(["env", "GOVERSION"])
        .output()
        .unwrap();
    assert!(out.status.success(), "go env GOVERSION: {out:?}");
    let host_go = String::from_utf8(out.stdout).unwrap().trim().to_string();
    rebuild_compare::rebuild::infer::ecosystem::infer(&Evidence {
        repository: "docker.io/example/cgoapp",
        tag: VERSION,
        version: VERSION,
        binary_path: BINARY_PATH,
        annotations: &annotations,
        platforms: &platforms,
        source: SourceEvidence {
            url: "https://github.com/example/cgoapp",
            git_ref: VERSION,
            commit: &release.commit,
            commit_time: COMMIT_TIME,
            files: &files,
        },
        toolchains: Toolchains {
            host_go: Some(&host_go),
            go_image: "docker.io/library/golang",
            host_cc: Some(host_cc),
            host_rustc: None,
            rust_image: "docker.io/library/rust",
            machine_arch: "amd64",
        },
    })
    .unwrap()
}

#[test]
fn without_a_makefile_the_go_build_candidate_links_as_the_elf_shows_and_reproduces() {
    let release = cgo_release();
    let inference = infer_without_makefile(&version_line("cc"));
    let labels: Vec<&str> = inference
        .candidates
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(
        labels,
        vec![
            "-X from source (2 -X), -linkmode external -extldflags --static-pie",
            "-X from source, other values (2 -X), -linkmode external -extldflags --static-pie",
            "no -X, -linkmode external -extldflags --static-pie",
        ]
    );
    let first = &inference.candidates[0];
    let recipe = &first.recipe.build;
    assert_eq!(recipe.builder, Builder::Host);
    let command: Vec<String> = recipe.command.iter().map(|t| t.to_string()).collect();
    let describe = format!("{{version}}-0-g{}", &release.commit[..7]);
    assert_eq!(
        command,
        vec![
            "go".to_string(),
            "build".into(),
            "-buildmode=pie".into(),
            "-trimpath".into(),
            "-tags=netgo,osusergo".into(),
            format!("-ldflags=-X main.version={{version_bare}} -X main.gitCommit={describe} -linkmode external -extldflags --static-pie"),
            "-o".into(),
            "/out/cgoapp".into(),
            ".".into(),
        ]
    );
    for words in [
        "-buildmode=pie: the binary is a position-independent executable (ELF type DYN, no PT_INTERP",
        "main.version (1.2.0, the tag without v, as the tag's VERSION file holds)",
        "main.gitCommit (v1.2.0-0-g",
        "git describe --long at the tag)",
        "-linkmode external -extldflags --static-pie: the binary is static-pie, external linker",
    ] {
        assert!(first.text.contains(words), "no {words:?} in:\n{}", first.text);
    }
    assert_eq!(
        inference.candidates[1].changes,
        vec![format!(
            "-ldflags adds -X main.version={describe} and drops -X main.version={{version_bare}}"
        )]
    );
    assert_eq!(
        inference.candidates[2].changes,
        vec![format!(
            "-ldflags drops -X main.version={describe} -X main.gitCommit={describe}"
        )]
    );

    // The first candidate, rendered for v1.2.0 and built as the release was.
    let dir = support::kept_dir("infer-cgo-go-build-");
    let checkout = support::go::checkout(&release.source, VERSION, &dir.join("checkout"));
    let flags: Vec<String> = command[2..command.len() - 3]
        .iter()
        .map(|a| {
            a.replace("{version_bare}", "1.2.0")
                .replace("{version}", VERSION)
        })
        .collect();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let rebuilt = support::go::GoBuild::new(&checkout, RUNNER_DIR)
        .env("CGO_ENABLED", "1")
        .build(&flags, &dir.join("out"));
    assert!(
        rebuilt == release.static_build.binary,
        "go build {flags:?} did not reproduce the static release"
    );
}

#[test]
fn a_cgo_binary_whose_c_compiler_the_host_lacks_builds_in_the_go_image_of_its_debian_release() {
    let inference = infer_without_makefile("gcc (Debian 12.2.0-14) 12.2.0");
    let first = &inference.candidates[0];
    let Builder::Image(image) = &first.recipe.build.builder else {
        panic!("not an image builder:\n{}", first.text);
    };
    assert_eq!(
        image.to_string(),
        "docker.io/library/golang:{go_version}-bookworm"
    );
    assert!(
        first.text.contains(
            "# the binary's Go (go1.19.8) and C compiler GCC 12.2.0 (Debian 12.2.0-14+deb12u1), Debian bookworm's, not the host's C compiler: the builder image of that version\n"
        ),
        "{}",
        first.text
    );
}
