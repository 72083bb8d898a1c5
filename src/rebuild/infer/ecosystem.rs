//! Picks the ecosystem of the image binary and hands the evidence to its
//! inference module, then says what each candidate changes from the one
//! before it.

use super::candidate::{InferError, Inference};
use super::evidence::{Evidence, PlatformEvidence};

/// Infers candidate recipes: Go when every platform's binary carries Go
/// build info, else Rust when they carry rustc and cargo-auditable data.
pub fn infer(evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    let mut inference = infer_candidates(evidence)?;
    let changes: Vec<Vec<String>> = inference
        .candidates
        .windows(2)
        .map(|pair| super::changes::changes(&pair[0].recipe, &pair[1].recipe))
        .collect();
    for (candidate, changes) in inference.candidates.iter_mut().skip(1).zip(changes) {
        candidate.changes = changes;
    }
    Ok(inference)
}

/// The ecosystem's candidates, without their changes.
fn infer_candidates(evidence: &Evidence<'_>) -> Result<Inference, InferError> {
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
/// `evidence.platforms`, picked as [`infer`] picks the ecosystem: Go
/// binaries that record different build inputs (build directory,
/// `-trimpath`, `-ldflags`; [`super::go::input_groups`]) or Rust binaries
/// that embed different Cargo homes ([`super::rust::input_groups`]) are
/// apart; otherwise one group of all.
pub fn input_groups(evidence: &Evidence<'_>) -> Vec<Vec<usize>> {
    let all = |f: fn(&PlatformEvidence) -> bool| {
        !evidence.platforms.is_empty() && evidence.platforms.iter().all(f)
    };
    if all(|p| p.go.is_some()) {
        super::go::input_groups(evidence)
    } else if all(|p| p.rust.is_some()) {
        super::rust::input_groups(evidence)
    } else {
        vec![(0..evidence.platforms.len()).collect()]
    }
}
