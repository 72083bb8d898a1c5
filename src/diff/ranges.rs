//! Byte-range comparison of one section: where two byte strings differ,
//! as coalesced ranges, and how many bytes differ.
//!
//! When the sizes differ (code inserted or removed), the two sides are
//! aligned first: both are cut into content-defined chunks (a gear
//! rolling hash, so the cuts resynchronise right after an insertion), the
//! chunks that occur exactly once on each side are matched, and the
//! longest run of matches in the same order on both sides anchors the
//! alignment. Between anchors, equal-length gaps are compared byte by
//! byte and unequal ones are one insertion or removal, so an inserted
//! function is reported as itself, not as "everything after it differs".

use std::collections::HashMap;

/// Ranges kept per section; more are counted but not listed.
pub const MAX_RANGES: usize = 1000;

/// Two differing runs separated by at most this many equal bytes are
/// reported as one range (a changed 32-bit value often keeps some bytes).
pub const MERGE_GAP: u64 = 8;

/// One changed region: `a_length` bytes at `a_offset` in A became
/// `b_length` bytes at `b_offset` in B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub a_offset: u64,
    pub a_length: u64,
    pub b_offset: u64,
    pub b_length: u64,
}

/// The differences between two byte strings.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ByteChanges {
    /// At most [`MAX_RANGES`] changes, in offset order.
    pub changes: Vec<Change>,
    /// How many changes there are in all.
    pub total: usize,
    /// Bytes that differ, after alignment for a size change.
    pub differing_bytes: u64,
    /// For a size change: the bytes between the common prefix and suffix
    /// (the larger side), what differs before alignment.
    pub unaligned_differing_bytes: Option<u64>,
}

/// Compares `a` and `b`. Equal lengths are compared position by position;
/// different lengths are aligned first (see the module documentation).
pub fn byte_changes(a: &[u8], b: &[u8]) -> ByteChanges {
    if a.len() != b.len() {
        return aligned_changes(a, b);
    }
    positional_changes(a, b)
}

/// Position-by-position differences of two equal-length byte strings.
fn positional_changes(a: &[u8], b: &[u8]) -> ByteChanges {
    let mut runs = Vec::new();
    let mut total = 0usize;
    let mut differing = 0u64;
    let mut open: Option<(u64, u64)> = None;
    let push = |run: (u64, u64), runs: &mut Vec<(u64, u64)>, total: &mut usize| {
        *total += 1;
        if runs.len() < MAX_RANGES {
            runs.push(run);
        }
    };
    const CHUNK: usize = 64;
    let mut offset = 0usize;
    for (chunk_a, chunk_b) in a.chunks(CHUNK).zip(b.chunks(CHUNK)) {
        if chunk_a != chunk_b {
            for (i, (x, y)) in chunk_a.iter().zip(chunk_b).enumerate() {
                if x == y {
                    continue;
                }
                differing += 1;
                let pos = (offset + i) as u64;
                open = match open {
                    Some((start, end)) if pos <= end + MERGE_GAP => Some((start, pos + 1)),
                    Some(run) => {
                        push(run, &mut runs, &mut total);
                        Some((pos, pos + 1))
                    }
                    None => Some((pos, pos + 1)),
                };
            }
        }
        offset += chunk_a.len();
    }
    if let Some(run) = open {
        push(run, &mut runs, &mut total);
    }
    ByteChanges {
        changes: runs
            .into_iter()
            .map(|(start, end)| Change {
                a_offset: start,
                a_length: end - start,
                b_offset: start,
                b_length: end - start,
            })
            .collect(),
        total,
        differing_bytes: differing,
        unaligned_differing_bytes: None,
    }
}

/// The lengths of the common prefix and suffix of `a` and `b` (not
/// overlapping).
fn common_ends(a: &[u8], b: &[u8]) -> (usize, usize) {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    (prefix, suffix)
}

