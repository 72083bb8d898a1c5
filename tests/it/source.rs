//! Pinning tags to commits through the cache mirror, and pristine checkouts,
//! against real repositories made with git2; fetching them over HTTPS from a
//! loopback `git http-backend`, and from partial clones.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use git2::{Oid, Repository};
use rebuild_compare::progress::Silent;
use rebuild_compare::rebuild::source::{self, SourceError};
use serde_json::json;
use support::cli::{run_in_env, Run};
use support::git::signature;
use support::git_server::{GitServer, TestCa};

fn lightweight_tag(repo: &Repository, name: &str, commit: Oid) {
    let object = repo.find_object(commit, None).unwrap();
    repo.tag_lightweight(name, &object, false).unwrap();
}

fn annotated_tag(repo: &Repository, name: &str, commit: Oid) {
    let object = repo.find_object(commit, None).unwrap();
    repo.tag(name, &object, &signature(1_800_000_000), name, false)
        .unwrap();
}

#[test]
fn lightweight_and_annotated_tags_pin_their_commit_not_head() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repository::init(tmp.path().join("up")).unwrap();
    let first = support::git::commit(&repo, &[("a", "1")], "commit", 1_600_000_000);
    lightweight_tag(&repo, "v1.0.0", first);
    let second = support::git::commit(&repo, &[("a", "2")], "commit", 1_700_000_000);
    annotated_tag(&repo, "v2.0.0", second);
    support::git::commit(&repo, &[("a", "3")], "commit", 1_750_000_000);
    let url = format!("file://{}", tmp.path().join("up").display());
    let cache = tmp.path().join("cache");

    let v1 = source::prepare(&url, "v1.0.0", &cache, &Silent).unwrap();
    assert_eq!(v1.commit, first.to_string());
    assert_eq!(v1.commit_time, 1_600_000_000);
    assert_eq!(v1.url, url);
    let v2 = source::prepare(&url, "v2.0.0", &cache, &Silent).unwrap();
    assert_eq!(v2.commit, second.to_string());
    assert_eq!(v2.commit_time, 1_700_000_000);
    assert_eq!(
        serde_json::to_value(&v2).unwrap(),
        serde_json::json!({"url": url, "ref": "v2.0.0", "commit": second.to_string(), "commit_time": "2023-11-14T22:13:20Z"})
    );
    assert_eq!(v2.mirror, source::mirror_dir(&cache, &url));
}

