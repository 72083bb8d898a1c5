//! Where the source lives: `--source`, the OCI source annotation, or the
//! main module path mapped to a repository URL; and whether the revisions
//! the image and binary record are the tag's commit.

use std::collections::BTreeMap;

use super::candidate::InferError;
use super::evidence::PlatformEvidence;

/// The OCI annotation naming the source repository.
pub const SOURCE_ANNOTATION: &str = "org.opencontainers.image.source";
/// The OCI annotation naming the source revision.
pub const REVISION_ANNOTATION: &str = "org.opencontainers.image.revision";

/// The repository to pin, and what named it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceChoice {
    pub url: String,
    /// `--source`, `annotation org.opencontainers.image.source` or
    /// `module path example.com/x`.
    pub from: String,
}

/// The source repository: `override_` (`--source`) first, then the image's
/// `org.opencontainers.image.source` annotation (an `http(s)://`, `ssh://`
/// or `file://` URL), then the Go main module path through [`module_repository`].
/// A URL the image named is fetched without credentials, and a local one is
/// refused then (`crate::rebuild::source::prepare_from_image`).
pub fn source_url(
    override_: Option<&str>,
    annotations: &BTreeMap<String, String>,
    go_main_module: Option<&str>,
) -> Result<SourceChoice, InferError> {
    if let Some(url) = override_ {
        return Ok(SourceChoice {
            url: url.to_string(),
            from: "--source".into(),
        });
    }
    if let Some(raw) = annotations.get(SOURCE_ANNOTATION) {
        let trimmed = raw.trim();
        if !trimmed.is_empty() {
            let url = url::Url::parse(trimmed).ok().filter(|u| {
                matches!(u.scheme(), "http" | "https" | "ssh" | "file")
                    && (u.scheme() == "file" || u.host_str().is_some_and(|h| !h.is_empty()))
            });
            return match url {
                Some(_) => Ok(SourceChoice {
                    url: trimmed.trim_end_matches('/').to_string(),
                    from: format!("annotation {SOURCE_ANNOTATION}"),
                }),
                None => Err(InferError::Invalid(format!(
                    "the image's annotation {SOURCE_ANNOTATION} is {trimmed:?}, not an http(s)://, ssh:// or file:// URL: pass --source URL"
                ))),
            };
        }
    }
    let what = match go_main_module {
        Some(module) if !module.is_empty() => {
            if let Some(url) = module_repository(module) {
                return Ok(SourceChoice {
                    url,
                    from: format!("module path {module}"),
                });
            }
            format!("Go module {module} (no {SOURCE_ANNOTATION} annotation, and its host is not one whose module paths name the repository)")
        }
        _ => format!("the image (no {SOURCE_ANNOTATION} annotation and no Go module path)"),
    };
    Err(InferError::NoSource { what })
}

/// The repository of a Go module path, for hosts whose paths name it:
/// `github.com/ORG/REPO/...` (also gitlab.com, bitbucket.org, codeberg.org,
/// gitea.com) → `https://github.com/ORG/REPO`; `golang.org/x/NAME` →
/// `https://go.googlesource.com/NAME`; `k8s.io/NAME` →
/// `https://github.com/kubernetes/NAME`; `sigs.k8s.io/NAME` →
/// `https://github.com/kubernetes-sigs/NAME`; `go.etcd.io/NAME` →
/// `https://github.com/etcd-io/NAME`; `go.uber.org/NAME` →
/// `https://github.com/uber-go/NAME`; `gopkg.in/NAME.vN` →
/// `https://github.com/go-NAME/NAME` and `gopkg.in/USER/NAME.vN` →
/// `https://github.com/USER/NAME` (gopkg.in's documented mapping). A `/vN`
/// major-version suffix is dropped. `None` for any other path.
pub fn module_repository(module: &str) -> Option<String> {
    let parts: Vec<&str> = module.split('/').collect();
    let valid = |p: &&str| {
        !p.is_empty()
            && *p != "."
            && *p != ".."
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '~'))
    };
    if !parts.iter().all(valid) {
        return None;
    }
    let is_major = |p: &str| {
        p.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    };
    let name_at = |i: usize| parts.get(i).copied().filter(|p| !is_major(p));
    match parts.as_slice() {
        [host @ ("github.com" | "gitlab.com" | "bitbucket.org" | "codeberg.org" | "gitea.com"), org, ..] =>
        {
            let repo = name_at(2)?;
            Some(format!(
                "https://{host}/{org}/{}",
                repo.strip_suffix(".git").unwrap_or(repo)
            ))
        }
        ["golang.org", "x", ..] => Some(format!("https://go.googlesource.com/{}", name_at(2)?)),
        ["k8s.io", ..] => Some(format!("https://github.com/kubernetes/{}", name_at(1)?)),
        ["sigs.k8s.io", ..] => Some(format!(
            "https://github.com/kubernetes-sigs/{}",
            name_at(1)?
        )),
        ["go.etcd.io", ..] => Some(format!("https://github.com/etcd-io/{}", name_at(1)?)),
        ["go.uber.org", ..] => Some(format!("https://github.com/uber-go/{}", name_at(1)?)),
        ["gopkg.in", first, rest @ ..] => {
            let (user, package) = match gopkg_name(first) {
                Some(name) => (format!("go-{name}"), name),
                None => (first.to_string(), rest.first().and_then(|p| gopkg_name(p))?),
            };
            Some(format!("https://github.com/{user}/{package}"))
        }
        _ => None,
    }
}

