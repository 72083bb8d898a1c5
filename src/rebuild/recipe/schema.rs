//! A recipe's schema: the TOML a recipe file holds (`recipes/README.md`),
//! parsed and validated into a [`Recipe`]; every error names the file,
//! line and column.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::error::RecipeError;
use super::template::{Scope, Template, TemplateVars};
use crate::image::digest::Digest;
use crate::image::platform::Platform;
use crate::image::reference::Reference;

/// A validated recipe.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Where the recipe came from (a path, or `builtin:NAME` for shipped recipes).
    pub origin: String,
    /// The sha256 of the recipe's text, as recorded in reports and attestations.
    pub sha256: Digest,
    /// The recipe's text, as read (what an adjusted recipe is written from).
    pub text: String,
    pub image: ImageSpec,
    pub source: SourceSpec,
    pub build: BuildSpec,
    pub published: Option<Published>,
    /// `[inputs.NAME]`: values read from the published binary, by name.
    pub inputs: BTreeMap<String, InputSpec>,
}

/// `[inputs.NAME]`: a release input taken from the published binary.
#[derive(Debug, Clone)]
pub struct InputSpec {
    /// `from_binary` as written.
    pub pattern: String,
    /// `from_binary`, compiled: it must match exactly one distinct value in
    /// the image binary (its first capture group when it has one).
    pub from_binary: regex::bytes::Regex,
}

/// `[image]`: which image the recipe covers.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// Normalised `registry/repository`, without tag (`docker.io/rancher/crictl`).
    pub repository: String,
    /// `fallback_repositories`: where the repository's tags moved (normalised
    /// like `repository`), tried in order when its tag is not found there.
    pub fallback_repositories: Vec<String>,
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
    /// Where the checkout sits inside the sandbox, and the steps' working
    /// directory (an absolute path template); `None`: `/src` alone.
    pub workdir: Option<Template>,
    /// `SOURCE_DATE_EPOCH` for the build (renders to RFC 3339 UTC or
    /// seconds); `None`: the commit's time.
    pub source_date_epoch: Option<Template>,
    /// `root = true`: the steps run as uid/gid 0 of the build's own user
    /// namespace (no host privileges), not as the build user.
    pub run_as_root: bool,
}

