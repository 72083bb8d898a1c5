//! Plan: a recipe rendered into the concrete values the later steps
//! receive, so that no step renders a template itself.
//!
//! A recipe is rendered once for a version ([`ReleasePlan`]: the image tag,
//! the source's URL and ref, the builder when no release input decides it,
//! the addresses of the published checksums), and once per platform with
//! the release inputs read from that platform's published binary
//! ([`PlatformPlan`]: the builder, `SOURCE_DATE_EPOCH`, the workdir, the
//! environment, the `fetch` and `command` argv and the artifact's path).
//! [`super::source`] pins and checks out what the release plan names;
//! [`super::build`] and [`super::sandbox`] run what the platform plan says.

use std::collections::BTreeMap;

use super::published::ChecksumSource;
use super::recipe::schema::check_workdir;
use super::recipe::template::{RenderError, ValueUse};
use super::recipe::{ArtifactSpec, Builder, Published, Recipe, Template, TemplateVars};
use crate::image::platform::Platform;

/// Why a recipe could not be rendered for a platform.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("recipe {origin}: {source}")]
    Render {
        origin: String,
        #[source]
        source: RenderError,
    },
    #[error("recipe {origin}: source_date_epoch {value:?} (rendered from {template:?}) is neither RFC 3339 UTC (2025-03-11T19:58:53Z) nor seconds since 1970")]
    SourceDateEpoch {
        origin: String,
        template: String,
        value: String,
    },
    #[error("recipe {origin}: {message} (rendered from {template:?} for this version)")]
    Workdir {
        origin: String,
        template: String,
        message: String,
    },
}

/// What a build runs on, as the rendered recipe names it (an image by its
/// reference, not yet resolved to a digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuilderRef {
    /// The host's `/usr`, `/etc`, ... read-only.
    Host,
    /// An image reference (`golang:1.22.5`).
    Image(String),
}

/// Where the build leaves the binary, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Artifact {
    /// A path relative to the source root, or absolute inside the sandbox.
    Path(String),
    /// A Cargo binary target, located with `cargo metadata`.
    CargoBin(String),
}

/// A recipe rendered for one version: what every platform shares.
#[derive(Debug, Clone)]
pub struct ReleasePlan {
    /// The recipe it was rendered from.
    pub recipe: Recipe,
    /// The version as typed (`v1.30.0`).
    pub version: String,
    /// The published image's tag for the version (`[image] tag`).
    pub image_tag: String,
    /// The source's git URL (`[source] git`).
    pub git_url: String,
    /// The source's tag for the version (`[source] ref`).
    pub git_ref: String,
    /// Whether submodules are checked out.
    pub submodules: bool,
    /// The builder, when no release input decides it; `None`: each
    /// platform renders its own ([`PlatformPlan::builder`]).
    pub builder: Option<BuilderRef>,
    /// `build.workdir` with the version filled in (what `--no-sandbox` is
    /// refused with); a platform's own is [`PlatformPlan::workdir`].
    pub workdir: Option<String>,
    /// Where the maintainers publish each platform's checksum
    /// (`[published]`); empty when the recipe declares none.
    pub published: BTreeMap<Platform, ChecksumSource>,
}

/// A recipe rendered for one version and platform, with the release inputs
/// read from the platform's published binary: every value its build uses.
#[derive(Debug, Clone)]
pub struct PlatformPlan {
    pub platform: Platform,
    /// By placeholder name (`go_version`, `input:build_date`); empty when
    /// the recipe uses none.
    pub inputs: BTreeMap<String, String>,
    /// The release's builder, else this platform's.
    pub builder: BuilderRef,
    /// The recipe's `source_date_epoch`, in seconds; `None`: the commit's time.
    pub source_date_epoch: Option<i64>,
    /// Where the checkout sits inside the sandbox, checked once rendered
    /// (a version could make it `..` or reserved); `None`: `/src` alone.
    pub workdir: Option<String>,
    /// The recipe's environment, then the platform's over it (the sandbox's
    /// base environment goes under both).
    pub env: BTreeMap<String, String>,
    /// `fetch`, when the recipe has one.
    pub fetch: Option<Vec<String>>,
    pub command: Vec<String>,
    pub artifact: Artifact,
    /// `[build] root = true`: the steps run as root of the build's own
    /// user namespace.
    pub run_as_root: bool,
}

