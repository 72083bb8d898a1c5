//! Checking attestations, one at a time: the envelope's signature against
//! the keys the user trusts, then the statement it signs: an in-toto
//! statement whose predicate is a verification summary (VSA) about the
//! image's digest, made by the verifier asked for. Nothing from a statement
//! is shown before its signature verified, and a statement whose
//! `timeVerified` is not a time does not count. Which of several decides
//! each platform is [`super::decide`]'s.

use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use super::dsse::Envelope;
use super::keys::PublicKey;
use super::statement::PREDICATE_TYPE;
use crate::image::digest::Digest;

/// The statement types accepted (v1, which rebuild-compare writes, and the
/// v0.1 other tools still write).
const STATEMENT_TYPES: &[&str] = &[
    "https://in-toto.io/Statement/v1",
    "https://in-toto.io/Statement/v0.1",
];

/// What to check attestations against.
pub struct CheckOptions<'a> {
    /// The public keys whose signatures count.
    pub keys: &'a [PublicKey],
    /// Only attestations by this verifier count (`--verifier-id`).
    pub verifier_id: Option<&'a str>,
}

/// What one attestation says, once checked.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttestationCheck {
    /// Where it was found (`tag sha256-….att, layer 2`, `referrer sha256:…`, a file).
    pub source: String,
    /// The id (sha256 of the DER public key) of the given key that signed it.
    pub key_id: Option<String>,
    pub verifier_id: Option<String>,
    pub time_verified: Option<String>,
    pub resource_uri: Option<String>,
    /// `PASSED` or `FAILED`, as the verifier concluded; only for valid attestations.
    pub result: Option<String>,
    /// The per-platform verdicts of rebuild-compare's extension, when present.
    pub platforms: Vec<PlatformClaim>,
    /// Why this attestation does not count; `None` for a valid one.
    pub error: Option<String>,
    /// The sha256 digests (hex) of the statement's subjects, once its
    /// signature verified (also when it does not count, to say which
    /// platform it would have covered); not reported.
    #[serde(skip)]
    pub subjects: Vec<String>,
    /// `time_verified`, read; set for valid attestations only.
    #[serde(skip)]
    pub verified_at: Option<SystemTime>,
}

/// One platform's verdict as an attestation states it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PlatformClaim {
    pub platform: String,
    pub verdict: String,
}

/// The outcome over every platform checked.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Outcome {
    /// Every platform's deciding attestation says PASSED.
    Passed,
    /// Some platform's deciding attestation says FAILED.
    Failed,
    /// None failed, but some platform has no valid attestation (none
    /// found, bad signatures, another digest, …).
    Unverified,
}

impl AttestationCheck {
    /// An attestation that does not count, and why.
    pub fn invalid(source: &str, error: String) -> Self {
        Self {
            source: source.to_string(),
            key_id: None,
            verifier_id: None,
            time_verified: None,
            resource_uri: None,
            result: None,
            platforms: Vec::new(),
            error: Some(error),
            subjects: Vec::new(),
            verified_at: None,
        }
    }

    /// Whether this attestation counts.
    pub fn is_valid(&self) -> bool {
        self.error.is_none() && self.result.is_some()
    }
}

/// Checks the envelope `bytes` found at `source` as an attestation about
/// `digest`. With `digest` `None` (a local file), the statement must be
/// about the digest its own `resourceUri` names.
pub fn check_envelope(
    source: &str,
    bytes: &[u8],
    digest: Option<&Digest>,
    options: &CheckOptions,
) -> AttestationCheck {
    check_signed_statement(source, bytes, digest, options).0
}

/// [`check_envelope`], and the signed statement itself when the
/// attestation counts (for readers of more than the summary's fields).
pub fn check_signed_statement(
    source: &str,
    bytes: &[u8],
    digest: Option<&Digest>,
    options: &CheckOptions,
) -> (AttestationCheck, Option<Value>) {
    let envelope = match Envelope::parse(bytes) {
        Ok(envelope) => envelope,
        Err(e) => return (AttestationCheck::invalid(source, e.to_string()), None),
    };
    let verified = match envelope.verify(options.keys) {
        Ok(verified) => verified,
        Err(e) => return (AttestationCheck::invalid(source, e.to_string()), None),
    };
    let mut check = AttestationCheck::invalid(source, String::new());
    check.key_id = Some(verified.key_id.clone());
    match read_statement(&verified.payload, digest, options, &mut check) {
        Ok((result, statement)) => {
            check.result = Some(result);
            check.error = None;
            (check, Some(statement))
        }
        Err(reason) => {
            check.error = Some(reason);
            (check, None)
        }
    }
}

