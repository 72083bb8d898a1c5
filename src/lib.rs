//! rebuild-compare: prove, or disprove, that the binary shipped inside a
//! published container image is the binary its public source builds.
//!
//! The crate is a pipeline. The image side turns a reference into verified
//! bytes: [`reference`] parses what the user typed, [`image`] resolves it
//! through a transport ([`registry`], [`layout`], [`archive`]) to one pinned
//! digest and reads its [`manifest`]s and blobs, every one checked by
//! [`digest`] and kept in the content-addressed [`cache`]; [`platform`]
//! selects what to compare. [`inspect`] describes what an image runs;
//! [`rootfs`] merges an image's layers into one filesystem view,
//! [`locate`] finds the binary it runs and [`extract`] hashes or writes it.
//! The rebuild side turns a version into rebuilt bytes: [`recipe`] says how,
//! [`source`] pins the tag to a commit and checks it out, [`sandbox`]
//! isolates each step (on a [`builder`] image or the host), and [`build`]
//! runs every platform and reports digests.
//! At the end, [`diff`] explains how the published binary and the rebuilt
//! one differ, [`published`] brings the maintainers' checksums, [`verify`]
//! orchestrates it all into one verdict, [`attest`] states it as an in-toto
//! attestation and [`report`] renders results for people.
//! `src/main.rs` only parses arguments, calls into this library and maps
//! results to exit codes.

pub mod archive;
pub mod attest;
pub mod auth;
pub mod build;
pub mod builder;
pub mod cache;
pub mod diff;
pub mod digest;
pub mod extract;
pub mod image;
pub mod inspect;
pub mod layout;
pub mod locate;
pub mod manifest;
pub mod platform;
pub mod progress;
pub mod published;
pub mod recipe;
pub mod reference;
pub mod registry;
pub mod report;
pub mod rootfs;
pub mod sandbox;
pub mod source;
pub mod verify;

/// An error and its causes on one line, `outer: cause: root cause`, for
/// reports that carry errors as data.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(&format!(": {c}"));
        cause = c.source();
    }
    text
}
