//! Dependency cache: what a recipe's `fetch` downloads, kept between runs
//! for the same inputs, and the private copy each build's `command` gets.
//!
//! A cache entry lives in `CACHE/deps/<key>`, the key a hash of everything
//! that decides what `fetch` leaves there (recipe text, version, platform,
//! source URL and commit, builder, sandboxing), so a fork built with
//! `--source`, another tag or an edited recipe never shares an entry with
//! the genuine build. Only `fetch` writes the entry; it is sealed (see
//! [`Cache::seal_tree`]) after each successful `fetch` and emptied before
//! the next one if it is no longer exactly that tree (a restored cache, an
//! interrupted fetch, someone else's edit). `command` works on a copy,
//! discarded with the build, so nothing it writes under `/cache` is ever
//! read by another build.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::image::cache::Cache;

/// `CACHE/deps/<key>`: the entry for these inputs (see [`key`]).
pub fn entry_dir(cache_dir: &Path, key: &str) -> PathBuf {
    cache_dir.join("deps").join(key)
}

/// The entry's key: the first 32 hex digits of the sha256 of `inputs`,
/// each length-prefixed so that no two lists hash alike.
pub fn key(inputs: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in std::iter::once("rebuild-compare deps v2").chain(inputs.iter().copied()) {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let hex = hex::encode(hasher.finalize());
    hex.get(..32).unwrap_or(&hex).to_string()
}

/// The name the entry's seal is kept under.
fn seal_name(key: &str) -> String {
    format!("deps-{key}")
}

/// Makes the entry ready for `fetch`: kept when it is exactly the tree
/// sealed after its last `fetch`, else emptied (with a warning when there
/// was something in it).
pub fn open_entry(cache: &Cache, key: &str, dir: &Path) -> io::Result<()> {
    if dir.exists() && !cache.tree_is_sealed(&seal_name(key), dir) {
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false);
        if !empty {
            tracing::warn!(
                "the dependency cache {} is not the tree this machine sealed after its last fetch; emptying it",
                dir.display()
            );
        }
        remove_tree(dir)?;
    }
    fs::create_dir_all(dir)
}

/// Seals the entry as `fetch` left it.
pub fn seal_entry(cache: &Cache, key: &str, dir: &Path) -> io::Result<()> {
    cache.seal_tree(&seal_name(key), dir)
}

/// Copies the tree `from` to `to` (which must not exist): directories,
/// regular files (with their permissions) and symlinks (as symlinks, never
/// followed); other kinds of file are left out.
pub fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from)?, to)
    } else if meta.is_dir() {
        fs::create_dir(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        // Last, so that a read-only directory (Go's module cache) is filled first.
        fs::set_permissions(to, meta.permissions())
    } else if meta.is_file() {
        fs::copy(from, to).map(drop)
    } else {
        Ok(())
    }
}

/// Removes a tree, making its directories writable first when that is what
/// stops it (Go leaves its module cache read-only).
pub fn remove_tree(path: &Path) -> io::Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            make_writable(path)?;
            fs::remove_dir_all(path)
        }
        other => other,
    }
}

fn make_writable(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    if meta.is_dir() {
        let mut permissions = meta.permissions();
        permissions.set_mode(permissions.mode() | 0o700);
        fs::set_permissions(path, permissions)?;
        for entry in fs::read_dir(path)? {
            make_writable(&entry?.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_changes_the_key() {
        let base = [
            "recipe",
            "v1",
            "linux/amd64",
            "https://a/b",
            "c0ffee",
            "host",
        ];
        let reference = key(&base);
        assert_eq!(reference.len(), 32);
        for index in 0..base.len() {
            let mut changed = base;
            changed[index] = "other";
            assert_ne!(key(&changed), reference, "input {index}");
        }
        assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
    }

    #[test]
    fn a_copy_keeps_files_modes_and_symlinks_and_read_only_trees_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let from = tmp.path().join("from");
        fs::create_dir_all(from.join("mod/pkg@v1")).unwrap();
        fs::write(from.join("mod/pkg@v1/a.go"), "package a\n").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", from.join("link")).unwrap();
        fs::set_permissions(from.join("mod/pkg@v1"), fs::Permissions::from_mode(0o555)).unwrap();
        let to = tmp.path().join("to");
        copy_tree(&from, &to).unwrap();
        assert_eq!(
            fs::read_to_string(to.join("mod/pkg@v1/a.go")).unwrap(),
            "package a\n"
        );
        assert_eq!(
            fs::read_link(to.join("link")).unwrap(),
            Path::new("/etc/shadow")
        );
        let mode = fs::metadata(to.join("mod/pkg@v1"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o555);
        remove_tree(&to).unwrap();
        remove_tree(&from).unwrap();
        assert!(!to.exists() && !from.exists());
    }
}
