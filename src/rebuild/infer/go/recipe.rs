//! The Go recipe: what every candidate shares (the toolchain, the
//! module download, the `go build` flags, the environment, each
//! platform's settings), each candidate's recipe as the schema's value,
//! and the comments that say where each value comes from.

use std::collections::{BTreeMap, BTreeSet};

use toml_edit::{DocumentMut, Item, Table};

use super::binscan::{DATE_INPUT_REGEX, TIMESTAMP_INPUT_REGEX};
use super::drafts::CandidateDraft;
use super::facts::{
    go_older_than, platform_settings, Package, PlatformBinary, BUILD_DATE, BUILD_TIMESTAMP,
    ENV_SETTINGS, FLAG_SETTINGS,
};
use super::link::{self, LinkFacts};
use crate::binary::linking::CCompiler;
use crate::image::platform::Platform;
use crate::rebuild::infer::candidate::InferError;
use crate::rebuild::infer::evidence::Evidence;
use crate::rebuild::infer::recipe::{has_placeholder, image_and_source, template};
use crate::rebuild::recipe::schema::{
    ArtifactSpec, BuildSpec, Builder, ImageSpec, InputSpec, SourceSpec,
};
use crate::rebuild::recipe::template::{Scope, Template};
use crate::rebuild::recipe::RecipeSpec;

/// Where the package sits in the tree and how the tree is laid out.
pub struct Layout<'a> {
    /// The main module's directory in the tree (`""`: the root).
    pub module_dir: &'a str,
    pub package: &'a Package,
    /// Whether the module has `vendor/modules.txt`.
    pub vendored: bool,
    /// Whether modules must be downloaded: not vendored, and the binary
    /// records dependencies.
    pub downloads: bool,
    /// The build directory, when the binary embeds it.
    pub workdir: Option<String>,
    /// How the binaries were linked, when their ELF tells.
    pub link: Option<&'a LinkFacts>,
}

/// A recipe value with the comment that says where it comes from.
struct Explained<T> {
    value: T,
    why: String,
}

/// The part of the recipe every candidate shares.
pub struct SharedRecipe {
    /// Comment lines atop every candidate.
    pub header: String,
    image: ImageSpec,
    source: SourceSpec,
    builder: Explained<Builder>,
    /// The build directory the binary embeds.
    workdir: Option<Template>,
    /// `go mod download`, when the modules are downloaded.
    fetch: Option<Vec<String>>,
    /// `go build` up to its flags (`go`, `-C`, `DIR`, `build`).
    command_head: Vec<String>,
    /// Flags common to every platform, each with why.
    flags: Vec<(String, String)>,
    /// `-o`, the artifact and the package.
    command_tail: Vec<String>,
    artifact: String,
    /// `[build.env]`: name, value, why.
    env: Vec<(String, String, Option<String>)>,
    /// Per platform, name and value.
    platform_env: BTreeMap<Platform, BTreeMap<String, String>>,
}

