//! Function-level comparison: which functions only one file has, which
//! changed size, and which kept their size but not their bytes.
//!
//! Functions come from Go's function table ([`crate::binary::gopclntab`], present
//! even in stripped Go binaries) or else from the ELF/PE/Mach-O symbol
//! table. They are matched by name; a function's bytes are compared after
//! masking relative call/branch targets (x86 `E8`/`E9`/`0F 8x` rel32, arm64
//! `BL`/`B`/`ADRP`), which shift whenever code is inserted before them.

use std::cmp::Ordering;

use object::{Architecture, Object, ObjectSection, ObjectSymbol, SymbolKind};
use serde::{Deserialize, Serialize};

use crate::binary::gopclntab::{self, MAX_FUNCTIONS, MAX_NAME_BYTES};

/// Functions listed per list; the rest are only counted.
pub const MAX_LISTED: usize = 200;

/// Where a file's functions came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FunctionSource {
    /// Go's `.gopclntab` (kept by `-s -w`).
    Gopclntab,
    /// The static symbol table (`.symtab`, COFF symbols, Mach-O nlist).
    Symbols,
    /// Only the dynamic symbol table (exported functions).
    DynamicSymbols,
}

impl FunctionSource {
    pub fn name(self) -> &'static str {
        match self {
            Self::Gopclntab => "Go function table",
            Self::Symbols => "symbol table",
            Self::DynamicSymbols => "dynamic symbol table",
        }
    }
}

/// A function and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    pub size: u64,
}

/// A function present in both files with different sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangedFunction {
    pub name: String,
    pub a_size: u64,
    pub b_size: u64,
}

/// The functions of A and B compared by name (lists sorted by name and cut
/// at [`MAX_LISTED`]; the `*_total` fields count them all).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunctionsDiff {
    pub a_source: Option<FunctionSource>,
    pub b_source: Option<FunctionSource>,
    pub only_a: Vec<Function>,
    pub only_a_total: usize,
    /// Functions only B has: new code when B is the rebuilt side.
    pub only_b: Vec<Function>,
    pub only_b_total: usize,
    /// Same name, different size.
    pub changed: Vec<ChangedFunction>,
    pub changed_total: usize,
    /// Same name and size, bytes differ even after masking call/branch
    /// targets (they may still differ only by other address operands, as
    /// `note` says).
    pub same_size_different: Vec<Function>,
    pub same_size_different_total: usize,
    /// Same name and size whose bytes differ only in call/branch targets
    /// or (x86-64) RIP-relative displacements: code that moved, or whose
    /// callees or data moved, not code that changed.
    pub addresses_only: usize,
    /// Functions present in both files (by name).
    pub compared: usize,
    /// What the comparison could not tell (no table on one side, unmasked
    /// address operands).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One file's functions (name, entry address, size) and how to find their
/// bytes.
struct Table<'d> {
    source: FunctionSource,
    functions: Vec<Entry>,
    sections: Vec<Mapped<'d>>,
    arch: Architecture,
}

struct Entry {
    name: String,
    address: u64,
    size: u64,
}

/// A section's address range and file bytes.
struct Mapped<'d> {
    address: u64,
    data: &'d [u8],
}

impl Table<'_> {
    /// The bytes of `size` bytes at `address` (cut at its section's end).
    fn bytes(&self, address: u64, size: u64) -> &[u8] {
        for s in &self.sections {
            if address >= s.address && address - s.address < s.data.len() as u64 {
                let start = (address - s.address) as usize;
                let len = usize::try_from(size).unwrap_or(usize::MAX);
                let end = start.saturating_add(len).min(s.data.len());
                return &s.data[start..end];
            }
        }
        &[]
    }
}

