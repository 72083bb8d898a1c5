//! Cause codes on real pairs: each pair of Go binaries differs by one
//! thing a release build can change (or by planted code or data), and
//! `rebuild-compare diff --format json` must name that thing first in
//! `causes`, with a first explanation that says it.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};
use support::go::{GoBuild, RUNNER_DIR};
use tempfile::TempDir;

const MAIN: &str = "package main\n\nimport \"fmt\"\n\n\
                    var version = \"dev\"\n\nvar date = \"unknown\"\n\n\
                    func main() { fmt.Println(\"hello from the causes test\", version, date) }\n";

/// A Go build cache shared by the tests of this binary.
fn go_cache() -> &'static TempDir {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new().expect("tempdir"))
}

/// Builds `main_go` as module `example.com/causes` in `dir/name.src`
/// (a git repository when `git` is set) with `go build FLAGS`, `env` added,
/// into `dir/name`; `go` is the Go command to use.
fn build(
    dir: &Path,
    name: &str,
    main_go: &str,
    go: &Path,
    flags: &[&str],
    env: &[(&str, &str)],
) -> PathBuf {
    let src = dir.join(format!("{name}.src"));
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("go.mod"), "module example.com/causes\n\ngo 1.19\n").expect("go.mod");
    std::fs::write(src.join("main.go"), main_go).expect("main.go");
    let out = dir.join(name);
    let cache = go_cache().path();
    let status = Command::new(go)
        .arg("build")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(".")
        .current_dir(&src)
        .env(
            "GOCACHE",
            cache.join(go.to_string_lossy().replace('/', "_")),
        )
        .env("GOPATH", cache.join("gopath"))
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .envs(env.iter().copied())
        .status()
        .expect("run go build");
    assert!(status.success(), "go build failed");
    out
}

fn debian_go() -> PathBuf {
    PathBuf::from("go")
}

/// `rebuild-compare diff A B --format json`.
fn diff(a: &Path, b: &Path) -> Value {
    let home = tempfile::tempdir().unwrap();
    let run = support::cli::run_in(
        home.path(),
        &[
            "diff",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    run.report(1)
}

fn causes(report: &Value) -> Vec<String> {
    report["causes"]
        .as_array()
        .unwrap_or_else(|| panic!("no causes in {report:#}"))
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

fn first_explanation(report: &Value) -> String {
    report["explanations"][0]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Asserts the pair's first cause, and that the first explanation contains `says`.
fn assert_first_cause(a: &Path, b: &Path, cause: &str, says: &str) -> Value {
    let report = diff(a, b);
    let found = causes(&report);
    assert_eq!(
        found.first().map(String::as_str),
        Some(cause),
        "causes {found:?}; explanations {:#}",
        report["explanations"]
    );
    let first = first_explanation(&report);
    assert!(
        first.contains(says),
        "first explanation {first:?} does not say {says:?}; all: {:#}",
        report["explanations"]
    );
    report
}

const TRIM: &[&str] = &["-trimpath"];

/// One side of a pair of builds of [`MAIN`] with Debian's Go.
struct Side<'a> {
    flags: &'a [&'a str],
    env: &'a [(&'a str, &'a str)],
}

/// [`MAIN`] built twice, as `a` and as `b`, in one temporary directory
/// (kept alive by the returned guard).
fn pair(a: Side<'_>, b: Side<'_>) -> (TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let built_a = build(dir.path(), "a", MAIN, &debian_go(), a.flags, a.env);
    let built_b = build(dir.path(), "b", MAIN, &debian_go(), b.flags, b.env);
    (dir, built_a, built_b)
}

fn flags<'a>(flags: &'a [&'a str]) -> Side<'a> {
    Side { flags, env: &[] }
}

/// [`MAIN`] that also prints `planted` (a string constant referenced by
/// code that never runs).
fn planted_main(planted: &str) -> String {
    MAIN.replace(
        "fmt.Println(\"hello from the causes test\", version, date)",
        &format!(
            "fmt.Println(\"hello from the causes test\", version, date)\n\tif len(version) > 99 {{ fmt.Println(\"{planted}\") }}"
        ),
    )
}

/// A module `example.com/causes` with `main_go` in `dir/name` (a tree
/// for [`GoBuild`] to bind where a builder keeps it).
fn module(dir: &Path, name: &str, main_go: &str) -> PathBuf {
    let src = dir.join(name);
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("go.mod"), "module example.com/causes\n\ngo 1.19\n").expect("go.mod");
    std::fs::write(src.join("main.go"), main_go).expect("main.go");
    src
}

/// The `cause_evidence` entry of `cause`.
fn evidence<'r>(report: &'r Value, cause: &str) -> &'r Value {
    report["cause_evidence"]
        .as_array()
        .unwrap_or_else(|| panic!("no cause_evidence in {report:#}"))
        .iter()
        .find(|e| e["cause"] == cause)
        .unwrap_or_else(|| panic!("no evidence for {cause} in {:#}", report["cause_evidence"]))
}

