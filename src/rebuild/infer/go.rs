//! Go: a recipe from the binary's build info (toolchain, flags, package),
//! its embedded paths, and the tag's `.goreleaser.yaml` or `-X` targets.

use super::candidate::{InferError, Inference};
use super::evidence::Evidence;

/// Candidate recipes for a Go binary.
pub fn infer(_evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    Err(InferError::Unsupported)
}
