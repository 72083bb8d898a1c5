//! Signed attestations attached to images and checked by anyone:
//! `verify --sign-key K --push-attestation` against a loopback registry,
//! then `attestation verify IMAGE --key PUB`, with several rebuilders,
//! failed verdicts, hostile attachments planted straight into the registry,
//! and local envelope files. skopeo reads what was pushed. Registries
//! with the OCI 1.1 referrers API (Debian's docker-registry 2.8 has none)
//! are played by an in-memory [`ReferrersRegistry`], honest or planted with
//! hostile answers.

use crate::support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rebuild_compare::attest::attach::ReferrerIndex;
use rebuild_compare::attest::dsse;
use rebuild_compare::attest::keys::SigningKey;
use rebuild_compare::attest::lookup::attach_to_image;
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::digest::Digest;
use rebuild_compare::image::AccessOptions;
use serde_json::{json, Value};
use support::cli::{run_in, Run};
use support::fast_app::{
    app_image_set, faithful_set, fast_binary, fast_source, publish, write_recipe, FAST_BUILD,
    VERSION,
};
use support::keys::KeyPair;
use support::skopeo::{inspect_raw_json, skopeo_ok};
use support::{sha256_digest, Filter, ImageSet, ReferrersRegistry, Registry};

const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
const VSA: &str = "https://slsa.dev/verification_summary/v1";
const PLATFORMS: [&str; 2] = ["linux/amd64", "linux/arm64"];

/// A published release of the no-time app in `repo` (`faithful` or with a
/// changed amd64 binary), its recipe and source.
struct Release {
    image: String,
    digest: String,
    recipe: PathBuf,
    source: PathBuf,
}

fn release(registry: &Registry, home: &Path, repo: &str, set: &ImageSet) -> Release {
    let dir = home.join(repo.replace('/', "-"));
    std::fs::create_dir_all(&dir).unwrap();
    publish(registry, &dir.join("layout"), set, repo);
    let (source, _) = fast_source(&dir);
    let recipe = write_recipe(
        &dir,
        "app",
        &format!("{}/{repo}", registry.host()),
        FAST_BUILD,
    );
    let image = registry.reference(&format!("{repo}:{VERSION}"));
    let digest = current_digest(registry, repo);
    Release {
        image,
        digest,
        recipe,
        source,
    }
}

/// A loopback registry, a home, and `tools/app` published faithfully
/// for both platforms.
fn faithful_release() -> (Registry, tempfile::TempDir, Release) {
    let registry = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let release = release(
        &registry,
        home.path(),
        "tools/app",
        &faithful_set(&PLATFORMS),
    );
    (registry, home, release)
}

fn current_digest(registry: &Registry, repo: &str) -> String {
    let response = registry.get_manifest(repo, VERSION);
    assert_eq!(response.status, 200);
    sha256_digest(&response.body)
}

