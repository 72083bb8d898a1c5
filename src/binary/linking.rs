//! How an ELF executable was linked: static or dynamic, PIE or not, by Go's
//! own linker or by the C toolchain's (read from its header, program
//! headers, notes, sections, entry symbol and `.comment`), which C
//! compilers its `.comment` names, and which C libraries linked into it
//! show their versions (a static glibc, zlib, OpenSSL, SQLite).
//!
//! Read from untrusted files: every read is bounded by the file, by
//! [`MAX_COMMENT_BYTES`], [`MAX_SYMBOLS`] and [`MAX_TEXT`]; hostile headers
//! give `None` or fewer findings, never a panic.

use std::fmt;
use std::sync::OnceLock;

use memchr::memmem;
use object::elf::{
    ELF_NOTE_GNU, ELF_NOTE_GO, ET_DYN, ET_EXEC, NT_GNU_BUILD_ID, NT_GO_BUILD_ID, PT_INTERP, PT_NOTE,
};
use object::read::elf::{ElfFile, FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSection, ObjectSymbol};
use regex::bytes::Regex;
use serde::Serialize;

/// Bytes of `.comment` read.
pub const MAX_COMMENT_BYTES: usize = 64 * 1024;

/// Symbols looked at for the entry point's name and for the symbols
/// libraries keep their versions at.
pub const MAX_SYMBOLS: usize = 1_000_000;

/// Bytes kept of a name or version read from the file.
pub const MAX_TEXT: usize = 4096;

/// Banner matches looked at per library.
const MAX_MATCHES: usize = 64;

/// How an ELF executable was linked, read from its headers, notes, sections, symbols and `.comment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Linking {
    pub layout: LinkLayout,
    /// PT_INTERP's path (`/lib64/ld-linux-x86-64.so.2`), when it has one.
    pub interpreter: Option<String>,
    pub linker: Linker,
    /// Why `layout` and `linker` were read so, one short phrase each, in a stable order
    /// (e.g. "ELF type DYN", "no PT_INTERP", "a GNU build-ID note", "the crt entry _start", ".comment names GCC").
    pub evidence: Vec<String>,
    /// The C compilers `.comment` names, each once, in section order.
    pub compilers: Vec<CCompiler>,
    /// C libraries linked in statically whose versions the binary shows.
    pub libraries: Vec<CLibrary>,
}

/// Whether an executable is position-independent and whether it needs a
/// dynamic loader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkLayout {
    /// ET_EXEC without PT_INTERP.
    Static,
    /// ET_DYN without PT_INTERP (`-static-pie`).
    StaticPie,
    /// ET_EXEC with PT_INTERP.
    Dynamic,
    /// ET_DYN with PT_INTERP (`-buildmode=pie`, dynamically linked).
    DynamicPie,
}

/// Which linker made an executable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Linker {
    /// Go's own linker (`-linkmode internal`): no crt objects, no `.comment`, no GNU build-ID unless asked.
    GoInternal,
    /// A system linker run by the C compiler (`-linkmode external`, or any non-Go program).
    External,
}

/// A C compiler as `.comment` (`GCC: (Debian 12.2.0-14+deb12u1) 12.2.0`) or `cc --version`'s first line
/// (`gcc (Debian 12.2.0-14+deb12u1) 12.2.0`) names it.
///
/// Displayed as `GCC 12.2.0 (Debian 12.2.0-14+deb12u1)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CCompiler {
    /// `GCC` or `clang` (normalised: "GCC" for gcc/GCC, "clang" for clang).
    pub name: String,
    /// `12.2.0`.
    pub version: String,
    /// The distribution's build in the parentheses (`Debian 12.2.0-14+deb12u1`), when named.
    pub distribution: Option<String>,
}

/// A C library linked into an executable, and what showed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CLibrary {
    /// `glibc`, `zlib`, `OpenSSL` or `SQLite`.
    pub name: String,
    /// `2.36`, when the binary shows it.
    pub version: Option<String>,
    /// What showed it (`the static glibc's "Fatal glibc error" strings and "2.36"`).
    pub evidence: String,
}

/// How `data` was linked; `None` when it is not an ELF executable (ET_EXEC/ET_DYN with an entry point).
/// Bounded: reads at most the binary it is given, never panics on hostile ELF.
pub fn read(data: &[u8]) -> Option<Linking> {
    match object::File::parse(data).ok()? {
        object::File::Elf32(elf) => of_elf(&elf, data),
        object::File::Elf64(elf) => of_elf(&elf, data),
        _ => None,
    }
}

