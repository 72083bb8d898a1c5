//! What inference reads, gathered by the caller as plain data: the image
//! (repository, tag, annotations, the binary it runs per platform), the
//! pinned source at the tag, and the toolchains available to build with.

use std::collections::BTreeMap;

use super::files::SourceFiles;
use crate::binary::{GoBuildInfo, RustInfo};
use crate::image::platform::Platform;

/// Everything inference knows about one image and version.
#[derive(Clone, Copy)]
pub struct Evidence<'a> {
    /// The image's `registry/repository`, normalised (`docker.io/org/app`).
    pub repository: &'a str,
    /// The tag the image was read at (`v1.2.0`, `1.2.0`).
    pub tag: &'a str,
    /// VERSION as typed (`v1.2.0`).
    pub version: &'a str,
    /// Absolute path of the binary the image runs (`/usr/local/bin/app`).
    pub binary_path: &'a str,
    /// The image's annotations and labels (`org.opencontainers.image.source`, ...).
    pub annotations: &'a BTreeMap<String, String>,
    /// One entry per platform of the image, in platform order.
    pub platforms: &'a [PlatformEvidence],
    pub source: SourceEvidence<'a>,
    pub toolchains: Toolchains<'a>,
}

/// The image binary of one platform.
pub struct PlatformEvidence {
    pub platform: Platform,
    /// The binary's bytes (already extracted and size-checked).
    pub binary: Vec<u8>,
    /// Its Go build info, when it is a Go binary.
    pub go: Option<GoBuildInfo>,
    /// Its Rust metadata (`.comment` rustc version, cargo-auditable list).
    pub rust: Option<RustInfo>,
}

/// The source, pinned at the tag.
#[derive(Clone, Copy)]
pub struct SourceEvidence<'a> {
    /// The git URL (as the recipe's `source.git` will say).
    pub url: &'a str,
    /// The tag (`v1.2.0`).
    pub git_ref: &'a str,
    /// The commit the tag peels to (40 hex digits).
    pub commit: &'a str,
    /// The commit's committer time, seconds since the epoch.
    pub commit_time: i64,
    /// The tree at the commit.
    pub files: &'a dyn SourceFiles,
}

/// What the inferred recipe may build with.
#[derive(Clone, Copy)]
pub struct Toolchains<'a> {
    /// The Go the `host` builder finds on its PATH (`go1.19.8`), if any.
    pub host_go: Option<&'a str>,
    /// The repository of Go builder images, tagged by Go version
    /// (`docker.io/library/golang`, so `golang:1.21.13`).
    pub go_image: &'a str,
    /// The first line of `cc --version` as the `host` builder finds it
    /// (`gcc (Debian 12.2.0-14+deb12u1) 12.2.0`), if any.
    pub host_cc: Option<&'a str>,
    /// The rustc the `host` builder finds (`1.75.0`), if any.
    pub host_rustc: Option<&'a str>,
    /// The repository of Rust builder images (`docker.io/library/rust`).
    pub rust_image: &'a str,
    /// The architecture the builds run on (that of
    /// [`Platform::host`](crate::image::platform::Platform::host)): a Rust
    /// platform of it builds for the builder's own target.
    pub machine_arch: &'a str,
}

#[cfg(test)]
impl<'a> Toolchains<'a> {
    /// The official images' repositories on an amd64 machine, with the
    /// host's Go and rustc as given, for tests.
    pub(crate) fn official_on_amd64(host_go: Option<&'a str>, host_rustc: Option<&'a str>) -> Self {
        Self {
            host_go,
            go_image: "docker.io/library/golang",
            host_cc: None,
            host_rustc,
            rust_image: "docker.io/library/rust",
            machine_arch: "amd64",
        }
    }
}
