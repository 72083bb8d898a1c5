//! Cause codes: the machine-readable reasons a mismatch has, most likely
//! first, derived from the computed diff alone (JSON `causes` of `diff`
//! and of each mismatching platform in `verify`).
//!
//! Benign causes (a toolchain, a build setting, an embedded path, a
//! timestamp, stripping) come from what the files record about their
//! builds. What none of them accounts for is `code` (functions added,
//! removed or changed) or `data` (strings only one side has): a planted
//! function or string with no benign cause ranks those first.

use super::result::{BinaryDiff, Cause};
use super::sections::SectionStatus;
use super::strings::is_debug_section;

/// Whether the cause could put other strings into the binary.
fn changes_strings(cause: Cause) -> bool {
    changes_code(cause)
        || matches!(
            cause,
            Cause::VcsRevision
                | Cause::LdflagsValues
                | Cause::Paths
                | Cause::Stripped
                | Cause::DebugInfo
        )
}

/// Whether the cause could add, remove or change functions.
fn changes_code(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::Toolchain | Cause::VcsModified | Cause::Dependencies | Cause::BuildSettings
    )
}

/// The build-ID sections (GNU note, Go note).
pub fn is_build_id_section(name: &str) -> bool {
    name.ends_with(".note.gnu.build-id") || name.ends_with(".note.go.buildid")
}

/// The causes of the differences in `diff`, most likely first; empty when
/// the files are identical.
pub fn causes(diff: &BinaryDiff) -> Vec<Cause> {
    if diff.identical {
        return Vec::new();
    }
    let differing: Vec<&str> = diff
        .sections
        .iter()
        .filter(|s| s.status != SectionStatus::Same)
        .map(|s| s.name.as_str())
        .collect();
    if !differing.is_empty() && differing.iter().all(|name| is_build_id_section(name)) {
        return vec![Cause::BuildIdOnly];
    }

    let mut benign = recorded(diff);
    if !diff.strings.path_prefixes_only_a.is_empty()
        || !diff.strings.path_prefixes_only_b.is_empty()
    {
        benign.push(Cause::Paths);
    }
    if !diff.strings.timestamps.is_empty() {
        benign.push(Cause::Timestamp);
    }
    let one_sided = |status| {
        diff.sections
            .iter()
            .any(|s| s.status == status && s.name == ".symtab")
    };
    if one_sided(SectionStatus::OnlyA) != one_sided(SectionStatus::OnlyB) {
        benign.push(Cause::Stripped);
    }
    // Debug information is a cause when one side has none, or when it is
    // all that differs; otherwise it only follows the code it describes.
    let debug_one_sided = diff.sections.iter().any(|s| {
        matches!(s.status, SectionStatus::OnlyA | SectionStatus::OnlyB) && is_debug_section(&s.name)
    });
    let only_debug = differing
        .iter()
        .all(|name| is_debug_section(name) || is_build_id_section(name));
    if debug_one_sided || (only_debug && !differing.is_empty()) {
        benign.push(Cause::DebugInfo);
    }
    benign.sort();
    benign.dedup();

    let mut causes = Vec::new();
    let functions_differ = diff
        .functions
        .as_ref()
        .is_some_and(|f| !f.only_a.is_empty() || !f.only_b.is_empty());
    let code_explained = benign.iter().any(|c| changes_code(*c));
    if functions_differ && !code_explained {
        causes.push(Cause::Code);
    }
    let strings_explained = benign.iter().any(|c| changes_strings(*c));
    if unexplained_strings(diff) && !strings_explained {
        causes.push(Cause::Data);
    }
    causes.extend(benign.iter().copied());
    if causes.is_empty() {
        let code_sections = diff.sections.iter().any(|s| {
            s.status == SectionStatus::Differs && (s.name == ".text" || s.name == "__text")
        });
        causes.push(if code_sections {
            Cause::Code
        } else if differing.iter().any(|name| !is_build_id_section(name)) {
            Cause::Data
        } else {
            Cause::Unknown
        });
    }
    let ids = (&diff.build_id.a, &diff.build_id.b);
    if ids.0.gnu != ids.1.gnu || ids.0.go != ids.1.go || ids.0.macho_uuid != ids.1.macho_uuid {
        causes.push(Cause::BuildIdConsequence);
    }
    causes
}

/// Causes the files' own build records name: Go build info, `.comment`
/// compiler strings, Rust metadata.
fn recorded(diff: &BinaryDiff) -> Vec<Cause> {
    let mut found = Vec::new();
    if let Some(go) = &diff.go_buildinfo {
        for d in &go.differences {
            let empty = |v: &Option<String>| v.as_deref().unwrap_or("").is_empty();
            if empty(&d.a) && empty(&d.b) {
                continue;
            }
            found.push(match d.key.as_str() {
                "go" => Cause::Toolchain,
                "build:vcs.modified" => Cause::VcsModified,
                "build:vcs.revision" | "build:vcs.time" => Cause::VcsRevision,
                "build:-ldflags" => Cause::LdflagsValues,
                "build:-trimpath" => Cause::Paths,
                key if key.starts_with("dep:") => Cause::Dependencies,
                _ => Cause::BuildSettings,
            });
        }
    }
    let (a, b) = (&diff.compiler.a, &diff.compiler.b);
    if a != b && !(a.is_empty() || b.is_empty()) {
        found.push(Cause::Toolchain);
    }
    if let Some(rust) = &diff.rust {
        for d in &rust.differences {
            found.push(if d.key.starts_with("dep:") {
                Cause::Dependencies
            } else {
                Cause::Toolchain
            });
        }
    }
    found
}

/// Whether one side has strings that are neither paths nor timestamps.
fn unexplained_strings(diff: &BinaryDiff) -> bool {
    let strings = &diff.strings;
    let explained = |s: &String| {
        let stamp = strings.timestamps.iter().any(|t| {
            [&t.a, &t.b]
                .into_iter()
                .flatten()
                .any(|stamp| s.contains(stamp.as_str()))
        });
        let path = strings
            .path_prefixes_only_a
            .iter()
            .chain(&strings.path_prefixes_only_b)
            .any(|prefix| s.contains(prefix.as_str()));
        stamp || path
    };
    strings
        .only_a
        .iter()
        .chain(&strings.only_b)
        .any(|s| !explained(s))
}
