//! The one-machine executor of a plan: runs its jobs N at a time, each as a
//! child `rebuild-compare verify` process writing into its own work
//! directory under `LEDGER/.work/`, and moves each finished job into the
//! ledger (`LEDGER/jobs/<id>/`, `entry.json` inside) with one rename. A run
//! killed midway loses only the jobs it was running: the next run skips
//! every job already in the ledger and clears the work directories no live
//! run holds.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::SystemTime;

use serde_json::Value;

use crate::attest::lookup::attach_to_image;
use crate::image::digest::Digest;
use crate::image::AccessOptions;
use crate::rebuild::adjust::InputChange;
use crate::scale::job::{Job, JobRecipe, Plan, TOOL_VERSION};
use crate::scale::ledger::entry::{
    entry_path, is_job_id, Entry, ENTRY_FILE, ENTRY_SCHEMA, ENVELOPE_FILE, REPORT_FILE,
    STATEMENT_FILE,
};
use crate::verify::Verdict;

/// The most of a job's stderr kept in the ledger (its end).
pub const MAX_STDERR_BYTES: u64 = 256 * 1024;
/// The largest report read back from a job for its summary.
const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;

/// Running a plan failed (a job's own failure is its entry, not this).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: io::Error,
    },
    #[error("the plan has no job {index} (it has {count}: 0 to {})", count.saturating_sub(1))]
    NoSuchJob { index: usize, count: usize },
    #[error("the plan's job {index} ({id}) {reason}; the plan was changed after `rebuild-compare plan` made it: plan again")]
    AlteredJob {
        index: usize,
        id: String,
        reason: String,
    },
}

/// How to run a plan.
pub struct RunOptions {
    /// The `rebuild-compare` executable the jobs run.
    pub program: PathBuf,
    pub ledger: PathBuf,
    /// Jobs at a time (at least 1).
    pub jobs: usize,
    /// Only this job of the plan (`--index`, as a Kubernetes Indexed Job's
    /// `JOB_COMPLETION_INDEX`).
    pub index: Option<usize>,
    /// Options every job's `verify` gets (verifier id, signing, pushing,
    /// registry access), after the job's own arguments.
    pub verify_args: Vec<String>,
    /// Environment variables every job gets (the signing key's PEM, when
    /// it came from the environment: `main` took it out of this process's).
    pub env: Vec<(String, std::ffi::OsString)>,
    /// Whether jobs sign, so their attestation is a DSSE envelope.
    pub signed: bool,
    /// Attach each job's signed envelope to its image with these access
    /// options (`--push-attestation`). The run attaches them itself, one at
    /// a time, rather than its jobs: the platforms of one image share its
    /// `.att` tag, and parallel read-append-push cycles would lose layers.
    pub attach: Option<AccessOptions>,
    pub verifier_id: String,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Jobs of the selection already in the ledger, not run again.
    pub already_done: usize,
    pub reproducible: usize,
    pub mismatch: usize,
    pub error: usize,
}

/// What a run reports as it goes.
pub enum RunEvent<'a> {
    /// The jobs to run now, of the plan's `total`.
    Starting {
        to_run: usize,
        already_done: usize,
    },
    Started {
        job: &'a Job,
    },
    Finished {
        job: &'a Job,
        entry: &'a Entry,
        done: usize,
        to_run: usize,
    },
}

