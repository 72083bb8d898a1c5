//! The `rebuild-compare` command line: takes the signing key out of the
//! environment, parses the arguments, runs the command, and maps its
//! outcome to an exit code (0 match, 1 differs, 2 error).

mod cli;
mod commands;
mod generate;
mod output;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use rebuild_compare::attest::keys::SIGN_KEY_ENV;

use crate::cli::Cli;
use crate::commands::Globals;

fn main() -> ExitCode {
    // Taken out of the environment before any thread or child process
    // starts, so that no build, credential helper or tool ever sees it.
    let sign_key_env = std::env::var_os(SIGN_KEY_ENV).filter(|v| !v.is_empty());
    std::env::remove_var(SIGN_KEY_ENV);
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let (stderr, access) = cli::globals(&cli, &matches).unwrap_or_else(|message| {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit()
    });
    if let Some(kind) = cli.generate {
        return exit_code(generate::generate(kind, &mut std::io::stdout().lock()).map(|()| true));
    }
    init_logging(stderr.verbose);
    let globals = Globals {
        access,
        quiet: stderr.quiet,
        sign_key_env,
    };
    exit_code(match &cli.command {
        Some(command) => command.run(&globals),
        None => commands::verify::run(&cli.verify, &globals),
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
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_timer(tracing_subscriber::fmt::time::Uptime::default())
        .init();
}

/// Maps a command's outcome to the exit code contract: 0 when it matched
/// (identical, reproducible, or plain success), 1 when it differs, 2 on any
/// error, printed on one line with its causes
/// ([`rebuild_compare::error_chain`]). A closed stdout (`| head`) ends the
/// program quietly.
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
            eprintln!("{}", error_line(&err));
            ExitCode::from(2)
        }
    }
}

/// `error: MESSAGE: CAUSE: ROOT CAUSE`, each cause said once.
fn error_line(err: &anyhow::Error) -> String {
    format!("error: {}", rebuild_compare::error_chain(err.as_ref()))
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {what}: {source}")]
    struct Says {
        what: &'static str,
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("reading {what}")]
    struct Hides {
        what: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let err = anyhow::Error::new(Says {
            what: "the layer",
            source: std::io::Error::other("connection reset"),
        });
        assert_eq!(
            super::error_line(&err),
            "error: reading the layer: connection reset"
        );
    }

    #[test]
    fn a_cause_not_in_the_message_follows_it_on_the_same_line() {
        let err = anyhow::Error::new(Hides {
            what: "the layer",
            source: std::io::Error::other("connection reset"),
        })
        .context("cannot open the image");
        assert_eq!(
            super::error_line(&err),
            "error: cannot open the image: reading the layer: connection reset"
        );
    }

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
