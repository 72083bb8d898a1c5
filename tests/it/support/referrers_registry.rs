//! An honest, in-memory registry with the OCI distribution 1.1 referrers
//! API, on loopback (Debian's docker-registry 2.8 has none): blob uploads
//! and reads, manifests by tag and digest stored as pushed, `OCI-Subject`
//! on the push of a manifest with a `subject`, and `GET
//! /v2/NAME/referrers/DIGEST` listing every manifest whose subject is
//! DIGEST. A [`HostileServer`] plays it, so every request is recorded; a
//! test may also plant an answer no honest registry gives.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{json, Value};

use super::hostile::{Answer, HostileServer, Request};
use super::image::sha256_digest;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// What the registry does with a referrers request's `artifactType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Lists only that artifact type, and says so (`OCI-Filters-Applied`).
    Honoured,
    /// Lists every referrer (allowed by the specification).
    Ignored,
}

#[derive(Default)]
struct Store {
    /// `(repository, digest)` → bytes.
    blobs: HashMap<(String, String), Vec<u8>>,
    /// `(repository, digest)` → (media type, bytes).
    manifests: HashMap<(String, String), (String, Vec<u8>)>,
    /// `(repository, tag)` → digest.
    tags: BTreeMap<(String, String), String>,
    /// Request path → the body a `GET` of it is answered with instead.
    planted: HashMap<String, Vec<u8>>,
    uploads: u64,
}

/// The running registry; dropped = stopped.
pub struct ReferrersRegistry {
    server: HostileServer,
    store: Arc<Mutex<Store>>,
}

impl ReferrersRegistry {
    /// Starts an empty registry on a free port of 127.0.0.1.
    pub fn start(filter: Filter) -> ReferrersRegistry {
        let store = Arc::new(Mutex::new(Store::default()));
        let shared = Arc::clone(&store);
        let server = HostileServer::start("127.0.0.1", move |request| {
            let mut store = shared.lock().unwrap_or_else(|e| e.into_inner());
            handle(&mut store, filter, request)
        });
        ReferrersRegistry { server, store }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> String {
        self.server.host()
    }

    /// `127.0.0.1:PORT/<rest>`.
    pub fn reference(&self, rest: &str) -> String {
        format!("{}/{rest}", self.host())
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }

    /// Stores blob `bytes` in `repo` (as an upload would) and returns its digest.
    pub fn put_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = sha256_digest(bytes);
        self.store()
            .blobs
            .insert((repo.to_string(), digest.clone()), bytes.to_vec());
        digest
    }