fn of_elf<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    data: &[u8],
) -> Option<Linking> {
    let endian = elf.endian();
    let elf_type = elf.elf_header().e_type(endian);
    let position_independent = match elf_type {
        ET_EXEC => false,
        ET_DYN => true,
        _ => return None,
    };
    if elf.entry() == 0 {
        return None;
    }
    let interpreter = interpreter(elf, data);
    let layout = match (position_independent, interpreter.is_some()) {
        (false, false) => LinkLayout::Static,
        (true, false) => LinkLayout::StaticPie,
        (false, true) => LinkLayout::Dynamic,
        (true, true) => LinkLayout::DynamicPie,
    };
    let mut evidence = vec![
        format!(
            "ELF type {}",
            if position_independent { "DYN" } else { "EXEC" }
        ),
        match &interpreter {
            Some(path) => format!("PT_INTERP {path}"),
            None => "no PT_INTERP".to_string(),
        },
    ];
    let compilers = compilers(elf);
    let linker = linker(elf, data, &compilers, &mut evidence);
    let libraries = libraries(elf, data, interpreter.is_none());
    Some(Linking {
        layout,
        interpreter,
        linker,
        evidence,
        compilers,
        libraries,
    })
}

/// The path PT_INTERP names, up to its NUL.
fn interpreter<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    data: &[u8],
) -> Option<String> {
    let endian = elf.endian();
    let segment = elf
        .elf_program_headers()
        .iter()
        .find(|segment| segment.p_type(endian) == PT_INTERP)?;
    let bytes = segment.data(endian, data).ok()?;
    let path = bytes.split(|&b| b == 0).next().unwrap_or_default();
    Some(text(path))
}

/// Which linker made the file, adding the signs read to `evidence`.
fn linker<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    data: &[u8],
    compilers: &[CCompiler],
    evidence: &mut Vec<String>,
) -> Linker {
    let (gnu_build_id, go_build_id) = notes(elf, data);
    let entry = entry_symbol(elf);
    let crt_entry = entry.as_deref() == Some("_start");
    let go_entry = entry
        .as_deref()
        .is_some_and(|name| name.starts_with("_rt0_"));
    let init = elf.section_by_name(".init").is_some();
    let go = go_build_id
        || go_entry
        || elf.section_by_name(".go.buildinfo").is_some()
        || elf.section_by_name(".gopclntab").is_some();
    if let Some(name) = &entry {
        if crt_entry {
            evidence.push(format!("the crt entry {name}"));
        } else if go_entry {
            evidence.push(format!("the Go entry {name}"));
        }
    }
    if init {
        evidence.push("a .init section (crti)".to_string());
    }
    if gnu_build_id {
        evidence.push("a GNU build-ID note".to_string());
    }
    let mut compiler_names: Vec<&str> = Vec::new();
    for compiler in compilers {
        if !compiler_names.contains(&compiler.name.as_str()) {
            compiler_names.push(&compiler.name);
        }
    }
    if !compiler_names.is_empty() {
        evidence.push(format!(".comment names {}", compiler_names.join(" and ")));
    }
    if go_build_id {
        evidence.push("a Go build-ID note".to_string());
    }
    if go_entry {
        return Linker::GoInternal;
    }
    if crt_entry || init || !compilers.is_empty() {
        return Linker::External;
    }
    if go {
        evidence.push("no crt entry, .init or C compiler .comment".to_string());
        Linker::GoInternal
    } else {
        evidence.push("not a Go program".to_string());
        Linker::External
    }
}

/// Whether the PT_NOTE segments hold a GNU build ID and a Go build ID
/// (segments, not sections: stripping section headers keeps them).
fn notes<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    data: &[u8],
) -> (bool, bool) {
    let endian = elf.endian();
    let mut gnu = false;
    let mut go = false;
    for segment in elf.elf_program_headers() {
        if segment.p_type(endian) != PT_NOTE {
            continue;
        }
        let Ok(Some(mut notes)) = segment.notes(endian, data) else {
            continue;
        };
        while let Ok(Some(note)) = notes.next() {
            match (note.name(), note.n_type(endian)) {
                (ELF_NOTE_GNU, NT_GNU_BUILD_ID) => gnu = true,
                (ELF_NOTE_GO, NT_GO_BUILD_ID) => go = true,
                _ => {}
            }
        }
    }
    (gnu, go)
}

/// The name of the symbol table's function at the entry point, when the
/// file keeps a symbol table.
fn entry_symbol<Elf: FileHeader<Endian = Endianness>>(elf: &ElfFile<'_, Elf>) -> Option<String> {
    let entry = elf.entry();
    elf.symbols()
        .take(MAX_SYMBOLS)
        .filter(|symbol| symbol.address() == entry && symbol.is_definition())
        .find_map(|symbol| {
            let name = symbol.name_bytes().ok()?;
            (!name.is_empty()).then(|| text(name))
        })
}

