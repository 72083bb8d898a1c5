//! Adjusted rebuilds: the inputs a published Go binary records that its
//! rebuild from the recipe did not take (the build directory of its
//! embedded source paths, `-trimpath`, `-ldflags` and their `-X` values,
//! build settings such as `GOAMD64`, `-tags` or `CGO_ENABLED`, the
//! toolchain release, a build time), each classified as part of the build
//! environment or of the program, and the recipe that takes them from the
//! published binary through the recipe's own fields (`workdir`, `builder`,
//! a platform's `env`, `command`, `source_date_epoch`).

use std::collections::{BTreeMap, BTreeSet};

use memchr::memmem;
use serde::{Deserialize, Serialize};

use super::infer::go::binscan::BinaryStrings;
use super::plan::parse_epoch;
use super::recipe::schema::check_workdir;
use super::recipe::{Recipe, RecipeError};
use super::sandbox::BuilderRoot;
use crate::binary::GoBuildInfo;
use crate::image::platform::Platform;
use crate::image::reference::Reference;

/// Whether a changed input belongs to the build environment (how the same
/// program was built: the build directory, the toolchain's patch release,
/// a build time, a `GOAMD64`-style level, `-trimpath`) or to the program
/// (an `-X` value, build tags, `CGO_ENABLED`, other flags, another
/// toolchain release): only environment inputs may make a platform pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Environment,
    Program,
}

/// One input as the recipe's rebuild and the published binary have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputChange {
    /// The rebuild's value; `null` when the recipe sets none.
    pub recipe: Option<String>,
    /// The published binary's value; `null` when it records none.
    pub published: Option<String>,
    pub kind: InputKind,
}

/// Build settings that pick a level of the instruction set (`GOAMD64=v3`):
/// the same program, built for other processors.
pub(crate) const LEVEL_SETTINGS: &[&str] = &[
    "GOAMD64",
    "GOARM",
    "GOARM64",
    "GO386",
    "GOMIPS",
    "GOMIPS64",
    "GOPPC64",
    "GORISCV64",
    "GOWASM",
];

/// The `go build` flags an adjusted rebuild may take from the published
/// binary's build settings (`-ldflags` apart): none that runs a program of
/// the binary's choosing (`-toolexec`, `-exec`).
const TAKEN_FLAGS: &[&str] = &[
    "-trimpath",
    "-tags",
    "-buildmode",
    "-race",
    "-msan",
    "-asan",
    "-gcflags",
    "-asmflags",
];

/// The environment variables it may take (the `GOAMD64`-style levels
/// apart): none that names a program or a compiler's flags (`CC`,
/// `CGO_CFLAGS`).
const TAKEN_ENV: &[&str] = &["CGO_ENABLED", "GOEXPERIMENT"];

/// `-ldflags` words that name a program to run (the external linker), never
/// taken from a published binary.
const UNTAKEN_LDFLAGS: &[&str] = &["-extld", "-extldflags", "-tmpdir"];

/// Build settings that no recipe input decides (the platform, the source
/// revision, what the toolchain derives from `go.mod`).
const NOT_INPUTS: &[&str] = &["GOOS", "GOARCH", "DefaultGODEBUG", "-compiler"];

/// Longest embedded file name read.
const MAX_NAME: usize = 4096;
/// Most of the rebuild's source file names looked up in the published binary.
const MAX_FILES: usize = 64;

/// How an adjusted recipe takes an input from the published binary.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Edit {
    /// `build.workdir`; `None`: the default, `/src`.
    Workdir(Option<String>),
    /// `build.builder`.
    Builder(String),
    /// `build.source_date_epoch`.
    SourceDateEpoch(String),
    /// A variable of the platform's `env`.
    Env { name: String, value: String },
    /// A `go build` flag (`-trimpath`, `-tags`, `-ldflags`): where the
    /// command writes it, there; else in `GOFLAGS` (or, for a value with
    /// spaces, added to a `go build` command). `None` removes it.
    GoFlag { flag: String, value: Option<String> },
}

impl Edit {
    fn value(&self) -> Option<&str> {
        match self {
            Self::Workdir(dir) => dir.as_deref(),
            Self::Builder(value) | Self::SourceDateEpoch(value) | Self::Env { value, .. } => {
                Some(value)
            }
            Self::GoFlag { value, .. } => value.as_deref(),
        }
    }
}

