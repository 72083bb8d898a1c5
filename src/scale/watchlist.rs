//! The watch list: which images to verify, which of their releases (a
//! semver range over the registry's tags, or listed tags), with which
//! recipe and for which platforms. A TOML file of `[[image]]` tables;
//! every error names the file, line and column.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::job::{is_valid_tag, JobRecipe};
use crate::image::platform::Platform;
use crate::image::reference::Reference;
use crate::rebuild::recipe::pinned::recipe_sha256;
use crate::rebuild::recipe::schema::{line_and_column, ImageSpec};
use crate::rebuild::recipe::{catalogue, Catalogue, Recipe, RecipeError};

/// A parsed and checked watch list.
#[derive(Debug, Clone)]
pub struct WatchList {
    /// The file it was read from.
    pub path: PathBuf,
    /// The `[[image]]` tables, in file order.
    pub images: Vec<WatchedImage>,
}

/// One `[[image]]`.
#[derive(Debug, Clone)]
pub struct WatchedImage {
    /// The repository (`registry/repository`, normalised; no tag or digest).
    pub reference: Reference,
    pub versions: Versions,
    /// The recipe its jobs use; `None`: none covers it, so one is inferred.
    pub recipe: Option<JobRecipe>,
    /// The recipe's `fallback_repositories` (no tag), in order, when
    /// `reference` is the recipe's repository: where its releases moved.
    pub fallbacks: Vec<Reference>,
    /// Only these platforms; empty: every platform of each release.
    pub platforms: Vec<Platform>,
}

/// Which tags are releases to verify.
#[derive(Debug, Clone)]
pub enum Versions {
    /// Every tag that is semver (after one leading `v`) within the range.
    Range(semver::VersionReq),
    /// Exactly these tags, each of which must exist.
    List(Vec<String>),
}

/// Why a watch list cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WatchListError {
    #[error("cannot read watch list {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Bad TOML, an unknown key, or a bad value; at the value's position.
    #[error("watch list {path}:{line}:{column}: {message}")]
    Invalid {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWatchList {
    #[serde(default)]
    image: Vec<Spanned<RawImage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    reference: Spanned<String>,
    versions: Spanned<toml::Value>,
    recipe: Option<Spanned<String>>,
    platforms: Option<Vec<Spanned<String>>>,
}

/// Turns byte offsets of the watch list into errors.
struct At<'a> {
    path: &'a Path,
    text: &'a str,
}

impl At<'_> {
    fn error(&self, offset: usize, message: impl Into<String>) -> WatchListError {
        let (line, column) = line_and_column(self.text, offset);
        WatchListError::Invalid {
            path: self.path.display().to_string(),
            line,
            column,
            message: message.into(),
        }
    }
}

impl WatchList {
    /// Reads and checks the watch list at `path`; recipe paths are relative to its directory.
    pub fn load(path: &Path) -> Result<Self, WatchListError> {
        let text = std::fs::read_to_string(path).map_err(|source| WatchListError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses watch-list `text` read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, WatchListError> {
        let at = At { path, text };
        let raw: RawWatchList = toml::from_str(text).map_err(|e| {
            at.error(
                e.span().map_or(0, |s| s.start),
                e.message().trim_end().to_string(),
            )
        })?;
        if raw.image.is_empty() {
            return Err(at.error(
                0,
                "the watch list names no image; add an [[image]] table with reference and versions",
            ));
        }
        let base = path.parent().unwrap_or(Path::new(""));
        let mut catalogue = None;
        let images = raw
            .image
            .into_iter()
            .map(|image| watched(&at, base, image.into_inner(), &mut catalogue))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            path: path.to_path_buf(),
            images,
        })
    }
}

