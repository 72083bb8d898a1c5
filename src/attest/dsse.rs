//! DSSE envelopes (Dead Simple Signing Envelope, v1): the signed form of an
//! in-toto statement that cosign, in-toto and Sigstore tooling read. The
//! signature is over the pre-authentication encoding ([`pae`]) of the
//! payload type and the payload bytes.

use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::keys::{PublicKey, SigningKey};
use super::statement::Statement;

/// The payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// An envelope larger than this is refused unread.
pub const MAX_ENVELOPE_BYTES: usize = 4 * 1024 * 1024;

/// A DSSE envelope, with the spec's JSON field names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The payload, standard base64.
    pub payload: String,
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The signing key's id (hex sha256 of its public key DER); optional in DSSE.
    #[serde(default)]
    pub keyid: String,
    /// The signature, standard base64.
    pub sig: String,
}

/// The payload of an envelope whose signature checked out, and which key made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedPayload {
    /// The id of the given key that verified a signature.
    pub key_id: String,
    pub payload: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum DsseError {
    #[error("the envelope is {size} bytes, over the {} MiB limit of an attestation", MAX_ENVELOPE_BYTES / 1024 / 1024)]
    TooLarge { size: usize },
    #[error("not a DSSE envelope (JSON with payloadType, payload and signatures): {0}")]
    Malformed(serde_json::Error),
    #[error("the envelope's payloadType is `{found}`, not `{PAYLOAD_TYPE}`: it holds no in-toto statement")]
    PayloadType { found: String },
    #[error("the envelope has no signatures: it was not signed")]
    NoSignatures,
    #[error("the envelope's {field} is not base64: {source}")]
    BadBase64 {
        field: &'static str,
        source: base64::DecodeError,
    },
    #[error("none of the envelope's {signatures} signature(s) was made by the given key(s) ({}); check the public key is the signer's", key_ids.join(", "))]
    NoMatchingSignature {
        signatures: usize,
        key_ids: Vec<String>,
    },
    #[error("serializing the statement: {0}")]
    Serialize(serde_json::Error),
}

/// DSSE v1's pre-authentication encoding:
/// `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// Signs `payload` (an in-toto statement's JSON) into an envelope.
pub fn sign(payload: &[u8], key: &SigningKey) -> Envelope {
    let signature = key.sign(&pae(PAYLOAD_TYPE, payload));
    Envelope {
        payload_type: PAYLOAD_TYPE.to_string(),
        payload: STANDARD.encode(payload),
        signatures: vec![Signature {
            keyid: key.key_id(),
            sig: STANDARD.encode(signature),
        }],
    }
}

/// Serializes `statement` and signs it into an envelope.
pub fn sign_statement(statement: &Statement, key: &SigningKey) -> Result<Envelope, DsseError> {
    let payload = serde_json::to_vec(statement).map_err(DsseError::Serialize)?;
    Ok(sign(&payload, key))
}

impl Envelope {
    /// Parses an envelope's JSON (at most [`MAX_ENVELOPE_BYTES`]).
    pub fn parse(bytes: &[u8]) -> Result<Self, DsseError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(DsseError::TooLarge { size: bytes.len() });
        }
        serde_json::from_slice(bytes).map_err(DsseError::Malformed)
    }

    /// The envelope as pretty JSON.
    pub fn to_json(&self) -> Result<String, DsseError> {
        serde_json::to_string_pretty(self).map_err(DsseError::Serialize)
    }

    /// Checks the envelope: an in-toto payload with a signature, over its
    /// PAE, by any of `keys`. The envelope's own `keyid`s are not trusted
    /// for the decision (as cosign does); the matching key's id is reported.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<VerifiedPayload, DsseError> {
        if self.payload_type != PAYLOAD_TYPE {
            return Err(DsseError::PayloadType {
                found: self.payload_type.clone(),
            });
        }
        if self.signatures.is_empty() {
            return Err(DsseError::NoSignatures);
        }
        let payload = decode("payload", &self.payload)?;
        let message = pae(&self.payload_type, &payload);
        let signatures = self
            .signatures
            .iter()
            .map(|s| decode("signature", &s.sig))
            .collect::<Result<Vec<_>, _>>()?;
        keys.iter()
            .find(|key| signatures.iter().any(|sig| key.verify(&message, sig)))
            .map(|key| VerifiedPayload {
                key_id: key.key_id(),
                payload,
            })
            .ok_or_else(|| DsseError::NoMatchingSignature {
                signatures: signatures.len(),
                key_ids: keys.iter().map(PublicKey::key_id).collect(),
            })
    }
}

