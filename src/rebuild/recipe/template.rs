//! Recipe templates: strings with placeholders, checked when the recipe
//! loads and rendered per version and platform.
//!
//! Three kinds of placeholder: the version (`{version}`, `{version_bare}`),
//! the platform (`{os}`, `{arch}`, `{variant}`), and release inputs read
//! from the published binary of the platform (`{go_version}`,
//! `{go_version_full}`, `{go_setting:NAME}`, `{vcs_revision}`,
//! `{vcs_time}`, `{input:NAME}`), which only `[build]` fields may use.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::image::platform::Platform;

/// The values a [`Template`] is rendered with.
#[derive(Debug, Clone, Copy)]
pub struct TemplateVars<'a> {
    /// The version as typed (`v1.30.0`).
    pub version: &'a str,
    /// The platform, for `{os}`, `{arch}`, `{variant}` (empty when `None`).
    pub platform: Option<&'a Platform>,
    /// The platform's release inputs, keyed by placeholder name
    /// (`go_version`, `input:build_date`); `None` where none were read.
    pub inputs: Option<&'a BTreeMap<String, String>>,
}

impl<'a> TemplateVars<'a> {
    /// Values for the version alone.
    pub fn version(version: &'a str) -> Self {
        Self {
            version,
            platform: None,
            inputs: None,
        }
    }

    /// Values for a version and platform, without release inputs.
    pub fn platform(version: &'a str, platform: &'a Platform) -> Self {
        Self {
            version,
            platform: Some(platform),
            inputs: None,
        }
    }
}

/// A string with placeholders, validated at load time (a placeholder is
/// `{name}` or `{kind:name}`, not after `$`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

/// Which placeholders a field accepts.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// `{version}`, `{version_bare}`.
    Version,
    /// The version's and the platform's.
    Platform,
    /// Those and release inputs; `{input:NAME}` for the declared names.
    Build { declared: &'a BTreeSet<String> },
}

/// How a rendered value is used, which decides what a release input may
/// contain: a value read from the published binary is data, never code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueUse {
    /// A program argument, a path or an image reference: only
    /// [`is_plain_word`] values.
    Word,
    /// An environment variable: any printable ASCII.
    Env,
}

/// Why a template could not be rendered for a platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("{{{name}}} has no value: the recipe reads it from the published binary, which only `rebuild-compare IMAGE VERSION` reads (`build` has no image binary)")]
    NoInputs { name: String },
    #[error("the release input {{{name}}} = {value:?} (read from the published binary) may not be used in a command, path or reference: only letters, digits and . _ : + , / = @ % ~ - are allowed there")]
    NotPlain { name: String, value: String },
}

enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

const VERSION_PLACEHOLDERS: &[&str] = &["version", "version_bare"];
const PLATFORM_PLACEHOLDERS: &[&str] = &["os", "arch", "variant"];
/// Release inputs without an argument.
pub const BINARY_PLACEHOLDERS: &[&str] =
    &["go_version", "go_version_full", "vcs_revision", "vcs_time"];
/// The prefix of a Go build setting placeholder (`{go_setting:-tags}`).
pub const GO_SETTING_PREFIX: &str = "go_setting:";
/// The prefix of a declared input's placeholder (`{input:build_date}`).
pub const INPUT_PREFIX: &str = "input:";

/// Whether a placeholder stands for a release input.
fn is_input(name: &str) -> bool {
    BINARY_PLACEHOLDERS.contains(&name)
        || name.starts_with(GO_SETTING_PREFIX)
        || name.starts_with(INPUT_PREFIX)
}

/// Whether `value` may be substituted into a command, path or reference:
/// non-empty, at most 1024 bytes, made of letters, digits and `._:+,/=@%~-`
/// (nothing a shell or a reference parser reads as syntax).
pub fn is_plain_word(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 1024
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:+,/=@%~-".contains(&b))
}

