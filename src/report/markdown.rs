//! GitHub-flavoured markdown for a [`VerifyReport`], as a CI run's summary
//! shows it (`$GITHUB_STEP_SUMMARY`): a heading with the verdict, what was
//! compared, a table with one row per platform, then what the reader needs
//! to know about each platform and the run. Also the one-line error of a
//! run that ended before any report existed.
//!
//! Every string that comes from outside (image names, notes, errors, cause
//! explanations, URLs) goes through [`escape`]: a hostile registry, recipe
//! or binary cannot inject HTML, links, emphasis or table cells into the
//! summary. Only digests, typed and hex, are shown as code.

use std::io::{self, Write};

use crate::image::digest::Digest;
use crate::verify::{PlatformResult, PlatformVerdict, Verdict, VerifyReport};

/// How many of a mismatch's explanations the summary shows.
const TOP: usize = 3;

/// Writes the report as markdown.
pub fn render_markdown(report: &VerifyReport, w: &mut impl Write) -> io::Result<()> {
    let given_inputs = report
        .platforms
        .iter()
        .any(|p| !p.inputs.is_empty() || !p.adjusted.is_empty());
    let verdict = match report.verdict {
        Verdict::Reproducible if given_inputs => {
            "reproducible, given the published inputs listed below"
        }
        Verdict::Reproducible => "reproducible",
        Verdict::Mismatch => "mismatch",
        Verdict::Error => "error",
    };
    writeln!(w, "## rebuild-compare: {verdict}")?;
    writeln!(w)?;
    writeln!(
        w,
        "- Image: {} ({})",
        escape(&report.image.reference),
        code(&report.image.digest)
    )?;
    writeln!(
        w,
        "- Source: {} at {}, commit {}",
        escape(&report.source.url),
        escape(&report.source.git_ref),
        escape(&report.source.commit)
    )?;
    if let Some(fetched_from) = &report.source.fetched_from {
        writeln!(w, "- Fetched from: {}", escape(fetched_from))?;
    }
    let inferred = if report.recipe.inferred {
        ", inferred"
    } else {
        ""
    };
    writeln!(
        w,
        "- Recipe: {} ({}{inferred})",
        escape(&report.recipe.path),
        code(&report.recipe.sha256)
    )?;
    if !report.sandboxed {
        writeln!(w, "- Built **without the sandbox** (`--no-sandbox`)")?;
    }
    writeln!(w)?;
    render_table(report, w)?;
    let mut remarks: Vec<String> = report.platforms.iter().flat_map(platform_remarks).collect();
    if report.platforms.iter().any(|p| p.diff.is_some()) {
        remarks.push("A is the image binary, B the rebuild".to_string());
    }
    remarks.extend(report.notes.iter().map(|n| format!("note: {}", escape(n))));
    if !remarks.is_empty() {
        writeln!(w)?;
        for remark in remarks {
            writeln!(w, "- {remark}")?;
        }
    }
    Ok(())
}

/// Writes a run's error, when there is no report to show (or after the
/// report, for an error that came later): a heading and the message.
pub fn render_error_markdown(message: &str, w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "## rebuild-compare: error")?;
    writeln!(w)?;
    writeln!(w, "error: {}", escape(message))
}

