//! Printable strings of the differing sections that only one file has: a
//! planted URL or command line stands out here for a security reviewer.
//!
//! Within each differing section the printable runs around the changes are
//! aligned between A and B (a sequence diff over runs, then a character
//! diff within a changed pair of runs), so only the inserted or removed
//! text is reported, extended to natural boundaries: Go packs its string
//! constants without separators, and a planted string must come out whole
//! without its neighbours.

use std::collections::HashSet;
use std::ops::Range;
use std::time::{Duration, Instant};

use memchr::memmem;
use serde::{Deserialize, Serialize};
use similar::{capture_diff_slices_deadline, Algorithm, DiffTag};

use super::sections::{ComparedRegion, SectionStatus};
use super::timestamps::{timestamps, TimestampPair};
use crate::binary::layout::RegionKind;

/// Printable strings (>= 6 characters) of the differing sections found on
/// one side only, in order of appearance.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StringsDiff {
    pub only_a: Vec<String>,
    pub only_b: Vec<String>,
    /// Counts before truncation to [`MAX_LISTED`].
    pub only_a_total: usize,
    pub only_b_total: usize,
    /// Every one-sided string, whole (what causes must account for;
    /// `only_a`/`only_b` list the first [`MAX_LISTED`], shortened).
    #[serde(skip)]
    pub every_only_a: Vec<String>,
    #[serde(skip)]
    pub every_only_b: Vec<String>,
    /// Build directories: where the source files named by one-sided
    /// strings sit, each whole (`/home/runner/work/app/app`), most files
    /// first: a sign of builds without `-trimpath` or in different
    /// directories. A directory both sides name is in neither list.
    pub path_prefixes_only_a: Vec<String>,
    pub path_prefixes_only_b: Vec<String>,
    /// Date/time stamps among the one-sided strings, A's paired with B's.
    pub timestamps: Vec<TimestampPair>,
    /// Why the comparison of strings stopped early (its time or size
    /// budget), when it did: the lists may then be incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

/// Shortest run of printable characters reported as a string.
pub const MIN_LEN: usize = 6;

/// Strings listed per side; the rest are only counted.
pub const MAX_LISTED: usize = 100;

/// Characters kept of one very long string.
pub const MAX_STRING_CHARS: usize = 512;

/// Printable runs shorter than this are not aligned (binary noise).
const MIN_RUN: usize = 4;

/// Characters a changed string is extended by on each side, at most.
const MAX_EXTEND: usize = 256;

/// Characters a changed string is extended by when only some of its
/// characters changed (packed strings have no separators to stop at).
const MAX_EXTEND_CHANGED: usize = 64;

/// Bytes of each file read around the changes, at most.
const WINDOW_BUDGET: usize = 16 << 20;

/// Characters of a changed pair of runs diffed character by character, at
/// most (per side, after their common prefix and suffix).
const CHAR_DIFF_MAX: usize = 1 << 20;

/// Bytes searched to tell a moved string from a new one, at most.
const MOVED_SEARCH_BUDGET: usize = 256 << 20;

/// Wall time the strings comparison may take.
const TIME_BUDGET: Duration = Duration::from_millis(400);

/// Printable: space to `~`, tab and newline.
fn is_printable(b: u8) -> bool {
    (0x20..=0x7e).contains(&b) || b == b'\t' || b == b'\n'
}

/// Characters of URLs and paths: a string is not cut inside a run of them.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"._~:/?#@!$&'()*+,;=%-".contains(&b)
}

/// Token characters that separate the parts of a path, URL or time.
fn is_separator(b: u8) -> bool {
    is_token(b) && !b.is_ascii_alphanumeric()
}

/// Runs of at least `min_len` printable ASCII characters (space to `~`,
/// tab and newline), in order.
pub fn printable_strings(data: &[u8], min_len: usize) -> Vec<&str> {
    runs(data, min_len)
        .into_iter()
        .filter_map(|r| std::str::from_utf8(data.get(r)?).ok())
        .collect()
}

