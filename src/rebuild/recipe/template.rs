//! Recipe templates: strings with `{version}`, `{version_bare}`, `{os}`,
//! `{arch}` and `{variant}` placeholders, checked when the recipe loads and
//! rendered per version and platform.

use std::fmt;

use crate::image::platform::Platform;

/// The values a [`Template`] is rendered with.
#[derive(Debug, Clone, Copy)]
pub struct TemplateVars<'a> {
    /// The version as typed (`v1.30.0`).
    pub version: &'a str,
    /// The platform, for `{os}`, `{arch}`, `{variant}` (empty when `None`).
    pub platform: Option<&'a Platform>,
}

/// A string with `{version}`, `{version_bare}`, `{os}`, `{arch}`, `{variant}`
/// placeholders, validated at load time (a placeholder is `{name}` of letters, digits and `_`, not after `$`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template(String);

/// Which placeholders a field accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Version,
    Platform,
}

enum Piece<'a> {
    Literal(&'a str),
    Placeholder(&'a str),
}

const VERSION_PLACEHOLDERS: &[&str] = &["version", "version_bare"];
const PLATFORM_PLACEHOLDERS: &[&str] = &["os", "arch", "variant"];

impl Template {
    pub(super) fn parse(text: &str, scope: Scope) -> Result<Self, String> {
        for piece in pieces(text) {
            if let Piece::Placeholder(name) = piece {
                let known = VERSION_PLACEHOLDERS.contains(&name)
                    || (scope == Scope::Platform && PLATFORM_PLACEHOLDERS.contains(&name));
                if !known {
                    let allowed: Vec<String> = VERSION_PLACEHOLDERS
                        .iter()
                        .chain(if scope == Scope::Platform {
                            PLATFORM_PLACEHOLDERS
                        } else {
                            &[]
                        })
                        .map(|p| format!("{{{p}}}"))
                        .collect();
                    return Err(format!(
                        "unknown placeholder {{{name}}} in {text:?} (allowed here: {})",
                        allowed.join(", ")
                    ));
                }
            }
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

    /// The template with its placeholders replaced.
    pub fn render(&self, vars: &TemplateVars<'_>) -> String {
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
                Piece::Placeholder(_) => out.push_str(
                    vars.platform
                        .and_then(|p| p.variant.as_deref())
                        .unwrap_or(""),
                ),
            }
        }
        out
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits a template into literal text and placeholder names. A placeholder
/// is `{name}` with `name` made of letters, digits and `_`, not preceded by
/// `$` (`${HOME}` is shell, not a placeholder); every other brace is literal.
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
        let is_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let shell_variable = text.get(..open).is_some_and(|before| before.ends_with('$'));
        if !is_name || shell_variable {
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
