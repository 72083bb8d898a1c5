//! What a location resolved to: the pinned top-level manifest and, per
//! platform, its image manifest and config. Plain data read by every
//! later stage.

use super::digest::Digest;
use super::manifest::{
    list_platforms, runnable_entries, Descriptor, ImageConfig, ImageManifest, Manifest,
};
use super::platform::Platform;

/// What a location resolved to, pinned by digest.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The location as the user should read it back (normalised reference).
    pub reference: String,
    /// The digest of the top-level manifest or index.
    pub digest: Digest,
    pub media_type: String,
    pub manifest: Manifest,
    /// The registries.conf mirror (or rewritten location) it was read
    /// through, if it was not read where its reference names.
    pub served_by: Option<super::mirrors::ServedBy>,
}

/// One platform's image: its manifest, config and layers.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    pub platform: Platform,
    pub manifest_digest: Digest,
    pub manifest: ImageManifest,
    pub config: ImageConfig,
}

impl PlatformImage {
    /// The config's digest.
    pub fn config_digest(&self) -> &Digest {
        &self.manifest.config.digest
    }

    /// The layers, bottom first.
    pub fn layers(&self) -> &[Descriptor] {
        &self.manifest.layers
    }
}

/// Every runnable platform of a resolved index, read from the index alone;
/// `None` for a single-manifest image.
pub fn index_platforms(resolved: &ResolvedImage) -> Option<Vec<Platform>> {
    match &resolved.manifest {
        Manifest::Index(index) => Some(
            runnable_entries(index)
                .into_iter()
                .map(|(p, _)| p)
                .collect(),
        ),
        Manifest::Image(_) => None,
    }
}

/// Lists the platforms of a resolved image without fetching them, for messages.
pub fn available_platforms(resolved: &ResolvedImage) -> String {
    match &resolved.manifest {
        Manifest::Index(index) => {
            let entries = runnable_entries(index);
            list_platforms(entries.iter().map(|(p, _)| p))
        }
        Manifest::Image(_) => "(a single-platform image)".to_string(),
    }
}
