//! Explanations: short sentences a maintainer can act on, derived from the
//! computed diff, most likely cause first.

use super::causes::only_the_build_id_differs;
use super::functions::Function;
use super::hardening::Hardening;
use super::metadata::KeyDifference;
use super::result::{BinaryDiff, Cause, FileSummary};
use super::sections::SectionStatus;
use super::strings::is_debug_section;
use super::timestamps::{duration, input_pattern, Kind, TimestampPair};
use crate::binary::layout::RegionKind;
use crate::binary::Import;

/// Sections named in one sentence before "and N more".
const LIST_LIMIT: usize = 5;

/// The explanations for `diff` (computed from its data, nothing else).
pub fn explain(diff: &BinaryDiff) -> Vec<String> {
    if diff.identical {
        return vec!["the files are identical".to_string()];
    }
    let mut out = Vec::new();
    formats(diff, &mut out);
    go(diff, &mut out);
    toolchain(diff, &mut out);
    hardening(diff, &mut out);
    rust_dependencies(diff, &mut out);
    timestamps(diff, &mut out);
    paths(diff, &mut out);
    debug_sections(diff, &mut out);
    build_id_only(diff, &mut out);
    functions(diff, &mut out);
    size_changes(diff, &mut out);
    strings(diff, &mut out);
    build_id_consequence(diff, &mut out);
    out.extend(sections_summary(diff));
    // A different file format or machine stays the first thing said.
    let same_kind = diff.a.format == diff.b.format && diff.a.machine == diff.b.machine;
    if let (Some(first), true) = (diff.causes.first(), same_kind) {
        lead_with(&mut out, *first, diff);
    }
    out
}

/// Moves the sentences that state `cause` to the front, so the first
/// explanation names the first cause.
fn lead_with(out: &mut Vec<String>, cause: Cause, diff: &BinaryDiff) {
    // The strings sentence of a side with strings no cause accounts for.
    let unexplained = |e: &str| {
        diff.cause_evidence
            .iter()
            .filter(|x| x.cause == Cause::Data)
            .flat_map(|x| &x.examples)
            .any(|s| e.contains(&format!("{s:?}")))
    };
    let states = |e: &str| match cause {
        Cause::Code => {
            e.contains(" only in B (new code)")
                || e.contains(" only in A (removed code)")
                || e.contains(UNEXPLAINED_CODE)
        }
        Cause::Data => e.starts_with("strings only in") && unexplained(e),
        Cause::Timestamp => e.starts_with("date stamps differ"),
        Cause::Paths => e.starts_with("paths under") || e.contains("-trimpath"),
        Cause::Stripped => e.contains("stripped"),
        Cause::Toolchain => e.starts_with("toolchain differs"),
        Cause::BuildSettings => {
            e.starts_with("Go build setting")
                || e.starts_with("built for different machines")
                || e.ends_with("-D_FORTIFY_SOURCE differs")
                || e.ends_with("-fstack-protector differs")
        }
        Cause::LdflagsValues => e.contains("-ldflags"),
        Cause::VcsModified => e.contains("vcs.modified"),
        Cause::VcsRevision => e.contains("vcs.revision") || e.contains("vcs.time"),
        Cause::Dependencies => e.contains("dependency"),
        Cause::BuildIdOnly => e.starts_with("only the build ID differs"),
        Cause::DebugInfo => e.contains("debug"),
        Cause::BuildIdConsequence | Cause::Unknown => false,
    };
    let (mut leading, rest): (Vec<String>, Vec<String>) = out.drain(..).partition(|e| states(e));
    leading.extend(rest);
    *out = leading;
}

