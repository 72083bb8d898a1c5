//! The `rebuild-compare` command line: parses arguments, calls the library,
//! renders, and maps the outcome to an exit code (0 match, 1 differs, 2 error).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use rebuild_compare::build::{self, BuildError, BuildOptions};
use rebuild_compare::platform::Platform;
use rebuild_compare::recipe::{Catalogue, Recipe};
use rebuild_compare::sandbox::BuilderRoot;
use rebuild_compare::source;

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
    /// Rebuild an image's binary from its public source, per platform, in a sandbox.
    Build(BuildArgs),
}

/// How results are printed.
#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(clap::Args)]
struct BuildArgs {
    /// The version to rebuild, as tagged (`v1.30.0`).
    version: String,
    /// The image whose recipe to use, looked up in the catalogue (`rancher/crictl`).
    #[arg(required_unless_present = "recipe", conflicts_with = "recipe")]
    image: Option<String>,
    /// Use this recipe file instead of the catalogue.
    #[arg(long, value_name = "FILE")]
    recipe: Option<PathBuf>,
    /// Build from this git URL or local repository instead of the recipe's `source.git`.
    #[arg(long, value_name = "URL|PATH")]
    source: Option<String>,
    /// Build only this platform (repeatable; default: every platform of the recipe).
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    /// Where artifacts and logs go [default: ./rebuild-out/VERSION].
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Git mirrors and dependency caches [default: $XDG_CACHE_HOME/rebuild-compare].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Kill a platform's build after this long (`30m`, `2h`).
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = humantime::parse_duration)]
    build_timeout: Duration,
    /// Build without bubblewrap isolation (reported as `"sandboxed": false`).
    #[arg(long)]
    no_sandbox: bool,
    /// Add (or override) recipes from this directory's `*.toml` files.
    #[arg(long, value_name = "DIR")]
    recipes: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result: anyhow::Result<bool> = match cli.command {
        None => Ok(true),
        Some(Command::Build(args)) => build(args, &resolve_builder_image),
    };
    exit_code(result)
}

/// Rebuilds every requested platform of the recipe and prints where the
/// artifacts are with their digests. `Ok(true)` when all built; a platform
/// that failed is reported with the others and then makes it an error (exit 2).
fn build(args: BuildArgs, resolve_builder: &build::BuilderResolver<'_>) -> anyhow::Result<bool> {
    let recipe = match (&args.recipe, &args.image) {
        (Some(path), _) => Recipe::load(path)?,
        (None, Some(image)) => {
            let catalogue = match &args.recipes {
                Some(dir) => Catalogue::with_dir(dir)?,
                None => Catalogue::builtin()?,
            };
            catalogue.lookup(image)?.clone()
        }
        (None, None) => anyhow::bail!("give an IMAGE or --recipe FILE"),
    };
    let platforms = build::select_platforms(&recipe, &args.platforms)?;
    let cache_dir = match args.cache_dir {
        Some(dir) => dir,
        None => source::default_cache_dir()
            .context("no cache directory: set XDG_CACHE_HOME or HOME, or pass --cache-dir")?,
    };
    let options = BuildOptions {
        out_dir: args
            .out_dir
            .unwrap_or_else(|| build::default_out_dir(&args.version)),
        cache_dir,
        timeout: args.build_timeout,
        sandboxed: !args.no_sandbox,
    };
    let plan = build::plan(
        &recipe,
        &args.version,
        args.source.as_deref(),
        options,
        resolve_builder,
    )?;
    let report = build::build_all(&plan, &platforms);
    match args.format {
        Format::Text => print!("{}", build::render_text(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
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

/// Turns a recipe's builder image into a rootfs. The image puller is not in
/// this build yet, so image builders are refused with a clear message.
fn resolve_builder_image(reference: &str) -> Result<BuilderRoot, BuildError> {
    Err(BuildError::Builder {
        reference: reference.to_string(),
        message: "builder images need the image puller, which is not part of this build yet; use a recipe with builder = \"host\"".to_string(),
    })
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
