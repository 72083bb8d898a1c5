//! Source: pins a recipe's git tag to a commit and lays out pristine checkouts.
//!
//! The second stage of the rebuild side. [`prepare`] keeps a bare mirror per
//! URL in the cache and brings into it only what the build needs: the one
//! tag and its commit's tree. From a remote (`https://`, `ssh://`,
//! `git@host:path`) that is one ref advertisement and, unless the mirror
//! already holds the advertised tag with its whole tree, one shallow fetch of
//! that tag. From a local repository (a path or `file://`) its object files
//! are linked or copied, as `git clone` does for a local path, so a partial
//! clone works as long as the tag's tree is in it. The tag (annotated or
//! lightweight) is resolved to its commit and never falls back to a branch or
//! HEAD. [`checkout`] gives each platform build its own real,
//! `git status`-clean repository of that commit, so `go build` stamps
//! `vcs.modified=false` and nothing leaks between platform builds.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use git2::{
    build::CheckoutBuilder, Cred, CredentialType, Direction, ErrorClass, ErrorCode, FetchOptions,
    ObjectType, Oid, RemoteCallbacks, Repository,
};
use serde::{Serialize, Serializer};
use sha2::{Digest as _, Sha256};

use crate::image::tags::{self, Nearest};
use crate::progress::{Progress, SourceEvent};

/// How many ref names of a repository are read to suggest the tags nearest
/// to one that does not exist.
const MAX_TAG_NAMES: usize = 100_000;

/// How many credentials one fetch offers the server before giving up.
const MAX_CREDENTIAL_ATTEMPTS: usize = 3;

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
    #[error(
        "cannot fetch {url}: the server's TLS certificate is not trusted ({source}); \
         add its CA to the system's store, or point SSL_CERT_FILE (a PEM bundle) or SSL_CERT_DIR at it"
    )]
    Untrusted { url: String, source: git2::Error },
    #[error(
        "cannot fetch {url}: no credentials were accepted ({source}); configure a git credential \
         helper (`git config --global credential.helper store` and `git credential approve`), \
         add your key to ssh-agent for ssh URLs, or pass --source with a local clone"
    )]
    Credentials { url: String, source: git2::Error },
    #[error(
        "cannot fetch {url}: the image named this source, so no credentials are sent to it \
         (it could be anyone's server); if it is yours, pass --source {url} to fetch it with \
         your credentials"
    )]
    NoCredentialsForImageSource { url: String, source: git2::Error },
    #[error(
        "the image names the local path {url} as its source: a source taken from the image \
         must be a remote URL; pass --source with the local path to read it"
    )]
    LocalImageSource { url: String },
    #[error("tag {tag:?} does not exist in {url}{}", tag_hint(nearest, *is_typed_version))]
    TagNotFound {
        url: String,
        tag: String,
        /// The repository's tags nearest to it.
        nearest: Nearest,
        /// Whether the tag is the VERSION as typed (so the hint says what to type).
        is_typed_version: bool,
    },
    #[error("cannot fetch {url}: the server advertised a ref whose name is not UTF-8")]
    AdvertisedName { url: String },
    #[error("tag {tag:?} in {url} does not point to a commit: {source}")]
    NotACommit {
        url: String,
        tag: String,
        source: git2::Error,
    },
    #[error(
        "the mirror {} lacks object {missing} of tag {tag:?}'s tree; delete {} and run again, \
         or pass --source with a full clone",
        mirror.display(),
        mirror.display()
    )]
    IncompleteMirror {
        mirror: PathBuf,
        tag: String,
        missing: Oid,
    },
    #[error(
        "{} lacks object {missing} of tag {tag:?}'s tree (a partial clone without it?); \
         run `git -C {} checkout {tag}` there to fetch it, or pass --source with a full clone",
        path.display(),
        path.display()
    )]
    IncompleteSource {
        path: PathBuf,
        tag: String,
        missing: Oid,
    },
    #[error("cannot copy git objects from {} to {}: {source}", from.display(), to.display())]
    CopyObjects {
        from: PathBuf,
        to: PathBuf,
        source: std::io::Error,
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
    #[error(
        "submodule {name} comes from {url}: a local path or file:// URL is taken only when the \
         source itself is local; clone the source with its submodules and pass --source PATH"
    )]
    LocalSubmodule { name: String, url: String },
    #[error(
        "submodule {name} comes from {url}, a URL of a kind the source may not use \
         (https://, http://, ssh:// or user@host:path)"
    )]
    SubmoduleScheme { name: String, url: String },
    #[error("source path {path} does not exist: {source}")]
    Path {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SourceError {
    /// Marks a [`SourceError::TagNotFound`] whose tag is `version`, the
    /// VERSION as the user typed it, so that a suggestion says what to type.
    pub fn for_version(mut self, version: &str) -> Self {
        if let SourceError::TagNotFound {
            tag,
            is_typed_version,
            ..
        } = &mut self
        {
            *is_typed_version = tag == version;
        }
        self
    }
}

/// What follows a missing tag's error: the nearest tags, and for the
/// VERSION as typed with or without its `v`, what to type instead.
fn tag_hint(nearest: &Nearest, is_typed_version: bool) -> String {
    match nearest {
        Nearest::Nothing => String::new(),
        Nearest::WithOrWithoutV(tag) if is_typed_version => {
            format!("; {nearest} (type the VERSION as {})", tags::printable(tag))
        }
        _ => format!("; {nearest}"),
    }
}

/// The tags of a repository nearest to `wanted`, from its ref names
/// (`refs/tags/NAME`; other refs and peeled `^{}` entries are skipped), of
/// which at most [`MAX_TAG_NAMES`] are read, non-UTF-8 bytes replaced.
fn nearest_tags<'a>(wanted: &str, ref_names: impl Iterator<Item = &'a [u8]>) -> Nearest {
    let names: Vec<String> = ref_names
        .take(MAX_TAG_NAMES)
        .filter_map(|name| name.strip_prefix(b"refs/tags/"))
        .filter(|name| !name.ends_with(b"^{}"))
        .map(|name| String::from_utf8_lossy(name).into_owned())
        .collect();
    tags::nearest(wanted, names.iter().map(String::as_str))
}

