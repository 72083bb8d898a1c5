//! The result of a verification, as plain data: its JSON form is the
//! contract CI gates and other tools read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::depcheck::DependencyCheck;
use crate::diff::{BinaryDiff, Cause};
use crate::image::digest::Digest;
use crate::rebuild::adjust::InputChange;
use crate::rebuild::sandbox::BuilderRoot;

/// The verdict of the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every compared platform was reproduced bit for bit (exit 0).
    Reproducible,
    /// At least one platform's image binary differs from the rebuild (exit 1).
    Mismatch,
    /// Nothing could be compared, or a platform failed (exit 2).
    Error,
}

/// The verdict for one platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformVerdict {
    Reproducible,
    Mismatch,
    Error,
    Skipped,
}

/// The full report of `rebuild-compare IMAGE VERSION`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub verdict: Verdict,
    pub image: ImageInfo,
    pub source: SourceInfo,
    pub recipe: RecipeInfo,
    pub sandboxed: bool,
    /// The builder every platform used; `null` when the recipe's builder
    /// depends on release inputs and the platforms' differ (see each
    /// platform's `builder`).
    pub builder: Option<BuilderRoot>,
    pub platforms: Vec<PlatformResult>,
    /// Run-level remarks (skipped platforms, why the verdict is what it is).
    pub notes: Vec<String>,
}

/// The published image, pinned.
#[derive(Debug, Clone, Serialize)]
pub struct ImageInfo {
    /// The reference as resolved (normalised, with the tag that was read).
    pub reference: String,
    /// The digest the reference resolved to; everything was read by this digest.
    pub digest: Digest,
    /// Where the image was read from, without tag or digest (`registry/repository`, `oci:DIR`).
    pub name: String,
    /// Every runnable platform of the image's index, verified or not (to
    /// know whether a run covered them all); `None` for a single-manifest
    /// image. Not part of the JSON report.
    #[serde(skip)]
    pub index_platforms: Option<Vec<crate::image::platform::Platform>>,
}

/// The source that was rebuilt.
#[derive(Debug, Clone, Serialize)]
pub struct SourceInfo {
    /// The recipe's upstream URL, also when `--source` was read instead.
    pub url: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub commit: String,
    /// What `--source` named, when it is not `url`; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<String>,
}

/// The recipe that said how.
#[derive(Debug, Clone, Serialize)]
pub struct RecipeInfo {
    /// A file path, or `builtin:NAME` for a shipped recipe; for an
    /// inferred recipe, where it was saved.
    pub path: String,
    pub sha256: Digest,
    /// Whether the recipe was inferred from the image binary (no recipe covered the image).
    pub inferred: bool,
}

impl RecipeInfo {
    /// The recipe as a URI, for the attestation's policy.
    pub fn uri(&self) -> String {
        if self.path.contains(':') {
            self.path.clone()
        } else {
            let absolute = std::path::absolute(&self.path)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| self.path.clone());
            format!("file://{absolute}")
        }
    }
}

/// The outcome for one platform.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformResult {
    pub platform: String,
    pub verdict: PlatformVerdict,
    /// The digest of this platform's image manifest (`sha256:…`), `null`
    /// when unknown; with an index it differs from the image's digest.
    pub manifest_digest: Option<Digest>,
    pub image_binary: Option<ImageBinary>,
    pub rebuilt: Option<Rebuilt>,
    pub published: Option<PublishedDigest>,
    /// Whether the recipe's `[published]` check was skipped on request
    /// (`--skip-published`): `published` is then `null`, unchecked.
    pub published_skipped: bool,
    /// The diff of the image binary (A) against the rebuild (B), on mismatch.
    pub diff: Option<BinaryDiff>,
    /// Why the platform is a mismatch, most likely first (empty otherwise):
    /// `dependencies` from the cross-check, then the diff's cause codes.
    pub causes: Vec<Cause>,
    pub error: Option<String>,
    /// The builder this platform was rebuilt on, when its build started.
    pub builder: Option<BuilderRoot>,
    /// The recipe this platform was verified with, when it is not the
    /// report's `recipe`: an inferred run whose platforms' binaries record
    /// different build inputs saves a recipe per platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipe: Option<RecipeInfo>,
    /// Release inputs read from this platform's image binary, by placeholder
    /// name (`go_version`, `input:build_date`): a pass is "reproducible
    /// given these published inputs".
    pub inputs: BTreeMap<String, String>,
    /// The dependency cross-check against the tag's lock files, when the
    /// binary records its dependencies (Go modules, cargo-auditable crates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<DependencyCheck>,
    /// For an inferred recipe: each candidate tried, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidates: Option<Vec<CandidateResult>>,
    /// A mismatch whose rebuild reproduced the image binary bit for bit,
    /// but only with a program input the published binary alone supplies:
    /// that input, confirmed as the cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_cause: Option<ConfirmedCause>,
    /// Checks made without a rebuild (machine vs platform, Go build info vs
    /// the tag and toolchain, dependencies vs the tag's lock files).
    pub cross_checks: Vec<CrossCheck>,
    /// The rebuild the verdict and the diff rest on, when rebuilds with
    /// inputs taken from the published binary were tried: `recipe`, or
    /// `adjusted:N` (the closest, fewest differing bytes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compared_against: Option<String>,
    /// The inputs that rebuild took from the published binary instead of
    /// the recipe, by input (`build_directory`, `-X main.endpoint`, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub adjusted: BTreeMap<String, InputChange>,
    /// The rebuilds with inputs taken from the published binary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjustments: Option<Adjustments>,
}

