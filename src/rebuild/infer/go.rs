//! Go: a recipe from the binary's build info (toolchain, flags, package),
//! its embedded paths, and the tag's `.goreleaser.yaml` or `-X` targets.

use std::collections::{BTreeMap, BTreeSet};

use object::{Object, ObjectSection};

use super::binscan::{BinaryStrings, DATE_INPUT_REGEX, TIMESTAMP_INPUT_REGEX};
use super::candidate::{BinaryOnlyInput, Candidate, Ecosystem, InferError, Inference};
use super::evidence::{Evidence, PlatformEvidence};
use super::files::SourceFiles;
use super::goreleaser;
use super::metadata::{self, Release};
use super::xvars;
use crate::binary::GoBuildInfo;
use crate::image::platform::Platform;
use crate::rebuild::adjust::LEVEL_SETTINGS;
use crate::rebuild::recipe::schema::check_workdir;

/// Build settings that select the target, set per platform: the
/// operating system, the architecture and its instruction-set level.
fn platform_settings() -> impl Iterator<Item = &'static str> {
    ["GOOS", "GOARCH"]
        .into_iter()
        .chain(LEVEL_SETTINGS.iter().copied())
}

/// Build settings that are environment variables of the build.
const ENV_SETTINGS: &[&str] = &[
    "CGO_ENABLED",
    "CGO_CFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "CGO_LDFLAGS",
    "GOEXPERIMENT",
];

/// Build settings that are `go build` flags (other than `-ldflags`).
const FLAG_SETTINGS: &[&str] = &[
    "-buildmode",
    "-trimpath",
    "-tags",
    "-gcflags",
    "-asmflags",
    "-race",
    "-msan",
    "-asan",
];

/// Environment variables the recipe sets itself, which a goreleaser
/// build's `env` does not override.
const OWN_ENV: &[&str] = &[
    "CGO_ENABLED",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOCACHE",
    "GOMODCACHE",
    "GOPROXY",
    "GOPATH",
    "GOROOT",
];

/// The recipe input holding a build time read from the binary.
const BUILD_DATE: &str = "build_date";
/// The recipe input holding a build time in seconds read from the binary.
const BUILD_TIMESTAMP: &str = "build_timestamp";

/// Candidate recipes for a Go binary, most likely first:
///
/// 1. `-ldflags` as the binary records them (Go records them unless
///    `-trimpath` was used); without `-trimpath` and without recorded
///    `-ldflags`, the one candidate is a build without `-ldflags`.
/// 2. With `-trimpath` (which drops the record): the builds of the tag's
///    `.goreleaser.yml`/`.goreleaser.yaml` whose main package is the
///    binary's, those whose binary name is the image binary's first, with
///    their `ldflags` (goreleaser's default when they give none) and `env`.
/// 3. `-X` for the package-level version/commit/date variables of the
///    tag's source whose values (VERSION, the commit, a date) the binary
///    holds, then the same with the second-best values where there are any.
/// 4. No `-X` at all.
///
/// `-s`/`-w` come from the binary (no symbol table: `-s`; no DWARF: `-w`)
/// when it is ELF, else 2-4 are each tried with and without `-s -w`.
/// Candidates whose recipes come out the same are listed once.
pub fn infer(evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    let mut notes = Vec::new();
    let plats = platforms(evidence.platforms)?;
    let first = plats.first().ok_or(InferError::Unsupported)?;
    let files = evidence.source.files;

    let package = main_package(first.info)?;
    if let Some(other) = plats.iter().find(|p| p.info.path != first.info.path) {
        return Err(InferError::Invalid(format!(
            "the binaries of {} and {} are different packages ({} and {}), which one recipe cannot build: write one recipe per package",
            first.platform,
            other.platform,
            first.info.path.as_deref().unwrap_or("?"),
            other.info.path.as_deref().unwrap_or("?"),
        )));
    }
    let module_dir = module_dir(files, &package.module).ok_or_else(|| {
        InferError::Invalid(format!(
            "the source at {} has no go.mod for module {}, the binary's main module: check that {} is its repository, or pass --source URL",
            evidence.source.git_ref, package.module, evidence.source.url
        ))
    })?;
    let package_dir = join(&module_dir, &package.relative);
    let compiler = first.setting("-compiler").unwrap_or("gc");
    if compiler != "gc" {
        return Err(InferError::Invalid(format!(
            "the binary was built with the {compiler} compiler, not gc: only gc builds can be inferred; write a recipe (see recipes/README.md)"
        )));
    }
    for plat in &plats {
        if plat.info.go_version.starts_with("devel") {
            notes.push(format!(
                "{}: built with a development Go ({}), which no released toolchain reproduces exactly",
                plat.platform, plat.info.go_version
            ));
        }
    }

    let facts = Facts::new(evidence, &plats, &mut notes);
    let trimpath = plats.iter().all(|p| p.setting("-trimpath") == Some("true"));
    let vendored = files
        .read(&join(&module_dir, "vendor/modules.txt"))
        .is_some();
    let workdir = if trimpath {
        None
    } else {
        embedded_paths_notes(first, vendored, &mut notes);
        workdir(evidence, first, &package_dir, &mut notes)
    };
    let base = Base::new(
        evidence,
        &plats,
        &Layout {
            module_dir: &module_dir,
            package: &package,
            vendored,
            downloads: !vendored && plats.iter().any(|p| !p.info.deps.is_empty()),
            workdir,
        },
        &mut notes,
    )?;

    let strip = strip_flags(&plats, &mut notes);
    let mut drafts: Vec<Draft> = Vec::new();
    let recorded: Vec<Option<&str>> = plats.iter().map(|p| p.setting("-ldflags")).collect();
    if let Some(Some(ldflags)) = recorded.first() {
        if recorded.iter().any(|r| r != &Some(*ldflags)) {
            notes.push(format!(
                "the platforms record different -ldflags; every candidate uses {}'s",
                first.platform
            ));
        }
        if has_placeholder(ldflags) {
            return Err(InferError::Invalid(format!(
                "the binary's recorded -ldflags {ldflags:?} hold text a recipe would read as a placeholder: write a recipe (see recipes/README.md)"
            )));
        }
        let binary_only = binary_only_inputs(ldflags, evidence);
        let mut why = vec!["-ldflags: as the binary records them".to_string()];
        why.extend(binary_only.iter().map(|input| {
            format!(
                "{}={}: not release metadata, only the binary supplies it (a rebuild that reproduces with it is no pass)",
                input.input, input.value
            )
        }));
        drafts.push(Draft {
            label: "recorded -ldflags".into(),
            ldflags: ldflags.to_string(),
            why,
            env: Vec::new(),
            binary_only,
        });
    } else if !trimpath {
        if strip.as_ref().is_some_and(|s| s.s || s.w) {
            notes.push("the binary has no symbol table or no DWARF but records no -ldflags: it was stripped after the build, which the rebuild does not do".into());
        }
        drafts.push(Draft {
            label: "no -ldflags".into(),
            ldflags: String::new(),
            why: vec![
                "no -ldflags: Go records them whenever they are given without -trimpath".into(),
            ],
            env: Vec::new(),
            binary_only: Vec::new(),
        });
    } else {
        let variants: Vec<(&str, String)> = match &strip {
            Some(s) => vec![(s.text(), s.why())],
            None => vec![
                ("-s -w", "-s -w: tried first, the binary is not ELF".into()),
                ("", "no -s -w: tried second, the binary is not ELF".into()),
            ],
        };
        let mut x_drafts = goreleaser_drafts(evidence, &plats, &facts, &package_dir, &mut notes);
        x_drafts.extend(xvar_drafts(files, &plats, &facts, &mut notes));
        x_drafts.push(XDraft {
            label: "no -X".into(),
            x: Vec::new(),
            complete: false,
            why: "no -X".into(),
            env: Vec::new(),
        });
        let dropped = "-ldflags: not recorded (Go drops them with -trimpath), so".to_string();
        for draft in x_drafts {
            if draft.complete {
                drafts.push(Draft {
                    label: draft.label,
                    ldflags: draft.x.join(" "),
                    why: vec![format!("{dropped} {}", draft.why)],
                    env: draft.env,
                    binary_only: Vec::new(),
                });
                continue;
            }
            for (strip_text, strip_why) in &variants {
                let mut words: Vec<&str> = Vec::new();
                if !strip_text.is_empty() {
                    words.push(strip_text);
                }
                words.extend(draft.x.iter().map(String::as_str));
                let label = if strip_text.is_empty() {
                    draft.label.clone()
                } else {
                    format!("{}, {strip_text}", draft.label)
                };
                drafts.push(Draft {
                    label,
                    ldflags: words.join(" "),
                    why: vec![format!("{dropped} {}", draft.why), strip_why.clone()],
                    env: draft.env.clone(),
                    binary_only: Vec::new(),
                });
            }
        }
    }

    let mut bodies: Vec<(String, String, Vec<BinaryOnlyInput>)> = Vec::new();
    for draft in drafts {
        let body = base.body(&draft);
        if !bodies.iter().any(|(_, b, _)| b == &body) {
            bodies.push((draft.label, body, draft.binary_only));
        }
    }
    let total = bodies.len();
    let candidates = bodies
        .into_iter()
        .enumerate()
        .map(|(i, (label, body, binary_only))| Candidate {
            text: format!(
                "{}# Candidate {} of {total}: {}.\n\n{body}",
                base.header,
                i + 1,
                comment(&label)
            ),
            label,
            binary_only,
        })
        .collect();
    Ok(Inference {
        ecosystem: Ecosystem::Go,
        candidates,
        notes,
    })
}

