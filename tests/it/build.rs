//! The `build` command end to end: real git repositories made with git2,
//! file paths as sources, real bubblewrap, real compilers.

use crate::support;

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git2::{Oid, Repository};
use rebuild_compare::rebuild::build::{self, BuildError, BuildOptions};
use rebuild_compare::rebuild::plan::ReleasePlan;
use rebuild_compare::rebuild::recipe::Recipe;
use rebuild_compare::rebuild::sandbox::BuilderRoot;
use serde_json::Value;

const GO_MAIN: &str = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n";

fn signature() -> git2::Signature<'static> {
    support::git::signature(1_700_000_000)
}

fn commit(repo: &Repository, files: &[(&str, &str)], message: &str) -> Oid {
    support::git::commit(repo, files, message, 1_700_000_000)
}

/// A repository whose annotated tag `v1.0.0` holds `files`, with a later
/// commit on the branch (so HEAD is not the tag). Returns the tag's commit.
fn tagged_repo(dir: &Path, files: &[(&str, &str)]) -> Oid {
    let repo = Repository::init(dir).unwrap();
    let tagged = commit(&repo, files, "release");
    let object = repo.find_object(tagged, None).unwrap();
    repo.tag("v1.0.0", &object, &signature(), "v1.0.0", false)
        .unwrap();
    commit(&repo, &[("LATER", "after the release\n")], "later work");
    tagged
}

fn write_recipe(dir: &Path, source: &Path, build: &str) -> PathBuf {
    let path = dir.join("recipe.toml");
    let text = format!(
        "[image]\nrepository = \"example.com/test/app\"\ntag = \"{{version}}\"\n\n\
         [source]\ngit = \"{}\"\nref = \"{{version}}\"\n\n{build}",
        source.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

fn rebuild_compare(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rebuild-compare"))
        .current_dir(dir)
        .args(args)
        .args(["--cache-dir", dir.join("cache").to_str().unwrap()])
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            stderr(output)
        )
    })
}

/// A recipe that runs one shell script on the host builder and keeps `/out/result`.
fn shell_recipe(dir: &Path, source: &Path, fetch: Option<&str>, script: &str) -> PathBuf {
    let fetch = fetch
        .map(|f| format!("fetch = [\"bash\", \"-c\", {f:?}]\n"))
        .unwrap_or_default();
    write_recipe(
        dir,
        source,
        &format!(
            "[build]\nbuilder = \"host\"\n{fetch}command = [\"bash\", \"-c\", {script:?}]\n\
             artifact = \"/out/result\"\n\n[build.platforms.\"linux/amd64\"]\n"
        ),
    )
}

fn artifact_text(report: &Value, index: usize) -> String {
    let path = report["platforms"][index]["path"].as_str().unwrap();
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn go_build_reproduces_bit_for_bit_for_two_platforms_with_clean_vcs_stamp() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    let tagged = tagged_repo(
        &source,
        &[
            ("main.go", GO_MAIN),
            ("go.mod", "module example.com/hello\n\ngo 1.19\n"),
        ],
    );
    let recipe = write_recipe(
        tmp.path(),
        &source,
        r#"[build]
builder = "host"
command = ["go", "build", "-o", "/out/hello", "."]
artifact = "/out/hello"
env = { CGO_ENABLED = "0", GOCACHE = "/tmp/gocache", GOPROXY = "off", GOFLAGS = "-trimpath -buildvcs=true" }

[build.platforms."linux/amd64"]
env = { GOOS = "{os}", GOARCH = "{arch}" }

[build.platforms."linux/arm64"]
env = { GOOS = "{os}", GOARCH = "{arch}" }
"#,
    );
    let mut reports = Vec::new();
    for run in ["first", "second"] {
        let output = rebuild_compare(
            tmp.path(),
            &[
                "build",
                "v1.0.0",
                "--recipe",
                recipe.to_str().unwrap(),
                "--format",
                "json",
                "--out-dir",
                run,
            ],
        );
        assert!(output.status.success(), "{}", stderr(&output));
        reports.push(json(&output));
    }
    let (first, second) = (&reports[0], &reports[1]);
    assert_eq!(first["source"]["commit"], tagged.to_string());
    assert_eq!(first["source"]["ref"], "v1.0.0");
    assert_eq!(first["source"]["commit_time"], "2023-11-14T22:13:20Z");
    assert_eq!(first["builder"], "host");
    assert_eq!(first["sandboxed"], true);
    for index in 0..2 {
        let a = &first["platforms"][index];
        let b = &second["platforms"][index];
        assert_eq!(a["platform"], ["linux/amd64", "linux/arm64"][index]);
        assert_eq!(a["sha256"], b["sha256"]);
        assert_eq!(a["size"], b["size"]);
        let bytes_a = std::fs::read(a["path"].as_str().unwrap()).unwrap();
        let bytes_b = std::fs::read(b["path"].as_str().unwrap()).unwrap();
        assert!(
            bytes_a == bytes_b,
            "{} differs between builds",
            a["platform"]
        );
        let version = Command::new("go")
            .args(["version", "-m", a["path"].as_str().unwrap()])
            .output()
            .unwrap();
        let version = String::from_utf8(version.stdout).unwrap();
        assert!(
            version.contains("\tbuild\tvcs.modified=false\n"),
            "{version}"
        );
        assert!(
            version.contains(&format!("\tbuild\tvcs.revision={tagged}\n")),
            "{version}"
        );
        assert!(
            version.contains(&format!("\tbuild\tGOARCH={}\n", ["amd64", "arm64"][index])),
            "{version}"
        );
        assert!(Path::new(a["log"].as_str().unwrap()).is_file());
    }
    assert_ne!(
        first["platforms"][0]["sha256"],
        first["platforms"][1]["sha256"]
    );
}

