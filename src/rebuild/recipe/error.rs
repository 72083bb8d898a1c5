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
    /// No recipe covers the repository.
    #[error("no recipe for {repository}{}; write one (see recipes/README.md) and pass it with --recipe FILE", suggestions(.close))]
    UnknownRepository {
        repository: String,
        close: Vec<String>,
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
