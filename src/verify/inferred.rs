//! The main job without a recipe: when none covers the image, infer one
//! from the image binary ([`crate::rebuild::infer`]) and try its
//! candidates, most likely first, at most `--max-candidates` builds per
//! platform, stopping at the first that reproduces.
//!
//! Before any build: the image is pinned and each platform's binary
//! extracted; the source is found (`--source`, the OCI source annotation,
//! the Go module path) and pinned at VERSION; the annotation's revision is
//! checked against the tag; and the binary's dependencies are checked
//! against the tag's lock files. A platform whose dependencies disagree is
//! a mismatch without a build: no build from the tag can give its bytes.
//!
//! Platforms whose binaries record different build inputs (another build
//! directory, other `-ldflags`) get candidates of their own, and their
//! recipes are saved per platform. A candidate that reproduces a binary
//! only with a program input the binary alone supplies (an `-X` value that
//! is not release metadata) confirms that input as the cause of a
//! mismatch: it is never a pass.

use std::collections::BTreeMap;
use std::path::Path;

use super::depcheck::DependencyCheck;
use super::follow::follow_build;
use super::opened::{OpenedImage, INFERRED_RECIPE_FILE};
use super::outcome::{
    CandidateResult, ConfirmedCause, CrossCheck, ImageInfo, PlatformResult, PlatformVerdict,
    RecipeInfo, SourceInfo, VerifyReport,
};
use super::packaged::PackagedRequest;
use super::pipeline::{check_dependencies, conclude, BuilderCache, VerifyError};
use crate::binary::Binary;
use crate::diff::{Cause, DiffOptions};
use crate::distro::archive::ArchiveConfig;
use crate::image::platform::Platform;
use crate::image::reference::{ImageLocation, Reference};

use crate::image::{AccessOptions, PlatformImage, ResolvedImage};
use crate::rebuild::build::{
    check_sandbox, plan_pinned, platform_dir_name, prepare_platform, BuildOptions, BuilderResolver,
    BuiltArtifact,
};
use crate::rebuild::host_tools::HostTools;
use crate::rebuild::infer::files::{GitTreeFiles, SourceFiles};
use crate::rebuild::infer::source_url::{check_revision_annotation, source_url};
use crate::rebuild::infer::{
    BinaryOnlyInput, Evidence, InferError, Inference, PlatformEvidence, SourceEvidence, Toolchains,
};
use crate::rebuild::plan::ReleasePlan;
use crate::rebuild::recipe::Recipe;
use crate::rebuild::sandbox::{BuilderRoot, DEFAULT_PATH};
use crate::rebuild::source::{self, PinnedSource};
use crate::rootfs::extract::FoundBinary;

/// The repository of Go builder images an inferred recipe names
/// (`golang:{go_version}`) when the host's Go is another version.
pub const GO_BUILDER_IMAGES: &str = "docker.io/library/golang";
/// The repository of Rust builder images (`rust:1.75.0`).
pub const RUST_BUILDER_IMAGES: &str = "docker.io/library/rust";

/// What to infer and verify, and how.
pub struct InferRequest<'a> {
    /// The published image as typed; a registry reference without tag or
    /// digest is read at the tag VERSION.
    pub image: &'a str,
    /// The release, as typed: the image tag (unless the reference names
    /// one) and the git tag.
    pub version: &'a str,
    /// `--source`: where to read the repository from.
    pub source_override: Option<&'a str>,
    /// `--platform`: only these. Empty: all.
    pub platforms: &'a [Platform],
    pub build: BuildOptions,
    pub access: &'a AccessOptions,
    pub diff: DiffOptions,
    /// At most this many candidate builds per platform.
    pub max_candidates: usize,
}

/// One platform of the image, read before any build.
pub struct InferredPlatform {
    pub image: PlatformImage,
    /// Its binary, or why it could not be extracted.
    pub found: Result<FoundBinary, String>,
    pub dependencies: Option<DependencyCheck>,
    /// The index in [`Inferred::groups`] of the candidates it tries, when
    /// its binary was read.
    pub group: Option<usize>,
}

