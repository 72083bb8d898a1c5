//! Text rendering of a [`VerifyReport`]: a header naming what was compared,
//! a table a person reads at a glance (fits 80 columns), then for each
//! mismatch its top explanations and differing sections.

use std::io::{self, Write};

use crate::diff::SectionStatus;
use crate::distro::Package;
use crate::image::digest::Digest;
use crate::rebuild::sandbox::BuilderRoot;
use crate::verify::{CheckStatus, PlatformResult, PlatformVerdict, Verdict, VerifyReport};

use super::units::bytes;

/// How many explanations and sections a mismatch shows.
const TOP: usize = 5;

/// Writes the report as text; `color` adds ANSI colours to verdicts.
pub fn render_text(report: &VerifyReport, w: &mut impl Write, color: bool) -> io::Result<()> {
    if report.recipe.inferred {
        writeln!(w, "recipe: inferred (saved to {})", report.recipe.path)?;
    }
    writeln!(w, "Image    {}", report.image.reference)?;
    writeln!(w, "         {}", report.image.digest)?;
    // A source package is pinned by its .dsc's digest, a git tag by its commit.
    let pinned_by = match report.source.commit.strip_prefix("sha256:") {
        Some(hex) => format!("sha256 {}", short_commit(hex)),
        None => format!("commit {}", short_commit(&report.source.commit)),
    };
    writeln!(
        w,
        "Source   {} {} ({pinned_by})",
        report.source.url, report.source.git_ref
    )?;
    writeln!(
        w,
        "Recipe   {} ({})",
        report.recipe.path, report.recipe.sha256
    )?;
    let builder = match &report.builder {
        Some(builder) => builder_text(builder),
        None => "per platform, see below".to_string(),
    };
    let sandbox = if report.sandboxed {
        "sandboxed"
    } else {
        "NOT SANDBOXED (--no-sandbox)"
    };
    writeln!(w, "Builder  {builder} ({sandbox})")?;
    writeln!(w)?;
    writeln!(
        w,
        "{:<14} {:<13} {:<13} {:<13} VERDICT",
        "PLATFORM", "IMAGE BINARY", "REBUILT", "PUBLISHED"
    )?;
    for p in &report.platforms {
        let image = p.image_binary.as_ref().map(|b| &b.sha256);
        let rebuilt = p.rebuilt.as_ref().map(|b| &b.sha256);
        let published = match p.published_skipped {
            true => "skipped".to_string(),
            false => short(p.published.as_ref().map(|b| &b.sha256)),
        };
        writeln!(
            w,
            "{:<14} {:<13} {:<13} {:<13} {}",
            p.platform,
            short(image),
            short(rebuilt),
            published,
            paint(verdict_word(p.verdict), p.verdict, color)
        )?;
    }
    for p in &report.platforms {
        render_details(p, report.builder.is_some(), w)?;
    }
    writeln!(w)?;
    for note in &report.notes {
        writeln!(w, "note: {note}")?;
    }
    let given_inputs = report
        .platforms
        .iter()
        .any(|p| !p.inputs.is_empty() || !p.adjusted.is_empty());
    let overall = match report.verdict {
        Verdict::Reproducible if given_inputs => format!(
            "{} given the published inputs listed above",
            paint("REPRODUCIBLE", PlatformVerdict::Reproducible, color)
        ),
        Verdict::Reproducible => paint("REPRODUCIBLE", PlatformVerdict::Reproducible, color),
        Verdict::Mismatch => paint("MISMATCH", PlatformVerdict::Mismatch, color),
        Verdict::Error => paint("ERROR", PlatformVerdict::Error, color),
    };
    writeln!(w, "verdict: {overall}")
}

fn builder_text(builder: &BuilderRoot) -> String {
    match builder {
        BuilderRoot::Host => "host".to_string(),
        BuilderRoot::Image {
            reference, digest, ..
        } => format!("{reference}@{digest}"),
    }
}

/// `tree 2.1.0-1 (amd64, dpkg), from source tree`, with the source
/// version when a binNMU's differs.
pub(super) fn package_text(package: &Package) -> String {
    let source = match &package.source_version {
        Some(version) => format!("{} {version}", package.source),
        None => package.source.clone(),
    };
    format!(
        "{} {} ({}, {}), from source {source}",
        package.name, package.version, package.architecture, package.manager
    )
}