/// Functions only one file has: new or removed code, the likeliest cause
/// a reviewer must look at, so the sentence goes first.
fn functions(diff: &BinaryDiff, out: &mut Vec<String>) {
    let Some(f) = &diff.functions else {
        return;
    };
    let names = |list: &[Function], total: usize| {
        let mut text = list
            .iter()
            .take(LIST_LIMIT)
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        if total > LIST_LIMIT {
            text.push_str(&format!(" and {} more", total - LIST_LIMIT));
        }
        text
    };
    let plural = |n: usize| if n == 1 { "function" } else { "functions" };
    let mut sentences = Vec::new();
    if f.only_b_total > 0 {
        sentences.push(format!(
            "{} {} only in B (new code): {}",
            f.only_b_total,
            plural(f.only_b_total),
            names(&f.only_b, f.only_b_total)
        ));
    }
    if f.only_a_total > 0 {
        sentences.push(format!(
            "{} {} only in A (removed code): {}",
            f.only_a_total,
            plural(f.only_a_total),
            names(&f.only_a, f.only_a_total)
        ));
    }
    let changed = f.changed_total + f.same_size_different_total;
    if changed > 0 && diff.causes.contains(&Cause::Code) {
        let listed: Vec<Function> = f
            .changed
            .iter()
            .map(|c| Function {
                name: c.name.clone(),
                size: c.b_size,
            })
            .chain(f.same_size_different.iter().cloned())
            .collect();
        sentences.push(format!(
            "{changed} {} changed {UNEXPLAINED_CODE}: {}",
            plural(changed),
            names(&listed, changed)
        ));
    }
    // A cause that changes code accounts for the functions as a group.
    sentences.extend(diff.cause_evidence.iter().filter_map(|e| e.note.clone()));
    out.extend(sentences);
}

/// Says that changed functions are code no cause accounts for.
const UNEXPLAINED_CODE: &str = "(code no cause accounts for)";

fn formats(diff: &BinaryDiff, out: &mut Vec<String>) {
    let describe = |f: &FileSummary| match &f.interpreter {
        Some(interpreter) => format!("{} ({interpreter})", f.format.name()),
        None => format!("{} ({})", f.format.name(), f.machine),
    };
    if diff.a.format != diff.b.format {
        out.push(format!(
            "file formats differ: A is {}, B is {}",
            describe(&diff.a),
            describe(&diff.b)
        ));
    } else if diff.a.machine != diff.b.machine {
        out.push(format!(
            "built for different machines: {} vs {}",
            diff.a.machine, diff.b.machine
        ));
    }
    for note in &diff.notes {
        if note.contains("does not parse") {
            out.push(note.clone());
        }
    }
}

fn value(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("(unset)")
}

fn go(diff: &BinaryDiff, out: &mut Vec<String>) {
    let Some(go) = &diff.go_buildinfo else {
        return;
    };
    match (&go.a, &go.b) {
        (Some(_), None) => out.push("only A is a Go binary with build info".to_string()),
        (None, Some(_)) => out.push("only B is a Go binary with build info".to_string()),
        _ => {}
    }
    let (Some(_), Some(_)) = (&go.a, &go.b) else {
        return;
    };
    let mut dependencies = Vec::new();
    let mut differences: Vec<&KeyDifference> = go
        .differences
        .iter()
        // Go records empty CGO_*FLAGS only without -trimpath: not a cause.
        .filter(|d| {
            !(d.a.as_deref().unwrap_or("").is_empty() && d.b.as_deref().unwrap_or("").is_empty())
        })
        .collect();
    differences.sort_by_key(|d| setting_rank(&d.key));
    for d in differences {
        if d.key == "go" {
            out.insert(
                0,
                format!("toolchain differs: {} vs {}", value(&d.a), value(&d.b)),
            );
        } else if let Some(setting) = d.key.strip_prefix("build:") {
            out.push(format!(
                "Go build setting {setting}: {} -> {}{}",
                value(&d.a),
                value(&d.b),
                setting_hint(setting, d)
            ));
        } else if let Some(module) = d.key.strip_prefix("dep:") {
            dependencies.push(format!(
                "Go dependency {module}: {} -> {}",
                value(&d.a),
                value(&d.b)
            ));
        } else {
            out.push(format!(
                "Go main {}: {} -> {}",
                if d.key == "mod" {
                    "module"
                } else {
                    "package path"
                },
                value(&d.a),
                value(&d.b)
            ));
        }
    }
    push_limited(out, dependencies, "dependency differences");
}

/// Most telling build settings first (stable sort keeps the rest in order).
fn setting_rank(key: &str) -> usize {
    const ORDER: [&str; 8] = [
        "go",
        "build:vcs.modified",
        "build:-trimpath",
        "build:-ldflags",
        "build:vcs.revision",
        "build:CGO_ENABLED",
        "build:GOARCH",
        "build:GOAMD64",
    ];
    ORDER.iter().position(|k| *k == key).unwrap_or(ORDER.len())
}