    /// Stores manifest `bytes` of `media_type` in `repo`, tagged `tag` when
    /// given (as a push would), and returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        tag: Option<&str>,
        media_type: &str,
        bytes: &[u8],
    ) -> String {
        let mut store = self.store();
        store_manifest(&mut store, repo, tag, media_type, bytes)
    }

    /// The manifest at `target` (a tag or a digest) of `repo`.
    pub fn manifest(&self, repo: &str, target: &str) -> Option<Value> {
        let store = self.store();
        let digest = store
            .tags
            .get(&(repo.to_string(), target.to_string()))
            .cloned()
            .unwrap_or_else(|| target.to_string());
        store
            .manifests
            .get(&(repo.to_string(), digest))
            .and_then(|(_, bytes)| serde_json::from_slice(bytes).ok())
    }

    /// The tags of `repo`, sorted.
    pub fn tags(&self, repo: &str) -> Vec<String> {
        self.store()
            .tags
            .keys()
            .filter(|(r, _)| r == repo)
            .map(|(_, tag)| tag.clone())
            .collect()
    }

    /// Answers every `GET path` with `200` and `body`, whatever is stored.
    pub fn plant(&self, path: &str, body: Vec<u8>) {
        self.store().planted.insert(path.to_string(), body);
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn store_manifest(
    store: &mut Store,
    repo: &str,
    tag: Option<&str>,
    media_type: &str,
    bytes: &[u8],
) -> String {
    let digest = sha256_digest(bytes);
    store.manifests.insert(
        (repo.to_string(), digest.clone()),
        (media_type.to_string(), bytes.to_vec()),
    );
    if let Some(tag) = tag {
        store
            .tags
            .insert((repo.to_string(), tag.to_string()), digest.clone());
    }
    digest
}

fn error(status: u16, code: &str) -> Answer {
    Answer::Full {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: json!({"errors": [{"code": code, "message": code}]})
            .to_string()
            .into_bytes(),
    }
}

fn ok(status: u16, media_type: &str, body: Vec<u8>) -> Answer {
    Answer::Full {
        status,
        headers: vec![("Content-Type".into(), media_type.into())],
        body,
    }
}

/// One request, as distribution 1.1 specifies it.
fn handle(store: &mut Store, filter: Filter, request: &Request) -> Answer {
    let path = request.path().to_string();
    let method = request.method.as_str();
    if method == "GET" {
        if let Some(body) = store.planted.get(&path) {
            return ok(200, "application/json", body.clone());
        }
    }
    if path == "/v2/" {
        return ok(200, "application/json", b"{}".to_vec());
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return error(404, "NOT_FOUND");
    };
    let query: HashMap<String, String> = url::form_urlencoded::parse(
        request
            .target
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .as_bytes(),
    )
    .into_owned()
    .collect();
    if let Some((repo, id)) = rest.split_once("/blobs/uploads/") {
        return match method {
            "POST" => {
                store.uploads += 1;
                Answer::status(202, "").header(
                    "Location",
                    &format!("/v2/{repo}/blobs/uploads/{}", store.uploads),
                )
            }
            "PUT" if !id.is_empty() => {
                let digest = sha256_digest(&request.body);
                if query.get("digest") != Some(&digest) {
                    return error(400, "DIGEST_INVALID");
                }
                store
                    .blobs
                    .insert((repo.to_string(), digest.clone()), request.body.clone());
                Answer::status(201, "").header("Docker-Content-Digest", &digest)
            }
            _ => error(405, "UNSUPPORTED"),
        };
    }
    if let Some((repo, digest)) = rest.rsplit_once("/blobs/") {
        return match (method, store.blobs.get(&(repo.into(), digest.into()))) {
            ("HEAD", Some(_)) => Answer::status(200, "").header("Docker-Content-Digest", digest),
            ("GET", Some(bytes)) => ok(200, "application/octet-stream", bytes.clone()),
            ("HEAD" | "GET", None) => error(404, "BLOB_UNKNOWN"),
            _ => error(405, "UNSUPPORTED"),
        };
    }
    if let Some((repo, target)) = rest.rsplit_once("/manifests/") {
        return match method {
            "PUT" => put_manifest(store, repo, target, request),
            "GET" | "HEAD" => {
                let digest = store
                    .tags
                    .get(&(repo.to_string(), target.to_string()))
                    .cloned()
                    .unwrap_or_else(|| target.to_string());
                match store.manifests.get(&(repo.to_string(), digest.clone())) {
                    Some((media_type, bytes)) => {
                        let body = if method == "GET" {
                            bytes.clone()
                        } else {
                            Vec::new()
                        };
                        ok(200, media_type, body).header("Docker-Content-Digest", &digest)
                    }
                    None => error(404, "MANIFEST_UNKNOWN"),
                }
            }
            _ => error(405, "UNSUPPORTED"),
        };
    }
    if let Some((repo, digest)) = rest.rsplit_once("/referrers/") {
        if method != "GET" {
            return error(405, "UNSUPPORTED");
        }
        let wanted = match filter {
            Filter::Honoured => query.get("artifactType").cloned(),
            Filter::Ignored => None,
        };
        let answer = ok(
            200,
            OCI_INDEX,
            referrers(store, repo, digest, wanted.as_deref()),
        );
        return match wanted {
            Some(_) => answer.header("OCI-Filters-Applied", "artifactType"),
            None => answer,
        };
    }
    error(404, "NOT_FOUND")
}

fn put_manifest(store: &mut Store, repo: &str, target: &str, request: &Request) -> Answer {
    let digest = sha256_digest(&request.body);
    let is_digest = target.starts_with("sha256:");
    if is_digest && target != digest {
        return error(400, "DIGEST_INVALID");
    }
    let Ok(manifest) = serde_json::from_slice::<Value>(&request.body) else {
        return error(400, "MANIFEST_INVALID");
    };
    let media_type = request.header("content-type").unwrap_or_default();
    let tag = (!is_digest).then_some(target);
    store_manifest(store, repo, tag, media_type, &request.body);
    let answer = Answer::status(201, "")
        .header("Docker-Content-Digest", &digest)
        .header("Location", &format!("/v2/{repo}/manifests/{digest}"));
    match manifest.pointer("/subject/digest").and_then(Value::as_str) {
        Some(subject) => answer.header("OCI-Subject", subject),
        None => answer,
    }
}

/// The referrers index of `subject` in `repo`: a descriptor of each
/// manifest whose subject it is (of `artifact_type` only, when given),
/// with its artifact type and annotations, sorted by digest.
fn referrers(store: &Store, repo: &str, subject: &str, artifact_type: Option<&str>) -> Vec<u8> {
    let mut manifests: Vec<Value> = store
        .manifests
        .iter()
        .filter(|((r, _), _)| r == repo)
        .filter_map(|((_, digest), (media_type, bytes))| {
            let manifest: Value = serde_json::from_slice(bytes).ok()?;
            if manifest.pointer("/subject/digest").and_then(Value::as_str) != Some(subject) {
                return None;
            }
            let kind = manifest
                .get("artifactType")
                .or_else(|| manifest.pointer("/config/mediaType"))
                .cloned()
                .unwrap_or(Value::Null);
            if artifact_type.is_some_and(|wanted| kind != wanted) {
                return None;
            }
            let mut descriptor = json!({
                "mediaType": media_type,
                "digest": digest,
                "size": bytes.len(),
                "artifactType": kind,
            });
            if let Some(annotations) = manifest.get("annotations") {
                descriptor["annotations"] = annotations.clone();
            }
            Some(descriptor)
        })
        .collect();
    manifests.sort_by(|a, b| a["digest"].as_str().cmp(&b["digest"].as_str()));
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": manifests,
    }))
    .unwrap_or_default()
}
