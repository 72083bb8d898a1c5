//! Reads a ledger directory's finished jobs: every `jobs/<id>/entry.json`,
//! checked, and nothing else (the reports stay unread).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::entry::{Entry, Record, Source, ENTRY_FILE, ENTRY_SCHEMA};

/// Why a ledger cannot be read. Each names the file to look at.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("{dir} is not a ledger: it has no jobs/ directory (give the directory `rebuild-compare run` writes)")]
    NotALedger { dir: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a ledger entry: {source} (fix or remove it, then run again)")]
    Malformed {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {problem} (fix or remove it, then run again)")]
    Invalid { path: PathBuf, problem: String },
}

/// Just the schema, to say which one a file has when it is not ours.
#[derive(Deserialize)]
struct Schema {
    schema: String,
}

/// Every finished job of the ledger at `dir`, in no particular order. A job
/// directory without entry.json is unfinished and skipped; an entry that
/// cannot be read, parsed or checked is an error naming its file, as is a
/// file it names that is missing or is not a regular file.
pub fn read_ledger(dir: &Path) -> Result<Vec<Record>, LedgerError> {
    let jobs = dir.join("jobs");
    if !jobs.is_dir() {
        return Err(LedgerError::NotALedger {
            dir: dir.to_path_buf(),
        });
    }
    let listing = std::fs::read_dir(&jobs).map_err(|source| LedgerError::Read {
        path: jobs.clone(),
        source,
    })?;
    let mut records = Vec::new();
    for item in listing {
        let item = item.map_err(|source| LedgerError::Read {
            path: jobs.clone(),
            source,
        })?;
        let job_dir = item.path();
        let path = job_dir.join(ENTRY_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            // Not a job directory (a stray file beside them).
            Err(_) if !job_dir.is_dir() => continue,
            Err(source) => return Err(LedgerError::Read { path, source }),
        };
        let entry = parse_entry(&path, &bytes)?;
        let invalid = |problem: String| LedgerError::Invalid {
            path: path.clone(),
            problem,
        };
        entry.check().map_err(invalid)?;
        if item.file_name().to_str() != Some(entry.job.id.as_str()) {
            return Err(invalid(format!(
                "its job id {} is not the name of its directory",
                entry.job.id
            )));
        }
        let record = Record {
            entry,
            source: Source::Ledger,
            dir: job_dir,
        };
        for file in [record.report_path(), record.attestation_path()]
            .into_iter()
            .flatten()
        {
            check_regular_file(&path, &file)?;
        }
        records.push(record);
    }
    Ok(records)
}

/// The entry in `bytes`, or why not: another schema is named as such
/// rather than as a missing field.
fn parse_entry(path: &Path, bytes: &[u8]) -> Result<Entry, LedgerError> {
    serde_json::from_slice::<Entry>(bytes).map_err(|source| {
        match serde_json::from_slice::<Schema>(bytes) {
            Ok(Schema { schema }) if schema != ENTRY_SCHEMA => LedgerError::Invalid {
                path: path.to_path_buf(),
                problem: format!(
                    "its schema is {schema:?}; this rebuild-compare reads {} \
                         (publish it with the rebuild-compare version that wrote it)",
                    ENTRY_SCHEMA
                ),
            },
            _ => LedgerError::Malformed {
                path: path.to_path_buf(),
                source,
            },
        }
    })
}

/// A file an entry names must be a regular file (not missing, not a link
/// or a device that publishing would follow).
fn check_regular_file(entry: &Path, file: &Path) -> Result<(), LedgerError> {
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    match std::fs::symlink_metadata(file) {
        Ok(meta) if meta.file_type().is_file() => Ok(()),
        Ok(_) => Err(LedgerError::Invalid {
            path: entry.to_path_buf(),
            problem: format!("the {name} it names is not a regular file"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(LedgerError::Invalid {
            path: entry.to_path_buf(),
            problem: format!("the {name} it names is missing"),
        }),
        Err(source) => Err(LedgerError::Read {
            path: file.to_path_buf(),
            source,
        }),
    }
}
