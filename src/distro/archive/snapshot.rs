//! Where a snapshot archive (snapshot.debian.org's layout) kept a package
//! version gone from the mirror: its machine-readable API names the
//! package's files with the archive and the time each was first seen, and
//! `{snapshot}/archive/{archive}/{time}/` is the archive as it was then,
//! whose signed release is verified like the mirror's.
//!
//! Threat model: the API's answer is untrusted and only says where to
//! look: the archive name must be one of Debian's and the time a plain
//! timestamp before either becomes part of a URL, and everything fetched
//! from the archive at that time is verified through its signed release.

use std::collections::BTreeMap;

use reqwest::Url;
use serde::Deserialize;

use super::fetch::{FetchError, Fetcher};

/// The most bytes of an API answer.
const MAX_ANSWER: u64 = 1 << 20;

/// Why the snapshot API's answer cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{url} is not the snapshot API's JSON: {reason}")]
    Answer { url: String, reason: String },
}

/// One archive at one time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// `debian` or `debian-security`.
    pub archive: String,
    /// `20230610T000000Z`.
    pub first_seen: String,
}

impl Location {
    /// The archive's root at that time: `{snapshot}/archive/{archive}/{first_seen}`.
    pub fn mirror(&self, snapshot: &Url) -> Result<Url, url::ParseError> {
        Url::parse(&format!(
            "{}/archive/{}/{}",
            snapshot.as_str().trim_end_matches('/'),
            self.archive,
            self.first_seen
        ))
    }
}

#[derive(Debug, Deserialize)]
struct Files {
    #[serde(default)]
    result: Vec<FileRef>,
    #[serde(default)]
    fileinfo: BTreeMap<String, Vec<FileInfo>>,
}

#[derive(Debug, Deserialize)]
struct FileRef {
    hash: String,
    #[serde(default)]
    architecture: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FileInfo {
    archive_name: String,
    first_seen: String,
    name: String,
}

/// Where binary package `name` `version` for `architecture` (or `all`)
/// was first seen; empty when the snapshot archive does not know it.
pub fn binary_locations(
    fetcher: &Fetcher,
    snapshot: &Url,
    name: &str,
    version: &str,
    architecture: &str,
) -> Result<Vec<Location>, SnapshotError> {
    let path = format!("mr/binary/{name}/{version}/binfiles?fileinfo=1");
    locations(fetcher, snapshot, &path, |file, info| {
        matches!(file.architecture.as_deref(), Some(a) if a == architecture || a == "all")
            && info.name.ends_with(".deb")
    })
}

/// Where source package `name` `version`'s `.dsc` was first seen.
pub fn source_locations(
    fetcher: &Fetcher,
    snapshot: &Url,
    name: &str,
    version: &str,
) -> Result<Vec<Location>, SnapshotError> {
    let path = format!("mr/package/{name}/{version}/srcfiles?fileinfo=1");
    locations(fetcher, snapshot, &path, |_, info| {
        info.name.ends_with(".dsc")
    })
}

/// The plain locations of the files of the answer at `path` that `wanted` picks.
fn locations(
    fetcher: &Fetcher,
    snapshot: &Url,
    path: &str,
    wanted: impl Fn(&FileRef, &FileInfo) -> bool,
) -> Result<Vec<Location>, SnapshotError> {
    let url = Url::parse(&format!(
        "{}/{path}",
        snapshot.as_str().trim_end_matches('/')
    ))
    .map_err(|e| SnapshotError::Answer {
        url: path.to_string(),
        reason: e.to_string(),
    })?;
    let Some(body) = fetcher.small(&url, "snapshot API answer", MAX_ANSWER)? else {
        return Ok(Vec::new());
    };
    let files: Files = serde_json::from_slice(&body).map_err(|e| SnapshotError::Answer {
        url: url.to_string(),
        reason: e.to_string(),
    })?;
    let mut found = Vec::new();
    for file in &files.result {
        for info in files.fileinfo.get(&file.hash).into_iter().flatten() {
            let plain_time = info.first_seen.len() <= 32
                && info
                    .first_seen
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b'T' || b == b'Z');
            let known_archive = matches!(info.archive_name.as_str(), "debian" | "debian-security");
            if plain_time && known_archive && wanted(file, info) {
                found.push(Location {
                    archive: info.archive_name.clone(),
                    first_seen: info.first_seen.clone(),
                });
            }
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}