/// [`nearest_tags`] among the tags of a local repository.
fn nearest_local_tags(repo: &Repository, wanted: &str) -> Nearest {
    let Ok(references) = repo.references_glob("refs/tags/*") else {
        return Nearest::Nothing;
    };
    let names: Vec<Vec<u8>> = references
        .take(MAX_TAG_NAMES)
        .flatten()
        .map(|reference| reference.name_bytes().to_vec())
        .collect();
    nearest_tags(wanted, names.iter().map(Vec::as_slice))
}

/// A source pinned to a commit: what was asked for and what it resolved to.
#[derive(Debug, Clone, Serialize)]
pub struct PinnedSource {
    /// The upstream git URL (a plain path is made absolute): the recipe's,
    /// also when `--source` named another copy to read it from.
    pub url: String,
    /// Where the objects were actually read from, when that is not `url`
    /// (`--source`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched_from: Option<String>,
    /// The tag, as rendered from the recipe.
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit the tag peels to (40 hex digits).
    pub commit: String,
    /// The commit's committer time, seconds since the epoch (`SOURCE_DATE_EPOCH`).
    #[serde(serialize_with = "rfc3339")]
    pub commit_time: i64,
    /// The object `refs/tags/<ref>` names (the tag object, or the commit for
    /// a lightweight tag), given to each checkout so `git describe` works.
    #[serde(skip)]
    pub tag_target: String,
    /// The bare mirror in the cache the checkouts are made from.
    #[serde(skip)]
    pub mirror: PathBuf,
}

