//! The main job, `rebuild-compare IMAGE VERSION`: prove or disprove that
//! the image's binary is what the source at the tag builds.
//!
//! [`pipeline`] runs it with a recipe (written, or from the catalogue);
//! [`inferred`] infers one from the image binary when none covers the
//! image, and tries its candidates; [`published`] opens the image a recipe
//! names (its tag moved to a fallback repository, too); both hand back a [`VerifyReport`]
//! ([`outcome`]), the plain data the renderers and the attestation read.
//! Both check the image binary's recorded dependencies against the tag's
//! lock files, which needs no build ([`depcheck`]).

mod closest;
mod depcheck;
mod follow;
pub mod inferred;
pub mod opened;
mod outcome;
pub mod packaged;
pub mod pipeline;
pub mod published;

pub use depcheck::DependencyCheck;
pub use inferred::{
    infer_any_recipe, infer_recipe, verify_inferred, InferRequest, Inferred, RecipeInference,
};
#[cfg(test)]
pub(crate) use outcome::example_report;
pub use outcome::{
    AdjustedRebuild, Adjustments, CandidateResult, CheckStatus, CrossCheck, ImageBinary, ImageInfo,
    Incomplete, PlatformResult, PlatformVerdict, PublishedDigest, Rebuilt, RecipeInfo, SourceInfo,
    Verdict, VerifyReport,
};
pub use pipeline::{default_out_dir, verify, VerifyError, VerifyRequest};
pub use published::{image_location, PublishedError};
