//! Writing to and reading beside images in a registry repository through
//! the library's blocking [`Repository`] handle: blob uploads, manifest
//! pushes, tag listing, referrers and small verified reads, against a real
//! `docker-registry` (2.8.2: no referrers API, and a tags list that ignores
//! `n` and answers in one page).

mod support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::digest::Digest;
use rebuild_compare::image::manifest::OCI_MANIFEST;
use rebuild_compare::image::reference::Reference;
use rebuild_compare::image::repository::{Access, PushedManifest, Repository};
use rebuild_compare::image::AccessOptions;
use support::{sha256_digest, FaultProxy, Registry};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret";
const EMPTY_CONFIG: &[u8] = b"{}";
const ATTESTATION_TYPE: &str = "application/vnd.dev.rebuild-compare.attestation";

/// Access through a cache in `home`, with the auth file `authfile` (an
/// empty one by default, so nothing from this machine's auth files is used).
fn options(home: &Path, authfile: Option<PathBuf>) -> AccessOptions {
    let authfile = authfile.unwrap_or_else(|| {
        let empty = home.join("no-auth.json");
        std::fs::write(&empty, r#"{"auths": {}}"#).expect("write empty auth file");
        empty
    });
    AccessOptions {
        authfile: Some(authfile),
        ..AccessOptions::new(Cache::new(Some(&home.join("cache"))).expect("cache"))
    }
}

/// Writes an auth file holding `alice:s3cret` for `registry`.
fn authfile(home: &Path, registry: &str) -> PathBuf {
    let path = home.join("auth.json");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        &path,
        format!(r#"{{"auths": {{"{registry}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("write auth file");
    path
}

/// Opens repository `host/repo`.
fn open(host: &str, repo: &str, options: &AccessOptions, access: Access) -> Repository {
    let reference = Reference::parse(&format!("{host}/{repo}")).expect("reference");
    Repository::open(&reference, options, access).expect("open repository")
}

fn digest(s: &str) -> Digest {
    Digest::parse(s).expect("digest")
}

/// An OCI manifest of the empty config and one layer `layer`, with
/// `subject` (a manifest digest and size) when given.
fn manifest(layer: &[u8], subject: Option<(&Digest, usize)>) -> Vec<u8> {
    let mut value = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": ATTESTATION_TYPE,
        "config": {
            "mediaType": "application/vnd.oci.empty.v1+json",
            "digest": sha256_digest(EMPTY_CONFIG),
            "size": EMPTY_CONFIG.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.in-toto+json",
            "digest": sha256_digest(layer),
            "size": layer.len(),
        }],
    });
    if let Some((digest, size)) = subject {
        value["subject"] = serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "digest": digest.to_string(),
            "size": size,
        });
    }
    serde_json::to_vec(&value).expect("manifest JSON")
}

/// Pushes the empty config, `layer` and their manifest as `tag`.
fn push_artifact(repo: &Repository, tag: &str, layer: &[u8]) -> (Vec<u8>, PushedManifest) {
    repo.push_blob(EMPTY_CONFIG).expect("push config");
    repo.push_blob(layer).expect("push layer");
    let bytes = manifest(layer, None);
    let pushed = repo
        .push_manifest(tag, OCI_MANIFEST, &bytes)
        .expect("push manifest");
    (bytes, pushed)
}

