//! Text rendering of a [`BinaryDiff`]: the two files, a summary table of
//! sections, the explanations, then the hex-dump hunks (80 columns).

use std::io::{self, Write};

use crate::diff::{
    BinaryDiff, Cause, CauseEvidence, FileSummary, FunctionsDiff, SectionDiff, SectionStatus,
};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Width the text is wrapped to.
const WIDTH: usize = 79;

/// Widest section name printed in the table before it is shortened.
const NAME_WIDTH: usize = 24;

/// Writes `d` as text; `color` adds ANSI colours.
pub fn render_text(d: &BinaryDiff, w: &mut impl Write, color: bool) -> io::Result<()> {
    let paint = |code: &'static str| if color { code } else { "" };
    let reset = paint(RESET);
    file_line(w, "A", &d.a)?;
    file_line(w, "B", &d.b)?;
    if d.identical {
        writeln!(w, "{}identical{reset}", paint(GREEN))?;
        return Ok(());
    }
    writeln!(w)?;
    writeln!(
        w,
        "{}{:<NAME_WIDTH$} {:<8} {:>10} {:>10} {:>10}{reset}",
        paint(BOLD),
        "section",
        "status",
        "A size",
        "B size",
        "differing"
    )?;
    for s in &d.sections {
        let status_color = match s.status {
            SectionStatus::Same => "",
            SectionStatus::Differs => paint(YELLOW),
            SectionStatus::OnlyA => paint(RED),
            SectionStatus::OnlyB => paint(GREEN),
        };
        writeln!(
            w,
            "{:<NAME_WIDTH$} {status_color}{:<8}{reset} {:>10} {:>10} {:>10}",
            shorten(&s.name, NAME_WIDTH),
            status_name(s),
            size(s.a_size),
            size(s.b_size),
            if s.status == SectionStatus::Differs {
                s.differing_bytes.to_string()
            } else {
                String::new()
            }
        )?;
    }
    if !d.notes.is_empty() {
        writeln!(w)?;
        for note in &d.notes {
            write_wrapped(w, "note: ", note)?;
        }
    }
    if !d.explanations.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}Explanations{reset}", paint(BOLD))?;
        if !d.causes.is_empty() {
            let codes: Vec<&str> = d.causes.iter().map(|c| c.code()).collect();
            write_wrapped(w, "causes: ", &codes.join(", "))?;
            for line in cause_lines(d) {
                // Continuation lines line up after the cause code.
                let (code, what) = line.split_once(": ").unwrap_or((&line, ""));
                write_wrapped(w, &format!("  {code}: "), what)?;
            }
        }
        for e in &d.explanations {
            write_wrapped(w, "- ", e)?;
        }
    }
    if let Some(functions) = &d.functions {
        functions_block(w, functions, paint(BOLD), reset)?;
    }
    let mut current = None;
    for hunk in &d.hunks {
        if current != Some(hunk.section.as_str()) {
            writeln!(w)?;
            writeln!(w, "{}--- A {}{reset}", paint(BOLD), hunk.section)?;
            writeln!(w, "{}+++ B {}{reset}", paint(BOLD), hunk.section)?;
            current = Some(hunk.section.as_str());
        }
        writeln!(
            w,
            "{}@@ A {:#x} B {:#x} @@{reset}",
            paint(CYAN),
            hunk.a_offset,
            hunk.b_offset
        )?;
        for line in &hunk.lines {
            let line_color = match line.tag {
                '-' => paint(RED),
                '+' => paint(GREEN),
                _ => "",
            };
            writeln!(w, "{line_color}{} {}{reset}", line.tag, line.text)?;
        }
        if hunk.truncated {
            writeln!(w, "  ... (change continues)")?;
        }
    }
    for s in d.sections.iter().filter(|s| s.hunks_omitted > 0) {
        writeln!(
            w,
            "({} more hunk{} in {} not shown; raise --max-hunks)",
            s.hunks_omitted,
            if s.hunks_omitted == 1 { "" } else { "s" },
            s.name
        )?;
    }
    Ok(())
}

/// Examples named per cause in [`cause_lines`].
const CAUSE_EXAMPLES: usize = 3;

/// One line per cause that accounts for strings or functions: what it
/// accounts for and a few examples (`paths: 2 strings: "/src/main.go", …`).
pub fn cause_lines(d: &BinaryDiff) -> Vec<String> {
    d.cause_evidence
        .iter()
        .filter(|e| e.strings > 0 || e.functions > 0)
        .map(cause_line)
        .collect()
}

fn cause_line(e: &CauseEvidence) -> String {
    let count =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut counts = Vec::new();
    if e.strings > 0 {
        counts.push(count(e.strings, "string", "strings"));
    }
    if e.functions > 0 {
        counts.push(count(e.functions, "function", "functions"));
    }
    let mut line = format!("{}: {}", e.cause.code(), counts.join(" and "));
    if matches!(e.cause, Cause::Data | Cause::Code) {
        line.push_str(" no cause accounts for");
    }
    if e.note.is_some() {
        line.push_str(" (functions not compared one by one)");
    }
    // Strings are quoted, function names (after them) are not.
    let shown: Vec<String> = e
        .examples
        .iter()
        .take(CAUSE_EXAMPLES)
        .enumerate()
        .map(|(i, x)| {
            if i < e.strings {
                format!("{x:?}")
            } else {
                x.clone()
            }
        })
        .collect();
    if !shown.is_empty() {
        line.push_str(": ");
        line.push_str(&shown.join(", "));
        if e.strings + e.functions > shown.len() {
            line.push_str(", …");
        }
    }
    line
}

