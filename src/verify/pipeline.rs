//! The main job with a recipe: pin the published image to one digest,
//! rebuild the source at the tag for every platform the image ships and
//! the recipe can build, compare the binaries, explain any mismatch with
//! [`crate::diff`] against the closest rebuild ([`super::closest`]: rebuilds
//! with the inputs the published binary records), and check the
//! maintainers' published checksums.
//! Pulling and building overlap in time (unless the recipe reads release
//! inputs from the image binary); one platform's failure is reported for
//! that platform while the others go on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::closest::{self, RecipeBuild};
use super::depcheck::{self, DependencyCheck};
use super::follow::follow_build;
use super::outcome::{
    CrossCheck, ImageBinary, ImageInfo, PlatformResult, PlatformVerdict, PublishedDigest, Rebuilt,
    RecipeInfo, SourceInfo, Verdict, VerifyReport,
};
use super::published::{self, Published};

use crate::binary::{Binary, GoBuildInfo, RustInfo};
use crate::diff::{BinaryDiff, Cause, DiffError, DiffOptions, Side};
use crate::image::digest::Digest;
use crate::image::platform::Platform;
use crate::image::reference::ImageLocation;
use crate::image::{AccessOptions, Image, ImageError, PlatformImage, ResolvedImage};
use crate::rebuild::build::{
    builder_notes, platform_dir_name, prepare_platform, BuildOptions, BuildPlan, BuilderResolver,
    BuiltArtifact, PlatformBuild,
};
use crate::rebuild::infer::files::{GitTreeFiles, SourceFiles};
use crate::rebuild::plan::ReleasePlan;
use crate::rebuild::published::ChecksumSource;
use crate::rebuild::recipe::Recipe;
use crate::rebuild::sandbox::BuilderRoot;
use crate::rebuild::source::PinnedSource;
use crate::rootfs::extract::{self, BinaryRequest, FoundBinary};

