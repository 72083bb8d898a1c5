//! `-X` targets: package-level string variables in the tag's Go source
//! named like a version, commit or date, and the values `-ldflags -X` may
//! have given them, taken from strings the image binary holds.

use std::collections::BTreeMap;

use super::binscan::BinaryStrings;
use crate::rebuild::infer::files::SourceFiles;
use crate::rebuild::infer::metadata::VersionFile;

/// Most `.go` files read.
pub const MAX_GO_FILES: usize = 20_000;
/// Largest `.go` file read.
pub const MAX_GO_FILE: usize = 1024 * 1024;
/// Most bytes of Go source read in all.
pub const MAX_GO_BYTES: usize = 128 * 1024 * 1024;

/// What a variable holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// `version`, `gitVersion`, `appVersion`, ...
    Version,
    /// `commit`, `gitCommit`, `revision`, `gitSHA`, ...
    Commit,
    /// `date`, `buildDate`, `buildTime`, `builtAt`, ...
    Date,
    /// `commitDate`, `commitTime`.
    CommitDate,
    /// `gitTreeState` (Kubernetes: `clean`).
    TreeState,
    /// `builtBy` (goreleaser's default ldflags: `goreleaser`).
    BuiltBy,
    /// `gitMajor` (Kubernetes: `1` for v1.30.0).
    Major,
    /// `gitMinor` (Kubernetes: `30` for v1.30.0).
    Minor,
}

/// The kind of a variable name (case-insensitive), if it is one we set.
pub fn kind_of(name: &str) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let kind = match lower.as_str() {
        "version" | "gitversion" | "appversion" | "buildversion" | "releaseversion"
        | "versionstring" | "semver" | "ver" | "binaryversion" | "cliversion" | "mainversion"
        | "programversion" => Kind::Version,
        "commit" | "gitcommit" | "commithash" | "githash" | "gitsha" | "commitsha" | "sha"
        | "revision" | "gitrevision" | "shortcommit" | "buildcommit" | "commitid"
        | "gitcommitid" | "gitcommithash" => Kind::Commit,
        "date" | "builddate" | "buildtime" | "builtat" | "buildtimestamp" | "buildstamp"
        | "compiledate" | "compiletime" | "releasedate" | "builddatetime" => Kind::Date,
        "commitdate" | "committime" | "gitcommitdate" => Kind::CommitDate,
        "gittreestate" | "treestate" => Kind::TreeState,
        "builtby" => Kind::BuiltBy,
        "gitmajor" => Kind::Major,
        "gitminor" => Kind::Minor,
        _ => return None,
    };
    Some(kind)
}

/// A package-level string variable `-X` can set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The `-X` name: `main.version`, `example.com/app/internal/v.Commit`.
    pub symbol: String,
    /// The import path (`main` for package main).
    pub package: String,
    pub kind: Kind,
    /// The file that declares it.
    pub file: String,
}

/// The targets of the tree, in the order of the sorted paths and of their
/// declarations (the order `-X` flags are given in matters: Go's build ID
/// hashes the flags), each symbol once. Skips
/// `_test.go` files, `vendor/`, `testdata/` and `.`/`_` directories (as
/// the go command does), and reads at most [`MAX_GO_FILES`] files of
/// [`MAX_GO_FILE`] bytes, [`MAX_GO_BYTES`] in all; a note says when it
/// stopped early.
pub fn targets(files: &dyn SourceFiles, notes: &mut Vec<String>) -> Vec<Target> {
    let paths = files.paths();
    let modules: BTreeMap<String, String> = paths
        .iter()
        .filter(|p| (p.as_str() == "go.mod" || p.ends_with("/go.mod")) && go_visible(p))
        .filter_map(|p| {
            let dir = p
                .strip_suffix("go.mod")
                .unwrap_or_default()
                .trim_end_matches('/');
            let module = module_path(&files.read(p)?)?;
            Some((dir.to_string(), module))
        })
        .collect();
    let mut out: Vec<Target> = Vec::new();
    let (mut count, mut bytes) = (0usize, 0usize);
    for path in &paths {
        if !path.ends_with(".go") || path.ends_with("_test.go") || !go_visible(path) {
            continue;
        }
        if count >= MAX_GO_FILES || bytes >= MAX_GO_BYTES {
            notes.push(format!(
                "-X targets: stopped after {count} .go files ({} MiB): the rest of the tree was not searched",
                bytes / (1024 * 1024)
            ));
            break;
        }
        let Some(text) = files.read(path).filter(|t| t.len() <= MAX_GO_FILE) else {
            continue;
        };
        count += 1;
        bytes += text.len();
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        let Some((package, vars)) = string_vars(&text) else {
            continue;
        };
        let import = if package == "main" {
            "main".to_string()
        } else {
            match import_path(&modules, dir) {
                Some(import) => import,
                None => continue,
            }
        };
        for name in vars {
            if let Some(kind) = kind_of(&name) {
                let symbol = format!("{import}.{name}");
                if !out.iter().any(|t| t.symbol == symbol) {
                    out.push(Target {
                        symbol,
                        package: import.clone(),
                        kind,
                        file: path.clone(),
                    });
                }
            }
        }
    }
    out
}

