//! Ledger records read from the registry instead of a ledger directory:
//! the signed attestations attached to the watch list's releases, checked
//! with the keys given, one record per platform of a release, from the
//! attestation that decides it under `attestation verify`'s per-platform
//! rule (the newest valid one that covers the platform's manifest).
//! So the registry can be the shared store of a distributed run: each
//! worker pushes its attestation, and `ledger --from-registry` gathers
//! them. Nothing unverified becomes a record.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use serde_json::Value;

use super::entry::{Entry, Record, Source, ENTRY_SCHEMA, ENVELOPE_FILE};
use crate::attest::attach;
use crate::attest::check::{self, AttestationCheck, CheckOptions};
use crate::attest::decide::{self, PlatformStatus};
use crate::attest::keys::PublicKey;
use crate::attest::lookup::shipped_platforms;
use crate::image::digest::Digest;
use crate::image::reference::{ImageLocation, Reference};
use crate::image::repository::{Access, Repository};
use crate::image::{AccessOptions, Image, ImageError};
use crate::scale::job::{job_id, Job};
use crate::scale::plan::{plan, PlanError, PlanOptions};
use crate::scale::watchlist::WatchList;
use crate::verify::Verdict;

/// Reading the registry's attestations failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum AttestedError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("cannot open {image}: {source}")]
    Open {
        image: String,
        source: Box<ImageError>,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// What was found: the records, and what could not be counted (an
/// attestation that does not verify is skipped, and said).
pub struct Attested {
    pub records: Vec<Record>,
    pub notes: Vec<String>,
}

/// The records of the attestations attached to a release of the watch
/// list, checked with `keys`: for each planned platform of a release, the
/// one that decides it; their envelopes are written under `scratch` (the
/// site copies them from there).
pub fn registry_records(
    watch_list: &WatchList,
    keys: &[PublicKey],
    access: &AccessOptions,
    scratch: &Path,
) -> Result<Attested, AttestedError> {
    let planned = plan(
        watch_list,
        access,
        &PlanOptions {
            ledger: None,
            limit: None,
            concurrency: crate::scale::plan::CONCURRENCY,
        },
        SystemTime::now(),
    )?;
    // One release per (image, digest, tag): the plan has a job per platform.
    let mut releases: BTreeMap<(String, String, String), Vec<String>> = BTreeMap::new();
    for job in &planned.plan.jobs {
        releases
            .entry((job.image.clone(), job.digest.clone(), job.version.clone()))
            .or_default()
            .push(job.platform.clone());
    }
    let options = CheckOptions {
        keys,
        verifier_id: None,
    };
    let mut attested = Attested {
        records: Vec::new(),
        notes: planned.notes,
    };
    for ((image, digest, version), planned_platforms) in releases {
        let shown = format!("{image}:{version}");
        let (Ok(reference), Ok(pinned)) = (Reference::parse(&image), Digest::parse(&digest)) else {
            attested
                .notes
                .push(format!("{shown}: not a reference and digest; skipped"));
            continue;
        };
        let open_error = |e| AttestedError::Open {
            image: image.clone(),
            source: Box::new(e),
        };
        let location = ImageLocation::Registry(reference.pinned(pinned.clone()));
        let opened = Image::open(&location, access).map_err(open_error)?;
        let resolved = opened.resolve().map_err(open_error)?;
        let shipped: Vec<_> = shipped_platforms(&opened, &resolved, &[])
            .map_err(open_error)?
            .into_iter()
            .filter(|p| planned_platforms.contains(&p.platform.to_string()))
            .collect();
        let repo = Repository::open(&reference, access, Access::Pull).map_err(open_error)?;
        let mut checks = Vec::new();
        let mut signed = Vec::new();
        for found in attach::fetch_envelopes(&repo, &pinned) {
            let bytes = match found.envelope {
                Ok(bytes) => bytes,
                Err(error) => {
                    attested
                        .notes
                        .push(format!("{shown}: {}: {error}", found.source));
                    continue;
                }
            };
            let (checked, statement) =
                check::check_signed_statement(&found.source, &bytes, Some(&pinned), &options);
            if statement.is_none() {
                let error = checked
                    .error
                    .as_deref()
                    .unwrap_or("not a valid attestation");
                attested
                    .notes
                    .push(format!("{shown}: {}: {error}", found.source));
            }
            checks.push(checked);
            signed.push((bytes, statement));
        }
        for decision in decide::decide(&checks, &shipped) {
            let Some(n) = decision.decided_by else {
                continue;
            };
            let (checked, (bytes, Some(statement))) = (&checks[n], &signed[n]) else {
                continue;
            };
            let Some(time) = checked.verified_at else {
                continue;
            };
            let dir = scratch.join(Digest::of(bytes).hex());
            std::fs::create_dir_all(&dir).map_err(write_error(&dir))?;
            let path = dir.join(ENVELOPE_FILE);
            std::fs::write(&path, bytes).map_err(write_error(&path))?;
            let verdict = match decision.status {
                PlatformStatus::Passed => Verdict::Reproducible,
                PlatformStatus::Failed => Verdict::Mismatch,
                PlatformStatus::Unattested | PlatformStatus::Invalid => continue,
            };
            let release = Release {
                image: &image,
                digest: &digest,
                version: &version,
            };
            attested.records.push(Record {
                entry: entry(
                    &release,
                    checked,
                    statement,
                    &decision.platform,
                    verdict,
                    time,
                ),
                source: Source::Registry,
                dir: dir.clone(),
            });
        }
    }
    Ok(attested)
}

/// The release an entry is about.
struct Release<'a> {
    image: &'a str,
    digest: &'a str,
    version: &'a str,
}

/// The entry of `platform`, decided by the valid attestation `checked`
/// (its signed `statement`, verified at `time`) with `verdict`.
fn entry(
    release: &Release,
    checked: &AttestationCheck,
    statement: &Value,
    platform: &str,
    verdict: Verdict,
    time: SystemTime,
) -> Entry {
    let text = |pointer: &str| {
        statement
            .pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let recipe = text("/predicate/policy/uri");
    let recipe_sha256 = text("/predicate/policy/digest/sha256");
    let tool_version =
        text("/predicate/verifier/version/rebuild-compare").unwrap_or_else(|| "unknown".into());
    Entry {
        schema: ENTRY_SCHEMA.to_string(),
        tool_version: tool_version.clone(),
        job: Job {
            id: job_id(
                release.image,
                release.digest,
                release.version,
                platform,
                recipe_sha256.as_deref(),
                &tool_version,
            ),
            image: release.image.to_string(),
            tag: release.version.to_string(),
            digest: release.digest.to_string(),
            version: release.version.to_string(),
            platform: platform.to_string(),
            recipe,
            recipe_sha256,
            args: Vec::new(),
        },
        verdict,
        causes: Vec::new(),
        adjusted: BTreeMap::new(),
        exit_code: match verdict {
            Verdict::Reproducible => 0,
            Verdict::Mismatch => 1,
            Verdict::Error => 2,
        },
        error: None,
        started: time,
        finished: time,
        verifier_id: checked.verifier_id.clone().unwrap_or_default(),
        signer_key_id: checked.key_id.clone(),
        report: None,
        attestation: Some(ENVELOPE_FILE.to_string()),
    }
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> AttestedError + '_ {
    move |source| AttestedError::Write {
        path: path.display().to_string(),
        source,
    }
}