/// The platforms whose binaries record the same inputs of the build
/// itself (the build directory their embedded paths show, `-trimpath`,
/// `-ldflags`), as groups of indices into `evidence.platforms`, each in
/// platform order, the groups in the order of their first platform. One
/// image's platforms are often built by different runners in different
/// directories: each group gets its own candidates. When the binaries
/// cannot be read that far, one group of all ([`infer`] says why).
pub fn input_groups(evidence: &Evidence<'_>) -> Vec<Vec<usize>> {
    let all = || vec![(0..evidence.platforms.len()).collect()];
    let Ok(plats) = platforms(evidence.platforms) else {
        return all();
    };
    let Some(first) = plats.first() else {
        return all();
    };
    let Ok(package) = main_package(first.info) else {
        return all();
    };
    let Some(module_dir) = module_dir(evidence.source.files, &package.module) else {
        return all();
    };
    let package_dir = join(&module_dir, &package.relative);
    /// What a platform's binary records of the build itself.
    #[derive(PartialEq)]
    struct BuildInputs<'a> {
        trimpath: bool,
        workdir: Option<String>,
        ldflags: Option<&'a str>,
    }
    let mut groups: Vec<(BuildInputs<'_>, Vec<usize>)> = Vec::new();
    for (index, plat) in plats.iter().enumerate() {
        let trimpath = plat.setting("-trimpath") == Some("true");
        let key = BuildInputs {
            trimpath,
            workdir: if trimpath {
                None
            } else {
                workdir(evidence, plat, &package_dir, &mut Vec::new())
            },
            ldflags: plat.setting("-ldflags"),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// One platform's binary, with its Go build info.
struct Plat<'a> {
    platform: &'a Platform,
    info: &'a GoBuildInfo,
    binary: &'a [u8],
    strings: BinaryStrings<'a>,
}

impl Plat<'_> {
    fn setting(&self, key: &str) -> Option<&str> {
        self.info
            .settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
    }
}

fn platforms(evidence: &[PlatformEvidence]) -> Result<Vec<Plat<'_>>, InferError> {
    evidence
        .iter()
        .map(|p| {
            Ok(Plat {
                platform: &p.platform,
                info: p.go.as_ref().ok_or(InferError::Unsupported)?,
                binary: &p.binary,
                strings: BinaryStrings::new(&p.binary),
            })
        })
        .collect()
}

/// The main package: its module and its directory below the module root.
struct Package {
    module: String,
    /// `cmd/app`, empty for the module root.
    relative: String,
}

impl Package {
    /// The `go build` argument (`./cmd/app`, `.`).
    fn argument(&self) -> String {
        if self.relative.is_empty() {
            ".".into()
        } else {
            format!("./{}", self.relative)
        }
    }
}

fn main_package(info: &GoBuildInfo) -> Result<Package, InferError> {
    let path = info.path.as_deref().unwrap_or_default();
    if path == "command-line-arguments" {
        return Err(InferError::Invalid(
            "the binary was built from .go files named on the command line (go build main.go records the package as command-line-arguments), so which package to build is unknown: write a recipe (see recipes/README.md)".into(),
        ));
    }
    let module = info
        .main
        .as_ref()
        .map(|m| m.path.as_str())
        .filter(|m| !m.is_empty())
        .ok_or_else(|| {
            InferError::Invalid(format!(
                "the binary records no main module (package {path:?}): it was not built in module mode, which inference needs; write a recipe (see recipes/README.md)"
            ))
        })?;
    let relative = if path == module {
        String::new()
    } else {
        path.strip_prefix(module)
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_string)
            .ok_or_else(|| {
                InferError::Invalid(format!(
                    "the binary's package {path} is not in its main module {module}: write a recipe (see recipes/README.md)"
                ))
            })?
    };
    if relative.split('/').any(|p| p == ".." || p == ".") {
        return Err(InferError::Invalid(format!(
            "the binary's package path {path} is not a plain import path"
        )));
    }
    Ok(Package {
        module: module.to_string(),
        relative,
    })
}

/// The directory of the tree whose `go.mod` declares `module` (the
/// shallowest), `""` for the root.
fn module_dir(files: &dyn SourceFiles, module: &str) -> Option<String> {
    files
        .paths()
        .into_iter()
        .filter(|p| (p == "go.mod" || p.ends_with("/go.mod")) && xvars::go_visible(p))
        .filter(|p| {
            files
                .read(p)
                .and_then(|b| xvars::module_path(&b))
                .as_deref()
                == Some(module)
        })
        .map(|p| {
            p.strip_suffix("go.mod")
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string()
        })
        .min_by_key(|d| (d.matches('/').count(), d.len()))
}

fn join(dir: &str, rest: &str) -> String {
    match (dir.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (false, true) => dir.to_string(),
        (false, false) => format!("{dir}/{rest}"),
    }
}

/// What the values of `-X` and goreleaser templates are made of.
struct Facts {
    /// The tag (`v1.2.0`).
    tag: String,
    /// Recipe text for the tag (`{version}` or the tag).
    tag_text: String,
    /// Recipe text for the tag without `v` (`{version_bare}` or literal).
    bare_text: String,
    commit: String,
    /// `{vcs_revision}` when every binary records the tag's commit, else the commit.
    commit_text: String,
    short_commit: String,
    commit_date: String,
    commit_timestamp: String,
    /// `{input:build_date}` when every binary holds exactly one date other
    /// than the commit's, else `None`.
    build_date: Option<String>,
}

impl Facts {
    fn new(evidence: &Evidence<'_>, plats: &[Plat<'_>], notes: &mut Vec<String>) -> Self {
        let tag = evidence.source.git_ref;
        let tag_bare = tag.strip_prefix('v').unwrap_or(tag);
        let (tag_text, bare_text) = if tag == evidence.version {
            ("{version}".to_string(), "{version_bare}".to_string())
        } else {
            (tag.to_string(), tag_bare.to_string())
        };
        let commit = evidence.source.commit.to_ascii_lowercase();
        let recorded_everywhere = plats.iter().all(|p| {
            p.setting("vcs.revision")
                .is_some_and(|r| r.eq_ignore_ascii_case(&commit))
        });
        let commit_text = if recorded_everywhere {
            "{vcs_revision}".to_string()
        } else {
            commit.clone()
        };
        let short_len = plats
            .first()
            .and_then(|p| p.strings.commit_forms(&commit).short)
            .unwrap_or(7);
        let commit_date = rfc3339(evidence.source.commit_time);
        let build_date = plats
            .iter()
            .all(|p| {
                p.strings.dates().len() == 1 && p.strings.dates().first() != Some(&commit_date)
            })
            .then(|| format!("{{input:{BUILD_DATE}}}"));
        let commit_timestamp = evidence.source.commit_time.to_string();
        if plats.iter().any(|p| p.strings.dates().len() > 1) {
            notes.push(format!(
                "the binary holds {} distinct dates, so a build date cannot be read from it as one input",
                plats.iter().map(|p| p.strings.dates().len()).max().unwrap_or(0)
            ));
        }
        Self {
            tag: tag.to_string(),
            tag_text,
            bare_text,
            short_commit: commit.get(..short_len).unwrap_or(&commit).to_string(),
            commit,
            commit_text,
            commit_date,
            commit_timestamp,
            build_date,
        }
    }
}

/// Seconds since the epoch as RFC 3339 UTC (`2024-01-02T03:04:05Z`).
fn rfc3339(seconds: i64) -> String {
    let time = u64::try_from(seconds)
        .ok()
        .and_then(|s| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(s)))
        .unwrap_or(std::time::UNIX_EPOCH);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Which of `-s`/`-w` the binaries show.