/// Whether the go command builds from this path (no `vendor`, `testdata`,
/// or directory starting with `.` or `_`).
pub fn go_visible(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts
        .iter()
        .all(|p| *p != "vendor" && *p != "testdata" && !p.starts_with('.') && !p.starts_with('_'))
}

/// The `module` line of a `go.mod`.
pub fn module_path(go_mod: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(go_mod).ok()?;
    text.lines().find_map(|line| {
        let rest = line.trim().strip_prefix("module")?;
        if !rest.starts_with([' ', '\t', '"']) {
            return None;
        }
        let rest = rest.split("//").next().unwrap_or_default().trim();
        let path = rest.trim_matches(|c| c == '"' || c == '`');
        (!path.is_empty()).then(|| path.to_string())
    })
}

/// The import path of the package in `dir`: its module's path plus the
/// directory below the module's root.
fn import_path(modules: &BTreeMap<String, String>, dir: &str) -> Option<String> {
    let mut at = dir;
    loop {
        if let Some(module) = modules.get(at) {
            let below = dir
                .get(at.len()..)
                .unwrap_or_default()
                .trim_start_matches('/');
            return Some(if below.is_empty() {
                module.clone()
            } else {
                format!("{module}/{below}")
            });
        }
        if at.is_empty() {
            return None;
        }
        at = at.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Str,
    Other(u8),
    /// `;`, or a newline where Go inserts one.
    Semi,
}

/// Go tokens, enough to find package-level `var` declarations: comments
/// dropped, string and rune literals as one token each.
fn tokens(src: &[u8]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    let ends_statement = |out: &Vec<Token>| {
        matches!(
            out.last(),
            Some(Token::Ident(_) | Token::Str | Token::Other(b')' | b']' | b'}'))
        )
    };
    while let Some(&c) = src.get(i) {
        match c {
            b'\n' => {
                if ends_statement(&out) {
                    out.push(Token::Semi);
                }
                i += 1;
            }
            b'/' if src.get(i + 1) == Some(&b'/') => {
                i += memchr::memchr(b'\n', src.get(i..).unwrap_or_default())
                    .unwrap_or(src.len() - i);
            }
            b'/' if src.get(i + 1) == Some(&b'*') => {
                let body = src.get(i + 2..).unwrap_or_default();
                let end = memchr::memmem::find(body, b"*/").unwrap_or(body.len());
                if body.get(..end).is_some_and(|b| b.contains(&b'\n')) && ends_statement(&out) {
                    out.push(Token::Semi);
                }
                i += 2 + end + 2;
            }
            b'"' | b'\'' => {
                i += 1;
                while let Some(&d) = src.get(i) {
                    i += 1;
                    if d == b'\\' {
                        i += 1;
                    } else if d == c || d == b'\n' {
                        break;
                    }
                }
                out.push(Token::Str);
            }
            b'`' => {
                let body = src.get(i + 1..).unwrap_or_default();
                i += 1 + memchr::memchr(b'`', body).map_or(body.len(), |e| e + 1);
                out.push(Token::Str);
            }
            b';' => {
                out.push(Token::Semi);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while src
                    .get(i)
                    .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'_' || d >= 0x80)
                {
                    i += 1;
                }
                let word = String::from_utf8_lossy(src.get(start..i).unwrap_or_default());
                out.push(Token::Ident(word.into_owned()));
            }
            c if c.is_ascii_digit() => {
                while src
                    .get(i)
                    .is_some_and(|&d| d.is_ascii_alphanumeric() || d == b'.' || d == b'_')
                {
                    i += 1;
                }
                out.push(Token::Ident(String::new()));
            }
            c if c.is_ascii_whitespace() => i += 1,
            c => {
                out.push(Token::Other(c));
                i += 1;
            }
        }
    }
    out
}