/// Ranges of the runs of at least `min_len` printable characters.
fn runs(data: &[u8], min_len: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &b) in data.iter().enumerate() {
        match (is_printable(b), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= min_len {
                    out.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        if data.len() - s >= min_len {
            out.push(s..data.len());
        }
    }
    out
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

/// Build ID notes: compared and explained on their own (`build_id`).
fn is_build_id_section(name: &str) -> bool {
    name.ends_with(".note.gnu.build-id") || name.ends_with(".note.go.buildid")
}

/// The budgets of one comparison.
struct Budget {
    deadline: Instant,
    window_bytes: usize,
    search_bytes: usize,
    exceeded: Option<String>,
}

impl Budget {
    fn exceed(&mut self, why: &str) {
        self.exceeded.get_or_insert_with(|| why.to_string());
    }

    fn out_of_time(&mut self) -> bool {
        if Instant::now() > self.deadline {
            self.exceed("it took longer than its time budget");
        }
        self.exceeded.is_some()
    }
}

/// Strings found only in A or only in B: the inserted, removed or changed
/// text of differing sections, and all of those of one-sided non-debug
/// sections. Machine code, headers, debug sections and build IDs are
/// skipped. `source_date_epoch` relates date stamps to the rebuild's.
pub fn strings_diff(
    compared: &[ComparedRegion],
    a: &[u8],
    b: &[u8],
    source_date_epoch: Option<i64>,
) -> StringsDiff {
    let mut budget = Budget {
        deadline: Instant::now() + TIME_BUDGET,
        window_bytes: WINDOW_BUDGET,
        search_bytes: MOVED_SEARCH_BUDGET,
        exceeded: None,
    };
    let mut strings_a: Vec<String> = Vec::new();
    let mut strings_b: Vec<String> = Vec::new();
    for c in compared {
        let is_code = c.a.as_ref().is_some_and(|r| r.code) || c.b.as_ref().is_some_and(|r| r.code);
        let name = &c.diff.name;
        if is_code
            || c.diff.kind == RegionKind::Header
            || is_debug_section(name)
            || is_build_id_section(name)
        {
            continue;
        }
        match c.diff.status {
            SectionStatus::Same => {}
            SectionStatus::Differs => {
                if let (Some(ra), Some(rb)) = (&c.a, &c.b) {
                    if budget.out_of_time() {
                        break;
                    }
                    let (da, db) = (ra.data(a), rb.data(b));
                    let truncated = c.diff.ranges_total.is_some_and(|n| n > c.changes.len());
                    let windows = windows(&da, &db, &c.changes, truncated);
                    for (wa, wb) in windows {
                        let (Some(ta), Some(tb)) = (da.get(wa), db.get(wb)) else {
                            continue;
                        };
                        if ta.len().max(tb.len()) > budget.window_bytes {
                            budget.exceed("the changed parts are larger than its size budget");
                            break;
                        }
                        budget.window_bytes -= ta.len().max(tb.len());
                        let (new_a, new_b) = changed_strings(ta, tb, &mut budget);
                        strings_a.extend(not_in(new_a, &db, &mut budget));
                        strings_b.extend(not_in(new_b, &da, &mut budget));
                        if budget.exceeded.is_some() {
                            break;
                        }
                    }
                }
            }
            SectionStatus::OnlyA | SectionStatus::OnlyB => {
                for (region, data, out) in [(&c.a, a, &mut strings_a), (&c.b, b, &mut strings_b)] {
                    if let Some(region) = region {
                        let bytes = region.data(data);
                        out.extend(
                            printable_strings(&bytes, MIN_LEN)
                                .into_iter()
                                .filter(|s| looks_like_text(s))
                                .map(str::to_string),
                        );
                    }
                }
            }
        }
    }
    let strings_a: Vec<&str> = strings_a.iter().map(String::as_str).collect();
    let strings_b: Vec<&str> = strings_b.iter().map(String::as_str).collect();
    let (only_a, all_a) = one_sided(&strings_a, &strings_b);
    let (only_b, all_b) = one_sided(&strings_b, &strings_a);
    let (paths_a, paths_b) = distinct_prefixes(
        build_directories(all_a.iter().copied()),
        build_directories(all_b.iter().copied()),
    );
    StringsDiff {
        only_a,
        only_b,
        only_a_total: all_a.len(),
        only_b_total: all_b.len(),
        every_only_a: all_a.iter().map(|s| s.to_string()).collect(),
        every_only_b: all_b.iter().map(|s| s.to_string()).collect(),
        path_prefixes_only_a: paths_a,
        path_prefixes_only_b: paths_b,
        timestamps: timestamps(all_a.iter().copied(), all_b.iter().copied(), source_date_epoch),
        incomplete: budget.exceeded.map(|why| {
            format!("the strings comparison stopped early ({why}): strings only in A or B may be missing")
        }),
    }
}

/// Pairs of ranges of A's and B's section data around the changes, each
/// widened to whole printable runs and merged when they overlap. When the
/// changes were `truncated` (too many to list), the rest of the section
/// after the last one is one more window.
fn windows(
    a: &[u8],
    b: &[u8],
    changes: &[super::ranges::Change],
    truncated: bool,
) -> Vec<(Range<usize>, Range<usize>)> {
    let widen = |data: &[u8], offset: u64, length: u64| -> Range<usize> {
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
            .take_while(|b| is_printable(**b))
            .count();
        let after = data
            .get(end..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| is_printable(**b))
            .count();
        start - before..end + after
    };
    let mut spans: Vec<(Range<usize>, Range<usize>)> = changes
        .iter()
        .map(|c| {
            (
                widen(a, c.a_offset, c.a_length),
                widen(b, c.b_offset, c.b_length),
            )
        })
        .collect();
    if truncated {
        let (ea, eb) = spans.last().map_or((0, 0), |(wa, wb)| (wa.end, wb.end));
        spans.push((ea..a.len(), eb..b.len()));
    }
    let mut merged: Vec<(Range<usize>, Range<usize>)> = Vec::new();
    for (wa, wb) in spans {
        match merged.last_mut() {
            Some((ma, mb)) if wa.start <= ma.end || wb.start <= mb.end => {
                ma.end = ma.end.max(wa.end);
                mb.end = mb.end.max(wb.end);
            }
            _ => merged.push((wa, wb)),
        }
    }
    merged
}

/// The strings of `ta` and `tb` (matching windows of A and B) that differ:
/// runs aligned as a sequence, then changed runs character by character.
fn changed_strings(ta: &[u8], tb: &[u8], budget: &mut Budget) -> (Vec<String>, Vec<String>) {
    let (runs_a, runs_b) = (runs(ta, MIN_RUN), runs(tb, MIN_RUN));
    let items_a: Vec<&[u8]> = runs_a.iter().filter_map(|r| ta.get(r.clone())).collect();
    let items_b: Vec<&[u8]> = runs_b.iter().filter_map(|r| tb.get(r.clone())).collect();
    let ops =
        capture_diff_slices_deadline(Algorithm::Myers, &items_a, &items_b, Some(budget.deadline));
    let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
    for op in ops {
        let (tag, ra, rb) = op.as_tag_tuple();
        let (Some(group_a), Some(group_b)) = (items_a.get(ra), items_b.get(rb)) else {
            continue;
        };
        match tag {
            DiffTag::Equal => {}
            DiffTag::Delete | DiffTag::Insert => {
                out_a.extend(group_a.iter().map(|r| text(r)));
                out_b.extend(group_b.iter().map(|r| text(r)));
            }
            DiffTag::Replace => {
                if budget.out_of_time() {
                    break;
                }
                let joined_a = group_a.join(&0u8);
                let joined_b = group_b.join(&0u8);
                let (new_a, new_b) = changed_substrings(&joined_a, &joined_b, budget);
                out_a.extend(new_a);
                out_b.extend(new_b);
            }
        }
    }
    let keep = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .filter(|s| s.len() >= MIN_LEN && looks_like_text(s))
            .collect()
    };
    (keep(out_a), keep(out_b))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One change of a character diff: `a` in A became `b` in B.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edit {
    a: Range<usize>,
    b: Range<usize>,
}

/// The differing substrings of `a` and `b` (printable runs joined by NUL),
/// extended to natural boundaries.
fn changed_substrings(a: &[u8], b: &[u8], budget: &mut Budget) -> (Vec<String>, Vec<String>) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (mid_a, mid_b) = (prefix..a.len() - suffix, prefix..b.len() - suffix);
    if mid_a.len().max(mid_b.len()) > CHAR_DIFF_MAX {
        budget.exceed("a changed string is larger than its size budget");
        return (Vec::new(), Vec::new());
    }
    let ops = capture_diff_slices_deadline(
        Algorithm::Myers,
        &a[mid_a.clone()],
        &b[mid_b.clone()],
        Some(budget.deadline),
    );
    let edits: Vec<Edit> = ops
        .iter()
        .map(|op| op.as_tag_tuple())
        .filter(|(tag, _, _)| *tag != DiffTag::Equal)
        .map(|(_, ra, rb)| Edit {
            a: ra.start + prefix..ra.end + prefix,
            b: rb.start + prefix..rb.end + prefix,
        })
        .collect();
    let (mut out_a, mut out_b) = (Vec::new(), Vec::new());
    for edit in merge_close_edits(edits) {
        let edit = if edit.a.is_empty() || edit.b.is_empty() {
            natural_shift(a, b, edit)
        } else {
            edit
        };
        let pure = edit.a.is_empty() || edit.b.is_empty();
        for (data, range, out) in [(a, &edit.a, &mut out_a), (b, &edit.b, &mut out_b)] {
            if range.is_empty() {
                continue;
            }
            let range = if pure {
                extend_at_separators(data, range.clone())
            } else {
                extend(data, range.clone(), MAX_EXTEND_CHANGED)
            };
            if let Some(piece) = data.get(range) {
                out.extend(printable_strings(piece, 1).into_iter().map(str::to_string));
            }
        }
    }
    (out_a, out_b)
}

/// Merges edits separated by an equal stretch no longer than the edits
/// on either side of it (a changed time keeps its `:`; a planted string
/// may share some letters with its neighbours by chance).
fn merge_close_edits(edits: Vec<Edit>) -> Vec<Edit> {
    let size = |e: &Edit| e.a.len().max(e.b.len());
    let mut out: Vec<Edit> = Vec::new();
    for edit in edits {
        if let Some(last) = out.last_mut() {
            let gap = (edit.a.start - last.a.end).max(edit.b.start - last.b.end);
            if gap <= size(last).min(size(&edit)) {
                last.a.end = edit.a.end;
                last.b.end = edit.b.end;
                continue;
            }
        }
        out.push(edit);
    }
    out
}

/// How natural a cut between `outside` and `inside` is (None: the edge of
/// the text or a NUL).
fn boundary_score(outside: Option<u8>, inside: Option<u8>) -> u32 {
    let edge = |c: Option<u8>| c.is_none_or(|c| c == 0);
    let space = |c: Option<u8>| c.is_some_and(|c| c.is_ascii_whitespace());
    let quote = |c: Option<u8>| c.is_some_and(|c| matches!(c, b'"' | b'\'' | b'`'));
    let punct = |c: Option<u8>| c.is_some_and(|c| !c.is_ascii_alphanumeric());
    if edge(outside) {
        10
    } else if space(outside) {
        8
    } else if quote(outside) {
        6
    } else if space(inside) || quote(inside) {
        4
    } else if punct(outside) || punct(inside) {
        3
    } else if outside.is_some_and(|c| c.is_ascii_lowercase())
        && inside.is_some_and(|c| c.is_ascii_uppercase())
    {
        2
    } else {
        0
    }
}

/// A pure insertion (or removal) can often slide: `x[abcx]` is `[xabc]x`.
/// Picks the position whose ends are the most natural boundaries (first
/// such position on a tie).
fn natural_shift(a: &[u8], b: &[u8], edit: Edit) -> Edit {
    let inserted = edit.a.is_empty();
    let (text, range) = if inserted {
        (b, edit.b.clone())
    } else {
        (a, edit.a.clone())
    };
    let len = range.len();
    // Left: while the character before equals the last of the range.
    let mut start = range.start;
    while start > 0 && text.get(start - 1) == text.get(start - 1 + len) {
        start -= 1;
    }
    let mut end_start = range.start;
    while text.get(end_start) == text.get(end_start + len) && end_start + len < text.len() {
        end_start += 1;
    }
    let score = |s: usize| {
        let before = s.checked_sub(1).and_then(|i| text.get(i)).copied();
        let first = text.get(s).copied();
        let last = text.get(s + len - 1).copied();
        let after = text.get(s + len).copied();
        boundary_score(before, first) + boundary_score(after, last)
    };
    let best = (start..=end_start)
        .max_by_key(|s| (score(*s), std::cmp::Reverse(*s)))
        .unwrap_or(range.start);
    let moved = best as isize - range.start as isize;
    let shift = |r: &Range<usize>| {
        let s = (r.start as isize + moved).max(0) as usize;
        s..s + r.len()
    };
    Edit {
        a: shift(&edit.a),
        b: shift(&edit.b),
    }
}

/// `range` widened over token characters on both sides (at most `max`
/// each way): a changed URL, path or time is shown whole.
fn extend(data: &[u8], range: Range<usize>, max: usize) -> Range<usize> {
    let before = data
        .get(..range.start)
        .unwrap_or_default()
        .iter()
        .rev()
        .take(max)
        .take_while(|c| is_token(**c))
        .count();
    let after = data
        .get(range.end..)
        .unwrap_or_default()
        .iter()
        .take(max)
        .take_while(|c| is_token(**c))
        .count();
    range.start - before..range.end + after
}

/// An inserted or removed `range` widened only where it was cut at a
/// separator of a path, URL or time (`/usr/lib/go/src/` + `runtime/x.go`),
/// not where it meets its packed neighbours letter to letter.
fn extend_at_separators(data: &[u8], range: Range<usize>) -> Range<usize> {
    let at = |i: Option<usize>| i.and_then(|i| data.get(i)).copied();
    let (mut start, mut end) = (range.start, range.end);
    let left = (at(start.checked_sub(1)), at(Some(start)));
    if matches!(left, (Some(o), Some(i)) if is_token(o) && (is_separator(o) || is_separator(i))) {
        start = extend(data, range.clone(), MAX_EXTEND).start;
    }
    let right = (at(end.checked_sub(1)), at(Some(end)));
    if matches!(right, (Some(i), Some(o)) if is_token(o) && (is_separator(o) || is_separator(i))) {
        end = extend(data, range, MAX_EXTEND).end;
    }
    start..end
}

/// False for binary noise that happens to be printable: a string mostly
/// of one character (`jDDDDDDDDxE`), or without any letter or digit run.
fn looks_like_text(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut counts = [0usize; 256];
    for &c in bytes {
        counts[usize::from(c)] += 1;
    }
    let most = counts.iter().copied().max().unwrap_or(0);
    let alnum = bytes.iter().filter(|c| c.is_ascii_alphanumeric()).count();
    most * 2 <= bytes.len() && alnum * 2 >= bytes.len()
}

/// `strings` minus those found in `other` (moved, not new), while the
/// search budget lasts.
fn not_in(strings: Vec<String>, other: &[u8], budget: &mut Budget) -> Vec<String> {
    strings
        .into_iter()
        .filter(|s| {
            if budget.search_bytes < other.len() {
                return true;
            }
            budget.search_bytes -= other.len();
            memmem::find(other, s.as_bytes()).is_none()
        })
        .collect()
}

/// Known roots of absolute paths: one directory under them is enough.
const KNOWN_ROOTS: [&str; 16] = [
    "home",
    "root",
    "tmp",
    "usr",
    "opt",
    "go",
    "src",
    "build",
    "workspace",
    "builds",
    "var",
    "Users",
    "private",
    "nix",
    "srv",
    "mnt",
];

/// A directory or file name as people and tools write them: letters,
/// digits and `._+@~-`, not random-looking (no lowercase letter followed
/// by an uppercase one at the end or before another uppercase one, as in
/// base64 such as `RcB` or `ZHULjL`).
fn plausible_component(c: &str) -> bool {
    let b = c.as_bytes();
    (1..=64).contains(&b.len())
        && b.iter()
            .all(|x| x.is_ascii_alphanumeric() || b"._+@~-".contains(x))
        && !b.windows(2).enumerate().any(|(i, w)| {
            w[0].is_ascii_lowercase()
                && w[1].is_ascii_uppercase()
                && b.get(i + 2).is_none_or(|n| !n.is_ascii_lowercase())
        })
}

/// File name endings of source files: the evidence that a path names a
/// build directory (runtime paths such as `/etc/localtime` or
/// `/proc/self/exe`, which linked C code carries, are not).
const SOURCE_EXTENSIONS: [&str; 17] = [
    "go", "s", "S", "asm", "c", "h", "cc", "cpp", "cxx", "c++", "hh", "hpp", "hxx", "rs", "m",
    "mm", "swift",
];

/// Whether the last component of a path names a source file (`main.go`).
fn is_source_file(name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && SOURCE_EXTENSIONS.contains(&ext))
}

