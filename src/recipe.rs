//! Recipes: how to rebuild the binary of an image from its public source.
//!
//! The first stage of the rebuild side. A recipe is a TOML file (schema in
//! `recipes/README.md`) naming the image repository it covers, the git
//! source and tag, the builder, the commands and the artifact, per platform.
//! [`Recipe::load`] parses and validates one file; every error carries the
//! file, line and column. [`Catalogue`] holds the recipes shipped in the
//! binary plus any from `--recipes DIR`, looked up by normalised repository.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::digest::Digest;
use crate::platform::Platform;
use crate::reference::Reference;

/// The recipes shipped inside the binary: `(file name, contents)`.
/// Every `recipes/*.toml` file must be listed here (a unit test checks it).
const BUILTIN_RECIPES: &[(&str, &str)] = &[
    (
        "bitnami-kubectl.toml",
        include_str!("../recipes/bitnami-kubectl.toml"),
    ),
    (
        "rancher-crictl.toml",
        include_str!("../recipes/rancher-crictl.toml"),
    ),
];

/// Why a recipe could not be loaded or found.
#[derive(Debug, thiserror::Error)]
pub enum RecipeError {
    /// The recipe file could not be read.
    #[error("cannot read recipe {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The recipe directory could not be listed.
    #[error("cannot list recipe directory {path}: {source}")]
    ReadDir {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The recipe is malformed: bad TOML, an unknown key, a missing or invalid value.
    #[error("recipe {origin}:{line}:{column}: {message}")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Two recipes in the catalogue cover the same repository.
    #[error("recipes {first} and {second} both cover {repository}")]
    Duplicate {
        repository: String,
        first: String,
        second: String,
    },
    /// No recipe covers the repository.
    #[error("no recipe for {repository}{}; write one (see recipes/README.md) and pass it with --recipe FILE", suggestions(.close))]
    UnknownRepository {
        repository: String,
        close: Vec<String>,
    },
    /// The image given to look a recipe up is not a valid reference.
    #[error(transparent)]
    Reference(#[from] crate::reference::ReferenceError),
}

fn suggestions(close: &[String]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!(" (close matches: {})", close.join(", "))
    }
}

/// A validated recipe.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Where the recipe came from (a path, or `builtin:NAME` for shipped recipes).
    pub origin: String,
    /// The sha256 of the recipe's text, as recorded in reports and attestations.
    pub sha256: Digest,
    pub image: ImageSpec,
    pub source: SourceSpec,
    pub build: BuildSpec,
    pub published: Option<Published>,
}

/// `[image]`: which image the recipe covers.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Normalised `registry/repository`, without tag (`docker.io/rancher/crictl`).
    pub repository: String,
    /// The published tag for a version.
    pub tag: Template,
    /// Absolute path of the binary inside the image; `None`: Entrypoint/Cmd via PATH.
    pub binary: Option<String>,
}

/// `[source]`: where the source lives.
#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// Git URL (overridable with `--source`).
    pub git: String,
    /// The tag for a version (only `{version}` and `{version_bare}` may be used).
    pub git_ref: Template,
    /// Whether submodules are checked out.
    pub submodules: bool,
}

/// `[build]`: how to build.
#[derive(Debug, Clone)]
pub struct BuildSpec {
    pub builder: Builder,
    /// Runs first, with network, if given.
    pub fetch: Option<Vec<Template>>,
    /// Runs without network.
    pub command: Vec<Template>,
    pub output: ArtifactSpec,
    /// Environment for every platform (templates).
    pub env: BTreeMap<String, Template>,
    /// The platforms the recipe can rebuild, with their extra environment.
    pub platforms: BTreeMap<Platform, BTreeMap<String, Template>>,
}

/// What the build runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builder {
    /// The host's `/usr`, `/etc`, ... read-only.
    Host,
    /// An image reference, as written in the recipe.
    Image(String),
}

