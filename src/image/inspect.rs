//! `inspect`: what an image runs, per platform, as `docker inspect` would
//! show it: manifest and config digests, Entrypoint, Cmd, Env, WorkingDir,
//! User and layers. Plain data; [`crate::report::inspect`] renders it.

use serde::Serialize;

use super::digest::Digest;
use super::platform::Platform;
use super::resolved::{PlatformImage, ResolvedImage};

/// The `inspect` result; its JSON field names are a contract.
#[derive(Debug, Clone, Serialize)]
pub struct InspectReport {
    pub reference: String,
    pub digest: Digest,
    pub media_type: String,
    pub platforms: Vec<PlatformReport>,
}

/// One platform of an [`InspectReport`].
#[derive(Debug, Clone, Serialize)]
pub struct PlatformReport {
    pub platform: Platform,
    pub manifest_digest: Digest,
    pub config_digest: Digest,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub layers: Vec<LayerReport>,
}

/// One layer of a [`PlatformReport`].
#[derive(Debug, Clone, Serialize)]
pub struct LayerReport {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

impl InspectReport {
    /// The report of a resolved image and its platform images.
    pub fn new(resolved: ResolvedImage, images: &[PlatformImage]) -> Self {
        Self {
            reference: resolved.reference,
            digest: resolved.digest,
            media_type: resolved.media_type,
            platforms: images.iter().map(describe).collect(),
        }
    }
}

fn describe(p: &PlatformImage) -> PlatformReport {
    let c = p.config.container();
    PlatformReport {
        platform: p.platform.clone(),
        manifest_digest: p.manifest_digest.clone(),
        config_digest: p.config_digest().clone(),
        entrypoint: c.entrypoint,
        cmd: c.cmd,
        env: c.env.unwrap_or_default(),
        working_dir: c.working_dir.unwrap_or_default(),
        user: c.user.unwrap_or_default(),
        layers: p
            .layers()
            .iter()
            .map(|l| LayerReport {
                digest: l.digest.clone(),
                size: l.size,
                media_type: l.media_type.clone(),
            })
            .collect(),
    }
}
