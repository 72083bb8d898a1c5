//! Image references and transports: the first stage of the image side.
//!
//! Parses what the user typed (`bitnami/kubectl`, `host:5000/ns/app:v1@sha256:…`,
//! `oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`) into an [`ImageLocation`],
//! normalising registry references exactly like Docker and crane do:
//! `ubuntu` is `docker.io/library/ubuntu:latest`.

use std::fmt;
use std::path::PathBuf;

use super::digest::Digest;

/// The registry Docker uses when a reference names none.
pub const DOCKER_HUB: &str = "docker.io";
/// The tag used when a reference names neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";

/// Why a reference could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error("invalid image reference {input:?}: {reason}")]
pub struct ReferenceError {
    input: String,
    reason: String,
}

impl ReferenceError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        Self {
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}

/// A normalised registry reference: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host, with port if any (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Repository path inside the registry (`library/ubuntu`).
    pub repository: String,
    /// Tag, if the reference names one (or the default `latest` when it names no digest).
    pub tag: Option<String>,
    /// Digest, if the reference pins one.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises a registry reference the way Docker does.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let s = input.strip_prefix("docker://").unwrap_or(input);
        if s.is_empty() {
            return Err(ReferenceError::new(input, "it is empty"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ReferenceError::new(input, "it contains whitespace"));
        }
        let (name_tag, digest) = match s.split_once('@') {
            Some((name, digest)) => (
                name,
                Some(Digest::parse(digest).map_err(|e| ReferenceError::new(input, e.to_string()))?),
            ),
            None => (s, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&name_tag[..at], Some(&name_tag[at + 1..]))
            }
            None => (name_tag, None),
        };
        if let Some(tag) = tag {
            validate_tag(tag).map_err(|r| ReferenceError::new(input, r))?;
        }
        let (registry, repository) = split_registry(name);
        let registry = match registry {
            Some("index.docker.io" | "registry-1.docker.io") | None => DOCKER_HUB.to_string(),
            Some(host) => host.to_string(),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        validate_repository(&repository).map_err(|r| ReferenceError::new(input, r))?;
        let tag = match (tag, &digest) {
            (Some(tag), _) => Some(tag.to_string()),
            (None, None) => Some(DEFAULT_TAG.to_string()),
            (None, Some(_)) => None,
        };
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// Whether a typed registry reference names a tag or digest itself
    /// (`app:v1`, `app@sha256:…`), rather than defaulting to `latest`.
    pub fn names_tag_or_digest(input: &str) -> bool {
        let s = input.strip_prefix("docker://").unwrap_or(input);
        s.contains('@') || s.rsplit('/').next().is_some_and(|last| last.contains(':'))
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The same repository pinned to `digest` (the tag is kept for display).
    pub fn pinned(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Self {
        Self {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Splits off the registry host the way Docker does: the first path component
/// is a host when it contains `.` or `:`, or is `localhost`.
fn split_registry(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.') || first.contains(':') || first == "localhost" =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// Checks a tag against the distribution grammar; the error says why it fails.
pub(crate) fn validate_tag(tag: &str) -> Result<(), String> {
    let ok = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag {tag:?} must be 1-128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'"
        ))
    }
}

/// Repository components: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, joined by `/`.
fn validate_repository(repository: &str) -> Result<(), String> {
    if repository.len() > 255 {
        return Err("the repository name is longer than 255 characters".into());
    }
    for component in repository.split('/') {
        if !valid_component(component) {
            return Err(format!(
                "repository component {component:?} must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Where an image is read from, like skopeo's transports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageLocation {
    /// A registry (`docker://` or a bare reference).
    Registry(Reference),
    /// An OCI image layout directory, optionally naming an entry by its
    /// `org.opencontainers.image.ref.name` annotation.
    OciLayout { dir: PathBuf, tag: Option<String> },
    /// A `docker save` tarball, optionally naming one of its `RepoTags`.
    DockerArchive {
        file: PathBuf,
        reference: Option<String>,
    },
}

impl ImageLocation {
    /// Parses `oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`, `docker://REF` or a bare reference.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if let Some(rest) = input.strip_prefix("oci:") {
            let (dir, tag) = split_path_and_name(rest);
            if dir.is_empty() {
                return Err(ReferenceError::new(input, "oci: needs a directory"));
            }
            return Ok(Self::OciLayout {
                dir: PathBuf::from(dir),
                tag: tag.map(str::to_string),
            });
        }
        if let Some(rest) = input.strip_prefix("docker-archive:") {
            let (file, reference) = split_path_and_name(rest);
            if file.is_empty() {
                return Err(ReferenceError::new(input, "docker-archive: needs a file"));
            }
            return Ok(Self::DockerArchive {
                file: PathBuf::from(file),
                reference: reference.map(str::to_string),
            });
        }
        if let Some((transport, _)) = input.split_once(':') {
            if matches!(
                transport,
                "oci-archive" | "dir" | "docker-daemon" | "containers-storage"
            ) {
                return Err(ReferenceError::new(
                    input,
                    format!("the {transport}: transport is not supported; use oci:DIR, docker-archive:FILE or a registry reference (e.g. `skopeo copy {input} oci:DIR` first)"),
                ));
            }
        }
        Reference::parse(input).map(Self::Registry)
    }

    /// The registry reference, when this location is a registry.
    pub fn registry_reference(&self) -> Option<&Reference> {
        match self {
            Self::Registry(r) => Some(r),
            _ => None,
        }
    }
}

/// Splits `PATH[:NAME]` at the first `:` (paths with `:` are not supported, as in skopeo).
fn split_path_and_name(s: &str) -> (&str, Option<&str>) {
    match s.split_once(':') {
        Some((path, name)) if !name.is_empty() => (path, Some(name)),
        Some((path, _)) => (path, None),
        None => (s, None),
    }
}

impl fmt::Display for ImageLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Registry(r) => write!(f, "{r}"),
            Self::OciLayout { dir, tag } => {
                write!(f, "oci:{}", dir.display())?;
                if let Some(tag) = tag {
                    write!(f, ":{tag}")?;
                }
                Ok(())
            }
            Self::DockerArchive { file, reference } => {
                write!(f, "docker-archive:{}", file.display())?;
                if let Some(r) = reference {
                    write!(f, ":{r}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(norm("bitnami/kubectl"), "docker.io/bitnami/kubectl:latest");
        assert_eq!(norm("ubuntu"), "docker.io/library/ubuntu:latest");
        assert_eq!(norm("ubuntu:22.04"), "docker.io/library/ubuntu:22.04");
        assert_eq!(
            norm("index.docker.io/library/ubuntu"),
            "docker.io/library/ubuntu:latest"
        );
        assert_eq!(norm("127.0.0.1:5000/ns/app:v1"), "127.0.0.1:5000/ns/app:v1");
        assert_eq!(norm("localhost/app"), "localhost/app:latest");
        assert_eq!(norm("ghcr.io/o/r/x:1.0"), "ghcr.io/o/r/x:1.0");
        assert_eq!(norm("docker://busybox"), "docker.io/library/busybox:latest");
    }

    #[test]
    fn keeps_digest_and_tag() {
        let d = format!("app@sha256:{HEX}");
        assert_eq!(norm(&d), format!("docker.io/library/app@sha256:{HEX}"));
        let d = format!("quay.io/a/b:v2@sha256:{HEX}");
        assert_eq!(norm(&d), format!("quay.io/a/b:v2@sha256:{HEX}"));
        let r = Reference::parse(&d).unwrap();
        assert_eq!(r.tag.as_deref(), Some("v2"));
        assert_eq!(r.digest.unwrap().hex(), HEX);
    }

    #[test]
    fn tells_whether_a_tag_was_typed() {
        assert!(!Reference::names_tag_or_digest("bitnami/kubectl"));
        assert!(!Reference::names_tag_or_digest("host:5000/app"));
        assert!(Reference::names_tag_or_digest("host:5000/app:v1"));
        assert!(Reference::names_tag_or_digest(&format!("app@sha256:{HEX}")));
    }

    #[test]
    fn port_is_not_a_tag() {
        let r = Reference::parse("host:5000/app").unwrap();
        assert_eq!(r.registry, "host:5000");
        assert_eq!(r.repository, "app");
        assert_eq!(r.tag.as_deref(), Some("latest"));
    }

    #[test]
    fn rejects_malformed_references() {
        for bad in [
            "",
            "UPPER/case",
            "a//b",
            "app:",
            "app:-tag",
            "app@sha256:abc",
            "app@md5:0123",
            "app name",
            "-app",
            "a..b",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn parses_transports() {
        assert_eq!(
            ImageLocation::parse("oci:/tmp/lay:v1").unwrap(),
            ImageLocation::OciLayout {
                dir: "/tmp/lay".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            ImageLocation::parse("oci:lay").unwrap(),
            ImageLocation::OciLayout {
                dir: "lay".into(),
                tag: None
            }
        );
        assert_eq!(
            ImageLocation::parse("docker-archive:img.tar:app:v1").unwrap(),
            ImageLocation::DockerArchive {
                file: "img.tar".into(),
                reference: Some("app:v1".into())
            }
        );
        assert!(ImageLocation::parse("dir:/x").is_err());
        assert!(matches!(
            ImageLocation::parse("busybox").unwrap(),
            ImageLocation::Registry(_)
        ));
    }
}
