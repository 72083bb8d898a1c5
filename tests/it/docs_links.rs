//! The documentation holds together: the README stays a quick start, and
//! every relative link in the README, `docs/` and the recipe schema names a
//! file that exists and, with `#anchor`, a heading that file has.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The README, every Markdown file under `docs/`, and the recipe schema.
fn documents() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path);
            }
        }
    }
    let mut files = vec![root().join("README.md"), root().join("recipes/README.md")];
    walk(&root().join("docs"), &mut files);
    files.sort();
    files
}

fn parse(text: &str) -> Parser<'_> {
    Parser::new_ext(text, Options::ENABLE_TABLES)
}

/// The link and image targets of a Markdown text, in order.
fn targets(text: &str) -> Vec<String> {
    parse(text)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.into_string())
            }
            _ => None,
        })
        .collect()
}

/// The anchors GitHub gives a Markdown text's headings: the heading's text
/// lowercased, without punctuation but `-` and `_`, spaces as `-`; a
/// repeated anchor gets `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut heading: Option<String> = None;
    for event in parse(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let Some(h) = heading.take() else { continue };
                let slug: String = h
                    .to_lowercase()
                    .chars()
                    .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
                    .map(|c| if c == ' ' { '-' } else { c })
                    .collect();
                let mut anchor = slug.clone();
                let mut n = 0;
                while !anchors.insert(anchor.clone()) {
                    n += 1;
                    anchor = format!("{slug}-{n}");
                }
            }
            _ => {}
        }
    }
    anchors
}

/// What is wrong with one link of `from`, if anything.
fn broken(from: &Path, target: &str) -> Option<String> {
    if target.contains("://") || target.starts_with("mailto:") {
        return None;
    }
    let (path, anchor) = match target.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (target, None),
    };
    let file = if path.is_empty() {
        from.to_path_buf()
    } else {
        from.parent().unwrap().join(path)
    };
    if !file.exists() {
        return Some(format!("{} does not exist", file.display()));
    }
    let anchor = anchor?;
    if file.extension().is_none_or(|e| e != "md") {
        return Some(format!(
            "#{anchor} points into {}, which has no headings",
            file.display()
        ));
    }
    let known = anchors(&std::fs::read_to_string(&file).unwrap());
    (!known.contains(anchor)).then(|| format!("{} has no heading #{anchor}", file.display()))
}

#[test]
fn every_relative_link_in_the_docs_names_an_existing_file_and_heading() {
    let documents = documents();
    assert!(
        documents.contains(&root().join("docs/README.md")),
        "{documents:?}"
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for document in &documents {
        let text = std::fs::read_to_string(document).unwrap();
        for target in targets(&text) {
            checked += 1;
            if let Some(problem) = broken(document, &target) {
                problems.push(format!("{}: ({target}): {problem}", document.display()));
            }
        }
    }
    assert!(checked > 50, "only {checked} links found");
    assert_eq!(problems, Vec::<String>::new());
}

#[test]
fn readme_is_a_quick_start_of_at_most_300_lines() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(lines <= 300, "README.md has {lines} lines");
}

#[test]
fn headings_get_the_anchors_github_gives_them() {
    let text = "# Attestation (`--attest FILE`)\n\n## What a pass proves, and what it does not\n\n\
                ```\n# not a heading\n```\n\n## Notes\n\n## Notes\n";
    assert_eq!(
        anchors(text),
        BTreeSet::from(
            [
                "attestation---attest-file",
                "what-a-pass-proves-and-what-it-does-not",
                "notes",
                "notes-1",
            ]
            .map(String::from)
        )
    );
}

#[test]
fn a_link_to_a_missing_file_or_heading_is_reported() {
    let readme = root().join("README.md");
    assert_eq!(broken(&readme, "https://example.com/x"), None);
    assert_eq!(broken(&readme, "docs/README.md"), None);
    assert_eq!(
        broken(&readme, "docs/nowhere.md"),
        Some(format!(
            "{} does not exist",
            root().join("docs/nowhere.md").display()
        ))
    );
    assert_eq!(
        broken(&readme, "#no-such-heading"),
        Some(format!(
            "{} has no heading #no-such-heading",
            readme.display()
        ))
    );
    assert_eq!(broken(&readme, "#exit-codes"), None);
}
