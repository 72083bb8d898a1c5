//! Writing to and reading beside images in a registry repository through
//! the library's blocking [`Repository`] handle: blob uploads, manifest
//! pushes, tag listing, referrers and small verified reads, against a real
//! `docker-registry` (2.8.2: no referrers API, and a tags list that ignores
//! `n` and answers in one page), and against hostile registries that try
//! to draw uploads or requests elsewhere, alter what was pushed or list
//! without end.

use crate::support;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::digest::Digest;
use rebuild_compare::image::manifest::OCI_MANIFEST;
use rebuild_compare::image::reference::Reference;
use rebuild_compare::image::repository::{Access, PushedManifest, Repository};
use rebuild_compare::image::AccessOptions;
use support::{sha256_digest, Answer, FaultProxy, HostileServer, Registry};

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

// Hostile registries: each is a HostileServer on 127.0.0.1 (loopback, so
// reached over plain HTTP) that records what it was sent; "another host"
// is a second server on 127.0.0.2, or on another port of 127.0.0.1.

/// The `Authorization` value of `alice:s3cret`.
fn basic_value() -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    format!("Basic {encoded}")
}

/// `METHOD TARGET` of every request a server received.
fn requests(server: &HostileServer) -> Vec<String> {
    server
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.target))
        .collect()
}

/// A query parameter of a request target.
fn query_param(target: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(&format!("http://x{target}")).expect("target");
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A tags page: `{"name": "app", "tags": [...]}`.
fn tags_page(tags: &[String]) -> String {
    serde_json::json!({ "name": "app", "tags": tags }).to_string()
}

#[test]
fn an_upload_location_on_another_host_is_refused_and_gets_nothing() {
    let other_ip = HostileServer::start("127.0.0.2", |_| Answer::status(201, ""));
    let other_port = HostileServer::start("127.0.0.1", |_| Answer::status(201, ""));
    for elsewhere in [&other_ip, &other_port] {
        let location = format!("{}/v2/app/blobs/uploads/u1?_state=s", elsewhere.url());
        let answer_location = location.clone();
        let authorization = basic_value();
        let registry = HostileServer::start("127.0.0.1", move |r| {
            if r.header("authorization") != Some(authorization.as_str()) {
                return Answer::status(401, "")
                    .header("WWW-Authenticate", r#"Basic realm="registry""#);
            }
            match r.method.as_str() {
                "HEAD" => Answer::status(404, ""),
                "POST" => Answer::status(202, "").header("Location", &answer_location),
                _ => Answer::status(500, ""),
            }
        });
        let home = tempfile::tempdir().expect("temp dir");
        let with = options(home.path(), Some(authfile(home.path(), &registry.host())));
        let repo = open(&registry.host(), "app", &with, Access::PullPush);
        let err = repo.push_blob(b"secret bytes").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}/app@{}: the registry named {location} as the blob upload location, \
                 which is not on the registry's own scheme, host and port; refusing to \
                 send anything there (bytes and credentials go only to the registry). If \
                 that host is the same registry under another name, use that name in the \
                 reference",
                registry.host(),
                sha256_digest(b"secret bytes")
            )
        );
        let blob = format!("/v2/app/blobs/{}", sha256_digest(b"secret bytes"));
        assert_eq!(
            requests(&registry),
            [
                format!("HEAD {blob}"),
                format!("HEAD {blob}"),
                "POST /v2/app/blobs/uploads/".to_string()
            ]
        );
        // Not a request (so neither credentials nor bytes) went elsewhere.
        assert_eq!(requests(elsewhere), Vec::<String>::new());
    }
}

#[test]
fn a_relative_upload_location_keeps_its_query_and_gets_the_bytes() {
    let bytes = b"attestation";
    let digest = sha256_digest(bytes);
    let stored = digest.clone();
    let registry = HostileServer::start("127.0.0.1", move |r| match r.method.as_str() {
        "HEAD" => Answer::status(404, ""),
        "POST" => Answer::status(202, "")
            .header("Location", "/v2/app/blobs/uploads/u1?_state=a%3D%3D&x=1"),
        "PUT" => Answer::status(201, "").header("Docker-Content-Digest", &stored),
        _ => Answer::status(500, ""),
    });
    let home = tempfile::tempdir().expect("temp dir");
    let repo = open(
        &registry.host(),
        "app",
        &options(home.path(), None),
        Access::PullPush,
    );
    assert_eq!(repo.push_blob(bytes).expect("push").to_string(), digest);
    let put = registry.requests().pop().expect("a request");
    assert_eq!(
        (
            put.method.as_str(),
            put.target.clone(),
            put.header("content-type"),
            put.header("content-length")
        ),
        (
            "PUT",
            format!(
                "/v2/app/blobs/uploads/u1?_state=a%3D%3D&x=1&digest=sha256%3A{}",
                digest.trim_start_matches("sha256:")
            ),
            Some("application/octet-stream"),
            Some("11")
        )
    );
}

