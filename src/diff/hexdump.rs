//! Byte-level view: unified hex-dump hunks (16 bytes a line) around the
//! changes of a section, bounded by context and hunk count so huge diffs
//! stay readable.

use similar::{ChangeTag, TextDiff};

use super::ranges::{coalesce, Change};
use serde::{Deserialize, Serialize};

/// How much byte-level detail [`super::diff_files`] keeps.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Unchanged hex-dump lines (16 bytes each) shown around each change.
    pub context_lines: usize,
    /// Hunks kept per differing section; the rest are only counted.
    pub max_hunks: usize,
    /// The rebuild's `SOURCE_DATE_EPOCH`, when known: date stamps in the
    /// strings are related to it.
    pub source_date_epoch: Option<i64>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            context_lines: 2,
            max_hunks: 8,
            source_date_epoch: None,
        }
    }
}

/// A line of a hex-dump hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HunkLine {
    /// `' '` unchanged, `'-'` only in A, `'+'` only in B.
    pub tag: char,
    /// `00000010  48 65 6c ...  |Hel...|` (offset relative to the section).
    pub text: String,
}

/// A unified hex-dump hunk of one section.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hunk {
    pub section: String,
    /// Section offset of the first line in A and in B.
    pub a_offset: u64,
    pub b_offset: u64,
    pub lines: Vec<HunkLine>,
    /// The change went on beyond the lines shown.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

/// Bytes per hex-dump line.
pub const LINE_BYTES: u64 = 16;

/// Changed lines shown per hunk before it is cut (`truncated`).
pub const MAX_CHANGED_LINES: u64 = 32;

/// Hex-dump hunks of one section and how many were left out.
pub fn hunks(
    section: &str,
    a: &[u8],
    b: &[u8],
    changes: &[Change],
    options: &DiffOptions,
) -> (Vec<Hunk>, usize) {
    let context = options.context_lines as u64;
    let a_lines = (a.len() as u64).div_ceil(LINE_BYTES);
    let b_lines = (b.len() as u64).div_ceil(LINE_BYTES);
    // Line windows `(first line, end line)` around each change.
    let windows: Vec<(u64, u64)> = changes
        .iter()
        .map(|c| {
            let start = (c.a_offset / LINE_BYTES).saturating_sub(context);
            let end = (c.a_offset + c.a_length.max(c.b_length)).div_ceil(LINE_BYTES) + context;
            (start, end.max(start + 1))
        })
        .collect();
    let windows = coalesce(&windows, 0);

    let mut out = Vec::new();
    let mut omitted = 0usize;
    for (start, end) in windows {
        if out.len() >= options.max_hunks {
            omitted += 1;
            continue;
        }
        let limit = start + MAX_CHANGED_LINES + 2 * context;
        let truncated = end > limit;
        let end = end.min(limit);
        let a_end = end.min(a_lines);
        let b_end = end.min(b_lines);
        let text_a = dump(a, start, a_end);
        let text_b = dump(b, start, b_end);
        let diff = TextDiff::from_lines(text_a.as_str(), text_b.as_str());
        for group in diff.grouped_ops(options.context_lines) {
            if out.len() >= options.max_hunks {
                omitted += 1;
                continue;
            }
            let mut lines = Vec::new();
            let mut first: Option<(u64, u64)> = None;
            for op in &group {
                for change in diff.iter_changes(op) {
                    if first.is_none() {
                        first = Some((
                            start + change.old_index().unwrap_or(0) as u64,
                            start + change.new_index().unwrap_or(0) as u64,
                        ));
                    }
                    let tag = match change.tag() {
                        ChangeTag::Equal => ' ',
                        ChangeTag::Delete => '-',
                        ChangeTag::Insert => '+',
                    };
                    lines.push(HunkLine {
                        tag,
                        text: change.value().trim_end_matches('\n').to_string(),
                    });
                }
            }
            let (a_line, b_line) = first.unwrap_or((start, start));
            out.push(Hunk {
                section: section.to_string(),
                a_offset: a_line * LINE_BYTES,
                b_offset: b_line * LINE_BYTES,
                lines,
                truncated,
            });
        }
    }
    (out, omitted)
}

/// Hex-dump lines `first..end` of `data`, newline-terminated.
fn dump(data: &[u8], first: u64, end: u64) -> String {
    let mut out = String::new();
    for line in first..end {
        let start = (line * LINE_BYTES) as usize;
        let stop = (start + LINE_BYTES as usize).min(data.len());
        if let Some(bytes) = data.get(start..stop) {
            out.push_str(&hex_line(line * LINE_BYTES, bytes));
            out.push('\n');
        }
    }
    out
}

/// `00000010  48 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |Hello...........|`
pub fn hex_line(offset: u64, bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(49);
    for i in 0..LINE_BYTES as usize {
        if i == 8 {
            hex.push(' ');
        }
        match bytes.get(i) {
            Some(b) => hex.push_str(&format!("{b:02x} ")),
            None => hex.push_str("   "),
        }
    }
    let ascii: String = bytes
        .iter()
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        })
        .collect();
    format!("{offset:08x}  {hex} |{ascii}|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::ranges::byte_changes;

    #[test]
    fn hex_line_has_offset_hex_and_ascii() {
        assert_eq!(
            hex_line(16, b"Hello\0"),
            "00000010  48 65 6c 6c 6f 00                                 |Hello.|"
        );
    }

    #[test]
    fn one_changed_byte_gives_one_hunk_with_context() {
        let a = vec![0u8; 160];
        let mut b = a.clone();
        b[80] = 0x41;
        let changes = byte_changes(&a, &b).changes;
        let (hunks, omitted) = hunks(".data", &a, &b, &changes, &DiffOptions::default());
        assert_eq!(omitted, 0);
        assert_eq!(hunks.len(), 1);
        let tags: String = hunks[0].lines.iter().map(|l| l.tag).collect();
        assert_eq!(tags, "  -+  ");
        assert_eq!(hunks[0].a_offset, 48);
        assert!(hunks[0].lines[3].text.ends_with("|A...............|"));
    }

    #[test]
    fn hunks_beyond_the_maximum_are_counted() {
        let a = vec![0u8; 4096];
        let mut b = a.clone();
        for i in 0..10 {
            b[i * 400] = 1;
        }
        let changes = byte_changes(&a, &b).changes;
        let options = DiffOptions {
            context_lines: 1,
            max_hunks: 3,
            ..DiffOptions::default()
        };
        let (hunks, omitted) = hunks("s", &a, &b, &changes, &options);
        assert_eq!(hunks.len(), 3);
        assert_eq!(omitted, 7);
    }
}
