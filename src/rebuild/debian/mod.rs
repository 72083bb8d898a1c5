//! Rebuilds a Debian source package the way Debian's buildds do, in the
//! sandbox: from its verified `.dsc` and files to the `.deb`s
//! `dpkg-buildpackage -B` writes.
//!
//! [`dsc`] reads the source package's control file; [`DebianBuildError`]
//! says why a build failed; [`root`] makes (or
//! reuses from the cache) a build root with mmdebstrap holding the build
//! dependencies; [`package`] unpacks the source with `dpkg-source -x`,
//! applies a binNMU changelog entry and runs `dpkg-buildpackage`, each as
//! root of the build's own user namespace inside [`super::sandbox`], with
//! no network, and collects the `.deb`s.
//!
//! Threat model: the source package is untrusted code: it is unpacked and
//! built only inside the sandbox (never on the host), whose root is the
//! read-only build root; the host reads back only regular files named
//! `*.deb` from the build directory.

pub mod dsc;
mod error;
pub mod package;
pub mod root;

pub use error::DebianBuildError;
pub use package::{build, DebianBuild, DebianBuildRequest};
pub use root::BuildRoot;
