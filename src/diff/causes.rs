//! Cause codes: the machine-readable reasons a mismatch has, most likely
//! first, and what each of them accounts for, derived from the computed
//! diff alone (JSON `causes` and `cause_evidence` of `diff` and of each
//! mismatching platform in `verify`).
//!
//! A cause accounts for a string only one side has when it produces that
//! very string: a source file under a build directory only that side
//! names (`paths`), the `-X` value or recorded build setting that differs
//! (`ldflags-values`, `build-settings`, ...), a date stamp (`timestamp`),
//! a compiler version (`toolchain`), the name of a section only that side
//! has (`stripped`, `debug-info`), a hardening function only that side
//! imports, the function it stands in for, or its symbol version
//! (`build-settings`). Functions added, removed or changed are
//! accounted for only by a cause that changes code (toolchain, build
//! settings, dependencies, a modified tree), as a group that was then not
//! compared function by function. What no cause accounts for is `data`
//! (strings) or `code` (functions), ranked first: a benign difference next
//! to a planted string or function never hides it.

use std::collections::{BTreeMap, HashSet};

use super::functions::FunctionsDiff;
use super::result::{BinaryDiff, BuildIdDiff, Cause, CauseEvidence};
use super::sections::SectionStatus;
use super::strings::{is_debug_section, is_relative_source_path, shorten, source_path, MIN_LEN};

/// Examples listed per cause.
pub const EXAMPLES: usize = 10;

/// Value needles shorter than this are not matched on their own (a `1`
/// would match inside any string); `name=value` forms always are.
const MIN_VALUE_NEEDLE: usize = 4;

/// Whether the cause adds, removes or changes functions.
fn changes_code(cause: Cause) -> bool {
    changed_code(cause).is_some()
}

/// What changed, for a cause that changes code.
fn changed_code(cause: Cause) -> Option<&'static str> {
    match cause {
        Cause::Toolchain => Some("the toolchain differs"),
        Cause::VcsModified => Some("a side was built from a modified tree"),
        Cause::Dependencies => Some("dependencies differ"),
        Cause::BuildSettings => Some("build settings differ"),
        _ => None,
    }
}

/// The build-ID sections (GNU note, Go note).
pub fn is_build_id_section(name: &str) -> bool {
    name.ends_with(".note.gnu.build-id") || name.ends_with(".note.go.buildid")
}

/// Whether every difference is the build ID's: the build-ID notes, and a
/// `.gnu_debuglink` present on both sides whose name on each side is the
/// one derived from that side's own GNU build ID (its CRC is that of the
/// separate debug file, which holds the build ID too).
pub fn only_the_build_id_differs(diff: &BinaryDiff) -> bool {
    let mut differing = diff
        .sections
        .iter()
        .filter(|s| s.status != SectionStatus::Same)
        .peekable();
    differing.peek().is_some()
        && differing.all(|s| {
            is_build_id_section(&s.name)
                || (s.name == ".gnu_debuglink"
                    && s.status == SectionStatus::Differs
                    && debug_links_are_derived(&diff.build_id))
        })
}

/// Whether each side's `.gnu_debuglink` names the debug file after that
/// side's own GNU build ID.
fn debug_links_are_derived(ids: &BuildIdDiff) -> bool {
    [&ids.a, &ids.b]
        .iter()
        .all(|side| match (&side.gnu_debuglink, &side.gnu) {
            (Some(link), Some(build_id)) => link.is_derived_from(build_id),
            _ => false,
        })
}

/// The causes of a diff, most likely first, and what each accounts for
/// (in the same order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounting {
    pub causes: Vec<Cause>,
    pub evidence: Vec<CauseEvidence>,
}

/// Which file a one-sided string comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    A,
    B,
}

/// Text a cause writes into one side's file: a one-sided string made of
/// such text (less fewer than [`MIN_LEN`] letters and digits of framing,
/// such as `build\t`) is accounted for by the cause.
#[derive(Debug, Clone)]
struct Needle {
    cause: Cause,
    side: Side,
    text: String,
}

/// What one cause accounts for so far.
#[derive(Debug, Default)]
struct Tally {
    strings: Vec<String>,
    functions: usize,
}

