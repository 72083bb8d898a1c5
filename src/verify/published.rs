//! The published image a recipe's verification reads, pinned: the typed
//! location, at the recipe's tag for the version when a registry reference
//! names no tag or digest; when that reference is the recipe's own
//! repository, each of its `fallback_repositories` in turn while the tag
//! is not found. Only the registry's "not found" (404, `MANIFEST_UNKNOWN`,
//! `NAME_UNKNOWN`) moves on: any other failure (credentials, network, a bad
//! answer, a digest mismatch) is the error it was, so that an outage or an
//! attack never sends the run elsewhere. A tag found in no repository is an
//! error naming every repository tried and their tags nearest it.

use crate::image::reference::{ImageLocation, Reference, ReferenceError};
use crate::image::repository::{Access, Repository};
use crate::image::tags::{self, Nearest};
use crate::image::{
    AccessOptions, Image, ImageError, OciLayoutError, RegistryError, ResolvedImage,
};
use crate::rebuild::plan::ReleasePlan;

/// Why the published image could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum PublishedError {
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("cannot read the published image {image}")]
    Image {
        image: String,
        #[source]
        source: ImageError,
    },
    /// The recipe's tag is in none of the repositories tried.
    #[error("{}", tag_not_found_message(tag, tried, nearest, unlisted))]
    TagNotFound {
        tag: String,
        /// `registry/repository`, in the order tried.
        tried: Vec<String>,
        /// The nearest tags, each as `registry/repository:tag`.
        nearest: Nearest,
        /// The repositories whose tags could not be listed, with why.
        unlisted: Vec<String>,
    },
}

/// The published image, opened and resolved to one digest.
pub struct Published {
    /// Where it was read: the fallback repository's reference when the
    /// recipe's repository lacked the tag.
    pub location: ImageLocation,
    pub image: Image,
    pub resolved: ResolvedImage,
    /// How it was found, when not simply at the typed location: a fallback
    /// repository, or the recipe's tag in a layout of several images.
    pub note: Option<String>,
}

/// Where the published image is read from first: the typed location, with
/// the recipe's tag for the version when a registry reference names no tag
/// or digest (for an untagged `oci:DIR` holding several images, see [`open`]).
pub fn image_location(typed: &str, release: &ReleasePlan) -> Result<ImageLocation, ReferenceError> {
    let location = ImageLocation::parse(typed)?;
    match &location {
        ImageLocation::Registry(reference) if !Reference::names_tag_or_digest(typed) => Ok(
            ImageLocation::Registry(reference.with_tag(&release.image_tag)),
        ),
        _ => Ok(location),
    }
}

/// Opens and resolves the published image of `release`'s recipe that `typed` names
/// (see the module's documentation). An `oci:DIR` without a tag whose
/// layout holds several images is read at the recipe's tag for the
/// version, as a registry reference is, with a note saying so.
pub fn open(
    typed: &str,
    release: &ReleasePlan,
    access: &AccessOptions,
) -> Result<Published, PublishedError> {
    let location = image_location(typed, release)?;
    match &location {
        ImageLocation::Registry(reference) if !Reference::names_tag_or_digest(typed) => {
            let image = &release.recipe.image;
            let fallbacks: &[String] = if reference.name() == image.repository {
                &image.fallback_repositories
            } else {
                &[]
            };
            open_at_recipe_tag(reference, fallbacks, &release.image_tag, access)
        }
        ImageLocation::OciLayout { dir, tag: None } => match open_resolved(&location, access) {
            Err(PublishedError::Image {
                source: ImageError::OciLayout(OciLayoutError::Ambiguous { count, .. }),
                ..
            }) => {
                let tag = release.image_tag.clone();
                let tagged = ImageLocation::OciLayout {
                    dir: dir.clone(),
                    tag: Some(tag.clone()),
                };
                let (image, resolved) = open_resolved(&tagged, access)?;
                let note = format!(
                        "{location} holds {count} images; verified the one tagged {tag}, the recipe's tag for {}",
                        release.version
                    );
                Ok(Published {
                    location: tagged,
                    image,
                    resolved,
                    note: Some(note),
                })
            }
            opened => {
                let (image, resolved) = opened?;
                Ok(Published {
                    location,
                    image,
                    resolved,
                    note: None,
                })
            }
        },
        _ => {
            let (image, resolved) = open_resolved(&location, access)?;
            Ok(Published {
                location,
                image,
                resolved,
                note: None,
            })
        }
    }
}

/// `reference` (at the recipe's `tag`), else the first of `fallbacks` that
/// has the tag; none having it is [`PublishedError::TagNotFound`].
fn open_at_recipe_tag(
    reference: &Reference,
    fallbacks: &[String],
    tag: &str,
    access: &AccessOptions,
) -> Result<Published, PublishedError> {
    let mut tried: Vec<Reference> = Vec::new();
    let candidates = std::iter::once(Ok(reference.clone())).chain(
        fallbacks
            .iter()
            .map(|name| Reference::parse(name).map(|r| r.with_tag(tag))),
    );
    for candidate in candidates {
        let candidate = candidate?;
        let location = ImageLocation::Registry(candidate.clone());
        match open_resolved(&location, access) {
            Err(PublishedError::Image {
                source: ImageError::Registry(RegistryError::NotFound { .. }),
                ..
            }) => tried.push(candidate),
            opened => {
                let (image, resolved) = opened?;
                let note = (!tried.is_empty()).then(|| fallback_note(&tried, tag, &location));
                return Ok(Published {
                    location,
                    image,
                    resolved,
                    note,
                });
            }
        }
    }
    Err(not_found_anywhere(&tried, tag, access))
}

