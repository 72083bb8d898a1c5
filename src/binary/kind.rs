//! What a file is: its container format (ELF, PE, Mach-O, a `#!` script)
//! and the machine it runs on, from its first bytes and header.

use object::{Architecture, Endianness};
use serde::{Deserialize, Serialize};

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

/// The format a file's magic number names.
pub(super) fn magic_format(data: &[u8]) -> Format {
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

/// The program a script's `#!` line names.
pub(super) fn interpreter(data: &[u8]) -> String {
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

/// The machine named by the file header alone, for files too short or
/// damaged to parse whole (e.g. the first bytes of a binary in a layer).
pub(super) fn header_machine(data: &[u8]) -> Option<&'static str> {
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

/// The conventional name of an architecture (`x86_64`, `aarch64`, ...).
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