/// What is known of the recipe's rebuild of one platform.
pub struct Rebuild<'a> {
    pub binary: &'a [u8],
    pub info: &'a GoBuildInfo,
    /// Where the build ran: the rendered `workdir`, else `/src`.
    pub dir: &'a str,
    pub builder: &'a BuilderRoot,
    /// The `SOURCE_DATE_EPOCH` it had.
    pub source_date_epoch: i64,
    /// Whether it ran in the sandbox (a `workdir` needs it).
    pub sandboxed: bool,
}

/// The inputs in which a published binary differs from its rebuild, with
/// the edits that take them.
#[derive(Debug, Clone, Default)]
pub struct Differences {
    changes: Vec<(String, InputChange)>,
    edits: Vec<(InputKind, Edit)>,
    /// Inputs that differ but cannot be taken, and why.
    pub notes: Vec<String>,
}

/// One adjusted rebuild to try: the inputs it changes and how.
#[derive(Debug, Clone)]
pub struct Adjustment {
    /// By input name (`build_directory`, `-X main.endpoint`, `GOAMD64`).
    pub changes: BTreeMap<String, InputChange>,
    edits: Vec<Edit>,
}

/// Why an adjusted recipe could not be written.
#[derive(Debug, thiserror::Error)]
pub enum AdjustError {
    #[error("the recipe's text does not parse as TOML: {0}")]
    Parse(String),
    #[error("the recipe has no [build.platforms] table for {0}")]
    NoPlatform(Platform),
    #[error("{0}")]
    CannotApply(String),
    #[error("cannot write the adjusted recipe as TOML: {0}")]
    Write(String),
    #[error(transparent)]
    Recipe(#[from] RecipeError),
}

/// Reads the inputs the published Go binary records that differ from its
/// rebuild's.
pub fn differences(
    published: &[u8],
    published_info: &GoBuildInfo,
    rebuild: &Rebuild<'_>,
) -> Differences {
    let mut found = Differences::default();
    let published_settings = settings(published_info);
    let rebuilt_settings = settings(rebuild.info);
    let trimmed = |s: &BTreeMap<&str, &str>| s.get("-trimpath") == Some(&"true");
    let (published_trimmed, rebuilt_trimmed) =
        (trimmed(&published_settings), trimmed(&rebuilt_settings));

    if !published_trimmed {
        let prefix = if rebuilt_trimmed {
            rebuild.info.main.as_ref().map(|m| format!("{}/", m.path))
        } else {
            Some(format!("{}/", rebuild.dir))
        };
        let dir = prefix.and_then(|p| build_directory(published, rebuild.binary, &p));
        if let Some(dir) = dir.filter(|d| d != rebuild.dir) {
            found.build_directory(dir, rebuild);
        }
    }

    let keys: BTreeSet<&str> = published_settings
        .keys()
        .chain(rebuilt_settings.keys())
        .copied()
        .collect();
    for key in keys {
        let (published, rebuilt) = (
            published_settings.get(key).copied(),
            rebuilt_settings.get(key).copied(),
        );
        if published == rebuilt || key.starts_with("vcs") || NOT_INPUTS.contains(&key) {
            continue;
        }
        if key == "-ldflags" {
            // Go leaves them out of the build info of a -trimpath build.
            if !published_trimmed && !rebuilt_trimmed {
                found.ldflags(rebuilt, published);
            }
            continue;
        }
        let change = |kind| InputChange {
            recipe: rebuilt.map(String::from),
            published: published.map(String::from),
            kind,
        };
        if key.starts_with('-') && TAKEN_FLAGS.contains(&key) {
            let kind = if key == "-trimpath" {
                InputKind::Environment
            } else {
                InputKind::Program
            };
            let edit = Edit::GoFlag {
                flag: key.to_string(),
                value: published.map(String::from),
            };
            found.take(vec![(key.to_string(), change(kind))], kind, edit);
        } else if let (Some(value), true) = (
            published,
            TAKEN_ENV.contains(&key) || LEVEL_SETTINGS.contains(&key),
        ) {
            let kind = if LEVEL_SETTINGS.contains(&key) {
                InputKind::Environment
            } else {
                InputKind::Program
            };
            let edit = Edit::Env {
                name: key.to_string(),
                value: value.to_string(),
            };
            found.take(vec![(key.to_string(), change(kind))], kind, edit);
        } else {
            let recorded =
                |value: Option<&str>| value.map_or("nothing".to_string(), |v| format!("{key}={v}"));
            found.notes.push(format!(
                "the published binary records {}, the rebuild {}: an adjusted rebuild does not take {key}",
                recorded(published),
                recorded(rebuilt)
            ));
        }
    }

    if published_info.go_version != rebuild.info.go_version {
        found.toolchain(&published_info.go_version, rebuild);
    }
    found.build_time(published, rebuild);
    found
}

impl Differences {
    /// Whether no input can be taken from the published binary.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// The rebuilds to try, in order: with the environment inputs alone
    /// (when there are any), then with every input (when some belong to
    /// the program).
    pub fn adjustments(&self) -> Vec<Adjustment> {
        let subset = |environment_only: bool| Adjustment {
            changes: self
                .changes
                .iter()
                .filter(|(_, c)| !environment_only || c.kind == InputKind::Environment)
                .cloned()
                .collect(),
            edits: self
                .edits
                .iter()
                .filter(|(kind, _)| !environment_only || *kind == InputKind::Environment)
                .map(|(_, edit)| edit.clone())
                .collect(),
        };
        let has = |kind: InputKind| self.edits.iter().any(|(k, _)| *k == kind);
        let mut tries = Vec::new();
        if has(InputKind::Environment) {
            tries.push(subset(true));
        }
        if has(InputKind::Program) {
            tries.push(subset(false));
        }
        tries
    }

