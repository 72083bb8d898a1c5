//! The distribution's OpenPGP keyring and the cleartext signatures of its
//! release files (`InRelease`), checked as apt's `gpgv` does: a signature
//! counts when a keyring key (a primary key or a signing subkey bound to
//! it) made it, the key is neither expired nor revoked, and it verifies
//! over the signed text; only that signed text is handed on.
//!
//! Threat model: the release file and its signatures are untrusted; the
//! keyring is trusted (the host's `debian-archive-keyring` or a file the
//! user names), but its self-signatures are still checked before a key's
//! expiry, flags or revocations are believed.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use pgp::composed::{CleartextSignedMessage, PublicOrSecret, SignedPublicKey};
use pgp::packet::{PublicKey, PublicSubkey, Signature, SignatureType, SubpacketData};
use pgp::types::{KeyDetails, Tag};

/// The most bytes of a keyring file read.
const MAX_KEYRING: u64 = 16 << 20;

/// What went wrong with the keyring or a signature.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    #[error("cannot read the archive keyring {path}: {source}; install debian-archive-keyring, or pass --archive-keyring FILE")]
    KeyringIo {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the archive keyring {path} is not an OpenPGP keyring (binary or armored): {reason}")]
    KeyringFormat { path: PathBuf, reason: String },
    #[error("the archive keyring {path} holds no public key")]
    KeyringEmpty { path: PathBuf },
    #[error("{url} is not an OpenPGP cleartext-signed message: {reason}")]
    NotSigned { url: String, reason: String },
    #[error("{url} carries no signature")]
    NoSignature { url: String },
    #[error("{url} is signed only by keys not in the archive keyring ({issuers}); pass --archive-keyring FILE with the distribution's keyring")]
    UnknownKey { url: String, issuers: String },
    #[error("{url}: the signature by {key} does not verify: the signed text was altered, or the signature is forged")]
    BadSignature { url: String, key: String },
    #[error("{url} is signed by {key}, which expired {expired}; update the archive keyring")]
    ExpiredKey {
        url: String,
        key: String,
        expired: String,
    },
    #[error("{url} is signed by {key}, which its owner revoked")]
    RevokedKey { url: String, key: String },
    #[error("{url}: the signature by {key} expired {expired}")]
    ExpiredSignature {
        url: String,
        key: String,
        expired: String,
    },
}

/// The text a signature verified over, and who made that signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedText {
    /// The signed text, line ends as `\n`.
    pub text: String,
    /// The fingerprint of the key that made the signature (upper-case hex).
    pub signed_by: String,
}

/// The keys of a keyring file.
#[derive(Debug, Clone)]
pub struct Keyring {
    keys: Vec<SignedPublicKey>,
}

impl Keyring {
    /// Reads a binary or armored keyring holding one or more public keys.
    pub fn load(path: &Path) -> Result<Keyring, SignatureError> {
        let io_err = |source| SignatureError::KeyringIo {
            path: path.to_path_buf(),
            source,
        };
        let size = std::fs::metadata(path).map_err(io_err)?.len();
        if size > MAX_KEYRING {
            return Err(io_err(std::io::Error::other(format!(
                "{size} bytes, over the {MAX_KEYRING}-byte limit"
            ))));
        }
        let bytes = std::fs::read(path).map_err(io_err)?;
        Keyring::from_bytes(&bytes).map_err(|problem| match problem {
            None => SignatureError::KeyringEmpty {
                path: path.to_path_buf(),
            },
            Some(reason) => SignatureError::KeyringFormat {
                path: path.to_path_buf(),
                reason,
            },
        })
    }

    /// The public keys of `bytes`; `Err(None)` when there are none.
    fn from_bytes(bytes: &[u8]) -> Result<Keyring, Option<String>> {
        let (parsed, _) =
            PublicOrSecret::from_reader_many(bytes).map_err(|e| Some(e.to_string()))?;
        let mut keys = Vec::new();
        for key in parsed {
            match key.map_err(|e| Some(e.to_string()))? {
                PublicOrSecret::Public(key) => keys.push(key),
                PublicOrSecret::Secret(key) => keys.push(key.to_public_key()),
            }
        }
        if keys.is_empty() {
            return Err(None);
        }
        Ok(Keyring { keys })
    }

