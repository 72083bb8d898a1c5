//! Release inputs: what a recipe reads from the published binary of each
//! platform before building it (`{go_version}`, `{go_setting:NAME}`,
//! `{vcs_revision}`, `{vcs_time}`, `{input:NAME}` of `[inputs]`).
//!
//! They are the inputs that change with every release and that only the
//! published binary records: the toolchain, the build time. A pass with
//! them says "reproducible given these inputs", so every value is listed in
//! the report, and each is checked to be short printable text; where it may
//! land in a command, [`crate::rebuild::recipe::template`] refuses anything
//! but plain words.

use std::collections::BTreeMap;
use std::path::Path;

use super::recipe::template::{GO_SETTING_PREFIX, INPUT_PREFIX};
use super::recipe::Recipe;
use crate::binary::GoBuildInfo;

/// Longest value accepted from the published binary.
pub const MAX_INPUT_LEN: usize = 1024;
/// How many distinct matches of a `from_binary` pattern are collected
/// before giving up (one is wanted).
const MAX_SHOWN_MATCHES: usize = 5;

/// Why a release input could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read the image binary {}: {source}", path.display())]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("the recipe uses {{{name}}}, but the image binary has no Go build info (it is not a Go binary, or was built before Go 1.13)")]
    NotGo { name: String },
    #[error("the recipe uses {{{name}}}, but the image binary's Go build info records no {setting} setting")]
    NoSetting { name: String, setting: String },
    #[error("inputs.{name}: from_binary {pattern:?} matches nothing in the image binary")]
    NoMatch { name: String, pattern: String },
    #[error("inputs.{name}: from_binary {pattern:?} matches {count} distinct values in the image binary ({shown}); it must match exactly one: make the pattern more specific")]
    Ambiguous {
        name: String,
        pattern: String,
        count: String,
        shown: String,
    },
    #[error("inputs.{name}: the value read from the image binary is not printable text of at most {MAX_INPUT_LEN} bytes: {value:?}")]
    NotText { name: String, value: String },
}

/// Reads the release inputs `recipe` uses from the image binary at
/// `binary`, whose Go build info (already read) is `go`, by placeholder
/// name (`go_version` → `1.21.13`, `input:build_date` →
/// `2025-03-11T19:58:53Z`). Empty when it uses none.
pub fn read(
    recipe: &Recipe,
    binary: &Path,
    go: Option<&GoBuildInfo>,
) -> Result<BTreeMap<String, String>, InputError> {
    let used = recipe.used_inputs();
    let mut values = BTreeMap::new();
    if used.is_empty() {
        return Ok(values);
    }
    let read_error = |source| InputError::Read {
        path: binary.to_path_buf(),
        source,
    };
    let mut bytes: Option<Vec<u8>> = None;
    for name in used {
        let value = if let Some(input) = name.strip_prefix(INPUT_PREFIX) {
            let Some(spec) = recipe.inputs.get(input) else {
                continue;
            };
            if bytes.is_none() {
                bytes = Some(std::fs::read(binary).map_err(read_error)?);
            }
            let data = bytes.as_deref().unwrap_or_default();
            from_binary(input, &spec.pattern, &spec.from_binary, data)?
        } else {
            let Some(info) = go else {
                return Err(InputError::NotGo { name });
            };
            go_fact(&name, info)?
        };
        check_text(&name, &value)?;
        values.insert(name, value);
    }
    Ok(values)
}

/// A fact of the Go build info by placeholder name.
fn go_fact(name: &str, info: &GoBuildInfo) -> Result<String, InputError> {
    let setting = |key: &str| {
        info.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.clone())
            .ok_or_else(|| InputError::NoSetting {
                name: name.to_string(),
                setting: key.to_string(),
            })
    };
    match name {
        "go_version_full" => Ok(info.go_version.clone()),
        "go_version" => {
            let full = info.go_version.split(' ').next().unwrap_or_default();
            Ok(full.strip_prefix("go").unwrap_or(full).to_string())
        }
        "vcs_revision" => setting("vcs.revision"),
        "vcs_time" => setting("vcs.time"),
        other => setting(other.strip_prefix(GO_SETTING_PREFIX).unwrap_or(other)),
    }
}

