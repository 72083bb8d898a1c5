//! The Debian recipe kind: an image whose binary comes from a Debian
//! package, rebuilt from its source package (`[source] debian =
//! "NAME=VERSION"`) by [`crate::rebuild::debian`]; and [`RecipeKind`], which
//! loads a recipe file of either kind.
//!
//! Threat model: recipe files are trusted configuration, but their values
//! still become file names and command arguments, so the package name,
//! version, release and mirror are checked when the recipe loads (the
//! version again once rendered), with errors at the file's line and column.

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::error::RecipeError;
use super::schema::{
    debian_source_span, line_and_column, read_text, ImageSpec, Locator, RawImage, Recipe,
};
use super::template::{Scope, Template, TemplateVars};
use crate::image::digest::Digest;
use crate::rebuild::debian::dsc::{is_package_name, is_version};

/// A recipe of either kind, as a file holds it.
#[derive(Debug, Clone)]
pub enum RecipeKind {
    /// `[source] git`: built by the recipe's own commands.
    Git(Recipe),
    /// `[source] debian`: a Debian source package, built as Debian's buildds do.
    Debian(DebianRecipe),
}

impl RecipeKind {
    /// Reads and validates a recipe file of either kind.
    pub fn load(path: &Path) -> Result<Self, RecipeError> {
        Self::parse(&path.display().to_string(), &read_text(path)?)
    }

    /// Parses recipe text: the Debian kind when `[source]` has `debian`,
    /// else a git recipe; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RecipeError> {
        if debian_source_span(text).is_some() {
            DebianRecipe::parse(origin, text).map(Self::Debian)
        } else {
            Recipe::parse(origin, text).map(Self::Git)
        }
    }
}

/// A validated Debian recipe.
#[derive(Debug, Clone)]
pub struct DebianRecipe {
    /// Where the recipe came from (a path, or `builtin:NAME`).
    pub origin: String,
    /// The sha256 of the recipe's text.
    pub sha256: Digest,
    pub text: String,
    pub image: ImageSpec,
    pub source: DebianSourceSpec,
}

/// `[source]` of a Debian recipe.
#[derive(Debug, Clone)]
pub struct DebianSourceSpec {
    /// The source package's name (`tree`).
    pub package: String,
    /// Its version: literal (`2.1.0-1`) or a template of the version
    /// (`{version}`, `{version_bare}`).
    pub version: Template,
    /// The release whose packages make the build root (`bookworm`);
    /// `None`: the caller's (the image's `/etc/os-release`).
    pub release: Option<String>,
    /// The archive to take the source and build root from; `None`: Debian's.
    pub mirror: Option<Url>,
    /// Where `debian = ...` is in the file, for errors about the rendered version.
    version_at: (usize, usize),
}

