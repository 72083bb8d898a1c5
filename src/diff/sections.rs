//! File layout: which named regions (sections, header tables, bytes outside
//! any section) a file consists of, and their pairwise comparison.

use std::borrow::Cow;
use std::collections::HashMap;

use object::macho::{FatArch32, FatArch64, MachHeader32, MachHeader64};
use object::read::elf::{ElfFile, FileHeader};
use object::read::macho::{FatArch, MachHeader, MachOFatFile, MachOFile};
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile};
use object::{Architecture, Endianness, Object, ObjectSection, SectionKind};

use super::ranges::{byte_changes, Change};
use serde::{Deserialize, Serialize};

use crate::image::digest::Digest;

/// Container format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Elf,
    Pe,
    Macho,
    /// A text file starting with `#!`.
    Script,
    Unknown,
}

impl Format {
    /// The lowercase name used in JSON and text output.
    pub fn name(self) -> &'static str {
        match self {
            Format::Elf => "elf",
            Format::Pe => "pe",
            Format::Macho => "macho",
            Format::Script => "script",
            Format::Unknown => "unknown",
        }
    }
}

/// What a single file is: its format and the machine it runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileKind {
    pub format: Format,
    /// `x86_64`, `aarch64`, `arm`, `x86`, `riscv64`, ...; `any` for scripts,
    /// `unknown` when not known; a universal Mach-O lists its slices as
    /// `universal(x86_64,aarch64)`.
    pub machine: String,
    /// The `#!` interpreter of a script (`/bin/sh`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interpreter: Option<String>,
    /// Why the file, although it looks like an executable format, could not
    /// be parsed (e.g. truncated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parse_error: Option<String>,
}

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

/// What a compared region is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionKind {
    Section,
    Header,
    Outside,
    File,
}

/// A named part of a file: its size and where its bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    pub kind: RegionKind,
    /// Size in bytes (for `.bss`-like sections the memory size).
    pub size: u64,
    /// `(file offset, length)` pieces holding the bytes, in order; empty for
    /// sections that occupy no file bytes.
    pub pieces: Vec<(u64, u64)>,
    /// Holds machine code (its printable runs are noise, not strings).
    pub code: bool,
}

impl Region {
    /// The whole file as one region.
    pub fn whole_file(len: usize) -> Self {
        Self {
            name: "[whole file]".to_string(),
            kind: RegionKind::File,
            size: len as u64,
            pieces: vec![(0, len as u64)],
            code: false,
        }
    }

    /// The region's bytes (clamped to the file).
    pub fn data<'d>(&self, file: &'d [u8]) -> Cow<'d, [u8]> {
        match self.pieces.as_slice() {
            [] => Cow::Borrowed(&[]),
            [(offset, len)] => Cow::Borrowed(slice(file, *offset, *len)),
            pieces => Cow::Owned(
                pieces
                    .iter()
                    .flat_map(|&(offset, len)| slice(file, offset, len).iter().copied())
                    .collect(),
            ),
        }
    }

    /// File offset of byte `offset` of the region.
    pub fn file_offset(&self, offset: u64) -> Option<u64> {
        let mut start = 0u64;
        for &(file_offset, len) in &self.pieces {
            if offset < start + len {
                return Some(file_offset + (offset - start));
            }
            start += len;
        }
        None
    }

    /// How many of the region's bytes the file holds.
    fn file_bytes(&self, file: &[u8]) -> u64 {
        self.pieces
            .iter()
            .map(|&(offset, len)| slice(file, offset, len).len() as u64)
            .sum()
    }

    fn has_file_bytes(&self) -> bool {
        !self.pieces.is_empty()
    }
}

fn slice(file: &[u8], offset: u64, len: u64) -> &[u8] {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(file.len());
    let end = usize::try_from(offset.saturating_add(len))
        .unwrap_or(usize::MAX)
        .min(file.len());
    file.get(start..end).unwrap_or(&[])
}

/// A parsed object inside the file (one per slice of a universal Mach-O).
pub struct ArchObject<'data> {
    /// `[x86_64] ` for slices of a universal binary, else empty.
    pub prefix: String,
    pub file: object::File<'data>,
}

/// What a file is and the regions it is made of.
pub struct Layout<'data> {
    pub kind: FileKind,
    pub regions: Vec<Region>,
    pub objects: Vec<ArchObject<'data>>,
}

