//! The per-platform rule: which platforms of an image an attestation
//! covers, and which attestation decides each platform: the newest valid
//! one (by `timeVerified`) that covers it. An image passes only when every
//! platform's deciding attestation says PASSED, so a signed PASSED for one
//! platform never hides a FAILED, or a missing attestation, for another.

use serde::Serialize;

use super::check::{AttestationCheck, Outcome};
use crate::image::digest::Digest;
use crate::image::platform::Platform;

/// One platform an image ships, as the image is read now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedPlatform {
    pub platform: Platform,
    /// The digest of its image manifest (the image's own digest for a
    /// single-manifest image).
    pub manifest_digest: Digest,
}

/// What the attestations say about one platform.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlatformStatus {
    /// Its deciding attestation says it was reproduced.
    Passed,
    /// Its deciding attestation says it was not.
    Failed,
    /// No valid attestation covers it.
    Unattested,
    /// None that covers it is valid (a bad time, another verifier, …).
    Invalid,
}

/// One platform's decision.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlatformDecision {
    pub platform: String,
    /// The platform's manifest digest; `null` for an envelope file, where
    /// no image was read.
    pub manifest_digest: Option<Digest>,
    pub status: PlatformStatus,
    /// Where the attestation that decides, or the invalid one, was found.
    pub source: Option<String>,
    /// The deciding attestation's `timeVerified`.
    pub time_verified: Option<String>,
    /// Why: how many valid attestations covered the platform, or why none did.
    pub reason: String,
    /// The position of the deciding attestation among those checked.
    #[serde(skip)]
    pub decided_by: Option<usize>,
}

/// The result an attestation states for `shipped`, when it covers it: a
/// statement covers a platform whose current manifest digest is among its
/// subjects, with the verdict its `rebuildCompare.platforms` gives that
/// platform (`reproducible` is PASSED, `mismatch` FAILED; a platform it
/// names but did not compare it does not cover); a statement without
/// per-platform verdicts covers the platform whose manifest is its first
/// subject, with its `verificationResult`. Whether the attestation is
/// valid is not looked at.
pub fn stated_result(
    check: &AttestationCheck,
    shipped: &ShippedPlatform,
) -> Option<PlatformStatus> {
    let manifest = shipped.manifest_digest.hex();
    if !check.subjects.iter().any(|s| s == manifest) {
        return None;
    }
    if check.platforms.is_empty() {
        return match (check.subjects.first(), check.result.as_deref()) {
            (Some(first), Some("PASSED")) if first == manifest => Some(PlatformStatus::Passed),
            (Some(first), Some(_)) if first == manifest => Some(PlatformStatus::Failed),
            _ => None,
        };
    }
    check
        .platforms
        .iter()
        .filter(|claim| claim.platform.parse::<Platform>().ok().as_ref() == Some(&shipped.platform))
        .find_map(|claim| verdict_status(&claim.verdict))
}

/// The status a per-platform verdict of rebuild-compare's extension means;
/// `None` for a platform that was not compared.
fn verdict_status(verdict: &str) -> Option<PlatformStatus> {
    match verdict {
        "reproducible" => Some(PlatformStatus::Passed),
        "mismatch" => Some(PlatformStatus::Failed),
        _ => None,
    }
}