/// Collects changes, capped at [`MAX_RANGES`], with their totals.
#[derive(Default)]
struct Collector {
    changes: Vec<Change>,
    total: usize,
    differing: u64,
}

impl Collector {
    /// Records `change`, of which `differing` bytes really differ.
    fn push(&mut self, change: Change, differing: u64) {
        self.total += 1;
        self.differing += differing;
        if self.changes.len() < MAX_RANGES {
            self.changes.push(change);
        }
    }

    /// A gap between two anchors: `a` at `a_offset`, `b` at `b_offset`.
    fn gap(&mut self, a: &[u8], a_offset: u64, b: &[u8], b_offset: u64) {
        if a == b {
            return;
        }
        if a.len() == b.len() {
            let found = positional_changes(a, b);
            // Changes past the cap are counted, not listed.
            self.total += found.total - found.changes.len();
            self.differing += found.differing_bytes;
            for c in found.changes {
                let shifted = Change {
                    a_offset: a_offset + c.a_offset,
                    b_offset: b_offset + c.b_offset,
                    ..c
                };
                self.push(shifted, 0);
            }
            return;
        }
        let (prefix, suffix) = common_ends(a, b);
        let (a_length, b_length) = (
            (a.len() - prefix - suffix) as u64,
            (b.len() - prefix - suffix) as u64,
        );
        self.push(
            Change {
                a_offset: a_offset + prefix as u64,
                a_length,
                b_offset: b_offset + prefix as u64,
                b_length,
            },
            a_length.max(b_length),
        );
    }
}

/// Changes of two byte strings of different lengths, aligned on chunks
/// both sides hold exactly once.
fn aligned_changes(a: &[u8], b: &[u8]) -> ByteChanges {
    let (prefix, suffix) = common_ends(a, b);
    let (mid_a, mid_b) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let unaligned = mid_a.len().max(mid_b.len()) as u64;
    let mut collector = Collector::default();
    let (mut at_a, mut at_b) = (0usize, 0usize);
    for (start_a, start_b, len) in anchors(mid_a, mid_b) {
        collector.gap(
            &mid_a[at_a..start_a],
            (prefix + at_a) as u64,
            &mid_b[at_b..start_b],
            (prefix + at_b) as u64,
        );
        at_a = start_a + len;
        at_b = start_b + len;
    }
    collector.gap(
        &mid_a[at_a..],
        (prefix + at_a) as u64,
        &mid_b[at_b..],
        (prefix + at_b) as u64,
    );
    ByteChanges {
        changes: collector.changes,
        total: collector.total,
        differing_bytes: collector.differing,
        unaligned_differing_bytes: Some(unaligned),
    }
}

/// Chunk cuts: a gear hash over the bytes, cut where its top bits are
/// zero (1 in 64 positions on average), chunks of 16 to 1024 bytes.
const MIN_CHUNK: usize = 16;
const MAX_CHUNK: usize = 1024;
/// Inputs larger than this are not aligned (one change, as before).
const MAX_ALIGNED: usize = 256 << 20;

/// The gear table: one pseudo-random 64-bit value per byte (splitmix64).
const GEAR: [u64; 256] = {
    let mut table = [0u64; 256];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut i = 0;
    while i < 256 {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        table[i] = z ^ (z >> 31);
        i += 1;
    }
    table
};

/// Content-defined chunks of `data`, as `(start, length)`.
fn chunks(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(data.len() / 64 + 1);
    let mut start = 0;
    let mut hash: u64 = 0;
    for (i, &byte) in data.iter().enumerate() {
        hash = (hash << 1).wrapping_add(GEAR[usize::from(byte)]);
        let len = i + 1 - start;
        if (len >= MIN_CHUNK && hash >> 58 == 0) || len >= MAX_CHUNK {
            out.push((start, len));
            start = i + 1;
            hash = 0;
        }
    }
    if start < data.len() {
        out.push((start, data.len() - start));
    }
    out
}