fn watched(
    at: &At<'_>,
    base: &Path,
    raw: RawImage,
    catalogue: &mut Option<Catalogue>,
) -> Result<WatchedImage, WatchListError> {
    let typed = raw.reference.get_ref();
    let reference_at = raw.reference.span().start;
    if Reference::names_tag_or_digest(typed) {
        return Err(at.error(
            reference_at,
            format!("reference {typed:?} names a tag or digest; write the repository alone (the versions key selects the tags)"),
        ));
    }
    let reference = Reference::parse(typed).map_err(|e| at.error(reference_at, e.to_string()))?;
    let reference = Reference {
        tag: None,
        ..reference
    };
    let versions = versions(at, &raw.versions)?;
    let (recipe, image) = match &raw.recipe {
        Some(given) => {
            let (recipe, image) = given_recipe(at, base, given)?;
            (Some(recipe), Some(image))
        }
        None => match catalogue_recipe(at, reference_at, &reference, catalogue)? {
            Some((recipe, image)) => (Some(recipe), Some(image)),
            None => (None, None),
        },
    };
    let fallbacks = match image {
        Some(image) if image.repository == reference.name() => image
            .fallback_repositories
            .iter()
            .map(|name| Reference::parse(name).map_err(|e| at.error(reference_at, e.to_string())))
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let platforms = raw
        .platforms
        .unwrap_or_default()
        .iter()
        .map(|p| {
            p.get_ref()
                .parse::<Platform>()
                .map_err(|e| at.error(p.span().start, e.to_string()))
        })
        .collect::<Result<_, _>>()?;
    Ok(WatchedImage {
        reference,
        versions,
        recipe,
        fallbacks,
        platforms,
    })
}

fn versions(at: &At<'_>, value: &Spanned<toml::Value>) -> Result<Versions, WatchListError> {
    let offset = value.span().start;
    match value.get_ref() {
        toml::Value::String(range) => semver::VersionReq::parse(range)
            .map(Versions::Range)
            .map_err(|e| {
                at.error(
                    offset,
                    format!("versions {range:?} is not a semver range ({e}); write e.g. \">=1.19.0, <2\" or a list of tags"),
                )
            }),
        toml::Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                toml::Value::String(tag) if is_valid_tag(tag) => Ok(tag.clone()),
                other => Err(at.error(
                    offset,
                    format!("versions lists {other}, which is not a tag ([A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})"),
                )),
            })
            .collect::<Result<_, _>>()
            .map(Versions::List),
        _ => Err(at.error(
            offset,
            "versions must be a semver range (\">=1.19.0, <2\") or a non-empty list of tags ([\"v1.19.0\"])",
        )),
    }
}