#[test]
fn c_program_built_by_cc_reproduces() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(
        &source,
        &[(
            "hello.c",
            "#include <stdio.h>\nint main(void) { puts(__DATE__); return 0; }\n",
        )],
    );
    let recipe = write_recipe(
        tmp.path(),
        &source,
        "[build]\nbuilder = \"host\"\ncommand = [\"cc\", \"-O2\", \"-o\", \"hello\", \"hello.c\"]\n\
         artifact = \"hello\"\n\n[build.platforms.\"linux/amd64\"]\n",
    );
    let digests: Vec<Value> = ["one", "two"]
        .iter()
        .map(|out| {
            let output = rebuild_compare(
                tmp.path(),
                &[
                    "build",
                    "v1.0.0",
                    "--recipe",
                    recipe.to_str().unwrap(),
                    "--format",
                    "json",
                    "--out-dir",
                    out,
                ],
            );
            assert!(output.status.success(), "{}", stderr(&output));
            json(&output)["platforms"][0]["sha256"].clone()
        })
        .collect();
    assert_eq!(digests[0], digests[1]);
    // __DATE__ follows SOURCE_DATE_EPOCH (the tag's commit time), not the clock.
    let run = Command::new(tmp.path().join("one/linux-amd64/hello"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(run.stdout).unwrap(), "Nov 14 2023\n");
}

/// Runs `build v1.0.0` of `recipe` (JSON output) with `extra` arguments.
fn build(dir: &Path, recipe: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "build",
        "v1.0.0",
        "--recipe",
        recipe.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    rebuild_compare(dir, &args)
}

/// [`shell_recipe`] keeping `result` in the source root instead, so that
/// the same recipe also runs with `--no-sandbox` (where `/out` is not).
fn relative_recipe(dir: &Path, source: &Path, fetch: Option<&str>, script: &str) -> PathBuf {
    let path = shell_recipe(dir, source, fetch, script);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("artifact = \"/out/result\"", "artifact = \"result\"");
    std::fs::write(&path, text).unwrap();
    path
}

/// A shell script that tries to connect to `port` on each of `addresses`
/// and prints `ADDRESS connected` or `ADDRESS refused` for each.
fn connect_script(addresses: &[&str], port: u16) -> String {
    format!(
        "for a in {}; do if echo hi 2>/dev/null > /dev/tcp/$a/{port}; then echo $a connected; \
         else echo $a refused; fi; done",
        addresses.join(" ")
    )
}

