//! Go's function table (`.gopclntab`): each function's name, entry address
//! and size, for the table formats of Go 1.2 through current releases.
//!
//! The table survives `-s -w`, so it names the functions of stripped Go
//! binaries too. Every offset read from it is checked and the function
//! count and name lengths are capped: a hostile table yields an error, never
//! a panic or an unbounded allocation.

/// Most functions read from one table (real binaries have ~10^5).
pub const MAX_FUNCTIONS: usize = 2_000_000;

/// Longest function name read; longer names are cut here.
pub const MAX_NAME_BYTES: usize = 4096;

/// Table format, by the magic number its header starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// Go 1.2 through 1.15 (`0xfffffffb`).
    Go12,
    /// Go 1.16 and 1.17 (`0xfffffffa`).
    Go116,
    /// Go 1.18 and 1.19 (`0xfffffff0`).
    Go118,
    /// Go 1.20 and later (`0xfffffff1`).
    Go120,
}

impl Version {
    fn from_magic(magic: u32) -> Option<Self> {
        match magic {
            0xffff_fffb => Some(Self::Go12),
            0xffff_fffa => Some(Self::Go116),
            0xffff_fff0 => Some(Self::Go118),
            0xffff_fff1 => Some(Self::Go120),
            _ => None,
        }
    }

    /// The four magics, for searching a stripped file.
    pub const MAGICS: [u32; 4] = [0xffff_fffb, 0xffff_fffa, 0xffff_fff0, 0xffff_fff1];
}

/// One function of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoFunction {
    pub name: String,
    /// Entry address (virtual address the linker assigned).
    pub entry: u64,
    /// Bytes up to the next function's entry (alignment padding included).
    pub size: u64,
}

/// Why a table could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PclntabError {
    #[error("no Go function table header (unknown magic or pointer size)")]
    Header,
    #[error("the Go function table lists {0} functions, more than the {MAX_FUNCTIONS} read")]
    TooMany(u64),
    #[error("the Go function table is truncated or has an offset outside it")]
    OutOfBounds,
    #[error("the Go function table's entries are not in address order")]
    Unordered,
}

