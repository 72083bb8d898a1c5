//! Platforms (`os/arch[/variant]`), as written on the command line and in
//! image indexes, with the same normalisation containerd applies
//! (`arm64` is `arm64/v8`, `arm` is `arm/v7`, `aarch64` is `arm64`, `x86_64` is `amd64`).

use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};

/// An image platform such as `linux/arm64` or `linux/arm/v7`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

/// A `--platform` value that is not `os/arch[/variant]`.
#[derive(Debug, thiserror::Error)]
#[error("invalid platform {0:?}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7")]
pub struct PlatformError(String);

impl Platform {
    /// A platform from its parts, normalised.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let os = os.to_ascii_lowercase();
        let (architecture, variant) = normalise_arch(
            &architecture.to_ascii_lowercase(),
            variant
                .map(str::to_ascii_lowercase)
                .filter(|v| !v.is_empty()),
        );
        Self {
            os,
            architecture,
            variant,
        }
    }

    /// The platform this program runs on (what a builder image is pulled for).
    pub fn host() -> Self {
        Self::new(std::env::consts::OS, std::env::consts::ARCH, None)
    }

    /// Whether this platform, as requested, selects `other`, as found in an index.
    /// A request without variant selects any variant of its architecture's default.
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || self.variant == other.variant)
    }

    /// The name `uname -m`-style tools and ELF headers use for this architecture.
    pub fn machine_name(&self) -> &str {
        match self.architecture.as_str() {
            "amd64" => "x86_64",
            "arm64" => "aarch64",
            "386" => "x86",
            "arm" => "arm",
            "ppc64le" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            other => other,
        }
    }
}

fn normalise_arch(arch: &str, variant: Option<String>) -> (String, Option<String>) {
    match (arch, variant) {
        ("x86_64" | "x86-64" | "amd64", v) => ("amd64".into(), v),
        ("aarch64" | "arm64", None | Some(_)) => ("arm64".into(), Some("v8".into())),
        ("armhf", _) => ("arm".into(), Some("v7".into())),
        ("armel", _) => ("arm".into(), Some("v6".into())),
        ("arm", None) => ("arm".into(), Some("v7".into())),
        ("i386" | "i686" | "x86", v) => ("386".into(), v),
        (a, v) => (a.into(), v),
    }
}

impl FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        };
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Self::new(os, arch, None)),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => {
                Ok(Self::new(os, arch, Some(variant)))
            }
            _ => Err(PlatformError(s.to_string())),
        }
    }
}

impl fmt::Display for Platform {
    /// `os/arch[/variant]`, leaving out the default variants (`linux/arm64`, not `linux/arm64/v8`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", Some("v8")) | (_, None) => Ok(()),
            (_, Some(v)) => write!(f, "/{v}"),
        }
    }
}

impl Serialize for Platform {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_architecture_names() {
        let p: Platform = "linux/aarch64".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        assert!(p.matches(&Platform::new("linux", "arm64", Some("v8"))));
        assert!(p.matches(&Platform::new("linux", "arm64", None)));
        assert_eq!(
            "linux/x86_64".parse::<Platform>().unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(
            "linux/arm".parse::<Platform>().unwrap().to_string(),
            "linux/arm/v7"
        );
    }

    #[test]
    fn variant_narrows_the_match() {
        let v6: Platform = "linux/arm/v6".parse().unwrap();
        assert!(!v6.matches(&Platform::new("linux", "arm", Some("v7"))));
        let any: Platform = "linux/amd64".parse().unwrap();
        assert!(any.matches(&Platform::new("linux", "amd64", Some("v3"))));
    }

    #[test]
    fn rejects_malformed_platforms() {
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/amd 64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }
}
