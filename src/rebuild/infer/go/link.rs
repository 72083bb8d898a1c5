//! Linking and the C side of a Go build, read from the ELF
//! ([`crate::binary::linking`]) because Go's build info does not record
//! them under `-trimpath`: the `-buildmode=pie` flag and the `-linkmode` /
//! `-extldflags` words every `go build` candidate needs, the C compiler a
//! cgo build's builder must have, and the C libraries linked in, which the
//! report lists as inputs the rebuild takes from its builder.

use super::facts::PlatformBinary;
use crate::binary::linking::{self, CCompiler, LinkLayout, Linker, Linking};

/// How the image binaries were linked, when every platform's is ELF and
/// they agree.
pub struct LinkFacts {
    pub linking: Linking,
    /// Whether the binaries were built with cgo (`CGO_ENABLED=1`).
    pub cgo: bool,
}

impl LinkFacts {
    /// The first platform's linking, when every platform's binary is ELF
    /// and was linked the same way (layout and linker); else `None`, with a
    /// note when they disagree.
    pub fn read(plats: &[PlatformBinary<'_>], notes: &mut Vec<String>) -> Option<LinkFacts> {
        let mut all = plats.iter().map(|p| linking::read(p.binary));
        let first = all.next()??;
        for (other, plat) in all.zip(plats.iter().skip(1)) {
            let other = other?;
            if (other.layout, other.linker) != (first.layout, first.linker) {
                notes.push(format!(
                    "{} is linked {}, unlike the first platform ({}): linking flags are left to each candidate's defaults",
                    plat.platform,
                    summary(&other),
                    summary(&first)
                ));
                return None;
            }
        }
        Some(LinkFacts {
            cgo: plats.iter().any(|p| p.setting("CGO_ENABLED") == Some("1")),
            linking: first,
        })
    }

    /// `static-pie, external linker`.
    pub fn summary(&self) -> String {
        summary(&self.linking)
    }

    /// The `-buildmode=pie` flag, with why, when the binary is
    /// position-independent, records no `-buildmode` (Go 1.19 does not)
    /// and PIE is not its platform's default.
    pub fn buildmode_flag(&self, plats: &[PlatformBinary<'_>]) -> Option<(String, String)> {
        let pie = matches!(
            self.linking.layout,
            LinkLayout::StaticPie | LinkLayout::DynamicPie
        );
        let recorded = plats.iter().any(|p| p.setting("-buildmode").is_some());
        let default_pie = plats.iter().any(|p| {
            let (os, arch) = (p.platform.os.as_str(), p.platform.architecture.as_str());
            matches!(os, "android" | "darwin" | "ios" | "windows")
                || (os == "linux" && arch == "ppc64le")
        });
        (pie && !recorded && !default_pie).then(|| {
            (
                "-buildmode=pie".to_string(),
                format!(
                    "the binary is a position-independent executable ({}); its build info records no -buildmode",
                    self.linking.evidence.join(", ")
                ),
            )
        })
    }

    /// The `-ldflags` words the linking needs (`-linkmode external
    /// -extldflags --static-pie`), with why; `None` when Go's defaults
    /// link it so (internal linking; a cgo build linked dynamically).
    pub fn ldflags(&self) -> Option<(String, String)> {
        let words = match (self.linking.layout, self.linking.linker) {
            (LinkLayout::StaticPie, _) => "-linkmode external -extldflags --static-pie",
            (LinkLayout::Static, Linker::External) => "-linkmode external -extldflags -static",
            (LinkLayout::Dynamic | LinkLayout::DynamicPie, Linker::External) if !self.cgo => {
                "-linkmode external"
            }
            _ => return None,
        };
        Some((
            words.to_string(),
            format!(
                "{words}: the binary is {} ({})",
                self.summary(),
                self.linking.evidence.join(", ")
            ),
        ))
    }

    /// The C compiler `.comment` names, when the binary was linked by the
    /// C toolchain.
    pub fn compiler(&self) -> Option<&CCompiler> {
        (self.linking.linker == Linker::External)
            .then(|| self.linking.compilers.first())
            .flatten()
    }

    /// A note naming the C compiler and the C libraries linked in, the
    /// inputs a cgo rebuild takes from its builder.
    pub fn note(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(compiler) = self.compiler() {
            parts.push(format!(
                "the binary's .comment names {compiler}{}, which the builder's C compiler must be",
                compiler
                    .debian_release()
                    .map(|r| format!(", Debian {r}'s"))
                    .unwrap_or_default()
            ));
        }
        if !self.linking.libraries.is_empty() {
            parts.push(format!(
                "the C libraries linked in, taken from the builder: {}",
                self.linking
                    .libraries
                    .iter()
                    .map(|l| match &l.version {
                        Some(version) => format!("{} {version} ({})", l.name, l.evidence),
                        None => format!("{} ({})", l.name, l.evidence),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        (!parts.is_empty()).then(|| format!("C toolchain: {}", parts.join("; ")))
    }

    /// Whether a build's commands (a Makefile target's, as
    /// [`command_words`]) link as the binary shows: `Ok` with what agrees,
    /// `Err` with what contradicts.
    pub fn agrees_with(&self, words: &[&str]) -> Result<Vec<String>, String> {
        let has = |w: &str| words.contains(&w);
        let static_pie = has("--static-pie") || has("-static-pie");
        let fully_static = has("-static") || has("--static");
        let pie = has("-buildmode=pie") || static_pie;
        let layout = self.linking.layout;
        let says = if static_pie {
            Some(LinkLayout::StaticPie)
        } else if fully_static && pie {
            None
        } else if fully_static {
            Some(LinkLayout::Static)
        } else if pie {
            Some(LinkLayout::DynamicPie)
        } else {
            None
        };
        let binary = self.summary();
        match says {
            Some(said) if said == layout => Ok(vec![format!(
                "it links {} as the binary shows ({binary})",
                layout_words(said)
            )]),
            Some(said) => Err(format!(
                "it links {}, but the binary is {binary}",
                layout_words(said)
            )),
            None if matches!(layout, LinkLayout::StaticPie) => Err(format!(
                "it asks for no static-pie link, but the binary is {binary}"
            )),
            None => Ok(Vec::new()),
        }
    }
}

fn layout_words(layout: LinkLayout) -> &'static str {
    match layout {
        LinkLayout::Static => "static",
        LinkLayout::StaticPie => "static-pie",
        LinkLayout::Dynamic => "dynamic",
        LinkLayout::DynamicPie => "dynamic PIE",
    }
}

fn summary(linking: &Linking) -> String {
    format!(
        "{}, {}",
        layout_words(linking.layout),
        match linking.linker {
            Linker::GoInternal => "Go's internal linker",
            Linker::External => "external linker",
        }
    )
}

/// The words of a build's commands, quotes dropped
/// (`-ldflags "-X a=1 -extldflags --static-pie"` gives `-extldflags`,
/// `--static-pie`, ...): what flags are looked for in.
pub fn command_words(text: &str) -> Vec<&str> {
    text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether the host's C compiler (its `--version` first line) is the one
/// the binary's `.comment` names.
pub fn host_compiler_matches(host_cc: Option<&str>, wanted: &CCompiler) -> bool {
    host_cc
        .and_then(CCompiler::parse)
        .is_some_and(|host| &host == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(layout: LinkLayout, linker: Linker, cgo: bool) -> LinkFacts {
        LinkFacts {
            linking: Linking {
                layout,
                interpreter: None,
                linker,
                evidence: vec!["ELF type DYN".into(), "no PT_INTERP".into()],
                compilers: vec![CCompiler {
                    name: "GCC".into(),
                    version: "12.2.0".into(),
                    distribution: Some("Debian 12.2.0-14+deb12u1".into()),
                }],
                libraries: Vec::new(),
            },
            cgo,
        }
    }

    #[test]
    fn linking_words_follow_the_layout_and_linker() {
        let words = |layout, linker, cgo| facts(layout, linker, cgo).ldflags().map(|(w, _)| w);
        assert_eq!(
            words(LinkLayout::StaticPie, Linker::External, true).as_deref(),
            Some("-linkmode external -extldflags --static-pie")
        );
        assert_eq!(
            words(LinkLayout::Static, Linker::External, true).as_deref(),
            Some("-linkmode external -extldflags -static")
        );
        assert_eq!(words(LinkLayout::Dynamic, Linker::External, true), None);
        assert_eq!(words(LinkLayout::Static, Linker::GoInternal, false), None);
        assert_eq!(
            words(LinkLayout::Dynamic, Linker::External, false).as_deref(),
            Some("-linkmode external")
        );
    }

    #[test]
    fn a_build_text_agrees_only_when_it_links_as_the_binary_shows() {
        let static_pie = facts(LinkLayout::StaticPie, Linker::External, true);
        let make_static = "CGO_ENABLED=1 go build -trimpath -buildmode=pie -ldflags \"-X main.version=1 -linkmode external -extldflags --static-pie\" -o app .";
        assert_eq!(
            static_pie.agrees_with(&command_words(make_static)),
            Ok(vec![
                "it links static-pie as the binary shows (static-pie, external linker)".to_string()
            ])
        );
        assert_eq!(
            static_pie.agrees_with(&command_words("go build -trimpath -o app .")),
            Err(
                "it asks for no static-pie link, but the binary is static-pie, external linker"
                    .into()
            )
        );
        let dynamic = facts(LinkLayout::Dynamic, Linker::External, true);
        assert_eq!(
            dynamic.agrees_with(&command_words("go build -trimpath -o app .")),
            Ok(Vec::new())
        );
        assert_eq!(
            dynamic.agrees_with(&command_words(make_static)),
            Err("it links static-pie, but the binary is dynamic, external linker".into())
        );
    }

    #[test]
    fn the_host_compiler_matches_only_the_same_build() {
        let wanted = facts(LinkLayout::Dynamic, Linker::External, true);
        let wanted = wanted.compiler().unwrap();
        assert!(host_compiler_matches(
            Some("gcc (Debian 12.2.0-14+deb12u1) 12.2.0"),
            wanted
        ));
        assert!(!host_compiler_matches(
            Some("gcc (Debian 12.2.0-14) 12.2.0"),
            wanted
        ));
        assert!(!host_compiler_matches(None, wanted));
    }
}