/// Reads the function table starting at `data[0]` (`data` may run past its
/// end); `big_endian` is the target's byte order.
pub fn parse(data: &[u8], big_endian: bool) -> Result<Vec<GoFunction>, PclntabError> {
    let reader = Reader { data, big_endian };
    let magic = reader.u32(0).ok_or(PclntabError::Header)?;
    let version = Version::from_magic(magic).ok_or(PclntabError::Header)?;
    let (pad, quantum, ptr) = (
        data.get(4..6).ok_or(PclntabError::Header)?,
        *data.get(6).ok_or(PclntabError::Header)?,
        *data.get(7).ok_or(PclntabError::Header)?,
    );
    if pad != [0, 0] || !matches!(quantum, 1 | 2 | 4) || !matches!(ptr, 4 | 8) {
        return Err(PclntabError::Header);
    }
    let ptr = u64::from(ptr);
    let word = |index: u64| {
        reader
            .word(8 + index * ptr, ptr)
            .ok_or(PclntabError::OutOfBounds)
    };
    let count = |n: u64| {
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= MAX_FUNCTIONS)
            .ok_or(PclntabError::TooMany(n))
    };
    // Per format: number of functions, where the (entry, func offset) pairs
    // are, how wide each is, what func offsets and name offsets are relative
    // to, and the base added to each entry.
    struct Layout {
        nfunc: usize,
        functab: u64,
        field: u64,
        func_base: u64,
        names: u64,
        text_start: u64,
    }
    let layout = match version {
        Version::Go12 => Layout {
            nfunc: count(word(0)?)?,
            functab: 8 + ptr,
            field: ptr,
            func_base: 0,
            names: 0,
            text_start: 0,
        },
        Version::Go116 => {
            let functab = word(6)?;
            Layout {
                nfunc: count(word(0)?)?,
                functab,
                field: ptr,
                func_base: functab,
                names: word(2)?,
                text_start: 0,
            }
        }
        Version::Go118 | Version::Go120 => {
            let functab = word(7)?;
            Layout {
                nfunc: count(word(0)?)?,
                functab,
                field: 4,
                func_base: functab,
                names: word(3)?,
                text_start: word(2)?,
            }
        }
    };
    // The whole pair table must be there before anything is allocated.
    let pairs_end = (layout.nfunc as u64)
        .checked_mul(2 * layout.field)
        .and_then(|n| n.checked_add(layout.functab))
        .and_then(|n| n.checked_add(layout.field))
        .ok_or(PclntabError::OutOfBounds)?;
    if pairs_end > data.len() as u64 {
        return Err(PclntabError::OutOfBounds);
    }
    let field = |offset: u64| {
        reader
            .word(offset, layout.field)
            .ok_or(PclntabError::OutOfBounds)
    };
    let entry = |i: u64| -> Result<u64, PclntabError> {
        Ok(layout
            .text_start
            .wrapping_add(field(layout.functab + i * 2 * layout.field)?))
    };
    let mut functions = Vec::with_capacity(layout.nfunc);
    let mut next = entry(0)?;
    for i in 0..layout.nfunc as u64 {
        let start = next;
        next = entry(i + 1)?;
        if next < start {
            return Err(PclntabError::Unordered);
        }
        let func = field(layout.functab + (i * 2 + 1) * layout.field)?
            .checked_add(layout.func_base)
            .ok_or(PclntabError::OutOfBounds)?;
        // The func record starts with its entry (a pointer before Go 1.18,
        // a 32-bit offset since), then the name offset.
        let name_field = if matches!(version, Version::Go12 | Version::Go116) {
            ptr
        } else {
            4
        };
        let name_offset = reader
            .u32(
                func.checked_add(name_field)
                    .ok_or(PclntabError::OutOfBounds)?,
            )
            .ok_or(PclntabError::OutOfBounds)?;
        let name = reader
            .c_string(
                layout
                    .names
                    .checked_add(u64::from(name_offset))
                    .ok_or(PclntabError::OutOfBounds)?,
            )
            .ok_or(PclntabError::OutOfBounds)?;
        functions.push(GoFunction {
            name,
            entry: start,
            size: next - start,
        });
    }
    Ok(functions)
}

/// Offsets in `data` where a table of one of the known formats may start
/// (magic, two zero bytes, a valid quantum and pointer size), in file order.
pub fn candidates(data: &[u8], big_endian: bool) -> Vec<usize> {
    let mut found = Vec::new();
    for magic in Version::MAGICS {
        let bytes = if big_endian {
            magic.to_be_bytes()
        } else {
            magic.to_le_bytes()
        };
        let pattern = [bytes[0], bytes[1], bytes[2], bytes[3], 0, 0];
        for at in memchr::memmem::find_iter(data, &pattern) {
            let ok = matches!(data.get(at + 6), Some(1 | 2 | 4))
                && matches!(data.get(at + 7), Some(4 | 8));
            if ok {
                found.push(at);
            }
        }
    }
    found.sort_unstable();
    found
}

