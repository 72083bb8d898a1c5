//! The image side before any build: the image pinned to one digest and
//! each platform's binary extracted into `OUT_DIR/<platform>/image`, in
//! parallel. The runs without a recipe start here, then decide how to
//! rebuild: from the distribution package that owns the binary
//! ([`super::packaged`]), else from a recipe inferred from the binary
//! ([`super::inferred`]).

use std::path::Path;

use super::pipeline::VerifyError;
use crate::image::platform::Platform;
use crate::image::reference::{ImageLocation, Reference};
use crate::image::{AccessOptions, Image, PlatformImage, ResolvedImage};
use crate::rebuild::build::platform_dir_name;
use crate::rootfs::extract::{self, BinaryRequest, FoundBinary};

/// The name of an inferred recipe in the output directory, whichever way
/// it was inferred.
pub const INFERRED_RECIPE_FILE: &str = "inferred-recipe.toml";

/// The image pinned, and each platform's binary or why it could not be read.
pub struct OpenedImage {
    pub location: ImageLocation,
    pub image: Image,
    pub resolved: ResolvedImage,
    /// The platforms compared (`--platform`, else all).
    pub platforms: Vec<PlatformImage>,
    /// Each platform's binary, in the order of `platforms`.
    pub found: Vec<Result<FoundBinary, String>>,
}

/// Pins the image `typed` names (a registry reference without tag or digest
/// is read at the tag `version`) and extracts the binary each platform runs.
pub fn open_and_extract(
    typed: &str,
    version: &str,
    platforms: &[Platform],
    access: &AccessOptions,
    out_dir: &Path,
) -> Result<OpenedImage, VerifyError> {
    let mut location = ImageLocation::parse(typed)?;
    if let ImageLocation::Registry(reference) = &location {
        if !Reference::names_tag_or_digest(typed) {
            location = ImageLocation::Registry(reference.with_tag(version));
        }
    }
    let image_error = |source| VerifyError::Image {
        image: location.to_string(),
        source,
    };
    let image = Image::open(&location, access).map_err(image_error)?;
    let resolved = image.resolve().map_err(image_error)?;
    let platform_images = image.platforms(&resolved, platforms).map_err(image_error)?;
    let out_dir = std::path::absolute(out_dir).map_err(|source| VerifyError::Io {
        path: out_dir.to_path_buf(),
        source,
    })?;
    let found: Vec<Result<FoundBinary, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = platform_images
            .iter()
            .map(|platform_image| {
                let dest = out_dir
                    .join(platform_dir_name(&platform_image.platform))
                    .join("image");
                let image = &image;
                scope.spawn(move || {
                    extract::extract_to_dir(
                        image,
                        platform_image,
                        &BinaryRequest { path: None },
                        &dest,
                    )
                    .map_err(|e| format!("image binary: {}", crate::error_chain(&e)))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("internal error: extraction panicked".into()))
            })
            .collect()
    });
    Ok(OpenedImage {
        location,
        image,
        resolved,
        platforms: platform_images,
        found,
    })
}
