//! The source tree at the tag, as inference reads it: named files, read
//! whole but bounded, without a checkout.

use std::collections::BTreeMap;

/// Largest file inference reads from the source (a `go.sum`, a
/// `.goreleaser.yaml`, a `.go` file); larger files are treated as absent.
pub const MAX_SOURCE_FILE: u64 = 8 * 1024 * 1024;

/// Read access to the files of the tree at the tag.
pub trait SourceFiles {
    /// The file at `path` (relative, `/`-separated), or `None` when it does
    /// not exist, is not a regular file, or is over [`MAX_SOURCE_FILE`].
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Every regular file's path, sorted.
    fn paths(&self) -> Vec<String>;
    /// Why [`SourceFiles::paths`] listed only part of the tree, once it
    /// has been called and did: a check that searched the listing must say
    /// that it saw only part of it.
    fn listing_note(&self) -> Option<String> {
        None
    }
}

/// Files held in memory: for tests, and for trees already read.
#[derive(Debug, Clone, Default)]
pub struct MemoryFiles(pub BTreeMap<String, Vec<u8>>);

impl MemoryFiles {
    /// A tree of these `(path, content)` pairs.
    pub fn new<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self(
            files
                .into_iter()
                .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
                .collect(),
        )
    }
}

impl SourceFiles for MemoryFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.0
            .get(path)
            .filter(|c| c.len() as u64 <= MAX_SOURCE_FILE)
            .cloned()
    }

    fn paths(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// The most files [`GitTreeFiles::paths`] lists.
pub const MAX_TREE_FILES: usize = 500_000;

/// Why the tree at the tag could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the tree of commit {commit} in {}: {source}", mirror.display())]
pub struct TreeError {
    pub mirror: std::path::PathBuf,
    pub commit: String,
    #[source]
    pub source: git2::Error,
}

/// The tree of a pinned commit, read from the cache's bare mirror without
/// a checkout. Names that are not UTF-8 are not listed; symbolic links and
/// submodules are not regular files.
pub struct GitTreeFiles {
    repo: git2::Repository,
    commit: String,
    tree: git2::Oid,
    /// The listing, made on first use.
    listing: std::sync::OnceLock<Listing>,
}

/// The paths of a tree, and why they are not all of them, if they are not.
struct Listing {
    paths: Vec<String>,
    cut: Option<String>,
}

impl GitTreeFiles {
    /// Opens the tree of `commit` in the bare mirror at `mirror`.
    pub fn open(mirror: &std::path::Path, commit: &str) -> Result<Self, TreeError> {
        let error = |source| TreeError {
            mirror: mirror.to_path_buf(),
            commit: commit.to_string(),
            source,
        };
        let repo = git2::Repository::open_bare(mirror).map_err(error)?;
        let oid = git2::Oid::from_str(commit).map_err(error)?;
        let tree = repo
            .find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(error)?
            .id();
        Ok(Self {
            repo,
            commit: commit.to_string(),
            tree,
            listing: std::sync::OnceLock::new(),
        })
    }

    /// Lists the tree, at most `max` files.
    fn list(&self, max: usize) -> Listing {
        let mut paths = Vec::new();
        let walked = self.repo.find_tree(self.tree).and_then(|tree| {
            tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                if !Self::is_regular(entry.filemode()) {
                    return git2::TreeWalkResult::Ok;
                }
                if paths.len() >= max {
                    return git2::TreeWalkResult::Abort;
                }
                if let (Ok(name), Ok(dir)) = (
                    std::str::from_utf8(entry.name_bytes()),
                    std::str::from_utf8(dir.as_bytes()),
                ) {
                    paths.push(format!("{dir}{name}"));
                }
                git2::TreeWalkResult::Ok
            })
        });
        let cut = match walked {
            Ok(()) => None,
            Err(_) if paths.len() >= max => Some(format!(
                "source listing: the tree of commit {} has more than {max} files; \
                 only the first {max} were searched",
                self.commit
            )),
            Err(e) => Some(format!(
                "source listing: the tree of commit {} could not be listed whole ({} files listed): {e}",
                self.commit,
                paths.len()
            )),
        };
        paths.sort();
        Listing { paths, cut }
    }

    fn is_regular(mode: i32) -> bool {
        mode == i32::from(git2::FileMode::Blob) || mode == i32::from(git2::FileMode::BlobExecutable)
    }
}

impl SourceFiles for GitTreeFiles {
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let tree = self.repo.find_tree(self.tree).ok()?;
        let entry = tree.get_path(std::path::Path::new(path)).ok()?;
        if !Self::is_regular(entry.filemode()) {
            return None;
        }
        let odb = self.repo.odb().ok()?;
        let (size, _) = odb.read_header(entry.id()).ok()?;
        if size as u64 > MAX_SOURCE_FILE {
            return None;
        }
        let blob = self.repo.find_blob(entry.id()).ok()?;
        Some(blob.content().to_vec())
    }

    fn paths(&self) -> Vec<String> {
        self.listing
            .get_or_init(|| self.list(MAX_TREE_FILES))
            .paths
            .clone()
    }

    fn listing_note(&self) -> Option<String> {
        self.listing.get()?.cut.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A bare repository whose one commit holds `files`; returns it and the commit.
    fn repository(dir: &std::path::Path, files: &[&str]) -> String {
        let repo = git2::Repository::init_bare(dir).unwrap();
        let mut builder = repo.treebuilder(None).unwrap();
        for name in files {
            let blob = repo.blob(name.as_bytes()).unwrap();
            builder.insert(name, blob, 0o100644).unwrap();
        }
        let tree = repo.find_tree(builder.write().unwrap()).unwrap();
        let who = git2::Signature::new("t", "t@example.com", &git2::Time::new(0, 0)).unwrap();
        repo.commit(None, &who, &who, "files", &tree, &[])
            .unwrap()
            .to_string()
    }

    #[test]
    fn a_listing_cut_at_its_cap_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let commit = repository(dir.path(), &["a", "b", "c"]);
        let files = GitTreeFiles::open(dir.path(), &commit).unwrap();
        let cut = files.list(2);
        assert_eq!(cut.paths, ["a", "b"]);
        assert_eq!(
            cut.cut.as_deref(),
            Some(
                format!(
                    "source listing: the tree of commit {commit} has more than 2 files; \
                     only the first 2 were searched"
                )
                .as_str()
            )
        );
        let whole = files.list(3);
        assert_eq!((whole.paths.len(), whole.cut), (3, None));
        // Nothing listed yet, nothing to say; listed whole, nothing either.
        assert_eq!(files.listing_note(), None);
        assert_eq!(files.paths(), ["a", "b", "c"]);
        assert_eq!(files.listing_note(), None);
    }
}
