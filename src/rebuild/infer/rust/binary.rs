//! What a Rust binary tells of its build: the rustc version its
//! `.comment` names, its C library (the ELF interpreter), the target
//! triple that follows, and the Cargo home and build directory its
//! embedded paths show.

use std::collections::BTreeMap;

use object::read::elf::{FileHeader, ProgramHeader};
use object::{elf, Endianness};

use crate::image::platform::Platform;
use crate::rebuild::infer::candidate::InferError;
use crate::rebuild::infer::evidence::PlatformEvidence;

/// Occurrences of a path marker looked at in the binary.
const MAX_PATH_HITS: usize = 4096;

/// Longest directory (Cargo home, build directory) taken from the binary.
const MAX_HOME_LEN: usize = 256;

/// How the binary links the C library.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Libc {
    /// Dynamically against glibc (`ld-linux-*`).
    Gnu,
    /// Statically against glibc (`-C target-feature=+crt-static`).
    GnuStatic,
    /// Against musl, dynamically (`ld-musl-*`) or statically.
    Musl,
}

/// `1.75.0` from every platform's `rustc version 1.75.0 (82e1608df 2023-12-21)`.
pub fn rustc_version(platforms: &[PlatformEvidence]) -> Result<String, InferError> {
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

pub fn is_stable(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// The binary's C library, from its ELF interpreter; a static binary is
/// musl unless it carries glibc's tunables.
pub fn libc_of(binary: &[u8]) -> Result<Libc, String> {
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

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The Rust target triple of a platform.
pub fn triple(platform: &Platform, libc: Libc) -> Result<String, InferError> {
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
/// binary embeds (`/home/runner/.cargo/registry/src/...`).
pub fn cargo_home(binary: &[u8]) -> Option<String> {
    dir_before(binary, &[b"/registry/src/", b"/git/checkouts/"])
}

/// Upstream's build directory, from the paths under its Cargo target
/// directory the binary embeds (`/usr/src/app/target/release/build/app-…/out/…`,
/// files a build script wrote): the directory holding `target`.
pub fn build_dir(binary: &[u8]) -> Option<String> {
    let before = dir_before(binary, &[b"/release/build/"])?;
    let (parent, last) = before.rsplit_once('/')?;
    let target = if last == "target" {
        parent
    } else {
        parent.strip_suffix("/target")?
    };
    (!target.is_empty()).then(|| target.to_string())
}

/// The directory the binary's paths have before `markers`. String
/// literals sit back to back in `.rodata`, so the bytes before a path may
/// belong to another string (`value/home/runner/.cargo`): every
/// `/`-started suffix of the path run before a marker is counted, and the
/// longest of those found before the most markers wins.
fn dir_before(binary: &[u8], markers: &[&[u8]]) -> Option<String> {
    let mut counts: BTreeMap<&[u8], usize> = BTreeMap::new();
    let mut hits = 0;
    for marker in markers {
        let mut at = 0;
        while hits < MAX_PATH_HITS {
            let Some(found) = binary
                .get(at..)
                .and_then(|rest| rest.windows(marker.len()).position(|w| w == *marker))
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
    let dir = std::str::from_utf8(prefix).ok()?;
    let clean =
        dir.len() > 1 && !dir.contains("//") && !dir.split('/').any(|p| p == "." || p == "..");
    clean.then(|| dir.to_string())
}

/// Bytes a directory taken from the binary may have: a Cargo home goes
/// into RUSTFLAGS (split on spaces) and `--remap-path-prefix FROM=TO`.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-' | b'+' | b'@')
}