/// Compares the functions of files `a` and `b`; `None` when neither has a
/// function table.
pub fn diff(a: &[u8], b: &[u8]) -> Option<FunctionsDiff> {
    let go = |data| {
        let file = object::File::parse(data).ok()?;
        go_table(&file, data)
    };
    // Go's table names the same functions the symbol table would, and
    // survives stripping: when either file has one, both use it.
    let (table_a, table_b) = match (go(a), go(b)) {
        (None, None) => (symbol_table(a), symbol_table(b)),
        (ta, tb) => (ta, tb),
    };
    let mut result = FunctionsDiff {
        a_source: table_a.as_ref().map(|t| t.source),
        b_source: table_b.as_ref().map(|t| t.source),
        ..FunctionsDiff::default()
    };
    let (ta, tb) = match (table_a, table_b) {
        (None, None) => return None,
        (Some(ta), Some(tb)) if ta.source == tb.source => (ta, tb),
        (ta, tb) => {
            let describe = |t: &Option<Table>| {
                t.as_ref()
                    .map_or("no function table", |t| t.source.name())
                    .to_string()
            };
            result.note = Some(format!(
                "functions not compared: A has {}, B has {} (one file is stripped or \
                 built differently)",
                describe(&ta),
                describe(&tb)
            ));
            return Some(result);
        }
    };
    compare(&ta, &tb, &mut result);
    Some(result)
}

fn compare(ta: &Table, tb: &Table, result: &mut FunctionsDiff) {
    let (a, b) = (keyed(&ta.functions), keyed(&tb.functions));
    let mask = masker(ta.arch).filter(|_| ta.arch == tb.arch);
    let (mut i, mut j) = (0, 0);
    let mut only_a = Vec::new();
    let mut only_b = Vec::new();
    let mut changed = Vec::new();
    let mut same_size = Vec::new();
    while i < a.len() || j < b.len() {
        let order = match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) => x.0.cmp(&y.0),
            (Some(_), None) => Ordering::Less,
            _ => Ordering::Greater,
        };
        match order {
            Ordering::Less => {
                only_a.push(function(a[i].1));
                i += 1;
            }
            Ordering::Greater => {
                only_b.push(function(b[j].1));
                j += 1;
            }
            Ordering::Equal => {
                let (fa, fb) = (a[i].1, b[j].1);
                result.compared += 1;
                if fa.size != fb.size {
                    changed.push(ChangedFunction {
                        name: fa.name.clone(),
                        a_size: fa.size,
                        b_size: fb.size,
                    });
                } else {
                    let (bytes_a, bytes_b) =
                        (ta.bytes(fa.address, fa.size), tb.bytes(fb.address, fb.size));
                    if bytes_a != bytes_b {
                        match mask {
                            Some(mask) if mask(bytes_a, bytes_b) => result.addresses_only += 1,
                            _ => same_size.push(function(fa)),
                        }
                    }
                }
                i += 1;
                j += 1;
            }
        }
    }
    (result.only_a_total, result.only_a) = capped(only_a);
    (result.only_b_total, result.only_b) = capped(only_b);
    (result.changed_total, result.changed) = capped(changed);
    (result.same_size_different_total, result.same_size_different) = capped(same_size);
    if result.same_size_different_total > 0 {
        result.note = Some(match mask {
            Some(_) => "same-size functions were compared with call/branch targets and \
                        RIP-relative displacements (arm64: ADRP page offsets) masked; other \
                        address operands (immediate addresses, literal pools) were not, so they may still differ \
                        only by addresses"
                .to_string(),
            None => format!(
                "call/branch targets are not masked for {:?}: same-size functions may \
                 differ only by addresses",
                ta.arch
            ),
        });
    }
}

fn function(e: &Entry) -> Function {
    Function {
        name: e.name.clone(),
        size: e.size,
    }
}

fn capped<T>(mut list: Vec<T>) -> (usize, Vec<T>) {
    let total = list.len();
    list.truncate(MAX_LISTED);
    (total, list)
}

/// The functions sorted by (name, address), each keyed by its name and its
/// rank among functions of that name (static C functions may share one).
fn keyed(functions: &[Entry]) -> Vec<((&str, usize), &Entry)> {
    let mut sorted: Vec<&Entry> = functions.iter().collect();
    sorted.sort_by(|x, y| x.name.cmp(&y.name).then(x.address.cmp(&y.address)));
    let mut out: Vec<((&str, usize), &Entry)> = Vec::with_capacity(sorted.len());
    for e in sorted {
        let rank = match out.last() {
            Some(((name, rank), _)) if *name == e.name => rank + 1,
            _ => 0,
        };
        out.push(((e.name.as_str(), rank), e));
    }
    out
}

