//! `digest IMAGE`: the sha256 of the binary each platform runs.

use rebuild_compare::image::platform::Platform;
use rebuild_compare::report;
use rebuild_compare::rootfs::extract::{self, BinaryRequest, DigestReport};

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
    /// The binary's absolute path in the image, instead of Entrypoint/Cmd through PATH.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

/// Locates the binary each platform runs and prints its sha256, reading
/// only the layers the answer needs. Success is exit 0.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let image = globals.access.open_image(&args.image, globals.quiet)?;
    let resolved = image.resolve()?;
    let request = BinaryRequest {
        path: args.path.as_deref(),
    };
    let mut platforms = Vec::new();
    for platform_image in image.platforms(&resolved, &args.platforms)? {
        let found = extract::digest_binary(&image, &platform_image, &request).map_err(|error| {
            PlatformFailed {
                platform: platform_image.platform.clone(),
                error,
            }
        })?;
        platforms.push((&found).into());
    }
    let report = DigestReport {
        reference: resolved.reference,
        digest: resolved.digest,
        platforms,
    };
    output::print(args.format, &report, |out, _| {
        report::digest::render_text(&report, out)
    })?;
    Ok(true)
}

/// One platform's failure, with the platform and the reason on one line
/// (`linux/arm64: program "app" not found: ...`); the reason's own causes follow.
#[derive(Debug)]
struct PlatformFailed {
    platform: Platform,
    error: extract::ExtractError,
}

impl std::fmt::Display for PlatformFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.platform, self.error)
    }
}

impl std::error::Error for PlatformFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}
