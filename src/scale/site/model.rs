//! The ledger aggregated for publishing: images by name, their versions
//! newest first, a cell per platform holding the newest run; serialised
//! as-is, it is `ledger.json`.

use std::collections::{BTreeMap, HashSet};
use std::time::SystemTime;

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use super::slug::slug;
use super::version::newest_first;
use crate::scale::ledger::{Record, Source};
use crate::verify::Verdict;

/// The `schema` of `ledger.json`.
pub const LEDGER_SCHEMA: &str = "rebuild-compare-ledger/1";

/// Everything the site shows. Borrowed from the records it was built from.
#[derive(Serialize)]
pub struct Ledger<'a> {
    pub schema: &'static str,
    /// The rebuild-compare that built the site.
    pub tool_version: &'static str,
    /// The newest `finished` of any run (`null` for an empty ledger).
    #[serde(serialize_with = "optional_time")]
    pub updated: Option<SystemTime>,
    pub totals: Totals,
    /// Every platform of any image, sorted.
    pub platforms: Vec<&'a str>,
    /// Every verifier id of any run, sorted.
    pub verifiers: Vec<&'a str>,
    pub images: Vec<Image<'a>>,
}

/// Counts over the whole ledger; the verdict counts are over cells (the
/// newest run of each image, version and platform).
#[derive(Serialize, Default, Clone, Debug, PartialEq, Eq)]
pub struct Totals {
    pub images: usize,
    pub versions: usize,
    pub cells: usize,
    pub runs: usize,
    pub reproducible: usize,
    pub mismatch: usize,
    pub error: usize,
}

/// One image: its versions newest first, and every run for its history page.
#[derive(Serialize)]
pub struct Image<'a> {
    pub image: &'a str,
    pub slug: String,
    /// The history page, relative to the site's root.
    pub page: String,
    /// The SVG badge, relative to the site's root.
    pub badge: String,
    pub runs: usize,
    /// The newest version's counts (what the badge says).
    pub latest: Latest<'a>,
    pub versions: Vec<Version<'a>>,
    /// Every run, newest first.
    #[serde(skip)]
    pub history: Vec<Run<'a>>,
}

/// The counts of the newest version's cells.
#[derive(Serialize)]
pub struct Latest<'a> {
    pub version: &'a str,
    pub platforms: usize,
    pub reproducible: usize,
    pub mismatch: usize,
    pub error: usize,
}

/// One row: a version and the newest run of each of its platforms.
#[derive(Serialize)]
pub struct Version<'a> {
    pub version: &'a str,
    /// Sorted by platform.
    pub platforms: Vec<Cell<'a>>,
}

/// The newest run of one image, version and platform.
#[derive(Serialize)]
pub struct Cell<'a> {
    pub platform: &'a str,
    #[serde(flatten)]
    pub run: Run<'a>,
    /// How many runs the ledger holds for this image, version and platform.
    pub runs: usize,
}

/// One run, with where the site keeps its files.
#[derive(Serialize, Clone)]
pub struct Run<'a> {
    #[serde(skip)]
    pub record: &'a Record,
    /// The site's name for its files: the job id, or for a run read from a
    /// registry (which may hold the same job verified by several verifiers)
    /// the id and a hash of who verified it when.
    #[serde(skip)]
    pub stem: String,
    pub verdict: Verdict,
    pub causes: &'a [String],
    #[serde(serialize_with = "time")]
    pub finished: SystemTime,
    pub verifier_id: &'a str,
    pub signer_key_id: Option<&'a str>,
    pub error: Option<&'a str>,
    pub job_id: &'a str,
    pub tag: &'a str,
    pub digest: &'a str,
    pub tool_version: &'a str,
    pub source: Source,
    /// The report, relative to the site's root.
    pub report: Option<String>,
    /// The attestation (statement or DSSE envelope), relative to the site's root.
    pub attestation: Option<String>,
}

impl<'a> Run<'a> {
    fn new(record: &'a Record) -> Self {
        let entry = &record.entry;
        let stem = file_stem(record);
        let report = entry.report.as_ref().map(|_| format!("r/{stem}.json"));
        let attestation = entry.attestation.as_ref().map(|_| {
            if entry.is_signed() {
                format!("a/{stem}.dsse.json")
            } else {
                format!("a/{stem}.json")
            }
        });
        Run {
            record,
            verdict: entry.verdict,
            causes: &entry.causes,
            finished: entry.finished,
            verifier_id: &entry.verifier_id,
            signer_key_id: entry.signer_key_id.as_deref(),
            error: entry.error.as_deref(),
            job_id: &entry.job.id,
            tag: &entry.job.tag,
            digest: &entry.job.digest,
            tool_version: &entry.tool_version,
            source: record.source,
            stem,
            report,
            attestation,
        }
    }
}

