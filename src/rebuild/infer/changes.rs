//! What one candidate recipe changes from the one tried before it, in
//! words a report can list: the builder, the command (down to the words of
//! a changed `-ldflags`), the environment, the output, the build
//! directory. Whatever the ecosystem, candidates are recipes, so the
//! comparison is of their values.

use std::collections::BTreeMap;

use similar::{capture_diff_slices, Algorithm, DiffOp};

use super::metadata;
use crate::rebuild::recipe::schema::{ArtifactSpec, Builder};
use crate::rebuild::recipe::template::Template;
use crate::rebuild::recipe::RecipeSpec;

/// The differences of `next` from `previous`, one phrase each, in recipe
/// order; empty when they build alike.
pub fn changes(previous: &RecipeSpec, next: &RecipeSpec) -> Vec<String> {
    let (a, b) = (&previous.build, &next.build);
    let mut out = Vec::new();
    if a.builder != b.builder {
        out.push(format!(
            "builder {} instead of {}",
            builder(&b.builder),
            builder(&a.builder)
        ));
    }
    if a.workdir.as_ref().map(Template::as_str) != b.workdir.as_ref().map(Template::as_str) {
        out.push(match &b.workdir {
            Some(dir) => format!("builds in {dir}"),
            None => "builds in /src".to_string(),
        });
    }
    let words = |argv: &[Template]| -> Vec<String> {
        argv.iter().map(|t| t.as_str().to_string()).collect()
    };
    let fetch = |f: &Option<Vec<Template>>| f.as_deref().map(words);
    if fetch(&a.fetch) != fetch(&b.fetch) {
        out.push(match &b.fetch {
            Some(f) => format!("fetches with `{}`", join(&words(f))),
            None => "fetches nothing".to_string(),
        });
    }
    out.extend(command_changes(&words(&a.command), &words(&b.command)));
    env_changes(&a.env, &b.env, "", &mut out);
    for (platform, vars) in &b.platforms {
        let empty = BTreeMap::new();
        let before = a.platforms.get(platform).unwrap_or(&empty);
        env_changes(before, vars, &format!("{platform}: "), &mut out);
    }
    let output = |o: &ArtifactSpec| match o {
        ArtifactSpec::Path(path) => path.to_string(),
        ArtifactSpec::CargoBin(name) => format!("cargo binary {name}"),
    };
    if output(&a.output) != output(&b.output) {
        out.push(format!("takes {}", output(&b.output)));
    }
    out
}

fn builder(builder: &Builder) -> String {
    match builder {
        Builder::Host => "host".to_string(),
        Builder::Image(image) => image.to_string(),
    }
}

fn join(words: &[String]) -> String {
    words.join(" ")
}

/// A changed command: another program or subcommand is the whole new
/// command; otherwise the flags it drops and adds, and for a flag that
/// keeps its name (`-ldflags=...`) the words it drops and adds.
fn command_changes(a: &[String], b: &[String]) -> Vec<String> {
    if a == b {
        return Vec::new();
    }
    let head = |argv: &[String]| -> Vec<String> {
        argv.iter()
            .take_while(|w| !w.starts_with('-'))
            .cloned()
            .collect()
    };
    if head(a) != head(b) || a.is_empty() || b.is_empty() {
        return vec![format!("runs `{}`", join(b))];
    }
    let mut out = Vec::new();
    let name = |w: &str| w.split_once('=').map(|(n, _)| n.to_string());
    let mut dropped: Vec<&String> = a.iter().filter(|w| !b.contains(w)).collect();
    let mut added: Vec<&String> = b.iter().filter(|w| !a.contains(w)).collect();
    // A flag given in both with another value: its words that changed.
    let mut changed = Vec::new();
    dropped.retain(|old| {
        let Some(flag) = name(old) else { return true };
        let Some(at) = added
            .iter()
            .position(|new| name(new).as_ref() == Some(&flag))
        else {
            return true;
        };
        changed.push((flag, (*old).clone(), added.remove(at).clone()));
        false
    });
    for (flag, old, new) in changed {
        let value =
            |w: &str| -> Vec<String> { flag_words(w.split_once('=').map_or("", |(_, v)| v)) };
        let (old, new) = (value(&old), value(&new));
        let (gone, came) = word_changes(&old, &new);
        let mut parts = Vec::new();
        if !came.is_empty() {
            parts.push(format!("adds {}", came.join(", ")));
        }
        if !gone.is_empty() {
            parts.push(format!("drops {}", gone.join(", ")));
        }
        if !parts.is_empty() {
            out.push(format!("{flag} {}", parts.join(" and ")));
        }
    }
    for (verb, words) in [("adds", &added), ("drops", &dropped)] {
        if !words.is_empty() {
            let words: Vec<&str> = words.iter().map(|w| w.as_str()).collect();
            out.push(format!("{verb} {}", words.join(" ")));
        }
    }
    out
}

