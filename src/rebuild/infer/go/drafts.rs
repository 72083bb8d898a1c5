//! Candidate drafting: what each Go candidate sets on top of the shared
//! recipe (its `-ldflags`, why, extra environment), from the recorded
//! `-ldflags`, the tag's goreleaser builds, or the `-X` targets of its
//! source, each with and without `-s -w` where the binary does not tell.

use std::collections::{BTreeMap, BTreeSet};

use super::binscan::BinaryStrings;
use super::facts::{
    platform_settings, strip_flags, Facts, PlatformBinary, BUILD_DATE, BUILD_TIMESTAMP,
};
use super::goreleaser;
use super::link::{self, LinkFacts};
use super::xvars;
use crate::rebuild::infer::candidate::{BinaryOnlyInput, InferError};
use crate::rebuild::infer::entry;
use crate::rebuild::infer::evidence::Evidence;
use crate::rebuild::infer::files::SourceFiles;
use crate::rebuild::infer::metadata::{self, Release};
use crate::rebuild::infer::recipe::has_placeholder;

/// Environment variables the recipe sets itself, which a goreleaser
/// build's `env` does not override.
const OWN_ENV: &[&str] = &[
    "CGO_ENABLED",
    "GOFLAGS",
    "GOTOOLCHAIN",
    "GOCACHE",
    "GOMODCACHE",
    "GOPROXY",
    "GOPATH",
    "GOROOT",
];

/// What drafting reads besides the evidence and the binaries.
pub struct Drafting<'a> {
    pub facts: &'a Facts,
    /// How the binaries were linked, when their ELF tells.
    pub link: Option<&'a LinkFacts>,
    /// The main package's directory in the tree.
    pub package_dir: &'a str,
    /// Whether every binary was built with `-trimpath`.
    pub trimpath: bool,
}