    /// Verifies the cleartext-signed `message` fetched from `url` at `now`
    /// and returns its signed text.
    pub fn verify(
        &self,
        url: &str,
        message: &str,
        now: SystemTime,
    ) -> Result<VerifiedText, SignatureError> {
        let (signed, _) = CleartextSignedMessage::from_string(message).map_err(|e| {
            SignatureError::NotSigned {
                url: url.to_string(),
                reason: e.to_string(),
            }
        })?;
        if signed.signatures().is_empty() {
            return Err(SignatureError::NoSignature {
                url: url.to_string(),
            });
        }
        let now_secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let signers: Vec<Signer<'_>> = self.keys.iter().flat_map(signers_of).collect();
        let text = signed.signed_text();
        let mut refusal: Option<SignatureError> = None;
        let mut issuers = Vec::new();
        for signature in signed.signatures() {
            let Some(signer) = signers.iter().find(|s| s.issued(signature)) else {
                issuers.extend(issuer_names(signature));
                continue;
            };
            let key = signer.fingerprint();
            let problem = if signer.verify(signature, text.as_bytes()).is_err() {
                SignatureError::BadSignature {
                    url: url.to_string(),
                    key,
                }
            } else if signer.revoked {
                SignatureError::RevokedKey {
                    url: url.to_string(),
                    key,
                }
            } else if let Some(expiry) = signer.expires.filter(|&at| at <= now_secs) {
                SignatureError::ExpiredKey {
                    url: url.to_string(),
                    key,
                    expired: time_text(expiry),
                }
            } else if let Some(expiry) = signature_expiry(signature).filter(|&at| at <= now_secs) {
                SignatureError::ExpiredSignature {
                    url: url.to_string(),
                    key,
                    expired: time_text(expiry),
                }
            } else {
                return Ok(VerifiedText {
                    text: text.replace("\r\n", "\n"),
                    signed_by: key,
                });
            };
            if refusal.as_ref().is_none_or(|r| rank(&problem) > rank(r)) {
                refusal = Some(problem);
            }
        }
        Err(refusal.unwrap_or_else(|| SignatureError::UnknownKey {
            url: url.to_string(),
            issuers: issuers.join(", "),
        }))
    }
}

/// How alarming a refusal is, so the most alarming one is reported.
fn rank(error: &SignatureError) -> u8 {
    match error {
        SignatureError::BadSignature { .. } => 4,
        SignatureError::RevokedKey { .. } => 3,
        SignatureError::ExpiredKey { .. } => 2,
        _ => 1,
    }
}

/// The issuer fingerprints or key ids a signature names, as hex.
fn issuer_names(signature: &Signature) -> Vec<String> {
    let fingerprints: Vec<String> = signature
        .issuer_fingerprint()
        .iter()
        .map(|fp| format!("{fp:X}"))
        .collect();
    if !fingerprints.is_empty() {
        return fingerprints;
    }
    signature
        .issuer_key_id()
        .iter()
        .map(|id| hex::encode_upper(id.as_ref()))
        .collect()
}

/// When a signature stops being valid, in seconds since the epoch.
fn signature_expiry(signature: &Signature) -> Option<u64> {
    let created = u64::from(signature.created()?.as_secs());
    let lifetime = signature.signature_expiration_time()?;
    let secs = u64::from(lifetime.as_secs());
    (secs != 0).then_some(created + secs)
}

/// A time as an RFC 3339 UTC timestamp.
fn time_text(secs: u64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + std::time::Duration::from_secs(secs)).to_string()
}

/// A key that can make signatures: a primary key or a subkey bound to one.
enum SigningKey<'a> {
    Primary(&'a PublicKey),
    Subkey(&'a PublicSubkey),
}

/// A signing key with what its (verified) self-signatures say about it.
struct Signer<'a> {
    key: SigningKey<'a>,
    /// When it expires, in seconds since the epoch.
    expires: Option<u64>,
    revoked: bool,
}

