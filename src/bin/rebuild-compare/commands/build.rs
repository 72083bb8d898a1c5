//! `build VERSION [IMAGE]`: rebuilds a recipe's platforms in the sandbox.

use std::io::Write;

use rebuild_compare::image::platform::Platform;
use rebuild_compare::rebuild::build;
use rebuild_compare::rebuild::builder;
use rebuild_compare::rebuild::plan::ReleasePlan;

use super::Globals;
use crate::cli::{AccessArgs, Format, RebuildArgs, StderrArgs};
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The version to rebuild, as tagged (`v1.30.0`).
    #[arg(value_name = "VERSION")]
    release: String,
    /// The image whose recipe to use, looked up in the catalogue (`rancher/crictl`).
    #[arg(required_unless_present = "recipe")]
    image: Option<String>,
    /// Build only this platform (repeatable; default: every platform of the recipe).
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    rebuild: RebuildArgs,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// Rebuilds every requested platform of the recipe and prints where the
/// artifacts are with their digests. A platform that failed is reported
/// with the others and then makes it an error (exit 2).
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let quiet = globals.quiet;
    let (recipe, note) = args.rebuild.recipe(args.image.as_deref())?;
    if let (Some(note), false) = (note, quiet) {
        eprintln!("note: {note}");
    }
    let platforms = build::select_platforms(&recipe, &args.platforms)?;
    build::check_standalone(&recipe)?;
    let access = globals.access.options(quiet)?;
    let resolve_builder = |reference: &str| builder::resolve(reference, &access);
    let plan = build::plan(
        ReleasePlan::render(&recipe, &args.release),
        args.rebuild.source.as_deref(),
        args.rebuild.options(&args.release, &access),
        &resolve_builder,
    )?;
    let report = build::build_all(&plan, &platforms);
    output::print(args.format, &report, |out, _| {
        out.write_all(build::render_text(&report).as_bytes())
    })?;
    if report.failed.is_empty() {
        return Ok(true);
    }
    let failed: Vec<String> = report
        .failed
        .iter()
        .map(|f| format!("{}: {}", f.platform, f.error))
        .collect();
    anyhow::bail!(
        "{} of {} platform builds failed\n{}",
        report.failed.len(),
        platforms.len(),
        failed.join("\n")
    )
}