fn render_details(p: &PlatformResult, common_builder: bool, w: &mut impl Write) -> io::Result<()> {
    let interesting = !p.cross_checks.is_empty()
        || p.package.is_some()
        || !p.inputs.is_empty()
        || p.candidates.is_some()
        || p.adjustments.is_some()
        || (!common_builder && p.builder.is_some())
        || p.error.is_some()
        || p.diff.is_some()
        || p.published.as_ref().is_some_and(|x| !x.matches_image)
        || p.published_skipped;
    if !interesting {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(w, "{} ({}):", p.platform, verdict_word(p.verdict))?;
    if let Some(b) = &p.image_binary {
        writeln!(w, "  image binary {} ({})", b.path, bytes(b.size))?;
    }
    if let Some(package) = &p.package {
        writeln!(w, "  package {}", package_text(package))?;
    }
    if let (false, Some(builder)) = (common_builder, &p.builder) {
        writeln!(w, "  builder {}", builder_text(builder))?;
    }
    for (name, value) in &p.inputs {
        writeln!(
            w,
            "  input {{{name}}} = {value} (read from the image binary)"
        )?;
    }
    for (i, candidate) in p.candidates.iter().flatten().enumerate() {
        let outcome = match (&candidate.error, candidate.verdict) {
            (Some(error), _) => format!("error: {}", error.lines().next().unwrap_or_default()),
            (None, verdict) => verdict_word(verdict).to_string(),
        };
        writeln!(w, "  candidate {} ({}): {outcome}", i + 1, candidate.label)?;
        if !candidate.changes.is_empty() {
            writeln!(w, "    changed: {}", candidate.changes.join("; "))?;
        }
    }
    render_adjustments(p, w)?;
    for check in &p.cross_checks {
        match check.status {
            CheckStatus::Passed => writeln!(w, "  ok: {}", check.message)?,
            CheckStatus::Failed => writeln!(w, "  cross-check: {}", check.message)?,
        }
    }
    if p.published_skipped {
        writeln!(w, "  published checksum: not checked (--skip-published)")?;
    }
    if let Some(published) = &p.published {
        if !published.matches_image {
            writeln!(
                w,
                "  published {} ({}) does not match the image binary",
                published.sha256, published.url
            )?;
        }
    }
    if let Some(error) = &p.error {
        for (i, line) in error.lines().enumerate() {
            let lead = if i == 0 { "  " } else { "    " };
            writeln!(w, "{lead}{line}")?;
        }
    }
    if !p.causes.is_empty() {
        let codes: Vec<&str> = p.causes.iter().map(|c| c.code()).collect();
        writeln!(w, "  causes: {}", codes.join(", "))?;
        for line in p.diff.iter().flat_map(super::diff::cause_lines) {
            writeln!(w, "    {line}")?;
        }
    }
    if let Some(diff) = &p.diff {
        // The sections are listed once, below, with the ones only one side has.
        let summary = crate::diff::explain::sections_summary(diff);
        for e in diff
            .explanations
            .iter()
            .filter(|e| Some(*e) != summary.as_ref())
            .take(TOP)
        {
            writeln!(w, "  - {e}")?;
        }
        let differing: Vec<String> = diff
            .sections
            .iter()
            .filter(|s| s.status != SectionStatus::Same)
            .map(|s| match s.status {
                SectionStatus::Differs => format!("{} ({})", s.name, bytes(s.differing_bytes)),
                _ => format!("{} ({})", s.name, status_word(s.status)),
            })
            .collect();
        if !differing.is_empty() {
            let more = if differing.len() > TOP { ", ..." } else { "" };
            writeln!(
                w,
                "  differing sections ({} of {}): {}{more}",
                differing.len(),
                diff.sections.len(),
                differing[..differing.len().min(TOP)].join(", ")
            )?;
        }
        writeln!(
            w,
            "  full diff: rebuild-compare diff {} {}",
            p.image_binary
                .as_ref()
                .map_or("IMAGE-BINARY", |b| b.extracted.as_str()),
            p.rebuilt.as_ref().map_or("REBUILT", |b| b.path.as_str())
        )?;
    }
    Ok(())
}

/// The rebuilds with inputs taken from the published binary: each one
/// tried, the one compared against and every input it changed.
fn render_adjustments(p: &PlatformResult, w: &mut impl Write) -> io::Result<()> {
    let Some(adjustments) = &p.adjustments else {
        return Ok(());
    };
    writeln!(
        w,
        "  rebuild from the recipe: {} differing",
        bytes(adjustments.recipe_differing_bytes)
    )?;
    for tried in &adjustments.rebuilds {
        let names: Vec<&str> = tried.adjusted.keys().map(String::as_str).collect();
        let outcome = match (&tried.error, tried.differing_bytes) {
            (Some(error), _) => format!("error: {}", error.lines().next().unwrap_or_default()),
            (None, Some(0)) => "reproduces the image binary".to_string(),
            (None, Some(n)) => format!("{} differing", bytes(n)),
            (None, None) => "not built".to_string(),
        };
        writeln!(
            w,
            "  rebuild {} with the published {}: {outcome}",
            tried.label,
            names.join(", ")
        )?;
    }
    if let Some(against) = &p.compared_against {
        writeln!(w, "  compared against: {against}")?;
    }
    for (name, change) in &p.adjusted {
        let value = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        let kind = match change.kind {
            crate::rebuild::adjust::InputKind::Environment => "environment",
            crate::rebuild::adjust::InputKind::Program => "program",
        };
        writeln!(
            w,
            "  adjusted {name}: recipe {}, published {} ({kind})",
            value(&change.recipe),
            value(&change.published)
        )?;
    }
    if let Some(cause) = &p.confirmed_cause {
        writeln!(
            w,
            "  confirmed: {}; update the recipe to accept it",
            cause.reason
        )?;
    }
    if let Some(recipe) = &adjustments.adjusted_recipe {
        writeln!(w, "  adjusted recipe saved to {recipe}")?;
    }
    for note in &adjustments.notes {
        writeln!(w, "  adjust: {note}")?;
    }
    Ok(())
}

fn status_word(status: SectionStatus) -> &'static str {
    match status {
        SectionStatus::Same => "same",
        SectionStatus::Differs => "differs",
        SectionStatus::OnlyA => "only in the image binary",
        SectionStatus::OnlyB => "only in the rebuild",
    }
}

