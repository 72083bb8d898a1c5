//! Build: rebuilds a recipe's binary for each platform and hands back its digest.
//!
//! The last stage of the rebuild side, tying the others together:
//! [`plan`] pins the source a recipe rendered for a version names
//! ([`super::plan`], [`super::source`]) and resolves the builder (the caller
//! supplies how builder images become a rootfs); [`prepare_platform`]
//! renders the recipe for a platform; [`build_platform`] checks the commit
//! out afresh, runs `fetch` (with network) and `command` (without) in the
//! [`super::sandbox`], locates the artifact and copies it to the output
//! directory; [`build_all`] does every platform, concurrently, and reports
//! which succeeded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::deps;
use super::host_tools::HostTools;
use super::plan::{Artifact, BuilderRef, PlanError, PlatformPlan, ReleasePlan};
use super::recipe::{Recipe, RecipeError};
use super::sandbox::{self, BuilderRoot, Mounts, SandboxError, Step, StepUser};
use super::source::{self, PinnedSource, SourceError};
use crate::image::cache::Cache;
use crate::image::digest::{hash_reader, Digest};
use crate::image::platform::Platform;
use crate::progress::SharedProgress;
use serde::Serialize;

/// Why a build could not be planned or a platform did not build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Recipe(#[from] RecipeError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("builder image {reference}: {message}")]
    Builder { reference: String, message: String },
    #[error("recipe {origin} cannot rebuild {platform}; it rebuilds {available}")]
    UnsupportedPlatform {
        origin: String,
        platform: Platform,
        available: String,
    },
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the build left no artifact at {sandbox_path} (host: {}); log: {}", path.display(), log.display())]
    MissingArtifact {
        sandbox_path: String,
        path: PathBuf,
        log: PathBuf,
    },
    #[error("artifact {sandbox_path} is not under {allowed}")]
    ArtifactOutside {
        sandbox_path: String,
        allowed: String,
    },
    #[error("recipe {origin} sets build.root, which only the sandbox can provide (root of the build's own user namespace): drop --no-sandbox")]
    RootNeedsSandbox { origin: String },
    #[error("recipe {origin} sets build.workdir, which only the sandbox can provide (it would put the source at {workdir} on this machine): drop --no-sandbox, or build from a copy of the recipe without workdir")]
    WorkdirNeedsSandbox { origin: String, workdir: String },
    #[error("artifact {} resolves to {}, outside the build's directories", path.display(), resolved.display())]
    ArtifactEscapes { path: PathBuf, resolved: PathBuf },
    #[error("cargo metadata: {message}")]
    CargoMetadata { message: String },
    #[error("recipe {origin} reads release inputs from the published binary ({names}); `build` has no image binary to read them from: run `rebuild-compare IMAGE VERSION` instead")]
    NeedsImageBinary { origin: String, names: String },
}

/// How builds run and where their results go.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Artifacts land in `OUT_DIR/<os>-<arch>[-variant]/`, logs beside them.
    pub out_dir: PathBuf,
    /// Holds the git mirrors (`git/`) and the dependency caches (`deps/`, see [`deps`]).
    pub cache_dir: PathBuf,
    /// Each platform's build is killed after this long.
    pub timeout: Duration,
    /// `false` for `--no-sandbox`.
    pub sandboxed: bool,
    /// Sees the source fetch and each platform's checkout.
    pub progress: SharedProgress,
    /// The size cap of the sandbox's `/tmp`, in bytes (`--tmp-size`;
    /// [`sandbox::DEFAULT_TMP_SIZE`] by default).
    pub tmp_size: u64,
}

/// Turns a recipe's builder image reference into a root to build on.
pub type BuilderResolver<'a> = dyn Fn(&str) -> Result<BuilderRoot, BuildError> + Sync + 'a;

/// Everything a platform build needs, resolved once for all platforms.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    /// The recipe rendered for the version.
    pub release: ReleasePlan,
    pub source: PinnedSource,
    /// The builder, when the recipe's does not depend on release inputs;
    /// `None`: each platform resolves its own ([`prepare_platform`]).
    pub builder: Option<BuilderRoot>,
    pub options: BuildOptions,
}

impl BuildPlan {
    /// What every report of this plan says besides its results (see [`builder_notes`]).
    pub fn notes(&self) -> Vec<String> {
        match (&self.builder, &self.release.builder) {
            (Some(builder), Some(BuilderRef::Image(typed))) => builder_notes(typed, builder),
            _ => Vec::new(),
        }
    }
}

