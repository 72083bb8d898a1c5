//! `extract IMAGE --platform P -o FILE`: the binary one platform runs,
//! written to a file.

use std::path::PathBuf;

use anyhow::Context;
use rebuild_compare::image::platform::Platform;
use rebuild_compare::rootfs::extract::{self, BinaryRequest};

use super::Globals;
use crate::cli::{AccessArgs, StderrArgs};

#[derive(clap::Args)]
pub struct Args {
    /// The image: REF (registry), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    image: String,
    /// The platform to extract from (os/arch[/variant]).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Platform,
    /// The binary's absolute path in the image, instead of Entrypoint/Cmd through PATH.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Where to write the binary (mode 0755).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    force: bool,
    /// Write a file up to this many bytes [default: 20 times its compressed layer, at least 256 MiB].
    #[arg(long, value_name = "BYTES")]
    max_size: Option<u64>,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// Writes the binary one platform runs to `-o FILE` (atomically, mode
/// 0755, never over an existing file without `--force`).
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let image = globals.access.open_image(&args.image, globals.quiet)?;
    let resolved = image.resolve()?;
    let platform_image = image
        .platforms(&resolved, std::slice::from_ref(&args.platform))?
        .into_iter()
        .next()
        .context("the image has no such platform")?;
    let request = BinaryRequest {
        path: args.path.as_deref(),
    };
    let found = extract::extract_to(
        &image,
        &platform_image,
        &request,
        &args.output,
        args.force,
        args.max_size,
    )?;
    if !globals.quiet {
        eprintln!(
            "wrote {} ({} bytes, {}) from {}",
            args.output.display(),
            found.size,
            found.sha256,
            found.located.path
        );
    }
    Ok(true)
}
