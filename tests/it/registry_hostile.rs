//! `rebuild-compare inspect` against a registry, token realm or redirect
//! target that attacks the client rather than failing: bodies that never
//! end, declare 10 GB or trickle a byte a second, a token realm that asks
//! for the registry's credentials over plain HTTP on another host,
//! redirects that would carry the credentials elsewhere. Each is a
//! [`HostileServer`] on loopback that records what it was sent; each test
//! checks the error line (exit 2, nothing on stdout) and what reached whom.
//!
//! "Another host" is 127.0.0.2 against the registry's 127.0.0.1: both are
//! loopback on Linux, and the credential rule is about the host, not about
//! whether it is loopback (see `may_send_credentials` in
//! src/image/distribution.rs for the rule on every kind of realm).

use crate::support;

use std::path::Path;

use base64::Engine as _;
use support::cli::{run_in, Run};
use support::{sha256_digest, Answer, HostileServer};

const MANIFEST: &str = "/v2/app/manifests/v1";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// `inspect REFERENCE --format json`, with `extra` arguments.
fn inspect(home: &Path, reference: &str, extra: &[&str]) -> Run {
    let mut args = vec!["inspect", reference, "--format", "json"];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// Asserts exit 2, nothing on stdout and exactly `error: MESSAGE` on stderr.
fn assert_error(run: &Run, message: &str) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (2, "", format!("error: {message}\n").as_str())
    );
}

/// Writes an auth file holding `alice:s3cret` for `registry`; returns its path.
fn authfile(home: &Path, registry: &str) -> String {
    let path = home.join("auth.json");
    let auth = basic_value();
    let auth = auth.trim_start_matches("Basic ");
    std::fs::write(
        &path,
        format!(r#"{{"auths": {{"{registry}": {{"auth": "{auth}"}}}}}}"#),
    )
    .expect("write auth file");
    path.to_str().expect("UTF-8 temp path").to_string()
}

/// The `Authorization` value of `alice:s3cret`.
fn basic_value() -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    format!("Basic {encoded}")
}

/// A registry on 127.0.0.1 that answers every request without
/// `Authorization: Bearer t` with a Bearer challenge naming `realm`, and
/// the authorized ones with 404.
fn challenging_registry(realm: String) -> HostileServer {
    HostileServer::start("127.0.0.1", move |request| {
        if request.header("authorization") == Some("Bearer t") {
            Answer::status(404, "")
        } else {
            Answer::status(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#).header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="{realm}",service="hostile""#),
            )
        }
    })
}

/// A token realm on `ip` that hands out the token `t` to anyone.
fn generous_realm(ip: &str) -> HostileServer {
    HostileServer::start(ip, |_| Answer::status(200, r#"{"token":"t"}"#))
}

/// The `Authorization` header of each request a server received.
fn authorizations(server: &HostileServer) -> Vec<Option<String>> {
    server
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_string))
        .collect()
}

#[test]
fn manifest_declaring_ten_gigabytes_is_refused_before_its_body_is_read() {
    let registry = HostileServer::start("127.0.0.1", |request| {
        if request.path() == MANIFEST {
            Answer::Declares(10 << 30)
        } else {
            Answer::status(404, "")
        }
    });
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let run = inspect(tmp.path(), &reference, &[]);
    assert_error(
        &run,
        &format!(
            "{reference}: the manifest at {}{MANIFEST} declares 10737418240 bytes \
             (Content-Length), over the 4194304-byte limit",
            registry.url()
        ),
    );
    // Refused, not retried.
    assert_eq!(registry.requests().len(), 1);
}