/// Linker flags that take the next word as their value (`-X NAME=VALUE`,
/// `-extldflags --static-pie`).
const FLAGS_WITH_VALUES: &[&str] = &[
    "-X",
    "-linkmode",
    "-extldflags",
    "-extld",
    "-buildid",
    "-B",
    "-I",
    "-r",
    "-T",
    "-E",
    "-H",
    "-L",
    "-R",
    "-k",
    "-tmpdir",
    "-installsuffix",
];

/// The words of a flag's value as the go command splits `-ldflags`
/// ([`metadata::split_words`]), a flag and its value as one (`-X
/// main.version=1.2.0`).
fn flag_words(value: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut words = metadata::split_words(value).into_iter();
    while let Some(word) = words.next() {
        match words.clone().next() {
            Some(next) if FLAGS_WITH_VALUES.contains(&word.as_str()) => {
                out.push(format!("{word} {next}"));
                words.next();
            }
            _ => out.push(word),
        }
    }
    out
}

/// The runs of words only `a` has and only `b` has (`-s -w`,
/// `-X main.commit=1a2b3c4`), each run joined by spaces.
fn word_changes(a: &[String], b: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut gone, mut came) = (Vec::new(), Vec::new());
    for op in capture_diff_slices(Algorithm::Myers, a, b) {
        let (old, new) = match op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index, old_len, ..
            } => (old_index..old_index + old_len, 0..0),
            DiffOp::Insert {
                new_index, new_len, ..
            } => (0..0, new_index..new_index + new_len),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => (
                old_index..old_index + old_len,
                new_index..new_index + new_len,
            ),
        };
        if let Some(words) = a.get(old).filter(|w| !w.is_empty()) {
            gone.push(words.join(" "));
        }
        if let Some(words) = b.get(new).filter(|w| !w.is_empty()) {
            came.push(words.join(" "));
        }
    }
    (gone, came)
}

fn env_changes(
    a: &BTreeMap<String, Template>,
    b: &BTreeMap<String, Template>,
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (key, value) in b {
        match a.get(key) {
            None => out.push(format!("{prefix}sets {key}={value}")),
            Some(old) if old.as_str() != value.as_str() => {
                out.push(format!("{prefix}{key}={value} instead of {old}"));
            }
            Some(_) => {}
        }
    }
    for key in a.keys().filter(|k| !b.contains_key(*k)) {
        out.push(format!("{prefix}unsets {key}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn a_changed_ldflags_is_told_as_the_words_it_adds_and_drops() {
        let a = vec![
            "go".to_string(),
            "build".into(),
            "-trimpath".into(),
            "-ldflags=-s -w -X main.version={version}".into(),
            "-o".into(),
            "/out/app".into(),
            ".".into(),
        ];
        let mut b = a.clone();
        b[3] =
            "-ldflags=-X main.version={version} -linkmode external -extldflags --static-pie".into();
        b.insert(2, "-buildmode=pie".into());
        assert_eq!(
            command_changes(&a, &b),
            vec![
                "-ldflags adds -linkmode external -extldflags --static-pie and drops -s -w",
                "adds -buildmode=pie"
            ]
        );
    }

    #[test]
    fn another_program_is_told_as_the_whole_command() {
        assert_eq!(
            command_changes(&words("go build -o /out/app ."), &words("make static")),
            vec!["runs `make static`"]
        );
        assert_eq!(
            command_changes(&words("make"), &words("make static")),
            vec!["runs `make static`"]
        );
        assert!(command_changes(&words("make"), &words("make")).is_empty());
    }

    #[test]
    fn environment_changes_name_the_variable() {
        let t = |s: &str| {
            Template::parse(
                s,
                crate::rebuild::recipe::template::Scope::Build {
                    declared: &Default::default(),
                },
            )
            .unwrap()
        };
        let a: BTreeMap<String, Template> = [("A".to_string(), t("1")), ("B".to_string(), t("2"))]
            .into_iter()
            .collect();
        let b: BTreeMap<String, Template> = [("A".to_string(), t("3")), ("C".to_string(), t("4"))]
            .into_iter()
            .collect();
        let mut out = Vec::new();
        env_changes(&a, &b, "linux/amd64: ", &mut out);
        assert_eq!(
            out,
            vec![
                "linux/amd64: A=3 instead of 1",
                "linux/amd64: sets C=4",
                "linux/amd64: unsets B"
            ]
        );
    }
}