impl Template {
    pub fn parse(text: &str, scope: Scope<'_>) -> Result<Self, String> {
        for piece in pieces(text) {
            let Piece::Placeholder(name) = piece else {
                continue;
            };
            let known = VERSION_PLACEHOLDERS.contains(&name)
                || (!matches!(scope, Scope::Version) && PLATFORM_PLACEHOLDERS.contains(&name))
                || match scope {
                    Scope::Build { declared } => {
                        BINARY_PLACEHOLDERS.contains(&name)
                            || name
                                .strip_prefix(GO_SETTING_PREFIX)
                                .is_some_and(|s| !s.is_empty())
                            || name
                                .strip_prefix(INPUT_PREFIX)
                                .is_some_and(|n| declared.contains(n))
                    }
                    _ => false,
                };
            if known {
                continue;
            }
            if let (Some(input), Scope::Build { declared }) =
                (name.strip_prefix(INPUT_PREFIX), scope)
            {
                let names: Vec<&str> = declared.iter().map(String::as_str).collect();
                return Err(format!(
                    "{{{name}}} in {text:?} names no declared input: add [inputs.{input}] with from_binary (declared: {})",
                    if names.is_empty() { "none".to_string() } else { names.join(", ") }
                ));
            }
            let mut allowed: Vec<String> = VERSION_PLACEHOLDERS
                .iter()
                .map(|p| format!("{{{p}}}"))
                .collect();
            if !matches!(scope, Scope::Version) {
                allowed.extend(PLATFORM_PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")));
            }
            if matches!(scope, Scope::Build { .. }) {
                allowed.extend(BINARY_PLACEHOLDERS.iter().map(|p| format!("{{{p}}}")));
                allowed.push("{go_setting:NAME}".into());
                allowed.push("{input:NAME}".into());
            }
            return Err(format!(
                "unknown placeholder {{{name}}} in {text:?} (allowed here: {})",
                allowed.join(", ")
            ));
        }
        Ok(Self(text.to_string()))
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the template uses `{os}`, `{arch}` or `{variant}`.
    pub fn uses_platform(&self) -> bool {
        pieces(&self.0)
            .iter()
            .any(|p| matches!(p, Piece::Placeholder(n) if PLATFORM_PLACEHOLDERS.contains(n)))
    }

    /// The release inputs the template uses, by placeholder name.
    pub fn inputs(&self) -> impl Iterator<Item = &str> {
        pieces(&self.0).into_iter().filter_map(|p| match p {
            Piece::Placeholder(name) if is_input(name) => Some(name),
            _ => None,
        })
    }

    /// The template with its placeholders replaced; a release input
    /// without a value renders empty (see [`Template::render_checked`]).
    pub fn render(&self, vars: &TemplateVars<'_>) -> String {
        self.render_with(vars, |_, value| Ok(value))
            .unwrap_or_default()
    }

    /// The template rendered for `use_`: a release input must have a value,
    /// and one used as a [`ValueUse::Word`] must be [`is_plain_word`].
    pub fn render_checked(
        &self,
        vars: &TemplateVars<'_>,
        use_: ValueUse,
    ) -> Result<String, RenderError> {
        self.render_with(vars, |name, value| {
            if vars.inputs.is_none() {
                return Err(RenderError::NoInputs {
                    name: name.to_string(),
                });
            }
            if use_ == ValueUse::Word && !is_plain_word(value) {
                return Err(RenderError::NotPlain {
                    name: name.to_string(),
                    value: value.to_string(),
                });
            }
            Ok(value)
        })
    }

    fn render_with<'v>(
        &self,
        vars: &TemplateVars<'v>,
        input: impl Fn(&str, &'v str) -> Result<&'v str, RenderError>,
    ) -> Result<String, RenderError> {
        let mut out = String::with_capacity(self.0.len());
        for piece in pieces(&self.0) {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Placeholder("version") => out.push_str(vars.version),
                Piece::Placeholder("version_bare") => {
                    out.push_str(vars.version.strip_prefix('v').unwrap_or(vars.version))
                }
                Piece::Placeholder("os") => {
                    out.push_str(vars.platform.map_or("", |p| p.os.as_str()))
                }
                Piece::Placeholder("arch") => {
                    out.push_str(vars.platform.map_or("", |p| p.architecture.as_str()))
                }
                Piece::Placeholder("variant") => out.push_str(
                    vars.platform
                        .and_then(|p| p.variant.as_deref())
                        .unwrap_or(""),
                ),
                Piece::Placeholder(name) => {
                    let value = vars
                        .inputs
                        .and_then(|inputs| inputs.get(name))
                        .map_or("", String::as_str);
                    out.push_str(input(name, value)?);
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `name` is a placeholder's name: letters, digits and `_`,
/// optionally followed by `:` and an argument of letters, digits, `_`, `.`
/// and `-` (`go_setting:-tags`, `input:build_date`).
fn is_placeholder_name(name: &str) -> bool {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match name.split_once(':') {
        None => word(name),
        Some((kind, argument)) => {
            word(kind)
                && !argument.is_empty()
                && argument
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        }
    }
}

/// Splits a template into literal text and placeholder names. A placeholder
/// is `{name}` (see [`is_placeholder_name`]) not preceded by `$` (`${HOME}`
/// is shell, not a placeholder); every other brace is literal.
fn pieces(text: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut literal_start = 0;
    let mut search_from = 0;
    while let Some(offset) = text.get(search_from..).and_then(|rest| rest.find('{')) {
        let open = search_from + offset;
        search_from = open + 1;
        let after = text.get(open + 1..).unwrap_or("");
        let Some(close) = after.find('}') else {
            break;
        };
        let name = after.get(..close).unwrap_or("");
        let shell_variable = text.get(..open).is_some_and(|before| before.ends_with('$'));
        if !is_placeholder_name(name) || shell_variable {
            continue;
        }
        if let Some(literal) = text.get(literal_start..open).filter(|l| !l.is_empty()) {
            pieces.push(Piece::Literal(literal));
        }
        pieces.push(Piece::Placeholder(name));
        literal_start = open + 1 + close + 1;
        search_from = literal_start;
    }
    if let Some(literal) = text.get(literal_start..).filter(|l| !l.is_empty()) {
        pieces.push(Piece::Literal(literal));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build_scope(declared: &BTreeSet<String>) -> Scope<'_> {
        Scope::Build { declared }
    }

    #[test]
    fn release_inputs_render_from_the_platforms_values() {
        let declared = BTreeSet::from(["build_date".to_string()]);
        let t = Template::parse(
            "golang:{go_version} {go_setting:-tags} {input:build_date} ${X:-y}",
            build_scope(&declared),
        )
        .unwrap();
        assert_eq!(
            t.inputs().collect::<Vec<_>>(),
            ["go_version", "go_setting:-tags", "input:build_date"]
        );
        let inputs = BTreeMap::from([
            ("go_version".to_string(), "1.21.13".to_string()),
            ("go_setting:-tags".to_string(), "netgo".to_string()),
            (
                "input:build_date".to_string(),
                "2025-03-11T19:58:53Z".to_string(),
            ),
        ]);
        let vars = TemplateVars {
            version: "v1",
            platform: None,
            inputs: Some(&inputs),
        };
        assert_eq!(
            t.render_checked(&vars, ValueUse::Word).unwrap(),
            "golang:1.21.13 netgo 2025-03-11T19:58:53Z ${X:-y}"
        );
    }

    #[test]
    fn a_release_input_is_never_code() {
        let declared = BTreeSet::from(["x".to_string()]);
        let t = Template::parse("echo {input:x}", build_scope(&declared)).unwrap();
        let inputs = BTreeMap::from([("input:x".to_string(), "$(curl evil)".to_string())]);
        let vars = TemplateVars {
            version: "v1",
            platform: None,
            inputs: Some(&inputs),
        };
        assert_eq!(
            t.render_checked(&vars, ValueUse::Word).unwrap_err(),
            RenderError::NotPlain {
                name: "input:x".into(),
                value: "$(curl evil)".into()
            }
        );
        assert_eq!(
            t.render_checked(&vars, ValueUse::Env).unwrap(),
            "echo $(curl evil)"
        );
        assert_eq!(
            t.render_checked(&TemplateVars::version("v1"), ValueUse::Env)
                .unwrap_err(),
            RenderError::NoInputs {
                name: "input:x".into()
            }
        );
    }

    #[test]
    fn inputs_are_refused_outside_build_fields_and_undeclared_names_are_named() {
        assert_eq!(
            Template::parse("{go_version}", Scope::Platform).unwrap_err(),
            "unknown placeholder {go_version} in \"{go_version}\" (allowed here: {version}, {version_bare}, {os}, {arch}, {variant})"
        );
        let declared = BTreeSet::from(["date".to_string()]);
        assert_eq!(
            Template::parse("{input:dat}", build_scope(&declared)).unwrap_err(),
            "{input:dat} in \"{input:dat}\" names no declared input: add [inputs.dat] with from_binary (declared: date)"
        );
    }
}
