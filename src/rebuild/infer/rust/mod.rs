//! Rust: a `cargo build --release --locked` recipe from the binary's
//! rustc version (`.comment`), its libc (the ELF interpreter), its
//! cargo-auditable dependency list, the Cargo home and build directory its
//! embedded paths show, and the binary targets of the tag's `Cargo.toml`
//! files.
//!
//! [`binary`] reads the binary, [`targets`] the tag's `Cargo.toml` files,
//! and [`recipe`] writes each candidate's recipe.

mod binary;
mod recipe;
mod targets;

use std::collections::BTreeSet;

use super::candidate::{Candidate, Ecosystem, InferError, Inference};
use super::evidence::Evidence;
use super::recipe::image_and_source;
use crate::image::platform::Platform;
use crate::rebuild::recipe::schema::check_workdir;
use binary::{build_dir, cargo_home, is_stable, libc_of, rustc_version, triple, Libc};
use recipe::{RecipeParts, CARGO_HOME};
use targets::binary_target;

/// What a binary's embedded paths show of its build: its Cargo home and
/// its build directory.
type EmbeddedDirs = (Option<String>, Option<String>);

/// The platforms whose binaries embed the same Cargo home (which the
/// candidates remap to) and build directory (where they build), as groups
/// of indices into `evidence.platforms`, each in platform order: each
/// group gets its own candidates.
pub fn input_groups(evidence: &Evidence<'_>) -> Vec<Vec<usize>> {
    let mut groups: Vec<(EmbeddedDirs, Vec<usize>)> = Vec::new();
    for (index, platform) in evidence.platforms.iter().enumerate() {
        let home = (cargo_home(&platform.binary), build_dir(&platform.binary));
        match groups.iter_mut().find(|(h, _)| *h == home) {
            Some((_, members)) => members.push(index),
            None => groups.push((home, vec![index])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// Candidate recipes for a Rust binary.
pub fn infer(evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    let version = rustc_version(evidence.platforms)?;
    let mut notes = Vec::new();
    let mut targets = Vec::new();
    for platform in evidence.platforms {
        let libc = libc_of(&platform.binary).map_err(|why| {
            InferError::Invalid(format!(
                "the image binary for {} {why}, so its Rust target cannot be told: write a recipe (see recipes/README.md)",
                platform.platform
            ))
        })?;
        targets.push((
            platform.platform.clone(),
            libc,
            triple(&platform.platform, libc)?,
        ));
    }
    let first_libc = targets.first().map_or(Libc::Gnu, |(_, libc, _)| *libc);
    if targets.iter().any(|(_, libc, _)| *libc != first_libc) {
        notes.push(format!(
            "the platforms' binaries link different C libraries; the builder is chosen for {}",
            evidence
                .platforms
                .first()
                .map(|p| p.platform.to_string())
                .unwrap_or_default()
        ));
    }

    let locals: BTreeSet<&str> = evidence
        .platforms
        .iter()
        .filter_map(|p| p.rust.as_ref()?.packages.as_ref())
        .flatten()
        .filter(|p| p.source.as_deref() == Some("local"))
        .map(|p| p.name.as_str())
        .collect();
    let target = binary_target(evidence.source.files, evidence.binary_path, &locals)?;
    if let Some(note) = &target.note {
        notes.push(note.clone());
    }

    let builder = if evidence.toolchains.host_rustc.map(str::trim) == Some(version.as_str()) {
        "host".to_string()
    } else if is_stable(&version) {
        let suffix = if first_libc == Libc::Musl {
            "-alpine"
        } else {
            ""
        };
        format!("{}:{version}{suffix}", evidence.toolchains.rust_image)
    } else {
        return Err(InferError::Invalid(format!(
            "the image binary was built with rustc {version}, not a stable release, which no builder image is tagged with: write a recipe with a builder that has it (see recipes/README.md)"
        )));
    };

    // Cargo builds for the builder's own target unless told another: an
    // explicit `--target` (CARGO_BUILD_TARGET), even of the same triple,
    // changes the symbols' hashes, so the machine's own platform builds
    // without one, as `cargo build` in the official images does.
    let builder_libc = if builder.ends_with("-alpine") {
        Libc::Musl
    } else {
        Libc::Gnu
    };
    let targets: Vec<(Platform, Libc, Option<String>)> = targets
        .into_iter()
        .map(|(platform, libc, triple)| {
            let native = platform.os == "linux"
                && platform.architecture == evidence.toolchains.machine_arch
                && platform.variant.is_none()
                && (libc == Libc::Musl) == (builder_libc == Libc::Musl);
            (platform, libc, (!native).then_some(triple))
        })
        .collect();

    let auditable = evidence
        .platforms
        .iter()
        .all(|p| p.rust.as_ref().is_some_and(|r| r.packages.is_some()));
    if auditable {
        notes.push(
            "the binary carries cargo-auditable data (.dep-v0), so upstream built it with `cargo auditable build`: the first candidates need cargo-auditable on the builder's PATH (the official Rust images do not have it)".into(),
        );
    } else {
        let named: BTreeSet<&str> = evidence
            .platforms
            .iter()
            .filter_map(|p| p.rust.as_ref())
            .flat_map(|r| &r.registry_crates)
            .map(|c| c.name.as_str())
            .collect();
        notes.push(if named.is_empty() {
            "the binary carries no cargo-auditable dependency list: its crates cannot be checked against the tag's Cargo.lock".into()
        } else {
            format!(
                "the binary carries no cargo-auditable dependency list: only the crates its registry paths name ({}) were checked against the tag's Cargo.lock",
                named.into_iter().collect::<Vec<_>>().join(", ")
            )
        });
    }
    notes.push(
        "neither the binary nor its cargo-auditable data records the Cargo features it was built with: the candidates build the default features".into(),
    );
    if evidence.source.files.read("Cargo.lock").is_none() {
        notes.push(
            "the tag has no Cargo.lock at its root: `--locked` builds fail without one".into(),
        );
    }
    if targets.iter().any(|(_, _, triple)| triple.is_some()) {
        notes.push(
            "a platform other than this machine's builds for its CARGO_BUILD_TARGET: a target other than the builder's own needs its standard library and linker in the builder".into(),
        );
    }

    let home = evidence
        .platforms
        .iter()
        .find_map(|p| cargo_home(&p.binary))
        .filter(|home| home != CARGO_HOME);
    if let Some(home) = &home {
        notes.push(format!(
            "the binary embeds paths under {home}, upstream's Cargo home: the first candidates remap {CARGO_HOME} to it (RUSTFLAGS=--remap-path-prefix)"
        ));
    }

    let workdir = match evidence.platforms.iter().find_map(|p| build_dir(&p.binary)) {
        Some(dir) => match check_workdir(&dir) {
            Ok(()) => {
                notes.push(format!(
                    "the binary embeds paths under {dir}/target, upstream's build directory: the candidates build there (workdir)"
                ));
                Some(dir)
            }
            Err(why) => {
                notes.push(format!(
                    "the binary embeds paths under {dir}/target, upstream's build directory, where the sandbox cannot build ({why}): the candidates build in /src"
                ));
                None
            }
        },
        None => None,
    };

    let (image, source) = image_and_source(evidence)?;
    let recipe = RecipeParts {
        rustc: &version,
        image,
        source,
        builder: &builder,
        target: &target,
        targets: &targets,
        workdir: workdir.as_deref(),
        has_dep_v0: auditable,
    };
    let mut variants = Vec::new();
    let remaps: Vec<Option<&str>> = match &home {
        Some(home) => vec![Some(home.as_str()), None],
        None => vec![None],
    };
    for remap in &remaps {
        variants.push((auditable, *remap));
    }
    if auditable {
        variants.push((false, remaps.first().copied().flatten()));
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    for (auditable, remap) in variants {
        let candidate = recipe.candidate(auditable, remap)?;
        if !candidates.iter().any(|c| c.text == candidate.text) {
            candidates.push(candidate);
        }
    }
    Ok(Inference {
        ecosystem: Ecosystem::Rust,
        candidates,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::targets::binary_targets;
    use super::*;
    use crate::binary::{RustInfo, RustPackage};
    use crate::rebuild::infer::evidence::PlatformEvidence;
    use crate::rebuild::infer::evidence::{SourceEvidence, Toolchains};
    use crate::rebuild::infer::files::MemoryFiles;
    use crate::rebuild::recipe::write::tests::assert_reads_back;
    use crate::rebuild::recipe::{ArtifactSpec, Builder, Recipe};

    const GLIBC_AMD64: &str = "/lib64/ld-linux-x86-64.so.2";
    const GLIBC_ARM64: &str = "/lib/ld-linux-aarch64.so.1";
    const MUSL_AMD64: &str = "/lib/ld-musl-x86_64.so.1";

    /// A minimal little-endian ELF64 executable: a `PT_INTERP` segment
    /// when `interpreter` is given, then `payload` (strings the binary
    /// embeds).
    fn elf(machine: u16, interpreter: Option<&str>, payload: &[u8]) -> Vec<u8> {
        let phnum: u16 = interpreter.map_or(0, |_| 1);
        let interp_at = 64 + 56 * u64::from(phnum);
        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        out.extend_from_slice(&3u16.to_le_bytes()); // ET_DYN
        out.extend_from_slice(&machine.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes()); // entry
        out.extend_from_slice(&64u64.to_le_bytes()); // phoff
        out.extend_from_slice(&0u64.to_le_bytes()); // shoff
        out.extend_from_slice(&0u32.to_le_bytes()); // flags
        for half in [64u16, 56, phnum, 64, 0, 0] {
            out.extend_from_slice(&half.to_le_bytes());
        }
        if let Some(path) = interpreter {
            let len = path.len() as u64 + 1;
            out.extend_from_slice(&3u32.to_le_bytes()); // PT_INTERP
            out.extend_from_slice(&4u32.to_le_bytes()); // PF_R
            for word in [interp_at, interp_at, interp_at, len, len, 1] {
                out.extend_from_slice(&word.to_le_bytes());
            }
            out.extend_from_slice(path.as_bytes());
            out.push(0);
        }
        out.extend_from_slice(payload);
        out
    }

    fn rust_info(rustc: &str, dep_v0: bool) -> Option<RustInfo> {
        let package = |name: &str, version: &str, source: &str| RustPackage {
            name: name.into(),
            version: version.into(),
            source: Some(source.into()),
        };
        Some(RustInfo {
            rustc: Some(rustc.into()),
            packages: dep_v0.then(|| {
                vec![
                    package("app", "1.2.0", "local"),
                    package("serde", "1.0.190", "crates.io"),
                ]
            }),
            registry_crates: Vec::new(),
        })
    }

    fn platform(name: &str, binary: Vec<u8>, rust: Option<RustInfo>) -> PlatformEvidence {
        PlatformEvidence {
            platform: name.parse().expect("platform"),
            binary,
            go: None,
            rust,
        }
    }

    const RUSTC: &str = "rustc version 1.75.0 (82e1608df 2023-12-21)";

    const CARGO_TOML: &str = "[package]\nname = \"app\"\nversion = \"1.2.0\"\nedition = \"2021\"\n";

    fn app_tree() -> MemoryFiles {
        MemoryFiles::new([
            ("Cargo.toml", CARGO_TOML),
            ("Cargo.lock", "version = 4\n"),
            ("src/main.rs", "fn main() {}\n"),
        ])
    }

    /// Runs inference on an image `docker.io/org/app` at tag `1.2.0`
    /// (VERSION `v1.2.0`), binary `binary_path`, source tag `v1.2.0`.
    fn infer_with(
        platforms: &[PlatformEvidence],
        files: &MemoryFiles,
        binary_path: &str,
        host_rustc: Option<&str>,
    ) -> Result<Inference, InferError> {
        let annotations = BTreeMap::new();
        let evidence = Evidence {
            repository: "docker.io/org/app",
            tag: "1.2.0",
            version: "v1.2.0",
            binary_path,
            annotations: &annotations,
            platforms,
            source: SourceEvidence {
                url: "https://github.com/org/app",
                git_ref: "v1.2.0",
                commit: "0123456789abcdef0123456789abcdef01234567",
                commit_time: 1_700_000_000,
                files,
            },
            toolchains: Toolchains::official_on_amd64(None, host_rustc),
        };
        infer(&evidence)
    }

    /// `candidate`'s recipe, which reads back to the values it was written from.
    fn parses(candidate: &Candidate) -> Recipe {
        assert_reads_back(&candidate.recipe, &candidate.text);
        Recipe::parse("inferred", &candidate.text)
            .unwrap_or_else(|e| panic!("{e}\n{}", candidate.text))
    }

    #[test]
    fn infers_a_cargo_auditable_release_build_for_glibc_binaries() {
        let platforms = [
            platform(
                "linux/amd64",
                elf(62, Some(GLIBC_AMD64), b""),
                rust_info(RUSTC, true),
            ),
            platform(
                "linux/arm64",
                elf(183, Some(GLIBC_ARM64), b""),
                rust_info(RUSTC, true),
            ),
        ];
        let inference =
            infer_with(&platforms, &app_tree(), "/usr/local/bin/app", None).expect("infers");
        assert_eq!(inference.ecosystem, Ecosystem::Rust);
        let labels: Vec<&str> = inference
            .candidates
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(
            labels,
            vec![
                "cargo auditable build --release --locked --bin app",
                "cargo build --release --locked --bin app (without cargo-auditable: differs by .dep-v0 at least)",
            ]
        );
        assert_eq!(
            inference.candidates[0].text,
            r#"# Inferred by rebuild-compare from the image binary: rustc 1.75.0, binary target app.
[image]
repository = "docker.io/org/app"
tag = "{version_bare}"
binary = "/usr/local/bin/app"

[source]
git = "https://github.com/org/app"
ref = "{version}"

[build]
builder = "docker.io/library/rust:1.75.0"
fetch = ["cargo", "fetch", "--locked"]
command = ["cargo", "auditable", "build", "--release", "--locked", "--offline", "--bin", "app"]
cargo_bin = "app"
env = { CARGO_HOME = "/cache/cargo" }

[build.platforms."linux/amd64"]

[build.platforms."linux/arm64"]
env = { CARGO_BUILD_TARGET = "aarch64-unknown-linux-gnu" }
"#
        );
        for candidate in &inference.candidates {
            let recipe = parses(candidate);
            assert!(matches!(&recipe.build.output, ArtifactSpec::CargoBin(name) if name == "app"));
            assert!(
                matches!(&recipe.build.builder, Builder::Image(t) if t.as_str() == "docker.io/library/rust:1.75.0")
            );
            assert_eq!(recipe.build.platforms.len(), 2);
        }
        assert!(inference
            .notes
            .iter()
            .any(|n| n.contains("cargo auditable build")));
    }

    #[test]
    fn a_binary_without_dep_v0_gets_a_plain_cargo_build() {
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference =
            infer_with(&platforms, &app_tree(), "/usr/local/bin/app", None).expect("infers");
        assert_eq!(inference.candidates.len(), 1);
        assert!(inference.candidates[0].text.contains(
            r#"command = ["cargo", "build", "--release", "--locked", "--offline", "--bin", "app"]"#
        ));
        assert!(inference
            .notes
            .iter()
            .any(|n| n.contains("no cargo-auditable dependency list")));
        parses(&inference.candidates[0]);
    }

    #[test]
    fn static_binaries_build_for_musl_on_the_alpine_image_or_with_crt_static() {
        let musl = [
            platform("linux/amd64", elf(62, None, b""), rust_info(RUSTC, true)),
            platform(
                "linux/arm64",
                elf(183, Some("/lib/ld-musl-aarch64.so.1"), b""),
                rust_info(RUSTC, true),
            ),
        ];
        let inference = infer_with(&musl, &app_tree(), "/app", None).expect("infers");
        let text = &inference.candidates[0].text;
        assert!(
            text.contains("builder = \"docker.io/library/rust:1.75.0-alpine\"\n"),
            "{text}"
        );
        assert!(
            text.contains("[build.platforms.\"linux/amd64\"]\n\n"),
            "the machine's own platform builds for the builder's own target: {text}"
        );
        assert!(text.contains("env = { CARGO_BUILD_TARGET = \"aarch64-unknown-linux-musl\" }"));
        parses(&inference.candidates[0]);

        let glibc_static = [platform(
            "linux/amd64",
            elf(62, None, b"\0GLIBC_TUNABLES\0"),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&glibc_static, &app_tree(), "/app", None).expect("infers");
        let text = &inference.candidates[0].text;
        assert!(
            text.contains("builder = \"docker.io/library/rust:1.75.0\"\n"),
            "{text}"
        );
        assert!(text.contains("env = { RUSTFLAGS = \"-C target-feature=+crt-static\" }"));
        parses(&inference.candidates[0]);

        let dynamic_musl = [platform(
            "linux/amd64",
            elf(62, Some(MUSL_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&dynamic_musl, &app_tree(), "/app", None).expect("infers");
        let text = &inference.candidates[0].text;
        assert!(text.contains("builder = \"docker.io/library/rust:1.75.0-alpine\"\n"));
        assert!(!text.contains("CARGO_BUILD_TARGET"), "{text}");
    }

    #[test]
    fn the_host_builds_when_its_rustc_is_the_binary_s_version() {
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference =
            infer_with(&platforms, &app_tree(), "/app", Some("1.75.0")).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("builder = \"host\"\n"));
        assert_eq!(
            parses(&inference.candidates[0]).build.builder,
            Builder::Host
        );
        let inference =
            infer_with(&platforms, &app_tree(), "/app", Some("1.76.0")).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("builder = \"docker.io/library/rust:1.75.0\"\n"));
    }

    #[test]
    fn an_embedded_target_directory_makes_its_parent_the_workdir() {
        let payload = b"\0/usr/src/app/target/release/build/app-0123456789abcdef/out/gen.rs\0\
x/usr/src/app/target/release/build/app-0123456789abcdef/out/more.rs\0";
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), payload),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&platforms, &app_tree(), "/app", None).expect("infers");
        let text = &inference.candidates[0].text;
        assert!(text.contains("workdir = \"/usr/src/app\"\n"), "{text}");
        assert!(inference.notes.contains(&"the binary embeds paths under /usr/src/app/target, upstream's build directory: the candidates build there (workdir)".to_string()));
        parses(&inference.candidates[0]);

        let cross = b"\0/home/runner/work/app/app/target/aarch64-unknown-linux-gnu/release/build/app-01/out/gen.rs\0";
        assert_eq!(
            build_dir(cross).as_deref(),
            Some("/home/runner/work/app/app")
        );
        assert_eq!(build_dir(b"/x/release/build/a/out/g.rs"), None);

        let in_tmp = [platform(
            "linux/amd64",
            elf(
                62,
                Some(GLIBC_AMD64),
                b"\0/tmp/app/target/release/build/app-01/out/gen.rs\0",
            ),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&in_tmp, &app_tree(), "/app", None).expect("infers");
        assert!(!inference.candidates[0].text.contains("workdir"));
        assert!(inference.notes.iter().any(|n| n.starts_with(
            "the binary embeds paths under /tmp/app/target, upstream's build directory, where the sandbox cannot build"
        )));
    }

    #[test]
    fn an_embedded_cargo_home_puts_a_remapped_candidate_first() {
        let payload = b"\0/home/runner/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.190/src/de/mod.rs\0\
/home/runner/.cargo/registry/src/index.crates.io-6f17d22bba15001f/serde-1.0.190/src/ser/mod.rs\0\
x/home/runner/.cargo/git/checkouts/mylib-0123456789abcdef/0123456/src/lib.rs\0\
/rustc/82e1608dfa6e0b5569232559e3d385fea5a93112/library/std/src/io/mod.rs\0";
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), payload),
            rust_info(RUSTC, true),
        )];
        let inference = infer_with(&platforms, &app_tree(), "/app", None).expect("infers");
        let labels: Vec<&str> = inference
            .candidates
            .iter()
            .map(|c| c.label.as_str())
            .collect();
        assert_eq!(
            labels,
            vec![
                "cargo auditable build --release --locked --bin app, /cache/cargo remapped to /home/runner/.cargo",
                "cargo auditable build --release --locked --bin app",
                "cargo build --release --locked --bin app, /cache/cargo remapped to /home/runner/.cargo (without cargo-auditable: differs by .dep-v0 at least)",
            ]
        );
        assert!(inference.candidates[0].text.contains(
            "env = { RUSTFLAGS = \"--remap-path-prefix=/cache/cargo=/home/runner/.cargo\" }"
        ));
        assert!(!inference.candidates[1].text.contains("RUSTFLAGS"));
        for candidate in &inference.candidates {
            parses(candidate);
        }
        assert!(inference
            .notes
            .iter()
            .any(|n| n.contains("/home/runner/.cargo")));
    }

    #[test]
    fn platforms_embedding_other_cargo_homes_get_groups_of_their_own() {
        let home = |dir: &str| {
            format!("\0{dir}/registry/src/index/serde-1.0.190/src/lib.rs\0").into_bytes()
        };
        let platforms = [
            platform("linux/amd64", home("/home/runner/.cargo"), None),
            platform("linux/arm64", home("/root/.cargo"), None),
            platform("linux/s390x", home("/home/runner/.cargo"), None),
            platform("linux/ppc64le", b"no home".to_vec(), None),
        ];
        let files = app_tree();
        let annotations = BTreeMap::new();
        let evidence = Evidence {
            repository: "docker.io/org/app",
            tag: "1.2.0",
            version: "v1.2.0",
            binary_path: "/app",
            annotations: &annotations,
            platforms: &platforms,
            source: SourceEvidence {
                url: "https://github.com/org/app",
                git_ref: "v1.2.0",
                commit: "0123456789abcdef0123456789abcdef01234567",
                commit_time: 1_700_000_000,
                files: &files,
            },
            toolchains: Toolchains::official_on_amd64(None, None),
        };
        assert_eq!(input_groups(&evidence), vec![vec![0, 2], vec![1], vec![3]]);
    }

    #[test]
    fn cargo_homes_with_odd_bytes_or_the_recipe_s_own_are_not_remapped() {
        assert_eq!(
            cargo_home(b"\0/cache/cargo/registry/src/x\0").as_deref(),
            Some(CARGO_HOME)
        );
        assert_eq!(
            cargo_home(b"C:\\Users\\x\\.cargo/registry/src/x").as_deref(),
            None
        );
        // Strings back to back: the longest suffix before the most paths.
        assert_eq!(
            cargo_home(b"a `None` value/home/runner/.cargo/registry/src/a.rs/home/runner/.cargo/registry/src/b.rs").as_deref(),
            Some("/home/runner/.cargo")
        );
        assert_eq!(cargo_home(b"registry/src/"), None);
        assert_eq!(cargo_home(b"/registry/src/"), None);
        assert_eq!(cargo_home(b"/a/../b/registry/src/x"), None);
        assert_eq!(
            cargo_home(b"\xff/usr/local/cargo/registry/src/x").as_deref(),
            Some("/usr/local/cargo")
        );
        let platforms = [platform(
            "linux/amd64",
            elf(
                62,
                Some(GLIBC_AMD64),
                b"\0/cache/cargo/registry/src/x/lib.rs\0",
            ),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&platforms, &app_tree(), "/app", None).expect("infers");
        assert_eq!(inference.candidates.len(), 1);
        assert!(!inference.candidates[0].text.contains("RUSTFLAGS"));
    }

    #[test]
    fn a_binary_of_a_workspace_member_is_built_with_its_package() {
        let files = MemoryFiles::new([
            ("Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
            ("Cargo.lock", "version = 4\n"),
            ("crates/core/Cargo.toml", "[package]\nname = \"core\"\nversion = \"0.1.0\"\n"),
            ("crates/core/src/lib.rs", ""),
            (
                "crates/cli/Cargo.toml",
                "[package]\nname = \"app-cli\"\nversion = \"1.2.0\"\n\n[[bin]]\nname = \"app\"\npath = \"src/main.rs\"\n",
            ),
            ("crates/cli/src/main.rs", "fn main() {}\n"),
            ("crates/cli/src/bin/helper.rs", "fn main() {}\n"),
            ("crates/cli/src/bin/tool/main.rs", "fn main() {}\n"),
        ]);
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let inference = infer_with(&platforms, &files, "/usr/bin/app", None).expect("infers");
        assert!(inference.candidates[0].text.contains(
            r#"command = ["cargo", "build", "--release", "--locked", "--offline", "--package", "app-cli", "--bin", "app"]"#
        ));
        let inference = infer_with(&platforms, &files, "/usr/bin/tool", None).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("cargo_bin = \"tool\"\n"));
        let names: Vec<String> = binary_targets(&files).into_iter().map(|t| t.name).collect();
        assert_eq!(names, vec!["app", "app-cli", "helper", "tool"]);
    }

    #[test]
    fn a_renamed_binary_is_the_only_target_of_the_crates_it_was_built_from() {
        let files = MemoryFiles::new([
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"app\", \"xtask\"]\n",
            ),
            ("app/Cargo.toml", CARGO_TOML),
            ("app/src/main.rs", "fn main() {}\n"),
            (
                "xtask/Cargo.toml",
                "[package]\nname = \"xtask\"\nversion = \"0.0.0\"\n",
            ),
            ("xtask/src/main.rs", "fn main() {}\n"),
        ]);
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, true),
        )];
        let inference =
            infer_with(&platforms, &files, "/usr/local/bin/server", None).expect("infers");
        assert!(inference.candidates[0]
            .text
            .contains("cargo_bin = \"app\"\n"));
        assert!(inference.notes.contains(
            &"the image calls the binary server; the tag's only binary target of the crates it was built from is app".to_string()
        ));
        // Without cargo-auditable data, two targets leave it open.
        let platforms = [platform(
            "linux/amd64",
            elf(62, Some(GLIBC_AMD64), b""),
            rust_info(RUSTC, false),
        )];
        let err =
            infer_with(&platforms, &files, "/usr/local/bin/server", None).expect_err("ambiguous");
        assert_eq!(
            err.to_string(),
            "the image binary server is not a binary target of the tag's Cargo.toml files (app, xtask): write a recipe with the right cargo_bin (see recipes/README.md)"
        );
    }

    #[test]
    fn binaries_that_name_no_usable_toolchain_are_errors() {
        let files = app_tree();
        let binary = || elf(62, Some(GLIBC_AMD64), b"");
        let no_rustc = [platform(
            "linux/amd64",
            binary(),
            Some(RustInfo {
                rustc: None,
                packages: Some(Vec::new()),
                registry_crates: Vec::new(),
            }),
        )];
        let err = infer_with(&no_rustc, &files, "/app", None).expect_err("no rustc");
        assert!(
            err.to_string()
                .starts_with("the image binary for linux/amd64 does not name its rustc version"),
            "{err}"
        );

        let nightly = "rustc version 1.77.0-nightly (abcdef012 2024-01-01)";
        let platforms = [platform("linux/amd64", binary(), rust_info(nightly, false))];
        let err = infer_with(&platforms, &files, "/app", None).expect_err("nightly");
        assert!(
            err.to_string()
                .contains("rustc 1.77.0-nightly, not a stable release"),
            "{err}"
        );
        let inference =
            infer_with(&platforms, &files, "/app", Some("1.77.0-nightly")).expect("host has it");
        assert!(inference.candidates[0]
            .text
            .contains("builder = \"host\"\n"));

        let mixed = [
            platform("linux/amd64", binary(), rust_info(RUSTC, false)),
            platform(
                "linux/arm64",
                elf(183, Some(GLIBC_ARM64), b""),
                rust_info("rustc version 1.76.0 (07dca489a 2024-02-04)", false),
            ),
        ];
        let err = infer_with(&mixed, &files, "/app", None).expect_err("mixed");
        assert!(
            err.to_string()
                .contains("1.75.0 for linux/amd64, 1.76.0 for linux/arm64"),
            "{err}"
        );

        let not_elf = [platform(
            "linux/amd64",
            b"#!/bin/sh\n".to_vec(),
            rust_info(RUSTC, false),
        )];
        let err = infer_with(&not_elf, &files, "/app", None).expect_err("not ELF");
        assert!(
            err.to_string()
                .starts_with("the image binary for linux/amd64 is not an ELF file"),
            "{err}"
        );
        let truncated = {
            let mut b = binary();
            b.truncate(80);
            b
        };
        let truncated = [platform("linux/amd64", truncated, rust_info(RUSTC, false))];
        assert!(infer_with(&truncated, &files, "/app", None).is_err());

        let windows = [platform("windows/amd64", binary(), rust_info(RUSTC, false))];
        let err = infer_with(&windows, &files, "/app", None).expect_err("windows");
        assert!(
            err.to_string()
                .starts_with("no Rust target is known for platform windows/amd64"),
            "{err}"
        );

        let empty = MemoryFiles::new([("README.md", "")]);
        let platforms = [platform("linux/amd64", binary(), rust_info(RUSTC, false))];
        let err = infer_with(&platforms, &empty, "/app", None).expect_err("no Cargo.toml");
        assert!(err
            .to_string()
            .starts_with("the tag has no Cargo.toml with a binary target"));
    }

    #[test]
    fn a_real_binary_from_the_host_rustc_links_glibc() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("main.rs");
        let built = dir.path().join("hello");
        std::fs::write(&source, "fn main() { println!(\"hi\"); }\n").expect("write main.rs");
        let status = std::process::Command::new("rustc")
            .arg("-o")
            .arg(&built)
            .arg(&source)
            .status()
            .expect("rustc is not installed: run scripts/install-test-deps.sh");
        assert!(status.success(), "rustc failed");
        let binary = std::fs::read(&built).expect("built binary");
        assert_eq!(libc_of(&binary), Ok(Libc::Gnu));
    }
}