#[test]
fn parallel_and_killed_fetches_leave_the_mirror_usable() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repository::init(tmp.path().join("up")).unwrap();
    let mut commits = Vec::new();
    for n in 0..6 {
        let commit = support::git::commit(&repo, &[("a", &n.to_string())], "c", 1_600_000_000 + n);
        annotated_tag(&repo, &format!("v1.{n}.0"), commit);
        commits.push(commit);
    }
    let url = format!("file://{}", tmp.path().join("up").display());
    let cache = tmp.path().join("cache");

    // Six fetches of one source at once, as `run --jobs 6` makes them.
    let pinned: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|n| {
                let (url, cache) = (&url, &cache);
                scope.spawn(move || {
                    source::prepare(url, &format!("v1.{n}.0"), cache, &Silent)
                        .unwrap()
                        .commit
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let expected: Vec<String> = commits.iter().map(Oid::to_string).collect();
    assert_eq!(pinned, expected);

    // A fetch killed mid-write leaves git's lock files behind.
    let mirror = source::mirror_dir(&cache, &url);
    std::fs::write(mirror.join("refs/tags/v1.2.0.lock"), b"").unwrap();
    std::fs::write(mirror.join("packed-refs.lock"), b"").unwrap();
    let again = source::prepare(&url, "v1.2.0", &cache, &Silent).unwrap();
    assert_eq!(again.commit, commits[2].to_string());
    assert!(!mirror.join("refs/tags/v1.2.0.lock").exists());
}

#[test]
fn missing_tag_never_falls_back_to_a_branch() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repository::init(tmp.path().join("up")).unwrap();
    let head = support::git::commit(&repo, &[("a", "1")], "commit", 1_600_000_000);
    repo.branch("v3.0.0", &repo.find_commit(head).unwrap(), false)
        .unwrap();
    let path = tmp.path().join("up").display().to_string();
    let err = source::prepare(&path, "v3.0.0", &tmp.path().join("cache"), &Silent).unwrap_err();
    assert!(matches!(err, SourceError::TagNotFound { .. }));
    assert_eq!(
        err.to_string(),
        format!("tag \"v3.0.0\" does not exist in {path}")
    );
}

#[test]
fn later_runs_fetch_new_and_moved_tags_into_the_same_mirror() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repository::init(tmp.path().join("up")).unwrap();
    let first = support::git::commit(&repo, &[("a", "1")], "commit", 1_600_000_000);
    lightweight_tag(&repo, "v1", first);
    let path = tmp.path().join("up").display().to_string();
    let cache = tmp.path().join("cache");
    let pinned = source::prepare(&path, "v1", &cache, &Silent).unwrap();
    std::fs::write(pinned.mirror.join("marker"), "kept").unwrap();

    let second = support::git::commit(&repo, &[("a", "2")], "commit", 1_700_000_000);
    lightweight_tag(&repo, "v2", second);
    repo.find_reference("refs/tags/v1")
        .unwrap()
        .delete()
        .unwrap();
    lightweight_tag(&repo, "v1", second);

    assert_eq!(
        source::prepare(&path, "v2", &cache, &Silent)
            .unwrap()
            .commit,
        second.to_string()
    );
    assert_eq!(
        source::prepare(&path, "v1", &cache, &Silent)
            .unwrap()
            .commit,
        second.to_string()
    );
    assert!(
        pinned.mirror.join("marker").exists(),
        "the mirror was cloned again"
    );
}

#[test]
fn checkout_is_a_clean_real_repository_detached_at_the_tag() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = Repository::init(tmp.path().join("up")).unwrap();
    let tagged = support::git::commit(
        &repo,
        &[("main.go", "package main\n"), ("dir/x.sh", "#!/bin/sh\n")],
        "commit",
        1_600_000_000,
    );
    annotated_tag(&repo, "v1.0.0", tagged);
    support::git::commit(&repo, &[("later", "x")], "commit", 1_700_000_000);
    let url = tmp.path().join("up").display().to_string();
    let pinned = source::prepare(&url, "v1.0.0", &tmp.path().join("cache"), &Silent).unwrap();

    let dest = tmp.path().join("checkout");
    source::checkout(&pinned, &dest, false, &Silent, "test").unwrap();
    let checkout = Repository::open(&dest).unwrap();
    assert!(checkout.head_detached().unwrap());
    assert_eq!(
        checkout.head().unwrap().peel_to_commit().unwrap().id(),
        tagged
    );
    assert!(!dest.join("later").exists());
    assert_eq!(
        std::fs::read_to_string(dest.join("main.go")).unwrap(),
        "package main\n"
    );
    assert_eq!(checkout.find_remote("origin").unwrap().url().unwrap(), url);
    let status = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=all"])
        .current_dir(&dest)
        .output()
        .unwrap();
    assert!(status.status.success());
    assert_eq!(String::from_utf8(status.stdout).unwrap(), "");
    let describe = Command::new("git")
        .args(["describe", "--tags", "--dirty", "--always"])
        .current_dir(&dest)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(describe.stdout).unwrap(), "v1.0.0\n");
}

