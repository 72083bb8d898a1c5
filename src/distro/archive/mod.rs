//! Debian's archive as apt trusts it: a suite's `InRelease` verified with
//! the distribution's keyring, the `Packages`/`Sources` indexes it names
//! checked against its sha256 lines, and pool files checked against the
//! index, each landing in the content-addressed cache only once verified.
//! [`Archive::binary`] gives a binary package's `.deb`, [`Archive::source`]
//! a source package's `.dsc` and files.
//!
//! Threat model: mirrors and the network are untrusted; the keyring is the
//! one root of trust. Only text a keyring signature verified is parsed as
//! a release; indexes and pool files are hashed before they are used.
//! Lookups block (reqwest's blocking client): call them outside an async
//! runtime, or from `spawn_blocking`.

pub mod fetch;
pub mod index;
pub mod keyring;
pub mod release;
pub mod snapshot;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use reqwest::Url;

use crate::distro::deb822::{self, Paragraph};
use crate::image::cache::{Cache, CacheError};
use crate::image::digest::Digest;

use fetch::{FetchError, Fetcher};
use index::IndexError;
use keyring::{Keyring, SignatureError};
use release::{Release, ReleaseError};
use snapshot::{Location, SnapshotError};

/// The most bytes of an `InRelease` file.
const MAX_RELEASE: u64 = 4 << 20;
/// The most bytes of a `.dsc` file.
const MAX_DSC: u64 = 4 << 20;
/// The one component searched.
const COMPONENT: &str = "main";
/// The cache directory of assembled source packages.
const SOURCES_DIR: &str = "debian-sources";

/// Where the archive is and what it is checked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveConfig {
    /// The mirror of the release and its `-updates` suite.
    pub mirror: Url,
    /// The mirror of the `-security` suite.
    pub security_mirror: Url,
    /// A binary or armored OpenPGP keyring.
    pub keyring: PathBuf,
    /// A snapshot archive (snapshot.debian.org's layout) searched for
    /// versions gone from the mirror.
    pub snapshot: Option<Url>,
}

/// Debian's mirror, over plain HTTP as apt's default is: the signature
/// chain, not the transport, is what makes a byte the archive's, and the
/// build root's apt (which fetches from the same mirror) has no CA store.
pub const DEBIAN_MIRROR: &str = "http://deb.debian.org/debian";
/// The mirror of Debian's `-security` suites.
pub const DEBIAN_SECURITY_MIRROR: &str = "http://deb.debian.org/debian-security";
/// Where Debian's `debian-archive-keyring` package puts the keyring.
pub const DEBIAN_KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

impl Default for ArchiveConfig {
    fn default() -> Self {
        let url = |s: &str| Url::parse(s).unwrap_or_else(|_| unreachable!("a valid literal URL"));
        ArchiveConfig {
            mirror: url(DEBIAN_MIRROR),
            security_mirror: url(DEBIAN_SECURITY_MIRROR),
            keyring: PathBuf::from(DEBIAN_KEYRING),
            snapshot: None,
        }
    }
}

/// A binary package's `.deb`, verified through the signed chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    /// The verified local copy (in the cache).
    pub path: PathBuf,
    /// Where it was fetched from.
    pub url: String,
    pub sha256: Digest,
    pub size: u64,
    /// The suite whose index names it (`bookworm`, `bookworm-security`).
    pub suite: String,
    /// The `InRelease` whose signature covers that index.
    pub release_url: String,
    /// The fingerprint of the key that signed the release.
    pub signed_by: String,
}

/// A source package: its `.dsc` and every file it lists, verified.
#[derive(Debug, Clone)]
pub struct SourcePackage {
    /// A directory holding the `.dsc` and all its files.
    pub dir: PathBuf,
    /// The `.dsc`'s file name within `dir`.
    pub dsc: String,
    pub dsc_sha256: Digest,
    /// The `.dsc`'s URL.
    pub url: String,
    pub suite: String,
    /// The `Sources` index's paragraph for the package.
    pub entry: Paragraph,
}