impl ReleasePlan {
    /// Renders what the version alone decides.
    pub fn render(recipe: &Recipe, version: &str) -> Self {
        let vars = TemplateVars::version(version);
        let builder = match &recipe.build.builder {
            Builder::Host => Some(BuilderRef::Host),
            Builder::Image(template) if template.inputs().next().is_none() => {
                Some(BuilderRef::Image(template.render(&vars)))
            }
            Builder::Image(_) => None,
        };
        let published = match &recipe.published {
            None => BTreeMap::new(),
            Some(published) => recipe
                .platforms()
                .map(|platform| {
                    let vars = TemplateVars::platform(version, platform);
                    let source = match published {
                        Published::Sha256Sums { url, entry } => ChecksumSource::Sums {
                            url: url.render(&vars),
                            entry: entry.render(&vars),
                        },
                        Published::Sha256 { url } => ChecksumSource::Single {
                            url: url.render(&vars),
                        },
                    };
                    (platform.clone(), source)
                })
                .collect(),
        };
        Self {
            recipe: recipe.clone(),
            version: version.to_string(),
            image_tag: recipe.image.tag.render(&vars),
            git_url: recipe.source.git.clone(),
            git_ref: recipe.source.git_ref.render(&vars),
            submodules: recipe.source.submodules,
            builder,
            workdir: recipe.build.workdir.as_ref().map(|w| w.render(&vars)),
            published,
        }
    }

    /// Renders the recipe for `platform` with its release inputs: a release
    /// input must be a plain word wherever it lands in a command, path or
    /// reference ([`ValueUse`]).
    pub fn platform(
        &self,
        platform: &Platform,
        inputs: BTreeMap<String, String>,
    ) -> Result<PlatformPlan, PlanError> {
        let recipe = &self.recipe;
        let vars = TemplateVars {
            version: &self.version,
            platform: Some(platform),
            inputs: Some(&inputs),
        };
        let render = |template: &Template, use_| render(recipe, template, &vars, use_);
        let builder = match (&self.builder, &recipe.build.builder) {
            (Some(builder), _) => builder.clone(),
            (None, Builder::Host) => BuilderRef::Host,
            (None, Builder::Image(template)) => {
                BuilderRef::Image(render(template, ValueUse::Word)?)
            }
        };
        let source_date_epoch = match &recipe.build.source_date_epoch {
            Some(template) => {
                let value = render(template, ValueUse::Word)?;
                Some(
                    parse_epoch(&value).ok_or_else(|| PlanError::SourceDateEpoch {
                        origin: recipe.origin.clone(),
                        template: template.to_string(),
                        value,
                    })?,
                )
            }
            None => None,
        };
        let workdir = match &recipe.build.workdir {
            Some(template) => {
                let rendered = render(template, ValueUse::Word)?;
                check_workdir(&rendered).map_err(|message| PlanError::Workdir {
                    origin: recipe.origin.clone(),
                    template: template.to_string(),
                    message,
                })?;
                Some(rendered)
            }
            None => None,
        };
        let mut env = BTreeMap::new();
        let platform_env = recipe.build.platforms.get(platform).into_iter().flatten();
        for (key, value) in recipe.build.env.iter().chain(platform_env) {
            env.insert(key.clone(), render(value, ValueUse::Env)?);
        }
        let argv = |argv: &[Template]| -> Result<Vec<String>, PlanError> {
            argv.iter().map(|t| render(t, ValueUse::Word)).collect()
        };
        let fetch = recipe.build.fetch.as_deref().map(argv).transpose()?;
        let command = argv(&recipe.build.command)?;
        let artifact = match &recipe.build.output {
            ArtifactSpec::Path(template) => Artifact::Path(render(template, ValueUse::Word)?),
            ArtifactSpec::CargoBin(name) => Artifact::CargoBin(name.clone()),
        };
        Ok(PlatformPlan {
            platform: platform.clone(),
            inputs: inputs.clone(),
            builder,
            source_date_epoch,
            workdir,
            env,
            fetch,
            command,
            artifact,
            run_as_root: recipe.build.run_as_root,
        })
    }
}