/// Platforms whose binaries record the same build inputs, and the
/// candidates inferred from them.
pub struct CandidateGroup {
    pub platforms: Vec<Platform>,
    pub inference: Inference,
    /// The candidates, parsed, in the inference's order.
    pub recipes: Vec<Recipe>,
}

/// Everything inference found, before any build.
pub struct Inferred {
    pub location: ImageLocation,
    pub resolved: ResolvedImage,
    pub platforms: Vec<InferredPlatform>,
    pub source: PinnedSource,
    /// At least one; one unless the platforms' binaries record different
    /// build inputs.
    pub groups: Vec<CandidateGroup>,
    /// What the run should say besides its results (where the source came
    /// from, the revision check).
    pub notes: Vec<String>,
    /// Checks every platform shares (the annotation's revision).
    pub checks: Vec<CrossCheck>,
}

/// What `recipe infer` writes for an image.
pub enum RecipeInference {
    /// A Debian recipe for a binary a Debian package owns, and a note
    /// saying so.
    Packaged { text: String, note: String },
    /// Candidates inferred from the image binary.
    Candidates(Box<Inferred>),
}

/// The recipe for an image no recipe covers, without building: a Debian
/// recipe when a Debian package owns the binary (and no `--source` says
/// otherwise), else the candidates [`infer_recipe`] infers.
pub fn infer_any_recipe(request: &InferRequest<'_>) -> Result<RecipeInference, VerifyError> {
    let opened = open(request)?;
    if request.source_override.is_none() {
        if let Some(owners) = super::packaged::owners(&opened)? {
            if let Some((text, note)) = super::packaged::recipe_from_database(&opened, &owners) {
                return Ok(RecipeInference::Packaged { text, note });
            }
        }
    }
    Ok(RecipeInference::Candidates(Box::new(infer_from(
        request, opened,
    )?)))
}

/// Pins the image, extracts each platform's binary into
/// `OUT_DIR/<platform>/image`, pins the source, checks the dependencies and
/// infers the candidate recipes.
pub fn infer_recipe(request: &InferRequest<'_>) -> Result<Inferred, VerifyError> {
    infer_from(request, open(request)?)
}

/// The image pinned and each platform's binary extracted ([`super::opened`]).
fn open(request: &InferRequest<'_>) -> Result<OpenedImage, VerifyError> {
    super::opened::open_and_extract(
        request.image,
        request.version,
        request.platforms,
        request.access,
        &request.build.out_dir,
    )
}