/// Matching chunks `(start in a, start in b, length)` in increasing order
/// on both sides: chunks that occur exactly once in each, the longest
/// subsequence of them in the same order on both sides.
fn anchors(a: &[u8], b: &[u8]) -> Vec<(usize, usize, usize)> {
    if a.len() > MAX_ALIGNED || b.len() > MAX_ALIGNED || a.is_empty() || b.is_empty() {
        return Vec::new();
    }
    let (chunks_a, chunks_b) = (chunks(a), chunks(b));
    // Per chunk content: (count in a, start in a, count in b, start in b).
    let mut seen: HashMap<&[u8], (u32, usize, u32, usize)> = HashMap::new();
    for &(start, len) in &chunks_a {
        let entry = seen.entry(&a[start..start + len]).or_default();
        entry.0 += 1;
        entry.1 = start;
    }
    for &(start, len) in &chunks_b {
        if let Some(entry) = seen.get_mut(&b[start..start + len]) {
            entry.2 += 1;
            entry.3 = start;
        }
    }
    let mut pairs: Vec<(usize, usize, usize)> = seen
        .iter()
        .filter(|(_, &(in_a, _, in_b, _))| in_a == 1 && in_b == 1)
        .map(|(chunk, &(_, start_a, _, start_b))| (start_a, start_b, chunk.len()))
        .collect();
    pairs.sort_unstable();
    longest_increasing(&pairs)
}

