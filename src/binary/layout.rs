//! File layout: which named regions (sections, header tables, bytes outside
//! any section) a file consists of, and the objects it holds.

use std::borrow::Cow;
use std::collections::HashMap;

use object::macho::{FatArch32, FatArch64, MachHeader32, MachHeader64};
use object::read::elf::{ElfFile, FileHeader};
use object::read::macho::{FatArch, MachHeader, MachOFatFile, MachOFile};
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile};
use object::{Endianness, Object, ObjectSection, SectionKind};
use serde::{Deserialize, Serialize};

use super::kind::{header_machine, interpreter, machine_name, magic_format, FileKind, Format};

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
    pub fn file_bytes(&self, file: &[u8]) -> u64 {
        self.pieces
            .iter()
            .map(|&(offset, len)| slice(file, offset, len).len() as u64)
            .sum()
    }

    /// False for sections that occupy no file bytes (`.bss`).
    pub fn has_file_bytes(&self) -> bool {
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