/// `verify` of the release, signed with `keys`, plus `extra`.
fn verify_signed(home: &Path, release: &Release, keys: &KeyPair, extra: &[&str]) -> Run {
    let out = keys.private.with_extension("out");
    let mut args = vec![
        release.image.as_str(),
        VERSION,
        "--recipe",
        release.recipe.to_str().unwrap(),
        "--source",
        release.source.to_str().unwrap(),
        "--format",
        "json",
        "--out-dir",
        out.to_str().unwrap(),
        "--sign-key",
        keys.private.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// `verify` of the release, signed with `keys` and attached to the image.
fn verify_and_attach(home: &Path, release: &Release, keys: &KeyPair, extra: &[&str]) -> Run {
    let mut args = vec!["--push-attestation"];
    args.extend_from_slice(extra);
    verify_signed(home, release, keys, &args)
}

/// `verify` of the release, signed with `keys` into the envelope file `path`.
fn verify_to_file(home: &Path, release: &Release, keys: &KeyPair, path: &Path) {
    verify_signed(home, release, keys, &["--attest", path.to_str().unwrap()]).report(0);
}

/// `attestation verify TARGET --key …  --format json` plus `extra`.
fn check(home: &Path, target: &str, keys: &[&KeyPair], extra: &[&str]) -> Run {
    let mut args = vec!["attestation", "verify", target, "--format", "json"];
    for keys in keys {
        args.extend(["--key", keys.public.to_str().unwrap()]);
    }
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// The statement a DSSE envelope carries (unchecked).
fn signed_payload(envelope: &[u8]) -> Value {
    let envelope: Value = serde_json::from_slice(envelope).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice(&payload).unwrap()
}

fn hex_of(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

fn errors_of(report: &Value) -> Vec<String> {
    report["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["error"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_pushed_attestation_verifies_with_its_key_and_is_an_oci_artifact_skopeo_reads() {
    let (registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");

    let run = verify_and_attach(home.path(), &release, &keys, &[]);
    run.report(0);
    assert!(
        run.stderr
            .contains(&format!("sha256-{}.att", hex_of(&release.digest))),
        "the push is reported: {}",
        run.stderr
    );

    let report = check(home.path(), &release.image, &[&keys], &[]).report(0);
    assert_eq!(report["outcome"], "PASSED");
    assert_eq!(report["digest"], release.digest);
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "PASSED"), ("linux/arm64", "PASSED")])
    );
    let attestations = report["attestations"].as_array().unwrap();
    assert_eq!(
        attestations.len(),
        3,
        "one per platform and the index-level one; each .att layer and its referrer are one envelope: {report:#}"
    );
    for attestation in attestations {
        assert_eq!(attestation["error"], Value::Null);
        assert_eq!(attestation["result"], "PASSED");
        assert_eq!(attestation["key_id"], keys.id());
        assert_eq!(
            attestation["verifier_id"],
            "urn:rebuild-compare:unnamed-verifier"
        );
    }
    let claims: Vec<&Value> = attestations.iter().map(|a| &a["platforms"]).collect();
    assert_eq!(
        claims,
        [
            &json!([{"platform": "linux/amd64", "verdict": "reproducible"}]),
            &json!([{"platform": "linux/arm64", "verdict": "reproducible"}]),
            &json!([
                {"platform": "linux/amd64", "verdict": "reproducible"},
                {"platform": "linux/arm64", "verdict": "reproducible"}
            ])
        ]
    );

    // The cosign layout, as skopeo reads it.
    let att_ref = registry.reference(&format!("tools/app:sha256-{}.att", hex_of(&release.digest)));
    let manifest = inspect_raw_json(&att_ref, None);
    assert_eq!(
        manifest["mediaType"],
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    for layer in layers {
        assert_eq!(layer["mediaType"], DSSE);
        assert_eq!(
            layer["annotations"],
            json!({"dev.cosignproject.cosign/signature": "", "predicateType": VSA})
        );
    }
    let copy = home.path().join("att-copy");
    skopeo_ok(&[
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{att_ref}"),
        &format!("oci:{}:att", copy.display()),
    ]);
    let statement_in = |layer: &Value| -> Value {
        let envelope: Value = serde_json::from_slice(
            &std::fs::read(
                copy.join("blobs/sha256")
                    .join(hex_of(layer["digest"].as_str().unwrap())),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
        assert_eq!(envelope["signatures"][0]["keyid"], keys.id());
        signed_payload(&serde_json::to_vec(&envelope).unwrap())
    };
    // Each platform's statement names its manifest first, the index beside
    // it, then its binary; the index-level one names the envelopes it rests on.
    let name = registry.reference("tools/app");
    for (n, (platform, manifest)) in platform_manifests(&registry, &release).iter().enumerate() {
        let statement = statement_in(&layers[n]);
        let subjects: Vec<&str> = statement["subject"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        let binary = format!("{platform}:/usr/local/bin/app");
        assert_eq!(
            subjects,
            [format!("{name}@{manifest}"), release.image.clone(), binary]
        );
        assert_eq!(
            statement["subject"][0]["digest"]["sha256"],
            hex_of(manifest)
        );
        assert_eq!(
            statement["predicate"]["resourceUri"],
            format!("{name}@{manifest}")
        );
    }
    let index = statement_in(&layers[2]);
    assert_eq!(
        index["subject"][0]["digest"]["sha256"],
        hex_of(&release.digest)
    );
    assert_eq!(index["predicate"]["verificationResult"], "PASSED");
    assert_eq!(
        index["predicate"]["inputAttestations"],
        json!([
            {"name": "linux/amd64", "digest": {"sha256": hex_of(layers[0]["digest"].as_str().unwrap())}},
            {"name": "linux/arm64", "digest": {"sha256": hex_of(layers[1]["digest"].as_str().unwrap())}}
        ])
    );
    let layer_digest = layers[0]["digest"].as_str().unwrap();

    // The registry (distribution 2.8) has no referrers API: the referrer is
    // listed under the referrers tag schema's tag, with the image as subject.
    let index = inspect_raw_json(
        &registry.reference(&format!("tools/app:sha256-{}", hex_of(&release.digest))),
        None,
    );
    assert_eq!(index["manifests"].as_array().unwrap().len(), 3);
    assert_eq!(index["manifests"][0]["artifactType"], DSSE);
    let referrer = registry.get_manifest(
        "tools/app",
        index["manifests"][0]["digest"].as_str().unwrap(),
    );
    let referrer: Value = serde_json::from_slice(&referrer.body).unwrap();
    assert_eq!(referrer["subject"]["digest"], release.digest);
    assert_eq!(referrer["layers"][0]["digest"], layer_digest);
}

#[test]
fn a_second_rebuilders_attestation_accumulates_and_both_verify() {
    let (registry, home, release) = faithful_release();
    let first = KeyPair::generate(home.path(), "first", "p256");
    let second = KeyPair::generate(home.path(), "second", "ed25519");

    verify_and_attach(
        home.path(),
        &release,
        &first,
        &["--verifier-id", "urn:test:first"],
    )
    .report(0);
    verify_and_attach(
        home.path(),
        &release,
        &second,
        &["--verifier-id", "urn:test:second"],
    )
    .report(0);

    let att_ref = registry.reference(&format!("tools/app:sha256-{}.att", hex_of(&release.digest)));
    assert_eq!(
        inspect_raw_json(&att_ref, None)["layers"]
            .as_array()
            .unwrap()
            .len(),
        6,
        "two platforms and the index-level statement, by each rebuilder"
    );

    let both = check(home.path(), &release.image, &[&first, &second], &[]).report(0);
    let signers: Vec<(&str, &str)> = both["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key_id"].as_str().unwrap(),
                a["verifier_id"].as_str().unwrap(),
            )
        })
        .collect();
    let (first_id, second_id) = (first.id(), second.id());
    assert_eq!(
        signers,
        [
            (first_id.as_str(), "urn:test:first"),
            (first_id.as_str(), "urn:test:first"),
            (first_id.as_str(), "urn:test:first"),
            (second_id.as_str(), "urn:test:second"),
            (second_id.as_str(), "urn:test:second"),
            (second_id.as_str(), "urn:test:second")
        ]
    );

    let text = run_in(
        home.path(),
        &[
            "attestation",
            "verify",
            &release.image,
            "--key",
            first.public.to_str().unwrap(),
            "--key",
            second.public.to_str().unwrap(),
        ],
    );
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout.contains(&format!(
            "  signer    key {}\n  verifier  urn:test:second\n",
            second.id()
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("  result    PASSED (linux/amd64 reproducible, linux/arm64 reproducible)\n"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.ends_with("PASSED: the newest valid attestation of each platform (2) says it was reproduced (6 of 6 attestations valid)\n"), "{}", text.stdout);

    // With one key, the other rebuilder's attestation does not count.
    let only_second = check(home.path(), &release.image, &[&second], &[]).report(0);
    let errors = errors_of(&only_second);
    for error in &errors[..3] {
        assert!(
            error.starts_with("none of the envelope's 1 signature(s) was made by the given key(s)"),
            "{errors:?}"
        );
    }
    assert_eq!(errors[3..], ["", "", ""]);

    // Nor does an attestation by another verifier than the one asked for.
    let run = check(
        home.path(),
        &release.image,
        &[&second],
        &["--verifier-id", "urn:test:first"],
    );
    let report = run.report(2);
    assert_eq!(report["outcome"], "UNVERIFIED");
    assert_eq!(
        errors_of(&report)[3],
        "made by verifier urn:test:second, not urn:test:first"
    );
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "INVALID"), ("linux/arm64", "INVALID")])
    );
}

#[test]
fn an_attested_mismatch_makes_attestation_verify_exit_1() {
    let registry = Registry::start();
    let home = tempfile::tempdir().unwrap();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    let altered = app_image_set(&[
        ("linux/amd64", b"app linux/amd64 with a beacon\n".to_vec()),
        ("linux/arm64", fast_binary("linux/arm64")),
    ]);
    let release = release(&registry, home.path(), "tools/app", &altered);

    verify_and_attach(home.path(), &release, &keys, &[]).report(1);

    let run = check(home.path(), &release.image, &[&keys], &[]);
    let report = run.report(1);
    assert_eq!(report["outcome"], "FAILED");
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "FAILED"), ("linux/arm64", "PASSED")])
    );
    let results: Vec<&Value> = report["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["result"])
        .collect();
    assert_eq!(results, ["FAILED", "PASSED", "FAILED"]);
    assert_eq!(
        report["attestations"][0]["platforms"],
        json!([{"platform": "linux/amd64", "verdict": "mismatch"}])
    );
    assert_eq!(
        report["attestations"][2]["platforms"],
        json!([
            {"platform": "linux/amd64", "verdict": "mismatch"},
            {"platform": "linux/arm64", "verdict": "reproducible"}
        ])
    );
}