#[test]
fn a_string_planted_in_a_runner_build_is_data_before_the_runner_directory() {
    let dir = tempfile::tempdir().unwrap();
    let planted = "https://evil.example/payload";
    let published = module(dir.path(), "published", &planted_main(planted));
    let faithful = module(dir.path(), "faithful", MAIN);
    // The release: a CI runner's checkout, without -trimpath, planted.
    GoBuild::new(&published, RUNNER_DIR)
        .env("CGO_ENABLED", "0")
        .build(&[], &dir.path().join("published.out"));
    // The rebuild: the same source in another directory.
    GoBuild::new(&faithful, "/home/builder/src")
        .env("CGO_ENABLED", "0")
        .build(&[], &dir.path().join("faithful.out"));
    let report = diff(
        &dir.path().join("published.out/app"),
        &dir.path().join("faithful.out/app"),
    );

    assert_eq!(
        causes(&report),
        ["data", "code", "paths", "build-id-consequence"],
        "{:#}",
        report["cause_evidence"]
    );
    assert_eq!(
        evidence(&report, "data"),
        &json!({"cause": "data", "strings": 1, "functions": 0, "examples": [planted]})
    );
    assert_eq!(
        evidence(&report, "code"),
        &json!({"cause": "code", "strings": 0, "functions": 1, "examples": ["main.main"]})
    );
    // The runner's build directory, whole: one prefix.
    assert_eq!(
        report["strings"]["path_prefixes_only_a"],
        json!([RUNNER_DIR])
    );
    assert_eq!(
        report["strings"]["path_prefixes_only_b"],
        json!(["/home/builder/src"])
    );
    assert_eq!(
        evidence(&report, "paths"),
        &json!({"cause": "paths", "strings": 2, "functions": 0, "examples": [
            format!("{RUNNER_DIR}/main.go"), "/home/builder/src/main.go"
        ]})
    );
    assert_eq!(
        first_explanation(&report),
        format!("strings only in A: {planted:?}, \"{RUNNER_DIR}/main.go\"")
    );
}

#[test]
fn a_string_planted_beside_another_x_value_is_data_before_ldflags_values() {
    let dir = tempfile::tempdir().unwrap();
    let planted = "https://evil.example/payload";
    let published = module(dir.path(), "published", &planted_main(planted));
    let faithful = module(dir.path(), "faithful", MAIN);
    // One directory, without -trimpath (with it, Go does not record
    // -ldflags, and nothing would show the values come from -X).
    GoBuild::new(&published, "/home/builder/src")
        .env("CGO_ENABLED", "0")
        .build(
            &["-ldflags=-X main.version=v1.0.1"],
            &dir.path().join("published.out"),
        );
    GoBuild::new(&faithful, "/home/builder/src")
        .env("CGO_ENABLED", "0")
        .build(
            &["-ldflags=-X main.version=v1.0.0"],
            &dir.path().join("faithful.out"),
        );
    let report = diff(
        &dir.path().join("published.out/app"),
        &dir.path().join("faithful.out/app"),
    );

    assert_eq!(
        causes(&report),
        ["data", "code", "ldflags-values", "build-id-consequence"],
        "{:#}",
        report["cause_evidence"]
    );
    assert_eq!(
        evidence(&report, "data"),
        &json!({"cause": "data", "strings": 1, "functions": 0, "examples": [planted]})
    );
    // Each side's -X value, alone and as the build info records it.
    assert_eq!(
        evidence(&report, "ldflags-values"),
        &json!({"cause": "ldflags-values", "strings": 4, "functions": 0, "examples": [
            "v1.0.1", "main.version=v1.0.1", "v1.0.0", "main.version=v1.0.0"
        ]})
    );
}