/// Decides each of `platforms` from `checks`: the newest valid attestation
/// that covers it (on equal times, a FAILED one); with none, the first
/// invalid one whose subjects name its manifest, else unattested.
pub fn decide(checks: &[AttestationCheck], platforms: &[ShippedPlatform]) -> Vec<PlatformDecision> {
    platforms
        .iter()
        .map(|shipped| {
            let covering: Vec<(usize, PlatformStatus)> = checks
                .iter()
                .enumerate()
                .filter(|(_, check)| check.is_valid())
                .filter_map(|(n, check)| Some((n, stated_result(check, shipped)?)))
                .collect();
            let newest = covering.iter().max_by_key(|(n, status)| {
                (checks[*n].verified_at, *status == PlatformStatus::Failed)
            });
            let decision =
                |status, source: &AttestationCheck, reason, decided_by| PlatformDecision {
                    platform: shipped.platform.to_string(),
                    manifest_digest: Some(shipped.manifest_digest.clone()),
                    status,
                    source: Some(source.source.clone()),
                    time_verified: source.time_verified.clone(),
                    reason,
                    decided_by,
                };
            if let Some((n, status)) = newest {
                let reason = match covering.len() {
                    1 => "the one valid attestation that covers it".to_string(),
                    count => format!("the newest of {count} valid attestations that cover it"),
                };
                return decision(*status, &checks[*n], reason, Some(*n));
            }
            let invalid = checks.iter().find(|check| {
                !check.is_valid()
                    && check
                        .subjects
                        .iter()
                        .any(|s| s == shipped.manifest_digest.hex())
            });
            match invalid {
                Some(check) => {
                    let mut invalid = decision(
                        PlatformStatus::Invalid,
                        check,
                        check.error.clone().unwrap_or_default(),
                        None,
                    );
                    invalid.time_verified = None;
                    invalid
                }
                None => PlatformDecision {
                    platform: shipped.platform.to_string(),
                    manifest_digest: Some(shipped.manifest_digest.clone()),
                    status: PlatformStatus::Unattested,
                    source: None,
                    time_verified: None,
                    reason: format!(
                        "no valid attestation by a given key covers its manifest {}",
                        shipped.manifest_digest
                    ),
                    decided_by: None,
                },
            }
        })
        .collect()
}