fn file_stem(record: &Record) -> String {
    let entry = &record.entry;
    match record.source {
        Source::Ledger => entry.job.id.clone(),
        Source::Registry => {
            let who = format!(
                "{}\n{}\n{}\n",
                entry.verifier_id,
                entry.signer_key_id.as_deref().unwrap_or(""),
                humantime::format_rfc3339_seconds(entry.finished)
            );
            let hash = hex::encode(Sha256::digest(who.as_bytes()));
            format!("{}-{}", entry.job.id, &hash[..16])
        }
    }
}

/// The newest first; ties by the site's file name, so the order is stable.
fn newest_run_first(a: &Run, b: &Run) -> std::cmp::Ordering {
    b.finished
        .cmp(&a.finished)
        .then_with(|| a.stem.cmp(&b.stem))
}

/// Aggregates `records` (checked entries, from a ledger or a registry).
/// Runs the site would store under the same name are the same run: the
/// newest of them is kept.
pub fn aggregate(records: &[Record]) -> Ledger<'_> {
    let mut by_image: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
    for record in records {
        by_image
            .entry(record.entry.job.image.as_str())
            .or_default()
            .push(Run::new(record));
    }
    let mut totals = Totals::default();
    let mut platforms = BTreeMap::new();
    let mut verifiers = BTreeMap::new();
    let mut updated = None;
    let mut images = Vec::with_capacity(by_image.len());
    for (image, mut history) in by_image {
        history.sort_by(newest_run_first);
        let mut seen = HashSet::new();
        history.retain(|run| seen.insert(run.stem.clone()));
        let mut by_version: BTreeMap<&str, BTreeMap<&str, Vec<&Run>>> = BTreeMap::new();
        for run in &history {
            let job = &run.record.entry.job;
            by_version
                .entry(job.version.as_str())
                .or_default()
                .entry(job.platform.as_str())
                .or_default()
                .push(run);
            platforms.insert(job.platform.as_str(), ());
            verifiers.insert(run.verifier_id, ());
            updated = updated.max(Some(run.finished));
        }
        let mut versions: Vec<Version> = by_version
            .into_iter()
            .map(|(version, cells)| Version {
                version,
                platforms: cells
                    .into_iter()
                    .map(|(platform, runs)| Cell {
                        platform,
                        // `history` is newest first, so each list is too.
                        run: runs[0].clone(),
                        runs: runs.len(),
                    })
                    .collect(),
            })
            .collect();
        versions.sort_by(|a, b| newest_first(a.version, b.version));
        let Some(newest) = versions.first() else {
            continue;
        };
        let mut latest = Totals::default();
        for cell in &newest.platforms {
            count(&mut latest, cell.run.verdict);
        }
        let latest = Latest {
            version: newest.version,
            platforms: newest.platforms.len(),
            reproducible: latest.reproducible,
            mismatch: latest.mismatch,
            error: latest.error,
        };
        for cell in versions.iter().flat_map(|v| &v.platforms) {
            count(&mut totals, cell.run.verdict);
        }
        totals.images += 1;
        totals.versions += versions.len();
        totals.runs += history.len();
        let slug = slug(image);
        images.push(Image {
            image,
            page: format!("images/{slug}.html"),
            badge: format!("badges/{slug}.svg"),
            slug,
            runs: history.len(),
            latest,
            versions,
            history,
        });
    }
    Ledger {
        schema: LEDGER_SCHEMA,
        tool_version: env!("CARGO_PKG_VERSION"),
        updated,
        totals,
        platforms: platforms.into_keys().collect(),
        verifiers: verifiers.into_keys().collect(),
        images,
    }
}

fn count(totals: &mut Totals, verdict: Verdict) {
    totals.cells += 1;
    match verdict {
        Verdict::Reproducible => totals.reproducible += 1,
        Verdict::Mismatch => totals.mismatch += 1,
        Verdict::Error => totals.error += 1,
    }
}

fn time<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&humantime::format_rfc3339_seconds(*time))
}

fn optional_time<S: Serializer>(time: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match time {
        Some(t) => s.collect_str(&humantime::format_rfc3339_seconds(*t)),
        None => s.serialize_none(),
    }
}
