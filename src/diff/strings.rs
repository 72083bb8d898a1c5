//! Printable strings of the differing sections that only one file has: a
//! planted URL or command line stands out here for a security reviewer.

use std::collections::HashSet;

use super::sections::ComparedRegion;
use serde::Serialize;

use super::sections::SectionStatus;

/// Printable strings (>= 6 characters) of the differing sections found on
/// one side only, in order of appearance.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StringsDiff {
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    /// Counts before truncation to [`MAX_LISTED`].
    pub only_a_total: usize,
    pub only_b_total: usize,
    /// Most common directories of absolute paths among the one-sided
    /// strings (`/home/runner/work`): a sign of builds without `-trimpath`
    /// or in different directories.
    pub path_prefixes_only_a: Vec<String>,
    pub path_prefixes_only_b: Vec<String>,
}

/// Shortest run of printable characters reported as a string.
pub const MIN_LEN: usize = 6;

/// Strings listed per side; the rest are only counted.
pub const MAX_LISTED: usize = 100;

/// Characters kept of one very long string.
pub const MAX_STRING_CHARS: usize = 200;

/// Runs of at least `min_len` printable ASCII characters (space to `~`,
/// and tab), in order.
pub fn printable_strings(data: &[u8], min_len: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in data.iter().enumerate() {
        let printable = (0x20..=0x7e).contains(&b) || b == b'\t';
        match (printable, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                push_run(data, s, i, min_len, &mut out);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        push_run(data, s, data.len(), min_len, &mut out);
    }
    out
}

fn push_run<'d>(data: &'d [u8], start: usize, end: usize, min_len: usize, out: &mut Vec<&'d str>) {
    if end - start >= min_len {
        if let Some(s) = data
            .get(start..end)
            .and_then(|b| std::str::from_utf8(b).ok())
        {
            out.push(s);
        }
    }
}

/// True for sections holding debug information or symbol tables, whose
/// strings are noise when only one file has them (stripped vs unstripped).
pub fn is_debug_section(name: &str) -> bool {
    let base = name.rsplit(']').next().unwrap_or(name).trim_start();
    base.starts_with(".debug")
        || base.starts_with(".zdebug")
        || base.starts_with("__DWARF")
        || matches!(
            base,
            ".symtab" | ".strtab" | ".gnu_debuglink" | ".gnu_debugdata"
        )
}

/// Printable characters taken beyond each end of a change, so a string
/// of which only some letters changed is reported whole (within reason:
/// Go packs its string constants without separators).
pub const CHANGE_CONTEXT: usize = 24;

/// Strings found only in A or only in B: those around the changes of
/// differing sections, and all of those of one-sided non-debug sections.
/// Machine code is skipped: its printable runs are instruction bytes, not
/// strings.
pub fn strings_diff(compared: &[ComparedRegion], a: &[u8], b: &[u8]) -> StringsDiff {
    let mut strings_a: Vec<String> = Vec::new();
    let mut strings_b: Vec<String> = Vec::new();
    for c in compared {
        let is_code = c.a.as_ref().is_some_and(|r| r.code) || c.b.as_ref().is_some_and(|r| r.code);
        if is_code {
            continue;
        }
        match c.diff.status {
            SectionStatus::Same => {}
            SectionStatus::Differs => {
                if let (Some(ra), Some(rb)) = (&c.a, &c.b) {
                    let (da, db) = (ra.data(a), rb.data(b));
                    for change in &c.changes {
                        strings_a.extend(strings_around(&da, change.a_offset, change.a_length));
                        strings_b.extend(strings_around(&db, change.b_offset, change.b_length));
                    }
                }
            }
            SectionStatus::OnlyA | SectionStatus::OnlyB if is_debug_section(&c.diff.name) => {}
            SectionStatus::OnlyA | SectionStatus::OnlyB => {
                for (region, data, out) in [(&c.a, a, &mut strings_a), (&c.b, b, &mut strings_b)] {
                    if let Some(region) = region {
                        let bytes = region.data(data);
                        out.extend(
                            printable_strings(&bytes, MIN_LEN)
                                .into_iter()
                                .map(str::to_string),
                        );
                    }
                }
            }
        }
    }
    let strings_a: Vec<&str> = strings_a.iter().map(String::as_str).collect();
    let strings_b: Vec<&str> = strings_b.iter().map(String::as_str).collect();
    let (only_a, only_a_total, paths_a) = one_sided(&strings_a, &strings_b);
    let (only_b, only_b_total, paths_b) = one_sided(&strings_b, &strings_a);
    StringsDiff {
        only_a,
        only_b,
        only_a_total,
        only_b_total,
        path_prefixes_only_a: paths_a,
        path_prefixes_only_b: paths_b,
    }
}

