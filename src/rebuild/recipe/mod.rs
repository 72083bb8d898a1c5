//! Recipes: how to rebuild the binary of an image from its public source.
//!
//! The first stage of the rebuild side. A recipe is a TOML file (schema in
//! `recipes/README.md`) naming the image repository it covers, the git
//! source and tag, the builder, the commands and the artifact, per platform.
//! [`Recipe::load`] parses and validates one file ([`schema`]), with
//! [`Template`]s rendered per version and platform ([`template`]);
//! [`Catalogue`] holds the recipes shipped in the binary plus any from
//! `--recipes DIR`, looked up by normalised repository, else by repository
//! path across registries (mirrors), and lists and prints them ([`catalogue`]);
//! a recipe pinned by the sha256 of its bytes loads only as those bytes ([`pinned`]);
//! [`RecipeSpec`] writes a recipe's values as TOML ([`write`]).
//! A recipe whose `[source]` is a Debian source package is a
//! [`DebianRecipe`]; [`RecipeKind`] loads a file of either kind ([`debian`]).

pub mod catalogue;
pub mod debian;
mod error;
pub mod pinned;
pub mod schema;
pub mod template;
pub mod write;

pub use catalogue::{Catalogue, Entry, Found, Listed};
pub use debian::{DebianRecipe, DebianSourceSpec, RecipeKind};
pub use error::RecipeError;
pub use schema::{ArtifactSpec, BuildSpec, Builder, ImageSpec, Published, Recipe, SourceSpec};
pub use template::{Template, TemplateVars};
pub use write::RecipeSpec;
