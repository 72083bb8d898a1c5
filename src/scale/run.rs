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

use crate::attest::dsse::{Envelope, MAX_ENVELOPE_BYTES};
use crate::attest::keys::{KeySource, SIGN_KEY_ENV};
use crate::attest::lookup::attach_to_image;
use crate::image::digest::Digest;
use crate::image::AccessOptions;
use crate::rebuild::adjust::InputChange;
use crate::rebuild::recipe::pinned::{self, recipe_sha256};
use crate::rebuild::recipe::RecipeError;
use crate::scale::job::{Job, JobRecipe, Plan, TOOL_VERSION};
use crate::scale::ledger::entry::{
    entry_path, is_job_id, Entry, ENTRY_FILE, ENTRY_SCHEMA, ENVELOPE_FILE, REPORT_FILE,
    STATEMENT_FILE,
};
use crate::verify::{Verdict, VerifyReport};

/// The most of a job's stderr kept in the ledger (its end).
pub const MAX_STDERR_BYTES: u64 = 256 * 1024;
/// The largest report read back from a job for its summary.
const MAX_REPORT_BYTES: u64 = 256 * 1024 * 1024;
/// Where a job's report that is not JSON is kept, beside its error entry.
pub const UNPARSED_REPORT_FILE: &str = "report.unparsed.json";
/// The most of an unparsable report kept (its start).
pub const MAX_UNPARSED_REPORT_BYTES: u64 = 1024 * 1024;

/// Running a plan failed (a job's own failure is its entry, not this).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: io::Error,
    },
    #[error("job {id}: its entry cannot be written as JSON: {reason}")]
    Entry { id: String, reason: String },
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
    /// The key every job signs its attestation with, so that it is a DSSE
    /// envelope (`None`: a bare statement). A key from the environment is
    /// handed to each job in the same variable (`main` took it out of this
    /// process's environment).
    pub sign_key: Option<KeySource>,
    /// The registry options every job's `verify` is given.
    pub access: JobAccess,
    /// Attach each job's signed envelope to its image with these access
    /// options (`--push-attestation`). The run attaches them itself, one at
    /// a time, rather than its jobs: the platforms of one image share its
    /// `.att` tag, and parallel read-append-push cycles would lose layers.
    pub attach: Option<AccessOptions>,
    pub verifier_id: String,
    /// Run again the jobs whose ledger entry is an error (`--retry-errors`);
    /// a finished job with a verdict is never redone.
    pub retry_errors: bool,
}

/// The registry options of a run, given to each of its jobs as written
/// (`--authfile`, `--insecure-registry`, `--cache-dir`, `--registries-conf`).
#[derive(Debug, Default, Clone)]
pub struct JobAccess {
    pub authfile: Option<PathBuf>,
    pub insecure_registries: Vec<String>,
    pub cache_dir: Option<PathBuf>,
    pub registries_conf: Option<PathBuf>,
}

/// What a run did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RunSummary {
    /// Jobs of the selection already in the ledger, not run again.
    pub already_done: usize,
    pub reproducible: usize,
    pub mismatch: usize,
    pub error: usize,
    /// Of the errors: jobs refused because their recipe is not the one planned.
    pub refused: usize,
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
    let (done, pending): (Vec<&Job>, Vec<&Job>) = selected.into_iter().partition(|job| {
        let entry = entry_path(&options.ledger, &job.id);
        entry.is_file() && !(options.retry_errors && is_error_entry(&entry))
    });
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
                    Ok((entry, refused)) => {
                        if let Ok(mut summary) = summary.lock() {
                            match entry.verdict {
                                Verdict::Reproducible => summary.reproducible += 1,
                                Verdict::Mismatch => summary.mismatch += 1,
                                Verdict::Error => summary.error += 1,
                            }
                            summary.refused += usize::from(refused);
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
            argument: job.recipe_argument().unwrap_or_default().to_string(),
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
        let Ok(lock) = File::open(path.join(LOCK_FILE)) else {
            // Not one of ours (left alone), or empty: made by a run killed
            // before it locked it, or by a live one about to (which makes
            // another when this one goes; see `locked_dir`).
            match fs::remove_dir(&path) {
                Err(e)
                    if !matches!(
                        e.kind(),
                        io::ErrorKind::DirectoryNotEmpty
                            | io::ErrorKind::NotADirectory
                            | io::ErrorKind::NotFound
                    ) =>
                {
                    return Err(io_error("removing", &path)(e));
                }
                _ => continue,
            }
        };
        if lock.try_lock().is_ok() {
            fs::remove_dir_all(&path).map_err(io_error("removing", &path))?;
        }
    }
    Ok(())
}