impl PinnedSource {
    /// Records that this source, read from `--source`, stands for the
    /// recipe's `upstream` URL: `url` becomes the upstream and `fetched_from`
    /// what was read, unless both name the same repository.
    pub fn read_for(mut self, upstream: &str) -> Self {
        let upstream = normalise_url(upstream).unwrap_or_else(|_| upstream.to_string());
        if upstream != self.url {
            self.fetched_from = Some(std::mem::replace(&mut self.url, upstream));
        }
        self
    }
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

/// The directory of a local source: a plain (normalised) path or a `file://` URL.
fn local_path(url: &str) -> Option<PathBuf> {
    if url.starts_with("file://") {
        return url::Url::parse(url).ok()?.to_file_path().ok();
    }
    Path::new(url).is_absolute().then(|| PathBuf::from(url))
}

/// Brings tag `git_ref` of `url` into its mirror under `cache_dir` and pins
/// it to its commit; `progress` sees the fetch.
pub fn prepare(
    url: &str,
    git_ref: &str,
    cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<PinnedSource, SourceError> {
    prepare_as(url, git_ref, cache_dir, progress, Named::ByUser)
}

/// [`prepare`] for a URL the image itself named (its source annotation,
/// or its Go module path): never a local path, and fetched without
/// credentials, so an image cannot make the tool read the verifier's own
/// repositories or offer its credentials or keys to a server of the
/// image's choosing.
pub fn prepare_from_image(
    url: &str,
    git_ref: &str,
    cache_dir: &Path,
    progress: &dyn Progress,
) -> Result<PinnedSource, SourceError> {
    prepare_as(url, git_ref, cache_dir, progress, Named::ByImage)
}

/// Who named a source URL: the user (recipe, `--source`) or the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Named {
    ByUser,
    ByImage,
}

fn prepare_as(
    url: &str,
    git_ref: &str,
    cache_dir: &Path,
    progress: &dyn Progress,
    named: Named,
) -> Result<PinnedSource, SourceError> {
    let started = std::time::Instant::now();
    let url = normalise_url(url)?;
    if named == Named::ByImage && local_path(&url).is_some() {
        return Err(SourceError::LocalImageSource { url });
    }
    let mirror = mirror_dir(cache_dir, &url);
    let _writing = lock_mirror(&mirror)?;
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
    let tag_ref = format!("refs/tags/{git_ref}");
    if !git2::Reference::is_valid_name(&tag_ref) {
        return Err(SourceError::TagNotFound {
            url,
            tag: git_ref.to_string(),
            nearest: Nearest::Nothing,
            is_typed_version: false,
        });
    }
    tracing::info!(url, mirror = %mirror.display(), tag = git_ref, "fetching source");
    let target = match local_path(&url) {
        Some(path) => copy_from_local(&repo, &path, &url, git_ref, progress)?,
        None => fetch_remote(&repo, &url, git_ref, progress, named)?,
    };
    repo.reference(&tag_ref, target, true, "rebuild-compare: pin tag")
        .map_err(mirror_error)?;

    let commit = repo
        .find_object(target, None)
        .and_then(|object| object.peel_to_commit())
        .map_err(|source| SourceError::NotACommit {
            url: url.clone(),
            tag: git_ref.to_string(),
            source,
        })?;
    if let Some(missing) = missing_tree_object(&repo, &commit) {
        return Err(SourceError::IncompleteMirror {
            mirror,
            tag: git_ref.to_string(),
            missing,
        });
    }
    let (commit, commit_time) = (commit.id().to_string(), commit.committer().when().seconds());
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(url, tag = git_ref, commit, seconds, "source pinned");
    Ok(PinnedSource {
        commit,
        commit_time,
        url,
        fetched_from: None,
        git_ref: git_ref.to_string(),
        tag_target: target.to_string(),
        mirror,
    })
}

/// Serialises the processes that write one mirror (the parallel jobs of
/// `run`, two verifications of one source): an exclusive lock on
/// `<mirror>.lock`, held until the returned file is dropped. Once it is
/// held no other writer is using the mirror, so git's own `*.lock` files
/// left in it by a process that was killed mid-fetch are stale, and are
/// removed (otherwise every later fetch would fail on them).
fn lock_mirror(mirror: &Path) -> Result<std::fs::File, SourceError> {
    let lock_path = mirror.with_extension("lock");
    let cache_error = |source| SourceError::CacheDir {
        path: lock_path.clone(),
        source,
    };
    if let Some(parent) = lock_path.parent() {
        std::fs::create_dir_all(parent).map_err(cache_error)?;
    }
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(cache_error)?;
    lock.lock().map_err(cache_error)?;
    remove_stale_git_locks(mirror);
    Ok(lock)
}

/// Removes `*.lock` files at the top of a git directory and under `refs/`.
fn remove_stale_git_locks(git_dir: &Path) {
    let mut dirs = vec![git_dir.to_path_buf()];
    let mut top = true;
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && (!top || entry.file_name() == "refs") {
                dirs.push(path);
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "lock") {
                tracing::info!(path = %path.display(), "removing a stale git lock");
                let _ = std::fs::remove_file(&path);
            }
        }
        top = false;
    }
}

