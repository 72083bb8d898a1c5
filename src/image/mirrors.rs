//! Registry mirrors from `containers-registries.conf(5)`, the file skopeo,
//! podman, buildah and CRI-O read: which `[[registry]]` table a reference
//! falls under (the longest matching `prefix`, `*.example.com` for
//! subdomains), and the endpoints its repository is read from, in order:
//! the table's mirrors allowed for the request (`pull-from-mirror`,
//! `mirror-by-digest-only`), then its `location`. Only the version 2
//! format is read. What the file does not say about mirrors, `insecure`
//! or `blocked` (`unqualified-search-registries`, `[aliases]`,
//! `short-name-mode`, `credential-helpers`) does not apply here: every
//! reference is fully qualified and credentials come from the auth files.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::reference::{Reference, ReferenceError};

/// The largest registries.conf read.
pub const MAX_REGISTRIES_CONF_BYTES: u64 = 1024 * 1024;

/// The system-wide file, read when no other is named or found.
const SYSTEM_FILE: &str = "/etc/containers/registries.conf";

/// The variable containers/image reads a registries.conf path from.
pub const REGISTRIES_CONF_ENV: &str = "CONTAINERS_REGISTRIES_CONF";

/// Why registries.conf could not be used for a reference.
#[derive(Debug, thiserror::Error)]
pub enum RegistriesConfError {
    #[error("cannot read registries.conf {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("registries.conf {path} is larger than {MAX_REGISTRIES_CONF_BYTES} bytes")]
    TooLarge { path: PathBuf },
    #[error("registries.conf {path}: {source}")]
    Toml {
        path: PathBuf,
        source: Box<toml::de::Error>,
    },
    #[error("registries.conf {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{reference}: pulls from it are blocked by the [[registry]] with prefix \"{prefix}\" in {path}")]
    Blocked {
        reference: String,
        prefix: String,
        path: PathBuf,
    },
    #[error("{reference}: the [[registry]] with prefix \"{prefix}\" in {path} rewrites it to {rewritten}, which is not a reference: {source}")]
    Rewrite {
        reference: String,
        prefix: String,
        rewritten: String,
        path: PathBuf,
        source: Box<ReferenceError>,
    },
}

/// Which requests a mirror serves (`pull-from-mirror`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFrom {
    /// Tag and digest requests (`all`, the default).
    All,
    /// Only requests that name a digest.
    DigestOnly,
    /// Only requests that name a tag.
    TagOnly,
}

impl PullFrom {
    /// Whether a request by digest (`by_digest`) or by tag goes to such a mirror.
    pub fn serves(self, by_digest: bool) -> bool {
        match self {
            Self::All => true,
            Self::DigestOnly => by_digest,
            Self::TagOnly => !by_digest,
        }
    }
}

/// One `[[registry.mirror]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Mirror {
    location: String,
    insecure: bool,
    pull_from: PullFrom,
}

/// One `[[registry]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Registry {
    prefix: String,
    /// Empty only for a `*.` prefix: the reference is read where it names.
    location: String,
    insecure: bool,
    blocked: bool,
    mirrors: Vec<Mirror>,
}

/// A parsed registries.conf, and the file it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistriesConf {
    /// `None`: no file was found; every reference is read where it names.
    path: Option<PathBuf>,
    registries: Vec<Registry>,
}

/// One place a reference's repository can be read from: a mirror, or the
/// registry's location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The reference rewritten for this endpoint (its host is the one
    /// contacted, and whose credentials are used).
    pub reference: Reference,
    /// Plain HTTP allowed (`insecure = true`).
    pub insecure: bool,
    /// Set for a mirror, and for a location that is not the reference
    /// itself: what the report says when it served the image.
    pub served_by: Option<ServedBy>,
}