/// [`infer_recipe`] for an image already pinned and extracted.
pub(super) fn infer_from(
    request: &InferRequest<'_>,
    pinned: OpenedImage,
) -> Result<Inferred, VerifyError> {
    let OpenedImage {
        location,
        image: _,
        resolved,
        platforms: platform_images,
        found,
    } = pinned;
    let mut evidence_platforms = Vec::new();
    let mut binary_path = None;
    for found in found.iter().flatten() {
        let binary = std::fs::read(&found.extracted).map_err(|source| VerifyError::Io {
            path: found.extracted.clone(),
            source,
        })?;
        let read = found.binary.as_ref();
        let go = read.and_then(Binary::go_build_info).cloned();
        let rust = read.and_then(|b| b.rust.clone());
        binary_path.get_or_insert_with(|| found.located.path.clone());
        evidence_platforms.push(PlatformEvidence {
            platform: found.platform.clone(),
            binary,
            go,
            rust,
        });
    }
    let Some(binary_path) = binary_path else {
        let errors: Vec<&str> = found
            .iter()
            .filter_map(|f| f.as_ref().err())
            .map(String::as_str)
            .collect();
        return Err(VerifyError::NoImageBinary {
            errors: errors.join("; "),
        });
    };

    let annotations = annotations(&resolved, &platform_images);
    let main_module = evidence_platforms
        .iter()
        .find_map(|p| p.go.as_ref()?.main.as_ref().map(|m| m.path.clone()));
    let upstream = source_url(None, &annotations, main_module.as_deref());
    let progress = request.build.progress.as_ref();
    let cache_dir = &request.build.cache_dir;
    let (source, found_from) = match (request.source_override, upstream) {
        (Some(copy), Ok(upstream)) => (
            source::prepare(copy, request.version, cache_dir, progress)
                .map_err(|e| e.for_version(request.version))?
                .read_for(&upstream.url),
            format!("{} (read from {copy})", upstream.from),
        ),
        (Some(copy), Err(_)) => (
            source::prepare(copy, request.version, cache_dir, progress)
                .map_err(|e| e.for_version(request.version))?,
            "--source".to_string(),
        ),
        (None, Ok(upstream)) => (
            source::prepare_from_image(&upstream.url, request.version, cache_dir, progress)
                .map_err(|e| e.for_version(request.version))?,
            upstream.from,
        ),
        (None, Err(e)) => return Err(e.into()),
    };
    let mut notes = vec![format!("source {} found from {found_from}", source.url)];
    notes.extend(super::pipeline::mirror_note(&resolved));
    let mut checks: Vec<CrossCheck> =
        check_revision_annotation(request.version, &source.commit, &annotations)
            .map(|check| {
                if check.ok {
                    CrossCheck::passed(check.line)
                } else {
                    CrossCheck::failed(check.line)
                }
            })
            .into_iter()
            .collect();

    let files = GitTreeFiles::open(&source.mirror, &source.commit)?;
    let dependencies: Vec<Option<DependencyCheck>> = found
        .iter()
        .map(|found| {
            found
                .as_ref()
                .ok()
                .and_then(|f| check_dependencies(f.binary.as_ref()?, &files))
        })
        .collect();

    let repository = match &location {
        ImageLocation::Registry(reference) => reference.name(),
        _ => format!(
            "localhost/{}",
            Path::new(&binary_path)
                .file_name()
                .and_then(|n| n.to_str())
                .filter(|n| Reference::parse(&format!("localhost/{n}")).is_ok())
                .unwrap_or("inferred")
        ),
    };
    let tag = location
        .registry_reference()
        .and_then(|r| r.tag.clone())
        .unwrap_or_else(|| request.version.to_string());
    let host_go = host_version("go", &["env", "GOVERSION"], DEFAULT_PATH);
    let host_cc = host_version("cc", &["--version"], DEFAULT_PATH);
    let host_rustc = host_version(
        "rustc",
        &["--version"],
        &HostTools::rust().before(DEFAULT_PATH),
    )
    .and_then(|v| v.split_whitespace().nth(1).map(String::from));
    let machine = Platform::host();
    // The image's evidence but its binaries, which each group adds.
    let base = Evidence {
        repository: &repository,
        tag: &tag,
        version: request.version,
        binary_path: &binary_path,
        annotations: &annotations,
        platforms: &[],
        source: SourceEvidence {
            url: &source.url,
            git_ref: &source.git_ref,
            commit: &source.commit,
            commit_time: source.commit_time,
            files: &files,
        },
        toolchains: Toolchains {
            host_go: host_go.as_deref(),
            go_image: GO_BUILDER_IMAGES,
            host_cc: host_cc.as_deref(),
            host_rustc: host_rustc.as_deref(),
            rust_image: RUST_BUILDER_IMAGES,
            machine_arch: &machine.architecture,
        },
    };
    let members = crate::rebuild::infer::ecosystem::input_groups(&Evidence {
        platforms: &evidence_platforms,
        ..base
    });
    let mut slots: Vec<Option<PlatformEvidence>> =
        evidence_platforms.into_iter().map(Some).collect();
    let split: Vec<Vec<PlatformEvidence>> = members
        .iter()
        .map(|group| {
            group
                .iter()
                .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
                .collect()
        })
        .collect();
    let several = split.len() > 1;
    if several {
        notes.push(format!(
            "the platforms' binaries record different build inputs (build directory, -trimpath or -ldflags), so each of these gets candidates of its own: {}",
            split
                .iter()
                .map(|group| platform_list(group.iter().map(|p| &p.platform)))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    let mut groups = Vec::new();
    for group in &split {
        let names = platform_list(group.iter().map(|p| &p.platform));
        let of = if several {
            format!(" for {names}")
        } else {
            String::new()
        };
        let mut inference = crate::rebuild::infer::ecosystem::infer(&Evidence {
            platforms: group,
            ..base
        })?;
        for candidate in &mut inference.candidates {
            if !candidate.text.ends_with('\n') {
                candidate.text.push('\n');
            }
        }
        let recipes = inference
            .candidates
            .iter()
            .enumerate()
            .map(|(i, candidate)| {
                Recipe::parse(&format!("inferred candidate {}{of}", i + 1), &candidate.text)
                    .map_err(|e| {
                        InferError::Invalid(format!(
                            "candidate {}{of} ({}) is not a valid recipe, which is a bug in rebuild-compare: {e}",
                            i + 1,
                            candidate.label
                        ))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        notes.extend(inference.notes.iter().map(|note| {
            if several {
                format!("{names}: {note}")
            } else {
                note.clone()
            }
        }));
        groups.push(CandidateGroup {
            platforms: group.iter().map(|p| p.platform.clone()).collect(),
            inference,
            recipes,
        });
    }
    let platforms: Vec<InferredPlatform> = platform_images
        .into_iter()
        .zip(found)
        .zip(dependencies)
        .map(|((image, found), dependencies)| {
            let group = found.as_ref().ok().and_then(|found| {
                groups
                    .iter()
                    .position(|g| g.platforms.contains(&found.platform))
            });
            InferredPlatform {
                image,
                found,
                dependencies,
                group,
            }
        })
        .collect();
    checks.extend(files.listing_note().map(CrossCheck::failed));
    Ok(Inferred {
        location,
        resolved,
        platforms,
        source,
        groups,
        notes,
        checks,
    })
}

/// `linux/amd64, linux/arm64`.
fn platform_list<'a>(platforms: impl Iterator<Item = &'a Platform>) -> String {
    platforms
        .map(Platform::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The image's annotations and labels, one map: the config's labels, then
/// the platform manifests' annotations, then the index's, each overriding
/// the one before.
fn annotations(resolved: &ResolvedImage, platforms: &[PlatformImage]) -> BTreeMap<String, String> {
    let mut all = BTreeMap::new();
    for platform in platforms {
        let labels = platform
            .config
            .config
            .as_ref()
            .and_then(|c| c.labels.as_ref());
        for (key, value) in labels.into_iter().flatten() {
            if let Some(value) = value.as_str() {
                all.insert(key.clone(), value.to_string());
            }
        }
    }
    for platform in platforms {
        all.extend(platform.manifest.annotations.clone().unwrap_or_default());
    }
    let top = match &resolved.manifest {
        crate::image::manifest::Manifest::Index(index) => index.annotations.clone(),
        crate::image::manifest::Manifest::Image(manifest) => manifest.annotations.clone(),
    };
    all.extend(top.unwrap_or_default());
    all
}

/// The version a host tool reports, run with `path`, the build sandbox's
/// `PATH` (what a `host` build finds), or `None` when it is not there.
fn host_version(program: &str, args: &[&str], path: &str) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", "/tmp")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let line = text.lines().next()?.trim();
    (output.status.success() && !line.is_empty()).then(|| line.to_string())
}

/// Verifies an image no recipe covers: a binary that came from a
/// distribution package against the package's archive and source package
/// ([`super::packaged`]), else with the candidates of a recipe inferred
/// from the binary.
pub fn verify_inferred(
    request: &InferRequest<'_>,
    archive: &ArchiveConfig,
) -> Result<VerifyReport, VerifyError> {
    let opened = open(request)?;
    // A binary a package owns is checked against the package's archive
    // when that can be done and `--source` does not name another source;
    // otherwise the report says why it was not, and a recipe is inferred.
    let owned_note = match (super::packaged::owners(&opened)?, request.source_override) {
        (None, _) => None,
        (Some(owners), Some(_)) => owners.iter().flatten().next().map(|owner| {
            format!(
                "the image's {} database says {} owns {}; --source names where its source lives, so a recipe was inferred for that instead of rebuilding the package's source package",
                owner.owned.package.manager, owner.owned.package, owner.owned.path
            )
        }),
        (Some(owners), None) => match super::packaged::check_against_archive(&owners) {
            Ok(()) => {
                let packaged = PackagedRequest {
                    version: request.version,
                    recipe: None,
                    build: &request.build,
                    access: request.access,
                    diff: &request.diff,
                    archive,
                };
                return super::packaged::verify_packaged(&packaged, opened, owners);
            }
            Err(why) => Some(format!(
                "{why}; a recipe was inferred from the binary instead"
            )),
        },
    };
    let mut inferred = infer_from(request, opened)?;
    inferred.notes.extend(owned_note);
    // Each group's candidates, rendered for the version once for every
    // platform that tries them.
    let releases: Vec<Vec<ReleasePlan>> = inferred
        .groups
        .iter()
        .map(|g| {
            g.recipes
                .iter()
                .map(|recipe| ReleasePlan::render(recipe, request.version))
                .collect()
        })
        .collect();
    for release in releases.iter().flatten() {
        check_sandbox(release, &request.build)?;
    }
    let builders = BuilderCache::new(request.access);
    let resolver = |reference: &str| builders.resolve(reference);
    let max = request.max_candidates.max(1);

    let results: Vec<(PlatformResult, Option<usize>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = inferred
            .platforms
            .iter()
            .map(|platform| {
                let (inferred, releases) = (&inferred, &releases);
                let resolver = &resolver;
                scope.spawn(move || {
                    verify_platform(request, inferred, releases, platform, resolver, max)
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&inferred.platforms)
            .map(|(handle, platform)| {
                handle.join().unwrap_or_else(|_| {
                    let mut failed = PlatformResult::skipped(
                        platform.image.platform.to_string(),
                        "internal error: the platform's worker panicked".into(),
                    );
                    failed.verdict = PlatformVerdict::Error;
                    failed.manifest_digest = Some(platform.image.manifest_digest.clone());
                    (failed, None)
                })
            })
            .collect()
    });

    let out_dir = std::path::absolute(&request.build.out_dir)
        .unwrap_or_else(|_| request.build.out_dir.clone());
    let saved = save_recipes(&inferred, &results, &out_dir)?;
    let platforms: Vec<PlatformResult> = results
        .into_iter()
        .map(|(mut result, _)| {
            result.recipe = saved.recipe_of(&result.platform);
            result
        })
        .collect();
    let (verdict, verdict_notes) = super::pipeline::overall_verdict(&platforms);
    let mut notes = vec![saved.note(&inferred)];
    notes.extend(inferred.notes.iter().cloned());
    notes.extend(verdict_notes);
    notes.extend(builders.notes());
    let builder = super::pipeline::common_builder(&platforms);
    let source = &inferred.source;
    Ok(VerifyReport {
        verdict,
        image: ImageInfo {
            reference: inferred.resolved.reference.clone(),
            digest: inferred.resolved.digest.clone(),
            name: super::pipeline::image_name(&inferred.location),
            index_platforms: crate::image::index_platforms(&inferred.resolved),
        },
        source: SourceInfo {
            url: source.url.clone(),
            git_ref: source.git_ref.clone(),
            commit: source.commit.clone(),
            fetched_from: source.fetched_from.clone(),
        },
        recipe: RecipeInfo {
            path: saved.path.display().to_string(),
            sha256: crate::image::digest::Digest::of(saved.text.as_bytes()),
            inferred: true,
        },
        sandboxed: request.build.sandboxed,
        builder,
        platforms,
        notes,
    })
}

/// One platform's own inferred recipe, saved when the platforms' binaries
/// record different build inputs.
struct PlatformRecipe {
    platform: String,
    recipe: RecipeInfo,
    /// Which candidate it is (`one that reproduced, candidate 2`).
    which: String,
}

/// The inferred recipe the report names, and where the others went.
struct SavedRecipes {
    /// The recipe the report names: the image's, or with several groups
    /// the first platform's.
    path: std::path::PathBuf,
    text: String,
    /// With several groups: each platform's own recipe.
    per_platform: Vec<PlatformRecipe>,
    /// With one group: which candidate was saved, as above.
    which: String,
}

impl SavedRecipes {
    fn note(&self, inferred: &Inferred) -> String {
        let ecosystem = inferred
            .groups
            .first()
            .map(|g| format!("{:?}", g.inference.ecosystem))
            .unwrap_or_default();
        if self.per_platform.is_empty() {
            let count = inferred.groups.first().map_or(0, |g| g.recipes.len());
            return format!(
                "no recipe covers {}: inferred one from the image binary ({ecosystem}, {count} candidate(s); saved the {} to {})",
                inferred.location,
                self.which,
                self.path.display()
            );
        }
        format!(
            "no recipe covers {}: inferred one per platform group from the image binaries ({ecosystem}); one recipe cannot build them all, so each platform's is saved beside its results: {}; the report names {}",
            inferred.location,
            self.per_platform
                .iter()
                .map(|saved| format!(
                    "{}: the {}, {}",
                    saved.platform, saved.which, saved.recipe.path
                ))
                .collect::<Vec<_>>()
                .join("; "),
            self.path.display()
        )
    }

    /// A platform's own recipe, when it has one (several groups).
    fn recipe_of(&self, platform: &str) -> Option<RecipeInfo> {
        self.per_platform
            .iter()
            .find(|saved| saved.platform == platform)
            .map(|saved| saved.recipe.clone())
    }
}

/// Saves the inferred recipe: with one group of platforms, the candidate
/// that reproduced the most platforms, else the most likely one, as
/// `OUT/inferred-recipe.toml`; with several (platforms built with
/// different inputs), each platform's candidate that reproduced, else its
/// group's choice, as `OUT/<platform>/inferred-recipe.toml`.
fn save_recipes(
    inferred: &Inferred,
    results: &[(PlatformResult, Option<usize>)],
    out_dir: &Path,
) -> Result<SavedRecipes, VerifyError> {
    let chosen: Vec<(usize, bool)> = (0..inferred.groups.len())
        .map(|g| {
            let mut wins = vec![0usize; inferred.groups[g].recipes.len()];
            for (platform, (_, chosen)) in inferred.platforms.iter().zip(results) {
                if platform.group == Some(g) {
                    if let Some(count) = chosen.and_then(|i| wins.get_mut(i)) {
                        *count += 1;
                    }
                }
            }
            let best = (0..wins.len())
                .max_by_key(|&i| (wins[i], std::cmp::Reverse(i)))
                .unwrap_or(0);
            (best, wins.get(best).is_some_and(|w| *w > 0))
        })
        .collect();
    let text_of = |group: usize, index: usize| {
        inferred
            .groups
            .get(group)
            .and_then(|g| g.inference.candidates.get(index))
            .map(|c| c.text.clone())
            .ok_or_else(|| InferError::Invalid("inference gave no candidate".into()))
    };
    let which = |index: usize, reproduced: bool| {
        if reproduced {
            format!("one that reproduced, candidate {}", index + 1)
        } else {
            "most likely one".to_string()
        }
    };
    if inferred.groups.len() == 1 {
        let (index, reproduced) = chosen.first().copied().unwrap_or((0, false));
        let text = text_of(0, index)?;
        let path = out_dir.join(INFERRED_RECIPE_FILE);
        write_recipe(&path, &text)?;
        return Ok(SavedRecipes {
            path,
            text,
            per_platform: Vec::new(),
            which: which(index, reproduced),
        });
    }
    let mut per_platform = Vec::new();
    let mut first: Option<(std::path::PathBuf, String)> = None;
    for (platform, (_, reproduced)) in inferred.platforms.iter().zip(results) {
        let Some(group) = platform.group else {
            continue;
        };
        let (index, reproduced) = match reproduced {
            Some(index) => (*index, true),
            None => chosen.get(group).copied().unwrap_or((0, false)),
        };
        let text = text_of(group, index)?;
        let path = out_dir
            .join(platform_dir_name(&platform.image.platform))
            .join(INFERRED_RECIPE_FILE);
        write_recipe(&path, &text)?;
        per_platform.push(PlatformRecipe {
            platform: platform.image.platform.to_string(),
            recipe: RecipeInfo {
                path: path.display().to_string(),
                sha256: crate::image::digest::Digest::of(text.as_bytes()),
                inferred: true,
            },
            which: which(index, reproduced),
        });
        first.get_or_insert((path, text));
    }
    let (path, text) =
        first.ok_or_else(|| InferError::Invalid("inference gave no candidate".into()))?;
    Ok(SavedRecipes {
        path,
        text,
        per_platform,
        which: String::new(),
    })
}

fn write_recipe(path: &Path, text: &str) -> Result<(), VerifyError> {
    let io = |source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
    file.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// One platform: its candidates in order until one reproduces. Returns the
/// result and the index of the candidate that reproduced, if any.
/// `releases` are the candidates rendered for the version, by group.
fn verify_platform(
    request: &InferRequest<'_>,
    inferred: &Inferred,
    releases: &[Vec<ReleasePlan>],
    platform: &InferredPlatform,
    resolver: &BuilderResolver<'_>,
    max: usize,
) -> (PlatformResult, Option<usize>) {
    let mut result = PlatformResult::skipped(platform.image.platform.to_string(), String::new());
    result.error = None;
    result.manifest_digest = Some(platform.image.manifest_digest.clone());
    let commit = &inferred.source.commit;
    let found = match &platform.found {
        Ok(found) => found.clone(),
        Err(e) => {
            let result = conclude(
                result,
                Err(e.clone()),
                Err("not rebuilt: the image binary could not be read".into()),
                commit,
                None,
                None,
                &request.diff,
            );
            return (result, None);
        }
    };
    if let Some(check) = platform
        .dependencies
        .as_ref()
        .filter(|c| !c.problems.is_empty())
    {
        let mut result = conclude(
            result,
            Ok(found),
            Err(String::new()),
            commit,
            None,
            Some(check.clone()),
            &request.diff,
        );
        result
            .cross_checks
            .splice(0..0, inferred.checks.iter().cloned());
        result.verdict = PlatformVerdict::Mismatch;
        result.causes = super::pipeline::platform_causes(&result);
        result.error = Some(format!(
            "not rebuilt: the image binary's dependencies are not the tag's ({} problem(s) above), so no build from the tag can give its bytes",
            check.problems.len()
        ));
        return (result, None);
    }

    let group = platform
        .group
        .and_then(|g| Some((inferred.groups.get(g)?, releases.get(g)?)));
    let Some((group, releases)) = group else {
        let result = conclude(
            result,
            Ok(found),
            Err("internal error: no candidates were inferred for this platform".into()),
            commit,
            None,
            platform.dependencies.clone(),
            &request.diff,
        );
        return (result, None);
    };
    let mut tried = Vec::new();
    // The build compared with the image binary: the one that reproduced,
    // else the most likely candidate that built.
    let mut compared: Option<BuiltArtifact> = None;
    let mut source_date_epoch = None;
    let mut chosen = None;
    let mut last_error = None;
    let candidates = releases.iter().zip(&group.inference.candidates);
    for (index, (release, candidate)) in candidates.enumerate().take(max) {
        let attempt = try_candidate(request, inferred, &found, release, index, resolver);
        let verdict = match &attempt {
            Ok(built) if built.artifact.sha256 == found.sha256 => PlatformVerdict::Reproducible,
            Ok(_) => PlatformVerdict::Mismatch,
            Err(_) => PlatformVerdict::Error,
        };
        tried.push(CandidateResult {
            label: candidate.label.clone(),
            sha256: release.recipe.sha256.clone(),
            verdict,
            error: attempt.as_ref().err().cloned(),
            changes: candidate.changes.clone(),
        });
        match attempt {
            Ok(built) if verdict == PlatformVerdict::Reproducible || compared.is_none() => {
                result.inputs = built.inputs;
                result.builder = Some(built.builder);
                source_date_epoch = Some(built.source_date_epoch);
                compared = Some(built.artifact);
                if verdict == PlatformVerdict::Reproducible {
                    chosen = Some(index);
                    break;
                }
            }
            Ok(_) => {}
            Err(error) => last_error = Some(error),
        }
    }
    let built = match compared {
        Some(built) => Ok(built),
        None => Err(format!(
            "rebuild: no candidate built{}",
            last_error
                .map(|e| format!("; the last said: {e}"))
                .unwrap_or_default()
        )),
    };
    let mut result = conclude(
        result,
        Ok(found),
        built,
        commit,
        None,
        platform.dependencies.clone(),
        &DiffOptions {
            source_date_epoch,
            ..request.diff.clone()
        },
    );
    result
        .cross_checks
        .splice(0..0, inferred.checks.iter().cloned());
    result.candidates = Some(tried);
    let reproduced_with = chosen.and_then(|i| group.inference.candidates.get(i));
    if let Some(cause) = reproduced_with.and_then(|c| confirmed_cause(&c.binary_only)) {
        if result.verdict == PlatformVerdict::Reproducible {
            result.verdict = PlatformVerdict::Mismatch;
            result.causes = vec![Cause::LdflagsValues];
        }
        result
            .cross_checks
            .push(CrossCheck::failed(cause.reason.clone()));
        result.confirmed_cause = Some(cause);
    }
    (result, chosen)
}

/// The cause a reproduction with `inputs` confirms, when it took program
/// inputs from the image binary alone: the first named, the reason naming
/// them all.
fn confirmed_cause(inputs: &[BinaryOnlyInput]) -> Option<ConfirmedCause> {
    let first = inputs.first()?;
    let named: Vec<String> = inputs
        .iter()
        .map(|i| format!("`{}={}`", i.input, i.value))
        .collect();
    let (list, verb, pronoun) = match named.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            (format!("{} and {last}", rest.join(", ")), "are", "them")
        }
        _ => (named.join(""), "is", "it"),
    };
    Some(ConfirmedCause {
        input: first.input.clone(),
        value: first.value.clone(),
        reason: format!(
            "reproduces exactly with {list}, which {verb} not release metadata (the tag, the commit, a time stamp, a tree state, a builder name): nothing but the image binary supplies {pronoun}, and an -X value can point a program at another server, so this is no pass"
        ),
    })
}

/// A candidate's build for one platform.
struct CandidateBuild {
    artifact: BuiltArtifact,
    inputs: BTreeMap<String, String>,
    builder: BuilderRoot,
    source_date_epoch: i64,
}

/// Builds candidate `index` (`release`) for the platform of `found`, in
/// `OUT_DIR/candidates/<index + 1>/`.
fn try_candidate(
    request: &InferRequest<'_>,
    inferred: &Inferred,
    found: &FoundBinary,
    release: &ReleasePlan,
    index: usize,
    resolver: &BuilderResolver<'_>,
) -> Result<CandidateBuild, String> {
    let mut options = request.build.clone();
    options.out_dir = request
        .build
        .out_dir
        .join("candidates")
        .join((index + 1).to_string());
    let plan = plan_pinned(release.clone(), inferred.source.clone(), options, resolver)
        .map_err(|e| crate::error_chain(&e))?;
    let inputs = crate::rebuild::inputs::read(
        &release.recipe,
        &found.extracted,
        found.binary.as_ref().and_then(Binary::go_build_info),
    )
    .map_err(|e| format!("release inputs: {}", crate::error_chain(&e)))?;
    let prepared = prepare_platform(&plan, &found.platform, inputs.clone(), resolver)
        .map_err(|e| crate::error_chain(&e))?;
    let dest = plan
        .options
        .out_dir
        .join(platform_dir_name(&found.platform))
        .join("image");
    let label = format!("{} candidate {}", found.platform, index + 1);
    let artifact = follow_build(request.access, &plan, &prepared, &dest, &label)
        .map_err(|e| crate::error_chain(&e))?;
    Ok(CandidateBuild {
        artifact,
        inputs,
        builder: prepared.builder,
        source_date_epoch: prepared.source_date_epoch,
    })
}

impl Inferred {
    /// The first candidate's recipe text (what `recipe infer` writes): of
    /// the first group of platforms, when their binaries record different
    /// build inputs.
    pub fn first_text(&self) -> Option<&str> {
        self.groups
            .first()?
            .inference
            .candidates
            .first()
            .map(|c| c.text.as_str())
    }

    /// The platforms whose binaries were read, with their dependency checks.
    pub fn dependency_problems(&self) -> Vec<(String, Vec<String>)> {
        self.platforms
            .iter()
            .filter_map(|p| {
                let check = p.dependencies.as_ref()?;
                (!check.problems.is_empty())
                    .then(|| (p.image.platform.to_string(), check.problems.clone()))
            })
            .collect()
    }
}