/// What the build runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Builder {
    /// The host's `/usr`, `/etc`, ... read-only.
    Host,
    /// An image reference, as written in the recipe (it may use release
    /// inputs: `golang:{go_version}`).
    Image(Template),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecipe {
    image: RawImage,
    source: RawSource,
    build: Spanned<RawBuild>,
    published: Option<Spanned<RawPublished>>,
    #[serde(default)]
    inputs: BTreeMap<Spanned<String>, Spanned<RawInput>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput {
    from_binary: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawImage {
    repository: Spanned<String>,
    #[serde(default)]
    fallback_repositories: Vec<Spanned<String>>,
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
    workdir: Option<Spanned<String>>,
    source_date_epoch: Option<Spanned<String>>,
    #[serde(default)]
    root: bool,
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

/// Reads only whether `[source]` has `debian`.
#[derive(Deserialize)]
struct KindProbe {
    source: Option<SourceProbe>,
}

#[derive(Deserialize)]
struct SourceProbe {
    debian: Option<Spanned<toml::Value>>,
}

/// Where `source.debian` is in `text`, if the recipe has it.
pub(super) fn debian_source_span(text: &str) -> Option<std::ops::Range<usize>> {
    let probe: KindProbe = toml::from_str(text).ok()?;
    probe.source?.debian.map(|value| value.span())
}

/// The 1-based line and column (in characters) of byte `offset` of `text`,
/// as TOML errors are reported (recipes here, watch lists in `scale`).
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

/// Turns byte offsets into `recipe FILE:LINE:COLUMN` errors.
pub(super) struct Locator<'a> {
    pub(super) origin: &'a str,
    pub(super) text: &'a str,
    /// The names of `[inputs]`, for `{input:NAME}` in `[build]`.
    pub(super) declared: BTreeSet<String>,
}

impl Locator<'_> {
    pub(super) fn error(&self, span: Range<usize>, message: impl Into<String>) -> RecipeError {
        let (line, column) = line_and_column(self.text, span.start);
        RecipeError::Invalid {
            origin: self.origin.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(super) fn template(
        &self,
        value: &Spanned<String>,
        scope: Scope<'_>,
    ) -> Result<Template, RecipeError> {
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
                self.template(value, self.build_scope())?,
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
            .map(|arg| self.template(arg, self.build_scope()))
            .collect()
    }

    /// A repository (`key` names it in errors), normalised to
    /// `registry/repository`: no tag or digest, which goes in `image.tag`.
    fn repository(&self, key: &str, value: &Spanned<String>) -> Result<String, RecipeError> {
        let text = value.get_ref();
        let tail = text.rsplit('/').next().unwrap_or("");
        if text.contains('@') || tail.contains(':') {
            return Err(self.error(
                value.span(),
                format!(
                    "{key} {text:?} must not carry a tag or digest (the tag goes in image.tag)"
                ),
            ));
        }
        Ok(Reference::parse(text)
            .map_err(|e| self.error(value.span(), e.to_string()))?
            .name())
    }

    /// `[image]`, validated (shared by the git and the Debian recipe kinds).
    pub(super) fn image(&self, raw: &RawImage) -> Result<ImageSpec, RecipeError> {
        let repository = self.repository("image.repository", &raw.repository)?;
        let mut fallback_repositories: Vec<String> = Vec::new();
        for fallback in &raw.fallback_repositories {
            let name = self.repository("image.fallback_repositories", fallback)?;
            if name == repository || fallback_repositories.contains(&name) {
                return Err(self.error(
                    fallback.span(),
                    format!("image.fallback_repositories names {name} twice (or as image.repository too)"),
                ));
            }
            fallback_repositories.push(name);
        }
        let tag = self.template(&raw.tag, Scope::Platform)?;
        if tag.as_str().is_empty() {
            return Err(self.error(raw.tag.span(), "image.tag is empty"));
        }
        if let Some(binary) = &raw.binary {
            if !binary.get_ref().starts_with('/') {
                return Err(self.error(
                    binary.span(),
                    format!(
                        "image.binary {:?} must be an absolute path",
                        binary.get_ref()
                    ),
                ));
            }
        }
        Ok(ImageSpec {
            repository,
            fallback_repositories,
            tag,
            binary: raw.binary.as_ref().map(|b| b.get_ref().clone()),
        })
    }

    fn build_scope(&self) -> Scope<'_> {
        Scope::Build {
            declared: &self.declared,
        }
    }
}

/// A recipe file's text.
pub(super) fn read_text(path: &Path) -> Result<String, RecipeError> {
    std::fs::read_to_string(path).map_err(|source| RecipeError::Read {
        path: path.to_path_buf(),
        source,
    })
}

impl Recipe {
    /// Reads and validates a recipe file.
    pub fn load(path: &Path) -> Result<Self, RecipeError> {
        Self::parse(&path.display().to_string(), &read_text(path)?)
    }

    /// Parses and validates recipe text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Self, RecipeError> {
        let mut at = Locator {
            origin,
            text,
            declared: BTreeSet::new(),
        };
        if let Some(span) = debian_source_span(text) {
            return Err(at.error(
                span,
                "source.debian makes this a Debian source-package recipe, not a git one: \
                 load it as the Debian kind (RecipeKind), which takes no [build]",
            ));
        }
        let raw: RawRecipe = toml::from_str(text)
            .map_err(|e| at.error(e.span().unwrap_or(0..0), e.message().trim_end().to_string()))?;
        let inputs = parse_inputs(&at, &raw.inputs)?;
        at.declared = inputs.keys().cloned().collect();

        let image = at.image(&raw.image)?;

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
            _ => {
                let template = at.template(&build.builder, at.build_scope())?;
                // A reference with release inputs is checked once rendered.
                if template.inputs().next().is_none() {
                    Reference::parse(&template.render(&TemplateVars::version("v0")))
                        .map_err(|e| at.error(build.builder.span(), e.to_string()))?;
                }
                Builder::Image(template)
            }
        };
        let source_date_epoch = build
            .source_date_epoch
            .as_ref()
            .map(|t| at.template(t, at.build_scope()))
            .transpose()?;
        let fetch = build
            .fetch
            .as_ref()
            .map(|f| at.argv(f, "fetch"))
            .transpose()?;
        let command = at.argv(&build.command, "command")?;
        let output = match (&build.artifact, &build.cargo_bin) {
            (Some(artifact), None) => {
                let t = at.template(artifact, at.build_scope())?;
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
        let workdir = build
            .workdir
            .as_ref()
            .map(|w| {
                let t = at.template(w, at.build_scope())?;
                check_workdir(t.as_str()).map_err(|m| at.error(w.span(), m))?;
                Ok::<_, RecipeError>(t)
            })
            .transpose()?;
        let mut platforms = BTreeMap::new();
        for (key, platform) in &build.platforms {
            let parsed: Platform =
                key.get_ref()
                    .parse()
                    .map_err(|e: crate::image::platform::PlatformError| {
                        at.error(key.span(), e.to_string())
                    })?;
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
            text: text.to_string(),
            image,
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
                workdir,
                source_date_epoch,
                run_as_root: build.root,
            },
            published,
            inputs,
        })
    }

    /// Every template of `[build]`, for what they use.
    pub fn build_templates(&self) -> Vec<&Template> {
        let build = &self.build;
        let mut all: Vec<&Template> = build.command.iter().collect();
        all.extend(build.fetch.iter().flatten());
        all.extend(build.env.values());
        all.extend(build.platforms.values().flat_map(|env| env.values()));
        all.extend(&build.workdir);
        all.extend(&build.source_date_epoch);
        if let Builder::Image(template) = &build.builder {
            all.push(template);
        }
        if let ArtifactSpec::Path(template) = &build.output {
            all.push(template);
        }
        all
    }

    /// The release inputs the recipe uses, by placeholder name
    /// (`go_version`, `input:build_date`): what must be read from the
    /// published binary before building.
    pub fn used_inputs(&self) -> BTreeSet<String> {
        self.build_templates()
            .into_iter()
            .flat_map(|t| t.inputs().map(String::from).collect::<Vec<_>>())
            .collect()
    }

    /// The platforms this recipe can rebuild, sorted.
    pub fn platforms(&self) -> impl Iterator<Item = &Platform> {
        self.build.platforms.keys()
    }
}

