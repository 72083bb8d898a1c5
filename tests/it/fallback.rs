//! `[image] fallback_repositories` end to end: a loopback registry where
//! the recipe's repository `old/app` lacks the release's tag (it holds an
//! older one), `missing/app` does not exist, and `legacy/app` has the tag.
//! The recipe is found by name in a `--recipes DIR`; its build is the fast
//! app's, so only the image side matters here.

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use support::cli::{run_in, Run};
use support::fast_app::*;
use support::keys::KeyPair;
use support::{push, write_oci_layout, Answer, HostileServer, IndexStyle, MediaTypes, Registry};

/// The recipe's repository, in order: itself, then its fallbacks.
const OLD: &str = "old/app";
const MISSING: &str = "missing/app";
const LEGACY: &str = "legacy/app";

/// A recipe directory with one recipe: `HOST/old/app`, falling back to
/// `HOST/missing/app` then `HOST/legacy/app`.
fn recipes_dir(dir: &Path, host: &str) -> PathBuf {
    let recipes = dir.join("recipes");
    std::fs::create_dir_all(&recipes).unwrap();
    let path = write_recipe(&recipes, "app", &format!("{host}/{OLD}"), FAST_BUILD);
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "tag = ",
        &format!("fallback_repositories = [\"{host}/{MISSING}\", \"{host}/{LEGACY}\"]\ntag = "),
    );
    std::fs::write(&path, text).unwrap();
    recipes
}

/// A registry where `old/app` holds only `v0.9.0` and `legacy/app` holds
/// `v1.0.0` (the fast app for amd64); returns the registry and the digest
/// of `legacy/app:v1.0.0`.
fn moved_release(dir: &Path) -> (Registry, String) {
    let registry = Registry::start();
    let layout = dir.join("layout");
    let written = write_oci_layout(
        &layout,
        VERSION,
        &faithful_set(&[AMD64]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    push(
        &layout,
        VERSION,
        &registry.reference(&format!("{OLD}:v0.9.0")),
        None,
    );
    push(
        &layout,
        VERSION,
        &registry.reference(&format!("{LEGACY}:{VERSION}")),
        None,
    );
    (registry, written.top.digest)
}

/// `rebuild-compare IMAGE VERSION --recipes DIR --source S --format json
/// --out-dir HOME/out` plus `extra`.
fn verify(home: &Path, recipes: &Path, image: &str, version: &str, extra: &[&str]) -> Run {
    let (source, _) = fast_source(home);
    let out = home.join("out");
    let mut args = vec![
        image,
        version,
        "--recipes",
        recipes.to_str().unwrap(),
        "--source",
        source.to_str().unwrap(),
        "--format",
        "json",
        "--out-dir",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// The tags the registry lists for `repository`.
fn tags(registry: &Registry, repository: &str) -> Value {
    let answer = support::http::request(
        &registry.host(),
        "GET",
        &format!("/v2/{repository}/tags/list"),
        &[],
        &[],
    )
    .unwrap();
    let listed: Value = serde_json::from_str(&answer.text()).unwrap();
    let mut tags: Vec<String> = serde_json::from_value(listed["tags"].clone()).unwrap();
    tags.sort();
    json!(tags)
}

#[test]
fn a_tag_missing_from_the_recipes_repository_is_read_and_attested_from_its_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let (registry, digest) = moved_release(tmp.path());
    let host = registry.host();
    let recipes = recipes_dir(tmp.path(), &host);
    let keys = KeyPair::generate(tmp.path(), "keys", "p256");
    let attestation = tmp.path().join("attestation.json");
    let run = verify(
        tmp.path(),
        &recipes,
        &format!("{host}/{OLD}"),
        VERSION,
        &[
            "--attest",
            attestation.to_str().unwrap(),
            "--sign-key",
            keys.private.to_str().unwrap(),
            "--push-attestation",
        ],
    );
    let report = run.report(0);

    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(
        report["image"],
        json!({"reference": format!("{host}/{LEGACY}:{VERSION}"), "digest": digest,
               "name": format!("{host}/{LEGACY}")})
    );
    assert_eq!(
        report["notes"][0],
        format!(
            "{host}/{OLD} and {host}/{MISSING} have no tag {VERSION}; read {host}/{LEGACY}:{VERSION}, \
             the recipe's fallback repository"
        )
    );
    let envelope: Value = serde_json::from_slice(&std::fs::read(&attestation).unwrap()).unwrap();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        envelope["payload"].as_str().unwrap(),
    )
    .unwrap();
    let statement: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(
        statement["subject"][0],
        json!({"name": format!("{host}/{LEGACY}:{VERSION}"),
               "digest": {"sha256": digest.trim_start_matches("sha256:")}})
    );
    assert_eq!(
        statement["predicate"]["resourceUri"],
        format!("{host}/{LEGACY}@{digest}")
    );
    // Attached where the image lives; the recipe's repository is untouched.
    let att_tag = format!("sha256-{}.att", digest.trim_start_matches("sha256:"));
    let referrers_tag = format!("sha256-{}", digest.trim_start_matches("sha256:"));
    assert_eq!(
        tags(&registry, LEGACY),
        json!([referrers_tag, att_tag, VERSION])
    );
    assert_eq!(tags(&registry, OLD), json!(["v0.9.0"]));
}

#[test]
fn the_fallback_repository_typed_finds_the_recipe_and_is_read_itself() {
    let tmp = tempfile::tempdir().unwrap();
    let (registry, digest) = moved_release(tmp.path());
    let host = registry.host();
    let recipes = recipes_dir(tmp.path(), &host);
    let run = verify(
        tmp.path(),
        &recipes,
        &format!("{host}/{LEGACY}"),
        VERSION,
        &[],
    );
    let report = run.report(0);

    assert_eq!(
        report["image"]["reference"],
        format!("{host}/{LEGACY}:{VERSION}")
    );
    assert_eq!(report["image"]["digest"], digest);
    assert_eq!(
        report["recipe"]["path"],
        recipes.join("app.toml").to_str().unwrap()
    );
    assert_eq!(report["notes"], json!([]));
}

#[test]
fn a_tag_in_no_repository_of_the_recipe_names_each_one_tried_and_the_nearest_tags() {
    let tmp = tempfile::tempdir().unwrap();
    let (registry, _) = moved_release(tmp.path());
    let host = registry.host();
    let recipes = recipes_dir(tmp.path(), &host);
    let run = verify(
        tmp.path(),
        &recipes,
        &format!("{host}/{OLD}"),
        "v1.0.1",
        &[],
    );

    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        format!(
            "error: none of {host}/{OLD}, {host}/{MISSING}, {host}/{LEGACY} (the recipe's repository \
             and its fallback repositories) has tag v1.0.1; the closest releases are {host}/{LEGACY}:v1.0.0, \
             {host}/{OLD}:v0.9.0\n"
        )
    );
}

#[test]
fn a_typed_tag_is_read_as_typed_without_fallback() {
    let tmp = tempfile::tempdir().unwrap();
    let (registry, _) = moved_release(tmp.path());
    let host = registry.host();
    let recipes = recipes_dir(tmp.path(), &host);
    let run = verify(
        tmp.path(),
        &recipes,
        &format!("{host}/{OLD}:{VERSION}"),
        VERSION,
        &[],
    );

    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "error: cannot read the published image {host}/{OLD}:{VERSION}: {host}/{OLD}:{VERSION}: \
             not found in the registry (check the repository and tag)\n"
        )
    );
}