/// The first object of `commit`'s tree (trees and blobs, not submodules)
/// that `repo` lacks, if any.
fn missing_tree_object(repo: &Repository, commit: &git2::Commit<'_>) -> Option<Oid> {
    let Ok(odb) = repo.odb() else {
        return Some(commit.tree_id());
    };
    let mut trees = vec![commit.tree_id()];
    while let Some(id) = trees.pop() {
        let Ok(tree) = repo.find_tree(id) else {
            return Some(id);
        };
        for entry in tree.iter() {
            match entry.kind() {
                Some(ObjectType::Tree) => trees.push(entry.id()),
                Some(ObjectType::Blob) if !odb.exists(entry.id()) => return Some(entry.id()),
                _ => {}
            }
        }
    }
    None
}

/// Whether `repo` holds `target` (a tag or commit) with its commit's whole tree.
fn holds_complete(repo: &Repository, target: Oid) -> bool {
    repo.find_object(target, None)
        .and_then(|object| object.peel_to_commit())
        .is_ok_and(|commit| missing_tree_object(repo, &commit).is_none())
}

/// A local repository's tag: its object files are linked (or copied) into
/// the mirror unless the mirror already holds the tag complete. Returns the
/// object the tag names.
fn copy_from_local(
    mirror: &Repository,
    path: &Path,
    url: &str,
    git_ref: &str,
    progress: &dyn Progress,
) -> Result<Oid, SourceError> {
    let fetch_error = |source| SourceError::Fetch {
        url: url.to_string(),
        source,
    };
    let source = Repository::open(path).map_err(fetch_error)?;
    let target = source
        .refname_to_id(&format!("refs/tags/{git_ref}"))
        .map_err(|_| SourceError::TagNotFound {
            url: url.to_string(),
            tag: git_ref.to_string(),
            nearest: nearest_local_tags(&source, git_ref),
            is_typed_version: false,
        })?;
    let commit = source
        .find_object(target, None)
        .and_then(|object| object.peel_to_commit())
        .map_err(|source| SourceError::NotACommit {
            url: url.to_string(),
            tag: git_ref.to_string(),
            source,
        })?;
    if let Some(missing) = missing_tree_object(&source, &commit) {
        return Err(SourceError::IncompleteSource {
            path: path.to_path_buf(),
            tag: git_ref.to_string(),
            missing,
        });
    }
    if holds_complete(mirror, target) {
        return Ok(target);
    }
    let from = source.commondir().join("objects");
    let to = mirror.path().join("objects");
    let linked = copy_objects(
        &from,
        &to,
        Transfer::LinkOrCopy,
        &mut |files, total_files, bytes| {
            progress.source(SourceEvent::Copy {
                from: url,
                files,
                total_files,
                bytes,
            });
        },
    );
    progress.source(SourceEvent::Done { what: url });
    linked?;
    merge_shallow(
        &source.commondir().join("shallow"),
        &mirror.path().join("shallow"),
    )
    .map_err(|source| SourceError::CopyObjects { from, to, source })?;
    mirror
        .odb()
        .and_then(|odb| odb.refresh())
        .map_err(|source| SourceError::Mirror {
            path: mirror.path().to_path_buf(),
            source,
        })?;
    Ok(target)
}