/// The lock file of a work directory: held while a run uses it.
const LOCK_FILE: &str = ".lock";

/// A new directory `PREFIX…` in `work_dir`, with its lock held. Until it is
/// locked, another run may take the empty directory for an abandoned one
/// and remove it: then another is made.
fn locked_dir(work_dir: &Path, prefix: &str) -> Result<(tempfile::TempDir, File), RunError> {
    let mut attempts = 0;
    loop {
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir_in(work_dir)
            .map_err(io_error("creating a work directory in", work_dir))?;
        let lock_path = dir.path().join(LOCK_FILE);
        match File::create(&lock_path) {
            Ok(lock) => {
                lock.lock().map_err(io_error("locking", &lock_path))?;
                return Ok((dir, lock));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempts < 3 => attempts += 1,
            Err(e) => return Err(io_error("creating", &lock_path)(e)),
        }
    }
}

/// Runs one job in its own work directory, then moves it into the ledger;
/// with whether it was refused (its recipe is not the one planned).
fn run_job(
    job: &Job,
    options: &RunOptions,
    attaching: &Mutex<()>,
    jobs_dir: &Path,
    work_dir: &Path,
) -> Result<(Entry, bool), RunError> {
    let (work, lock) = locked_dir(work_dir, &format!("{}-", job.id))?;

    let started = SystemTime::now();
    let refusal = recipe_refusal(job);
    let refused = refusal.is_some();
    let outcome = match refusal {
        Some(reason) => Outcome {
            code: 2,
            error: Some(reason),
            report: None,
            attestation: None,
            signer_key_id: None,
        },
        None => verify(job, options, attaching, work.path())?,
    };
    let finished = SystemTime::now();
    let entry = Entry {
        schema: ENTRY_SCHEMA.to_string(),
        tool_version: TOOL_VERSION.to_string(),
        job: job.clone(),
        verdict: match outcome.code {
            0 => Verdict::Reproducible,
            1 => Verdict::Mismatch,
            _ => Verdict::Error,
        },
        causes: outcome.report.as_ref().map(causes).unwrap_or_default(),
        adjusted: outcome.report.as_ref().map(adjusted).unwrap_or_default(),
        exit_code: outcome.code,
        error: outcome.error,
        started,
        finished,
        verifier_id: options.verifier_id.clone(),
        signer_key_id: outcome.signer_key_id,
        report: outcome.report.is_some().then(|| REPORT_FILE.to_string()),
        attestation: outcome.attestation,
    };
    let entry_path = work.path().join(ENTRY_FILE);
    let json = serde_json::to_vec_pretty(&entry).map_err(|e| RunError::Entry {
        id: job.id.clone(),
        reason: e.to_string(),
    })?;
    fs::write(&entry_path, json).map_err(io_error("writing", &entry_path))?;

    // The lock is held until the job is in the ledger, so that no run takes
    // its work directory for abandoned; then its file goes.
    let work = work.keep();
    let target = jobs_dir.join(&job.id);
    install(&work, &target, work_dir, options.retry_errors)?;
    drop(lock);
    let lock_path = target.join(LOCK_FILE);
    match fs::remove_file(&lock_path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io_error("removing", &lock_path)(e)),
        _ => Ok((entry, refused)),
    }
}

/// What a job's run came to, for its entry.
struct Outcome {
    /// 0 reproducible, 1 mismatch, 2 (or more) error.
    code: i32,
    error: Option<String>,
    /// The job's report, when it printed one that parsed.
    report: Option<VerifyReport>,
    /// The attestation's file name in the job's directory, when written.
    attestation: Option<String>,
    signer_key_id: Option<String>,
}

