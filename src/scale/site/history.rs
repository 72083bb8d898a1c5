//! `images/<slug>.html`: one image's every run (all versions, all
//! platforms, every re-run), newest first.

use std::fmt::{self, Display};

use super::html::{date_time, shorten, verdict, Esc};
use super::index::{summary, verdict_links};
use super::model::{Image, Totals};
use crate::scale::ledger::Source;
use crate::verify::Verdict;

/// The body of an image's page.
pub struct History<'a>(pub &'a Image<'a>);

impl Display for History<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let image = self.0;
        let latest = &image.latest;
        writeln!(
            f,
            "<header><p><a href=../index.html>← Rebuild ledger</a></p><h1>{}</h1>\
             <p><img src=../{} alt=\"rebuild: reproducible {}/{}\" height=20> \
             newest version <b>{}</b>: {} of {} reproducible.</p>\
             <p class=mu>Badge for a README: <code>{}</code> in the published site.</p>",
            Esc(image.image),
            image.badge,
            latest.reproducible,
            latest.platforms,
            Esc(latest.version),
            latest.reproducible,
            latest.platforms,
            image.badge,
        )?;
        let mut totals = Totals {
            images: 1,
            versions: image.versions.len(),
            runs: image.runs,
            ..Totals::default()
        };
        for run in &image.history {
            match run.verdict {
                Verdict::Reproducible => totals.reproducible += 1,
                Verdict::Mismatch => totals.mismatch += 1,
                Verdict::Error => totals.error += 1,
            }
        }
        summary(f, &totals)?;
        f.write_str(
            "</header>\n<h2>Every run, newest first</h2>\
             <div class=w><table><thead><tr><th>Finished (UTC)<th>Version<th>Platform<th>Verdict\
             <th>Causes or error<th>Image digest<th>Recipe<th>Verifier\
             </thead><tbody>\n",
        )?;
        for run in &image.history {
            let job = &run.record.entry.job;
            let (class, words) = verdict(run.verdict);
            write!(
                f,
                "<tr><td class=v>{}<td class=v>{}",
                date_time(run.finished),
                Esc(&job.version)
            )?;
            if job.tag != job.version {
                write!(f, " <span class=mu>(tag {})</span>", Esc(&job.tag))?;
            }
            write!(f, "<td class=v>{}<td class={class}>", Esc(&job.platform))?;
            verdict_links(f, run, words, "../")?;
            if run.source == Source::Registry {
                f.write_str("<small>from the registry</small>")?;
            }
            f.write_str("<td class=c>")?;
            for (n, cause) in run.causes.iter().enumerate() {
                let sep = if n == 0 { "" } else { ", " };
                write!(f, "{sep}{}", Esc(cause))?;
            }
            if let Some(error) = run.error {
                let sep = if run.causes.is_empty() { "" } else { "<br>" };
                write!(f, "{sep}{}", Esc(error))?;
            }
            write!(
                f,
                "<td><code title=\"{}\">{}</code><td>{}<small>tool {}</small>\
                 <td>{}",
                Esc(run.digest),
                Esc(&shorten(run.digest, 15)),
                job.recipe
                    .as_deref()
                    .map_or_else(|| "inferred".to_string(), |r| Esc(r).to_string()),
                Esc(run.tool_version),
                Esc(run.verifier_id)
            )?;
            match run.signer_key_id {
                Some(key) => write!(
                    f,
                    "<small>key <code title=\"{}\">{}</code></small>",
                    Esc(key),
                    Esc(&shorten(key, 16))
                )?,
                None => f.write_str("<small>unsigned</small>")?,
            }
            f.write_str("\n")?;
        }
        f.write_str("</tbody></table></div>")
    }
}