/// Where registries.conf sent a reference, as the report names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedBy {
    /// The endpoint's reference for the image (`127.0.0.1:5001/app:1.0`).
    pub endpoint: String,
    /// A `[[registry.mirror]]`, or the `[[registry]]`'s `location`.
    pub mirror: bool,
    /// The registries.conf that named the endpoint.
    pub conf: PathBuf,
    /// The tag the endpoint resolved, when the request named no digest.
    pub tag: Option<String>,
}

impl fmt::Display for ServedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let conf = self.conf.display();
        match self.mirror {
            true => write!(
                f,
                "served by mirror {} (registries.conf {conf})",
                self.endpoint
            )?,
            false => write!(
                f,
                "served by {}, the location registries.conf {conf} gives it",
                self.endpoint
            )?,
        }
        if let Some(tag) = &self.tag {
            write!(f, ", which resolved the tag {tag}")?;
        }
        Ok(())
    }
}

/// The file's shape; keys not named here are not read.
#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    registry: Vec<FileRegistry>,
    /// The version 1 format's `[registries.search]`, `.insecure`, `.block`.
    registries: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileRegistry {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    #[serde(default)]
    mirror: Vec<FileMirror>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct FileMirror {
    #[serde(default)]
    location: String,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    pull_from_mirror: String,
}

impl RegistriesConf {
    /// The registries.conf in force: `explicit` (`--registries-conf`), else
    /// `$CONTAINERS_REGISTRIES_CONF` (both must exist), else
    /// `$XDG_CONFIG_HOME/containers/registries.conf` (`~/.config/…`) if it
    /// exists, else `/etc/containers/registries.conf` if it exists, else none.
    pub fn load(explicit: Option<&Path>) -> Result<Self, RegistriesConfError> {
        let named = explicit.map(Path::to_path_buf).or_else(|| {
            std::env::var_os(REGISTRIES_CONF_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        if let Some(path) = named {
            return Self::read(&path);
        }
        let user = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|dir| dir.join("containers/registries.conf"));
        match user
            .into_iter()
            .chain([PathBuf::from(SYSTEM_FILE)])
            .find(|p| p.exists())
        {
            Some(path) => Self::read(&path),
            None => Ok(Self::default()),
        }
    }

    /// Reads and parses the file at `path`, at most
    /// [`MAX_REGISTRIES_CONF_BYTES`].
    pub fn read(path: &Path) -> Result<Self, RegistriesConfError> {
        let read_error = |source| RegistriesConfError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_REGISTRIES_CONF_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > MAX_REGISTRIES_CONF_BYTES {
            return Err(RegistriesConfError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let text = String::from_utf8(bytes).map_err(|_| RegistriesConfError::Invalid {
            path: path.to_path_buf(),
            reason: "it is not UTF-8".into(),
        })?;
        Self::parse(&text, path)
    }

    /// Parses registries.conf `text`, read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, RegistriesConfError> {
        let invalid = |reason: String| RegistriesConfError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        let file: File = toml::from_str(text).map_err(|e| RegistriesConfError::Toml {
            path: path.to_path_buf(),
            source: Box::new(e),
        })?;
        if file.registries.is_some() {
            return Err(invalid(
                "the version 1 format ([registries.search], [registries.insecure], \
                 [registries.block]) is not supported; write [[registry]] tables (version 2)"
                    .into(),
            ));
        }
        let registries = file
            .registry
            .into_iter()
            .map(|r| registry(r).map_err(&invalid))
            .collect::<Result<Vec<_>, _>>()?;
        for (i, a) in registries.iter().enumerate() {
            if let Some(b) = registries[..i].iter().find(|b| {
                b.location == a.location && (b.insecure != a.insecure || b.blocked != a.blocked)
            }) {
                return Err(invalid(format!(
                    "location \"{}\" is defined twice with conflicting insecure or blocked settings",
                    b.location
                )));
            }
        }
        Ok(Self {
            path: Some(path.to_path_buf()),
            registries,
        })
    }

    /// The file these settings came from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Where to read `reference` from, in order: the mirrors of the
    /// `[[registry]]` with the longest prefix that matches it and serve a
    /// request by digest (`by_digest`) or by tag, then its location (the
    /// reference itself when no table matches). A blocked table is an error.
    pub fn endpoints(
        &self,
        reference: &Reference,
        by_digest: bool,
    ) -> Result<Vec<Endpoint>, RegistriesConfError> {
        Ok(self
            .all_endpoints(reference)?
            .into_iter()
            .filter(|(_, pull_from)| pull_from.serves(by_digest))
            .map(|(endpoint, _)| endpoint)
            .collect())
    }

    /// Every mirror of the `[[registry]]` with the longest prefix that
    /// matches `reference`, with the requests it serves, then its location
    /// (the reference itself when no table matches; it serves every
    /// request). A blocked table is an error.
    pub fn all_endpoints(
        &self,
        reference: &Reference,
    ) -> Result<Vec<(Endpoint, PullFrom)>, RegistriesConfError> {
        let typed = reference.to_string();
        let matched = self
            .registries
            .iter()
            .filter_map(|r| Some((r, matching_prefix(&typed, &r.prefix)?)))
            .max_by_key(|(r, _)| r.prefix.len());
        let (Some((registry, matched_len)), Some(path)) = (matched, self.path.as_deref()) else {
            return Ok(vec![(
                Endpoint {
                    reference: reference.clone(),
                    insecure: false,
                    served_by: None,
                },
                PullFrom::All,
            )]);
        };
        if registry.blocked {
            return Err(RegistriesConfError::Blocked {
                reference: typed,
                prefix: registry.prefix.clone(),
                path: path.to_path_buf(),
            });
        }
        let rest = &typed[matched_len..];
        let rewrite = |location: &str| -> Result<Reference, RegistriesConfError> {
            let rewritten = format!("{location}{rest}");
            Reference::parse(&rewritten).map_err(|source| RegistriesConfError::Rewrite {
                reference: typed.clone(),
                prefix: registry.prefix.clone(),
                rewritten,
                path: path.to_path_buf(),
                source: Box::new(source),
            })
        };
        let served_by = |rewritten: &Reference, mirror: bool| ServedBy {
            endpoint: rewritten.to_string(),
            mirror,
            conf: path.to_path_buf(),
            tag: match reference.digest {
                Some(_) => None,
                None => rewritten.tag.clone(),
            },
        };
        let mut endpoints = Vec::new();
        for mirror in &registry.mirrors {
            let rewritten = rewrite(&mirror.location)?;
            let endpoint = Endpoint {
                served_by: Some(served_by(&rewritten, true)),
                reference: rewritten,
                insecure: mirror.insecure,
            };
            endpoints.push((endpoint, mirror.pull_from));
        }
        let location = if registry.location.is_empty() {
            reference.clone()
        } else {
            rewrite(&registry.location)?
        };
        let endpoint = Endpoint {
            served_by: (location.registry != reference.registry
                || location.repository != reference.repository)
                .then(|| served_by(&location, false)),
            reference: location,
            insecure: registry.insecure,
        };
        endpoints.push((endpoint, PullFrom::All));
        Ok(endpoints)
    }
}

/// A `[[registry]]` table checked and normalised as containers/image does:
/// no URL scheme, trailing `/` dropped, `prefix` defaulting to `location`,
/// an empty `location` only under a `*.` prefix.
fn registry(file: FileRegistry) -> Result<Registry, String> {
    let location = if file.location.is_empty() {
        String::new()
    } else {
        parse_location(&file.location)?
    };
    let prefix = if file.prefix.is_empty() {
        if location.is_empty() {
            return Err("a [[registry]] has neither prefix nor location".into());
        }
        location.clone()
    } else {
        parse_location(&file.prefix)?
    };
    if let Some(domain) = prefix.strip_prefix("*.") {
        if domain.is_empty() || domain.contains(['/', ':', '@', '*']) {
            return Err(format!(
                "prefix \"{prefix}\": a wildcard prefix is only *.domain (no port, path, tag or digest)"
            ));
        }
        if !location.is_empty() {
            return Err(format!(
                "prefix \"{prefix}\": a wildcard prefix takes no location"
            ));
        }
    } else if prefix.contains('*') {
        return Err(format!(
            "prefix \"{prefix}\": a wildcard is only allowed as a leading *."
        ));
    } else if location.is_empty() {
        return Err(format!("prefix \"{prefix}\" has an empty location"));
    }
    let mut mirrors = Vec::new();
    for mirror in file.mirror {
        if mirror.location.is_empty() {
            return Err(format!(
                "a mirror of prefix \"{prefix}\" has an empty location"
            ));
        }
        let pull_from = match (file.mirror_by_digest_only, mirror.pull_from_mirror.as_str()) {
            (true, "") => PullFrom::DigestOnly,
            (true, _) => {
                return Err(format!(
                    "prefix \"{prefix}\": pull-from-mirror cannot be set when mirror-by-digest-only is"
                ))
            }
            (false, "" | "all") => PullFrom::All,
            (false, "digest-only") => PullFrom::DigestOnly,
            (false, "tag-only") => PullFrom::TagOnly,
            (false, other) => {
                return Err(format!(
                    "prefix \"{prefix}\": pull-from-mirror \"{other}\" is not all, digest-only or tag-only"
                ))
            }
        };
        mirrors.push(Mirror {
            location: parse_location(&mirror.location)?,
            insecure: mirror.insecure,
            pull_from,
        });
    }
    Ok(Registry {
        prefix,
        location,
        insecure: file.insecure,
        blocked: file.blocked,
        mirrors,
    })
}

/// A `location` or `prefix` without its trailing `/`; a URL scheme is refused.
fn parse_location(input: &str) -> Result<String, String> {
    let trimmed = input.trim_end_matches('/');
    if trimmed.is_empty() {
        return Err(format!("location \"{input}\" is empty"));
    }
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        return Err(format!(
            "location \"{input}\": URL schemes are not supported, write host[:port][/path]"
        ));
    }
    Ok(trimmed.to_string())
}

/// How much of `reference` (as `host[:port]/path[:tag][@digest]`)
/// `prefix` matches, if it does: the whole prefix, ending at the end or at
/// `:`, `/` or `@`; or, for `*.domain`, the host up to the end of a
/// subdomain of `domain`.
fn matching_prefix(reference: &str, prefix: &str) -> Option<usize> {
    let at_boundary = |end: usize| {
        end == reference.len()
            || matches!(
                reference.as_bytes().get(end).copied(),
                Some(b':' | b'/' | b'@')
            )
    };
    match prefix.strip_prefix('*') {
        Some(domain) => {
            let host_end = reference.find(['/', ':', '@']).unwrap_or(reference.len());
            let start = reference[..host_end].find(domain)?;
            let end = start + domain.len();
            (start > 0 && at_boundary(end)).then_some(end)
        }
        None => {
            (reference.starts_with(prefix) && at_boundary(prefix.len())).then_some(prefix.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conf(text: &str) -> RegistriesConf {
        RegistriesConf::parse(text, Path::new("/etc/r.conf")).expect("parses")
    }

    fn endpoints(conf: &RegistriesConf, reference: &str) -> Vec<String> {
        let reference = Reference::parse(reference).expect("reference");
        conf.endpoints(&reference, reference.digest.is_some())
            .expect("endpoints")
            .into_iter()
            .map(|e| {
                let kind = match &e.served_by {
                    Some(served) if served.mirror => "mirror",
                    _ => "location",
                };
                format!(
                    "{kind} {}{}",
                    e.reference,
                    if e.insecure { " insecure" } else { "" }
                )
            })
            .collect()
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn the_longest_matching_prefix_chooses_the_table_and_mirrors_come_before_the_location() {
        let conf = conf(
            r#"
            [[registry]]
            location = "docker.io"
            [[registry.mirror]]
            location = "mirror.example/hub"

            [[registry]]
            prefix = "docker.io/library"
            location = "internal.example/library"
            [[registry.mirror]]
            location = "one.example:5000/lib"
            insecure = true
            [[registry.mirror]]
            location = "two.example/lib/"
            "#,
        );
        assert_eq!(
            endpoints(&conf, "alpine:3.20"),
            [
                "mirror one.example:5000/lib/alpine:3.20 insecure",
                "mirror two.example/lib/alpine:3.20",
                "location internal.example/library/alpine:3.20",
            ]
        );
        assert_eq!(
            endpoints(&conf, "docker.io/grafana/loki:3.0"),
            [
                "mirror mirror.example/hub/grafana/loki:3.0",
                "location docker.io/grafana/loki:3.0",
            ]
        );
        assert_eq!(
            endpoints(&conf, "quay.io/org/app:1"),
            ["location quay.io/org/app:1"]
        );
    }

    #[test]
    fn a_location_that_rewrites_the_reference_is_named_as_what_served_it() {
        let conf = conf(
            r#"
            [[registry]]
            prefix = "docker.io/library"
            location = "internal.example/hub"
            "#,
        );
        let reference = Reference::parse("alpine:3").expect("reference");
        let endpoints = conf.endpoints(&reference, false).expect("endpoints");
        assert_eq!(
            endpoints[0].served_by.as_ref().map(ToString::to_string),
            Some(
                "served by internal.example/hub/alpine:3, the location registries.conf \
                 /etc/r.conf gives it, which resolved the tag 3"
                    .to_string()
            )
        );
    }

    #[test]
    fn a_prefix_matches_only_on_a_repository_boundary() {
        let conf = conf(
            r#"
            [[registry]]
            prefix = "example.com/app"
            location = "elsewhere.example/app"
            "#,
        );
        assert_eq!(
            endpoints(&conf, "example.com/app:1"),
            ["location elsewhere.example/app:1"]
        );
        assert_eq!(
            endpoints(&conf, "example.com/app/sub:1"),
            ["location elsewhere.example/app/sub:1"]
        );
        assert_eq!(
            endpoints(&conf, "example.com/application:1"),
            ["location example.com/application:1"]
        );
    }

    #[test]
    fn a_wildcard_prefix_matches_subdomains_and_keeps_the_reference() {
        let conf = conf(
            r#"
            [[registry]]
            prefix = "*.example.com"
            [[registry.mirror]]
            location = "mirror.example/cache"
            "#,
        );
        assert_eq!(
            endpoints(&conf, "a.b.example.com/app:1"),
            [
                "mirror mirror.example/cache/app:1",
                "location a.b.example.com/app:1",
            ]
        );
        assert_eq!(
            endpoints(&conf, "example.com/app:1"),
            ["location example.com/app:1"]
        );
        assert_eq!(
            endpoints(&conf, "notexample.com/app:1"),
            ["location notexample.com/app:1"]
        );
    }

    #[test]
    fn pull_from_mirror_chooses_the_mirrors_a_tag_or_a_digest_request_uses() {
        let conf = conf(
            r#"
            [[registry]]
            location = "origin.example"
            [[registry.mirror]]
            location = "digests.example"
            pull-from-mirror = "digest-only"
            [[registry.mirror]]
            location = "tags.example"
            pull-from-mirror = "tag-only"
            [[registry.mirror]]
            location = "both.example"
            pull-from-mirror = "all"
            "#,
        );
        assert_eq!(
            endpoints(&conf, "origin.example/app:1"),
            [
                "mirror tags.example/app:1",
                "mirror both.example/app:1",
                "location origin.example/app:1",
            ]
        );
        assert_eq!(
            endpoints(&conf, &format!("origin.example/app@{DIGEST}")),
            [
                format!("mirror digests.example/app@{DIGEST}"),
                format!("mirror both.example/app@{DIGEST}"),
                format!("location origin.example/app@{DIGEST}"),
            ]
        );
    }

    #[test]
    fn mirror_by_digest_only_keeps_tag_requests_at_the_location() {
        let conf = conf(
            r#"
            [[registry]]
            location = "origin.example"
            mirror-by-digest-only = true
            [[registry.mirror]]
            location = "mirror.example"
            "#,
        );
        assert_eq!(
            endpoints(&conf, "origin.example/app:1"),
            ["location origin.example/app:1"]
        );
        assert_eq!(
            endpoints(&conf, &format!("origin.example/app@{DIGEST}")),
            [
                format!("mirror mirror.example/app@{DIGEST}"),
                format!("location origin.example/app@{DIGEST}"),
            ]
        );
    }

    #[test]
    fn a_blocked_table_refuses_the_reference_naming_the_file_and_prefix() {
        let conf = conf(
            r#"
            [[registry]]
            prefix = "docker.io/library"
            location = "docker.io/library"
            blocked = true
            "#,
        );
        let reference = Reference::parse("alpine:3").expect("reference");
        let err = conf
            .endpoints(&reference, false)
            .expect_err("blocked")
            .to_string();
        assert_eq!(
            err,
            "docker.io/library/alpine:3: pulls from it are blocked by the [[registry]] with prefix \"docker.io/library\" in /etc/r.conf"
        );
    }

    #[test]
    fn the_tag_a_mirror_resolved_is_named_in_what_the_report_says() {
        let conf = conf(
            r#"
            [[registry]]
            location = "origin.example"
            [[registry.mirror]]
            location = "127.0.0.1:5001"
            "#,
        );
        let reference = Reference::parse("origin.example/app:1.2").expect("reference");
        let served = conf.endpoints(&reference, false).expect("endpoints")[0]
            .served_by
            .clone()
            .expect("a mirror");
        assert_eq!(
            served.to_string(),
            "served by mirror 127.0.0.1:5001/app:1.2 (registries.conf /etc/r.conf), which resolved the tag 1.2"
        );
        let pinned = Reference::parse(&format!("origin.example/app@{DIGEST}")).expect("reference");
        let endpoints = conf.endpoints(&pinned, true).expect("endpoints");
        assert_eq!(
            endpoints[1].served_by, None,
            "the location is the reference itself"
        );
        assert_eq!(
            endpoints[0].served_by.as_ref().map(ToString::to_string),
            Some(format!(
                "served by mirror 127.0.0.1:5001/app@{DIGEST} (registries.conf /etc/r.conf)"
            ))
        );
    }

    #[test]
    fn invalid_files_are_refused_with_the_reason() {
        let reason = |text: &str| {
            RegistriesConf::parse(text, Path::new("/r.conf"))
                .expect_err("refused")
                .to_string()
        };
        assert!(
            reason("[registries.search]\nregistries = [\"docker.io\"]\n")
                .contains("the version 1 format")
        );
        assert!(reason("[[registry]]\nlocation = \"https://example.com\"\n")
            .contains("URL schemes are not supported"));
        assert!(reason(
            "[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\nlocation = \"m.example\"\npull-from-mirror = \"sometimes\"\n"
        )
        .contains("pull-from-mirror \"sometimes\""));
        assert!(reason("[[registry]]\nprefix = \"*.example.com/foo\"\n")
            .contains("a wildcard prefix is only *.domain"));
        assert!(reason("[[registry]]\ninsecure = true\n").contains("neither prefix nor location"));
        assert!(reason(
            "[[registry]]\nlocation = \"a.example\"\n[[registry]]\nlocation = \"a.example\"\nblocked = true\n"
        )
        .contains("conflicting"));
    }

    #[test]
    fn keys_that_do_not_concern_mirrors_are_not_read() {
        let conf = conf(
            r#"
            unqualified-search-registries = ["docker.io"]
            short-name-mode = "enforcing"
            [aliases]
            "app" = "quay.io/org/app"
            "#,
        );
        assert_eq!(
            endpoints(&conf, "app:1"),
            ["location docker.io/library/app:1"]
        );
    }
}