/// The sections with file bytes, for reading functions by address.
fn mapped<'d>(file: &object::File<'d>) -> Vec<Mapped<'d>> {
    file.sections()
        .filter(|s| s.file_range().is_some())
        .filter_map(|s| {
            Some(Mapped {
                address: s.address(),
                data: s.data().ok()?,
            })
        })
        .collect()
}

/// Go's function table: the `.gopclntab`/`__gopclntab` section, else the
/// first table found by its magic (PE files and some ELF layouts keep it
/// inside another section).
fn go_table<'d>(file: &object::File<'d>, data: &'d [u8]) -> Option<Table<'d>> {
    let big_endian = !file.is_little_endian();
    let section = file
        .sections()
        .find(|s| s.name().is_ok_and(|n| n.ends_with("gopclntab")))
        .and_then(|s| s.data().ok());
    let functions = match section.map(|d| gopclntab::parse(d, big_endian)) {
        Some(Ok(functions)) => functions,
        _ => gopclntab::candidates(data, big_endian)
            .into_iter()
            .find_map(|at| {
                let functions = gopclntab::parse(data.get(at..)?, big_endian).ok()?;
                let plausible = functions.first().is_some_and(|f| !f.name.is_empty());
                plausible.then_some(functions)
            })?,
    };
    Some(Table {
        source: FunctionSource::Gopclntab,
        functions: functions
            .into_iter()
            .map(|f| Entry {
                name: f.name,
                address: f.entry,
                size: f.size,
            })
            .collect(),
        sections: mapped(file),
        arch: file.architecture(),
    })
}

/// Functions of the static symbol table, else of the dynamic one; sizes
/// the table lacks (Mach-O, COFF) run to the next symbol or section end.
fn symbol_table(data: &[u8]) -> Option<Table<'_>> {
    let file = object::File::parse(data).ok()?;
    let mut source = FunctionSource::Symbols;
    let mut functions = text_symbols(file.symbols());
    if functions.is_empty() {
        source = FunctionSource::DynamicSymbols;
        functions = text_symbols(file.dynamic_symbols());
    }
    if functions.is_empty() {
        return None;
    }
    let sections = mapped(&file);
    // Sizes from the next symbol, bounded by the section's end.
    functions.sort_by_key(|f| (f.address, f.size == 0));
    let next: Vec<u64> = functions.iter().map(|f| f.address).collect();
    for (i, f) in functions.iter_mut().enumerate() {
        if f.size > 0 {
            continue;
        }
        let section_end = sections
            .iter()
            .find(|s| f.address >= s.address && f.address - s.address < s.data.len() as u64)
            .map(|s| s.address + s.data.len() as u64);
        let following = next[i + 1..].iter().find(|&&a| a > f.address).copied();
        let end = match (following, section_end) {
            (Some(x), Some(y)) => x.min(y),
            (x, y) => x.or(y).unwrap_or(f.address),
        };
        f.size = end - f.address;
    }
    Some(Table {
        source,
        functions,
        sections,
        arch: file.architecture(),
    })
}

fn text_symbols<'d>(symbols: impl Iterator<Item = impl ObjectSymbol<'d>>) -> Vec<Entry> {
    symbols
        .filter(|s| s.kind() == SymbolKind::Text && s.is_definition() && s.address() != 0)
        .filter_map(|s| {
            let name = s.name().ok().filter(|n| !n.is_empty())?;
            Some(Entry {
                name: without_rust_hash(truncated(name)).to_string(),
                address: s.address(),
                size: s.size(),
            })
        })
        .take(MAX_FUNCTIONS)
        .collect()
}

