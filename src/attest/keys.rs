//! Signing keys for attestations: ECDSA P-256 (SHA-256) and Ed25519 key
//! pairs, read from PKCS#8 (private) and SPKI (public) PEM, generated from
//! the OS's randomness, and identified by the sha256 of the public key's DER.

use std::fmt;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer as _, Verifier as _};
use pkcs8::der::zeroize::Zeroizing;
use pkcs8::der::Decode;
use pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
    ObjectIdentifier, PrivateKeyInfoRef, SubjectPublicKeyInfoRef,
};
use sha2::{Digest as _, Sha256};

/// The environment variable whose value is a signing key's PEM.
pub const SIGN_KEY_ENV: &str = "REBUILD_COMPARE_SIGN_KEY";
/// A key file (or [`SIGN_KEY_ENV`] value) larger than this is refused.
pub const MAX_KEY_BYTES: u64 = 64 * 1024;
/// The private key's file name in [`write_pair`]'s directory.
pub const PRIVATE_KEY_FILE: &str = "rebuild-compare.key";
/// The public key's file name in [`write_pair`]'s directory.
pub const PUBLIC_KEY_FILE: &str = "rebuild-compare.pub";

const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_CURVE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// What to do when a key cannot be used.
const GENERATE_HINT: &str = "`rebuild-compare key generate --out DIR` makes a key pair";

/// The signature algorithms supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// ECDSA on P-256 over SHA-256; signatures are ASN.1 DER (as cosign writes them).
    P256,
    /// Ed25519; signatures are the 64 raw bytes.
    Ed25519,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::P256 => "ECDSA P-256",
            Self::Ed25519 => "Ed25519",
        })
    }
}

/// Why a key could not be read or made. `origin` names the file, or the
/// environment variable the PEM came from.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {origin}: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error("{origin}: larger than {} KiB, so not a key; give a PEM key file ({GENERATE_HINT})", MAX_KEY_BYTES / 1024)]
    TooLarge { origin: String },
    #[error("{origin}: not a PEM key (no `-----BEGIN ...-----` line); give a PEM key file ({GENERATE_HINT})")]
    NotPem { origin: String },
    #[error(
        "{origin}: not a valid {label} PEM block ({reason}); give a PEM key file ({GENERATE_HINT})"
    )]
    Malformed {
        origin: String,
        label: &'static str,
        reason: String,
    },
    #[error("{origin}: the private key is encrypted; decrypt it first: `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.plain` (and keep the result private)")]
    Encrypted { origin: String },
    #[error("{origin}: an encrypted cosign key cannot be read; sign with an unencrypted PKCS#8 PEM key ({GENERATE_HINT}; `cosign import-key-pair --key FILE` lets cosign use the same key)")]
    EncryptedCosign { origin: String },
    #[error("{origin}: the key is {found}; only ECDSA P-256 and Ed25519 keys are supported ({GENERATE_HINT})")]
    Unsupported { origin: String, found: String },
    #[error("{origin}: a `{label}` PEM block where a PKCS#8 `PRIVATE KEY` is expected; convert it: `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8`")]
    NotPkcs8 { origin: String, label: String },
    #[error("{origin}: a public key where the private key is expected; give the private key (`rebuild-compare.key`), not the `.pub`")]
    PublicNotPrivate { origin: String },
    #[error("{origin}: a private key where a public key is expected; give the public key (`rebuild-compare.pub`), and keep the private key private")]
    PrivateNotPublic { origin: String },
    #[error("{origin}: a `{label}` PEM block where a `PUBLIC KEY` is expected; give the public key (`rebuild-compare.pub`)")]
    NotSpki { origin: String, label: String },
    #[error("{} already exists: a key is never overwritten; move it away or give another --out DIR", path.display())]
    Exists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("generating a key: the system's random number generator failed: {0}")]
    Random(String),
    #[error("encoding the key as PEM: {0}")]
    Encode(String),
    #[error("--push-attestation needs a signing key: add --sign-key FILE (or set {SIGN_KEY_ENV}); `rebuild-compare key generate --out DIR` makes one")]
    PushUnsigned,
    #[error("--sign-key signs an attestation, but none is written: add --attest FILE or --push-attestation")]
    NothingToSign,
}

/// A private key that signs attestations.
pub struct SigningKey {
    inner: Signing,
}