/// Why the job must not run: its recipe's bytes are not (or no longer)
/// the ones `plan` hashed, or cannot be read. `None`: run it (an inferred
/// job has no recipe to check).
fn recipe_refusal(job: &Job) -> Option<String> {
    let planned = job.recipe_sha256.as_ref()?;
    let argument = job.recipe_argument()?;
    let error = match pinned::recipe_bytes(Path::new(argument)) {
        Ok(bytes) => {
            let found = recipe_sha256(&bytes);
            if &found == planned {
                return None;
            }
            RecipeError::Changed {
                origin: argument.to_string(),
                expected: planned.clone(),
                found,
            }
            .to_string()
        }
        Err(e) => format!("{e} (planned with sha256 {planned}); nothing was built"),
    };
    Some(format!("error: {error}"))
}

/// Runs the job's `verify` in `work` (pinned to the planned recipe's
/// sha256, so that it builds from the bytes that were checked), reads its
/// report and attaches its envelope when asked.
fn verify(
    job: &Job,
    options: &RunOptions,
    attaching: &Mutex<()>,
    work: &Path,
) -> Result<Outcome, RunError> {
    let signed = options.sign_key.is_some();
    let attestation_name = if signed {
        ENVELOPE_FILE
    } else {
        STATEMENT_FILE
    };
    let report_path = work.join(REPORT_FILE);
    let stderr_path = work.join("stderr.log");
    let attestation_path = work.join(attestation_name);
    let out_dir = work.join("out");
    let report_file = File::create(&report_path).map_err(io_error("creating", &report_path))?;
    let stderr_file = File::create(&stderr_path).map_err(io_error("creating", &stderr_path))?;

    let status = verify_command(job, options, &attestation_path, &out_dir)
        .stdin(Stdio::null())
        .stdout(report_file)
        .stderr(stderr_file)
        .status()
        .map_err(io_error("running", &options.program))?;
    if out_dir.exists() {
        fs::remove_dir_all(&out_dir).map_err(io_error("removing", &out_dir))?;
    }
    keep_tail(&stderr_path, MAX_STDERR_BYTES)?;

    let mut code = status.code().unwrap_or(2);
    let mut error = None;
    let report = match read_report(&report_path)? {
        JobReport::Parsed(report) => {
            let report = *report;
            if code > 1 {
                error = Some(match report.incomplete() {
                    Some(incomplete) => error_line(&format!("error: {incomplete}")),
                    // The report does not say why it failed: its stderr does.
                    None => last_error_line(&stderr_path),
                });
            }
            Some(report)
        }
        JobReport::Empty => {
            fs::remove_file(&report_path).map_err(io_error("removing", &report_path))?;
            error = Some(match code {
                0 | 1 => format!("error: the job exited {code} without printing its report"),
                _ => last_error_line(&stderr_path),
            });
            code = code.max(2);
            None
        }
        JobReport::Unparsable(why) => {
            let kept = work.join(UNPARSED_REPORT_FILE);
            keep_unparsed(&report_path, &kept)?;
            let note = format!(
                "its report is {why}; it is kept as {UNPARSED_REPORT_FILE} \
                 (its first {} KiB) beside this entry",
                MAX_UNPARSED_REPORT_BYTES / 1024
            );
            error = Some(match code {
                0 | 1 => format!("error: the job exited {code}, but {note}"),
                _ => format!("{}; {note}", last_error_line(&stderr_path)),
            });
            code = 2;
            None
        }
    };
    if let (Some(access), true, 0 | 1) = (&options.attach, signed, code) {
        if let Err(e) = attach(job, &attestation_path, access, attaching) {
            code = 2;
            error = Some(format!(
                "error: the verification is reported, but its attestation was not attached: {e}"
            ));
        }
    }
    let attestation = attestation_path
        .is_file()
        .then(|| attestation_name.to_string());
    let signer_key_id = match (&attestation, signed) {
        (Some(_), true) => signer_key_id(&attestation_path),
        _ => None,
    };
    Ok(Outcome {
        code,
        error,
        report,
        attestation,
        signer_key_id,
    })
}

