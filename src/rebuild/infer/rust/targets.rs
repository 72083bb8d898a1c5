//! The Cargo binary target to build: every binary target of the tag's
//! `Cargo.toml` files, and the one the image binary is.

use std::collections::BTreeSet;

use crate::rebuild::infer::candidate::InferError;
use crate::rebuild::infer::files::SourceFiles;

/// `Cargo.toml` files read while looking for binary targets.
const MAX_MANIFESTS: usize = 256;

/// Binary targets named in an error.
const MAX_NAMED_TARGETS: usize = 10;

/// The Cargo binary target to build.
pub struct BinTarget {
    pub name: String,
    pub package: String,
    /// The directory of its `Cargo.toml` (`""`: the root).
    pub dir: String,
    pub note: Option<String>,
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
pub fn binary_targets(files: &dyn SourceFiles) -> Vec<BinTarget> {
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
pub fn binary_target(
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