/// Why a package could not be had from the archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error(transparent)]
    Release(#[from] ReleaseError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Index(#[from] IndexError),
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error("cannot use the cache: {0}")]
    Cache(#[from] CacheError),
    #[error("{url} is not an archive URL: use http or https")]
    BadMirror { url: String },
    #[error("{name:?} is not a suite, package or version name")]
    BadName { name: String },
    #[error("no suite {release} at {mirror} (no dists/{release}/InRelease there)")]
    NoSuite { release: String, mirror: String },
    #[error("{wanted} is not in {suites}; {have}")]
    NotInArchive {
        wanted: String,
        suites: String,
        have: String,
    },
    #[error("{index}: the entry for {package} has {problem}")]
    BadEntry {
        index: String,
        package: String,
        problem: String,
    },
    #[error("{dsc} disagrees with the signed Sources index: {problem}")]
    DscMismatch { dsc: String, problem: String },
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A suite whose release verified.
struct Suite {
    name: String,
    mirror: Url,
    release: Release,
    signed_by: String,
}

/// A package looked up in one index of a release's suites.
struct Lookup<'a> {
    release: &'a str,
    name: &'a str,
    /// `main/binary-amd64/Packages.xz`, `main/source/Sources.xz`.
    index_path: &'a str,
}

/// An index entry found: its suite, the entry and the index's URL.
type Found = (Suite, Paragraph, String);

/// The suites searched for a package and the versions they have.
#[derive(Default)]
struct Search {
    suites: Vec<String>,
    versions: Vec<String>,
}

impl Search {
    fn not_found(self, wanted: String) -> ArchiveError {
        let have = if self.versions.is_empty() {
            "they have no such package".to_string()
        } else {
            format!("they have {}", self.versions.join(", "))
        };
        ArchiveError::NotInArchive {
            wanted,
            suites: self.suites.join(", "),
            have,
        }
    }

    fn saw(&mut self, version: Option<&str>) {
        if let Some(version) = version {
            if !self.versions.iter().any(|v| v == version) {
                self.versions.push(version.to_string());
            }
        }
    }
}

/// The archive, its keyring loaded.
#[derive(Debug, Clone)]
pub struct Archive {
    config: ArchiveConfig,
    keyring: Keyring,
    cache: Cache,
    fetcher: Fetcher,
}