/// The C compilers `.comment` names, each once, in section order.
fn compilers<Elf: FileHeader<Endian = Endianness>>(elf: &ElfFile<'_, Elf>) -> Vec<CCompiler> {
    let Some(comment) = elf
        .section_by_name(".comment")
        .and_then(|section| section.data().ok())
    else {
        return Vec::new();
    };
    let comment = comment.get(..MAX_COMMENT_BYTES).unwrap_or(comment);
    let mut out: Vec<CCompiler> = Vec::new();
    for entry in comment.split(|&b| b == 0) {
        let Some(compiler) = CCompiler::parse(&text(entry)) else {
            continue;
        };
        if !out.contains(&compiler) {
            out.push(compiler);
        }
    }
    out
}

impl CCompiler {
    /// Parses a `.comment` entry or a `--version` first line; `None` for anything else (e.g. `Go cmd/compile`, rustc's).
    ///
    /// `(GNU)` and `(GCC)` are GCC's own builds, not a distribution's: a
    /// distribution is then taken from a trailing parenthesis (Red Hat's
    /// `gcc (GCC) 13.2.1 20231011 (Red Hat 13.2.1-4)`), else there is none.
    pub fn parse(line: &str) -> Option<CCompiler> {
        let line = line.trim();
        if let Some(at) = line.find("clang version ") {
            return parse_clang(line.get(..at)?, line.get(at + "clang version ".len()..)?);
        }
        let rest = match line.strip_prefix("GCC: ") {
            Some(rest) => rest,
            None => {
                let (program, rest) = line.split_once(' ')?;
                is_gcc_program(program).then_some(rest)?
            }
        };
        let (vendor, rest) = match rest.strip_prefix('(') {
            Some(inner) => {
                let (vendor, rest) = inner.split_once(')')?;
                (Some(vendor.trim()), rest.trim_start())
            }
            None => (None, rest),
        };
        let (version, tail) = rest.split_once(' ').unwrap_or((rest, ""));
        if !is_version(version) {
            return None;
        }
        let distribution = match vendor {
            Some("GNU" | "GCC") | None => trailing_parenthesis(tail),
            Some(vendor) => Some(vendor.to_string()),
        };
        Some(CCompiler {
            name: "GCC".to_string(),
            version: version.to_string(),
            distribution: distribution.filter(|d| !d.is_empty()),
        })
    }

    /// The Debian release whose compiler this is, from the distribution text: `+debNN` suffix
    /// (deb10 buster, deb11 bullseye, deb12 bookworm, deb13 trixie), else the Debian GCC major's release
    /// (8 buster, 10 bullseye, 12 bookworm, 14 trixie; for clang 7, 11, 14 and 19). `None` when not Debian's.
    pub fn debian_release(&self) -> Option<&'static str> {
        let distribution = self.distribution.as_deref()?;
        if !distribution.starts_with("Debian") {
            return None;
        }
        if let Some(at) = distribution.find("+deb") {
            let digits: String = distribution
                .get(at + "+deb".len()..)?
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            return match digits.as_str() {
                "10" => Some("buster"),
                "11" => Some("bullseye"),
                "12" => Some("bookworm"),
                "13" => Some("trixie"),
                _ => None,
            };
        }
        let major = self.version.split('.').next()?;
        match (self.name.as_str(), major) {
            ("GCC", "8") | ("clang", "7") => Some("buster"),
            ("GCC", "10") | ("clang", "11") => Some("bullseye"),
            ("GCC", "12") | ("clang", "14") => Some("bookworm"),
            ("GCC", "14") | ("clang", "19") => Some("trixie"),
            _ => None,
        }
    }
}

impl fmt::Display for CCompiler {
    /// `GCC 12.2.0 (Debian 12.2.0-14+deb12u1)`, or `clang 16.0.6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.version)?;
        match &self.distribution {
            Some(distribution) => write!(f, " ({distribution})"),
            None => Ok(()),
        }
    }
}

/// `Debian clang version 14.0.6`, `clang version 16.0.6 (Fedora 16.0.6-3.fc39)`,
/// `Ubuntu clang version 14.0.0-1ubuntu1.1`: `vendor` is what precedes
/// `clang version `, `rest` what follows it.
fn parse_clang(vendor: &str, rest: &str) -> Option<CCompiler> {
    let (token, tail) = rest.split_once(' ').unwrap_or((rest, ""));
    let end = token
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(token.len());
    let version = token.get(..end)?.trim_end_matches('.');
    if !is_version(version) {
        return None;
    }
    let vendor = vendor.trim();
    let distribution = if vendor.is_empty() {
        trailing_parenthesis(tail).filter(|d| !d.contains("://"))
    } else if token.len() > version.len() {
        Some(format!("{vendor} {token}"))
    } else {
        Some(vendor.to_string())
    };
    Some(CCompiler {
        name: "clang".to_string(),
        version: version.to_string(),
        distribution,
    })
}