/// A failure that stops the whole run (per-platform failures are reported instead).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Reference(#[from] crate::image::reference::ReferenceError),
    #[error("cannot read the published image {image}")]
    Image {
        image: String,
        #[source]
        source: ImageError,
    },
    #[error("cannot prepare the rebuild")]
    Build(#[from] crate::rebuild::build::BuildError),
    #[error(transparent)]
    Infer(#[from] crate::rebuild::infer::InferError),
    #[error(transparent)]
    Source(#[from] crate::rebuild::source::SourceError),
    #[error(transparent)]
    Tree(#[from] crate::rebuild::infer::files::TreeError),
    #[error(transparent)]
    Published(#[from] super::published::PublishedError),
    #[error("cannot read the image's package database")]
    PackageDatabase(#[from] crate::distro::db::DbError),
    #[error("cannot open the distribution's archive")]
    Archive(#[from] crate::distro::archive::ArchiveError),
    #[error("no platform's binary could be extracted from the image: {errors}")]
    NoImageBinary { errors: String },
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Resolves builder images once per reference, also when several
/// platforms (or candidates) render the recipe's builder to the same one.
pub(super) struct BuilderCache<'a> {
    access: &'a AccessOptions,
    resolved: Mutex<BTreeMap<String, BuilderRoot>>,
}

impl<'a> BuilderCache<'a> {
    pub(super) fn new(access: &'a AccessOptions) -> Self {
        Self {
            access,
            resolved: Mutex::new(BTreeMap::new()),
        }
    }

    pub(super) fn resolve(
        &self,
        reference: &str,
    ) -> Result<BuilderRoot, crate::rebuild::build::BuildError> {
        let mut resolved =
            self.resolved
                .lock()
                .map_err(|_| {
                    crate::rebuild::build::BuildError::Builder {
                reference: reference.to_string(),
                message:
                    "internal error: another platform's worker panicked while resolving builders"
                        .into(),
            }
                })?;
        if let Some(builder) = resolved.get(reference) {
            return Ok(builder.clone());
        }
        let builder = crate::rebuild::builder::resolve(reference, self.access)?;
        resolved.insert(reference.to_string(), builder.clone());
        Ok(builder)
    }

    /// A note per builder named by tag only, with the digest it resolved to.
    pub(super) fn notes(&self) -> Vec<String> {
        match self.resolved.lock() {
            Ok(resolved) => resolved
                .iter()
                .flat_map(|(typed, builder)| builder_notes(typed, builder))
                .collect(),
            Err(_) => vec![
                "internal error: a platform's worker panicked while resolving builders; which digests their tags resolved to is not known".into(),
            ],
        }
    }
}

/// What to verify and how.
pub struct VerifyRequest<'a> {
    /// The published image as typed: a registry reference (its tag defaults
    /// to the recipe's), `oci:DIR[:TAG]` or `docker-archive:FILE[:REF]`.
    pub image: &'a str,
    /// The release, as typed (`v1.20.0`).
    pub version: &'a str,
    pub recipe: &'a Recipe,
    /// How the recipe was chosen, when the catalogue matched it by repository
    /// path on another registry: the first of the report's notes.
    pub recipe_note: Option<String>,
    /// `--source`: another URL or path for the recipe's git repository.
    pub source_override: Option<&'a str>,
    /// `--platform`: only these (each must be in the image). Empty: all.
    pub platforms: &'a [Platform],
    /// `--skip-published`: do not fetch the recipe's `[published]`
    /// checksums; each platform then records that the check was skipped.
    pub skip_published: bool,
    pub build: BuildOptions,
    pub access: &'a AccessOptions,
    pub diff: DiffOptions,
    /// `--max-adjustments`: at most this many rebuilds of a mismatching
    /// platform with inputs taken from its published binary (0: `--no-adjust`).
    pub max_adjustments: usize,
}

/// Runs the whole verification.
pub fn verify(request: &VerifyRequest<'_>) -> Result<VerifyReport, VerifyError> {
    let recipe = request.recipe;
    let release = ReleasePlan::render(recipe, request.version);
    // Pin first: from here on everything is read by this digest.
    let Published {
        location,
        image,
        resolved,
        note: published_note,
    } = published::open(request.image, &release, request.access)?;
    let image_error = |source| VerifyError::Image {
        image: location.to_string(),
        source,
    };
    tracing::info!("{} resolved to {}", resolved.reference, resolved.digest);
    let platform_images = image
        .platforms(&resolved, request.platforms)
        .map_err(image_error)?;

    let builders = BuilderCache::new(request.access);
    let resolver = |reference: &str| builders.resolve(reference);
    let plan = crate::rebuild::build::plan(
        release,
        request.source_override,
        request.build.clone(),
        &resolver,
    )?;

    let mut results = Vec::new();
    let mut to_compare = Vec::new();
    for platform_image in &platform_images {
        match buildable(recipe, &platform_image.platform) {
            Some(build_platform) => to_compare.push((platform_image, build_platform)),
            None => {
                let mut skipped = PlatformResult::skipped(
                    platform_image.platform.to_string(),
                    format!(
                        "the recipe cannot build {} (it builds {})",
                        platform_image.platform,
                        recipe
                            .platforms()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                skipped.manifest_digest = Some(platform_image.manifest_digest.clone());
                results.push((platform_image.platform.clone(), skipped));
            }
        }
    }

    let compared: Vec<(Platform, PlatformResult)> = std::thread::scope(|scope| {
        let handles: Vec<_> = to_compare
            .iter()
            .map(|(platform_image, build_platform)| {
                let plan = &plan;
                let image = &image;
                let resolver = &resolver;
                scope.spawn(move || {
                    let result = verify_platform(
                        request,
                        plan,
                        resolver,
                        image,
                        platform_image,
                        build_platform,
                    );
                    (platform_image.platform.clone(), result)
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(&to_compare)
            .map(|(handle, (platform_image, _))| {
                handle.join().unwrap_or_else(|_| {
                    let platform = platform_image.platform.clone();
                    let mut failed = PlatformResult::skipped(
                        platform.to_string(),
                        "internal error: the platform's worker panicked".into(),
                    );
                    failed.verdict = PlatformVerdict::Error;
                    failed.manifest_digest = Some(platform_image.manifest_digest.clone());
                    (platform, failed)
                })
            })
            .collect()
    });
    results.extend(compared);
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let platforms: Vec<PlatformResult> = results.into_iter().map(|(_, r)| r).collect();

    let (verdict, verdict_notes) = overall_verdict(&platforms);
    let mut notes: Vec<String> = request
        .recipe_note
        .iter()
        .cloned()
        .chain(published_note)
        .chain(mirror_note(&resolved))
        .chain(verdict_notes)
        .chain(plan.notes())
        .collect();
    let builder = plan.builder.clone().or_else(|| common_builder(&platforms));
    if plan.builder.is_none() {
        notes.extend(builders.notes());
    }
    Ok(VerifyReport {
        verdict,
        image: ImageInfo {
            reference: resolved.reference.clone(),
            digest: resolved.digest.clone(),
            name: image_name(&location),
            index_platforms: crate::image::index_platforms(&resolved),
        },
        source: SourceInfo {
            url: plan.source.url.clone(),
            git_ref: plan.source.git_ref.clone(),
            commit: plan.source.commit.clone(),
            fetched_from: plan.source.fetched_from.clone(),
        },
        recipe: RecipeInfo {
            path: recipe.origin.clone(),
            sha256: recipe.sha256.clone(),
            inferred: false,
        },
        sandboxed: plan.options.sandboxed,
        builder,
        platforms,
        notes,
    })
}

/// The registries.conf mirror (or rewritten location) the image was read
/// through, if it was not read where its reference names.
pub(super) fn mirror_note(resolved: &ResolvedImage) -> Option<String> {
    let served_by = resolved.served_by.as_ref()?;
    Some(format!("{} {served_by}", resolved.reference))
}

/// The builder every compared platform used, when they used the same one.
pub(super) fn common_builder(platforms: &[PlatformResult]) -> Option<BuilderRoot> {
    let mut used = platforms.iter().filter_map(|p| p.builder.as_ref());
    let first = used.next()?;
    used.all(|b| b == first).then(|| first.clone())
}

/// The recipe's platform that builds an image platform, if any.
fn buildable(recipe: &Recipe, platform: &Platform) -> Option<Platform> {
    recipe
        .platforms()
        .find(|p| p.matches(platform) || platform.matches(p))
        .cloned()
}

/// `registry/repository` or the layout/archive path, without tag or digest.
pub(super) fn image_name(location: &ImageLocation) -> String {
    match location {
        ImageLocation::Registry(r) => r.name(),
        ImageLocation::OciLayout { dir, .. } => format!("oci:{}", dir.display()),
        ImageLocation::DockerArchive { file, .. } => format!("docker-archive:{}", file.display()),
    }
}

/// Image side and build side of one platform, in parallel, then the comparison.
/// Why a platform was not rebuilt: its build failed, or what it needed
/// from the image binary could not be had.
#[derive(Debug, thiserror::Error)]
enum PlatformBuildError {
    #[error(transparent)]
    Build(#[from] crate::rebuild::build::BuildError),
    #[error("release inputs: {0}")]
    Inputs(#[from] crate::rebuild::inputs::InputError),
    #[error(
        "the image binary, which the recipe reads release inputs from, could not be extracted"
    )]
    NoImageBinary,
}

/// Image side and build side of one platform, then the comparison. The
/// sides run in parallel unless the recipe reads release inputs from the
/// image binary, which must then be extracted first.
fn verify_platform(
    request: &VerifyRequest<'_>,
    plan: &BuildPlan,
    resolver: &BuilderResolver<'_>,
    image: &Image,
    platform_image: &PlatformImage,
    build_platform: &Platform,
) -> PlatformResult {
    let platform = platform_image.platform.to_string();
    let dest = plan
        .options
        .out_dir
        .join(crate::rebuild::build::platform_dir_name(build_platform))
        .join("image");
    let label = platform_image.platform.to_string();
    let extract = || {
        let binary = BinaryRequest {
            path: request.recipe.image.binary.as_deref(),
        };
        extract::extract_to_dir(image, platform_image, &binary, &dest)
    };
    let mut inputs = BTreeMap::new();
    let mut prepared_build = None;
    let build = |inputs: BTreeMap<String, String>,
                 prepared_build: &mut Option<PlatformBuild>|
     -> Result<BuiltArtifact, PlatformBuildError> {
        let prepared = prepare_platform(plan, build_platform, inputs, resolver)?;
        *prepared_build = Some(prepared.clone());
        let log_dir = plan.options.out_dir.join(platform_dir_name(build_platform));
        Ok(follow_build(
            request.access,
            plan,
            &prepared,
            &log_dir.join("image"),
            &label,
        )?)
    };
    let (found, built) = if request.recipe.used_inputs().is_empty() {
        std::thread::scope(|scope| {
            let image_side = scope.spawn(extract);
            let built = build(BTreeMap::new(), &mut prepared_build);
            let found = image_side
                .join()
                .unwrap_or_else(|_| Err(extract::ExtractError::Panicked));
            (found, built)
        })
    } else {
        let found = extract();
        let built = match &found {
            Ok(found) => crate::rebuild::inputs::read(
                request.recipe,
                &found.extracted,
                found.binary.as_ref().and_then(Binary::go_build_info),
            )
            .map_err(PlatformBuildError::from)
            .and_then(|read| {
                inputs = read;
                build(inputs.clone(), &mut prepared_build)
            }),
            Err(_) => Err(PlatformBuildError::NoImageBinary),
        };
        (found, built)
    };

    let closest = match (&found, &built, &prepared_build) {
        (Ok(found), Ok(recipe_built), Some(prepared))
            if found.sha256 != recipe_built.sha256 && request.max_adjustments > 0 =>
        {
            closest::closest(
                &RecipeBuild {
                    access: request.access,
                    max_adjustments: request.max_adjustments,
                    plan,
                    resolver,
                    platform: build_platform,
                    prepared,
                    built: recipe_built,
                },
                found,
            )
        }
        _ => None,
    };
    let (built, prepared_build) = match &closest {
        Some(closest) => (Ok(closest.built.clone()), Some(closest.prepared.clone())),
        None => (built, prepared_build),
    };

    let mut result = PlatformResult::skipped(platform, String::new());
    result.error = None;
    result.manifest_digest = Some(platform_image.manifest_digest.clone());
    result.inputs = inputs;
    result.builder = prepared_build.as_ref().map(|p| p.builder.clone());
    let diff_options = DiffOptions {
        source_date_epoch: prepared_build.as_ref().map(|p| p.source_date_epoch),
        ..request.diff.clone()
    };
    let published = match plan.release.published.get(build_platform) {
        Some(_) if request.skip_published => {
            result.published_skipped = true;
            None
        }
        Some(source) => Some(published_digest(source).map_err(|e| e.to_string())),
        None => None,
    };
    let (dependencies, listing_note) = match &found {
        Ok(found) => check_pinned_dependencies(found.binary.as_ref(), &plan.source),
        Err(_) => (None, None),
    };
    let mut result = conclude(
        result,
        found.map_err(|e| format!("image binary: {}", crate::error_chain(&e))),
        built.map_err(|e| format!("rebuild: {}", crate::error_chain(&e))),
        &plan.source.commit,
        published,
        dependencies,
        &diff_options,
    );
    if let Some(closest) = closest {
        closest::record(&mut result, closest);
    }
    result
        .cross_checks
        .extend(listing_note.map(CrossCheck::failed));
    result
}

/// The dependency cross-check of the image binary against the source at
/// the tag (Go modules, Rust crates: cargo-auditable's list, else those
/// its registry paths name), when the binary records its dependencies;
/// `None` for other binaries.
pub(super) fn check_dependencies(
    binary: &Binary,
    files: &dyn SourceFiles,
) -> Option<DependencyCheck> {
    if let Some(info) = binary.go_build_info() {
        return Some(depcheck::check_go(info, files));
    }
    match &binary.rust {
        Some(RustInfo {
            packages: Some(packages),
            ..
        }) => Some(depcheck::check_rust(packages, files)),
        Some(RustInfo {
            registry_crates, ..
        }) if !registry_crates.is_empty() => Some(DependencyCheck {
            only: Some("the crates its registry paths name: the binary carries no dependency list"),
            ..depcheck::check_rust(registry_crates, files)
        }),
        _ => None,
    }
}

/// [`check_dependencies`] against the tree of the pinned commit, with the
/// cross-check line saying when the check searched a listing of only part
/// of the tree; a tree that cannot be read skips the check, saying why.
fn check_pinned_dependencies(
    binary: Option<&Binary>,
    source: &PinnedSource,
) -> (Option<DependencyCheck>, Option<String>) {
    match GitTreeFiles::open(&source.mirror, &source.commit) {
        Ok(files) => (
            binary.and_then(|binary| check_dependencies(binary, &files)),
            files.listing_note(),
        ),
        Err(e) => (
            Some(DependencyCheck {
                checked: 0,
                problems: Vec::new(),
                skipped: Some(e.to_string()),
                only: None,
            }),
            None,
        ),
    }
}

/// Fills `result` from the image side and the build side and compares
/// them: reproducible when the digests are equal (and the maintainers'
/// published digest, when there is one, agrees), else a mismatch with the
/// diff that explains it. A published digest that could not be had makes
/// an otherwise reproducible platform an error: the declared check did not run.
pub(super) fn conclude(
    mut result: PlatformResult,
    found: Result<FoundBinary, String>,
    built: Result<BuiltArtifact, String>,
    commit: &str,
    published: Option<Result<(Digest, String), String>>,
    dependencies: Option<DependencyCheck>,
    diff: &DiffOptions,
) -> PlatformResult {
    let mut errors: Vec<String> = result.error.take().into_iter().collect();
    let found = found.map_err(|e| errors.push(e)).ok();
    let built = built.map_err(|e| errors.push(e)).ok();
    // The rebuilt binary is read once, for the cross-checks and the diff.
    let rebuilt = found
        .as_ref()
        .and(built.as_ref())
        .map(|built| Binary::read(&built.path));
    if let Some(found) = &found {
        let rebuilt = rebuilt.as_ref().and_then(|read| read.as_ref().ok());
        result.cross_checks = cross_checks(found, rebuilt, commit);
        result.image_binary = Some(ImageBinary {
            path: found.located.path.clone(),
            sha256: found.sha256.clone(),
            size: found.size,
            layer: found.located.layer.clone(),
            extracted: found.extracted.display().to_string(),
        });
    }
    if let Some(check) = &dependencies {
        let problems = check.problems.iter().cloned().map(CrossCheck::failed);
        result.cross_checks.extend(problems);
        if check.problems.is_empty() && check.checked > 0 {
            let only = check
                .only
                .map(|only| format!(" (only {only})"))
                .unwrap_or_default();
            result.cross_checks.push(CrossCheck::passed(format!(
                "{} dependencies agree with the tag's lock files{only}",
                check.checked
            )));
        }
    }
    result.dependencies = dependencies;
    if let Some(built) = &built {
        result.rebuilt = Some(Rebuilt {
            sha256: built.sha256.clone(),
            size: built.size,
            path: built.path.display().to_string(),
            log: built.log.display().to_string(),
        });
    }
    let published_failed = matches!(published, Some(Err(_)));
    match published {
        Some(Ok((sha256, url))) => {
            result.published = Some(PublishedDigest {
                matches_image: found.as_ref().is_some_and(|f| f.sha256 == sha256),
                matches_rebuilt: built.as_ref().map(|b| b.sha256 == sha256),
                sha256,
                url,
            })
        }
        Some(Err(e)) => errors.push(format!("published checksum: {e}")),
        None => {}
    }
    result.error = (!errors.is_empty()).then(|| errors.join("\n"));
    let (Some(found), Some(built), Some(rebuilt)) = (found, built, rebuilt) else {
        result.verdict = PlatformVerdict::Error;
        return result;
    };
    let published_agrees = result.published.as_ref().is_none_or(|p| p.matches_image);
    if found.sha256 == built.sha256 && published_agrees {
        // A declared check that could not run leaves the pass unproven.
        result.verdict = if published_failed {
            PlatformVerdict::Error
        } else {
            PlatformVerdict::Reproducible
        };
        return result;
    }
    result.verdict = PlatformVerdict::Mismatch;
    if found.sha256 != built.sha256 {
        match diff_found(&found, &built, rebuilt, diff) {
            Ok(diff) => result.diff = Some(diff),
            Err(e) => result.error = Some(format!("diff: {e}")),
        }
    }
    result.causes = platform_causes(&result);
    result
}

/// The diff of the image binary and the rebuilt one, from what each holds
/// as it was read before (an image binary only hashed is read here).
fn diff_found(
    found: &FoundBinary,
    built: &BuiltArtifact,
    rebuilt: Result<Binary, crate::binary::ReadError>,
    options: &DiffOptions,
) -> Result<BinaryDiff, DiffError> {
    let read;
    let published = match &found.binary {
        Some(binary) => binary,
        None => {
            read = Binary::read(&found.extracted)?;
            &read
        }
    };
    crate::diff::diff_binaries(
        Side {
            path: &found.extracted,
            binary: published,
        },
        Side {
            path: &built.path,
            binary: &rebuilt?,
        },
        options,
    )
}

/// A mismatching platform's causes: `dependencies` first when the
/// dependency cross-check found problems, then the diff's.
pub(super) fn platform_causes(result: &PlatformResult) -> Vec<Cause> {
    let mut causes = Vec::new();
    if result
        .dependencies
        .as_ref()
        .is_some_and(|d| !d.problems.is_empty())
    {
        causes.push(Cause::Dependencies);
    }
    for cause in result.diff.iter().flat_map(|d| &d.causes) {
        if !causes.contains(cause) {
            causes.push(*cause);
        }
    }
    causes
}

/// Checks that need no rebuild: the image binary's machine against the
/// manifest's platform, its Go build info against the tag's commit, and its
/// toolchain against the one the rebuild used. Every check that ran is
/// listed, passed or failed.
pub(super) fn cross_checks(
    found: &FoundBinary,
    rebuilt: Option<&Binary>,
    commit: &str,
) -> Vec<CrossCheck> {
    let mut checks: Vec<CrossCheck> = found
        .warnings
        .iter()
        .cloned()
        .map(CrossCheck::failed)
        .collect();
    let format = match found.kind.format {
        crate::binary::Format::Elf => Some("ELF"),
        crate::binary::Format::Pe => Some("PE"),
        crate::binary::Format::Macho => Some("Mach-O"),
        crate::binary::Format::Script | crate::binary::Format::Unknown => None,
    };
    if let (Some(format), true) = (format, found.warnings.is_empty()) {
        checks.push(CrossCheck::passed(format!(
            "{format} binary for {}, as the manifest's {} says",
            found.kind.machine, found.platform
        )));
    }
    let published = found.binary.as_ref();
    if let Some(e) = published.and_then(Binary::go_build_info_error) {
        checks.push(CrossCheck::failed(format!(
            "{e}: the image binary's revision, tree state and Go version were not checked"
        )));
    }
    if let Some(e) = published.and_then(|b| b.rust_dependencies_error.as_ref()) {
        checks.push(CrossCheck::failed(format!(
            "the image binary's cargo-auditable dependency list (.dep-v0) cannot be read ({e}): its dependencies were not checked"
        )));
    }
    let Some(info) = published.and_then(Binary::go_build_info) else {
        return checks;
    };
    match setting(info, "vcs.revision") {
        Some(revision) if revision != commit => checks.push(CrossCheck::failed(format!(
            "the image binary's Go build info says vcs.revision {revision}, but the tag is commit {commit}"
        ))),
        Some(revision) => checks.push(CrossCheck::passed(format!(
            "vcs.revision {revision} is the tag's commit"
        ))),
        None => {}
    }
    match setting(info, "vcs.modified") {
        Some("true") => checks.push(CrossCheck::failed(
            "the image binary was built from a modified tree (vcs.modified=true)",
        )),
        Some(modified) => checks.push(CrossCheck::passed(format!("vcs.modified={modified}"))),
        None => {}
    }
    if let Some(rebuilt) = rebuilt.and_then(Binary::go_build_info) {
        if rebuilt.go_version != info.go_version {
            checks.push(CrossCheck::failed(format!(
                "toolchain differs: the image binary was built with {}, the builder has {}",
                info.go_version, rebuilt.go_version
            )));
        } else {
            checks.push(CrossCheck::passed(format!(
                "go version {} equals the builder's",
                info.go_version
            )));
        }
    }
    checks
}

fn setting<'a>(info: &'a GoBuildInfo, key: &str) -> Option<&'a str> {
    info.settings
        .iter()
        .find(|s| s.key == key)
        .map(|s| s.value.as_str())
}

/// Fetches the maintainers' digest for this platform's binary.
fn published_digest(
    source: &ChecksumSource,
) -> Result<(Digest, String), crate::rebuild::published::PublishedError> {
    let digest = crate::rebuild::published::fetch(source)?;
    Ok((digest, source.url().to_string()))
}

/// The run's verdict from its platforms, with the notes that explain it.
pub(super) fn overall_verdict(platforms: &[PlatformResult]) -> (Verdict, Vec<String>) {
    overall_verdict_skipping(platforms, "the recipe cannot build them")
}

/// [`overall_verdict`], saying `why_skipped` of skipped platforms.
pub(super) fn overall_verdict_skipping(
    platforms: &[PlatformResult],
    why_skipped: &str,
) -> (Verdict, Vec<String>) {
    let count = |v: PlatformVerdict| platforms.iter().filter(|p| p.verdict == v).count();
    let (reproduced, mismatched, failed, skipped) = (
        count(PlatformVerdict::Reproducible),
        count(PlatformVerdict::Mismatch),
        count(PlatformVerdict::Error),
        count(PlatformVerdict::Skipped),
    );
    let mut notes = Vec::new();
    if skipped > 0 {
        notes.push(format!(
            "{skipped} platform(s) skipped: {why_skipped}; they were not verified"
        ));
    }
    if failed > 0 {
        notes.push(format!("{failed} platform(s) could not be compared"));
    }
    let verdict = if mismatched > 0 {
        Verdict::Mismatch
    } else if failed > 0 {
        Verdict::Error
    } else if reproduced == 0 {
        notes.push("no platform could be compared, so nothing was verified".into());
        Verdict::Error
    } else {
        Verdict::Reproducible
    };
    (verdict, notes)
}

/// The default output directory of a verification.
pub fn default_out_dir(version: &str) -> PathBuf {
    Path::new("rebuild-out").join(version)
}
