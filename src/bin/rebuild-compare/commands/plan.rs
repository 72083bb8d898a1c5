//! `plan WATCHLIST`: a watch list's jobs, as the plan `run` takes or for a
//! CI engine.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::Context;
use clap::ValueEnum;
use rebuild_compare::scale::emit::{github, k8s, shell};
use rebuild_compare::scale::plan::{self as scale_plan, PlanOptions};
use rebuild_compare::scale::watchlist::WatchList;

use super::Globals;
use crate::cli::{AccessArgs, StderrArgs};
use crate::output;

/// What `plan` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// The plan (`rebuild-compare-plan/1`), the input of `run`.
    Json,
    /// `strategy.matrix` JSON for GitHub Actions.
    GithubMatrix,
    /// A whole GitHub Actions workflow running the plan.
    GithubWorkflow,
    /// A ConfigMap and an Indexed Job for Kubernetes.
    K8sJob,
    /// One `rebuild-compare verify …` command line per job.
    Shell,
}

#[derive(clap::Args)]
pub struct Args {
    /// The watch list (TOML: `[[image]]` with reference, versions, recipe, platforms).
    #[arg(value_name = "WATCHLIST")]
    watchlist: PathBuf,
    /// Leave out the jobs this ledger holds (DIR/jobs/ID/entry.json exists).
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "json")]
    emit: Emit,
    /// For k8s-job (required there): the container image the jobs run in (with rebuild-compare and bwrap).
    #[arg(long, value_name = "REF")]
    job_image: Option<String>,
    /// At most N jobs: the first in watch-list order, then version ascending, then platform.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// For github-workflow and k8s-job: jobs run at a time.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    parallelism: u32,
    /// For k8s-job: the PersistentVolumeClaim the ledger is written to.
    #[arg(long, value_name = "NAME", default_value = k8s::DEFAULT_LEDGER_CLAIM)]
    ledger_claim: String,
    /// For github-workflow: each job also pushes its attestation to the image's registry.
    #[arg(long)]
    push_attestation: bool,
    /// For github-workflow: install rebuild-compare from this https git repository.
    #[arg(
        long,
        value_name = "URL",
        requires = "tool_rev",
        conflicts_with = "tool_version"
    )]
    tool_git: Option<String>,
    /// For github-workflow: the commit of --tool-git to install (40 hex digits).
    #[arg(long, value_name = "COMMIT", requires = "tool_git")]
    tool_rev: Option<String>,
    /// For github-workflow: install this published crate version instead (the plan's version).
    #[arg(long, value_name = "VERSION")]
    tool_version: Option<String>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// Reads the watch list, plans it against the registries and writes the
/// plan in the form asked for. Options that need another `--emit` are
/// refused before any registry is asked.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    if args.emit == Emit::K8sJob && args.job_image.is_none() {
        anyhow::bail!("--emit k8s-job needs --job-image REF: the container image whose rebuild-compare and bwrap run the jobs");
    }
    if args.emit != Emit::K8sJob && args.job_image.is_some() {
        anyhow::bail!("--job-image applies only to --emit k8s-job");
    }
    if args.emit != Emit::GithubWorkflow && args.push_attestation {
        anyhow::bail!("--push-attestation applies only to --emit github-workflow (`run` decides for json plans)");
    }
    if let Some(image) = &args.job_image {
        rebuild_compare::image::reference::Reference::parse(image)?;
    }
    let install = match (&args.tool_git, &args.tool_rev, &args.tool_version) {
        _ if args.emit != Emit::GithubWorkflow => {
            if args.tool_git.is_some() || args.tool_version.is_some() {
                anyhow::bail!("--tool-git, --tool-rev and --tool-version apply only to --emit github-workflow");
            }
            None
        }
        (Some(url), Some(rev), None) => Some(github::ToolInstall::git(url, rev)?),
        (None, None, Some(version)) => Some(github::ToolInstall::Published {
            version: version.clone(),
        }),
        _ => anyhow::bail!(
            "--emit github-workflow needs where the workflow installs rebuild-compare from: \
             --tool-git URL --tool-rev COMMIT (its repository at a pinned commit), \
             or --tool-version VERSION (a published crate)"
        ),
    };
    let watchlist = WatchList::load(&args.watchlist)?;
    let access = globals.access.options(globals.quiet)?;
    let planned = scale_plan::plan(
        &watchlist,
        &access,
        &PlanOptions {
            ledger: args.ledger.as_deref(),
            limit: args.limit,
            concurrency: scale_plan::CONCURRENCY,
        },
        SystemTime::now(),
    )?;
    let plan = &planned.plan;
    let text = match args.emit {
        Emit::Json => serde_json::to_string_pretty(plan)? + "\n",
        Emit::GithubMatrix => serde_json::to_string(&github::matrix(plan)?)? + "\n",
        Emit::GithubWorkflow => github::workflow(
            plan,
            &github::WorkflowOptions {
                parallelism: args.parallelism,
                push_attestation: args.push_attestation,
                install: install.context("the workflow's install is checked above")?,
            },
        )?,
        Emit::K8sJob => k8s::manifests(
            plan,
            &k8s::K8sOptions {
                job_image: args.job_image.clone().unwrap_or_default(),
                parallelism: args.parallelism,
                ledger_claim: args.ledger_claim.clone(),
            },
        )?,
        Emit::Shell => shell::script(plan)?,
    };
    output::write_or_print(args.output.as_deref(), text.as_bytes())?;
    if !globals.quiet {
        for note in &planned.notes {
            eprintln!("note: {note}");
        }
        eprintln!(
            "planned {} jobs ({} already in the ledger, {} over --limit)",
            plan.jobs.len(),
            planned.in_ledger,
            planned.over_limit
        );
    }
    Ok(true)
}