/// What a report says about a builder image: that the recipe names it by
/// tag only (it may move between runs), with the digest this run resolved
/// it to; and the registries.conf mirror (or rewritten location) that
/// served it, if it was not read where its reference names.
pub fn builder_notes(typed: &str, builder: &BuilderRoot) -> Vec<String> {
    let BuilderRoot::Image {
        reference,
        digest,
        served_by,
        ..
    } = builder
    else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    if let Ok(crate::image::reference::ImageLocation::Registry(r)) =
        crate::image::reference::ImageLocation::parse(typed)
    {
        if r.digest.is_none() {
            notes.push(format!(
                "builder {reference} is not pinned by digest in the recipe; \
                 resolved to {digest} for this run"
            ));
        }
    }
    if let Some(served_by) = served_by {
        notes.push(format!("builder {reference} {served_by}"));
    }
    notes
}

/// One platform's build, ready to run: the recipe rendered for the
/// platform with the release inputs read from its published binary, and
/// what that decides (the builder, `SOURCE_DATE_EPOCH`).
#[derive(Debug, Clone)]
pub struct PlatformBuild {
    pub rendered: PlatformPlan,
    pub builder: BuilderRoot,
    /// The recipe's `source_date_epoch`, else the commit's time.
    pub source_date_epoch: i64,
}

/// Renders the recipe for a platform with its release inputs and resolves
/// the builder when the recipe's depends on them (`golang:{go_version}`).
pub fn prepare_platform(
    plan: &BuildPlan,
    platform: &Platform,
    inputs: BTreeMap<String, String>,
    resolve_builder: &BuilderResolver<'_>,
) -> Result<PlatformBuild, BuildError> {
    let rendered = plan.release.platform(platform, inputs)?;
    let builder = match (&plan.builder, &rendered.builder) {
        (Some(builder), _) => builder.clone(),
        (None, BuilderRef::Host) => BuilderRoot::Host,
        (None, BuilderRef::Image(reference)) => resolve_builder(reference)?,
    };
    Ok(PlatformBuild {
        source_date_epoch: rendered
            .source_date_epoch
            .unwrap_or(plan.source.commit_time),
        rendered,
        builder,
    })
}

/// One platform's rebuilt binary.
#[derive(Debug, Clone, Serialize)]
pub struct BuiltArtifact {
    pub platform: Platform,
    pub sha256: Digest,
    pub size: u64,
    /// The copy in the output directory.
    pub path: PathBuf,
    pub log: PathBuf,
}

/// A platform that did not build.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformFailure {
    pub platform: Platform,
    /// The error with its causes, including the log's last lines.
    pub error: String,
    pub log: PathBuf,
}

/// The outcome of building every requested platform.
#[derive(Debug, Clone, Serialize)]
pub struct BuildReport {
    pub source: PinnedSource,
    pub builder: Option<BuilderRoot>,
    pub sandboxed: bool,
    /// The platforms that built, in platform order.
    pub platforms: Vec<BuiltArtifact>,
    /// The platforms that did not, in platform order.
    pub failed: Vec<PlatformFailure>,
    /// Remarks on the run (see [`BuildPlan::notes`]).
    pub notes: Vec<String>,
}

/// The default output directory: `./rebuild-out/<version>`.
pub fn default_out_dir(version: &str) -> PathBuf {
    Path::new("rebuild-out").join(version)
}

