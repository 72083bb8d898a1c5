//! Byte-range comparison of one section: where two byte strings differ,
//! as coalesced ranges, and how many bytes differ.

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
    /// Bytes that differ (for a size change: the larger side of the
    /// changed middle part).
    pub differing_bytes: u64,
}

/// Compares `a` and `b`. Equal lengths are compared position by position;
/// for different lengths the common prefix and suffix are taken as equal and
/// the middle is one change (an insertion or removal shifts everything after
/// it, so a positional comparison would only report noise).
pub fn byte_changes(a: &[u8], b: &[u8]) -> ByteChanges {
    if a.len() != b.len() {
        return prefix_suffix_change(a, b);
    }
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
    }
}

fn prefix_suffix_change(a: &[u8], b: &[u8]) -> ByteChanges {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a
        .iter()
        .rev()
        .zip(b.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let a_length = (a.len() - prefix - suffix) as u64;
    let b_length = (b.len() - prefix - suffix) as u64;
    ByteChanges {
        changes: vec![Change {
            a_offset: prefix as u64,
            a_length,
            b_offset: prefix as u64,
            b_length,
        }],
        total: 1,
        differing_bytes: a_length.max(b_length),
    }
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

    #[test]
    fn coalesce_merges_overlapping_and_close_ranges() {
        assert_eq!(
            coalesce(&[(0, 4), (2, 6), (10, 12), (30, 31)], 4),
            vec![(0, 12), (30, 31)]
        );
    }
}
