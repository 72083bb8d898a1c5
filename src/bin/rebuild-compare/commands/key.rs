//! `key generate --out DIR`: a key pair that signs attestations.

use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use rebuild_compare::attest::keys::{self, SigningKey};

use crate::cli::StderrArgs;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    pub stderr: StderrArgs,
}

#[derive(Subcommand)]
enum Action {
    /// Write DIR/rebuild-compare.key (private, mode 0600) and DIR/rebuild-compare.pub; never overwrites.
    Generate {
        /// The directory to write the key pair in (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "p256")]
        algorithm: Algorithm,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Algorithm {
    /// ECDSA on P-256 with SHA-256 (cosign's default).
    #[value(name = "p256")]
    P256,
    Ed25519,
}

/// A new key pair in `--out DIR`, its paths and key id on stdout.
pub fn run(args: &Args) -> anyhow::Result<bool> {
    let Action::Generate { out, algorithm } = &args.action;
    let key = SigningKey::generate(match algorithm {
        Algorithm::P256 => keys::Algorithm::P256,
        Algorithm::Ed25519 => keys::Algorithm::Ed25519,
    })?;
    let pair = keys::write_pair(&key, out)?;
    println!(
        "private key: {} (keep it secret: give it to `verify --sign-key`)",
        pair.private_key.display()
    );
    println!(
        "public key:  {} (publish it: verifiers check signatures with it)",
        pair.public_key.display()
    );
    println!("key id:      {}", key.key_id());
    Ok(true)
}
