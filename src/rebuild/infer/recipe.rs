//! What every inferred recipe shares, whatever the ecosystem: `[image]`
//! and `[source]` from the evidence, with the tags as version templates
//! where they hold the version; the recipe's values as templates; and the
//! candidate's text, the recipe written under its comment header.

use toml_edit::{DocumentMut, Item};

use super::candidate::InferError;
use super::evidence::Evidence;
use crate::rebuild::recipe::schema::{ImageSpec, SourceSpec};
use crate::rebuild::recipe::template::{Scope, Template};

/// `[image]` and `[source]` of an inferred recipe: the image's
/// repository, tag and binary, the source's URL and tag, each tag as a
/// version template ([`version_template`]).
pub fn image_and_source(evidence: &Evidence<'_>) -> Result<(ImageSpec, SourceSpec), InferError> {
    let tag = version_template(evidence.tag, evidence.version, "image tag")?;
    let git_ref = version_template(evidence.source.git_ref, evidence.version, "source tag")?;
    Ok((
        ImageSpec {
            repository: evidence.repository.to_string(),
            fallback_repositories: Vec::new(),
            tag: template(&tag, Scope::Platform)?,
            binary: Some(evidence.binary_path.to_string()),
        },
        SourceSpec {
            git: evidence.source.url.to_string(),
            git_ref: template(&git_ref, Scope::Version)?,
            submodules: false,
        },
    ))
}

/// The template that renders `value` for `version`: `{version}` (or
/// `{version_bare}`, without the leading `v`) where `value` holds it
/// (`1.2.0-alpine` -> `{version_bare}-alpine`), else `value` itself.
pub fn version_template(value: &str, version: &str, what: &str) -> Result<String, InferError> {
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

/// `text` as a recipe template of `scope`; inference writes only
/// placeholders a recipe accepts, so an error here is a bug.
pub fn template(text: &str, scope: Scope<'_>) -> Result<Template, InferError> {
    Template::parse(text, scope).map_err(|why| {
        InferError::Invalid(format!(
            "the inferred recipe is not valid, which is a bug in rebuild-compare: {why}"
        ))
    })
}

/// Whether `text` holds something a recipe template reads as a
/// placeholder: `{name}` with name of letters, digits, `_`, `:`, `.`, `-`,
/// not right after `$`.
pub fn has_placeholder(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        b == b'{'
            && (i == 0 || bytes.get(i - 1) != Some(&b'$'))
            && bytes
                .get(i + 1..)
                .and_then(|rest| {
                    let len = rest.iter().position(|c| {
                        !(c.is_ascii_alphanumeric() || matches!(c, b'_' | b':' | b'.' | b'-'))
                    })?;
                    (len > 0 && rest.get(len) == Some(&b'}')).then_some(())
                })
                .is_some()
    })
}

/// The recipe text of `document` under `header`, comment lines that each
/// end in a newline.
pub fn with_header(mut document: DocumentMut, header: &str) -> String {
    if let Some(image) = document.get_mut("image").and_then(Item::as_table_mut) {
        image.decor_mut().set_prefix(header);
    }
    document.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