/// Runs the plan's jobs not yet in the ledger.
pub fn run(
    plan: &Plan,
    options: &RunOptions,
    on_event: &(dyn Fn(RunEvent) + Sync),
) -> Result<RunSummary, RunError> {
    check_plan(plan)?;
    let jobs_dir = options.ledger.join("jobs");
    let work_dir = options.ledger.join(".work");
    for dir in [&jobs_dir, &work_dir] {
        fs::create_dir_all(dir).map_err(io_error("creating", dir))?;
    }
    clear_abandoned_work(&work_dir)?;
    let selected: Vec<&Job> = match options.index {
        Some(index) => vec![plan.jobs.get(index).ok_or(RunError::NoSuchJob {
            index,
            count: plan.jobs.len(),
        })?],
        None => plan.jobs.iter().collect(),
    };
    let (done, pending): (Vec<&Job>, Vec<&Job>) = selected
        .into_iter()
        .partition(|job| entry_path(&options.ledger, &job.id).is_file());
    let summary = Mutex::new(RunSummary {
        already_done: done.len(),
        ..RunSummary::default()
    });
    on_event(RunEvent::Starting {
        to_run: pending.len(),
        already_done: done.len(),
    });
    let attaching = Mutex::new(());
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let failure: Mutex<Option<RunError>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, pending.len().max(1)) {
            scope.spawn(|| loop {
                if failure.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let Some(job) = pending.get(next.fetch_add(1, Ordering::SeqCst)).copied() else {
                    return;
                };
                on_event(RunEvent::Started { job });
                match run_job(job, options, &attaching, &jobs_dir, &work_dir) {
                    Ok(entry) => {
                        if let Ok(mut summary) = summary.lock() {
                            match entry.verdict {
                                Verdict::Reproducible => summary.reproducible += 1,
                                Verdict::Mismatch => summary.mismatch += 1,
                                Verdict::Error => summary.error += 1,
                            }
                        }
                        let done = finished.fetch_add(1, Ordering::SeqCst) + 1;
                        on_event(RunEvent::Finished {
                            job,
                            entry: &entry,
                            done,
                            to_run: pending.len(),
                        });
                    }
                    Err(e) => {
                        if let Ok(mut failure) = failure.lock() {
                            failure.get_or_insert(e);
                        }
                        return;
                    }
                }
            });
        }
    });
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(summary.into_inner().unwrap_or_default())
}

/// Refuses a plan whose jobs are not what `plan` makes: an id that is not
/// the hash of the job's fields (it names the ledger directory, and a
/// finished job is never redone), or arguments other than `verify
/// IMAGE@DIGEST VERSION --platform P [--recipe R]` (a plan runs nothing
/// else: no `--no-sandbox`, no other command).
pub fn check_plan(plan: &Plan) -> Result<(), RunError> {
    for (index, job) in plan.jobs.iter().enumerate() {
        let altered = |reason: String| RunError::AlteredJob {
            index,
            id: job.id.clone(),
            reason,
        };
        // The job `plan` makes of the same fields; its recipe argument is the
        // one path a plan may choose (where `plan` ran from).
        let recipe = job.recipe.as_ref().map(|label| JobRecipe {
            label: label.clone(),
            argument: job
                .args
                .get(6)
                .filter(|r| !r.starts_with('-'))
                .cloned()
                .unwrap_or_default(),
            sha256: job.recipe_sha256.clone().unwrap_or_default(),
        });
        let expected = Job::new(
            &job.image,
            &job.tag,
            &job.digest,
            &job.platform,
            recipe.as_ref(),
        )
        .map_err(|e| altered(e.to_string()))?;
        if !is_job_id(&job.id) || job.id != expected.id {
            return Err(altered(format!(
                "has an id that is not its fields' ({})",
                expected.id
            )));
        }
        if job.args != expected.args {
            return Err(altered(format!(
                "runs `{}`, not `{}`",
                job.args.join(" "),
                expected.args.join(" ")
            )));
        }
        if *job != expected {
            return Err(altered(
                "is not the job `plan` makes of its image, tag, digest, platform and recipe".into(),
            ));
        }
    }
    Ok(())
}

/// Removes the work directories of runs that ended without finishing them
/// (their lock is free); a live run's are left alone.
fn clear_abandoned_work(work_dir: &Path) -> Result<(), RunError> {
    let entries = fs::read_dir(work_dir).map_err(io_error("reading", work_dir))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(lock) = File::open(path.join(".lock")) else {
            // Not one of ours, or created and not yet locked: leave it.
            continue;
        };
        if lock.try_lock().is_ok() {
            fs::remove_dir_all(&path).map_err(io_error("removing", &path))?;
        }
    }
    Ok(())
}