/// Largest compiled `from_binary` pattern accepted.
const MAX_PATTERN_SIZE: usize = 1 << 20;

/// `[inputs.NAME]` tables: names of letters, digits, `_` and `-`, each with
/// a `from_binary` regular expression of at most one capture group.
fn parse_inputs(
    at: &Locator<'_>,
    raw: &BTreeMap<Spanned<String>, Spanned<RawInput>>,
) -> Result<BTreeMap<String, InputSpec>, RecipeError> {
    let mut inputs = BTreeMap::new();
    for (name, input) in raw {
        let valid = !name.get_ref().is_empty()
            && name
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(at.error(
                name.span(),
                format!(
                    "input name {:?} may only hold letters, digits, _ and -",
                    name.get_ref()
                ),
            ));
        }
        let pattern = &input.get_ref().from_binary;
        let compiled = regex::bytes::RegexBuilder::new(pattern.get_ref())
            .size_limit(MAX_PATTERN_SIZE)
            .build()
            .map_err(|e| {
                at.error(
                    pattern.span(),
                    format!(
                        "inputs.{}.from_binary is not a valid regular expression: {e}",
                        name.get_ref()
                    ),
                )
            })?;
        if compiled.captures_len() > 2 {
            return Err(at.error(
                pattern.span(),
                format!(
                    "inputs.{}.from_binary has {} capture groups: use at most one (its text is the value); make the others non-capturing with (?:...)",
                    name.get_ref(),
                    compiled.captures_len() - 1
                ),
            ));
        }
        inputs.insert(
            name.get_ref().clone(),
            InputSpec {
                pattern: pattern.get_ref().clone(),
                from_binary: compiled,
            },
        );
    }
    Ok(inputs)
}

/// Directories the sandbox mounts for its own use (or that hold the kernel's
/// interfaces): a workdir may be none of them, nor under one.
pub const RESERVED_DIRS: &[&str] = &["/src", "/out", "/cache", "/tmp", "/proc", "/dev", "/sys"];