    /// Records `changes`, taken with one `edit`, unless a value is one a
    /// recipe cannot carry.
    fn take(&mut self, changes: Vec<(String, InputChange)>, kind: InputKind, edit: Edit) {
        if let Some(value) = edit.value().filter(|v| !carriable(v)) {
            let names: Vec<&str> = changes.iter().map(|(n, _)| n.as_str()).collect();
            self.notes.push(format!(
                "the published {} is {value:?}, which a recipe cannot carry (placeholder braces or control characters): not adjusted",
                names.join(", ")
            ));
            return;
        }
        self.changes.extend(changes);
        self.edits.push((kind, edit));
    }

    fn build_directory(&mut self, dir: String, rebuild: &Rebuild<'_>) {
        let cannot = |why: String| {
            format!("the published binary was built in {dir}, which the rebuild cannot use ({why})")
        };
        let edit = if dir == super::sandbox::SOURCE_MOUNT {
            Edit::Workdir(None)
        } else if !rebuild.sandboxed {
            self.notes
                .push(cannot("a build directory needs the sandbox".into()));
            return;
        } else if let Err(why) = check_workdir(&dir) {
            self.notes.push(cannot(why));
            return;
        } else {
            Edit::Workdir(Some(dir.clone()))
        };
        let change = InputChange {
            recipe: Some(rebuild.dir.to_string()),
            published: Some(dir),
            kind: InputKind::Environment,
        };
        self.take(
            vec![("build_directory".into(), change)],
            InputKind::Environment,
            edit,
        );
    }

    /// `-ldflags`: each differing `-X` value, or the whole value when
    /// other words differ.
    fn ldflags(&mut self, rebuilt: Option<&str>, published: Option<&str>) {
        let edit = Edit::GoFlag {
            flag: "-ldflags".into(),
            value: published.map(String::from),
        };
        let (Some(rebuilt_words), Some(published_words)) = (
            split_ldflags(rebuilt.unwrap_or_default()),
            split_ldflags(published.unwrap_or_default()),
        ) else {
            self.notes
                .push("the recorded -ldflags do not split into words: not adjusted".into());
            return;
        };
        if published_words.other.iter().any(|w| untaken_ldflag(w)) {
            self.notes.push(format!(
                "the published -ldflags {:?} name an external linker or its flags ({}): not adjusted",
                published.unwrap_or_default(),
                UNTAKEN_LDFLAGS.join(", ")
            ));
            return;
        }
        let changes = if rebuilt_words.other == published_words.other {
            let (ours, theirs) = (&rebuilt_words.assignments, &published_words.assignments);
            let names: BTreeSet<&String> = ours.keys().chain(theirs.keys()).collect();
            names
                .into_iter()
                .filter(|n| ours.get(*n) != theirs.get(*n))
                .map(|name| {
                    let change = InputChange {
                        recipe: ours.get(name).cloned(),
                        published: theirs.get(name).cloned(),
                        kind: InputKind::Program,
                    };
                    (format!("-X {name}"), change)
                })
                .collect()
        } else {
            let change = InputChange {
                recipe: rebuilt.map(String::from),
                published: published.map(String::from),
                kind: InputKind::Program,
            };
            vec![("-ldflags".to_string(), change)]
        };
        self.take(changes, InputKind::Program, edit);
    }