/// A remote's tag: one ref advertisement and, unless the mirror holds the
/// advertised tag complete, a fetch of just that tag, shallow where the
/// server allows. Returns the object the tag names.
fn fetch_remote(
    mirror: &Repository,
    url: &str,
    git_ref: &str,
    progress: &dyn Progress,
    named: Named,
) -> Result<Oid, SourceError> {
    let tag_ref = format!("refs/tags/{git_ref}");
    let refspec = format!("+{tag_ref}:{tag_ref}");
    let credentials = Credentials {
        anonymous: named == Named::ByImage,
        ..Credentials::default()
    };
    let classify = |source: git2::Error| credentials.classify(url, source);
    let mut remote = mirror.remote_anonymous(url).map_err(classify)?;
    let mut connection = remote
        .connect_auth(
            Direction::Fetch,
            Some(callbacks(&credentials, url, progress)),
            None,
        )
        .map_err(classify)?;
    let heads = connection.list().map_err(classify)?;
    let advertised = advertised_refs(heads).ok_or_else(|| SourceError::AdvertisedName {
        url: url.to_string(),
    })?;
    let found = advertised
        .iter()
        .find(|(name, _)| *name == tag_ref)
        .map(|(_, oid)| *oid);
    let Some(target) = found else {
        return Err(SourceError::TagNotFound {
            url: url.to_string(),
            tag: git_ref.to_string(),
            nearest: nearest_tags(git_ref, advertised.iter().map(|(name, _)| name.as_bytes())),
            is_typed_version: false,
        });
    };
    if holds_complete(mirror, target) {
        tracing::info!(
            url,
            tag = git_ref,
            "the mirror holds the tag; nothing to fetch"
        );
        return Ok(target);
    }
    let mut options = fetch_options(&credentials, url, progress);
    options.depth(1);
    let shallow = connection
        .remote()
        .download(&[refspec.as_str()], Some(&mut options));
    drop(connection);
    let fetched = match shallow {
        Err(e) if e.class() == ErrorClass::Net && e.code() == ErrorCode::Invalid => {
            tracing::info!(url, reason = %e, "no shallow fetch; fetching the tag's history");
            let mut options = fetch_options(&credentials, url, progress);
            remote.download(&[refspec.as_str()], Some(&mut options))
        }
        other => other,
    };
    progress.source(SourceEvent::Done { what: url });
    fetched.map_err(classify)?;
    Ok(target)
}

/// The names and objects of the refs a server advertised, or `None` when a
/// name is not UTF-8: git2's `RemoteHead::name` panics on such a name
/// (which any server can send, and which no safe API reads as bytes), so
/// that panic is contained here and the advertisement refused.
fn advertised_refs(heads: &[git2::RemoteHead<'_>]) -> Option<Vec<(String, Oid)>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        heads
            .iter()
            .map(|head| (head.name().to_string(), head.oid()))
            .collect()
    }))
    .ok()
}

/// How the credential callback has fared in one fetch: each way of getting
/// credentials is offered once, and no more than [`MAX_CREDENTIAL_ATTEMPTS`] in all.
#[derive(Default)]
struct Credentials {
    attempts: Cell<usize>,
    tried_agent: Cell<bool>,
    tried_helper: Cell<bool>,
    tried_default: Cell<bool>,
    /// Set when there was no credential left to offer.
    gave_up: Cell<bool>,
    /// Offer none (a URL the image named).
    anonymous: bool,
}

impl Credentials {
    /// The next credential to offer for `url`.
    fn next(
        &self,
        url: &str,
        username: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let offered = self.offer(url, username, allowed);
        if offered.is_err() {
            self.gave_up.set(true);
        }
        offered
    }