/// The strings in `data[offset..offset + length]`, widened by up to
/// [`CHANGE_CONTEXT`] printable characters on each side.
fn strings_around(data: &[u8], offset: u64, length: u64) -> Vec<String> {
    let is_printable = |b: &u8| (0x20..=0x7e).contains(b) || *b == b'\t';
    let len = data.len();
    let start = usize::try_from(offset).unwrap_or(len).min(len);
    let end = usize::try_from(offset.saturating_add(length))
        .unwrap_or(len)
        .min(len);
    let before = data
        .get(..start)
        .unwrap_or_default()
        .iter()
        .rev()
        .take(CHANGE_CONTEXT)
        .take_while(|b| is_printable(b))
        .count();
    let after = data
        .get(end..)
        .unwrap_or_default()
        .iter()
        .take(CHANGE_CONTEXT)
        .take_while(|b| is_printable(b))
        .count();
    let window = data.get(start - before..end + after).unwrap_or_default();
    printable_strings(window, MIN_LEN)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Directories (up to three components, e.g. `/home/runner/work`) of the
/// absolute paths in `strings`, most frequent first (at most three).
pub fn path_prefixes<'s>(strings: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in strings {
        let Some(at) = s.find('/') else { continue };
        let path = s.get(at..).unwrap_or_default();
        let path = path
            .split([' ', '\t', '"', '\'', ':'])
            .next()
            .unwrap_or_default();
        let dirs: Vec<&str> = path.split('/').skip(1).collect();
        // Need at least one directory and a file name; the prefix preceding
        // '/' must be empty or a separator (not a URL like https://).
        if dirs.len() < 2 || dirs.iter().any(|d| d.is_empty()) {
            continue;
        }
        if at > 0 && !s[..at].ends_with([' ', '=', '"', '\'', '(', '\t']) {
            continue;
        }
        let depth = (dirs.len() - 1).min(3);
        let prefix = format!("/{}", dirs[..depth].join("/"));
        match counts.iter_mut().find(|(p, _)| *p == prefix) {
            Some(entry) => entry.1 += 1,
            None => counts.push((prefix, 1)),
        }
    }
    counts.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    counts.into_iter().take(3).map(|(p, _)| p).collect()
}

/// Distinct strings of `ours` missing from `theirs`: the first
/// [`MAX_LISTED`] (shortened to [`MAX_STRING_CHARS`]), the total count and
/// the most common directories of the absolute paths among them.
fn one_sided(ours: &[&str], theirs: &[&str]) -> (Vec<String>, usize, Vec<String>) {
    let theirs: HashSet<&str> = theirs.iter().copied().collect();
    let mut seen = HashSet::new();
    let mut listed = Vec::new();
    let mut all = Vec::new();
    for s in ours {
        if theirs.contains(s) || !seen.insert(*s) {
            continue;
        }
        all.push(*s);
        if listed.len() < MAX_LISTED {
            listed.push(shorten(s));
        }
    }
    (listed, all.len(), path_prefixes(all))
}

fn shorten(s: &str) -> String {
    if s.len() <= MAX_STRING_CHARS {
        s.to_string()
    } else {
        format!("{}...", s.get(..MAX_STRING_CHARS).unwrap_or(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_runs_of_six_or_more_printable_characters() {
        let data = b"\x00abcde\x00abcdef\x01beacon: https://x.test/c2\tok\xffshort\x00tail12";
        assert_eq!(
            printable_strings(data, MIN_LEN),
            vec!["abcdef", "beacon: https://x.test/c2\tok", "tail12"]
        );
    }

    #[test]
    fn one_sided_strings_are_distinct_and_in_order() {
        let (listed, total, paths) =
            one_sided(&["zz-only", "common", "aa-only", "zz-only"], &["common"]);
        assert_eq!(listed, vec!["zz-only", "aa-only"]);
        assert_eq!(total, 2);
        assert!(paths.is_empty());
    }

    #[test]
    fn path_prefixes_group_absolute_paths_by_leading_directories() {
        let strings = [
            "/home/runner/work/app/main.go",
            "/home/runner/work/app/util/x.go",
            "/usr/lib/go/src/fmt/print.go",
            "https://example.com/a/b",
            "DW_AT /tmp/b/c.c",
            "runtime/proc.go",
        ];
        assert_eq!(
            path_prefixes(strings),
            vec!["/home/runner/work", "/usr/lib/go", "/tmp/b"]
        );
    }

    #[test]
    fn strings_around_a_change_are_widened_to_the_whole_word() {
        let data = b"\0\0hello beacon world\0tail";
        // The change covers "beacon" only.
        assert_eq!(strings_around(data, 8, 6), vec!["hello beacon world"]);
        let long = [b'x'; 100];
        assert_eq!(
            strings_around(&long, 50, 1)[0].len(),
            2 * CHANGE_CONTEXT + 1
        );
    }

    #[test]
    fn debug_sections_are_recognised_with_arch_prefix() {
        assert!(is_debug_section(".debug_info"));
        assert!(is_debug_section("[x86_64] __DWARF,__debug_info"));
        assert!(is_debug_section(".symtab"));
        assert!(!is_debug_section(".rodata"));
    }
}