/// The package name and the package-level variables `-X` can set:
/// declared `string` without a value, or with one string literal.
fn string_vars(src: &[u8]) -> Option<(String, Vec<String>)> {
    let tokens = tokens(src);
    let mut at = tokens
        .iter()
        .position(|t| t == &Token::Ident("package".into()))?;
    let Some(Token::Ident(package)) = tokens.get(at + 1) else {
        return None;
    };
    at += 2;
    let mut vars = Vec::new();
    let mut depth = 0usize;
    while let Some(token) = tokens.get(at) {
        at += 1;
        match token {
            Token::Other(b'(' | b'[' | b'{') => depth += 1,
            Token::Other(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            Token::Ident(word) if depth == 0 && word == "var" => {
                if tokens.get(at) == Some(&Token::Other(b'(')) {
                    at += 1;
                    loop {
                        match tokens.get(at) {
                            None => break,
                            Some(Token::Other(b')')) => {
                                at += 1;
                                break;
                            }
                            Some(Token::Semi) => at += 1,
                            Some(_) => at = var_spec(&tokens, at, &mut vars),
                        }
                    }
                } else {
                    at = var_spec(&tokens, at, &mut vars);
                }
            }
            _ => {}
        }
    }
    Some((package.clone(), vars))
}

/// Reads one `names [type] [= values]` spec from `at`; returns where the
/// next one starts.
fn var_spec(tokens: &[Token], mut at: usize, vars: &mut Vec<String>) -> usize {
    let mut names = Vec::new();
    while let Some(Token::Ident(name)) = tokens.get(at) {
        names.push(name.clone());
        at += 1;
        if tokens.get(at) == Some(&Token::Other(b',')) {
            at += 1;
        } else {
            break;
        }
    }
    // The type and values, up to the end of the spec at bracket depth 0.
    let mut type_tokens: Vec<&Token> = Vec::new();
    let mut values: Vec<Vec<&Token>> = Vec::new();
    let mut in_values = false;
    let mut depth = 0usize;
    while let Some(token) = tokens.get(at) {
        match token {
            Token::Semi if depth == 0 => break,
            Token::Other(b')') if depth == 0 => break,
            Token::Other(b'(' | b'[' | b'{') => depth += 1,
            Token::Other(b')' | b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
        if depth == 0 && !in_values && token == &Token::Other(b'=') {
            in_values = true;
            values.push(Vec::new());
        } else if in_values {
            if depth == 0 && token == &Token::Other(b',') {
                values.push(Vec::new());
            } else if let Some(value) = values.last_mut() {
                value.push(token);
            }
        } else {
            type_tokens.push(token);
        }
    }
    let typed_string = type_tokens.as_slice() == [&Token::Ident("string".into())];
    let untyped = type_tokens.is_empty();
    for (i, name) in names.into_iter().enumerate() {
        let ok = match values.get(i) {
            None => typed_string && values.is_empty(),
            Some(value) => (typed_string || untyped) && value.as_slice() == [&Token::Str],
        };
        if ok && name != "_" {
            vars.push(name);
        }
    }
    at
}

/// What the values are taken from.
pub struct Facts<'a> {
    /// The version the binary would hold (the tag, `v1.2.0`).
    pub version: &'a str,
    /// Recipe text for it (`{version}`, or the tag).
    pub version_text: &'a str,
    /// Recipe text for it without a leading `v` (`{version_bare}`, or literal).
    pub bare_text: &'a str,
    /// The tag's `VERSION`-like file, when it has one
    /// ([`crate::rebuild::infer::metadata::version_file`]).
    pub version_file: Option<&'a VersionFile>,
    /// The tag's commit (40 hex digits).
    pub commit: &'a str,
    /// Recipe text for the full commit (`{vcs_revision}` or the commit).
    pub commit_text: &'a str,
    /// The commit time, RFC 3339 UTC.
    pub commit_date: &'a str,
    /// Recipe text for a build date read from the binary (`{input:build_date}`).
    pub build_date_text: &'a str,
}

/// A target and the values (recipe text) it may have been given, most
/// likely first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub symbol: String,
    pub values: Vec<String>,
    /// For each of `values`: the string the binary holds and where a
    /// release build takes it from (`1.2.0, the tag's VERSION file`).
    pub found: Vec<String>,
}

/// One value a target may have been given.
#[derive(Clone)]
struct Found {
    /// Recipe text.
    text: String,
    /// What the binary holds, and where it comes from.
    found: String,
}

impl Found {
    fn new(text: &str, literal: &str, source: &str) -> Self {
        Found {
            text: text.to_string(),
            found: format!("{literal}, {source}"),
        }
    }
}

/// Values for the targets whose package is in the binary, each a string
/// every platform's binary holds outside its build info: the version as
/// tagged (`v1.2.0`) or bare (`1.2.0`), the content of the tag's
/// `VERSION` file, the commit (full, or the abbreviation of 7-12 digits
/// found), `git describe --long` at the tag (`v1.2.0-0-g1a2b3c4d`, for a
/// commit or version variable), the commit date, else the one build date
/// [`BinaryStrings::dates`] finds. A value the binary holds only inside
/// the `git describe` string (the tag, the abbreviated commit) is not
/// proposed on its own. Targets with no such value are left out.
pub fn propose(
    targets: &[Target],
    binaries: &[&BinaryStrings<'_>],
    facts: &Facts<'_>,
) -> Vec<Proposal> {
    let everywhere = |needle: &[u8]| binaries.iter().all(|b| b.contains(needle));
    let bare = facts.version.strip_prefix('v').unwrap_or(facts.version);
    // `git describe --long` at the tag (`v1.2.0-0-g1a2b3c4d`; `--dirty`
    // adds nothing on a clean tree), with the longest abbreviation every
    // binary holds: what Makefiles set a commit or version variable to.
    let describe = (7..=12)
        .rev()
        .filter_map(|len| facts.commit.get(..len))
        .find(|short| everywhere(format!("{}-0-g{short}", facts.version).as_bytes()))
        .map(|short| {
            (
                format!("{}-0-g{short}", facts.version),
                format!("{}-0-g{short}", facts.version_text),
            )
        });
    let describe_bytes: Vec<&[u8]> = describe.iter().map(|(d, _)| d.as_bytes()).collect();
    let apart = |needle: &[u8]| {
        binaries
            .iter()
            .all(|b| b.contains_apart(needle, &describe_bytes))
    };
    // Where a version comes from: the tag, and the VERSION file when it
    // holds the same.
    let source = |what: &str, value: &str| match facts.version_file {
        Some(file) if file.value == value => {
            format!("{what}, as the tag's {} file holds", file.path)
        }
        _ => what.to_string(),
    };
    let mut version_values = Vec::new();
    if apart(facts.version.as_bytes()) {
        version_values.push(Found::new(
            facts.version_text,
            facts.version,
            &source("the tag", facts.version),
        ));
    }
    if bare != facts.version
        && binaries
            .iter()
            .all(|b| b.contains_not_after(bare.as_bytes(), b'v'))
    {
        version_values.push(Found::new(
            facts.bare_text,
            bare,
            &source("the tag without v", bare),
        ));
    }
    if let Some(file) = facts.version_file {
        if file.value != facts.version && file.value != bare && apart(file.value.as_bytes()) {
            version_values.push(Found::new(
                &file.value,
                &file.value,
                &format!("the tag's {} file", file.path),
            ));
        }
    }
    let forms: Vec<_> = binaries
        .iter()
        .map(|b| b.commit_forms(facts.commit))
        .collect();
    let mut commit_values = Vec::new();
    if !forms.is_empty() && forms.iter().all(|f| f.full) {
        commit_values.push(Found::new(
            facts.commit_text,
            facts.commit,
            "the tag's commit",
        ));
    }
    if let Some(Some(len)) = forms.first().map(|f| f.short) {
        if forms.iter().all(|f| f.short == Some(len)) {
            if let Some(short) = facts.commit.get(..len).filter(|s| apart(s.as_bytes())) {
                commit_values.push(Found::new(short, short, "the tag's commit, abbreviated"));
            }
        }
    }
    if let Some((literal, text)) = &describe {
        let found = Found::new(text, literal, "git describe --long at the tag");
        commit_values.insert(0, found.clone());
        version_values.push(found);
    }
    let commit_date_found = everywhere(facts.commit_date.as_bytes());
    let build_dates: Vec<&String> = binaries
        .iter()
        .filter_map(|b| {
            let dates = b.dates();
            (dates.len() == 1)
                .then(|| dates.first())
                .flatten()
                .filter(|d| d.as_str() != facts.commit_date)
        })
        .collect();
    let mut date_values = Vec::new();
    if commit_date_found {
        date_values.push(Found::new(
            facts.commit_date,
            facts.commit_date,
            "the commit's time",
        ));
    }
    if build_dates.len() == binaries.len() {
        if let Some(first) = build_dates.first() {
            date_values.push(Found::new(
                facts.build_date_text,
                first,
                "a build time, read from the binary",
            ));
        }
    }
    let numbers: Vec<&str> = bare.split(['.', '-', '+']).collect();
    let version_targets: Vec<&str> = targets
        .iter()
        .filter(|t| t.kind == Kind::Version)
        .map(|t| t.package.as_str())
        .collect();
    let fixed = |value: &str, source: &str| -> Vec<Found> {
        if everywhere(value.as_bytes()) {
            vec![Found::new(value, value, source)]
        } else {
            Vec::new()
        }
    };

    let mut out = Vec::new();
    for target in targets {
        let linked = target.package == "main"
            || binaries
                .iter()
                .all(|b| b.contains(format!("{}.", target.package).as_bytes()));
        if !linked {
            continue;
        }
        let values = match target.kind {
            Kind::Version => version_values.clone(),
            Kind::Commit => commit_values.clone(),
            Kind::Date => date_values.clone(),
            Kind::CommitDate => date_values
                .iter()
                .take(usize::from(commit_date_found))
                .cloned()
                .collect(),
            Kind::TreeState => fixed("clean", "the tree state of a clean checkout"),
            Kind::BuiltBy => fixed("goreleaser", "goreleaser's builder name"),
            Kind::Major | Kind::Minor => {
                let index = usize::from(target.kind == Kind::Minor);
                let with_version = version_targets.contains(&target.package.as_str())
                    && !version_values.is_empty();
                numbers
                    .get(index)
                    .filter(|n| {
                        with_version && !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())
                    })
                    .map(|n| {
                        let which = if index == 0 { "major" } else { "minor" };
                        vec![Found::new(
                            n,
                            n,
                            &format!("the tag's {which} version number"),
                        )]
                    })
                    .unwrap_or_default()
            }
        };
        if !values.is_empty() {
            out.push(Proposal {
                symbol: target.symbol.clone(),
                values: values.iter().map(|v| v.text.clone()).collect(),
                found: values.into_iter().map(|v| v.found).collect(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::infer::files::MemoryFiles;

    fn vars(src: &str) -> Vec<String> {
        string_vars(src.as_bytes())
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    #[test]
    fn finds_package_level_string_vars_in_every_form() {
        let src = r#"
// Package main.
package main

import "fmt"

var version = "dev" // set by -X
var Commit string
var date, builtBy = "unknown", `me`
var count = 3
var typed int
var (
	gitVersion   string = "v0.0.0-master+$Format:%H$"
	gitCommit    string = ""
	gitTreeState string
	buildDate    = "1970-01-01T00:00:00Z"
	notAString   = fmt.Sprint("x")
	wrapped = struct{ a string }{
		a: "x",
	}
	split string =
		"later"
)

func main() {
	var inner = "no"
	fmt.Println(inner, /* var fake = "x" */ version)
}

var after = "yes"
"#;
        assert_eq!(
            vars(src),
            vec![
                "version",
                "Commit",
                "date",
                "builtBy",
                "gitVersion",
                "gitCommit",
                "gitTreeState",
                "buildDate",
                "split",
                "after"
            ]
        );
        assert_eq!(string_vars(src.as_bytes()).unwrap().0, "main");
    }

    #[test]
    fn names_are_matched_case_insensitively() {
        assert_eq!(kind_of("GitVersion"), Some(Kind::Version));
        assert_eq!(kind_of("BUILDTIME"), Some(Kind::Date));
        assert_eq!(kind_of("gitSHA"), Some(Kind::Commit));
        assert_eq!(kind_of("goVersion"), None);
        assert_eq!(kind_of("timeout"), None);
    }

    #[test]
    fn targets_carry_their_import_paths() {
        let files = MemoryFiles::new([
            (
                "go.mod",
                "module github.com/acme/app // the app\n\ngo 1.21\n",
            ),
            ("cmd/app/main.go", "package main\nvar version = \"dev\"\n"),
            (
                "internal/v/v.go",
                "package v\nvar (\n\tGitCommit string\n\tother string\n)\n",
            ),
            ("internal/v/v_test.go", "package v\nvar date string\n"),
            ("vendor/x.io/y/y.go", "package y\nvar version string\n"),
            (
                "staging/src/k8s.io/cb/go.mod",
                "module k8s.io/component-base\n",
            ),
            (
                "staging/src/k8s.io/cb/version/base.go",
                "package version\nvar gitMajor string\n",
            ),
            ("testdata/t.go", "package t\nvar version string\n"),
        ]);
        let mut notes = Vec::new();
        let found = targets(&files, &mut notes);
        let symbols: Vec<(&str, Kind)> =
            found.iter().map(|t| (t.symbol.as_str(), t.kind)).collect();
        assert_eq!(
            symbols,
            vec![
                ("main.version", Kind::Version),
                ("github.com/acme/app/internal/v.GitCommit", Kind::Commit),
                ("k8s.io/component-base/version.gitMajor", Kind::Major),
            ]
        );
        assert!(notes.is_empty());
    }

    const COMMIT: &str = "3e0ddc0c43cd90ea33d77a68ef093be434f5af7e";

    fn facts() -> Facts<'static> {
        Facts {
            version: "v1.30.0",
            version_text: "{version}",
            bare_text: "{version_bare}",
            version_file: None,
            commit: COMMIT,
            commit_text: "{vcs_revision}",
            commit_date: "2024-01-02T03:04:05Z",
            build_date_text: "{input:build_date}",
        }
    }

    fn target(symbol: &str, kind: Kind) -> Target {
        let package = symbol.rsplit_once('.').unwrap().0.to_string();
        Target {
            symbol: symbol.into(),
            package,
            kind,
            file: "x.go".into(),
        }
    }

    #[test]
    fn proposes_only_values_the_binary_holds() {
        let binary =
            format!("\0k8s.io/cb/version.Get\0v1.30.0\0{COMMIT}\0x2024-01-02T03:09:10Z\0clean\0");
        let strings = [&BinaryStrings::new(binary.as_bytes())];
        let all = [
            target("main.version", Kind::Version),
            target("main.commit", Kind::Commit),
            target("main.date", Kind::Date),
            target("main.builtBy", Kind::BuiltBy),
            target("k8s.io/cb/version.gitVersion", Kind::Version),
            target("k8s.io/cb/version.gitTreeState", Kind::TreeState),
            target("k8s.io/cb/version.gitMajor", Kind::Major),
            target("k8s.io/cb/version.gitMinor", Kind::Minor),
            target("k8s.io/unlinked.version", Kind::Version),
        ];
        let proposals = propose(&all, &strings, &facts());
        let got: Vec<(&str, Vec<&str>)> = proposals
            .iter()
            .map(|p| {
                (
                    p.symbol.as_str(),
                    p.values.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("main.version", vec!["{version}"]),
                ("main.commit", vec!["{vcs_revision}"]),
                ("main.date", vec!["{input:build_date}"]),
                ("k8s.io/cb/version.gitVersion", vec!["{version}"]),
                ("k8s.io/cb/version.gitTreeState", vec!["clean"]),
                ("k8s.io/cb/version.gitMajor", vec!["1"]),
                ("k8s.io/cb/version.gitMinor", vec!["30"]),
            ]
        );
    }

    #[test]
    fn bare_version_short_commit_and_commit_date() {
        let binary = format!("\01.30.0\0{}\0\02024-01-02T03:04:05Z\0", &COMMIT[..8]);
        let strings = [&BinaryStrings::new(binary.as_bytes())];
        let all = [
            target("main.version", Kind::Version),
            target("main.commit", Kind::Commit),
            target("main.date", Kind::Date),
            target("main.commitDate", Kind::CommitDate),
        ];
        let got: Vec<Vec<String>> = propose(&all, &strings, &facts())
            .into_iter()
            .map(|p| p.values)
            .collect();
        assert_eq!(
            got,
            vec![
                vec!["{version_bare}".to_string()],
                vec![COMMIT[..8].to_string()],
                vec!["2024-01-02T03:04:05Z".to_string()],
                vec!["2024-01-02T03:04:05Z".to_string()],
            ]
        );
    }

    #[test]
    fn git_describe_long_at_the_tag_is_proposed_for_commit_and_version() {
        // A Makefile's `-X main.gitCommit=$(git describe --dirty --long --always)`.
        let binary = format!("\0v1.30.0-0-g{}\0", &COMMIT[..8]);
        let strings = [&BinaryStrings::new(binary.as_bytes())];
        let all = [
            target("main.gitCommit", Kind::Commit),
            target("main.version", Kind::Version),
        ];
        let got: Vec<(Vec<String>, Vec<String>)> = propose(&all, &strings, &facts())
            .into_iter()
            .map(|p| (p.values, p.found))
            .collect();
        // The tag and the abbreviation occur only inside it: not proposed alone.
        let describe = format!("{{version}}-0-g{}", &COMMIT[..8]);
        let found = format!(
            "v1.30.0-0-g{}, git describe --long at the tag",
            &COMMIT[..8]
        );
        assert_eq!(
            got,
            vec![
                (vec![describe.clone()], vec![found.clone()]),
                (vec![describe], vec![found]),
            ]
        );
    }

    #[test]
    fn the_version_file_and_describe_are_told_apart_from_the_tag_they_hold() {
        // `-X main.version=$(cat VERSION) -X main.gitCommit=$(git describe --long)`.
        let binary = format!("\0v1.30.0-rc.1-0-g{}1.30.0~rc1\0", &COMMIT[..7]);
        let strings = [&BinaryStrings::new(binary.as_bytes())];
        let all = [
            target("main.version", Kind::Version),
            target("main.gitCommit", Kind::Commit),
        ];
        let version_file = VersionFile {
            path: "VERSION".into(),
            value: "1.30.0~rc1".into(),
        };
        let facts = Facts {
            version: "v1.30.0-rc.1",
            version_file: Some(&version_file),
            ..facts()
        };
        let got: Vec<(String, Vec<String>, Vec<String>)> = propose(&all, &strings, &facts)
            .into_iter()
            .map(|p| (p.symbol, p.values, p.found))
            .collect();
        let describe = format!("{{version}}-0-g{}", &COMMIT[..7]);
        let described = format!(
            "v1.30.0-rc.1-0-g{}, git describe --long at the tag",
            &COMMIT[..7]
        );
        assert_eq!(
            got,
            vec![
                (
                    "main.version".to_string(),
                    vec!["1.30.0~rc1".to_string(), describe.clone()],
                    vec![
                        "1.30.0~rc1, the tag's VERSION file".to_string(),
                        described.clone()
                    ]
                ),
                (
                    "main.gitCommit".to_string(),
                    vec![describe],
                    vec![described]
                ),
            ]
        );
    }

    #[test]
    fn values_missing_from_one_platform_are_not_proposed() {
        let a = "\0v1.30.0\0".to_string();
        let b = "\0nothing\0".to_string();
        let (a, b) = (
            BinaryStrings::new(a.as_bytes()),
            BinaryStrings::new(b.as_bytes()),
        );
        let strings = [&a, &b];
        assert!(propose(&[target("main.version", Kind::Version)], &strings, &facts()).is_empty());
    }
}
