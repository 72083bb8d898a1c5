//! The closest rebuild of a platform the recipe's rebuild does not
//! reproduce: rebuilds with the inputs its published Go binary records
//! ([`crate::rebuild::adjust`]), at most `--max-adjustments` of them, each
//! in `OUT/<platform>/adjusted/N/`, and the one the verdict and the diff
//! then rest on: one that reproduces the image binary, else the one with
//! the fewest differing bytes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::follow::follow_build;
use super::outcome::{
    AdjustedRebuild, Adjustments, ConfirmedCause, PlatformResult, PlatformVerdict, Rebuilt,
};
use crate::binary::Binary;
use crate::diff::Cause;
use crate::image::platform::Platform;
use crate::rebuild::adjust::{self, Adjustment, InputChange, InputKind};
use crate::rebuild::build::{
    plan_pinned, platform_dir_name, prepare_platform, BuildOptions, BuildPlan, BuilderResolver,
    BuiltArtifact, PlatformBuild,
};
use crate::rebuild::plan::ReleasePlan;
use crate::rebuild::sandbox::SOURCE_MOUNT;
use crate::rootfs::extract::FoundBinary;

/// The adjusted recipe that reproduced a platform, beside its report.
pub const ADJUSTED_RECIPE: &str = "adjusted-recipe.toml";

/// The recipe's build of one platform, as the adjusted ones start from it.
pub(super) struct RecipeBuild<'a> {
    pub access: &'a crate::image::AccessOptions,
    /// `--max-adjustments`: at most this many adjusted rebuilds.
    pub max_adjustments: usize,
    pub plan: &'a BuildPlan,
    pub resolver: &'a BuilderResolver<'a>,
    pub platform: &'a Platform,
    pub prepared: &'a PlatformBuild,
    pub built: &'a BuiltArtifact,
}

/// The rebuild a platform is compared with, and what the others showed.
pub(super) struct Closest {
    pub built: BuiltArtifact,
    pub prepared: PlatformBuild,
    /// `recipe` or `adjusted:N`.
    pub label: String,
    pub adjusted: BTreeMap<String, InputChange>,
    pub adjustments: Adjustments,
}

/// Tries adjusted rebuilds of a Go binary the recipe's rebuild does not
/// reproduce; `None` when either binary is not Go or cannot be read, or
/// when it records no input that differs from the rebuild's.
pub(super) fn closest(from: &RecipeBuild<'_>, found: &FoundBinary) -> Option<Closest> {
    let published_info = found.binary.as_ref()?.go_build_info()?;
    let published = std::fs::read(&found.extracted).ok()?;
    let rebuilt = std::fs::read(&from.built.path).ok()?;
    let rebuilt_binary = Binary::parse(&rebuilt);
    let rebuilt_info = rebuilt_binary.go_build_info()?;
    let dir = from
        .prepared
        .rendered
        .workdir
        .as_deref()
        .unwrap_or(SOURCE_MOUNT);
    let differences = adjust::differences(
        &published,
        published_info,
        &adjust::Rebuild {
            binary: &rebuilt,
            info: rebuilt_info,
            dir,
            builder: &from.prepared.builder,
            source_date_epoch: from.prepared.source_date_epoch,
            sandboxed: from.plan.options.sandboxed,
        },
    );
    let tries = differences.adjustments();
    if tries.is_empty() && differences.notes.is_empty() {
        return None;
    }
    let recipe_differing_bytes = differing_bytes(&published, &rebuilt);
    let mut closest = Closest {
        built: from.built.clone(),
        prepared: from.prepared.clone(),
        label: "recipe".into(),
        adjusted: BTreeMap::new(),
        adjustments: Adjustments {
            recipe_rebuilt: rebuilt_of(from.built),
            recipe_differing_bytes,
            rebuilds: Vec::new(),
            adjusted_recipe: None,
            notes: differences.notes.clone(),
        },
    };
    let mut fewest = recipe_differing_bytes;
    let platform_dir = from
        .plan
        .options
        .out_dir
        .join(platform_dir_name(from.platform));
    for (n, adjustment) in tries.iter().take(from.max_adjustments).enumerate() {
        let label = format!("adjusted:{}", n + 1);
        let dir = platform_dir.join("adjusted").join((n + 1).to_string());
        let mut tried = AdjustedRebuild {
            label: label.clone(),
            adjusted: adjustment.changes.clone(),
            recipe: None,
            rebuilt: None,
            differing_bytes: None,
            error: None,
        };
        match build_adjusted(from, &published, adjustment, &dir, &label, &mut tried) {
            Ok((built, prepared, bytes)) => {
                let reproduced = built.sha256 == found.sha256;
                if reproduced || bytes < fewest {
                    fewest = bytes;
                    closest.built = built;
                    closest.prepared = prepared;
                    closest.label = label;
                    closest.adjusted = adjustment.changes.clone();
                }
                if reproduced {
                    let saved = platform_dir.join(ADJUSTED_RECIPE);
                    let written = tried.recipe.as_ref().map(|recipe| {
                        std::fs::copy(recipe, &saved).map_err(|e| {
                            format!(
                                "cannot save the adjusted recipe to {}: {e}",
                                saved.display()
                            )
                        })
                    });
                    match written {
                        Some(Ok(_)) => {
                            closest.adjustments.adjusted_recipe = Some(saved.display().to_string())
                        }
                        Some(Err(e)) => closest.adjustments.notes.push(e),
                        None => {}
                    }
                    closest.adjustments.rebuilds.push(tried);
                    break;
                }
            }
            Err(e) => tried.error = Some(e),
        }
        closest.adjustments.rebuilds.push(tried);
    }
    if tries.len() > from.max_adjustments {
        closest.adjustments.notes.push(format!(
            "{} adjusted rebuild(s) not tried: --max-adjustments is {}",
            tries.len() - from.max_adjustments,
            from.max_adjustments
        ));
    }
    Some(closest)
}