#[test]
fn tampered_foreign_and_oversized_attachments_never_pass() {
    let (registry, home, attested) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    let envelope_path = home.path().join("app.dsse.json");
    verify_to_file(home.path(), &attested, &keys, &envelope_path);
    let envelope = std::fs::read(&envelope_path).unwrap();

    // Another image, to which the hostile attachments are planted.
    let other = release(
        &registry,
        home.path(),
        "tools/other",
        &faithful_set(&["linux/amd64"]),
    );
    let mut tampered: Value = serde_json::from_slice(&envelope).unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(tampered["payload"].as_str().unwrap())
        .unwrap();
    let forged = String::from_utf8(payload)
        .unwrap()
        .replace(hex_of(&attested.digest), hex_of(&other.digest));
    tampered["payload"] = base64::engine::general_purpose::STANDARD
        .encode(forged)
        .into();
    let tampered = serde_json::to_vec(&tampered).unwrap();

    let layer = |bytes: &[u8]| {
        let digest = registry.upload_blob("tools/other", bytes);
        json!({"mediaType": DSSE, "digest": digest, "size": bytes.len(),
               "annotations": {"dev.cosignproject.cosign/signature": "", "predicateType": VSA}})
    };
    let huge =
        json!({"mediaType": DSSE, "digest": sha256_digest(b"never stored"), "size": 100u64 << 20});
    let mut lying = layer(&envelope);
    lying["size"] = json!(40);
    let config = registry.upload_blob("tools/other", b"{}");
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 2},
        "layers": [layer(&envelope), layer(&tampered), huge, lying]
    });
    // Planted straight into storage: the registry would refuse a layer it
    // does not hold, and a hostile one need not.
    registry.plant_manifest(
        "tools/other",
        &format!("sha256-{}.att", hex_of(&other.digest)),
        &serde_json::to_vec(&manifest).unwrap(),
    );

    let run = check(home.path(), &other.image, &[&keys], &[]);
    let report = run.report(2);
    assert_eq!(report["outcome"], "UNVERIFIED");
    let errors = errors_of(&report);
    assert_eq!(errors.len(), 4, "{report:#}");
    assert_eq!(
        errors[0],
        format!(
            "the statement is about another image: its subjects do not include {}",
            other.digest
        )
    );
    assert!(
        errors[1].starts_with("none of the envelope's 1 signature(s)"),
        "{}",
        errors[1]
    );
    assert!(
        errors[2].contains("declares 104857600 bytes, more than the 4194304"),
        "{}",
        errors[2]
    );
    assert!(
        !errors[3].is_empty(),
        "a layer whose bytes are not its digest is refused"
    );
    assert!(
        run.stderr.is_empty() || !run.stderr.contains("panicked"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_local_envelope_file_is_checked_against_the_given_keys() {
    let (registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "ed25519");
    let stranger = KeyPair::generate(home.path(), "stranger", "p256");
    let envelope = home.path().join("app.dsse.json");
    verify_to_file(home.path(), &release, &keys, &envelope);

    let report = check(home.path(), envelope.to_str().unwrap(), &[&keys], &[]).report(0);
    assert_eq!(report["digest"], Value::Null);
    assert_eq!(
        report["attestations"][0]["resource_uri"],
        format!("{}/tools/app@{}", registry.host(), release.digest)
    );
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "PASSED"), ("linux/arm64", "PASSED")])
    );
    assert_eq!(report["platforms"][0]["manifest_digest"], Value::Null);

    // The file holds the index-level statement; each platform's is beside
    // it, named by the index-level one, and checks alone.
    let statement = signed_payload(&std::fs::read(&envelope).unwrap());
    let mut rests_on = Vec::new();
    for platform in PLATFORMS {
        let beside = home
            .path()
            .join(format!("app.dsse.{}.json", platform.replace('/', "-")));
        let bytes = std::fs::read(&beside).unwrap();
        rests_on
            .push(json!({"name": platform, "digest": {"sha256": hex_of(&sha256_digest(&bytes))}}));
        assert_eq!(
            signed_payload(&bytes)["subject"][0]["digest"]["sha256"],
            hex_of(&manifest_of(&registry, &release, platform))
        );
        let alone = check(home.path(), beside.to_str().unwrap(), &[&keys], &[]).report(0);
        assert_eq!(statuses(&alone), pairs(&[(platform, "PASSED")]));
    }
    assert_eq!(
        statement["predicate"]["inputAttestations"],
        Value::Array(rests_on)
    );
    let run = check(home.path(), envelope.to_str().unwrap(), &[&stranger], &[]);
    let report = run.report(2);
    assert_eq!(report["outcome"], "UNVERIFIED");
    assert_eq!(report["platforms"], json!([]));
    assert!(
        run.stderr.contains(&format!(
            "no attestation signed by the given key(s) is valid for {}",
            envelope.display()
        )),
        "{}",
        run.stderr
    );

    let garbage = home.path().join("garbage.json");
    std::fs::write(&garbage, b"{\"payloadType\": 7").unwrap();
    let run = check(home.path(), garbage.to_str().unwrap(), &[&keys], &[]);
    assert_eq!(
        run.report(2)["attestations"][0]["error"]
            .as_str()
            .unwrap()
            .lines()
            .count(),
        1
    );
}