/// `gcc`, `cc`, `gcc-12`, `x86_64-linux-gnu-gcc-12`, `g++`, `c++`.
fn is_gcc_program(program: &str) -> bool {
    let base = program.rsplit('/').next().unwrap_or(program);
    let base = base
        .trim_end_matches(|c: char| c.is_ascii_digit() || c == '.')
        .trim_end_matches('-');
    matches!(base, "cc" | "c++") || base.ends_with("gcc") || base.ends_with("g++")
}

/// `12.2.0`: dotted digits, two parts at least.
fn is_version(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
        parts += 1;
    }
    parts >= 2
}

/// The text of the last `( … )` closing `tail`.
fn trailing_parenthesis(tail: &str) -> Option<String> {
    let inner = tail.trim().strip_suffix(')')?;
    let (_, inner) = inner.rsplit_once('(')?;
    Some(inner.trim().to_string())
}

/// The C libraries whose versions the bytes show: a static glibc (only
/// when there is no dynamic loader to bring it), then the banners zlib,
/// OpenSSL and SQLite compile into whatever links them.
fn libraries<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    data: &[u8],
    static_layout: bool,
) -> Vec<CLibrary> {
    let rodata = elf
        .section_by_name(".rodata")
        .and_then(|section| section.data().ok());
    let mut out = Vec::new();
    if static_layout {
        out.extend(static_glibc(elf, data, rodata));
    }
    out.extend(zlib(data));
    out.extend(openssl(data));
    out.extend(sqlite(elf, data, rodata));
    out
}

/// A glibc linked in statically: its "Fatal glibc error" messages (2.36
/// on) or its `GLIBC_TUNABLES` variable, and its version ([`version`]: at
/// one of [`GLIBC_VERSION_SYMBOLS`], else the one bare `2.NN` string).
/// `pthread_create` brings `__nptl_version` along (for libthread_db), so
/// every static cgo binary shows it; a program that starts no thread and
/// never asks for the version may not.
fn static_glibc<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    data: &[u8],
    rodata: Option<&[u8]>,
) -> Option<CLibrary> {
    let marker = ["Fatal glibc error", "GLIBC_TUNABLES"]
        .into_iter()
        .find(|marker| memmem::find(data, marker.as_bytes()).is_some())?;
    let shown = format!("the static glibc's \"{marker}\" strings");
    Some(shown_library(
        "glibc",
        shown,
        version(elf, &GLIBC_VERSION_SYMBOLS, rodata, data, is_glibc_version),
    ))
}

/// The symbols a static glibc keeps its version string at:
/// `__nptl_version` (2.34 on), `nptl_version` (before), `__libc_version`
/// (`gnu_get_libc_version`).
const GLIBC_VERSION_SYMBOLS: [&str; 3] = ["__nptl_version", "nptl_version", "__libc_version"];

/// A library's version string and where it was read (`at SYMBOL`, `in
/// .rodata`, `in the file`): the string at the first of `symbols` in the
/// symbol table when the file keeps one, else the one distinct bare
/// string `accept` takes in `.rodata` (in the whole file when it has no
/// `.rodata` section); `None` when there is none or more than one.
fn version<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    symbols: &[&str],
    rodata: Option<&[u8]>,
    data: &[u8],
    accept: fn(&[u8]) -> bool,
) -> Option<(String, String)> {
    if let Some(found) = string_at_symbol(elf, symbols, accept) {
        return Some(found);
    }
    match rodata {
        Some(rodata) => sole_string(rodata, accept).map(|v| (v, "in .rodata".to_string())),
        None => sole_string(data, accept).map(|v| (v, "in the file".to_string())),
    }
}

/// The string at the first of `symbols` in the symbol table, with `at
/// SYMBOL`, when `accept` takes it.
fn string_at_symbol<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    symbols: &[&str],
    accept: fn(&[u8]) -> bool,
) -> Option<(String, String)> {
    elf.symbols()
        .take(MAX_SYMBOLS)
        .filter(|symbol| symbol.is_definition())
        .find_map(|symbol| {
            let name = symbol.name().ok()?;
            if !symbols.contains(&name) {
                return None;
            }
            let section = elf.section_by_index(symbol.section_index()?).ok()?;
            let offset = symbol.address().checked_sub(section.address())?;
            let bytes = section.data().ok()?.get(usize::try_from(offset).ok()?..)?;
            let bytes = bytes.get(..16).unwrap_or(bytes);
            let version = bytes.split(|&b| b == 0).next()?;
            accept(version).then(|| (text(version), format!("at {name}")))
        })
}

/// `2.36`, `2.3.4`: glibc's version form.
fn is_glibc_version(text: &[u8]) -> bool {
    text.strip_prefix(b"2.")
        .is_some_and(|rest| text.len() <= 8 && is_version_bytes(rest, 1))
}

/// Dotted digits with at least `parts` parts.
fn is_version_bytes(text: &[u8], parts: usize) -> bool {
    let mut count = 0;
    for part in text.split(|&b| b == b'.') {
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
        count += 1;
    }
    count >= parts
}