/// Where the build leaves the binary.
#[derive(Debug, Clone)]
pub enum ArtifactSpec {
    /// A path relative to the source root, or absolute inside the sandbox.
    Path(Template),
    /// A Cargo binary target, located with `cargo metadata`.
    CargoBin(String),
}

/// `[published]`: where upstream publishes checksums of its release binaries.
#[derive(Debug, Clone)]
pub enum Published {
    /// A `sha256sum`-style list at `url`, holding the line for `entry`.
    Sha256Sums { url: Template, entry: Template },
    /// A file at `url` holding one hex digest.
    Sha256 { url: Template },
}

/// The values a [`Template`] is rendered with.
#[derive(Debug, Clone, Copy)]
pub struct TemplateVars<'a> {
    /// The version as typed (`v1.30.0`).
    pub version: &'a str,
    /// The platform, for `{os}`, `{arch}`, `{variant}` (empty when `None`).
    pub platform: Option<&'a Platform>,
}

/// A string with `{version}`, `{version_bare}`, `{os}`, `{arch}`, `{variant}`
/// placeholders, validated at load time (see [`pieces`] for what counts as one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

/// Which placeholders a field accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    Version,
    Platform,
}

enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

const VERSION_PLACEHOLDERS: &[&str] = &["version", "version_bare"];
const PLATFORM_PLACEHOLDERS: &[&str] = &["os", "arch", "variant"];

