//! Key-by-key comparison of the metadata two binaries embed: their Go
//! build info and their Rust toolchain and dependency list (each read by
//! [`crate::binary`]).

use serde::{Deserialize, Serialize};

use crate::binary::{GoBuildInfo, RustInfo};

/// A key whose value differs (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDifference {
    pub key: String,
    pub a: Option<String>,
    pub b: Option<String>,
}

/// Compares two build infos key by key (keys in A's order, then B-only).
pub fn compare_go(a: Option<&GoBuildInfo>, b: Option<&GoBuildInfo>) -> Vec<KeyDifference> {
    compare_pairs(
        &a.map(GoBuildInfo::flatten).unwrap_or_default(),
        &b.map(GoBuildInfo::flatten).unwrap_or_default(),
    )
}

/// Compares Rust metadata key by key (`rustc`, `dep:<name>`).
pub fn compare_rust(a: Option<&RustInfo>, b: Option<&RustInfo>) -> Vec<KeyDifference> {
    compare_pairs(
        &a.map(RustInfo::flatten).unwrap_or_default(),
        &b.map(RustInfo::flatten).unwrap_or_default(),
    )
}

/// Key-by-key differences of two ordered key/value lists.
fn compare_pairs(a: &[(String, String)], b: &[(String, String)]) -> Vec<KeyDifference> {
    let lookup = |list: &[(String, String)], key: &str| {
        list.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
    };
    let mut out = Vec::new();
    for (key, value) in a {
        let other = lookup(b, key);
        if other.as_ref() != Some(value) {
            out.push(KeyDifference {
                key: key.clone(),
                a: Some(value.clone()),
                b: other,
            });
        }
    }
    for (key, value) in b {
        if lookup(a, key).is_none() {
            out.push(KeyDifference {
                key: key.clone(),
                a: None,
                b: Some(value.clone()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::gobuildinfo::parse_modinfo;
    use crate::binary::RustPackage;

    #[test]
    fn differences_are_listed_key_by_key() {
        let a = parse_modinfo("build\tvcs.modified=false\nbuild\tGOAMD64=v1\n");
        let b = parse_modinfo("build\tvcs.modified=true\nbuild\tCGO_ENABLED=1\n");
        let diffs = compare_go(Some(&a), Some(&b));
        let keys: Vec<_> = diffs
            .iter()
            .map(|d| (d.key.as_str(), d.a.as_deref(), d.b.as_deref()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("build:vcs.modified", Some("false"), Some("true")),
                ("build:GOAMD64", Some("v1"), None),
                ("build:CGO_ENABLED", None, Some("1")),
            ]
        );
    }

    #[test]
    fn dependency_version_changes_are_differences() {
        let info = |v: &str| RustInfo {
            rustc: Some("rustc version 1.75.0".into()),
            packages: Some(vec![RustPackage {
                name: "serde".into(),
                version: v.into(),
                source: Some("crates.io".into()),
            }]),
            registry_crates: Vec::new(),
        };
        let diffs = compare_rust(Some(&info("1.0.1")), Some(&info("1.0.2")));
        assert_eq!(diffs.len(), 1);
        assert_eq!(diffs[0].key, "dep:serde");
        assert_eq!(diffs[0].b.as_deref(), Some("1.0.2 (crates.io)"));
    }
}