#[test]
fn pushes_a_blob_and_a_manifest_that_the_registry_then_serves() {
    let registry = Registry::start();
    let proxy = FaultProxy::start(&registry.host());
    let home = tempfile::tempdir().expect("temp dir");
    let repo = open(
        &proxy.host(),
        "app",
        &options(home.path(), None),
        Access::PullPush,
    );
    let layer = b"an in-toto statement";

    let layer_digest = repo.push_blob(layer).expect("push layer");
    assert_eq!(layer_digest.to_string(), sha256_digest(layer));
    // Pushing the same blob again asks whether it is there and sends nothing.
    assert_eq!(repo.push_blob(layer).expect("push again"), layer_digest);
    let blob_path = format!("/v2/app/blobs/{layer_digest}");
    assert_eq!(proxy.seen_for("HEAD", &blob_path).len(), 2);
    assert_eq!(proxy.seen_for("POST", "/v2/app/blobs/uploads/").len(), 1);
    assert_eq!(
        proxy
            .seen()
            .iter()
            .filter(|s| s.method == "PUT" && s.path.starts_with("/v2/app/blobs/uploads/"))
            .count(),
        1
    );

    repo.push_blob(EMPTY_CONFIG).expect("push config");
    let bytes = manifest(layer, None);
    let pushed = repo
        .push_manifest("v1.att", OCI_MANIFEST, &bytes)
        .expect("push manifest");
    assert_eq!(
        pushed,
        PushedManifest {
            digest: digest(&sha256_digest(&bytes)),
            subject_accepted: false,
        }
    );
    // By digest too.
    let by_digest = repo
        .push_manifest(&pushed.digest.to_string(), OCI_MANIFEST, &bytes)
        .expect("push manifest by digest");
    assert_eq!(by_digest, pushed);

    // The registry serves exactly what was pushed.
    let served = registry.get_manifest("app", "v1.att");
    assert_eq!((served.status, served.body.as_slice()), (200, &bytes[..]));
    let served = registry.get_blob("app", &layer_digest.to_string());
    assert_eq!((served.status, served.body.as_slice()), (200, &layer[..]));

    // And the handle reads it back.
    let found = Some((bytes.clone(), pushed.digest.clone()));
    assert_eq!(repo.manifest_if_exists("v1.att").expect("by tag"), found);
    assert_eq!(
        repo.manifest_if_exists(&pushed.digest.to_string())
            .expect("by digest"),
        found
    );
    assert!(repo.blob_exists(&layer_digest).expect("HEAD"));
    assert_eq!(
        repo.small_blob(&layer_digest, layer.len() as u64, 1024)
            .expect("small blob"),
        layer
    );
}

#[test]
fn a_missing_manifest_or_blob_is_an_answer_not_an_error() {
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    let options = options(home.path(), None);
    let repo = open(&registry.host(), "app", &options, Access::PullPush);
    // No repository yet.
    assert_eq!(repo.manifest_if_exists("v1.att").expect("no repo"), None);
    push_artifact(&repo, "v1", b"x");
    assert_eq!(repo.manifest_if_exists("v2.att").expect("no tag"), None);
    let absent = digest(&sha256_digest(b"absent"));
    assert_eq!(
        repo.manifest_if_exists(&absent.to_string())
            .expect("no digest"),
        None
    );
    assert!(!repo.blob_exists(&absent).expect("HEAD"));
}

#[test]
fn pushes_with_credentials_to_a_registry_that_requires_them() {
    let registry = Registry::start_with_auth(USER, PASSWORD);
    let home = tempfile::tempdir().expect("temp dir");
    let with = options(home.path(), Some(authfile(home.path(), &registry.host())));
    let repo = open(&registry.host(), "app", &with, Access::PullPush);
    let (bytes, pushed) = push_artifact(&repo, "v1.att", b"signed");
    let served = registry.get_manifest("app", "v1.att");
    assert_eq!((served.status, served.body.as_slice()), (200, &bytes[..]));
    assert_eq!(repo.tags(None).expect("tags"), ["v1.att"]);

    // Without credentials the same push is refused, saying what to do.
    let anonymous = open(
        &registry.host(),
        "app",
        &options(home.path(), None),
        Access::PullPush,
    );
    let err = anonymous.push_blob(b"other").unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}/app@{}: the registry refused the credentials; log in \
             (docker login / skopeo login) or pass --authfile",
            registry.host(),
            sha256_digest(b"other")
        )
    );
    assert_eq!(
        anonymous
            .manifest_if_exists(&pushed.digest.to_string())
            .unwrap_err()
            .to_string(),
        format!(
            "{}/app@{}: the registry refused the credentials; log in \
             (docker login / skopeo login) or pass --authfile",
            registry.host(),
            pushed.digest
        )
    );
}