impl PlatformResult {
    /// A platform not compared, with why.
    pub fn skipped(platform: String, reason: String) -> Self {
        Self {
            platform,
            verdict: PlatformVerdict::Skipped,
            manifest_digest: None,
            image_binary: None,
            rebuilt: None,
            published: None,
            published_skipped: false,
            diff: None,
            causes: Vec::new(),
            error: Some(reason),
            builder: None,
            recipe: None,
            inputs: BTreeMap::new(),
            dependencies: None,
            candidates: None,
            confirmed_cause: None,
            cross_checks: Vec::new(),
            compared_against: None,
            adjusted: BTreeMap::new(),
            adjustments: None,
        }
    }
}

/// A check made without a rebuild, and whether it passed. In JSON it is
/// one string: a pass as `ok: MESSAGE`, anything else as the message alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrossCheck {
    pub status: CheckStatus,
    /// What was checked and found (`vcs.modified=false`), or the problem.
    pub message: String,
}

/// Whether a [`CrossCheck`] passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckStatus {
    /// The image binary agrees with what was checked.
    Passed,
    /// The check found a problem, or could not be made in full: its
    /// message says which.
    Failed,
}

/// What a passed check's JSON string starts with.
const PASSED_PREFIX: &str = "ok: ";

impl CrossCheck {
    /// A check that passed.
    pub fn passed(message: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Passed,
            message: message.into(),
        }
    }

    /// A check that found a problem or could not be made in full.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            status: CheckStatus::Failed,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for CrossCheck {
    /// The check as the JSON report writes it: `ok: MESSAGE` or `MESSAGE`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.status {
            CheckStatus::Passed => write!(f, "{PASSED_PREFIX}{}", self.message),
            CheckStatus::Failed => f.write_str(&self.message),
        }
    }
}

impl Serialize for CrossCheck {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CrossCheck {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(match text.strip_prefix(PASSED_PREFIX) {
            Some(message) => Self::passed(message),
            None => Self::failed(text),
        })
    }
}

/// The rebuilds of a mismatching platform with inputs taken from its
/// published binary (`--max-adjustments`).
#[derive(Debug, Clone, Serialize)]
pub struct Adjustments {
    /// The recipe's own rebuild.
    pub recipe_rebuilt: Rebuilt,
    /// Bytes in which it differs from the image binary.
    pub recipe_differing_bytes: u64,
    /// Each adjusted rebuild, in the order tried.
    pub rebuilds: Vec<AdjustedRebuild>,
    /// Where the adjusted recipe that reproduced the image binary was saved.
    pub adjusted_recipe: Option<String>,
    /// Inputs that differ but could not be taken, and why.
    pub notes: Vec<String>,
}

/// One rebuild with inputs taken from the published binary.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustedRebuild {
    /// `adjusted:1`, `adjusted:2`.
    pub label: String,
    /// The inputs it took, by input.
    pub adjusted: BTreeMap<String, InputChange>,
    /// Its recipe (TOML), when written.
    pub recipe: Option<String>,
    pub rebuilt: Option<Rebuilt>,
    /// Bytes in which it differs from the image binary (0: reproduced).
    pub differing_bytes: Option<u64>,
    pub error: Option<String>,
}

/// A program input (an `-X` value, build tags, ...) with which a rebuild
/// reproduced the image binary exactly, and which nothing but the image
/// binary supplies (not the recipe; without one, not the release's
/// metadata): it explains the difference but keeps the verdict at mismatch,
/// since such an input can change what the program does (an `-X` value can
/// point it at another server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfirmedCause {
    /// The input as the build names it (`-X main.version`).
    pub input: String,
    /// The value the image binary was built with (`https://…`).
    pub value: String,
    /// Why it is the cause and why it is no pass, in words.
    pub reason: String,
}

/// One candidate of an inferred recipe, as tried for a platform.
#[derive(Debug, Clone, Serialize)]
pub struct CandidateResult {
    pub label: String,
    /// The sha256 of the candidate recipe's text.
    pub sha256: Digest,
    /// `reproducible`, `mismatch` or `error`.
    pub verdict: PlatformVerdict,
    pub error: Option<String>,
}

/// The binary the image runs.
#[derive(Debug, Clone, Serialize)]
pub struct ImageBinary {
    pub path: String,
    pub sha256: Digest,
    pub size: u64,
    /// The layer that supplied it.
    pub layer: Digest,
    /// Where it was extracted to on the host.
    pub extracted: String,
}

/// The binary the source built.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuilt {
    pub sha256: Digest,
    pub size: u64,
    /// The artifact on the host.
    pub path: String,
    pub log: String,
}

/// The maintainers' published digest and how it compares.
#[derive(Debug, Clone, Serialize)]
pub struct PublishedDigest {
    pub sha256: Digest,
    pub url: String,
    pub matches_image: bool,
    pub matches_rebuilt: Option<bool>,
}
