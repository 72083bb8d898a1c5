//! What an ELF file imports from shared libraries: its undefined dynamic
//! symbols, each with the symbol version it requires (`__printf_chk`
//! from `GLIBC_2.3.4`).
//!
//! Read from untrusted files: at most [`MAX_IMPORTS`] symbols, names of
//! at most [`MAX_NAME`] bytes; a table that does not parse gives none.

use object::read::elf::{ElfFile, FileHeader, Sym};
use serde::{Deserialize, Serialize};

use super::layout::Layout;

/// Dynamic symbols read per file.
pub const MAX_IMPORTS: usize = 100_000;

/// Bytes of a symbol or version name kept.
pub const MAX_NAME: usize = 4096;

/// One imported symbol.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Import {
    /// The symbol's name (bytes that are not UTF-8 read as U+FFFD).
    pub name: String,
    /// The version it requires (`GLIBC_2.3.4`), when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The imports of a parsed file, sorted; empty for files that are not ELF.
pub fn imports(layout: &Layout<'_>) -> Vec<Import> {
    layout
        .objects
        .iter()
        .find_map(|object| match &object.file {
            object::File::Elf32(file) => Some(of_elf(file)),
            object::File::Elf64(file) => Some(of_elf(file)),
            _ => None,
        })
        .unwrap_or_default()
}

fn of_elf<Elf: FileHeader>(file: &ElfFile<'_, Elf>) -> Vec<Import> {
    let endian = file.endian();
    let symbols = file.elf_dynamic_symbol_table();
    let versions = file
        .elf_section_table()
        .versions(endian, file.data())
        .ok()
        .flatten();
    let mut out: Vec<Import> = symbols
        .enumerate()
        .take(MAX_IMPORTS)
        .filter(|(_, symbol)| symbol.is_undefined(endian))
        .filter_map(|(index, symbol)| {
            let name = symbols.symbol_name(endian, symbol).ok()?;
            if name.is_empty() {
                return None;
            }
            let version = versions.as_ref().and_then(|table| {
                let version = table.version(table.version_index(endian, index).index());
                version.ok().flatten().map(|v| text(v.name()))
            });
            Some(Import {
                name: text(name),
                version,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes.get(..MAX_NAME).unwrap_or(bytes)).into_owned()
}