/// Reads the signed statement into `check`; its VSA result and the
/// statement when it is an attestation about `digest` that counts, else why
/// not.
fn read_statement(
    payload: &[u8],
    digest: Option<&Digest>,
    options: &CheckOptions,
    check: &mut AttestationCheck,
) -> Result<(String, Value), String> {
    let statement: Value = serde_json::from_slice(payload)
        .map_err(|e| format!("the signed payload is not JSON ({e})"))?;
    let text = |value: &Value, pointer: &str| {
        value
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    match text(&statement, "/_type") {
        Some(t) if STATEMENT_TYPES.contains(&t.as_str()) => {}
        other => {
            return Err(format!(
                "the signed payload is not an in-toto statement (_type {})",
                other.as_deref().unwrap_or("missing")
            ))
        }
    }
    match text(&statement, "/predicateType") {
        Some(t) if t == PREDICATE_TYPE => {}
        other => {
            return Err(format!(
            "the statement is not a verification summary (predicateType {}, not {PREDICATE_TYPE})",
            other.as_deref().unwrap_or("missing")
        ))
        }
    }
    check.verifier_id = text(&statement, "/predicate/verifier/id");
    check.time_verified = text(&statement, "/predicate/timeVerified");
    check.resource_uri = text(&statement, "/predicate/resourceUri");
    check.platforms = statement
        .pointer("/predicate/rebuildCompare/platforms")
        .and_then(Value::as_array)
        .map(|platforms| {
            platforms
                .iter()
                .filter_map(|p| {
                    Some(PlatformClaim {
                        platform: text(p, "/platform")?,
                        verdict: text(p, "/verdict")?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    check.subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .map(|subjects| {
            subjects
                .iter()
                .filter_map(|s| text(s, "/digest/sha256"))
                .collect()
        })
        .unwrap_or_default();
    let subjects = &check.subjects;
    let resource = check
        .resource_uri
        .as_deref()
        .ok_or("the verification summary names no resourceUri")?;
    let resource_digest = resource
        .rsplit_once('@')
        .and_then(|(_, d)| Digest::parse(d).ok())
        .ok_or_else(|| format!("the resourceUri {resource} names no sha256 digest"))?;
    if !subjects.iter().any(|s| s == resource_digest.hex()) {
        return Err(format!(
            "the statement's subjects do not include its resourceUri's digest {resource_digest}"
        ));
    }
    let digest = digest.unwrap_or(&resource_digest);
    if !subjects.iter().any(|s| s == digest.hex()) {
        return Err(format!(
            "the statement is about another image: its subjects do not include {digest}"
        ));
    }
    if let Some(wanted) = options.verifier_id {
        if check.verifier_id.as_deref() != Some(wanted) {
            return Err(format!(
                "made by verifier {}, not {wanted}",
                check.verifier_id.as_deref().unwrap_or("(none)")
            ));
        }
    }
    let time = check
        .time_verified
        .as_deref()
        .ok_or("the verification summary names no timeVerified")?;
    let verified_at = humantime::parse_rfc3339(time).map_err(|e| {
        format!(
            "its timeVerified {time:?} is not an RFC 3339 time in UTC ({e}), so it cannot be dated"
        )
    })?;
    match text(&statement, "/predicate/verificationResult") {
        Some(r) if r == "PASSED" || r == "FAILED" => {
            check.verified_at = Some(verified_at);
            Ok((r, statement))
        }
        other => Err(format!(
            "the verificationResult is {}, not PASSED or FAILED",
            other.as_deref().unwrap_or("missing")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::dsse;
    use crate::attest::keys::{Algorithm, SigningKey};

    fn image() -> Digest {
        Digest::of(b"the image index")
    }

    fn statement(result: &str, subjects: &[&Digest], resource: &Digest) -> Vec<u8> {
        statement_at(result, subjects, resource, "2026-12-01T00:00:00Z")
    }

    fn statement_at(result: &str, subjects: &[&Digest], resource: &Digest, time: &str) -> Vec<u8> {
        let subject: Vec<Value> = subjects
            .iter()
            .map(|d| serde_json::json!({"name": "x", "digest": {"sha256": d.hex()}}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": subject,
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "verifier": {"id": "urn:test:rebuilder"},
                "timeVerified": time,
                "resourceUri": format!("127.0.0.1:5000/app@{resource}"),
                "verificationResult": result,
                "rebuildCompare": {"platforms": [{"platform": "linux/amd64", "verdict": "reproducible"}]}
            }
        }))
        .unwrap()
    }

    fn signed(payload: &[u8], key: &SigningKey) -> Vec<u8> {
        dsse::sign(payload, key).to_json().unwrap().into_bytes()
    }

    fn check(bytes: &[u8], keys: &[PublicKey], verifier: Option<&str>) -> AttestationCheck {
        check_envelope(
            "test",
            bytes,
            Some(&image()),
            &CheckOptions {
                keys,
                verifier_id: verifier,
            },
        )
    }

    #[test]
    fn a_signed_summary_about_the_image_is_valid_with_its_claims() {
        let key = SigningKey::generate(Algorithm::P256).unwrap();
        let digest = image();
        let envelope = signed(&statement("PASSED", &[&digest], &digest), &key);
        let result = check(&envelope, &[key.public_key()], None);
        assert_eq!(result.error, None);
        assert_eq!(result.result.as_deref(), Some("PASSED"));
        assert_eq!(result.key_id, Some(key.key_id()));
        assert_eq!(result.verifier_id.as_deref(), Some("urn:test:rebuilder"));
        assert_eq!(
            result.platforms,
            vec![PlatformClaim {
                platform: "linux/amd64".into(),
                verdict: "reproducible".into()
            }]
        );
        assert_eq!(result.subjects, [digest.hex()]);
        assert_eq!(
            result.verified_at,
            Some(humantime::parse_rfc3339("2026-12-01T00:00:00Z").unwrap())
        );
        assert!(result.is_valid());
    }

    #[test]
    fn another_key_a_tampered_payload_or_another_image_never_count() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let other = SigningKey::generate(Algorithm::P256).unwrap();
        let digest = image();
        let good = statement("PASSED", &[&digest], &digest);

        let by_other = check(&signed(&good, &key), &[other.public_key()], None);
        assert!(by_other
            .error
            .as_deref()
            .unwrap()
            .starts_with("none of the envelope's 1 signature(s)"));
        assert_eq!(by_other.result, None);

        let mut tampered: Value = serde_json::from_slice(&signed(&good, &key)).unwrap();
        let forged = statement("PASSED", &[&Digest::of(b"x"), &digest], &digest);
        tampered["payload"] =
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, forged).into();
        let tampered = check(
            &serde_json::to_vec(&tampered).unwrap(),
            &[key.public_key()],
            None,
        );
        assert!(tampered.error.is_some());
        assert_eq!(
            tampered.verifier_id, None,
            "unverified claims are not shown"
        );

        let elsewhere = Digest::of(b"another image");
        let about_other = check(
            &signed(&statement("PASSED", &[&elsewhere], &elsewhere), &key),
            &[key.public_key()],
            None,
        );
        assert_eq!(
            about_other.error.as_deref(),
            Some(
                format!(
                    "the statement is about another image: its subjects do not include {digest}"
                )
                .as_str()
            )
        );
        assert!([by_other, tampered, about_other]
            .iter()
            .all(|c| !c.is_valid() && c.verified_at.is_none()));
    }

    #[test]
    fn a_time_verified_that_is_not_an_rfc3339_time_makes_the_summary_invalid() {
        let key = SigningKey::generate(Algorithm::P256).unwrap();
        let digest = image();
        for time in ["yesterday", "2026-12-01 00:00:00", ""] {
            let envelope = signed(&statement_at("PASSED", &[&digest], &digest, time), &key);
            let result = check(&envelope, &[key.public_key()], None);
            assert!(!result.is_valid(), "{time:?}");
            assert_eq!(result.result, None);
            assert_eq!(result.verified_at, None);
            let error = result.error.unwrap();
            assert!(
                error.starts_with(&format!(
                    "its timeVerified {time:?} is not an RFC 3339 time in UTC ("
                )),
                "{error}"
            );
            assert!(error.ends_with("), so it cannot be dated"), "{error}");
            assert_eq!(
                result.subjects,
                [digest.hex()],
                "it still says what it is about"
            );
        }
    }

    #[test]
    fn a_verifier_id_filter_refuses_other_verifiers() {
        let key = SigningKey::generate(Algorithm::P256).unwrap();
        let digest = image();
        let envelope = signed(&statement("PASSED", &[&digest], &digest), &key);
        let refused = check(
            &envelope,
            &[key.public_key()],
            Some("urn:test:someone-else"),
        );
        assert_eq!(
            refused.error.as_deref(),
            Some("made by verifier urn:test:rebuilder, not urn:test:someone-else")
        );
        assert!(check(&envelope, &[key.public_key()], Some("urn:test:rebuilder")).is_valid());
    }

    #[test]
    fn a_summary_must_name_a_resource_among_its_subjects() {
        let key = SigningKey::generate(Algorithm::P256).unwrap();
        let digest = image();
        let envelope = signed(
            &statement("PASSED", &[&digest], &Digest::of(b"elsewhere")),
            &key,
        );
        let result = check(&envelope, &[key.public_key()], None);
        assert!(result
            .error
            .unwrap()
            .starts_with("the statement's subjects do not include its resourceUri's digest"));
        let not_vsa = serde_json::to_vec(&serde_json::json!({
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"digest": {"sha256": digest.hex()}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {}
        }))
        .unwrap();
        let result = check(&signed(&not_vsa, &key), &[key.public_key()], None);
        assert!(result
            .error
            .unwrap()
            .starts_with("the statement is not a verification summary"));
    }
}