/// The causes of the differences in `diff`, most likely first, each with
/// the strings and functions it accounts for; empty when the files are
/// identical.
pub fn account(diff: &BinaryDiff) -> Accounting {
    if diff.identical {
        return Accounting::default();
    }
    if only_the_build_id_differs(diff) {
        return finish(vec![Cause::BuildIdOnly], BTreeMap::new(), diff);
    }
    let differing: Vec<&str> = diff
        .sections
        .iter()
        .filter(|s| s.status != SectionStatus::Same)
        .map(|s| s.name.as_str())
        .collect();

    let context = Context::new(diff, present(diff, &differing));
    let mut tally: BTreeMap<Cause, Tally> = BTreeMap::new();
    for (side, strings) in [
        (Side::A, &diff.strings.every_only_a),
        (Side::B, &diff.strings.every_only_b),
    ] {
        for s in strings {
            let cause = context.string_cause(side, s).unwrap_or(Cause::Data);
            tally.entry(cause).or_default().strings.push(s.clone());
        }
    }
    let (present, code_cause) = (context.present, context.code_cause);
    let functions = diff.functions.as_ref().map_or(0, changed_functions);
    if functions > 0 {
        tally
            .entry(code_cause.unwrap_or(Cause::Code))
            .or_default()
            .functions += functions;
    }

    // New or removed code leads; a function that only changed is more
    // likely the code using a planted string, which then leads.
    let new_code = code_cause.is_none()
        && diff
            .functions
            .as_ref()
            .is_some_and(|f| f.only_a_total + f.only_b_total > 0);
    let unexplained = if new_code {
        [Cause::Code, Cause::Data]
    } else {
        [Cause::Data, Cause::Code]
    };
    let mut causes = Vec::new();
    for unexplained in unexplained {
        if tally.contains_key(&unexplained) {
            causes.push(unexplained);
        }
    }
    causes.extend(present.iter().copied());
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
    finish(causes, tally, diff)
}

/// The evidence of each cause, in the order of `causes`.
fn finish(causes: Vec<Cause>, mut tally: BTreeMap<Cause, Tally>, diff: &BinaryDiff) -> Accounting {
    let evidence = causes
        .iter()
        .map(|cause| {
            let Tally { strings, functions } = tally.remove(cause).unwrap_or_default();
            let mut examples: Vec<String> =
                strings.iter().take(EXAMPLES).map(|s| shorten(s)).collect();
            if functions > 0 {
                if let Some(f) = &diff.functions {
                    let room = EXAMPLES.saturating_sub(examples.len());
                    examples.extend(function_names(f).take(room).map(str::to_string));
                }
            }
            let note = (functions > 0)
                .then(|| changed_code(*cause))
                .flatten()
                .map(|why| {
                    format!(
                        "{functions} {} added, removed or changed: not compared one by one, \
                         as {why}, which changes code",
                        if functions == 1 {
                            "function"
                        } else {
                            "functions"
                        },
                    )
                });
            CauseEvidence {
                cause: *cause,
                strings: strings.len(),
                functions,
                examples,
                note,
            }
        })
        .collect();
    Accounting { causes, evidence }
}

/// Functions added, removed or changed (bytes, not only addresses).
fn changed_functions(f: &FunctionsDiff) -> usize {
    f.only_a_total + f.only_b_total + f.changed_total + f.same_size_different_total
}

/// The names of the functions listed as added, removed or changed.
fn function_names(f: &FunctionsDiff) -> impl Iterator<Item = &str> {
    f.only_b
        .iter()
        .chain(&f.only_a)
        .map(|x| x.name.as_str())
        .chain(f.changed.iter().map(|x| x.name.as_str()))
        .chain(f.same_size_different.iter().map(|x| x.name.as_str()))
}

/// The benign causes present in `diff` (sorted): what the files record
/// about their builds, hardening, build directories, date stamps,
/// stripping.
fn present(diff: &BinaryDiff, differing: &[&str]) -> Vec<Cause> {
    let mut found: Vec<Cause> = recorded(diff).into_iter().map(|(c, _, _)| c).collect();
    if diff.a.machine != diff.b.machine || diff.hardening.is_some() {
        found.push(Cause::BuildSettings);
    }
    if !diff.strings.path_prefixes_only_a.is_empty()
        || !diff.strings.path_prefixes_only_b.is_empty()
    {
        found.push(Cause::Paths);
    }
    if !diff.strings.timestamps.is_empty() {
        found.push(Cause::Timestamp);
    }
    let one_sided = |status| {
        diff.sections
            .iter()
            .any(|s| s.status == status && s.name == ".symtab")
    };
    if one_sided(SectionStatus::OnlyA) != one_sided(SectionStatus::OnlyB) {
        found.push(Cause::Stripped);
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
        found.push(Cause::DebugInfo);
    }
    found.sort();
    found.dedup();
    found
}

