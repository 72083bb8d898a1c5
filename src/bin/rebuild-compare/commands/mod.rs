//! The commands, one module each with its arguments (`Args`) and its
//! `run`, which returns whether the outcome matched (exit 0) or differs
//! (exit 1); an error is exit 2.

pub mod attestation;
pub mod build;
pub mod diff;
pub mod digest;
pub mod extract;
pub mod inspect;
pub mod key;
pub mod ledger;
pub mod plan;
pub mod recipe;
pub mod run;
pub mod verify;

use std::ffi::OsString;

use clap::Subcommand;

use crate::cli::{AccessArgs, StderrArgs};

/// What every command runs with: the global options from both sides of
/// the command, and the signing key's PEM `main` took out of the environment.
pub struct Globals {
    pub access: AccessArgs,
    pub quiet: bool,
    pub sign_key_env: Option<OsString>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Rebuild IMAGE's binary at VERSION for every platform and compare (the default command).
    Verify(verify::CommandArgs),
    /// Show what an image runs, per platform: digests, Entrypoint, Cmd, Env, layers.
    Inspect(inspect::Args),
    /// Find the binary an image runs (Entrypoint/Cmd through PATH) and print its sha256.
    Digest(digest::Args),
    /// Write the binary an image runs to a file.
    Extract(extract::Args),
    /// Rebuild an image's binary from its public source, per platform, in a sandbox.
    Build(build::Args),
    /// Compare two binaries section by section and explain the differences
    /// (exit 0 identical, 1 different, 2 error).
    Diff(diff::Args),
    /// List the recipes, or print one to copy and edit.
    Recipe(recipe::Args),
    /// Make a key pair that signs attestations (`verify --sign-key`).
    Key(key::Args),
    /// Check signed attestations: those attached to an image, or an envelope file.
    Attestation(attestation::Args),
    /// Plan a watch list's jobs: every release it selects, per image digest
    /// and platform, that the ledger does not hold yet; as JSON or for a CI engine.
    Plan(plan::Args),
    /// Run a plan's jobs on this machine, N at a time, into a ledger (resumable).
    Run(run::Args),
    /// Publish a ledger's verdicts as a static site (index, per-image history, ledger.json, badges).
    Ledger(ledger::Args),
}

impl Command {
    /// The global options given after the command; no access options for a
    /// command that reads no image.
    pub fn globals(&self) -> (&StderrArgs, Option<&AccessArgs>) {
        match self {
            Self::Verify(c) => (&c.stderr, Some(&c.access)),
            Self::Inspect(c) => (&c.stderr, Some(&c.access)),
            Self::Digest(c) => (&c.stderr, Some(&c.access)),
            Self::Extract(c) => (&c.stderr, Some(&c.access)),
            Self::Build(c) => (&c.stderr, Some(&c.access)),
            Self::Diff(c) => (&c.stderr, None),
            Self::Plan(c) => (&c.stderr, Some(&c.access)),
            Self::Run(c) => (&c.stderr, Some(&c.access)),
            Self::Ledger(c) => (&c.stderr, Some(&c.access)),
            Self::Recipe(c) => c.globals(),
            Self::Key(c) => (&c.stderr, None),
            Self::Attestation(c) => c.globals(),
        }
    }

    /// Runs the command.
    pub fn run(&self, globals: &Globals) -> anyhow::Result<bool> {
        match self {
            Self::Verify(c) => verify::run(&c.args, globals),
            Self::Inspect(args) => inspect::run(args, globals),
            Self::Digest(args) => digest::run(args, globals),
            Self::Extract(args) => extract::run(args, globals),
            Self::Build(args) => build::run(args, globals),
            Self::Diff(args) => diff::run(args),
            Self::Recipe(args) => recipe::run(args, globals),
            Self::Key(args) => key::run(args),
            Self::Attestation(args) => attestation::run(args, globals),
            Self::Plan(args) => plan::run(args, globals),
            Self::Run(args) => run::run(args, globals),
            Self::Ledger(args) => ledger::run(args, globals),
        }
    }
}
