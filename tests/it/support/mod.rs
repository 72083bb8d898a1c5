//! Shared integration-test harness: a real registry on loopback, in-memory
//! layer/image builders, OCI layout writers and skopeo pushers.
//!
//! Use it from `tests/it/<topic>.rs` with `use crate::support;` and e.g.
//! `use support::{Registry, LayerBuilder, ImageBuilder, ImageSet, ...};`.
//! [`FaultProxy`] puts a misbehaving HTTP proxy in front of a registry;
//! [`HostileServer`] plays a hostile registry, token realm or redirect target;
//! [`ReferrersRegistry`] an in-memory one with the OCI 1.1 referrers API.
//! [`git_server::GitServer`] serves git repositories over smart HTTPS;
//! [`go::GoBuild`] builds Go releases as a CI runner would, [`rust_app`] a
//! Rust program as the official Rust image would, [`debian_image`] an image
//! as `apt-get install` makes one from Debian's real package.
//! Nothing is mocked: `docker-registry`, `skopeo` and `htpasswd` must be
//! installed (`scripts/install-test-deps.sh`), and `python3`, `openssl` and
//! git's `http-backend` for the git server. All traffic stays on 127.0.0.1.

pub mod cli;
pub mod debian_image;
pub mod fast_app;
pub mod git;
pub mod git_server;
pub mod go;
pub mod hostile;
pub mod http;
pub mod image;
pub mod keys;
pub mod layout;
pub mod oversized;
pub mod proxy;
pub mod referrers_registry;
pub mod registry;
pub mod rust_app;
pub mod skopeo;

pub use hostile::{Answer, HostileServer};
pub use image::{
    sha256_digest, Compression, Image, ImageBuilder, ImageSet, Layer, LayerBuilder, MediaTypes,
    PseudoRandom,
};
pub use layout::{write_oci_layout, Descriptor, IndexStyle, WrittenLayout};
pub use oversized::{manifest_of_size, write_oversized_layout};
pub use proxy::{Fault, FaultProxy, Rule};
pub use referrers_registry::{Filter, ReferrersRegistry};
pub use registry::Registry;
pub use skopeo::{inspect_raw, inspect_raw_json, push, to_docker_archive};

/// A directory kept for the life of the test process (statics are never
/// dropped), unique to it.
pub fn kept_dir(prefix: &str) -> std::path::PathBuf {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
        .keep()
}