enum Signing {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

/// A public key that checks signatures.
#[derive(Clone)]
pub struct PublicKey {
    inner: Verifying,
    /// The SubjectPublicKeyInfo DER, as re-encoded from the key.
    der: Vec<u8>,
}

#[derive(Clone)]
enum Verifying {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.key_id())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm())
            .field("key_id", &self.key_id())
            .finish()
    }
}

impl SigningKey {
    /// A new key from the OS's randomness.
    pub fn generate(algorithm: Algorithm) -> Result<Self, KeyError> {
        let inner = match algorithm {
            Algorithm::P256 => {
                use p256::elliptic_curve::Generate;
                let secret =
                    p256::SecretKey::try_generate().map_err(|e| KeyError::Random(e.to_string()))?;
                Signing::P256(p256::ecdsa::SigningKey::from(secret))
            }
            Algorithm::Ed25519 => {
                let mut seed = Zeroizing::new([0u8; 32]);
                getrandom::fill(seed.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
                Signing::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
            }
        };
        Ok(Self { inner })
    }

    /// Reads a PKCS#8 PEM private key file (at most [`MAX_KEY_BYTES`]).
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let origin = path.display().to_string();
        let pem = read_bounded(path, &origin)?;
        Self::from_pem(&pem, &origin)
    }

    /// Parses a PKCS#8 PEM private key ("PRIVATE KEY"), the algorithm taken
    /// from the key's OID; `origin` names where it came from, for errors.
    pub fn from_pem(pem: &[u8], origin: &str) -> Result<Self, KeyError> {
        check_size(pem, origin)?;
        let der = decode_pem(pem, origin, PemKind::Private)?;
        let malformed = |reason: String| KeyError::Malformed {
            origin: origin.to_string(),
            label: "PKCS#8 private key",
            reason,
        };
        let info = PrivateKeyInfoRef::from_der(&der).map_err(|e| malformed(e.to_string()))?;
        let inner = match algorithm_of(
            info.algorithm.oid,
            info.algorithm.parameters_oid().ok(),
            origin,
        )? {
            Algorithm::P256 => Signing::P256(
                p256::ecdsa::SigningKey::from_pkcs8_der(&der)
                    .map_err(|e| malformed(e.to_string()))?,
            ),
            Algorithm::Ed25519 => Signing::Ed25519(
                ed25519_dalek::SigningKey::from_pkcs8_der(&der)
                    .map_err(|e| malformed(e.to_string()))?,
            ),
        };
        Ok(Self { inner })
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            Signing::P256(_) => Algorithm::P256,
            Signing::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::new(match &self.inner {
            Signing::P256(key) => Verifying::P256(*key.verifying_key()),
            Signing::Ed25519(key) => Verifying::Ed25519(key.verifying_key()),
        })
    }

    /// The public key's id: hex sha256 of its SubjectPublicKeyInfo DER.
    pub fn key_id(&self) -> String {
        self.public_key().key_id()
    }

    /// Signs `message`: ECDSA P-256 over its SHA-256 as ASN.1 DER, or the
    /// 64-byte Ed25519 signature.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.inner {
            Signing::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            Signing::Ed25519(key) => key.sign(message).to_bytes().to_vec(),
        }
    }

    /// The key as PKCS#8 PEM ("PRIVATE KEY").
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        match &self.inner {
            Signing::P256(key) => key.to_pkcs8_pem(LineEnding::LF),
            // PKCS#8 v1, without the optional public key, as `openssl
            // genpkey` writes it: Python's `cryptography` refuses the v2 form.
            Signing::Ed25519(key) => ed25519_dalek::pkcs8::KeypairBytes {
                secret_key: key.to_bytes(),
                public_key: None,
            }
            .to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| KeyError::Encode(e.to_string()))
    }
}

impl PublicKey {
    fn new(inner: Verifying) -> Self {
        let der = match &inner {
            Verifying::P256(key) => key.to_public_key_der(),
            Verifying::Ed25519(key) => key.to_public_key_der(),
        }
        // Both encoders only fail on a buffer too small, which a Vec is not.
        .map(|document| document.into_vec())
        .unwrap_or_default();
        Self { inner, der }
    }