#[test]
fn an_image_without_attestations_is_unverified() {
    let (_registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    let run = run_in(
        home.path(),
        &[
            "attestation",
            "verify",
            &release.image,
            "--key",
            keys.public.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("no attestations are attached to this image"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("UNVERIFIED"), "{}", run.stdout);
}

#[test]
fn push_attestation_needs_a_signing_key_and_a_registry_image() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(
        home.path(),
        &[
            "127.0.0.1:1/tools/app:v1.0.0",
            VERSION,
            "--recipe",
            "/nonexistent.toml",
            "--push-attestation",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--push-attestation needs a signing key"),
        "{}",
        run.stderr
    );

    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    let run = run_in(
        home.path(),
        &[
            &format!("oci:{}", home.path().join("layout").display()),
            VERSION,
            "--recipe",
            "/nonexistent.toml",
            "--sign-key",
            keys.private.to_str().unwrap(),
            "--push-attestation",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--push-attestation needs an image in a registry"),
        "{}",
        run.stderr
    );
}

// The per-platform rule, against envelopes signed and attached by the test.

/// Each platform of `release` and its manifest digest, as its index lists them.
fn platform_manifests(registry: &Registry, release: &Release) -> Vec<(String, String)> {
    let index: Value =
        serde_json::from_slice(&registry.get_manifest("tools/app", &release.digest).body).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let platform = &m["platform"];
            (
                format!(
                    "{}/{}",
                    platform["os"].as_str().unwrap(),
                    platform["architecture"].as_str().unwrap()
                ),
                m["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The manifest digest of `platform` in `release`.
fn manifest_of(registry: &Registry, release: &Release, platform: &str) -> String {
    platform_manifests(registry, release)
        .into_iter()
        .find(|(p, _)| p == platform)
        .unwrap()
        .1
}

/// Signs with `keys` rebuild-compare's statement about one platform of
/// `release` (its manifest first, the index beside it) with `verdict`,
/// verified at `time`, and attaches it to the image.
fn attest_platform(
    registry: &Registry,
    home: &Path,
    release: &Release,
    keys: &KeyPair,
    platform: &str,
    verdict: &str,
    time: &str,
) {
    let name = registry.reference("tools/app");
    let manifest = manifest_of(registry, release, platform);
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": format!("{name}@{manifest}"), "digest": {"sha256": hex_of(&manifest)}},
            {"name": release.image, "digest": {"sha256": hex_of(&release.digest)}}
        ],
        "predicateType": VSA,
        "predicate": {
            "verifier": {"id": "urn:test:rebuilder"},
            "timeVerified": time,
            "resourceUri": format!("{name}@{manifest}"),
            "verificationResult": if verdict == "reproducible" { "PASSED" } else { "FAILED" },
            "rebuildCompare": {"platforms": [
                {"platform": platform, "verdict": verdict, "manifest_digest": manifest}
            ]}
        }
    });
    let key = SigningKey::read(&keys.private).unwrap();
    let envelope = dsse::sign(&serde_json::to_vec(&statement).unwrap(), &key)
        .to_json()
        .unwrap();
    attach_to_image(
        &name,
        &Digest::parse(&release.digest).unwrap(),
        envelope.as_bytes(),
        &access(home),
    )
    .unwrap();
}

/// Each platform's (platform, status) in an `attestation verify` report.
fn statuses(report: &Value) -> Vec<(String, String)> {
    report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_string(),
                p["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect()
}

const TIME: &str = "2026-12-01T00:00:00Z";

#[test]
fn a_signed_failed_platform_is_not_hidden_by_a_signed_passed_one() {
    let (registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "reproducible",
        TIME,
    );
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/arm64",
        "mismatch",
        TIME,
    );

    let report = check(home.path(), &release.image, &[&keys], &[]).report(1);
    assert_eq!(report["outcome"], "FAILED");
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "PASSED"), ("linux/arm64", "FAILED")])
    );
    let arm64 = &report["platforms"][1];
    assert_eq!(
        arm64["manifest_digest"],
        manifest_of(&registry, &release, "linux/arm64")
    );
    assert_eq!(arm64["time_verified"], TIME);
    assert_eq!(arm64["source"], report["attestations"][1]["source"]);
    assert_eq!(arm64["reason"], "the one valid attestation that covers it");

    let text = run_in(
        home.path(),
        &[
            "attestation",
            "verify",
            &release.image,
            "--key",
            keys.public.to_str().unwrap(),
        ],
    );
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(
        text.stdout.contains(&format!(
            "\nlinux/amd64  PASSED      attestation 1, {TIME}: the one valid attestation that covers it\n\
             linux/arm64  FAILED      attestation 2, {TIME}: the one valid attestation that covers it\n"
        )),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout.ends_with(
            "FAILED: the newest valid attestation of linux/arm64 says it was not reproduced (2 of 2 attestations valid)\n"
        ),
        "{}",
        text.stdout
    );

    // Asked about the platform that passed only, the image passes.
    let amd64 = check(
        home.path(),
        &release.image,
        &[&keys],
        &["--platform", "linux/amd64"],
    )
    .report(0);
    assert_eq!(amd64["outcome"], "PASSED");
    assert_eq!(statuses(&amd64), pairs(&[("linux/amd64", "PASSED")]));
}