#[test]
fn endless_manifest_body_is_cut_at_the_limit() {
    let registry = HostileServer::start("127.0.0.1", |request| {
        if request.path() == MANIFEST {
            Answer::Endless
        } else {
            Answer::status(404, "")
        }
    });
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let run = inspect(tmp.path(), &reference, &[]);
    assert_error(
        &run,
        &format!(
            "{reference}: the manifest at {}{MANIFEST} is over the 4194304-byte limit",
            registry.url()
        ),
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
fn endless_token_body_is_cut_at_the_limit() {
    let realm = HostileServer::start("127.0.0.1", |_| Answer::Endless);
    let realm_url = format!("{}/token", realm.url());
    let registry = challenging_registry(realm_url.clone());
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let run = inspect(tmp.path(), &reference, &[]);
    assert_error(
        &run,
        &format!(
            "{reference}: the token at {realm_url}?scope=repository%3Aapp%3Apull&service=hostile \
             is over the 1048576-byte limit"
        ),
    );
    assert_eq!(realm.requests().len(), 1);
    assert!(realm.body_bytes_sent() < 64 << 20);
}

/// How many times one request is tried: the first attempt and 4 retries.
const ATTEMPTS: usize = 5;

/// A small JSON document of `len` bytes (a manifest or a token, as far as
/// a client that never reads it whole can tell).
fn document(len: usize) -> Vec<u8> {
    let mut doc = br#"{"token":""#.to_vec();
    doc.resize(len - 2, b'x');
    doc.extend_from_slice(br#""}"#);
    doc
}

/// Asserts exit 2, nothing on stdout, `error: MESSAGE` as the last line
/// of stderr, and the one retry line before it for each attempt but the last.
fn assert_error_after_retries(run: &Run, message: &str) {
    assert_eq!((run.code, run.stdout.as_str()), (2, ""), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.last(), Some(&format!("error: {message}").as_str()));
    let retries = lines
        .iter()
        .filter(|l| l.contains("; retrying in "))
        .count();
    assert_eq!(retries, ATTEMPTS - 1, "{}", run.stderr);
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("error: ") || l.contains(message)),
        "{}",
        run.stderr
    );
}

#[test]
fn manifest_trickled_a_byte_a_second_ends_in_an_error_after_bounded_retries() {
    let registry = HostileServer::start("127.0.0.1", |request| {
        if request.path() == MANIFEST {
            Answer::Trickle(document(1000))
        } else {
            Answer::status(404, "")
        }
    });
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let run = inspect(tmp.path(), &reference, &[]);
    assert_error_after_retries(
        &run,
        &format!(
            "{reference}: the manifest at {}{MANIFEST}: fewer than 10240 bytes arrived in 10s \
             of waiting; the server is stalled or too slow",
            registry.url()
        ),
    );
    assert_eq!(registry.requests().len(), ATTEMPTS);
}

#[test]
fn token_trickled_a_byte_a_second_ends_in_an_error_after_bounded_retries() {
    let realm = HostileServer::start("127.0.0.1", |_| Answer::Trickle(document(1000)));
    let realm_url = format!("{}/token", realm.url());
    let registry = challenging_registry(realm_url.clone());
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let run = inspect(tmp.path(), &reference, &[]);
    assert_error_after_retries(
        &run,
        &format!(
            "{reference}: the token at {realm_url}?scope=repository%3Aapp%3Apull&service=hostile: \
             fewer than 10240 bytes arrived in 10s of waiting; the server is stalled or too slow"
        ),
    );
    assert_eq!(realm.requests().len(), ATTEMPTS);
}

#[test]
fn credentials_never_go_to_a_plain_http_realm_on_another_host() {
    let tmp = tempfile::tempdir().expect("temp dir");

    // The realm is on 127.0.0.2, the registry on 127.0.0.1.
    let elsewhere = generous_realm("127.0.0.2");
    let registry = challenging_registry(format!("{}/token", elsewhere.url()));
    let reference = format!("{}/app:v1", registry.host());
    let auth = authfile(tmp.path(), &registry.host());
    let run = inspect(tmp.path(), &reference, &["--authfile", &auth]);
    assert_error(
        &run,
        &format!(
            "{reference}: refusing to send the credentials for {} to the token realm \
             {}/token: it is plain HTTP on another host than the registry; ask the registry's \
             operator for an https realm, or remove its credentials from the auth file to pull \
             anonymously",
            registry.host(),
            elsewhere.url()
        ),
    );
    assert_eq!(
        elsewhere.requests().len(),
        0,
        "the realm was not even asked"
    );

    // Without credentials, the same realm is asked for an anonymous token:
    // nothing secret is sent, and the token goes to the registry.
    let anonymous = tempfile::tempdir().expect("temp dir");
    let run = inspect(anonymous.path(), &reference, &[]);
    assert_error(
        &run,
        &format!("{reference}: not found in the registry (check the repository and tag)"),
    );
    assert_eq!(authorizations(&elsewhere), vec![None]);
    assert_eq!(
        elsewhere.requests()[0].target,
        "/token?scope=repository%3Aapp%3Apull&service=hostile"
    );

    // The control: a realm on the registry's own host, over the plain HTTP
    // the registry itself uses, is given the credentials.
    let own = generous_realm("127.0.0.1");
    let registry = challenging_registry(format!("{}/token", own.url()));
    let reference = format!("{}/app:v1", registry.host());
    let auth = authfile(tmp.path(), &registry.host());
    let run = inspect(tmp.path(), &reference, &["--authfile", &auth]);
    assert_error(
        &run,
        &format!("{reference}: not found in the registry (check the repository and tag)"),
    );
    assert_eq!(authorizations(&own), vec![Some(basic_value())]);
    assert_eq!(
        authorizations(&registry),
        vec![None, Some("Bearer t".to_string())]
    );
}

#[test]
fn manifest_redirect_to_another_host_does_not_carry_the_credentials() {
    let elsewhere = HostileServer::start("127.0.0.2", |_| Answer::status(404, ""));
    let target = format!("{}/stolen", elsewhere.url());
    // A registry with Basic auth that redirects the authorized request.
    let registry = HostileServer::start("127.0.0.1", move |request| {
        if request.header("authorization").is_some() {
            Answer::status(307, "").header("Location", &target)
        } else {
            Answer::status(401, "").header("WWW-Authenticate", r#"Basic realm="hostile""#)
        }
    });
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let auth = authfile(tmp.path(), &registry.host());
    let run = inspect(tmp.path(), &reference, &["--authfile", &auth]);
    assert_error(
        &run,
        &format!("{reference}: not found in the registry (check the repository and tag)"),
    );
    assert_eq!(
        authorizations(&registry),
        vec![None, Some(basic_value())],
        "the registry itself is given them"
    );
    let followed = elsewhere.requests();
    assert_eq!(followed.len(), 1, "the redirect was followed");
    assert_eq!(followed[0].target, "/stolen");
    assert_eq!(followed[0].header("authorization"), None);
}

#[test]
fn token_redirect_to_another_host_does_not_carry_the_credentials() {
    let elsewhere = generous_realm("127.0.0.2");
    let target = format!("{}/token", elsewhere.url());
    let realm = HostileServer::start("127.0.0.1", move |_| {
        Answer::status(307, "").header("Location", &target)
    });
    let registry = challenging_registry(format!("{}/token", realm.url()));
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let auth = authfile(tmp.path(), &registry.host());
    let run = inspect(tmp.path(), &reference, &["--authfile", &auth]);
    assert_error(
        &run,
        &format!("{reference}: not found in the registry (check the repository and tag)"),
    );
    assert_eq!(
        authorizations(&realm),
        vec![Some(basic_value())],
        "the realm on the registry's host is given them"
    );
    assert_eq!(authorizations(&elsewhere), vec![None]);
    assert_eq!(
        authorizations(&registry),
        vec![None, Some("Bearer t".to_string())]
    );
}

#[test]
fn layer_declaring_more_than_its_descriptor_is_refused_before_its_body_is_read() {
    let config = br#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/app"]},"rootfs":{"type":"layers","diff_ids":["sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"]}}"#.to_vec();
    let config_digest = sha256_digest(&config);
    let layer_digest = sha256_digest(&[0u8; 1024]);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest, "size": config.len(),
        },
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.v1.tar",
            "digest": layer_digest, "size": 1024,
        }],
    })
    .to_string();
    let config_path = format!("/v2/app/blobs/{config_digest}");
    let layer_path = format!("/v2/app/blobs/{layer_digest}");
    let registry = HostileServer::start("127.0.0.1", move |request| match request.path() {
        MANIFEST => Answer::status(200, &manifest)
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json"),
        p if p == config_path => Answer::Full {
            status: 200,
            headers: Vec::new(),
            body: config.clone(),
        },
        p if p == layer_path => Answer::Declares(10 << 30),
        _ => Answer::status(404, ""),
    });
    let tmp = tempfile::tempdir().expect("temp dir");
    let reference = format!("{}/app:v1", registry.host());
    let run = run_in(tmp.path(), &["digest", &reference, "--format", "json"]);
    assert_error(
        &run,
        &format!(
            "linux/amd64: {}/app: the blob at {}/v2/app/blobs/{layer_digest} declares \
             10737418240 bytes (Content-Length), over the 1024-byte limit",
            registry.host(),
            registry.url()
        ),
    );
    let layer_requests = registry
        .requests()
        .iter()
        .filter(|r| r.path() == format!("/v2/app/blobs/{layer_digest}"))
        .count();
    assert_eq!(layer_requests, 1, "refused, not retried");
}
