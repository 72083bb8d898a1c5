//! Rust: a `cargo build --release --locked` recipe from the binary's
//! rustc version (`.comment`), its libc (the ELF interpreter), its
//! cargo-auditable dependency list, the Cargo home its embedded paths
//! show, and the binary targets of the tag's `Cargo.toml` files.

use std::collections::{BTreeMap, BTreeSet};

use object::read::elf::{FileHeader, ProgramHeader};
use object::{elf, Endianness};

use super::candidate::{Candidate, Ecosystem, InferError, Inference};
use super::evidence::{Evidence, PlatformEvidence};
use super::files::SourceFiles;
use crate::image::platform::Platform;

/// The recipe's Cargo home: under `/cache`, so what `fetch` downloads is
/// there for `command`.
pub const CARGO_HOME: &str = "/cache/cargo";

/// `Cargo.toml` files read while looking for binary targets.
const MAX_MANIFESTS: usize = 256;

/// Occurrences of a Cargo-home marker looked at in the binary.
const MAX_PATH_HITS: usize = 4096;

/// Longest Cargo home taken from the binary.
const MAX_HOME_LEN: usize = 256;

/// Binary targets named in an error.
const MAX_NAMED_TARGETS: usize = 10;

/// How the binary links the C library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Libc {
    /// Dynamically against glibc (`ld-linux-*`).
    Gnu,
    /// Statically against glibc (`-C target-feature=+crt-static`).
    GnuStatic,
    /// Against musl, dynamically (`ld-musl-*`) or statically.
    Musl,
}

