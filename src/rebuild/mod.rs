//! The rebuild side: from a version to rebuilt bytes.
//!
//! Takes a [`recipe`] and a version and hands on, per platform, the rebuilt
//! artifact with its sha256 and build log: [`plan`] renders the recipe
//! once for the version and once per platform into the concrete values the
//! other steps receive, [`source`] pins the tag to a commit and checks it
//! out pristine, [`builder`] brings a builder image's
//! root filesystem (or the host's, with its Rust toolchain:
//! [`host_tools`]), [`sandbox`] runs each step isolated in
//! bubblewrap, [`deps`] keeps what `fetch` downloads per exact inputs, and
//! [`build`] runs every platform. [`published`] fetches the
//! maintainers' own checksums to compare against; [`adjust`] reads the
//! inputs a published binary records that its rebuild did not take, and
//! writes the recipe that takes them. [`debian`] rebuilds a Debian source
//! package in the sandbox as Debian's buildds do.

pub mod adjust;
pub mod build;
pub mod builder;
pub mod debian;
pub mod deps;
pub mod host_tools;
pub mod infer;
pub mod inputs;
pub mod plan;
pub mod published;
pub mod recipe;
pub mod sandbox;
pub mod source;