/// Tags one planted manifest as each of `tags` of `repo`, writing only the
/// tag link file the registry lists tags by (and reads them with).
fn plant_tags(registry: &Registry, repo: &str, tags: &[String]) {
    let (first, rest) = tags.split_first().expect("a tag");
    let planted = registry.plant_manifest(repo, first, &manifest(b"x", None));
    let tags_dir = registry
        .storage_dir()
        .join("docker/registry/v2/repositories")
        .join(repo)
        .join("_manifests/tags");
    for tag in rest {
        let current = tags_dir.join(tag).join("current");
        std::fs::create_dir_all(&current).expect("create tag dir");
        std::fs::write(current.join("link"), &planted).expect("write tag link");
    }
}

#[test]
fn lists_every_tag_of_a_repository_with_thousands() {
    let registry = Registry::start();
    let mut expected: Vec<String> = (0..2500).map(|i| format!("v{i}")).collect();
    expected.push("sha256-0123".into());
    plant_tags(&registry, "app", &expected);
    expected.sort();
    let home = tempfile::tempdir().expect("temp dir");
    let options = options(home.path(), None);
    let repo = open(&registry.host(), "app", &options, Access::Pull);
    assert_eq!(repo.tags(None).expect("tags"), expected);
    assert_eq!(repo.tags(Some(1000)).expect("tags"), expected);

    let empty = open(&registry.host(), "nothing", &options, Access::Pull);
    assert_eq!(
        empty.tags(None).unwrap_err().to_string(),
        format!(
            "{}/nothing: not found in the registry (check the repository and tag)",
            registry.host()
        )
    );
}

#[test]
fn a_registry_without_referrers_api_answers_none() {
    let registry = Registry::start();
    let home = tempfile::tempdir().expect("temp dir");
    let repo = open(
        &registry.host(),
        "app",
        &options(home.path(), None),
        Access::PullPush,
    );
    let (image, image_pushed) = push_artifact(&repo, "v1", b"the image");
    let layer = b"about the image";
    repo.push_blob(layer).expect("push layer");
    let referrer = manifest(layer, Some((&image_pushed.digest, image.len())));
    let pushed = repo
        .push_manifest("sha256-referrer", OCI_MANIFEST, &referrer)
        .expect("push a manifest with a subject");
    // Stored, but the registry did not process the subject.
    assert!(!pushed.subject_accepted);
    assert_eq!(
        repo.referrers(&image_pushed.digest, None)
            .expect("referrers"),
        None
    );
    assert_eq!(
        repo.referrers(&image_pushed.digest, Some(ATTESTATION_TYPE))
            .expect("filtered referrers"),
        None
    );
}

#[test]
fn a_small_blob_is_refused_over_its_limit_and_never_returned_unverified() {
    let registry = Registry::start();
    let proxy = FaultProxy::start(&registry.host());
    let home = tempfile::tempdir().expect("temp dir");
    let repo = open(
        &proxy.host(),
        "app",
        &options(home.path(), None),
        Access::PullPush,
    );
    let blob = b"0123456789";
    let blob_digest = repo.push_blob(blob).expect("push");
    let shown = format!("{}/app@{blob_digest}", proxy.host());

    let err = repo.small_blob(&blob_digest, 10, 9).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{shown}: blob {blob_digest} is 10 bytes, over the 9-byte limit")
    );
    let blob_path = format!("/v2/app/blobs/{blob_digest}");
    assert_eq!(proxy.seen_for("GET", &blob_path).len(), 0);

    // A descriptor that claims fewer bytes than the blob has.
    let err = repo.small_blob(&blob_digest, 4, 1024).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{shown}: the blob at {}{blob_path} declares 10 bytes (Content-Length), \
             over the 4-byte limit",
            format_args!("http://{}", proxy.host())
        )
    );

    registry.corrupt_blob(&blob_digest.to_string());
    let err = repo.small_blob(&blob_digest, 10, 1024).unwrap_err();
    let flipped: Vec<u8> = blob.iter().map(|b| b ^ 0xff).collect();
    assert_eq!(
        err.to_string(),
        format!(
            "{shown}: blob {blob_digest} failed verification: its content hashes to {}",
            sha256_digest(&flipped)
        )
    );
}
