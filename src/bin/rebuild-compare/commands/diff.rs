//! `diff A B`: how two binaries differ, section by section, and why.

use std::path::PathBuf;

use anyhow::Context;
use rebuild_compare::diff::{diff_files, DiffOptions};
use rebuild_compare::report;

use crate::cli::{Format, StderrArgs};
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The first file (e.g. the binary from the image).
    a: PathBuf,
    /// The second file (e.g. the rebuilt binary).
    b: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Unchanged hex-dump lines shown around each change.
    #[arg(long, default_value_t = 2)]
    context: usize,
    /// Hex-dump hunks shown per differing section.
    #[arg(long, default_value_t = 8)]
    max_hunks: usize,
    #[command(flatten)]
    pub stderr: StderrArgs,
}

/// Compares the two files, prints the report (text coloured only on a
/// terminal without NO_COLOR, or JSON), and returns whether they are identical.
pub fn run(args: &Args) -> anyhow::Result<bool> {
    let options = DiffOptions {
        context_lines: args.context,
        max_hunks: args.max_hunks,
        ..DiffOptions::default()
    };
    let result = diff_files(&args.a, &args.b, &options)?;
    output::print(args.format, &result, |out, color| {
        report::diff::render_text(&result, out, color)
    })
    .context("writing the report")?;
    Ok(result.identical)
}
