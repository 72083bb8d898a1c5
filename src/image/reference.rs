//! Image references and transports: the first stage of the image side.
//!
//! Parses what the user typed (`bitnami/kubectl`, `host:5000/ns/app:v1@sha256:…`,
//! `oci:DIR[:TAG]`, `docker-archive:FILE[:REF]`) into an [`ImageLocation`].
//! A registry reference is read by `oci-client`'s grammar (the distribution
//! spec's, with Docker's normalisation: `ubuntu` is
//! `docker.io/library/ubuntu:latest`); [`Reference::parse`] adds this
//! project's rules around it: the `docker://` prefix, whitespace and control
//! characters refused by name, `registry-1.docker.io` as Docker Hub, IPv6
//! literal hosts (`[::1]:5000/app`), tags in ASCII only, and the digest as a
//! typed sha256 [`Digest`].

use std::borrow::Cow;
use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;

use super::digest::Digest;

/// The registry Docker uses when a reference names none.
pub const DOCKER_HUB: &str = "docker.io";
/// The tag used when a reference names neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Another name of Docker Hub's registry that oci-client's grammar keeps as
/// written (it folds only `index.docker.io`).
const DOCKER_HUB_ALIAS: &str = "registry-1.docker.io";
/// The host an IPv6 literal stands in for while oci-client's grammar, which
/// has no IPv6 hosts, reads the rest of the reference.
const STAND_IN_HOST: &str = "localhost";
/// What a registry reference looks like, for the error when it does not.
const GRAMMAR: &str = "expected [HOST[:PORT]/]NAME[:TAG][@DIGEST], the NAME in lowercase \
    letters and digits separated by '/', '.', '_', '__' or '-', the TAG 1-128 letters, \
    digits, '_', '.' and '-', not starting with '.' or '-'";

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
///
/// Its parts come from `oci_client::Reference`'s accessors; the project
/// keeps its own struct because the digest travels as a typed [`Digest`]
/// (sha256 in lowercase hex only: the digest every later stage verifies
/// bytes against and names cache files by), where oci-client keeps any
/// algorithm's digest as a string.
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
        let digest = match s.split_once('@') {
            Some((_, digest)) => {
                Some(Digest::parse(digest).map_err(|e| ReferenceError::new(input, e.to_string()))?)
            }
            None => None,
        };
        let (ipv6_host, text) = match ipv6_host(s) {
            Some((host, path)) => (Some(host), Cow::Owned(format!("{STAND_IN_HOST}/{path}"))),
            None => match s.split_once('/') {
                Some((DOCKER_HUB_ALIAS, path)) => {
                    (None, Cow::Owned(format!("{DOCKER_HUB}/{path}")))
                }
                _ => (None, Cow::Borrowed(s)),
            },
        };
        let parsed: oci_client::Reference = text.parse().map_err(|e| {
            ReferenceError::new(
                input,
                match e {
                    oci_client::ParseError::NameTooLong => {
                        "the repository name is longer than 255 characters".to_string()
                    }
                    other => format!("{other}: {GRAMMAR}"),
                },
            )
        })?;
        // oci-client's grammar reads the `UPPER` of `UPPER/case` as a host, and its
        // normalisation puts it back into the repository unchecked: refused
        // here with the error oci-client names for it but does not raise.
        if parsed.repository().bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(ReferenceError::new(
                input,
                format!(
                    "{}: {GRAMMAR}",
                    oci_client::ParseError::NameContainsUppercase
                ),
            ));
        }
        if let Some(tag) = parsed.tag() {
            validate_tag(tag).map_err(|r| ReferenceError::new(input, r))?;
        }
        Ok(Self {
            registry: ipv6_host.unwrap_or(parsed.registry()).to_string(),
            repository: parsed.repository().to_string(),
            tag: parsed.tag().map(str::to_string),
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

/// Splits `[v6]:PORT/path` (or `[v6]/path`) into its host and path, the
/// host kept as written, when the brackets hold an IPv6 address.
fn ipv6_host(s: &str) -> Option<(&str, &str)> {
    let (host, path) = s.split_once('/')?;
    let (address, port) = host.strip_prefix('[')?.split_once(']')?;
    address.parse::<Ipv6Addr>().ok()?;
    let port_ok = match port.strip_prefix(':') {
        Some(digits) => !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        None => port.is_empty(),
    };
    port_ok.then_some((host, path))
}

/// Checks a tag against the distribution grammar, in ASCII (oci-client's
/// grammar also takes Unicode letters and digits); the error says why it fails.
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
    fn keeps_ipv6_literal_registry_hosts() {
        let r = Reference::parse("[::1]:5000/ns/app:v1").unwrap();
        assert_eq!(r.registry, "[::1]:5000");
        assert_eq!(r.repository, "ns/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(norm("[::1]/app"), "[::1]/app:latest");
        assert!(Reference::parse("[zz]:5000/app").is_err());
        assert!(Reference::parse("[::1]:port/app").is_err());
    }

    #[test]
    fn folds_every_docker_hub_host() {
        assert_eq!(
            norm("registry-1.docker.io/ubuntu:22.04"),
            "docker.io/library/ubuntu:22.04"
        );
        assert_eq!(norm("docker.io/ubuntu"), "docker.io/library/ubuntu:latest");
    }

    #[test]
    fn refusals_say_which_rule_failed() {
        let reason = |input: &str| Reference::parse(input).unwrap_err().to_string();
        assert_eq!(
            reason("app:t\u{e1}g"),
            "invalid image reference \"app:t\u{e1}g\": tag \"t\u{e1}g\" must be 1-128 characters \
             of letters, digits, '_', '.' and '-', not starting with '.' or '-'"
        );
        assert_eq!(
            reason("a//b"),
            format!("invalid image reference \"a//b\": invalid reference format: {GRAMMAR}")
        );
        assert_eq!(
            reason("UPPER/case"),
            format!("invalid image reference \"UPPER/case\": repository name must be lowercase: {GRAMMAR}")
        );
        assert_eq!(
            reason(&format!("{}/app", "a".repeat(260))),
            format!(
                "invalid image reference \"{}/app\": the repository name is longer than 255 characters",
                "a".repeat(260)
            )
        );
        assert_eq!(
            reason("app\tv1"),
            "invalid image reference \"app\\tv1\": it contains whitespace"
        );
        assert_eq!(
            reason("app@md5:0123"),
            "invalid image reference \"app@md5:0123\": unsupported digest algorithm in \"md5:0123\" \
             (only sha256 is supported)"
        );
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