impl Archive {
    /// Loads the keyring and checks the mirrors' URLs.
    pub fn new(config: ArchiveConfig, cache: &Cache) -> Result<Archive, ArchiveError> {
        for url in [&config.mirror, &config.security_mirror] {
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ArchiveError::BadMirror {
                    url: url.to_string(),
                });
            }
        }
        let keyring = Keyring::load(&config.keyring)?;
        Ok(Archive {
            config,
            keyring,
            cache: cache.clone(),
            fetcher: Fetcher::new()?,
        })
    }

    /// The `.deb` of binary package `name` at exactly `version` for
    /// `architecture` (or `all`), from `release`, `release-updates` or
    /// `release-security`.
    pub fn binary(
        &self,
        release: &str,
        name: &str,
        version: &str,
        architecture: &str,
    ) -> Result<ArchiveFile, ArchiveError> {
        for word in [release, name, version, architecture] {
            check_name(word)?;
        }
        let index_path = format!("{COMPONENT}/binary-{architecture}/Packages.xz");
        let wanted = |entry: &Paragraph| {
            let arch = entry.get("Architecture");
            entry.get("Version") == Some(version)
                && (arch == Some(architecture) || arch == Some("all"))
        };
        let lookup = Lookup {
            release,
            name,
            index_path: &index_path,
        };
        let found = self.find(&lookup, wanted, |snapshot| {
            snapshot::binary_locations(&self.fetcher, snapshot, name, version, architecture)
        })?;
        match found {
            Ok((suite, entry, shown)) => self.pool_file(&suite, &entry, &shown, name),
            Err(search) => Err(search.not_found(format!("{name} {version} ({architecture})"))),
        }
    }

    /// The source package `name` at exactly `version`: its `.dsc` and
    /// files, verified against the `Sources` index and the `.dsc`'s own
    /// checksums, in one directory.
    pub fn source(
        &self,
        release: &str,
        name: &str,
        version: &str,
    ) -> Result<SourcePackage, ArchiveError> {
        for word in [release, name, version] {
            check_name(word)?;
        }
        let index_path = format!("{COMPONENT}/source/Sources.xz");
        let wanted = |entry: &Paragraph| entry.get("Version") == Some(version);
        let lookup = Lookup {
            release,
            name,
            index_path: &index_path,
        };
        let found = self.find(&lookup, wanted, |snapshot| {
            snapshot::source_locations(&self.fetcher, snapshot, name, version)
        })?;
        match found {
            Ok((suite, entry, shown)) => self.source_files(&suite, entry, &shown, name),
            Err(search) => Err(search.not_found(format!("source package {name} {version}"))),
        }
    }

    /// The first entry `wanted` picks among the lookup's package's in the
    /// mirror's suites, then, when a snapshot archive is configured, in
    /// the archive at each time `snapshot_locations` names; or the suites
    /// searched and versions seen.
    fn find(
        &self,
        lookup: &Lookup<'_>,
        wanted: impl Fn(&Paragraph) -> bool,
        snapshot_locations: impl FnOnce(&Url) -> Result<Vec<Location>, SnapshotError>,
    ) -> Result<Result<Found, Search>, ArchiveError> {
        let mut search = Search::default();
        let suites = self.suites(lookup.release)?;
        if let Some(found) = self.find_entry(suites, lookup, &mut search, &wanted)? {
            return Ok(Ok(found));
        }
        let Some(snapshot) = &self.config.snapshot else {
            return Ok(Err(search));
        };
        search
            .suites
            .push(format!("the snapshot archive {snapshot}"));
        for location in snapshot_locations(snapshot)? {
            let mirror = location
                .mirror(snapshot)
                .map_err(|_| ArchiveError::BadMirror {
                    url: snapshot.to_string(),
                })?;
            let names = if location.archive == "debian-security" {
                vec![format!("{}-security", lookup.release)]
            } else {
                vec![
                    lookup.release.to_string(),
                    format!("{}-updates", lookup.release),
                ]
            };
            let suites = names
                .into_iter()
                .filter_map(|suite| self.open_suite(&mirror, &suite, false).transpose());
            let mut seen = Search::default();
            if let Some(found) = self.find_entry(suites, lookup, &mut seen, &wanted)? {
                return Ok(Ok(found));
            }
        }
        Ok(Err(search))
    }

    /// The first entry of the lookup's package in its index of `suites`
    /// that `wanted` picks; every suite searched and version seen goes
    /// into `search`.
    fn find_entry(
        &self,
        suites: impl Iterator<Item = Result<Suite, ArchiveError>>,
        lookup: &Lookup<'_>,
        search: &mut Search,
        wanted: impl Fn(&Paragraph) -> bool,
    ) -> Result<Option<Found>, ArchiveError> {
        for suite in suites {
            let suite = suite?;
            search.suites.push(suite.name.clone());
            let (text, shown) = self.index_text(&suite, lookup.index_path)?;
            for entry in index::paragraphs_of(&text, lookup.name, &shown)? {
                search.saw(entry.get("Version"));
                if wanted(&entry) {
                    return Ok(Some((suite, entry, shown)));
                }
            }
        }
        Ok(None)
    }

    /// The suites searched for `release`, each fetched and verified as
    /// it is reached; suites the mirror does not have are left out, and
    /// `release` itself must be there.
    fn suites(
        &self,
        release: &str,
    ) -> Result<impl Iterator<Item = Result<Suite, ArchiveError>> + '_, ArchiveError> {
        let first = self
            .open_suite(&self.config.mirror, release, true)?
            .ok_or_else(|| ArchiveError::NoSuite {
                release: release.to_string(),
                mirror: self.config.mirror.to_string(),
            })?;
        let rest = [
            (&self.config.mirror, format!("{release}-updates")),
            (&self.config.security_mirror, format!("{release}-security")),
        ];
        Ok(std::iter::once(Ok(first)).chain(
            rest.into_iter()
                .filter_map(|(mirror, name)| self.open_suite(mirror, &name, true).transpose()),
        ))
    }

    /// Fetches and verifies `dists/{name}/InRelease`, held to its
    /// `Valid-Until` when `current`; `None` when the mirror has no such suite.
    fn open_suite(
        &self,
        mirror: &Url,
        name: &str,
        current: bool,
    ) -> Result<Option<Suite>, ArchiveError> {
        let url = join(mirror, &format!("dists/{name}/InRelease"))?;
        let Some(bytes) = self.fetcher.small(&url, "release file", MAX_RELEASE)? else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        let now = SystemTime::now();
        let verified = self.keyring.verify(url.as_str(), &text, now)?;
        let release = Release::parse(url.as_str(), name, &verified.text, current.then_some(now))?;
        Ok(Some(Suite {
            name: name.to_string(),
            mirror: mirror.clone(),
            release,
            signed_by: verified.signed_by,
        }))
    }

    /// The decompressed text of the index at `path` of `suite`, fetched
    /// (by hash where the release allows) and verified, and its URL.
    fn index_text(&self, suite: &Suite, path: &str) -> Result<(String, String), ArchiveError> {
        let entry = suite.release.index(path)?;
        let plain = join(&suite.mirror, &format!("dists/{}/{path}", suite.name))?;
        let mut fetched = Err(FetchError::Status {
            url: plain.to_string(),
            status: 404,
        });
        if suite.release.by_hash {
            let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
            let by_hash = join(
                &suite.mirror,
                &format!(
                    "dists/{}/{dir}/by-hash/SHA256/{}",
                    suite.name,
                    entry.sha256.hex()
                ),
            )?;
            fetched = self
                .fetcher
                .into_cache(&by_hash, &self.cache, &entry.sha256, entry.size);
        }
        let local = match fetched {
            Err(FetchError::Status { status: 404, .. }) => {
                self.fetcher
                    .into_cache(&plain, &self.cache, &entry.sha256, entry.size)?
            }
            other => other?,
        };
        Ok((index::decompress_xz(&local)?, plain.to_string()))
    }

    /// Fetches and verifies the `.deb` an index entry names.
    fn pool_file(
        &self,
        suite: &Suite,
        entry: &Paragraph,
        index_url: &str,
        name: &str,
    ) -> Result<ArchiveFile, ArchiveError> {
        let bad = |problem: String| ArchiveError::BadEntry {
            index: index_url.to_string(),
            package: name.to_string(),
            problem,
        };
        let filename = entry
            .get("Filename")
            .ok_or_else(|| bad("no Filename".to_string()))?;
        if !index::is_archive_path(filename) {
            return Err(bad(format!("the unsafe Filename {filename:?}")));
        }
        let size = entry
            .get("Size")
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| bad("no Size, or one that is not a number".to_string()))?;
        let sha256 = entry
            .get("SHA256")
            .and_then(Digest::from_hex)
            .ok_or_else(|| bad("no SHA256, or one that is not a sha256".to_string()))?;
        let url = join(&suite.mirror, filename)?;
        let path = self.fetcher.into_cache(&url, &self.cache, &sha256, size)?;
        Ok(ArchiveFile {
            path,
            url: url.to_string(),
            sha256,
            size,
            suite: suite.name.clone(),
            release_url: suite.release.url.clone(),
            signed_by: suite.signed_by.clone(),
        })
    }

    /// Fetches the files a `Sources` entry lists into one directory and
    /// checks the `.dsc` agrees with the entry.
    fn source_files(
        &self,
        suite: &Suite,
        entry: Paragraph,
        index_url: &str,
        name: &str,
    ) -> Result<SourcePackage, ArchiveError> {
        let bad = |problem: String| ArchiveError::BadEntry {
            index: index_url.to_string(),
            package: name.to_string(),
            problem,
        };
        let directory = entry
            .get("Directory")
            .ok_or_else(|| bad("no Directory".to_string()))?;
        if !index::is_archive_path(directory) {
            return Err(bad(format!("the unsafe Directory {directory:?}")));
        }
        let files = checksums(&entry).map_err(bad)?;
        let dscs: Vec<&ListedFile> = files.iter().filter(|f| f.name.ends_with(".dsc")).collect();
        let [dsc] = dscs[..] else {
            return Err(bad(format!("{} .dsc files, not one", dscs.len())));
        };
        let mut fetched = Vec::new();
        for file in &files {
            let url = join(&suite.mirror, &format!("{directory}/{}", file.name))?;
            let path = self
                .fetcher
                .into_cache(&url, &self.cache, &file.sha256, file.size)?;
            if file.name == dsc.name {
                check_dsc(&path, url.as_str(), &files, &dsc.name)?;
            }
            fetched.push((file, path));
        }
        let dsc_url = join(&suite.mirror, &format!("{directory}/{}", dsc.name))?;
        let dir = self.cache.dir(SOURCES_DIR)?.join(dsc.sha256.hex());
        let io_err = |path: &Path, source| ArchiveError::Io {
            path: path.to_path_buf(),
            source,
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| io_err(&dir, e))?;
        for (file, path) in &fetched {
            let dest = dir.join(&file.name);
            std::fs::copy(path, &dest).map_err(|e| io_err(&dest, e))?;
        }
        Ok(SourcePackage {
            dir,
            dsc: dsc.name.clone(),
            dsc_sha256: dsc.sha256.clone(),
            url: dsc_url.to_string(),
            suite: suite.name.clone(),
            entry,
        })
    }
}