/// The one distinct NUL-delimited string of `data` that `wanted` accepts;
/// `None` when there is none or more than one.
fn sole_string(data: &[u8], wanted: impl Fn(&[u8]) -> bool) -> Option<String> {
    let mut found: Option<&[u8]> = None;
    for candidate in data.split(|&b| b == 0) {
        if candidate.is_empty() || candidate.len() > 16 || !wanted(candidate) {
            continue;
        }
        match found {
            Some(seen) if seen != candidate => return None,
            _ => found = Some(candidate),
        }
    }
    found.map(text)
}

/// zlib's ` deflate 1.2.13 Copyright 1995-2022 Jean-loup Gailly and Mark
/// Adler ` banner, or inflate's (a program that only decompresses).
fn zlib(data: &[u8]) -> Option<CLibrary> {
    static RES: OnceLock<[Regex; 2]> = OnceLock::new();
    let res = RES.get_or_init(|| {
        ["deflate", "inflate"].map(|banner| {
            Regex::new(&format!(
                r"(?-u) ({banner}) ([0-9]+\.[0-9]+(?:\.[0-9]+){{0,2}}) Copyright [0-9]{{4}}-[0-9]{{4}} "
            ))
            .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
        })
    });
    let (banner, version) = res.iter().find_map(|re| first_version(re, data))?;
    Some(CLibrary {
        name: "zlib".to_string(),
        evidence: format!("zlib's \"{banner} {version} Copyright\" banner"),
        version: Some(version),
    })
}

/// OpenSSL's `OPENSSL_VERSION_TEXT`: `OpenSSL 3.0.11 19 Sep 2023`.
fn openssl(data: &[u8]) -> Option<CLibrary> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r"(?-u)\x00(OpenSSL) ([0-9]+\.[0-9]+\.[0-9]+[a-z]{0,2}) [0-9]{1,2} [A-Z][a-z]{2} [0-9]{4}\x00")
            .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    });
    let (_, version) = first_version(re, data)?;
    Some(CLibrary {
        name: "OpenSSL".to_string(),
        evidence: format!("OpenSSL's version text \"OpenSSL {version} …\""),
        version: Some(version),
    })
}

/// SQLite: its database header text `SQLite format 3`, its source ID
/// (`2022-12-28 14:03:47 df5c253c…`) and its `sqlite3_version`
/// ([`version`]: at that symbol, else the one bare `3.NN.N` string).
fn sqlite<Elf: FileHeader<Endian = Endianness>>(
    elf: &ElfFile<'_, Elf>,
    data: &[u8],
    rodata: Option<&[u8]>,
) -> Option<CLibrary> {
    static RE: OnceLock<Regex> = OnceLock::new();
    memmem::find(data, b"SQLite format 3\x00")?;
    let re = RE.get_or_init(|| {
        Regex::new(r"(?-u)\x00([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} [0-9a-f]{64}[0-9a-z]{0,8})\x00")
            .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    });
    let source_id = re
        .captures_iter(data)
        .next()
        .and_then(|captures| captures.get(1))
        .map(|m| text(m.as_bytes()))?;
    let shown = format!("SQLite's source ID \"{source_id}\"");
    Some(shown_library(
        "SQLite",
        shown,
        version(elf, &["sqlite3_version"], rodata, data, is_sqlite_version),
    ))
}

/// The library `name` that `shown` shows, with its version and where it
/// was read, when it was.
fn shown_library(name: &str, shown: String, found: Option<(String, String)>) -> CLibrary {
    match found {
        Some((version, place)) => CLibrary {
            name: name.to_string(),
            evidence: format!("{shown} and \"{version}\" {place}"),
            version: Some(version),
        },
        None => CLibrary {
            name: name.to_string(),
            version: None,
            evidence: shown,
        },
    }
}

/// `3.40.1`: SQLite 3's version form.
fn is_sqlite_version(text: &[u8]) -> bool {
    text.strip_prefix(b"3.")
        .is_some_and(|rest| text.len() <= 12 && is_version_bytes(rest, 2))
}

/// The first match's banner word and version (groups 1 and 2), looking at
/// no more than [`MAX_MATCHES`] matches for one that reads as text.
fn first_version(re: &Regex, data: &[u8]) -> Option<(String, String)> {
    re.captures_iter(data)
        .take(MAX_MATCHES)
        .find_map(|captures| {
            Some((
                text(captures.get(1)?.as_bytes()),
                text(captures.get(2)?.as_bytes()),
            ))
        })
}