/// The platforms to build: the requested ones (each must be in the recipe),
/// or every platform of the recipe when none is requested.
pub fn select_platforms(
    recipe: &Recipe,
    requested: &[Platform],
) -> Result<Vec<Platform>, BuildError> {
    if requested.is_empty() {
        return Ok(recipe.platforms().cloned().collect());
    }
    let mut selected = Vec::new();
    for platform in requested {
        if !recipe.build.platforms.contains_key(platform) {
            return Err(BuildError::UnsupportedPlatform {
                origin: recipe.origin.clone(),
                platform: platform.clone(),
                available: recipe
                    .platforms()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        if !selected.contains(platform) {
            selected.push(platform.clone());
        }
    }
    selected.sort();
    Ok(selected)
}

/// Checks the sandbox (unless disabled), pins the source and resolves the
/// builder the recipe rendered for a version names. `source_override`
/// (`--source`) is read instead of `source.git`, which the pinned source
/// still names as its URL.
pub fn plan(
    release: ReleasePlan,
    source_override: Option<&str>,
    options: BuildOptions,
    resolve_builder: &BuilderResolver<'_>,
) -> Result<BuildPlan, BuildError> {
    check_sandbox(&release, &options)?;
    let upstream = &release.git_url;
    let git_ref = &release.git_ref;
    let progress = options.progress.as_ref();
    let source = match source_override {
        None => source::prepare(upstream, git_ref, &options.cache_dir, progress),
        Some(copy) => source::prepare(copy, git_ref, &options.cache_dir, progress)
            .map(|pinned| pinned.read_for(upstream)),
    }
    .map_err(|e| e.for_version(&release.version))?;
    plan_pinned(release, source, options, resolve_builder)
}

/// Checks that the sandbox works (and has network, when the recipe
/// fetches), unless disabled, and that the recipe can run as asked.
pub fn check_sandbox(release: &ReleasePlan, options: &BuildOptions) -> Result<(), BuildError> {
    if let (Some(workdir), false) = (&release.workdir, options.sandboxed) {
        return Err(BuildError::WorkdirNeedsSandbox {
            origin: release.recipe.origin.clone(),
            workdir: workdir.clone(),
        });
    }
    if release.recipe.build.run_as_root && !options.sandboxed {
        return Err(BuildError::RootNeedsSandbox {
            origin: release.recipe.origin.clone(),
        });
    }
    if options.sandboxed {
        sandbox::probe()?;
        if release.recipe.build.fetch.is_some() {
            sandbox::probe_network()?;
        }
    }
    Ok(())
}

/// A plan for a source already pinned (an inferred recipe's candidates
/// share one): resolves the builder unless it depends on release inputs.
pub fn plan_pinned(
    release: ReleasePlan,
    source: PinnedSource,
    mut options: BuildOptions,
    resolve_builder: &BuilderResolver<'_>,
) -> Result<BuildPlan, BuildError> {
    for dir in [&mut options.out_dir, &mut options.cache_dir] {
        *dir = std::path::absolute(&*dir).map_err(io_error("cannot resolve", dir))?;
    }
    let builder = match &release.builder {
        Some(BuilderRef::Host) => Some(BuilderRoot::Host),
        Some(BuilderRef::Image(reference)) => Some(resolve_builder(reference)?),
        None => None,
    };
    Ok(BuildPlan {
        release,
        source,
        builder,
        options,
    })
}

/// `os-arch[-variant]`: the platform's directory name under the output directory.
pub fn platform_dir_name(platform: &Platform) -> String {
    platform.to_string().replace('/', "-")
}

/// The complete, sorted environment of a platform's build steps: the
/// sandbox's base environment (with the host's tools first on a `host`
/// builder's `PATH`), the recipe's over it.
fn platform_env(build: &PlatformBuild, host_tools: &HostTools) -> BTreeMap<String, String> {
    let mut env = sandbox::base_env(&build.builder, build.source_date_epoch);
    if let Some(path) = env.get_mut("PATH") {
        *path = host_tools.before(path);
    }
    env.extend(build.rendered.env.clone());
    env
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> BuildError {
    let path = path.to_path_buf();
    move |source| BuildError::Io {
        action,
        path,
        source,
    }
}

/// Builds one platform in a fresh checkout and copies the artifact to
/// `OUT_DIR/<os>-<arch>[-variant]/`, with the log `build.log` beside it.
/// The checkout and `/out` live in `work/` there (fixed paths, so the same
/// inputs give the same command lines); it is removed after a success and
/// kept after a failure for inspection.
pub fn build_platform(
    plan: &BuildPlan,
    build: &PlatformBuild,
) -> Result<BuiltArtifact, BuildError> {
    let rendered = &build.rendered;
    let platform = &rendered.platform;
    let started = Instant::now();
    let deadline = started
        .checked_add(plan.options.timeout)
        .unwrap_or(started + Duration::from_secs(365 * 24 * 3600));
    let platform_dir = plan.options.out_dir.join(platform_dir_name(platform));
    std::fs::create_dir_all(&platform_dir).map_err(io_error("cannot create", &platform_dir))?;
    let log = platform_dir.join("build.log");
    std::fs::write(&log, "").map_err(io_error("cannot write", &log))?;

    let work = platform_dir.join("work");
    if work.exists() {
        deps::remove_tree(&work).map_err(io_error("cannot clear", &work))?;
    }
    // `command` (and what follows it) sees a copy of the dependency cache
    // at /cache, discarded with `work/`; only `fetch` writes the entry itself.
    let mounts = Mounts {
        source: work.join("src"),
        out: work.join("out"),
        cache: work.join("cache"),
        etc: work.join("etc"),
        workdir: rendered.workdir.clone(),
        host_tools: match build.builder {
            BuilderRoot::Host => HostTools::rust(),
            BuilderRoot::Image { .. } => HostTools::default(),
        },
    };
    let env = platform_env(build, &mounts.host_tools);
    std::fs::create_dir_all(&mounts.out).map_err(io_error("cannot create", &mounts.out))?;
    source::checkout(
        &plan.source,
        &mounts.source,
        plan.release.submodules,
        plan.options.progress.as_ref(),
        &platform.to_string(),
    )?;
    if plan.options.sandboxed {
        sandbox::write_etc(&build.builder, &mounts.etc)?;
    }

    // `fetch` alone writes the dependency cache entry for these exact inputs.
    let key = dependency_key(plan, build);
    let fetch_mounts = Mounts {
        cache: deps::entry_dir(&plan.options.cache_dir, &key),
        ..mounts.clone()
    };

    tracing::info!(%platform, env = ?env, "build environment");
    let step = |name, mounts, argv, network, stdout| Step {
        name,
        root: &build.builder,
        mounts,
        argv,
        user: if rendered.run_as_root {
            StepUser::Root
        } else {
            StepUser::Build
        },
        env: &env,
        network,
        tmp_size: plan.options.tmp_size,
        sandboxed: plan.options.sandboxed,
        deadline,
        limit: plan.options.timeout,
        log: &log,
        stdout,
    };
    let metadata_argv = [
        "cargo",
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
        "--offline",
    ]
    .map(String::from);
    let metadata_file = work.join("cargo-metadata.json");
    if let Some(fetch) = &rendered.fetch {
        let cache = Cache::new(Some(&plan.options.cache_dir)).map_err(|e| BuildError::Io {
            action: "cannot open the cache",
            path: plan.options.cache_dir.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let entry = &fetch_mounts.cache;
        deps::open_entry(&cache, &key, entry).map_err(io_error("cannot prepare", entry))?;
        sandbox::run(&step("fetch", &fetch_mounts, fetch, true, None))?;
        deps::seal_entry(&cache, &key, entry).map_err(io_error("cannot seal", entry))?;
        deps::copy_tree(entry, &mounts.cache).map_err(io_error(
            "cannot copy the dependency cache to",
            &mounts.cache,
        ))?;
    } else {
        std::fs::create_dir_all(&mounts.cache).map_err(io_error("cannot create", &mounts.cache))?;
    }
    sandbox::run(&step("command", &mounts, &rendered.command, false, None))?;

    let (sandbox_path, host_path) = match &rendered.artifact {
        Artifact::Path(path) => (path.clone(), host_path(&mounts, path)?),
        Artifact::CargoBin(name) => {
            sandbox::run(&step(
                "cargo metadata",
                &mounts,
                &metadata_argv,
                false,
                Some(&metadata_file),
            ))?;
            let sandbox_path = cargo_artifact(&metadata_file, name, &env, &rendered.command)?;
            let host = if plan.options.sandboxed {
                host_path(&mounts, &sandbox_path)?
            } else {
                PathBuf::from(&sandbox_path)
            };
            (sandbox_path, host)
        }
    };
    if !host_path.is_file() {
        return Err(BuildError::MissingArtifact {
            sandbox_path,
            path: host_path,
            log,
        });
    }
    let resolved =
        std::fs::canonicalize(&host_path).map_err(io_error("cannot resolve", &host_path))?;
    let inside = [&mounts.source, &mounts.out, &mounts.cache]
        .iter()
        .filter_map(|dir| std::fs::canonicalize(dir).ok())
        .any(|dir| resolved.starts_with(dir));
    if !inside {
        return Err(BuildError::ArtifactEscapes {
            path: host_path,
            resolved,
        });
    }
    let file_name = resolved
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("artifact"));
    let dest = platform_dir.join(file_name);
    std::fs::copy(&resolved, &dest).map_err(io_error("cannot copy the artifact to", &dest))?;
    let file = std::fs::File::open(&dest).map_err(io_error("cannot read", &dest))?;
    let (sha256, size) = hash_reader(file).map_err(io_error("cannot read", &dest))?;
    deps::remove_tree(&work).map_err(io_error("cannot remove", &work))?;
    tracing::info!(%platform, %sha256, size, seconds = started.elapsed().as_secs_f64(), "built");
    Ok(BuiltArtifact {
        platform: platform.clone(),
        sha256,
        size,
        path: dest,
        log,
    })
}

/// The dependency cache entry's key: everything that decides what `fetch`
/// leaves in it (see [`deps`]).
fn dependency_key(plan: &BuildPlan, build: &PlatformBuild) -> String {
    let builder = match &build.builder {
        BuilderRoot::Host => "host",
        BuilderRoot::Image { digest, .. } => digest.as_str(),
    };
    let inputs: Vec<String> = build
        .rendered
        .inputs
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    deps::key(&[
        &plan.release.recipe.sha256.to_string(),
        &plan.release.version,
        &build.rendered.platform.to_string(),
        &inputs.join("\n"),
        &build.source_date_epoch.to_string(),
        &plan.source.url,
        &plan.source.commit,
        builder,
        if plan.options.sandboxed {
            "sandboxed"
        } else {
            "unsandboxed"
        },
    ])
}

/// Maps a path as the build sees it to the host: relative paths are under
/// the source root; absolute ones must be under `/src`, the workdir, `/out`
/// or `/cache`.
fn host_path(mounts: &Mounts, sandbox_path: &str) -> Result<PathBuf, BuildError> {
    if !sandbox_path.starts_with('/') {
        return Ok(mounts.source.join(sandbox_path));
    }
    let mut allowed = vec![(sandbox::SOURCE_MOUNT, &mounts.source)];
    if let Some(workdir) = &mounts.workdir {
        allowed.push((workdir.as_str(), &mounts.source));
    }
    allowed.extend([
        (sandbox::OUT_MOUNT, &mounts.out),
        (sandbox::CACHE_MOUNT, &mounts.cache),
    ]);
    for (mount, host) in &allowed {
        if let Ok(rest) = Path::new(sandbox_path).strip_prefix(mount) {
            return Ok(host.join(rest));
        }
    }
    let names: Vec<&str> = allowed.iter().map(|(mount, _)| *mount).collect();
    Err(BuildError::ArtifactOutside {
        sandbox_path: sandbox_path.to_string(),
        allowed: match names.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, first)) => format!("{} or {last}", first.join(", ")),
            None => String::new(),
        },
    })
}

/// Where Cargo leaves binary `name`: `<target dir>/[<CARGO_BUILD_TARGET>/]<profile>/name`,
/// the profile being `release` for `--release`/`-r`, the one named by
/// `--profile` (`dev` is `debug`), else `debug`.
fn cargo_artifact(
    metadata_file: &Path,
    name: &str,
    env: &BTreeMap<String, String>,
    command: &[String],
) -> Result<String, BuildError> {
    let text =
        std::fs::read_to_string(metadata_file).map_err(io_error("cannot read", metadata_file))?;
    let metadata: cargo_metadata::Metadata =
        serde_json::from_str(&text).map_err(|e| BuildError::CargoMetadata {
            message: format!("unreadable output: {e}"),
        })?;
    let found = metadata.packages.iter().any(|package| {
        package
            .targets
            .iter()
            .any(|t| t.name == name && t.kind.contains(&cargo_metadata::TargetKind::Bin))
    });
    if !found {
        return Err(BuildError::CargoMetadata {
            message: format!("no package of the workspace has a binary target named {name:?}"),
        });
    }
    let mut profile = "debug".to_string();
    let mut args = command.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--release" | "-r" => profile = "release".into(),
            "--profile" => {
                if let Some(p) = args.next() {
                    profile = p.clone();
                }
            }
            other => {
                if let Some(p) = other.strip_prefix("--profile=") {
                    profile = p.to_string();
                }
            }
        }
    }
    if profile == "dev" || profile == "test" {
        profile = "debug".into();
    } else if profile == "bench" {
        profile = "release".into();
    }
    let mut path = PathBuf::from(metadata.target_directory.as_std_path());
    if let Some(triple) = env.get("CARGO_BUILD_TARGET").filter(|t| !t.is_empty()) {
        path.push(triple);
    }
    path.push(profile);
    path.push(name);
    Ok(path.display().to_string())
}