impl<'data> Layout<'data> {
    /// Parses `data`; never fails: unknown or broken files get no regions
    /// (and `kind.parse_error` says why when the format was recognised).
    pub fn parse(data: &'data [u8]) -> Self {
        let format = magic_format(data);
        let mut kind = FileKind {
            format,
            machine: if format == Format::Script {
                "any".to_string()
            } else {
                "unknown".to_string()
            },
            interpreter: (format == Format::Script).then(|| interpreter(data)),
            parse_error: None,
        };
        let empty = |kind| Layout {
            kind,
            regions: Vec::new(),
            objects: Vec::new(),
        };
        if matches!(format, Format::Script | Format::Unknown) {
            return empty(kind);
        }
        let parsed = match object::FileKind::parse(data) {
            Ok(object::FileKind::MachOFat32) => parse_fat::<FatArch32>(data),
            Ok(object::FileKind::MachOFat64) => parse_fat::<FatArch64>(data),
            Ok(_) => object::File::parse(data)
                .map_err(|e| e.to_string())
                .and_then(|file| {
                    let mut regions = Vec::new();
                    add_object_regions(&file, data, 0, "", &mut regions)?;
                    Ok((
                        machine_name(file.architecture(), file.endianness()),
                        regions,
                        vec![ArchObject {
                            prefix: String::new(),
                            file,
                        }],
                    ))
                }),
            Err(e) => Err(e.to_string()),
        };
        match parsed {
            Ok((machine, mut regions, objects)) => {
                kind.machine = machine;
                dedupe_names(&mut regions);
                if let Some(outside) = outside_region(&regions, data.len() as u64) {
                    regions.push(outside);
                }
                Layout {
                    kind,
                    regions,
                    objects,
                }
            }
            Err(err) => {
                kind.parse_error = Some(err);
                if let Some(machine) = header_machine(data) {
                    kind.machine = machine.to_string();
                }
                empty(kind)
            }
        }
    }

    /// True when the file has no regions to compare section by section.
    pub fn is_raw(&self) -> bool {
        self.regions.is_empty()
    }

    /// The data and address of the first section named `name` (without
    /// segment for Mach-O), in any object of the file.
    pub fn section(&self, name: &str) -> Option<(&ArchObject<'data>, &'data [u8], u64)> {
        self.objects.iter().find_map(|object| {
            let section = object.file.section_by_name(name)?;
            let data = section.data().ok()?;
            Some((object, data, section.address()))
        })
    }
}

type Parsed<'data> = Result<(String, Vec<Region>, Vec<ArchObject<'data>>), String>;

fn parse_fat<'data, Fat: FatArch>(data: &'data [u8]) -> Parsed<'data> {
    let fat = MachOFatFile::<Fat>::parse(data).map_err(|e| e.to_string())?;
    let arches = fat.arches();
    let mut regions = vec![Region {
        name: "[fat header]".to_string(),
        kind: RegionKind::Header,
        size: (8 + std::mem::size_of_val(arches)) as u64,
        pieces: vec![(0, (8 + std::mem::size_of_val(arches)) as u64)],
        code: false,
    }];
    let mut objects = Vec::new();
    let mut names = Vec::new();
    for arch in arches {
        let (offset, _) = arch.file_range();
        let slice_data = arch.data(data).map_err(|e| e.to_string())?;
        let file = object::File::parse(slice_data).map_err(|e| e.to_string())?;
        let name = machine_name(file.architecture(), file.endianness());
        let prefix = format!("[{name}] ");
        add_object_regions(&file, slice_data, offset, &prefix, &mut regions)?;
        names.push(name);
        objects.push(ArchObject { prefix, file });
    }
    Ok((format!("universal({})", names.join(",")), regions, objects))
}

fn add_object_regions(
    file: &object::File<'_>,
    data: &[u8],
    base: u64,
    prefix: &str,
    regions: &mut Vec<Region>,
) -> Result<(), String> {
    let header = |name: &str, offset: u64, len: u64| Region {
        name: format!("{prefix}{name}"),
        kind: RegionKind::Header,
        size: len,
        pieces: vec![(base + offset, len)],
        code: false,
    };
    let headers: Vec<(&str, u64, u64)> = match file {
        object::File::Elf32(elf) => elf_headers(elf),
        object::File::Elf64(elf) => elf_headers(elf),
        object::File::MachO32(macho) => macho_headers::<MachHeader32<Endianness>>(macho),
        object::File::MachO64(macho) => macho_headers::<MachHeader64<Endianness>>(macho),
        object::File::Pe32(pe) => pe_headers(pe),
        object::File::Pe64(pe) => pe_headers(pe),
        _ => Vec::new(),
    };
    for (name, offset, len) in headers {
        if len > 0 {
            regions.push(header(name, offset, len));
        }
    }
    let is_macho = matches!(file, object::File::MachO32(_) | object::File::MachO64(_));
    for section in file.sections() {
        let name = section.name().map_err(|e| e.to_string())?;
        let name = match section.segment_name() {
            Ok(Some(segment)) if is_macho => format!("{segment},{name}"),
            _ => name.to_string(),
        };
        let file_range = section.file_range();
        if name.is_empty() && section.size() == 0 {
            continue;
        }
        let (size, pieces) = match file_range {
            Some((offset, len)) => {
                let in_file = (data.len() as u64).saturating_sub(offset).min(len);
                (len, vec![(base + offset, in_file)])
            }
            None => (section.size(), Vec::new()),
        };
        regions.push(Region {
            name: format!("{prefix}{name}"),
            kind: RegionKind::Section,
            size,
            pieces,
            code: section.kind() == SectionKind::Text,
        });
    }
    Ok(())
}