#[test]
fn submodules_are_checked_out_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Repository::init(tmp.path().join("lib")).unwrap();
    support::git::commit(&lib, &[("lib.txt", "library\n")], "commit", 1_600_000_000);
    let app = Repository::init(tmp.path().join("app")).unwrap();
    support::git::commit(&app, &[("app.txt", "app\n")], "commit", 1_600_000_000);
    let lib_url = format!("file://{}", tmp.path().join("lib").display());
    let mut module = app
        .submodule(&lib_url, Path::new("vendor/lib"), true)
        .unwrap();
    module.clone(None).unwrap();
    module.add_finalize().unwrap();
    let mut index = app.index().unwrap();
    let tree = app.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = app.head().unwrap().peel_to_commit().unwrap();
    let sig = signature(1_650_000_000);
    let with_module = app
        .commit(Some("HEAD"), &sig, &sig, "add lib", &tree, &[&parent])
        .unwrap();
    lightweight_tag(&app, "v1", with_module);

    let url = tmp.path().join("app").display().to_string();
    let pinned = source::prepare(&url, "v1", &tmp.path().join("cache"), &Silent).unwrap();
    let without = tmp.path().join("without");
    source::checkout(&pinned, &without, false, &Silent, "test").unwrap();
    assert!(!without.join("vendor/lib/lib.txt").exists());
    let with = tmp.path().join("with");
    source::checkout(&pinned, &with, true, &Silent, "test").unwrap();
    assert_eq!(
        std::fs::read_to_string(with.join("vendor/lib/lib.txt")).unwrap(),
        "library\n"
    );

    // The same tag from a remote source: its .gitmodules must not make the
    // build copy a repository of this machine's into the checkout.
    let remote = source::PinnedSource {
        url: "https://example.com/app.git".to_string(),
        fetched_from: None,
        ..pinned
    };
    let refused = tmp.path().join("refused");
    let err = source::checkout(&remote, &refused, true, &Silent, "test").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "submodule vendor/lib comes from {lib_url}: a local path or file:// URL is taken \
             only when the source itself is local; clone the source with its submodules and \
             pass --source PATH"
        )
    );
    assert!(!refused.join("vendor/lib/lib.txt").exists());
}

/// A repository at `dir` whose annotated tag `v1.0.0` holds a Go program,
/// with an older commit before it and a later one after it. Returns the
/// tag's commit.
fn go_upstream(dir: &Path) -> Oid {
    let repo = Repository::init(dir).unwrap();
    support::git::commit(
        &repo,
        &[("OLD", "before the release\n")],
        "old",
        1_600_000_000,
    );
    let tagged = support::git::commit(
        &repo,
        &[
            (
                "main.go",
                "package main\n\nfunc main() { println(\"hello\") }\n",
            ),
            ("go.mod", "module example.com/hello\n\ngo 1.19\n"),
        ],
        "release",
        1_700_000_000,
    );
    annotated_tag(&repo, "v1.0.0", tagged);
    support::git::commit(
        &repo,
        &[("LATER", "after the release\n")],
        "later",
        1_750_000_000,
    );
    tagged
}

/// A recipe building `go_upstream`'s program for linux/amd64 from `git`,
/// whose artifact is what the checkout looked like to the build: `git
/// describe`, `git status`, whether it is shallow, its refs, `origin`, and
/// the Go binary's vcs stamps.
fn inspecting_recipe(dir: &Path, git: &str) -> PathBuf {
    let script = "go build -o /out/hello . && { git describe --tags; git status --porcelain; \
                  git rev-parse --is-shallow-repository; git for-each-ref --format='%(refname)'; \
                  git remote get-url origin; go version -m /out/hello | grep vcs; } > /out/result";
    let path = dir.join("recipe.toml");
    std::fs::write(
        &path,
        format!(
            "[image]\nrepository = \"example.com/test/app\"\ntag = \"{{version}}\"\n\n\
             [source]\ngit = \"{git}\"\nref = \"{{version}}\"\n\n\
             [build]\nbuilder = \"host\"\ncommand = [\"bash\", \"-c\", {script:?}]\n\
             artifact = \"/out/result\"\n\
             env = {{ CGO_ENABLED = \"0\", GOCACHE = \"/tmp/gocache\", GOPROXY = \"off\", GOFLAGS = \"-trimpath -buildvcs=true\" }}\n\n\
             [build.platforms.\"linux/amd64\"]\n"
        ),
    )
    .unwrap();
    path
}