#[test]
fn a_planted_string_is_data_first_and_shown_whole() {
    let dir = tempfile::tempdir().unwrap();
    let planted = "beacon: https://collector.evil.test/implant?id=42";
    let a = build(dir.path(), "a", MAIN, &debian_go(), TRIM, &[]);
    let b = build(
        dir.path(),
        "b",
        &MAIN.replace(
            "fmt.Println(\"hello from the causes test\", version, date)",
            &format!(
                "fmt.Println(\"hello from the causes test\", version, date)\n\tif len(version) > 99 {{ fmt.Println(\"{planted}\") }}"
            ),
        ),
        &debian_go(),
        TRIM,
        &[],
    );
    let report = assert_first_cause(&a, &b, "data", planted);
    let only_b: Vec<&str> = report["strings"]["only_b"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        only_b.iter().any(|s| s.contains(planted)),
        "the planted string is shown whole: {only_b:?}"
    );
}

#[test]
fn a_planted_function_is_code_first_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = build(dir.path(), "a", MAIN, &debian_go(), TRIM, &[]);
    let b = build(
        dir.path(),
        "b",
        &format!(
            "{}\n//go:noinline\nfunc beacon(n int) int {{ s := 0; for i := 0; i < n; i++ {{ s += i * i ^ 7 }}; return s }}\n",
            MAIN.replace("func main() { ", "func main() { fmt.Println(beacon(len(version)))\n\t")
        ),
        &debian_go(),
        TRIM,
        &[],
    );
    let report = assert_first_cause(&a, &b, "code", "main.beacon");
    let only_b: Vec<&str> = report["functions"]["only_b"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(only_b, ["main.beacon"]);
    assert_eq!(
        causes(&report).last().map(String::as_str),
        Some("build-id-consequence")
    );
    assert!(
        report["explanations"].as_array().unwrap().iter().any(|e| e
            .as_str()
            .unwrap()
            .ends_with("it follows from the other differences")),
        "{:#}",
        report["explanations"]
    );
}

#[test]
fn trimpath_against_none_is_paths() {
    let (_dir, a, b) = pair(flags(&[]), flags(TRIM));
    assert_first_cause(&a, &b, "paths", "-trimpath");
}

#[test]
fn another_x_value_is_ldflags_values() {
    let (_dir, a, b) = pair(
        flags(&["-ldflags=-X main.version=v1.0.0"]),
        flags(&["-ldflags=-X main.version=v1.0.1"]),
    );
    assert_first_cause(&a, &b, "ldflags-values", "-ldflags");
}

#[test]
fn stripped_against_not_is_stripped() {
    let (_dir, a, b) = pair(flags(&["-trimpath", "-ldflags=-s -w"]), flags(TRIM));
    assert_first_cause(&a, &b, "stripped", "stripped");
}

#[test]
fn a_build_time_stamp_is_a_timestamp() {
    let (_dir, a, b) = pair(
        flags(&["-trimpath", "-ldflags=-X main.date=2025-03-11T19:58:53Z"]),
        flags(&["-trimpath", "-ldflags=-X main.date=2025-03-11T19:52:20Z"]),
    );
    assert_first_cause(&a, &b, "timestamp", "2025-03-11T19:58:53Z");
}

#[test]
fn only_the_build_id_is_build_id_only() {
    let (_dir, a, b) = pair(
        flags(&["-trimpath", "-ldflags=-buildid=aaaa"]),
        flags(&["-trimpath", "-ldflags=-buildid=bbbb"]),
    );
    assert_first_cause(&a, &b, "build-id-only", "build ID");
}

#[test]
fn goamd64_v1_against_v3_is_build_settings_for_the_code_and_data_for_its_message() {
    let (_dir, a, b) = pair(
        Side {
            flags: TRIM,
            env: &[("GOAMD64", "v1")],
        },
        Side {
            flags: TRIM,
            env: &[("GOAMD64", "v3")],
        },
    );
    // The runtime's v3 message is no setting's text: nothing accounts for it.
    let message = "This program can only be run on AMD64 processors with v3 \
                   microarchitecture support.\n";
    let report = assert_first_cause(&a, &b, "data", "v3 microarchitecture");
    assert_eq!(
        causes(&report),
        ["data", "build-settings", "build-id-consequence"]
    );
    assert_eq!(
        evidence(&report, "data"),
        &json!({"cause": "data", "strings": 1, "functions": 0, "examples": [message]})
    );
    let settings = evidence(&report, "build-settings");
    assert!(settings["examples"]
        .as_array()
        .unwrap()
        .contains(&json!("GOAMD64=v3")));
    assert_functions_not_compared_one_by_one(settings, "build settings differ");
}

