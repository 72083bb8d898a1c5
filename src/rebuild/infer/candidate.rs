//! What inference hands back: candidate recipes, most likely first.

use serde::Serialize;

use crate::rebuild::recipe::RecipeSpec;

/// The ecosystem an inferred recipe builds with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Go,
    Rust,
}

/// One way the binary may have been built: a complete recipe.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// A short description for reports (`goreleaser builds[0]: -s -w, 3 -X`).
    pub label: String,
    /// The recipe as TOML, which `Recipe::parse` accepts unchanged.
    pub text: String,
    /// The recipe's values, as `text` holds them.
    pub recipe: RecipeSpec,
    /// The program inputs it takes from the image binary alone (`-X`
    /// values that are not release metadata, see [`super::metadata`]): a
    /// build of it that reproduces the binary confirms them as the cause of
    /// a mismatch, never a pass.
    pub binary_only: Vec<BinaryOnlyInput>,
    /// What it changes from the candidate before it
    /// ([`super::changes::changes`]); empty for the first.
    pub changes: Vec<String>,
}

/// A program input only the image binary supplies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryOnlyInput {
    /// The input as the build names it (`-X main.version`).
    pub input: String,
    /// Its value as the binary records it (`https://…`).
    pub value: String,
}

/// The result of inference.
#[derive(Debug, Clone)]
pub struct Inference {
    pub ecosystem: Ecosystem,
    /// At least one, most likely first, no two with the same text.
    pub candidates: Vec<Candidate>,
    /// What the reader should know (flags that could not be recovered, ...).
    pub notes: Vec<String>,
}

/// Why no recipe could be inferred.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("the image binary is neither a Go binary with build info nor a Rust binary with cargo-auditable data, so no recipe can be inferred: write one (see recipes/README.md) and pass it with --recipe")]
    Unsupported,
    #[error("cannot tell where the source of {what} lives: pass --source URL")]
    NoSource { what: String },
    #[error("{0}")]
    Invalid(String),
}
