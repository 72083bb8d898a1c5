//! The whole result of a diff, [`BinaryDiff`]: both files' summaries, the
//! sections compared, strings, build info and explanations. Plain data,
//! serialised as `diff --format json`; rendering lives in `crate::report::diff`.

use serde::{Deserialize, Serialize};

use super::functions::FunctionsDiff;
use super::hardening::HardeningDiff;
use super::hexdump::Hunk;
use super::metadata::KeyDifference;
use super::sections::SectionDiff;
use super::strings::StringsDiff;
use crate::binary::{BuildIds, Format, GoBuildInfo, RustInfo};
use crate::image::digest::Digest;

/// One side of the comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GoBuildInfoDiff {
    pub a: Option<GoBuildInfo>,
    pub b: Option<GoBuildInfo>,
    pub differences: Vec<KeyDifference>,
}

/// Build identifiers of both files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildIdDiff {
    pub a: BuildIds,
    pub b: BuildIds,
}

/// Rust toolchain and cargo-auditable dependencies of both files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RustDiff {
    pub a: Option<RustInfo>,
    pub b: Option<RustInfo>,
    pub differences: Vec<KeyDifference>,
}

/// Everything known about how two files differ.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BinaryDiff {
    pub identical: bool,
    pub a: FileSummary,
    pub b: FileSummary,
    pub sections: Vec<SectionDiff>,
    pub go_buildinfo: Option<GoBuildInfoDiff>,
    pub strings: StringsDiff,
    pub explanations: Vec<String>,
    /// Cause codes, most likely first (empty when identical).
    pub causes: Vec<Cause>,
    /// What each cause of `causes` accounts for, in the same order.
    pub cause_evidence: Vec<CauseEvidence>,
    /// How the comparison was done (fallbacks, parse errors).
    pub notes: Vec<String>,
    pub build_id: BuildIdDiff,
    /// `.comment` compiler identification strings of A and B.
    pub compiler: CompilerDiff,
    pub rust: Option<RustDiff>,
    /// Functions compared by name (Go function table or symbol table);
    /// `None` when neither file has one.
    pub functions: Option<FunctionsDiff>,
    /// Hardening functions (`__printf_chk`, `__stack_chk_fail`) only one
    /// file imports; absent when both import the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardening: Option<HardeningDiff>,
    pub hunks: Vec<Hunk>,
}

/// Compiler identification strings (ELF `.comment`) of both files.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CompilerDiff {
    pub a: Vec<String>,
    pub b: Vec<String>,
}

/// The one-sided strings and the functions one cause accounts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CauseEvidence {
    pub cause: Cause,
    /// Strings only one side has that this cause produces (for `data`:
    /// that no cause accounts for).
    pub strings: usize,
    /// Functions added, removed or changed that this cause accounts for.
    pub functions: usize,
    /// Some of those strings (A's, then B's), then function names.
    pub examples: Vec<String>,
    /// How the cause accounts for them, when it does so as a group: a
    /// cause that changes code accounts for every function it may have
    /// changed, which were then not compared one by one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Why two binaries differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// Another compiler or Go release.
    Toolchain,
    /// The build recorded another `vcs.revision`/`vcs.time`.
    VcsRevision,
    /// One side was built from a modified tree (`vcs.modified=true`).
    VcsModified,
    /// Other dependencies (Go modules, Rust crates).
    Dependencies,
    /// Build flags, tags, CGO, GOAMD64, ... recorded in the build info,
    /// or hardening (`-D_FORTIFY_SOURCE`, `-fstack-protector`) one file
    /// has and the other lacks.
    BuildSettings,
    /// Other `-ldflags` (`-X` values).
    LdflagsValues,
    /// Embedded build directories differ (`-trimpath`, prefix maps).
    Paths,
    /// A build time stamped into the binary.
    Timestamp,
    /// One side has its symbol table stripped.
    Stripped,
    /// Debug information differs.
    DebugInfo,
    /// Only the build ID differs (and the `.gnu_debuglink` derived from it).
    BuildIdOnly,
    /// The build ID differs because other bytes do.
    BuildIdConsequence,
    /// Functions added, removed or changed that nothing above explains.
    Code,
    /// Strings or data that nothing above explains.
    Data,
    /// No cause found.
    Unknown,
}

impl Cause {
    /// The code as written in JSON (`build-id-only`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Toolchain => "toolchain",
            Self::VcsRevision => "vcs-revision",
            Self::VcsModified => "vcs-modified",
            Self::Dependencies => "dependencies",
            Self::BuildSettings => "build-settings",
            Self::LdflagsValues => "ldflags-values",
            Self::Paths => "paths",
            Self::Timestamp => "timestamp",
            Self::Stripped => "stripped",
            Self::DebugInfo => "debug-info",
            Self::BuildIdOnly => "build-id-only",
            Self::BuildIdConsequence => "build-id-consequence",
            Self::Code => "code",
            Self::Data => "data",
            Self::Unknown => "unknown",
        }
    }
}
