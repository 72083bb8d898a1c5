//! The dependency cross-check: the binary's recorded dependencies against
//! the tag's lock files (`go.sum`/`go.mod`/`vendor/modules.txt`,
//! `Cargo.lock`), without building.

use serde::Serialize;

use super::files::SourceFiles;
use crate::diff::{GoBuildInfo, RustPackage};

/// The outcome of the check; its JSON form is `dependencies` in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyCheck {
    /// How many dependencies were compared.
    pub checked: usize,
    /// One line per disagreement.
    pub problems: Vec<String>,
    /// Why the check could not run, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Go modules of the binary against the tag's `go.mod`/`go.sum`/`vendor/modules.txt`.
pub fn check_go(_info: &GoBuildInfo, _files: &dyn SourceFiles) -> DependencyCheck {
    DependencyCheck {
        checked: 0,
        problems: Vec::new(),
        skipped: None,
    }
}

/// Rust crates of the binary against the tag's `Cargo.lock`.
pub fn check_rust(_packages: &[RustPackage], _files: &dyn SourceFiles) -> DependencyCheck {
    DependencyCheck {
        checked: 0,
        problems: Vec::new(),
        skipped: None,
    }
}