fn setting_hint(setting: &str, d: &KeyDifference) -> String {
    let is_true = |v: &Option<String>| v.as_deref() == Some("true");
    let hint = match setting {
        "vcs.modified" if is_true(&d.b) => "B was built from a modified source tree",
        "vcs.modified" if is_true(&d.a) => "A was built from a modified source tree",
        "vcs.revision" => "built from different commits",
        "vcs.time" => "the commits have different times",
        "vcs" => "version control information recorded in one build only",
        "-trimpath" => "one build embeds absolute source paths",
        "-ldflags" => "different linker flags, e.g. -X version stamps or -s -w",
        "CGO_ENABLED" => "cgo in one build only: C code and libc linkage differ",
        "GOOS" | "GOARCH" | "GOAMD64" | "GOARM" | "GOARM64" | "GO386" | "GOMIPS" | "GOPPC64"
        | "GORISCV64" => "different target platform or instruction-set level",
        "-buildmode" | "-tags" | "-gcflags" | "-asmflags" | "-compiler" => {
            "different go build flags"
        }
        "CGO_CFLAGS" | "CGO_CPPFLAGS" | "CGO_CXXFLAGS" | "CGO_LDFLAGS" => "different cgo flags",
        _ => return String::new(),
    };
    format!(" ({hint})")
}

fn toolchain(diff: &BinaryDiff, out: &mut Vec<String>) {
    let (a, b) = (&diff.compiler.a, &diff.compiler.b);
    if a == b || (a.is_empty() && b.is_empty()) {
        return;
    }
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|s| !y.contains(s)).cloned().collect()
    };
    let (only_a, only_b) = (only(a, b), only(b, a));
    if only_a.is_empty() && only_b.is_empty() {
        return;
    }
    let show = |v: &[String]| {
        if v.is_empty() {
            "(none)".to_string()
        } else {
            v.join("; ")
        }
    };
    // Objects built by another compiler release (libc's start files) keep
    // theirs beside the new one.
    let both: Vec<String> = a.iter().filter(|s| b.contains(s)).cloned().collect();
    let line = match (only_a.is_empty(), only_b.is_empty(), both.is_empty()) {
        (true, false, false) => format!(
            "toolchain differs: B also names {} (both name {})",
            show(&only_b),
            show(&both)
        ),
        (false, true, false) => format!(
            "toolchain differs: A also names {} (both name {})",
            show(&only_a),
            show(&both)
        ),
        _ => format!("toolchain differs: {} vs {}", show(&only_a), show(&only_b)),
    };
    out.push(line);
}

fn rust_dependencies(diff: &BinaryDiff, out: &mut Vec<String>) {
    let Some(rust) = &diff.rust else {
        return;
    };
    let lines = rust
        .differences
        .iter()
        .filter_map(|d| {
            let name = d.key.strip_prefix("dep:")?;
            Some(format!(
                "Rust dependency {name}: {} -> {}",
                value(&d.a),
                value(&d.b)
            ))
        })
        .collect();
    push_limited(out, lines, "Rust dependency differences");
}

fn push_limited(out: &mut Vec<String>, lines: Vec<String>, what: &str) {
    let extra = lines.len().saturating_sub(LIST_LIMIT);
    out.extend(lines.into_iter().take(LIST_LIMIT));
    if extra > 0 {
        out.push(format!("... and {extra} more {what}"));
    }
}

fn paths(diff: &BinaryDiff, out: &mut Vec<String>) {
    let (a, b) = (
        &diff.strings.path_prefixes_only_a,
        &diff.strings.path_prefixes_only_b,
    );
    let cause = "built without -trimpath (Go) or -ffile-prefix-map (C/Rust)";
    match (a.is_empty(), b.is_empty()) {
        (false, true) => out.push(format!(
            "paths under {} embedded only in A: {cause}",
            a.join(", ")
        )),
        (true, false) => out.push(format!(
            "paths under {} embedded only in B: {cause}",
            b.join(", ")
        )),
        (false, false) => out.push(format!(
            "paths under {} embedded only in A and under {} only in B: \
             built in different directories ({cause})",
            a.join(", "),
            b.join(", ")
        )),
        (true, true) => {}
    }
}