fn elf_headers<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
) -> Vec<(&'static str, u64, u64)> {
    let header = elf.elf_header();
    let endian = elf.endian();
    vec![
        ("[ELF header]", 0, u64::from(header.e_ehsize(endian))),
        (
            "[program headers]",
            header.e_phoff(endian).into(),
            u64::from(header.e_phentsize(endian)) * u64::from(header.e_phnum(endian)),
        ),
        (
            "[section headers]",
            header.e_shoff(endian).into(),
            u64::from(header.e_shentsize(endian)) * u64::from(header.e_shnum(endian)),
        ),
    ]
}

fn macho_headers<Mach: MachHeader<Endian = Endianness>>(
    macho: &MachOFile<'_, Mach>,
) -> Vec<(&'static str, u64, u64)> {
    let header = macho.macho_header();
    let header_len = std::mem::size_of::<Mach>() as u64;
    vec![
        ("[Mach-O header]", 0, header_len),
        (
            "[load commands]",
            header_len,
            u64::from(header.sizeofcmds(macho.endian())),
        ),
    ]
}

fn pe_headers<Pe: ImageNtHeaders>(pe: &PeFile<'_, Pe>) -> Vec<(&'static str, u64, u64)> {
    let size = pe.nt_headers().optional_header().size_of_headers();
    vec![("[PE headers]", 0, u64::from(size))]
}

/// Makes region names unique by numbering repeats (`.text #2`).
fn dedupe_names(regions: &mut [Region]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for region in regions {
        let count = seen.entry(region.name.clone()).or_insert(0);
        *count += 1;
        if *count > 1 {
            region.name = format!("{} #{}", region.name, count);
        }
    }
}

/// The file bytes no region covers (padding, appended data), if any.
fn outside_region(regions: &[Region], file_len: u64) -> Option<Region> {
    let mut covered: Vec<(u64, u64)> = regions
        .iter()
        .flat_map(|r| r.pieces.iter().map(|&(o, l)| (o, o.saturating_add(l))))
        .collect();
    covered.sort_unstable();
    let mut gaps = Vec::new();
    let mut pos = 0u64;
    for (start, end) in covered {
        if start > pos {
            gaps.push((pos, start.min(file_len) - pos.min(file_len)));
        }
        pos = pos.max(end);
    }
    if pos < file_len {
        gaps.push((pos, file_len - pos));
    }
    gaps.retain(|&(_, len)| len > 0);
    if gaps.is_empty() {
        return None;
    }
    Some(Region {
        name: "[outside sections]".to_string(),
        kind: RegionKind::Outside,
        size: gaps.iter().map(|g| g.1).sum(),
        pieces: gaps,
        code: false,
    })
}

fn magic_format(data: &[u8]) -> Format {
    match data {
        [0x7f, b'E', b'L', b'F', ..] => Format::Elf,
        [b'M', b'Z', ..] => Format::Pe,
        [0xfe, 0xed, 0xfa, 0xce | 0xcf, ..]
        | [0xce | 0xcf, 0xfa, 0xed, 0xfe, ..]
        | [0xca, 0xfe, 0xba, 0xbe | 0xbf, ..] => Format::Macho,
        [b'#', b'!', ..] => Format::Script,
        _ => Format::Unknown,
    }
}