    /// Reads an SPKI PEM public key file (at most [`MAX_KEY_BYTES`]).
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let origin = path.display().to_string();
        let pem = read_bounded(path, &origin)?;
        Self::from_pem(&pem, &origin)
    }

    /// Parses an SPKI PEM public key ("PUBLIC KEY").
    pub fn from_pem(pem: &[u8], origin: &str) -> Result<Self, KeyError> {
        check_size(pem, origin)?;
        let der = decode_pem(pem, origin, PemKind::Public)?;
        let malformed = |reason: String| KeyError::Malformed {
            origin: origin.to_string(),
            label: "public key",
            reason,
        };
        let info = SubjectPublicKeyInfoRef::from_der(&der).map_err(|e| malformed(e.to_string()))?;
        let inner = match algorithm_of(
            info.algorithm.oid,
            info.algorithm.parameters_oid().ok(),
            origin,
        )? {
            Algorithm::P256 => Verifying::P256(
                p256::ecdsa::VerifyingKey::from_public_key_der(&der)
                    .map_err(|e| malformed(e.to_string()))?,
            ),
            Algorithm::Ed25519 => Verifying::Ed25519(
                ed25519_dalek::VerifyingKey::from_public_key_der(&der)
                    .map_err(|e| malformed(e.to_string()))?,
            ),
        };
        Ok(Self::new(inner))
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.inner {
            Verifying::P256(_) => Algorithm::P256,
            Verifying::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// The SubjectPublicKeyInfo DER.
    pub fn to_der(&self) -> &[u8] {
        &self.der
    }

    /// The key as SPKI PEM ("PUBLIC KEY").
    pub fn to_pem(&self) -> String {
        pkcs8::der::pem::encode_string("PUBLIC KEY", LineEnding::LF, &self.der).unwrap_or_default()
    }

    /// Hex sha256 of the SubjectPublicKeyInfo DER (what
    /// `openssl pkey -pubin -outform DER | sha256sum` prints).
    pub fn key_id(&self) -> String {
        hex::encode(Sha256::digest(&self.der))
    }

    /// Whether `signature` (ASN.1 DER ECDSA, or raw Ed25519) is this key's
    /// signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.inner {
            Verifying::P256(key) => p256::ecdsa::Signature::from_der(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            Verifying::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok()),
        }
    }
}

/// Where [`write_pair`] wrote a key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenPair {
    pub private_key: PathBuf,
    pub public_key: PathBuf,
}

/// Writes `key` to `dir/`[`PRIVATE_KEY_FILE`] (PKCS#8 PEM, created with
/// mode 0600) and its public key to `dir/`[`PUBLIC_KEY_FILE`] (SPKI PEM),
/// creating `dir` if needed; refuses to replace either file.
pub fn write_pair(key: &SigningKey, dir: &Path) -> Result<WrittenPair, KeyError> {
    let pair = WrittenPair {
        private_key: dir.join(PRIVATE_KEY_FILE),
        public_key: dir.join(PUBLIC_KEY_FILE),
    };
    for path in [&pair.private_key, &pair.public_key] {
        if path.symlink_metadata().is_ok() {
            return Err(KeyError::Exists { path: path.clone() });
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| KeyError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    write_new(&pair.private_key, key.to_pem()?.as_bytes(), 0o600)?;
    write_new(
        &pair.public_key,
        key.public_key().to_pem().as_bytes(),
        0o644,
    )?;
    Ok(pair)
}

/// Creates `path` (never replacing a file) with `mode` and writes `bytes`.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => KeyError::Exists {
                path: path.to_path_buf(),
            },
            _ => KeyError::Write {
                path: path.to_path_buf(),
                source,
            },
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Which PEM block the caller expects.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PemKind {
    Private,
    Public,
}

/// The DER inside the PEM, after telling apart the blocks a user may give
/// by mistake (encrypted, cosign, legacy, the other half of the pair).
fn decode_pem(pem: &[u8], origin: &str, kind: PemKind) -> Result<Vec<u8>, KeyError> {
    let origin = origin.to_string();
    let text = String::from_utf8_lossy(pem);
    let label = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("-----BEGIN "))
        .and_then(|rest| rest.strip_suffix("-----"))
        .map(str::to_string)
        .ok_or_else(|| KeyError::NotPem {
            origin: origin.clone(),
        })?;
    let expected = match kind {
        PemKind::Private => "PRIVATE KEY",
        PemKind::Public => "PUBLIC KEY",
    };
    match (label.as_str(), kind) {
        (l, _) if l == expected => {}
        ("ENCRYPTED SIGSTORE PRIVATE KEY" | "ENCRYPTED COSIGN PRIVATE KEY", _) => {
            return Err(KeyError::EncryptedCosign { origin })
        }
        ("ENCRYPTED PRIVATE KEY", PemKind::Private) => return Err(KeyError::Encrypted { origin }),
        ("RSA PRIVATE KEY" | "RSA PUBLIC KEY", _) => {
            return Err(KeyError::Unsupported {
                origin,
                found: "RSA".into(),
            })
        }
        ("PUBLIC KEY", PemKind::Private) => return Err(KeyError::PublicNotPrivate { origin }),
        (l, PemKind::Public) if l.contains("PRIVATE KEY") => {
            return Err(KeyError::PrivateNotPublic { origin })
        }
        (_, PemKind::Private) => return Err(KeyError::NotPkcs8 { origin, label }),
        (_, PemKind::Public) => return Err(KeyError::NotSpki { origin, label }),
    }
    // From the BEGIN line on: text before it (openssl's `-text` output,
    // a comment) is not part of the block.
    let start = text.find("-----BEGIN ").unwrap_or(0);
    let (_, der) =
        pkcs8::der::pem::decode_vec(text[start..].trim_end().as_bytes()).map_err(|e| {
            KeyError::Malformed {
                origin,
                label: expected,
                reason: e.to_string(),
            }
        })?;
    Ok(der)
}

