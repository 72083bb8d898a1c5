//! rebuild-compare: prove, or disprove, that the binary shipped inside a
//! published container image is the binary its public source builds.
//!
//! The crate is a pipeline. The image side turns a reference into verified
//! bytes: [`reference`] parses what the user typed, [`digest`] checks every
//! blob, [`platform`] selects what to compare. [`rootfs`] merges an image's
//! layers into one filesystem view and [`locate`] finds the binary it runs.
//! `src/main.rs` only parses arguments, calls into this library and maps
//! results to exit codes.

pub mod digest;
pub mod locate;
pub mod platform;
pub mod reference;
pub mod rootfs;