/// The cause a build info key's difference is.
fn key_cause(key: &str) -> Cause {
    match key {
        "go" => Cause::Toolchain,
        "build:vcs.modified" => Cause::VcsModified,
        "build:vcs.revision" | "build:vcs.time" => Cause::VcsRevision,
        "build:-ldflags" => Cause::LdflagsValues,
        "build:-trimpath" => Cause::Paths,
        key if key.starts_with("dep:") => Cause::Dependencies,
        _ => Cause::BuildSettings,
    }
}

/// Causes the files' own build records name, each with A's and B's
/// value: Go build info, `.comment` compiler strings, Rust metadata.
fn recorded(diff: &BinaryDiff) -> Vec<(Cause, String, [Option<String>; 2])> {
    let mut found = Vec::new();
    if let Some(go) = &diff.go_buildinfo {
        for d in &go.differences {
            let empty = |v: &Option<String>| v.as_deref().unwrap_or("").is_empty();
            if empty(&d.a) && empty(&d.b) {
                continue;
            }
            found.push((key_cause(&d.key), d.key.clone(), [d.a.clone(), d.b.clone()]));
        }
    }
    let (a, b) = (&diff.compiler.a, &diff.compiler.b);
    if a != b && !(a.is_empty() || b.is_empty()) {
        let only = |x: &[String], y: &[String]| {
            let one_sided: Vec<&str> = x
                .iter()
                .filter(|s| !y.contains(s))
                .map(String::as_str)
                .collect();
            (!one_sided.is_empty()).then(|| one_sided.join("\n"))
        };
        found.push((
            Cause::Toolchain,
            "compiler".to_string(),
            [only(a, b), only(b, a)],
        ));
    }
    if let Some(rust) = &diff.rust {
        for d in &rust.differences {
            let cause = if d.key.starts_with("dep:") {
                Cause::Dependencies
            } else {
                Cause::Toolchain
            };
            found.push((cause, d.key.clone(), [d.a.clone(), d.b.clone()]));
        }
    }
    found
}

/// The text each recorded difference, `-X` value and date stamp puts
/// into its side's file.
fn needles(diff: &BinaryDiff) -> Vec<Needle> {
    let mut out = Vec::new();
    let mut push = |cause, side, text: String| {
        if !text.is_empty() {
            out.push(Needle { cause, side, text });
        }
    };
    for (cause, key, values) in recorded(diff) {
        let words = |v: &Option<String>| -> Vec<String> {
            v.as_deref()
                .unwrap_or_default()
                .split_whitespace()
                .map(str::to_string)
                .collect()
        };
        let sides = [
            (Side::A, &values[0], &values[1]),
            (Side::B, &values[1], &values[0]),
        ];
        for (side, value, other) in sides {
            let Some(value) = value.as_deref() else {
                continue;
            };
            for text in std::iter::once(value).chain(value.lines()) {
                if text.len() >= MIN_VALUE_NEEDLE {
                    push(cause, side, text.to_string());
                }
            }
            if let Some(setting) = key.strip_prefix("build:") {
                push(cause, side, format!("{setting}={value}"));
                push(cause, side, format!("{setting}={value:?}"));
            }
            let other_words = words(other);
            let own = words(&Some(value.to_string()));
            for word in own.iter().filter(|w| !other_words.contains(w)) {
                if word.len() >= MIN_VALUE_NEEDLE || word.contains('=') {
                    push(cause, side, word.clone());
                }
                // A differing `-X name=value`: its value too.
                if key == "build:-ldflags" {
                    if let Some((_, x_value)) = word.split_once('=') {
                        if x_value.len() >= MIN_VALUE_NEEDLE {
                            push(cause, side, x_value.to_string());
                        }
                    }
                }
            }
        }
    }
    for pair in &diff.strings.timestamps {
        for (side, stamp) in [(Side::A, &pair.a), (Side::B, &pair.b)] {
            if let Some(stamp) = stamp {
                push(Cause::Timestamp, side, stamp.clone());
            }
        }
    }
    out.sort_by_key(|n| std::cmp::Reverse(n.text.len()));
    out
}

