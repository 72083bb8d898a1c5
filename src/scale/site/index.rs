//! `index.html`: a row per image and version (images by name, newest
//! version first), a cell per platform with the newest run's verdict.

use std::fmt::{self, Display};

use super::html::{date, date_time, shorten, verdict, Esc};
use super::model::{Cell, Ledger, Run, Totals};
use crate::verify::Verdict;

/// The body of `index.html`.
pub struct Index<'a>(pub &'a Ledger<'a>);

impl Display for Index<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ledger = self.0;
        f.write_str(
            "<header><h1>Rebuild ledger</h1><p class=mu>Is the binary in each published image \
             the one its public source builds at the same tag? Each cell is the newest \
             <code>rebuild-compare verify</code> run for that image, version and platform; \
             an image's page lists every run.",
        )?;
        if let Some(updated) = ledger.updated {
            write!(f, " Newest run: {} UTC.", date_time(updated))?;
        }
        f.write_str(" Data: <a href=ledger.json>ledger.json</a>.</p>\n")?;
        summary(f, &ledger.totals)?;
        if !ledger.verifiers.is_empty() {
            f.write_str("<p class=mu>Verifiers:")?;
            for (n, verifier) in ledger.verifiers.iter().enumerate() {
                let sep = if n == 0 { " " } else { "; " };
                write!(f, "{sep}<b>V{}</b> <code>{}</code>", n + 1, Esc(verifier))?;
            }
            f.write_str("</p>")?;
        }
        f.write_str("</header>\n")?;
        if ledger.images.is_empty() {
            return f.write_str("<p>The ledger has no finished runs yet.</p>");
        }
        f.write_str("<div class=w><table><thead><tr><th>Image<th>Version")?;
        for platform in &ledger.platforms {
            write!(f, "<th>{}", Esc(platform))?;
        }
        f.write_str("</thead>\n")?;
        for image in &ledger.images {
            write!(
                f,
                "<tbody><tr><th rowspan={}><a href={}>{}</a>",
                image.versions.len(),
                image.page,
                Esc(image.image)
            )?;
            for (n, version) in image.versions.iter().enumerate() {
                if n > 0 {
                    f.write_str("<tr>")?;
                }
                write!(f, "<td class=v>{}", Esc(version.version))?;
                let mut cells = version.platforms.iter().peekable();
                for platform in &ledger.platforms {
                    match cells.next_if(|c| c.platform == *platform) {
                        Some(c) => cell(f, c, ledger)?,
                        None => f.write_str("<td class=na>–")?,
                    }
                }
                f.write_str("\n")?;
            }
        }
        f.write_str("</table></div>")
    }
}

/// The counts above the table.
pub fn summary(f: &mut fmt::Formatter<'_>, totals: &Totals) -> fmt::Result {
    writeln!(
        f,
        "<ul class=sum><li>{}</li><li>{}</li><li>{}</li>\
         <li class=ok>✔ {} reproducible</li><li class=bad>✘ {} mismatch</li>\
         <li class=err>⚠ {} error</li></ul>",
        count(totals.images, "image"),
        count(totals.versions, "version"),
        count(totals.runs, "run"),
        totals.reproducible,
        totals.mismatch,
        totals.error
    )
}

/// `1 image`, `2 images`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The verdict's words, linking to the report when there is one, and a
/// link to the attestation (`DSSE` when signed, else `statement`); links
/// are relative to the site's root, from a page `up` (`""` or `"../"`) below it.
pub fn verdict_links(f: &mut fmt::Formatter<'_>, run: &Run, words: &str, up: &str) -> fmt::Result {
    match &run.report {
        Some(report) => write!(f, "<a href={up}{report}>{words}</a>")?,
        None => f.write_str(words)?,
    }
    if let Some(attestation) = &run.attestation {
        let kind = if run.record.entry.is_signed() {
            "DSSE"
        } else {
            "statement"
        };
        write!(f, " <a href={up}{attestation}>{kind}</a>")?;
    }
    Ok(())
}

/// One platform's cell: the verdict (linking to the report), the
/// attestation, then the causes or the error, when, and by whom. Terse
/// markup (unquoted attributes, end tags left implied), as HTML allows:
/// ten thousand cells must stay under 2 MB.
fn cell(f: &mut fmt::Formatter<'_>, cell: &Cell, ledger: &Ledger) -> fmt::Result {
    let run = &cell.run;
    let (class, words) = verdict(run.verdict);
    match run.error {
        // The cell shows 80 characters; the title more.
        Some(error) if error.chars().nth(80).is_some() => write!(
            f,
            "<td class={class} title=\"{}\">",
            Esc(&shorten(error, 300))
        )?,
        _ => write!(f, "<td class={class}>")?,
    }
    verdict_links(f, run, words, "")?;
    if !run.causes.is_empty() {
        f.write_str("<p>")?;
        for (n, cause) in run.causes.iter().enumerate() {
            let sep = if n == 0 { "" } else { ", " };
            write!(f, "{sep}{}", Esc(cause))?;
        }
    }
    if let (Verdict::Error, Some(error)) = (run.verdict, run.error) {
        write!(f, "<p>{}", Esc(&shorten(error, 80)))?;
    }
    let verifier = ledger
        .verifiers
        .binary_search(&run.verifier_id)
        .map_or(0, |n| n + 1);
    write!(f, "<p>{} · V{verifier}", date(run.finished))?;
    if cell.runs > 1 {
        write!(f, " · {} runs", cell.runs)?;
    }
    Ok(())
}