#[test]
fn command_cannot_reach_a_loopback_server() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = format!("{} > /out/result", connect_script(&["127.0.0.1"], port));
    let recipe = shell_recipe(tmp.path(), &source, None, &script);
    let output = build(tmp.path(), &recipe, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(artifact_text(&json(&output), 0), "127.0.0.1 refused\n");
    assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[test]
fn fetch_has_a_network_but_not_the_hosts_loopback_or_link_local_addresses() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    // 10.0.2.2 is slirp4netns's gateway, which would lead to the host's
    // loopback; route look-ups send nothing anywhere.
    let fetch = format!(
        "{{ {}; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '; \
         ip route get 169.254.169.254 >/dev/null 2>&1 && echo link-local routed || echo link-local unreachable; \
         ip route get 198.51.100.1 | head -n 1 | cut -d' ' -f2-5; \
         ip route del unreachable 169.254.0.0/16 2>/dev/null && echo route changed || echo routes fixed; \
         cat /etc/resolv.conf; }} > result",
        connect_script(&["127.0.0.1", "10.0.2.2"], port)
    );
    let recipe = relative_recipe(tmp.path(), &source, Some(&fetch), "true");

    // The attack: without the sandbox, fetch reaches what listens on the host's loopback.
    let output = build(tmp.path(), &recipe, &["--no-sandbox", "--out-dir", "plain"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = artifact_text(&json(&output), 0);
    assert!(text.starts_with("127.0.0.1 connected\n"), "{text}");
    assert!(listener.accept().is_ok());

    let output = build(tmp.path(), &recipe, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        artifact_text(&json(&output), 0),
        "127.0.0.1 refused\n10.0.2.2 refused\nlo\ntap0\nlink-local unreachable\n\
         via 10.0.2.2 dev tap0\nroutes fixed\nnameserver 10.0.2.3\n"
    );
    assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
}

#[test]
fn build_runs_as_an_unprivileged_user_with_an_etc_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let script = "{ id -u; id -g; id -un; \
                  if cat /etc/shadow >/dev/null 2>&1; then echo shadow readable; else echo no shadow; fi; \
                  ls -A /etc | tr '\\n' ' '; echo; ls -A /etc/ssl | tr '\\n' ' '; echo; } > result";
    let recipe = relative_recipe(tmp.path(), &source, Some(script), script);
    if std::fs::read("/etc/shadow").is_ok() {
        // The attack: a build run as this (privileged) user reads the host's secrets.
        let output = build(tmp.path(), &recipe, &["--no-sandbox", "--out-dir", "plain"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let text = artifact_text(&json(&output), 0);
        assert!(text.contains("\nshadow readable\n"), "{text}");
    }

    let output = build(tmp.path(), &recipe, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    // What the README lists, as far as this host has it, and the generated files.
    let listed = [
        "alternatives",
        "ca-certificates",
        "ca-certificates.conf",
        "ssl",
        "pki",
        "ld.so.cache",
        "ld.so.conf",
        "ld.so.conf.d",
        "nsswitch.conf",
        "host.conf",
        "gai.conf",
        "protocols",
        "services",
        "os-release",
        "mtab",
    ];
    let mut etc: Vec<String> = std::fs::read_dir("/etc")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| listed.contains(&name.as_str()) || name.starts_with("java-"))
        .chain(["passwd", "group", "hosts", "resolv.conf"].map(String::from))
        .collect();
    etc.sort();
    let ssl: Vec<&str> = ["certs", "openssl.cnf"]
        .into_iter()
        .filter(|name| Path::new("/etc/ssl").join(name).exists())
        .collect();
    assert_eq!(
        artifact_text(&json(&output), 0),
        format!(
            "1000\n1000\nbuild\nno shadow\n{} \n{} \n",
            etc.join(" "),
            ssl.join(" ")
        )
    );
}

#[test]
fn tmp_is_capped_and_writing_past_the_cap_fails_the_build() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    // 17 MiB: one more than the cap below.
    let recipe = shell_recipe(
        tmp.path(),
        &source,
        None,
        "dd if=/dev/zero of=/tmp/fill bs=1M count=17 && echo filled > /out/result",
    );
    let output = build(
        tmp.path(),
        &recipe,
        &["--tmp-size", "64M", "--out-dir", "roomy"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(artifact_text(&json(&output), 0), "filled\n");

    let output = build(tmp.path(), &recipe, &["--tmp-size", "16M"]);
    assert_eq!(output.status.code(), Some(2));
    let report = json(&output);
    assert!(report["platforms"].as_array().unwrap().is_empty());
    let error = report["failed"][0]["error"].as_str().unwrap();
    assert!(
        error.starts_with("command failed (exit status 1); log: "),
        "{error}"
    );
    assert!(error.contains("No space left on device"), "{error}");

    let output = build(tmp.path(), &recipe, &["--tmp-size", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the size of /tmp must be above zero"),
        "{}",
        stderr(&output)
    );
}

/// The genuine project: `fetch.sh` downloads (here: writes) a library into
/// /cache unless it is there already, as `go mod download` does, and says
/// which; `build.sh` builds with what /cache holds.
const GENUINE_FETCH: &str = "mkdir -p /cache/deps; if [ -f /cache/deps/lib.txt ]; then echo reused; \
                             else echo genuine-lib > /cache/deps/lib.txt; echo fetched; fi > fetch-state\n";
const GENUINE_BUILD: &str = "{ cat /cache/planted 2>/dev/null || echo clean; cat /cache/deps/lib.txt; cat fetch-state; \
                             test -e /cache/left-by-command && echo leftover || echo fresh; } > /out/result; \
                             touch /cache/left-by-command\n";
/// A hostile fork of it: both steps plant files in /cache for later builds.
const HOSTILE_FETCH: &str =
    "mkdir -p /cache/deps; echo evil-lib > /cache/deps/lib.txt; echo evil > /cache/planted\n";
const HOSTILE_BUILD: &str = "echo evil > /cache/planted; echo evil-lib > /cache/deps/lib.txt; \
                             echo evil > /cache/deps/more.txt; cat /cache/planted /cache/deps/lib.txt > /out/result\n";

#[test]
fn a_hostile_fork_leaves_nothing_in_the_cache_for_the_genuine_source() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = tmp.path().join("upstream");
    tagged_repo(
        &upstream,
        &[("fetch.sh", GENUINE_FETCH), ("build.sh", GENUINE_BUILD)],
    );
    let fork = tmp.path().join("fork");
    tagged_repo(
        &fork,
        &[("fetch.sh", HOSTILE_FETCH), ("build.sh", HOSTILE_BUILD)],
    );
    let recipe = write_recipe(
        tmp.path(),
        &upstream,
        "[build]\nbuilder = \"host\"\nfetch = [\"sh\", \"fetch.sh\"]\ncommand = [\"sh\", \"build.sh\"]\n\
         artifact = \"/out/result\"\n\n[build.platforms.\"linux/amd64\"]\n",
    );
    // The attack runs: the fork's steps write their plants into /cache.
    let fork_url = fork.to_str().unwrap();
    let output = build(
        tmp.path(),
        &recipe,
        &["--source", fork_url, "--out-dir", "fork"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(artifact_text(&json(&output), 0), "evil\nevil-lib\n");

    // The genuine source builds with its own dependencies only, twice: the
    // second run reuses what its own fetch left, and never what a command wrote.
    for (run, state) in [("first", "fetched"), ("second", "reused")] {
        let output = build(tmp.path(), &recipe, &["--out-dir", run]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(
            artifact_text(&json(&output), 0),
            format!("clean\ngenuine-lib\n{state}\nfresh\n"),
            "{run} run"
        );
    }
    let entries: Vec<PathBuf> = std::fs::read_dir(tmp.path().join("cache/deps"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 2, "the fork and upstream share no entry");
    let genuine = entries
        .iter()
        .find(|entry| {
            std::fs::read_to_string(entry.join("deps/lib.txt")).unwrap() == "genuine-lib\n"
        })
        .unwrap();
    assert!(!genuine.join("left-by-command").exists());

    // Someone who can write the cache plants a library in the genuine entry:
    // it is not the tree the last fetch left, so it is emptied and fetched again.
    std::fs::write(genuine.join("deps/lib.txt"), "planted-lib\n").unwrap();
    let output = build(tmp.path(), &recipe, &["--out-dir", "third"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        artifact_text(&json(&output), 0),
        "clean\ngenuine-lib\nfetched\nfresh\n"
    );
    assert!(
        stderr(&output)
            .contains("is not the tree this machine sealed after its last fetch; emptying it"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn another_recipe_or_tag_of_the_same_source_gets_its_own_dependency_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = tmp.path().join("upstream");
    tagged_repo(
        &upstream,
        &[("fetch.sh", GENUINE_FETCH), ("build.sh", GENUINE_BUILD)],
    );
    let repo = Repository::open(&upstream).unwrap();
    let hostile = commit(
        &repo,
        &[("fetch.sh", HOSTILE_FETCH), ("build.sh", HOSTILE_BUILD)],
        "hostile release",
    );
    repo.tag(
        "v0.9.9",
        &repo.find_object(hostile, None).unwrap(),
        &signature(),
        "v0.9.9",
        false,
    )
    .unwrap();
    let build_section = "[build]\nbuilder = \"host\"\nfetch = [\"sh\", \"fetch.sh\"]\ncommand = [\"sh\", \"build.sh\"]\n\
         artifact = \"/out/result\"\n\n[build.platforms.\"linux/amd64\"]\n";
    // The same recipe at a hostile tag, then an edited recipe: neither leaves anything.
    let recipe = write_recipe(tmp.path(), &upstream, build_section);
    let output = rebuild_compare(
        tmp.path(),
        &[
            "build",
            "v0.9.9",
            "--recipe",
            recipe.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(artifact_text(&json(&output), 0), "evil\nevil-lib\n");
    let edited = tmp.path().join("edited.toml");
    std::fs::write(
        &edited,
        std::fs::read_to_string(&recipe).unwrap().replace(
            "command = [\"sh\", \"build.sh\"]",
            &format!("command = [\"sh\", \"-c\", {:?}]", HOSTILE_BUILD.trim()),
        ),
    )
    .unwrap();
    let output = build(tmp.path(), &edited, &["--out-dir", "edited"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(artifact_text(&json(&output), 0), "evil\nevil-lib\n");

    let output = build(tmp.path(), &recipe, &["--out-dir", "genuine"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        artifact_text(&json(&output), 0),
        "clean\ngenuine-lib\nfetched\nfresh\n"
    );
    assert_eq!(
        std::fs::read_dir(tmp.path().join("cache/deps"))
            .unwrap()
            .count(),
        3
    );
}

#[test]
fn build_sees_neither_the_callers_credentials_nor_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join(".docker")).unwrap();
    std::fs::write(
        home.join(".docker/config.json"),
        "{\"auths\":{\"x\":{\"auth\":\"c2VjcmV0\"}}}",
    )
    .unwrap();
    let script = format!(
        "{{ cat ~/.docker/config.json {home}/.docker/config.json /root/.docker/config.json; \
         env | grep -e SECRET -e {home}; }} > /out/result 2>/dev/null; true",
        home = home.display()
    );
    let recipe = shell_recipe(tmp.path(), &source, None, &script);
    let output = Command::new(env!("CARGO_BIN_EXE_rebuild-compare"))
        .current_dir(tmp.path())
        .env("HOME", &home)
        .env("SECRET_TOKEN", "hunter2")
        .env("XDG_CACHE_HOME", tmp.path().join("xdg"))
        .args([
            "build",
            "v1.0.0",
            "--recipe",
            recipe.to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(artifact_text(&json(&output), 0), "");
    // The mirror went to $XDG_CACHE_HOME/rebuild-compare/git/<sha256 of url>
    // (beside it, the lock of its writers).
    let mut names: Vec<String> = std::fs::read_dir(tmp.path().join("xdg/rebuild-compare/git"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[1], format!("{}.lock", names[0]));
}

#[test]
fn writes_to_system_directories_change_nothing_on_the_host() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let marker = format!("rebuild-compare-marker-{}", std::process::id());
    let dirs = ["/root", "/usr/local", "/etc", "/"];
    let script = format!(
        "for d in {}; do touch $d/{marker} 2>/dev/null && echo wrote $d; done > /out/result; true",
        dirs.join(" ")
    );
    let recipe = shell_recipe(tmp.path(), &source, None, &script);
    let output = build(tmp.path(), &recipe, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(artifact_text(&json(&output), 0), "");
    for dir in dirs {
        assert!(
            !Path::new(dir).join(&marker).exists(),
            "{dir}/{marker} exists"
        );
    }
}

#[test]
fn missing_tag_is_an_error_naming_it_and_the_closest_release() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let recipe = shell_recipe(tmp.path(), &source, None, "echo > /out/result");
    let output = rebuild_compare(
        tmp.path(),
        &["build", "v9.9.9", "--recipe", recipe.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: tag \"v9.9.9\" does not exist in {}; the closest release is v1.0.0\n",
            source.canonicalize().unwrap().display()
        )
    );
}

#[test]
fn malformed_recipe_reports_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let recipe = tmp.path().join("bad.toml");
    std::fs::write(
        &recipe,
        "[image]\nrepository = \"example.com/a\"\ntag = v1\n",
    )
    .unwrap();
    let output = rebuild_compare(
        tmp.path(),
        &["build", "v1", "--recipe", recipe.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: recipe {}:3:7: string values must be quoted, expected literal string\n",
            recipe.display()
        )
    );
}

#[test]
fn unknown_recipe_key_reports_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    std::fs::create_dir_all(&source).unwrap();
    let recipe = write_recipe(
        tmp.path(),
        &source,
        "[build]\nbuilder = \"host\"\ncommand = [\"true\"]\nartifact = \"x\"\nnetwork = true\n",
    );
    let output = rebuild_compare(
        tmp.path(),
        &["build", "v1", "--recipe", recipe.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: recipe {}:13:1: unknown field `network`, expected one of `builder`, `workdir`, `source_date_epoch`, `root`, `fetch`, `command`, `artifact`, `cargo_bin`, `env`, `platforms`\n",
            recipe.display()
        )
    );
}

/// A `sleep` argument unique to this test process, so that concurrent test
/// runs on the same machine never see each other's sleepers.
fn unique_sleep(seconds: u32) -> String {
    format!("{seconds}.{}", std::process::id())
}

/// Whether a process with `needle` in its command line is still there after
/// the kernel has had a moment (up to 5 s) to reap a killed tree.
fn process_survives(needle: &str) -> bool {
    for _ in 0..50 {
        if !process_running(needle) {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    true
}

/// Whether any process on the machine has `needle` in its command line.
fn process_running(needle: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .map(|cmdline| {
                String::from_utf8_lossy(&cmdline)
                    .replace('\0', " ")
                    .contains(needle)
            })
            .unwrap_or(false)
    })
}

#[test]
fn build_timeout_kills_the_whole_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let sleep = format!("sleep {}", unique_sleep(61));
    let recipe = shell_recipe(
        tmp.path(),
        &source,
        None,
        &format!("{sleep} & {sleep}; wait"),
    );
    let output = rebuild_compare(
        tmp.path(),
        &[
            "build",
            "v1.0.0",
            "--recipe",
            recipe.to_str().unwrap(),
            "--build-timeout",
            "1s",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.contains("command exceeded the build time limit of 1s and was killed; log: "),
        "{err}"
    );
    assert!(
        !process_survives(&sleep),
        "a sandboxed sleep survived the timeout"
    );
}

#[test]
fn build_timeout_kills_the_process_group_without_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let sleep = format!("sleep {}", unique_sleep(62));
    let recipe = shell_recipe(
        tmp.path(),
        &source,
        None,
        &format!("{sleep} & {sleep}; wait"),
    );
    let output = rebuild_compare(
        tmp.path(),
        &[
            "build",
            "v1.0.0",
            "--recipe",
            recipe.to_str().unwrap(),
            "--build-timeout",
            "1s",
            "--no-sandbox",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        !process_survives(&sleep),
        "an unsandboxed sleep survived the timeout"
    );
}

#[test]
fn failed_platform_is_exit_2_and_the_others_are_still_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let recipe = write_recipe(
        tmp.path(),
        &source,
        r#"[build]
builder = "host"
command = ["bash", "-c", "for i in $(seq 30); do echo line $i; done; test $ARCH = amd64 && echo built > /out/result"]
artifact = "/out/result"

[build.platforms."linux/amd64"]
env = { ARCH = "{arch}" }
[build.platforms."linux/arm64"]
env = { ARCH = "{arch}" }
"#,
    );
    let output = build(tmp.path(), &recipe, &[]);
    assert_eq!(output.status.code(), Some(2));
    let report = json(&output);
    assert_eq!(report["platforms"].as_array().unwrap().len(), 1);
    assert_eq!(report["platforms"][0]["platform"], "linux/amd64");
    assert_eq!(artifact_text(&report, 0), "built\n");
    assert_eq!(report["failed"][0]["platform"], "linux/arm64");
    let error = report["failed"][0]["error"].as_str().unwrap();
    let log = tmp.path().join("rebuild-out/v1.0.0/linux-arm64/build.log");
    assert!(
        error.starts_with(&format!(
            "command failed (exit status 1); log: {}\n",
            log.display()
        )),
        "{error}"
    );
    assert!(error.ends_with("  | line 29\n  | line 30"), "{error}");
    assert!(
        !error.contains("| line 10\n"),
        "more than the last 20 lines: {error}"
    );
    assert_eq!(
        stderr(&output),
        format!("error: 1 of 2 platform builds failed\nlinux/arm64: {error}\n")
    );
}

#[test]
fn no_sandbox_is_reported_and_keeps_the_environment_cleared() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let recipe = shell_recipe(
        tmp.path(),
        &source,
        None,
        "env | cut -d= -f1 | sort | tr '\\n' ' ' > result",
    );
    let recipe_text = std::fs::read_to_string(&recipe)
        .unwrap()
        .replace("\"/out/result\"", "\"result\"");
    std::fs::write(&recipe, recipe_text).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_rebuild-compare"))
        .current_dir(tmp.path())
        .env("SECRET_TOKEN", "hunter2")
        .args([
            "build",
            "v1.0.0",
            "--recipe",
            recipe.to_str().unwrap(),
            "--format",
            "json",
            "--no-sandbox",
        ])
        .args(["--cache-dir", tmp.path().join("cache").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["sandboxed"], false);
    assert_eq!(
        artifact_text(&report, 0),
        "HOME LC_ALL PATH PWD SHLVL SOURCE_DATE_EPOCH TZ _ "
    );
}

#[test]
fn image_builder_root_replaces_the_host_and_its_env_is_the_base() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "from the source\n")]);
    let rootfs = tmp.path().join("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).unwrap();
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
    for tool in ["sh", "cat", "cp", "env", "ls", "sort", "tr", "cut"] {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(tool)).unwrap();
    }
    std::os::unix::fs::symlink("bin", rootfs.join("sbin")).unwrap();
    let recipe_path = write_recipe(
        tmp.path(),
        &source,
        r#"[build]
builder = "registry.example/busybox:1@sha256:0000000000000000000000000000000000000000000000000000000000000000"
command = ["sh", "-c", "{ cat README; ls /; env | cut -d= -f1 | sort | tr '\\n' ' '; echo; echo $PATH $IMAGE_VAR $RECIPE_VAR; } > /out/seen"]
artifact = "/out/seen"
env = { RECIPE_VAR = "from-recipe-{arch}" }

[build.platforms."linux/amd64"]
"#,
    );
    let recipe = Recipe::load(&recipe_path).unwrap();
    let resolver_rootfs = rootfs.clone();
    let resolve = move |reference: &str| -> Result<BuilderRoot, BuildError> {
        Ok(BuilderRoot::Image {
            rootfs: resolver_rootfs.clone(),
            env: vec!["PATH=/bin".into(), "IMAGE_VAR=from-image".into()],
            reference: reference.to_string(),
            digest: "sha256:00".into(),
            served_by: None,
        })
    };
    let options = BuildOptions {
        out_dir: tmp.path().join("out"),
        cache_dir: tmp.path().join("cache"),
        timeout: std::time::Duration::from_secs(600),
        sandboxed: true,
        progress: rebuild_compare::progress::silent(),
        tmp_size: rebuild_compare::rebuild::sandbox::DEFAULT_TMP_SIZE,
    };
    let release = ReleasePlan::render(&recipe, "v1.0.0");
    let plan = build::plan(release, None, options, &resolve).unwrap();
    let platforms = build::select_platforms(&recipe, &[]).unwrap();
    let report = build::build_all(&plan, &platforms);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let seen = std::fs::read_to_string(&report.platforms[0].path).unwrap();
    assert_eq!(
        seen,
        "from the source\nbin\ncache\ndev\netc\nout\nproc\nsbin\nsrc\ntmp\n\
         HOME IMAGE_VAR LC_ALL PATH PWD RECIPE_VAR SHLVL SOURCE_DATE_EPOCH TZ \n\
         /bin from-image from-recipe-amd64\n"
    );
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(
        json["builder"],
        serde_json::json!({"reference": "registry.example/busybox:1@sha256:0000000000000000000000000000000000000000000000000000000000000000", "digest": "sha256:00"})
    );
    // Pinned by digest in the recipe: nothing to note.
    assert_eq!(json["notes"], serde_json::json!([]));
}

#[test]
fn builder_image_is_pulled_from_the_registry_verified_and_unpacked_once() {
    let registry = support::Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let busybox = std::fs::read("/bin/busybox").unwrap();
    let mut tools =
        support::LayerBuilder::new()
            .dir("bin", 0o755)
            .file("bin/busybox", &busybox, 0o755);
    for tool in ["sh", "cat", "ls", "tr"] {
        tools = tools.symlink(&format!("bin/{tool}"), "busybox");
    }
    // A second layer whites out a tool, as a real image's later layer might.
    let image = support::ImageBuilder::new("linux/amd64")
        .env("PATH=/bin")
        .env("IMAGE_VAR=from-image")
        .layer(tools.build(support::Compression::Gzip))
        .layer(
            support::LayerBuilder::new()
                .whiteout("bin/tr")
                .build(support::Compression::Zstd),
        )
        .build();
    let layout = tmp.path().join("layout");
    let written = support::write_oci_layout(
        &layout,
        "1",
        &support::ImageSet::single(image),
        support::IndexStyle::SingleManifest,
        support::MediaTypes::Oci,
    );
    let builder = registry.reference("tools/busybox:1");
    support::push(&layout, "1", &builder, None);

    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "from the source\n")]);
    let recipe = write_recipe(
        tmp.path(),
        &source,
        &format!(
            "[build]\nbuilder = \"{builder}\"\n\
             command = [\"sh\", \"-c\", \"{{ cat README; ls /bin; ls /; echo $IMAGE_VAR; }} > /out/seen\"]\n\
             artifact = \"/out/seen\"\n\n[build.platforms.\"linux/amd64\"]\n"
        ),
    );
    let run = || build(tmp.path(), &recipe, &[]);
    let first = run();
    assert!(first.status.success(), "{}", stderr(&first));
    let report = json(&first);
    assert_eq!(
        artifact_text(&report, 0),
        "from the source\nbusybox\ncat\nls\nsh\nbin\ncache\ndev\netc\nout\nproc\nsrc\ntmp\nfrom-image\n"
    );
    assert_eq!(report["builder"]["reference"], builder);
    // The tag was resolved to the digest that was pushed, and the report says
    // the recipe does not pin it.
    let digest = report["builder"]["digest"].as_str().unwrap().to_string();
    assert_eq!(digest, written.top.digest);
    let note = format!(
        "builder {builder} is not pinned by digest in the recipe; resolved to {digest} for this run"
    );
    assert_eq!(report["notes"], serde_json::json!([note]));
    let roots: Vec<_> = std::fs::read_dir(tmp.path().join("cache/rootfs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(roots.len(), 1, "unpacked once, keyed by manifest digest");

    let second = run();
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(json(&second)["builder"]["digest"], digest);
    let text = rebuild_compare(
        tmp.path(),
        &["build", "v1.0.0", "--recipe", recipe.to_str().unwrap()],
    );
    assert!(text.status.success(), "{}", stderr(&text));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert_eq!(
        stdout.lines().last(),
        Some(format!("note: {note}").as_str())
    );
    let roots_again = std::fs::read_dir(tmp.path().join("cache/rootfs"))
        .unwrap()
        .count();
    assert_eq!(roots_again, 1, "the second build reuses the unpacked root");
    let resealed = "is not the tree this machine sealed; unpacking it again";
    assert!(!stderr(&second).contains(resealed), "{}", stderr(&second));

    // A file planted in the unpacked root (a restored or shared cache) is
    // not built with: the root is unpacked again from the verified layers.
    let root = tmp.path().join("cache/rootfs").join(&roots[0]);
    std::fs::write(root.join("bin/planted"), "#!/bin/sh\n").unwrap();
    let third = run();
    assert!(third.status.success(), "{}", stderr(&third));
    assert!(stderr(&third).contains(resealed), "{}", stderr(&third));
    assert_eq!(
        artifact_text(&json(&third), 0),
        "from the source\nbusybox\ncat\nls\nsh\nbin\ncache\ndev\netc\nout\nproc\nsrc\ntmp\nfrom-image\n"
    );
}

#[test]
fn unreachable_builder_registry_is_one_error_saying_each_thing_once() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "from the source\n")]);
    // A loopback port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let builder = format!("127.0.0.1:{port}/tools/busybox:1");
    let recipe = write_recipe(
        tmp.path(),
        &source,
        &format!(
            "[build]\nbuilder = \"{builder}\"\ncommand = [\"true\"]\nartifact = \"/out/x\"\n\n\
             [build.platforms.\"linux/amd64\"]\n"
        ),
    );
    let output = rebuild_compare(
        tmp.path(),
        &["build", "v1.0.0", "--recipe", recipe.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = stderr(&output);
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.contains(" WARN ")).collect();
    assert_eq!(
        errors,
        [format!(
            "error: builder image {builder}: error sending request for url \
             (http://127.0.0.1:{port}/v2/tools/busybox/manifests/1): client error (Connect): \
             tcp connect error: Connection refused (os error 111)"
        )]
    );
}

#[test]
fn unknown_image_points_to_close_recipes_and_to_recipe_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let output = rebuild_compare(tmp.path(), &["build", "v1.30.0", "rancher/critcl"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: no recipe for docker.io/rancher/critcl (close matches: docker.io/rancher/crictl); `rebuild-compare recipe list` shows the known ones; write one (see recipes/README.md) and pass it with --recipe FILE\n"
    );
}

/// The directory holding `program` on this test's PATH.
fn directory_of(program: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap();
    std::env::split_paths(&path)
        .find(|dir| dir.join(program).is_file())
        .unwrap_or_else(|| panic!("{program} is not on PATH"))
}

#[test]
fn cargo_bin_is_located_with_cargo_metadata_under_the_target_triple() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(
        &source,
        &[
            ("Cargo.toml", "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[[bin]]\nname = \"hello-bin\"\npath = \"src/main.rs\"\n"),
            ("src/main.rs", "fn main() { println!(\"hello from cargo\"); }\n"),
            ("Cargo.lock", "version = 3\n\n[[package]]\nname = \"hello\"\nversion = \"0.1.0\"\n"),
        ],
    );
    // Cargo lives in the user's home here, which the sandbox never shows, so
    // this runs unsandboxed with the toolchain named explicitly.
    let cargo_bin = directory_of("cargo");
    let cargo_home = cargo_bin.parent().unwrap().to_path_buf();
    let rustup_home = std::env::var_os("RUSTUP_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| cargo_home.parent().unwrap().join(".rustup"));
    let toolchain = std::env::var("RUSTUP_TOOLCHAIN")
        .map(|t| format!(", RUSTUP_TOOLCHAIN = {t:?}"))
        .unwrap_or_default();
    let recipe = write_recipe(
        tmp.path(),
        &source,
        &format!(
            "[build]\nbuilder = \"host\"\ncommand = [\"cargo\", \"build\", \"--release\", \"--offline\", \"--locked\"]\n\
             cargo_bin = \"hello-bin\"\n\
             env = {{ PATH = \"{}:/usr/bin:/bin\", CARGO_HOME = \"{}\", RUSTUP_HOME = \"{}\"{toolchain} }}\n\n\
             [build.platforms.\"linux/amd64\"]\nenv = {{ CARGO_BUILD_TARGET = \"x86_64-unknown-linux-gnu\" }}\n",
            cargo_bin.display(),
            cargo_home.display(),
            rustup_home.display()
        ),
    );
    let output = rebuild_compare(
        tmp.path(),
        &[
            "build",
            "v1.0.0",
            "--recipe",
            recipe.to_str().unwrap(),
            "--format",
            "json",
            "--no-sandbox",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    let path = report["platforms"][0]["path"].as_str().unwrap();
    assert_eq!(
        path,
        tmp.path()
            .join("rebuild-out/v1.0.0/linux-amd64/hello-bin")
            .to_str()
            .unwrap()
    );
    let run = Command::new(path).output().unwrap();
    assert_eq!(String::from_utf8(run.stdout).unwrap(), "hello from cargo\n");
}

#[test]
fn source_flag_is_read_instead_of_the_recipes_git_url_which_stays_the_url() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    let tagged = tagged_repo(&source, &[("README", "x\n")]);
    let recipe = shell_recipe(
        tmp.path(),
        &tmp.path().join("does-not-exist"),
        None,
        "echo > /out/result",
    );
    let url = format!("file://{}", source.display());
    let output = rebuild_compare(
        tmp.path(),
        &[
            "build",
            "v1.0.0",
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            &url,
            "--format",
            "json",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    let upstream = tmp.path().join("does-not-exist");
    assert_eq!(report["source"]["url"], upstream.to_str().unwrap());
    assert_eq!(report["source"]["fetched_from"], url);
    assert_eq!(report["source"]["commit"], tagged.to_string());
}

#[test]
fn missing_bwrap_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let recipe = shell_recipe(tmp.path(), &source, None, "echo > /out/result");
    let output = Command::new(env!("CARGO_BIN_EXE_rebuild-compare"))
        .current_dir(tmp.path())
        .env("PATH", tmp.path())
        .args(["build", "v1.0.0", "--recipe", recipe.to_str().unwrap()])
        .args(["--cache-dir", tmp.path().join("cache").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: bwrap (bubblewrap) is not installed: install it (Debian: apt-get install bubblewrap) or pass --no-sandbox to build without isolation\n"
    );
}

/// A recipe building in `workdir` with one shell `script`, keeping `artifact`.
fn workdir_recipe(
    dir: &Path,
    source: &Path,
    workdir: &str,
    script: &str,
    artifact: &str,
) -> PathBuf {
    write_recipe(
        dir,
        source,
        &format!(
            "[build]\nbuilder = \"host\"\nworkdir = {workdir:?}\ncommand = [\"bash\", \"-c\", {script:?}]\n\
             artifact = {artifact:?}\n\n[build.platforms.\"linux/amd64\"]\n"
        ),
    )
}

#[test]
fn workdir_holds_the_checkout_runs_the_build_and_is_also_at_src() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "the app\n")]);
    let recipe = workdir_recipe(
        tmp.path(),
        &source,
        "/home/runner/work/{version}/app",
        "set -e; { pwd; cat README; cat /src/README; \
         mkdir /home/other 2>/dev/null && echo home writable || echo home read-only; \
         touch /usr/planted 2>/dev/null && echo usr writable || echo usr read-only; } > result; \
         test -f /src/result",
        "/home/runner/work/v1.0.0/app/result",
    );
    let output = build(tmp.path(), &recipe, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        artifact_text(&json(&output), 0),
        "/home/runner/work/v1.0.0/app\nthe app\nthe app\nhome read-only\nusr read-only\n"
    );
}

#[test]
fn workdir_inside_a_system_directory_keeps_the_rest_of_it() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "the app\n")]);
    let recipe = workdir_recipe(
        tmp.path(),
        &source,
        "/usr/local/src/github.com/org/app",
        "set -e; { pwd; cat README; test -x /usr/bin/bash && echo tools kept; } > result",
        "result",
    );
    let output = build(tmp.path(), &recipe, &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        artifact_text(&json(&output), 0),
        "/usr/local/src/github.com/org/app\nthe app\ntools kept\n"
    );
}

