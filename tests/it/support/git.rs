//! Real git repositories for the tests, made with git2.

use std::path::Path;

use git2::{Oid, Repository, Signature, Time};

/// A fixed author and committer, at `seconds` since the epoch.
pub fn signature(seconds: i64) -> Signature<'static> {
    Signature::new("Test", "test@example.com", &Time::new(seconds, 0)).unwrap()
}

/// Writes `files` into the work tree and commits them on the current branch,
/// committed at `seconds`.
pub fn commit(repo: &Repository, files: &[(&str, &str)], message: &str, seconds: i64) -> Oid {
    let workdir = repo.workdir().unwrap().to_path_buf();
    let mut index = repo.index().unwrap();
    for (name, contents) in files {
        let path = workdir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        index.add_path(Path::new(name)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let sig = signature(seconds);
    repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .unwrap()
}

/// An annotated tag `name` on `target`, tagged at `seconds`.
pub fn tag(repo: &Repository, name: &str, target: Oid, seconds: i64) {
    let object = repo.find_object(target, None).unwrap();
    repo.tag(name, &object, &signature(seconds), name, false)
        .unwrap();
}