/// The supported algorithm an algorithm identifier names.
fn algorithm_of(
    oid: ObjectIdentifier,
    parameters: Option<ObjectIdentifier>,
    origin: &str,
) -> Result<Algorithm, KeyError> {
    let unsupported = |found: String| KeyError::Unsupported {
        origin: origin.to_string(),
        found,
    };
    match (oid, parameters) {
        (EC_PUBLIC_KEY, Some(P256_CURVE)) => Ok(Algorithm::P256),
        (EC_PUBLIC_KEY, Some(curve)) => Err(unsupported(format!("ECDSA on curve {curve}"))),
        (EC_PUBLIC_KEY, None) => Err(unsupported("ECDSA without a named curve".into())),
        (ED25519, _) => Ok(Algorithm::Ed25519),
        (RSA | RSA_PSS, _) => Err(unsupported("RSA".into())),
        (other, _) => Err(unsupported(format!("of algorithm {other}"))),
    }
}

/// Reads at most [`MAX_KEY_BYTES`] of `path`, refusing a larger file.
fn read_bounded(path: &Path, origin: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let read_error = |source| KeyError::Read {
        origin: origin.to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_KEY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error)?;
    Ok(bytes)
}

/// Refuses key material over [`MAX_KEY_BYTES`] (a file or an environment value).
fn check_size(bytes: &[u8], origin: &str) -> Result<(), KeyError> {
    if bytes.len() as u64 > MAX_KEY_BYTES {
        return Err(KeyError::TooLarge {
            origin: origin.to_string(),
        });
    }
    Ok(())
}

/// Where the key that signs attestations came from.
pub enum KeySource {
    /// A PEM file (`--sign-key FILE`), by absolute path.
    File(PathBuf),
    /// The PEM [`SIGN_KEY_ENV`] held.
    Environment(Zeroizing<Vec<u8>>),
}

/// The key that signs a command's attestations, and where it came from.
pub struct AttestationKey {
    pub key: SigningKey,
    pub source: KeySource,
}

