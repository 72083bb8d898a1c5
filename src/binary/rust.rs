//! Toolchain metadata: the `.comment` compiler identification strings
//! (`rustc version 1.75.0 (...)`, `GCC: (Debian 12.2.0-14) 12.2.0`) and,
//! for Rust binaries built with cargo-auditable, the `.dep-v0` dependency
//! list (zlib-compressed JSON); without it, the crates whose Cargo
//! registry paths the binary embeds (panic locations:
//! `…/registry/src/index.crates.io-…/smallvec-1.13.2/src/lib.rs`).

use std::io::Read;

use flate2::read::ZlibDecoder;
use serde::{Deserialize, Serialize};

use super::layout::Layout;

/// Largest decompressed `.dep-v0` accepted (guards against zlib bombs).
pub const MAX_DEP_INFO_BYTES: u64 = 16 * 1024 * 1024;

/// Registry paths looked at in a binary.
const MAX_REGISTRY_PATHS: usize = 65_536;

/// Longest `NAME-VERSION` directory taken from a registry path.
const MAX_CRATE_DIR_LEN: usize = 200;

/// A package of the cargo-auditable dependency list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustPackage {
    pub name: String,
    pub version: String,
    pub source: Option<String>,
}

/// Rust-specific metadata of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RustInfo {
    /// `rustc version 1.75.0 (82e1608df 2023-12-21)` from `.comment`.
    pub rustc: Option<String>,
    /// The cargo-auditable dependency list, when the binary carries one.
    pub packages: Option<Vec<RustPackage>>,
    /// Without a dependency list: the crates whose registry paths the
    /// binary embeds (those with panic locations in the binary, not all),
    /// sorted, `source` `crates.io` or `registry`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_crates: Vec<RustPackage>,
}