/// Builds one adjusted recipe in `dir`: the artifact, its platform build
/// and the bytes in which it differs from the image binary (`published`). `tried`
/// records where its recipe was written and what it built.
fn build_adjusted(
    from: &RecipeBuild<'_>,
    published: &[u8],
    adjustment: &Adjustment,
    dir: &Path,
    label: &str,
    tried: &mut AdjustedRebuild,
) -> Result<(BuiltArtifact, PlatformBuild, u64), String> {
    let origin = dir.join("recipe.toml");
    let (recipe, text) = adjustment
        .recipe(
            &from.plan.release.recipe,
            from.platform,
            &origin.display().to_string(),
        )
        .map_err(|e| format!("adjusted recipe: {}", crate::error_chain(&e)))?;
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&origin, text))
        .map_err(|e| format!("cannot write {}: {e}", origin.display()))?;
    tried.recipe = Some(origin.display().to_string());
    let options = BuildOptions {
        out_dir: dir.to_path_buf(),
        ..from.plan.options.clone()
    };
    let rebuild_error =
        |e: crate::rebuild::build::BuildError| format!("rebuild: {}", crate::error_chain(&e));
    let plan = plan_pinned(
        ReleasePlan::render(&recipe, &from.plan.release.version),
        from.plan.source.clone(),
        options,
        from.resolver,
    )
    .map_err(rebuild_error)?;
    let prepared = prepare_platform(
        &plan,
        from.platform,
        from.prepared.rendered.inputs.clone(),
        from.resolver,
    )
    .map_err(rebuild_error)?;
    let log_dir: PathBuf = dir.join(platform_dir_name(from.platform));
    let built = follow_build(
        from.access,
        &plan,
        &prepared,
        &log_dir.join("image"),
        &format!("{} ({label})", from.platform),
    )
    .map_err(rebuild_error)?;
    tried.rebuilt = Some(rebuilt_of(&built));
    let bytes = std::fs::read(&built.path)
        .map_err(|e| format!("cannot read {}: {e}", built.path.display()))?;
    let differing = differing_bytes(published, &bytes);
    tried.differing_bytes = Some(differing);
    Ok((built, prepared, differing))
}

/// Bytes in which two files differ, the sides aligned where their sizes
/// differ ([`crate::diff::ranges::byte_changes`]).
fn differing_bytes(a: &[u8], b: &[u8]) -> u64 {
    crate::diff::ranges::byte_changes(a, b).differing_bytes
}

fn rebuilt_of(built: &BuiltArtifact) -> Rebuilt {
    Rebuilt {
        sha256: built.sha256.clone(),
        size: built.size,
        path: built.path.display().to_string(),
        log: built.log.display().to_string(),
    }
}

/// Records the comparison's rebuild in a concluded platform result; a
/// reproduction that took a program input keeps the verdict at
/// `mismatch`, with that cause confirmed.
pub(super) fn record(result: &mut PlatformResult, closest: Closest) {
    let program: Vec<(&String, &InputChange)> = closest
        .adjusted
        .iter()
        .filter(|(_, c)| c.kind == InputKind::Program)
        .collect();
    let reproduced = result.verdict == PlatformVerdict::Reproducible
        || result
            .image_binary
            .as_ref()
            .is_some_and(|b| b.sha256 == closest.built.sha256);
    if reproduced && !program.is_empty() {
        result.verdict = PlatformVerdict::Mismatch;
        for (name, _) in &program {
            let cause = program_cause(name);
            if !result.causes.contains(&cause) {
                result.causes.push(cause);
            }
        }
        let environment: Vec<&str> = closest
            .adjusted
            .iter()
            .filter(|(_, c)| c.kind == InputKind::Environment)
            .map(|(name, _)| name.as_str())
            .collect();
        let mut reason = format!(
            "reproduces exactly with {}",
            program
                .iter()
                .map(|(name, change)| describe(name, change))
                .collect::<Vec<_>>()
                .join("; ")
        );
        if !environment.is_empty() {
            reason.push_str(&format!(
                " (and the published build environment: {})",
                environment.join(", ")
            ));
        }
        let (input, change) = program[0];
        result.confirmed_cause = Some(ConfirmedCause {
            input: input.clone(),
            value: change.published.clone().unwrap_or_default(),
            reason,
        });
    }
    result.compared_against = Some(closest.label);
    result.adjusted = closest.adjusted;
    result.adjustments = Some(closest.adjustments);
}

/// The cause code a changed program input confirms.
fn program_cause(input: &str) -> Cause {
    if input.starts_with("-X ") || input == "-ldflags" {
        Cause::LdflagsValues
    } else if input == "toolchain" {
        Cause::Toolchain
    } else {
        Cause::BuildSettings
    }
}

/// `` `-X main.endpoint=https://…`, which the recipe does not set ``.
fn describe(input: &str, change: &InputChange) -> String {
    let setting = |value: &str| match input.strip_prefix("-X ") {
        Some(variable) => format!("-X {variable}={value}"),
        None => format!("{input}={value}"),
    };
    match (&change.published, &change.recipe) {
        (Some(published), None) => {
            format!("`{}`, which the recipe does not set", setting(published))
        }
        (Some(published), Some(recipe)) => {
            format!("`{}`, where the recipe has `{recipe}`", setting(published))
        }
        (None, Some(recipe)) => {
            format!("no {input}, where the recipe sets `{}`", setting(recipe))
        }
        (None, None) => input.to_string(),
    }
}
