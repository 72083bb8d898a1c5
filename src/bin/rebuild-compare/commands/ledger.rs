//! `ledger DIR --site OUT`: a ledger's verdicts published as a static site.

use std::path::PathBuf;

use anyhow::Context;
use rebuild_compare::attest::keys;
use rebuild_compare::scale::watchlist::WatchList;
use rebuild_compare::scale::{ledger, site};

use super::Globals;
use crate::cli::{AccessArgs, StderrArgs};

#[derive(clap::Args)]
pub struct Args {
    /// The ledger directory (`LEDGER/jobs/<id>/entry.json`, as `run` writes it).
    dir: PathBuf,
    /// Write the site here: a new or empty directory, or a site written before (replaced whole).
    #[arg(long, value_name = "OUT", required = true)]
    site: PathBuf,
    /// Also publish the signed attestations attached to this watch list's releases in their registries (needs --key).
    #[arg(long, value_name = "WATCHLIST", requires = "keys")]
    from_registry: Option<PathBuf>,
    /// With --from-registry: a public key (SPKI PEM) whose attestations count; repeatable.
    #[arg(long = "key", value_name = "PUB", requires = "from_registry")]
    keys: Vec<PathBuf>,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// Reads every finished job's entry.json and writes the site. Success is
/// exit 0 whatever the verdicts.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let quiet = globals.quiet;
    let mut records = ledger::read_ledger(&args.dir)?;
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    if let Some(watch_list) = &args.from_registry {
        let keys = args
            .keys
            .iter()
            .map(|path| keys::PublicKey::read(path))
            .collect::<Result<Vec<_>, _>>()?;
        let watch_list = WatchList::load(watch_list)?;
        let attested = ledger::attested::registry_records(
            &watch_list,
            &keys,
            &globals.access.options(quiet)?,
            scratch.path(),
        )?;
        if !quiet {
            for note in &attested.notes {
                eprintln!("note: {note}");
            }
            eprintln!(
                "read {} verdicts from signed attestations in the registries",
                attested.records.len()
            );
        }
        records.extend(attested.records);
    }
    let totals = site::write_site(&records, &args.site)?;
    if !quiet {
        eprintln!(
            "wrote {}: {} images, {} versions, {} runs ({} reproducible, {} mismatch, {} error)",
            args.site.display(),
            totals.images,
            totals.versions,
            totals.runs,
            totals.reproducible,
            totals.mismatch,
            totals.error
        );
    }
    Ok(true)
}