/// The distinct non-empty NUL-separated strings of the `.comment` section.
pub fn comment_strings(layout: &Layout<'_>) -> Vec<String> {
    let Some((_, comment, _)) = layout.section(".comment") else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for part in comment.split(|&b| b == 0) {
        let text = String::from_utf8_lossy(part).trim().to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

impl RustInfo {
    /// Rust metadata from a file's `.comment` strings, its readable
    /// dependency list and (without one) the registry paths of `data`, or
    /// `None` when it shows no sign of being a Rust binary.
    pub fn new(
        comments: &[String],
        packages: Option<Vec<RustPackage>>,
        data: &[u8],
    ) -> Option<Self> {
        let rustc = comments.iter().find(|c| c.starts_with("rustc ")).cloned();
        let registry_crates = match (&rustc, &packages) {
            (Some(_), None) => registry_crates(data),
            _ => Vec::new(),
        };
        (rustc.is_some() || packages.is_some()).then_some(RustInfo {
            rustc,
            packages,
            registry_crates,
        })
    }

    /// Key/value view: `rustc`, `dep:<name>` -> `version (source)`.
    pub fn flatten(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(rustc) = &self.rustc {
            out.push(("rustc".to_string(), rustc.clone()));
        }
        for package in self.packages.iter().flatten().chain(&self.registry_crates) {
            let mut value = package.version.clone();
            if let Some(source) = &package.source {
                value.push_str(&format!(" ({source})"));
            }
            let key = format!("dep:{}", package.name);
            if let Some(existing) = out.iter_mut().find(|(k, _)| *k == key) {
                existing.1.push_str(&format!(", {value}"));
            } else {
                out.push((key, value));
            }
        }
        out
    }
}

/// The crates named by the Cargo registry paths in `data`
/// (`/registry/src/INDEX-HASH/NAME-VERSION/`), sorted and distinct: source
/// `crates.io` for crates.io's index directories, else `registry`.
pub fn registry_crates(data: &[u8]) -> Vec<RustPackage> {
    const MARKER: &[u8] = b"/registry/src/";
    let mut found = std::collections::BTreeSet::new();
    let finder = memchr::memmem::Finder::new(MARKER);
    for at in finder.find_iter(data).take(MAX_REGISTRY_PATHS) {
        let rest = &data[at + MARKER.len()..];
        let mut parts = rest.splitn(3, |&b| b == b'/');
        let (Some(index), Some(dir), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Some((name, version)) = std::str::from_utf8(dir)
            .ok()
            .filter(|dir| dir.len() <= MAX_CRATE_DIR_LEN)
            .and_then(split_crate_dir)
        else {
            continue;
        };
        let crates_io = index.starts_with(b"index.crates.io-")
            || index.starts_with(b"github.com-1ecc6299db9ec823");
        found.insert((
            name.to_string(),
            version.to_string(),
            if crates_io { "crates.io" } else { "registry" },
        ));
    }
    found
        .into_iter()
        .map(|(name, version, source)| RustPackage {
            name,
            version,
            source: Some(source.to_string()),
        })
        .collect()
}

/// `("wasm-bindgen", "0.2.92")` from `wasm-bindgen-0.2.92`: the name is
/// what comes before the first `-` that a semantic version follows.
fn split_crate_dir(dir: &str) -> Option<(&str, &str)> {
    dir.match_indices('-').find_map(|(at, _)| {
        let (name, version) = (&dir[..at], &dir[at + 1..]);
        let is_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        (is_name && is_semver(version)).then_some((name, version))
    })
}

/// `MAJOR.MINOR.PATCH`, then optionally `-PRE` and/or `+BUILD` of
/// alphanumerics, `.` and `-`.
fn is_semver(version: &str) -> bool {
    let end = version.find(['-', '+']).unwrap_or(version.len());
    let (core, extra) = version.split_at(end);
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        && (extra.is_empty()
            || (extra.len() > 1
                && extra[1..]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+')))
}

/// The cargo-auditable dependency list of a parsed file, when it has a
/// `.dep-v0` section: the packages, or why they cannot be read (a check of
/// its dependencies must then say it could not run).
pub fn dependencies(layout: &Layout<'_>) -> Option<Result<Vec<RustPackage>, DepInfoError>> {
    use object::{Object, ObjectSection};
    let section = layout.objects.iter().find_map(|object| {
        object
            .file
            .sections()
            .find(|s| s.name().is_ok_and(|n| n.ends_with(".dep-v0")))
    })?;
    Some(
        section
            .data()
            .map_err(|e| DepInfoError::Section(e.to_string()))
            .and_then(decode_dep_info),
    )
}

/// Why a `.dep-v0` section could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DepInfoError {
    #[error("section data: {0}")]
    Section(String),
    #[error("zlib: {0}")]
    Zlib(String),
    #[error("larger than {MAX_DEP_INFO_BYTES} bytes decompressed")]
    TooLarge,
    #[error("JSON: {0}")]
    Json(String),
}

/// Decompresses and parses a cargo-auditable `.dep-v0` section.
pub fn decode_dep_info(compressed: &[u8]) -> Result<Vec<RustPackage>, DepInfoError> {
    let mut json = Vec::new();
    ZlibDecoder::new(compressed)
        .take(MAX_DEP_INFO_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(|e| DepInfoError::Zlib(e.to_string()))?;
    if json.len() as u64 > MAX_DEP_INFO_BYTES {
        return Err(DepInfoError::TooLarge);
    }
    #[derive(serde::Deserialize)]
    struct DepInfo {
        packages: Vec<Package>,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
        version: String,
        source: Option<String>,
    }
    let info: DepInfo =
        serde_json::from_slice(&json).map_err(|e| DepInfoError::Json(e.to_string()))?;
    Ok(info
        .packages
        .into_iter()
        .map(|p| RustPackage {
            name: p.name,
            version: p.version,
            source: p.source,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::ZlibEncoder;
    use flate2::Compression;
    use std::io::Write;

    fn compress(json: &str) -> Vec<u8> {
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(json.as_bytes()).expect("in-memory write");
        encoder.finish().expect("in-memory write")
    }

    #[test]
    fn decodes_cargo_auditable_dependency_list() {
        let json = r#"{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true},
            {"name":"serde","version":"1.0.190","source":"crates.io","dependencies":[]}]}"#;
        let packages = decode_dep_info(&compress(json)).expect("decodes");
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[1].name, "serde");
        assert_eq!(packages[1].source.as_deref(), Some("crates.io"));
    }

    #[test]
    fn crates_are_read_from_the_registry_paths_the_binary_embeds() {
        let data = b"\0/usr/local/cargo/registry/src/index.crates.io-1949cf8c6b5b557f/smallvec-1.13.2/src/lib.rs\0\
            x/home/u/.cargo/registry/src/github.com-1ecc6299db9ec823/wasm-bindgen-0.2.92/src/lib.rs\
            /c/registry/src/my.registry-0123/foo-2d-1.0.0-beta.1/src/a.rs\
            /usr/local/cargo/registry/src/index.crates.io-1949cf8c6b5b557f/smallvec-1.13.2/src/arbitrary.rs\
            /registry/src/index.crates.io-1/not-a-version/src/x.rs /registry/src/index.crates.io-1/itoa-1.0";
        let found: Vec<(String, String, Option<String>)> = registry_crates(data)
            .into_iter()
            .map(|p| (p.name, p.version, p.source))
            .collect();
        let crate_ =
            |n: &str, v: &str, s: &str| (n.to_string(), v.to_string(), Some(s.to_string()));
        assert_eq!(
            found,
            vec![
                crate_("foo-2d", "1.0.0-beta.1", "registry"),
                crate_("smallvec", "1.13.2", "crates.io"),
                crate_("wasm-bindgen", "0.2.92", "crates.io"),
            ]
        );
    }

    #[test]
    fn registry_paths_are_read_only_without_a_dependency_list() {
        let data = b"/c/registry/src/index.crates.io-1/itoa-1.0.11/src/lib.rs";
        let comments = vec!["rustc version 1.95.0 (59807616e 2026-04-14)".to_string()];
        let plain = RustInfo::new(&comments, None, data).expect("a Rust binary");
        assert_eq!(plain.registry_crates.len(), 1);
        assert_eq!(
            plain.flatten()[1],
            ("dep:itoa".to_string(), "1.0.11 (crates.io)".to_string())
        );
        let auditable = RustInfo::new(&comments, Some(Vec::new()), data).expect("a Rust binary");
        assert!(auditable.registry_crates.is_empty());
        assert_eq!(RustInfo::new(&[], None, data), None);
    }

    #[test]
    fn garbage_dep_info_is_an_error() {
        assert!(decode_dep_info(b"not zlib").is_err());
        assert!(decode_dep_info(&compress("{}")).is_err());
    }
}
