//! Signed attestations end to end: `key generate`, `verify --sign-key` (and
//! REBUILD_COMPARE_SIGN_KEY) writing a DSSE envelope from a real
//! verification of an OCI layout, checked by the library and by Python's
//! `cryptography`; bad keys refused before anything is read or built.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use git2::Repository;
use rebuild_compare::attest::dsse::{Envelope, PAYLOAD_TYPE};
use rebuild_compare::attest::keys::{Algorithm, PublicKey, SigningKey};
use serde_json::{json, Value};
use support::cli::{platform_entry, run_in, run_in_env, Run};
use support::{
    sha256_digest, write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle, LayerBuilder,
    MediaTypes, WrittenLayout,
};

const VERSION: &str = "v1.0.0";
const PLATFORMS: [&str; 2] = ["linux/amd64", "linux/arm64"];

/// A build that takes no time: `/out/app` holds `app OS/ARCH\n`; the
/// environment the build saw goes to its log.
const BUILD: &str = r#"[build]
builder = "host"
command = ["/bin/sh", "-c", "printf 'app {os}/{arch}\\n' > /out/app; env >&2"]
artifact = "/out/app"

[build.platforms."linux/amd64"]
[build.platforms."linux/arm64"]
"#;

fn binary(platform: &str) -> Vec<u8> {
    format!("app {platform}\n").into_bytes()
}

/// An image of [`BUILD`]'s output for both platforms, as an OCI layout
/// tagged VERSION; a source tagged VERSION; a recipe for both.
struct Fixture {
    tmp: tempfile::TempDir,
    image: String,
    layout: PathBuf,
    written: WrittenLayout,
    recipe: PathBuf,
    source: PathBuf,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("upstream");
    let repo = Repository::init(&source).unwrap();
    let commit = support::git::commit(&repo, &[("README", "the app\n")], "release", 1_700_000_000);
    support::git::tag(&repo, VERSION, commit, 1_700_000_000);
    let recipe = tmp.path().join("app.toml");
    std::fs::write(
        &recipe,
        format!(
            "[image]\nrepository = \"127.0.0.1/test/app\"\ntag = \"{{version}}\"\n\n\
             [source]\ngit = \"https://git.example/upstream/app.git\"\nref = \"{{version}}\"\n\n{BUILD}"
        ),
    )
    .unwrap();
    let images = PLATFORMS
        .iter()
        .map(|p| {
            ImageBuilder::new(p)
                .entrypoint(&["app"])
                .env("PATH=/usr/local/bin:/usr/bin:/bin")
                .layer(
                    LayerBuilder::new()
                        .file("usr/local/bin/app", &binary(p), 0o755)
                        .build(Compression::Gzip),
                )
                .build()
        })
        .collect();
    let layout = tmp.path().join("layout");
    let written = write_oci_layout(
        &layout,
        VERSION,
        &ImageSet::new(images),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    Fixture {
        image: format!("oci:{}:{VERSION}", layout.display()),
        tmp,
        layout,
        written,
        recipe,
        source,
    }
}

impl Fixture {
    fn home(&self) -> &Path {
        self.tmp.path()
    }

    fn out_dir(&self) -> PathBuf {
        self.home().join("out")
    }

    fn attestation(&self) -> PathBuf {
        self.home().join("attestation.json")
    }