struct Strip {
    s: bool,
    w: bool,
}

impl Strip {
    fn text(&self) -> &'static str {
        match (self.s, self.w) {
            (true, true) => "-s -w",
            (true, false) => "-s",
            (false, true) => "-w",
            (false, false) => "",
        }
    }

    fn why(&self) -> String {
        let symtab = if self.s {
            "-s: the binary has no symbol table"
        } else {
            "no -s: the binary has a symbol table"
        };
        let dwarf = if self.w {
            "-w: it has no DWARF"
        } else {
            "no -w: it has DWARF"
        };
        format!("{symtab}, {dwarf}")
    }
}

/// `-s`/`-w` from ELF binaries (no `.symtab`: `-s`; no `.debug_*` or
/// `.zdebug_*`: `-w`); `None` when a binary is not ELF or the platforms
/// disagree.
fn strip_flags(plats: &[Plat<'_>], notes: &mut Vec<String>) -> Option<Strip> {
    let mut seen: Option<(bool, bool)> = None;
    for plat in plats {
        let file = object::File::parse(plat.binary).ok()?;
        if !matches!(file.format(), object::BinaryFormat::Elf) {
            return None;
        }
        let names: Vec<&str> = file.sections().filter_map(|s| s.name().ok()).collect();
        let s = !names.contains(&".symtab");
        let w = !names
            .iter()
            .any(|n| n.starts_with(".debug_") || n.starts_with(".zdebug_"));
        if seen.is_some_and(|seen| seen != (s, w)) {
            notes.push(
                "the platforms' binaries differ in symbol table or DWARF: -s -w is tried both ways"
                    .into(),
            );
            return None;
        }
        seen = Some((s, w));
    }
    seen.map(|(s, w)| Strip { s, w })
}

/// The build directory, from the absolute path of one of the main
/// package's files embedded in the binary (Go without `-trimpath`).
fn workdir(
    evidence: &Evidence<'_>,
    plat: &Plat<'_>,
    package_dir: &str,
    notes: &mut Vec<String>,
) -> Option<String> {
    let files: Vec<String> = evidence
        .source
        .files
        .paths()
        .into_iter()
        .filter(|p| {
            p.ends_with(".go")
                && !p.ends_with("_test.go")
                && p.rsplit_once('/').map_or("", |(d, _)| d) == package_dir
        })
        .collect();
    for file in &files {
        let needle = format!("/{file}");
        if let Some(root) = embedded_prefix(plat.binary, needle.as_bytes()) {
            if root == "/src" {
                return None;
            }
            return match check_workdir(&root) {
                Ok(()) if !has_placeholder(&root) => Some(root),
                Ok(()) => {
                    notes.push(format!("the build directory {root} looks like a recipe placeholder, so it was not used"));
                    None
                }
                Err(why) => {
                    notes.push(format!(
                        "the binary was built in {root}, which the rebuild cannot use ({why}): it will differ in its embedded paths"
                    ));
                    None
                }
            };
        }
    }
    notes.push(format!(
        "the binary was built without -trimpath, but none of {}'s files was found among its embedded paths: the build directory is unknown",
        if package_dir.is_empty() { "the root package" } else { package_dir }
    ));
    None
}

/// The absolute path before an embedded `needle` (a path suffix): the
/// file names of Go's line table are NUL-terminated.
fn embedded_prefix(binary: &[u8], needle: &[u8]) -> Option<String> {
    for at in memchr::memmem::find_iter(binary, needle) {
        let end_ok = binary.get(at + needle.len()).is_none_or(|&b| b == 0);
        if !end_ok {
            continue;
        }
        let before = binary.get(..at)?;
        let start = before
            .iter()
            .rposition(|&b| !(0x21..0x7f).contains(&b))
            .map_or(0, |i| i + 1);
        let prefix = std::str::from_utf8(before.get(start..)?).ok()?;
        if prefix.starts_with('/') || prefix.is_empty() {
            return Some(if prefix.is_empty() {
                "/".into()
            } else {
                prefix.to_string()
            });
        }
    }
    None
}

/// Notes on paths a non-trimpath binary embeds that the rebuild sets
/// differently: GOROOT and the module cache.
fn embedded_paths_notes(plat: &Plat<'_>, vendored: bool, notes: &mut Vec<String>) {
    if let Some(goroot) = embedded_prefix(plat.binary, b"/src/runtime/proc.go") {
        notes.push(format!(
            "the binary embeds its GOROOT, {goroot}: the builder's Go must sit at the same path"
        ));
    }
    if vendored {
        return;
    }
    let dep = plat.info.deps.iter().find(|d| d.replace.is_none());
    if let Some(dep) = dep {
        let needle = format!("/{}@{}/", escape_module(&dep.path), dep.version);
        if let Some(at) = memchr::memmem::find(plat.binary, needle.as_bytes()) {
            let before = plat.binary.get(..at).unwrap_or_default();
            let start = before
                .iter()
                .rposition(|&b| !(0x21..0x7f).contains(&b))
                .map_or(0, |i| i + 1);
            let cache =
                String::from_utf8_lossy(before.get(start..).unwrap_or_default()).into_owned();
            if cache != "/cache/gomod" {
                notes.push(format!(
                    "the binary embeds its module cache, {cache}, while the rebuild's is /cache/gomod: its dependencies' paths will differ"
                ));
            }
        }
    }
}

/// A module path as the module cache spells it (`Foo` is `!foo`).
fn escape_module(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            out.push('!');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The `-X` part of a candidate's `-ldflags`, before `-s`/`-w`.
struct XDraft {
    label: String,
    /// `-ldflags` words (`-X main.version=...`).
    x: Vec<String>,
    /// Whether `x` is the whole `-ldflags` (goreleaser's, which say
    /// `-s -w` themselves), not to be combined with `-s`/`-w`.
    complete: bool,
    why: String,
    /// Extra environment (goreleaser's `env`).
    env: Vec<(String, String)>,
}

/// What one candidate sets on top of the shared recipe.
struct Draft {
    label: String,
    ldflags: String,
    /// Comment lines saying where the `-ldflags` come from.
    why: Vec<String>,
    env: Vec<(String, String)>,
    /// The `-X` values it takes from the binary that are not release metadata.
    binary_only: Vec<BinaryOnlyInput>,
}

/// The `-X` flags of recorded `-ldflags` whose values are not release
/// metadata of the tag ([`metadata::classify`]).
fn binary_only_inputs(ldflags: &str, evidence: &Evidence<'_>) -> Vec<BinaryOnlyInput> {
    let release = Release {
        tag: evidence.source.git_ref,
        commit: evidence.source.commit,
    };
    metadata::x_flags(ldflags)
        .into_iter()
        .filter(|flag| metadata::classify(&flag.value, &release).is_none())
        .map(|flag| BinaryOnlyInput {
            input: if flag.symbol.is_empty() {
                "-X".to_string()
            } else {
                format!("-X {}", flag.symbol)
            },
            value: flag.value,
        })
        .collect()
}

fn count_x(ldflags: &str) -> usize {
    ldflags
        .split_whitespace()
        .filter(|w| *w == "-X" || w.starts_with("-X="))
        .count()
}

fn goreleaser_drafts(
    evidence: &Evidence<'_>,
    plats: &[Plat<'_>],
    facts: &Facts,
    package_dir: &str,
    notes: &mut Vec<String>,
) -> Vec<XDraft> {
    let config = match goreleaser::read(evidence.source.files) {
        Ok(Some(config)) => config,
        Ok(None) => return Vec::new(),
        Err(why) => {
            notes.push(why);
            return Vec::new();
        }
    };
    let project = config.project_name.clone().unwrap_or_else(|| {
        let tail = evidence
            .source
            .url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        tail.strip_suffix(".git").unwrap_or(tail).to_string()
    });
    let binary_name = evidence.binary_path.rsplit('/').next().unwrap_or_default();
    let date = facts
        .build_date
        .clone()
        .unwrap_or_else(|| facts.commit_date.clone());
    // `{{ .Timestamp }}`: searched for only when a build uses it.
    let uses_timestamp = config.builds.iter().any(|b| {
        std::iter::once(b.ldflags_or_default())
            .chain(b.env.iter().map(String::as_str))
            .any(|t| t.contains(".Timestamp"))
    });
    let build_timestamp = (uses_timestamp
        && plats.iter().all(|p| {
            p.strings.timestamps().len() == 1
                && p.strings.timestamps().first() != Some(&facts.commit_timestamp)
        }))
    .then(|| format!("{{input:{BUILD_TIMESTAMP}}}"));
    let timestamp = build_timestamp
        .clone()
        .unwrap_or_else(|| facts.commit_timestamp.clone());
    let mut values: BTreeMap<String, String> = [
        ("Version", facts.bare_text.as_str()),
        ("Tag", &facts.tag_text),
        ("Commit", &facts.commit_text),
        ("FullCommit", &facts.commit_text),
        ("ShortCommit", &facts.short_commit),
        ("CommitDate", &facts.commit_date),
        ("CommitTimestamp", &facts.commit_timestamp),
        ("Date", &date),
        ("Timestamp", &timestamp),
        ("ProjectName", &project),
        ("Os", "{os}"),
        ("Arch", "{arch}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for entry in &config.env {
        if let Some((key, value)) = entry.split_once('=') {
            if !has_placeholder(value) {
                values.insert(format!("Env.{key}"), value.to_string());
            }
        }
    }
    let arches: BTreeSet<&str> = plats
        .iter()
        .map(|p| p.platform.architecture.as_str())
        .collect();
    let (first_os, first_arch) = plats.first().map_or(("", ""), |p| {
        (p.platform.os.as_str(), p.platform.architecture.as_str())
    });
    let mut matching: Vec<(bool, XDraft)> = Vec::new();
    for build in &config.builds {
        if build.package_dir().as_deref() != Some(package_dir) {
            continue;
        }
        if !build.goarch.is_empty() && !arches.iter().any(|a| build.goarch.iter().any(|g| g == a)) {
            continue;
        }
        let name = format!("{} {}", config.path, build.name());
        let ldflags = build.ldflags_or_default();
        if let Some(raw) = std::iter::once(ldflags)
            .chain(build.env.iter().map(String::as_str))
            .find(|t| has_placeholder(&without_templates(t)))
        {
            notes.push(format!(
                "{name} left out: {raw:?} holds text a recipe would read as a placeholder"
            ));
            continue;
        }
        let mut build_values = values.clone();
        let mut env = Vec::new();
        let mut failed = None;
        for entry in &build.env {
            let Some((key, value)) = entry.split_once('=') else {
                continue;
            };
            match goreleaser::fill(value, &build_values) {
                Ok(filled) => {
                    build_values.insert(format!("Env.{key}"), filled.text.clone());
                    if env_name_ok(key)
                        && !OWN_ENV.contains(&key)
                        && !platform_settings().any(|setting| setting == key)
                    {
                        env.push((key.to_string(), filled.text));
                    }
                }
                Err(why) => failed = Some(why),
            }
        }
        let filled = match (failed, goreleaser::fill(ldflags, &build_values)) {
            (None, Ok(filled)) => filled,
            (Some(why), _) | (None, Err(why)) => {
                notes.push(format!("{name} left out: {why}"));
                continue;
            }
        };
        for unset in &filled.unset_env {
            notes.push(format!(
                "{name}: {{{{ .{unset} }}}} has no value at the tag, so it was left empty"
            ));
        }
        if filled.used.iter().any(|u| u == "Date") && facts.build_date.is_none() {
            notes.push(format!(
                "{name}: no single build date in the binary, so {{{{ .Date }}}} is the commit date"
            ));
        }
        if filled.used.iter().any(|u| u == "Timestamp") && build_timestamp.is_none() {
            notes.push(format!(
                "{name}: no single build timestamp in the binary, so {{{{ .Timestamp }}}} is the commit's"
            ));
        }
        let binary = match build.binary.as_deref() {
            None => Some(project.clone()),
            Some(b) => goreleaser::fill(b, &build_values).ok().map(|f| f.text),
        };
        let binary_matches = binary.is_some_and(|b| {
            let b = b.replace("{os}", first_os).replace("{arch}", first_arch);
            b.rsplit('/').next() == Some(binary_name)
        });
        let default = build.ldflags.is_none();
        matching.push((
            binary_matches,
            XDraft {
                label: format!(
                    "goreleaser {}{} ({} -X)",
                    build.name(),
                    if default { " default ldflags" } else { "" },
                    count_x(&filled.text)
                ),
                x: vec![filled.text],
                complete: true,
                why: format!(
                    "the ldflags of {name}{}",
                    if default {
                        " (goreleaser's default: it gives none)"
                    } else {
                        ""
                    }
                ),
                env,
            },
        ));
    }
    matching.sort_by_key(|(binary_matches, _)| !binary_matches);
    matching.into_iter().map(|(_, d)| d).collect()
}

fn xvar_drafts(
    files: &dyn SourceFiles,
    plats: &[Plat<'_>],
    facts: &Facts,
    notes: &mut Vec<String>,
) -> Vec<XDraft> {
    let targets = xvars::targets(files, notes);
    if targets.is_empty() {
        return Vec::new();
    }
    let strings: Vec<&BinaryStrings<'_>> = plats.iter().map(|p| &p.strings).collect();
    let build_date_text = format!("{{input:{BUILD_DATE}}}");
    let proposals = xvars::propose(
        &targets,
        &strings,
        &xvars::Facts {
            version: &facts.tag,
            version_text: &facts.tag_text,
            bare_text: &facts.bare_text,
            commit: &facts.commit,
            commit_text: &facts.commit_text,
            commit_date: &facts.commit_date,
            build_date_text: &build_date_text,
        },
    );
    let make = |choice: usize, label: &str| {
        let x: Vec<String> = proposals
            .iter()
            .filter_map(|p| {
                let value = p.values.get(choice).or(p.values.first())?;
                Some(format!("-X {}={value}", p.symbol))
            })
            .collect();
        let symbols: Vec<&str> = proposals.iter().map(|p| p.symbol.as_str()).collect();
        XDraft {
            label: format!("{label} ({} -X)", x.len()),
            why: format!(
                "-X for {}: string variables of the source whose values the binary holds",
                symbols.join(", ")
            ),
            x,
            complete: false,
            env: Vec::new(),
        }
    };
    let mut out = Vec::new();
    if !proposals.is_empty() {
        out.push(make(0, "-X from source"));
    }
    if proposals.iter().any(|p| p.values.len() > 1) {
        out.push(make(1, "-X from source, other values"));
    }
    out
}

/// Where the package sits in the tree and how the tree is laid out.
struct Layout<'a> {
    /// The main module's directory in the tree (`""`: the root).
    module_dir: &'a str,
    package: &'a Package,
    /// Whether the module has `vendor/modules.txt`.
    vendored: bool,
    /// Whether modules must be downloaded: not vendored, and the binary
    /// records dependencies.
    downloads: bool,
    /// The build directory, when the binary embeds it.
    workdir: Option<String>,
}

/// The part of the recipe every candidate shares, as TOML pieces.
struct Base {
    /// Comment lines atop every candidate.
    header: String,
    /// `[image]` and `[source]`.
    image_source: String,
    /// `builder` (and `workdir`, `fetch`) lines with their comments.
    build_head: String,
    /// `go build` up to its flags (`go`, `-C`, `DIR`, `build`).
    command_head: Vec<String>,
    /// Flags common to every platform, each with why.
    flags: Vec<(String, String)>,
    /// `-o`, the artifact and the package.
    command_tail: Vec<String>,
    artifact: String,
    /// `[build.env]`: name, value, why.
    env: Vec<(String, String, Option<String>)>,
    /// Per platform (as the recipe keys them), name and value.
    platform_env: Vec<(String, BTreeMap<String, String>)>,
}

impl Base {
    fn new(
        evidence: &Evidence<'_>,
        plats: &[Plat<'_>],
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
        let version_text = |value: &str| {
            if value == evidence.version {
                "{version}".to_string()
            } else if Some(value) == evidence.version.strip_prefix('v') {
                "{version_bare}".to_string()
            } else {
                value.to_string()
            }
        };

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
        let header = format!(
            "# Inferred by rebuild-compare from {} in {}:{}\n# ({}).\n# Every value below comes from the image, its binary or the source at the tag.\n",
            comment(evidence.binary_path),
            comment(evidence.repository),
            comment(evidence.tag),
            comment(&summary.join(", ")),
        );

        let image_source = format!(
            "[image]\nrepository = {}\ntag = {}\nbinary = {}\n\n[source]\ngit = {}\nref = {}\n",
            toml_str(evidence.repository),
            toml_str(&version_text(evidence.tag)),
            toml_str(evidence.binary_path),
            toml_str(evidence.source.url),
            toml_str(&version_text(evidence.source.git_ref)),
        );

        // The toolchain.
        let versions: BTreeSet<&str> = plats.iter().map(|p| p.info.go_version.as_str()).collect();
        let host = evidence.toolchains.host_go;
        let on_host = host.is_some_and(|h| {
            versions.len() == 1
                && versions
                    .iter()
                    .all(|v| v.strip_prefix("go") == h.strip_prefix("go").or(Some(h)))
        });
        let mut build_head = String::new();
        if on_host {
            build_head.push_str(&format!(
                "# the host's Go is {}, the binary's Go\nbuilder = \"host\"\n",
                comment(host.unwrap_or_default())
            ));
        } else {
            build_head.push_str(&format!(
                "# the binary's Go ({}){}: the builder image of that version\nbuilder = {}\n",
                comment(&versions.iter().copied().collect::<Vec<_>>().join(", ")),
                host.map(|h| format!(", not the host's {}", comment(h)))
                    .unwrap_or_default(),
                toml_str(&format!("{}:{{go_version}}", evidence.toolchains.go_image)),
            ));
        }
        if let Some(workdir) = &layout.workdir {
            build_head.push_str(&format!(
                "# the build directory the binary embeds (built without -trimpath)\nworkdir = {}\n",
                toml_str(workdir)
            ));
        }
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
        if layout.downloads {
            let mut fetch = go.clone();
            fetch.extend(["mod".to_string(), "download".to_string()]);
            build_head.push_str(&format!(
                "# no vendor/modules.txt: the modules are downloaded first (with network)\nfetch = {}\n",
                toml_array(&fetch)
            ));
        }
        let mut command_head = go;
        command_head.push("build".into());

        // Flags and environment, shared when every platform agrees.
        let mut flags = Vec::new();
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
        if plats.iter().any(|p| p.setting("CGO_ENABLED") == Some("1")) {
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

        let mut platform_env = Vec::new();
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
            platform_env.push((plat.platform.to_string(), vars));
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
            image_source,
            build_head,
            command_head,
            flags,
            command_tail: vec!["-o".into(), artifact.clone(), layout.package.argument()],
            artifact,
            env,
            platform_env,
        })
    }

    /// The recipe of one candidate, without the header.
    fn body(&self, draft: &Draft) -> String {
        let mut out = self.image_source.clone();
        let all_text = std::iter::once(draft.ldflags.as_str())
            .chain(draft.env.iter().map(|(_, v)| v.as_str()))
            .collect::<Vec<_>>()
            .join(" ");
        for (name, regex, what) in [
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
                out.push_str(&format!(
                    "\n[inputs.{name}]\n# {what}, read from the published binary\nfrom_binary = {}\n",
                    toml_str(regex)
                ));
            }
        }
        out.push_str("\n[build]\n");
        out.push_str(&self.build_head);
        let mut command = self.command_head.clone();
        for (flag, why) in &self.flags {
            out.push_str(&format!("# {}: {}\n", comment(flag), comment(why)));
            command.push(flag.clone());
        }
        for why in &draft.why {
            out.push_str(&format!("# {}\n", comment(why)));
        }
        if !draft.ldflags.is_empty() {
            command.push(format!("-ldflags={}", draft.ldflags));
        }
        command.extend(self.command_tail.iter().cloned());
        out.push_str(&format!(
            "command = {}\nartifact = {}\n\n[build.env]\n",
            toml_array(&command),
            toml_str(&self.artifact)
        ));
        let mut env: Vec<(&str, &str, Option<&str>)> = self
            .env
            .iter()
            .map(|(k, v, why)| (k.as_str(), v.as_str(), why.as_deref()))
            .collect();
        for (key, value) in &draft.env {
            if !env.iter().any(|(k, _, _)| k == key) {
                env.push((key, value, Some("from the goreleaser build's env")));
            }
        }
        env.sort();
        for (key, value, why) in env {
            out.push_str(&format!("{key} = {}", toml_str(value)));
            if let Some(why) = why {
                out.push_str(&format!("  # {}", comment(why)));
            }
            out.push('\n');
        }
        for (platform, vars) in &self.platform_env {
            out.push_str(&format!("\n[build.platforms.{}.env]\n", toml_str(platform)));
            for (key, value) in vars {
                out.push_str(&format!("{key} = {}\n", toml_str(value)));
            }
        }
        out
    }
}

/// Whether a Go version (`go1.19.8`) is older than 1.`minor`.
fn go_older_than(version: &str, minor: u32) -> bool {
    version
        .strip_prefix("go1.")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m < minor)
}

/// Whether `text` holds something a recipe template reads as a
/// placeholder: `{name}` with name of letters, digits, `_`, `:`, `.`, `-`,
/// not right after `$`.
fn has_placeholder(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        b == b'{'
            && (i == 0 || bytes.get(i - 1) != Some(&b'$'))
            && bytes
                .get(i + 1..)
                .and_then(|rest| {
                    let len = rest.iter().position(|c| {
                        !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-'))
                    })?;
                    (len > 0 && rest.get(len) == Some(&b'}')).then_some(())
                })
                .is_some()
    })
}

