//! What the site's pages share: escaping, the stylesheet, the page frame,
//! and how verdicts and times are shown.

use std::fmt::{self, Display};
use std::time::SystemTime;

use crate::verify::Verdict;

/// Text made safe for HTML (and SVG) element content and quoted
/// attribute values: `&`, `<`, `>`, `"` and `'` become references.
pub struct Esc<'a>(pub &'a str);

impl Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..at])?;
            f.write_str(match rest.as_bytes()[at] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[at + 1..];
        }
        f.write_str(rest)
    }
}

/// The verdict's class (its colour) and its words, with a symbol so that
/// colour is never the only sign (joined by a no-break space).
pub fn verdict(verdict: Verdict) -> (&'static str, &'static str) {
    match verdict {
        Verdict::Reproducible => ("ok", "✔\u{a0}reproducible"),
        Verdict::Mismatch => ("bad", "✘\u{a0}mismatch"),
        Verdict::Error => ("err", "⚠\u{a0}error"),
    }
}

/// `2026-12-01`.
pub fn date(time: SystemTime) -> String {
    let mut text = humantime::format_rfc3339_seconds(time).to_string();
    text.truncate(10);
    text
}

/// `2026-12-01 02:03:10` (UTC).
pub fn date_time(time: SystemTime) -> String {
    let text = humantime::format_rfc3339_seconds(time).to_string();
    text.trim_end_matches('Z').replacen('T', " ", 1)
}

/// At most `max` characters of `text`, with `…` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// The stylesheet: light and dark, a table that scrolls sideways on a
/// phone, verdict colours with their words.
const STYLE: &str = "\
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--mu:#59636e;--ln:#d1d9e0;--hd:#f6f8fa;\
--ok:#116329;--okb:#dafbe1;--bad:#a40e26;--badb:#ffebe9;--err:#7d4e00;--errb:#fff8c5;--a:#0550ae}\
@media(prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--mu:#9198a1;--ln:#3d444d;\
--hd:#151b23;--ok:#56d364;--okb:#0f2d1a;--bad:#ff7b72;--badb:#3a1418;--err:#e3b341;--errb:#2e2410;--a:#4493f8}}\
*{box-sizing:border-box}\
body{margin:0 auto;max-width:90rem;padding:1.25rem;background:var(--bg);color:var(--fg);\
font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}\
h1{font-size:1.6rem;margin:.2rem 0 .4rem}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}\
a{color:var(--a)}p{margin:.4rem 0}.mu{color:var(--mu)}code{font:.85em ui-monospace,monospace}\
.sum{display:flex;flex-wrap:wrap;gap:.5rem;margin:.8rem 0;padding:0;list-style:none}\
.sum li{border:1px solid var(--ln);border-radius:.5rem;padding:.35rem .7rem}\
.w{overflow-x:auto;border:1px solid var(--ln);border-radius:.5rem}\
table{border-collapse:collapse;width:100%;font-size:.9rem}\
th,td{padding:.45rem .6rem;text-align:left;vertical-align:top;border-top:1px solid var(--ln)}\
thead th{background:var(--hd);border-top:0;white-space:nowrap;position:sticky;top:0}\
tbody{border-top:2px solid var(--ln)}\
tbody th{font-weight:600;word-break:break-word;min-width:10rem}\
td.v{white-space:nowrap;font-variant-numeric:tabular-nums}\
td.ok,td.bad,td.err{border-left:4px solid}\
.ok{background:var(--okb);color:var(--ok)}.bad{background:var(--badb);color:var(--bad)}\
.err{background:var(--errb);color:var(--err)}\
td.ok a,td.bad a,td.err a{color:inherit;font-weight:600}td a+a{margin-left:.5em}\
td small,td p{display:block;margin:0;font-size:.85em;color:var(--fg);opacity:.8}\
td.na{color:var(--mu)}td.c{min-width:12rem}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .8rem}dt{color:var(--mu)}dd{margin:0;word-break:break-all}\
@media(max-width:40rem){body{padding:.6rem;font-size:14px}th,td{padding:.35rem .4rem}\
tbody th{min-width:7rem}}";

/// A whole page: `title` (escaped here) around `body`'s HTML.
pub struct Page<'a, B> {
    pub title: &'a str,
    pub body: B,
}

impl<B: Display> Display for Page<'_, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\
             <meta name=viewport content=\"width=device-width,initial-scale=1\">\
             <title>{}</title><style>{STYLE}</style></head><body>\n{}\n</body></html>\n",
            Esc(self.title),
            self.body
        )
    }
}

#[cfg(test)]
mod tests {
    use super::{shorten, Esc};

    #[test]
    fn escapes_every_character_that_could_end_text_or_an_attribute() {
        assert_eq!(
            Esc("<script>alert('x')</script> & \"q\"").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        assert_eq!(Esc("plain ✔").to_string(), "plain ✔");
    }

    #[test]
    fn shortens_on_character_boundaries() {
        assert_eq!(shorten("ééééé", 3), "ééé…");
        assert_eq!(shorten("abc", 3), "abc");
    }
}
