//! rebuild-compare: prove, or disprove, that the binary shipped inside a
//! published container image is the binary its public source builds.
//!
//! The crate is a pipeline. The image side turns a reference into verified
//! bytes: [`reference`] parses what the user typed, [`digest`] checks every
//! blob, [`platform`] selects what to compare. The rebuild side turns a
//! version into rebuilt bytes: [`recipe`] says how, [`source`] pins the tag
//! to a commit and checks it out, [`sandbox`] isolates each step, and
//! [`build`] runs every platform and reports digests.
//! `src/main.rs` only parses arguments, calls into this library and maps
//! results to exit codes.

pub mod build;
pub mod digest;
pub mod platform;
pub mod recipe;
pub mod reference;
pub mod sandbox;
pub mod source;
