//! One ledger entry (`LEDGER/jobs/<id>/entry.json`): the summary of a job's
//! run, and the checks it must pass before anything is built from it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::rebuild::adjust::InputChange;
use crate::scale::job::Job;
use crate::verify::Verdict;

/// The `schema` of an entry.json this version reads and writes.
pub const ENTRY_SCHEMA: &str = "rebuild-compare-ledger-entry/1";

/// The file names an entry may point to, relative to its directory.
pub const REPORT_FILE: &str = "report.json";
pub const STATEMENT_FILE: &str = "attestation.json";
pub const ENVELOPE_FILE: &str = "attestation.dsse.json";

/// The summary of one job's run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub schema: String,
    pub tool_version: String,
    pub job: Job,
    pub verdict: Verdict,
    /// The platform's cause codes, in report order (empty when none).
    pub causes: Vec<String>,
    /// The inputs the compared rebuild took from the published binary
    /// instead of the recipe, by input (absent when none).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub adjusted: BTreeMap<String, InputChange>,
    pub exit_code: i32,
    /// What went wrong, on one line, when the run failed.
    pub error: Option<String>,
    #[serde(with = "rfc3339")]
    pub started: SystemTime,
    #[serde(with = "rfc3339")]
    pub finished: SystemTime,
    pub verifier_id: String,
    /// The hex key id of the key that signed the attestation, when signed.
    pub signer_key_id: Option<String>,
    /// [`REPORT_FILE`], or `None` when the run failed before any report.
    pub report: Option<String>,
    /// [`ENVELOPE_FILE`] (signed run), [`STATEMENT_FILE`] (unsigned) or `None`.
    pub attestation: Option<String>,
}

/// Where an entry came from: a ledger directory, or an attestation
/// attached to the image in its registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Ledger,
    Registry,
}

/// An entry that passed [`Entry::check`], with where its files are.
#[derive(Debug, Clone)]
pub struct Record {
    pub entry: Entry,
    pub source: Source,
    /// The directory its `report` and `attestation` names are relative to.
    pub dir: PathBuf,
}

impl Record {
    /// The report file, when the entry names one.
    pub fn report_path(&self) -> Option<PathBuf> {
        self.entry.report.as_ref().map(|name| self.dir.join(name))
    }

    /// The attestation file, when the entry names one.
    pub fn attestation_path(&self) -> Option<PathBuf> {
        self.entry
            .attestation
            .as_ref()
            .map(|name| self.dir.join(name))
    }
}

impl Entry {
    /// Why this entry cannot be published as it is: an unknown schema, a
    /// job id that is not 32 lowercase hex characters, an empty image,
    /// version or platform, or a file name other than the ones an entry
    /// may name (so no entry can point outside its own directory).
    pub fn check(&self) -> Result<(), String> {
        if self.schema != ENTRY_SCHEMA {
            return Err(format!(
                "its schema is {:?}; this rebuild-compare reads {ENTRY_SCHEMA} \
                 (publish it with the rebuild-compare version that wrote it)",
                self.schema
            ));
        }
        if !is_job_id(&self.job.id) {
            return Err(format!(
                "its job id {:?} is not 32 lowercase hex characters",
                self.job.id
            ));
        }
        for (field, value) in [
            ("image", &self.job.image),
            ("version", &self.job.version),
            ("platform", &self.job.platform),
        ] {
            if value.trim().is_empty() {
                return Err(format!("its job has an empty {field}"));
            }
        }
        if let Some(report) = &self.report {
            if report != REPORT_FILE {
                return Err(format!(
                    "its report is {report:?}; an entry's report is {REPORT_FILE:?} or null"
                ));
            }
        }
        if let Some(attestation) = &self.attestation {
            if attestation != STATEMENT_FILE && attestation != ENVELOPE_FILE {
                return Err(format!(
                    "its attestation is {attestation:?}; an entry's attestation is \
                     {ENVELOPE_FILE:?}, {STATEMENT_FILE:?} or null"
                ));
            }
        }
        Ok(())
    }

    /// Whether the attestation is a DSSE envelope (a signed run).
    pub fn is_signed(&self) -> bool {
        self.attestation.as_deref() == Some(ENVELOPE_FILE)
    }
}

/// A job id: 32 lowercase hex characters, safe as a file name.
pub fn is_job_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The file, in a job's folder, whose presence marks the job done.
pub const ENTRY_FILE: &str = "entry.json";

/// `LEDGER/jobs/<id>/entry.json`: present once the job is done.
pub fn entry_path(ledger: &Path, id: &str) -> PathBuf {
    ledger.join("jobs").join(id).join(ENTRY_FILE)
}

/// Times as RFC 3339 UTC with whole seconds (`2026-12-01T02:03:10Z`);
/// any RFC 3339 time is read.
mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_seconds(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        humantime::parse_rfc3339_weak(&text).map_err(|e| {
            serde::de::Error::custom(format!("{text:?} is not an RFC 3339 time ({e})"))
        })
    }
}