/// Checks a `build.workdir` (as written, or rendered): an absolute,
/// normalised path (no `.`, `..`, empty components or trailing `/`), not `/`,
/// and not at or under one of [`RESERVED_DIRS`].
pub fn check_workdir(path: &str) -> Result<(), String> {
    let Some(relative) = path.strip_prefix('/') else {
        return Err(format!(
            "build.workdir {path:?} must be an absolute path (like \"/home/runner/work/app/app\")"
        ));
    };
    if relative.is_empty() {
        return Err(
            "build.workdir must not be \"/\": name the directory the upstream build used".into(),
        );
    }
    if relative
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == ".." || c.contains('\0'))
    {
        return Err(format!(
            "build.workdir {path:?} must be a normalised path: no \".\", \"..\", \"//\" or trailing \"/\""
        ));
    }
    if let Some(reserved) = RESERVED_DIRS
        .iter()
        .find(|dir| path == **dir || path.strip_prefix(**dir).is_some_and(|r| r.starts_with('/')))
    {
        return Err(format!(
            "build.workdir {path:?} is under {reserved}, which the sandbox mounts itself ({}): pick another directory",
            RESERVED_DIRS.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(crate) const MINIMAL: &str = r#"[image]
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
        let vars = TemplateVars::platform("v1.30.0", &arm64);
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
        let vars = TemplateVars::platform("1", &amd64);
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
            "recipe test.toml:11:20: unknown placeholder {verison} in \"{verison}\" (allowed here: {version}, {version_bare}, {os}, {arch}, {variant}, {go_version}, {go_version_full}, {vcs_revision}, {vcs_time}, {go_setting:NAME}, {input:NAME})"
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

    fn with_workdir(workdir: &str) -> String {
        MINIMAL.replace("artifact =", &format!("workdir = {workdir:?}\nartifact ="))
    }

    #[test]
    fn workdir_is_an_absolute_path_template() {
        assert!(parse(MINIMAL).unwrap().build.workdir.is_none());
        let recipe = parse(&with_workdir("/home/runner/work/{version_bare}/{arch}")).unwrap();
        let amd64: Platform = "linux/amd64".parse().unwrap();
        let vars = TemplateVars::platform("v1.2.3", &amd64);
        assert_eq!(
            recipe.build.workdir.map(|w| w.render(&vars)).as_deref(),
            Some("/home/runner/work/1.2.3/amd64")
        );
    }

    #[test]
    fn workdir_must_be_normalised_and_outside_the_sandboxs_own_directories() {
        let reserved = "(/src, /out, /cache, /tmp, /proc, /dev, /sys): pick another directory";
        for (workdir, message) in [
            ("home/runner/x", "build.workdir \"home/runner/x\" must be an absolute path (like \"/home/runner/work/app/app\")".to_string()),
            ("/", "build.workdir must not be \"/\": name the directory the upstream build used".to_string()),
            ("/home/../etc", "build.workdir \"/home/../etc\" must be a normalised path: no \".\", \"..\", \"//\" or trailing \"/\"".to_string()),
            ("/home//x", "build.workdir \"/home//x\" must be a normalised path: no \".\", \"..\", \"//\" or trailing \"/\"".to_string()),
            ("/home/x/", "build.workdir \"/home/x/\" must be a normalised path: no \".\", \"..\", \"//\" or trailing \"/\"".to_string()),
            ("/tmp/build", format!("build.workdir \"/tmp/build\" is under /tmp, which the sandbox mounts itself {reserved}")),
            ("/src", format!("build.workdir \"/src\" is under /src, which the sandbox mounts itself {reserved}")),
            ("/proc/self", format!("build.workdir \"/proc/self\" is under /proc, which the sandbox mounts itself {reserved}")),
        ] {
            assert_eq!(
                error(&with_workdir(workdir)),
                format!("recipe test.toml:12:11: {message}"),
                "{workdir}"
            );
        }
        assert!(parse(&with_workdir("/srcs/app")).is_ok());
        assert_eq!(
            error(&with_workdir("/go/{vesion}")),
            "recipe test.toml:12:11: unknown placeholder {vesion} in \"/go/{vesion}\" (allowed here: {version}, {version_bare}, {os}, {arch}, {variant}, {go_version}, {go_version_full}, {vcs_revision}, {vcs_time}, {go_setting:NAME}, {input:NAME})"
        );
    }

    fn with_inputs(inputs: &str, build_extra: &str) -> String {
        MINIMAL.replace("[build]\n", &format!("{inputs}\n[build]\n{build_extra}\n"))
    }

    #[test]
    fn inputs_are_declared_with_a_pattern_and_used_in_build_fields() {
        let text = with_inputs(
            "[inputs.build_date]\nfrom_binary = '(20\\d\\d-\\d\\d-\\d\\d)'",
            "source_date_epoch = \"{input:build_date}\"",
        )
        .replace("builder = \"host\"", "builder = \"golang:{go_version}\"");
        let recipe = parse(&text).unwrap();
        assert_eq!(
            recipe.inputs["build_date"].pattern,
            "(20\\d\\d-\\d\\d-\\d\\d)"
        );
        assert_eq!(
            recipe.used_inputs().into_iter().collect::<Vec<_>>(),
            ["go_version", "input:build_date"]
        );
        assert!(
            matches!(&recipe.build.builder, Builder::Image(t) if t.as_str() == "golang:{go_version}")
        );
    }

    #[test]
    fn an_input_pattern_must_compile_and_capture_at_most_once() {
        let two = with_inputs("[inputs.d]\nfrom_binary = '(a)(b)'", "");
        assert_eq!(
            error(&two),
            "recipe test.toml:10:15: inputs.d.from_binary has 2 capture groups: use at most one (its text is the value); make the others non-capturing with (?:...)"
        );
        let bad = with_inputs("[inputs.d]\nfrom_binary = '(a'", "");
        assert!(
            error(&bad).starts_with(
                "recipe test.toml:10:15: inputs.d.from_binary is not a valid regular expression: "
            ),
            "{}",
            error(&bad)
        );
        let undeclared = with_inputs("", "source_date_epoch = \"{input:date}\"");
        assert_eq!(
            error(&undeclared),
            "recipe test.toml:11:21: {input:date} in \"{input:date}\" names no declared input: add [inputs.date] with from_binary (declared: none)"
        );
        let in_tag = MINIMAL.replace("tag = \"{version}\"", "tag = \"{go_version}\"");
        assert!(
            error(&in_tag).contains("unknown placeholder {go_version}"),
            "{}",
            error(&in_tag)
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

    fn with_fallbacks(fallbacks: &str) -> String {
        MINIMAL.replace(
            "tag = ",
            &format!("fallback_repositories = {fallbacks}\ntag = "),
        )
    }

    #[test]
    fn fallback_repositories_are_normalised_in_order() {
        assert!(parse(MINIMAL)
            .unwrap()
            .image
            .fallback_repositories
            .is_empty());
        let recipe = parse(&with_fallbacks(
            r#"["rancherlegacy/crictl", "127.0.0.1:5000/old/crictl"]"#,
        ))
        .unwrap();
        assert_eq!(
            recipe.image.fallback_repositories,
            [
                "docker.io/rancherlegacy/crictl",
                "127.0.0.1:5000/old/crictl"
            ]
        );
    }

    #[test]
    fn a_fallback_repository_must_be_a_repository_named_once() {
        assert_eq!(
            error(&with_fallbacks(r#"["legacy/crictl", "legacy/crictl:v1"]"#)),
            "recipe test.toml:3:43: image.fallback_repositories \"legacy/crictl:v1\" must not carry a tag or digest (the tag goes in image.tag)"
        );
        assert_eq!(
            error(&with_fallbacks(r#"["docker.io/rancher/crictl"]"#)),
            "recipe test.toml:3:26: image.fallback_repositories names docker.io/rancher/crictl twice (or as image.repository too)"
        );
        assert_eq!(
            error(&with_fallbacks(r#"["a/b", "docker.io/a/b"]"#)),
            "recipe test.toml:3:33: image.fallback_repositories names docker.io/a/b twice (or as image.repository too)"
        );
        assert!(
            error(&with_fallbacks(r#"["Legacy/Crictl"]"#)).starts_with("recipe test.toml:3:26: "),
            "{}",
            error(&with_fallbacks(r#"["Legacy/Crictl"]"#))
        );
        assert_eq!(
            error(&with_fallbacks(r#""legacy/crictl""#)),
            "recipe test.toml:3:25: invalid type: string \"legacy/crictl\", expected a sequence"
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
}