#[test]
fn an_image_with_one_platform_unattested_is_unverified_unless_only_the_other_is_asked_for() {
    let (registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "ed25519");
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "reproducible",
        TIME,
    );

    let run = check(home.path(), &release.image, &[&keys], &[]);
    let report = run.report(2);
    assert_eq!(report["outcome"], "UNVERIFIED");
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "PASSED"), ("linux/arm64", "UNATTESTED")])
    );
    assert_eq!(
        report["platforms"][1]["reason"],
        format!(
            "no valid attestation by a given key covers its manifest {}",
            manifest_of(&registry, &release, "linux/arm64")
        )
    );
    assert!(
        run.stderr.contains(&format!(
            "not every platform of {} has a valid attestation signed by the given key(s)",
            release.image
        )),
        "{}",
        run.stderr
    );

    let amd64 = check(
        home.path(),
        &release.image,
        &[&keys],
        &["--platform", "linux/amd64"],
    );
    assert_eq!(amd64.report(0)["outcome"], "PASSED");

    let elsewhere = check(
        home.path(),
        &release.image,
        &[&keys],
        &["--platform", "linux/s390x"],
    );
    assert_eq!(elsewhere.code, 2);
    assert!(elsewhere.stdout.is_empty(), "{}", elsewhere.stdout);
    assert!(
        elsewhere.stderr.contains(
            "platform linux/s390x is not in the image; available: linux/amd64, linux/arm64"
        ),
        "{}",
        elsewhere.stderr
    );
}