/// `text` with goreleaser's `{{ ... }}` templates blanked out.
fn without_templates(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(rest.get(..open).unwrap_or_default());
        out.push(' ');
        let after = rest.get(open + 2..).unwrap_or_default();
        rest = after
            .find("}}")
            .map_or("", |close| after.get(close + 2..).unwrap_or_default());
    }
    out.push_str(rest);
    out
}

/// An environment variable name a recipe accepts.
fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Text safe inside a TOML comment (no control characters).
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A TOML string literal.
fn toml_str(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

/// A TOML array of strings.
fn toml_array(items: &[String]) -> String {
    let items: Vec<String> = items.iter().map(|i| toml_str(i)).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::gobuildinfo::parse_modinfo;
    use crate::rebuild::infer::evidence::{SourceEvidence, Toolchains};
    use crate::rebuild::infer::files::MemoryFiles;

    const COMMIT: &str = "3e0ddc0c43cd90ea33d77a68ef093be434f5af7e";
    /// 2024-01-02T03:04:05Z.
    const COMMIT_TIME: i64 = 1_704_164_645;

    const MAIN_GO: &str = "package main\n\nvar (\n\tversion = \"dev\"\n\tcommit  string\n\tdate    = \"unknown\"\n)\n\nfunc main() {}\n";

    fn modinfo(settings: &[&str]) -> String {
        let mut text =
            "path\tgithub.com/acme/app/cmd/app\nmod\tgithub.com/acme/app\t(devel)\t\n".to_string();
        for s in settings {
            text.push_str(&format!("build\t{s}\n"));
        }
        text
    }

    fn platform(spec: &str, settings: &[&str], strings: &str) -> PlatformEvidence {
        let mut go = parse_modinfo(&modinfo(settings));
        go.go_version = "go1.21.13".into();
        PlatformEvidence {
            platform: spec.parse().unwrap(),
            binary: format!("\0\0{strings}\0\0").into_bytes(),
            go: Some(go),
            rust: None,
        }
    }

    fn trimmed(spec: &str, extra: &[&str], strings: &str) -> PlatformEvidence {
        let revision = format!("vcs.revision={COMMIT}");
        let mut settings = vec!["-compiler=gc", "-trimpath=true", "CGO_ENABLED=0"];
        settings.extend_from_slice(extra);
        settings.extend([
            "vcs=git",
            revision.as_str(),
            "vcs.time=2024-01-02T03:04:05Z",
            "vcs.modified=false",
        ]);
        platform(spec, &settings, strings)
    }

    /// `p` with one module dependency recorded, so its build downloads.
    fn with_dependency(mut p: PlatformEvidence) -> PlatformEvidence {
        if let Some(info) = &mut p.go {
            info.deps.push(crate::binary::GoModule {
                path: "golang.org/x/text".into(),
                version: "v0.14.0".into(),
                sum: Some("h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=".into()),
                replace: None,
            });
        }
        p
    }

    fn tree(extra: &[(&'static str, &'static str)]) -> MemoryFiles {
        let mut files = vec![
            ("go.mod", "module github.com/acme/app\n\ngo 1.19\n"),
            ("cmd/app/main.go", MAIN_GO),
        ];
        files.extend_from_slice(extra);
        MemoryFiles::new(files)
    }

    fn infer_with(
        platforms: &[PlatformEvidence],
        files: &MemoryFiles,
        host_go: Option<&str>,
    ) -> Result<Inference, InferError> {
        let annotations = BTreeMap::new();
        infer(&Evidence {
            repository: "docker.io/acme/app",
            tag: "v1.2.0",
            version: "v1.2.0",
            binary_path: "/usr/local/bin/app",
            annotations: &annotations,
            platforms,
            source: SourceEvidence {
                url: "https://github.com/acme/app",
                git_ref: "v1.2.0",
                commit: COMMIT,
                commit_time: COMMIT_TIME,
                files,
            },
            toolchains: Toolchains {
                host_go,
                go_image: "docker.io/library/golang",
                host_rustc: None,
                rust_image: "docker.io/library/rust",
            },
        })
    }

    fn recipe(candidate: &Candidate) -> toml::Value {
        toml::from_str(&candidate.text).unwrap()
    }

    fn command(candidate: &Candidate) -> Vec<String> {
        recipe(candidate)["build"]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }

    fn labels(inference: &Inference) -> Vec<&str> {
        inference
            .candidates
            .iter()
            .map(|c| c.label.as_str())
            .collect()
    }

    const GORELEASER: &str = "project_name: app\nbuilds:\n  - id: other\n    main: ./cmd/other\n  - id: app\n    main: ./cmd/app\n    binary: app\n    flags: [-trimpath]\n    env: [CGO_ENABLED=0, GOEXTRA=yes]\n";

    #[test]
    fn trimmed_binary_tries_goreleaser_then_source_targets_then_no_x() {
        let p = with_dependency(trimmed(
            "linux/amd64",
            &["GOARCH=amd64", "GOOS=linux", "GOAMD64=v3"],
            &format!("1.2.0\0{COMMIT}\0x2024-01-02T03:09:10Z\0goreleaser\0"),
        ));
        let files = tree(&[
            (".goreleaser.yaml", GORELEASER),
            ("cmd/other/main.go", MAIN_GO),
        ]);
        let inference = infer_with(&[p], &files, Some("go1.19.8")).unwrap();
        assert_eq!(
            labels(&inference),
            vec![
                "goreleaser builds[1] \"app\" default ldflags (4 -X)",
                "-X from source (3 -X), -s -w",
                "-X from source (3 -X)",
                "no -X, -s -w",
                "no -X",
            ]
        );
        let first = &inference.candidates[0];
        assert_eq!(
            command(first),
            vec![
                "go", "build", "-trimpath",
                "-ldflags=-s -w -X main.version={version_bare} -X main.commit={vcs_revision} -X main.date={input:build_date} -X main.builtBy=goreleaser",
                "-o", "/out/app", "./cmd/app",
            ]
        );
        let r = recipe(first);
        assert_eq!(
            r["inputs"]["build_date"]["from_binary"].as_str(),
            Some(DATE_INPUT_REGEX)
        );
        assert_eq!(
            r["build"]["builder"].as_str(),
            Some("docker.io/library/golang:{go_version}")
        );
        assert_eq!(r["build"]["fetch"].as_array().unwrap().len(), 3);
        assert_eq!(r["build"]["env"]["GOEXTRA"].as_str(), Some("yes"));
        assert_eq!(r["build"]["env"]["CGO_ENABLED"].as_str(), Some("0"));
        assert_eq!(r["build"]["env"]["GOTOOLCHAIN"].as_str(), Some("local"));
        assert_eq!(
            r["build"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -modcacherw")
        );
        assert_eq!(
            r["build"]["env"]["GOMODCACHE"].as_str(),
            Some("/cache/gomod")
        );
        let amd64 = &r["build"]["platforms"]["linux/amd64"]["env"];
        assert_eq!(amd64["GOAMD64"].as_str(), Some("v3"));
        assert_eq!(amd64["GOOS"].as_str(), Some("linux"));
        assert_eq!(r["image"]["tag"].as_str(), Some("{version}"));
        assert_eq!(r["source"]["ref"].as_str(), Some("{version}"));
        assert!(first.text.starts_with(
            "# Inferred by rebuild-compare from /usr/local/bin/app in docker.io/acme/app:v1.2.0\n# (go1.21.13, -trimpath=true, CGO_ENABLED=0, GOAMD64=v3, vcs.revision=3e0ddc0c43cd, vcs.modified=false).\n"
        ), "{}", first.text);
        assert!(first.text.contains(
            "# Candidate 1 of 5: goreleaser builds[1] \"app\" default ldflags (4 -X).\n"
        ));
        let source = command(&inference.candidates[1]);
        assert_eq!(
            source[3],
            "-ldflags=-s -w -X main.version={version_bare} -X main.commit={vcs_revision} -X main.date={input:build_date}"
        );
        assert!(!inference.candidates[3].text.contains("[inputs"));
    }

    #[test]
    fn goreleaser_build_timestamps_and_env_templates_are_inputs_and_values() {
        let p = trimmed(
            "linux/amd64",
            &["GOARCH=amd64", "GOOS=linux"],
            "x1714979289y",
        );
        let config = "env: [FLAVOUR=full]\nbuilds:\n  - main: ./cmd/app\n    ldflags: -X main.ts={{ .Timestamp }} -X main.f={{.Env.FLAVOUR}} -X main.u={{.Env.UNSET}} -X main.s={{.ShortCommit}}\n";
        let files = tree(&[(".goreleaser.yml", config)]);
        let inference = infer_with(&[p], &files, None).unwrap();
        let first = &inference.candidates[0];
        assert_eq!(first.label, "goreleaser builds[0] (4 -X)");
        assert_eq!(
            command(first)[3],
            "-ldflags=-X main.ts={input:build_timestamp} -X main.f=full -X main.u= -X main.s=3e0ddc0"
        );
        assert_eq!(
            recipe(first)["inputs"]["build_timestamp"]["from_binary"].as_str(),
            Some(TIMESTAMP_INPUT_REGEX)
        );
        assert!(inference.notes.contains(
            &".goreleaser.yml builds[0]: {{ .Env.UNSET }} has no value at the tag, so it was left empty".to_string()
        ), "{:?}", inference.notes);
    }

    #[test]
    fn recorded_ldflags_without_trimpath_give_one_candidate_in_the_build_directory() {
        let p = platform(
            "linux/amd64",
            &[
                "-compiler=gc",
                "-ldflags=\"-X main.version=v1.2.0\"",
                "CGO_ENABLED=1",
                "CGO_CFLAGS=-O2 -g",
                "GOARCH=amd64",
                "GOOS=linux",
                "GOAMD64=v1",
            ],
            "/usr/local/go/src/runtime/proc.go\0/home/runner/work/app/app/cmd/app/main.go\0",
        );
        let inference = infer_with(&[p], &tree(&[]), Some("go1.21.13")).unwrap();
        assert_eq!(labels(&inference), vec!["recorded -ldflags"]);
        let c = &inference.candidates[0];
        let r = recipe(c);
        assert_eq!(r["build"]["builder"].as_str(), Some("host"));
        assert_eq!(
            r["build"]["workdir"].as_str(),
            Some("/home/runner/work/app/app")
        );
        assert_eq!(r["build"]["env"]["CGO_CFLAGS"].as_str(), Some("-O2 -g"));
        assert_eq!(
            r["build"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=false -modcacherw")
        );
        assert_eq!(
            command(c),
            vec![
                "go",
                "build",
                "-ldflags=-X main.version=v1.2.0",
                "-o",
                "/out/app",
                "./cmd/app"
            ]
        );
        assert!(inference.notes.iter().any(|n| n == "the binary embeds its GOROOT, /usr/local/go: the builder's Go must sit at the same path"), "{:?}", inference.notes);
        assert!(inference
            .notes
            .iter()
            .any(|n| n.starts_with("built with cgo")));
    }

    /// A linux/amd64 binary built without `-trimpath` in `dir` with `-ldflags`.
    fn untrimmed(spec: &str, dir: &str, ldflags: &str) -> PlatformEvidence {
        let (os, arch) = spec.split_once('/').unwrap();
        let (goos, goarch) = (format!("GOOS={os}"), format!("GOARCH={arch}"));
        let recorded = format!("-ldflags=\"{ldflags}\"");
        platform(
            spec,
            &["-compiler=gc", &recorded, "CGO_ENABLED=0", &goarch, &goos],
            &format!("{dir}/cmd/app/main.go\0"),
        )
    }

    #[test]
    fn recorded_x_values_that_are_not_release_metadata_are_binary_only_inputs() {
        let p = untrimmed(
            "linux/amd64",
            "/home/runner/work/app/app",
            "-s -w -X main.version=https://evil.example/x -X main.commit=3e0ddc0 -X main.date=2024-01-02T03:09:10Z -X main.builtBy=goreleaser",
        );
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        assert_eq!(labels(&inference), vec!["recorded -ldflags"]);
        let c = &inference.candidates[0];
        assert_eq!(
            c.binary_only,
            vec![BinaryOnlyInput {
                input: "-X main.version".into(),
                value: "https://evil.example/x".into(),
            }]
        );
        assert!(
            c.text.contains("# -X main.version=https://evil.example/x: not release metadata, only the binary supplies it"),
            "{}",
            c.text
        );
    }

    #[test]
    fn recorded_x_values_of_the_tag_and_commit_are_release_metadata() {
        let p = untrimmed(
            "linux/amd64",
            "/home/runner/work/app/app",
            "-X main.version=v1.2.0 -X main.commit=3e0ddc0 -X main.state=clean",
        );
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        assert_eq!(inference.candidates[0].binary_only, vec![]);
    }

    #[test]
    fn platforms_built_in_other_directories_or_with_other_ldflags_get_groups_of_their_own() {
        let platforms = [
            untrimmed(
                "linux/amd64",
                "/home/runner/work/app/app",
                "-X main.version=v1.2.0",
            ),
            untrimmed("linux/arm64", "/builds/acme/app", "-X main.version=v1.2.0"),
            untrimmed(
                "linux/s390x",
                "/home/runner/work/app/app",
                "-X main.version=v1.2.0",
            ),
            untrimmed(
                "linux/ppc64le",
                "/home/runner/work/app/app",
                "-X main.version=1.2.0",
            ),
        ];
        let files = tree(&[]);
        let annotations = BTreeMap::new();
        let evidence = Evidence {
            repository: "docker.io/acme/app",
            tag: "v1.2.0",
            version: "v1.2.0",
            binary_path: "/usr/local/bin/app",
            annotations: &annotations,
            platforms: &platforms,
            source: SourceEvidence {
                url: "https://github.com/acme/app",
                git_ref: "v1.2.0",
                commit: COMMIT,
                commit_time: COMMIT_TIME,
                files: &files,
            },
            toolchains: Toolchains {
                host_go: None,
                go_image: "docker.io/library/golang",
                host_rustc: None,
                rust_image: "docker.io/library/rust",
            },
        };
        assert_eq!(input_groups(&evidence), vec![vec![0, 2], vec![1], vec![3]]);
        let arm64 = infer_with(&platforms[1..2], &files, None).unwrap();
        assert_eq!(
            recipe(&arm64.candidates[0])["build"]["workdir"].as_str(),
            Some("/builds/acme/app")
        );
    }

    #[test]
    fn a_build_directory_the_sandbox_reserves_is_noted_not_used() {
        let p = platform(
            "linux/amd64",
            &["GOARCH=amd64", "GOOS=linux"],
            "/tmp/b/cmd/app/main.go\0",
        );
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        assert_eq!(labels(&inference), vec!["no -ldflags"]);
        assert!(recipe(&inference.candidates[0])["build"]
            .get("workdir")
            .is_none());
        assert!(
            inference
                .notes
                .iter()
                .any(|n| n
                    .starts_with("the binary was built in /tmp/b, which the rebuild cannot use")),
            "{:?}",
            inference.notes
        );
    }

    #[test]
    fn vendored_modules_build_offline() {
        let p = trimmed("linux/amd64", &["GOARCH=amd64", "GOOS=linux"], "");
        let files = tree(&[("vendor/modules.txt", "# x.io/y v1.0.0\n")]);
        let inference = infer_with(&[p], &files, None).unwrap();
        let r = recipe(&inference.candidates[0]);
        assert!(r["build"].get("fetch").is_none());
        assert_eq!(r["build"]["env"]["GOPROXY"].as_str(), Some("off"));
        assert!(r["build"]["env"].get("GOMODCACHE").is_none());
        assert_eq!(
            r["build"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -mod=vendor")
        );
    }

    #[test]
    fn platform_differences_go_into_each_platforms_env() {
        let amd64 = trimmed(
            "linux/amd64",
            &["-tags=netgo", "GOARCH=amd64", "GOOS=linux", "GOAMD64=v3"],
            "",
        );
        let arm = trimmed(
            "linux/arm/v7",
            &["-tags=netgo,arm", "GOARCH=arm", "GOOS=linux", "GOARM=7"],
            "",
        );
        let inference = infer_with(&[amd64, arm], &tree(&[]), None).unwrap();
        let c = &inference.candidates[0];
        assert!(!command(c).iter().any(|a| a.starts_with("-tags")));
        let r = recipe(c);
        let platforms = &r["build"]["platforms"];
        assert_eq!(
            platforms["linux/amd64"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -modcacherw -tags=netgo")
        );
        assert_eq!(
            platforms["linux/arm/v7"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -modcacherw -tags=netgo,arm")
        );
        assert_eq!(
            platforms["linux/arm/v7"]["env"]["GOARM"].as_str(),
            Some("7")
        );
        assert_eq!(
            platforms["linux/arm/v7"]["env"]["GOARCH"].as_str(),
            Some("arm")
        );
    }

    #[test]
    fn a_binary_without_dependencies_builds_offline_without_a_fetch_step() {
        let p = trimmed("linux/amd64", &["GOARCH=amd64", "GOOS=linux"], "");
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        for c in &inference.candidates {
            let r = recipe(c);
            assert!(r["build"].get("fetch").is_none(), "{}", c.text);
            assert_eq!(r["build"]["env"]["GOPROXY"].as_str(), Some("off"));
            assert!(r["build"]["env"].get("GOMODCACHE").is_none());
        }
    }

    #[test]
    fn a_module_below_the_root_builds_with_go_dash_c() {
        let p = with_dependency(trimmed("linux/amd64", &["GOARCH=amd64", "GOOS=linux"], ""));
        let files = MemoryFiles::new([
            ("go.mod", "module github.com/acme/tools\n"),
            ("app/go.mod", "module github.com/acme/app\n"),
            ("app/cmd/app/main.go", MAIN_GO),
        ]);
        let inference = infer_with(&[p], &files, None).unwrap();
        let c = &inference.candidates[0];
        assert_eq!(&command(c)[..4], ["go", "-C", "app", "build"]);
        assert_eq!(recipe(c)["build"]["fetch"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn packages_that_cannot_be_built_are_refused_with_the_reason() {
        let mut p = trimmed("linux/amd64", &[], "");
        p.go.as_mut().unwrap().path = Some("command-line-arguments".into());
        let err = infer_with(&[p], &tree(&[]), None).unwrap_err();
        assert!(err.to_string().contains("command-line-arguments"), "{err}");

        let p = trimmed("linux/amd64", &[], "");
        let files = MemoryFiles::new([("go.mod", "module github.com/acme/other\n")]);
        let err = infer_with(&[p], &files, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the source at v1.2.0 has no go.mod for module github.com/acme/app, the binary's main module: check that https://github.com/acme/app is its repository, or pass --source URL"
        );
    }

    #[test]
    fn placeholder_like_text_from_the_binary_is_refused() {
        let p = platform("linux/amd64", &["-ldflags=\"-X main.v={version}\""], "");
        assert!(infer_with(&[p], &tree(&[]), None).is_err());
        assert!(has_placeholder("a{input:x}b"));
        assert!(has_placeholder("{go_setting:-tags}"));
        assert!(!has_placeholder("${HOME} { a; } {}"));
    }

    #[test]
    fn every_candidate_parses_as_a_recipe() {
        let strings = format!("v1.2.0\0{COMMIT}\0x2024-01-02T03:09:10Z\0x1714979289y\0");
        let timestamp = "builds:\n  - main: ./cmd/app\n    ldflags: -X main.ts={{ .Timestamp }} -X main.os={{.Os}}\n";
        let cases: Vec<(Vec<PlatformEvidence>, MemoryFiles)> = vec![
            (
                vec![trimmed(
                    "linux/amd64",
                    &["GOARCH=amd64", "GOOS=linux", "GOAMD64=v3"],
                    &strings,
                )],
                tree(&[(".goreleaser.yaml", GORELEASER)]),
            ),
            (
                vec![trimmed(
                    "linux/amd64",
                    &["GOARCH=amd64", "GOOS=linux"],
                    &strings,
                )],
                tree(&[(".goreleaser.yaml", timestamp), ("vendor/modules.txt", "")]),
            ),
            (
                vec![
                    trimmed(
                        "linux/amd64",
                        &["-tags=netgo", "GOARCH=amd64", "GOOS=linux"],
                        &strings,
                    ),
                    trimmed(
                        "linux/arm/v7",
                        &["-tags=netgo,arm", "GOARCH=arm", "GOOS=linux", "GOARM=7"],
                        &strings,
                    ),
                ],
                tree(&[]),
            ),
            (
                vec![platform(
                    "linux/arm64",
                    &[
                        "-ldflags=\"-s -w -X main.version=v1.2.0\"",
                        "GOARCH=arm64",
                        "GOOS=linux",
                    ],
                    "/home/runner/work/app/app/cmd/app/main.go\0",
                )],
                tree(&[]),
            ),
        ];
        let mut parsed = 0;
        for (platforms, files) in &cases {
            let inference = infer_with(platforms, files, Some("go1.21.13")).unwrap();
            let texts: BTreeSet<&str> = inference
                .candidates
                .iter()
                .map(|c| c.text.as_str())
                .collect();
            assert_eq!(texts.len(), inference.candidates.len());
            for c in &inference.candidates {
                let recipe = crate::rebuild::recipe::Recipe::parse("inferred", &c.text)
                    .unwrap_or_else(|e| panic!("{e}\n{}", c.text));
                assert_eq!(recipe.platforms().count(), platforms.len());
                parsed += 1;
            }
        }
        assert_eq!(parsed, 15);
    }

    /// Whether the host has a `go` to build real binaries with.
    /// Fails the test when `go` is not installed: it never passes by skipping.
    fn require_go() {
        let found = std::process::Command::new("go")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "go is not installed: run scripts/install-test-deps.sh"
        );
    }

    /// A git repository holding a tiny module at `dir/app`, tagged v1.2.0.
    /// Infers from a real binary built from [`go_repo`] at `commit`.
    fn infer_real(
        binary: &std::path::Path,
        info: GoBuildInfo,
        commit: &str,
        commit_time: i64,
        files: &MemoryFiles,
        host_go: Option<&str>,
    ) -> Inference {
        let platforms = [PlatformEvidence {
            platform: Platform::host(),
            binary: std::fs::read(binary).unwrap(),
            go: Some(info),
            rust: None,
        }];
        let annotations = BTreeMap::new();
        infer(&Evidence {
            repository: "docker.io/acme/app",
            tag: "v1.2.0",
            version: "v1.2.0",
            binary_path: "/app",
            annotations: &annotations,
            platforms: &platforms,
            source: SourceEvidence {
                url: "https://github.com/acme/app",
                git_ref: "v1.2.0",
                commit,
                commit_time,
                files,
            },
            toolchains: Toolchains {
                host_go,
                go_image: "docker.io/library/golang",
                host_rustc: None,
                rust_image: "docker.io/library/rust",
            },
        })
        .unwrap()
    }

    fn go_repo(dir: &std::path::Path) -> (std::path::PathBuf, String, i64, MemoryFiles) {
        let repo_dir = dir.join("app");
        let files = [
            ("go.mod", "module github.com/acme/app\n\ngo 1.19\n"),
            ("cmd/app/main.go", "package main\n\nimport \"fmt\"\n\nvar (\n\tversion = \"dev\"\n\tcommit  string\n\tdate    = \"unknown\"\n)\n\nfunc main() { fmt.Println(version, commit, date) }\n"),
        ];
        for (path, text) in files {
            let path = repo_dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let repo = git2::Repository::init(&repo_dir).unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig =
            git2::Signature::new("t", "t@example.com", &git2::Time::new(COMMIT_TIME, 0)).unwrap();
        let oid = repo
            .commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
        repo.tag_lightweight("v1.2.0", &repo.find_object(oid, None).unwrap(), false)
            .unwrap();
        (
            repo_dir,
            oid.to_string(),
            COMMIT_TIME,
            MemoryFiles::new(files),
        )
    }

    /// `go build ARGS` in `dir` with a private cache, as the upstream and
    /// the rebuild of these tests do.
    fn go(
        dir: &std::path::Path,
        cache: &std::path::Path,
        env: &[(String, String)],
        args: &[String],
    ) {
        let status = std::process::Command::new("go")
            .args(args)
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("GOCACHE", cache.join("cache"))
            .env("GOPATH", cache.join("gopath"))
            .env("GOMODCACHE", cache.join("gomod"))
            .env("GOPROXY", "off")
            .status()
            .unwrap();
        assert!(status.success(), "go {args:?}");
    }

    fn go_info(binary: &std::path::Path) -> GoBuildInfo {
        let out = std::process::Command::new("go")
            .args(["version", "-m"])
            .arg(binary)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let version = lines
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string();
        let rest: Vec<&str> = lines.map(|l| l.trim_start_matches('\t')).collect();
        let mut info = parse_modinfo(&rest.join("\n"));
        info.go_version = version;
        info
    }

    #[test]
    fn a_real_trimmed_go_build_is_reproduced_by_the_first_candidate() {
        require_go();
        let dir = tempfile::TempDir::new().unwrap();
        let (repo, commit, commit_time, files) = go_repo(dir.path());
        let upstream = dir.path().join("upstream");
        let ldflags = format!("-ldflags=-s -w -X main.version=v1.2.0 -X main.commit={commit} -X main.date=2024-05-06T07:08:09Z");
        let env = vec![
            ("CGO_ENABLED".to_string(), "0".to_string()),
            ("GOFLAGS".to_string(), "-buildvcs=true".to_string()),
        ];
        go(
            &repo,
            dir.path(),
            &env,
            &[
                "build".into(),
                "-trimpath".into(),
                ldflags,
                "-o".into(),
                upstream.display().to_string(),
                "./cmd/app".into(),
            ],
        );
        let info = go_info(&upstream);
        let host_go = info.go_version.clone();
        let inference = infer_real(
            &upstream,
            info,
            &commit,
            commit_time,
            &files,
            Some(&host_go),
        );
        assert_eq!(
            labels(&inference),
            vec!["-X from source (3 -X), -s -w", "no -X, -s -w"]
        );
        let first = &inference.candidates[0];
        let r = recipe(first);
        assert_eq!(r["build"]["builder"].as_str(), Some("host"));

        // Render the candidate as the lead's templates will, and build it.
        let rebuilt = dir.path().join("rebuilt");
        let render = |text: &str| {
            text.replace("{version}", "v1.2.0")
                .replace("{vcs_revision}", &commit)
                .replace("{input:build_date}", "2024-05-06T07:08:09Z")
                .replace("/out/app", &rebuilt.display().to_string())
        };
        let argv: Vec<String> = command(first).iter().map(|a| render(a)).collect();
        let mut env: Vec<(String, String)> = Vec::new();
        for table in [
            &r["build"]["env"],
            &r["build"]["platforms"][Platform::host().to_string().as_str()]["env"],
        ] {
            for (k, v) in table.as_table().unwrap() {
                env.push((k.clone(), v.as_str().unwrap().to_string()));
            }
        }
        env.retain(|(k, _)| k != "GOCACHE" && k != "GOMODCACHE");
        assert_eq!(argv[0], "go");
        go(&repo, dir.path(), &env, &argv[1..]);
        assert!(
            std::fs::read(&rebuilt).unwrap() == std::fs::read(&upstream).unwrap(),
            "the first candidate did not reproduce the binary: {argv:?}"
        );
    }

    #[test]
    fn a_real_untrimmed_go_build_names_its_build_directory() {
        require_go();
        // Not under /tmp, which the sandbox reserves (nor under the
        // checkout, which may itself be under /tmp).
        let base = std::path::Path::new("/var/tmp/rebuild-compare-infer-go-tests");
        std::fs::create_dir_all(base).unwrap();
        let dir = tempfile::TempDir::new_in(base).unwrap();
        let (repo, commit, commit_time, files) = go_repo(dir.path());
        let upstream = dir.path().join("upstream");
        let env = vec![("CGO_ENABLED".to_string(), "0".to_string())];
        go(
            &repo,
            dir.path(),
            &env,
            &[
                "build".into(),
                "-ldflags=-X main.version=v1.2.0".into(),
                "-o".into(),
                upstream.display().to_string(),
                "./cmd/app".into(),
            ],
        );
        let inference = infer_real(
            &upstream,
            go_info(&upstream),
            &commit,
            commit_time,
            &files,
            None,
        );
        assert_eq!(labels(&inference), vec!["recorded -ldflags"]);
        let r = recipe(&inference.candidates[0]);
        assert_eq!(r["build"]["workdir"].as_str(), Some(repo.to_str().unwrap()));
        assert_eq!(
            command(&inference.candidates[0]),
            vec![
                "go",
                "build",
                "-ldflags=-X main.version=v1.2.0",
                "-o",
                "/out/app",
                "./cmd/app"
            ]
        );
    }
}