/// One row per platform: its verdict, the causes of a mismatch, the
/// rebuilt and the image binary's digests, and the maintainers' published
/// checksum when the report has any.
fn render_table(report: &VerifyReport, w: &mut impl Write) -> io::Result<()> {
    let checksums = report
        .platforms
        .iter()
        .any(|p| p.published.is_some() || p.published_skipped);
    let mut header = vec!["Platform", "Verdict", "Causes", "Rebuilt", "Image binary"];
    if checksums {
        header.push("Published checksum");
    }
    writeln!(w, "| {} |", header.join(" | "))?;
    writeln!(w, "|{}", " --- |".repeat(header.len()))?;
    for p in &report.platforms {
        let causes: Vec<&str> = p.causes.iter().map(|c| c.code()).collect();
        let mut cells = vec![
            escape(&p.platform),
            verdict_cell(p.verdict).to_string(),
            if causes.is_empty() {
                "-".to_string()
            } else {
                causes.join(", ")
            },
            optional_code(p.rebuilt.as_ref().map(|b| &b.sha256)),
            optional_code(p.image_binary.as_ref().map(|b| &b.sha256)),
        ];
        if checksums {
            cells.push(match (&p.published, p.published_skipped) {
                (_, true) => "skipped".to_string(),
                (Some(published), false) => code(&published.sha256),
                (None, false) => "-".to_string(),
            });
        }
        writeln!(w, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

/// What the summary says about one platform below the table: why it was
/// not compared, the published inputs its verdict rests on, a published
/// checksum that disagrees, and a mismatch's top explanations.
fn platform_remarks(p: &PlatformResult) -> Vec<String> {
    let name = escape(&p.platform);
    let mut remarks = Vec::new();
    if let Some(package) = &p.package {
        remarks.push(format!(
            "{name}: package {}",
            escape(&super::verify::package_text(package))
        ));
    }
    if let Some(error) = &p.error {
        let first = error.lines().next().unwrap_or_default();
        let more = if error.lines().nth(1).is_some() {
            " (more in the report)"
        } else {
            ""
        };
        remarks.push(format!("{name}: {}{more}", escape(first)));
    }
    for (input, value) in &p.inputs {
        remarks.push(format!(
            "{name}: input {} = {}, read from the image binary",
            escape(input),
            escape(value)
        ));
    }
    for input in p.adjusted.keys() {
        remarks.push(format!(
            "{name}: rebuilt with the published {}",
            escape(input)
        ));
    }
    if let Some(published) = p.published.as_ref().filter(|x| !x.matches_image) {
        remarks.push(format!(
            "{name}: the published checksum {} ({}) does not match the image binary",
            code(&published.sha256),
            escape(&published.url)
        ));
    }
    if let Some(cause) = &p.confirmed_cause {
        remarks.push(format!("{name}: confirmed: {}", escape(&cause.reason)));
    }
    if let Some(diff) = &p.diff {
        let summary = crate::diff::explain::sections_summary(diff);
        let explanations = diff
            .explanations
            .iter()
            .filter(|e| Some(*e) != summary.as_ref())
            .take(TOP)
            .chain(summary.as_ref());
        for explanation in explanations {
            remarks.push(format!("{name}: {}", escape(explanation)));
        }
    }
    remarks
}

fn verdict_cell(verdict: PlatformVerdict) -> &'static str {
    match verdict {
        PlatformVerdict::Reproducible => "reproducible",
        PlatformVerdict::Mismatch => "**mismatch**",
        PlatformVerdict::Error => "error",
        PlatformVerdict::Skipped => "skipped",
    }
}

/// A digest as code: typed, so only `sha256:` and hex digits.
fn code(digest: &Digest) -> String {
    format!("`{digest}`")
}

fn optional_code(digest: Option<&Digest>) -> String {
    digest.map_or_else(|| "-".to_string(), code)
}

/// `text` as markdown that renders as that text on one line: markdown's
/// and HTML's punctuation backslash-escaped (so no tag, link, image, code,
/// emphasis, math or table cell starts), and line breaks, control and
/// bidirectional-override characters shown as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '&' | '$' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() || is_bidi_control(c) => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The characters that reorder how text around them is displayed.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::verify::{ImageBinary, PublishedDigest, Rebuilt};

    const HOSTILE: &str = "<img src=x onerror=alert(1)> | `code` [link](https://evil.example) **bold**\n# heading\r\u{202e}gnp.exe";

    fn binary(bytes: &[u8]) -> ImageBinary {
        ImageBinary {
            path: "/usr/local/bin/app".into(),
            sha256: Digest::of(bytes),
            size: bytes.len() as u64,
            layer: Digest::of(b"layer"),
            extracted: "out/app".into(),
        }
    }

    fn rebuilt(bytes: &[u8]) -> Rebuilt {
        Rebuilt {
            sha256: Digest::of(bytes),
            size: bytes.len() as u64,
            path: "out/rebuilt".into(),
            log: "out/build.log".into(),
        }
    }

    fn report(
        platforms: Vec<PlatformResult>,
        verdict: Verdict,
        notes: Vec<String>,
    ) -> VerifyReport {
        let mut report = crate::verify::example_report(verdict, platforms, notes);
        report.recipe.path = "builtin:app.toml".into();
        report
    }

    fn rendered(report: &VerifyReport) -> String {
        let mut out = Vec::new();
        render_markdown(report, &mut out).expect("render");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn escaping_leaves_no_markup_and_one_line() {
        assert_eq!(
            escape(HOSTILE),
            "\\<img src=x onerror=alert(1)\\> \\| \\`code\\` \\[link\\](https://evil.example) \
             \\*\\*bold\\*\\* \\# heading  gnp.exe"
        );
        assert_eq!(escape("a\\|b"), "a\\\\\\|b");
        assert_eq!(escape("plain text: v1.0.0"), "plain text: v1.0.0");
    }

    #[test]
    fn reproducible_report_is_a_heading_a_list_and_a_row_per_platform() {
        let mut amd64 = PlatformResult::skipped("linux/amd64".into(), String::new());
        amd64.verdict = PlatformVerdict::Reproducible;
        amd64.error = None;
        amd64.image_binary = Some(binary(b"app"));
        amd64.rebuilt = Some(rebuilt(b"app"));
        amd64.inputs = BTreeMap::from([("go_version".into(), "go1.22.1".into())]);
        let skipped = PlatformResult::skipped(
            "linux/s390x".into(),
            "the recipe cannot build linux/s390x".into(),
        );
        let report = report(
            vec![amd64, skipped],
            Verdict::Reproducible,
            vec!["1 platform(s) skipped".into()],
        );
        let app = Digest::of(b"app");
        assert_eq!(
            rendered(&report),
            format!(
                "## rebuild-compare: reproducible, given the published inputs listed below\n\
                 \n\
                 - Image: example.com/app:v1 (`{image}`)\n\
                 - Source: https://example.com/app.git at v1, commit 0123456789abcdef0123456789abcdef01234567\n\
                 - Recipe: builtin:app.toml (`{recipe}`)\n\
                 \n\
                 | Platform | Verdict | Causes | Rebuilt | Image binary |\n\
                 | --- | --- | --- | --- | --- |\n\
                 | linux/amd64 | reproducible | - | `{app}` | `{app}` |\n\
                 | linux/s390x | skipped | - | - | - |\n\
                 \n\
                 - linux/amd64: input go\\_version = go1.22.1, read from the image binary\n\
                 - linux/s390x: the recipe cannot build linux/s390x\n\
                 - note: 1 platform(s) skipped\n",
                image = Digest::of(b"image"),
                recipe = Digest::of(b"recipe"),
            )
        );
    }

    #[test]
    fn hostile_names_notes_and_errors_are_escaped_everywhere() {
        let mut platform = PlatformResult::skipped(HOSTILE.into(), HOSTILE.into());
        platform.verdict = PlatformVerdict::Error;
        let mut report = report(vec![platform], Verdict::Error, vec![HOSTILE.into()]);
        report.image.reference = HOSTILE.into();
        report.source.url = HOSTILE.into();
        report.source.fetched_from = Some(HOSTILE.into());
        report.recipe.path = HOSTILE.into();
        let text = rendered(&report);
        let escaped = escape(HOSTILE);
        assert_eq!(
            text,
            format!(
                "## rebuild-compare: error\n\
                 \n\
                 - Image: {escaped} (`{image}`)\n\
                 - Source: {escaped} at v1, commit 0123456789abcdef0123456789abcdef01234567\n\
                 - Fetched from: {escaped}\n\
                 - Recipe: {escaped} (`{recipe}`)\n\
                 \n\
                 | Platform | Verdict | Causes | Rebuilt | Image binary |\n\
                 | --- | --- | --- | --- | --- |\n\
                 | {escaped} | error | - | - | - |\n\
                 \n\
                 - {escaped}: \\<img src=x onerror=alert(1)\\> \\| \\`code\\` \\[link\\](https://evil.example) \\*\\*bold\\*\\* (more in the report)\n\
                 - note: {escaped}\n",
                image = Digest::of(b"image"),
                recipe = Digest::of(b"recipe"),
            )
        );
        // Every table row has exactly its columns' unescaped pipes.
        for row in text.lines().filter(|l| l.starts_with('|')) {
            let pipes = row.matches('|').count() - row.matches("\\|").count();
            assert_eq!(pipes, 6, "{row}");
        }
    }

    #[test]
    fn published_checksums_have_their_own_column_and_one_that_disagrees_is_said() {
        let mut amd64 = PlatformResult::skipped("linux/amd64".into(), String::new());
        amd64.verdict = PlatformVerdict::Mismatch;
        amd64.error = None;
        amd64.image_binary = Some(binary(b"image"));
        amd64.rebuilt = Some(rebuilt(b"rebuilt"));
        amd64.causes = vec![
            crate::diff::Cause::Code,
            crate::diff::Cause::BuildIdConsequence,
        ];
        amd64.published = Some(PublishedDigest {
            sha256: Digest::of(b"rebuilt"),
            url: "https://example.com/SHA256SUMS?a=<b>".into(),
            matches_image: false,
            matches_rebuilt: Some(true),
        });
        let mut arm64 = PlatformResult::skipped("linux/arm64".into(), String::new());
        arm64.verdict = PlatformVerdict::Reproducible;
        arm64.error = None;
        arm64.published_skipped = true;
        let report = report(vec![amd64, arm64], Verdict::Mismatch, Vec::new());
        let text = rendered(&report);
        let table: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(
            table,
            [
                "| Platform | Verdict | Causes | Rebuilt | Image binary | Published checksum |".to_string(),
                "| --- | --- | --- | --- | --- | --- |".to_string(),
                format!(
                    "| linux/amd64 | **mismatch** | code, build-id-consequence | `{rebuilt}` | `{image}` | `{rebuilt}` |",
                    rebuilt = Digest::of(b"rebuilt"),
                    image = Digest::of(b"image"),
                ),
                "| linux/arm64 | reproducible | - | - | - | skipped |".to_string(),
            ]
        );
        assert!(
            text.ends_with(&format!(
                "\n- linux/amd64: the published checksum `{}` (https://example.com/SHA256SUMS?a=\\<b\\>) \
                 does not match the image binary\n",
                Digest::of(b"rebuilt")
            )),
            "{text}"
        );
    }

    #[test]
    fn an_error_without_a_report_is_a_heading_and_the_escaped_message() {
        let mut out = Vec::new();
        render_error_markdown(HOSTILE, &mut out).expect("render");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            format!("## rebuild-compare: error\n\nerror: {}\n", escape(HOSTILE))
        );
    }
}