/// The one distinct value `pattern` matches in `data`: its first capture
/// group when it has one, else the whole match.
fn from_binary(
    name: &str,
    written: &str,
    pattern: &regex::bytes::Regex,
    data: &[u8],
) -> Result<String, InputError> {
    let mut distinct: Vec<&[u8]> = Vec::new();
    let mut more = false;
    for captures in pattern.captures_iter(data) {
        let Some(found) = captures.get(1).or_else(|| captures.get(0)) else {
            continue;
        };
        let value = found.as_bytes();
        if distinct.contains(&value) {
            continue;
        }
        if distinct.len() == MAX_SHOWN_MATCHES {
            more = true;
            break;
        }
        distinct.push(value);
    }
    match distinct.as_slice() {
        [] => Err(InputError::NoMatch {
            name: name.to_string(),
            pattern: written.to_string(),
        }),
        [one] => Ok(String::from_utf8_lossy(one).into_owned()),
        many => Err(InputError::Ambiguous {
            name: name.to_string(),
            pattern: written.to_string(),
            count: if more {
                format!("more than {MAX_SHOWN_MATCHES}")
            } else {
                many.len().to_string()
            },
            shown: many
                .iter()
                .map(|v| format!("{:?}", String::from_utf8_lossy(&v[..v.len().min(80)])))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// A value is short printable ASCII (spaces allowed, no control bytes).
fn check_text(name: &str, value: &str) -> Result<(), InputError> {
    let printable = value.bytes().all(|b| (0x20..0x7f).contains(&b));
    if printable && !value.is_empty() && value.len() <= MAX_INPUT_LEN {
        return Ok(());
    }
    let shown: String = value.chars().take(120).collect();
    Err(InputError::NotText {
        name: name.strip_prefix(INPUT_PREFIX).unwrap_or(name).to_string(),
        value: shown,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECIPE: &str = r#"[image]
repository = "example/app"
tag = "{version}"

[source]
git = "https://example.com/app"
ref = "{version}"

[inputs.build_date]
from_binary = '(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ)'

[build]
builder = "host"
command = ["go", "build", "-ldflags=-X main.date={input:build_date}", "-o", "/out/app", "."]
artifact = "/out/app"
source_date_epoch = "{input:build_date}"

[build.platforms."linux/amd64"]
"#;

    fn recipe() -> Recipe {
        Recipe::parse("test.toml", RECIPE).unwrap()
    }

    fn regex(pattern: &str) -> regex::bytes::Regex {
        regex::bytes::Regex::new(pattern).unwrap()
    }

    #[test]
    fn a_declared_input_takes_the_one_distinct_value_of_its_pattern() {
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("app");
        std::fs::write(
            &binary,
            b"\x7fELF..2025-03-11T19:58:53Zmain.version..2025-03-11T19:58:53Z.",
        )
        .unwrap();
        let values = read(&recipe(), &binary, None).unwrap();
        assert_eq!(
            values,
            BTreeMap::from([(
                "input:build_date".to_string(),
                "2025-03-11T19:58:53Z".to_string()
            )])
        );
    }

    #[test]
    fn an_input_matching_nothing_or_two_values_is_an_error() {
        let pattern = regex(r"(20\d\d-\d\d-\d\d)");
        assert_eq!(
            from_binary("d", "p", &pattern, b"none")
                .unwrap_err()
                .to_string(),
            "inputs.d: from_binary \"p\" matches nothing in the image binary"
        );
        assert_eq!(
            from_binary("d", "p", &pattern, b"2025-01-01 2024-02-02 2025-01-01")
                .unwrap_err()
                .to_string(),
            "inputs.d: from_binary \"p\" matches 2 distinct values in the image binary (\"2025-01-01\", \"2024-02-02\"); it must match exactly one: make the pattern more specific"
        );
    }

    #[test]
    fn values_must_be_printable_text() {
        assert!(check_text("input:x", "go1.21.13").is_ok());
        assert_eq!(
            check_text("input:x", "a\nb").unwrap_err().to_string(),
            "inputs.x: the value read from the image binary is not printable text of at most 1024 bytes: \"a\\nb\""
        );
    }

    #[test]
    fn go_facts_come_from_the_build_info() {
        let info = crate::binary::gobuildinfo::parse_modinfo(
            "path\texample.com/app\nmod\texample.com/app\t(devel)\t\nbuild\t-tags=netgo\nbuild\tvcs.revision=abc\n",
        );
        let info = GoBuildInfo {
            go_version: "go1.21.13".into(),
            ..info
        };
        assert_eq!(go_fact("go_version", &info).unwrap(), "1.21.13");
        assert_eq!(go_fact("go_version_full", &info).unwrap(), "go1.21.13");
        assert_eq!(go_fact("go_setting:-tags", &info).unwrap(), "netgo");
        assert_eq!(go_fact("vcs_revision", &info).unwrap(), "abc");
        assert_eq!(
            go_fact("vcs_time", &info).unwrap_err().to_string(),
            "the recipe uses {vcs_time}, but the image binary's Go build info records no vcs.time setting"
        );
    }
}
