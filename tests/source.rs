//! Pinning tags to commits through the cache mirror, and pristine checkouts,
//! against real repositories made with git2.

mod support;

use std::path::Path;
use std::process::Command;

use git2::{Oid, Repository};
use rebuild_compare::progress::Silent;
use rebuild_compare::rebuild::source::{self, SourceError};
use support::git::signature;

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
}