/// `rebuild-compare build v1.0.0 --recipe RECIPE --format json` plus `extra`,
/// with HOME (and so the cache and git config) in `home`.
fn build(home: &Path, recipe: &Path, env: &[(&str, &str)], extra: &[&str]) -> Run {
    let out = home.join("out");
    let mut args = vec![
        "build",
        "v1.0.0",
        "--recipe",
        recipe.to_str().unwrap(),
        "--format",
        "json",
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in_env(home, env, &args)
}

fn succeeded(run: &Run) -> serde_json::Value {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    run.json()
}

/// The pack files of the mirror of `url` under HOME's cache.
fn mirror_packs(home: &Path, url: &str) -> Vec<String> {
    let dir = source::mirror_dir(&home.join("cache/rebuild-compare"), url).join("objects/pack");
    let mut packs: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".pack"))
        .collect();
    packs.sort();
    packs
}

#[test]
fn https_source_is_fetched_shallow_trusting_ssl_cert_file_and_read_from_the_mirror_when_warm() {
    let tmp = tempfile::tempdir().unwrap();
    let tagged = go_upstream(&tmp.path().join("root/app"));
    let ca = TestCa::create(&tmp.path().join("tls"));
    let server = GitServer::https(&tmp.path().join("root"), &ca, None);
    let url = server.url("app");
    let recipe = inspecting_recipe(tmp.path(), &url);
    let trust = [("SSL_CERT_FILE", ca.ca_cert.to_str().unwrap())];

    let cold = succeeded(&build(tmp.path(), &recipe, &trust, &[]));
    assert_eq!(
        cold["source"],
        json!({"url": url, "ref": "v1.0.0", "commit": tagged.to_string(),
               "commit_time": "2023-11-14T22:13:20Z"})
    );
    let result = std::fs::read_to_string(cold["platforms"][0]["path"].as_str().unwrap()).unwrap();
    assert_eq!(
        result,
        format!(
            "v1.0.0\ntrue\nrefs/tags/v1.0.0\n{url}\n\tbuild\tvcs=git\n\
             \tbuild\tvcs.revision={tagged}\n\tbuild\tvcs.time=2023-11-14T22:13:20Z\n\
             \tbuild\tvcs.modified=false\n"
        )
    );
    let packs = mirror_packs(tmp.path(), &url);
    assert_eq!(packs.len(), 1, "{packs:?}");

    let warm = succeeded(&build(tmp.path(), &recipe, &trust, &[]));
    assert_eq!(warm["source"], cold["source"]);
    assert_eq!(
        warm["platforms"][0]["sha256"],
        cold["platforms"][0]["sha256"]
    );
    assert_eq!(
        mirror_packs(tmp.path(), &url),
        packs,
        "the warm run fetched again"
    );
}