impl Signer<'_> {
    fn fingerprint(&self) -> String {
        match self.key {
            SigningKey::Primary(key) => format!("{:X}", key.fingerprint()),
            SigningKey::Subkey(key) => format!("{:X}", key.fingerprint()),
        }
    }

    /// Whether `signature` names this key as its issuer.
    fn issued(&self, signature: &Signature) -> bool {
        let (fingerprint, key_id) = match self.key {
            SigningKey::Primary(key) => (key.fingerprint(), key.legacy_key_id()),
            SigningKey::Subkey(key) => (key.fingerprint(), key.legacy_key_id()),
        };
        signature.issuer_fingerprint().contains(&&fingerprint)
            || signature.issuer_key_id().contains(&&key_id)
    }

    fn verify(&self, signature: &Signature, text: &[u8]) -> pgp::errors::Result<()> {
        match self.key {
            SigningKey::Primary(key) => signature.verify(key, text),
            SigningKey::Subkey(key) => signature.verify(key, text),
        }
    }
}

/// The primary key (when its self-signatures verify) and the signing
/// subkeys validly bound to it.
fn signers_of(key: &SignedPublicKey) -> Vec<Signer<'_>> {
    let primary = &key.primary_key;
    let mut self_signatures: Vec<&Signature> = Vec::new();
    for user in &key.details.users {
        self_signatures.extend(user.signatures.iter().filter(|sig| {
            sig.verify_certification(primary, Tag::UserId, &user.id)
                .is_ok()
        }));
    }
    self_signatures.extend(
        key.details
            .direct_signatures
            .iter()
            .filter(|sig| sig.verify_key(primary).is_ok()),
    );
    let Some(newest) = self_signatures.iter().max_by_key(|sig| sig.created()) else {
        return Vec::new();
    };
    let primary_expires = expiry(primary.created_at().as_secs(), newest);
    let primary_signs = newest.key_flags().sign() || !has_key_flags(newest);
    let primary_revoked = key
        .details
        .revocation_signatures
        .iter()
        .any(|sig| sig.verify_key(primary).is_ok());
    let mut signers = Vec::new();
    if primary_signs {
        signers.push(Signer {
            key: SigningKey::Primary(primary),
            expires: primary_expires,
            revoked: primary_revoked,
        });
    }
    for subkey in &key.public_subkeys {
        let verified: Vec<&Signature> = subkey
            .signatures
            .iter()
            .filter(|sig| sig.verify_subkey_binding(primary, &subkey.key).is_ok())
            .collect();
        let revoked = verified
            .iter()
            .any(|sig| sig.typ() == Some(SignatureType::SubkeyRevocation));
        let Some(binding) = verified
            .iter()
            .filter(|sig| sig.typ() == Some(SignatureType::SubkeyBinding))
            .max_by_key(|sig| sig.created())
        else {
            continue;
        };
        let back_signed = binding.embedded_signature().is_some_and(|back| {
            back.verify_primary_key_binding(&subkey.key, primary)
                .is_ok()
        });
        if !binding.key_flags().sign() || !back_signed {
            continue;
        }
        let own = expiry(subkey.key.created_at().as_secs(), binding);
        signers.push(Signer {
            key: SigningKey::Subkey(&subkey.key),
            expires: match (own, primary_expires) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
            revoked: revoked || primary_revoked,
        });
    }
    signers
}

/// Whether a self-signature states the key's flags at all (keys from
/// before key flags existed may sign without them).
fn has_key_flags(self_signature: &Signature) -> bool {
    self_signature.config().is_some_and(|config| {
        config
            .hashed_subpackets()
            .any(|p| matches!(p.data, SubpacketData::KeyFlags(_)))
    })
}

/// When a key created at `created` expires under `self_signature`.
fn expiry(created: u32, self_signature: &Signature) -> Option<u64> {
    let lifetime = self_signature.key_expiration_time()?;
    let secs = u64::from(lifetime.as_secs());
    (secs != 0).then_some(u64::from(created) + secs)
}