    /// Another Go release: a `golang` builder image of the published one;
    /// a patch release is the environment, another minor release the program.
    fn toolchain(&mut self, published: &str, rebuild: &Rebuild<'_>) {
        let change = InputChange {
            recipe: Some(rebuild.info.go_version.clone()),
            published: Some(published.to_string()),
            kind: if minor_release(published) == minor_release(&rebuild.info.go_version) {
                InputKind::Environment
            } else {
                InputKind::Program
            },
        };
        let version = published.strip_prefix("go").unwrap_or(published);
        let golang = match rebuild.builder {
            BuilderRoot::Image { reference, .. } => Reference::parse(reference)
                .ok()
                .map(|r| r.name())
                .filter(|name| name.ends_with("/golang")),
            BuilderRoot::Host => None,
        };
        let plain = !version.is_empty()
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        match (golang, plain) {
            (Some(name), true) => {
                let kind = change.kind;
                self.take(
                    vec![("toolchain".into(), change)],
                    kind,
                    Edit::Builder(format!("{name}:{version}")),
                );
            }
            _ => self.notes.push(format!(
                "the published binary was built with {published}, the rebuild with {}: only a golang builder image can take another Go release",
                rebuild.info.go_version
            )),
        }
    }

    /// A build time stamped from `SOURCE_DATE_EPOCH`: the rebuild holds
    /// one, its own, where the published binary holds another.
    fn build_time(&mut self, published: &[u8], rebuild: &Rebuild<'_>) {
        let published = BinaryStrings::new(published);
        let rebuilt = BinaryStrings::new(rebuild.binary);
        for (ours, theirs) in [
            (rebuilt.dates(), published.dates()),
            (rebuilt.timestamps(), published.timestamps()),
        ] {
            if let ([ours], [theirs]) = (ours, theirs) {
                if ours != theirs
                    && parse_epoch(ours) == Some(rebuild.source_date_epoch)
                    && parse_epoch(theirs).is_some()
                {
                    let change = InputChange {
                        recipe: Some(ours.clone()),
                        published: Some(theirs.clone()),
                        kind: InputKind::Environment,
                    };
                    self.take(
                        vec![("build_time".into(), change)],
                        InputKind::Environment,
                        Edit::SourceDateEpoch(theirs.clone()),
                    );
                    return;
                }
            }
        }
    }
}

impl Adjustment {
    /// Whether every input it changes belongs to the build environment.
    pub fn environment_only(&self) -> bool {
        self.changes
            .values()
            .all(|c| c.kind == InputKind::Environment)
    }

    /// The recipe for `platform` alone with these inputs taken from the
    /// published binary, parsed (named `origin`) and as TOML text.
    pub fn recipe(
        &self,
        recipe: &Recipe,
        platform: &Platform,
        origin: &str,
    ) -> Result<(Recipe, String), AdjustError> {
        let mut document: toml::Table = recipe
            .text
            .parse()
            .map_err(|e: toml::de::Error| AdjustError::Parse(e.message().to_string()))?;
        let build = document
            .get_mut("build")
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| AdjustError::Parse("no [build] table".into()))?;
        let platforms = build
            .get_mut("platforms")
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| AdjustError::NoPlatform(platform.clone()))?;
        let key = platforms
            .keys()
            .find(|k| k.parse::<Platform>().is_ok_and(|p| &p == platform))
            .cloned()
            .ok_or_else(|| AdjustError::NoPlatform(platform.clone()))?;
        platforms.retain(|k, _| *k == key);
        for edit in &self.edits {
            apply(build, &key, edit)?;
        }
        let text = toml::to_string(&document).map_err(|e| AdjustError::Write(e.to_string()))?;
        let parsed = Recipe::parse(origin, &text)?;
        Ok((parsed, text))
    }
}

/// Writes one edit into the `[build]` table, for the platform `key`.
fn apply(build: &mut toml::Table, key: &str, edit: &Edit) -> Result<(), AdjustError> {
    let text = |s: &str| toml::Value::String(s.to_string());
    match edit {
        Edit::Workdir(Some(dir)) => {
            build.insert("workdir".into(), text(dir));
        }
        Edit::Workdir(None) => {
            build.remove("workdir");
        }
        Edit::Builder(reference) => {
            build.insert("builder".into(), text(reference));
        }
        Edit::SourceDateEpoch(value) => {
            build.insert("source_date_epoch".into(), text(value));
        }
        Edit::Env { name, value } => {
            platform_env(build, key)?.insert(name.clone(), text(value));
        }
        Edit::GoFlag { flag, value } => go_flag(build, key, flag, value.as_deref())?,
    }
    Ok(())
}