/// One sentence on the first pair of date stamps: which side's equals the
/// rebuild's `SOURCE_DATE_EPOCH`, how far apart they are, and how to feed
/// the published one into the rebuild.
fn timestamps(diff: &BinaryDiff, out: &mut Vec<String>) {
    let Some(pair) = diff.strings.timestamps.first() else {
        return;
    };
    let TimestampPair {
        kind,
        a,
        b,
        a_unix,
        b_unix,
        ..
    } = pair;
    let (Some(a), Some(b)) = (a, b) else {
        let (side, stamp) = match (a, b) {
            (Some(a), _) => ("A", a),
            (_, Some(b)) => ("B", b),
            _ => return,
        };
        out.push(format!("only {side} embeds a date stamp: {stamp}"));
        return;
    };
    let apart = match (a_unix, b_unix) {
        (Some(x), Some(y)) if x != y => Some(format!(
            "{} {}",
            duration(x.abs_diff(*y)),
            if x > y { "later" } else { "earlier" }
        )),
        _ => None,
    };
    let mut input = format!(
        "[inputs.build_date] from_binary = '{}'",
        input_pattern(*kind, a)
    );
    if *kind != Kind::Date {
        input.push_str(" and source_date_epoch = \"{input:build_date}\"");
    }
    let advice =
        format!("supply it as a release input: {input} (recipes/README.md#release-inputs)");
    let line = if pair.b_is_source_date_epoch {
        format!(
            "date stamps differ: B's {b} equals SOURCE_DATE_EPOCH (the commit time); A's {a} is {}: \
             the release build stamped its build time; {advice}",
            apart.unwrap_or_else(|| "another time".to_string())
        )
    } else if pair.a_is_source_date_epoch {
        format!(
            "date stamps differ: A's {a} equals the rebuild's SOURCE_DATE_EPOCH; B's {b} does not: \
             the rebuild stamped another time (its build time?)"
        )
    } else {
        let apart = apart.map(|d| format!(" (A's is {d})")).unwrap_or_default();
        format!(
            "date stamps differ: A has {a}, B has {b}{apart}: a build time is embedded; \
             if it is the release build's, {advice}"
        )
    };
    out.push(line);
}

fn debug_sections(diff: &BinaryDiff, out: &mut Vec<String>) {
    let debug_only = |status| -> Vec<&str> {
        diff.sections
            .iter()
            .filter(|s| s.status == status && is_debug_section(&s.name))
            .map(|s| s.name.as_str())
            .collect()
    };
    let (only_a, only_b) = (
        debug_only(SectionStatus::OnlyA),
        debug_only(SectionStatus::OnlyB),
    );
    let list = |names: &[&str]| {
        let mut text = names
            .iter()
            .take(LIST_LIMIT)
            .copied()
            .collect::<Vec<_>>()
            .join(", ");
        if names.len() > LIST_LIMIT {
            text.push_str(", ...");
        }
        text
    };
    if !only_b.is_empty() && only_a.is_empty() {
        out.push(format!(
            "only B has debug sections ({}): A is stripped",
            list(&only_b)
        ));
    } else if !only_a.is_empty() && only_b.is_empty() {
        out.push(format!(
            "only A has debug sections ({}): B is stripped",
            list(&only_a)
        ));
    }
}

fn build_id_only(diff: &BinaryDiff, out: &mut Vec<String>) {
    if !only_the_build_id_differs(diff) {
        return;
    }
    let ids = |a: &Option<String>, b: &Option<String>| format!("{} vs {}", value(a), value(b));
    let detail = if diff.build_id.a.gnu != diff.build_id.b.gnu {
        format!(
            "GNU build-id {}",
            ids(&diff.build_id.a.gnu, &diff.build_id.b.gnu)
        )
    } else {
        format!(
            "Go build ID {}",
            ids(&diff.build_id.a.go, &diff.build_id.b.go)
        )
    };
    let debug_link = diff
        .sections
        .iter()
        .any(|s| s.name == ".gnu_debuglink" && s.status == SectionStatus::Differs);
    let line = if debug_link {
        format!(
            "only the build ID differs ({detail}), and the .gnu_debuglink name and CRC \
             derived from it (the separate debug file is named after the build ID, and its \
             CRC differs as that file does): code and data are identical"
        )
    } else {
        format!(
            "only the build ID differs ({detail}): code and data are identical; \
             the build ID was set explicitly or derived from other inputs"
        )
    };
    out.insert(0, line);
}

/// Hardening functions one side imports and the other does not: the
/// compiler option that adds them differs.
fn hardening(diff: &BinaryDiff, out: &mut Vec<String>) {
    let Some(h) = &diff.hardening else {
        return;
    };
    for kind in [Hardening::Fortify, Hardening::StackProtector] {
        let names = |imports: &[Import]| -> Vec<String> {
            imports
                .iter()
                .filter(|i| Hardening::of(&i.name) == Some(kind))
                .map(|i| i.name.clone())
                .collect()
        };
        let (a, b) = (names(&h.only_a), names(&h.only_b));
        let sides = match (a.is_empty(), b.is_empty()) {
            (true, true) => continue,
            (false, true) => format!("A calls {}; B does not", list(&a)),
            (true, false) => format!("B calls {}; A does not", list(&b)),
            (false, false) => format!("only A calls {}; only B calls {}", list(&a), list(&b)),
        };
        out.push(format!("{sides}: {} differs", kind.option()));
    }
}

