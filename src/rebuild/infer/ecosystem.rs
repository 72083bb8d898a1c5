//! Picks the ecosystem of the image binary and hands the evidence to its
//! inference module.

use super::candidate::{InferError, Inference};
use super::evidence::Evidence;

/// Infers candidate recipes: Go when every platform's binary carries Go
/// build info, else Rust when they carry rustc and cargo-auditable data.
pub fn infer(evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    if evidence.platforms.is_empty() {
        return Err(InferError::Invalid(
            "the image has no platform to infer a recipe from".into(),
        ));
    }
    if evidence.platforms.iter().all(|p| p.go.is_some()) {
        return super::go::infer(evidence);
    }
    if evidence.platforms.iter().all(|p| p.rust.is_some()) {
        return super::rust::infer(evidence);
    }
    Err(InferError::Unsupported)
}

/// The platforms that can share candidates, as groups of indices into
/// `evidence.platforms`: Go binaries that record different build inputs
/// (build directory, `-trimpath`, `-ldflags`) are apart
/// ([`super::go::input_groups`]); otherwise one group of all.
pub fn input_groups(evidence: &Evidence<'_>) -> Vec<Vec<usize>> {
    if !evidence.platforms.is_empty() && evidence.platforms.iter().all(|p| p.go.is_some()) {
        return super::go::input_groups(evidence);
    }
    vec![(0..evidence.platforms.len()).collect()]
}