/// Functions listed per group of the text block before "and N more".
const FUNCTIONS_LISTED: usize = 10;

/// The functions block: new functions first, then removed, then changed
/// size, then same size with different bytes.
fn functions_block(
    w: &mut impl Write,
    f: &FunctionsDiff,
    bold: &str,
    reset: &str,
) -> io::Result<()> {
    let groups: [(&str, Vec<String>, usize); 4] = [
        (
            "functions only in B (new)",
            f.only_b
                .iter()
                .map(|x| format!("{} ({})", x.name, x.size))
                .collect(),
            f.only_b_total,
        ),
        (
            "functions only in A (removed)",
            f.only_a
                .iter()
                .map(|x| format!("{} ({})", x.name, x.size))
                .collect(),
            f.only_a_total,
        ),
        (
            "functions that changed size",
            f.changed
                .iter()
                .map(|x| format!("{} ({} -> {})", x.name, x.a_size, x.b_size))
                .collect(),
            f.changed_total,
        ),
        (
            "functions of the same size with different bytes",
            f.same_size_different
                .iter()
                .map(|x| format!("{} ({})", x.name, x.size))
                .collect(),
            f.same_size_different_total,
        ),
    ];
    if groups.iter().all(|(_, _, total)| *total == 0) && f.note.is_none() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(
        w,
        "{bold}Functions{reset} ({} compared, {} differ only by addresses)",
        f.compared, f.addresses_only
    )?;
    for (title, lines, total) in groups {
        if total == 0 {
            continue;
        }
        writeln!(w, "{title}:")?;
        for line in lines.iter().take(FUNCTIONS_LISTED) {
            writeln!(w, "  {line}")?;
        }
        if total > FUNCTIONS_LISTED {
            writeln!(w, "  and {} more", total - FUNCTIONS_LISTED)?;
        }
    }
    if let Some(note) = &f.note {
        write_wrapped(w, "note: ", note)?;
    }
    Ok(())
}

/// Writes `text` after `first` (e.g. `- `), word-wrapped to [`WIDTH`]
/// columns, continuation lines indented like the first.
fn write_wrapped(w: &mut impl Write, first: &str, text: &str) -> io::Result<()> {
    let indent = " ".repeat(first.len());
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ') {
        if !empty && line.len() + 1 + word.len() > WIDTH {
            writeln!(w, "{line}")?;
            line = format!("{indent}{word}");
        } else {
            if !empty {
                line.push(' ');
            }
            line.push_str(word);
        }
        empty = false;
    }
    writeln!(w, "{line}")
}

fn file_line(w: &mut impl Write, side: &str, f: &FileSummary) -> io::Result<()> {
    writeln!(w, "{side}: {}", f.path)?;
    writeln!(
        w,
        "   {} {}, {}, {}",
        f.format.name(),
        f.interpreter.as_deref().unwrap_or(&f.machine),
        super::units::bytes(f.size),
        f.sha256
    )
}

fn status_name(s: &SectionDiff) -> &'static str {
    match s.status {
        SectionStatus::Same => "same",
        SectionStatus::Differs => "differs",
        SectionStatus::OnlyA => "only-a",
        SectionStatus::OnlyB => "only-b",
    }
}

fn size(v: Option<u64>) -> String {
    v.map(|n| n.to_string()).unwrap_or_else(|| "-".to_string())
}

fn shorten(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        return name.to_string();
    }
    let tail: String = name
        .chars()
        .rev()
        .take(width - 1)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("~{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_explanations_wrap_with_indented_continuations() {
        let mut out = Vec::new();
        let text = "word ".repeat(30);
        write_wrapped(&mut out, "- ", text.trim_end()).expect("write to Vec");
        let out = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l.len() <= WIDTH));
        assert!(lines[1].starts_with("  word"));
    }

    #[test]
    fn a_cause_line_counts_what_the_cause_accounts_for_and_quotes_its_strings() {
        let evidence = CauseEvidence {
            cause: Cause::BuildSettings,
            strings: 1,
            functions: 135,
            examples: vec!["GOAMD64=v3".to_string(), "main.main".to_string()],
            note: Some("135 functions added, removed or changed: …".to_string()),
        };
        assert_eq!(
            cause_line(&evidence),
            "build-settings: 1 string and 135 functions (functions not compared one by \
             one): \"GOAMD64=v3\", main.main, …"
        );
        let data = CauseEvidence {
            cause: Cause::Data,
            strings: 1,
            functions: 0,
            examples: vec!["https://evil.example/payload".to_string()],
            note: None,
        };
        assert_eq!(
            cause_line(&data),
            "data: 1 string no cause accounts for: \"https://evil.example/payload\""
        );
    }

    #[test]
    fn long_section_names_keep_their_end() {
        assert_eq!(shorten("[aarch64] __DATA,__const", 12), "~ATA,__const");
        assert_eq!(shorten(".text", 12), ".text");
    }
}