/// The `env` table of `[build.platforms.KEY]`, created when missing.
fn platform_env<'t>(
    build: &'t mut toml::Table,
    key: &str,
) -> Result<&'t mut toml::Table, AdjustError> {
    let not_table = || AdjustError::CannotApply(format!("build.platforms.{key:?} is not a table"));
    let platform = build
        .get_mut("platforms")
        .and_then(toml::Value::as_table_mut)
        .and_then(|p| p.get_mut(key))
        .and_then(toml::Value::as_table_mut)
        .ok_or_else(not_table)?;
    platform
        .entry("env")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(not_table)
}

/// Flags that take no separate value word (`-trimpath`, not `-tags X`).
const BOOL_FLAGS: &[&str] = &["-trimpath", "-race", "-msan", "-asan", "-a", "-linkshared"];

/// Sets (or, with `None`, removes) a `go build` flag: where the command
/// writes it, there; else in the platform's `GOFLAGS` (which a word with
/// spaces cannot go in: it is added to a `go build` command instead).
fn go_flag(
    build: &mut toml::Table,
    key: &str,
    flag: &str,
    value: Option<&str>,
) -> Result<(), AdjustError> {
    let setting = value.map(|v| format!("{flag}={v}"));
    let command = build
        .get_mut("command")
        .and_then(toml::Value::as_array_mut)
        .ok_or_else(|| AdjustError::CannotApply("build.command is not a list".into()))?;
    let words: Vec<String> = command
        .iter()
        .map(|w| w.as_str().unwrap_or_default().to_string())
        .collect();
    let written = words
        .iter()
        .position(|w| w == flag || w.starts_with(&format!("{flag}=")));
    if let Some(at) = written {
        let takes_next = words.get(at).is_some_and(|w| w == flag) && !BOOL_FLAGS.contains(&flag);
        command.remove(at);
        if takes_next && at < command.len() {
            command.remove(at);
        }
        if let Some(setting) = &setting {
            command.insert(at, toml::Value::String(setting.clone()));
        }
        return Ok(());
    }
    let go_build =
        words.first().is_some_and(|w| w == "go") && words.get(1).is_some_and(|w| w == "build");
    if let Some(setting) = setting.as_ref().filter(|s| s.contains(char::is_whitespace)) {
        if !go_build {
            return Err(AdjustError::CannotApply(format!(
                "{setting:?} holds spaces, so GOFLAGS cannot carry it, and the command is not `go build ...`"
            )));
        }
        command.insert(2, toml::Value::String(setting.clone()));
        return Ok(());
    }
    let inherited = |build: &toml::Table| {
        build
            .get("env")
            .and_then(|e| e.get("GOFLAGS"))
            .and_then(toml::Value::as_str)
            .map(String::from)
    };
    let global = inherited(build);
    let env = platform_env(build, key)?;
    let current = env
        .get("GOFLAGS")
        .and_then(toml::Value::as_str)
        .map(String::from)
        .or(global)
        .unwrap_or_default();
    let mut flags: Vec<&str> = current
        .split_whitespace()
        .filter(|w| *w != flag && !w.starts_with(&format!("{flag}=")))
        .collect();
    if value.is_none() && flags.len() == current.split_whitespace().count() {
        return Err(AdjustError::CannotApply(format!(
            "the recipe's command and GOFLAGS do not write {flag}, so it cannot be removed"
        )));
    }
    if let Some(setting) = &setting {
        flags.push(setting);
    }
    let flags = flags.join(" ");
    env.insert("GOFLAGS".into(), toml::Value::String(flags));
    Ok(())
}

/// The build directory the published binary embeds: the absolute prefix
/// of the rebuild's own source files (the names under `prefix`, its build
/// directory or, after `-trimpath`, its main module path) among the file
/// names the published binary holds, the most frequent when they differ.
fn build_directory(published: &[u8], rebuilt: &[u8], prefix: &str) -> Option<String> {
    let mut names: Vec<&[u8]> = Vec::new();
    for at in memmem::find_iter(rebuilt, prefix.as_bytes()) {
        let starts_string = at == 0 || rebuilt.get(at - 1).is_some_and(|&b| !is_path_byte(b));
        let rest = rebuilt.get(at + prefix.len()..).unwrap_or_default();
        let name = rest
            .iter()
            .take(MAX_NAME)
            .position(|&b| b == 0)
            .and_then(|end| rest.get(..end));
        if let (true, Some(name)) = (starts_string, name) {
            if name.ends_with(b".go")
                && name.iter().all(|&b| is_path_byte(b))
                && !names.contains(&name)
            {
                names.push(name);
                if names.len() == MAX_FILES {
                    break;
                }
            }
        }
    }
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut counts: Vec<(String, usize)> = Vec::new();
    for name in names {
        let needle = [b"/", name, b"\0"].concat();
        let Some(at) = memmem::find(published, &needle) else {
            continue;
        };
        let before = published.get(..at).unwrap_or_default();
        let start = before
            .iter()
            .rposition(|&b| !is_path_byte(b))
            .map_or(0, |i| i + 1);
        let Some(dir) = before
            .get(start..)
            .and_then(|d| std::str::from_utf8(d).ok())
            .filter(|d| d.starts_with('/'))
        else {
            continue;
        };
        match counts.iter_mut().find(|(d, _)| d == dir) {
            Some((_, count)) => *count += 1,
            None => counts.push((dir.to_string(), 1)),
        }
    }
    let most = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == most).map(|(d, _)| d)
}