/// Bytes as text, at most [`MAX_TEXT`] of them (non-UTF-8 reads as U+FFFD).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes.get(..MAX_TEXT).unwrap_or(bytes)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::elf::{FileType, ET_CORE, ET_REL, PT_LOAD};

    const INTERPRETER: &[u8] = b"/lib64/ld-linux-x86-64.so.2\0";

    /// A minimal x86-64 ELF executable: header, program headers (PT_LOAD,
    /// and PT_INTERP when `interpreter` is given), the interpreter's path,
    /// then `payload`; no sections.
    fn executable(
        elf_type: FileType,
        entry: u64,
        interpreter: Option<&[u8]>,
        payload: &[u8],
    ) -> Vec<u8> {
        let phnum: u16 = if interpreter.is_some() { 2 } else { 1 };
        let after_headers = 64 + 56 * u64::from(phnum);
        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
        out.extend_from_slice(&elf_type.0.to_le_bytes());
        out.extend_from_slice(&62u16.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&entry.to_le_bytes());
        out.extend_from_slice(&64u64.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for half in [64u16, 56, phnum, 64, 0, 0] {
            out.extend_from_slice(&half.to_le_bytes());
        }
        let interpreter_len = interpreter.map_or(0, |path| path.len() as u64);
        let total = after_headers + interpreter_len + payload.len() as u64;
        let mut segment = |p_type: u32, offset: u64, size: u64| {
            out.extend_from_slice(&p_type.to_le_bytes());
            out.extend_from_slice(&5u32.to_le_bytes());
            for field in [
                offset,
                0x40_0000 + offset,
                0x40_0000 + offset,
                size,
                size,
                1,
            ] {
                out.extend_from_slice(&field.to_le_bytes());
            }
        };
        segment(PT_LOAD.0, 0, total);
        if interpreter.is_some() {
            segment(PT_INTERP.0, after_headers, interpreter_len);
        }
        out.extend_from_slice(interpreter.unwrap_or_default());
        out.extend_from_slice(payload);
        out
    }

    fn gcc(version: &str, distribution: Option<&str>) -> CCompiler {
        CCompiler {
            name: "GCC".to_string(),
            version: version.to_string(),
            distribution: distribution.map(str::to_string),
        }
    }

    fn clang(version: &str, distribution: Option<&str>) -> CCompiler {
        CCompiler {
            name: "clang".to_string(),
            ..gcc(version, distribution)
        }
    }

    #[test]
    fn reads_debians_gcc_from_comment_and_from_its_version_line() {
        let bookworm = gcc("12.2.0", Some("Debian 12.2.0-14+deb12u1"));
        assert_eq!(
            CCompiler::parse("GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"),
            Some(bookworm.clone())
        );
        assert_eq!(
            CCompiler::parse("gcc (Debian 12.2.0-14+deb12u1) 12.2.0\n"),
            Some(bookworm.clone())
        );
        assert_eq!(
            CCompiler::parse("x86_64-linux-gnu-gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0"),
            Some(bookworm.clone())
        );
        assert_eq!(bookworm.debian_release(), Some("bookworm"));
        assert_eq!(
            bookworm.to_string(),
            "GCC 12.2.0 (Debian 12.2.0-14+deb12u1)"
        );
        let bullseye = CCompiler::parse("gcc (Debian 10.2.1-6) 10.2.1");
        assert_eq!(bullseye, Some(gcc("10.2.1", Some("Debian 10.2.1-6"))));
        assert_eq!(bullseye.and_then(|c| c.debian_release()), Some("bullseye"));
        let cc = CCompiler::parse("cc (Debian 8.3.0-6) 8.3.0");
        assert_eq!(cc.and_then(|c| c.debian_release()), Some("buster"));
    }

    #[test]
    fn the_debian_security_suffix_names_the_release_before_the_gcc_major() {
        let compiler = gcc("10.2.1", Some("Debian 10.2.1-6+deb12u1"));
        assert_eq!(compiler.debian_release(), Some("bookworm"));
        assert_eq!(
            gcc("13.2.0", Some("Debian 13.2.0-25")).debian_release(),
            None
        );
        assert_eq!(
            gcc("14.2.0", Some("Debian 14.2.0-19")).debian_release(),
            Some("trixie")
        );
    }

    #[test]
    fn gccs_own_builds_name_no_distribution_unless_one_follows_the_version() {
        let arch = CCompiler::parse("GCC: (GNU) 13.2.1 20230801");
        assert_eq!(arch, Some(gcc("13.2.1", None)));
        assert_eq!(arch.map(|c| c.to_string()).as_deref(), Some("GCC 13.2.1"));
        assert_eq!(
            CCompiler::parse("gcc (GCC) 13.2.1 20231011 (Red Hat 13.2.1-4)"),
            Some(gcc("13.2.1", Some("Red Hat 13.2.1-4")))
        );
        assert_eq!(
            CCompiler::parse("GCC: (GNU) 13.2.1 20231011 (Red Hat 13.2.1-4)"),
            Some(gcc("13.2.1", Some("Red Hat 13.2.1-4")))
        );
    }

    #[test]
    fn ubuntus_gcc_is_no_debian_release() {
        let ubuntu = CCompiler::parse("GCC: (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0");
        assert_eq!(
            ubuntu,
            Some(gcc("11.4.0", Some("Ubuntu 11.4.0-1ubuntu1~22.04")))
        );
        assert_eq!(ubuntu.and_then(|c| c.debian_release()), None);
    }

    #[test]
    fn reads_clang_with_and_without_a_distribution() {
        assert_eq!(
            CCompiler::parse("clang version 16.0.6"),
            Some(clang("16.0.6", None))
        );
        let debian = CCompiler::parse("Debian clang version 14.0.6");
        assert_eq!(debian, Some(clang("14.0.6", Some("Debian"))));
        assert_eq!(debian.and_then(|c| c.debian_release()), Some("bookworm"));
        assert_eq!(
            CCompiler::parse("Ubuntu clang version 14.0.0-1ubuntu1.1"),
            Some(clang("14.0.0", Some("Ubuntu 14.0.0-1ubuntu1.1")))
        );
        assert_eq!(
            CCompiler::parse("clang version 16.0.6 (Fedora 16.0.6-3.fc39)"),
            Some(clang("16.0.6", Some("Fedora 16.0.6-3.fc39")))
        );
        assert_eq!(
            CCompiler::parse(
                "clang version 17.0.1 (https://github.com/llvm/llvm-project.git e19b7dc36bc047b9eb72078d034596be766da350)"
            ),
            Some(clang("17.0.1", None))
        );
    }

    #[test]
    fn other_comment_entries_are_no_c_compilers() {
        for line in [
            "Go cmd/compile go1.19.8",
            "rustc version 1.75.0 (82e1608df 2023-12-21)",
            "Linker: LLD 16.0.6",
            "GCC: (Debian 12.2.0-14) twelve",
            "gcc (Debian 12.2.0-14",
            "GCC:",
            "",
            "clang version",
            "gccgo-bin (Debian) 12",
        ] {
            assert_eq!(CCompiler::parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn reads_the_four_layouts_from_type_and_interpreter() {
        let cases = [
            (
                ET_EXEC,
                None,
                LinkLayout::Static,
                "ELF type EXEC",
                "no PT_INTERP",
            ),
            (
                ET_DYN,
                None,
                LinkLayout::StaticPie,
                "ELF type DYN",
                "no PT_INTERP",
            ),
            (
                ET_EXEC,
                Some(INTERPRETER),
                LinkLayout::Dynamic,
                "ELF type EXEC",
                "PT_INTERP /lib64/ld-linux-x86-64.so.2",
            ),
            (
                ET_DYN,
                Some(INTERPRETER),
                LinkLayout::DynamicPie,
                "ELF type DYN",
                "PT_INTERP /lib64/ld-linux-x86-64.so.2",
            ),
        ];
        for (elf_type, interpreter, layout, elf_type_evidence, interp_evidence) in cases {
            let linking = read(&executable(elf_type, 0x40_1000, interpreter, b""));
            assert_eq!(
                linking,
                Some(Linking {
                    layout,
                    interpreter: interpreter.map(|_| "/lib64/ld-linux-x86-64.so.2".to_string()),
                    linker: Linker::External,
                    evidence: vec![
                        elf_type_evidence.to_string(),
                        interp_evidence.to_string(),
                        "not a Go program".to_string(),
                    ],
                    compilers: Vec::new(),
                    libraries: Vec::new(),
                })
            );
        }
    }

    #[test]
    fn objects_libraries_without_entry_and_other_formats_are_not_executables() {
        assert_eq!(read(&executable(ET_REL, 0x40_1000, None, b"")), None);
        assert_eq!(read(&executable(ET_CORE, 0x40_1000, None, b"")), None);
        assert_eq!(read(&executable(ET_DYN, 0, None, b"")), None);
        assert_eq!(read(b"#!/bin/sh\necho hi\n"), None);
        assert_eq!(read(b""), None);
    }

    #[test]
    fn hostile_headers_give_none_or_a_reading_never_a_panic() {
        let whole = executable(ET_DYN, 0x40_1000, Some(INTERPRETER), b"payload");
        for len in 0..whole.len() {
            let linking = read(&whole[..len]);
            assert!(
                linking.is_none() || linking.is_some_and(|l| l.libraries.is_empty()),
                "{len}"
            );
        }
        let mut absurd_count = whole.clone();
        absurd_count[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
        assert_eq!(read(&absurd_count), None);
        let mut absurd_offset = whole.clone();
        absurd_offset[32..40].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(read(&absurd_offset), None);
        let mut interpreter_beyond_the_file = whole;
        let interp_offset = 64 + 56 + 8;
        interpreter_beyond_the_file[interp_offset..interp_offset + 8]
            .copy_from_slice(&(u64::MAX - 4).to_le_bytes());
        let linking = read(&interpreter_beyond_the_file);
        assert_eq!(linking.and_then(|l| l.interpreter), None);
    }

    #[test]
    fn a_static_glibc_is_named_only_without_a_dynamic_loader() {
        let payload = b"\0Fatal glibc error: rseq registration failed\0";
        let static_linking = read(&executable(ET_DYN, 0x40_1000, None, payload));
        assert_eq!(
            static_linking.map(|l| l.libraries),
            Some(vec![CLibrary {
                name: "glibc".to_string(),
                version: None,
                evidence: "the static glibc's \"Fatal glibc error\" strings".to_string(),
            }])
        );
        let dynamic = read(&executable(ET_DYN, 0x40_1000, Some(INTERPRETER), payload));
        assert_eq!(dynamic.map(|l| l.libraries), Some(Vec::new()));
    }

    #[test]
    fn a_file_without_rodata_shows_its_glibc_version_as_its_one_bare_version() {
        let payload = b"\0GLIBC_TUNABLES\0Fatal glibc error: rseq registration failed\x002.36\0";
        let linking = read(&executable(ET_EXEC, 0x40_1000, None, payload));
        assert_eq!(
            linking.map(|l| l.libraries),
            Some(vec![CLibrary {
                name: "glibc".to_string(),
                version: Some("2.36".to_string()),
                evidence:
                    "the static glibc's \"Fatal glibc error\" strings and \"2.36\" in the file"
                        .to_string(),
            }])
        );
        let two_versions = b"\0GLIBC_TUNABLES\x002.36\x002.37\0";
        let linking = read(&executable(ET_EXEC, 0x40_1000, None, two_versions));
        assert_eq!(
            linking.map(|l| l.libraries),
            Some(vec![CLibrary {
                name: "glibc".to_string(),
                version: None,
                evidence: "the static glibc's \"GLIBC_TUNABLES\" strings".to_string(),
            }])
        );
    }

    #[test]
    fn a_glibc_version_is_the_sole_bare_two_dot_string() {
        assert_eq!(
            sole_string(b"x\x002.36\0abc\x002.36\0", is_glibc_version),
            Some("2.36".to_string())
        );
        assert_eq!(sole_string(b"\x002.36\x002.35\0", is_glibc_version), None);
        assert_eq!(
            sole_string(b"\0v2.36\x002.\x002.x\0", is_glibc_version),
            None
        );
        assert_eq!(
            sole_string(b"\x002.3.4\0", is_glibc_version),
            Some("2.3.4".to_string())
        );
    }

    #[test]
    fn library_banners_name_zlib_openssl_and_sqlite_with_their_versions() {
        let payload = b"\0 deflate 1.2.13 Copyright 1995-2022 Jean-loup Gailly and Mark Adler \0\
            \0 inflate 1.2.13 Copyright 1995-2022 Mark Adler \0\
            \0OpenSSL 3.0.11 19 Sep 2023\0\
            \0SQLite format 3\0\
            \x002022-12-28 14:03:47 df5c253c0b3dd24916e4ec7cf77d3db5294cc9fd45ae7b9c5e82ad8197f38a24\0\
            \x003.40.1\0";
        let linking = read(&executable(ET_DYN, 0x40_1000, Some(INTERPRETER), payload));
        assert_eq!(
            linking.map(|l| l.libraries),
            Some(vec![
                CLibrary {
                    name: "zlib".to_string(),
                    version: Some("1.2.13".to_string()),
                    evidence: "zlib's \"deflate 1.2.13 Copyright\" banner".to_string(),
                },
                CLibrary {
                    name: "OpenSSL".to_string(),
                    version: Some("3.0.11".to_string()),
                    evidence: "OpenSSL's version text \"OpenSSL 3.0.11 …\"".to_string(),
                },
                CLibrary {
                    name: "SQLite".to_string(),
                    version: Some("3.40.1".to_string()),
                    evidence: "SQLite's source ID \"2022-12-28 14:03:47 \
                        df5c253c0b3dd24916e4ec7cf77d3db5294cc9fd45ae7b9c5e82ad8197f38a24\" and \"3.40.1\" in the file"
                        .to_string(),
                },
            ])
        );
    }

    #[test]
    fn banner_look_alikes_name_no_library() {
        let payload = b"\0OpenSSL 3.0.11\0uses OpenSSL 3.0.11 19 Sep 2023 here\0\
            deflate 1.2.13 by us\0\
            \x002022-12-28 14:03:47 df5c253c0b3dd24916e4ec7cf77d3db5294cc9fd45ae7b9c5e82ad8197f38a24\0";
        let linking = read(&executable(ET_EXEC, 0x40_1000, Some(INTERPRETER), payload));
        assert_eq!(linking.map(|l| l.libraries), Some(Vec::new()));
    }
}