    fn offer(
        &self,
        url: &str,
        username: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let attempt = self.attempts.get() + 1;
        self.attempts.set(attempt);
        if attempt > MAX_CREDENTIAL_ATTEMPTS {
            return Err(git2::Error::from_str(&format!(
                "the server refused {MAX_CREDENTIAL_ATTEMPTS} credentials"
            )));
        }
        if self.anonymous {
            return Err(git2::Error::from_str(
                "the server asks for credentials, and none are sent to a source the image named",
            ));
        }
        let user = username.unwrap_or("git");
        if allowed.contains(CredentialType::USERNAME) {
            return Cred::username(user);
        }
        if allowed.contains(CredentialType::SSH_KEY) && !self.tried_agent.replace(true) {
            return Cred::ssh_key_from_agent(user);
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !self.tried_helper.replace(true)
        {
            if let Ok(cred) = git2::Config::open_default()
                .and_then(|config| Cred::credential_helper(&config, url, username))
            {
                return Ok(cred);
            }
        }
        if allowed.contains(CredentialType::DEFAULT) && !self.tried_default.replace(true) {
            return Cred::default();
        }
        Err(git2::Error::from_str(if attempt > 1 {
            "the server refused the credentials offered"
        } else {
            "the server asks for credentials and none are configured for it"
        }))
    }

    /// The error for a failed fetch: untrusted certificate, refused
    /// credentials, or anything else.
    fn classify(&self, url: &str, source: git2::Error) -> SourceError {
        let url = url.to_string();
        if source.code() == ErrorCode::Certificate || source.class() == ErrorClass::Ssl {
            SourceError::Untrusted { url, source }
        } else if self.anonymous && (self.gave_up.get() || source.code() == ErrorCode::Auth) {
            SourceError::NoCredentialsForImageSource { url, source }
        } else if self.gave_up.get() || source.code() == ErrorCode::Auth {
            SourceError::Credentials { url, source }
        } else {
            SourceError::Fetch { url, source }
        }
    }
}

fn callbacks<'a>(
    credentials: &'a Credentials,
    url: &'a str,
    progress: &'a dyn Progress,
) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |_, username, allowed| credentials.next(url, username, allowed));
    callbacks.transfer_progress(move |stats| {
        progress.source(SourceEvent::Fetch {
            url,
            objects: stats.received_objects(),
            total_objects: stats.total_objects(),
            bytes: stats.received_bytes(),
        });
        true
    });
    callbacks
}

fn fetch_options<'a>(
    credentials: &'a Credentials,
    url: &'a str,
    progress: &'a dyn Progress,
) -> FetchOptions<'a> {
    let mut options = FetchOptions::new();
    options.remote_callbacks(callbacks(credentials, url, progress));
    options.download_tags(git2::AutotagOption::None);
    options.update_fetchhead(false);
    options
}

/// How object files move from one repository to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transfer {
    /// Hard links where the file system allows, copies elsewhere (into the
    /// cache's mirror: object files are never written in place).
    LinkOrCopy,
    /// Copies only (into a checkout, which its build may write to).
    Copy,
}