fn is_path_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b)
}

/// The build settings by key.
fn settings(info: &GoBuildInfo) -> BTreeMap<&str, &str> {
    info.settings
        .iter()
        .map(|s| (s.key.as_str(), s.value.as_str()))
        .collect()
}

/// `-ldflags` split: the `-X` assignments by variable, and the other words.
#[derive(PartialEq, Eq)]
struct Ldflags {
    assignments: BTreeMap<String, String>,
    other: Vec<String>,
}

/// Splits `-ldflags` as Go quotes them; `None` when the quoting does not parse.
fn split_ldflags(value: &str) -> Option<Ldflags> {
    let mut split = Ldflags {
        assignments: BTreeMap::new(),
        other: Vec::new(),
    };
    let mut words = shlex::split(value)?.into_iter();
    while let Some(word) = words.next() {
        let assignment = match word.as_str() {
            "-X" | "--X" => words.next(),
            _ => word
                .strip_prefix("-X=")
                .or_else(|| word.strip_prefix("--X="))
                .map(String::from),
        };
        match assignment {
            Some(assignment) => match assignment.split_once('=') {
                Some((name, value)) => {
                    split
                        .assignments
                        .insert(name.to_string(), value.to_string());
                }
                None => split.other.extend([word, assignment]),
            },
            None => split.other.push(word),
        }
    }
    Some(split)
}