/// The decisions an envelope file makes by itself: one per platform its
/// statement gives a verdict for, as it claims it (no image is read);
/// `requested` (when not empty) picks platforms, and one the statement
/// does not name is unattested.
pub fn claimed(check: &AttestationCheck, requested: &[Platform]) -> Vec<PlatformDecision> {
    let claims: Vec<(Option<Platform>, &str, &str)> = if check.is_valid() {
        check
            .platforms
            .iter()
            .map(|c| {
                (
                    c.platform.parse().ok(),
                    c.platform.as_str(),
                    c.verdict.as_str(),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let decision = |platform: String, status, reason: String| PlatformDecision {
        platform,
        manifest_digest: None,
        status,
        source: Some(check.source.clone()),
        time_verified: check.time_verified.clone(),
        reason,
        decided_by: matches!(status, PlatformStatus::Passed | PlatformStatus::Failed).then_some(0),
    };
    let from_claim =
        |(_, name, verdict): &(Option<Platform>, &str, &str)| match verdict_status(verdict) {
            Some(status) => decision(
                name.to_string(),
                status,
                format!("the statement says {verdict}"),
            ),
            None => decision(
                name.to_string(),
                PlatformStatus::Unattested,
                format!("the statement says {verdict}: it was not compared"),
            ),
        };
    if requested.is_empty() {
        return claims.iter().map(from_claim).collect();
    }
    requested
        .iter()
        .map(|want| {
            match claims
                .iter()
                .find(|(platform, _, _)| platform.as_ref().is_some_and(|p| want.matches(p)))
            {
                Some(claim) => from_claim(claim),
                None => PlatformDecision {
                    platform: want.to_string(),
                    manifest_digest: None,
                    status: PlatformStatus::Unattested,
                    source: None,
                    time_verified: None,
                    reason: "no valid statement in the file gives it a verdict".to_string(),
                    decided_by: None,
                },
            }
        })
        .collect()
}

/// The outcome of `decisions`: PASSED when every platform passed (and
/// there is one), FAILED when any failed, else unverified.
pub fn outcome(decisions: &[PlatformDecision]) -> Outcome {
    let status = |s| decisions.iter().any(|d| d.status == s);
    if status(PlatformStatus::Failed) {
        Outcome::Failed
    } else if !decisions.is_empty() && decisions.iter().all(|d| d.status == PlatformStatus::Passed)
    {
        Outcome::Passed
    } else {
        Outcome::Unverified
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::check::PlatformClaim;

    fn shipped(platform: &str) -> ShippedPlatform {
        ShippedPlatform {
            platform: platform.parse().unwrap(),
            manifest_digest: Digest::of(format!("manifest {platform}").as_bytes()),
        }
    }

    fn index() -> Digest {
        Digest::of(b"the index")
    }

    /// A valid attestation found at `source`, about `subjects`, stating
    /// `claims` (platform, verdict), `result`, made at `time`.
    fn valid(
        source: &str,
        subjects: &[&Digest],
        claims: &[(&str, &str)],
        result: &str,
        time: &str,
    ) -> AttestationCheck {
        let mut check = AttestationCheck::invalid(source, String::new());
        check.error = None;
        check.result = Some(result.to_string());
        check.time_verified = Some(time.to_string());
        check.verified_at = Some(humantime::parse_rfc3339(time).unwrap());
        check.subjects = subjects.iter().map(|d| d.hex().to_string()).collect();
        check.platforms = claims
            .iter()
            .map(|(platform, verdict)| PlatformClaim {
                platform: platform.to_string(),
                verdict: verdict.to_string(),
            })
            .collect();
        check
    }

    /// The statement rebuild-compare writes about one platform.
    fn per_platform(
        source: &str,
        p: &ShippedPlatform,
        verdict: &str,
        time: &str,
    ) -> AttestationCheck {
        let result = if verdict == "reproducible" {
            "PASSED"
        } else {
            "FAILED"
        };
        let name = p.platform.to_string();
        valid(
            source,
            &[&p.manifest_digest, &index()],
            &[(&name, verdict)],
            result,
            time,
        )
    }

    fn statuses(decisions: &[PlatformDecision]) -> Vec<(&str, PlatformStatus)> {
        decisions
            .iter()
            .map(|d| (d.platform.as_str(), d.status))
            .collect()
    }

    #[test]
    fn each_platform_is_decided_by_its_own_attestation_and_a_failed_one_fails_the_image() {
        let (amd64, arm64) = (shipped("linux/amd64"), shipped("linux/arm64"));
        let checks = [
            per_platform("a", &amd64, "reproducible", "2026-12-01T00:00:00Z"),
            per_platform("b", &arm64, "mismatch", "2026-12-01T00:00:00Z"),
        ];
        let decisions = decide(&checks, &[amd64.clone(), arm64.clone()]);
        assert_eq!(
            statuses(&decisions),
            [
                ("linux/amd64", PlatformStatus::Passed),
                ("linux/arm64", PlatformStatus::Failed)
            ]
        );
        assert_eq!(decisions[1].source.as_deref(), Some("b"));
        assert_eq!(decisions[1].decided_by, Some(1));
        assert_eq!(
            decisions[1].reason,
            "the one valid attestation that covers it"
        );
        assert_eq!(outcome(&decisions), Outcome::Failed);
        assert_eq!(outcome(&decisions[..1]), Outcome::Passed);
    }

    #[test]
    fn a_platform_no_attestation_covers_is_unattested_and_the_image_unverified() {
        let (amd64, arm64) = (shipped("linux/amd64"), shipped("linux/arm64"));
        let checks = [per_platform(
            "a",
            &amd64,
            "reproducible",
            "2026-12-01T00:00:00Z",
        )];
        let decisions = decide(&checks, &[amd64, arm64.clone()]);
        assert_eq!(decisions[1].status, PlatformStatus::Unattested);
        assert_eq!(
            decisions[1].reason,
            format!(
                "no valid attestation by a given key covers its manifest {}",
                arm64.manifest_digest
            )
        );
        assert_eq!(outcome(&decisions), Outcome::Unverified);
        assert_eq!(outcome(&[]), Outcome::Unverified);
    }

    #[test]
    fn the_newest_valid_attestation_decides_and_a_tie_goes_to_failed() {
        let amd64 = shipped("linux/amd64");
        let older_pass = per_platform("old", &amd64, "reproducible", "2026-12-01T00:00:00Z");
        let newer_fail = per_platform("new", &amd64, "mismatch", "2026-12-02T00:00:00Z");
        let newest_pass = per_platform("newest", &amd64, "reproducible", "2026-12-03T00:00:00Z");
        let platforms = [amd64.clone()];

        let decided = decide(&[newer_fail.clone(), older_pass.clone()], &platforms);
        assert_eq!(decided[0].status, PlatformStatus::Failed);
        assert_eq!(decided[0].source.as_deref(), Some("new"));
        assert_eq!(
            decided[0].reason,
            "the newest of 2 valid attestations that cover it"
        );

        let decided = decide(&[older_pass, newer_fail.clone(), newest_pass], &platforms);
        assert_eq!(decided[0].status, PlatformStatus::Passed);
        assert_eq!(
            decided[0].time_verified.as_deref(),
            Some("2026-12-03T00:00:00Z")
        );

        let same_time_pass = per_platform("tie", &amd64, "reproducible", "2026-12-02T00:00:00Z");
        let decided = decide(&[same_time_pass, newer_fail], &platforms);
        assert_eq!(decided[0].status, PlatformStatus::Failed);
    }

    #[test]
    fn a_multi_platform_statement_covers_each_platform_it_compared_whose_manifest_it_names() {
        let (amd64, arm64, s390x) = (
            shipped("linux/amd64"),
            shipped("linux/arm64"),
            shipped("linux/s390x"),
        );
        // Today's format: the index first, then each compared platform's
        // manifest; arm64 is named with a verdict but another manifest (the
        // image was pushed again since), s390x was not compared.
        let statement = valid(
            "old",
            &[
                &index(),
                &amd64.manifest_digest,
                &Digest::of(b"an older arm64"),
            ],
            &[
                ("linux/amd64", "reproducible"),
                ("linux/arm64/v8", "reproducible"),
                ("linux/s390x", "skipped"),
            ],
            "PASSED",
            "2026-12-01T00:00:00Z",
        );
        let decisions = decide(&[statement], &[amd64, arm64, s390x]);
        assert_eq!(
            statuses(&decisions),
            [
                ("linux/amd64", PlatformStatus::Passed),
                ("linux/arm64", PlatformStatus::Unattested),
                ("linux/s390x", PlatformStatus::Unattested)
            ]
        );
    }

    #[test]
    fn a_statement_without_per_platform_verdicts_covers_the_manifest_it_names_first() {
        let (amd64, arm64) = (shipped("linux/amd64"), shipped("linux/arm64"));
        let first = valid(
            "foreign",
            &[&amd64.manifest_digest, &arm64.manifest_digest],
            &[],
            "FAILED",
            "2026-12-01T00:00:00Z",
        );
        let about_index = valid("index", &[&index()], &[], "PASSED", "2026-12-02T00:00:00Z");
        let decisions = decide(&[first, about_index], &[amd64, arm64]);
        assert_eq!(
            statuses(&decisions),
            [
                ("linux/amd64", PlatformStatus::Failed),
                ("linux/arm64", PlatformStatus::Unattested)
            ]
        );
    }

    #[test]
    fn an_invalid_attestation_about_a_platform_makes_it_invalid_with_the_reason() {
        let amd64 = shipped("linux/amd64");
        let mut bad_time = per_platform("bad", &amd64, "reproducible", "2026-12-01T00:00:00Z");
        bad_time.result = None;
        bad_time.verified_at = None;
        bad_time.error = Some("its timeVerified \"yesterday\" is not a time".into());
        let unreadable = AttestationCheck::invalid("garbage", "not JSON".into());
        let decisions = decide(&[unreadable, bad_time], std::slice::from_ref(&amd64));
        assert_eq!(decisions[0].status, PlatformStatus::Invalid);
        assert_eq!(decisions[0].source.as_deref(), Some("bad"));
        assert_eq!(
            decisions[0].reason,
            "its timeVerified \"yesterday\" is not a time"
        );
        assert_eq!(outcome(&decisions), Outcome::Unverified);
    }

    #[test]
    fn a_file_is_decided_per_platform_as_its_statement_claims() {
        let check = valid(
            "file",
            &[&index()],
            &[("linux/amd64", "reproducible"), ("linux/arm64", "error")],
            "FAILED",
            "2026-12-01T00:00:00Z",
        );
        let decisions = claimed(&check, &[]);
        assert_eq!(
            statuses(&decisions),
            [
                ("linux/amd64", PlatformStatus::Passed),
                ("linux/arm64", PlatformStatus::Unattested)
            ]
        );
        assert_eq!(
            decisions[1].reason,
            "the statement says error: it was not compared"
        );
        let amd64_only = claimed(&check, &["linux/amd64".parse().unwrap()]);
        assert_eq!(outcome(&amd64_only), Outcome::Passed);
        let absent = claimed(&check, &["linux/s390x".parse().unwrap()]);
        assert_eq!(
            statuses(&absent),
            [("linux/s390x", PlatformStatus::Unattested)]
        );
    }
}
