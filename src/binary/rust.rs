//! Toolchain metadata: the `.comment` compiler identification strings
//! (`rustc version 1.75.0 (...)`, `GCC: (Debian 12.2.0-14) 12.2.0`) and,
//! for Rust binaries built with cargo-auditable, the `.dep-v0` dependency
//! list (zlib-compressed JSON).

use std::io::Read;

use flate2::read::ZlibDecoder;
use serde::{Deserialize, Serialize};

use super::layout::Layout;

/// Largest decompressed `.dep-v0` accepted (guards against zlib bombs).
pub const MAX_DEP_INFO_BYTES: u64 = 16 * 1024 * 1024;

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
    /// Rust metadata from a file's `.comment` strings and its readable
    /// dependency list, or `None` when it shows no sign of being a Rust
    /// binary.
    pub fn new(comments: &[String], packages: Option<Vec<RustPackage>>) -> Option<Self> {
        let rustc = comments.iter().find(|c| c.starts_with("rustc ")).cloned();
        (rustc.is_some() || packages.is_some()).then_some(RustInfo { rustc, packages })
    }

    /// Key/value view: `rustc`, `dep:<name>` -> `version (source)`.
    pub fn flatten(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(rustc) = &self.rustc {
            out.push(("rustc".to_string(), rustc.clone()));
        }
        for package in self.packages.iter().flatten() {
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
    fn garbage_dep_info_is_an_error() {
        assert!(decode_dep_info(b"not zlib").is_err());
        assert!(decode_dep_info(&compress("{}")).is_err());
    }
}
