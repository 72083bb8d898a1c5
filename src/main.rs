//! The `rebuild-compare` command line: parses arguments, calls the library,
//! renders, and maps the outcome to an exit code (0 match, 1 differs, 2 error).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use rebuild_compare::cache::Cache;
use rebuild_compare::diff::{diff_files, DiffOptions};
use rebuild_compare::image::{AccessOptions, Image};
use rebuild_compare::platform::Platform;
use rebuild_compare::progress::SharedProgress;
use rebuild_compare::reference::ImageLocation;
use rebuild_compare::report;
use rebuild_compare::report::progress::TerminalProgress;

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
    /// No progress output.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Show what an image runs, per platform: digests, Entrypoint, Cmd, Env, layers.
    Inspect(InspectArgs),
    /// Compare two binaries section by section and explain the differences
    /// (exit 0 identical, 1 different, 2 error).
    Diff(DiffArgs),
}

/// Output format shared by every command.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// How to reach images: shared by every command that reads one.
#[derive(Args)]
struct AccessArgs {
    /// Credentials file (Docker config.json format) instead of REGISTRY_AUTH_FILE or ~/.docker/config.json.
    #[arg(long, value_name = "FILE")]
    authfile: Option<PathBuf>,
    /// Reach this registry over plain HTTP (loopback registries always are). Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    insecure_registries: Vec<String>,
    /// Cache directory [default: $XDG_CACHE_HOME/rebuild-compare].
    #[arg(long, value_name = "DIR", env = "REBUILD_COMPARE_CACHE")]
    cache_dir: Option<PathBuf>,
}

impl AccessArgs {
    fn options(&self, quiet: bool) -> anyhow::Result<AccessOptions> {
        Ok(AccessOptions {
            authfile: self.authfile.clone(),
            insecure_registries: self.insecure_registries.clone(),
            progress: progress(quiet),
            ..AccessOptions::new(Cache::new(self.cache_dir.as_deref())?)
        })
    }
}

/// Progress bars on stderr when it is a terminal and `--quiet` is not given.
fn progress(quiet: bool) -> SharedProgress {
    if !quiet && std::io::stderr().is_terminal() {
        Arc::new(TerminalProgress::new())
    } else {
        rebuild_compare::progress::silent()
    }
}

#[derive(Args)]
struct InspectArgs {
    /// The image: REF (registry), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    image: String,
    /// Only this platform (os/arch[/variant]); repeatable. Default: every platform.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    access: AccessArgs,
}

/// Arguments of `rebuild-compare diff`.
#[derive(Args)]
struct DiffArgs {
    /// The first file (e.g. the binary from the image).
    a: PathBuf,
    /// The second file (e.g. the rebuilt binary).
    b: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Unchanged hex-dump lines shown around each change.
    #[arg(long, default_value_t = 2)]
    context: usize,
    /// Hex-dump hunks shown per differing section.
    #[arg(long, default_value_t = 8)]
    max_hunks: usize,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result: anyhow::Result<bool> = match cli.command {
        Some(Command::Inspect(args)) => inspect(&args, cli.quiet),
        Some(Command::Diff(args)) => diff(args),
        None => Ok(true),
    };
    exit_code(result)
}

/// `inspect`: resolves the image and prints, per platform, what it runs.
/// Always "matches": success is exit 0.
fn inspect(args: &InspectArgs, quiet: bool) -> anyhow::Result<bool> {
    let image = open_image(&args.image, &args.access, quiet)?;
    let report = rebuild_compare::inspect::inspect(&image, &args.platforms)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => report::inspect::render_text(&report, &mut out)?,
    }
    Ok(true)
}

fn open_image(image: &str, access: &AccessArgs, quiet: bool) -> anyhow::Result<Image> {
    let location = ImageLocation::parse(image)?;
    Image::open(&location, &access.options(quiet)?)
        .with_context(|| format!("cannot open {location}"))
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
        Format::Text => {
            report::diff::render_text(&result, &mut out, color).context("writing the report")?
        }
        Format::Json => {
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
