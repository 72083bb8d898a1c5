//! Text rendering of [`AttestationReport`] (`attestation verify`): per
//! attestation where it was found, who signed it, which verifier says what
//! about which platforms, or why it does not count; then one line per
//! platform (what decides it), then the outcome.
//! Everything an attestation says is someone else's text: control
//! characters are shown escaped, never sent to the terminal.

use std::io::{self, Write};

use crate::attest::check::{AttestationCheck, Outcome};
use crate::attest::decide::{PlatformDecision, PlatformStatus};
use crate::attest::lookup::AttestationReport;

/// Writes the report for people.
pub fn render_text(report: &AttestationReport, w: &mut impl Write) -> io::Result<()> {
    match &report.digest {
        Some(digest) => writeln!(w, "{}  {digest}", shown(&report.target))?,
        None => writeln!(w, "{}", shown(&report.target))?,
    }
    if report.attestations.is_empty() {
        writeln!(w, "\nno attestations are attached to this image")?;
    }
    for (n, check) in report.attestations.iter().enumerate() {
        writeln!(w)?;
        writeln!(w, "attestation {}: {}", n + 1, shown(&check.source))?;
        render_check(check, w)?;
    }
    if !report.platforms.is_empty() {
        writeln!(w)?;
        let width = report
            .platforms
            .iter()
            .map(|p| shown(&p.platform).chars().count())
            .max()
            .unwrap_or(0);
        for decision in &report.platforms {
            render_decision(report, decision, width, w)?;
        }
    }
    let valid = report.attestations.iter().filter(|c| c.is_valid()).count();
    writeln!(w)?;
    let of = format!(
        "{valid} of {} attestations valid",
        report.attestations.len()
    );
    let what = if report.digest.is_some() {
        "this image"
    } else {
        "the image it names"
    };
    let named = |status: PlatformStatus| {
        report
            .platforms
            .iter()
            .filter(|p| p.status == status)
            .map(|p| shown(&p.platform))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (report.outcome, report.platforms.len()) {
        (Outcome::Passed, 0) => writeln!(
            w,
            "PASSED: a valid attestation by a given key says the image was reproduced ({of})"
        ),
        (Outcome::Passed, count) => writeln!(
            w,
            "PASSED: the newest valid attestation of each platform ({count}) says it was reproduced ({of})"
        ),
        (Outcome::Failed, 0) => writeln!(
            w,
            "FAILED: every valid attestation says the image was not reproduced ({of})"
        ),
        (Outcome::Failed, _) => writeln!(
            w,
            "FAILED: the newest valid attestation of {} says it was not reproduced ({of})",
            named(PlatformStatus::Failed)
        ),
        (Outcome::Unverified, 0) => writeln!(
            w,
            "UNVERIFIED: no attestation by a given key is valid for {what} ({of})"
        ),
        (Outcome::Unverified, _) => {
            let undecided: Vec<String> = report
                .platforms
                .iter()
                .filter(|p| p.status != PlatformStatus::Passed)
                .map(|p| shown(&p.platform))
                .collect();
            writeln!(
                w,
                "UNVERIFIED: no valid attestation by a given key decides {} ({of})",
                undecided.join(", ")
            )
        }
    }
}

/// `linux/arm64  FAILED      attestation 2, 2026-12-01T00:00:00Z: the newest of …`.
fn render_decision(
    report: &AttestationReport,
    decision: &PlatformDecision,
    width: usize,
    w: &mut impl Write,
) -> io::Result<()> {
    let status = match decision.status {
        PlatformStatus::Passed => "PASSED",
        PlatformStatus::Failed => "FAILED",
        PlatformStatus::Unattested => "unattested",
        PlatformStatus::Invalid => "invalid",
    };
    let number = decision.source.as_ref().and_then(|source| {
        report
            .attestations
            .iter()
            .position(|c| &c.source == source)
            .map(|n| n + 1)
    });
    let by = match (number, &decision.time_verified) {
        (Some(n), Some(time)) => format!("attestation {n}, {}: ", shown(time)),
        (Some(n), None) => format!("attestation {n}: "),
        (None, _) => String::new(),
    };
    writeln!(
        w,
        "{:<width$}  {status:<10}  {by}{}",
        shown(&decision.platform),
        shown(&decision.reason)
    )
}

fn render_check(check: &AttestationCheck, w: &mut impl Write) -> io::Result<()> {
    let field = |w: &mut dyn Write, name: &str, value: &Option<String>| -> io::Result<()> {
        match value {
            Some(value) => writeln!(w, "  {name:<9} {}", shown(value)),
            None => Ok(()),
        }
    };
    field(
        w,
        "signer",
        &check.key_id.as_ref().map(|k| format!("key {k}")),
    )?;
    field(w, "verifier", &check.verifier_id)?;
    field(w, "time", &check.time_verified)?;
    field(w, "resource", &check.resource_uri)?;
    if let Some(result) = &check.result {
        let platforms: Vec<String> = check
            .platforms
            .iter()
            .map(|p| format!("{} {}", shown(&p.platform), shown(&p.verdict)))
            .collect();
        if platforms.is_empty() {
            writeln!(w, "  result    {}", shown(result))?;
        } else {
            writeln!(
                w,
                "  result    {} ({})",
                shown(result),
                platforms.join(", ")
            )?;
        }
    }
    if let Some(error) = &check.error {
        writeln!(w, "  INVALID   {}", shown(error))?;
    }
    Ok(())
}

/// `text` with control characters escaped.
fn shown(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_shown_escaped() {
        assert_eq!(
            super::shown("urn:x\u{1b}[2J\nnext"),
            "urn:x\\u{1b}[2J\\nnext"
        );
    }
}