#[test]
fn a_newer_failed_attestation_overrides_an_older_passed_one_for_its_platform() {
    let (registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    // Attached newest first: the order found is not the order made.
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "mismatch",
        "2026-12-02T00:00:00Z",
    );
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "reproducible",
        TIME,
    );
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/arm64",
        "reproducible",
        TIME,
    );

    let report = check(home.path(), &release.image, &[&keys], &[]).report(1);
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "FAILED"), ("linux/arm64", "PASSED")])
    );
    let amd64 = &report["platforms"][0];
    assert_eq!(amd64["time_verified"], "2026-12-02T00:00:00Z");
    assert_eq!(
        amd64["reason"],
        "the newest of 2 valid attestations that cover it"
    );

    // A still newer pass decides in turn.
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "reproducible",
        "2026-12-03T00:00:00Z",
    );
    let report = check(home.path(), &release.image, &[&keys], &[]).report(0);
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "PASSED"), ("linux/arm64", "PASSED")])
    );
}

#[test]
fn an_attestation_whose_time_verified_is_not_a_time_is_invalid_not_dated_1970() {
    let (registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "reproducible",
        "yesterday",
    );
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/arm64",
        "reproducible",
        TIME,
    );

    let report = check(home.path(), &release.image, &[&keys], &[]).report(2);
    assert_eq!(report["outcome"], "UNVERIFIED");
    assert_eq!(
        statuses(&report),
        pairs(&[("linux/amd64", "INVALID"), ("linux/arm64", "PASSED")])
    );
    let reason = report["platforms"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("its timeVerified \"yesterday\" is not an RFC 3339 time in UTC ("),
        "{reason}"
    );
    assert_eq!(report["attestations"][0]["error"], reason);
    assert_eq!(report["attestations"][0]["result"], Value::Null);
}

#[test]
fn ledger_from_the_registry_records_each_platform_from_its_newest_valid_attestation() {
    let (registry, home, release) = faithful_release();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "reproducible",
        TIME,
    );
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/amd64",
        "mismatch",
        "2026-12-02T00:00:00Z",
    );
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/arm64",
        "reproducible",
        TIME,
    );
    attest_platform(
        &registry,
        home.path(),
        &release,
        &keys,
        "linux/arm64",
        "mismatch",
        "yesterday",
    );
    let watch_list = home.path().join("watch.toml");
    std::fs::write(
        &watch_list,
        format!(
            "[[image]]\nreference = \"{}\"\nversions = \">=1.0.0, <2\"\nrecipe = \"{}\"\n",
            registry.reference("tools/app"),
            release.recipe.display()
        ),
    )
    .unwrap();
    let empty = home.path().join("empty-ledger");
    std::fs::create_dir_all(empty.join("jobs")).unwrap();
    let site = home.path().join("site");
    let run = run_in(
        home.path(),
        &[
            "ledger",
            empty.to_str().unwrap(),
            "--from-registry",
            watch_list.to_str().unwrap(),
            "--key",
            keys.public.to_str().unwrap(),
            "--site",
            site.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("its timeVerified \"yesterday\" is not an RFC 3339 time in UTC"),
        "{}",
        run.stderr
    );

    let ledger: Value =
        serde_json::from_slice(&std::fs::read(site.join("ledger.json")).unwrap()).unwrap();
    assert_eq!(
        ledger["totals"]["runs"], 2,
        "one run per platform: {ledger:#}"
    );
    let cells: Vec<(&str, &str, &str, u64)> = ledger["images"][0]["versions"][0]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cell| {
            (
                cell["platform"].as_str().unwrap(),
                cell["verdict"].as_str().unwrap(),
                cell["source"].as_str().unwrap(),
                cell["runs"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        cells,
        [
            ("linux/amd64", "mismatch", "registry", 1),
            ("linux/arm64", "reproducible", "registry", 1)
        ]
    );
}

// Registries with the OCI 1.1 referrers API: an in-memory one on loopback.

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const EMPTY: &[u8] = b"{}";

/// A small one-layer image `repo:v1` stored in `registry`: the descriptor
/// of its manifest.
fn small_image(registry: &ReferrersRegistry, repo: &str) -> Value {
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let layer = b"a layer";
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": registry.put_blob(repo, config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": registry.put_blob(repo, layer), "size": layer.len()}]
    }))
    .unwrap();
    let digest = registry.put_manifest(repo, Some("v1"), OCI_MANIFEST, &manifest);
    json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": manifest.len()})
}

/// A DSSE envelope signed with `keys`: a PASSED verification summary about
/// `name@digest`.
fn envelope_about(keys: &KeyPair, name: &str, digest: &str) -> Vec<u8> {
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": hex_of(digest)}}],
        "predicateType": VSA,
        "predicate": {
            "verifier": {"id": "urn:test:rebuilder"},
            "timeVerified": "2026-12-01T00:00:00Z",
            "resourceUri": format!("{name}@{digest}"),
            "verificationResult": "PASSED",
            "rebuildCompare": {"platforms": [{"platform": "linux/amd64", "verdict": "reproducible"}]}
        }
    });
    let key = SigningKey::read(&keys.private).unwrap();
    dsse::sign(&serde_json::to_vec(&statement).unwrap(), &key)
        .to_json()
        .unwrap()
        .into_bytes()
}