#[test]
fn a_failure_other_than_not_found_does_not_fall_back() {
    let tmp = tempfile::tempdir().unwrap();
    let (registry, _) = moved_release(tmp.path());
    let failing = HostileServer::start("127.0.0.1", |_| {
        Answer::status(500, r#"{"errors":[{"code":"UNKNOWN","message":"down"}]}"#)
    });
    // The recipe's repository is on the failing registry; its fallback has the tag.
    let recipes = tmp.path().join("recipes");
    std::fs::create_dir_all(&recipes).unwrap();
    let path = write_recipe(
        &recipes,
        "app",
        &format!("{}/{OLD}", failing.host()),
        FAST_BUILD,
    );
    let text = std::fs::read_to_string(&path).unwrap().replace(
        "tag = ",
        &format!(
            "fallback_repositories = [\"{}\"]\ntag = ",
            registry.reference(LEGACY)
        ),
    );
    std::fs::write(&path, text).unwrap();
    let image = format!("{}/{OLD}", failing.host());
    let run = verify(tmp.path(), &recipes, &image, VERSION, &[]);

    assert_eq!(run.code, 2, "{}", run.stderr);
    let manifest = format!("{image}:{VERSION}");
    // The lines before it are the retries' warnings, of the same request.
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "error: cannot read the published image {manifest}: {manifest}: Server error: url {}/v2/{OLD}/manifests/{VERSION}, code: 500, ",
            failing.url()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.starts_with("error"))
            .count(),
        1,
        "{}",
        run.stderr
    );
    assert!(
        failing
            .requests()
            .iter()
            .all(|r| r.path() == format!("/v2/{OLD}/manifests/{VERSION}")),
        "{:?}",
        failing.requests()
    );
}

#[test]
fn plan_reads_releases_only_a_fallback_repository_holds_from_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (registry, legacy_v100) = moved_release(tmp.path());
    let host = registry.host();
    // v1.1.0 is in both: the recipe's own repository's wins.
    let layout = tmp.path().join("v1.1.0");
    let written = write_oci_layout(
        &layout,
        "v1.1.0",
        &faithful_set(&[ARM64]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    for repository in [OLD, LEGACY] {
        push(
            &layout,
            "v1.1.0",
            &registry.reference(&format!("{repository}:v1.1.0")),
            None,
        );
    }
    recipes_dir(tmp.path(), &host);
    let watchlist = tmp.path().join("watch.toml");
    std::fs::write(
        &watchlist,
        format!(
            "[[image]]\nreference = \"{host}/{OLD}\"\nversions = \">=1.0.0, <2\"\nrecipe = \"recipes/app.toml\"\n"
        ),
    )
    .unwrap();
    let run = run_in(tmp.path(), &["plan", watchlist.to_str().unwrap()]);
    let plan = run.report(0);

    let jobs: Vec<[&str; 4]> = plan["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| ["image", "tag", "digest", "platform"].map(|k| job[k].as_str().unwrap()))
        .collect();
    let (legacy, old) = (format!("{host}/{LEGACY}"), format!("{host}/{OLD}"));
    assert_eq!(
        jobs,
        [
            [legacy.as_str(), VERSION, legacy_v100.as_str(), AMD64],
            [old.as_str(), "v1.1.0", written.top.digest.as_str(), ARM64],
        ]
    );
    assert_eq!(
        plan["jobs"][0]["args"][1],
        format!("{legacy}@{legacy_v100}")
    );
    assert!(
        run.stderr.contains(&format!(
            "note: 1 release(s) that {old} lacks planned from {legacy}, the recipe's fallback repository\n"
        )),
        "{}",
        run.stderr
    );
}