/// A source file named by a whole string, split into its root (`""` or
/// `C:`), separator and components (the file name last).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePath<'s> {
    root: &'s str,
    sep: char,
    parts: Vec<&'s str>,
}

fn join(root: &str, sep: char, parts: &[&str]) -> String {
    let sep = sep.to_string();
    format!("{root}{sep}{}", parts.join(&sep))
}

/// The source file `s` names, if the whole string (less surrounding
/// white space) is the absolute path of a source file (`/…/main.go` or
/// `C:\…\main.c`) that looks real: under a known root, or at least three
/// plausibly named components of which two are lowercase words.
pub fn source_path(s: &str) -> Option<SourcePath<'_>> {
    let path = s.trim();
    let (root, sep, rest) = match path.as_bytes() {
        [b'/', ..] => ("", '/', &path[1..]),
        [d, b':', b'\\', ..] if d.is_ascii_alphabetic() => (&path[..2], '\\', &path[3..]),
        _ => return None,
    };
    let parts: Vec<&str> = rest.split(sep).collect();
    let (file, dirs) = parts.split_last()?;
    if dirs.is_empty() || !is_source_file(file) {
        return None;
    }
    let known = !root.is_empty() || parts.first().is_some_and(|p| KNOWN_ROOTS.contains(p));
    // Under a known root, names may look random (`/tmp/.tmpAbC3xZ`).
    let valid = |p: &&str| {
        (1..=64).contains(&p.len())
            && p.bytes()
                .all(|x| x.is_ascii_alphanumeric() || b"._+@~-".contains(&x))
    };
    let all_valid = if known {
        parts.iter().all(valid)
    } else {
        parts.iter().all(|p| plausible_component(p))
    };
    let wordy = parts
        .iter()
        .filter(|p| p.len() >= 3 && p.bytes().all(|c| c.is_ascii_lowercase()))
        .count();
    if !all_valid || (!known && (parts.len() < 3 || wordy < 2)) {
        return None;
    }
    Some(SourcePath { root, sep, parts })
}