fn truncated(name: &str) -> &str {
    if name.len() <= MAX_NAME_BYTES {
        return name;
    }
    let mut end = MAX_NAME_BYTES;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// A legacy-mangled Rust name without its `17h<16 hex>E` hash suffix,
/// which changes with crate metadata even when the code does not.
fn without_rust_hash(name: &str) -> &str {
    let Some(body) = name.strip_suffix('E') else {
        return name;
    };
    match body
        .len()
        .checked_sub(19)
        .and_then(|at| body.get(at..).map(|h| (at, h)))
    {
        Some((at, hash))
            if name.starts_with("_ZN")
                && hash.starts_with("17h")
                && hash[3..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            &name[..at]
        }
        _ => name,
    }
}

/// Whether two same-size functions differ only in address operands.
type Mask = fn(&[u8], &[u8]) -> bool;

/// The address masking for `arch`, when it is cheap.
fn masker(arch: Architecture) -> Option<Mask> {
    match arch {
        Architecture::X86_64 | Architecture::X86_64_X32 => Some(x86_64_addresses_only),
        Architecture::I386 => Some(|a, b| {
            let (a, b) = mask_x86(a, b);
            a == b
        }),
        Architecture::Aarch64 => Some(|a, b| mask_arm64(a) == mask_arm64(b)),
        _ => None,
    }
}

/// After masking call/branch targets, every remaining differing byte lies
/// in a 32-bit displacement both sides address the same way: after a
/// RIP-relative ModRM byte (`mod` 00, `rm` 101), or after a ModRM + SIB
/// pair naming an absolute `disp32` (SIB base 101, no index): a moved data
/// reference.
fn x86_64_addresses_only(a: &[u8], b: &[u8]) -> bool {
    // Operand bytes are read unmasked (a0, b0): a stray E8 may have masked them.
    let (a0, b0) = (a, b);
    let (a, b) = mask_x86(a, b);
    if a.len() != b.len() {
        return false;
    }
    let same = |p: usize| a0[p] == b0[p];
    // Whether a displacement field starts at `q`.
    let field = |q: usize| {
        let rip = q >= 1 && same(q - 1) && a0[q - 1] & 0xc7 == 0x05;
        let absolute = q >= 2
            && same(q - 1)
            && same(q - 2)
            && a0[q - 2] & 0xc7 == 0x04
            && a0[q - 1] & 0x3f == 0x25;
        rip || absolute
    };
    (0..a.len())
        .filter(|&d| a[d] != b[d])
        .all(|d| (d.saturating_sub(3)..=d).any(field))
}

/// Both functions with the rel32 of every `E8` (call), `E9` (jmp) and
/// `0F 80..8F` (jcc) byte pattern zeroed. Not a disassembly: the two are
/// scanned in step and a pattern counts only where both have it, so a
/// differing byte is never taken for an opcode on one side only.
fn mask_x86(a: &[u8], b: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    let len = a.len().min(b.len());
    let same = |a: &[u8], b: &[u8], i: usize| a.get(i).is_some() && a.get(i) == b.get(i);
    let mut i = 0;
    while i < len {
        let field = match a[i] {
            0xe8 | 0xe9 if same(&a, &b, i) => i + 1,
            0x0f if same(&a, &b, i) && same(&a, &b, i + 1) && (0x80..=0x8f).contains(&a[i + 1]) => {
                i + 2
            }
            _ => {
                i += 1;
                continue;
            }
        };
        let end = (field + 4).min(len);
        a[field..end].fill(0);
        b[field..end].fill(0);
        i = end;
    }
    (a, b)
}

/// Zeroes the immediates of arm64 `BL`/`B` (imm26), `ADRP` (page), and
/// the page offset (imm12) of an `ADD`/load/store right after an `ADRP`
/// of its base register.
fn mask_arm64(code: &[u8]) -> Vec<u8> {
    let mut out = code.to_vec();
    let mut adrp_register = None;
    for word in out.chunks_exact_mut(4) {
        let insn = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        let base = (insn >> 5) & 0x1f;
        let page_offset = insn & 0x7f80_0000 == 0x1100_0000 // ADD (immediate)
            || insn & 0x3b00_0000 == 0x3900_0000; // LDR/STR (unsigned offset)
        let masked = match insn & 0xfc00_0000 {
            0x9400_0000 | 0x1400_0000 => insn & 0xfc00_0000,
            _ if insn & 0x9f00_0000 == 0x9000_0000 => insn & 0x9f00_001f,
            _ if page_offset && adrp_register == Some(base) => insn & !0x003f_fc00,
            _ => insn,
        };
        adrp_register = (insn & 0x9f00_0000 == 0x9000_0000).then_some(insn & 0x1f);
        word.copy_from_slice(&masked.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn x86_call_targets_are_masked_but_other_bytes_are_not() {
        let a = [0x55, 0xe8, 1, 2, 3, 4, 0x0f, 0x84, 9, 9, 9, 9, 0xc3];
        let b = [0x55, 0xe8, 5, 6, 7, 8, 0x0f, 0x84, 1, 1, 1, 1, 0xc3];
        let (ma, mb) = mask_x86(&a, &b);
        assert_eq!(ma, mb);
        let c = [0x56, 0xe8, 5, 6, 7, 8, 0x0f, 0x84, 1, 1, 1, 1, 0xc3];
        let (ma, mc) = mask_x86(&a, &c);
        assert_ne!(ma, mc);
        assert_eq!(
            mask_x86(&[0xe8, 1], &[0xe8, 2]),
            (vec![0xe8, 0], vec![0xe8, 0])
        );
    }

    #[test]
    fn x86_64_rip_relative_displacements_count_as_addresses() {
        // LEAQ 0x698c3(IP), AX against LEAQ 0x698e9(IP), AX: the differing
        // displacement byte is E9 on one side, not a jmp.
        let a = [0x48, 0x8d, 0x05, 0xc3, 0x98, 0x06, 0x00, 0xc3];
        let b = [0x48, 0x8d, 0x05, 0xe9, 0x98, 0x06, 0x00, 0xc3];
        assert!(x86_64_addresses_only(&a, &b));
        let c = [0x48, 0x8d, 0x05, 0xc3, 0x98, 0x06, 0x00, 0xc2];
        assert!(!x86_64_addresses_only(&a, &c));
        // MOVSD_XMM $f64.3fd0000000000000(SB), X4: an absolute disp32.
        let a = [0xf2, 0x0f, 0x10, 0x25, 0x78, 0x9d, 0x09, 0x00];
        let b = [0xf2, 0x0f, 0x10, 0x25, 0x98, 0x9d, 0x09, 0x00];
        assert!(x86_64_addresses_only(&a, &b));
    }

    #[test]
    fn arm64_branch_and_page_immediates_are_masked() {
        let bl = |imm: u32| (0x9400_0000 | imm).to_le_bytes();
        assert_eq!(mask_arm64(&bl(5)), mask_arm64(&bl(0x3ff_ffff)));
        let ret = 0xd65f_03c0u32.to_le_bytes();
        let add = 0x9100_0400u32.to_le_bytes();
        assert_ne!(mask_arm64(&ret), mask_arm64(&add));
        // ADRP x27, page; ADD x27, x27, #lo12 with different pages/offsets.
        let adrp_add = |page: u32, lo12: u32| {
            let mut code = (0x9000_001bu32 | page << 5).to_le_bytes().to_vec();
            code.extend((0x9100_037bu32 | lo12 << 10).to_le_bytes());
            code
        };
        assert_eq!(
            mask_arm64(&adrp_add(1, 0x10)),
            mask_arm64(&adrp_add(2, 0x20))
        );
        // The same ADD without an ADRP before it is compared as it is.
        assert_ne!(
            mask_arm64(&adrp_add(1, 0x10)[4..]),
            mask_arm64(&adrp_add(1, 0x20)[4..])
        );
    }

    #[test]
    fn rust_legacy_hashes_are_dropped_from_names() {
        assert_eq!(
            without_rust_hash("_ZN4core3fmt5write17h0123456789abcdefE"),
            "_ZN4core3fmt5write"
        );
        assert_eq!(without_rust_hash("main"), "main");
        assert_eq!(without_rust_hash("E"), "E");
    }

    #[test]
    fn functions_sharing_a_name_are_matched_in_address_order() {
        let entry = |name: &str, address| Entry {
            name: name.into(),
            address,
            size: 1,
        };
        let functions = [entry("f", 9), entry("g", 1), entry("f", 3)];
        let keys: Vec<(&str, usize, u64)> = keyed(&functions)
            .into_iter()
            .map(|((n, r), e)| (n, r, e.address))
            .collect();
        assert_eq!(keys, vec![("f", 0, 3), ("f", 1, 9), ("g", 0, 1)]);
    }

    #[test]
    fn files_without_functions_have_no_function_diff() {
        assert_eq!(diff(b"not an executable", b"\x7fELF"), None);
    }
}