#[test]
fn workdir_is_refused_without_the_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let recipe = workdir_recipe(
        tmp.path(),
        &source,
        "/home/runner/work/x/x",
        "true",
        "README",
    );
    let output = rebuild_compare(
        tmp.path(),
        &[
            "build",
            "v1.0.0",
            "--recipe",
            recipe.to_str().unwrap(),
            "--no-sandbox",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: recipe {} sets build.workdir, which only the sandbox can provide (it would put \
             the source at /home/runner/work/x/x on this machine): drop --no-sandbox, or build from \
             a copy of the recipe without workdir\n",
            recipe.display()
        )
    );
    assert!(!Path::new("/home/runner/work/x").exists());
}

#[test]
fn workdir_outside_the_allowed_places_reports_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    tagged_repo(&source, &[("README", "x\n")]);
    let recipe = workdir_recipe(tmp.path(), &source, "/out/app", "true", "README");
    let output = rebuild_compare(
        tmp.path(),
        &["build", "v1.0.0", "--recipe", recipe.to_str().unwrap()],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: recipe {}:11:11: build.workdir \"/out/app\" is under /out, which the sandbox \
             mounts itself (/src, /out, /cache, /tmp, /proc, /dev, /sys): pick another directory\n",
            recipe.display()
        )
    );
}