/// Up to [`LIST_LIMIT`] names, then how many more.
fn list(names: &[String]) -> String {
    let mut text = names
        .iter()
        .take(LIST_LIMIT)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > LIST_LIMIT {
        text.push_str(&format!(" and {} more", names.len() - LIST_LIMIT));
    }
    text
}

/// The build ID differs along with other bytes: it is derived from the
/// build's inputs and outputs, so it follows from those differences.
fn build_id_consequence(diff: &BinaryDiff, out: &mut Vec<String>) {
    if !diff.causes.contains(&Cause::BuildIdConsequence) {
        return;
    }
    let (a, b) = (&diff.build_id.a, &diff.build_id.b);
    let which = if a.go != b.go {
        format!("Go build ID {} vs {}", value(&a.go), value(&b.go))
    } else if a.gnu != b.gnu {
        format!("GNU build-id {} vs {}", value(&a.gnu), value(&b.gnu))
    } else {
        format!(
            "Mach-O UUID {} vs {}",
            value(&a.macho_uuid),
            value(&b.macho_uuid)
        )
    };
    out.push(format!(
        "the build ID differs ({which}): it follows from the other differences"
    ));
}

/// The first section (in file order) that changed size: it shifts
/// everything after it, which explains many of the later differences.
fn size_changes(diff: &BinaryDiff, out: &mut Vec<String>) {
    let mut changed = diff.sections.iter().filter(|s| {
        s.kind == RegionKind::Section
            && s.status == SectionStatus::Differs
            && s.a_size.is_some()
            && s.a_size != s.b_size
    });
    let Some(first) = changed.next() else {
        return;
    };
    let (a, b) = (first.a_size.unwrap_or(0), first.b_size.unwrap_or(0));
    let others = changed.count();
    let mut line = format!(
        "section {} changed size: {a} -> {b} bytes ({:+}): everything after it \
         shifts, so later offsets and addresses differ too",
        first.name,
        i128::from(b) - i128::from(a)
    );
    if others > 0 {
        line.push_str(&format!(" ({others} more sections changed size)"));
    }
    out.push(line);
}

fn strings(diff: &BinaryDiff, out: &mut Vec<String>) {
    for (side, listed, total) in [
        ("A", &diff.strings.only_a, diff.strings.only_a_total),
        ("B", &diff.strings.only_b, diff.strings.only_b_total),
    ] {
        if listed.is_empty() {
            continue;
        }
        // Strings no cause accounts for are shown first.
        let unexplained = |s: &&String| {
            diff.cause_evidence
                .iter()
                .any(|e| e.cause == Cause::Data && e.examples.contains(s))
        };
        let (first, rest): (Vec<&String>, Vec<&String>) = listed.iter().partition(unexplained);
        let shown: Vec<String> = first
            .into_iter()
            .chain(rest)
            .take(3)
            .map(|s| format!("{s:?}"))
            .collect();
        let more = total.saturating_sub(shown.len());
        let mut line = format!("strings only in {side}: {}", shown.join(", "));
        if more > 0 {
            line.push_str(&format!(" (and {more} more)"));
        }
        out.push(line);
    }
}

/// The last explanation, `N of M sections differ: .text (12 bytes), ...`,
/// when any section differs (a report that lists the sections itself can
/// leave this one out).
pub fn sections_summary(diff: &BinaryDiff) -> Option<String> {
    let differing: Vec<String> = diff
        .sections
        .iter()
        .filter(|s| s.status == SectionStatus::Differs)
        .map(|s| {
            let unit = if s.differing_bytes == 1 {
                "byte"
            } else {
                "bytes"
            };
            format!("{} ({} {unit})", s.name, s.differing_bytes)
        })
        .collect();
    if differing.is_empty() {
        return None;
    }
    let mut line = format!(
        "{} of {} sections {}: {}",
        differing.len(),
        diff.sections.len(),
        if differing.len() == 1 {
            "differs"
        } else {
            "differ"
        },
        differing
            .iter()
            .take(LIST_LIMIT)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    if differing.len() > LIST_LIMIT {
        line.push_str(", ...");
    }
    Some(line)
}
