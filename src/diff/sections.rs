//! Section-by-section comparison: two files' regions ([`Layout`]) paired
//! by name, with the differing byte ranges of each pair.
//!
//! [`Layout`]: crate::binary::layout::Layout

use std::borrow::Cow;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::ranges::{byte_changes, Change};
use crate::binary::layout::{Region, RegionKind};
use crate::image::digest::Digest;

/// How a section compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SectionStatus {
    Same,
    Differs,
    OnlyA,
    OnlyB,
}

/// A differing byte range of a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByteRange {
    /// Offset from the start of the section (in A; equal in B).
    pub offset: u64,
    /// Length in A.
    pub length: u64,
    /// Offset from the start of file A, when the bytes are in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_offset: Option<u64>,
    /// Offset from the start of file B.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b_file_offset: Option<u64>,
    /// Length in B, present only when it differs from `length` (the section
    /// changed size and the range is the changed middle part).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub b_length: Option<u64>,
}

/// One section (or pseudo-section such as `[ELF header]`) of both files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SectionDiff {
    pub name: String,
    pub status: SectionStatus,
    pub a_size: Option<u64>,
    pub b_size: Option<u64>,
    /// sha256 of the section's file bytes (null for sections with no file
    /// bytes such as `.bss`, or absent on this side).
    pub a_sha256: Option<Digest>,
    pub b_sha256: Option<Digest>,
    pub differing_bytes: u64,
    /// When the section changed size: the bytes that differ before the two
    /// sides are aligned (everything between the common prefix and suffix);
    /// `differing_bytes` counts after alignment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub differing_bytes_unaligned: Option<u64>,
    /// Coalesced differing ranges (at most [`super::ranges::MAX_RANGES`]).
    pub ranges: Vec<ByteRange>,
    /// All ranges found, when more than `ranges` lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranges_total: Option<usize>,
    /// `section`, `header` (file/program/section headers), `outside`
    /// (file bytes covered by no section) or `file` (raw comparison).
    pub kind: RegionKind,
    /// Hunks not shown because of `--max-hunks`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hunks_omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Two regions paired by name, with their comparison.
#[derive(Debug, Clone)]
pub struct ComparedRegion {
    pub a: Option<Region>,
    pub b: Option<Region>,
    pub diff: SectionDiff,
    /// The differing parts (empty unless the status is `differs`).
    pub changes: Vec<Change>,
}

/// The section data one comparison reads at most: this many times the two
/// files' sizes, plus [`COMPARE_BUDGET_FLOOR`]. Sections of ordinary
/// binaries do not overlap and stay far below it; a hostile file whose many
/// sections cover the same bytes again and again would otherwise make the
/// comparison quadratic.
const COMPARE_BUDGET_FACTOR: u64 = 4;
const COMPARE_BUDGET_FLOOR: u64 = 64 << 20;

/// Every region pair compared, and what the budget left out.
#[derive(Debug, Clone)]
pub struct Compared {
    pub regions: Vec<ComparedRegion>,
    /// Pairs not compared because the section data read reached the budget.
    pub skipped: usize,
    /// Their file bytes, both sides.
    pub skipped_bytes: u64,
}

/// Pairs regions by name (A's order, then B-only ones) and compares them,
/// until the section data read reaches the budget.
pub fn compare_regions(regions_a: &[Region], a: &[u8], regions_b: &[Region], b: &[u8]) -> Compared {
    let by_name: HashMap<&str, &Region> = regions_b.iter().map(|r| (r.name.as_str(), r)).collect();
    let in_a: HashMap<&str, ()> = regions_a.iter().map(|r| (r.name.as_str(), ())).collect();
    let pairs = regions_a
        .iter()
        .map(|ra| (ra, Some(ra), by_name.get(ra.name.as_str()).copied()))
        .chain(
            regions_b
                .iter()
                .filter(|rb| !in_a.contains_key(rb.name.as_str()))
                .map(|rb| (rb, None, Some(rb))),
        );
    let budget = COMPARE_BUDGET_FACTOR
        .saturating_mul(a.len() as u64 + b.len() as u64)
        .saturating_add(COMPARE_BUDGET_FLOOR);
    let mut spent = 0u64;
    let mut compared = Compared {
        regions: Vec::with_capacity(regions_a.len().max(regions_b.len())),
        skipped: 0,
        skipped_bytes: 0,
    };
    for (region, ra, rb) in pairs {
        let cost = ra.map_or(0, |r| r.file_bytes(a)) + rb.map_or(0, |r| r.file_bytes(b));
        if spent.saturating_add(cost) > budget {
            compared.skipped += 1;
            compared.skipped_bytes += cost;
            continue;
        }
        spent += cost;
        compared.regions.push(compare_pair(region, ra, a, rb, b));
    }
    compared
}

/// Compares `ra` and `rb` (at least one present; `region` is one of them
/// and names the result).
fn compare_pair(
    region: &Region,
    ra: Option<&Region>,
    a: &[u8],
    rb: Option<&Region>,
    b: &[u8],
) -> ComparedRegion {
    let data_a = ra.map(|r| r.data(a));
    let data_b = rb.map(|r| r.data(b));
    let hash = |r: Option<&Region>, d: &Option<Cow<[u8]>>| match (r, d) {
        (Some(r), Some(d)) if r.has_file_bytes() => Some(Digest::of(d)),
        _ => None,
    };
    let mut diff = SectionDiff {
        name: region.name.clone(),
        status: SectionStatus::Same,
        a_size: ra.map(|r| r.size),
        b_size: rb.map(|r| r.size),
        a_sha256: hash(ra, &data_a),
        b_sha256: hash(rb, &data_b),
        differing_bytes: 0,
        differing_bytes_unaligned: None,
        ranges: Vec::new(),
        ranges_total: None,
        kind: region.kind,
        hunks_omitted: 0,
    };
    let mut changes = Vec::new();
    match (ra, rb, &data_a, &data_b) {
        (Some(ra), Some(rb), Some(da), Some(db)) => {
            if ra.size != rb.size || da != db {
                diff.status = SectionStatus::Differs;
                let found = byte_changes(da, db);
                diff.differing_bytes = if found.total == 0 {
                    ra.size.abs_diff(rb.size)
                } else {
                    found.differing_bytes
                };
                diff.differing_bytes_unaligned = found.unaligned_differing_bytes;
                diff.ranges = found
                    .changes
                    .iter()
                    .map(|c| ByteRange {
                        offset: c.a_offset,
                        length: c.a_length,
                        file_offset: ra.file_offset(c.a_offset),
                        b_file_offset: rb.file_offset(c.b_offset),
                        b_length: (c.b_length != c.a_length).then_some(c.b_length),
                    })
                    .collect();
                if found.total > found.changes.len() {
                    diff.ranges_total = Some(found.total);
                }
                changes = found.changes;
            }
        }
        (Some(_), None, _, _) => diff.status = SectionStatus::OnlyA,
        _ => diff.status = SectionStatus::OnlyB,
    }
    ComparedRegion {
        a: ra.cloned(),
        b: rb.cloned(),
        diff,
        changes,
    }
}