impl SharedRecipe {
    /// What the binaries and the tree give every candidate; `notes` say
    /// what the rebuild may not match.
    pub fn new(
        evidence: &Evidence<'_>,
        plats: &[PlatformBinary<'_>],
        layout: &Layout<'_>,
        notes: &mut Vec<String>,
    ) -> Result<Self, InferError> {
        for (what, text) in [
            ("repository", evidence.repository),
            ("binary path", evidence.binary_path),
            ("source URL", evidence.source.url),
            ("tag", evidence.tag),
            ("source tag", evidence.source.git_ref),
            ("module directory", layout.module_dir),
        ] {
            if has_placeholder(text) {
                return Err(InferError::Invalid(format!(
                    "the {what} {text:?} holds text a recipe would read as a placeholder: write a recipe (see recipes/README.md)"
                )));
            }
        }
        let first = plats.first().ok_or(InferError::Unsupported)?;

        let mut summary = vec![first.info.go_version.clone()];
        for setting in &first.info.settings {
            let shown = match setting.key.as_str() {
                "-compiler" | "GOOS" | "GOARCH" | "vcs" | "vcs.time" | "-ldflags"
                | "DefaultGODEBUG" => None,
                "vcs.revision" => Some(format!(
                    "vcs.revision={}",
                    setting.value.get(..12).unwrap_or(&setting.value)
                )),
                _ => Some(format!("{}={}", setting.key, setting.value)),
            };
            summary.extend(shown);
        }
        if first.setting("-ldflags").is_some() {
            summary.push("-ldflags recorded".into());
        }
        let linked = layout.link.map(|link| {
            let mut parts = vec![format!("linked {}", link.summary())];
            if let Some(compiler) = link.compiler() {
                parts.push(format!("C compiler {compiler}"));
            }
            let libraries: Vec<String> = link
                .linking
                .libraries
                .iter()
                .map(|l| {
                    format!("{} {}", l.name, l.version.as_deref().unwrap_or(""))
                        .trim_end()
                        .to_string()
                })
                .collect();
            if !libraries.is_empty() {
                parts.push(format!("C libraries {}", libraries.join(", ")));
            }
            format!("# The ELF shows: {}.\n", comment(&parts.join("; ")))
        });
        let header = format!(
            "# Inferred by rebuild-compare from {} in {}:{}\n# ({}).\n{}# Every value below comes from the image, its binary or the source at the tag.\n",
            comment(evidence.binary_path),
            comment(evidence.repository),
            comment(evidence.tag),
            comment(&summary.join(", ")),
            linked.unwrap_or_default(),
        );

        let (image, source) = image_and_source(evidence)?;

        // The toolchain.
        let versions: BTreeSet<&str> = plats.iter().map(|p| p.info.go_version.as_str()).collect();
        let host = evidence.toolchains.host_go;
        let go_on_host = host.is_some_and(|h| {
            versions.len() == 1
                && versions
                    .iter()
                    .all(|v| v.strip_prefix("go") == h.strip_prefix("go").or(Some(h)))
        });
        // A cgo binary linked by the C toolchain needs the C compiler its
        // `.comment` names: the host's when it is that one, else the Go
        // image of the Debian release whose compiler it is.
        let compiler = layout.link.filter(|l| l.cgo).and_then(LinkFacts::compiler);
        let cc_on_host = compiler
            .is_none_or(|wanted| link::host_compiler_matches(evidence.toolchains.host_cc, wanted));
        let release = compiler.and_then(CCompiler::debian_release);
        let no_inputs = BTreeSet::new();
        let builder = if go_on_host && cc_on_host {
            Explained {
                value: Builder::Host,
                why: format!(
                    "the host's Go is {}, the binary's Go{}",
                    host.unwrap_or_default(),
                    compiler
                        .map(|c| format!(
                            ", and its C compiler is {c}, the one the binary's .comment names"
                        ))
                        .unwrap_or_default()
                ),
            }
        } else {
            if let (Some(wanted), None) = (compiler, release) {
                notes.push(format!(
                    "the binary's C compiler, {wanted}, is not Debian's: the builder image's C compiler will differ"
                ));
            }
            let suffix = release.map(|r| format!("-{r}")).unwrap_or_default();
            Explained {
                value: Builder::Image(template(
                    &format!("{}:{{go_version}}{suffix}", evidence.toolchains.go_image),
                    Scope::Build {
                        declared: &no_inputs,
                    },
                )?),
                why: format!(
                    "the binary's Go ({}){}{}: the builder image of that version",
                    versions.iter().copied().collect::<Vec<_>>().join(", "),
                    match (compiler, release) {
                        (Some(c), Some(r)) => format!(" and C compiler {c}, Debian {r}'s"),
                        _ => String::new(),
                    },
                    match (host, go_on_host) {
                        (Some(h), false) => format!(", not the host's Go {h}"),
                        (Some(_), true) => ", not the host's C compiler".to_string(),
                        (None, _) => String::new(),
                    },
                ),
            }
        };
        let workdir = layout
            .workdir
            .as_deref()
            .map(|workdir| {
                template(
                    workdir,
                    Scope::Build {
                        declared: &no_inputs,
                    },
                )
            })
            .transpose()?;
        let mut go = vec!["go".to_string()];
        if !layout.module_dir.is_empty() {
            go.extend(["-C".to_string(), layout.module_dir.to_string()]);
            if versions.iter().any(|v| go_older_than(v, 20)) {
                notes.push(format!(
                    "the main module is in {}, and `go -C` needs Go 1.20: the build will fail with an older Go",
                    layout.module_dir
                ));
            }
        }
        let fetch = layout.downloads.then(|| {
            let mut fetch = go.clone();
            fetch.extend(["mod".to_string(), "download".to_string()]);
            fetch
        });
        let mut command_head = go;
        command_head.push("build".into());

        // Flags and environment, shared when every platform agrees.
        let mut flags = Vec::new();
        if let Some(flag) = layout.link.and_then(|l| l.buildmode_flag(plats)) {
            flags.push(flag);
        }
        let mut platform_flags: Vec<Vec<String>> = vec![Vec::new(); plats.len()];
        for key in FLAG_SETTINGS {
            let values: Vec<Option<&str>> = plats.iter().map(|p| p.setting(key)).collect();
            let flag = |value: Option<&str>| -> Option<String> {
                match (*key, value?) {
                    ("-buildmode", "exe") | (_, "false") | (_, "") => None,
                    (_, "true") => Some(key.to_string()),
                    (_, value) => Some(format!("{key}={value}")),
                }
            };
            if values.iter().all(|v| v == &values[0]) {
                if let Some(f) = flag(values[0]) {
                    flags.push((f, "recorded in the binary's build info".to_string()));
                }
                continue;
            }
            for (i, value) in values.iter().enumerate() {
                if let Some(f) = flag(*value) {
                    let f = if f.contains('=') {
                        f
                    } else {
                        format!("{f}=true")
                    };
                    if f.chars().any(char::is_whitespace) {
                        notes.push(format!(
                            "{}: {f} differs between platforms and holds spaces, so it is left out for that platform",
                            plats[i].platform
                        ));
                    } else {
                        platform_flags[i].push(f);
                    }
                }
            }
        }
        let vcs: Vec<bool> = plats.iter().map(|p| p.setting("vcs").is_some()).collect();
        let buildvcs = |stamped: bool| format!("-buildvcs={stamped}");
        let mut goflags = Vec::new();
        if vcs.iter().all(|v| *v == vcs[0]) {
            goflags.push(buildvcs(vcs[0]));
        } else {
            for (i, stamped) in vcs.iter().enumerate() {
                platform_flags[i].push(buildvcs(*stamped));
            }
        }
        let mut env: Vec<(String, String, Option<String>)> = Vec::new();
        if layout.vendored {
            goflags.push("-mod=vendor".into());
        } else {
            goflags.push("-modcacherw".into());
        }
        let goflags_why = format!(
            "{}; {}",
            if vcs[0] {
                "-buildvcs=true: the binary records vcs.* settings"
            } else {
                "-buildvcs=false: the binary records no vcs.* settings"
            },
            if layout.vendored {
                "-mod=vendor: the tag has vendor/modules.txt"
            } else {
                "-modcacherw: the module cache stays removable"
            }
        );
        let mut per_platform: Vec<BTreeMap<String, String>> = vec![BTreeMap::new(); plats.len()];
        for key in ENV_SETTINGS {
            let values: Vec<Option<&str>> = plats.iter().map(|p| p.setting(key)).collect();
            if values.iter().all(|v| v == &values[0]) {
                if let Some(value) = values[0] {
                    env.push((key.to_string(), value.to_string(), Some("recorded".into())));
                }
            } else {
                for (i, value) in values.iter().enumerate() {
                    if let Some(value) = value {
                        per_platform[i].insert(key.to_string(), value.to_string());
                    }
                }
            }
        }
        if layout.link.is_none() && plats.iter().any(|p| p.setting("CGO_ENABLED") == Some("1")) {
            notes.push("built with cgo (CGO_ENABLED=1): the builder's C toolchain and libraries must match the upstream's too".into());
        }
        env.push(("GOCACHE".into(), "/tmp/gocache".into(), None));
        env.push(("GOFLAGS".into(), goflags.join(" "), Some(goflags_why)));
        if layout.vendored {
            env.push((
                "GOPROXY".into(),
                "off".into(),
                Some("vendored: nothing is downloaded".into()),
            ));
        } else if !layout.downloads {
            env.push((
                "GOPROXY".into(),
                "off".into(),
                Some("the binary records no dependencies: nothing is downloaded".into()),
            ));
        } else {
            env.push((
                "GOMODCACHE".into(),
                "/cache/gomod".into(),
                Some("kept from fetch to command".into()),
            ));
        }
        env.push((
            "GOTOOLCHAIN".into(),
            "local".into(),
            Some("exactly the builder's Go, never a downloaded one".into()),
        ));
        env.sort();

        let mut platform_env = BTreeMap::new();
        for (i, plat) in plats.iter().enumerate() {
            let mut vars = std::mem::take(&mut per_platform[i]);
            vars.insert("GOOS".into(), plat.platform.os.clone());
            vars.insert("GOARCH".into(), plat.platform.architecture.clone());
            for key in platform_settings() {
                if let Some(value) = plat.setting(key) {
                    vars.insert(key.to_string(), value.to_string());
                }
            }
            if !platform_flags[i].is_empty() {
                let mut all = goflags.clone();
                all.extend(platform_flags[i].iter().cloned());
                vars.insert("GOFLAGS".into(), all.join(" "));
            }
            platform_env.insert(plat.platform.clone(), vars);
        }

        let name: String = evidence
            .binary_path
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            .collect();
        let name = if name.is_empty() || name.starts_with('.') {
            "app".to_string()
        } else {
            name
        };
        let artifact = format!("/out/{name}");
        Ok(Self {
            header,
            image,
            source,
            builder,
            workdir,
            fetch,
            command_head,
            flags,
            command_tail: vec!["-o".into(), artifact.clone(), layout.package.argument()],
            artifact,
            env,
            platform_env,
        })
    }

    /// The recipe of one candidate, as the schema's value and as a document
    /// with comments saying why (without the header).
    pub fn candidate(
        &self,
        draft: &CandidateDraft,
    ) -> Result<(RecipeSpec, DocumentMut), InferError> {
        let all_text = std::iter::once(draft.ldflags.as_str())
            .chain(draft.env.iter().map(|(_, v)| v.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        let mut inputs = BTreeMap::new();
        let mut input_whys = Vec::new();
        for (name, pattern, what) in [
            (
                BUILD_DATE,
                DATE_INPUT_REGEX,
                "the build time stamped into the binary (RFC 3339)",
            ),
            (
                BUILD_TIMESTAMP,
                TIMESTAMP_INPUT_REGEX,
                "the build time stamped into the binary (seconds)",
            ),
        ] {
            if all_text.contains(&format!("{{input:{name}}}")) {
                let from_binary = regex::bytes::Regex::new(pattern).map_err(|e| {
                    InferError::Invalid(format!(
                        "the inferred recipe is not valid, which is a bug in rebuild-compare: {e}"
                    ))
                })?;
                inputs.insert(
                    name.to_string(),
                    InputSpec {
                        pattern: pattern.to_string(),
                        from_binary,
                    },
                );
                input_whys.push((name, format!("{what}, read from the published binary")));
            }
        }
        let declared: BTreeSet<String> = inputs.keys().cloned().collect();
        let build_template = |text: &str| {
            template(
                text,
                Scope::Build {
                    declared: &declared,
                },
            )
        };
        let argv = |args: &[String]| -> Result<Vec<Template>, InferError> {
            args.iter().map(|arg| build_template(arg)).collect()
        };

        let mut command_whys = Vec::new();
        let (command, artifact) = match &draft.project {
            Some(project) => {
                command_whys.extend(draft.why.iter().cloned());
                (project.command.clone(), project.output.as_str())
            }
            None => {
                let mut command = self.command_head.clone();
                for (flag, why) in &self.flags {
                    command_whys.push(format!("{flag}: {why}"));
                    command.push(flag.clone());
                }
                command_whys.extend(draft.why.iter().cloned());
                if !draft.ldflags.is_empty() {
                    command.push(format!("-ldflags={}", draft.ldflags));
                }
                command.extend(self.command_tail.iter().cloned());
                (command, self.artifact.as_str())
            }
        };

        let mut env: BTreeMap<&str, (&str, Option<&str>)> = self
            .env
            .iter()
            .map(|(k, v, why)| (k.as_str(), (v.as_str(), why.as_deref())))
            .collect();
        for (key, value) in &draft.env {
            env.entry(key)
                .or_insert((value, Some("from the goreleaser build's env")));
        }

        let spec = RecipeSpec {
            image: self.image.clone(),
            source: self.source.clone(),
            inputs,
            build: BuildSpec {
                builder: self.builder.value.clone(),
                fetch: self.fetch.as_deref().map(argv).transpose()?,
                command: argv(&command)?,
                output: ArtifactSpec::Path(build_template(artifact)?),
                env: env
                    .iter()
                    .map(|(key, (value, _))| Ok((key.to_string(), build_template(value)?)))
                    .collect::<Result<_, InferError>>()?,
                platforms: self
                    .platform_env
                    .iter()
                    .map(|(platform, vars)| {
                        let vars = vars
                            .iter()
                            .map(|(key, value)| Ok((key.clone(), build_template(value)?)))
                            .collect::<Result<_, InferError>>()?;
                        Ok((platform.clone(), vars))
                    })
                    .collect::<Result<_, InferError>>()?,
                workdir: self.workdir.clone(),
                source_date_epoch: None,
                run_as_root: false,
            },
            published: None,
        };

        let mut document = spec.to_document();
        if let Some(inputs) = document.get_mut("inputs").and_then(Item::as_table_mut) {
            for (name, why) in &input_whys {
                if let Some(input) = inputs.get_mut(name).and_then(Item::as_table_mut) {
                    comment_before(input, "from_binary", std::slice::from_ref(why));
                }
            }
        }
        if let Some(build) = document.get_mut("build").and_then(Item::as_table_mut) {
            comment_before(build, "builder", std::slice::from_ref(&self.builder.why));
            comment_before(
                build,
                "workdir",
                &["the build directory the binary embeds (built without -trimpath)".into()],
            );
            comment_before(
                build,
                "fetch",
                &["no vendor/modules.txt: the modules are downloaded first (with network)".into()],
            );
            comment_before(build, "command", &command_whys);
            if let Some(table) = as_table(build, "env") {
                for (key, (_, why)) in &env {
                    if let (Some(why), Some(value)) =
                        (why, table.get_mut(key).and_then(Item::as_value_mut))
                    {
                        value
                            .decor_mut()
                            .set_suffix(format!("  # {}", comment(why)));
                    }
                }
            }
            if let Some(platforms) = build.get_mut("platforms").and_then(Item::as_table_mut) {
                for (_, platform) in platforms.iter_mut() {
                    if let Some(platform) = platform.as_table_mut() {
                        platform.set_implicit(true);
                        as_table(platform, "env");
                    }
                }
            }
        }
        Ok((spec, document))
    }
}

/// `table[key]` made a table of its own (`[build.env]`, which holds
/// comments, rather than `env = { ... }`).
fn as_table<'t>(table: &'t mut Table, key: &str) -> Option<&'t mut Table> {
    let item = table.get_mut(key)?;
    if let Some(inline) = item.as_inline_table().cloned() {
        *item = Item::Table(inline.into_table());
    }
    item.as_table_mut()
}

/// Comment lines above `key` of `table`, when it is there.
fn comment_before(table: &mut Table, key: &str, lines: &[String]) {
    if let Some(mut key) = table.key_mut(key) {
        let text: String = lines
            .iter()
            .map(|line| format!("# {}\n", comment(line)))
            .collect();
        key.leaf_decor_mut().set_prefix(text);
    }
}

/// Text safe inside a TOML comment (no control characters).
pub fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