/// `recipe = "builtin:NAME.toml"` or a path relative to the watch list,
/// read and checked now so that a bad one fails before any registry is
/// asked; with the recipe's `[image]`.
fn given_recipe(
    at: &At<'_>,
    base: &Path,
    given: &Spanned<String>,
) -> Result<(JobRecipe, ImageSpec), WatchListError> {
    let label = given.get_ref();
    let fail = |e: RecipeError| at.error(given.span().start, crate::error_chain(&e));
    if label.starts_with("builtin:") {
        let entry = catalogue::builtin(label).map_err(fail)?;
        let recipe = JobRecipe {
            label: entry.recipe.origin.clone(),
            argument: entry.recipe.origin,
            sha256: recipe_sha256(entry.text.as_bytes()),
        };
        return Ok((recipe, entry.recipe.image));
    }
    let path = base.join(label);
    let bytes = std::fs::read(&path).map_err(|source| {
        fail(RecipeError::Read {
            path: path.clone(),
            source,
        })
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let parsed = Recipe::parse(&path.display().to_string(), &text).map_err(fail)?;
    let recipe = JobRecipe {
        label: label.clone(),
        argument: path.display().to_string(),
        sha256: recipe_sha256(&bytes),
    };
    Ok((recipe, parsed.image))
}

/// The shipped recipe covering `reference`, as `verify` would look it up,
/// with its `[image]`; `None` when none does (the job infers one).
fn catalogue_recipe(
    at: &At<'_>,
    offset: usize,
    reference: &Reference,
    catalogue: &mut Option<Catalogue>,
) -> Result<Option<(JobRecipe, ImageSpec)>, WatchListError> {
    let fail = |e: RecipeError| at.error(offset, crate::error_chain(&e));
    if catalogue.is_none() {
        *catalogue = Some(Catalogue::builtin().map_err(fail)?);
    }
    let Some(catalogue) = catalogue.as_ref() else {
        return Ok(None);
    };
    match catalogue.lookup(&reference.name()) {
        Ok(found) => Ok(Some((
            JobRecipe {
                label: found.entry.recipe.origin.clone(),
                argument: found.entry.recipe.origin.clone(),
                sha256: recipe_sha256(found.entry.text.as_bytes()),
            },
            found.entry.recipe.image.clone(),
        ))),
        Err(RecipeError::UnknownRepository { .. }) => Ok(None),
        Err(e) => Err(fail(e)),
    }
}

/// Whether the range selects `tag`: it is semver after one leading `v`, and within.
pub fn in_range(req: &semver::VersionReq, tag: &str) -> bool {
    tag_version(tag).is_some_and(|v| req.matches(&v))
}

/// The semver version a tag names: the tag without one leading `v`, if it parses.
pub fn tag_version(tag: &str) -> Option<semver::Version> {
    semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<WatchList, WatchListError> {
        WatchList::parse(Path::new("dir/watch.toml"), text)
    }

    #[test]
    fn a_watch_list_reads_ranges_lists_platforms_and_shipped_recipes() {
        let list = parse(
            r#"
[[image]]
reference = "rancher/crictl"
versions = ">=1.19.0, <2"
platforms = ["linux/amd64", "linux/arm64"]

[[image]]
reference = "127.0.0.1:5000/tools/other"
versions = ["v1.0.0", "v1.1.0"]
recipe = "builtin:bitnami-kubectl.toml"

[[image]]
reference = "127.0.0.1:5000/tools/unknown-thing"
versions = "1"
"#,
        )
        .unwrap();
        let [crictl, other, unknown] = list.images.as_slice() else {
            panic!("three images expected");
        };
        assert_eq!(crictl.reference.name(), "docker.io/rancher/crictl");
        assert_eq!(
            crictl.recipe.as_ref().map(|r| r.label.as_str()),
            Some("builtin:rancher-crictl.toml")
        );
        assert_eq!(crictl.platforms.len(), 2);
        match &crictl.versions {
            Versions::Range(req) => {
                assert!(in_range(req, "v1.19.0"));
                assert!(in_range(req, "1.30.2"));
                assert!(!in_range(req, "v2.0.0"));
                assert!(!in_range(req, "latest"));
                assert!(!in_range(req, "vv1.20.0"));
            }
            Versions::List(_) => panic!("a range expected"),
        }
        assert!(matches!(&other.versions, Versions::List(tags) if tags == &["v1.0.0", "v1.1.0"]));
        assert_eq!(
            other.recipe.as_ref().map(|r| r.argument.as_str()),
            Some("builtin:bitnami-kubectl.toml")
        );
        assert_eq!(unknown.recipe, None);
    }

    #[test]
    fn errors_name_the_file_line_and_column() {
        let cases = [
            (
                "[[image]]\nreference = \"a/b\"\nversions = \"1\"\nplatfroms = []\n",
                "dir/watch.toml:4:1: unknown field `platfroms`",
            ),
            (
                "[[image]]\nreference = \"a/b:v1\"\nversions = \"1\"\n",
                "dir/watch.toml:2:13: reference \"a/b:v1\" names a tag or digest",
            ),
            (
                "[[image]]\nreference = \"a/b\"\nversions = \"~>1\"\n",
                "dir/watch.toml:3:12: versions \"~>1\" is not a semver range",
            ),
            (
                "[[image]]\nreference = \"a/b\"\nversions = [\"v1;id\"]\n",
                "dir/watch.toml:3:12: versions lists \"v1;id\"",
            ),
            (
                "[[image]]\nreference = \"a/b\"\nversions = \"1\"\nplatforms = [\"linux\"]\n",
                "dir/watch.toml:4:14: invalid platform \"linux\"",
            ),
            (
                "[[image]]\nreference = \"a/b\"\nversions = \"1\"\nrecipe = \"builtin:nope\"\n",
                "dir/watch.toml:4:10: no shipped recipe named",
            ),
            (
                "[[image]]\nreference = \"a/b\"\nversions = \"1\"\nrecipe = \"missing.toml\"\n",
                "dir/watch.toml:4:10: cannot read recipe dir/missing.toml",
            ),
            (
                "[[image]]\nreference = \"a/b\"\n",
                "dir/watch.toml:1:1: missing field `versions`",
            ),
            ("", "dir/watch.toml:1:1: the watch list names no image"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("watch list {expected}")),
                "{text:?}: {err}"
            );
        }
    }
}
