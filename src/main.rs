//! The `rebuild-compare` command line: parses arguments, calls the library,
//! renders, and maps the outcome to an exit code (0 match, 1 differs, 2 error).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Prove, or disprove, that the binary inside a published container image is
/// the one its public source builds.
#[derive(Parser)]
#[command(name = "rebuild-compare", version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    /// More detail on stderr (-v: info, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result: anyhow::Result<bool> = match cli.command {
        None => Ok(true),
    };
    exit_code(result)
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