#[test]
fn a_manifest_put_answered_with_another_digest_is_an_error() {
    let other = sha256_digest(b"something else");
    let answered = other.clone();
    let registry = HostileServer::start("127.0.0.1", move |r| match r.method.as_str() {
        "PUT" => Answer::status(201, "").header("Docker-Content-Digest", &answered),
        _ => Answer::status(500, ""),
    });
    let home = tempfile::tempdir().expect("temp dir");
    let repo = open(
        &registry.host(),
        "app",
        &options(home.path(), None),
        Access::PullPush,
    );
    let bytes = manifest(b"x", None);
    let err = repo
        .push_manifest("v1.att", OCI_MANIFEST, &bytes)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}/app:v1.att: the registry says it stored {other}, but what was pushed is {}: \
             it altered the content; check the registry (or a proxy in front of it)",
            registry.host(),
            sha256_digest(&bytes)
        )
    );
    // Refused, not retried.
    assert_eq!(requests(&registry), ["PUT /v2/app/manifests/v1.att"]);
}

#[test]
fn lists_every_tag_across_pages() {
    let all: Vec<String> = (0..2500).map(|i| format!("t{i:04}")).collect();
    let pages = all.clone();
    // An honest paginating registry: `n` tags after `last`, and a next
    // link while more remain (relative after the first page, absolute on
    // its own host after the second).
    let registry = HostileServer::start("127.0.0.1", move |r| {
        let n: usize = query_param(&r.target, "n").map_or(100, |n| n.parse().unwrap_or(100));
        let start = query_param(&r.target, "last").map_or(0, |last| {
            pages.iter().position(|t| *t == last).unwrap_or(0) + 1
        });
        let page = &pages[start..(start + n).min(pages.len())];
        let mut answer = Answer::status(200, &tags_page(page));
        if start + n < pages.len() {
            let next = format!("/v2/app/tags/list?n={n}&last={}", page[page.len() - 1]);
            let next = if start == 0 {
                next
            } else {
                format!("http://{}{next}", r.header("host").unwrap_or_default())
            };
            answer = answer.header("Link", &format!(r#"<{next}>; rel="next""#));
        }
        answer
    });
    let home = tempfile::tempdir().expect("temp dir");
    let options = options(home.path(), None);
    let repo = open(&registry.host(), "app", &options, Access::Pull);
    assert_eq!(repo.tags(None).expect("tags"), all);
    assert_eq!(
        requests(&registry),
        [
            "GET /v2/app/tags/list?n=1000",
            "GET /v2/app/tags/list?n=1000&last=t0999",
            "GET /v2/app/tags/list?n=1000&last=t1999",
        ]
    );
    assert_eq!(repo.tags(Some(700)).expect("tags"), all);
    assert_eq!(registry.requests().len(), 3 + 4);
}

#[test]
fn a_next_tags_page_on_another_origin_is_refused() {
    let elsewhere = HostileServer::start("127.0.0.2", |_| Answer::status(200, r#"{"tags":[]}"#));
    let next = format!("{}/v2/app/tags/list?last=a", elsewhere.url());
    let link = format!(r#"<{next}>; rel="next""#);
    let registry = HostileServer::start("127.0.0.1", move |_| {
        Answer::status(200, r#"{"name":"app","tags":["a"]}"#).header("Link", &link)
    });
    let home = tempfile::tempdir().expect("temp dir");
    let with = options(home.path(), Some(authfile(home.path(), &registry.host())));
    let repo = open(&registry.host(), "app", &with, Access::Pull);
    assert_eq!(
        repo.tags(None).unwrap_err().to_string(),
        format!(
            "{}/app: the registry named {next} as the next tags page, which is not on the \
             registry's own scheme, host and port; refusing to send anything there (bytes \
             and credentials go only to the registry). If that host is the same registry \
             under another name, use that name in the reference",
            registry.host()
        )
    );
    assert_eq!(requests(&elsewhere), Vec::<String>::new());
}

#[test]
fn a_tags_link_loop_is_an_error() {
    // The first page links to a second, which links back to the first.
    let registry = HostileServer::start("127.0.0.1", |r| {
        let next = if r.target.contains("last=") {
            "/v2/app/tags/list?n=1000"
        } else {
            "/v2/app/tags/list?n=1000&last=a"
        };
        Answer::status(200, r#"{"name":"app","tags":["a"]}"#)
            .header("Link", &format!(r#"<{next}>; rel="next""#))
    });
    let home = tempfile::tempdir().expect("temp dir");
    let repo = open(
        &registry.host(),
        "app",
        &options(home.path(), None),
        Access::Pull,
    );
    assert_eq!(
        repo.tags(None).unwrap_err().to_string(),
        format!(
            "{}/app: the registry answered a bad tags list: its next page \
             {}/v2/app/tags/list?n=1000 came before (a loop)",
            registry.host(),
            registry.url()
        )
    );
    assert_eq!(registry.requests().len(), 2);
}

#[test]
fn an_endless_tags_page_is_cut_at_the_cap() {
    let registry = HostileServer::start("127.0.0.1", |_| Answer::Endless);
    let home = tempfile::tempdir().expect("temp dir");
    let repo = open(
        &registry.host(),
        "app",
        &options(home.path(), None),
        Access::Pull,
    );
    assert_eq!(
        repo.tags(None).unwrap_err().to_string(),
        format!(
            "{}/app: the tags list at {}/v2/app/tags/list?n=1000 is over the 4194304-byte limit",
            registry.host(),
            registry.url()
        )
    );
    assert_eq!(registry.requests().len(), 1);
    // The client hung up: the server wrote the limit and what the
    // sockets' buffers held, far from the 1 GiB it would have sent.
    assert!(
        registry.body_bytes_sent() < 64 << 20,
        "{} bytes sent",
        registry.body_bytes_sent()
    );
}

#[test]
fn a_million_tags_or_a_tag_that_is_not_one_is_refused() {
    // Pages of 400,000 short tags (about 3.6 MB each, under the page cap):
    // the third passes the 1,000,000-tag cap.
    let registry = HostileServer::start("127.0.0.1", |r| {
        let page: usize = query_param(&r.target, "page").map_or(0, |p| p.parse().unwrap_or(0));
        let tags: Vec<String> = (0..400_000).map(|i| format!("{page}{i:06}")).collect();
        Answer::status(200, &tags_page(&tags)).header(
            "Link",
            &format!(r#"</v2/app/tags/list?page={}>; rel="next""#, page + 1),
        )
    });
    let home = tempfile::tempdir().expect("temp dir");
    let options = options(home.path(), None);
    let repo = open(&registry.host(), "app", &options, Access::Pull);
    assert_eq!(
        repo.tags(None).unwrap_err().to_string(),
        format!(
            "{}/app: the registry lists more than 1000000 tags; refusing to read on",
            registry.host()
        )
    );
    assert_eq!(registry.requests().len(), 3);

    let invalid = HostileServer::start("127.0.0.1", |_| {
        Answer::status(200, r#"{"name":"app","tags":["v1","../../blobs/x"]}"#)
    });
    let repo = open(&invalid.host(), "app", &options, Access::Pull);
    assert_eq!(
        repo.tags(None).unwrap_err().to_string(),
        format!(
            "{}/app: the registry answered a bad tags list: an invalid tag: tag \
             \"../../blobs/x\" must be 1-128 characters of letters, digits, '_', '.' and \
             '-', not starting with '.' or '-'",
            invalid.host()
        )
    );

    let none = HostileServer::start("127.0.0.1", |_| {
        Answer::status(200, r#"{"name":"app","tags":null}"#)
    });
    let repo = open(&none.host(), "app", &options, Access::Pull);
    assert_eq!(repo.tags(None).expect("no tags"), Vec::<String>::new());
}

#[test]
fn a_push_asks_for_a_push_token_and_a_read_for_a_pull_token() {
    let realm = HostileServer::start("127.0.0.1", |_| Answer::status(200, r#"{"token":"t"}"#));
    let challenge = format!(r#"Bearer realm="{}/token",service="test""#, realm.url());
    let registry = HostileServer::start("127.0.0.1", move |r| {
        if r.header("authorization") == Some("Bearer t") {
            Answer::status(404, "")
        } else {
            Answer::status(401, "").header("WWW-Authenticate", &challenge)
        }
    });
    let home = tempfile::tempdir().expect("temp dir");
    let options = options(home.path(), None);
    let absent = digest(&sha256_digest(b"absent"));
    for (access, scope) in [
        (Access::PullPush, "repository:app:pull,push"),
        (Access::Pull, "repository:app:pull"),
    ] {
        let repo = open(&registry.host(), "app", &options, access);
        assert!(!repo.blob_exists(&absent).expect("HEAD"));
        let token = realm.requests().pop().expect("a token request");
        assert_eq!(
            query_param(&token.target, "scope").as_deref(),
            Some(scope),
            "{access:?}"
        );
    }

    // A handle opened for reading does not push, and asks nothing.
    let before = registry.requests().len();
    let repo = open(&registry.host(), "app", &options, Access::Pull);
    assert_eq!(
        repo.push_blob(b"x").unwrap_err().to_string(),
        format!(
            "{}/app@{}: the repository was opened for reading only; open it with \
             Access::PullPush to push",
            registry.host(),
            sha256_digest(b"x")
        )
    );
    assert_eq!(registry.requests().len(), before);
}
