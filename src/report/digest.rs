//! Text rendering of [`DigestReport`]: one row per platform, the digest a
//! person can compare at a glance, then any platform-claim warnings.

use std::io::{self, Write};

use crate::rootfs::extract::DigestReport;

/// Writes the report as a table.
pub fn render_text(report: &DigestReport, w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "{}  {}", report.reference, report.digest)?;
    writeln!(w)?;
    writeln!(
        w,
        "{:<14} {:<71} {:>10}  {:<6} {:<8} PATH",
        "PLATFORM", "SHA256", "SIZE", "FORMAT", "MACHINE"
    )?;
    for p in &report.platforms {
        let path = if p.requested == p.path {
            p.path.clone()
        } else {
            format!("{} -> {}", p.requested, p.path)
        };
        writeln!(
            w,
            "{:<14} {:<71} {:>10}  {:<6} {:<8} {}",
            p.platform.to_string(),
            p.sha256.to_string(),
            p.size,
            p.format.name(),
            p.machine,
            path
        )?;
    }
    for p in &report.platforms {
        for warning in &p.warnings {
            writeln!(w, "warning: {}: {warning}", p.platform)?;
        }
    }
    Ok(())
}
