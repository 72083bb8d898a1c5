//! Builder images: a recipe's `builder = "IMAGE"` becomes a read-only root
//! for the build sandbox. The image is pulled for the host's platform
//! through the same verified image side as the published image, and
//! unpacked once, with full whiteout semantics, into the cache under its
//! manifest digest (`rootfs/<hex>`); later builds reuse it.

use std::fs;

use super::build::BuildError;
use super::sandbox::BuilderRoot;
use crate::image::platform::Platform;
use crate::image::reference::ImageLocation;
use crate::image::{AccessOptions, Image};
use crate::rootfs::extract::ImageLayers;

/// Why a builder image could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum BuilderError {
    #[error(transparent)]
    Reference(#[from] crate::image::reference::ReferenceError),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    #[error(transparent)]
    Rootfs(#[from] crate::rootfs::RootfsError),
    #[error(transparent)]
    Cache(#[from] crate::image::cache::CacheError),
    #[error("cannot prepare {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// Pulls `reference` for the host's platform and returns its unpacked root.
pub fn resolve(reference: &str, access: &AccessOptions) -> Result<BuilderRoot, BuildError> {
    prepare(reference, access).map_err(|e| {
        // The error names the builder as `builder image REFERENCE: ...`;
        // registry errors start with the (normalised) reference already.
        let shown = ImageLocation::parse(reference)
            .map_or_else(|_| reference.to_string(), |l| l.to_string());
        let chain = crate::error_chain(&e);
        let message = chain
            .strip_prefix(&format!("{shown}: "))
            .map_or(chain.clone(), str::to_string);
        BuildError::Builder {
            reference: shown,
            message,
        }
    })
}

fn prepare(reference: &str, access: &AccessOptions) -> Result<BuilderRoot, BuilderError> {
    let location = ImageLocation::parse(reference)?;
    let image = Image::open(&location, access)?;
    let resolved = image.resolve()?;
    let host = Platform::host();
    let platform_image = image
        .platforms(&resolved, std::slice::from_ref(&host))?
        .into_iter()
        .next()
        .ok_or_else(|| crate::image::ImageError::PlatformNotFound {
            requested: host.to_string(),
            available: crate::image::available_platforms(&resolved),
        })?;
    let roots = access.cache.dir("rootfs")?;
    let name = platform_image.manifest_digest.hex();
    let rootfs = roots.join(name);
    if rootfs.is_dir() && !access.cache.tree_is_sealed(name, &rootfs) {
        // Restored from elsewhere, edited, or left by an older version: the
        // builder's files must come from its verified layers, so unpack again.
        tracing::warn!(
            "the unpacked builder {} is not the tree this machine sealed; unpacking it again",
            rootfs.display()
        );
        fs::remove_dir_all(&rootfs).map_err(|source| BuilderError::Io {
            path: rootfs.clone(),
            source,
        })?;
    }
    if !rootfs.is_dir() {
        let io = |path: &std::path::Path| {
            let path = path.to_path_buf();
            move |source| BuilderError::Io { path, source }
        };
        let staging = tempfile::Builder::new()
            .prefix(".unpacking-")
            .tempdir_in(&roots)
            .map_err(io(&roots))?;
        let stats =
            crate::rootfs::unpack(&ImageLayers::new(&image, &platform_image), staging.path())?;
        tracing::info!("unpacked builder {reference}: {stats:?}");
        let staged = staging.keep();
        if let Err(e) = fs::rename(&staged, &rootfs) {
            // Another run unpacked the same digest first: use theirs.
            let _ = fs::remove_dir_all(&staged);
            if !rootfs.is_dir() {
                return Err(io(&rootfs)(e));
            }
        }
        access.cache.seal_tree(name, &rootfs).map_err(io(&rootfs))?;
    }
    Ok(BuilderRoot::Image {
        rootfs,
        env: platform_image.config.container().env.unwrap_or_default(),
        digest: resolved.digest.to_string(),
        reference: resolved.reference,
        served_by: resolved.served_by,
    })
}