#[test]
fn untrusted_https_certificate_is_an_error_that_names_ssl_cert_file() {
    let tmp = tempfile::tempdir().unwrap();
    go_upstream(&tmp.path().join("root/app"));
    let ca = TestCa::create(&tmp.path().join("tls"));
    let server = GitServer::https(&tmp.path().join("root"), &ca, None);
    let url = server.url("app");
    let recipe = inspecting_recipe(tmp.path(), &url);

    let run = build(tmp.path(), &recipe, &[], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let first = run.stderr.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "error: cannot fetch {url}: the server's TLS certificate is not trusted ("
        )),
        "{}",
        run.stderr
    );
    assert!(
        first.ends_with(
            "add its CA to the system's store, or point SSL_CERT_FILE (a PEM bundle) or SSL_CERT_DIR at it"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn private_https_source_takes_the_git_credential_helpers_and_gives_up_on_refused_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let tagged = go_upstream(&tmp.path().join("root/app"));
    let ca = TestCa::create(&tmp.path().join("tls"));
    let server = GitServer::https(&tmp.path().join("root"), &ca, Some("builder:s3cret"));
    let url = server.url("app");
    let recipe = inspecting_recipe(tmp.path(), &url);
    let trust = [("SSL_CERT_FILE", ca.ca_cert.to_str().unwrap())];
    let host = url.trim_start_matches("https://").trim_end_matches("/app");

    let anonymous = build(tmp.path(), &recipe, &trust, &[]);
    assert_eq!(anonymous.code, 2, "{}", anonymous.stderr);
    assert!(
        anonymous.stderr.starts_with(&format!(
            "error: cannot fetch {url}: no credentials were accepted ("
        )),
        "{}",
        anonymous.stderr
    );
    assert!(
        anonymous
            .stderr
            .contains("configure a git credential helper"),
        "{}",
        anonymous.stderr
    );

    std::fs::write(
        tmp.path().join(".gitconfig"),
        "[credential]\n\thelper = store\n",
    )
    .unwrap();
    std::fs::write(
        tmp.path().join(".git-credentials"),
        format!("https://builder:wrong@{host}\n"),
    )
    .unwrap();
    let refused = build(tmp.path(), &recipe, &trust, &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.starts_with(&format!(
            "error: cannot fetch {url}: no credentials were accepted ("
        )),
        "{}",
        refused.stderr
    );

    std::fs::write(
        tmp.path().join(".git-credentials"),
        format!("https://builder:s3cret@{host}\n"),
    )
    .unwrap();
    let report = succeeded(&build(tmp.path(), &recipe, &trust, &[]));
    assert_eq!(report["source"]["commit"], tagged.to_string());
}

#[test]
fn partial_clone_as_source_builds_when_the_tags_tree_is_in_it() {
    let tmp = tempfile::tempdir().unwrap();
    let upstream = tmp.path().join("upstream");
    let tagged = go_upstream(&upstream);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args(args)
            .current_dir(tmp.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&[
        "-C",
        upstream.to_str().unwrap(),
        "config",
        "uploadpack.allowFilter",
        "true",
    ]);
    let upstream_url = format!("file://{}", upstream.display());
    git(&[
        "clone",
        "-q",
        "--filter=blob:none",
        "--branch",
        "v1.0.0",
        &upstream_url,
        "partial",
    ]);
    git(&[
        "clone",
        "-q",
        "--filter=blob:none",
        "--no-checkout",
        &upstream_url,
        "treeless",
    ]);
    let recipe = inspecting_recipe(tmp.path(), "https://git.example/app.git");
    let partial = tmp.path().join("partial").canonicalize().unwrap();

    let report = succeeded(&build(
        tmp.path(),
        &recipe,
        &[],
        &["--source", partial.to_str().unwrap()],
    ));
    assert_eq!(
        report["source"],
        json!({"url": "https://git.example/app.git", "fetched_from": partial.to_str().unwrap(),
               "ref": "v1.0.0", "commit": tagged.to_string(), "commit_time": "2023-11-14T22:13:20Z"})
    );
    let result = std::fs::read_to_string(report["platforms"][0]["path"].as_str().unwrap()).unwrap();
    assert!(
        result.starts_with("v1.0.0\nfalse\nrefs/tags/v1.0.0\nhttps://git.example/app.git\n"),
        "{result}"
    );
    assert!(result.contains("\tbuild\tvcs.modified=false\n"), "{result}");

    let treeless = tmp.path().join("treeless").canonicalize().unwrap();
    let run = build(
        tmp.path(),
        &recipe,
        &[],
        &["--source", treeless.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let first = run.stderr.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("error: {} lacks object ", treeless.display())),
        "{}",
        run.stderr
    );
    assert!(
        first.ends_with(&format!(
            " of tag \"v1.0.0\"'s tree (a partial clone without it?); run `git -C {} checkout v1.0.0` \
             there to fetch it, or pass --source with a full clone",
            treeless.display()
        )),
        "{}",
        run.stderr
    );
}

/// A repository at `dir` with one commit per release, each with an
/// annotated tag: `v1.19.0`, `v1.19.15`, `v1.19.16`, `v1.20.0`.
fn releases_repo(dir: &Path) {
    let repo = Repository::init(dir).unwrap();
    for (n, tag) in ["v1.19.0", "v1.19.15", "v1.19.16", "v1.20.0"]
        .into_iter()
        .enumerate()
    {
        let commit =
            support::git::commit(&repo, &[("VERSION", tag)], tag, 1_700_000_000 + n as i64);
        annotated_tag(&repo, tag, commit);
    }
}

/// `rebuild-compare build VERSION` and `rebuild-compare verify oci:LAYOUT:VERSION
/// VERSION` of a fast recipe whose ref is `{version}`, reading `source`:
/// their exit codes and stderr.
fn build_and_verify(home: &Path, version: &str, source: &str) -> [(i32, String); 2] {
    let recipe = support::fast_app::write_recipe(
        home,
        "app",
        "127.0.0.1/test/app",
        support::fast_app::FAST_BUILD,
    );
    let layout = home.join("layout");
    support::write_oci_layout(
        &layout,
        version,
        &support::fast_app::faithful_set(&[support::fast_app::AMD64]),
        support::IndexStyle::Index,
        support::MediaTypes::Oci,
    );
    let recipe = recipe.to_str().unwrap();
    let out = home.join("out");
    let out = out.to_str().unwrap();
    let image = format!("oci:{}:{version}", layout.display());
    [
        vec!["build", version, "--recipe", recipe],
        vec!["verify", &image, version, "--recipe", recipe],
    ]
    .map(|mut args| {
        args.extend(["--source", source, "--out-dir", out]);
        let run = support::cli::run_in(home, &args);
        (run.code, run.stderr)
    })
}

#[test]
fn a_version_typed_without_its_v_is_an_error_saying_what_to_type() {
    let tmp = tempfile::tempdir().unwrap();
    releases_repo(&tmp.path().join("up"));
    let path = tmp.path().join("up").canonicalize().unwrap();
    let path = path.to_str().unwrap();

    let [build, verify] = build_and_verify(tmp.path(), "1.19.0", path);
    let message = format!(
        "tag \"1.19.0\" does not exist in {path}; did you mean v1.19.0? \
         (type the VERSION as v1.19.0)"
    );
    assert_eq!(build, (2, format!("error: {message}\n")));
    assert_eq!(
        verify,
        (2, format!("error: cannot prepare the rebuild: {message}\n"))
    );
}

#[test]
fn a_missing_patch_release_is_an_error_naming_the_closest_releases() {
    let tmp = tempfile::tempdir().unwrap();
    releases_repo(&tmp.path().join("up"));
    let url = format!("file://{}", tmp.path().join("up").display());

    let [build, verify] = build_and_verify(tmp.path(), "v1.19.99", &url);
    let message = format!(
        "tag \"v1.19.99\" does not exist in {url}; \
         the closest releases are v1.19.16, v1.19.15, v1.20.0"
    );
    assert_eq!(build, (2, format!("error: {message}\n")));
    assert_eq!(
        verify,
        (2, format!("error: cannot prepare the rebuild: {message}\n"))
    );
}

#[test]
fn https_source_suggests_the_advertised_tags_nearest_to_a_missing_one() {
    let tmp = tempfile::tempdir().unwrap();
    releases_repo(&tmp.path().join("root/app"));
    let ca = TestCa::create(&tmp.path().join("tls"));
    let server = GitServer::https(&tmp.path().join("root"), &ca, None);
    let url = server.url("app");
    let trust = [("SSL_CERT_FILE", ca.ca_cert.to_str().unwrap())];
    let prepare = |tag: &str| {
        let recipe = inspecting_recipe(tmp.path(), &url);
        let run = run_in_env(
            tmp.path(),
            &trust,
            &["build", tag, "--recipe", recipe.to_str().unwrap()],
        );
        (run.code, run.stderr)
    };

    assert_eq!(
        prepare("1.20.0"),
        (
            2,
            format!(
                "error: tag \"1.20.0\" does not exist in {url}; did you mean v1.20.0? \
                 (type the VERSION as v1.20.0)\n"
            )
        )
    );
    assert_eq!(
        prepare("v1.19.1"),
        (
            2,
            format!(
                "error: tag \"v1.19.1\" does not exist in {url}; \
                 the closest releases are v1.19.0, v1.19.15, v1.19.16\n"
            )
        )
    );
    assert_eq!(mirror_packs(tmp.path(), &url), Vec::<String>::new());
}

/// Records the source events it sees, as text.
#[derive(Default)]
struct SourceEvents(std::sync::Mutex<Vec<String>>);

impl rebuild_compare::progress::Progress for SourceEvents {
    fn source(&self, event: rebuild_compare::progress::SourceEvent<'_>) {
        self.0.lock().unwrap().push(format!("{event:?}"));
    }
}

#[test]
fn copying_a_local_source_reports_each_object_file_of_all_it_brings() {
    let tmp = tempfile::tempdir().unwrap();
    let up = tmp.path().join("up");
    releases_repo(&up);
    let path = up.canonicalize().unwrap().display().to_string();
    // What `prepare` brings: every loose object file of the repository.
    let mut sizes = Vec::new();
    for dir in std::fs::read_dir(up.join(".git/objects")).unwrap() {
        let dir = dir.unwrap();
        if dir.file_name().len() == 2 {
            for file in std::fs::read_dir(dir.path()).unwrap() {
                sizes.push(file.unwrap().metadata().unwrap().len() as usize);
            }
        }
    }
    // Four commits, four trees, four blobs, four tag objects.
    assert_eq!(sizes.len(), 16);

    let events = SourceEvents::default();
    source::prepare(&path, "v1.19.16", &tmp.path().join("cache"), &events).unwrap();
    let events = events.0.into_inner().unwrap();
    let (done, copies) = events.split_last().unwrap();
    assert_eq!(done, &format!("Done {{ what: {path:?} }}"));
    assert_eq!(copies.len(), 16, "{events:#?}");
    let total: usize = sizes.iter().sum();
    assert_eq!(
        copies.last().unwrap(),
        &format!("Copy {{ from: {path:?}, files: 16, total_files: 16, bytes: {total} }}")
    );
    for (n, event) in copies.iter().enumerate() {
        let prefix = format!(
            "Copy {{ from: {path:?}, files: {}, total_files: 16, ",
            n + 1
        );
        assert!(event.starts_with(&prefix), "{event}");
    }
}

#[test]
fn a_ref_name_that_is_not_utf8_in_the_advertisement_is_an_error_not_a_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let pkt = |line: &[u8]| [format!("{:04x}", line.len() + 4).as_bytes(), line].concat();
    let commit = [b'1'; 40];
    let advertisement = [
        pkt(b"# service=git-upload-pack\n"),
        b"0000".to_vec(),
        pkt(&[&commit[..], b" refs/heads/main\0shallow\n"].concat()),
        pkt(&[&commit[..], b" refs/tags/v1.19.\xff\n"].concat()),
        pkt(&[&commit[..], b" refs/tags/v1.19.16\n"].concat()),
        b"0000".to_vec(),
    ]
    .concat();
    let server = support::HostileServer::start("127.0.0.1", move |_| support::Answer::Full {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            "application/x-git-upload-pack-advertisement".into(),
        )],
        body: advertisement.clone(),
    });
    let url = format!("{}/app", server.url());
    let recipe = inspecting_recipe(tmp.path(), &url);

    let run = build(tmp.path(), &recipe, &[], &["--no-sandbox"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.lines().last().unwrap(),
        format!("error: cannot fetch {url}: the server advertised a ref whose name is not UTF-8")
    );
    assert_eq!(
        server.requests()[0].target,
        "/app/info/refs?service=git-upload-pack"
    );
}