/// Stores a referrer of `subject` in `repo`: a manifest of `artifact_type`
/// with one layer `layer` of the same media type; its digest.
fn put_referrer(
    registry: &ReferrersRegistry,
    repo: &str,
    subject: &Value,
    artifact_type: &str,
    layer: &[u8],
) -> String {
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": artifact_type,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                   "digest": registry.put_blob(repo, EMPTY), "size": EMPTY.len()},
        "layers": [{"mediaType": artifact_type,
                    "digest": registry.put_blob(repo, layer), "size": layer.len()}],
        "subject": subject
    }))
    .unwrap();
    registry.put_manifest(repo, None, OCI_MANIFEST, &manifest)
}

/// Library access for `home`: a cache there and no credentials.
fn access(home: &Path) -> AccessOptions {
    let authfile = home.join("no-auth.json");
    std::fs::write(&authfile, r#"{"auths": {}}"#).unwrap();
    AccessOptions {
        authfile: Some(authfile),
        ..AccessOptions::new(Cache::new(Some(&home.join("cache"))).unwrap())
    }
}

/// `METHOD target` of every request the registry received.
fn requests(registry: &ReferrersRegistry) -> Vec<String> {
    registry
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

/// A scripted OCI 1.1 registry holding `tools/app:v1`, a key pair, and an
/// envelope signed with it about that image.
struct Signed {
    registry: ReferrersRegistry,
    home: tempfile::TempDir,
    keys: KeyPair,
    image: Value,
    name: String,
    envelope: Vec<u8>,
}

fn signed_image(filter: Filter, algorithm: &str) -> Signed {
    let registry = ReferrersRegistry::start(filter);
    let home = tempfile::tempdir().unwrap();
    let keys = KeyPair::generate(home.path(), "rebuilder", algorithm);
    let image = small_image(&registry, "tools/app");
    let name = registry.reference("tools/app");
    let envelope = envelope_about(&keys, &name, image["digest"].as_str().unwrap());
    Signed {
        registry,
        home,
        keys,
        image,
        name,
        envelope,
    }
}

#[test]
fn a_registry_with_the_referrers_api_lists_the_attestation_without_the_fallback_tag() {
    let Signed {
        registry,
        home,
        keys,
        image,
        name,
        envelope,
    } = signed_image(Filter::Honoured, "p256");
    let digest = image["digest"].as_str().unwrap();

    let attached = attach_to_image(
        &name,
        &Digest::parse(digest).unwrap(),
        &envelope,
        &access(home.path()),
    )
    .unwrap();
    let att_tag = format!("sha256-{}.att", hex_of(digest));
    assert_eq!(attached.att_tag, att_tag);
    assert_eq!(attached.referrer_index, ReferrerIndex::Api);

    let layer_digest = sha256_digest(&envelope);
    let att = registry.manifest("tools/app", &att_tag).unwrap();
    assert_eq!(att["layers"].as_array().unwrap().len(), 1);
    assert_eq!(att["layers"][0]["digest"], layer_digest);
    let referrer = registry
        .manifest("tools/app", &attached.referrer.to_string())
        .unwrap();
    assert_eq!(referrer["subject"], image);
    assert_eq!(referrer["artifactType"], DSSE);
    assert_eq!(referrer["layers"][0]["digest"], layer_digest);
    // The registry indexes the referrer itself: no referrers tag schema tag.
    assert_eq!(registry.tags("tools/app"), [att_tag.as_str(), "v1"]);

    let report = check(home.path(), &format!("{name}:v1"), &[&keys], &[]).report(0);
    assert_eq!(report["outcome"], "PASSED");
    assert_eq!(report["digest"], digest);
    let attestations = report["attestations"].as_array().unwrap();
    assert_eq!(
        attestations.len(),
        1,
        "the .att layer and the referrer are one envelope: {report:#}"
    );
    assert_eq!(attestations[0]["error"], Value::Null);
    assert_eq!(attestations[0]["result"], "PASSED");
    assert_eq!(attestations[0]["key_id"], keys.id());
    assert_eq!(
        attestations[0]["source"],
        format!("tag {att_tag}, layer 1 ({layer_digest})")
    );

    let requests = requests(&registry);
    assert!(
        requests.contains(&format!(
            "GET /v2/tools/app/referrers/{digest}?artifactType=application%2Fvnd.dsse.envelope.v1%2Bjson"
        )),
        "{requests:#?}"
    );
    let fallback = format!("/manifests/sha256-{}", hex_of(digest));
    assert!(
        !requests.iter().any(|r| r.ends_with(&fallback)),
        "the fallback tag is neither written nor read: {requests:#?}"
    );
}

#[test]
fn referrers_that_are_not_attestations_are_ignored() {
    let Signed {
        registry,
        home,
        keys,
        image,
        name,
        envelope,
    } = signed_image(Filter::Ignored, "p256");
    let digest = image["digest"].as_str().unwrap();
    let referrer = put_referrer(&registry, "tools/app", &image, DSSE, &envelope);
    let sbom_layer = br#"{"spdxVersion":"SPDX-2.3"}"#;
    let sbom = put_referrer(
        &registry,
        "tools/app",
        &image,
        "application/spdx+json",
        sbom_layer,
    );

    // The registry lists both, whatever artifactType was asked for.
    let listed: Value = reqwest::blocking::get(format!(
        "http://{}/v2/tools/app/referrers/{digest}?artifactType=application%2Fvnd.dsse.envelope.v1%2Bjson",
        registry.host()
    ))
    .unwrap()
    .json()
    .unwrap();
    let mut types: Vec<&str> = listed["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["artifactType"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(types, ["application/spdx+json", DSSE]);

    let report = check(home.path(), &format!("{name}:v1"), &[&keys], &[]).report(0);
    assert_eq!(report["outcome"], "PASSED");
    let attestations = report["attestations"].as_array().unwrap();
    assert_eq!(attestations.len(), 1, "{report:#}");
    assert_eq!(
        attestations[0]["source"],
        format!("referrer {referrer} ({})", sha256_digest(&envelope))
    );
    let requests = requests(&registry);
    assert!(
        requests.contains(&format!("GET /v2/tools/app/manifests/{referrer}")),
        "{requests:#?}"
    );
    assert!(
        !requests
            .iter()
            .any(|r| r.contains(&sbom) || r.contains(&sha256_digest(sbom_layer))),
        "the SBOM is neither fetched nor reported: {requests:#?}"
    );
}

#[test]
fn an_attestation_only_reachable_as_a_referrer_is_found() {
    let Signed {
        registry,
        home,
        keys,
        image,
        name,
        envelope,
    } = signed_image(Filter::Honoured, "ed25519");
    let referrer = put_referrer(&registry, "tools/app", &image, DSSE, &envelope);
    assert_eq!(registry.tags("tools/app"), ["v1"]);

    let report = check(home.path(), &format!("{name}:v1"), &[&keys], &[]).report(0);
    assert_eq!(report["outcome"], "PASSED");
    let attestations = report["attestations"].as_array().unwrap();
    assert_eq!(attestations.len(), 1, "{report:#}");
    assert_eq!(attestations[0]["error"], Value::Null);
    assert_eq!(attestations[0]["result"], "PASSED");
    assert_eq!(attestations[0]["key_id"], keys.id());
    assert_eq!(attestations[0]["verifier_id"], "urn:test:rebuilder");
    assert_eq!(
        attestations[0]["source"],
        format!("referrer {referrer} ({})", sha256_digest(&envelope))
    );
}

#[test]
fn a_referrers_answer_over_the_cap_is_one_error() {
    let registry = ReferrersRegistry::start(Filter::Honoured);
    let home = tempfile::tempdir().unwrap();
    let keys = KeyPair::generate(home.path(), "rebuilder", "p256");
    let image = small_image(&registry, "tools/app");
    let digest = image["digest"].as_str().unwrap();
    let manifests: Vec<Value> = (0..10_000)
        .map(|i| {
            json!({"mediaType": OCI_MANIFEST, "artifactType": DSSE, "size": 300,
                   "digest": sha256_digest(format!("referrer {i}").as_bytes())})
        })
        .collect();
    registry.plant(
        &format!("/v2/tools/app/referrers/{digest}"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": manifests})).unwrap(),
    );

    let run = check(
        home.path(),
        &registry.reference("tools/app:v1"),
        &[&keys],
        &[],
    );
    let report = run.report(2);
    assert_eq!(report["outcome"], "UNVERIFIED");
    assert_eq!(report["attestations"].as_array().unwrap().len(), 1);
    assert_eq!(report["attestations"][0]["source"], "the referrers API");
    assert_eq!(
        errors_of(&report),
        [
            "the referrers API lists 10000 entries, more than the 512 accepted, so it is not read \
          (neither to check nor to add to)"
        ]
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let requests = requests(&registry);
    assert!(
        !requests.iter().any(|r| r.contains("/manifests/sha256:")),
        "none of the listed manifests is fetched: {requests:#?}"
    );
}

#[test]
fn a_referrer_the_registry_serves_other_bytes_for_is_an_error() {
    let Signed {
        registry,
        home,
        keys,
        image,
        name,
        envelope,
    } = signed_image(Filter::Honoured, "p256");
    let referrer = put_referrer(&registry, "tools/app", &image, DSSE, &envelope);
    let mut swapped = registry.manifest("tools/app", &referrer).unwrap();
    swapped["annotations"] = json!({"swapped": "yes"});
    registry.plant(
        &format!("/v2/tools/app/manifests/{referrer}"),
        serde_json::to_vec(&swapped).unwrap(),
    );

    let run = check(home.path(), &format!("{name}:v1"), &[&keys], &[]);
    let report = run.report(2);
    assert_eq!(report["outcome"], "UNVERIFIED");
    assert_eq!(report["attestations"].as_array().unwrap().len(), 1);
    assert_eq!(
        report["attestations"][0]["source"],
        format!("referrer {referrer}")
    );
    assert_eq!(
        errors_of(&report),
        [format!(
            "{name}@{referrer}: blob {referrer} failed verification: its content hashes to {}",
            sha256_digest(&serde_json::to_vec(&swapped).unwrap())
        )]
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
