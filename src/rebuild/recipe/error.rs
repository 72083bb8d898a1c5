//! Why a recipe could not be loaded or found.

use std::path::PathBuf;

/// Why a recipe could not be loaded or found.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    /// The recipe file could not be read.
    #[error("cannot read recipe {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The recipe directory could not be listed.
    #[error("cannot list recipe directory {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The recipe is malformed: bad TOML, an unknown key, a missing or invalid value.
    #[error("recipe {origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Two recipes in the catalogue cover the same repository.
    #[error("recipes {first} and {second} both cover {repository}")]
    Duplicate {
        repository: String,
        first: String,
        second: String,
    },
    /// No recipe covers the repository, nor its path on another registry.
    #[error("no recipe for {repository}{}; `rebuild-compare recipe list` shows the known ones; write one (see recipes/README.md) and pass it with --recipe FILE", suggestions(.close))]
    UnknownRepository {
        repository: String,
        close: Vec<String>,
    },
    /// No recipe covers the repository, and several cover its path on other registries.
    #[error("no recipe covers {repository} itself, and recipes for several registries cover its path {path}: {}; pass the one you mean with --recipe FILE (or --recipe builtin:NAME)", candidates.join(", "))]
    AmbiguousPath {
        repository: String,
        path: String,
        candidates: Vec<String>,
    },
    /// `--recipe builtin:NAME` names no shipped recipe.
    #[error("no shipped recipe named {name:?}; shipped: {}", shipped.join(", "))]
    UnknownBuiltin { name: String, shipped: Vec<String> },
    /// `recipe show NAME` names no recipe and no repository one covers.
    #[error("no recipe named {name:?} or covering it; known: {}", known.join(", "))]
    UnknownRecipe { name: String, known: Vec<String> },
    /// The recipe's bytes are not the ones its expected sha256 names
    /// (`--recipe-sha256`, a plan's `recipe_sha256`): it changed since.
    #[error("recipe {origin} has sha256 {found}, not the expected {expected} (the one it was planned with): it changed since; nothing is built from it")]
    Changed {
        origin: String,
        expected: String,
        found: String,
    },
    /// The image given to look a recipe up is not a valid reference.
    #[error(transparent)]
    Reference(#[from] crate::image::reference::ReferenceError),
}

fn suggestions(close: &[String]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!(" (close matches: {})", close.join(", "))
    }
}
