//! What a Go binary and the tag's source tell: each platform's build
//! info and strings, the main package and its module's directory, the
//! values `-X` and goreleaser templates are made of, `-s`/`-w`, and the
//! build directory and other paths a binary built without `-trimpath`
//! embeds.

use object::{Object, ObjectSection};

use super::binscan::BinaryStrings;
use super::xvars;
use crate::binary::GoBuildInfo;
use crate::image::platform::Platform;
use crate::rebuild::adjust::LEVEL_SETTINGS;
use crate::rebuild::infer::candidate::InferError;
use crate::rebuild::infer::evidence::{Evidence, PlatformEvidence};
use crate::rebuild::infer::files::SourceFiles;
use crate::rebuild::infer::metadata::{self, VersionFile};
use crate::rebuild::infer::recipe::has_placeholder;
use crate::rebuild::recipe::schema::check_workdir;

/// Build settings that select the target, set per platform: the
/// operating system, the architecture and its instruction-set level.
pub fn platform_settings() -> impl Iterator<Item = &'static str> {
    ["GOOS", "GOARCH"]
        .into_iter()
        .chain(LEVEL_SETTINGS.iter().copied())
}

/// Build settings that are environment variables of the build.
pub const ENV_SETTINGS: &[&str] = &[
    "CGO_ENABLED",
    "CGO_CFLAGS",
    "CGO_CPPFLAGS",
    "CGO_CXXFLAGS",
    "CGO_LDFLAGS",
    "GOEXPERIMENT",
];

/// Build settings that are `go build` flags (other than `-ldflags`).
pub const FLAG_SETTINGS: &[&str] = &[
    "-buildmode",
    "-trimpath",
    "-tags",
    "-gcflags",
    "-asmflags",
    "-race",
    "-msan",
    "-asan",
];

/// The recipe input holding a build time read from the binary.
pub const BUILD_DATE: &str = "build_date";
/// The recipe input holding a build time in seconds read from the binary.
pub const BUILD_TIMESTAMP: &str = "build_timestamp";

/// One platform's binary, with its Go build info.
pub struct PlatformBinary<'a> {
    pub platform: &'a Platform,
    pub info: &'a GoBuildInfo,
    pub binary: &'a [u8],
    pub strings: BinaryStrings<'a>,
}

impl PlatformBinary<'_> {
    /// The build setting `key` (`-trimpath`, `GOOS`) as the binary records it.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.info
            .settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
    }
}

/// Every platform's binary with its Go build info; a binary without one
/// is [`InferError::Unsupported`].
pub fn platforms(evidence: &[PlatformEvidence]) -> Result<Vec<PlatformBinary<'_>>, InferError> {
    evidence
        .iter()
        .map(|p| {
            Ok(PlatformBinary {
                platform: &p.platform,
                info: p.go.as_ref().ok_or(InferError::Unsupported)?,
                binary: &p.binary,
                strings: BinaryStrings::new(&p.binary),
            })
        })
        .collect()
}

/// The main package: its module and its directory below the module root.
pub struct Package {
    pub module: String,
    /// `cmd/app`, empty for the module root.
    pub relative: String,
}

impl Package {
    /// The `go build` argument (`./cmd/app`, `.`).
    pub fn argument(&self) -> String {
        if self.relative.is_empty() {
            ".".into()
        } else {
            format!("./{}", self.relative)
        }
    }
}

pub fn main_package(info: &GoBuildInfo) -> Result<Package, InferError> {
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
pub fn module_dir(files: &dyn SourceFiles, module: &str) -> Option<String> {
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

pub fn join(dir: &str, rest: &str) -> String {
    match (dir.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (false, true) => dir.to_string(),
        (false, false) => format!("{dir}/{rest}"),
    }
}

/// What the values of `-X` and goreleaser templates are made of.
pub struct Facts {
    /// The tag (`v1.2.0`).
    pub tag: String,
    /// Recipe text for the tag (`{version}` or the tag).
    pub tag_text: String,
    /// Recipe text for the tag without `v` (`{version_bare}` or literal).
    pub bare_text: String,
    pub commit: String,
    /// `{vcs_revision}` when every binary records the tag's commit, else the commit.
    pub commit_text: String,
    pub short_commit: String,
    pub commit_date: String,
    pub commit_timestamp: String,
    /// `{input:build_date}` when every binary holds exactly one date other
    /// than the commit's, else `None`.
    pub build_date: Option<String>,
    /// The tag's `VERSION` file, when it has one.
    pub version_file: Option<VersionFile>,
}

impl Facts {
    pub fn new(
        evidence: &Evidence<'_>,
        plats: &[PlatformBinary<'_>],
        notes: &mut Vec<String>,
    ) -> Self {
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
            version_file: metadata::version_file(evidence.source.files),
        }
    }
}

/// Seconds since the epoch as RFC 3339 UTC (`2024-01-02T03:04:05Z`).
pub fn rfc3339(seconds: i64) -> String {
    let time = u64::try_from(seconds)
        .ok()
        .and_then(|s| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(s)))
        .unwrap_or(std::time::UNIX_EPOCH);
    humantime::format_rfc3339_seconds(time).to_string()
}

/// Which of `-s`/`-w` the binaries show.
pub struct Strip {
    pub s: bool,
    pub w: bool,
}

impl Strip {
    pub fn text(&self) -> &'static str {
        match (self.s, self.w) {
            (true, true) => "-s -w",
            (true, false) => "-s",
            (false, true) => "-w",
            (false, false) => "",
        }
    }

    pub fn why(&self) -> String {
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
pub fn strip_flags(plats: &[PlatformBinary<'_>], notes: &mut Vec<String>) -> Option<Strip> {
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
pub fn workdir(
    evidence: &Evidence<'_>,
    plat: &PlatformBinary<'_>,
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
pub fn embedded_paths_notes(plat: &PlatformBinary<'_>, vendored: bool, notes: &mut Vec<String>) {
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

/// Whether a Go version (`go1.19.8`) is older than 1.`minor`.
pub fn go_older_than(version: &str, minor: u32) -> bool {
    version
        .strip_prefix("go1.")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m < minor)
}
