//! Recipe inference: when no recipe covers an image, write one from what
//! the image and its binary record, plus what the source at the tag holds.
//!
//! One module per ecosystem ([`go`], [`rust`]), each turning the same
//! [`Evidence`] into the same thing a hand-written recipe is: recipe TOML
//! that [`crate::rebuild::recipe::Recipe::parse`] accepts, as a list of
//! [`Candidate`]s in order of likelihood ([`ecosystem::infer`] picks the
//! ecosystem; [`ecosystem::input_groups`] splits the platforms whose
//! binaries record different build inputs, each group getting its own
//! candidates). [`source_url`] finds the repository before the source is
//! pinned; [`metadata`] tells the release metadata a binary may supply
//! from program inputs only it supplies; [`recipe`] holds what the
//! ecosystems' recipes share ([`crate::rebuild::recipe::RecipeSpec`]
//! values, written with their comments). The rest of the
//! pipeline cannot tell an inferred recipe from a written one.

pub mod candidate;
pub mod changes;
pub mod ecosystem;
pub mod entry;
pub mod evidence;
pub mod files;
pub mod go;
pub mod metadata;
pub mod recipe;
pub mod rust;
pub mod source_url;

pub use candidate::{BinaryOnlyInput, Candidate, Ecosystem, InferError, Inference};
pub use evidence::{Evidence, PlatformEvidence, SourceEvidence, Toolchains};
pub use files::{MemoryFiles, SourceFiles};
