//! Text rendering of [`crate::inspect::InspectReport`], laid out like
//! `docker inspect` reads to a person: one block per platform.

use std::io::{self, Write};

use super::quote_argv;
use crate::inspect::InspectReport;

/// Writes the report as text.
pub fn render_text(report: &InspectReport, w: &mut impl Write) -> io::Result<()> {
    writeln!(w, "Reference:   {}", report.reference)?;
    writeln!(w, "Digest:      {}", report.digest)?;
    writeln!(w, "Media type:  {}", report.media_type)?;
    for p in &report.platforms {
        writeln!(w)?;
        writeln!(w, "Platform {}", p.platform)?;
        writeln!(w, "  Manifest:    {}", p.manifest_digest)?;
        writeln!(w, "  Config:      {}", p.config_digest)?;
        let argv = |v: &Option<Vec<String>>| v.as_deref().map_or("(none)".to_string(), quote_argv);
        writeln!(w, "  Entrypoint:  {}", argv(&p.entrypoint))?;
        writeln!(w, "  Cmd:         {}", argv(&p.cmd))?;
        writeln!(w, "  WorkingDir:  {}", or_default(&p.working_dir, "/"))?;
        writeln!(w, "  User:        {}", or_default(&p.user, "(root)"))?;
        writeln!(w, "  Env:")?;
        for e in &p.env {
            writeln!(w, "    {e}")?;
        }
        writeln!(w, "  Layers:")?;
        for l in &p.layers {
            writeln!(w, "    {}  {:>12}  {}", l.digest, l.size, l.media_type)?;
        }
    }
    Ok(())
}

fn or_default<'a>(value: &'a str, default: &'a str) -> &'a str {
    if value.is_empty() {
        default
    } else {
        value
    }
}