/// The job's `verify`: its own arguments, pinned to the planned recipe's
/// sha256, writing its JSON report to stdout, its attestation to
/// `attestation` and its build to `out_dir`, with the run's verifier id,
/// signing key and registry options.
fn verify_command(job: &Job, options: &RunOptions, attestation: &Path, out_dir: &Path) -> Command {
    let mut command = Command::new(&options.program);
    command.args(&job.args);
    if let Some(sha256) = &job.recipe_sha256 {
        command.args(["--recipe-sha256", sha256]);
    }
    command
        .args(["--format", "json", "--attest"])
        .arg(attestation)
        .arg("--out-dir")
        .arg(out_dir)
        .args(["--verifier-id", &options.verifier_id]);
    match &options.sign_key {
        Some(KeySource::File(path)) => {
            command.arg("--sign-key").arg(path);
        }
        Some(KeySource::Environment(pem)) => {
            use std::os::unix::ffi::OsStrExt;
            command.env(SIGN_KEY_ENV, std::ffi::OsStr::from_bytes(pem));
        }
        None => {}
    }
    let access = &options.access;
    if let Some(authfile) = &access.authfile {
        command.arg("--authfile").arg(authfile);
    }
    for host in &access.insecure_registries {
        command.args(["--insecure-registry", host]);
    }
    if let Some(dir) = &access.cache_dir {
        command.arg("--cache-dir").arg(dir);
    }
    if let Some(file) = &access.registries_conf {
        command.arg("--registries-conf").arg(file);
    }
    command
}

/// Moves a finished job's directory `work` into the ledger at `target`.
/// When the ledger holds the job already (another run finished it
/// meanwhile), that entry stands, unless it is an error and errors are
/// retried: then this run's replaces it.
fn install(
    work: &Path,
    target: &Path,
    work_dir: &Path,
    retry_errors: bool,
) -> Result<(), RunError> {
    let Err(e) = fs::rename(work, target) else {
        return Ok(());
    };
    if !target.join(ENTRY_FILE).is_file() {
        let _ = fs::remove_dir_all(work);
        return Err(io_error("moving the job into", target)(e));
    }
    if !(retry_errors && is_error_entry(&target.join(ENTRY_FILE))) {
        fs::remove_dir_all(work).map_err(io_error("removing", work))?;
        return Ok(());
    }
    // The old directory goes into a locked one of `.work`, cleared below
    // or, if this run is killed first, by the next run.
    let (aside, lock) = locked_dir(work_dir, "replaced-")?;
    let old = aside.path().join("job");
    fs::rename(target, &old).map_err(io_error("moving aside", target))?;
    fs::rename(work, target).map_err(io_error("moving the job into", target))?;
    drop(lock);
    let aside_path = aside.path().to_path_buf();
    aside.close().map_err(io_error("removing", &aside_path))
}

/// Whether the entry at `path` reads as an error (retried by `--retry-errors`).
fn is_error_entry(path: &Path) -> bool {
    fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
        .is_some_and(|entry| entry.verdict == Verdict::Error)
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

/// What a job printed on stdout.
enum JobReport {
    /// Nothing: it failed before reporting.
    Empty,
    Parsed(Box<VerifyReport>),
    /// Something that is not a report: what it is instead (`not JSON (…)`).
    Unparsable(String),
}

/// The report a job printed.
fn read_report(path: &Path) -> Result<JobReport, RunError> {
    let file = File::open(path).map_err(io_error("reading", path))?;
    let mut bytes = Vec::new();
    file.take(MAX_REPORT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error("reading", path))?;
    if bytes.is_empty() {
        return Ok(JobReport::Empty);
    }
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Ok(JobReport::Unparsable(format!(
            "not JSON (it is larger than {} MiB)",
            MAX_REPORT_BYTES / 1024 / 1024
        )));
    }
    Ok(match serde_json::from_slice(&bytes) {
        Ok(report) => JobReport::Parsed(Box::new(report)),
        Err(e) if e.is_data() => JobReport::Unparsable(format!("not a verify report ({e})")),
        Err(e) => JobReport::Unparsable(format!("not JSON ({e})")),
    })
}