/// `yaml.v3` → `yaml`: a gopkg.in package name with its `.vN` version.
fn gopkg_name(part: &str) -> Option<&str> {
    let (name, major) = part.rsplit_once(".v")?;
    (!name.is_empty() && !major.is_empty() && major.chars().all(|c| c.is_ascii_digit()))
        .then_some(name)
}

/// One finding of [`check_revision`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevisionCheck {
    /// Whether it agrees with the tag's commit.
    pub ok: bool,
    /// A sentence for the report.
    pub line: String,
}

/// Compares what the image and its binaries say they were built from
/// (`vcs.revision` and `vcs.modified` per platform, the
/// `org.opencontainers.image.revision` annotation, which may be a commit
/// prefix of at least 7 hex digits) with `commit`, the commit `tag` peels
/// to. Nothing recorded: no lines.
pub fn check_revision(
    tag: &str,
    commit: &str,
    annotations: &BTreeMap<String, String>,
    platforms: &[PlatformEvidence],
) -> Vec<RevisionCheck> {
    let mut out: Vec<RevisionCheck> = check_revision_annotation(tag, commit, annotations)
        .into_iter()
        .collect();
    for platform in platforms {
        let Some(go) = &platform.go else { continue };
        let setting = |key: &str| {
            go.settings
                .iter()
                .find(|s| s.key == key)
                .map(|s| s.value.as_str())
        };
        if let Some(revision) = setting("vcs.revision") {
            out.push(if same_commit(revision, commit) {
                RevisionCheck {
                    ok: true,
                    line: format!(
                        "{}: vcs.revision {revision} is the commit of tag {tag}",
                        platform.platform
                    ),
                }
            } else {
                RevisionCheck {
                    ok: false,
                    line: format!(
                        "{}: vcs.revision is {revision}, but tag {tag} is commit {commit}: the binary was built from another commit",
                        platform.platform
                    ),
                }
            });
        }
        if setting("vcs.modified") == Some("true") {
            out.push(RevisionCheck {
                ok: false,
                line: format!(
                    "{}: vcs.modified=true: the binary was built from a tree with uncommitted changes, which a clean checkout of the tag does not have",
                    platform.platform
                ),
            });
        }
    }
    out
}

/// The `org.opencontainers.image.revision` annotation (a commit or a
/// prefix of at least 7 hex digits) against `commit`, the commit `tag`
/// peels to; `None` when the image has no such annotation.
pub fn check_revision_annotation(
    tag: &str,
    commit: &str,
    annotations: &BTreeMap<String, String>,
) -> Option<RevisionCheck> {
    let revision = annotations
        .get(REVISION_ANNOTATION)
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())?;
    Some(if same_commit(revision, commit) {
        RevisionCheck {
            ok: true,
            line: format!("annotation {REVISION_ANNOTATION} {revision} is the commit of tag {tag}"),
        }
    } else {
        RevisionCheck {
            ok: false,
            line: format!("annotation {REVISION_ANNOTATION} is {revision}, but tag {tag} is commit {commit}: the image says it was built from another commit"),
        }
    })
}

