//! Which distribution release the image says it is: `/etc/os-release`, or
//! `/usr/lib/os-release` when the image has no `/etc` one, as systemd's
//! os-release(5) defines them.
//!
//! The file is shell-like `KEY=value` lines, values unquoted, in double
//! quotes (with `\"`, `\\`, `` \` `` and `\$` escapes) or in single quotes.
//! `ID` defaults to `linux`, as the specification says. The codename is
//! `VERSION_CODENAME`, else the name in parentheses of `VERSION` (Debian 8
//! writes `VERSION="8 (jessie)"` and no codename). Debian testing and sid
//! images name no codename at all, and `/etc/debian_version` does not help
//! there (both write `trixie/sid`): the codename stays `None` rather than
//! a guess between the two.
//!
//! Threat model: the file is the image's and untrusted: it is capped in
//! size, lines that are not assignments are skipped as systemd skips them,
//! and the values are only ever shown or used to name an archive suite.

use serde::{Deserialize, Serialize};

use super::error::DbError;
use super::image_files::ImageFiles;
use crate::rootfs::{IndexStore, LayerSource};

/// Where os-release lives, in the order the specification reads them.
const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// Largest os-release read (real ones are under 1 KiB).
const OS_RELEASE_LIMIT: u64 = 64 << 10;

/// The distribution release an image says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    /// `ID`: `debian`, `alpine`, `fedora`, ...
    pub id: String,
    /// `VERSION_ID`: `12`, `3.19.1`; none on rolling releases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME`: `bookworm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
}

/// The image's os-release, or `None` when it has neither file.
pub fn read<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
) -> Result<Option<OsRelease>, DbError> {
    for path in OS_RELEASE {
        if let Some(text) = files.read_text(path, OS_RELEASE_LIMIT)? {
            return Ok(Some(parse(&text)));
        }
    }
    Ok(None)
}

/// The release an os-release text describes.
pub fn parse(text: &str) -> OsRelease {
    let mut id = None;
    let mut version_id = None;
    let mut codename = None;
    let mut version = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let Some(value) = unquote(raw) else {
            continue;
        };
        let value = Some(value).filter(|v| !v.is_empty());
        match key {
            "ID" => id = value,
            "VERSION_ID" => version_id = value,
            "VERSION_CODENAME" => codename = value,
            "VERSION" => version = value,
            _ => {}
        }
    }
    let codename = codename.or_else(|| {
        let version = version?;
        let (_, rest) = version.split_once('(')?;
        let (name, _) = rest.split_once(')')?;
        let name = name.trim();
        (!name.is_empty() && !name.contains(char::is_whitespace)).then(|| name.to_lowercase())
    });
    OsRelease {
        id: id.unwrap_or_else(|| "linux".to_string()),
        version_id,
        codename,
    }
}

/// A shell-like value: unquoted, `"..."` with backslash escapes, or
/// `'...'`; `None` for an unterminated quote or text after the closing one.
fn unquote(raw: &str) -> Option<String> {
    let mut chars = raw.chars();
    match chars.next() {
        Some('\'') => {
            let rest = chars.as_str();
            let inner = rest.strip_suffix('\'')?;
            (!inner.contains('\'')).then(|| inner.to_string())
        }
        Some('"') => {
            let mut value = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return chars.as_str().is_empty().then_some(value),
                    '\\' => match chars.next()? {
                        escaped @ ('"' | '\\' | '`' | '$') => value.push(escaped),
                        other => {
                            value.push('\\');
                            value.push(other);
                        }
                    },
                    other => value.push(other),
                }
            }
            None
        }
        _ => {
            let mut value = String::new();
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.push(chars.next()?),
                    '"' | '\'' | '`' | '$' | ' ' | '\t' => return None,
                    other => value.push(other),
                }
            }
            Some(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quoted_and_unquoted_values() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n";
        assert_eq!(
            parse(text),
            OsRelease {
                id: "debian".to_string(),
                version_id: Some("12".to_string()),
                codename: Some("bookworm".to_string()),
            }
        );
    }

    #[test]
    fn reads_single_quotes_escapes_and_comments() {
        let text = "# a comment\nID='alpine'\nVERSION_ID=3.19.1\nNAME=\"Alpine \\\"Linux\\\"\"\nnot an assignment\n";
        assert_eq!(
            parse(text),
            OsRelease {
                id: "alpine".to_string(),
                version_id: Some("3.19.1".to_string()),
                codename: None,
            }
        );
        assert_eq!(
            unquote("\"a \\\"b\\\" \\$c\""),
            Some("a \"b\" $c".to_string())
        );
        assert_eq!(unquote("\"open"), None);
        assert_eq!(unquote("'a'b"), None);
    }

    #[test]
    fn takes_the_codename_from_version_when_no_codename_is_named() {
        let text = "ID=debian\nVERSION_ID=\"8\"\nVERSION=\"8 (jessie)\"\n";
        assert_eq!(parse(text).codename.as_deref(), Some("jessie"));
    }

    #[test]
    fn a_release_without_id_or_version_is_linux_with_none() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\n";
        assert_eq!(
            parse(text),
            OsRelease {
                id: "linux".to_string(),
                version_id: None,
                codename: None,
            }
        );
    }
}