/// `go1.21` of `go1.21.13`.
fn minor_release(version: &str) -> String {
    version.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// Whether an `-ldflags` word is one of [`UNTAKEN_LDFLAGS`] (`-extld`,
/// `--extld=gcc`).
fn untaken_ldflag(word: &str) -> bool {
    let name = word.trim_start_matches('-');
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    UNTAKEN_LDFLAGS
        .iter()
        .any(|u| u.trim_start_matches('-') == name)
}

/// Whether a recipe can carry `value` as written: no placeholder braces,
/// no control characters.
fn carriable(value: &str) -> bool {
    !value.contains(['{', '}']) && !value.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::gobuildinfo::GoBuildSetting;

    const RECIPE: &str = r#"[image]
repository = "example/app"
tag = "{version}"

[source]
git = "https://example.com/app"
ref = "{version}"

[build]
builder = "golang:1.21.5"
command = ["go", "build", "-ldflags", "-s -w -X main.version={version}", "-o", "/out/app", "."]
artifact = "/out/app"
env = { GOFLAGS = "-buildvcs=true" }

[build.platforms."linux/amd64"]
env = { GOARCH = "{arch}" }
[build.platforms."linux/arm64"]
"#;

    fn info(go_version: &str, settings: &[(&str, &str)]) -> GoBuildInfo {
        GoBuildInfo {
            go_version: go_version.into(),
            path: Some("example.com/app".into()),
            main: None,
            deps: Vec::new(),
            settings: settings
                .iter()
                .map(|(key, value)| GoBuildSetting {
                    key: key.to_string(),
                    value: value.to_string(),
                })
                .collect(),
            encoding: crate::binary::gobuildinfo::BuildInfoEncoding::Inline,
        }
    }

    fn golang(tag: &str) -> BuilderRoot {
        BuilderRoot::Image {
            rootfs: "/nonexistent".into(),
            env: Vec::new(),
            reference: format!("docker.io/library/golang:{tag}"),
            digest: "sha256:0".into(),
            served_by: None,
        }
    }

    fn read(
        published: (&[u8], &GoBuildInfo),
        rebuilt: (&[u8], &GoBuildInfo),
        builder: &BuilderRoot,
    ) -> Differences {
        differences(
            published.0,
            published.1,
            &Rebuild {
                binary: rebuilt.0,
                info: rebuilt.1,
                dir: "/src",
                builder,
                source_date_epoch: 1_700_000_000,
                sandboxed: true,
            },
        )
    }

    fn amd64() -> Platform {
        "linux/amd64".parse().unwrap()
    }

    fn adjusted(adjustment: &Adjustment) -> toml::Table {
        let recipe = Recipe::parse("app.toml", RECIPE).unwrap();
        let (parsed, text) = adjustment
            .recipe(&recipe, &amd64(), "adjusted.toml")
            .unwrap();
        assert_eq!(parsed.origin, "adjusted.toml");
        text.parse().unwrap()
    }

    fn names(adjustment: &Adjustment) -> Vec<&str> {
        adjustment.changes.keys().map(String::as_str).collect()
    }

    #[test]
    fn environment_inputs_are_tried_alone_then_with_the_program_ones() {
        let published = info(
            "go1.21.13",
            &[
                ("-tags", "netgo"),
                ("-trimpath", "true"),
                ("CGO_ENABLED", "1"),
                ("GOAMD64", "v3"),
                ("vcs.time", "2024-01-01T00:00:00Z"),
            ],
        );
        let rebuilt = info(
            "go1.21.5",
            &[
                ("CGO_ENABLED", "0"),
                ("GOAMD64", "v1"),
                ("vcs.time", "2023-01-01T00:00:00Z"),
            ],
        );
        let found = read((b"", &published), (b"", &rebuilt), &golang("1.21.5"));
        let tries = found.adjustments();
        assert_eq!(tries.len(), 2);
        assert_eq!(names(&tries[0]), ["-trimpath", "GOAMD64", "toolchain"]);
        assert!(tries[0].environment_only());
        assert_eq!(
            names(&tries[1]),
            ["-tags", "-trimpath", "CGO_ENABLED", "GOAMD64", "toolchain"]
        );
        assert!(!tries[1].environment_only());
        assert_eq!(
            tries[1].changes["CGO_ENABLED"],
            InputChange {
                recipe: Some("0".into()),
                published: Some("1".into()),
                kind: InputKind::Program
            }
        );

        let all = adjusted(&tries[1]);
        let build = all["build"].as_table().unwrap();
        assert_eq!(
            build["builder"].as_str(),
            Some("docker.io/library/golang:1.21.13")
        );
        let platforms = build["platforms"].as_table().unwrap();
        assert_eq!(platforms.keys().collect::<Vec<_>>(), ["linux/amd64"]);
        let env = platforms["linux/amd64"]["env"].as_table().unwrap();
        let env: Vec<(&str, &str)> = env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        assert_eq!(
            env,
            [
                ("CGO_ENABLED", "1"),
                ("GOAMD64", "v3"),
                ("GOARCH", "{arch}"),
                ("GOFLAGS", "-buildvcs=true -tags=netgo -trimpath=true"),
            ]
        );
    }

    #[test]
    fn another_go_minor_release_is_a_program_input_and_a_host_builder_cannot_take_it() {
        let published = info("go1.22.1", &[]);
        let rebuilt = info("go1.21.5", &[]);
        let found = read((b"", &published), (b"", &rebuilt), &golang("1.21"));
        assert_eq!(
            found.adjustments()[0].changes["toolchain"].kind,
            InputKind::Program
        );
        let on_host = read((b"", &published), (b"", &rebuilt), &BuilderRoot::Host);
        assert!(on_host.is_empty());
        assert_eq!(
            on_host.notes,
            ["the published binary was built with go1.22.1, the rebuild with go1.21.5: only a golang builder image can take another Go release"]
        );
    }

    #[test]
    fn an_x_value_replaces_the_commands_own_ldflags() {
        let published = info(
            "go1.21.5",
            &[(
                "-ldflags",
                "-s -w -X main.version=v1 -X main.endpoint=https://x",
            )],
        );
        let rebuilt = info("go1.21.5", &[("-ldflags", "-s -w -X main.version=v1")]);
        let found = read((b"", &published), (b"", &rebuilt), &golang("1.21.5"));
        let tries = found.adjustments();
        assert_eq!(tries.len(), 1);
        assert_eq!(names(&tries[0]), ["-X main.endpoint"]);
        let command = adjusted(&tries[0])["build"]["command"].clone();
        assert_eq!(
            command,
            toml::Value::Array(
                [
                    "go",
                    "build",
                    "-ldflags=-s -w -X main.version=v1 -X main.endpoint=https://x",
                    "-o",
                    "/out/app",
                    "."
                ]
                .map(|w| toml::Value::String(w.into()))
                .to_vec()
            )
        );
    }

    #[test]
    fn build_directory_is_the_prefix_of_the_rebuilds_own_files_in_the_published_binary() {
        let rebuilt: &[u8] = b"\0/src/main.go\0/src/cmd/run.go\0/usr/lib/go/src/runtime/proc.go\0";
        let published: &[u8] =
            b"\0/home/runner/work/a/a/main.go\0/home/runner/work/a/a/cmd/run.go\0";
        let same = info("go1.21.5", &[]);
        let found = read((published, &same), (rebuilt, &same), &golang("1.21.5"));
        let tries = found.adjustments();
        assert_eq!(
            tries[0].changes["build_directory"],
            InputChange {
                recipe: Some("/src".into()),
                published: Some("/home/runner/work/a/a".into()),
                kind: InputKind::Environment
            }
        );
        assert_eq!(
            adjusted(&tries[0])["build"]["workdir"].as_str(),
            Some("/home/runner/work/a/a")
        );

        let reserved: &[u8] = b"\0/tmp/build/main.go\0";
        let found = read((reserved, &same), (rebuilt, &same), &golang("1.21.5"));
        assert!(found.is_empty());
        assert_eq!(found.notes.len(), 1);
        assert!(
            found.notes[0].starts_with(
                "the published binary was built in /tmp/build, which the rebuild cannot use"
            ),
            "{:?}",
            found.notes
        );
    }

    #[test]
    fn settings_that_run_a_program_of_the_binarys_choosing_are_not_taken() {
        let published = info(
            "go1.21.5",
            &[
                ("-toolexec", "/bin/sh"),
                ("CC", "/tmp/cc"),
                ("CGO_CFLAGS", "-fplugin=/tmp/p.so"),
                ("-ldflags", "-extld=/tmp/ld -X main.a=b"),
            ],
        );
        let rebuilt = info("go1.21.5", &[]);
        let found = read((b"", &published), (b"", &rebuilt), &golang("1.21.5"));
        assert!(found.is_empty());
        assert_eq!(
            found.notes,
            [
                "the published -ldflags \"-extld=/tmp/ld -X main.a=b\" name an external linker or its flags (-extld, -extldflags, -tmpdir): not adjusted",
                "the published binary records -toolexec=/bin/sh, the rebuild nothing: an adjusted rebuild does not take -toolexec",
                "the published binary records CC=/tmp/cc, the rebuild nothing: an adjusted rebuild does not take CC",
                "the published binary records CGO_CFLAGS=-fplugin=/tmp/p.so, the rebuild nothing: an adjusted rebuild does not take CGO_CFLAGS",
            ]
        );
    }

    #[test]
    fn a_build_time_stamped_from_source_date_epoch_is_taken_as_source_date_epoch() {
        // The rebuild's SOURCE_DATE_EPOCH, 1700000000, is 2023-11-14T22:13:20Z.
        let rebuilt: &[u8] = b"\0built 2023-11-14T22:13:20Z\0";
        let published: &[u8] = b"\0built 2024-05-01T10:00:00Z\0";
        let same = info("go1.21.5", &[]);
        let found = read((published, &same), (rebuilt, &same), &golang("1.21.5"));
        let tries = found.adjustments();
        assert_eq!(
            tries[0].changes["build_time"],
            InputChange {
                recipe: Some("2023-11-14T22:13:20Z".into()),
                published: Some("2024-05-01T10:00:00Z".into()),
                kind: InputKind::Environment
            }
        );
        assert_eq!(
            adjusted(&tries[0])["build"]["source_date_epoch"].as_str(),
            Some("2024-05-01T10:00:00Z")
        );
        // A date the rebuild did not stamp from SOURCE_DATE_EPOCH is not one.
        let other: &[u8] = b"\0built 2022-01-01T00:00:00Z\0";
        assert!(read((published, &same), (other, &same), &golang("1.21.5")).is_empty());
    }

    #[test]
    fn values_a_recipe_would_read_as_placeholders_are_not_taken() {
        let published = info("go1.21.5", &[("-tags", "{version}")]);
        let rebuilt = info("go1.21.5", &[]);
        let found = read((b"", &published), (b"", &rebuilt), &golang("1.21.5"));
        assert!(found.is_empty());
        assert_eq!(
            found.notes,
            ["the published -tags is \"{version}\", which a recipe cannot carry (placeholder braces or control characters): not adjusted"]
        );
    }
}
