//! Registry credentials, found the way Docker and skopeo find them:
//! `--authfile`, else `REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`
//! (default `~/.docker/config.json`); within a file, `credHelpers` for the
//! registry, then `auths`, then `credsStore`. Helpers are the user's
//! `docker-credential-*` programs. No credentials means an anonymous pull
//! (with the registry's bearer-token flow when it asks for one).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde::Deserialize;

/// A credential lookup that failed in a way the user must fix.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read auth file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed auth file {path}: {source}")]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("malformed credentials for {registry} in {path}: {reason}")]
    BadEntry {
        registry: String,
        path: PathBuf,
        reason: String,
    },
    #[error("credential helper docker-credential-{helper} failed for {registry}: {reason}")]
    Helper {
        helper: String,
        registry: String,
        reason: String,
    },
}

/// A user name and password (or identity token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, <redacted>)", self.username)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperReply {
    username: String,
    secret: String,
}

/// The auth file to read: the explicit one, else `REGISTRY_AUTH_FILE`, else Docker's.
pub fn auth_file(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let dir = std::env::var_os("DOCKER_CONFIG")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))?;
    Some(dir.join("config.json"))
}

/// Credentials for `registry` (as in a normalised reference: `docker.io`,
/// `host:port`) from `file`. A missing default file means anonymous; a missing
/// explicit file is an error.
pub fn credentials_for(
    registry: &str,
    file: &Path,
    explicit: bool,
) -> Result<Option<Credentials>, AuthError> {
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(None),
        Err(source) => {
            return Err(AuthError::Read {
                path: file.to_path_buf(),
                source,
            })
        }
    };
    let config: ConfigFile =
        serde_json::from_slice(&text).map_err(|source| AuthError::Malformed {
            path: file.to_path_buf(),
            source,
        })?;
    let keys = candidate_keys(registry);
    if let Some(helper) = keys.iter().find_map(|k| config.cred_helpers.get(k)) {
        return run_helper(helper, registry);
    }
    for (key, entry) in &config.auths {
        if keys.contains(&normalise_key(key)) {
            return decode_entry(entry, registry, file).map(Some);
        }
    }
    match &config.creds_store {
        Some(store) => run_helper(store, registry),
        None => Ok(None),
    }
}

/// The spellings under which a registry's credentials may be stored.
fn candidate_keys(registry: &str) -> Vec<String> {
    if registry == super::reference::DOCKER_HUB {
        [
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "index.docker.io/v1",
        ]
        .map(String::from)
        .to_vec()
    } else {
        vec![registry.to_string()]
    }
}

/// `https://index.docker.io/v1/` -> `index.docker.io/v1`; `https://host:5000` -> `host:5000`.
fn normalise_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let key = key.trim_end_matches('/');
    match key.split_once('/') {
        Some(("index.docker.io", "v1" | "v2")) => "index.docker.io/v1".into(),
        Some((host, _)) => host.to_string(),
        None => key.to_string(),
    }
}

fn decode_entry(entry: &AuthEntry, registry: &str, file: &Path) -> Result<Credentials, AuthError> {
    let bad = |reason: &str| AuthError::BadEntry {
        registry: registry.to_string(),
        path: file.to_path_buf(),
        reason: reason.to_string(),
    };
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad("\"auth\" is not base64"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad("\"auth\" is not UTF-8"))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad("\"auth\" is not user:password"))?;
        return Ok(Credentials {
            username: username.to_string(),
            password: password.to_string(),
        });
    }
    if let Some(token) = &entry.identitytoken {
        return Ok(Credentials {
            username: "<token>".into(),
            password: token.clone(),
        });
    }
    match (&entry.username, &entry.password) {
        (Some(u), Some(p)) => Ok(Credentials {
            username: u.clone(),
            password: p.clone(),
        }),
        _ => Err(bad("neither \"auth\" nor username and password")),
    }
}

/// Asks `docker-credential-<helper> get` for the registry's credentials.
fn run_helper(helper: &str, registry: &str) -> Result<Option<Credentials>, AuthError> {
    let fail = |reason: String| AuthError::Helper {
        helper: helper.to_string(),
        registry: registry.to_string(),
        reason,
    };
    let server = if registry == super::reference::DOCKER_HUB {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    let program = format!("docker-credential-{helper}");
    let mut child = match Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::warn!("{program} is not installed; pulling {registry} anonymously");
            return Ok(None);
        }
        Err(e) => return Err(fail(e.to_string())),
    };
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(server.as_bytes())
            .map_err(|e| fail(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stdout);
        if said.contains("credentials not found") {
            return Ok(None);
        }
        return Err(fail(format!("exit status {}: {}", out.status, said.trim())));
    }
    let reply: HelperReply =
        serde_json::from_slice(&out.stdout).map_err(|e| fail(format!("unreadable reply: {e}")))?;
    Ok(Some(Credentials {
        username: reply.username,
        password: reply.secret,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, json: &str) -> PathBuf {
        let p = dir.join("config.json");
        std::fs::write(&p, json).unwrap();
        p
    }

    #[test]
    fn reads_auths_in_docker_spellings() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            r#"{"auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwYXNz"},
                          "127.0.0.1:5000": {"username": "u", "password": "p"}}}"#,
        );
        let hub = credentials_for("docker.io", &p, true).unwrap().unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.password.as_str()),
            ("user", "pass")
        );
        let local = credentials_for("127.0.0.1:5000", &p, true)
            .unwrap()
            .unwrap();
        assert_eq!(local.username, "u");
        assert!(credentials_for("quay.io", &p, true).unwrap().is_none());
    }

    #[test]
    fn missing_default_file_is_anonymous_but_explicit_is_an_error() {
        let missing = Path::new("/nonexistent/config.json");
        assert!(credentials_for("docker.io", missing, false)
            .unwrap()
            .is_none());
        assert!(credentials_for("docker.io", missing, true).is_err());
    }

    #[test]
    fn malformed_entry_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), r#"{"auths": {"h:1": {"auth": "!!!"}}}"#);
        let err = credentials_for("h:1", &p, true).unwrap_err();
        assert!(err.to_string().contains("\"auth\" is not base64"), "{err}");
    }
}