/// DSSE allows standard or URL-safe base64.
fn decode(field: &'static str, text: &str) -> Result<Vec<u8>, DsseError> {
    STANDARD
        .decode(text)
        .or_else(|e| URL_SAFE.decode(text).map_err(|_| e))
        .map_err(|source| DsseError::BadBase64 { field, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attest::keys::Algorithm;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
        assert_eq!(pae("", b""), b"DSSEv1 0  0 ");
    }

    #[test]
    fn a_signed_envelope_verifies_with_its_key_for_both_algorithms() {
        for algorithm in [Algorithm::P256, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm).unwrap();
            let envelope = sign(br#"{"_type":"x"}"#, &key);
            assert_eq!(envelope.payload_type, PAYLOAD_TYPE);
            assert_eq!(envelope.payload, STANDARD.encode(br#"{"_type":"x"}"#));
            assert_eq!(envelope.signatures[0].keyid, key.key_id());
            let parsed = Envelope::parse(envelope.to_json().unwrap().as_bytes()).unwrap();
            assert_eq!(parsed, envelope);
            let other = SigningKey::generate(algorithm).unwrap().public_key();
            let verified = parsed.verify(&[other, key.public_key()]).unwrap();
            assert_eq!(
                verified,
                VerifiedPayload {
                    key_id: key.key_id(),
                    payload: br#"{"_type":"x"}"#.to_vec()
                }
            );
        }
    }

    #[test]
    fn the_envelope_json_has_the_dsse_field_names() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&sign(b"{}", &key).to_json().unwrap()).unwrap();
        let mut fields: Vec<&String> = json.as_object().unwrap().keys().collect();
        fields.sort();
        assert_eq!(fields, ["payload", "payloadType", "signatures"]);
        let mut signature: Vec<&String> =
            json["signatures"][0].as_object().unwrap().keys().collect();
        signature.sort();
        assert_eq!(signature, ["keyid", "sig"]);
    }

    #[test]
    fn a_tampered_payload_fails() {
        let key = SigningKey::generate(Algorithm::P256).unwrap();
        let mut envelope = sign(br#"{"verificationResult":"FAILED"}"#, &key);
        envelope.payload = STANDARD.encode(br#"{"verificationResult":"PASSED"}"#);
        let error = envelope.verify(&[key.public_key()]).unwrap_err();
        assert!(
            matches!(error, DsseError::NoMatchingSignature { signatures: 1, .. }),
            "{error}"
        );
    }

    #[test]
    fn a_changed_payload_type_fails() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let mut envelope = sign(b"{}", &key);
        envelope.payload_type = "text/plain".into();
        let error = envelope.verify(&[key.public_key()]).unwrap_err();
        assert!(matches!(error, DsseError::PayloadType { .. }), "{error}");
    }

    #[test]
    fn another_key_fails_even_with_the_envelopes_keyid_claimed() {
        let key = SigningKey::generate(Algorithm::P256).unwrap();
        let other = SigningKey::generate(Algorithm::P256).unwrap();
        let mut envelope = sign(b"{}", &other);
        envelope.signatures[0].keyid = key.key_id();
        let error = envelope.verify(&[key.public_key()]).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "none of the envelope's 1 signature(s) was made by the given key(s) ({}); \
                 check the public key is the signer's",
                key.key_id()
            )
        );
    }

    #[test]
    fn unsigned_malformed_and_oversized_envelopes_are_refused() {
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let mut envelope = sign(b"{}", &key);
        envelope.signatures[0].sig = "not base64!".into();
        assert!(matches!(
            envelope.verify(&[key.public_key()]),
            Err(DsseError::BadBase64 {
                field: "signature",
                ..
            })
        ));
        envelope.signatures.clear();
        assert!(matches!(
            envelope.verify(&[key.public_key()]),
            Err(DsseError::NoSignatures)
        ));
        assert!(matches!(
            Envelope::parse(b"{\"payload\": 1}"),
            Err(DsseError::Malformed(_))
        ));
        assert!(matches!(
            Envelope::parse(&vec![b' '; MAX_ENVELOPE_BYTES + 1]),
            Err(DsseError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_signature_without_keyid_parses() {
        let envelope = Envelope::parse(
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AAAA"}]}"#,
        )
        .unwrap();
        assert_eq!(envelope.signatures[0].keyid, "");
    }
}
