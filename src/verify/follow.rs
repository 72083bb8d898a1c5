//! A platform's build run while its log is followed on the terminal: the
//! one way the recipe's rebuild, the adjusted rebuilds of the closest
//! rebuild and the inferred candidates are built.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::image::AccessOptions;
use crate::rebuild::build::{BuildPlan, BuiltArtifact, PlatformBuild};

/// Runs a prepared platform build while its log (beside `dest`) is
/// followed on the terminal.
pub(super) fn follow_build(
    access: &AccessOptions,
    plan: &BuildPlan,
    prepared: &PlatformBuild,
    dest: &Path,
    label: &str,
) -> Result<BuiltArtifact, crate::rebuild::build::BuildError> {
    let done = AtomicBool::new(false);
    let progress = access.progress.as_ref();
    std::thread::scope(|scope| {
        let follower = scope.spawn(|| {
            let log = dest.with_file_name("build.log");
            crate::progress::follow_log(&log, label, progress, &done)
        });
        let built = crate::rebuild::build::build_platform(plan, prepared);
        done.store(true, Ordering::Relaxed);
        let _ = follower.join();
        progress.build_done(label, built.is_ok());
        built
    })
}
