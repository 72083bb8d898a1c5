//! The `rebuild-compare` command line: parses arguments, calls the library,
//! renders, and maps the outcome to an exit code (0 match, 1 differs, 2 error).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use rebuild_compare::diff::{diff_files, DiffOptions};
use rebuild_compare::report;

/// Prove, or disprove, that the binary inside a published container image is
/// the one its public source builds.
#[derive(Parser)]
#[command(
    name = "rebuild-compare",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// More detail on stderr (-v: info, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Compare two binaries section by section and explain the differences
    /// (exit 0 identical, 1 different, 2 error).
    Diff(DiffArgs),
}

/// Arguments of `rebuild-compare diff`.
#[derive(clap::Args)]
struct DiffArgs {
    /// The first file (e.g. the binary from the image).
    a: PathBuf,
    /// The second file (e.g. the rebuilt binary).
    b: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Unchanged hex-dump lines shown around each change.
    #[arg(long, default_value_t = 2)]
    context: usize,
    /// Hex-dump hunks shown per differing section.
    #[arg(long, default_value_t = 8)]
    max_hunks: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result: anyhow::Result<bool> = match cli.command {
        None => Ok(true),
        Some(Command::Diff(args)) => diff(args),
    };
    exit_code(result)
}

/// `rebuild-compare diff A B`: compares the two files, prints the text report
/// (coloured only on a terminal without NO_COLOR) or the JSON `BinaryDiff`,
/// and returns whether they are identical.
fn diff(args: DiffArgs) -> anyhow::Result<bool> {
    let options = DiffOptions {
        context_lines: args.context,
        max_hunks: args.max_hunks,
    };
    let result = diff_files(&args.a, &args.b, &options)?;
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        OutputFormat::Text => {
            report::diff::render_text(&result, &mut out, color).context("writing the report")?
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &result).context("writing JSON")?;
            writeln!(out).context("writing JSON")?;
        }
    }
    out.flush().context("writing the report")?;
    Ok(result.identical)
}

/// Sends library tracing to stderr: `-v` info, `-vv` debug, or whatever `RUST_LOG` says.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .init();
}

/// Maps a command's outcome to the exit code contract: 0 when it matched
/// (identical, reproducible, or plain success), 1 when it differs, 2 on any
/// error. A closed stdout (`| head`) ends the program quietly.
fn exit_code(result: anyhow::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::from(0),
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            let broken_pipe = err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::from(0);
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}