/// Whether `s` is a source file named relative to no directory, as
/// `-trimpath` writes them (`example.com/app/main.go`, `runtime/proc.go`).
pub fn is_relative_source_path(s: &str) -> bool {
    let parts: Vec<&str> = s.split('/').collect();
    parts.last().is_some_and(|file| is_source_file(file))
        && parts.iter().all(|p| plausible_component(p))
}

/// Directories in which whole source files of `strings` sit, each build
/// directory whole (`/home/runner/work/app/app`, `/usr/lib/go-1.22/src`),
/// most files first (at most [`MAX_LISTED`]). Files are grouped by their
/// first three components; a group's directory is the deepest one all its
/// files share, and a directory inside another listed one is left out.
pub fn build_directories<'s>(strings: impl IntoIterator<Item = &'s str>) -> Vec<String> {
    struct Group<'s> {
        key: Vec<&'s str>,
        root: &'s str,
        sep: char,
        common: Vec<&'s str>,
        files: usize,
    }
    let mut groups: Vec<Group<'s>> = Vec::new();
    for s in strings {
        let Some(path) = source_path(s) else { continue };
        let dirs = &path.parts[..path.parts.len() - 1];
        let key = dirs[..dirs.len().min(3)].to_vec();
        match groups
            .iter_mut()
            .find(|g| g.key == key && g.root == path.root)
        {
            Some(group) => {
                let shared = group
                    .common
                    .iter()
                    .zip(dirs)
                    .take_while(|(x, y)| x == y)
                    .count();
                group.common.truncate(shared);
                group.files += 1;
            }
            None => groups.push(Group {
                key,
                root: path.root,
                sep: path.sep,
                common: dirs.to_vec(),
                files: 1,
            }),
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.files));
    let directories: Vec<String> = groups
        .iter()
        .map(|g| join(g.root, g.sep, &g.common))
        .collect();
    let inside_another = |dir: &String| {
        directories.iter().any(|other| {
            other != dir
                && dir
                    .strip_prefix(other.as_str())
                    .is_some_and(|rest| rest.starts_with(['/', '\\']))
        })
    };
    let mut out: Vec<String> = Vec::new();
    for dir in &directories {
        if !inside_another(dir) && !out.contains(dir) {
            out.push(dir.clone());
        }
    }
    out.truncate(MAX_LISTED);
    out
}

