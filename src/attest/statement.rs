//! The in-toto attestation of a verification: a Statement v1 whose
//! predicate is a SLSA Verification Summary (VSA v1), with the image, each
//! compared platform's manifest and every compared binary as subjects,
//! built from a [`VerifyReport`].

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde::Serialize;

use crate::verify::{PlatformVerdict, Verdict, VerifyReport};

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
    /// Extension (documented in the README): what was rebuilt, from what, how.
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

/// Builds the statement for a finished verification.
pub fn statement(report: &VerifyReport, options: &AttestOptions) -> Statement {
    let sha256 = |hex: &str| BTreeMap::from([("sha256", hex.to_string())]);
    let mut subject = vec![Subject {
        name: report.image.reference.clone(),
        digest: sha256(report.image.digest.hex()),
    }];
    for p in &report.platforms {
        if !matches!(
            p.verdict,
            PlatformVerdict::Reproducible | PlatformVerdict::Mismatch
        ) {
            continue;
        }
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
        if let Some(binary) = &p.image_binary {
            subject.push(Subject {
                name: format!("{}:{}", p.platform, binary.path),
                digest: sha256(binary.sha256.hex()),
            });
        }
    }
    let passed = report.verdict == Verdict::Reproducible;
    Statement {
        statement_type: STATEMENT_TYPE,
        subject,
        predicate_type: PREDICATE_TYPE,
        predicate: Predicate {
            verifier: Verifier {
                id: options.verifier_id.clone(),
                version: BTreeMap::from([("rebuild-compare", env!("CARGO_PKG_VERSION"))]),
            },
            time_verified: humantime::format_rfc3339_seconds(options.time).to_string(),
            resource_uri: format!("{}@{}", report.image.name, report.image.digest),
            policy: Policy {
                uri: report.recipe.uri(),
                digest: sha256(report.recipe.sha256.hex()),
            },
            input_attestations: Vec::new(),
            verification_result: if passed { "PASSED" } else { "FAILED" },
            verified_levels: if passed
                && report
                    .platforms
                    .iter()
                    .any(|p| !p.inputs.is_empty() || !p.adjusted.is_empty())
            {
                vec![REPRODUCED_GIVEN_INPUTS_LEVEL]
            } else if passed {
                vec![REPRODUCED_LEVEL]
            } else {
                Vec::new()
            },
            rebuild_compare: Extension {
                source: report.source.clone(),
                builder: report.builder.clone(),
                sandboxed: report.sandboxed,
                platforms: report
                    .platforms
                    .iter()
                    .map(|p| PlatformSummary {
                        platform: p.platform.clone(),
                        verdict: p.verdict,
                        manifest_digest: p.manifest_digest.clone(),
                        inputs: p.inputs.clone(),
                        adjusted: p.adjusted.clone(),
                        published_skipped: p.published_skipped,
                    })
                    .collect(),
            },
        },
    }
}
