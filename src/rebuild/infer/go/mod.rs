//! Go: a recipe from the binary's build info (toolchain, flags, package),
//! its embedded paths, and the tag's `.goreleaser.yaml` or `-X` targets.
//!
//! [`facts`] reads what the binaries and the source tell, [`drafts`]
//! drafts each candidate's `-ldflags` from them ([`goreleaser`] builds,
//! [`xvars`] `-X` targets, found in the binary by [`binscan`]), and
//! [`recipe`] writes each candidate's recipe with why.

pub mod binscan;
mod drafts;
mod facts;
pub mod goreleaser;
mod link;
mod recipe;
pub mod xvars;

use toml_edit::DocumentMut;

use super::candidate::{Candidate, Ecosystem, InferError, Inference};
use super::evidence::Evidence;
use super::recipe::with_header;
use crate::rebuild::recipe::RecipeSpec;
use drafts::{candidate_drafts, CandidateDraft, Drafting};
use facts::{embedded_paths_notes, join, main_package, module_dir, platforms, workdir, Facts};
use link::LinkFacts;
use recipe::{comment, Layout, SharedRecipe};

/// Candidate recipes for a Go binary, most likely first:
///
/// 1. `-ldflags` as the binary records them (Go records them unless
///    `-trimpath` was used); without `-trimpath` and without recorded
///    `-ldflags`, the one candidate is a build without `-ldflags`.
/// 2. With `-trimpath` (which drops the record): the builds of the tag's
///    `.goreleaser.yml`/`.goreleaser.yaml` whose main package is the
///    binary's, those whose binary name is the image binary's first, with
///    their `ldflags` (goreleaser's default when they give none) and `env`.
/// 3. `-X` for the package-level version/commit/date variables of the
///    tag's source whose values (VERSION, the commit, a date) the binary
///    holds, then the same with the second-best values where there are any.
/// 4. No `-X` at all.
///
/// `-s`/`-w` come from the binary (no symbol table: `-s`; no DWARF: `-w`)
/// when it is ELF, else 2-4 are each tried with and without `-s -w`.
/// Candidates whose recipes come out the same are listed once.
pub fn infer(evidence: &Evidence<'_>) -> Result<Inference, InferError> {
    let mut notes = Vec::new();
    let plats = platforms(evidence.platforms)?;
    let first = plats.first().ok_or(InferError::Unsupported)?;
    let files = evidence.source.files;

    let package = main_package(first.info)?;
    if let Some(other) = plats.iter().find(|p| p.info.path != first.info.path) {
        return Err(InferError::Invalid(format!(
            "the binaries of {} and {} are different packages ({} and {}), which one recipe cannot build: write one recipe per package",
            first.platform,
            other.platform,
            first.info.path.as_deref().unwrap_or("?"),
            other.info.path.as_deref().unwrap_or("?"),
        )));
    }
    let module_dir = module_dir(files, &package.module).ok_or_else(|| {
        InferError::Invalid(format!(
            "the source at {} has no go.mod for module {}, the binary's main module: check that {} is its repository, or pass --source URL",
            evidence.source.git_ref, package.module, evidence.source.url
        ))
    })?;
    let package_dir = join(&module_dir, &package.relative);
    let compiler = first.setting("-compiler").unwrap_or("gc");
    if compiler != "gc" {
        return Err(InferError::Invalid(format!(
            "the binary was built with the {compiler} compiler, not gc: only gc builds can be inferred; write a recipe (see recipes/README.md)"
        )));
    }
    for plat in &plats {
        if plat.info.go_version.starts_with("devel") {
            notes.push(format!(
                "{}: built with a development Go ({}), which no released toolchain reproduces exactly",
                plat.platform, plat.info.go_version
            ));
        }
    }

    let facts = Facts::new(evidence, &plats, &mut notes);
    let link = LinkFacts::read(&plats, &mut notes);
    notes.extend(link.as_ref().and_then(LinkFacts::note));
    let trimpath = plats.iter().all(|p| p.setting("-trimpath") == Some("true"));
    let vendored = files
        .read(&join(&module_dir, "vendor/modules.txt"))
        .is_some();
    let workdir = if trimpath {
        None
    } else {
        embedded_paths_notes(first, vendored, &mut notes);
        workdir(evidence, first, &package_dir, &mut notes)
    };
    let shared = SharedRecipe::new(
        evidence,
        &plats,
        &Layout {
            module_dir: &module_dir,
            package: &package,
            vendored,
            downloads: !vendored && plats.iter().any(|p| !p.info.deps.is_empty()),
            workdir,
            link: link.as_ref(),
        },
        &mut notes,
    )?;

    let drafts = candidate_drafts(
        evidence,
        &plats,
        &Drafting {
            facts: &facts,
            link: link.as_ref(),
            package_dir: &package_dir,
            trimpath,
        },
        &mut notes,
    )?;

    let mut written: Vec<(CandidateDraft, RecipeSpec, DocumentMut, String)> = Vec::new();
    for draft in drafts {
        let (spec, document) = shared.candidate(&draft)?;
        let body = document.to_string();
        if !written.iter().any(|(_, _, _, b)| b == &body) {
            written.push((draft, spec, document, body));
        }
    }
    let total = written.len();
    let candidates = written
        .into_iter()
        .enumerate()
        .map(|(i, (draft, recipe, document, _))| Candidate {
            text: with_header(
                document,
                &format!(
                    "{}# Candidate {} of {total}: {}.\n\n",
                    shared.header,
                    i + 1,
                    comment(&draft.label)
                ),
            ),
            label: draft.label,
            recipe,
            binary_only: draft.binary_only,
            changes: Vec::new(),
        })
        .collect();
    Ok(Inference {
        ecosystem: Ecosystem::Go,
        candidates,
        notes,
    })
}

