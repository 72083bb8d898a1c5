//! Reading one executable: what it is (ELF, PE, Mach-O or a `#!` script,
//! and the machine it runs on: [`kind`]), the regions it is made of
//! ([`layout`]), and what its toolchain embedded in it: Go build info and
//! build IDs ([`gobuildinfo`]) with the separate debug file named after
//! them ([`debuglink`]), Go's function table ([`gopclntab`]), the
//! compiler strings and Rust's cargo-auditable dependency list ([`rust`]),
//! and the symbols it imports from shared libraries ([`imports`]).
//!
//! The lowest stage: the image side reads the binary an image ships with
//! it, the rebuild reads release inputs from it, and the diff compares two.
//! A binary's metadata is read once, into a [`Binary`], and that value is
//! handed on rather than parsed again.

pub mod debuglink;
pub mod gobuildinfo;
pub mod gopclntab;
pub mod imports;
pub mod kind;
pub mod layout;
pub mod linking;
pub mod mapped;
pub mod rust;

use std::path::Path;

pub use debuglink::DebugLink;
pub use gobuildinfo::{BuildIds, GoBuildInfo, GoBuildInfoError, GoModule};
pub use imports::Import;
pub use kind::{FileKind, Format};
pub use layout::Layout;
pub use mapped::{MappedFile, ReadError};
pub use rust::{DepInfoError, RustInfo, RustPackage};

/// One executable read once: what it is and the metadata its toolchain
/// embedded in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Binary {
    pub kind: FileKind,
    /// The Go build info, or why it cannot be read; `None` when the file
    /// has none.
    pub go: Option<Result<GoBuildInfo, GoBuildInfoError>>,
    pub build_ids: BuildIds,
    /// The distinct strings of the `.comment` section (compilers).
    pub comments: Vec<String>,
    /// The symbols it imports from shared libraries (ELF), sorted.
    pub imports: Vec<Import>,
    /// Rust metadata, when the file shows signs of being a Rust binary.
    pub rust: Option<RustInfo>,
    /// Why the cargo-auditable dependency list cannot be read, when the
    /// file has one that cannot.
    pub rust_dependencies_error: Option<DepInfoError>,
}

impl Binary {
    /// Reads the regular file at `path`.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        let file = MappedFile::open(path)?;
        Ok(Self::parse(file.bytes()))
    }

    /// Reads a file's contents; never fails: what cannot be parsed is
    /// absent, or recorded as why not.
    pub fn parse(data: &[u8]) -> Self {
        Self::of(&Layout::parse(data), data)
    }

    /// Reads a file whose layout is already parsed from `data`.
    pub fn of(layout: &Layout<'_>, data: &[u8]) -> Self {
        let comments = rust::comment_strings(layout);
        let (packages, rust_dependencies_error) = match rust::dependencies(layout) {
            Some(Ok(packages)) => (Some(packages), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        Self {
            kind: layout.kind.clone(),
            go: GoBuildInfo::locate(layout, data),
            build_ids: BuildIds::find(layout, data),
            rust: RustInfo::new(&comments, packages, data),
            comments,
            imports: imports::imports(layout),
            rust_dependencies_error,
        }
    }

    /// The Go build info, when the file has one that can be read.
    pub fn go_build_info(&self) -> Option<&GoBuildInfo> {
        self.go.as_ref()?.as_ref().ok()
    }

    /// Why the Go build info cannot be read, when the file has one that
    /// cannot.
    pub fn go_build_info_error(&self) -> Option<&GoBuildInfoError> {
        self.go.as_ref()?.as_ref().err()
    }
}

/// Format and machine of a file's contents (or of its first bytes).
pub fn identify(data: &[u8]) -> FileKind {
    Layout::parse(data).kind
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreadable_dependency_list_is_an_error_not_an_absent_list() {
        let mut elf = object::write::Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let section = elf.add_section(
            Vec::new(),
            b".dep-v0".to_vec(),
            object::SectionKind::ReadOnlyData,
        );
        elf.append_section_data(section, b"not zlib at all", 1);
        let bytes = elf.write().expect("ELF");
        let binary = Binary::parse(&bytes);
        assert!(
            matches!(binary.rust_dependencies_error, Some(DepInfoError::Zlib(_))),
            "{:?}",
            binary.rust_dependencies_error
        );
        assert_eq!(binary.rust, None);
    }
}
