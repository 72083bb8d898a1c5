//! What commands print and write: a report on stdout as text or as JSON
//! (or in another form a command renders itself), and files written whole.

use std::io::{BufWriter, IsTerminal, StdoutLock, Write};
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

use crate::cli::Format;

/// Standard output, buffered, as a report's text is written to it.
pub type Stdout<'a> = BufWriter<StdoutLock<'a>>;

/// Prints `report` on stdout: pretty JSON and a newline, or the text
/// `render` writes, told whether to colour it (only on a terminal, and
/// never with `NO_COLOR` set).
pub fn print<T: Serialize>(
    format: Format,
    report: &T,
    render: impl FnOnce(&mut Stdout<'_>, bool) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = BufWriter::new(stdout.lock());
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(report)?)?,
        Format::Text => render(&mut out, color)?,
    }
    out.flush()?;
    Ok(())
}

/// Prints what `render` writes on stdout, uncoloured (a form other than
/// the text and JSON every command has, such as `verify`'s markdown).
pub fn print_text(
    render: impl FnOnce(&mut Stdout<'_>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    render(&mut out)?;
    out.flush()?;
    Ok(())
}

/// Writes `bytes` to `path` atomically (a temporary file beside it,
/// renamed over it once complete, so nothing is ever written half), or to
/// stdout without a path.
pub fn write_or_print(path: Option<&Path>, bytes: &[u8]) -> anyhow::Result<()> {
    match path {
        Some(path) => write_file(path, bytes),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()?;
            Ok(())
        }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, renamed
/// over it once complete, so nothing is ever written half.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
