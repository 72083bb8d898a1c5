//! `run PLAN --ledger DIR`: a plan's jobs on this machine, N at a time.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use rebuild_compare::attest;
use rebuild_compare::attest::keys;
use rebuild_compare::scale::job::Plan;
use rebuild_compare::scale::run::{self as scale_run, JobAccess, RunEvent, RunOptions};

use super::Globals;
use crate::cli::{AccessArgs, StderrArgs};

#[derive(clap::Args)]
pub struct Args {
    /// The plan (`rebuild-compare plan WATCHLIST --emit json`).
    #[arg(required_unless_present = "job")]
    plan: Option<PathBuf>,
    /// Instead of a plan: one job, as JSON (a GitHub matrix entry's `job`).
    #[arg(long, value_name = "JSON", conflicts_with_all = ["plan", "index"])]
    job: Option<String>,
    /// The ledger directory each job is written into (`LEDGER/jobs/<id>/`).
    #[arg(long, value_name = "DIR", required = true)]
    ledger: PathBuf,
    /// Jobs run at a time.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// Only job N of the plan (from 0; a Kubernetes Indexed Job's JOB_COMPLETION_INDEX).
    #[arg(long, value_name = "N")]
    index: Option<usize>,
    /// Sign each job's attestation with this private key [default: the PEM in $REBUILD_COMPARE_SIGN_KEY, if set].
    #[arg(long, value_name = "FILE")]
    sign_key: Option<PathBuf>,
    /// Each job attaches its signed attestation to its image in the registry (needs a signing key).
    #[arg(long)]
    push_attestation: bool,
    /// The verifier's URI each job's attestation records.
    #[arg(long, value_name = "URI", default_value = attest::DEFAULT_VERIFIER_ID)]
    verifier_id: String,
    /// Run again the jobs whose ledger entry is an error (a job with a verdict is never redone).
    #[arg(long)]
    retry_errors: bool,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// The largest plan file read.
const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// The plan's jobs not yet in the ledger, each a child `verify` with this
/// run's signing and access options. Success (exit 0) once every job has
/// its entry, whatever the verdicts: they are the ledger's; a run that
/// could not go on, or that refused a job whose recipe changed since it
/// was planned, is exit 2.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let quiet = globals.quiet;
    let sign_key = keys::attestation_key(
        args.sign_key.as_deref(),
        globals.sign_key_env.as_deref().map(|pem| pem.as_bytes()),
        true,
        args.push_attestation,
    )?;
    let plan = match (&args.plan, &args.job) {
        (Some(path), _) => Plan::from_json(&read_bounded(path, MAX_PLAN_BYTES)?)?,
        (None, Some(job)) => Plan::new(
            vec![serde_json::from_str(job)
                .context("--job is not a job's JSON (a GitHub matrix entry's `job`)")?],
            SystemTime::now(),
        ),
        (None, None) => {
            anyhow::bail!("usage: rebuild-compare run PLAN --ledger DIR (or --job JSON)")
        }
    };
    let access = &globals.access;
    let options = RunOptions {
        program: std::env::current_exe().context("cannot find this program to run the jobs")?,
        ledger: args.ledger.clone(),
        jobs: args.jobs as usize,
        index: args.index,
        sign_key: sign_key.map(|chosen| chosen.source),
        access: JobAccess {
            authfile: access.authfile.clone(),
            insecure_registries: access.insecure_registries.clone(),
            cache_dir: access.cache_dir.clone(),
            registries_conf: access.registries_conf.clone(),
        },
        attach: match args.push_attestation {
            true => Some(access.options(quiet)?),
            false => None,
        },
        verifier_id: args.verifier_id.clone(),
        retry_errors: args.retry_errors,
    };
    let on_event = |event: RunEvent| {
        if quiet {
            return;
        }
        match event {
            RunEvent::Starting {
                to_run,
                already_done,
            } => eprintln!("running {to_run} jobs ({already_done} already in the ledger)"),
            RunEvent::Started { .. } => {}
            RunEvent::Finished {
                job,
                entry,
                done,
                to_run,
            } => {
                let took = entry
                    .finished
                    .duration_since(entry.started)
                    .unwrap_or_default();
                eprintln!(
                    "[{done}/{to_run}] {}:{} {}: {} ({:.1} s)",
                    job.image,
                    job.version,
                    job.platform,
                    serde_json::to_value(entry.verdict)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    took.as_secs_f64()
                );
            }
        }
    };
    let summary = scale_run::run(&plan, &options, &on_event)?;
    println!(
        "ran {} jobs: {} reproducible, {} mismatch, {} error; {} already in the ledger",
        summary.reproducible + summary.mismatch + summary.error,
        summary.reproducible,
        summary.mismatch,
        summary.error,
        summary.already_done
    );
    if summary.refused > 0 {
        anyhow::bail!(
            "refused {} job(s) whose recipe is not the one planned (each entry names both sha256s); plan again to verify with the recipes as they are now",
            summary.refused
        );
    }
    Ok(true)
}

/// The text of `path`, refused when larger than `max` bytes.
fn read_bounded(path: &Path, max: u64) -> anyhow::Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, max + 1), &mut text)
        .with_context(|| format!("cannot read {} as text", path.display()))?;
    if text.len() as u64 > max {
        anyhow::bail!("{} is larger than {max} bytes: not a plan", path.display());
    }
    Ok(text)
}
