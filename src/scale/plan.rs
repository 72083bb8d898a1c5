//! Planning: for each image of a watch list, list the repository's tags
//! (and its recipe's fallback repositories', for releases only they hold),
//! keep the releases it selects, resolve each to its digest and platforms
//! (manifests read concurrently, a bounded number at a time) and make one
//! job per digest, release and platform that the ledger does not hold yet.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use super::job::{Job, JobError, Plan};
use super::ledger::entry::entry_path;
use super::watchlist::{in_range, tag_version, Versions, WatchList, WatchedImage};
use crate::image::digest::Digest;
use crate::image::manifest::{
    check_declared_size, runnable_entries, ImageConfig, Manifest, ManifestError, MAX_CONFIG_BYTES,
};
use crate::image::platform::Platform;
use crate::image::repository::{Access, Repository};
use crate::image::{AccessOptions, ImageError, RegistryError};

/// Tags asked for per page: one request lists most repositories whole.
const TAGS_PER_PAGE: u32 = 1000;
/// Manifests read at a time by `plan`: enough to keep a registry's
/// round trips overlapped, few enough to stay polite.
pub const CONCURRENCY: usize = 16;

/// How to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions<'a> {
    /// The ledger: jobs whose `jobs/<id>/entry.json` exists are left out.
    pub ledger: Option<&'a Path>,
    /// At most this many jobs (after the ledger's are left out).
    pub limit: Option<usize>,
    /// Manifests read at a time (at least 1).
    pub concurrency: usize,
}

/// A plan, with what was left out of it.
#[derive(Debug, Clone)]
pub struct Planned {
    pub plan: Plan,
    /// Jobs left out because the ledger holds them.
    pub in_ledger: usize,
    /// Jobs left out by the limit.
    pub over_limit: usize,
    /// One line each: releases planned from a fallback repository, and
    /// releases left out (none of the platforms asked for).
    pub notes: Vec<String>,
}

/// Why no plan could be made.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("cannot reach {image}: {source}")]
    Open {
        image: String,
        source: Box<ImageError>,
    },
    #[error("cannot list the tags of {image}: {source}")]
    Tags {
        image: String,
        source: Box<ImageError>,
    },
    #[error("{image} lists no tags; check the watch list's reference")]
    NoTags { image: String },
    #[error("no tag of {image} is within versions = {range:?}{}; widen the range or fix the reference", newest_tags(.newest))]
    NothingInRange {
        image: String,
        range: String,
        newest: Vec<String>,
    },
    #[error("{image} has no tag {tag:?}, which the watch list's versions lists; remove it or fix its spelling")]
    MissingVersion { image: String, tag: String },
    #[error("cannot read {image}:{tag}: {source}")]
    Manifest {
        image: String,
        tag: String,
        source: Box<ImageError>,
    },
    #[error("{image}:{tag} is no longer tagged (deleted while planning?); plan again")]
    Vanished { image: String, tag: String },
    #[error(transparent)]
    Job(#[from] JobError),
}

fn newest_tags(tags: &[String]) -> String {
    if tags.is_empty() {
        " (it has no semver tag)".to_string()
    } else {
        format!(" (its newest semver tags: {})", tags.join(", "))
    }
}

/// One release to resolve: image `image` of the watch list at `tag`, in
/// its repository `source` (0: its own; then its fallback repositories).
struct Release {
    image: usize,
    source: usize,
    tag: String,
}

/// A repository a watched image's releases are read from, with its name.
struct Source {
    /// `registry/repository`.
    name: String,
    repository: Repository,
}

/// A release's digest and its platforms (the requested ones, or all runnable).
struct Resolved {
    digest: Digest,
    platforms: Vec<Platform>,
}