/// What the strings of one diff are checked against, built once.
struct Context<'d> {
    diff: &'d BinaryDiff,
    present: Vec<Cause>,
    code_cause: Option<Cause>,
    needles: Vec<Needle>,
    function_names: HashSet<&'d str>,
    /// A's and B's source files relative to their build directories.
    relative: [HashSet<String>; 2],
    /// The text hardening only A's, only B's file has puts into it.
    hardening: [HashSet<&'d str>; 2],
}

impl<'d> Context<'d> {
    fn new(diff: &'d BinaryDiff, present: Vec<Cause>) -> Self {
        let strings = &diff.strings;
        Context {
            diff,
            code_cause: present.iter().copied().find(|c| changes_code(*c)),
            present,
            needles: needles(diff),
            function_names: diff
                .functions
                .as_ref()
                .map(|f| function_names(f).collect())
                .unwrap_or_default(),
            relative: [
                relative_source_paths(&strings.path_prefixes_only_a, &strings.every_only_a),
                relative_source_paths(&strings.path_prefixes_only_b, &strings.every_only_b),
            ],
            hardening: [true, false].map(|a_side| {
                diff.hardening
                    .iter()
                    .flat_map(|h| h.texts(a_side))
                    .collect()
            }),
        }
    }

    /// The cause (one of `present`, or `code`) that produces `s`, a
    /// string only `side` has; `None` when none does.
    fn string_cause(&self, side: Side, s: &str) -> Option<Cause> {
        let diff = self.diff;
        let has = |cause| self.present.contains(&cause);
        // Other machines: nothing is compared one by one.
        if diff.a.machine != diff.b.machine && has(Cause::BuildSettings) {
            return Some(Cause::BuildSettings);
        }
        if self.function_names.contains(s) {
            return Some(self.code_cause.unwrap_or(Cause::Code));
        }
        if let Some(cause) = section_name_cause(diff, &self.present, side, s) {
            return Some(cause);
        }
        let (dirs, other_relative) = match side {
            Side::A => (&diff.strings.path_prefixes_only_a, &self.relative[1]),
            Side::B => (&diff.strings.path_prefixes_only_b, &self.relative[0]),
        };
        if has(Cause::Paths) && is_build_path(dirs, other_relative, s) {
            return Some(Cause::Paths);
        }
        let hardening = match side {
            Side::A => &self.hardening[0],
            Side::B => &self.hardening[1],
        };
        if hardening.contains(s) {
            return Some(Cause::BuildSettings);
        }
        covering_cause(&self.needles, side, s)
    }
}

/// `stripped` or `debug-info` for the name of a section (`.symtab`,
/// `.debug_info`, Go's `.zdebug_info`) only `side` has.
fn section_name_cause(diff: &BinaryDiff, present: &[Cause], side: Side, s: &str) -> Option<Cause> {
    let only_here = match side {
        Side::A => SectionStatus::OnlyA,
        Side::B => SectionStatus::OnlyB,
    };
    let one_sided = |name: &str| {
        diff.sections
            .iter()
            .any(|x| x.status == only_here && x.name == name)
    };
    let any_debug_here = diff
        .sections
        .iter()
        .any(|x| x.status == only_here && is_debug_section(&x.name));
    let is_section_name = one_sided(s) || (is_debug_section(s) && any_debug_here);
    if !is_section_name {
        return None;
    }
    let stripped = matches!(s, ".symtab" | ".strtab") && present.contains(&Cause::Stripped);
    if stripped {
        Some(Cause::Stripped)
    } else if present.contains(&Cause::DebugInfo) {
        Some(Cause::DebugInfo)
    } else {
        present
            .contains(&Cause::Stripped)
            .then_some(Cause::Stripped)
    }
}

/// The part after `dir` of `path`, when `path` is under `dir`.
fn under<'p>(path: &'p str, dir: &str) -> Option<&'p str> {
    path.strip_prefix(dir)?.strip_prefix(['/', '\\'])
}