/// Keeps the first [`MAX_UNPARSED_REPORT_BYTES`] of an unparsable report at `kept`.
fn keep_unparsed(report: &Path, kept: &Path) -> Result<(), RunError> {
    fs::rename(report, kept).map_err(io_error("moving", report))?;
    let file = fs::OpenOptions::new()
        .write(true)
        .open(kept)
        .map_err(io_error("writing", kept))?;
    let len = file.metadata().map_err(io_error("reading", kept))?.len();
    file.set_len(len.min(MAX_UNPARSED_REPORT_BYTES))
        .map_err(io_error("writing", kept))
}

/// The cause codes of every platform of a report, each once, in order.
fn causes(report: &VerifyReport) -> Vec<String> {
    let mut causes: Vec<String> = Vec::new();
    for code in report
        .platforms
        .iter()
        .flat_map(|p| &p.causes)
        .map(|c| c.code())
    {
        if !causes.iter().any(|c| c == code) {
            causes.push(code.to_string());
        }
    }
    causes
}

/// The inputs every platform's compared rebuild took from its published
/// binary (`adjusted`), by input; the first platform's value stands.
fn adjusted(report: &VerifyReport) -> BTreeMap<String, InputChange> {
    let mut adjusted = BTreeMap::new();
    for (input, change) in report.platforms.iter().flat_map(|p| &p.adjusted) {
        adjusted
            .entry(input.clone())
            .or_insert_with(|| change.clone());
    }
    adjusted
}

