//! Binary diff engine: explains how two executables differ.
//!
//! This is the last stage of the pipeline: once the image side has produced
//! the published binary (A) and the build side the rebuilt one (B),
//! [`diff_files`] compares them section by section ([`sections`]), finds the
//! differing byte ranges ([`ranges`]) and a bounded hex view of them
//! ([`hexdump`]), printable strings present on one side only ([`strings`])
//! and the date stamps among them ([`timestamps`]), functions added,
//! removed or changed ([`functions`], from Go's function table or the
//! symbol table), hardening functions only one side imports
//! ([`hardening`]), the embedded Go build info and Rust metadata key by key
//! ([`metadata`]; each binary's is read by [`crate::binary`]), and turns
//! all of it into short sentences a maintainer can act on ([`explain`]).
//! The result is plain data ([`BinaryDiff`]); rendering lives in
//! `crate::report::diff`.

pub mod causes;
pub mod explain;
pub mod functions;
pub mod hardening;
pub mod hexdump;
pub mod metadata;
pub mod ranges;
mod result;
pub mod sections;
pub mod strings;
pub mod timestamps;

use std::path::{Path, PathBuf};

use crate::binary::layout::{Layout, Region};
use crate::binary::{Binary, FileKind, MappedFile, ReadError};
use crate::image::digest::Digest;

pub use functions::{ChangedFunction, Function, FunctionSource, FunctionsDiff};
pub use hardening::HardeningDiff;
pub use hexdump::{DiffOptions, Hunk, HunkLine};
pub use metadata::KeyDifference;
pub use result::{
    BinaryDiff, BuildIdDiff, Cause, CauseEvidence, CompilerDiff, FileSummary, GoBuildInfoDiff,
    RustDiff,
};
pub use sections::{ByteRange, SectionDiff, SectionStatus};
pub use strings::StringsDiff;
pub use timestamps::TimestampPair;

/// Why two files could not be compared (format problems are not errors:
/// they fall back to a raw byte comparison with a note).
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error(transparent)]
    Read(ReadError),
    #[error("{} is not a regular file; diff compares files", path.display())]
    NotAFile { path: PathBuf },
}

impl From<ReadError> for DiffError {
    fn from(error: ReadError) -> Self {
        match error {
            ReadError::NotAFile { path } => DiffError::NotAFile { path },
            other => DiffError::Read(other),
        }
    }
}

/// One side of a comparison: a file and what it holds, read once.
#[derive(Debug, Clone, Copy)]
pub struct Side<'a> {
    pub path: &'a Path,
    pub binary: &'a Binary,
}

/// Compares file `a` (the published binary) with `b` (the rebuilt one).
///
/// Unparseable or unknown formats are compared as raw bytes with a note;
/// only an unreadable file is an error.
pub fn diff_files(a: &Path, b: &Path, options: &DiffOptions) -> Result<BinaryDiff, DiffError> {
    let file_a = MappedFile::open(a)?;
    let file_b = MappedFile::open(b)?;
    Ok(diff_bytes(
        &a.display().to_string(),
        file_a.bytes(),
        &b.display().to_string(),
        file_b.bytes(),
        options,
    ))
}

/// [`diff_files`] on two files whose metadata was already read (each
/// [`Binary`] must be of its file's current bytes).
pub fn diff_binaries(
    a: Side<'_>,
    b: Side<'_>,
    options: &DiffOptions,
) -> Result<BinaryDiff, DiffError> {
    let file_a = MappedFile::open(a.path)?;
    let file_b = MappedFile::open(b.path)?;
    let (data_a, data_b) = (file_a.bytes(), file_b.bytes());
    Ok(compare(
        Bytes {
            name: &a.path.display().to_string(),
            data: data_a,
            layout: Layout::parse(data_a),
            binary: a.binary,
        },
        Bytes {
            name: &b.path.display().to_string(),
            data: data_b,
            layout: Layout::parse(data_b),
            binary: b.binary,
        },
        options,
    ))
}

/// [`diff_files`] on bytes already in memory; `a_name`/`b_name` label them.
pub fn diff_bytes(
    a_name: &str,
    a: &[u8],
    b_name: &str,
    b: &[u8],
    options: &DiffOptions,
) -> BinaryDiff {
    let (layout_a, layout_b) = (Layout::parse(a), Layout::parse(b));
    let (binary_a, binary_b) = (Binary::of(&layout_a, a), Binary::of(&layout_b, b));
    compare(
        Bytes {
            name: a_name,
            data: a,
            layout: layout_a,
            binary: &binary_a,
        },
        Bytes {
            name: b_name,
            data: b,
            layout: layout_b,
            binary: &binary_b,
        },
        options,
    )
}

/// One side's bytes, their regions (which borrow them) and their metadata.
struct Bytes<'a> {
    name: &'a str,
    data: &'a [u8],
    layout: Layout<'a>,
    binary: &'a Binary,
}