/// The source files a side names under its own build directories, each
/// relative to its directory (`main.go`, `internal/x/y.go`): what the
/// other side names them when built with `-trimpath`.
fn relative_source_paths(dirs: &[String], strings: &[String]) -> HashSet<String> {
    strings
        .iter()
        .map(|s| s.trim())
        .filter(|s| source_path(s).is_some())
        .filter_map(|s| dirs.iter().find_map(|d| under(s, d)))
        .map(|relative| relative.replace('\\', "/"))
        .collect()
}

/// Whether `s` is a source file under a build directory only `side`
/// names, or the same file named without its directory (`-trimpath`)
/// where the other side names it under its own build directory
/// (`other_relative`, from [`relative_source_paths`]).
fn is_build_path(dirs: &[String], other_relative: &HashSet<String>, s: &str) -> bool {
    if source_path(s).is_some() {
        return dirs.iter().any(|d| under(s.trim(), d).is_some());
    }
    if !is_relative_source_path(s) {
        return false;
    }
    // `example.com/app/main.go` is `main.go` under the module's directory.
    std::iter::once(s)
        .chain(s.match_indices('/').filter_map(|(i, _)| s.get(i + 1..)))
        .any(|suffix| other_relative.contains(suffix))
}

/// The cause whose text makes up `s` (the longest such text's), if what
/// the needles of `side` leave of it has fewer than [`MIN_LEN`] letters
/// and digits.
fn covering_cause(needles: &[Needle], side: Side, s: &str) -> Option<Cause> {
    let mut rest = s.to_string();
    let mut first = None;
    for needle in needles.iter().filter(|n| n.side == side) {
        if rest.contains(needle.text.as_str()) {
            rest = rest.replace(needle.text.as_str(), "\0");
            first.get_or_insert(needle.cause);
        }
    }
    let left = rest.bytes().filter(u8::is_ascii_alphanumeric).count();
    first.filter(|_| left < MIN_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binary::layout::RegionKind;
    use crate::binary::{BuildIds, DebugLink, Format};
    use crate::diff::{BuildIdDiff, CompilerDiff, FileSummary, Function, SectionDiff, StringsDiff};
    use crate::image::digest::Digest;

    fn side(name: &str) -> FileSummary {
        FileSummary {
            path: name.to_string(),
            sha256: Digest::of(name.as_bytes()),
            size: 1,
            format: Format::Elf,
            machine: "x86_64".to_string(),
            interpreter: None,
        }
    }

    fn rodata_differs() -> SectionDiff {
        SectionDiff {
            name: ".rodata".to_string(),
            status: SectionStatus::Differs,
            a_size: Some(1),
            b_size: Some(1),
            a_sha256: None,
            b_sha256: None,
            differing_bytes: 1,
            differing_bytes_unaligned: None,
            ranges: Vec::new(),
            ranges_total: None,
            kind: RegionKind::Section,
            hunks_omitted: 0,
        }
    }

    /// A diff of two files whose `.rodata` differs, with these one-sided
    /// strings and functions.
    fn diff(only_a: &[&str], only_b: &[&str], functions: Option<FunctionsDiff>) -> BinaryDiff {
        let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (a, b) = (owned(only_a), owned(only_b));
        let strings = StringsDiff {
            only_a: a.clone(),
            only_b: b.clone(),
            only_a_total: a.len(),
            only_b_total: b.len(),
            path_prefixes_only_a: super::super::strings::build_directories(only_a.iter().copied()),
            path_prefixes_only_b: super::super::strings::build_directories(only_b.iter().copied()),
            every_only_a: a,
            every_only_b: b,
            ..StringsDiff::default()
        };
        BinaryDiff {
            identical: false,
            a: side("a"),
            b: side("b"),
            sections: vec![rodata_differs()],
            go_buildinfo: None,
            strings,
            explanations: Vec::new(),
            causes: Vec::new(),
            cause_evidence: Vec::new(),
            notes: Vec::new(),
            build_id: BuildIdDiff {
                a: BuildIds::default(),
                b: BuildIds::default(),
            },
            compiler: CompilerDiff::default(),
            rust: None,
            functions,
            hardening: None,
            hunks: Vec::new(),
        }
    }

    fn section(name: &str, status: SectionStatus) -> SectionDiff {
        SectionDiff {
            name: name.to_string(),
            status,
            ..rodata_differs()
        }
    }

    /// A diff where the GNU build IDs `11aa`/`22bb` and the
    /// `.gnu_debuglink` (`status`) differ, the links naming `links`.
    fn debug_link_diff(status: SectionStatus, links: [&str; 2]) -> BinaryDiff {
        let mut d = diff(&[], &[], None);
        d.sections = vec![
            section(".note.gnu.build-id", SectionStatus::Differs),
            section(".gnu_debuglink", status),
        ];
        let sides = [&mut d.build_id.a, &mut d.build_id.b];
        for (ids, (build_id, link)) in sides
            .into_iter()
            .zip([("11aa", links[0]), ("22bb", links[1])])
        {
            ids.gnu = Some(build_id.to_string());
            ids.gnu_debuglink = Some(DebugLink {
                name: link.to_string(),
                crc: 1,
            });
        }
        d
    }

    #[test]
    fn a_debuglink_named_after_each_sides_own_build_id_is_build_id_only() {
        let d = debug_link_diff(SectionStatus::Differs, ["aa.debug", "bb.debug"]);
        assert_eq!(account(&d).causes, vec![Cause::BuildIdOnly]);
    }

    #[test]
    fn a_debuglink_named_otherwise_or_on_one_side_only_is_not_build_id_only() {
        for (status, links) in [
            (SectionStatus::Differs, ["bb.debug", "aa.debug"]),
            (SectionStatus::Differs, ["aa.debug", "tree.debug"]),
            (SectionStatus::OnlyB, ["aa.debug", "bb.debug"]),
        ] {
            assert_eq!(
                account(&debug_link_diff(status, links)).causes,
                vec![Cause::DebugInfo, Cause::BuildIdConsequence],
                "{status:?} {links:?}"
            );
        }
    }

    #[test]
    fn runtime_paths_of_linked_c_code_alone_are_never_paths() {
        let accounting = account(&diff(
            &["/proc/self/exe", "/etc/localtime", "/usr/lib/locale/C.utf8"],
            &[],
            None,
        ));
        assert_eq!(accounting.causes, vec![Cause::Data]);
        assert_eq!(accounting.evidence[0].strings, 3);
    }

    #[test]
    fn a_functions_difference_with_only_paths_present_is_code_first() {
        let functions = FunctionsDiff {
            only_b: vec![Function {
                name: "main.beacon".to_string(),
                size: 32,
            }],
            only_b_total: 1,
            ..FunctionsDiff::default()
        };
        let accounting = account(&diff(
            &["/home/runner/work/app/app/main.go"],
            &["/src/main.go"],
            Some(functions),
        ));
        assert_eq!(accounting.causes, vec![Cause::Code, Cause::Paths]);
        let code = &accounting.evidence[0];
        assert_eq!((code.strings, code.functions), (0, 1));
        assert_eq!(code.examples, vec!["main.beacon"]);
        let paths = &accounting.evidence[1];
        assert_eq!((paths.strings, paths.functions), (2, 0));
        assert_eq!(
            paths.examples,
            vec!["/home/runner/work/app/app/main.go", "/src/main.go"]
        );
    }

    #[test]
    fn a_trimmed_source_path_is_paths_only_where_the_other_side_names_the_file() {
        let accounting = account(&diff(
            &["/home/runner/work/app/app/cmd/app/main.go"],
            &["example.com/app/cmd/app/main.go", "example.com/app/evil.go"],
            None,
        ));
        assert_eq!(accounting.causes, vec![Cause::Data, Cause::Paths]);
        assert_eq!(
            accounting.evidence[0].examples,
            vec!["example.com/app/evil.go"]
        );
        assert_eq!(accounting.evidence[1].strings, 2);
    }

    #[test]
    fn a_string_beside_a_build_path_is_data_first() {
        let accounting = account(&diff(
            &[
                "/home/runner/work/app/app/main.go",
                "https://evil.example/payload",
            ],
            &["/src/main.go"],
            None,
        ));
        assert_eq!(accounting.causes, vec![Cause::Data, Cause::Paths]);
        assert_eq!(
            accounting.evidence[0].examples,
            vec!["https://evil.example/payload"]
        );
    }
}
