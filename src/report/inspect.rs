//! Text rendering of [`crate::image::inspect::InspectReport`], laid out like
//! `docker inspect` reads to a person: one block per platform.

use std::io::{self, Write};

use crate::image::inspect::InspectReport;

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

/// Shell-like quoting of an argv for display: `["/bin/sh", "-c", "a b"]` -> `/bin/sh -c 'a b'`.
fn quote_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
