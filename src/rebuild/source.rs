//! Source: pins a recipe's git tag to a commit and lays out pristine checkouts.
//!
//! The second stage of the rebuild side. [`prepare`] keeps a bare mirror per
//! URL in the cache (fetched again, never re-cloned, on later runs), resolves
//! the tag (annotated or lightweight) to its commit and never falls back to a
//! branch or HEAD. [`checkout`] gives each platform build its own real,
//! `git status`-clean clone of that commit, so `go build` stamps
//! `vcs.modified=false` and nothing leaks between platform builds.

use std::path::{Path, PathBuf};

use git2::{build::CheckoutBuilder, FetchOptions, Oid, Repository};
use serde::{Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// Why the source could not be pinned or checked out.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot create the git mirror {path}: {source}")]
    Mirror { path: PathBuf, source: git2::Error },
    #[error("cannot create the cache directory {path}: {source}")]
    CacheDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot fetch {url}: {source}")]
    Fetch { url: String, source: git2::Error },
    #[error("tag {tag:?} does not exist in {url}")]
    TagNotFound { url: String, tag: String },
    #[error("tag {tag:?} in {url} does not point to a commit: {source}")]
    NotACommit {
        url: String,
        tag: String,
        source: git2::Error,
    },
    #[error("cannot check out {commit} into {path}: {source}")]
    Checkout {
        commit: String,
        path: PathBuf,
        source: git2::Error,
    },
    #[error("cannot update submodule {name} in {path}: {source}")]
    Submodule {
        name: String,
        path: PathBuf,
        source: git2::Error,
    },
    #[error("source path {path} does not exist: {source}")]
    Path {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A source pinned to a commit: what was asked for and what it resolved to.
#[derive(Debug, Clone, Serialize)]
pub struct PinnedSource {
    /// The git URL (a plain path is made absolute).
    pub url: String,
    /// The tag, as rendered from the recipe.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit the tag peels to (40 hex digits).
    pub commit: String,
    /// The commit's committer time, seconds since the epoch (`SOURCE_DATE_EPOCH`).
    #[serde(serialize_with = "rfc3339")]
    pub commit_time: i64,
    /// The bare mirror in the cache the checkouts are cloned from.
    #[serde(skip)]
    pub mirror: PathBuf,
}

fn rfc3339<S: Serializer>(seconds: &i64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&format_time(*seconds))
}

/// Seconds since the epoch as RFC 3339 UTC (`2023-11-14T22:13:20Z`); times
/// before the epoch show as the epoch.
pub fn format_time(seconds: i64) -> String {
    let time = u64::try_from(seconds)
        .ok()
        .and_then(|secs| std::time::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs)))
        .unwrap_or(std::time::UNIX_EPOCH);
    humantime::format_rfc3339(time).to_string()
}

/// Where the bare mirror of `url` lives: `CACHE/git/<sha256 of url>`.
pub fn mirror_dir(cache_dir: &Path, url: &str) -> PathBuf {
    cache_dir
        .join("git")
        .join(hex::encode(Sha256::digest(url.as_bytes())))
}

/// Makes a plain path absolute (so it names the same repository from any
/// directory); URLs (`scheme://`, `user@host:path`) are kept as given.
pub fn normalise_url(url: &str) -> Result<String, SourceError> {
    let is_url = url.contains("://") || (url.contains('@') && url.contains(':'));
    if is_url {
        return Ok(url.to_string());
    }
    let path = std::fs::canonicalize(url).map_err(|source| SourceError::Path {
        path: PathBuf::from(url),
        source,
    })?;
    Ok(path.display().to_string())
}