/// The key id of an envelope's first signature, read as the envelope
/// type `attest` writes.
fn signer_key_id(path: &Path) -> Option<String> {
    // One byte past the cap, so an oversized file is refused by `parse`
    // without being read whole.
    let mut bytes = Vec::new();
    File::open(path)
        .ok()?
        .take(MAX_ENVELOPE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    let envelope = Envelope::parse(&bytes).ok()?;
    let signature = envelope.signatures.into_iter().next()?;
    (!signature.keyid.is_empty()).then_some(signature.keyid)
}

/// The job's last `error:` line (what the failed verify said), else its
/// last line: why a job failed when its report does not say.
fn last_error_line(stderr: &Path) -> String {
    let text = fs::read(stderr).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .or_else(|| text.lines().rev().find(|l| !l.trim().is_empty()))
        .unwrap_or("the job failed without saying why");
    error_line(line)
}

/// An entry's `error`: the first line of `message`, at most 1024 characters.
fn error_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
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
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::verify::{ImageInfo, RecipeInfo, SourceInfo};

    /// A plan of one inferred job, run by `script` (a `/bin/sh` body)
    /// standing in for `rebuild-compare verify`.
    struct Fake {
        dir: tempfile::TempDir,
        plan: Plan,
    }

    impl Fake {
        fn new(script: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let fake = Self {
                plan: Plan::new(
                    vec![Job::new(
                        "127.0.0.1:5000/tools/app",
                        "v1.0.0",
                        &format!("sha256:{}", "a".repeat(64)),
                        "linux/amd64",
                        None,
                    )
                    .unwrap()],
                    SystemTime::UNIX_EPOCH,
                ),
                dir,
            };
            fake.script(script);
            fake
        }

        fn script(&self, body: &str) {
            let path = self.program();
            fs::write(
                &path,
                format!(
                    "#!/bin/sh\necho ran >> '{}'\n{body}\n",
                    self.runs().display()
                ),
            )
            .unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        }

        fn program(&self) -> PathBuf {
            self.dir.path().join("verify.sh")
        }

        /// A line per time the program ran.
        fn runs(&self) -> PathBuf {
            self.dir.path().join("runs")
        }

        fn run_count(&self) -> usize {
            fs::read_to_string(self.runs()).map_or(0, |t| t.lines().count())
        }

        fn ledger(&self) -> PathBuf {
            self.dir.path().join("ledger")
        }

        fn job_dir(&self) -> PathBuf {
            self.ledger().join("jobs").join(&self.plan.jobs[0].id)
        }

        fn run(&self, retry_errors: bool) -> RunSummary {
            let options = RunOptions {
                program: self.program(),
                ledger: self.ledger(),
                jobs: 1,
                index: None,
                sign_key: None,
                access: JobAccess::default(),
                attach: None,
                verifier_id: "urn:test".into(),
                retry_errors,
            };
            run(&self.plan, &options, &|_| {}).unwrap()
        }

        fn entry(&self) -> Entry {
            serde_json::from_slice(&fs::read(self.job_dir().join(ENTRY_FILE)).unwrap()).unwrap()
        }
    }

    /// A shell command printing a report of no platforms with this verdict
    /// and these notes (without `'`), as `verify --format json` would.
    fn print_report(verdict: Verdict, notes: &[&str]) -> String {
        let report = VerifyReport {
            verdict,
            image: ImageInfo {
                reference: "127.0.0.1:5000/tools/app:v1.0.0".into(),
                digest: Digest::of(b"image"),
                name: "127.0.0.1:5000/tools/app".into(),
                index_platforms: None,
            },
            source: SourceInfo {
                url: "https://example.com/app.git".into(),
                git_ref: "v1.0.0".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                fetched_from: None,
            },
            recipe: RecipeInfo {
                path: "app.toml".into(),
                sha256: Digest::of(b"recipe"),
                inferred: false,
            },
            sandboxed: true,
            builder: None,
            platforms: Vec::new(),
            notes: notes.iter().map(|n| n.to_string()).collect(),
        };
        format!("echo '{}'", serde_json::to_string(&report).unwrap())
    }

    #[test]
    fn a_jobs_verify_gets_its_arguments_then_the_runs_key_and_registry_options() {
        let fake = Fake::new("");
        let job = &fake.plan.jobs[0];
        let options = RunOptions {
            program: fake.program(),
            ledger: fake.ledger(),
            jobs: 1,
            index: None,
            sign_key: Some(KeySource::File(PathBuf::from("/keys/rebuilder.key"))),
            access: JobAccess {
                authfile: Some(PathBuf::from("/auth.json")),
                insecure_registries: vec!["a.example".into(), "b.example:5000".into()],
                cache_dir: Some(PathBuf::from("/cache")),
                registries_conf: Some(PathBuf::from("/registries.conf")),
            },
            attach: None,
            verifier_id: "urn:test".into(),
            retry_errors: false,
        };
        let command = verify_command(job, &options, Path::new("/w/a.json"), Path::new("/w/out"));
        let args: Vec<&str> = command.get_args().map(|a| a.to_str().unwrap()).collect();
        let expected: Vec<&str> = job
            .args
            .iter()
            .map(String::as_str)
            .chain([
                "--format",
                "json",
                "--attest",
                "/w/a.json",
                "--out-dir",
                "/w/out",
                "--verifier-id",
                "urn:test",
                "--sign-key",
                "/keys/rebuilder.key",
                "--authfile",
                "/auth.json",
                "--insecure-registry",
                "a.example",
                "--insecure-registry",
                "b.example:5000",
                "--cache-dir",
                "/cache",
                "--registries-conf",
                "/registries.conf",
            ])
            .collect();
        assert_eq!(args, expected);
        assert_eq!(command.get_envs().count(), 0);

        let options = RunOptions {
            sign_key: Some(KeySource::Environment(
                b"-----BEGIN PRIVATE KEY-----".to_vec().into(),
            )),
            access: JobAccess::default(),
            ..options
        };
        let command = verify_command(job, &options, Path::new("/w/a.json"), Path::new("/w/out"));
        assert!(!command.get_args().any(|a| a == "--sign-key"));
        let envs: Vec<_> = command.get_envs().collect();
        assert_eq!(
            envs,
            [(
                std::ffi::OsStr::new(SIGN_KEY_ENV),
                Some(std::ffi::OsStr::new("-----BEGIN PRIVATE KEY-----"))
            )]
        );
    }

    #[test]
    fn a_job_whose_recipe_changed_is_refused_without_running() {
        let mut fake = Fake::new(&format!(
            "{}; exit 0",
            print_report(Verdict::Reproducible, &[])
        ));
        let recipe = fake.dir.path().join("app.toml");
        fs::write(&recipe, "planned").unwrap();
        let planned = recipe_sha256(b"planned");
        let job = fake.plan.jobs[0].clone();
        fake.plan.jobs[0] = Job::new(
            &job.image,
            &job.tag,
            &job.digest,
            &job.platform,
            Some(&JobRecipe {
                label: "app.toml".into(),
                argument: recipe.display().to_string(),
                sha256: planned.clone(),
            }),
        )
        .unwrap();
        fs::write(&recipe, "edited").unwrap();
        let summary = fake.run(false);
        assert_eq!((summary.error, summary.refused), (1, 1));
        assert_eq!(fake.run_count(), 0, "nothing ran");
        let entry = fake.entry();
        assert_eq!((entry.verdict, entry.exit_code), (Verdict::Error, 2));
        assert_eq!(
            entry.error,
            Some(format!(
                "error: recipe {} has sha256 {}, not the expected {planned} (the one it was \
                 planned with): it changed since; nothing is built from it",
                recipe.display(),
                recipe_sha256(b"edited")
            ))
        );
        let files: Vec<_> = fs::read_dir(fake.job_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, [ENTRY_FILE]);

        fs::remove_file(&recipe).unwrap();
        fake.run(true);
        assert_eq!(fake.run_count(), 0);
        let error = fake.entry().error.unwrap_or_default();
        assert!(
            error.starts_with(&format!("error: cannot read recipe {}", recipe.display()))
                && error.ends_with(&format!(
                    "(planned with sha256 {planned}); nothing was built"
                )),
            "{error}"
        );

        fs::write(&recipe, "planned").unwrap();
        let retried = fake.run(true);
        assert_eq!((retried.reproducible, retried.refused), (1, 0));
        assert_eq!(fake.run_count(), 1);
    }

    #[test]
    fn a_report_that_is_not_json_is_kept_beside_its_error_entry() {
        let fake = Fake::new("printf '{\"platforms\": [' ; exit 0");
        let summary = fake.run(false);
        assert_eq!((summary.error, summary.reproducible), (1, 0));
        let entry = fake.entry();
        assert_eq!(entry.verdict, Verdict::Error);
        assert_eq!(entry.exit_code, 2);
        assert_eq!(entry.report, None);
        assert_eq!(
            entry.error.as_deref(),
            Some(
                "error: the job exited 0, but its report is not JSON (EOF while parsing a list \
                 at line 1 column 15); it is kept as report.unparsed.json (its first 1024 KiB) \
                 beside this entry"
            )
        );
        assert_eq!(
            fs::read_to_string(fake.job_dir().join(UNPARSED_REPORT_FILE)).unwrap(),
            "{\"platforms\": ["
        );
        assert!(!fake.job_dir().join(REPORT_FILE).exists());
    }

    #[test]
    fn json_that_is_not_a_verify_report_is_kept_beside_its_error_entry() {
        let fake = Fake::new("echo '{\"platforms\": []}'; exit 0");
        fake.run(false);
        let entry = fake.entry();
        assert_eq!((entry.verdict, entry.exit_code), (Verdict::Error, 2));
        assert_eq!(
            entry.error.as_deref(),
            Some(
                "error: the job exited 0, but its report is not a verify report (missing field \
                 `verdict` at line 1 column 17); it is kept as report.unparsed.json (its first \
                 1024 KiB) beside this entry"
            )
        );
        assert_eq!(
            fs::read_to_string(fake.job_dir().join(UNPARSED_REPORT_FILE)).unwrap(),
            "{\"platforms\": []}\n"
        );
    }

    #[test]
    fn a_failed_job_s_error_is_what_its_report_says_not_its_stderr() {
        let fake = Fake::new(&format!(
            "{}; echo 'error: something else' >&2; echo 'a last line' >&2; exit 2",
            print_report(
                Verdict::Error,
                &[
                    "1 platform(s) could not be compared",
                    "no platform could be compared"
                ]
            )
        ));
        let summary = fake.run(false);
        assert_eq!((summary.error, summary.refused), (1, 0));
        let entry = fake.entry();
        assert_eq!((entry.verdict, entry.exit_code), (Verdict::Error, 2));
        assert_eq!(
            entry.error.as_deref(),
            Some(
                "error: verification incomplete: 1 platform(s) could not be compared; no \
                 platform could be compared"
            )
        );
        assert_eq!(entry.report.as_deref(), Some(REPORT_FILE));
    }

    #[test]
    fn an_unparsable_report_is_kept_only_up_to_its_bound() {
        let fake = Fake::new("head -c 2000000 /dev/zero | tr '\\0' x; exit 1");
        fake.run(false);
        let kept = fs::read(fake.job_dir().join(UNPARSED_REPORT_FILE)).unwrap();
        assert_eq!(kept.len() as u64, MAX_UNPARSED_REPORT_BYTES);
        assert!(kept.iter().all(|b| *b == b'x'));
        assert_eq!(fake.entry().verdict, Verdict::Error);
    }

    #[test]
    fn a_verdict_without_a_report_is_an_error() {
        let fake = Fake::new("exit 0");
        fake.run(false);
        let entry = fake.entry();
        assert_eq!(entry.verdict, Verdict::Error);
        assert_eq!(entry.exit_code, 2);
        assert_eq!(
            entry.error.as_deref(),
            Some("error: the job exited 0 without printing its report")
        );
        assert!(!fake.job_dir().join(REPORT_FILE).exists());
    }

    #[test]
    fn retry_errors_reruns_an_error_and_never_a_verdict() {
        let fake = Fake::new("echo 'error: registry answered 503' >&2; exit 2");
        fake.run(false);
        assert_eq!(fake.entry().verdict, Verdict::Error);
        assert_eq!(
            fake.entry().error.as_deref(),
            Some("error: registry answered 503")
        );
        fake.script(&format!(
            "{}; exit 0",
            print_report(Verdict::Reproducible, &[])
        ));
        let again = fake.run(false);
        assert_eq!((again.already_done, fake.run_count()), (1, 1));

        let retried = fake.run(true);
        assert_eq!((retried.already_done, retried.reproducible), (0, 1));
        assert_eq!(fake.run_count(), 2);
        assert_eq!(fake.entry().verdict, Verdict::Reproducible);
        assert_eq!(fake.entry().report.as_deref(), Some(REPORT_FILE));
        let work: Vec<_> = fs::read_dir(fake.ledger().join(".work")).unwrap().collect();
        assert!(work.is_empty(), "the replaced error is removed: {work:?}");

        let done = fake.run(true);
        assert_eq!((done.already_done, fake.run_count()), (1, 2));
    }
}

