//! Ledger records read from the registry instead of a ledger directory:
//! the signed attestations attached to the watch list's releases, checked
//! with the keys given, one record per platform they state a verdict for.
//! So the registry can be the shared store of a distributed run: each
//! worker pushes its attestation, and `ledger --from-registry` gathers
//! them. Nothing unverified becomes a record.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use serde_json::Value;

use super::entry::{Entry, Record, Source, ENTRY_SCHEMA, ENVELOPE_FILE};
use crate::attest::attach;
use crate::attest::check::{self, CheckOptions};
use crate::attest::keys::PublicKey;
use crate::image::digest::Digest;
use crate::image::reference::Reference;
use crate::image::repository::{Access, Repository};
use crate::image::{AccessOptions, ImageError};
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

/// The records of every valid attestation attached to a release of the
/// watch list, checked with `keys`; their envelopes are written under
/// `scratch` (the site copies them from there).
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
    let mut releases: BTreeMap<(String, String, String), ()> = BTreeMap::new();
    for job in &planned.plan.jobs {
        releases.insert(
            (job.image.clone(), job.digest.clone(), job.version.clone()),
            (),
        );
    }
    let options = CheckOptions {
        keys,
        verifier_id: None,
    };
    let mut attested = Attested {
        records: Vec::new(),
        notes: planned.notes,
    };
    for (image, digest, version) in releases.into_keys() {
        let shown = format!("{image}:{version}");
        let (Ok(reference), Ok(pinned)) = (Reference::parse(&image), Digest::parse(&digest)) else {
            attested
                .notes
                .push(format!("{shown}: not a reference and digest; skipped"));
            continue;
        };
        let repo = Repository::open(&reference, access, Access::Pull).map_err(|e| {
            AttestedError::Open {
                image: image.clone(),
                source: Box::new(e),
            }
        })?;
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
            let Some(statement) = statement else {
                let error = checked
                    .error
                    .as_deref()
                    .unwrap_or("not a valid attestation");
                attested
                    .notes
                    .push(format!("{shown}: {}: {error}", found.source));
                continue;
            };
            let dir = scratch.join(Digest::of(&bytes).hex());
            std::fs::create_dir_all(&dir).map_err(write_error(&dir))?;
            let path = dir.join(ENVELOPE_FILE);
            std::fs::write(&path, &bytes).map_err(write_error(&path))?;
            for entry in entries(&image, &digest, &version, &checked, &statement) {
                attested.records.push(Record {
                    entry,
                    source: Source::Registry,
                    dir: dir.clone(),
                });
            }
        }
    }
    Ok(attested)
}

/// One entry per platform the attestation states a verdict for.
fn entries(
    image: &str,
    digest: &str,
    version: &str,
    checked: &check::AttestationCheck,
    statement: &Value,
) -> Vec<Entry> {
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
    let time = checked
        .time_verified
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339(t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH);
    checked
        .platforms
        .iter()
        .map(|claim| {
            let verdict = match claim.verdict.as_str() {
                "reproducible" => Verdict::Reproducible,
                "mismatch" => Verdict::Mismatch,
                _ => Verdict::Error,
            };
            Entry {
                schema: ENTRY_SCHEMA.to_string(),
                tool_version: tool_version.clone(),
                job: Job {
                    id: job_id(
                        image,
                        digest,
                        version,
                        &claim.platform,
                        recipe_sha256.as_deref(),
                        &tool_version,
                    ),
                    image: image.to_string(),
                    tag: version.to_string(),
                    digest: digest.to_string(),
                    version: version.to_string(),
                    platform: claim.platform.clone(),
                    recipe: recipe.clone(),
                    recipe_sha256: recipe_sha256.clone(),
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
        })
        .collect()
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> AttestedError + '_ {
    move |source| AttestedError::Write {
        path: path.display().to_string(),
        source,
    }
}