/// Fetches `url` into its mirror under `cache_dir` and pins tag `git_ref` to its commit.
pub fn prepare(url: &str, git_ref: &str, cache_dir: &Path) -> Result<PinnedSource, SourceError> {
    let url = normalise_url(url)?;
    let mirror = mirror_dir(cache_dir, &url);
    let mirror_error = |source| SourceError::Mirror {
        path: mirror.clone(),
        source,
    };
    let repo = if mirror.join("HEAD").exists() {
        Repository::open_bare(&mirror).map_err(mirror_error)?
    } else {
        std::fs::create_dir_all(&mirror).map_err(|source| SourceError::CacheDir {
            path: mirror.clone(),
            source,
        })?;
        Repository::init_bare(&mirror).map_err(mirror_error)?
    };
    tracing::info!(url, mirror = %mirror.display(), "fetching source");
    let fetch_error = |source| SourceError::Fetch {
        url: url.clone(),
        source,
    };
    let mut remote = repo.remote_anonymous(&url).map_err(fetch_error)?;
    let mut options = FetchOptions::new();
    options.prune(git2::FetchPrune::On);
    options.download_tags(git2::AutotagOption::None);
    remote
        .fetch(
            &["+refs/tags/*:refs/tags/*", "+refs/heads/*:refs/heads/*"],
            Some(&mut options),
            None,
        )
        .map_err(fetch_error)?;

    let not_found = || SourceError::TagNotFound {
        url: url.clone(),
        tag: git_ref.to_string(),
    };
    if !git2::Reference::is_valid_name(&format!("refs/tags/{git_ref}")) {
        return Err(not_found());
    }
    let (commit, commit_time) = {
        let reference = repo
            .find_reference(&format!("refs/tags/{git_ref}"))
            .map_err(|_| not_found())?;
        let commit = reference
            .peel_to_commit()
            .map_err(|source| SourceError::NotACommit {
                url: url.clone(),
                tag: git_ref.to_string(),
                source,
            })?;
        let time = commit.committer().when().seconds();
        (commit.id().to_string(), time)
    };
    Ok(PinnedSource {
        commit,
        commit_time,
        url,
        git_ref: git_ref.to_string(),
        mirror,
    })
}

/// Lays out a pristine, `git status`-clean checkout of the pinned commit in
/// `dest` (which must not exist or be empty): a real repository with `.git`,
/// every branch and tag of the mirror, HEAD detached at the commit, the index
/// written, and `origin` pointing at the source URL (not the cache).
/// Submodules are checked out (recursively) when `submodules` is set.
pub fn checkout(source: &PinnedSource, dest: &Path, submodules: bool) -> Result<(), SourceError> {
    let checkout_error = |source_error| SourceError::Checkout {
        commit: source.commit.clone(),
        path: dest.to_path_buf(),
        source: source_error,
    };
    let repo = Repository::init(dest).map_err(checkout_error)?;
    let mirror = source.mirror.display().to_string();
    repo.remote_anonymous(&mirror)
        .and_then(|mut remote| {
            let mut options = FetchOptions::new();
            options.download_tags(git2::AutotagOption::None);
            remote.fetch(
                &[
                    "+refs/heads/*:refs/remotes/origin/*",
                    "+refs/tags/*:refs/tags/*",
                ],
                Some(&mut options),
                None,
            )
        })
        .map_err(checkout_error)?;
    repo.remote("origin", &source.url).map_err(checkout_error)?;
    let oid = Oid::from_str(&source.commit).map_err(checkout_error)?;
    let commit = repo.find_commit(oid).map_err(checkout_error)?;
    repo.checkout_tree(commit.as_object(), Some(CheckoutBuilder::new().force()))
        .map_err(checkout_error)?;
    repo.set_head_detached(oid).map_err(checkout_error)?;
    let mut index = repo.index().map_err(checkout_error)?;
    index
        .read_tree(&commit.tree().map_err(checkout_error)?)
        .map_err(checkout_error)?;
    index.write().map_err(checkout_error)?;
    if submodules {
        update_submodules(&repo, dest)?;
    }
    Ok(())
}

fn update_submodules(repo: &Repository, dir: &Path) -> Result<(), SourceError> {
    let modules = repo.submodules().map_err(|source| SourceError::Submodule {
        name: "(list)".to_string(),
        path: dir.to_path_buf(),
        source,
    })?;
    for mut module in modules {
        let name = module.name().unwrap_or("(non-UTF-8 name)").to_string();
        let path = dir.join(module.path());
        let submodule_error = |source| SourceError::Submodule {
            name: name.clone(),
            path: path.clone(),
            source,
        };
        module.update(true, None).map_err(submodule_error)?;
        let nested = module.open().map_err(submodule_error)?;
        update_submodules(&nested, &path)?;
    }
    Ok(())
}