#[cfg(test)]
mod adjusted_tests {
    use super::*;

    #[test]
    fn an_entry_names_the_inputs_each_platform_took_from_its_published_binary() {
        let taken = serde_json::json!({"build_directory":
            {"recipe": "/src", "published": "/home/runner/work/a/a", "kind": "environment"}});
        let mut amd64 = crate::verify::PlatformResult::skipped("linux/amd64".into(), String::new());
        amd64.adjusted = serde_json::from_value(taken.clone()).unwrap();
        let arm64 = crate::verify::PlatformResult::skipped("linux/arm64".into(), String::new());
        let report = VerifyReport {
            verdict: Verdict::Reproducible,
            image: crate::verify::ImageInfo {
                reference: "example.com/app:v1".into(),
                digest: Digest::of(b"image"),
                name: "example.com/app".into(),
                index_platforms: None,
            },
            source: crate::verify::SourceInfo {
                url: "https://example.com/app.git".into(),
                git_ref: "v1".into(),
                commit: "0123456789abcdef0123456789abcdef01234567".into(),
                fetched_from: None,
            },
            recipe: crate::verify::RecipeInfo {
                path: "app.toml".into(),
                sha256: Digest::of(b"recipe"),
                inferred: false,
            },
            sandboxed: true,
            builder: None,
            platforms: vec![amd64, arm64],
            notes: Vec::new(),
        };
        assert_eq!(serde_json::to_value(adjusted(&report)).unwrap(), taken);
    }
}