/// Brings the pack files and loose objects of object directory `from` into
/// `to`, skipping files already there (object files are named by content).
/// A pack lands before its index, and each file under a temporary name
/// first, so a reader never sees half of one. `copied` sees each file
/// brought: how many so far, of how many, and their bytes so far.
fn copy_objects(
    from: &Path,
    to: &Path,
    transfer: Transfer,
    copied: &mut dyn FnMut(usize, usize, usize),
) -> Result<(), SourceError> {
    let error = |source| SourceError::CopyObjects {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(from).map_err(error)? {
        let entry = entry.map_err(error)?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_loose = name.len() == 2 && name.chars().all(|c| c.is_ascii_hexdigit());
        if !(is_loose || name == "pack") || !entry.file_type().map_err(error)?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(entry.path()).map_err(error)? {
            let file = file.map_err(error)?;
            let file_name = file.file_name();
            let file_name = file_name.to_string_lossy();
            let wanted = is_loose
                || file_name.ends_with(".pack")
                || file_name.ends_with(".idx")
                || file_name.ends_with(".rev");
            let absent = !to.join(entry.file_name()).join(file.file_name()).exists();
            if wanted
                && absent
                && !file_name.starts_with("tmp")
                && file.file_type().map_err(error)?.is_file()
            {
                files.push((entry.file_name(), file.file_name()));
            }
        }
    }
    // Packs first, then their indexes: a pack is only seen through its index.
    files.sort_by_key(|(_, name)| !name.to_string_lossy().ends_with(".pack"));
    let total_files = files.len();
    let mut bytes_brought: usize = 0;
    for (done, (dir, name)) in files.into_iter().enumerate() {
        let source = from.join(&dir).join(&name);
        let dest_dir = to.join(&dir);
        let dest = dest_dir.join(&name);
        std::fs::create_dir_all(&dest_dir).map_err(error)?;
        let temporary = dest_dir.join(format!(".incoming-{}", name.to_string_lossy()));
        let _ = std::fs::remove_file(&temporary);
        let linked =
            transfer == Transfer::LinkOrCopy && std::fs::hard_link(&source, &temporary).is_ok();
        let bytes = if linked {
            std::fs::metadata(&source).map_err(error)?.len()
        } else {
            std::fs::copy(&source, &temporary).map_err(error)?
        };
        std::fs::rename(&temporary, &dest).map_err(error)?;
        bytes_brought = bytes_brought.saturating_add(usize::try_from(bytes).unwrap_or(usize::MAX));
        copied(done + 1, total_files, bytes_brought);
    }
    Ok(())
}

/// Adds the shallow roots listed in `from` (if it exists) to those in `to`.
fn merge_shallow(from: &Path, to: &Path) -> std::io::Result<()> {
    let incoming = match std::fs::read_to_string(from) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let existing = match std::fs::read_to_string(to) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let mut roots: Vec<&str> = existing.lines().chain(incoming.lines()).collect();
    roots.retain(|line| !line.trim().is_empty());
    roots.sort_unstable();
    roots.dedup();
    let mut text = roots.join("\n");
    text.push('\n');
    std::fs::write(to, text)
}

/// Lays out a pristine, `git status`-clean checkout of the pinned commit in
/// `dest` (which must not exist or be empty): a real repository with `.git`
/// holding a copy of the mirror's objects (never the source's branches or
/// other tags: its only ref is the pinned tag, so `git describe` names it),
/// HEAD detached at the commit, the index written, and `origin` pointing at
/// the upstream URL (not the cache). Submodules are checked out
/// (recursively) when `submodules` is set. `progress` sees the files
/// written, as `label`'s checkout.
pub fn checkout(
    source: &PinnedSource,
    dest: &Path,
    submodules: bool,
    progress: &dyn Progress,
    label: &str,
) -> Result<(), SourceError> {
    let started = std::time::Instant::now();
    let checkout_error = |source_error| SourceError::Checkout {
        commit: source.commit.clone(),
        path: dest.to_path_buf(),
        source: source_error,
    };
    let git_dir = Repository::init(dest)
        .map_err(checkout_error)?
        .path()
        .to_path_buf();
    copy_objects(
        &source.mirror.join("objects"),
        &git_dir.join("objects"),
        Transfer::Copy,
        &mut |_, _, _| {},
    )?;
    merge_shallow(&source.mirror.join("shallow"), &git_dir.join("shallow")).map_err(|e| {
        SourceError::CopyObjects {
            from: source.mirror.clone(),
            to: git_dir.clone(),
            source: e,
        }
    })?;
    let repo = Repository::open(dest).map_err(checkout_error)?;
    repo.remote("origin", &source.url).map_err(checkout_error)?;
    let target = Oid::from_str(&source.tag_target).map_err(checkout_error)?;
    repo.reference(
        &format!("refs/tags/{}", source.git_ref),
        target,
        true,
        "rebuild-compare: pinned tag",
    )
    .map_err(checkout_error)?;
    let oid = Oid::from_str(&source.commit).map_err(checkout_error)?;
    let commit = repo.find_commit(oid).map_err(checkout_error)?;
    let mut files = CheckoutBuilder::new();
    files.force().progress(|_, written, total| {
        progress.source(SourceEvent::Checkout {
            label,
            files: written,
            total_files: total,
        });
    });
    let checked_out = repo.checkout_tree(commit.as_object(), Some(&mut files));
    progress.source(SourceEvent::Done { what: label });
    checked_out.map_err(checkout_error)?;
    repo.set_head_detached(oid).map_err(checkout_error)?;
    // The checkout wrote the index with each file's stat data, so
    // `git status` needs not hash the tree again.
    let mut index = repo.index().map_err(checkout_error)?;
    index.write().map_err(checkout_error)?;
    if submodules {
        let read_from = source.fetched_from.as_deref().unwrap_or(&source.url);
        update_submodules(&repo, dest, local_path(read_from).is_some())?;
    }
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(label, path = %dest.display(), seconds, "checked out");
    Ok(())
}

/// Where a submodule may come from: a URL of a kind the source itself may
/// use, relative to the source, or (only when the source was read from a
/// local repository) a local path or `file://`. Anything else, a host's
/// private repository named by path in a hostile `.gitmodules` above all,
/// is refused.
fn check_submodule_url(name: &str, url: &str, source_is_local: bool) -> Result<(), SourceError> {
    if url.starts_with("./") || url.starts_with("../") {
        return Ok(());
    }
    // `transport::address` runs a remote helper (`ext::` runs a command).
    let helper = url
        .split_once("::")
        .is_some_and(|(transport, _)| !transport.contains('/'));
    if helper {
        return Err(SourceError::SubmoduleScheme {
            name: name.to_string(),
            url: url.to_string(),
        });
    }
    let refused_local = || SourceError::LocalSubmodule {
        name: name.to_string(),
        url: url.to_string(),
    };
    if let Some((scheme, _)) = url.split_once("://") {
        return match scheme.to_ascii_lowercase().as_str() {
            "https" | "http" | "ssh" | "git+ssh" | "ssh+git" => Ok(()),
            "file" if source_is_local => Ok(()),
            "file" => Err(refused_local()),
            _ => Err(SourceError::SubmoduleScheme {
                name: name.to_string(),
                url: url.to_string(),
            }),
        };
    }
    // scp-like `user@host:path`: a colon before any slash.
    let scp_like = url
        .split_once(':')
        .is_some_and(|(host, _)| !host.is_empty() && !host.contains('/'));
    if scp_like || source_is_local {
        Ok(())
    } else {
        Err(refused_local())
    }
}

fn update_submodules(
    repo: &Repository,
    dir: &Path,
    source_is_local: bool,
) -> Result<(), SourceError> {
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
        check_submodule_url(
            &name,
            &String::from_utf8_lossy(module.opt_url_bytes().unwrap_or_default()),
            source_is_local,
        )?;
        module.update(true, None).map_err(submodule_error)?;
        let nested = module.open().map_err(submodule_error)?;
        update_submodules(&nested, &path, source_is_local)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submodule_urls_follow_the_sources_own_rules() {
        for url in [
            "https://h/x.git",
            "ssh://git@h/x",
            "git@h:x.git",
            "../x.git",
            "./x",
        ] {
            assert!(check_submodule_url("m", url, false).is_ok(), "{url}");
        }
        for url in ["file:///srv/private", "/srv/private", "private"] {
            assert!(check_submodule_url("m", url, false).is_err(), "{url}");
            assert!(check_submodule_url("m", url, true).is_ok(), "{url}");
        }
        for url in ["ext::sh -c id", "fd::3", "git://h/x"] {
            assert!(check_submodule_url("m", url, true).is_err(), "{url}");
        }
    }
}