impl DebianSourceSpec {
    /// The source package's version for the image's `version`, checked to
    /// be a Debian version.
    pub fn render_version(&self, origin: &str, version: &str) -> Result<String, RecipeError> {
        let rendered = self.version.render(&TemplateVars::version(version));
        if is_version(&rendered) {
            return Ok(rendered);
        }
        let (line, column) = self.version_at;
        Err(RecipeError::Invalid {
            origin: origin.to_string(),
            line,
            column,
            message: format!(
                "source.debian's version {:?} renders to {rendered:?} for {version:?}, which is not a Debian version",
                self.version.as_str()
            ),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDebianRecipe {
    image: RawImage,
    source: RawDebianSource,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDebianSource {
    debian: Spanned<String>,
    release: Option<Spanned<String>>,
    mirror: Option<Spanned<String>>,
}

impl DebianRecipe {
    /// Parses and validates Debian recipe text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RecipeError> {
        let at = Locator {
            origin,
            text,
            declared: Default::default(),
        };
        let raw: RawDebianRecipe = toml::from_str(text)
            .map_err(|e| at.error(e.span().unwrap_or(0..0), e.message().trim_end().to_string()))?;
        let image = at.image(&raw.image)?;

        let debian = &raw.source.debian;
        let shape = || {
            at.error(
                debian.span(),
                format!(
                    "source.debian {:?} must be NAME=VERSION, like \"tree=2.1.0-1\" or \"tree={{version}}\"",
                    debian.get_ref()
                ),
            )
        };
        let (package, version) = debian.get_ref().split_once('=').ok_or_else(shape)?;
        if !is_package_name(package) {
            return Err(at.error(
                debian.span(),
                format!("source.debian names {package:?}, which is not a Debian package name (lower-case letters, digits, + - .)"),
            ));
        }
        let version_value = Spanned::new(debian.span(), version.to_string());
        let version = at.template(&version_value, Scope::Version)?;
        let example = version.render(&TemplateVars::version("1.0-1"));
        if !is_version(&example) {
            return Err(at.error(
                debian.span(),
                format!(
                    "source.debian's version {:?} is not a Debian version (like 2.1.0-1 or 1:2.3-4+b1)",
                    version.as_str()
                ),
            ));
        }
        let release = raw
            .source
            .release
            .as_ref()
            .map(|release| {
                let name = release.get_ref();
                let valid = !name.is_empty()
                    && !name.starts_with('-')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if valid {
                    Ok(name.clone())
                } else {
                    Err(at.error(
                        release.span(),
                        format!("source.release {name:?} is not a Debian release name (like \"bookworm\")"),
                    ))
                }
            })
            .transpose()?;
        let mirror = raw
            .source
            .mirror
            .as_ref()
            .map(|mirror| match Url::parse(mirror.get_ref()) {
                Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url),
                Ok(_) | Err(_) => Err(at.error(
                    mirror.span(),
                    format!(
                        "source.mirror {:?} is not an http(s) URL (like \"http://deb.debian.org/debian\")",
                        mirror.get_ref()
                    ),
                )),
            })
            .transpose()?;
        Ok(Self {
            origin: origin.to_string(),
            sha256: Digest::of(text.as_bytes()),
            text: text.to_string(),
            image,
            source: DebianSourceSpec {
                package: package.to_string(),
                version,
                release,
                mirror,
                version_at: line_and_column(text, debian.span().start),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TREE: &str = r#"[image]
repository = "example.com/tools/tree"
tag = "{version}"
binary = "/usr/bin/tree"

[source]
debian = "tree={version}"
release = "bookworm"
mirror = "http://deb.debian.org/debian"
"#;

    fn error(text: &str) -> String {
        RecipeKind::parse("test.toml", text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_debian_source_makes_a_debian_recipe_with_a_templated_version() {
        let RecipeKind::Debian(recipe) = RecipeKind::parse("test.toml", TREE).unwrap() else {
            panic!("a Debian recipe expected");
        };
        assert_eq!(recipe.image.repository, "example.com/tools/tree");
        assert_eq!(recipe.image.binary.as_deref(), Some("/usr/bin/tree"));
        assert_eq!(recipe.source.package, "tree");
        assert_eq!(
            recipe
                .source
                .render_version("test.toml", "2.1.0-1")
                .unwrap(),
            "2.1.0-1"
        );
        assert_eq!(recipe.source.release.as_deref(), Some("bookworm"));
        assert_eq!(
            recipe.source.mirror.as_ref().map(Url::as_str),
            Some("http://deb.debian.org/debian")
        );
        assert_eq!(
            recipe
                .source
                .render_version("test.toml", "latest; rm")
                .unwrap_err()
                .to_string(),
            "recipe test.toml:7:10: source.debian's version \"{version}\" renders to \"latest; rm\" for \"latest; rm\", which is not a Debian version"
        );
        let pinned = TREE.replace("tree={version}", "tree=2.1.0-1");
        let RecipeKind::Debian(pinned) = RecipeKind::parse("test.toml", &pinned).unwrap() else {
            panic!("a Debian recipe expected");
        };
        assert_eq!(
            pinned.source.render_version("o", "ignored").unwrap(),
            "2.1.0-1"
        );
        assert!(pinned.source.release.is_some());
    }

    #[test]
    fn a_bad_package_version_release_or_mirror_is_reported_where_it_is() {
        assert_eq!(
            error(&TREE.replace("tree={version}", "tree=latest")),
            "recipe test.toml:7:10: source.debian's version \"latest\" is not a Debian version (like 2.1.0-1 or 1:2.3-4+b1)"
        );
        assert_eq!(
            error(&TREE.replace("tree={version}", "tree")),
            "recipe test.toml:7:10: source.debian \"tree\" must be NAME=VERSION, like \"tree=2.1.0-1\" or \"tree={version}\""
        );
        assert_eq!(
            error(&TREE.replace("tree={version}", "Tree=1.0-1")),
            "recipe test.toml:7:10: source.debian names \"Tree\", which is not a Debian package name (lower-case letters, digits, + - .)"
        );
        assert_eq!(
            error(&TREE.replace("\"bookworm\"", "\"--help\"")),
            "recipe test.toml:8:11: source.release \"--help\" is not a Debian release name (like \"bookworm\")"
        );
        assert_eq!(
            error(&TREE.replace("http://deb.debian.org/debian", "file:///etc")),
            "recipe test.toml:9:10: source.mirror \"file:///etc\" is not an http(s) URL (like \"http://deb.debian.org/debian\")"
        );
    }

    #[test]
    fn git_and_debian_sources_together_are_refused_and_git_alone_is_a_git_recipe() {
        let both = TREE.replace(
            "[source]\n",
            "[source]\ngit = \"https://example.com/tree.git\"\n",
        );
        assert_eq!(
            error(&both),
            "recipe test.toml:7:1: unknown field `git`, expected one of `debian`, `release`, `mirror`"
        );
        let git = r#"[image]
repository = "example.com/app"
tag = "{version}"

[source]
git = "https://example.com/app.git"
ref = "{version}"

[build]
builder = "host"
root = true
command = ["id", "-u"]
artifact = "/out/app"

[build.platforms."linux/amd64"]
"#;
        let RecipeKind::Git(recipe) = RecipeKind::parse("test.toml", git).unwrap() else {
            panic!("a git recipe expected");
        };
        assert!(recipe.build.run_as_root);
    }

    #[test]
    fn a_debian_recipe_read_as_a_git_recipe_points_to_the_debian_kind() {
        assert_eq!(
            Recipe::parse("test.toml", TREE).unwrap_err().to_string(),
            "recipe test.toml:7:10: source.debian makes this a Debian source-package recipe, not a git one: load it as the Debian kind (RecipeKind), which takes no [build]"
        );
    }
}
