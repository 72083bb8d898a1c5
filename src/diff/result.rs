//! The whole result of a diff, [`BinaryDiff`]: both files' summaries, the
//! sections compared, strings, build info and explanations. Plain data,
//! serialised as `diff --format json`; rendering lives in `crate::report::diff`.

use serde::Serialize;

use super::functions::FunctionsDiff;
use super::gobuildinfo::{BuildIds, GoBuildInfo, KeyDifference};
use super::hexdump::Hunk;
use super::rust::RustInfo;
use super::sections::{Format, SectionDiff};
use super::strings::StringsDiff;
use crate::image::digest::Digest;

/// One side of the comparison.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub sha256: Digest,
    pub size: u64,
    pub format: Format,
    pub machine: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
}

/// Go build info of both files, compared key by key.
#[derive(Debug, Clone, Serialize)]
pub struct GoBuildInfoDiff {
    pub a: Option<GoBuildInfo>,
    pub b: Option<GoBuildInfo>,
    pub differences: Vec<KeyDifference>,
}

/// Build identifiers of both files.
#[derive(Debug, Clone, Serialize)]
pub struct BuildIdDiff {
    pub a: BuildIds,
    pub b: BuildIds,
}

/// Rust toolchain and cargo-auditable dependencies of both files.
#[derive(Debug, Clone, Serialize)]
pub struct RustDiff {
    pub a: Option<RustInfo>,
    pub b: Option<RustInfo>,
    pub differences: Vec<KeyDifference>,
}

/// Everything known about how two files differ.
#[derive(Debug, Clone, Serialize)]
pub struct BinaryDiff {
    pub identical: bool,
    pub a: FileSummary,
    pub b: FileSummary,
    pub sections: Vec<SectionDiff>,
    pub go_buildinfo: Option<GoBuildInfoDiff>,
    pub strings: StringsDiff,
    pub explanations: Vec<String>,
    /// How the comparison was done (fallbacks, parse errors).
    pub notes: Vec<String>,
    pub build_id: BuildIdDiff,
    /// `.comment` compiler identification strings of A and B.
    pub compiler: CompilerDiff,
    pub rust: Option<RustDiff>,
    /// Functions compared by name (Go function table or symbol table);
    /// `None` when neither file has one.
    pub functions: Option<FunctionsDiff>,
    pub hunks: Vec<Hunk>,
}

/// Compiler identification strings (ELF `.comment`) of both files.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CompilerDiff {
    pub a: Vec<String>,
    pub b: Vec<String>,
}