/// Plans `watchlist` against its registries, at time `now`.
pub fn plan(
    watchlist: &WatchList,
    access: &AccessOptions,
    options: &PlanOptions<'_>,
    now: SystemTime,
) -> Result<Planned, PlanError> {
    let mut releases = Vec::new();
    let mut sources = Vec::new();
    let mut notes = Vec::new();
    for (index, image) in watchlist.images.iter().enumerate() {
        let opened = open(image, access)?;
        let mut moved = vec![0usize; opened.len()];
        for (tag, source) in select_tags(image, &opened)? {
            moved[source] += 1;
            releases.push(Release {
                image: index,
                source,
                tag,
            });
        }
        for (source, count) in opened.iter().zip(moved).skip(1) {
            if count > 0 {
                notes.push(format!(
                    "{count} release(s) that {} lacks planned from {}, the recipe's fallback repository",
                    image.reference.name(),
                    source.name
                ));
            }
        }
        sources.push(opened);
    }
    let resolved = resolve_all(watchlist, &sources, &releases, options.concurrency.max(1))?;
    let mut jobs = Vec::new();
    for (release, resolved) in releases.iter().zip(resolved) {
        let image = &watchlist.images[release.image];
        let name = &sources[release.image][release.source].name;
        if resolved.platforms.is_empty() {
            let wanted: Vec<String> = image.platforms.iter().map(Platform::to_string).collect();
            notes.push(if wanted.is_empty() {
                format!("{name}:{} has no runnable platform; left out", release.tag)
            } else {
                format!(
                    "{name}:{} has none of the platforms {}; left out",
                    release.tag,
                    wanted.join(", ")
                )
            });
        }
        for platform in &resolved.platforms {
            jobs.push(Job::new(
                name,
                &release.tag,
                &resolved.digest.to_string(),
                &platform.to_string(),
                image.recipe.as_ref(),
            )?);
        }
    }
    let mut seen = BTreeSet::new();
    jobs.retain(|job| seen.insert(job.id.clone()));
    let before = jobs.len();
    if let Some(ledger) = options.ledger {
        jobs.retain(|job| !entry_path(ledger, &job.id).exists());
    }
    let in_ledger = before - jobs.len();
    let mut over_limit = 0;
    if let Some(limit) = options.limit {
        over_limit = jobs.len().saturating_sub(limit);
        jobs.truncate(limit);
    }
    Ok(Planned {
        plan: Plan::new(jobs, now),
        in_ledger,
        over_limit,
        notes,
    })
}

/// A handle on each of `image`'s repositories (its own, then its
/// fallback repositories), shared by every request to it: one client
/// each, so credentials and connections are set up once.
fn open(image: &WatchedImage, access: &AccessOptions) -> Result<Vec<Source>, PlanError> {
    std::iter::once(&image.reference)
        .chain(&image.fallbacks)
        .map(|reference| {
            let name = reference.name();
            match Repository::open(reference, access, Access::Pull) {
                Ok(repository) => Ok(Source { name, repository }),
                Err(source) => Err(PlanError::Open {
                    image: name,
                    source: Box::new(source),
                }),
            }
        })
        .collect()
}

/// Every tag of `sources`, each with the first source that lists it
/// (its own repository's tags first). With fallback repositories, a
/// repository the registry does not know lists none (it moved).
fn list_tags(sources: &[Source]) -> Result<Vec<(String, usize)>, PlanError> {
    let mut seen = BTreeSet::new();
    let mut listed = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        let tags = match source.repository.tags(Some(TAGS_PER_PAGE)) {
            Ok(tags) => tags,
            Err(ImageError::Registry(RegistryError::NotFound { .. })) if sources.len() > 1 => {
                Vec::new()
            }
            Err(e) => {
                return Err(PlanError::Tags {
                    image: source.name.clone(),
                    source: Box::new(e),
                })
            }
        };
        if let Some(bad) = tags.iter().find(|t| !super::job::is_valid_tag(t)) {
            return Err(JobError::InvalidTag {
                image: source.name.clone(),
                tag: bad.clone(),
            }
            .into());
        }
        for tag in tags {
            if seen.insert(tag.clone()) {
                listed.push((tag, index));
            }
        }
    }
    Ok(listed)
}

