//! The in-toto attestations of a verification, built from a
//! [`VerifyReport`]: Statements v1 whose predicate is a SLSA Verification
//! Summary (VSA v1). One per compared platform (its manifest first, the
//! image's index beside it, then its binary) and, when every platform of
//! the index was compared, an index-level one (the image, each platform's
//! manifest and binary) resting on those.

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;

use crate::image::digest::Digest;
use crate::verify::{PlatformResult, PlatformVerdict, RecipeInfo, VerifyReport};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PREDICATE_TYPE: &str = "https://slsa.dev/verification_summary/v1";
/// The level recorded when every compared platform was reproduced bit for bit.
pub const REPRODUCED_LEVEL: &str = "REBUILD_COMPARE_REPRODUCED";
/// The level recorded instead when the rebuild took release inputs (the
/// toolchain version, a build time) or build environment inputs (the build
/// directory, ...) from the published binaries: reproduced given those
/// inputs, which the extension lists per platform (`inputs`, `adjusted`).
pub const REPRODUCED_GIVEN_INPUTS_LEVEL: &str = "REBUILD_COMPARE_REPRODUCED_GIVEN_PUBLISHED_INPUTS";
/// The verifier id used when `--verifier-id` is not given.
pub const DEFAULT_VERIFIER_ID: &str = "urn:rebuild-compare:unnamed-verifier";

/// An in-toto Statement v1.
#[derive(Debug, Serialize)]
pub struct Statement {
    #[serde(rename = "_type")]
    pub statement_type: &'static str,
    pub subject: Vec<Subject>,
    #[serde(rename = "predicateType")]
    pub predicate_type: &'static str,
    pub predicate: Predicate,
}

/// A resource the statement is about.
#[derive(Debug, Serialize)]
pub struct Subject {
    pub name: String,
    pub digest: BTreeMap<&'static str, String>,
}

/// A SLSA verification summary, plus rebuild-compare's own extension field.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Predicate {
    pub verifier: Verifier,
    pub time_verified: String,
    pub resource_uri: String,
    pub policy: Policy,
    pub input_attestations: Vec<serde_json::Value>,
    pub verification_result: &'static str,
    pub verified_levels: Vec<&'static str>,
    /// Extension (documented in docs/attestations.md): what was rebuilt, from what, how.
    pub rebuild_compare: Extension,
}

#[derive(Debug, Serialize)]
pub struct Verifier {
    pub id: String,
    pub version: BTreeMap<&'static str, &'static str>,
}

#[derive(Debug, Serialize)]
pub struct Policy {
    pub uri: String,
    pub digest: BTreeMap<&'static str, String>,
}

/// The `rebuildCompare` extension of the predicate.
#[derive(Debug, Serialize)]
pub struct Extension {
    pub source: crate::verify::SourceInfo,
    /// `null` when the platforms were built on different builders.
    pub builder: Option<crate::rebuild::sandbox::BuilderRoot>,
    pub sandboxed: bool,
    pub platforms: Vec<PlatformSummary>,
}

#[derive(Debug, Serialize)]
pub struct PlatformSummary {
    pub platform: String,
    pub verdict: PlatformVerdict,
    /// The platform's image manifest digest (absent when unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<crate::image::digest::Digest>,
    /// Release inputs read from the published binary (absent when none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, String>,
    /// Inputs the compared rebuild took from the published binary instead
    /// of the recipe (absent when none).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub adjusted: BTreeMap<String, crate::rebuild::adjust::InputChange>,
    /// `true` when the recipe's `[published]` checksum check was skipped
    /// (`--skip-published`); absent when it ran or none was declared.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub published_skipped: bool,
}

/// What the statement records besides the report.
pub struct AttestOptions {
    /// The verifier's URI (`--verifier-id`).
    pub verifier_id: String,
    pub time: SystemTime,
}

/// Whether a platform was compared, and so is attested.
fn compared(platform: &PlatformResult) -> bool {
    matches!(
        platform.verdict,
        PlatformVerdict::Reproducible | PlatformVerdict::Mismatch
    )
}

/// Whether the verification compared every platform of its image's index,
/// so that an index-level statement can be made; never for a
/// single-manifest image, whose one platform statement is about the image.
pub fn covers_every_platform(report: &VerifyReport) -> bool {
    report.image.index_platforms.as_ref().is_some_and(|all| {
        all.iter().all(|shipped| {
            report
                .platforms
                .iter()
                .any(|p| compared(p) && p.platform == shipped.to_string())
        })
    })
}

