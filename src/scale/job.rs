//! One job: an image's release on one platform, verified with one recipe by
//! one tool version.

use serde::{Deserialize, Serialize};

/// One (image, digest, version, platform) to verify, and how.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Job {
    /// The job's identity: the first 32 hex characters of a sha256 over
    /// what it verifies and with what.
    pub id: String,
    /// registry/repository, as the image reference parser normalises it.
    pub image: String,
    /// The tag it was listed as.
    pub tag: String,
    /// The tag's pinned digest (`sha256:…`).
    pub digest: String,
    /// The release to rebuild (the tag, as written).
    pub version: String,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// `builtin:NAME.toml`, a path as given in the watch list, or `None`
    /// when no recipe covers the image and one is inferred.
    pub recipe: Option<String>,
    pub recipe_sha256: Option<String>,
    /// The arguments after `rebuild-compare` that run the job, without output paths.
    pub args: Vec<String>,
}