/// The prefixes of each side that the other side does not also name: the
/// same directories on both sides (amd64 vs arm64 of one source) say
/// nothing about where each was built.
fn distinct_prefixes(a: Vec<String>, b: Vec<String>) -> (Vec<String>, Vec<String>) {
    let only_a = a.iter().filter(|p| !b.contains(p)).cloned().collect();
    let only_b = b.iter().filter(|p| !a.contains(p)).cloned().collect();
    (only_a, only_b)
}

/// Distinct strings of `ours` missing from `theirs`: the first
/// [`MAX_LISTED`] (shortened to [`MAX_STRING_CHARS`]) and all of them.
fn one_sided<'s>(ours: &[&'s str], theirs: &[&str]) -> (Vec<String>, Vec<&'s str>) {
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
    (listed, all)
}

/// `s`, cut at [`MAX_STRING_CHARS`] characters.
pub fn shorten(s: &str) -> String {
    if s.len() <= MAX_STRING_CHARS {
        s.to_string()
    } else {
        format!("{}...", s.get(..MAX_STRING_CHARS).unwrap_or(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> Budget {
        Budget {
            deadline: Instant::now() + Duration::from_secs(3600),
            window_bytes: WINDOW_BUDGET,
            search_bytes: MOVED_SEARCH_BUDGET,
            exceeded: None,
        }
    }

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
        let (listed, all) = one_sided(&["zz-only", "common", "aa-only", "zz-only"], &["common"]);
        assert_eq!(listed, vec!["zz-only", "aa-only"]);
        assert_eq!(all, vec!["zz-only", "aa-only"]);
    }

    #[test]
    fn a_string_planted_among_packed_strings_comes_out_whole_and_alone() {
        let before = "unexpected signal during runtime execution";
        let after = "gcBgMarkWorker: unexpected gcMarkWorkerMode";
        let planted = "beacon: https://collector.evil.test/implant";
        let a = format!("\x01\x02{before}{after}\x00tail string");
        let b = format!("\x01\x02{before}{planted}{after}\x00tail string");
        let (only_a, only_b) = changed_strings(a.as_bytes(), b.as_bytes(), &mut budget());
        assert!(only_a.is_empty(), "{only_a:?}");
        assert_eq!(only_b, vec![planted]);
    }

    #[test]
    fn an_insertion_slides_to_natural_boundaries() {
        // "xab" inserted before "xcd" could also be read as "abx" after "x".
        let a = b"\0 xcd\0";
        let b = b"\0 xabxcd\0";
        let edit = natural_shift(a, b, Edit { a: 3..3, b: 3..6 });
        assert_eq!(edit, Edit { a: 2..2, b: 2..5 });
    }

    #[test]
    fn a_changed_time_is_extended_to_the_whole_stamp() {
        let a = b"built 2025-03-11T19:58:53Z ok";
        let b = b"built 2025-03-11T19:52:20Z ok";
        let (only_a, only_b) = changed_substrings(a, b, &mut budget());
        assert_eq!(only_a, vec!["2025-03-11T19:58:53Z"]);
        assert_eq!(only_b, vec!["2025-03-11T19:52:20Z"]);
    }

    #[test]
    fn a_removed_directory_is_shown_with_the_rest_of_its_path() {
        let a = b"\0/usr/lib/go/src/runtime/proc.go\0";
        let b = b"\0runtime/proc.go\0";
        let (only_a, only_b) = changed_substrings(a, b, &mut budget());
        assert_eq!(only_a, vec!["/usr/lib/go/src/runtime/proc.go"]);
        assert!(only_b.is_empty());
    }

    #[test]
    fn a_moved_string_is_in_neither_list() {
        let a = b"\0first string here\0second string here\0";
        let b = b"\0second string here\0first string here\0";
        let mut budget = budget();
        let (new_a, new_b) = changed_strings(a, b, &mut budget);
        assert!(not_in(new_a, b, &mut budget).is_empty());
        assert!(not_in(new_b, a, &mut budget).is_empty());
    }

    #[test]
    fn binary_noise_is_not_text() {
        assert!(!looks_like_text("jDDDDDDDDxE"));
        assert!(!looks_like_text("!!!!!!!!!!!!!"));
        assert!(!looks_like_text("H.$(%@!^&"));
        assert!(looks_like_text("beacon: https://x.test/c2"));
    }

    #[test]
    fn build_directories_are_named_whole_from_their_source_files() {
        let strings = [
            "/home/runner/work/app/app/main.go",
            "/home/runner/work/app/app/internal/store/db.go",
            "/usr/lib/go-1.22/src/fmt/print.go",
            "/usr/lib/go-1.22/src/runtime/proc.go",
            "/home/runner/work/app/app/cmd/tool/tool.go",
            "https://example.com/a/b.go",
            "DW_AT /tmp/b/c.c",
            "runtime/proc.go",
            "C:\\Users\\dev\\src\\app\\main.go",
        ];
        assert_eq!(
            build_directories(strings),
            vec![
                "/home/runner/work/app/app",
                "/usr/lib/go-1.22/src",
                "C:\\Users\\dev\\src\\app"
            ]
        );
    }

    #[test]
    fn a_directory_inside_another_build_directory_is_not_listed_again() {
        let strings = ["/src/main.go", "/src/internal/store/db.go"];
        assert_eq!(build_directories(strings), vec!["/src"]);
    }

    #[test]
    fn runtime_paths_of_linked_c_code_are_not_build_directories() {
        let strings = [
            "/proc/self/exe",
            "/etc/localtime",
            "/usr/lib/locale/locale-archive",
            "/usr/share/zoneinfo/",
            "/dev/urandom",
            "/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache",
        ];
        assert!(build_directories(strings).is_empty());
    }

    #[test]
    fn random_bytes_and_base64_are_not_paths() {
        assert!(build_directories([
            "/RcB/ZHULjL.go",
            "x/RcB/ZHULjL/aBcD/Ef9.c",
            "/aZ/qW/eR/tY.s"
        ])
        .is_empty());
        // A deterministic pseudo-random megabyte.
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..1 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        let strings = printable_strings(&data, 4);
        assert!(strings.len() > 100);
        assert!(build_directories(strings).is_empty());
    }

    #[test]
    fn prefixes_both_sides_name_are_not_differences() {
        let (a, b) = distinct_prefixes(
            vec!["/usr/lib/go".into(), "/home/a/src".into()],
            vec!["/usr/lib/go".into()],
        );
        assert_eq!(a, vec!["/home/a/src"]);
        assert!(b.is_empty());
    }

    #[test]
    fn debug_sections_are_recognised_with_arch_prefix() {
        assert!(is_debug_section(".debug_info"));
        assert!(is_debug_section("[x86_64] __DWARF,__debug_info"));
        assert!(is_debug_section(".symtab"));
        assert!(!is_debug_section(".rodata"));
    }
}