fn interpreter(data: &[u8]) -> String {
    let line = data
        .get(2..)
        .unwrap_or_default()
        .split(|&b| b == b'\n')
        .next()
        .unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    line.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The conventional name of an architecture (`x86_64`, `aarch64`, ...).
/// The machine named by the file header alone, for files too short or
/// damaged to parse whole (e.g. the first bytes of a binary in a layer).
fn header_machine(data: &[u8]) -> Option<&'static str> {
    let u16_at = |at: usize, little: bool| {
        let b: [u8; 2] = data.get(at..at + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    };
    let u32_at = |at: usize, little: bool| {
        let b: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    if data.starts_with(b"\x7fELF") {
        let wide = *data.get(4)? == 2;
        let little = *data.get(5)? == 1;
        return Some(match (u16_at(18, little)?, wide, little) {
            (62, _, _) => "x86_64",
            (3, _, _) => "x86",
            (183, _, _) => "aarch64",
            (40, _, _) => "arm",
            (243, true, _) => "riscv64",
            (243, false, _) => "riscv32",
            (21, _, true) => "ppc64le",
            (21, _, false) => "ppc64",
            (20, _, _) => "ppc",
            (22, _, _) => "s390x",
            (8, false, true) => "mipsel",
            (8, false, false) => "mips",
            (8, true, true) => "mips64el",
            (8, true, false) => "mips64",
            (258, _, _) => "loongarch64",
            _ => return None,
        });
    }
    if data.starts_with(b"MZ") {
        let pe = usize::try_from(u32_at(0x3c, true)?).ok()?;
        if data.get(pe..pe + 4)? != b"PE\0\0" {
            return None;
        }
        return Some(match u16_at(pe + 4, true)? {
            0x8664 => "x86_64",
            0x14c => "x86",
            0xaa64 => "aarch64",
            0x1c0 | 0x1c4 => "arm",
            _ => return None,
        });
    }
    let little = match data.get(..4)? {
        [0xcf, 0xfa, 0xed, 0xfe] | [0xce, 0xfa, 0xed, 0xfe] => true,
        [0xfe, 0xed, 0xfa, 0xcf] | [0xfe, 0xed, 0xfa, 0xce] => false,
        _ => return None,
    };
    Some(match u32_at(4, little)? {
        0x0100_0007 => "x86_64",
        7 => "x86",
        0x0100_000c => "aarch64",
        12 => "arm",
        _ => return None,
    })
}

pub fn machine_name(arch: Architecture, endian: Endianness) -> String {
    let little = endian == Endianness::Little;
    match arch {
        Architecture::X86_64 => "x86_64",
        Architecture::X86_64_X32 => "x32",
        Architecture::I386 => "x86",
        Architecture::Aarch64 => "aarch64",
        Architecture::Aarch64_Ilp32 => "aarch64_ilp32",
        Architecture::Arm => "arm",
        Architecture::Riscv32 => "riscv32",
        Architecture::Riscv64 => "riscv64",
        Architecture::PowerPc => "ppc",
        Architecture::PowerPc64 if little => "ppc64le",
        Architecture::PowerPc64 => "ppc64",
        Architecture::S390x => "s390x",
        Architecture::Mips if little => "mipsel",
        Architecture::Mips => "mips",
        Architecture::Mips64 if little => "mips64el",
        Architecture::Mips64 => "mips64",
        Architecture::LoongArch64 => "loongarch64",
        Architecture::Sparc64 => "sparc64",
        Architecture::Unknown => "unknown",
        other => return format!("{other:?}").to_lowercase(),
    }
    .to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_of_a_truncated_binary_comes_from_its_header() {
        let mut elf = vec![0u8; 64];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2; // 64-bit
        elf[5] = 1; // little-endian
        elf[18..20].copy_from_slice(&183u16.to_le_bytes());
        let kind = Layout::parse(&elf).kind;
        assert_eq!(kind.format, Format::Elf);
        assert_eq!(kind.machine, "aarch64");
        assert!(kind.parse_error.is_some());

        let mut pe = vec![0u8; 0x90];
        pe[..2].copy_from_slice(b"MZ");
        pe[0x3c..0x40].copy_from_slice(&0x80u32.to_le_bytes());
        pe[0x80..0x84].copy_from_slice(b"PE\0\0");
        pe[0x84..0x86].copy_from_slice(&0x8664u16.to_le_bytes());
        assert_eq!(header_machine(&pe), Some("x86_64"));
    }

    #[test]
    fn outside_region_collects_gaps_and_trailing_bytes() {
        let regions = vec![
            Region {
                name: "x".into(),
                kind: RegionKind::Section,
                size: 10,
                pieces: vec![(0, 10)],
                code: false,
            },
            Region {
                name: "y".into(),
                kind: RegionKind::Section,
                size: 10,
                pieces: vec![(20, 10)],
                code: false,
            },
        ];
        let outside = outside_region(&regions, 40).map(|r| r.pieces);
        assert_eq!(outside, Some(vec![(10, 10), (30, 10)]));
    }

    #[test]
    fn multi_piece_region_maps_offsets_to_the_file() {
        let region = Region {
            name: "gaps".into(),
            kind: RegionKind::Outside,
            size: 6,
            pieces: vec![(2, 2), (8, 4)],
            code: false,
        };
        assert_eq!(region.data(b"abcdefghijklmn").as_ref(), b"cdijkl");
        assert_eq!(region.file_offset(3), Some(9));
        assert_eq!(region.file_offset(6), None);
    }

    #[test]
    fn scripts_are_identified_with_their_interpreter() {
        let kind = Layout::parse(b"#!/bin/sh -e\necho hi\n").kind;
        assert_eq!(kind.format, Format::Script);
        assert_eq!(kind.interpreter.as_deref(), Some("/bin/sh"));
        assert_eq!(kind.machine, "any");
    }
}
