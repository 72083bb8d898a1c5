//! A real CNCF distribution registry (`docker-registry`) on a free loopback
//! port, with filesystem storage in a temp dir, killed and reaped on drop.
//!
//! Also a few raw registry-API calls (blob upload, manifest PUT/GET) over
//! [`super::http`], for fixtures that no well-behaved client would push.

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::http::{self, HttpResponse};

/// How long to wait for `GET /v2/` to answer after starting the registry.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How many fresh ports to try when the chosen one was taken meanwhile.
const PORT_ATTEMPTS: usize = 5;

/// A running `docker-registry serve` on `127.0.0.1:<port>`; dropped = killed.
pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    credentials: Option<(String, String)>,
}

impl Registry {
    /// Starts an anonymous (no auth) registry. Panics with the registry's
    /// stderr if it does not answer `GET /v2/` within 20 s.
    pub fn start() -> Registry {
        Self::launch(None)
    }

    /// Starts a registry with htpasswd (bcrypt) Basic auth for one user:
    /// anonymous requests get 401 with `WWW-Authenticate: Basic realm=...`.
    pub fn start_with_auth(user: &str, pass: &str) -> Registry {
        Self::launch(Some((user.to_string(), pass.to_string())))
    }

    fn launch(credentials: Option<(String, String)>) -> Registry {
        let dir = tempfile::Builder::new()
            .prefix("registry-")
            .tempdir()
            .expect("create registry temp dir");
        let storage = dir.path().join("storage");
        fs::create_dir_all(&storage).expect("create registry storage dir");
        let auth_section = match &credentials {
            None => String::new(),
            Some((user, pass)) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, pass])
                    .output()
                    .expect("run htpasswd (apt-get install apache2-utils)");
                assert!(out.status.success(), "htpasswd failed: {out:?}");
                let file = dir.path().join("htpasswd");
                fs::write(&file, &out.stdout).expect("write htpasswd file");
                format!(
                    "auth:\n  htpasswd:\n    realm: rebuild-compare-test\n    path: {}\n",
                    file.display()
                )
            }
        };
        let mut last_stderr = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port();
            let config = dir.path().join("config.yml");
            let yaml = format!(
                "version: 0.1\n\
                 log:\n  level: info\n  accesslog:\n    disabled: true\n\
                 storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
                 \x20 maintenance:\n    uploadpurging:\n      enabled: false\n\
                 http:\n  addr: 127.0.0.1:{port}\n  secret: rebuild-compare-harness\n\
                 {auth_section}",
                storage.display()
            );
            fs::write(&config, yaml).expect("write registry config");
            let stderr_path = dir.path().join("stderr.log");
            let stderr = fs::File::create(&stderr_path).expect("create registry stderr log");
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("spawn docker-registry (apt-get install docker-registry)");
            let host = format!("127.0.0.1:{port}");
            match wait_ready(&mut child, &host) {
                Ok(()) => {
                    return Registry {
                        child,
                        port,
                        dir,
                        credentials,
                    }
                }
                Err(exited) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    last_stderr = fs::read_to_string(&stderr_path).unwrap_or_default();
                    if !(exited && last_stderr.contains("address already in use")) {
                        panic!(
                            "docker-registry on {host} did not answer GET /v2/ \
                             within {READY_TIMEOUT:?}; stderr:\n{last_stderr}"
                        );
                    }
                }
            }
        }
        panic!("docker-registry lost {PORT_ATTEMPTS} port races; last stderr:\n{last_stderr}");
    }

    /// `127.0.0.1:PORT`, the registry host as used in image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `http://127.0.0.1:PORT`, the base URL for raw API calls (e.g. with reqwest).
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// `127.0.0.1:PORT/<repo_tag>`, e.g. `reference("app:v1")`.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.host())
    }

    /// The `(user, pass)` the registry was started with, if any.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }

    /// Root of the filesystem storage driver (contains `docker/registry/v2/...`).
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Where the registry stores blob `digest` (`sha256:<hex>` or bare hex).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        assert!(hex.len() == 64, "not a sha256 digest: {digest:?}");
        self.storage_dir()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Overwrites the stored blob `digest` (`sha256:<hex>` or bare hex) with
    /// different bytes of the same length (every byte XOR 0xFF), so the
    /// registry serves content that no longer matches its digest.
    pub fn corrupt_blob(&self, digest: &str) {
        let path = self.blob_path(digest);
        let mut bytes =
            fs::read(&path).unwrap_or_else(|e| panic!("read stored blob {}: {e}", path.display()));
        bytes.iter_mut().for_each(|b| *b ^= 0xff);
        fs::write(&path, bytes)
            .unwrap_or_else(|e| panic!("write stored blob {}: {e}", path.display()));
    }

    /// Stores manifest `bytes` for `repo:tag` by writing the registry's
    /// filesystem storage directly (blob + revision link + tag links),
    /// bypassing the API's checks. Returns the digest `sha256:<hex>`.
    /// `GET` serves it only if it is a JSON manifest of a known type and at
    /// most 4 MiB (larger ones are answered 500).
    pub fn plant_manifest(&self, repo: &str, tag: &str, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        self.plant_manifest_as(repo, tag, &digest, bytes);
        digest
    }

    /// Like [`Registry::plant_manifest`] but files `bytes` under `digest`
    /// (`sha256:<hex>`) even if they do not hash to it, so the registry
    /// serves a manifest whose content does not match its digest.
    pub fn plant_manifest_as(&self, repo: &str, tag: &str, digest: &str, bytes: &[u8]) {
        let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
        let link = format!("sha256:{hex}");
        let v2 = self.storage_dir().join("docker/registry/v2");
        let manifests = v2.join("repositories").join(repo).join("_manifests");
        let tag_dir = manifests.join("tags").join(tag);
        let files: [(PathBuf, &[u8]); 4] = [
            (self.blob_path(digest), bytes),
            (
                manifests.join("revisions/sha256").join(hex).join("link"),
                link.as_bytes(),
            ),
            (tag_dir.join("current/link"), link.as_bytes()),
            (
                tag_dir.join("index/sha256").join(hex).join("link"),
                link.as_bytes(),
            ),
        ];
        for (path, content) in files {
            fs::create_dir_all(path.parent().expect("storage path has a parent"))
                .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
            fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }

    /// The registry process's stderr so far (for debugging failed tests).
    pub fn stderr_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    fn auth_header(&self) -> Option<String> {
        self.credentials.as_ref().map(|(u, p)| {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            format!("Basic {token}")
        })
    }

    /// A raw API request, with the registry's credentials (if any) as Basic auth.
    pub fn api(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> HttpResponse {
        let auth = self.auth_header();
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        if let Some(auth) = &auth {
            all.push(("Authorization", auth));
        }
        http::request(&self.host(), method, target, &all, body)
            .unwrap_or_else(|e| panic!("{method} {target} on {}: {e}", self.host()))
    }

    /// Uploads `bytes` as a blob of `repo` (monolithic POST + PUT) and returns
    /// its digest `sha256:<hex>`. Panics unless the registry answers 201.
    pub fn upload_blob(&self, repo: &str, bytes: &[u8]) -> String {
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        let start = self.api("POST", &format!("/v2/{repo}/blobs/uploads/"), &[], b"");
        assert_eq!(start.status, 202, "start upload: {}", start.text());
        let location = start
            .header("location")
            .expect("upload Location header")
            .to_string();
        let path = location
            .strip_prefix(&self.url())
            .unwrap_or(&location)
            .to_string();
        let sep = if path.contains('?') { '&' } else { '?' };
        let done = self.api(
            "PUT",
            &format!("{path}{sep}digest={digest}"),
            &[("Content-Type", "application/octet-stream")],
            bytes,
        );
        assert_eq!(done.status, 201, "finish upload: {}", done.text());
        digest
    }

    /// PUTs manifest `bytes` with `media_type` under `repo:reference` and
    /// returns the raw response (201 on success; tests assert on refusals).
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> HttpResponse {
        self.api(
            "PUT",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Content-Type", media_type)],
            bytes,
        )
    }

    /// GETs `/v2/<repo>/manifests/<reference>` accepting OCI and Docker
    /// manifest and index media types.
    pub fn get_manifest(&self, repo: &str, reference: &str) -> HttpResponse {
        let accept = [
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.docker.distribution.manifest.v2+json",
        ]
        .join(", ");
        self.api(
            "GET",
            &format!("/v2/{repo}/manifests/{reference}"),
            &[("Accept", &accept)],
            b"",
        )
    }

    /// GETs blob `digest` of `repo` (raw response; the body is what is stored).
    pub fn get_blob(&self, repo: &str, digest: &str) -> HttpResponse {
        self.api("GET", &format!("/v2/{repo}/blobs/{digest}"), &[], b"")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Ok when `/v2/` on `host` answers 200 or 401; Err(true) when the process
/// exited first, Err(false) on timeout.
fn wait_ready(child: &mut Child, host: &str) -> Result<(), bool> {
    let deadline = Instant::now() + READY_TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return Err(true);
        }
        if let Ok(resp) = http::request(host, "GET", "/v2/", &[], b"") {
            if resp.status == 200 || resp.status == 401 {
                return Ok(());
            }
        }
        sleep(Duration::from_millis(50));
    }
    Err(false)
}

/// A port that was free a moment ago (bind to 0, read, release).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}