/// A file a `Checksums-Sha256` field lists.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ListedFile {
    name: String,
    sha256: Digest,
    size: u64,
}

/// The files of a paragraph's `Checksums-Sha256`, each a plain file name.
fn checksums(paragraph: &Paragraph) -> Result<Vec<ListedFile>, String> {
    let mut files = Vec::new();
    for line in paragraph.lines_of("Checksums-Sha256") {
        let [hex, size, name] = line[..] else {
            return Err(format!("the Checksums-Sha256 line {:?}", line.join(" ")));
        };
        let (Some(sha256), Ok(size)) = (Digest::from_hex(hex), size.parse::<u64>()) else {
            return Err(format!("the Checksums-Sha256 line {:?}", line.join(" ")));
        };
        if !index::is_file_name(name) {
            return Err(format!("the unsafe file name {name:?}"));
        }
        files.push(ListedFile {
            name: name.to_string(),
            sha256,
            size,
        });
    }
    if files.is_empty() {
        return Err("no Checksums-Sha256".to_string());
    }
    Ok(files)
}

/// Checks the `.dsc`'s own `Checksums-Sha256` lists exactly the index's
/// other files, with the same sizes and hashes.
fn check_dsc(
    path: &Path,
    url: &str,
    listed: &[ListedFile],
    dsc_name: &str,
) -> Result<(), ArchiveError> {
    let mismatch = |problem: String| ArchiveError::DscMismatch {
        dsc: url.to_string(),
        problem,
    };
    let bytes = std::fs::read(path).map_err(|source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if bytes.len() as u64 > MAX_DSC {
        return Err(mismatch(format!("it is over {MAX_DSC} bytes")));
    }
    let text = String::from_utf8_lossy(&bytes);
    let body = dsc_body(&text).map_err(&mismatch)?;
    let paragraphs = deb822::parse(&body, false).map_err(|e| mismatch(e.to_string()))?;
    let fields = paragraphs
        .into_iter()
        .next()
        .ok_or_else(|| mismatch("it has no fields".to_string()))?;
    let mut own = checksums(&fields).map_err(&mismatch)?;
    let mut expected: Vec<ListedFile> = listed
        .iter()
        .filter(|f| f.name != dsc_name)
        .cloned()
        .collect();
    own.sort_by(|a, b| a.name.cmp(&b.name));
    expected.sort_by(|a, b| a.name.cmp(&b.name));
    if own != expected {
        let names = |files: &[ListedFile]| {
            files
                .iter()
                .map(|f| format!("{} ({} bytes, sha256 {})", f.name, f.size, f.sha256.hex()))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(mismatch(format!(
            "it lists {}, the index {}",
            names(&own),
            names(&expected)
        )));
    }
    Ok(())
}

/// The control text of a `.dsc`: inside its OpenPGP cleartext frame when
/// it has one (the maintainer's signature is not checked: the signed
/// index's hash covers the file).
fn dsc_body(text: &str) -> Result<String, String> {
    const FRAME: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
    if !text.trim_start().starts_with(FRAME) {
        return Ok(text.to_string());
    }
    let mut lines = text.trim_start().lines().skip(1);
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
    }
    let mut body = String::new();
    for line in lines {
        if line.starts_with("-----BEGIN PGP SIGNATURE-----") {
            return Ok(body);
        }
        body.push_str(line.strip_prefix("- ").unwrap_or(line));
        body.push('\n');
    }
    Err("its OpenPGP frame has no signature block".to_string())
}

/// `base` with `path` appended below it.
fn join(base: &Url, path: &str) -> Result<Url, ArchiveError> {
    let text = format!("{}/{path}", base.as_str().trim_end_matches('/'));
    Url::parse(&text).map_err(|_| ArchiveError::BadMirror { url: text })
}

/// Refuses a suite, package, version or architecture name that could
/// leave its place in a URL or path.
fn check_name(name: &str) -> Result<(), ArchiveError> {
    let fits = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+~-:".contains(&b));
    if fits {
        Ok(())
    } else {
        Err(ArchiveError::BadName {
            name: name.to_string(),
        })
    }
}
