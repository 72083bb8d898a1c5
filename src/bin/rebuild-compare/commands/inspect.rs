//! `inspect IMAGE`: what an image runs, per platform.

use rebuild_compare::image::platform::Platform;
use rebuild_compare::report;

use super::Globals;
use crate::cli::{AccessArgs, Format, StderrArgs};
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    /// The image: REF (registry), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    image: String,
    /// Only this platform (os/arch[/variant]); repeatable. Default: every platform.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// Resolves the image and prints, per platform, what it runs. Always
/// "matches": success is exit 0.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let image = globals.access.open_image(&args.image, globals.quiet)?;
    let report = image.inspect(&args.platforms)?;
    output::print(args.format, &report, |out, _| {
        report::inspect::render_text(&report, out)
    })?;
    Ok(true)
}