fn compare(side_a: Bytes<'_>, side_b: Bytes<'_>, options: &DiffOptions) -> BinaryDiff {
    let (a, b) = (side_a.data, side_b.data);
    let (layout_a, layout_b) = (&side_a.layout, &side_b.layout);
    let identical = a == b;
    let mut notes = Vec::new();
    for (side, layout) in [("A", &layout_a), ("B", &layout_b)] {
        if let Some(err) = &layout.kind.parse_error {
            notes.push(format!(
                "{side} looks like {} but does not parse ({err}): compared as raw bytes",
                layout.kind.format.name()
            ));
        }
    }
    let raw =
        layout_a.kind.format != layout_b.kind.format || layout_a.is_raw() || layout_b.is_raw();
    let (regions_a, regions_b) = if raw {
        if layout_a.kind.format != layout_b.kind.format {
            notes.push(format!(
                "formats differ ({} vs {}): compared as raw bytes",
                layout_a.kind.format.name(),
                layout_b.kind.format.name()
            ));
        } else if layout_a.kind.parse_error.is_none() && layout_b.kind.parse_error.is_none() {
            notes.push(format!(
                "{} files have no sections: compared as raw bytes",
                layout_a.kind.format.name()
            ));
        }
        (
            vec![Region::whole_file(a.len())],
            vec![Region::whole_file(b.len())],
        )
    } else {
        (layout_a.regions.clone(), layout_b.regions.clone())
    };

    let sections::Compared {
        regions: compared,
        skipped,
        skipped_bytes,
    } = sections::compare_regions(&regions_a, a, &regions_b, b);
    if skipped > 0 {
        notes.push(format!(
            "the files' sections overlap: {skipped} more sections ({skipped_bytes} bytes of \
             section data) were not compared one by one; whether the files are identical \
             is still decided by their digests"
        ));
    }
    let section_diffs: Vec<SectionDiff> = compared.iter().map(|c| c.diff.clone()).collect();

    let mut hunks = Vec::new();
    let mut section_diffs = section_diffs;
    for (pair, section) in compared.iter().zip(section_diffs.iter_mut()) {
        if section.status != SectionStatus::Differs {
            continue;
        }
        let (Some(ra), Some(rb)) = (&pair.a, &pair.b) else {
            continue;
        };
        let data_a = ra.data(a);
        let data_b = rb.data(b);
        let (section_hunks, omitted) =
            hexdump::hunks(&section.name, &data_a, &data_b, &pair.changes, options);
        section.hunks_omitted = omitted;
        hunks.extend(section_hunks);
    }

    let strings = strings::strings_diff(&compared, a, b, options.source_date_epoch);
    notes.extend(strings.incomplete.clone());
    let go_a = side_a.binary.go_build_info().cloned();
    let go_b = side_b.binary.go_build_info().cloned();
    let go_buildinfo = if go_a.is_some() || go_b.is_some() {
        let differences = metadata::compare_go(go_a.as_ref(), go_b.as_ref());
        Some(GoBuildInfoDiff {
            a: go_a,
            b: go_b,
            differences,
        })
    } else {
        None
    };
    let build_id = BuildIdDiff {
        a: side_a.binary.build_ids.clone(),
        b: side_b.binary.build_ids.clone(),
    };
    let compiler = CompilerDiff {
        a: side_a.binary.comments.clone(),
        b: side_b.binary.comments.clone(),
    };
    let rust_a = side_a.binary.rust.clone();
    let rust_b = side_b.binary.rust.clone();
    let rust = if rust_a.is_some() || rust_b.is_some() {
        let differences = metadata::compare_rust(rust_a.as_ref(), rust_b.as_ref());
        Some(RustDiff {
            a: rust_a,
            b: rust_b,
            differences,
        })
    } else {
        None
    };

    let functions = functions::diff(a, b);
    let hardening = HardeningDiff::of(&side_a.binary.imports, &side_b.binary.imports);

    let mut diff = BinaryDiff {
        identical,
        a: summary(side_a.name, a, &side_a.binary.kind),
        b: summary(side_b.name, b, &side_b.binary.kind),
        sections: section_diffs,
        go_buildinfo,
        strings,
        explanations: Vec::new(),
        notes,
        build_id,
        compiler,
        rust,
        functions,
        hardening,
        hunks,
        causes: Vec::new(),
        cause_evidence: Vec::new(),
    };
    let accounting = causes::account(&diff);
    diff.causes = accounting.causes;
    diff.cause_evidence = accounting.evidence;
    diff.explanations = explain::explain(&diff);
    diff
}

fn summary(name: &str, data: &[u8], kind: &FileKind) -> FileSummary {
    FileSummary {
        path: name.to_string(),
        sha256: Digest::of(data),
        size: data.len() as u64,
        format: kind.format,
        machine: kind.machine.clone(),
        interpreter: kind.interpreter.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF whose `.comment` names `rustc` and whose `.data` is `data`.
    fn elf(rustc: &str, data: &[u8]) -> Vec<u8> {
        let mut object = object::write::Object::new(
            object::BinaryFormat::Elf,
            object::Architecture::X86_64,
            object::Endianness::Little,
        );
        let comment = object.add_section(
            Vec::new(),
            b".comment".to_vec(),
            object::SectionKind::OtherString,
        );
        object.append_section_data(comment, format!("{rustc}\0").as_bytes(), 1);
        let section = object.section_id(object::write::StandardSection::Data);
        object.append_section_data(section, data, 1);
        object.write().expect("ELF")
    }

    #[test]
    fn binaries_read_before_compare_as_the_files_themselves() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, elf("rustc version 1.75.0", b"one")).expect("write");
        std::fs::write(&b, elf("rustc version 1.76.0", b"two")).expect("write");
        let (binary_a, binary_b) = (
            Binary::read(&a).expect("read"),
            Binary::read(&b).expect("read"),
        );
        let options = DiffOptions::default();
        let travelled = diff_binaries(
            Side {
                path: &a,
                binary: &binary_a,
            },
            Side {
                path: &b,
                binary: &binary_b,
            },
            &options,
        )
        .expect("diff");
        let read_here = diff_files(&a, &b, &options).expect("diff");
        assert_eq!(
            serde_json::to_value(&travelled).expect("JSON"),
            serde_json::to_value(&read_here).expect("JSON")
        );
        let rust = travelled.rust.expect("Rust metadata");
        assert_eq!(
            rust.differences,
            vec![KeyDifference {
                key: "rustc".into(),
                a: Some("rustc version 1.75.0".into()),
                b: Some("rustc version 1.76.0".into()),
            }]
        );
    }
}
