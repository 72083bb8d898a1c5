//! Rust: a `cargo build --release --locked` recipe from the binary's
//! rustc version and cargo-auditable dependency list.

use super::candidate::{InferError, Inference};
use super::evidence::Evidence;

/// Candidate recipes for a Rust binary.
pub fn infer(_evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    Err(InferError::Unsupported)
}
