//! Binary diff engine: explains how two executables differ.
//!
//! This is the last stage of the pipeline: once the image side has produced
//! the published binary (A) and the build side the rebuilt one (B),
//! [`diff_files`] compares them section by section ([`sections`]), finds the
//! differing byte ranges ([`ranges`]) and a bounded hex view of them
//! ([`hexdump`]), printable strings present on one side only ([`strings`])
//! and the date stamps among them ([`timestamps`]), functions added,
//! removed or changed ([`functions`], from Go's function table
//! [`gopclntab`] or the symbol table), embedded Go build info and build
//! IDs ([`gobuildinfo`]), Rust toolchain and
//! dependency metadata ([`rust`]), and turns all of it into short sentences a
//! maintainer can act on ([`explain`]). The result is plain data
//! ([`BinaryDiff`]); rendering lives in `crate::report::diff`.

pub mod causes;
pub mod explain;
pub mod functions;
pub mod gobuildinfo;
pub mod gopclntab;
pub mod hexdump;
pub mod ranges;
mod result;
pub mod rust;
pub mod sections;
pub mod strings;
pub mod timestamps;

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::image::digest::Digest;
use memmap2::Mmap;

pub use functions::{ChangedFunction, Function, FunctionSource, FunctionsDiff};
pub use gobuildinfo::{BuildIds, GoBuildInfo, GoBuildInfoError, GoModule, KeyDifference};
pub use hexdump::{DiffOptions, Hunk, HunkLine};
pub use result::{
    BinaryDiff, BuildIdDiff, Cause, CauseEvidence, CompilerDiff, FileSummary, GoBuildInfoDiff,
    RustDiff,
};
pub use rust::{RustInfo, RustPackage};
pub use sections::{ByteRange, FileKind, Format, RegionKind, SectionDiff, SectionStatus};
pub use strings::StringsDiff;
pub use timestamps::TimestampPair;

/// Why two files could not be compared (format problems are not errors:
/// they fall back to a raw byte comparison with a note).
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    #[error("cannot open {}: {source}", path.display())]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file; diff compares files", path.display())]
    NotAFile { path: PathBuf },
}

/// A read-only memory map of a whole file (empty files are not mapped).
struct MappedFile {
    map: Option<Mmap>,
}

impl MappedFile {
    fn open(path: &Path) -> Result<Self, DiffError> {
        // Opening a FIFO would wait for a writer, and a device has no end:
        // only regular files are opened, and the opened file is checked too.
        let regular = |meta: std::fs::Metadata| {
            if meta.is_file() {
                Ok(meta)
            } else {
                Err(DiffError::NotAFile {
                    path: path.to_path_buf(),
                })
            }
        };
        let open_error = |source| DiffError::Open {
            path: path.to_path_buf(),
            source,
        };
        regular(std::fs::metadata(path).map_err(open_error)?)?;
        let file = File::open(path).map_err(open_error)?;
        let len = regular(file.metadata().map_err(|source| DiffError::Read {
            path: path.to_path_buf(),
            source,
        })?)?
        .len();
        if len == 0 {
            return Ok(Self { map: None });
        }
        // SAFETY: `Mmap::map` is unsafe because the mapped bytes may change
        // underneath the `&[u8]` we hand out if another process writes to
        // or truncates the file while it is mapped. The file is opened
        // read-only and the mapping is private and read-only, so this process
        // never writes through it and no Rust reference aliases a mutable
        // one. We accept the documented residual risk: if another process
        // truncates the file concurrently, touching a page past the new end
        // raises SIGBUS (the process dies, no memory is corrupted); if it
        // rewrites bytes concurrently, the comparison reads a mix of old and
        // new contents. The files compared are the tool's own extracted or
        // rebuilt artefacts (or paths the user names), which nothing else is
        // expected to modify while the diff runs.
        let map = unsafe { Mmap::map(&file) }.map_err(|source| DiffError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self { map: Some(map) })
    }

    fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// Format and machine of the file at `path` (e.g. to check an image
/// manifest's platform claim against the binary it ships).
pub fn identify(path: &Path) -> Result<FileKind, DiffError> {
    let file = MappedFile::open(path)?;
    Ok(identify_bytes(file.bytes()))
}

/// Format and machine of a file's contents.
pub fn identify_bytes(data: &[u8]) -> FileKind {
    sections::Layout::parse(data).kind
}

/// The Go build info embedded in the file at `path`, if it is a Go binary
/// (used to cross-check a published binary against the tag without a rebuild).
pub fn go_build_info(path: &Path) -> Result<Option<GoBuildInfo>, DiffError> {
    let file = MappedFile::open(path)?;
    let data = file.bytes();
    Ok(GoBuildInfo::find(&sections::Layout::parse(data), data))
}

/// The Rust metadata of the file at `path` (rustc version from `.comment`,
/// the cargo-auditable dependency list), if it looks like a Rust binary.
pub fn rust_info(path: &Path) -> Result<Option<RustInfo>, DiffError> {
    let file = MappedFile::open(path)?;
    let layout = sections::Layout::parse(file.bytes());
    let comments = rust::comment_strings(&layout);
    Ok(RustInfo::find(&layout, &comments))
}

/// Why the Go build info of the file at `path` cannot be read, when the
/// file carries build info that cannot.
pub fn go_build_info_error(path: &Path) -> Result<Option<GoBuildInfoError>, DiffError> {
    let file = MappedFile::open(path)?;
    let data = file.bytes();
    Ok(GoBuildInfo::find_error(
        &sections::Layout::parse(data),
        data,
    ))
}

/// Why the cargo-auditable dependency list (`.dep-v0`) of the file at
/// `path` cannot be read, when the file carries one that cannot.
pub fn rust_dep_info_error(path: &Path) -> Result<Option<rust::DepInfoError>, DiffError> {
    let file = MappedFile::open(path)?;
    Ok(rust::dep_info_error(&sections::Layout::parse(file.bytes())))
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

/// [`diff_files`] on bytes already in memory; `a_name`/`b_name` label them.
pub fn diff_bytes(
    a_name: &str,
    a: &[u8],
    b_name: &str,
    b: &[u8],
    options: &DiffOptions,
) -> BinaryDiff {
    let layout_a = sections::Layout::parse(a);
    let layout_b = sections::Layout::parse(b);
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
            vec![sections::Region::whole_file(a.len())],
            vec![sections::Region::whole_file(b.len())],
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
    let go_a = gobuildinfo::GoBuildInfo::find(&layout_a, a);
    let go_b = gobuildinfo::GoBuildInfo::find(&layout_b, b);
    let go_buildinfo = if go_a.is_some() || go_b.is_some() {
        let differences = gobuildinfo::compare(go_a.as_ref(), go_b.as_ref());
        Some(GoBuildInfoDiff {
            a: go_a,
            b: go_b,
            differences,
        })
    } else {
        None
    };
    let build_id = BuildIdDiff {
        a: BuildIds::find(&layout_a, a),
        b: BuildIds::find(&layout_b, b),
    };
    let compiler = CompilerDiff {
        a: rust::comment_strings(&layout_a),
        b: rust::comment_strings(&layout_b),
    };
    let rust_a = RustInfo::find(&layout_a, &compiler.a);
    let rust_b = RustInfo::find(&layout_b, &compiler.b);
    let rust = if rust_a.is_some() || rust_b.is_some() {
        let differences = rust::compare(rust_a.as_ref(), rust_b.as_ref());
        Some(RustDiff {
            a: rust_a,
            b: rust_b,
            differences,
        })
    } else {
        None
    };

    let functions = functions::diff(a, b);

    let mut diff = BinaryDiff {
        identical,
        a: summary(a_name, a, &layout_a.kind),
        b: summary(b_name, b, &layout_b.kind),
        sections: section_diffs,
        go_buildinfo,
        strings,
        explanations: Vec::new(),
        notes,
        build_id,
        compiler,
        rust,
        functions,
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