    /// `rebuild-compare verify IMAGE VERSION ... --format json --attest FILE` plus `extra`.
    fn verify(&self, env: &[(&str, &str)], extra: &[&str]) -> Run {
        let out_dir = self.out_dir();
        let attestation = self.attestation();
        let mut args = vec![
            "verify",
            &self.image,
            VERSION,
            "--recipe",
            self.recipe.to_str().unwrap(),
            "--source",
            self.source.to_str().unwrap(),
            "--format",
            "json",
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--attest",
            attestation.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run_in_env(self.home(), env, &args)
    }

    /// The subjects a passed verification of the fixture attests, in order.
    fn expected_subjects(&self) -> Value {
        let hex = |digest: &str| digest.trim_start_matches("sha256:").to_string();
        let name = format!("oci:{}", self.layout.display());
        let mut subjects =
            vec![json!({"name": self.image, "digest": {"sha256": hex(&self.written.top.digest)}})];
        for (platform, manifest) in PLATFORMS.iter().zip(&self.written.manifests) {
            subjects.push(json!({"name": format!("{name}@{}", manifest.digest),
                                 "digest": {"sha256": hex(&manifest.digest)}}));
            subjects.push(json!({"name": format!("{platform}:/usr/local/bin/app"),
                                 "digest": {"sha256": hex(&sha256_digest(&binary(platform)))}}));
        }
        Value::Array(subjects)
    }
}

/// `rebuild-compare key generate --out HOME/keys [--algorithm A]`; returns
/// the private and public key paths.
fn generate(home: &Path, algorithm: &str) -> (PathBuf, PathBuf) {
    let keys = support::keys::KeyPair::generate(home, "keys", algorithm);
    (keys.private, keys.public)
}

/// The envelope at `path`, checked with `public` by the library; returns
/// the statement it carries.
fn signed_statement(path: &Path, public: &Path) -> Value {
    let envelope = Envelope::parse(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(envelope.payload_type, PAYLOAD_TYPE);
    let key = PublicKey::read(public).unwrap();
    assert_eq!(envelope.signatures.len(), 1);
    assert_eq!(envelope.signatures[0].keyid, key.key_id());
    let verified = envelope.verify(std::slice::from_ref(&key)).unwrap();
    assert_eq!(verified.key_id, key.key_id());
    let payload = base64::engine::general_purpose::STANDARD
        .decode(&envelope.payload)
        .unwrap();
    assert_eq!(verified.payload, payload);
    serde_json::from_slice(&payload).unwrap()
}

/// Asserts the report and the signed statement of a passed run.
fn assert_signed_pass(fixture: &Fixture, run: &Run, public: &Path) {
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible");
    for (platform, manifest) in PLATFORMS.iter().zip(&fixture.written.manifests) {
        assert_eq!(
            platform_entry(&report, platform)["manifest_digest"],
            manifest.digest.as_str()
        );
    }
    let statement = signed_statement(&fixture.attestation(), public);
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["subject"], fixture.expected_subjects());
    assert_eq!(statement["predicate"]["verificationResult"], "PASSED");
    assert_eq!(
        statement["predicate"]["rebuildCompare"]["platforms"],
        json!([
            {"platform": PLATFORMS[0], "verdict": "reproducible",
             "manifest_digest": fixture.written.manifests[0].digest},
            {"platform": PLATFORMS[1], "verdict": "reproducible",
             "manifest_digest": fixture.written.manifests[1].digest},
        ])
    );
}

/// `python3 tests/it/support/dsse_check.py ARGS`: stdout, after checking it
/// succeeded.
fn python_check(args: &[&Path]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/dsse_check.py");
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs (run scripts/install-test-deps.sh)");
    assert!(
        out.status.success(),
        "dsse_check.py {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn key_generate_writes_a_private_key_only_its_owner_can_read() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("keys");
    let run = run_in(
        tmp.path(),
        &["key", "generate", "--out", dir.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let private = dir.join("rebuild-compare.key");
    let public = dir.join("rebuild-compare.pub");
    let mode = std::fs::metadata(&private).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let key = SigningKey::read(&private).unwrap();
    assert_eq!(key.algorithm(), Algorithm::P256);
    let public_key = PublicKey::read(&public).unwrap();
    assert_eq!(public_key.key_id(), key.key_id());
    assert_eq!(
        run.stdout,
        format!(
            "private key: {} (keep it secret: give it to `verify --sign-key`)\n\
             public key:  {} (publish it: verifiers check signatures with it)\n\
             key id:      {}\n",
            private.display(),
            public.display(),
            key.key_id()
        )
    );

    let pem = std::fs::read(&private).unwrap();
    let again = run_in(
        tmp.path(),
        &[
            "key",
            "generate",
            "--out",
            dir.to_str().unwrap(),
            "--algorithm",
            "ed25519",
        ],
    );
    assert_eq!(again.code, 2);
    assert_eq!(
        again.stderr,
        format!(
            "error: {} already exists: a key is never overwritten; move it away or give another --out DIR\n",
            private.display()
        )
    );
    assert_eq!(std::fs::read(&private).unwrap(), pem);
}

#[test]
fn p256_signed_attestation_is_an_envelope_of_the_statement_naming_image_manifests_and_binaries() {
    let fixture = fixture();
    let (private, public) = generate(fixture.home(), "p256");
    let run = fixture.verify(&[], &["--sign-key", private.to_str().unwrap()]);
    assert_signed_pass(&fixture, &run, &public);
}

#[test]
fn ed25519_key_from_the_environment_signs_and_never_reaches_the_build() {
    let fixture = fixture();
    let (private, public) = generate(fixture.home(), "ed25519");
    let pem = std::fs::read_to_string(&private).unwrap();
    let run = fixture.verify(&[("REBUILD_COMPARE_SIGN_KEY", &pem)], &[]);
    assert_signed_pass(&fixture, &run, &public);
    assert_eq!(
        PublicKey::read(&public).unwrap().algorithm(),
        Algorithm::Ed25519
    );
    let report = run.json();
    for platform in PLATFORMS {
        let log = platform_entry(&report, platform)["rebuilt"]["log"]
            .as_str()
            .unwrap();
        let seen = std::fs::read_to_string(log).unwrap();
        assert!(seen.contains("PATH="), "{seen}");
        assert!(!seen.contains("REBUILD_COMPARE_SIGN_KEY"), "{seen}");
        assert!(!seen.contains("PRIVATE KEY"), "{seen}");
    }
}

#[test]
fn python_cryptography_verifies_the_envelope_signature() {
    for algorithm in ["p256", "ed25519"] {
        let fixture = fixture();
        let (private, public) = generate(fixture.home(), algorithm);
        let run = fixture.verify(&[], &["--sign-key", private.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{algorithm}: {}", run.stderr);
        let key_id = PublicKey::read(&public).unwrap().key_id();
        assert_eq!(
            python_check(&[Path::new("verify"), &public, &fixture.attestation()]),
            format!("verified {key_id}\n"),
            "{algorithm}"
        );

        // And the other way: an envelope Python signs verifies here.
        let payload = fixture.home().join("payload.json");
        std::fs::write(&payload, br#"{"_type":"https://in-toto.io/Statement/v1"}"#).unwrap();
        let envelope = python_check(&[Path::new("sign"), &private, &payload]);
        let verified = Envelope::parse(envelope.as_bytes())
            .unwrap()
            .verify(&[PublicKey::read(&public).unwrap()])
            .unwrap();
        assert_eq!(verified.key_id, key_id, "{algorithm}");
        assert_eq!(verified.payload, std::fs::read(&payload).unwrap());
    }
}

/// `openssl ARGS`, after checking it succeeded.
fn openssl(args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .status()
        .expect("openssl runs (run scripts/install-test-deps.sh)");
    assert!(status.success(), "openssl {args:?}");
}

#[test]
fn bad_sign_keys_fail_in_one_line_before_anything_is_read_or_built() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let (private, public) = generate(home, "p256");
    let file = |name: &str, text: &str| {
        let path = home.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    let rsa = home.join("rsa.pem");
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        rsa.to_str().unwrap(),
    ]);
    let encrypted = home.join("encrypted.pem");
    openssl(&[
        "pkcs8",
        "-topk8",
        "-in",
        private.to_str().unwrap(),
        "-passout",
        "pass:secret",
        "-out",
        encrypted.to_str().unwrap(),
    ]);
    let cosign = file(
        "cosign.key",
        "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\neyJrZGYiOnt9fQ==\n-----END ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
    );
    let garbage = file("garbage.key", "not a key\n");
    let huge = file("huge.key", &"A".repeat(64 * 1024 + 1));
    let generate_hint = "(`rebuild-compare key generate --out DIR` makes a key pair)";

    let cases: Vec<(Vec<&str>, Option<&str>, String)> = vec![
        (
            vec!["--sign-key", rsa.to_str().unwrap()],
            None,
            format!("{}: the key is RSA; only ECDSA P-256 and Ed25519 keys are supported {generate_hint}", rsa.display()),
        ),
        (
            vec!["--sign-key", encrypted.to_str().unwrap()],
            None,
            format!(
                "{}: the private key is encrypted; decrypt it first: \
                 `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.plain` (and keep the result private)",
                encrypted.display()
            ),
        ),
        (
            vec!["--sign-key", cosign.to_str().unwrap()],
            None,
            format!(
                "{}: an encrypted cosign key cannot be read; sign with an unencrypted PKCS#8 PEM key \
                 (`rebuild-compare key generate --out DIR` makes a key pair; \
                 `cosign import-key-pair --key FILE` lets cosign use the same key)",
                cosign.display()
            ),
        ),
        (
            vec!["--sign-key", public.to_str().unwrap()],
            None,
            format!(
                "{}: a public key where the private key is expected; give the private key \
                 (`rebuild-compare.key`), not the `.pub`",
                public.display()
            ),
        ),
        (
            vec!["--sign-key", garbage.to_str().unwrap()],
            None,
            format!("{}: not a PEM key (no `-----BEGIN ...-----` line); give a PEM key file {generate_hint}", garbage.display()),
        ),
        (
            vec!["--sign-key", huge.to_str().unwrap()],
            None,
            format!("{}: larger than 64 KiB, so not a key; give a PEM key file {generate_hint}", huge.display()),
        ),
        (
            vec![],
            Some("not a key"),
            format!("REBUILD_COMPARE_SIGN_KEY: not a PEM key (no `-----BEGIN ...-----` line); give a PEM key file {generate_hint}"),
        ),
    ];
    let attestation = home.join("attestation.json");
    let out_dir = home.join("out");
    // Nothing listens on port 9: a run that got as far as the image would
    // fail differently.
    let base = [
        "verify",
        "127.0.0.1:9/never/pulled",
        VERSION,
        "--out-dir",
        out_dir.to_str().unwrap(),
    ];
    for (extra, env, message) in cases {
        let mut args = base.to_vec();
        args.extend(["--attest", attestation.to_str().unwrap()]);
        args.extend(&extra);
        let env: Vec<(&str, &str)> = env
            .map(|v| ("REBUILD_COMPARE_SIGN_KEY", v))
            .into_iter()
            .collect();
        let run = run_in_env(home, &env, &args);
        assert_eq!(
            (run.code, run.stderr),
            (2, format!("error: {message}\n")),
            "{extra:?}"
        );
        assert!(!out_dir.exists() && !attestation.exists() && !home.join("cache").exists());
    }

    // A key with nothing to sign.
    let mut args = base.to_vec();
    args.extend(["--sign-key", private.to_str().unwrap()]);
    let run = run_in(home, &args);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (
            2,
            "error: --sign-key signs an attestation, but none is written: add --attest FILE or --push-attestation\n"
        )
    );
    assert!(!out_dir.exists() && !home.join("cache").exists());
}