/// Runs one job in its own work directory, then moves it into the ledger.
fn run_job(
    job: &Job,
    options: &RunOptions,
    attaching: &Mutex<()>,
    jobs_dir: &Path,
    work_dir: &Path,
) -> Result<Entry, RunError> {
    let work = tempfile::Builder::new()
        .prefix(&format!("{}-", job.id))
        .tempdir_in(work_dir)
        .map_err(io_error("creating a work directory in", work_dir))?;
    let lock_path = work.path().join(".lock");
    let lock = File::create(&lock_path).map_err(io_error("creating", &lock_path))?;
    lock.lock().map_err(io_error("locking", &lock_path))?;

    let attestation_name = if options.signed {
        ENVELOPE_FILE
    } else {
        STATEMENT_FILE
    };
    let report_path = work.path().join(REPORT_FILE);
    let stderr_path = work.path().join("stderr.log");
    let attestation_path = work.path().join(attestation_name);
    let out_dir = work.path().join("out");
    let report_file = File::create(&report_path).map_err(io_error("creating", &report_path))?;
    let stderr_file = File::create(&stderr_path).map_err(io_error("creating", &stderr_path))?;

    let started = SystemTime::now();
    let status = Command::new(&options.program)
        .args(&job.args)
        .args(["--format", "json", "--attest"])
        .arg(&attestation_path)
        .arg("--out-dir")
        .arg(&out_dir)
        .args(&options.verify_args)
        .envs(options.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(report_file)
        .stderr(stderr_file)
        .status()
        .map_err(io_error("running", &options.program))?;
    let finished = SystemTime::now();
    if out_dir.exists() {
        fs::remove_dir_all(&out_dir).map_err(io_error("removing", &out_dir))?;
    }
    keep_tail(&stderr_path, MAX_STDERR_BYTES)?;

    let mut code = status.code().unwrap_or(2);
    let mut attach_error = None;
    if let (Some(access), true, 0 | 1) = (&options.attach, options.signed, code) {
        if let Err(e) = attach(job, &attestation_path, access, attaching) {
            code = 2;
            attach_error = Some(format!(
                "error: the verification is reported, but its attestation was not attached: {e}"
            ));
        }
    }
    let report = read_report(&report_path);
    if report.is_none() {
        let _ = fs::remove_file(&report_path);
    }
    let attestation = attestation_path
        .is_file()
        .then(|| attestation_name.to_string());
    let signer_key_id = match (&attestation, options.signed) {
        (Some(_), true) => signer_key_id(&attestation_path),
        _ => None,
    };
    let entry = Entry {
        schema: ENTRY_SCHEMA.to_string(),
        tool_version: TOOL_VERSION.to_string(),
        job: job.clone(),
        verdict: match code {
            0 => Verdict::Reproducible,
            1 => Verdict::Mismatch,
            _ => Verdict::Error,
        },
        causes: report.as_ref().map(causes).unwrap_or_default(),
        adjusted: report.as_ref().map(adjusted).unwrap_or_default(),
        exit_code: code,
        error: attach_error.or_else(|| (code > 1).then(|| last_error_line(&stderr_path))),
        started,
        finished,
        verifier_id: options.verifier_id.clone(),
        signer_key_id,
        report: report.is_some().then(|| REPORT_FILE.to_string()),
        attestation,
    };
    let entry_path = work.path().join(ENTRY_FILE);
    let json = serde_json::to_vec_pretty(&entry).unwrap_or_default();
    fs::write(&entry_path, json).map_err(io_error("writing", &entry_path))?;
    let _ = fs::remove_file(&lock_path);

    let target = jobs_dir.join(&job.id);
    let work = work.keep();
    if let Err(e) = fs::rename(&work, &target) {
        // Another run finished the same job meanwhile: its entry stands.
        let _ = fs::remove_dir_all(&work);
        if !target.join(ENTRY_FILE).is_file() {
            return Err(io_error("moving the job into", &target)(e));
        }
    }
    drop(lock);
    Ok(entry)
}

/// Attaches the job's envelope to its image, one attachment at a time.
fn attach(
    job: &Job,
    envelope: &Path,
    access: &AccessOptions,
    attaching: &Mutex<()>,
) -> Result<(), String> {
    let bytes = fs::read(envelope).map_err(|e| format!("reading {}: {e}", envelope.display()))?;
    let digest = Digest::parse(&job.digest).map_err(|e| e.to_string())?;
    let _one_at_a_time = attaching
        .lock()
        .map_err(|_| "another attachment failed".to_string())?;
    attach_to_image(&job.image, &digest, &bytes, access)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The report a job printed, when it printed one (a job that failed
/// before reporting prints nothing).
fn read_report(path: &Path) -> Option<Value> {
    let file = File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_REPORT_BYTES).read_to_end(&mut bytes).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The cause codes of every platform of a report, each once, in order.
fn causes(report: &Value) -> Vec<String> {
    let mut causes: Vec<String> = Vec::new();
    let platforms = report.get("platforms").and_then(Value::as_array);
    for platform in platforms.into_iter().flatten() {
        let codes = platform.get("causes").and_then(Value::as_array);
        for code in codes.into_iter().flatten().filter_map(Value::as_str) {
            if !causes.iter().any(|c| c == code) {
                causes.push(code.to_string());
            }
        }
    }
    causes
}

/// The inputs every platform's compared rebuild took from its published
/// binary (`adjusted`), by input; the first platform's value stands.
fn adjusted(report: &Value) -> BTreeMap<String, InputChange> {
    let mut adjusted = BTreeMap::new();
    let platforms = report.get("platforms").and_then(Value::as_array);
    for platform in platforms.into_iter().flatten() {
        let taken = platform
            .get("adjusted")
            .cloned()
            .and_then(|a| serde_json::from_value::<BTreeMap<String, InputChange>>(a).ok());
        for (input, change) in taken.into_iter().flatten() {
            adjusted.entry(input).or_insert(change);
        }
    }
    adjusted
}

/// The key id of an envelope's first signature.
fn signer_key_id(path: &Path) -> Option<String> {
    let envelope: Value = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    envelope
        .pointer("/signatures/0/keyid")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The job's last `error:` line (what the failed verify said), else its
/// last line.
fn last_error_line(stderr: &Path) -> String {
    let text = fs::read(stderr).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("the job failed without saying why");
    line.chars().take(1024).collect()
}

/// Cuts the file at `path` to its last `max` bytes.
fn keep_tail(path: &Path, max: u64) -> Result<(), RunError> {
    let len = fs::metadata(path).map_err(io_error("reading", path))?.len();
    if len <= max {
        return Ok(());
    }
    let mut file = File::open(path).map_err(io_error("reading", path))?;
    file.seek(SeekFrom::Start(len - max))
        .map_err(io_error("reading", path))?;
    let mut tail = Vec::new();
    file.take(max)
        .read_to_end(&mut tail)
        .map_err(io_error("reading", path))?;
    let mut out = File::create(path).map_err(io_error("writing", path))?;
    out.write_all(b"[earlier output cut]\n")
        .and_then(|()| out.write_all(&tail))
        .map_err(io_error("writing", path))
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl Fn(io::Error) -> RunError + 'a {
    move |source| RunError::Io {
        what,
        path: path.display().to_string(),
        source,
    }
}

#[cfg(test)]
mod adjusted_tests {
    use super::*;

    #[test]
    fn an_entry_names_the_inputs_each_platform_took_from_its_published_binary() {
        let report = serde_json::json!({"platforms": [
            {"platform": "linux/amd64", "adjusted": {"build_directory":
                {"recipe": "/src", "published": "/home/runner/work/a/a", "kind": "environment"}}},
            {"platform": "linux/arm64"}
        ]});
        assert_eq!(
            serde_json::to_value(adjusted(&report)).unwrap(),
            report["platforms"][0]["adjusted"]
        );
    }
}
