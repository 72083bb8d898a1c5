//! The outcome of a verification, as plain data: its JSON form is the
//! contract CI gates and other tools read, and it reads back as the same
//! value (`run` reads its jobs' reports so).
//!
//! Named `outcome` rather than `report` so that it is not mistaken for
//! [`crate::report`], which renders values like this one as text (one
//! renderer per command; this one's is [`crate::report::verify`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::depcheck::DependencyCheck;
use crate::diff::{BinaryDiff, Cause};
use crate::distro::Package;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlatformVerdict {
    Reproducible,
    Mismatch,
    Error,
    Skipped,
}

/// The full report of `rebuild-compare IMAGE VERSION`.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

impl VerifyReport {
    /// Why the report proves nothing, when its verdict is `error`.
    pub fn incomplete(&self) -> Option<Incomplete> {
        (self.verdict == Verdict::Error).then(|| Incomplete {
            notes: self.notes.clone(),
        })
    }
}

/// What `verify` exits 2 with when its report's verdict is `error`, and
/// what `run` records as such a job's error: the report's notes.
#[derive(Debug, Clone, thiserror::Error)]
#[error("verification incomplete: {}", .notes.join("; "))]
pub struct Incomplete {
    pub notes: Vec<String>,
}

/// The published image, pinned.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// The distribution package the image's own package database says
    /// owns the binary, when one does (`dpkg`, `apk`, `rpm`): what the
    /// archive check and the source package rebuild look up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
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
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
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
            package: None,
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmedCause {
    /// The input as the build names it (`-X main.version`).
    pub input: String,
    /// The value the image binary was built with (`https://…`).
    pub value: String,
    /// Why it is the cause and why it is no pass, in words.
    pub reason: String,
}

/// One candidate of an inferred recipe, as tried for a platform.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CandidateResult {
    pub label: String,
    /// The sha256 of the candidate recipe's text.
    pub sha256: Digest,
    /// `reproducible`, `mismatch` or `error`.
    pub verdict: PlatformVerdict,
    pub error: Option<String>,
    /// What this candidate changes from the one tried before it (empty for
    /// the first).
    #[serde(default)]
    pub changes: Vec<String>,
}

/// The binary the image runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rebuilt {
    pub sha256: Digest,
    pub size: u64,
    /// The artifact on the host.
    pub path: String,
    pub log: String,
}

/// The maintainers' published digest and how it compares.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PublishedDigest {
    pub sha256: Digest,
    pub url: String,
    pub matches_image: bool,
    pub matches_rebuilt: Option<bool>,
}

