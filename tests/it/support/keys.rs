//! Signing key pairs made by the binary under test (`key generate`), and
//! the key id envelopes and reports name for them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::cli::run_in;

/// A key pair written by `rebuild-compare key generate`.
pub struct KeyPair {
    pub private: PathBuf,
    pub public: PathBuf,
}

impl KeyPair {
    /// `key generate --out HOME/NAME --algorithm ALGORITHM` (`p256` or `ed25519`).
    pub fn generate(home: &Path, name: &str, algorithm: &str) -> KeyPair {
        let dir = home.join(name);
        let run = run_in(
            home,
            &[
                "key",
                "generate",
                "--out",
                dir.to_str().unwrap(),
                "--algorithm",
                algorithm,
            ],
        );
        assert_eq!(run.code, 0, "key generate: {}", run.stderr);
        KeyPair {
            private: dir.join("rebuild-compare.key"),
            public: dir.join("rebuild-compare.pub"),
        }
    }

    /// sha256 of the public key's DER, hex.
    pub fn id(&self) -> String {
        let pem = std::fs::read_to_string(&self.public).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap();
        hex::encode(Sha256::digest(der))
    }
}
