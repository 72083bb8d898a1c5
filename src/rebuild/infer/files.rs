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
    tree: git2::Oid,
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
        Ok(Self { repo, tree })
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
        let mut paths = Vec::new();
        let Ok(tree) = self.repo.find_tree(self.tree) else {
            return paths;
        };
        let _ = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            if paths.len() >= MAX_TREE_FILES {
                return git2::TreeWalkResult::Abort;
            }
            if Self::is_regular(entry.filemode()) {
                if let (Ok(name), Ok(dir)) = (
                    std::str::from_utf8(entry.name_bytes()),
                    std::str::from_utf8(dir.as_bytes()),
                ) {
                    paths.push(format!("{dir}{name}"));
                }
            }
            git2::TreeWalkResult::Ok
        });
        paths.sort();
        paths
    }
}