/// The tags of `image` its versions select, in release order (semver
/// ascending, then any listed non-semver tags by name), each with the
/// index of the source it is read from.
fn select_tags(
    image: &WatchedImage,
    sources: &[Source],
) -> Result<Vec<(String, usize)>, PlanError> {
    let name = image.reference.name();
    let listed = list_tags(sources)?;
    let tags: Vec<String> = listed.iter().map(|(tag, _)| tag.clone()).collect();
    if tags.is_empty() {
        return Err(PlanError::NoTags { image: name });
    }
    let mut selected: Vec<String> = match &image.versions {
        Versions::Range(req) => {
            let selected: Vec<String> = tags.iter().filter(|t| in_range(req, t)).cloned().collect();
            if selected.is_empty() {
                let mut semver: Vec<(semver::Version, &String)> = tags
                    .iter()
                    .filter_map(|t| Some((tag_version(t)?, t)))
                    .collect();
                semver.sort();
                return Err(PlanError::NothingInRange {
                    image: name,
                    range: req.to_string(),
                    newest: semver
                        .iter()
                        .rev()
                        .take(3)
                        .map(|(_, t)| (*t).clone())
                        .collect(),
                });
            }
            selected
        }
        Versions::List(listed) => {
            let known: BTreeSet<&String> = tags.iter().collect();
            if let Some(missing) = listed.iter().find(|t| !known.contains(t)) {
                return Err(PlanError::MissingVersion {
                    image: name,
                    tag: missing.clone(),
                });
            }
            listed.clone()
        }
    };
    selected.sort_by_cached_key(|t| (tag_version(t).is_none(), tag_version(t), t.clone()));
    selected.dedup();
    Ok(selected
        .into_iter()
        .map(|tag| {
            let source = listed
                .iter()
                .find(|(listed, _)| *listed == tag)
                .map_or(0, |(_, source)| *source);
            (tag, source)
        })
        .collect())
}

/// Resolves every release, `concurrency` at a time: worker threads share
/// each repository's handle (its runtime lets several threads wait on it
/// at once). The first failure, in release order, is the answer, and
/// stops the others.
fn resolve_all(
    watchlist: &WatchList,
    sources: &[Vec<Source>],
    releases: &[Release],
    concurrency: usize,
) -> Result<Vec<Resolved>, PlanError> {
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Result<Resolved, PlanError>>>> =
        Mutex::new((0..releases.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..concurrency.min(releases.len()) {
            scope.spawn(|| {
                while !failed.load(Ordering::Relaxed) {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(release) = releases.get(index) else {
                        break;
                    };
                    let image = &watchlist.images[release.image];
                    let source = &sources[release.image][release.source];
                    let result = resolve(image, source, &release.tag);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut results) = results.lock() {
                        results[index] = Some(result);
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    if let Some(first) = results.iter().position(|r| matches!(r, Some(Err(_)))) {
        if let Some(Err(e)) = results.swap_remove(first) {
            return Err(e);
        }
    }
    results
        .into_iter()
        .zip(releases)
        .map(|(result, release)| {
            result.unwrap_or_else(|| {
                Err(PlanError::Vanished {
                    image: sources[release.image][release.source].name.clone(),
                    tag: release.tag.clone(),
                })
            })
        })
        .collect()
}

/// One release's digest (of the manifest its tag names, as served) and
/// platforms: an index's runnable entries (no attestations, no
/// `unknown/unknown`), or a single image's config platform.
fn resolve(image: &WatchedImage, source: &Source, tag: &str) -> Result<Resolved, PlanError> {
    let (name, repository) = (source.name.clone(), &source.repository);
    let fail = |source: ImageError| PlanError::Manifest {
        image: name.clone(),
        tag: tag.to_string(),
        source: Box::new(source),
    };
    let Some((bytes, digest)) = repository.manifest_if_exists(tag).map_err(&fail)? else {
        return Err(PlanError::Vanished {
            image: name,
            tag: tag.to_string(),
        });
    };
    let manifest_error = |e: ManifestError| fail(ImageError::from(e));
    let (manifest, _) = Manifest::parse(&bytes, &digest, None).map_err(manifest_error)?;
    let available: Vec<Platform> = match &manifest {
        Manifest::Index(index) => runnable_entries(index)
            .into_iter()
            .map(|(platform, _)| platform)
            .collect(),
        Manifest::Image(manifest) => {
            let desc = &manifest.config;
            check_declared_size("config", desc, MAX_CONFIG_BYTES).map_err(manifest_error)?;
            let config = repository
                .small_blob(&desc.digest, desc.size, MAX_CONFIG_BYTES)
                .map_err(&fail)?;
            vec![ImageConfig::parse(&config, &desc.digest)
                .map_err(manifest_error)?
                .platform()]
        }
    };
    let mut platforms: Vec<Platform> = available
        .into_iter()
        .filter(|p| {
            image.platforms.is_empty() || image.platforms.iter().any(|want| want.matches(p))
        })
        .collect();
    platforms.sort_by_key(Platform::to_string);
    platforms.dedup();
    Ok(Resolved { digest, platforms })
}