/// A report of `example.com/app:v1` built from its `v1` tag with
/// `recipe.toml` in the sandbox, for the tests of what renders reports.
#[cfg(test)]
pub(crate) fn example_report(
    verdict: Verdict,
    platforms: Vec<PlatformResult>,
    notes: Vec<String>,
) -> VerifyReport {
    VerifyReport {
        verdict,
        image: ImageInfo {
            reference: "example.com/app:v1".into(),
            digest: Digest::of(b"image"),
            name: "example.com/app".into(),
            index_platforms: None,
        },
        source: SourceInfo {
            url: "https://example.com/app.git".into(),
            git_ref: "v1".into(),
            commit: "0123456789abcdef0123456789abcdef01234567".into(),
            fetched_from: None,
        },
        recipe: RecipeInfo {
            path: "recipe.toml".into(),
            sha256: Digest::of(b"recipe"),
            inferred: false,
        },
        sandboxed: true,
        builder: None,
        platforms,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::{BuildIds, RustInfo, RustPackage};
    use crate::diff::{
        ByteRange, ChangedFunction, Function, FunctionSource, FunctionsDiff, GoBuildInfoDiff,
        KeyDifference, RustDiff, TimestampPair,
    };
    use crate::rebuild::adjust::InputKind;

    /// A diff with every optional part filled: Go build info, Rust
    /// metadata, functions, byte ranges, time stamps.
    fn full_diff(dir: &std::path::Path) -> BinaryDiff {
        let a = dir.join("a");
        let b = dir.join("b");
        std::fs::write(&a, b"built 2025-03-11T19:58:53Z in /home/runner/work").expect("write a");
        std::fs::write(&b, b"built 2026-01-02T03:04:05Z in /src/app/app/app").expect("write b");
        let mut diff =
            crate::diff::diff_files(&a, &b, &crate::diff::DiffOptions::default()).expect("diff");
        let info = |revision: &str| {
            crate::binary::gobuildinfo::parse_modinfo(&format!(
                "path\texample.com/app\nmod\texample.com/app\t(devel)\t\n\
                 dep\tgolang.org/x/sys\tv0.1.0\th1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\
                 dep\texample.com/old\tv1.0.0\t\n=>\texample.com/new\tv1.1.0\th1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n\
                 build\t-trimpath=true\nbuild\tvcs.revision={revision}\n"
            ))
        };
        let (go_a, go_b) = (info("abc"), info("def"));
        diff.go_buildinfo = Some(GoBuildInfoDiff {
            differences: crate::diff::metadata::compare_go(Some(&go_a), Some(&go_b)),
            a: Some(go_a),
            b: Some(go_b),
        });
        diff.build_id.a = BuildIds {
            gnu: Some("00ff".into()),
            go: Some("action/content".into()),
            macho_uuid: None,
            gnu_debuglink: None,
        };
        diff.rust = Some(RustDiff {
            a: Some(RustInfo {
                rustc: Some("rustc version 1.75.0".into()),
                packages: Some(vec![RustPackage {
                    name: "serde".into(),
                    version: "1.0.190".into(),
                    source: Some("crates.io".into()),
                }]),
                registry_crates: Vec::new(),
            }),
            b: None,
            differences: vec![KeyDifference {
                key: "rustc".into(),
                a: Some("rustc version 1.75.0".into()),
                b: None,
            }],
        });
        let function = |name: &str| Function {
            name: name.into(),
            size: 64,
        };
        diff.functions = Some(FunctionsDiff {
            a_source: Some(FunctionSource::Gopclntab),
            b_source: Some(FunctionSource::DynamicSymbols),
            only_a: vec![function("main.old")],
            only_a_total: 1,
            only_b: vec![function("main.new")],
            only_b_total: 1,
            changed: vec![ChangedFunction {
                name: "main.main".into(),
                a_size: 10,
                b_size: 12,
            }],
            changed_total: 1,
            same_size_different: vec![function("main.run")],
            same_size_different_total: 1,
            addresses_only: 3,
            compared: 5,
            note: Some("address operands were not masked".into()),
        });
        diff.compiler.a.push("GCC: 12.2.0".into());
        diff.notes.push("compared as whole files".into());
        diff.strings.incomplete = Some("the time budget ran out".into());
        diff.strings.timestamps.push(TimestampPair {
            kind: crate::diff::timestamps::Kind::Rfc3339,
            a: Some("2025-03-11T19:58:53Z".into()),
            b: None,
            a_unix: Some(1_741_723_133),
            b_unix: None,
            a_is_source_date_epoch: false,
            b_is_source_date_epoch: true,
        });
        let section = diff.sections.first_mut().expect("a section");
        section.differing_bytes_unaligned = Some(7);
        section.ranges_total = Some(2);
        section.hunks_omitted = 1;
        section.ranges.push(ByteRange {
            offset: 1,
            length: 2,
            file_offset: Some(3),
            b_file_offset: Some(4),
            b_length: Some(5),
        });
        if let Some(hunk) = diff.hunks.first_mut() {
            hunk.truncated = true;
        }
        diff
    }

    fn change(recipe: Option<&str>, published: &str) -> BTreeMap<String, InputChange> {
        BTreeMap::from([(
            "build_directory".to_string(),
            InputChange {
                recipe: recipe.map(str::to_string),
                published: Some(published.into()),
                kind: InputKind::Environment,
            },
        )])
    }

    /// A report with every field and variant the JSON can hold.
    fn full_report(dir: &std::path::Path) -> VerifyReport {
        let recipe = RecipeInfo {
            path: "builtin:app".into(),
            sha256: Digest::of(b"recipe"),
            inferred: true,
        };
        let rebuilt = Rebuilt {
            sha256: Digest::of(b"rebuilt"),
            size: 48,
            path: "out/rebuilt".into(),
            log: "out/build.log".into(),
        };
        let builder = BuilderRoot::Image {
            rootfs: std::path::PathBuf::new(),
            env: Vec::new(),
            reference: "docker.io/library/golang:1.22".into(),
            digest: Digest::of(b"builder").to_string(),
            served_by: None,
        };
        let mut mismatch = PlatformResult::skipped("linux/amd64".into(), "a note".into());
        mismatch.verdict = PlatformVerdict::Mismatch;
        mismatch.manifest_digest = Some(Digest::of(b"manifest"));
        mismatch.image_binary = Some(ImageBinary {
            path: "/usr/bin/app".into(),
            sha256: Digest::of(b"image binary"),
            size: 48,
            layer: Digest::of(b"layer"),
            extracted: "out/image/app".into(),
        });
        mismatch.rebuilt = Some(rebuilt.clone());
        mismatch.published = Some(PublishedDigest {
            sha256: Digest::of(b"image binary"),
            url: "https://example.com/SHA256SUMS".into(),
            matches_image: true,
            matches_rebuilt: Some(false),
        });
        let diff = full_diff(dir);
        mismatch.causes = diff.causes.clone();
        mismatch.diff = Some(diff);
        mismatch.builder = Some(builder.clone());
        mismatch.recipe = Some(recipe.clone());
        mismatch.inputs = BTreeMap::from([("go_version".into(), "go1.22.1".into())]);
        mismatch.dependencies = Some(DependencyCheck {
            checked: 12,
            problems: vec!["golang.org/x/sys: v0.1.0 is not the tag's v0.2.0".into()],
            skipped: None,
            only: None,
        });
        mismatch.candidates = Some(vec![CandidateResult {
            label: "goreleaser".into(),
            sha256: Digest::of(b"candidate"),
            verdict: PlatformVerdict::Error,
            error: Some("the build failed".into()),
            changes: vec!["-ldflags drops -s -w".into()],
        }]);
        mismatch.confirmed_cause = Some(ConfirmedCause {
            input: "-X main.endpoint".into(),
            value: "https://example.com".into(),
            reason: "only the image binary supplies it".into(),
        });
        mismatch.cross_checks = vec![
            CrossCheck::passed("vcs.modified=false"),
            CrossCheck::failed("the image binary was built from a modified tree"),
        ];
        mismatch.compared_against = Some("adjusted:1".into());
        mismatch.adjusted = change(Some("/src"), "/home/runner/work/app/app");
        mismatch.adjustments = Some(Adjustments {
            recipe_rebuilt: rebuilt.clone(),
            recipe_differing_bytes: 9,
            rebuilds: vec![AdjustedRebuild {
                label: "adjusted:1".into(),
                adjusted: change(None, "/home/runner/work/app/app"),
                recipe: Some("out/adjusted-1.toml".into()),
                rebuilt: Some(rebuilt),
                differing_bytes: Some(0),
                error: None,
            }],
            adjusted_recipe: Some("out/adjusted.toml".into()),
            notes: vec!["the build time could not be taken".into()],
        });
        let mut skipped = PlatformResult::skipped(
            "linux/arm64".into(),
            "the recipe cannot build linux/arm64".into(),
        );
        skipped.dependencies = Some(DependencyCheck {
            checked: 0,
            problems: Vec::new(),
            skipped: Some("no go.mod at the tag".into()),
            only: None,
        });
        skipped.builder = Some(BuilderRoot::Host);
        skipped.published_skipped = true;
        let mut report = example_report(
            Verdict::Mismatch,
            vec![mismatch, skipped],
            vec!["1 platform(s) skipped".into()],
        );
        report.source.fetched_from = Some("/srv/mirror/app.git".into());
        report.recipe = recipe;
        report
    }

    #[test]
    fn a_full_report_reads_back_and_writes_the_same_json() {
        let dir = tempfile::tempdir().expect("temp dir");
        let written = serde_json::to_string_pretty(&full_report(dir.path())).expect("serialize");
        let read: VerifyReport = serde_json::from_str(&written).expect("deserialize");
        let again = serde_json::to_string_pretty(&read).expect("serialize again");
        assert_eq!(again, written);
        assert_eq!(
            read.platforms[0].cross_checks,
            [
                CrossCheck::passed("vcs.modified=false"),
                CrossCheck::failed("the image binary was built from a modified tree"),
            ]
        );
    }

    #[test]
    fn a_cross_check_is_written_as_one_string_prefixed_ok_when_it_passed() {
        let checks = [
            CrossCheck::passed("vcs.revision abc is the tag's commit"),
            CrossCheck::failed("toolchain differs"),
        ];
        let json = serde_json::to_value(&checks).expect("serialize");
        assert_eq!(
            json,
            serde_json::json!([
                "ok: vcs.revision abc is the tag's commit",
                "toolchain differs"
            ])
        );
        let read: Vec<CrossCheck> = serde_json::from_value(json).expect("deserialize");
        assert_eq!(read, checks);
        assert_eq!(read[0].status, CheckStatus::Passed);
        assert_eq!(read[0].message, "vcs.revision abc is the tag's commit");
    }

    #[test]
    fn an_error_verdict_says_the_verification_is_incomplete_with_its_notes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut report = full_report(dir.path());
        assert!(report.incomplete().is_none());
        report.verdict = Verdict::Error;
        report.notes = vec!["1 platform(s) could not be compared".into(), "a".into()];
        assert_eq!(
            report.incomplete().map(|i| i.to_string()).as_deref(),
            Some("verification incomplete: 1 platform(s) could not be compared; a")
        );
    }
}