/// The platforms whose binaries record the same inputs of the build
/// itself (the build directory their embedded paths show, `-trimpath`,
/// `-ldflags`), as groups of indices into `evidence.platforms`, each in
/// platform order, the groups in the order of their first platform. One
/// image's platforms are often built by different runners in different
/// directories: each group gets its own candidates. When the binaries
/// cannot be read that far, one group of all ([`infer`] says why).
pub fn input_groups(evidence: &Evidence<'_>) -> Vec<Vec<usize>> {
    let all = || vec![(0..evidence.platforms.len()).collect()];
    let Ok(plats) = platforms(evidence.platforms) else {
        return all();
    };
    let Some(first) = plats.first() else {
        return all();
    };
    let Ok(package) = main_package(first.info) else {
        return all();
    };
    let Some(module_dir) = module_dir(evidence.source.files, &package.module) else {
        return all();
    };
    let package_dir = join(&module_dir, &package.relative);
    /// What a platform's binary records of the build itself.
    #[derive(PartialEq)]
    struct BuildInputs<'a> {
        trimpath: bool,
        workdir: Option<String>,
        ldflags: Option<&'a str>,
    }
    let mut groups: Vec<(BuildInputs<'_>, Vec<usize>)> = Vec::new();
    for (index, plat) in plats.iter().enumerate() {
        let trimpath = plat.setting("-trimpath") == Some("true");
        let key = BuildInputs {
            trimpath,
            workdir: if trimpath {
                None
            } else {
                workdir(evidence, plat, &package_dir, &mut Vec::new())
            },
            ldflags: plat.setting("-ldflags"),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::binscan::{DATE_INPUT_REGEX, TIMESTAMP_INPUT_REGEX};
    use super::*;
    use crate::binary::gobuildinfo::parse_modinfo;
    use crate::binary::GoBuildInfo;
    use crate::image::platform::Platform;
    use crate::rebuild::infer::candidate::BinaryOnlyInput;
    use crate::rebuild::infer::evidence::PlatformEvidence;
    use crate::rebuild::infer::evidence::{SourceEvidence, Toolchains};
    use crate::rebuild::infer::files::MemoryFiles;
    use crate::rebuild::infer::recipe::has_placeholder;
    use crate::rebuild::recipe::write::tests::assert_reads_back;

    const COMMIT: &str = "3e0ddc0c43cd90ea33d77a68ef093be434f5af7e";
    /// 2024-01-02T03:04:05Z.
    const COMMIT_TIME: i64 = 1_704_164_645;

    const MAIN_GO: &str = "package main\n\nvar (\n\tversion = \"dev\"\n\tcommit  string\n\tdate    = \"unknown\"\n)\n\nfunc main() {}\n";

    fn modinfo(settings: &[&str]) -> String {
        let mut text =
            "path\tgithub.com/acme/app/cmd/app\nmod\tgithub.com/acme/app\t(devel)\t\n".to_string();
        for s in settings {
            text.push_str(&format!("build\t{s}\n"));
        }
        text
    }

    fn platform(spec: &str, settings: &[&str], strings: &str) -> PlatformEvidence {
        let mut go = parse_modinfo(&modinfo(settings));
        go.go_version = "go1.21.13".into();
        PlatformEvidence {
            platform: spec.parse().unwrap(),
            binary: format!("\0\0{strings}\0\0").into_bytes(),
            go: Some(go),
            rust: None,
        }
    }

    fn trimmed(spec: &str, extra: &[&str], strings: &str) -> PlatformEvidence {
        let revision = format!("vcs.revision={COMMIT}");
        let mut settings = vec!["-compiler=gc", "-trimpath=true", "CGO_ENABLED=0"];
        settings.extend_from_slice(extra);
        settings.extend([
            "vcs=git",
            revision.as_str(),
            "vcs.time=2024-01-02T03:04:05Z",
            "vcs.modified=false",
        ]);
        platform(spec, &settings, strings)
    }

    /// `p` with one module dependency recorded, so its build downloads.
    fn with_dependency(mut p: PlatformEvidence) -> PlatformEvidence {
        if let Some(info) = &mut p.go {
            info.deps.push(crate::binary::GoModule {
                path: "golang.org/x/text".into(),
                version: "v0.14.0".into(),
                sum: Some("h1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=".into()),
                replace: None,
            });
        }
        p
    }

    fn tree(extra: &[(&'static str, &'static str)]) -> MemoryFiles {
        let mut files = vec![
            ("go.mod", "module github.com/acme/app\n\ngo 1.19\n"),
            ("cmd/app/main.go", MAIN_GO),
        ];
        files.extend_from_slice(extra);
        MemoryFiles::new(files)
    }

    fn infer_with(
        platforms: &[PlatformEvidence],
        files: &MemoryFiles,
        host_go: Option<&str>,
    ) -> Result<Inference, InferError> {
        let annotations = BTreeMap::new();
        infer(&Evidence {
            repository: "docker.io/acme/app",
            tag: "v1.2.0",
            version: "v1.2.0",
            binary_path: "/usr/local/bin/app",
            annotations: &annotations,
            platforms,
            source: SourceEvidence {
                url: "https://github.com/acme/app",
                git_ref: "v1.2.0",
                commit: COMMIT,
                commit_time: COMMIT_TIME,
                files,
            },
            toolchains: Toolchains::official_on_amd64(host_go, None),
        })
    }

    fn recipe(candidate: &Candidate) -> toml::Value {
        toml::from_str(&candidate.text).unwrap()
    }

    fn command(candidate: &Candidate) -> Vec<String> {
        recipe(candidate)["build"]["command"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    }

    fn labels(inference: &Inference) -> Vec<&str> {
        inference
            .candidates
            .iter()
            .map(|c| c.label.as_str())
            .collect()
    }

    const GORELEASER: &str = "project_name: app\nbuilds:\n  - id: other\n    main: ./cmd/other\n  - id: app\n    main: ./cmd/app\n    binary: app\n    flags: [-trimpath]\n    env: [CGO_ENABLED=0, GOEXTRA=yes]\n";

    #[test]
    fn trimmed_binary_tries_goreleaser_then_source_targets_then_no_x() {
        let p = with_dependency(trimmed(
            "linux/amd64",
            &["GOARCH=amd64", "GOOS=linux", "GOAMD64=v3"],
            &format!("1.2.0\0{COMMIT}\0x2024-01-02T03:09:10Z\0goreleaser\0"),
        ));
        let files = tree(&[
            (".goreleaser.yaml", GORELEASER),
            ("cmd/other/main.go", MAIN_GO),
        ]);
        let inference = infer_with(&[p], &files, Some("go1.19.8")).unwrap();
        assert_eq!(
            labels(&inference),
            vec![
                "goreleaser builds[1] \"app\" default ldflags (4 -X)",
                "-X from source (3 -X), -s -w",
                "-X from source (3 -X)",
                "no -X, -s -w",
                "no -X",
            ]
        );
        let first = &inference.candidates[0];
        assert_eq!(
            command(first),
            vec![
                "go", "build", "-trimpath",
                "-ldflags=-s -w -X main.version={version_bare} -X main.commit={vcs_revision} -X main.date={input:build_date} -X main.builtBy=goreleaser",
                "-o", "/out/app", "./cmd/app",
            ]
        );
        let r = recipe(first);
        assert_eq!(
            r["inputs"]["build_date"]["from_binary"].as_str(),
            Some(DATE_INPUT_REGEX)
        );
        assert_eq!(
            r["build"]["builder"].as_str(),
            Some("docker.io/library/golang:{go_version}")
        );
        assert_eq!(r["build"]["fetch"].as_array().unwrap().len(), 3);
        assert_eq!(r["build"]["env"]["GOEXTRA"].as_str(), Some("yes"));
        assert_eq!(r["build"]["env"]["CGO_ENABLED"].as_str(), Some("0"));
        assert_eq!(r["build"]["env"]["GOTOOLCHAIN"].as_str(), Some("local"));
        assert_eq!(
            r["build"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -modcacherw")
        );
        assert_eq!(
            r["build"]["env"]["GOMODCACHE"].as_str(),
            Some("/cache/gomod")
        );
        let amd64 = &r["build"]["platforms"]["linux/amd64"]["env"];
        assert_eq!(amd64["GOAMD64"].as_str(), Some("v3"));
        assert_eq!(amd64["GOOS"].as_str(), Some("linux"));
        assert_eq!(r["image"]["tag"].as_str(), Some("{version}"));
        assert_eq!(r["source"]["ref"].as_str(), Some("{version}"));
        assert!(first.text.starts_with(
            "# Inferred by rebuild-compare from /usr/local/bin/app in docker.io/acme/app:v1.2.0\n# (go1.21.13, -trimpath=true, CGO_ENABLED=0, GOAMD64=v3, vcs.revision=3e0ddc0c43cd, vcs.modified=false).\n"
        ), "{}", first.text);
        assert!(first.text.contains(
            "# Candidate 1 of 5: goreleaser builds[1] \"app\" default ldflags (4 -X).\n"
        ));
        let source = command(&inference.candidates[1]);
        assert_eq!(
            source[3],
            "-ldflags=-s -w -X main.version={version_bare} -X main.commit={vcs_revision} -X main.date={input:build_date}"
        );
        assert!(!inference.candidates[3].text.contains("[inputs"));
    }

    #[test]
    fn goreleaser_build_timestamps_and_env_templates_are_inputs_and_values() {
        let p = trimmed(
            "linux/amd64",
            &["GOARCH=amd64", "GOOS=linux"],
            "x1714979289y",
        );
        let config = "env: [FLAVOUR=full]\nbuilds:\n  - main: ./cmd/app\n    ldflags: -X main.ts={{ .Timestamp }} -X main.f={{.Env.FLAVOUR}} -X main.u={{.Env.UNSET}} -X main.s={{.ShortCommit}}\n";
        let files = tree(&[(".goreleaser.yml", config)]);
        let inference = infer_with(&[p], &files, None).unwrap();
        let first = &inference.candidates[0];
        assert_eq!(first.label, "goreleaser builds[0] (4 -X)");
        assert_eq!(
            command(first)[3],
            "-ldflags=-X main.ts={input:build_timestamp} -X main.f=full -X main.u= -X main.s=3e0ddc0"
        );
        assert_eq!(
            recipe(first)["inputs"]["build_timestamp"]["from_binary"].as_str(),
            Some(TIMESTAMP_INPUT_REGEX)
        );
        assert!(inference.notes.contains(
            &".goreleaser.yml builds[0]: {{ .Env.UNSET }} has no value at the tag, so it was left empty".to_string()
        ), "{:?}", inference.notes);
    }

    #[test]
    fn recorded_ldflags_without_trimpath_give_one_candidate_in_the_build_directory() {
        let p = platform(
            "linux/amd64",
            &[
                "-compiler=gc",
                "-ldflags=\"-X main.version=v1.2.0\"",
                "CGO_ENABLED=1",
                "CGO_CFLAGS=-O2 -g",
                "GOARCH=amd64",
                "GOOS=linux",
                "GOAMD64=v1",
            ],
            "/usr/local/go/src/runtime/proc.go\0/home/runner/work/app/app/cmd/app/main.go\0",
        );
        let inference = infer_with(&[p], &tree(&[]), Some("go1.21.13")).unwrap();
        assert_eq!(labels(&inference), vec!["recorded -ldflags"]);
        let c = &inference.candidates[0];
        let r = recipe(c);
        assert_eq!(r["build"]["builder"].as_str(), Some("host"));
        assert_eq!(
            r["build"]["workdir"].as_str(),
            Some("/home/runner/work/app/app")
        );
        assert_eq!(r["build"]["env"]["CGO_CFLAGS"].as_str(), Some("-O2 -g"));
        assert_eq!(
            r["build"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=false -modcacherw")
        );
        assert_eq!(
            command(c),
            vec![
                "go",
                "build",
                "-ldflags=-X main.version=v1.2.0",
                "-o",
                "/out/app",
                "./cmd/app"
            ]
        );
        assert!(inference.notes.iter().any(|n| n == "the binary embeds its GOROOT, /usr/local/go: the builder's Go must sit at the same path"), "{:?}", inference.notes);
        assert!(inference
            .notes
            .iter()
            .any(|n| n.starts_with("built with cgo")));
    }

    /// A linux/amd64 binary built without `-trimpath` in `dir` with `-ldflags`.
    fn untrimmed(spec: &str, dir: &str, ldflags: &str) -> PlatformEvidence {
        let (os, arch) = spec.split_once('/').unwrap();
        let (goos, goarch) = (format!("GOOS={os}"), format!("GOARCH={arch}"));
        let recorded = format!("-ldflags=\"{ldflags}\"");
        platform(
            spec,
            &["-compiler=gc", &recorded, "CGO_ENABLED=0", &goarch, &goos],
            &format!("{dir}/cmd/app/main.go\0"),
        )
    }

    #[test]
    fn recorded_x_values_that_are_not_release_metadata_are_binary_only_inputs() {
        let p = untrimmed(
            "linux/amd64",
            "/home/runner/work/app/app",
            "-s -w -X main.version=https://evil.example/x -X main.commit=3e0ddc0 -X main.date=2024-01-02T03:09:10Z -X main.builtBy=goreleaser",
        );
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        assert_eq!(labels(&inference), vec!["recorded -ldflags"]);
        let c = &inference.candidates[0];
        assert_eq!(
            c.binary_only,
            vec![BinaryOnlyInput {
                input: "-X main.version".into(),
                value: "https://evil.example/x".into(),
            }]
        );
        assert!(
            c.text.contains("# -X main.version=https://evil.example/x: not release metadata, only the binary supplies it"),
            "{}",
            c.text
        );
    }

    #[test]
    fn recorded_x_values_of_the_tag_and_commit_are_release_metadata() {
        let p = untrimmed(
            "linux/amd64",
            "/home/runner/work/app/app",
            "-X main.version=v1.2.0 -X main.commit=3e0ddc0 -X main.state=clean",
        );
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        assert_eq!(inference.candidates[0].binary_only, vec![]);
    }

    #[test]
    fn platforms_built_in_other_directories_or_with_other_ldflags_get_groups_of_their_own() {
        let platforms = [
            untrimmed(
                "linux/amd64",
                "/home/runner/work/app/app",
                "-X main.version=v1.2.0",
            ),
            untrimmed("linux/arm64", "/builds/acme/app", "-X main.version=v1.2.0"),
            untrimmed(
                "linux/s390x",
                "/home/runner/work/app/app",
                "-X main.version=v1.2.0",
            ),
            untrimmed(
                "linux/ppc64le",
                "/home/runner/work/app/app",
                "-X main.version=1.2.0",
            ),
        ];
        let files = tree(&[]);
        let annotations = BTreeMap::new();
        let evidence = Evidence {
            repository: "docker.io/acme/app",
            tag: "v1.2.0",
            version: "v1.2.0",
            binary_path: "/usr/local/bin/app",
            annotations: &annotations,
            platforms: &platforms,
            source: SourceEvidence {
                url: "https://github.com/acme/app",
                git_ref: "v1.2.0",
                commit: COMMIT,
                commit_time: COMMIT_TIME,
                files: &files,
            },
            toolchains: Toolchains::official_on_amd64(None, None),
        };
        assert_eq!(input_groups(&evidence), vec![vec![0, 2], vec![1], vec![3]]);
        let arm64 = infer_with(&platforms[1..2], &files, None).unwrap();
        assert_eq!(
            recipe(&arm64.candidates[0])["build"]["workdir"].as_str(),
            Some("/builds/acme/app")
        );
    }

    #[test]
    fn a_build_directory_the_sandbox_reserves_is_noted_not_used() {
        let p = platform(
            "linux/amd64",
            &["GOARCH=amd64", "GOOS=linux"],
            "/tmp/b/cmd/app/main.go\0",
        );
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        assert_eq!(labels(&inference), vec!["no -ldflags"]);
        assert!(recipe(&inference.candidates[0])["build"]
            .get("workdir")
            .is_none());
        assert!(
            inference
                .notes
                .iter()
                .any(|n| n
                    .starts_with("the binary was built in /tmp/b, which the rebuild cannot use")),
            "{:?}",
            inference.notes
        );
    }

    #[test]
    fn vendored_modules_build_offline() {
        let p = trimmed("linux/amd64", &["GOARCH=amd64", "GOOS=linux"], "");
        let files = tree(&[("vendor/modules.txt", "# x.io/y v1.0.0\n")]);
        let inference = infer_with(&[p], &files, None).unwrap();
        let r = recipe(&inference.candidates[0]);
        assert!(r["build"].get("fetch").is_none());
        assert_eq!(r["build"]["env"]["GOPROXY"].as_str(), Some("off"));
        assert!(r["build"]["env"].get("GOMODCACHE").is_none());
        assert_eq!(
            r["build"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -mod=vendor")
        );
    }

    #[test]
    fn platform_differences_go_into_each_platforms_env() {
        let amd64 = trimmed(
            "linux/amd64",
            &["-tags=netgo", "GOARCH=amd64", "GOOS=linux", "GOAMD64=v3"],
            "",
        );
        let arm = trimmed(
            "linux/arm/v7",
            &["-tags=netgo,arm", "GOARCH=arm", "GOOS=linux", "GOARM=7"],
            "",
        );
        let inference = infer_with(&[amd64, arm], &tree(&[]), None).unwrap();
        let c = &inference.candidates[0];
        assert!(!command(c).iter().any(|a| a.starts_with("-tags")));
        let r = recipe(c);
        let platforms = &r["build"]["platforms"];
        assert_eq!(
            platforms["linux/amd64"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -modcacherw -tags=netgo")
        );
        assert_eq!(
            platforms["linux/arm/v7"]["env"]["GOFLAGS"].as_str(),
            Some("-buildvcs=true -modcacherw -tags=netgo,arm")
        );
        assert_eq!(
            platforms["linux/arm/v7"]["env"]["GOARM"].as_str(),
            Some("7")
        );
        assert_eq!(
            platforms["linux/arm/v7"]["env"]["GOARCH"].as_str(),
            Some("arm")
        );
    }

    #[test]
    fn a_binary_without_dependencies_builds_offline_without_a_fetch_step() {
        let p = trimmed("linux/amd64", &["GOARCH=amd64", "GOOS=linux"], "");
        let inference = infer_with(&[p], &tree(&[]), None).unwrap();
        for c in &inference.candidates {
            let r = recipe(c);
            assert!(r["build"].get("fetch").is_none(), "{}", c.text);
            assert_eq!(r["build"]["env"]["GOPROXY"].as_str(), Some("off"));
            assert!(r["build"]["env"].get("GOMODCACHE").is_none());
        }
    }

    #[test]
    fn a_module_below_the_root_builds_with_go_dash_c() {
        let p = with_dependency(trimmed("linux/amd64", &["GOARCH=amd64", "GOOS=linux"], ""));
        let files = MemoryFiles::new([
            ("go.mod", "module github.com/acme/tools\n"),
            ("app/go.mod", "module github.com/acme/app\n"),
            ("app/cmd/app/main.go", MAIN_GO),
        ]);
        let inference = infer_with(&[p], &files, None).unwrap();
        let c = &inference.candidates[0];
        assert_eq!(&command(c)[..4], ["go", "-C", "app", "build"]);
        assert_eq!(recipe(c)["build"]["fetch"].as_array().unwrap().len(), 5);
    }

    #[test]
    fn packages_that_cannot_be_built_are_refused_with_the_reason() {
        let mut p = trimmed("linux/amd64", &[], "");
        p.go.as_mut().unwrap().path = Some("command-line-arguments".into());
        let err = infer_with(&[p], &tree(&[]), None).unwrap_err();
        assert!(err.to_string().contains("command-line-arguments"), "{err}");

        let p = trimmed("linux/amd64", &[], "");
        let files = MemoryFiles::new([("go.mod", "module github.com/acme/other\n")]);
        let err = infer_with(&[p], &files, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the source at v1.2.0 has no go.mod for module github.com/acme/app, the binary's main module: check that https://github.com/acme/app is its repository, or pass --source URL"
        );
    }

    #[test]
    fn placeholder_like_text_from_the_binary_is_refused() {
        let p = platform("linux/amd64", &["-ldflags=\"-X main.v={version}\""], "");
        assert!(infer_with(&[p], &tree(&[]), None).is_err());
        assert!(has_placeholder("a{input:x}b"));
        assert!(has_placeholder("{go_setting:-tags}"));
        assert!(!has_placeholder("${HOME} { a; } {}"));
    }

    #[test]
    fn every_candidate_parses_as_a_recipe() {
        let strings = format!("v1.2.0\0{COMMIT}\0x2024-01-02T03:09:10Z\0x1714979289y\0");
        let timestamp = "builds:\n  - main: ./cmd/app\n    ldflags: -X main.ts={{ .Timestamp }} -X main.os={{.Os}}\n";
        let cases: Vec<(Vec<PlatformEvidence>, MemoryFiles)> = vec![
            (
                vec![trimmed(
                    "linux/amd64",
                    &["GOARCH=amd64", "GOOS=linux", "GOAMD64=v3"],
                    &strings,
                )],
                tree(&[(".goreleaser.yaml", GORELEASER)]),
            ),
            (
                vec![trimmed(
                    "linux/amd64",
                    &["GOARCH=amd64", "GOOS=linux"],
                    &strings,
                )],
                tree(&[(".goreleaser.yaml", timestamp), ("vendor/modules.txt", "")]),
            ),
            (
                vec![
                    trimmed(
                        "linux/amd64",
                        &["-tags=netgo", "GOARCH=amd64", "GOOS=linux"],
                        &strings,
                    ),
                    trimmed(
                        "linux/arm/v7",
                        &["-tags=netgo,arm", "GOARCH=arm", "GOOS=linux", "GOARM=7"],
                        &strings,
                    ),
                ],
                tree(&[]),
            ),
            (
                vec![platform(
                    "linux/arm64",
                    &[
                        "-ldflags=\"-s -w -X main.version=v1.2.0\"",
                        "GOARCH=arm64",
                        "GOOS=linux",
                    ],
                    "/home/runner/work/app/app/cmd/app/main.go\0",
                )],
                tree(&[]),
            ),
        ];
        let mut parsed = 0;
        for (platforms, files) in &cases {
            let inference = infer_with(platforms, files, Some("go1.21.13")).unwrap();
            let texts: BTreeSet<&str> = inference
                .candidates
                .iter()
                .map(|c| c.text.as_str())
                .collect();
            assert_eq!(texts.len(), inference.candidates.len());
            for c in &inference.candidates {
                let recipe = crate::rebuild::recipe::Recipe::parse("inferred", &c.text)
                    .unwrap_or_else(|e| panic!("{e}\n{}", c.text));
                assert_eq!(recipe.platforms().count(), platforms.len());
                assert_reads_back(&c.recipe, &c.text);
                parsed += 1;
            }
        }
        assert_eq!(parsed, 15);
    }

    /// Whether the host has a `go` to build real binaries with.
    /// Fails the test when `go` is not installed: it never passes by skipping.
    fn require_go() {
        let found = std::process::Command::new("go")
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "go is not installed: run scripts/install-test-deps.sh"
        );
    }

    /// A git repository holding a tiny module at `dir/app`, tagged v1.2.0.
    /// Infers from a real binary built from [`go_repo`] at `commit`.
    fn infer_real(
        binary: &std::path::Path,
        info: GoBuildInfo,
        commit: &str,
        commit_time: i64,
        files: &MemoryFiles,
        host_go: Option<&str>,
    ) -> Inference {
        let platforms = [PlatformEvidence {
            platform: Platform::host(),
            binary: std::fs::read(binary).unwrap(),
            go: Some(info),
            rust: None,
        }];
        let annotations = BTreeMap::new();
        infer(&Evidence {
            repository: "docker.io/acme/app",
            tag: "v1.2.0",
            version: "v1.2.0",
            binary_path: "/app",
            annotations: &annotations,
            platforms: &platforms,
            source: SourceEvidence {
                url: "https://github.com/acme/app",
                git_ref: "v1.2.0",
                commit,
                commit_time,
                files,
            },
            toolchains: Toolchains::official_on_amd64(host_go, None),
        })
        .unwrap()
    }

    fn go_repo(dir: &std::path::Path) -> (std::path::PathBuf, String, i64, MemoryFiles) {
        let repo_dir = dir.join("app");
        let files = [
            ("go.mod", "module github.com/acme/app\n\ngo 1.19\n"),
            ("cmd/app/main.go", "package main\n\nimport \"fmt\"\n\nvar (\n\tversion = \"dev\"\n\tcommit  string\n\tdate    = \"unknown\"\n)\n\nfunc main() { fmt.Println(version, commit, date) }\n"),
        ];
        for (path, text) in files {
            let path = repo_dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let repo = git2::Repository::init(&repo_dir).unwrap();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig =
            git2::Signature::new("t", "t@example.com", &git2::Time::new(COMMIT_TIME, 0)).unwrap();
        let oid = repo
            .commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
        repo.tag_lightweight("v1.2.0", &repo.find_object(oid, None).unwrap(), false)
            .unwrap();
        (
            repo_dir,
            oid.to_string(),
            COMMIT_TIME,
            MemoryFiles::new(files),
        )
    }

    /// `go build ARGS` in `dir` with a private cache, as the upstream and
    /// the rebuild of these tests do.
    fn go(
        dir: &std::path::Path,
        cache: &std::path::Path,
        env: &[(String, String)],
        args: &[String],
    ) {
        let status = std::process::Command::new("go")
            .args(args)
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("GOCACHE", cache.join("cache"))
            .env("GOPATH", cache.join("gopath"))
            .env("GOMODCACHE", cache.join("gomod"))
            .env("GOPROXY", "off")
            .status()
            .unwrap();
        assert!(status.success(), "go {args:?}");
    }

    fn go_info(binary: &std::path::Path) -> GoBuildInfo {
        let out = std::process::Command::new("go")
            .args(["version", "-m"])
            .arg(binary)
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut lines = text.lines();
        let version = lines
            .next()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string();
        let rest: Vec<&str> = lines.map(|l| l.trim_start_matches('\t')).collect();
        let mut info = parse_modinfo(&rest.join("\n"));
        info.go_version = version;
        info
    }

    #[test]
    fn a_real_trimmed_go_build_is_reproduced_by_the_first_candidate() {
        require_go();
        let dir = tempfile::TempDir::new().unwrap();
        let (repo, commit, commit_time, files) = go_repo(dir.path());
        let upstream = dir.path().join("upstream");
        let ldflags = format!("-ldflags=-s -w -X main.version=v1.2.0 -X main.commit={commit} -X main.date=2024-05-06T07:08:09Z");
        let env = vec![
            ("CGO_ENABLED".to_string(), "0".to_string()),
            ("GOFLAGS".to_string(), "-buildvcs=true".to_string()),
        ];
        go(
            &repo,
            dir.path(),
            &env,
            &[
                "build".into(),
                "-trimpath".into(),
                ldflags,
                "-o".into(),
                upstream.display().to_string(),
                "./cmd/app".into(),
            ],
        );
        let info = go_info(&upstream);
        let host_go = info.go_version.clone();
        let inference = infer_real(
            &upstream,
            info,
            &commit,
            commit_time,
            &files,
            Some(&host_go),
        );
        assert_eq!(
            labels(&inference),
            vec!["-X from source (3 -X), -s -w", "no -X, -s -w"]
        );
        let first = &inference.candidates[0];
        let r = recipe(first);
        assert_eq!(r["build"]["builder"].as_str(), Some("host"));

        // Render the candidate as the lead's templates will, and build it.
        let rebuilt = dir.path().join("rebuilt");
        let render = |text: &str| {
            text.replace("{version}", "v1.2.0")
                .replace("{vcs_revision}", &commit)
                .replace("{input:build_date}", "2024-05-06T07:08:09Z")
                .replace("/out/app", &rebuilt.display().to_string())
        };
        let argv: Vec<String> = command(first).iter().map(|a| render(a)).collect();
        let mut env: Vec<(String, String)> = Vec::new();
        for table in [
            &r["build"]["env"],
            &r["build"]["platforms"][Platform::host().to_string().as_str()]["env"],
        ] {
            for (k, v) in table.as_table().unwrap() {
                env.push((k.clone(), v.as_str().unwrap().to_string()));
            }
        }
        env.retain(|(k, _)| k != "GOCACHE" && k != "GOMODCACHE");
        assert_eq!(argv[0], "go");
        go(&repo, dir.path(), &env, &argv[1..]);
        assert!(
            std::fs::read(&rebuilt).unwrap() == std::fs::read(&upstream).unwrap(),
            "the first candidate did not reproduce the binary: {argv:?}"
        );
    }

    #[test]
    fn a_real_untrimmed_go_build_names_its_build_directory() {
        require_go();
        // Not under /tmp, which the sandbox reserves (nor under the
        // checkout, which may itself be under /tmp).
        let base = std::path::Path::new("/var/tmp/rebuild-compare-infer-go-tests");
        std::fs::create_dir_all(base).unwrap();
        let dir = tempfile::TempDir::new_in(base).unwrap();
        let (repo, commit, commit_time, files) = go_repo(dir.path());
        let upstream = dir.path().join("upstream");
        let env = vec![("CGO_ENABLED".to_string(), "0".to_string())];
        go(
            &repo,
            dir.path(),
            &env,
            &[
                "build".into(),
                "-ldflags=-X main.version=v1.2.0".into(),
                "-o".into(),
                upstream.display().to_string(),
                "./cmd/app".into(),
            ],
        );
        let inference = infer_real(
            &upstream,
            go_info(&upstream),
            &commit,
            commit_time,
            &files,
            None,
        );
        assert_eq!(labels(&inference), vec!["recorded -ldflags"]);
        let r = recipe(&inference.candidates[0]);
        assert_eq!(r["build"]["workdir"].as_str(), Some(repo.to_str().unwrap()));
        assert_eq!(
            command(&inference.candidates[0]),
            vec![
                "go",
                "build",
                "-ldflags=-X main.version=v1.2.0",
                "-o",
                "/out/app",
                "./cmd/app"
            ]
        );
    }
}