/// The longest subsequence of `pairs` (sorted by their A start) whose B
/// starts increase too, without overlaps (patience sorting).
fn longest_increasing(pairs: &[(usize, usize, usize)]) -> Vec<(usize, usize, usize)> {
    // tails[k]: index of the smallest B start ending an increasing run of length k + 1.
    let mut tails: Vec<usize> = Vec::new();
    let mut previous: Vec<Option<usize>> = vec![None; pairs.len()];
    for (i, &(_, b_start, _)) in pairs.iter().enumerate() {
        let k = tails.partition_point(|&t| pairs[t].1 < b_start);
        previous[i] = k.checked_sub(1).map(|j| tails[j]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(i) = at {
        out.push(pairs[i]);
        at = previous[i];
    }
    out.reverse();
    // Unique chunks never overlap on one side, and increasing starts on
    // both sides keep them in order; drop any that would overlap the
    // previous one on B (equal contents cut at different places).
    let mut kept: Vec<(usize, usize, usize)> = Vec::with_capacity(out.len());
    for pair in out {
        if kept
            .last()
            .is_none_or(|last| pair.0 >= last.0 + last.2 && pair.1 >= last.1 + last.2)
        {
            kept.push(pair);
        }
    }
    kept
}

/// Merges sorted `(start, end)` ranges that overlap or are at most `gap`
/// bytes apart.
pub fn coalesce(ranges: &[(u64, u64)], gap: u64) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for &(start, end) in ranges {
        match out.last_mut() {
            Some(last) if start <= last.1.saturating_add(gap) => last.1 = last.1.max(end),
            _ => out.push((start, end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(c: &ByteChanges) -> Vec<(u64, u64)> {
        c.changes.iter().map(|c| (c.a_offset, c.a_length)).collect()
    }

    #[test]
    fn identical_bytes_have_no_changes() {
        let c = byte_changes(b"abcdef", b"abcdef");
        assert_eq!(c, ByteChanges::default());
    }

    #[test]
    fn nearby_differences_coalesce_and_distant_ones_do_not() {
        let a = vec![0u8; 200];
        let mut b = a.clone();
        b[10] = 1;
        b[12] = 1;
        b[20] = 1; // 7 equal bytes after 12: merged
        b[100] = 1;
        b[101] = 1;
        let c = byte_changes(&a, &b);
        assert_eq!(spans(&c), vec![(10, 11), (100, 2)]);
        assert_eq!(c.differing_bytes, 5);
        assert_eq!(c.total, 2);
    }

    #[test]
    fn differences_across_chunk_boundaries_stay_one_range() {
        let a = vec![0u8; 256];
        let mut b = a.clone();
        for byte in &mut b[60..70] {
            *byte = 9;
        }
        let c = byte_changes(&a, &b);
        assert_eq!(spans(&c), vec![(60, 10)]);
        assert_eq!(c.differing_bytes, 10);
    }

    #[test]
    fn size_change_reports_the_changed_middle() {
        let c = byte_changes(b"hello world", b"hello big world");
        assert_eq!(
            c.changes,
            vec![Change {
                a_offset: 6,
                a_length: 0,
                b_offset: 6,
                b_length: 4
            }]
        );
        assert_eq!(c.differing_bytes, 4);
    }

    #[test]
    fn prefix_and_suffix_do_not_overlap_on_repeats() {
        let c = byte_changes(b"aaaa", b"aaaaaa");
        assert_eq!(c.changes[0].a_length, 0);
        assert_eq!(c.changes[0].b_length, 2);
        assert_eq!(c.changes[0].a_offset, 4);
    }

    #[test]
    fn many_ranges_are_counted_but_capped() {
        let a = vec![0u8; (MAX_RANGES + 10) * 20];
        let mut b = a.clone();
        for i in 0..MAX_RANGES + 10 {
            b[i * 20] = 1;
        }
        let c = byte_changes(&a, &b);
        assert_eq!(c.changes.len(), MAX_RANGES);
        assert_eq!(c.total, MAX_RANGES + 10);
        assert_eq!(c.differing_bytes, (MAX_RANGES + 10) as u64);
    }

    /// Deterministic pseudo-random bytes (xorshift).
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    #[test]
    fn an_insertion_is_aligned_so_the_shifted_tail_is_not_reported() {
        let a = noise(200_000, 7);
        let inserted = noise(300, 99);
        let mut b = a[..50_000].to_vec();
        b.extend_from_slice(&inserted);
        b.extend_from_slice(&a[50_000..]);
        // One byte changed far after the insertion, at its shifted place in B.
        b[150_000 + 300] ^= 0xff;
        let c = byte_changes(&a, &b);
        assert_eq!(
            c.changes,
            vec![
                Change {
                    a_offset: 50_000,
                    a_length: 0,
                    b_offset: 50_000,
                    b_length: 300
                },
                Change {
                    a_offset: 150_000,
                    a_length: 1,
                    b_offset: 150_300,
                    b_length: 1
                },
            ]
        );
        assert_eq!(c.differing_bytes, 301);
        assert_eq!(c.unaligned_differing_bytes, Some(100_301));
    }

    #[test]
    fn scattered_changes_between_anchors_count_only_the_bytes_that_differ() {
        let a = noise(50_000, 11);
        let mut b = a.clone();
        b.insert(10_000, 0xaa);
        for offset in [20_000, 20_004, 30_000] {
            b[offset + 1] ^= 0x01;
        }
        let c = byte_changes(&a, &b);
        assert_eq!(c.differing_bytes, 1 + 3);
        assert_eq!(c.total, c.changes.len());
    }

    #[test]
    fn a_removal_is_aligned_too() {
        let a = noise(100_000, 3);
        let mut b = a[..20_000].to_vec();
        b.extend_from_slice(&a[20_500..]);
        let c = byte_changes(&a, &b);
        assert_eq!(
            c.changes,
            vec![Change {
                a_offset: 20_000,
                a_length: 500,
                b_offset: 20_000,
                b_length: 0
            }]
        );
        assert_eq!(c.differing_bytes, 500);
    }

    #[test]
    fn coalesce_merges_overlapping_and_close_ranges() {
        assert_eq!(
            coalesce(&[(0, 4), (2, 6), (10, 12), (30, 31)], 4),
            vec![(0, 12), (30, 31)]
        );
    }
}