/// The key that signs the attestations of `verify` and `run`: `file`
/// (`--sign-key`), else `environment` (the PEM [`SIGN_KEY_ENV`] held) when
/// an attestation is written. Read before anything is pulled or built, so
/// that a bad key fails at once. Attaching attestations to the image
/// (`pushes`) needs a key; a key file when no attestation is written is
/// refused rather than ignored.
pub fn attestation_key(
    file: Option<&Path>,
    environment: Option<&[u8]>,
    writes: bool,
    pushes: bool,
) -> Result<Option<AttestationKey>, KeyError> {
    if pushes && file.is_none() && environment.is_none() {
        return Err(KeyError::PushUnsigned);
    }
    match (file, environment) {
        (Some(_), _) if !(writes || pushes) => Err(KeyError::NothingToSign),
        (Some(path), _) => {
            let key = SigningKey::read(path)?;
            let path = std::path::absolute(path).map_err(|source| KeyError::Read {
                origin: path.display().to_string(),
                source,
            })?;
            Ok(Some(AttestationKey {
                key,
                source: KeySource::File(path),
            }))
        }
        (None, Some(pem)) if writes || pushes => Ok(Some(AttestationKey {
            key: SigningKey::from_pem(pem, SIGN_KEY_ENV)?,
            source: KeySource::Environment(Zeroizing::new(pem.to_vec())),
        })),
        (None, _) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_public_key_for_both_algorithms() {
        for algorithm in [Algorithm::P256, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm).unwrap();
            let signature = key.sign(b"the statement");
            assert!(
                key.public_key().verify(b"the statement", &signature),
                "{algorithm}"
            );
            assert!(
                !key.public_key().verify(b"the statemenT", &signature),
                "{algorithm}"
            );
            let other = SigningKey::generate(algorithm).unwrap();
            assert!(
                !other.public_key().verify(b"the statement", &signature),
                "{algorithm}"
            );
        }
    }

    #[test]
    fn p256_signatures_are_asn1_der_and_ed25519_signatures_are_64_raw_bytes() {
        let p256 = SigningKey::generate(Algorithm::P256).unwrap().sign(b"m");
        assert_eq!(p256[0], 0x30, "a DER SEQUENCE");
        assert_eq!(usize::from(p256[1]) + 2, p256.len());
        let ed25519 = SigningKey::generate(Algorithm::Ed25519).unwrap().sign(b"m");
        assert_eq!(ed25519.len(), 64);
    }

    #[test]
    fn key_id_is_the_sha256_of_the_public_key_der() {
        for algorithm in [Algorithm::P256, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm).unwrap();
            let public = key.public_key();
            assert_eq!(
                public.key_id(),
                hex::encode(Sha256::digest(public.to_der()))
            );
            assert_eq!(key.key_id(), public.key_id());
            assert_eq!(public.key_id().len(), 64);
        }
    }

    #[test]
    fn keys_survive_a_pem_round_trip_with_the_same_id() {
        for algorithm in [Algorithm::P256, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm).unwrap();
            let pem = key.to_pem().unwrap();
            assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{}", *pem);
            if algorithm == Algorithm::Ed25519 {
                // PKCS#8 v1 (RFC 8410's form, what openssl writes): 48 bytes.
                assert!(pem.contains("\nMC4CAQAwBQYDK2VwBCIEI"), "{}", *pem);
            }
            let read = SigningKey::from_pem(pem.as_bytes(), "k").unwrap();
            assert_eq!(read.algorithm(), algorithm);
            assert_eq!(read.key_id(), key.key_id());
            let public_pem = key.public_key().to_pem();
            assert!(public_pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
            let public = PublicKey::from_pem(public_pem.as_bytes(), "p").unwrap();
            assert_eq!(public.key_id(), key.key_id());
            assert!(public.verify(b"x", &read.sign(b"x")));
        }
    }

    /// RFC 8410's example Ed25519 key pair (section 10.3 and 10.1).
    const RFC8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\n\
        MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n\
        -----END PRIVATE KEY-----\n";
    const RFC8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\n\
        MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n\
        -----END PUBLIC KEY-----\n";

    #[test]
    fn reads_the_rfc8410_ed25519_key_pair_as_one_pair() {
        let key = SigningKey::from_pem(RFC8410_PRIVATE.as_bytes(), "k").unwrap();
        let public = PublicKey::from_pem(RFC8410_PUBLIC.as_bytes(), "p").unwrap();
        assert_eq!(key.algorithm(), Algorithm::Ed25519);
        assert_eq!(key.key_id(), public.key_id());
        assert!(public.verify(b"m", &key.sign(b"m")));
    }

    #[test]
    fn the_wrong_half_of_a_pair_is_named() {
        let public = PublicKey::from_pem(RFC8410_PRIVATE.as_bytes(), "my.key").unwrap_err();
        assert!(
            matches!(public, KeyError::PrivateNotPublic { .. }),
            "{public}"
        );
        let private = SigningKey::from_pem(RFC8410_PUBLIC.as_bytes(), "my.pub").unwrap_err();
        assert_eq!(
            private.to_string(),
            "my.pub: a public key where the private key is expected; give the private key \
             (`rebuild-compare.key`), not the `.pub`"
        );
    }

    #[test]
    fn encrypted_and_foreign_blocks_are_refused_with_what_to_do() {
        let block = |label: &str| format!("-----BEGIN {label}-----\nAAAA\n-----END {label}-----\n");
        let error = |label: &str| {
            SigningKey::from_pem(block(label).as_bytes(), "k")
                .unwrap_err()
                .to_string()
        };
        assert!(error("ENCRYPTED PRIVATE KEY").contains("openssl pkcs8 -topk8 -nocrypt"));
        assert!(error("ENCRYPTED SIGSTORE PRIVATE KEY").contains("encrypted cosign key"));
        assert!(error("RSA PRIVATE KEY").contains("the key is RSA; only ECDSA P-256 and Ed25519"));
        assert!(error("EC PRIVATE KEY").contains("convert it: `openssl pkcs8 -topk8 -nocrypt"));
        assert_eq!(
            SigningKey::from_pem(b"hello", "k").unwrap_err().to_string(),
            format!("k: not a PEM key (no `-----BEGIN ...-----` line); give a PEM key file ({GENERATE_HINT})")
        );
    }

    #[test]
    fn an_rsa_pkcs8_key_is_unsupported() {
        // The AlgorithmIdentifier of rsaEncryption and an empty key: the
        // algorithm is refused before the key is read.
        let der = [
            0x30, 0x14, 0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
            0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x04, 0x00,
        ];
        let pem = pkcs8::der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &der).unwrap();
        let error = SigningKey::from_pem(pem.as_bytes(), "rsa.key").unwrap_err();
        assert!(
            matches!(&error, KeyError::Unsupported { found, .. } if found == "RSA"),
            "{error}"
        );
    }

    #[test]
    fn a_written_pair_reads_back_and_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate(Algorithm::Ed25519).unwrap();
        let pair = write_pair(&key, &dir.path().join("keys")).unwrap();
        assert_eq!(
            SigningKey::read(&pair.private_key).unwrap().key_id(),
            key.key_id()
        );
        assert_eq!(
            PublicKey::read(&pair.public_key).unwrap().key_id(),
            key.key_id()
        );
        let again = write_pair(
            &SigningKey::generate(Algorithm::P256).unwrap(),
            &dir.path().join("keys"),
        );
        assert!(matches!(again, Err(KeyError::Exists { path }) if path == pair.private_key));
        assert_eq!(
            SigningKey::read(&pair.private_key).unwrap().key_id(),
            key.key_id()
        );
    }

    #[test]
    fn a_key_file_over_64_kib_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.key");
        std::fs::write(&path, vec![b'a'; 64 * 1024 + 1]).unwrap();
        let error = SigningKey::read(&path).unwrap_err();
        assert!(matches!(error, KeyError::TooLarge { .. }), "{error}");
    }

    #[test]
    fn attestation_key_needs_a_key_to_push_and_an_attestation_for_a_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = SigningKey::generate(Algorithm::P256).unwrap();
        let pair = write_pair(&key, dir.path()).unwrap();
        let pem = key.to_pem().unwrap();
        let file = Some(pair.private_key.as_path());
        let environment = Some(pem.as_bytes());

        let unsigned = attestation_key(None, None, true, true).err();
        assert!(matches!(unsigned, Some(KeyError::PushUnsigned)));
        let unused = attestation_key(file, None, false, false).err();
        assert!(matches!(unused, Some(KeyError::NothingToSign)));
        assert!(attestation_key(None, environment, false, false)
            .unwrap()
            .is_none());
        assert!(attestation_key(None, None, true, false).unwrap().is_none());

        let from_file = attestation_key(file, environment, true, false)
            .unwrap()
            .unwrap();
        assert_eq!(from_file.key.key_id(), key.key_id());
        assert!(matches!(from_file.source, KeySource::File(path) if path == pair.private_key));
        let from_environment = attestation_key(None, environment, false, true)
            .unwrap()
            .unwrap();
        assert_eq!(from_environment.key.key_id(), key.key_id());
        assert!(
            matches!(from_environment.source, KeySource::Environment(bytes) if bytes.as_slice() == pem.as_bytes())
        );
    }
}