impl Template {
    fn parse(text: &str, scope: Scope) -> Result<Self, String> {
        for piece in pieces(text) {
            if let Piece::Placeholder(name) = piece {
                let known = VERSION_PLACEHOLDERS.contains(&name)
                    || (scope == Scope::Platform && PLATFORM_PLACEHOLDERS.contains(&name));
                if !known {
                    let allowed: Vec<String> = VERSION_PLACEHOLDERS
                        .iter()
                        .chain(if scope == Scope::Platform {
                            PLATFORM_PLACEHOLDERS
                        } else {
                            &[]
                        })
                        .map(|p| format!("{{{p}}}"))
                        .collect();
                    return Err(format!(
                        "unknown placeholder {{{name}}} in {text:?} (allowed here: {})",
                        allowed.join(", ")
                    ));
                }
            }
        }
        Ok(Self(text.to_string()))
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the template uses `{os}`, `{arch}` or `{variant}`.
    pub fn uses_platform(&self) -> bool {
        pieces(&self.0)
            .iter()
            .any(|p| matches!(p, Piece::Placeholder(n) if PLATFORM_PLACEHOLDERS.contains(n)))
    }

    /// The template with its placeholders replaced.
    pub fn render(&self, vars: &TemplateVars<'_>) -> String {
        let mut out = String::with_capacity(self.0.len());
        for piece in pieces(&self.0) {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Placeholder("version") => out.push_str(vars.version),
                Piece::Placeholder("version_bare") => {
                    out.push_str(vars.version.strip_prefix('v').unwrap_or(vars.version))
                }
                Piece::Placeholder("os") => {
                    out.push_str(vars.platform.map_or("", |p| p.os.as_str()))
                }
                Piece::Placeholder("arch") => {
                    out.push_str(vars.platform.map_or("", |p| p.architecture.as_str()))
                }
                Piece::Placeholder(_) => out.push_str(
                    vars.platform
                        .and_then(|p| p.variant.as_deref())
                        .unwrap_or(""),
                ),
            }
        }
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a template into literal text and placeholder names. A placeholder
/// is `{name}` with `name` made of letters, digits and `_`, not preceded by
/// `$` (`${HOME}` is shell, not a placeholder); every other brace is literal.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut search_from = 0;
    while let Some(offset) = text.get(search_from..).and_then(|rest| rest.find('{')) {
        let open = search_from + offset;
        search_from = open + 1;
        let after = text.get(open + 1..).unwrap_or("");
        let Some(close) = after.find('}') else {
            break;
        };
        let name = after.get(..close).unwrap_or("");
        let is_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let shell_variable = text.get(..open).is_some_and(|before| before.ends_with('$'));
        if !is_name || shell_variable {
            continue;
        }
        if let Some(literal) = text.get(literal_start..open).filter(|l| !l.is_empty()) {
            pieces.push(Piece::Literal(literal));
        }
        pieces.push(Piece::Placeholder(name));
        literal_start = open + 1 + close + 1;
        search_from = literal_start;
    }
    if let Some(literal) = text.get(literal_start..).filter(|l| !l.is_empty()) {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    image: RawImage,
    source: RawSource,
    build: Spanned<RawBuild>,
    published: Option<Spanned<RawPublished>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    repository: Spanned<String>,
    tag: Spanned<String>,
    binary: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    git: Spanned<String>,
    #[serde(rename = "ref")]
    git_ref: Spanned<String>,
    #[serde(default)]
    submodules: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    builder: Spanned<String>,
    fetch: Option<Spanned<Vec<Spanned<String>>>>,
    command: Spanned<Vec<Spanned<String>>>,
    artifact: Option<Spanned<String>>,
    cargo_bin: Option<Spanned<String>>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    platforms: BTreeMap<Spanned<String>, RawPlatform>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlatform {
    #[serde(default)]
    env: BTreeMap<Spanned<String>, Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPublished {
    sha256sums: Option<Spanned<String>>,
    entry: Option<Spanned<String>>,
    sha256: Option<Spanned<String>>,
}

/// Turns byte offsets into `recipe FILE:LINE:COLUMN` errors.
struct Locator<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Locator<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> RecipeError {
        let offset = span.start.min(self.text.len());
        let before = self.text.get(..offset).unwrap_or("");
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        RecipeError::Invalid {
            origin: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    fn template(&self, value: &Spanned<String>, scope: Scope) -> Result<Template, RecipeError> {
        Template::parse(value.get_ref(), scope).map_err(|m| self.error(value.span(), m))
    }

    fn env(
        &self,
        env: &BTreeMap<Spanned<String>, Spanned<String>>,
    ) -> Result<BTreeMap<String, Template>, RecipeError> {
        let mut out = BTreeMap::new();
        for (name, value) in env {
            let valid = !name.get_ref().is_empty()
                && name
                    .get_ref()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.get_ref().starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(self.error(
                    name.span(),
                    format!("invalid environment variable name {:?}", name.get_ref()),
                ));
            }
            out.insert(
                name.get_ref().clone(),
                self.template(value, Scope::Platform)?,
            );
        }
        Ok(out)
    }

    fn argv(
        &self,
        argv: &Spanned<Vec<Spanned<String>>>,
        key: &str,
    ) -> Result<Vec<Template>, RecipeError> {
        if argv.get_ref().is_empty() {
            return Err(self.error(argv.span(), format!("build.{key} must name a program")));
        }
        argv.get_ref()
            .iter()
            .map(|arg| self.template(arg, Scope::Platform))
            .collect()
    }
}

impl Recipe {
    /// Reads and validates a recipe file.
    pub fn load(path: &Path) -> Result<Self, RecipeError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecipeError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses and validates recipe text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RecipeError> {
        let at = Locator { origin, text };
        let raw: RawRecipe = toml::from_str(text)
            .map_err(|e| at.error(e.span().unwrap_or(0..0), e.message().trim_end().to_string()))?;

        let repository_text = raw.image.repository.get_ref();
        let tail = repository_text.rsplit('/').next().unwrap_or("");
        if repository_text.contains('@') || tail.contains(':') {
            return Err(at.error(
                raw.image.repository.span(),
                format!("image.repository {repository_text:?} must not carry a tag or digest (the tag goes in image.tag)"),
            ));
        }
        let repository = Reference::parse(repository_text)
            .map_err(|e| at.error(raw.image.repository.span(), e.to_string()))?
            .name();
        let tag = at.template(&raw.image.tag, Scope::Platform)?;
        if tag.as_str().is_empty() {
            return Err(at.error(raw.image.tag.span(), "image.tag is empty"));
        }
        if let Some(binary) = &raw.image.binary {
            if !binary.get_ref().starts_with('/') {
                return Err(at.error(
                    binary.span(),
                    format!(
                        "image.binary {:?} must be an absolute path",
                        binary.get_ref()
                    ),
                ));
            }
        }

        if raw.source.git.get_ref().is_empty() {
            return Err(at.error(raw.source.git.span(), "source.git is empty"));
        }
        let git_ref = at.template(&raw.source.git_ref, Scope::Version)?;
        if git_ref.as_str().is_empty() {
            return Err(at.error(raw.source.git_ref.span(), "source.ref is empty"));
        }

        let build_span = raw.build.span();
        let build = raw.build.into_inner();
        let builder = match build.builder.get_ref().as_str() {
            "host" => Builder::Host,
            image => {
                Reference::parse(image)
                    .map_err(|e| at.error(build.builder.span(), e.to_string()))?;
                Builder::Image(image.to_string())
            }
        };
        let fetch = build
            .fetch
            .as_ref()
            .map(|f| at.argv(f, "fetch"))
            .transpose()?;
        let command = at.argv(&build.command, "command")?;
        let output = match (&build.artifact, &build.cargo_bin) {
            (Some(artifact), None) => {
                let t = at.template(artifact, Scope::Platform)?;
                if t.as_str().is_empty() {
                    return Err(at.error(artifact.span(), "build.artifact is empty"));
                }
                ArtifactSpec::Path(t)
            }
            (None, Some(bin)) => {
                if bin.get_ref().is_empty() || bin.get_ref().contains('/') {
                    return Err(at.error(
                        bin.span(),
                        format!(
                            "build.cargo_bin {:?} must be a binary target name",
                            bin.get_ref()
                        ),
                    ));
                }
                ArtifactSpec::CargoBin(bin.get_ref().clone())
            }
            (Some(_), Some(bin)) => {
                return Err(at.error(
                    bin.span(),
                    "build.artifact and build.cargo_bin are exclusive: give one",
                ))
            }
            (None, None) => return Err(at.error(build_span, "build needs artifact or cargo_bin")),
        };
        let env = at.env(&build.env)?;
        let mut platforms = BTreeMap::new();
        for (key, platform) in &build.platforms {
            let parsed: Platform = key
                .get_ref()
                .parse()
                .map_err(|e: crate::platform::PlatformError| at.error(key.span(), e.to_string()))?;
            let platform_env = at.env(&platform.env)?;
            if platforms.insert(parsed.clone(), platform_env).is_some() {
                return Err(at.error(
                    key.span(),
                    format!(
                        "platform {parsed} is given twice (as {:?} and another spelling)",
                        key.get_ref()
                    ),
                ));
            }
        }
        if platforms.is_empty() {
            return Err(at.error(
                build_span,
                "build.platforms is empty: add a [build.platforms.\"linux/amd64\"] table per platform the recipe rebuilds",
            ));
        }

        let published = raw
            .published
            .as_ref()
            .map(|p| {
                let span = p.span();
                match p.get_ref() {
                    RawPublished {
                        sha256sums: Some(url),
                        entry: Some(entry),
                        sha256: None,
                    } => Ok(Published::Sha256Sums {
                        url: at.template(url, Scope::Platform)?,
                        entry: at.template(entry, Scope::Platform)?,
                    }),
                    RawPublished {
                        sha256sums: None,
                        entry: None,
                        sha256: Some(url),
                    } => Ok(Published::Sha256 {
                        url: at.template(url, Scope::Platform)?,
                    }),
                    _ => Err(at.error(
                        span,
                        "published needs either sha256sums and entry, or sha256 alone",
                    )),
                }
            })
            .transpose()?;

        Ok(Self {
            origin: origin.to_string(),
            sha256: Digest::of(text.as_bytes()),
            image: ImageSpec {
                repository,
                tag,
                binary: raw.image.binary.map(Spanned::into_inner),
            },
            source: SourceSpec {
                git: raw.source.git.into_inner(),
                git_ref,
                submodules: raw.source.submodules,
            },
            build: BuildSpec {
                builder,
                fetch,
                command,
                output,
                env,
                platforms,
            },
            published,
        })
    }

    /// The platforms this recipe can rebuild, sorted.
    pub fn platforms(&self) -> impl Iterator<Item = &Platform> {
        self.build.platforms.keys()
    }
}

/// The recipes known by repository: the shipped ones, plus a directory's.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    by_repository: BTreeMap<String, Recipe>,
}

impl Catalogue {
    /// The recipes compiled into the binary.
    pub fn builtin() -> Result<Self, RecipeError> {
        let mut catalogue = Self::default();
        for (name, text) in BUILTIN_RECIPES {
            catalogue.insert(Recipe::parse(&format!("builtin:{name}"), text)?, false)?;
        }
        Ok(catalogue)
    }

    /// The shipped recipes plus every `*.toml` in `dir`; a recipe from `dir`
    /// replaces a shipped one for the same repository.
    pub fn with_dir(dir: &Path) -> Result<Self, RecipeError> {
        let mut catalogue = Self::builtin()?;
        let read_dir = |source| RecipeError::ReadDir {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_dir)? {
            let path = entry.map_err(read_dir)?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
        files.sort();
        let mut from_dir = Self::default();
        for path in files {
            from_dir.insert(Recipe::load(&path)?, false)?;
        }
        for recipe in from_dir.by_repository.into_values() {
            catalogue.insert(recipe, true)?;
        }
        Ok(catalogue)
    }

    fn insert(&mut self, recipe: Recipe, replace: bool) -> Result<(), RecipeError> {
        if !replace {
            if let Some(existing) = self.by_repository.get(&recipe.image.repository) {
                return Err(RecipeError::Duplicate {
                    repository: recipe.image.repository.clone(),
                    first: existing.origin.clone(),
                    second: recipe.origin,
                });
            }
        }
        self.by_repository
            .insert(recipe.image.repository.clone(), recipe);
        Ok(())
    }

    /// The normalised repositories covered, sorted.
    pub fn repositories(&self) -> impl Iterator<Item = &str> {
        self.by_repository.keys().map(String::as_str)
    }

    /// The recipe for an image (`rancher/crictl`, `docker.io/rancher/crictl:v1.30.0`, ...).
    /// An unknown repository is an error listing close matches.
    pub fn lookup(&self, image: &str) -> Result<&Recipe, RecipeError> {
        let repository = Reference::parse(image)?.name();
        if let Some(recipe) = self.by_repository.get(&repository) {
            return Ok(recipe);
        }
        let limit = (repository.len() / 3).max(3);
        let mut close: Vec<(usize, &String)> = self
            .by_repository
            .keys()
            .map(|known| (edit_distance(known, &repository), known))
            .filter(|(distance, _)| *distance <= limit)
            .collect();
        close.sort();
        Err(RecipeError::UnknownRepository {
            repository,
            close: close.into_iter().map(|(_, k)| k.clone()).collect(),
        })
    }
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"[image]
repository = "rancher/crictl"
tag = "{version}"

[source]
git = "https://example.com/cri-tools"
ref = "{version}"

[build]
builder = "host"
command = ["make", "crictl"]
artifact = "build/bin/{os}/{arch}/crictl"

[build.platforms."linux/amd64"]
env = { GOOS = "{os}", GOARCH = "{arch}" }
[build.platforms."linux/aarch64"]
env = { GOARCH = "{arch}{variant}" }
"#;

    fn parse(text: &str) -> Result<Recipe, RecipeError> {
        Recipe::parse("test.toml", text)
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn renders_version_bare_and_platform_placeholders() {
        let recipe = parse(MINIMAL).unwrap();
        assert_eq!(recipe.image.repository, "docker.io/rancher/crictl");
        let arm64: Platform = "linux/arm64".parse().unwrap();
        let vars = TemplateVars {
            version: "v1.30.0",
            platform: Some(&arm64),
        };
        let ArtifactSpec::Path(artifact) = &recipe.build.output else {
            panic!("artifact expected");
        };
        assert_eq!(artifact.render(&vars), "build/bin/linux/arm64/crictl");
        assert_eq!(
            recipe.build.platforms[&arm64]["GOARCH"].render(&vars),
            "arm64v8"
        );
        let bare = Template::parse("crictl-{version_bare}-{os}", Scope::Platform).unwrap();
        assert_eq!(bare.render(&vars), "crictl-1.30.0-linux");
        assert!(bare.uses_platform());
        assert!(!recipe.image.tag.uses_platform());
        assert_eq!(
            recipe
                .platforms()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["linux/amd64", "linux/arm64"]
        );
    }

    #[test]
    fn shell_braces_are_not_placeholders() {
        let t = Template::parse("{ echo ${HOME} {}; } > /out/{arch}", Scope::Platform).unwrap();
        let amd64: Platform = "linux/amd64".parse().unwrap();
        let vars = TemplateVars {
            version: "1",
            platform: Some(&amd64),
        };
        assert_eq!(t.render(&vars), "{ echo ${HOME} {}; } > /out/amd64");
    }

    #[test]
    fn unknown_placeholder_reports_its_location() {
        let text = MINIMAL.replace(
            r#"command = ["make", "crictl"]"#,
            r#"command = ["make", "{verison}"]"#,
        );
        assert_eq!(
            error(&text),
            "recipe test.toml:11:20: unknown placeholder {verison} in \"{verison}\" (allowed here: {version}, {version_bare}, {os}, {arch}, {variant})"
        );
    }

    #[test]
    fn source_ref_accepts_only_version_placeholders() {
        let text = MINIMAL.replace(r#"ref = "{version}""#, r#"ref = "{version}-{arch}""#);
        assert_eq!(
            error(&text),
            "recipe test.toml:7:7: unknown placeholder {arch} in \"{version}-{arch}\" (allowed here: {version}, {version_bare})"
        );
    }

    #[test]
    fn published_takes_a_checksum_list_with_entry_or_a_single_digest() {
        let sums = format!(
            "{MINIMAL}\n[published]\nsha256sums = \"https://example.com/{{version}}/SHA256SUMS\"\nentry = \"crictl-{{version}}-{{os}}-{{arch}}.tar.gz\"\n"
        );
        let Some(Published::Sha256Sums { url, entry }) = parse(&sums).unwrap().published else {
            panic!("sha256sums expected");
        };
        assert_eq!(url.as_str(), "https://example.com/{version}/SHA256SUMS");
        assert_eq!(entry.as_str(), "crictl-{version}-{os}-{arch}.tar.gz");
        let single =
            format!("{MINIMAL}\n[published]\nsha256 = \"https://example.com/{{arch}}.sha256\"\n");
        assert!(matches!(
            parse(&single).unwrap().published,
            Some(Published::Sha256 { .. })
        ));
        let both = format!("{MINIMAL}\n[published]\nsha256 = \"u\"\nentry = \"e\"\n");
        assert_eq!(
            error(&both),
            "recipe test.toml:19:1: published needs either sha256sums and entry, or sha256 alone"
        );
    }

    #[test]
    fn artifact_and_cargo_bin_are_exclusive_and_one_is_needed() {
        let both = MINIMAL.replace("artifact =", "cargo_bin = \"crictl\"\nartifact =");
        assert_eq!(
            error(&both),
            "recipe test.toml:12:13: build.artifact and build.cargo_bin are exclusive: give one"
        );
        let cargo = MINIMAL.replace(
            r#"artifact = "build/bin/{os}/{arch}/crictl""#,
            r#"cargo_bin = "crictl""#,
        );
        assert!(
            matches!(parse(&cargo).unwrap().build.output, ArtifactSpec::CargoBin(ref n) if n == "crictl")
        );
        let neither = MINIMAL.replace(r#"artifact = "build/bin/{os}/{arch}/crictl""#, "");
        assert_eq!(
            error(&neither),
            "recipe test.toml:9:1: build needs artifact or cargo_bin"
        );
    }

    #[test]
    fn repository_must_not_carry_a_tag() {
        let text = MINIMAL.replace(r#""rancher/crictl""#, r#""rancher/crictl:v1""#);
        assert_eq!(
            error(&text),
            "recipe test.toml:2:14: image.repository \"rancher/crictl:v1\" must not carry a tag or digest (the tag goes in image.tag)"
        );
    }

    #[test]
    fn a_platform_spelled_twice_is_an_error() {
        let text = format!("{MINIMAL}[build.platforms.\"linux/arm64/v8\"]\n");
        assert!(
            error(&text).contains("platform linux/arm64 is given twice"),
            "{}",
            error(&text)
        );
    }

    #[test]
    fn missing_section_is_reported() {
        assert_eq!(
            error("[image]\nrepository = \"a/b\"\ntag = \"x\"\n"),
            "recipe test.toml:1:1: missing field `source`"
        );
    }

    #[test]
    fn builtin_catalogue_ships_every_recipe_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut shipped: Vec<String> = BUILTIN_RECIPES.iter().map(|(n, _)| n.to_string()).collect();
        shipped.sort();
        assert_eq!(on_disk, shipped);
        let catalogue = Catalogue::builtin().unwrap();
        assert_eq!(
            catalogue.repositories().collect::<Vec<_>>(),
            ["docker.io/bitnami/kubectl", "docker.io/rancher/crictl"]
        );
    }

    #[test]
    fn every_shipped_recipe_renders_for_each_of_its_platforms() {
        let catalogue = Catalogue::builtin().unwrap();
        for (name, _) in BUILTIN_RECIPES {
            let recipe = catalogue
                .by_repository
                .values()
                .find(|r| r.origin == format!("builtin:{name}"))
                .unwrap();
            assert!(recipe.platforms().count() > 0, "{name} builds no platform");
            for platform in recipe.platforms() {
                let vars = TemplateVars {
                    version: "v1.2.3",
                    platform: Some(platform),
                };
                let mut rendered = vec![
                    recipe.image.tag.render(&vars),
                    recipe.source.git_ref.render(&vars),
                ];
                rendered.extend(recipe.build.command.iter().map(|t| t.render(&vars)));
                rendered.extend(recipe.build.fetch.iter().flatten().map(|t| t.render(&vars)));
                rendered.extend(recipe.build.env.values().map(|t| t.render(&vars)));
                if let ArtifactSpec::Path(artifact) = &recipe.build.output {
                    rendered.push(artifact.render(&vars));
                }
                for text in rendered {
                    for placeholder in
                        ["{version}", "{version_bare}", "{os}", "{arch}", "{variant}"]
                    {
                        assert!(
                            !text.contains(placeholder),
                            "{name}: {placeholder} left in {text:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lookup_accepts_any_spelling_of_the_repository() {
        let catalogue = Catalogue::builtin().unwrap();
        for spelling in [
            "rancher/crictl",
            "docker.io/rancher/crictl:v1.30.0",
            "index.docker.io/rancher/crictl",
        ] {
            assert_eq!(
                catalogue.lookup(spelling).map(|r| r.origin.as_str()).ok(),
                Some("builtin:rancher-crictl.toml"),
                "{spelling}"
            );
        }
        assert_eq!(
            catalogue.lookup("library/ubuntu").unwrap_err().to_string(),
            "no recipe for docker.io/library/ubuntu; write one (see recipes/README.md) and pass it with --recipe FILE"
        );
    }

    #[test]
    fn recipes_dir_replaces_a_shipped_recipe() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let catalogue = Catalogue::with_dir(dir.path()).unwrap();
        let origin = &catalogue.lookup("rancher/crictl").unwrap().origin;
        assert_eq!(origin, &dir.path().join("mine.toml").display().to_string());
    }
}