/// The statement about each compared platform, in the report's order:
/// its first subject is the platform's manifest digest, the image's
/// (index) digest beside it, then the binary compared; its result is the
/// platform's own.
pub fn platform_statements<'a>(
    report: &'a VerifyReport,
    options: &AttestOptions,
) -> Vec<(&'a PlatformResult, Statement)> {
    report
        .platforms
        .iter()
        .filter(|p| compared(p))
        .map(|p| {
            let manifest = p
                .manifest_digest
                .clone()
                .unwrap_or_else(|| report.image.digest.clone());
            let mut subject = Vec::new();
            if manifest == report.image.digest {
                subject.push(image_subject(report));
            } else {
                subject.push(Subject {
                    name: format!("{}@{manifest}", report.image.name),
                    digest: sha256(manifest.hex()),
                });
                subject.push(image_subject(report));
            }
            subject.extend(binary_subject(p));
            let passed = p.verdict == PlatformVerdict::Reproducible;
            let statement = Statement {
                statement_type: STATEMENT_TYPE,
                subject,
                predicate_type: PREDICATE_TYPE,
                predicate: predicate(
                    p.recipe.as_ref().unwrap_or(&report.recipe),
                    options,
                    format!("{}@{manifest}", report.image.name),
                    passed,
                    !p.inputs.is_empty() || !p.adjusted.is_empty(),
                    Extension {
                        source: report.source.clone(),
                        builder: p.builder.clone().or_else(|| report.builder.clone()),
                        sandboxed: report.sandboxed,
                        platforms: vec![summary(p)],
                    },
                ),
            };
            (p, statement)
        })
        .collect()
}

/// The index-level statement of a verification that compared every
/// platform of its image's index ([`covers_every_platform`]): the image
/// first, then each platform's manifest and binary; PASSED only when every
/// platform was reproduced. `rests_on` names the per-platform envelopes it
/// rests on (platform, sha256 of the envelope file), as its
/// `inputAttestations`.
pub fn index_statement(
    report: &VerifyReport,
    options: &AttestOptions,
    rests_on: &[(String, Digest)],
) -> Statement {
    let mut subject = vec![image_subject(report)];
    for p in report.platforms.iter().filter(|p| compared(p)) {
        // A single-manifest image is already the first subject.
        if let Some(manifest) = p
            .manifest_digest
            .as_ref()
            .filter(|d| **d != report.image.digest)
        {
            subject.push(Subject {
                name: format!("{}@{manifest}", report.image.name),
                digest: sha256(manifest.hex()),
            });
        }
        subject.extend(binary_subject(p));
    }
    let passed = !report.platforms.is_empty()
        && report
            .platforms
            .iter()
            .all(|p| p.verdict == PlatformVerdict::Reproducible);
    let mut vsa = predicate(
        &report.recipe,
        options,
        format!("{}@{}", report.image.name, report.image.digest),
        passed,
        report
            .platforms
            .iter()
            .any(|p| !p.inputs.is_empty() || !p.adjusted.is_empty()),
        Extension {
            source: report.source.clone(),
            builder: report.builder.clone(),
            sandboxed: report.sandboxed,
            platforms: report.platforms.iter().map(summary).collect(),
        },
    );
    vsa.input_attestations = rests_on
        .iter()
        .map(|(platform, envelope)| {
            serde_json::json!({"name": platform, "digest": {"sha256": envelope.hex()}})
        })
        .collect();
    Statement {
        statement_type: STATEMENT_TYPE,
        subject,
        predicate_type: PREDICATE_TYPE,
        predicate: vsa,
    }
}

fn sha256(hex: &str) -> BTreeMap<&'static str, String> {
    BTreeMap::from([("sha256", hex.to_string())])
}

/// The image as resolved (its index, or its single manifest).
fn image_subject(report: &VerifyReport) -> Subject {
    Subject {
        name: report.image.reference.clone(),
        digest: sha256(report.image.digest.hex()),
    }
}

/// The platform's image binary, when one was extracted.
fn binary_subject(p: &PlatformResult) -> Option<Subject> {
    p.image_binary.as_ref().map(|binary| Subject {
        name: format!("{}:{}", p.platform, binary.path),
        digest: sha256(binary.sha256.hex()),
    })
}

fn summary(p: &PlatformResult) -> PlatformSummary {
    PlatformSummary {
        platform: p.platform.clone(),
        verdict: p.verdict,
        manifest_digest: p.manifest_digest.clone(),
        inputs: p.inputs.clone(),
        adjusted: p.adjusted.clone(),
        published_skipped: p.published_skipped,
    }
}

/// The verification summary about `resource_uri` under `recipe` (the
/// policy); `given_inputs` when a pass took release inputs from the
/// published binaries.
fn predicate(
    recipe: &RecipeInfo,
    options: &AttestOptions,
    resource_uri: String,
    passed: bool,
    given_inputs: bool,
    rebuild_compare: Extension,
) -> Predicate {
    Predicate {
        verifier: Verifier {
            id: options.verifier_id.clone(),
            version: BTreeMap::from([("rebuild-compare", env!("CARGO_PKG_VERSION"))]),
        },
        time_verified: humantime::format_rfc3339_seconds(options.time).to_string(),
        resource_uri,
        policy: Policy {
            uri: recipe.uri(),
            digest: sha256(recipe.sha256.hex()),
        },
        input_attestations: Vec::new(),
        verification_result: if passed { "PASSED" } else { "FAILED" },
        verified_levels: match (passed, given_inputs) {
            (true, true) => vec![REPRODUCED_GIVEN_INPUTS_LEVEL],
            (true, false) => vec![REPRODUCED_LEVEL],
            (false, _) => Vec::new(),
        },
        rebuild_compare,
    }
}