fn render(
    recipe: &Recipe,
    template: &Template,
    vars: &TemplateVars<'_>,
    use_: ValueUse,
) -> Result<String, PlanError> {
    template
        .render_checked(vars, use_)
        .map_err(|source| PlanError::Render {
            origin: recipe.origin.clone(),
            source,
        })
}

/// Seconds since 1970, or an RFC 3339 UTC time (`2025-03-11T19:58:53Z`).
pub fn parse_epoch(value: &str) -> Option<i64> {
    if let Ok(seconds) = value.parse::<i64>() {
        return (seconds >= 0).then_some(seconds);
    }
    let time = humantime::parse_rfc3339(value).ok()?;
    let seconds = time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    i64::try_from(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = r#"[image]
repository = "example.com/app"
tag = "{version_bare}"

[source]
git = "https://example.com/app.git"
ref = "{version}"
submodules = true

[build]
builder = "docker.io/library/golang:{go_version}"
workdir = "/home/runner/work/app-{version_bare}"
source_date_epoch = "{input:build_date}"
fetch = ["go", "mod", "download"]
command = ["go", "build", "-ldflags", "-X main.version={version}", "-o", "/out/app-{arch}", "."]
artifact = "/out/app-{arch}"
env = { CGO_ENABLED = "0", LABEL = "built {input:build_date}" }

[build.platforms."linux/amd64"]
env = { GOARCH = "{arch}", CGO_ENABLED = "1" }
[build.platforms."linux/arm64"]
env = { GOARCH = "{arch}" }

[inputs.build_date]
from_binary = 'built (\S+)'

[published]
sha256sums = "https://example.com/{version}/SHA256SUMS"
entry = "app-{version_bare}-{os}-{arch}"
"#;

    fn release(text: &str) -> ReleasePlan {
        let recipe = Recipe::parse("test.toml", text).unwrap();
        ReleasePlan::render(&recipe, "v1.2.3")
    }

    fn platform(name: &str) -> Platform {
        name.parse().unwrap()
    }

    fn inputs(go_version: &str, build_date: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("go_version".to_string(), go_version.to_string()),
            ("input:build_date".to_string(), build_date.to_string()),
        ])
    }

    #[test]
    fn a_release_holds_what_the_version_alone_decides() {
        let release = release(RECIPE);
        assert_eq!(release.version, "v1.2.3");
        assert_eq!(release.image_tag, "1.2.3");
        assert_eq!(release.git_url, "https://example.com/app.git");
        assert_eq!(release.git_ref, "v1.2.3");
        assert!(release.submodules);
        assert_eq!(release.builder, None);
        assert_eq!(
            release.workdir.as_deref(),
            Some("/home/runner/work/app-1.2.3")
        );
        assert_eq!(
            release.published,
            BTreeMap::from([
                (
                    platform("linux/amd64"),
                    ChecksumSource::Sums {
                        url: "https://example.com/v1.2.3/SHA256SUMS".into(),
                        entry: "app-1.2.3-linux-amd64".into(),
                    }
                ),
                (
                    platform("linux/arm64"),
                    ChecksumSource::Sums {
                        url: "https://example.com/v1.2.3/SHA256SUMS".into(),
                        entry: "app-1.2.3-linux-arm64".into(),
                    }
                ),
            ])
        );
    }

    #[test]
    fn a_platform_is_rendered_with_its_release_inputs() {
        let rendered = release(RECIPE)
            .platform(
                &platform("linux/amd64"),
                inputs("1.22.5", "2025-03-11T19:58:53Z"),
            )
            .unwrap();
        assert_eq!(rendered.platform, platform("linux/amd64"));
        assert_eq!(rendered.inputs, inputs("1.22.5", "2025-03-11T19:58:53Z"));
        assert_eq!(
            rendered.builder,
            BuilderRef::Image("docker.io/library/golang:1.22.5".into())
        );
        assert_eq!(rendered.source_date_epoch, Some(1_741_723_133));
        assert_eq!(
            rendered.workdir.as_deref(),
            Some("/home/runner/work/app-1.2.3")
        );
        assert_eq!(
            rendered.env,
            BTreeMap::from([
                ("CGO_ENABLED".to_string(), "1".to_string()),
                ("GOARCH".to_string(), "amd64".to_string()),
                (
                    "LABEL".to_string(),
                    "built 2025-03-11T19:58:53Z".to_string()
                ),
            ])
        );
        assert_eq!(
            rendered.fetch,
            Some(vec!["go".into(), "mod".into(), "download".into()])
        );
        assert_eq!(
            rendered.command,
            [
                "go",
                "build",
                "-ldflags",
                "-X main.version=v1.2.3",
                "-o",
                "/out/app-amd64",
                "."
            ]
        );
        assert_eq!(rendered.artifact, Artifact::Path("/out/app-amd64".into()));
    }

    #[test]
    fn a_release_input_is_refused_where_it_would_be_code_but_not_in_the_environment() {
        let release = release(RECIPE);
        let amd64 = platform("linux/amd64");
        assert_eq!(
            release
                .platform(&amd64, inputs("1.22.5 ; curl evil", "2025-03-11T19:58:53Z"))
                .unwrap_err()
                .to_string(),
            "recipe test.toml: the release input {go_version} = \"1.22.5 ; curl evil\" (read from \
             the published binary) may not be used in a command, path or reference: only letters, \
             digits and . _ : + , / = @ % ~ - are allowed there"
        );
        let env_only = RECIPE.replace(
            "source_date_epoch = \"{input:build_date}\"\n",
            "source_date_epoch = \"1741723133\"\n",
        );
        let rendered =
            ReleasePlan::render(&Recipe::parse("test.toml", &env_only).unwrap(), "v1.2.3")
                .platform(&amd64, inputs("1.22.5", "$(curl evil)"))
                .unwrap();
        assert_eq!(rendered.env["LABEL"], "built $(curl evil)");
    }

    #[test]
    fn a_source_date_epoch_that_is_no_time_is_refused() {
        assert_eq!(
            release(RECIPE)
                .platform(&platform("linux/arm64"), inputs("1.22.5", "yesterday"))
                .unwrap_err()
                .to_string(),
            "recipe test.toml: source_date_epoch \"yesterday\" (rendered from \
             \"{input:build_date}\") is neither RFC 3339 UTC (2025-03-11T19:58:53Z) nor seconds \
             since 1970"
        );
    }

    #[test]
    fn a_builder_without_release_inputs_is_the_releases_for_every_platform() {
        let host = release(&RECIPE.replace(
            "builder = \"docker.io/library/golang:{go_version}\"",
            "builder = \"host\"",
        ));
        assert_eq!(host.builder, Some(BuilderRef::Host));
        let pinned = release(&RECIPE.replace("{go_version}", "1.22.5"));
        assert_eq!(
            pinned.builder,
            Some(BuilderRef::Image("docker.io/library/golang:1.22.5".into()))
        );
        for name in ["linux/amd64", "linux/arm64"] {
            let rendered = pinned
                .platform(&platform(name), inputs("1.21.0", "2025-03-11T19:58:53Z"))
                .unwrap();
            assert_eq!(
                rendered.builder,
                BuilderRef::Image("docker.io/library/golang:1.22.5".into())
            );
        }
    }
}