fn open_resolved(
    location: &ImageLocation,
    access: &AccessOptions,
) -> Result<(Image, ResolvedImage), PublishedError> {
    let image_error = |source| PublishedError::Image {
        image: location.to_string(),
        source,
    };
    let image = Image::open(location, access).map_err(image_error)?;
    let resolved = image.resolve().map_err(image_error)?;
    Ok((image, resolved))
}

/// `A has no tag T; read B:T, the recipe's fallback repository`.
fn fallback_note(tried: &[Reference], tag: &str, read: &ImageLocation) -> String {
    let names: Vec<String> = tried.iter().map(Reference::name).collect();
    let has = if names.len() == 1 { "has" } else { "have" };
    format!(
        "{} {has} no tag {tag}; read {read}, the recipe's fallback repository",
        names.join(" and ")
    )
}

/// The error for a tag none of `tried` has, with the tags nearest it
/// among theirs (each repository's listing bounded as
/// [`Repository::tags`] bounds it).
fn not_found_anywhere(tried: &[Reference], tag: &str, access: &AccessOptions) -> PublishedError {
    // Each tag with the first repository that has it.
    let mut owners: Vec<(String, String)> = Vec::new();
    let mut unlisted = Vec::new();
    for reference in tried {
        let name = reference.name();
        match Repository::open(reference, access, Access::Pull).and_then(|r| r.tags(None)) {
            Ok(tags) => {
                for listed in tags {
                    if !owners.iter().any(|(known, _)| *known == listed) {
                        owners.push((listed, name.clone()));
                    }
                }
            }
            Err(ImageError::Registry(RegistryError::NotFound { .. })) => {}
            Err(e) => unlisted.push(format!("{name} ({})", crate::error_chain(&e))),
        }
    }
    let nearest = tags::nearest(tag, owners.iter().map(|(listed, _)| listed.as_str())).map(
        |near| match owners.iter().find(|(listed, _)| *listed == near) {
            Some((_, name)) => format!("{name}:{near}"),
            None => near,
        },
    );
    PublishedError::TagNotFound {
        tag: tag.to_string(),
        tried: tried.iter().map(Reference::name).collect(),
        nearest,
        unlisted,
    }
}

/// [`PublishedError::TagNotFound`]'s line: the repositories tried, the
/// nearest tags, and any repository whose tags could not be listed.
fn tag_not_found_message(
    tag: &str,
    tried: &[String],
    nearest: &Nearest,
    unlisted: &[String],
) -> String {
    let mut message = match tried {
        [one] => format!("{one} has no tag {tag}"),
        several => format!(
            "none of {} (the recipe's repository and its fallback repositories) has tag {tag}",
            several.join(", ")
        ),
    };
    match nearest {
        Nearest::Nothing => message.push_str("; no tag is near it"),
        near => message.push_str(&format!("; {near}")),
    }
    if !unlisted.is_empty() {
        message.push_str(&format!(
            "; the tags of {} could not be listed",
            unlisted.join(", ")
        ));
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_tag_found_nowhere_names_each_repository_tried_and_the_nearest_tags() {
        assert_eq!(
            tag_not_found_message(
                "1.20.0",
                &strings(&["docker.io/bitnami/kubectl"]),
                &Nearest::Releases(strings(&["docker.io/bitnami/kubectl:1.20.1"])),
                &[],
            ),
            "docker.io/bitnami/kubectl has no tag 1.20.0; the closest release is docker.io/bitnami/kubectl:1.20.1"
        );
        assert_eq!(
            tag_not_found_message(
                "1.20.0",
                &strings(&["docker.io/a/b", "quay.io/a/b"]),
                &Nearest::Nothing,
                &strings(&["quay.io/a/b (refused)"]),
            ),
            "none of docker.io/a/b, quay.io/a/b (the recipe's repository and its fallback \
             repositories) has tag 1.20.0; no tag is near it; the tags of quay.io/a/b (refused) \
             could not be listed"
        );
    }

    #[test]
    fn the_fallback_note_names_the_repositories_without_the_tag_and_the_one_read() {
        let read = ImageLocation::parse("docker.io/bitnamilegacy/kubectl:1.20.0").unwrap();
        assert_eq!(
            fallback_note(
                &[Reference::parse("bitnami/kubectl").unwrap()],
                "1.20.0",
                &read
            ),
            "docker.io/bitnami/kubectl has no tag 1.20.0; read \
             docker.io/bitnamilegacy/kubectl:1.20.0, the recipe's fallback repository"
        );
    }
}
