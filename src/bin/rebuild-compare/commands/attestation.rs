//! `attestation verify IMAGE|FILE --key PUB`: checks signed attestations
//! and decides each platform.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use rebuild_compare::attest;
use rebuild_compare::attest::keys;
use rebuild_compare::image::platform::Platform;
use rebuild_compare::report;

use super::Globals;
use crate::cli::{AccessArgs, Format, StderrArgs};
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

impl Args {
    /// The global options given after the command.
    pub fn globals(&self) -> (&StderrArgs, Option<&AccessArgs>) {
        let Action::Verify(verify) = &self.action;
        (&verify.stderr, Some(&verify.access))
    }
}

#[derive(Subcommand)]
enum Action {
    /// Check the attestations attached to IMAGE (or the envelope in FILE)
    /// against the given public keys, per platform: the newest valid one
    /// that covers a platform decides it. Exit 0 when every platform
    /// passed, 1 when any failed, 2 otherwise (one unattested or invalid).
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// An image in a registry (REF; its attached attestations are read), or a DSSE envelope file (as `verify --sign-key K --attest FILE` writes).
    #[arg(value_name = "IMAGE|FILE")]
    target: String,
    /// A public key (SPKI PEM, as `key generate` writes) whose signatures count; repeatable.
    #[arg(long = "key", value_name = "PUB", required = true)]
    keys: Vec<PathBuf>,
    /// Only attestations by this verifier (their `--verifier-id`) count.
    #[arg(long, value_name = "URI")]
    verifier_id: Option<String>,
    /// Only this platform of the image (os/arch[/variant]), which it must ship; repeatable. Default: every platform of the image.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

/// Checks the attestations attached to an image, or an envelope file,
/// against the given keys, and decides each platform. Exit 0 when every
/// platform passed, 1 when one failed, 2 otherwise.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let Action::Verify(args) = &args.action;
    let keys = args
        .keys
        .iter()
        .map(|path| keys::PublicKey::read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let options = attest::check::CheckOptions {
        keys: &keys,
        verifier_id: args.verifier_id.as_deref(),
    };
    let path = Path::new(&args.target);
    let report = if path.is_file() {
        attest::lookup::verify_file(path, &args.platforms, &options)?
    } else {
        attest::lookup::verify_image(
            &args.target,
            &args.platforms,
            &globals.access.options(globals.quiet)?,
            &options,
        )?
    };
    output::print(args.format, &report, |out, _| {
        report::attestation::render_text(&report, out)
    })?;
    match report.outcome {
        attest::check::Outcome::Passed => Ok(true),
        attest::check::Outcome::Failed => Ok(false),
        attest::check::Outcome::Unverified if report.platforms.is_empty() => anyhow::bail!(
            "no attestation signed by the given key(s) is valid for {}",
            args.target
        ),
        attest::check::Outcome::Unverified => anyhow::bail!(
            "not every platform of {} has a valid attestation signed by the given key(s)",
            args.target
        ),
    }
}
