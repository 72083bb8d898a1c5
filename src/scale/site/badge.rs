//! `badges/<slug>.svg`: a shields-style badge of an image's newest version,
//! `rebuild | reproducible 12/14`.

use std::fmt::{self, Display};

use super::html::Esc;
use super::model::Image;

/// The badge of `image`'s newest version.
pub struct Badge<'a>(pub &'a Image<'a>);

impl Badge<'_> {
    /// The right half's words and colour.
    fn message(&self) -> (String, &'static str) {
        let latest = &self.0.latest;
        let compared = latest.reproducible + latest.mismatch;
        let text = format!("reproducible {}/{}", latest.reproducible, latest.platforms);
        if compared == 0 {
            ("error".to_string(), "#6e7781")
        } else if latest.reproducible == latest.platforms {
            (text, "#1a7f37")
        } else if latest.reproducible == 0 {
            (text, "#cf222e")
        } else {
            (text, "#9a6700")
        }
    }
}

/// Roughly how wide `text` is in 11px Verdana, in pixels.
fn width(text: &str) -> u32 {
    let tenths: u32 = text
        .chars()
        .map(|c| match c {
            'i' | 'l' | 'j' | '.' | ',' | ':' | ';' | '|' | '!' | '\'' => 30,
            'f' | 'r' | 't' | '/' | ' ' | '(' | ')' => 45,
            'm' | 'w' | 'M' | 'W' => 100,
            _ => 70,
        })
        .sum();
    tenths.div_ceil(10)
}

impl Display for Badge<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LABEL: &str = "rebuild";
        let (message, colour) = self.message();
        let left = width(LABEL) + 12;
        let right = width(&message) + 12;
        let total = left + right;
        let (lx, rx) = (left * 5, left * 10 + right * 5);
        writeln!(
            f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" \
             role=\"img\" aria-label=\"{LABEL}: {message}\">\
             <title>{} {}: {LABEL} {message}</title>\
             <linearGradient id=\"s\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" \
             stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient>\
             <clipPath id=\"r\"><rect width=\"{total}\" height=\"20\" rx=\"3\" fill=\"#fff\"/></clipPath>\
             <g clip-path=\"url(#r)\"><rect width=\"{left}\" height=\"20\" fill=\"#555\"/>\
             <rect x=\"{left}\" width=\"{right}\" height=\"20\" fill=\"{colour}\"/>\
             <rect width=\"{total}\" height=\"20\" fill=\"url(#s)\"/></g>\
             <g fill=\"#fff\" text-anchor=\"middle\" \
             font-family=\"Verdana,Geneva,DejaVu Sans,sans-serif\" font-size=\"110\" \
             transform=\"scale(.1)\">\
             <text x=\"{lx}\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\">{LABEL}</text>\
             <text x=\"{lx}\" y=\"140\">{LABEL}</text>\
             <text x=\"{rx}\" y=\"150\" fill=\"#010101\" fill-opacity=\".3\">{message}</text>\
             <text x=\"{rx}\" y=\"140\">{message}</text></g></svg>",
            Esc(self.0.image),
            Esc(self.0.latest.version),
        )
    }
}
