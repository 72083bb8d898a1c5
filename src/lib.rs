//! rebuild-compare: prove, or disprove, that the binary shipped inside a
//! published container image is the binary its public source builds.
//!
//! The crate is a pipeline, one folder a stage, each depending only on the
//! stages listed before it (`tests/architecture.rs` checks this order):
//!
//! - [`binary`]: one executable read once: its format and machine, its
//!   sections, and the Go build info, Go function table and Rust metadata
//!   its toolchain embedded;
//! - [`progress`]: progress events the stages report, and their terminal
//!   view;
//! - [`image`]: what the user typed to verified bytes: references,
//!   credentials, the registry, OCI-layout and docker-archive transports,
//!   manifests, platforms, digests and the content-addressed cache;
//! - [`rootfs`]: an image's layers merged into one filesystem view, and the
//!   binary the image runs located and extracted from it;
//! - [`distro`]: binaries that came from a distribution's package: the
//!   image's package database, and the distribution's signed archive;
//! - [`rebuild`]: a version to rebuilt bytes: recipes, the git source, the
//!   sandbox, builder images, the build, published checksums;
//! - [`diff`]: how two binaries differ and why, as plain data;
//! - [`verify`]: the main job, orchestrating the stages above into one
//!   verdict per platform;
//! - [`attest`]: the verdict as an in-toto attestation;
//! - [`report`]: results rendered as text for people;
//! - [`scale`]: many images' releases at once: a watch list planned into
//!   jobs for GitHub Actions, Kubernetes or this machine, and the ledger of
//!   their verdicts published as a static site.
//!
//! `src/main.rs` only parses arguments, calls into this library and maps
//! results to exit codes.

pub mod attest;
pub mod binary;
pub mod diff;
pub mod distro;
pub mod image;
pub mod progress;
pub mod rebuild;
pub mod report;
pub mod rootfs;
pub mod scale;
pub mod verify;

/// An error and its causes on one line, `outer: cause: root cause`, for
/// reports that carry errors as data. A cause whose text is already in the
/// line (many errors put their cause in their own message) is not repeated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let said = c.to_string();
        if !text.contains(&said) {
            text.push_str(&format!(": {said}"));
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    #[derive(Debug, thiserror::Error)]
    #[error("pulling the builder: {source}")]
    struct Says {
        source: std::io::Error,
    }

    #[test]
    fn error_chain_says_a_cause_already_in_the_message_once() {
        let error = Says {
            source: std::io::Error::other("connection refused"),
        };
        assert_eq!(
            super::error_chain(&error),
            "pulling the builder: connection refused"
        );
    }
}