struct Reader<'d> {
    data: &'d [u8],
    big_endian: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, offset: u64) -> Option<[u8; N]> {
        let start = usize::try_from(offset).ok()?;
        self.data.get(start..start.checked_add(N)?)?.try_into().ok()
    }

    fn u32(&self, offset: u64) -> Option<u32> {
        let b = self.bytes::<4>(offset)?;
        Some(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u64(&self, offset: u64) -> Option<u64> {
        let b = self.bytes::<8>(offset)?;
        Some(if self.big_endian {
            u64::from_be_bytes(b)
        } else {
            u64::from_le_bytes(b)
        })
    }

    /// A 4- or 8-byte word.
    fn word(&self, offset: u64, width: u64) -> Option<u64> {
        if width == 8 {
            self.u64(offset)
        } else {
            self.u32(offset).map(u64::from)
        }
    }

    /// The NUL-terminated string at `offset` (at most [`MAX_NAME_BYTES`]).
    fn c_string(&self, offset: u64) -> Option<String> {
        let start = usize::try_from(offset).ok()?;
        let rest = self.data.get(start..)?;
        let rest = &rest[..rest.len().min(MAX_NAME_BYTES)];
        let end = memchr::memchr(0, rest).unwrap_or(rest.len());
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Go 1.20 table (little-endian, 8-byte pointers) of `names` with
    /// entries 0x40 apart from text start 0x401000.
    fn go120_table(names: &[&str]) -> Vec<u8> {
        let n = names.len() as u64;
        let header = 8 + 8 * 8;
        let mut name_table = Vec::new();
        let mut name_offsets = Vec::new();
        for name in names {
            name_offsets.push(name_table.len() as u32);
            name_table.extend_from_slice(name.as_bytes());
            name_table.push(0);
        }
        let names_at = header as u64;
        let functab = names_at + name_table.len() as u64;
        let funcs_at = (n + 1) * 8; // func records follow the pairs
        let mut out = Vec::new();
        out.extend_from_slice(&0xffff_fff1u32.to_le_bytes());
        out.extend_from_slice(&[0, 0, 1, 8]);
        for word in [n, 0, 0x401000, names_at, 0, 0, 0, functab] {
            out.extend_from_slice(&word.to_le_bytes());
        }
        out.extend_from_slice(&name_table);
        for i in 0..=n {
            out.extend_from_slice(&((i * 0x40) as u32).to_le_bytes());
            out.extend_from_slice(
                &((funcs_at + i.min(n.saturating_sub(1)) * 8) as u32).to_le_bytes(),
            );
        }
        for (i, offset) in name_offsets.iter().enumerate() {
            out.extend_from_slice(&((i * 0x40) as u32).to_le_bytes());
            out.extend_from_slice(&offset.to_le_bytes());
        }
        out
    }

    #[test]
    fn reads_names_entries_and_sizes_of_a_go_1_20_table() {
        let table = go120_table(&["main.main", "main.beacon"]);
        let functions = parse(&table, false).expect("parses");
        assert_eq!(
            functions,
            vec![
                GoFunction {
                    name: "main.main".into(),
                    entry: 0x401000,
                    size: 0x40
                },
                GoFunction {
                    name: "main.beacon".into(),
                    entry: 0x401040,
                    size: 0x40
                },
            ]
        );
        assert_eq!(candidates(&table, false), vec![0]);
    }

    #[test]
    fn truncated_or_hostile_tables_are_errors_not_panics() {
        let table = go120_table(&["main.main", "main.beacon", "runtime.main"]);
        for len in 0..table.len() {
            assert!(
                parse(&table[..len], false).is_err(),
                "prefix of {len} bytes"
            );
        }
        // A huge function count is refused before anything is allocated.
        let mut huge = table.clone();
        huge[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(parse(&huge, false), Err(PclntabError::TooMany(u64::MAX)));
        let mut many = table.clone();
        many[8..16].copy_from_slice(&1_000_000u64.to_le_bytes());
        assert_eq!(parse(&many, false), Err(PclntabError::OutOfBounds));
        // Offsets pointing anywhere: never a panic.
        for at in 8..table.len() {
            for value in [0u8, 0x7f, 0xff] {
                let mut bad = table.clone();
                bad[at] = value;
                let _ = parse(&bad, false);
            }
        }
        assert_eq!(
            parse(b"\xf1\xff\xff\xff\0\0\x03\x08", false),
            Err(PclntabError::Header)
        );
    }

    #[test]
    fn overlong_names_are_cut() {
        let long = "x".repeat(MAX_NAME_BYTES * 2);
        let functions = parse(&go120_table(&[&long]), false).expect("parses");
        assert_eq!(functions[0].name.len(), MAX_NAME_BYTES);
    }
}