/// `evidence` accounts for functions as a group, and says so.
fn assert_functions_not_compared_one_by_one(evidence: &Value, why: &str) {
    let functions = evidence["functions"].as_u64().unwrap();
    assert!(functions > 1, "{evidence:#}");
    assert_eq!(
        evidence["note"],
        format!(
            "{functions} functions added, removed or changed: not compared one by one, \
             as {why}, which changes code"
        )
    );
}

#[test]
fn a_modified_tree_is_vcs_modified() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("repo");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("go.mod"), "module example.com/causes\n\ngo 1.19\n").unwrap();
    std::fs::write(src.join("main.go"), MAIN).unwrap();
    let repo = git2::Repository::init(&src).unwrap();
    support::git::commit(
        &repo,
        &[
            ("go.mod", "module example.com/causes\n\ngo 1.19\n"),
            ("main.go", MAIN),
        ],
        "release",
        1_700_000_000,
    );
    let go_in_repo = |out: &Path| {
        let cache = go_cache().path();
        let status = Command::new("go")
            .args(["build", "-trimpath", "-buildvcs=true", "-o"])
            .arg(out)
            .arg(".")
            .current_dir(&src)
            .env("GOCACHE", cache.join("vcs"))
            .env("GOPROXY", "off")
            .env("CGO_ENABLED", "0")
            .env("GIT_CONFIG_COUNT", "1")
            .env("GIT_CONFIG_KEY_0", "safe.directory")
            .env("GIT_CONFIG_VALUE_0", "*")
            .status()
            .unwrap();
        assert!(status.success());
    };
    let clean = dir.path().join("clean");
    go_in_repo(&clean);
    std::fs::write(src.join("NOTES"), "a local change\n").unwrap();
    let modified = dir.path().join("modified");
    go_in_repo(&modified);
    assert_first_cause(&clean, &modified, "vcs-modified", "vcs.modified");
}

#[test]
fn two_go_releases_are_toolchain_for_the_code_and_data_for_their_runtime_strings() {
    let go121 = support::go::go_1_21_13_root().join("bin/go");
    let dir = tempfile::tempdir().unwrap();
    let a = build(dir.path(), "a", MAIN, &go121, TRIM, &[]);
    let b = build(dir.path(), "b", MAIN, &debian_go(), TRIM, &[]);
    // A toolchain accounts for its version and, as a group, the code; the
    // runtime's other strings are not its text.
    let report = assert_first_cause(&a, &b, "data", "strings only in");
    assert_eq!(
        causes(&report),
        [
            "data",
            "toolchain",
            "build-settings",
            "build-id-consequence"
        ]
    );
    assert_functions_not_compared_one_by_one(
        evidence(&report, "toolchain"),
        "the toolchain differs",
    );
    assert!(report["explanations"]
        .as_array()
        .unwrap()
        .contains(&json!("toolchain differs: go1.21.13 vs go1.19.8")));
}

#[test]
fn amd64_against_arm64_of_one_source_is_not_told_different_directories() {
    let dir = tempfile::tempdir().unwrap();
    // One checkout, built for two machines, without -trimpath.
    let a = build(
        dir.path(),
        "app",
        MAIN,
        &debian_go(),
        &[],
        &[("GOARCH", "amd64")],
    );
    let amd64 = dir.path().join("amd64");
    std::fs::rename(&a, &amd64).unwrap();
    let b = build(
        dir.path(),
        "app",
        MAIN,
        &debian_go(),
        &[],
        &[("GOARCH", "arm64")],
    );
    let (a, b) = (amd64, b);
    let report = diff(&a, &b);
    let explanations = report["explanations"].to_string();
    assert!(
        !explanations.contains("different directories"),
        "{explanations}"
    );
    let found = causes(&report);
    assert_eq!(found[0], "build-settings", "{found:?}");
    assert!(
        first_explanation(&report).starts_with("built for different machines: x86_64 vs aarch64"),
        "{explanations}"
    );
    assert!(!found.contains(&"paths".to_string()), "{found:?}");
    assert!(!found.contains(&"code".to_string()), "{found:?}");
}