/// The platforms whose binaries embed the same Cargo home (which the
/// candidates remap to), as groups of indices into `evidence.platforms`,
/// each in platform order: each group gets its own candidates.
pub fn input_groups(evidence: &Evidence<'_>) -> Vec<Vec<usize>> {
    let mut groups: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (index, platform) in evidence.platforms.iter().enumerate() {
        let home = cargo_home(&platform.binary);
        match groups.iter_mut().find(|(h, _)| *h == home) {
            Some((_, members)) => members.push(index),
            None => groups.push((home, vec![index])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// Candidate recipes for a Rust binary.
pub fn infer(evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    let version = rustc_version(evidence.platforms)?;
    let mut notes = Vec::new();
    let mut targets = Vec::new();
    for platform in evidence.platforms {
        let libc = libc_of(&platform.binary).map_err(|why| {
            InferError::Invalid(format!(
                "the image binary for {} {why}, so its Rust target cannot be told: write a recipe (see recipes/README.md)",
                platform.platform
            ))
        })?;
        targets.push((
            platform.platform.clone(),
            libc,
            triple(&platform.platform, libc)?,
        ));
    }
    let first_libc = targets.first().map_or(Libc::Gnu, |(_, libc, _)| *libc);
    if targets.iter().any(|(_, libc, _)| *libc != first_libc) {
        notes.push(format!(
            "the platforms' binaries link different C libraries; the builder is chosen for {}",
            evidence
                .platforms
                .first()
                .map(|p| p.platform.to_string())
                .unwrap_or_default()
        ));
    }

    let locals: BTreeSet<&str> = evidence
        .platforms
        .iter()
        .filter_map(|p| p.rust.as_ref()?.packages.as_ref())
        .flatten()
        .filter(|p| p.source.as_deref() == Some("local"))
        .map(|p| p.name.as_str())
        .collect();
    let target = binary_target(evidence.source.files, evidence.binary_path, &locals)?;
    if let Some(note) = &target.note {
        notes.push(note.clone());
    }

    let builder = if evidence.toolchains.host_rustc.map(str::trim) == Some(version.as_str()) {
        "host".to_string()
    } else if is_stable(&version) {
        let suffix = if first_libc == Libc::Musl {
            "-alpine"
        } else {
            ""
        };
        format!("{}:{version}{suffix}", evidence.toolchains.rust_image)
    } else {
        return Err(InferError::Invalid(format!(
            "the image binary was built with rustc {version}, not a stable release, which no builder image is tagged with: write a recipe with a builder that has it (see recipes/README.md)"
        )));
    };

    let auditable = evidence
        .platforms
        .iter()
        .all(|p| p.rust.as_ref().is_some_and(|r| r.packages.is_some()));
    if auditable {
        notes.push(
            "the binary carries cargo-auditable data (.dep-v0), so upstream built it with `cargo auditable build`: the first candidates need cargo-auditable on the builder's PATH (the official Rust images do not have it)".into(),
        );
    } else {
        notes.push(
            "the binary carries no cargo-auditable dependency list: its crates cannot be checked against the tag's Cargo.lock".into(),
        );
    }
    notes.push(
        "neither the binary nor its cargo-auditable data records the Cargo features it was built with: the candidates build the default features".into(),
    );
    if evidence.source.files.read("Cargo.lock").is_none() {
        notes.push(
            "the tag has no Cargo.lock at its root: `--locked` builds fail without one".into(),
        );
    }
    if targets.len() > 1 {
        notes.push(
            "each platform builds for its CARGO_BUILD_TARGET: a target other than the builder's own needs its standard library and linker in the builder".into(),
        );
    }

    let home = evidence
        .platforms
        .iter()
        .find_map(|p| cargo_home(&p.binary))
        .filter(|home| home != CARGO_HOME);
    if let Some(home) = &home {
        notes.push(format!(
            "the binary embeds paths under {home}, upstream's Cargo home: the first candidates remap {CARGO_HOME} to it (RUSTFLAGS=--remap-path-prefix)"
        ));
    }

    let recipe = RecipeParts {
        rustc: &version,
        header: header(evidence)?,
        builder: &builder,
        target: &target,
        targets: &targets,
        has_dep_v0: auditable,
    };
    let mut variants = Vec::new();
    let remaps: Vec<Option<&str>> = match &home {
        Some(home) => vec![Some(home.as_str()), None],
        None => vec![None],
    };
    for remap in &remaps {
        variants.push((auditable, *remap));
    }
    if auditable {
        variants.push((false, remaps.first().copied().flatten()));
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    for (auditable, remap) in variants {
        let candidate = recipe.candidate(auditable, remap);
        if !candidates.iter().any(|c| c.text == candidate.text) {
            candidates.push(candidate);
        }
    }
    Ok(Inference {
        ecosystem: Ecosystem::Rust,
        candidates,
        notes,
    })
}

/// `1.75.0` from every platform's `rustc version 1.75.0 (82e1608df 2023-12-21)`.
fn rustc_version(platforms: &[PlatformEvidence]) -> Result<String, InferError> {
    let mut versions = BTreeMap::new();
    for platform in platforms {
        let comment = platform.rust.as_ref().and_then(|r| r.rustc.as_deref());
        let version = comment
            .and_then(|c| c.strip_prefix("rustc version "))
            .and_then(|rest| rest.split_whitespace().next())
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 64
                    && v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            })
            .ok_or_else(|| {
                InferError::Invalid(format!(
                    "the image binary for {} does not name its rustc version in .comment ({}): write a recipe with the toolchain it was built with (see recipes/README.md)",
                    platform.platform,
                    comment.unwrap_or("no rustc line")
                ))
            })?;
        versions
            .entry(version.to_string())
            .or_insert_with(|| platform.platform.to_string());
    }
    match versions.len() {
        0 => Err(InferError::Invalid(
            "the image has no platform to infer a recipe from".into(),
        )),
        1 => Ok(versions.into_keys().next().unwrap_or_default()),
        _ => Err(InferError::Invalid(format!(
            "the image's platforms were built with different rustc versions ({}): one recipe has one builder, so write one recipe per platform",
            versions
                .iter()
                .map(|(v, p)| format!("{v} for {p}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn is_stable(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// The binary's C library, from its ELF interpreter; a static binary is
/// musl unless it carries glibc's tunables.
fn libc_of(binary: &[u8]) -> Result<Libc, String> {
    let interpreter = match object::FileKind::parse(binary) {
        Ok(object::FileKind::Elf64) => interpreter::<elf::FileHeader64<Endianness>>(binary),
        Ok(object::FileKind::Elf32) => interpreter::<elf::FileHeader32<Endianness>>(binary),
        _ => return Err("is not an ELF file".into()),
    }
    .map_err(|e| format!("has unreadable ELF program headers ({e})"))?;
    Ok(match interpreter {
        Some(path) if contains(&path, b"ld-musl") => Libc::Musl,
        Some(_) => Libc::Gnu,
        None if contains(binary, b"GLIBC_TUNABLES") => Libc::GnuStatic,
        None => Libc::Musl,
    })
}

fn interpreter<H: FileHeader<Endian = Endianness>>(
    data: &[u8],
) -> object::read::Result<Option<Vec<u8>>> {
    let header = H::parse(data)?;
    let endian = header.endian()?;
    for segment in header.program_headers(endian, data)? {
        if let Some(path) = segment.interpreter(endian, data)? {
            return Ok(Some(path.to_vec()));
        }
    }
    Ok(None)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The Rust target triple of a platform.
fn triple(platform: &Platform, libc: Libc) -> Result<String, InferError> {
    let (arch, gnu, musl) = match (
        platform.os.as_str(),
        platform.architecture.as_str(),
        platform.variant.as_deref(),
    ) {
        ("linux", "amd64", _) => ("x86_64", "gnu", "musl"),
        ("linux", "arm64", _) => ("aarch64", "gnu", "musl"),
        ("linux", "arm", Some("v6")) => ("arm", "gnueabihf", "musleabihf"),
        ("linux", "arm", _) => ("armv7", "gnueabihf", "musleabihf"),
        ("linux", "386", _) => ("i686", "gnu", "musl"),
        ("linux", "ppc64le", _) => ("powerpc64le", "gnu", "musl"),
        ("linux", "riscv64", _) => ("riscv64gc", "gnu", "musl"),
        ("linux", "s390x", _) => ("s390x", "gnu", "musl"),
        _ => {
            return Err(InferError::Invalid(format!(
                "no Rust target is known for platform {platform}: write a recipe with CARGO_BUILD_TARGET for it (see recipes/README.md)"
            )))
        }
    };
    let abi = if libc == Libc::Musl { musl } else { gnu };
    Ok(format!("{arch}-unknown-linux-{abi}"))
}

/// Upstream's Cargo home, from the registry and git checkout paths the
/// binary embeds (`/home/runner/.cargo/registry/src/...`). String
/// literals sit back to back in `.rodata`, so the bytes before a path may
/// belong to another string (`value/home/runner/.cargo`): every
/// `/`-started suffix of the path run before a marker is counted, and the
/// longest of those found before the most markers wins.
fn cargo_home(binary: &[u8]) -> Option<String> {
    let mut counts: BTreeMap<&[u8], usize> = BTreeMap::new();
    let mut hits = 0;
    for marker in [&b"/registry/src/"[..], &b"/git/checkouts/"[..]] {
        let mut at = 0;
        while hits < MAX_PATH_HITS {
            let Some(found) = binary
                .get(at..)
                .and_then(|rest| rest.windows(marker.len()).position(|w| w == marker))
            else {
                break;
            };
            let end = at + found;
            let run = binary[..end]
                .iter()
                .rev()
                .take(MAX_HOME_LEN)
                .take_while(|b| is_path_byte(**b))
                .count();
            let span = &binary[end - run..end];
            for (i, _) in span.iter().enumerate().filter(|(_, b)| **b == b'/') {
                *counts.entry(&span[i..]).or_default() += 1;
            }
            hits += 1;
            at = end + marker.len();
        }
    }
    let most = counts.values().copied().max()?;
    let prefix = counts
        .into_iter()
        .filter(|(_, n)| *n == most)
        .map(|(prefix, _)| prefix)
        .max_by_key(|prefix| prefix.len())?;
    let home = std::str::from_utf8(prefix).ok()?;
    let clean =
        home.len() > 1 && !home.contains("//") && !home.split('/').any(|p| p == "." || p == "..");
    clean.then(|| home.to_string())
}

/// Bytes a Cargo home taken from the binary may have: it goes into
/// RUSTFLAGS (split on spaces) and `--remap-path-prefix FROM=TO`.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'+' | b'@')
}

/// The Cargo binary target to build.
struct BinTarget {
    name: String,
    package: String,
    /// The directory of its `Cargo.toml` (`""`: the root).
    dir: String,
    note: Option<String>,
}

fn is_cargo_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Every binary target of the tag's `Cargo.toml` files: `[[bin]]`
/// entries, and (unless `autobins = false`) `src/main.rs` and
/// `src/bin/*.rs`/`src/bin/*/main.rs`.
fn binary_targets(files: &dyn SourceFiles) -> Vec<BinTarget> {
    let paths = files.paths();
    let listed: BTreeSet<&str> = paths.iter().map(String::as_str).collect();
    let manifests = paths
        .iter()
        .filter(|p| *p == "Cargo.toml" || p.ends_with("/Cargo.toml"))
        .filter(|p| {
            !p.split('/')
                .any(|part| part == "vendor" || part == "target")
        })
        .take(MAX_MANIFESTS);
    let mut out = Vec::new();
    for manifest in manifests {
        let Some(table) = files
            .read(manifest)
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| toml::from_str::<toml::Table>(&text).ok())
        else {
            continue;
        };
        let Some(package) = table.get("package") else {
            continue;
        };
        let Some(package_name) = package.get("name").and_then(toml::Value::as_str) else {
            continue;
        };
        let dir = manifest
            .trim_end_matches("Cargo.toml")
            .trim_end_matches('/')
            .to_string();
        let under = |rel: &str| {
            if dir.is_empty() {
                rel.to_string()
            } else {
                format!("{dir}/{rel}")
            }
        };
        let mut names: Vec<String> = table
            .get("bin")
            .and_then(toml::Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|bin| bin.get("name")?.as_str().map(str::to_string))
            .collect();
        let autobins = package
            .get("autobins")
            .and_then(toml::Value::as_bool)
            .unwrap_or(true);
        if autobins {
            if listed.contains(under("src/main.rs").as_str()) {
                names.push(package_name.to_string());
            }
            let bin_dir = under("src/bin/");
            for path in listed.range(bin_dir.as_str()..) {
                let Some(rest) = path.strip_prefix(bin_dir.as_str()) else {
                    break;
                };
                let name = match rest.split('/').collect::<Vec<_>>().as_slice() {
                    [file] => file.strip_suffix(".rs"),
                    [name, "main.rs"] => Some(*name),
                    _ => None,
                };
                names.extend(name.map(str::to_string));
            }
        }
        let mut seen = BTreeSet::new();
        for name in names {
            if is_cargo_name(&name) && is_cargo_name(package_name) && seen.insert(name.clone()) {
                out.push(BinTarget {
                    name,
                    package: package_name.to_string(),
                    dir: dir.clone(),
                    note: None,
                });
            }
        }
    }
    out
}

/// The binary target named like the image binary (a package the binary
/// was built from first), else the only one there is.
fn binary_target(
    files: &dyn SourceFiles,
    binary_path: &str,
    locals: &BTreeSet<&str>,
) -> Result<BinTarget, InferError> {
    let file = binary_path.rsplit('/').next().unwrap_or(binary_path);
    let mut targets = binary_targets(files);
    if targets.is_empty() {
        return Err(InferError::Invalid(
            "the tag has no Cargo.toml with a binary target: write a recipe (see recipes/README.md)"
                .into(),
        ));
    }
    targets.sort_by_key(|t| !locals.contains(t.package.as_str()));
    if let Some(at) = targets.iter().position(|t| t.name == file) {
        return Ok(targets.swap_remove(at));
    }
    let built: Vec<usize> = (0..targets.len())
        .filter(|&i| locals.contains(targets[i].package.as_str()))
        .collect();
    let only = match built.as_slice() {
        [one] => Some(*one),
        _ if targets.len() == 1 => Some(0),
        _ => None,
    };
    if let Some(at) = only {
        let mut target = targets.swap_remove(at);
        target.note = Some(format!(
            "the image calls the binary {file}; the tag's only binary target of the crates it was built from is {}",
            target.name
        ));
        return Ok(target);
    }
    let names: Vec<&str> = targets
        .iter()
        .map(|t| t.name.as_str())
        .take(MAX_NAMED_TARGETS)
        .collect();
    Err(InferError::Invalid(format!(
        "the image binary {file} is not a binary target of the tag's Cargo.toml files ({}{}): write a recipe with the right cargo_bin (see recipes/README.md)",
        names.join(", "),
        if targets.len() > names.len() { ", ..." } else { "" }
    )))
}

/// A TOML string literal.
fn quote(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn array(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| quote(i)).collect();
    format!("[{}]", quoted.join(", "))
}

fn inline_table(entries: &[(&str, String)]) -> String {
    let pairs: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{k} = {}", quote(v)))
        .collect();
    format!("{{ {} }}", pairs.join(", "))
}

/// The template that renders `value` for `version`: `{version}` (or
/// `{version_bare}`, without the leading `v`) where `value` holds it
/// (`1.2.0-alpine` -> `{version_bare}-alpine`), else `value` itself.
fn version_template(value: &str, version: &str, what: &str) -> Result<String, InferError> {
    if value.contains('{') || value.contains('}') {
        return Err(InferError::Invalid(format!(
            "the {what} {value:?} has braces, which a recipe would read as a placeholder: write the recipe by hand (see recipes/README.md)"
        )));
    }
    let bare = version.strip_prefix('v').unwrap_or(version);
    Ok(if !version.is_empty() && value.contains(version) {
        value.replacen(version, "{version}", 1)
    } else if !bare.is_empty() && value.contains(bare) {
        value.replacen(bare, "{version_bare}", 1)
    } else {
        value.to_string()
    })
}

/// `[image]` and `[source]` of the recipe.
fn header(evidence: &Evidence<'_>) -> Result<String, InferError> {
    Ok(format!(
        "[image]\nrepository = {}\ntag = {}\nbinary = {}\n\n[source]\ngit = {}\nref = {}\n",
        quote(evidence.repository),
        quote(&version_template(
            evidence.tag,
            evidence.version,
            "image tag"
        )?),
        quote(evidence.binary_path),
        quote(evidence.source.url),
        quote(&version_template(
            evidence.source.git_ref,
            evidence.version,
            "source tag"
        )?),
    ))
}

/// What every candidate shares.
struct RecipeParts<'a> {
    rustc: &'a str,
    header: String,
    builder: &'a str,
    target: &'a BinTarget,
    targets: &'a [(Platform, Libc, String)],
    /// The binary carries cargo-auditable data.
    has_dep_v0: bool,
}

impl RecipeParts<'_> {
    fn candidate(&self, auditable: bool, remap: Option<&str>) -> Candidate {
        let mut command: Vec<String> = vec!["cargo".into()];
        if auditable {
            command.push("auditable".into());
        }
        command.extend(["build", "--release", "--locked", "--offline"].map(String::from));
        if !self.target.dir.is_empty() {
            command.extend(["--package".into(), self.target.package.clone()]);
        }
        command.extend(["--bin".into(), self.target.name.clone()]);

        let mut label = format!(
            "cargo {}build --release --locked --bin {}",
            if auditable { "auditable " } else { "" },
            self.target.name
        );
        if let Some(home) = remap {
            label.push_str(&format!(", {CARGO_HOME} remapped to {home}"));
        }
        if self.has_dep_v0 && !auditable {
            label.push_str(" (without cargo-auditable: differs by .dep-v0 at least)");
        }

        let mut text = format!(
            "# Inferred by rebuild-compare from the image binary: rustc {}, binary target {}.\n{}\n",
            self.rustc, self.target.name, self.header
        );
        text.push_str(&format!(
            "[build]\nbuilder = {}\nfetch = {}\ncommand = {}\ncargo_bin = {}\nenv = {}\n",
            quote(self.builder),
            array(&["cargo", "fetch", "--locked"].map(String::from)),
            array(&command),
            quote(&self.target.name),
            inline_table(&[("CARGO_HOME", CARGO_HOME.to_string())]),
        ));
        for (platform, libc, triple) in self.targets {
            let mut rustflags = Vec::new();
            if *libc == Libc::GnuStatic {
                rustflags.push("-C target-feature=+crt-static".to_string());
            }
            if let Some(home) = remap {
                rustflags.push(format!("--remap-path-prefix={CARGO_HOME}={home}"));
            }
            let mut env = vec![("CARGO_BUILD_TARGET", triple.clone())];
            if !rustflags.is_empty() {
                env.push(("RUSTFLAGS", rustflags.join(" ")));
            }
            text.push_str(&format!(
                "\n[build.platforms.{}]\nenv = {}\n",
                quote(&platform.to_string()),
                inline_table(&env)
            ));
        }
        Candidate {
            label,
            text,
            binary_only: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::binary::{RustInfo, RustPackage};
    use crate::rebuild::infer::evidence::{SourceEvidence, Toolchains};
    use crate::rebuild::infer::files::MemoryFiles;
    use crate::rebuild::recipe::{ArtifactSpec, Builder, Recipe};

    const GLIBC_AMD64: &str = "/lib64/ld-linux-x86-64.so.2";
    const GLIBC_ARM64: &str = "/lib/ld-linux-aarch64.so.1";
    const MUSL_AMD64: &str = "/lib/ld-musl-x86_64.so.1";

    /// A minimal little-endian ELF64 executable: a `PT_INTERP` segment
    /// when `interpreter` is given, then `payload` (strings the binary
    /// embeds).
    fn elf(machine: u16, interpreter: Option<&str>, payload: &[u8]) -> Vec<u8> {
        let phnum: u16 = interpreter.map_or(0, |_| 1);
        let interp_at = 64 + 56 * u64::from(phnum);
        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        out.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
        out.extend_from_slice(&machine.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // entry
        out.extend_from_slice(&64u64.to_le_bytes()); // phoff
        out.extend_from_slice(&0u64.to_le_bytes()); // shoff
        out.extend_from_slice(&0u32.to_le_bytes()); // flags
        for half in [64u16, 56, phnum, 64, 0, 0] {
            out.extend_from_slice(&half.to_le_bytes());
        }
        if let Some(path) = interpreter {
            let len = path.len() as u64 + 1;
            out.extend_from_slice(&3u32.to_le_bytes()); // PT_INTERP
            out.extend_from_slice(&4u32.to_le_bytes()); // PF_R
            for word in [interp_at, interp_at, interp_at, len, len, 1] {
                out.extend_from_slice(&word.to_le_bytes());
            }
            out.extend_from_slice(path.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(payload);
        out
    }

    fn rust_info(rustc: &str, dep_v0: bool) -> Option<RustInfo> {
        let package = |name: &str, version: &str, source: &str| RustPackage {
            name: name.into(),
            version: version.into(),
            source: Some(source.into()),
        };
        Some(RustInfo {
            rustc: Some(rustc.into()),
            packages: dep_v0.then(|| {
                vec![
                    package("app", "1.2.0", "local"),
                    package("serde", "1.0.190", "crates.io"),
                ]
            }),
        })
    }

    fn platform(name: &str, binary: Vec<u8>, rust: Option<RustInfo>) -> PlatformEvidence {
        PlatformEvidence {
            platform: name.parse().expect("platform"),
            binary,
            go: None,
            rust,
        }
    }

    const RUSTC: &str = "rustc version 1.75.0 (82e1608df 2023-12-21)";

    const CARGO_TOML: &str = "[package]\nname = \"app\"\nversion = \"1.2.0\"\nedition = \"2021\"\n";

    fn app_tree() -> MemoryFiles {
        MemoryFiles::new([
            ("Cargo.toml", CARGO_TOML),
            ("Cargo.lock", "version = 4\n"),
            ("src/main.rs", "fn main() {}\n"),
        ])
    }

    /// Runs inference on an image `docker.io/org/app` at tag `1.2.0`
    /// (VERSION `v1.2.0`), binary `binary_path`, source tag `v1.2.0`.
    fn infer_with(
        platforms: &[PlatformEvidence],
        files: &MemoryFiles,
        binary_path: &str,
        host_rustc: Option<&str>,
    ) -> Result<Inference, InferError> {
        let annotations = BTreeMap::new();
        let evidence = Evidence {
            repository: "docker.io/org/app",
            tag: "1.2.0",
            version: "v1.2.0",
            binary_path,
            annotations: &annotations,
            platforms,
            source: SourceEvidence {
                url: "https://github.com/org/app",
                git_ref: "v1.2.0",
                commit: "0123456789abcdef0123456789abcdef01234567",
                commit_time: 1_700_000_000,
                files,
            },
            toolchains: Toolchains {
                host_go: None,
                go_image: "docker.io/library/golang",
                host_rustc,
                rust_image: "docker.io/library/rust",
            },
        };
        infer(&evidence)
    }

    fn parses(candidate: &Candidate) -> Recipe {
        Recipe::parse("inferred", &candidate.text)
            .unwrap_or_else(|e| panic!("{e}\n{}", candidate.text))
    }

    #[test]
    fn infers_a_cargo_auditable_release_build_for_glibc_binaries() {
        let platforms = [
            platform(
                "linux/amd64",
                elf(62, Some(GLIBC_AMD64), b""),
                rust_info(RUSTC, true),
            ),
            platform(
                "linux/arm64",
                elf(183, Some(GLIBC_ARM64), b""),
                rust_info(RUSTC, true),
            ),
        ];
        let inference =
            infer_with(&platforms, &app_tree(), "/usr/local/bin/app", None).expect("infers");
        assert_eq!(inference.ecosystem, Ecosystem::Rust);
        let labels: Vec<&str> = inference
            .candidates
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(
            labels,
            vec![
                "cargo auditable build --release --locked --bin app",
                "cargo build --release --locked --bin app (without cargo-auditable: differs by .dep-v0 at least)",
            ]
        );
        assert_eq!(
            inference.candidates[0].text,
            r#"# Inferred by rebuild-compare from the image binary: rustc 1.75.0, binary target app.
[image]
repository = "docker.io/org/app"
tag = "{version_bare}"
binary = "/usr/local/bin/app"

[source]
git = "https://github.com/org/app"
ref = "{version}"

[build]
builder = "docker.io/library/rust:1.75.0"
fetch = ["cargo", "fetch", "--locked"]
command = ["cargo", "auditable", "build", "--release", "--locked", "--offline", "--bin", "app"]
cargo_bin = "app"
env = { CARGO_HOME = "/cache/cargo" }

[build.platforms."linux/amd64"]
env = { CARGO_BUILD_TARGET = "x86_64-unknown-linux-gnu" }

[build.platforms."linux/arm64"]
env = { CARGO_BUILD_TARGET = "aarch64-unknown-linux-gnu" }
"#
        );
        for candidate in &inference.candidates {
            let recipe = parses(candidate);
            assert!(matches!(&recipe.build.output, ArtifactSpec::CargoBin(name) if name == "app"));
            assert!(
                matches!(&recipe.build.builder, Builder::Image(t) if t.as_str() == "docker.io/library/rust:1.75.0")
            );
            assert_eq!(recipe.build.platforms.len(), 2);
        }
        assert!(inference
            .notes
            .iter()
            .any(|n| n.contains("cargo auditable build")));
    }

    #[test]
    fn a_binary_without_dep_v0_gets_a_plain_cargo_build() {
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference =
            infer_with(&platforms, &app_tree(), "/usr/local/bin/app", None).expect("infers");
        assert_eq!(inference.candidates.len(), 1);
        assert!(inference.candidates[0].text.contains(
            r#"command = ["cargo", "build", "--release", "--locked", "--offline", "--bin", "app"]"#
        ));
        assert!(inference
            .notes
            .iter()
            .any(|n| n.contains("no cargo-auditable dependency list")));
        parses(&inference.candidates[0]);
    }

    #[test]
    fn static_binaries_build_for_musl_on_the_alpine_image_or_with_crt_static() {
        let musl = [
            platform("linux/amd64", elf(62, None, b""), rust_info(RUSTC, true)),
            platform(
                "linux/arm64",
                elf(183, Some("/lib/ld-musl-aarch64.so.1"), b""),
                rust_info(RUSTC, true),
            ),
        ];
        let inference = infer_with(&musl, &app_tree(), "/app", None).expect("infers");
        let text = &inference.candidates[0].text;
        assert!(
            text.contains("builder = \"docker.io/library/rust:1.75.0-alpine\"\n"),
            "{text}"
        );
        assert!(text.contains("env = { CARGO_BUILD_TARGET = \"x86_64-unknown-linux-musl\" }"));
        assert!(text.contains("env = { CARGO_BUILD_TARGET = \"aarch64-unknown-linux-musl\" }"));
        parses(&inference.candidates[0]);

        let glibc_static = [platform(
            "linux/amd64",
            elf(62, None, b"\0GLIBC_TUNABLES\0"),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&glibc_static, &app_tree(), "/app", None).expect("infers");
        let text = &inference.candidates[0].text;
        assert!(
            text.contains("builder = \"docker.io/library/rust:1.75.0\"\n"),
            "{text}"
        );
        assert!(text.contains(
            "env = { CARGO_BUILD_TARGET = \"x86_64-unknown-linux-gnu\", RUSTFLAGS = \"-C target-feature=+crt-static\" }"
        ));
        parses(&inference.candidates[0]);

        let dynamic_musl = [platform(
            "linux/amd64",
            elf(62, Some(MUSL_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&dynamic_musl, &app_tree(), "/app", None).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("x86_64-unknown-linux-musl"));
    }

    #[test]
    fn the_host_builds_when_its_rustc_is_the_binary_s_version() {
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference =
            infer_with(&platforms, &app_tree(), "/app", Some("1.75.0")).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("builder = \"host\"\n"));
        assert_eq!(
            parses(&inference.candidates[0]).build.builder,
            Builder::Host
        );
        let inference =
            infer_with(&platforms, &app_tree(), "/app", Some("1.76.0")).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("builder = \"docker.io/library/rust:1.75.0\"\n"));
    }

    #[test]
    fn an_embedded_cargo_home_puts_a_remapped_candidate_first() {
        let payload = b"\0/home/runner/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.190/src/de/mod.rs\0\
/home/runner/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.190/src/ser/mod.rs\0\
x/home/runner/.cargo/git/checkouts/mylib-0123456789abcdef/0123456/src/lib.rs\0\
/rustc/82e1608dfa6e0b5569232559e3d385fea5a93112/library/std/src/io/mod.rs\0";
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), payload),
            rust_info(RUSTC, true),
        )];
        let inference = infer_with(&platforms, &app_tree(), "/app", None).expect("infers");
        let labels: Vec<&str> = inference
            .candidates
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(
            labels,
            vec![
                "cargo auditable build --release --locked --bin app, /cache/cargo remapped to /home/runner/.cargo",
                "cargo auditable build --release --locked --bin app",
                "cargo build --release --locked --bin app, /cache/cargo remapped to /home/runner/.cargo (without cargo-auditable: differs by .dep-v0 at least)",
            ]
        );
        assert!(inference.candidates[0].text.contains(
            "env = { CARGO_BUILD_TARGET = \"x86_64-unknown-linux-gnu\", RUSTFLAGS = \"--remap-path-prefix=/cache/cargo=/home/runner/.cargo\" }"
        ));
        assert!(!inference.candidates[1].text.contains("RUSTFLAGS"));
        for candidate in &inference.candidates {
            parses(candidate);
        }
        assert!(inference
            .notes
            .iter()
            .any(|n| n.contains("/home/runner/.cargo")));
    }

    #[test]
    fn platforms_embedding_other_cargo_homes_get_groups_of_their_own() {
        let home = |dir: &str| {
            format!("\0{dir}/registry/src/index/serde-1.0.190/src/lib.rs\0").into_bytes()
        };
        let platforms = [
            platform("linux/amd64", home("/home/runner/.cargo"), None),
            platform("linux/arm64", home("/root/.cargo"), None),
            platform("linux/s390x", home("/home/runner/.cargo"), None),
            platform("linux/ppc64le", b"no home".to_vec(), None),
        ];
        let files = app_tree();
        let annotations = BTreeMap::new();
        let evidence = Evidence {
            repository: "docker.io/org/app",
            tag: "1.2.0",
            version: "v1.2.0",
            binary_path: "/app",
            annotations: &annotations,
            platforms: &platforms,
            source: SourceEvidence {
                url: "https://github.com/org/app",
                git_ref: "v1.2.0",
                commit: "0123456789abcdef0123456789abcdef01234567",
                commit_time: 1_700_000_000,
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
    }

    #[test]
    fn cargo_homes_with_odd_bytes_or_the_recipe_s_own_are_not_remapped() {
        assert_eq!(
            cargo_home(b"\0/cache/cargo/registry/src/x\0").as_deref(),
            Some(CARGO_HOME)
        );
        assert_eq!(
            cargo_home(b"C:\\Users\\x\\.cargo/registry/src/x").as_deref(),
            None
        );
        // Strings back to back: the longest suffix before the most paths.
        assert_eq!(
            cargo_home(b"a `None` value/home/runner/.cargo/registry/src/a.rs/home/runner/.cargo/registry/src/b.rs").as_deref(),
            Some("/home/runner/.cargo")
        );
        assert_eq!(cargo_home(b"registry/src/"), None);
        assert_eq!(cargo_home(b"/registry/src/"), None);
        assert_eq!(cargo_home(b"/a/../b/registry/src/x"), None);
        assert_eq!(
            cargo_home(b"\xff/usr/local/cargo/registry/src/x").as_deref(),
            Some("/usr/local/cargo")
        );
        let platforms = [platform(
            "linux/amd64",
            elf(
                62,
                Some(GLIBC_AMD64),
                b"\0/cache/cargo/registry/src/x/lib.rs\0",
            ),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&platforms, &app_tree(), "/app", None).expect("infers");
        assert_eq!(inference.candidates.len(), 1);
        assert!(!inference.candidates[0].text.contains("RUSTFLAGS"));
    }

    #[test]
    fn a_binary_of_a_workspace_member_is_built_with_its_package() {
        let files = MemoryFiles::new([
            ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
            ("Cargo.lock", "version = 4\n"),
            ("crates/core/Cargo.toml", "[package]\nname = \"core\"\nversion = \"0.1.0\"\n"),
            ("crates/core/src/lib.rs", ""),
            (
                "crates/cli/Cargo.toml",
                "[package]\nname = \"app-cli\"\nversion = \"1.2.0\"\n\n[[bin]]\nname = \"app\"\npath = \"src/main.rs\"\n",
            ),
            ("crates/cli/src/main.rs", "fn main() {}\n"),
            ("crates/cli/src/bin/helper.rs", "fn main() {}\n"),
            ("crates/cli/src/bin/tool/main.rs", "fn main() {}\n"),
        ]);
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&platforms, &files, "/usr/bin/app", None).expect("infers");
        assert!(inference.candidates[0].text.contains(
            r#"command = ["cargo", "build", "--release", "--locked", "--offline", "--package", "app-cli", "--bin", "app"]"#
        ));
        let inference = infer_with(&platforms, &files, "/usr/bin/tool", None).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("cargo_bin = \"tool\"\n"));
        let names: Vec<String> = binary_targets(&files).into_iter().map(|t| t.name).collect();
        assert_eq!(names, vec!["app", "app-cli", "helper", "tool"]);
    }

    #[test]
    fn a_renamed_binary_is_the_only_target_of_the_crates_it_was_built_from() {
        let files = MemoryFiles::new([
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"xtask\"]\n",
            ),
            ("app/Cargo.toml", CARGO_TOML),
            ("app/src/main.rs", "fn main() {}\n"),
            (
                "xtask/Cargo.toml",
                "[package]\nname = \"xtask\"\nversion = \"0.0.0\"\n",
            ),
            ("xtask/src/main.rs", "fn main() {}\n"),
        ]);
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, true),
        )];
        let inference =
            infer_with(&platforms, &files, "/usr/local/bin/server", None).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("cargo_bin = \"app\"\n"));
        assert!(inference.notes.contains(
            &"the image calls the binary server; the tag's only binary target of the crates it was built from is app".to_string()
        ));
        // Without cargo-auditable data, two targets leave it open.
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let err =
            infer_with(&platforms, &files, "/usr/local/bin/server", None).expect_err("ambiguous");
        assert_eq!(
            err.to_string(),
            "the image binary server is not a binary target of the tag's Cargo.toml files (app, xtask): write a recipe with the right cargo_bin (see recipes/README.md)"
        );
    }

    #[test]
    fn binaries_that_name_no_usable_toolchain_are_errors() {
        let files = app_tree();
        let binary = || elf(62, Some(GLIBC_AMD64), b"");
        let no_rustc = [platform(
            "linux/amd64",
            binary(),
            Some(RustInfo {
                rustc: None,
                packages: Some(Vec::new()),
            }),
        )];
        let err = infer_with(&no_rustc, &files, "/app", None).expect_err("no rustc");
        assert!(
            err.to_string()
                .starts_with("the image binary for linux/amd64 does not name its rustc version"),
            "{err}"
        );

        let nightly = "rustc version 1.77.0-nightly (abcdef012 2024-01-01)";
        let platforms = [platform("linux/amd64", binary(), rust_info(nightly, false))];
        let err = infer_with(&platforms, &files, "/app", None).expect_err("nightly");
        assert!(
            err.to_string()
                .contains("rustc 1.77.0-nightly, not a stable release"),
            "{err}"
        );
        let inference =
            infer_with(&platforms, &files, "/app", Some("1.77.0-nightly")).expect("host has it");
        assert!(inference.candidates[0]
            .text
            .contains("builder = \"host\"\n"));

        let mixed = [
            platform("linux/amd64", binary(), rust_info(RUSTC, false)),
            platform(
                "linux/arm64",
                elf(183, Some(GLIBC_ARM64), b""),
                rust_info("rustc version 1.76.0 (07dca489a 2024-02-04)", false),
            ),
        ];
        let err = infer_with(&mixed, &files, "/app", None).expect_err("mixed");
        assert!(
            err.to_string()
                .contains("1.75.0 for linux/amd64, 1.76.0 for linux/arm64"),
            "{err}"
        );

        let not_elf = [platform(
            "linux/amd64",
            b"#!/bin/sh\n".to_vec(),
            rust_info(RUSTC, false),
        )];
        let err = infer_with(&not_elf, &files, "/app", None).expect_err("not ELF");
        assert!(
            err.to_string()
                .starts_with("the image binary for linux/amd64 is not an ELF file"),
            "{err}"
        );
        let truncated = {
            let mut b = binary();
            b.truncate(80);
            b
        };
        let truncated = [platform("linux/amd64", truncated, rust_info(RUSTC, false))];
        assert!(infer_with(&truncated, &files, "/app", None).is_err());

        let windows = [platform("windows/amd64", binary(), rust_info(RUSTC, false))];
        let err = infer_with(&windows, &files, "/app", None).expect_err("windows");
        assert!(
            err.to_string()
                .starts_with("no Rust target is known for platform windows/amd64"),
            "{err}"
        );

        let empty = MemoryFiles::new([("README.md", "")]);
        let platforms = [platform("linux/amd64", binary(), rust_info(RUSTC, false))];
        let err = infer_with(&platforms, &empty, "/app", None).expect_err("no Cargo.toml");
        assert!(err
            .to_string()
            .starts_with("the tag has no Cargo.toml with a binary target"));
    }

    #[test]
    fn tags_are_written_as_version_templates_where_they_hold_the_version() {
        let template = |value: &str| version_template(value, "v1.2.0", "image tag");
        assert_eq!(template("v1.2.0").expect("ok"), "{version}");
        assert_eq!(template("1.2.0").expect("ok"), "{version_bare}");
        assert_eq!(
            template("1.2.0-alpine").expect("ok"),
            "{version_bare}-alpine"
        );
        assert_eq!(template("app-v1.2.0").expect("ok"), "app-{version}");
        assert_eq!(template("latest").expect("ok"), "latest");
        assert!(template("{x}").is_err());
    }

    #[test]
    fn a_real_binary_from_the_host_rustc_links_glibc() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("main.rs");
        let built = dir.path().join("hello");
        std::fs::write(&source, "fn main() { println!(\"hi\"); }\n").expect("write main.rs");
        let status = std::process::Command::new("rustc")
            .arg("-o")
            .arg(&built)
            .arg(&source)
            .status()
            .expect("rustc is not installed: run scripts/install-test-deps.sh");
        assert!(status.success(), "rustc failed");
        let binary = std::fs::read(&built).expect("built binary");
        assert_eq!(libc_of(&binary), Ok(Libc::Gnu));
    }
}