fn verdict_word(v: PlatformVerdict) -> &'static str {
    match v {
        PlatformVerdict::Reproducible => "reproducible",
        PlatformVerdict::Mismatch => "MISMATCH",
        PlatformVerdict::Error => "error",
        PlatformVerdict::Skipped => "skipped",
    }
}

fn paint(text: &str, v: PlatformVerdict, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match v {
        PlatformVerdict::Reproducible => "32",
        PlatformVerdict::Mismatch => "1;31",
        PlatformVerdict::Error => "31",
        PlatformVerdict::Skipped => "33",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// The first 12 hex digits, or `-`.
fn short(digest: Option<&Digest>) -> String {
    digest.map_or("-".to_string(), |d| d.hex()[..12].to_string())
}

fn short_commit(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{ImageBinary, Rebuilt};

    /// A report of one platform whose image binary differs from the rebuild
    /// in one byte.
    fn one_byte_mismatch(dir: &std::path::Path) -> VerifyReport {
        let a = dir.join("a");
        let b = dir.join("b");
        std::fs::write(&a, b"0123456789abcdef").expect("write a");
        std::fs::write(&b, b"0123456789abcdeF").expect("write b");
        let diff =
            crate::diff::diff_files(&a, &b, &crate::diff::DiffOptions::default()).expect("diff");
        let mut platform = PlatformResult::skipped("linux/amd64".into(), String::new());
        platform.verdict = PlatformVerdict::Mismatch;
        platform.error = None;
        platform.image_binary = Some(ImageBinary {
            path: "/usr/bin/app".into(),
            sha256: diff.a.sha256.clone(),
            size: 1,
            layer: Digest::of(b"layer"),
            extracted: "a".into(),
        });
        platform.rebuilt = Some(Rebuilt {
            sha256: diff.b.sha256.clone(),
            size: 16,
            path: "b".into(),
            log: "log".into(),
        });
        platform.diff = Some(diff);
        let mut report =
            crate::verify::example_report(Verdict::Mismatch, vec![platform], Vec::new());
        report.builder = Some(BuilderRoot::Host);
        report
    }

    #[test]
    fn a_mismatch_lists_its_differing_sections_once_in_singular_where_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let report = one_byte_mismatch(dir.path());
        let mut out = Vec::new();
        render_text(&report, &mut out, false).expect("render");
        let text = String::from_utf8(out).expect("utf-8");
        let details: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("linux/amd64 (MISMATCH):"))
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(
            details,
            [
                "linux/amd64 (MISMATCH):",
                "  image binary /usr/bin/app (1 byte)",
                "  - strings only in A: \"0123456789abcdef\"",
                "  - strings only in B: \"0123456789abcdeF\"",
                "  differing sections (1 of 1): [whole file] (1 byte)",
                "  full diff: rebuild-compare diff a b",
            ],
            "{text}"
        );
        // The diff's own explanations still end with the sections sentence.
        let diff = report.platforms[0].diff.as_ref().expect("diff");
        assert_eq!(
            diff.explanations.last().map(String::as_str),
            Some("1 of 1 sections differs: [whole file] (1 byte)")
        );
    }

    #[test]
    fn each_candidate_after_the_first_says_what_it_changed() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut report = one_byte_mismatch(dir.path());
        let candidate = |label: &str, verdict, changes: &[&str]| crate::verify::CandidateResult {
            label: label.into(),
            sha256: Digest::of(label.as_bytes()),
            verdict,
            error: None,
            changes: changes.iter().map(|c| c.to_string()).collect(),
        };
        report.platforms[0].candidates = Some(vec![
            candidate("make static", PlatformVerdict::Mismatch, &[]),
            candidate(
                "-X from source (2 -X)",
                PlatformVerdict::Mismatch,
                &[
                    "runs `go build -trimpath -o /out/app .`",
                    "sets CGO_ENABLED=1",
                ],
            ),
        ]);
        let mut out = Vec::new();
        render_text(&report, &mut out, false).expect("render");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("candidate") || l.contains("changed:"))
            .collect();
        assert_eq!(
            lines,
            [
                "  candidate 1 (make static): MISMATCH",
                "  candidate 2 (-X from source (2 -X)): MISMATCH",
                "    changed: runs `go build -trimpath -o /out/app .`; sets CGO_ENABLED=1",
            ],
            "{text}"
        );
    }
}