/// Whether `recorded` (a full commit, or a prefix of at least 7 hex
/// digits) names `commit`.
fn same_commit(recorded: &str, commit: &str) -> bool {
    let recorded = recorded.to_ascii_lowercase();
    recorded.len() >= 7
        && recorded.chars().all(|c| c.is_ascii_hexdigit())
        && commit.to_ascii_lowercase().starts_with(&recorded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::gobuildinfo::parse_modinfo;

    fn annotations(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn source_flag_wins_over_annotation_and_module() {
        let a = annotations(&[(SOURCE_ANNOTATION, "https://example.com/a/b")]);
        let choice = source_url(Some("/tmp/repo"), &a, Some("github.com/x/y")).unwrap();
        assert_eq!(
            choice,
            SourceChoice {
                url: "/tmp/repo".into(),
                from: "--source".into()
            }
        );
    }

    #[test]
    fn annotation_wins_over_module_path() {
        let a = annotations(&[(SOURCE_ANNOTATION, " https://git.example.com/acme/app/ ")]);
        let choice = source_url(None, &a, Some("github.com/x/y")).unwrap();
        assert_eq!(choice.url, "https://git.example.com/acme/app");
        assert_eq!(choice.from, "annotation org.opencontainers.image.source");
        let file = annotations(&[(SOURCE_ANNOTATION, "file:///srv/git/app")]);
        assert_eq!(
            source_url(None, &file, None).unwrap().url,
            "file:///srv/git/app"
        );
    }

    #[test]
    fn annotation_of_another_scheme_is_refused_with_the_way_out() {
        for bad in [
            "ext::sh -c evil",
            "git@github.com:a/b",
            "ftp://x/y",
            "https://",
        ] {
            let a = annotations(&[(SOURCE_ANNOTATION, bad)]);
            let err = source_url(None, &a, Some("github.com/x/y")).unwrap_err();
            assert!(err.to_string().ends_with("pass --source URL"), "{err}");
        }
    }

    #[test]
    fn module_path_names_the_repository() {
        let cases = [
            ("github.com/acme/app", "https://github.com/acme/app"),
            ("github.com/acme/app/v2", "https://github.com/acme/app"),
            (
                "github.com/acme/app/tools/cli",
                "https://github.com/acme/app",
            ),
            ("gitlab.com/acme/app", "https://gitlab.com/acme/app"),
            ("bitbucket.org/acme/app", "https://bitbucket.org/acme/app"),
            ("codeberg.org/acme/app", "https://codeberg.org/acme/app"),
            ("gitea.com/acme/app", "https://gitea.com/acme/app"),
            ("golang.org/x/tools", "https://go.googlesource.com/tools"),
            (
                "golang.org/x/tools/gopls",
                "https://go.googlesource.com/tools",
            ),
            ("k8s.io/kubectl", "https://github.com/kubernetes/kubectl"),
            (
                "k8s.io/kubernetes",
                "https://github.com/kubernetes/kubernetes",
            ),
            (
                "sigs.k8s.io/kind",
                "https://github.com/kubernetes-sigs/kind",
            ),
            ("go.etcd.io/etcd/v3", "https://github.com/etcd-io/etcd"),
            ("go.uber.org/zap", "https://github.com/uber-go/zap"),
            ("gopkg.in/yaml.v3", "https://github.com/go-yaml/yaml"),
            ("gopkg.in/acme/app.v1", "https://github.com/acme/app"),
        ];
        for (module, url) in cases {
            assert_eq!(module_repository(module).as_deref(), Some(url), "{module}");
        }
    }

    #[test]
    fn unknown_hosts_and_odd_paths_ask_for_source() {
        for module in [
            "example.com/app",
            "github.com/acme",
            "github.com/acme/v2",
            "github.com/acme/../x",
            "k8s.io",
            "gopkg.in/yaml",
            "command-line-arguments",
        ] {
            assert_eq!(module_repository(module), None, "{module}");
        }
        let err = source_url(None, &BTreeMap::new(), Some("example.com/app")).unwrap_err();
        assert!(matches!(err, InferError::NoSource { .. }));
        assert!(
            err.to_string()
                .starts_with("cannot tell where the source of Go module example.com/app")
                && err.to_string().ends_with("pass --source URL"),
            "{err}"
        );
    }

    #[test]
    fn module_path_choice_says_so() {
        let choice = source_url(None, &BTreeMap::new(), Some("github.com/acme/app")).unwrap();
        assert_eq!(choice.from, "module path github.com/acme/app");
    }

    fn platform(modinfo: &str) -> PlatformEvidence {
        PlatformEvidence {
            platform: "linux/amd64".parse().unwrap(),
            binary: Vec::new(),
            go: Some(parse_modinfo(modinfo)),
            rust: None,
        }
    }

    const COMMIT: &str = "3e0ddc0c43cd90ea33d77a68ef093be434f5af7e";

    #[test]
    fn matching_revisions_are_reported_as_agreeing() {
        let a = annotations(&[(REVISION_ANNOTATION, "3e0ddc0c")]);
        let p = platform(&format!(
            "build\tvcs.revision={COMMIT}\nbuild\tvcs.modified=false\n"
        ));
        let checks = check_revision("v1.2.0", COMMIT, &a, &[p]);
        assert_eq!(
            checks,
            vec![
                RevisionCheck {
                    ok: true,
                    line: "annotation org.opencontainers.image.revision 3e0ddc0c is the commit of tag v1.2.0".into()
                },
                RevisionCheck {
                    ok: true,
                    line: format!("linux/amd64: vcs.revision {COMMIT} is the commit of tag v1.2.0")
                },
            ]
        );
    }

    #[test]
    fn other_revisions_and_modified_trees_are_reported() {
        let a = annotations(&[(REVISION_ANNOTATION, "abcdef0")]);
        let p = platform("build\tvcs.revision=0123456789abcdef0123456789abcdef01234567\nbuild\tvcs.modified=true\n");
        let checks = check_revision("v1.2.0", COMMIT, &a, &[p]);
        assert_eq!(checks.len(), 3);
        assert!(checks.iter().all(|c| !c.ok));
        assert_eq!(checks[1].line, format!("linux/amd64: vcs.revision is 0123456789abcdef0123456789abcdef01234567, but tag v1.2.0 is commit {COMMIT}: the binary was built from another commit"));
        assert!(checks[2].line.starts_with("linux/amd64: vcs.modified=true"));
    }

    #[test]
    fn nothing_recorded_means_nothing_to_say() {
        let p = platform("path\texample.com/app\n");
        assert!(check_revision("v1", COMMIT, &BTreeMap::new(), &[p]).is_empty());
    }
}
