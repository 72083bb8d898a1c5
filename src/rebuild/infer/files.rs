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