/// Refuses a recipe that reads release inputs from the published binary
/// where there is none (`rebuild-compare build`).
pub fn check_standalone(recipe: &Recipe) -> Result<(), BuildError> {
    if recipe.used_inputs().is_empty() {
        Ok(())
    } else {
        Err(needs_image_binary(recipe))
    }
}

fn needs_image_binary(recipe: &Recipe) -> BuildError {
    BuildError::NeedsImageBinary {
        origin: recipe.origin.clone(),
        names: recipe
            .used_inputs()
            .iter()
            .map(|n| format!("{{{n}}}"))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Builds every platform, concurrently up to the number of cores; a failed
/// platform does not stop the others. The recipe must not use release
/// inputs (see [`check_standalone`]).
pub fn build_all(plan: &BuildPlan, platforms: &[Platform]) -> BuildReport {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(platforms.len())
        .max(1);
    let next = AtomicUsize::new(0);
    // Each worker returns its own results: no shared list, no lock to lose
    // a platform's result through.
    let mut results: Vec<(usize, Result<BuiltArtifact, BuildError>)> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::SeqCst);
                            let Some(platform) = platforms.get(index) else {
                                break done;
                            };
                            let result = prepare_platform(plan, platform, BTreeMap::new(), &|_| {
                                Err(needs_image_binary(&plan.release.recipe))
                            })
                            .and_then(|build| build_platform(plan, &build));
                            done.push((index, result));
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
    results.sort_by_key(|(index, _)| *index);
    let mut report = BuildReport {
        source: plan.source.clone(),
        builder: plan.builder.clone(),
        sandboxed: plan.options.sandboxed,
        platforms: Vec::new(),
        failed: Vec::new(),
        notes: plan.notes(),
    };
    for (index, result) in results {
        let Some(platform) = platforms.get(index) else {
            continue;
        };
        match result {
            Ok(artifact) => report.platforms.push(artifact),
            Err(error) => report.failed.push(PlatformFailure {
                platform: platform.clone(),
                error: crate::error_chain(&error),
                log: plan
                    .options
                    .out_dir
                    .join(platform_dir_name(platform))
                    .join("build.log"),
            }),
        }
    }
    report
}

/// The report as text for a terminal.
pub fn render_text(report: &BuildReport) -> String {
    let mut out = String::new();
    let source = &report.source;
    let time = serde_json::to_value(source)
        .ok()
        .and_then(|v| {
            v.get("commit_time")
                .and_then(|t| t.as_str().map(String::from))
        })
        .unwrap_or_default();
    out.push_str(&format!(
        "source    {} {} = {} ({})\n",
        source.url, source.git_ref, source.commit, time
    ));
    if let Some(copy) = &source.fetched_from {
        out.push_str(&format!("          read from {copy}\n"));
    }
    match &report.builder {
        Some(BuilderRoot::Host) => out.push_str("builder   host\n"),
        Some(BuilderRoot::Image {
            reference, digest, ..
        }) => out.push_str(&format!("builder   {reference} ({digest})\n")),
        None => out.push_str("builder   per platform\n"),
    }
    out.push_str(if report.sandboxed {
        "sandboxed yes\n"
    } else {
        "sandboxed NO (--no-sandbox)\n"
    });
    for artifact in &report.platforms {
        out.push_str(&format!(
            "{}  {}  {} bytes  {}  (log {})\n",
            artifact.platform,
            artifact.sha256,
            artifact.size,
            artifact.path.display(),
            artifact.log.display()
        ));
    }
    for failure in &report.failed {
        out.push_str(&format!(
            "{}  FAILED  (log {})\n",
            failure.platform,
            failure.log.display()
        ));
    }
    for note in &report.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rebuild::sandbox::test_mounts as mounts;

    #[test]
    fn paths_under_the_workdir_are_the_checkout() {
        let with = mounts(Some("/home/runner/work/x/x"));
        for (inside, host) in [
            ("target/release/app", "/w/src/target/release/app"),
            (
                "/home/runner/work/x/x/target/release/app",
                "/w/src/target/release/app",
            ),
            ("/src/bin/app", "/w/src/bin/app"),
            ("/out/app", "/w/out/app"),
            ("/cache/cargo/app", "/c/cargo/app"),
        ] {
            assert_eq!(
                host_path(&with, inside).unwrap(),
                Path::new(host),
                "{inside}"
            );
        }
        assert_eq!(
            host_path(&with, "/home/runner/work/x/xy/app").unwrap_err().to_string(),
            "artifact /home/runner/work/x/xy/app is not under /src, /home/runner/work/x/x, /out or /cache"
        );
        assert_eq!(
            host_path(&mounts(None), "/home/runner/work/x/x/app")
                .unwrap_err()
                .to_string(),
            "artifact /home/runner/work/x/x/app is not under /src, /out or /cache"
        );
    }
}