/// What each candidate sets on top of the shared recipe, most likely
/// first (the order [`super::infer`] gives), the project's own build
/// entry points ([`entry_drafts`]) first where the binary was built with
/// `-trimpath`, after the recorded `-ldflags` otherwise.
pub fn candidate_drafts(
    evidence: &Evidence<'_>,
    plats: &[PlatformBinary<'_>],
    drafting: &Drafting<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<CandidateDraft>, InferError> {
    let Drafting {
        facts,
        link,
        package_dir,
        trimpath,
    } = *drafting;
    let files = evidence.source.files;
    let proposals = xvar_proposals(files, plats, facts, notes);
    let entries = entry_drafts(evidence, plats, drafting, &proposals, notes);
    let link_words = link.and_then(LinkFacts::ldflags);
    let first = plats.first().ok_or(InferError::Unsupported)?;
    let strip = strip_flags(plats, notes);
    let mut drafts: Vec<CandidateDraft> = Vec::new();
    let recorded: Vec<Option<&str>> = plats.iter().map(|p| p.setting("-ldflags")).collect();
    if let Some(Some(ldflags)) = recorded.first() {
        if recorded.iter().any(|r| r != &Some(*ldflags)) {
            notes.push(format!(
                "the platforms record different -ldflags; every candidate uses {}'s",
                first.platform
            ));
        }
        if has_placeholder(ldflags) {
            return Err(InferError::Invalid(format!(
                "the binary's recorded -ldflags {ldflags:?} hold text a recipe would read as a placeholder: write a recipe (see recipes/README.md)"
            )));
        }
        let binary_only = binary_only_inputs(ldflags, evidence, facts);
        let mut why = vec!["-ldflags: as the binary records them".to_string()];
        why.extend(binary_only.iter().map(|input| {
            format!(
                "{}={}: not release metadata, only the binary supplies it (a rebuild that reproduces with it is no pass)",
                input.input, input.value
            )
        }));
        drafts.push(CandidateDraft {
            label: "recorded -ldflags".into(),
            ldflags: ldflags.to_string(),
            why,
            env: Vec::new(),
            binary_only,
            project: None,
        });
        drafts.extend(entries);
    } else if !trimpath {
        if strip.as_ref().is_some_and(|s| s.s || s.w) {
            notes.push("the binary has no symbol table or no DWARF but records no -ldflags: it was stripped after the build, which the rebuild does not do".into());
        }
        drafts.push(CandidateDraft {
            label: "no -ldflags".into(),
            ldflags: String::new(),
            why: vec![
                "no -ldflags: Go records them whenever they are given without -trimpath".into(),
            ],
            env: Vec::new(),
            binary_only: Vec::new(),
            project: None,
        });
        drafts.extend(entries);
    } else {
        drafts.extend(entries);
        let variants: Vec<(&str, String)> = match &strip {
            Some(s) => vec![(s.text(), s.why())],
            None => vec![
                ("-s -w", "-s -w: tried first, the binary is not ELF".into()),
                ("", "no -s -w: tried second, the binary is not ELF".into()),
            ],
        };
        let mut x_drafts = goreleaser_drafts(evidence, plats, facts, package_dir, notes);
        x_drafts.extend(xvar_drafts(&proposals));
        x_drafts.push(XFlagsDraft {
            label: "no -X".into(),
            x: Vec::new(),
            complete: false,
            why: "no -X".into(),
            env: Vec::new(),
        });
        let dropped = "-ldflags: not recorded (Go drops them with -trimpath), so".to_string();
        for draft in x_drafts {
            if draft.complete {
                drafts.push(CandidateDraft {
                    label: draft.label,
                    ldflags: draft.x.join(" "),
                    why: vec![format!("{dropped} {}", draft.why)],
                    env: draft.env,
                    binary_only: Vec::new(),
                    project: None,
                });
                continue;
            }
            for (strip_text, strip_why) in &variants {
                let mut words: Vec<&str> = Vec::new();
                if !strip_text.is_empty() {
                    words.push(strip_text);
                }
                words.extend(draft.x.iter().map(String::as_str));
                let mut label = if strip_text.is_empty() {
                    draft.label.clone()
                } else {
                    format!("{}, {strip_text}", draft.label)
                };
                let mut why = vec![format!("{dropped} {}", draft.why), strip_why.clone()];
                if let Some((link_text, link_why)) = &link_words {
                    words.push(link_text);
                    label = format!("{label}, {link_text}");
                    why.push(link_why.clone());
                }
                drafts.push(CandidateDraft {
                    label,
                    ldflags: words.join(" "),
                    why,
                    env: draft.env.clone(),
                    binary_only: Vec::new(),
                    project: None,
                });
            }
        }
    }
    Ok(drafts)
}

/// The `-X` part of a candidate's `-ldflags`, before `-s`/`-w`.
struct XFlagsDraft {
    label: String,
    /// `-ldflags` words (`-X main.version=...`).
    x: Vec<String>,
    /// Whether `x` is the whole `-ldflags` (goreleaser's, which say
    /// `-s -w` themselves), not to be combined with `-s`/`-w`.
    complete: bool,
    why: String,
    /// Extra environment (goreleaser's `env`).
    env: Vec<(String, String)>,
}

/// What one candidate sets on top of the shared recipe.
pub struct CandidateDraft {
    pub label: String,
    pub ldflags: String,
    /// Comment lines saying where the `-ldflags` come from.
    pub why: Vec<String>,
    pub env: Vec<(String, String)>,
    /// The `-X` values it takes from the binary that are not release metadata.
    pub binary_only: Vec<BinaryOnlyInput>,
    /// The project's own build to run instead of `go build`, when the
    /// candidate is one.
    pub project: Option<ProjectBuild>,
}

/// The project's own build entry point as a candidate's command.
pub struct ProjectBuild {
    /// `make static`.
    pub command: Vec<String>,
    /// Where the binary lands, relative to the tree's root.
    pub output: String,
}

/// The `-X` flags of recorded `-ldflags` whose values are not release
/// metadata of the tag ([`metadata::classify`]).
fn binary_only_inputs(
    ldflags: &str,
    evidence: &Evidence<'_>,
    facts: &Facts,
) -> Vec<BinaryOnlyInput> {
    let release = Release {
        tag: evidence.source.git_ref,
        commit: evidence.source.commit,
        version_file: facts.version_file.as_ref().map(|f| f.value.as_str()),
    };
    metadata::x_flags(ldflags)
        .into_iter()
        .filter(|flag| metadata::classify(&flag.value, &release).is_none())
        .map(|flag| BinaryOnlyInput {
            input: if flag.symbol.is_empty() {
                "-X".to_string()
            } else {
                format!("-X {}", flag.symbol)
            },
            value: flag.value,
        })
        .collect()
}

fn count_x(ldflags: &str) -> usize {
    ldflags
        .split_whitespace()
        .filter(|w| *w == "-X" || w.starts_with("-X="))
        .count()
}

fn goreleaser_drafts(
    evidence: &Evidence<'_>,
    plats: &[PlatformBinary<'_>],
    facts: &Facts,
    package_dir: &str,
    notes: &mut Vec<String>,
) -> Vec<XFlagsDraft> {
    let config = match goreleaser::read(evidence.source.files) {
        Ok(Some(config)) => config,
        Ok(None) => return Vec::new(),
        Err(why) => {
            notes.push(why);
            return Vec::new();
        }
    };
    let project = config.project_name.clone().unwrap_or_else(|| {
        let tail = evidence
            .source
            .url
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        tail.strip_suffix(".git").unwrap_or(tail).to_string()
    });
    let binary_name = evidence.binary_path.rsplit('/').next().unwrap_or_default();
    let date = facts
        .build_date
        .clone()
        .unwrap_or_else(|| facts.commit_date.clone());
    // `{{ .Timestamp }}`: searched for only when a build uses it.
    let uses_timestamp = config.builds.iter().any(|b| {
        std::iter::once(b.ldflags_or_default())
            .chain(b.env.iter().map(String::as_str))
            .any(|t| t.contains(".Timestamp"))
    });
    let build_timestamp = (uses_timestamp
        && plats.iter().all(|p| {
            p.strings.timestamps().len() == 1
                && p.strings.timestamps().first() != Some(&facts.commit_timestamp)
        }))
    .then(|| format!("{{input:{BUILD_TIMESTAMP}}}"));
    let timestamp = build_timestamp
        .clone()
        .unwrap_or_else(|| facts.commit_timestamp.clone());
    let mut values: BTreeMap<String, String> = [
        ("Version", facts.bare_text.as_str()),
        ("Tag", &facts.tag_text),
        ("Commit", &facts.commit_text),
        ("FullCommit", &facts.commit_text),
        ("ShortCommit", &facts.short_commit),
        ("CommitDate", &facts.commit_date),
        ("CommitTimestamp", &facts.commit_timestamp),
        ("Date", &date),
        ("Timestamp", &timestamp),
        ("ProjectName", &project),
        ("Os", "{os}"),
        ("Arch", "{arch}"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for entry in &config.env {
        if let Some((key, value)) = entry.split_once('=') {
            if !has_placeholder(value) {
                values.insert(format!("Env.{key}"), value.to_string());
            }
        }
    }
    let arches: BTreeSet<&str> = plats
        .iter()
        .map(|p| p.platform.architecture.as_str())
        .collect();
    let (first_os, first_arch) = plats.first().map_or(("", ""), |p| {
        (p.platform.os.as_str(), p.platform.architecture.as_str())
    });
    let mut matching: Vec<(bool, XFlagsDraft)> = Vec::new();
    for build in &config.builds {
        if build.package_dir().as_deref() != Some(package_dir) {
            continue;
        }
        if !build.goarch.is_empty() && !arches.iter().any(|a| build.goarch.iter().any(|g| g == a)) {
            continue;
        }
        let name = format!("{} {}", config.path, build.name());
        let ldflags = build.ldflags_or_default();
        if let Some(raw) = std::iter::once(ldflags)
            .chain(build.env.iter().map(String::as_str))
            .find(|t| has_placeholder(&without_templates(t)))
        {
            notes.push(format!(
                "{name} left out: {raw:?} holds text a recipe would read as a placeholder"
            ));
            continue;
        }
        let mut build_values = values.clone();
        let mut env = Vec::new();
        let mut failed = None;
        for entry in &build.env {
            let Some((key, value)) = entry.split_once('=') else {
                continue;
            };
            match goreleaser::fill(value, &build_values) {
                Ok(filled) => {
                    build_values.insert(format!("Env.{key}"), filled.text.clone());
                    if env_name_ok(key)
                        && !OWN_ENV.contains(&key)
                        && !platform_settings().any(|setting| setting == key)
                    {
                        env.push((key.to_string(), filled.text));
                    }
                }
                Err(why) => failed = Some(why),
            }
        }
        let filled = match (failed, goreleaser::fill(ldflags, &build_values)) {
            (None, Ok(filled)) => filled,
            (Some(why), _) | (None, Err(why)) => {
                notes.push(format!("{name} left out: {why}"));
                continue;
            }
        };
        for unset in &filled.unset_env {
            notes.push(format!(
                "{name}: {{{{ .{unset} }}}} has no value at the tag, so it was left empty"
            ));
        }
        if filled.used.iter().any(|u| u == "Date") && facts.build_date.is_none() {
            notes.push(format!(
                "{name}: no single build date in the binary, so {{{{ .Date }}}} is the commit date"
            ));
        }
        if filled.used.iter().any(|u| u == "Timestamp") && build_timestamp.is_none() {
            notes.push(format!(
                "{name}: no single build timestamp in the binary, so {{{{ .Timestamp }}}} is the commit's"
            ));
        }
        let binary = match build.binary.as_deref() {
            None => Some(project.clone()),
            Some(b) => goreleaser::fill(b, &build_values).ok().map(|f| f.text),
        };
        let binary_matches = binary.is_some_and(|b| {
            let b = b.replace("{os}", first_os).replace("{arch}", first_arch);
            b.rsplit('/').next() == Some(binary_name)
        });
        let default = build.ldflags.is_none();
        matching.push((
            binary_matches,
            XFlagsDraft {
                label: format!(
                    "goreleaser {}{} ({} -X)",
                    build.name(),
                    if default { " default ldflags" } else { "" },
                    count_x(&filled.text)
                ),
                x: vec![filled.text],
                complete: true,
                why: format!(
                    "the ldflags of {name}{}",
                    if default {
                        " (goreleaser's default: it gives none)"
                    } else {
                        ""
                    }
                ),
                env,
            },
        ));
    }
    matching.sort_by_key(|(binary_matches, _)| !binary_matches);
    matching.into_iter().map(|(_, d)| d).collect()
}

/// The `-X` targets of the tree and the values the binaries hold for them.
fn xvar_proposals(
    files: &dyn SourceFiles,
    plats: &[PlatformBinary<'_>],
    facts: &Facts,
    notes: &mut Vec<String>,
) -> Vec<xvars::Proposal> {
    let targets = xvars::targets(files, notes);
    if targets.is_empty() {
        return Vec::new();
    }
    let strings: Vec<&BinaryStrings<'_>> = plats.iter().map(|p| &p.strings).collect();
    let build_date_text = format!("{{input:{BUILD_DATE}}}");
    xvars::propose(
        &targets,
        &strings,
        &xvars::Facts {
            version: &facts.tag,
            version_text: &facts.tag_text,
            bare_text: &facts.bare_text,
            version_file: facts.version_file.as_ref(),
            commit: &facts.commit,
            commit_text: &facts.commit_text,
            commit_date: &facts.commit_date,
            build_date_text: &build_date_text,
        },
    )
}

fn xvar_drafts(proposals: &[xvars::Proposal]) -> Vec<XFlagsDraft> {
    let make = |choice: usize, label: &str| {
        let x: Vec<String> = proposals
            .iter()
            .filter_map(|p| {
                let value = p.values.get(choice).or(p.values.first())?;
                Some(format!("-X {}={value}", p.symbol))
            })
            .collect();
        let symbols: Vec<String> = proposals
            .iter()
            .filter_map(|p| {
                let found = p.found.get(choice).or(p.found.first())?;
                Some(format!("{} ({found})", p.symbol))
            })
            .collect();
        XFlagsDraft {
            label: format!("{label} ({} -X)", x.len()),
            why: format!(
                "-X for {}: string variables of the source whose values the binary holds",
                symbols.join(", ")
            ),
            x,
            complete: false,
            env: Vec::new(),
        }
    };
    let mut out = Vec::new();
    if !proposals.is_empty() {
        out.push(make(0, "-X from source"));
    }
    if proposals.iter().any(|p| p.values.len() > 1) {
        out.push(make(1, "-X from source, other values"));
    }
    out
}

/// The project's own build entry points whose output is the image
/// binary's name ([`entry::entry_points`]) and that build with `go`,
/// as candidates: those whose commands agree with what the binary shows
/// (`-trimpath` as recorded, the linking its ELF shows, no cgo switched
/// off) in order of how much agrees, the default target first among
/// equals; the others are left out with a note. The values the binary
/// holds are left to the project's own logic (`$(shell cat VERSION)`,
/// `git describe`); the candidate's comment says where they come from.
fn entry_drafts(
    evidence: &Evidence<'_>,
    plats: &[PlatformBinary<'_>],
    drafting: &Drafting<'_>,
    proposals: &[xvars::Proposal],
    notes: &mut Vec<String>,
) -> Vec<CandidateDraft> {
    let name = evidence.binary_path.rsplit('/').next().unwrap_or_default();
    let cgo = plats.iter().any(|p| p.setting("CGO_ENABLED") == Some("1"));
    let values: Vec<String> = proposals
        .iter()
        .filter_map(|p| Some(format!("{}={}", p.symbol, p.found.first()?)))
        .collect();
    let mut ranked: Vec<(usize, CandidateDraft)> = Vec::new();
    for entry in entry::entry_points(evidence.source.files, name, notes) {
        let label = entry.command.join(" ");
        let words = link::command_words(&entry.build_text);
        if entry
            .command
            .iter()
            .chain(std::iter::once(&entry.output))
            .any(|w| has_placeholder(w))
        {
            notes.push(format!(
                "`{label}` ({}) left out: it holds text a recipe would read as a placeholder",
                entry.file
            ));
            continue;
        }
        if !entry.build_text.contains("go build") {
            notes.push(format!(
                "`{label}` ({}) left out: it does not run `go build` itself",
                entry.file
            ));
            continue;
        }
        let mut agrees = Vec::new();
        let mut against = Vec::new();
        match (words.contains(&"-trimpath"), drafting.trimpath) {
            (true, true) => {
                agrees.push("it builds with -trimpath, as the binary records".to_string())
            }
            (false, false) => {
                agrees.push("it builds without -trimpath, as the binary records".to_string())
            }
            (true, false) => against
                .push("it builds with -trimpath, which the binary does not record".to_string()),
            (false, true) => {
                against.push("it builds without -trimpath, which the binary records".to_string())
            }
        }
        if cgo && words.contains(&"CGO_ENABLED=0") {
            against.push("it sets CGO_ENABLED=0, but the binary was built with cgo".to_string());
        }
        if let Some(linked) = drafting.link {
            match linked.agrees_with(&words) {
                Ok(why) => agrees.extend(why),
                Err(why) => against.push(why),
            }
        }
        if !against.is_empty() {
            notes.push(format!(
                "`{label}` ({}) left out: {}",
                entry.file,
                against.join("; ")
            ));
            continue;
        }
        let mut why = vec![format!(
            "`{label}`: the project's own build ({} {}) makes {name}; it runs only inside the build sandbox, as every build does",
            entry.file,
            entry
                .target
                .as_deref()
                .map(|t| format!("target {t}"))
                .unwrap_or_else(|| "script".to_string()),
        )];
        why.extend(agrees.iter().cloned());
        if !values.is_empty() {
            why.push(format!(
                "the values the binary holds are left to the project's own logic: {}",
                values.join("; ")
            ));
        }
        ranked.push((
            agrees.len(),
            CandidateDraft {
                label,
                ldflags: String::new(),
                why,
                env: Vec::new(),
                binary_only: Vec::new(),
                project: Some(ProjectBuild {
                    command: entry.command,
                    output: entry.output,
                }),
            },
        ));
    }
    ranked.sort_by_key(|(agrees, _)| std::cmp::Reverse(*agrees));
    ranked.into_iter().map(|(_, draft)| draft).collect()
}

/// `text` with goreleaser's `{{ ... }}` templates blanked out.
fn without_templates(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(rest.get(..open).unwrap_or_default());
        out.push(' ');
        let after = rest.get(open + 2..).unwrap_or_default();
        rest = after
            .find("}}")
            .map_or("", |close| after.get(close + 2..).unwrap_or_default());
    }
    out.push_str(rest);
    out
}

/// An environment variable name a recipe accepts.
fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
