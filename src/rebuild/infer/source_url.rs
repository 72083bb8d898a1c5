//! Where the source lives: `--source`, the OCI source annotation, or the
//! main module path mapped to a repository URL.

use std::collections::BTreeMap;

use super::candidate::InferError;

/// The repository URL and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceChoice {
    pub url: String,
    pub from: String,
}

/// `--source`, else the annotation, else the Go main module path.
pub fn source_url(
    override_: Option<&str>,
    annotations: &BTreeMap<String, String>,
    go_main_module: Option<&str>,
) -> Result<SourceChoice, InferError> {
    if let Some(url) = override_ {
        return Ok(SourceChoice {
            url: url.to_string(),
            from: "--source".into(),
        });
    }
    if let Some(url) = annotations.get("org.opencontainers.image.source") {
        return Ok(SourceChoice {
            url: url.clone(),
            from: "annotation org.opencontainers.image.source".into(),
        });
    }
    Err(InferError::NoSource {
        what: go_main_module.unwrap_or("the image").to_string(),
    })
}
