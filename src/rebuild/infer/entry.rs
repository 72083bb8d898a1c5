//! The project's own build entry points: the Makefile targets and build
//! scripts at the tree's root that make a file of the image binary's name,
//! found by reading them (nothing of the project runs here), each with the
//! commands it runs, variables expanded as make would, for the flags they
//! give.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use crate::rebuild::infer::files::SourceFiles;

/// The makefiles make looks for, in its order; the first that exists is read.
pub const MAKEFILES: [&str; 3] = ["GNUmakefile", "makefile", "Makefile"];
/// The build scripts read, in this order.
pub const BUILD_SCRIPTS: [&str; 4] = [
    "build.sh",
    "scripts/build.sh",
    "hack/build.sh",
    "script/build",
];
/// Largest makefile or build script read.
pub const MAX_ENTRY_FILE: usize = 1024 * 1024;
/// Most rules read from a makefile; the rest of the file is not read.
pub const MAX_RULES: usize = 2_000;
/// Deepest chain of variable references expanded (`A = $(B)`, `B = $(A)`
/// stops here).
pub const MAX_EXPANSION_DEPTH: usize = 16;
/// Longest text one expansion makes.
pub const MAX_EXPANDED: usize = 64 * 1024;
/// Most references one expansion follows.
pub const MAX_EXPANSION_STEPS: usize = 100_000;
/// Most bytes all expansions of one makefile make; later ones are empty.
pub const MAX_EXPANDED_IN_ALL: usize = 64 * 1024 * 1024;
/// Most lines of an entry point's [`EntryPoint::build_text`].
pub const MAX_BUILD_LINES: usize = 1_000;
/// Deepest chain of prerequisites followed.
pub const MAX_PREREQUISITE_DEPTH: usize = 32;
/// Most targets of one makefile read as entry points.
pub const MAX_ENTRY_POINTS: usize = 64;
/// Most targets one rule line gives a recipe to.
pub const MAX_RULE_TARGETS: usize = 256;
/// Most targets read from a makefile.
pub const MAX_TARGETS: usize = 20_000;
/// Most prerequisites a target has.
pub const MAX_PREREQUISITES: usize = 1_000;
/// Most notes given; one more says how many were left out.
pub const MAX_NOTES: usize = 32;

/// A way the project's own build makes the image binary: a Makefile
/// target, or a build script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    /// What runs it in the checkout's root: `["make"]` for the default
    /// goal, `["make", "static"]`, `["sh", "build.sh"]` (a script is run by
    /// `sh`, or `bash` when its `#!` line asks for bash, never by its
    /// executable bit).
    pub command: Vec<String>,
    /// The file it comes from (`Makefile`, `build.sh`).
    pub file: String,
    /// The make target, `None` for a script.
    pub target: Option<String>,
    /// Whether it is what the file builds by default (make's default goal;
    /// a script).
    pub default: bool,
    /// Where the binary lands, relative to the tree's root, normalised
    /// (`app`, `bin/app`), never absolute, never with `..`.
    pub output: String,
    /// The commands that build it, one per line: for a target, first
    /// `export NAME=value` for each variable the makefile exports to its
    /// commands, then the recipe lines of the target and of the targets it
    /// depends on or runs `$(MAKE) TARGET` for (prerequisites first, as
    /// make runs them), with the makefile's plain variables expanded and
    /// function calls (`$(shell ...)`) left as written; for a script, its
    /// command lines.
    pub build_text: String,
}

/// The entry points of the tree at its root whose output's file name is
/// `binary_name`: the makefile's default goal first, then its other targets
/// in the order the file lists them, then the build scripts in the order of
/// [`BUILD_SCRIPTS`]. Reads the first of [`MAKEFILES`] that exists and the
/// [`BUILD_SCRIPTS`], each at most [`MAX_ENTRY_FILE`] bytes, at most
/// [`MAX_RULES`] rules; `include` lines are skipped. A target is returned
/// when it is named after the binary (`app`, `bin/app`), when its own
/// recipe builds it (`go build -o PATH`, `go build PKG`, `cc -o PATH`,
/// also after `cd DIR &&`), or when it has no commands of its own but
/// prerequisites or `$(MAKE) TARGET` calls that do (`all: build`), but
/// for one that also runs `go test` (`test: build unit`).
/// `notes` gets one line per thing skipped that a reader should know.
pub fn entry_points(
    files: &dyn SourceFiles,
    binary_name: &str,
    notes: &mut Vec<String>,
) -> Vec<EntryPoint> {
    if !is_plain_name(binary_name) || binary_name.contains('/') {
        return Vec::new();
    }
    let mut notes = Notes {
        out: notes,
        seen: BTreeSet::new(),
        left_out: 0,
    };
    let module = read_bounded(files, "go.mod", &mut notes)
        .and_then(|text| super::go::xvars::module_path(text.as_bytes()));
    let mut entries = Vec::new();
    let makefile = MAKEFILES
        .iter()
        .find_map(|name| files.read(name).map(|bytes| (*name, bytes)));
    if let Some((file, bytes)) = makefile {
        if let Some(text) = bounded_text(file, bytes, &mut notes) {
            let finder = Finder {
                binary: binary_name,
                module: module.as_deref(),
                makefile: Some(file),
            };
            let makefile = Makefile::parse(&text, file, &mut notes);
            entries.extend(makefile.entry_points(file, &finder, &mut notes));
        }
    }
    for script in BUILD_SCRIPTS {
        if let Some(text) = read_bounded(files, script, &mut notes) {
            let finder = Finder {
                binary: binary_name,
                module: module.as_deref(),
                makefile: None,
            };
            entries.extend(script_entry(script, &text, &finder, &mut notes));
        }
    }
    if notes.left_out > 0 {
        notes.out.push(format!(
            "build entry point: {} more notes were left out",
            notes.left_out
        ));
    }
    entries
}

/// The notes being given: each once, at most [`MAX_NOTES`].
struct Notes<'a> {
    out: &'a mut Vec<String>,
    seen: BTreeSet<String>,
    /// How many more there were.
    left_out: usize,
}

impl Notes<'_> {
    fn push(&mut self, note: String) {
        if self.seen.contains(&note) {
            return;
        }
        if self.seen.len() < MAX_NOTES {
            self.out.push(note.clone());
            self.seen.insert(note);
        } else {
            self.left_out += 1;
            self.seen.insert(note);
        }
    }
}

/// The file at `path` as text, or `None` when it is absent or (with a
/// note) larger than [`MAX_ENTRY_FILE`].
fn read_bounded(files: &dyn SourceFiles, path: &str, notes: &mut Notes<'_>) -> Option<String> {
    bounded_text(path, files.read(path)?, notes)
}

/// `bytes`, the file at `path`, as text, or `None` (with a note) when they
/// are more than [`MAX_ENTRY_FILE`].
fn bounded_text(path: &str, bytes: Vec<u8>, notes: &mut Notes<'_>) -> Option<String> {
    if bytes.len() > MAX_ENTRY_FILE {
        notes.push(format!(
            "build entry point: {path} is larger than {MAX_ENTRY_FILE} bytes and was not read"
        ));
        return None;
    }
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// Whether `name` has only the bytes a target or output may have:
/// `[A-Za-z0-9._/+-]`.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._/+-".contains(&b))
}

/// `path` relative to the root, without `.` and empty components, or
/// `None` when it is absolute, has `..`, or bytes outside
/// [`is_plain_name`].
fn normalise(path: &str) -> Option<String> {
    if !is_plain_name(path) || path.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return None,
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// The last component of a `/`-separated path.
fn file_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

// ---------------------------------------------------------------- commands

/// What a shell word list is made of: words (quotes removed) and the
/// operators between commands.
#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Separator,
}

/// The words and command separators (`;`, `&&`, `||`, `|`, `&`) of a shell
/// line, quotes removed. `$(...)` and `` `...` `` stay inside their word.
fn tokens(line: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let mut parens = 0usize;
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for q in chars.by_ref() {
                    if q == '\'' {
                        break;
                    }
                    word.push(q);
                }
            }
            '"' => {
                in_word = true;
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(&next) = chars.peek() {
                                if matches!(next, '"' | '\\' | '$' | '`') {
                                    chars.next();
                                }
                                word.push(if matches!(next, '"' | '\\' | '$' | '`') {
                                    next
                                } else {
                                    '\\'
                                });
                            }
                        }
                        q => word.push(q),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            '(' => {
                if word.ends_with('$') || parens > 0 {
                    parens += 1;
                }
                in_word = true;
                word.push(c);
            }
            ')' if parens > 0 => {
                parens -= 1;
                word.push(c);
            }
            c if parens > 0 => word.push(c),
            ';' | '&' | '|' => {
                if in_word {
                    out.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
                if chars.peek() == Some(&c) {
                    chars.next();
                }
                out.push(Token::Separator);
            }
            c if c.is_whitespace() => {
                if in_word {
                    out.push(Token::Word(std::mem::take(&mut word)));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(Token::Word(word));
    }
    out
}

/// Flags of `go build` that take a value as the next word.
const GO_VALUE_FLAGS: &[&str] = &[
    "o",
    "C",
    "p",
    "asmflags",
    "buildmode",
    "compiler",
    "gccgoflags",
    "gcflags",
    "installsuffix",
    "ldflags",
    "mod",
    "modfile",
    "overlay",
    "pgo",
    "pkgdir",
    "tags",
    "toolexec",
    "covermode",
    "coverpkg",
];

/// The ways a path may name the checkout's root: make's `$(CURDIR)`, the
/// environment's `$PWD`, `$(shell pwd)` and the shell's `$(pwd)`.
const ROOT_NAMES: &[&str] = &[
    "$(CURDIR)",
    "${CURDIR}",
    "$(PWD)",
    "${PWD}",
    "$PWD",
    "$(shell pwd)",
    "$(pwd)",
    "`pwd`",
];

/// A `make` run by a recipe line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SubMake {
    /// The goals it is given; empty for the default goal.
    targets: Vec<String>,
    /// `NAME=value` arguments.
    overrides: Vec<(String, String)>,
}

/// What a command line does that matters here.
#[derive(Debug, Default)]
struct LineEffects {
    /// Files of the binary's name it builds, root-relative.
    outputs: Vec<String>,
    /// The makes it runs in this file.
    makes: Vec<SubMake>,
    /// Whether it runs anything other than those makes.
    other_commands: bool,
    /// Whether it runs `go test`.
    runs_tests: bool,
}

/// Finds the files of one binary name that commands build.
struct Finder<'a> {
    binary: &'a str,
    /// The module path of the root's `go.mod`, naming what `go build .` makes.
    module: Option<&'a str>,
    /// The makefile whose commands these are, which `$(MAKE) -f` may name.
    makefile: Option<&'a str>,
}

impl Finder<'_> {
    /// What the shell line `line` builds and runs.
    fn effects(&self, line: &str, notes: &mut Notes<'_>) -> LineEffects {
        let mut effects = LineEffects::default();
        let tokens = tokens(line);
        let mut dir: Option<String> = Some(String::new());
        for command in tokens.split(|t| *t == Token::Separator) {
            let words: Vec<&str> = command
                .iter()
                .filter_map(|t| match t {
                    Token::Word(w) => Some(w.as_str()),
                    Token::Separator => None,
                })
                .collect();
            let words = skip_assignments(&words);
            let Some(&program) = words.first() else {
                continue;
            };
            let args = words.get(1..).unwrap_or_default();
            match file_name(program) {
                "cd" => {
                    let to = args.first().copied().unwrap_or("");
                    dir = change_dir(dir.as_deref(), to);
                }
                "make" | "gmake" => match sub_make(args, self.makefile) {
                    Ok(make) => effects.makes.push(make),
                    Err(why) => {
                        notes.push(format!(
                            "build entry point: `{}` skipped: {why}",
                            words.join(" ")
                        ));
                        effects.other_commands = true;
                    }
                },
                "go" => {
                    effects.other_commands = true;
                    // `go -C DIR build`: -C comes before the command.
                    let (change_dir, command) = match args {
                        ["-C", to, rest @ ..] => (vec!["-C", *to], rest),
                        [flag, rest @ ..] if flag.starts_with("-C=") => (vec![*flag], rest),
                        _ => (Vec::new(), args),
                    };
                    effects.runs_tests |= command.first() == Some(&"test");
                    if let Some((&"build", build)) = command.split_first() {
                        let build: Vec<&str> = change_dir
                            .into_iter()
                            .chain(build.iter().copied())
                            .collect();
                        let built = self.go_build(&build, dir.as_deref());
                        self.take(built, line, &mut effects, notes);
                    }
                }
                name if is_c_compiler(name) => {
                    effects.other_commands = true;
                    let built = c_output(args).map(|o| self.place(o, dir.as_deref()));
                    self.take(built, line, &mut effects, notes);
                }
                _ => effects.other_commands = true,
            }
        }
        effects
    }

    /// Adds what a command built when it is the binary: a resolved path, or
    /// a note when only its file name is known.
    fn take(
        &self,
        built: Option<Place>,
        line: &str,
        effects: &mut LineEffects,
        notes: &mut Notes<'_>,
    ) {
        match built {
            Some(Place::Resolved(path)) if file_name(&path) == self.binary => {
                effects.outputs.push(path)
            }
            Some(Place::Unresolved(path)) if file_name(&path) == self.binary => {
                notes.push(format!(
                    "build entry point: cannot tell where `{}` puts {path}",
                    line.trim()
                ))
            }
            _ => {}
        }
    }

    /// Where `go build ARGS` run in `dir` puts its executable.
    fn go_build(&self, args: &[&str], dir: Option<&str>) -> Option<Place> {
        let mut output = None;
        let mut change_dir = None;
        let mut packages = Vec::new();
        let mut i = 0;
        while let Some(&word) = args.get(i) {
            i += 1;
            if word == "--" {
                packages.extend(args.get(i..).unwrap_or_default());
                break;
            }
            let Some(flag) = word.strip_prefix('-') else {
                packages.push(word);
                continue;
            };
            let flag = flag.strip_prefix('-').unwrap_or(flag);
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (flag, None),
            };
            if !GO_VALUE_FLAGS.contains(&name) {
                continue;
            }
            let value = inline.or_else(|| {
                i += 1;
                args.get(i - 1).copied()
            });
            match name {
                "o" => output = value,
                "C" => change_dir = value,
                _ => {}
            }
        }
        let dir = match change_dir {
            Some(to) => self::change_dir(dir, to),
            None => dir.map(str::to_string),
        };
        let package_name = match packages.as_slice() {
            [] => self.package_name(".", dir.as_deref()),
            [one] => self.package_name(one, dir.as_deref()),
            [first, ..] if first.ends_with(".go") => self.package_name(first, dir.as_deref()),
            _ => None,
        };
        let output = match output {
            Some(out) if out.ends_with('/') => format!("{out}{}", package_name?),
            Some(out) => out.to_string(),
            None => package_name?,
        };
        Some(self.place(&output, dir.as_deref()))
    }

    /// The file name `go build PACKAGE` gives its executable in `dir`: the
    /// last element of the import path that is not a major version (`.` at
    /// the root: the module path's), or a `.go` file's stem.
    fn package_name(&self, package: &str, dir: Option<&str>) -> Option<String> {
        if let Some(stem) = package.strip_suffix(".go") {
            return Some(file_name(stem).to_string());
        }
        if package.contains('$') || package.contains("...") {
            return None;
        }
        let path = if package == "." || package == "./" {
            match dir? {
                "" => self.module?.to_string(),
                dir => dir.to_string(),
            }
        } else {
            package.trim_end_matches('/').to_string()
        };
        let elements: Vec<&str> = path
            .split('/')
            .filter(|e| !e.is_empty() && *e != ".")
            .collect();
        let last = elements.last()?;
        let major = last.len() > 1
            && last.starts_with('v')
            && last.bytes().skip(1).all(|b| b.is_ascii_digit())
            && elements.len() > 1;
        let name = if major {
            elements.get(elements.len() - 2)?
        } else {
            last
        };
        Some(name.to_string())
    }

    /// `output` as written, placed relative to `dir` (unknown: `None`).
    fn place(&self, output: &str, dir: Option<&str>) -> Place {
        let rooted = ROOT_NAMES.iter().find_map(|root| output.strip_prefix(root));
        let resolved = match rooted {
            Some(rest) => normalise(rest.trim_start_matches('/')),
            None if output.contains('$') || output.contains('`') => None,
            None => dir.and_then(|dir| normalise(output).map(|out| join(dir, &out))),
        };
        match resolved {
            Some(path) => Place::Resolved(path),
            None => Place::Unresolved(output.to_string()),
        }
    }
}

/// Where a command puts a file.
enum Place {
    /// Root-relative and normalised.
    Resolved(String),
    /// As written: not under the root, or not known.
    Unresolved(String),
}

/// The directory `cd TO` (or `go -C TO`) moves to from `from` (`None`:
/// unknown), root-relative (`""`: the root).
fn change_dir(from: Option<&str>, to: &str) -> Option<String> {
    let rooted = ROOT_NAMES
        .iter()
        .find_map(|root| to.strip_prefix(root))
        .filter(|rest| rest.is_empty() || rest.starts_with('/'));
    let (from, to) = match rooted {
        Some(rest) => ("", rest.trim_start_matches('/')),
        // `cd` alone goes home.
        None if to.is_empty() || to.starts_with('/') || to.contains('$') => return None,
        None => (from?, to),
    };
    if to.split('/').all(|part| part.is_empty() || part == ".") {
        return Some(from.to_string());
    }
    normalise(to).map(|to| join(from, &to))
}

/// `dir/path`, or `path` at the root.
fn join(dir: &str, path: &str) -> String {
    if dir.is_empty() {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    }
}

/// `words` after any leading `NAME=value` assignments and `env`.
fn skip_assignments<'a, 'b>(mut words: &'b [&'a str]) -> &'b [&'a str] {
    while let Some((first, rest)) = words.split_first() {
        if *first == "env" || assignment(first).is_some() {
            words = rest;
        } else {
            break;
        }
    }
    words
}

/// `NAME=value` as name and value.
fn assignment(word: &str) -> Option<(&str, &str)> {
    let (name, value) = word.split_once('=')?;
    let mut bytes = name.bytes();
    let first = bytes.next()?;
    ((first.is_ascii_alphabetic() || first == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    .then_some((name, value))
}

/// Whether a program name is a C compiler (`cc`, `gcc`, `clang`,
/// `x86_64-linux-gnu-gcc`).
fn is_c_compiler(name: &str) -> bool {
    ["cc", "gcc", "clang", "c++", "g++", "clang++"]
        .iter()
        .any(|cc| name == *cc || name.strip_suffix(cc).is_some_and(|p| p.ends_with('-')))
}

/// The `-o` of a compiler's arguments.
fn c_output<'a>(args: &[&'a str]) -> Option<&'a str> {
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if *word == "-o" {
            return words.next().copied();
        }
        if let Some(out) = word.strip_prefix("-o") {
            return Some(out);
        }
    }
    None
}

/// The goals and overrides of a `make ARGS` run on `makefile` again, or
/// why it is not one (another directory or makefile). `-C` may name the
/// root (`$(CURDIR)`), `-f` this makefile, at the root or in the directory
/// of `$(MAKEFILE_LIST)`.
fn sub_make(args: &[&str], makefile: Option<&str>) -> Result<SubMake, String> {
    let mut make = SubMake {
        targets: Vec::new(),
        overrides: Vec::new(),
    };
    let mut words = args.iter();
    while let Some(&word) = words.next() {
        let valued = |short: &str, long: &[&str]| -> Option<String> {
            if word == short || long.contains(&word) {
                return Some(String::new());
            }
            let inline = word
                .strip_prefix(short)
                .filter(|v| !v.is_empty())
                .or_else(|| {
                    long.iter()
                        .find_map(|flag| word.strip_prefix(flag).and_then(|v| v.strip_prefix('=')))
                });
            inline.map(str::to_string)
        };
        let value = |inline: String, words: &mut std::slice::Iter<'_, &str>| {
            if inline.is_empty() {
                words.next().map_or_else(String::new, |v| v.to_string())
            } else {
                inline
            }
        };
        if let Some(inline) = valued("-C", &["--directory"]) {
            let dir = value(inline, &mut words);
            let dir = dir.trim_end_matches('/');
            if !(dir == "." || ROOT_NAMES.contains(&dir)) {
                return Err("it runs make in another directory".into());
            }
            continue;
        }
        if let Some(inline) = valued("-f", &["--file", "--makefile"]) {
            let path = value(inline, &mut words);
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", &path));
            let this = makefile.is_some_and(|m| m == name)
                && (dir.is_empty()
                    || dir == "."
                    || ROOT_NAMES.contains(&dir)
                    || dir.contains("MAKEFILE_LIST"));
            if !this {
                return Err("it runs make on another makefile".into());
            }
            continue;
        }
        if ["-I", "-o", "-W", "--include-dir", "--old-file", "--what-if"].contains(&word) {
            words.next();
            continue;
        }
        if word.starts_with('-') || word.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        match assignment(word) {
            Some((name, value)) => make.overrides.push((name.to_string(), value.to_string())),
            None => make.targets.push(word.to_string()),
        }
    }
    Ok(make)
}

// ----------------------------------------------------------------- scripts

/// The shell a script asks for on its `#!` line: `bash` for bash (which
/// `sh` may not be), else `sh`; never a path the script names.
fn interpreter(text: &str) -> &'static str {
    let first = text.lines().next().unwrap_or_default();
    let asks = first.strip_prefix("#!").map(|rest| {
        rest.split_whitespace()
            .find(|w| *w != "/usr/bin/env" && !w.starts_with('-'))
            .map_or("", |w| w.rsplit('/').next().unwrap_or(w))
    });
    if asks == Some("bash") {
        "bash"
    } else {
        "sh"
    }
}

/// The build script at `path` as an entry point, when it builds the binary.
/// Its plain variables (`OUT=bin`, `OUT=${OUT:-bin}`) are read as it sets
/// them, top to bottom.
fn script_entry(
    path: &str,
    text: &str,
    finder: &Finder<'_>,
    notes: &mut Notes<'_>,
) -> Option<EntryPoint> {
    let joined = text.replace("\\\r\n", "").replace("\\\n", "");
    let mut lines: Vec<&str> = joined
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    if lines.len() > MAX_BUILD_LINES {
        notes.push(format!(
            "build entry point: {path} has more than {MAX_BUILD_LINES} command lines; the rest was not read"
        ));
        lines.truncate(MAX_BUILD_LINES);
    }
    let mut vars = BTreeMap::new();
    let mut output = None;
    for line in &lines {
        if let Some((name, value)) = shell_assignment(line, &vars) {
            match value {
                Some(value) => vars.insert(name, value),
                None => vars.remove(&name),
            };
            continue;
        }
        let effects = finder.effects(&substitute(line, &vars), notes);
        if let Some(built) = effects.outputs.into_iter().next() {
            output = Some(built);
            break;
        }
    }
    let output = output?;
    Some(EntryPoint {
        command: vec![interpreter(text).into(), path.into()],
        file: path.into(),
        target: None,
        default: true,
        output,
        build_text: lines.join("\n"),
    })
}

/// A line that only sets a shell variable: its name, and its value when
/// it is plain (no expansion but `${NAME:-plain}` of itself).
fn shell_assignment(
    line: &str,
    vars: &BTreeMap<String, String>,
) -> Option<(String, Option<String>)> {
    let line = line.strip_prefix("export ").unwrap_or(line);
    let tokens = tokens(line);
    let [Token::Word(word)] = tokens.as_slice() else {
        return None;
    };
    let (name, value) = assignment(word)?;
    if !value.contains(['$', '`']) {
        return Some((name.to_string(), Some(value.to_string())));
    }
    let fallback = [":-", ":=", "-", "="].iter().find_map(|op| {
        value
            .strip_prefix("${")?
            .strip_suffix('}')?
            .strip_prefix(name)?
            .strip_prefix(op)
            .filter(|fallback| !fallback.contains(['$', '`', '}']))
    });
    let value = match (vars.get(name), fallback) {
        (Some(set), Some(_)) => Some(set.clone()),
        (None, Some(fallback)) => Some(fallback.to_string()),
        (_, None) => None,
    };
    Some((name.to_string(), value))
}

/// `line` with `$NAME` and `${NAME}` of the known `vars` replaced.
fn substitute(line: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find('$') {
        out.push_str(rest.get(..at).unwrap_or(""));
        let after = rest.get(at + 1..).unwrap_or("");
        let (name, len) = match after.strip_prefix('{') {
            Some(braced) => match braced.find('}') {
                Some(end) => (braced.get(..end).unwrap_or(""), end + 2),
                None => ("", 0),
            },
            None => {
                let end = after
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(after.len());
                (after.get(..end).unwrap_or(""), end)
            }
        };
        match vars.get(name) {
            Some(value) => {
                out.push_str(value);
                rest = after.get(len..).unwrap_or("");
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

// ---------------------------------------------------------------- makefile

/// How a variable's value is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    /// `=`: expanded at each use.
    Recursive,
    /// `:=`: expanded once, when defined.
    Simple,
}

/// A makefile variable.
#[derive(Debug, Clone)]
struct Var {
    flavor: Flavor,
    value: String,
}

/// A target-specific variable (`static: FLAGS += -x`).
#[derive(Debug, Clone)]
enum TargetVar {
    Set(Var),
    /// `+=`: the outer value, then this text.
    Append(String),
    /// `?=`: this value when no outer one exists.
    Default(String),
}

/// A target's rules, merged.
#[derive(Debug, Default)]
struct Rule {
    prerequisites: Vec<String>,
    /// Its recipe in [`Makefile::recipes`] (the last rule with a recipe
    /// wins, as in make).
    recipe: Option<usize>,
}

/// An assignment operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Recursive,
    Simple,
    Default,
    Append,
    Shell,
}

/// A makefile as read: its variables, rules and target-specific variables.
#[derive(Debug, Default)]
struct Makefile {
    vars: BTreeMap<String, Var>,
    rules: BTreeMap<String, Rule>,
    /// The raw recipe lines of each rule line that has them, shared by its
    /// targets.
    recipes: Vec<Vec<String>>,
    /// Targets with rules, in the order the file first gives them.
    order: Vec<String>,
    target_vars: BTreeMap<String, BTreeMap<String, TargetVar>>,
    /// The first rule's first ordinary target, as expanded (make's default
    /// goal when `.DEFAULT_GOAL` is not set).
    first_target: Option<String>,
    /// The variables exported to the commands, in the order first
    /// exported: everywhere, or (`target: export NAME = value`) for one
    /// target's.
    exported: Vec<(String, Option<String>)>,
    /// The bytes expansions have made, up to [`MAX_EXPANDED_IN_ALL`].
    spent: Cell<usize>,
    /// Whether an expansion was cut at [`MAX_EXPANDED`] bytes.
    cut: Cell<bool>,
    /// Whether references nested deeper than [`MAX_EXPANSION_DEPTH`], or
    /// more than [`MAX_EXPANSION_STEPS`], were left as written.
    looped: Cell<bool>,
}

/// A conditional being read: whether its current branch is read, and
/// whether one of its branches was.
#[derive(Debug, Clone, Copy)]
struct Conditional {
    outer_active: bool,
    active: bool,
    taken: bool,
}

/// Where one statement splits: an assignment or a rule.
enum Statement<'a> {
    Assign(&'a str, Op, &'a str),
    /// Targets and what follows their colon.
    Rule(&'a str, &'a str),
    Other,
}

impl Makefile {
    /// Reads `text`, the makefile `file`.
    fn parse(text: &str, file: &str, notes: &mut Notes<'_>) -> Self {
        let mut makefile = Makefile::default();
        let lines: Vec<&str> = text
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let mut conditionals: Vec<Conditional> = Vec::new();
        // The targets of the rule being read, and its recipe once it has one.
        let mut current: Option<(Vec<String>, Option<usize>)> = None;
        let mut rules = 0usize;
        let mut i = 0;
        while let Some(&line) = lines.get(i) {
            i += 1;
            let active = conditionals.last().is_none_or(|c| c.active);
            if line.starts_with('\t') && current.is_some() {
                let mut recipe = line.to_string();
                while ends_continued(&recipe) {
                    let Some(next) = lines.get(i) else { break };
                    i += 1;
                    recipe.pop();
                    recipe.push_str(next.strip_prefix('\t').unwrap_or(next));
                }
                if let (true, Some((targets, index))) = (active, &mut current) {
                    let index = *index.get_or_insert_with(|| makefile.new_recipe(targets));
                    if let Some(lines) = makefile.recipes.get_mut(index) {
                        lines.push(recipe);
                    }
                }
                continue;
            }
            let mut logical = line.to_string();
            while ends_continued(&logical) {
                let Some(next) = lines.get(i) else { break };
                i += 1;
                logical.pop();
                logical.truncate(logical.trim_end().len());
                logical.push(' ');
                logical.push_str(next.trim_start());
            }
            let statement = strip_comment(&logical);
            let trimmed = statement.trim();
            if trimmed.is_empty() {
                continue;
            }
            let (word, rest) = split_word(trimmed);
            if matches!(
                word,
                "ifeq" | "ifneq" | "ifdef" | "ifndef" | "else" | "endif"
            ) {
                makefile.conditional(word, rest, &mut conditionals, file, notes);
                continue;
            }
            if word == "define" {
                i = makefile.define(rest, &lines, i, active);
                current = None;
                continue;
            }
            if !active {
                continue;
            }
            current = None;
            if matches!(word, "include" | "-include" | "sinclude") {
                notes.push(format!("build entry point: {file}: `{trimmed}` not read"));
                continue;
            }
            if word == "vpath" {
                continue;
            }
            if word == "unexport" {
                let names = makefile.expand_now(rest);
                let names: Vec<&str> = names.split_whitespace().collect();
                makefile
                    .exported
                    .retain(|(name, target)| target.is_some() || !names.contains(&name.as_str()));
                continue;
            }
            let exported = word == "export" || word == "override" && split_word(rest).0 == "export";
            let body = strip_modifiers(&statement);
            match split_statement(body) {
                Statement::Assign(name, op, value) => {
                    let name = makefile.expand_now(name.trim());
                    if !name.is_empty() && !name.contains(char::is_whitespace) {
                        if exported {
                            makefile.export(&name, None);
                        }
                        makefile.assign(name, op, value);
                    }
                }
                Statement::Other if exported => {
                    for name in makefile.expand_now(body).split_whitespace() {
                        makefile.export(name, None);
                    }
                }
                Statement::Rule(targets, rest) => {
                    rules += 1;
                    if rules > MAX_RULES {
                        notes.push(format!(
                            "build entry point: {file} has more than {MAX_RULES} rules; the rest was not read"
                        ));
                        break;
                    }
                    current = Some(makefile.rule(targets, rest, file, notes));
                }
                Statement::Other => {}
            }
        }
        makefile
    }

    /// Reads a conditional directive.
    fn conditional(
        &self,
        word: &str,
        rest: &str,
        stack: &mut Vec<Conditional>,
        file: &str,
        notes: &mut Notes<'_>,
    ) {
        let outer = stack.last().is_none_or(|c| c.active);
        match word {
            "endif" => {
                stack.pop();
            }
            "else" => {
                if let Some(top) = stack.last_mut() {
                    let (word, rest) = split_word(rest);
                    let holds = if word.is_empty() {
                        true
                    } else {
                        self.condition(word, rest, file, notes)
                    };
                    top.active = top.outer_active && !top.taken && holds;
                    top.taken |= top.active;
                }
            }
            _ => {
                let holds = outer && self.condition(word, rest, file, notes);
                stack.push(Conditional {
                    outer_active: outer,
                    active: holds,
                    taken: holds,
                });
            }
        }
    }

    /// Whether `ifeq ...` (or another conditional) holds; one that depends
    /// on a function's result is taken as holding, with a note.
    fn condition(&self, word: &str, rest: &str, file: &str, notes: &mut Notes<'_>) -> bool {
        let unknown = |notes: &mut Notes<'_>| {
            notes.push(format!(
                "build entry point: {file}: `{word} {rest}` cannot be decided here; its first branch was read"
            ));
            true
        };
        match word {
            "ifdef" | "ifndef" => {
                let name = self.expand_now(rest.trim());
                let defined = self.vars.get(&name).is_some_and(|v| !v.value.is_empty());
                defined == (word == "ifdef")
            }
            "ifeq" | "ifneq" => {
                let Some((a, b)) = condition_operands(rest) else {
                    return unknown(notes);
                };
                let (a, b) = (linux(&self.expand_now(a)), linux(&self.expand_now(b)));
                if a.contains('$') || b.contains('$') {
                    return unknown(notes);
                }
                (a == b) == (word == "ifeq")
            }
            _ => unknown(notes),
        }
    }

    /// Reads `define NAME [op]` up to its `endef`; returns the next line.
    fn define(&mut self, header: &str, lines: &[&str], mut i: usize, active: bool) -> usize {
        let header = header.trim();
        let (name, op) = match header.rsplit_once(char::is_whitespace) {
            Some((name, op)) => match op {
                "=" => (name.trim(), Op::Recursive),
                ":=" | "::=" | ":::=" => (name.trim(), Op::Simple),
                "?=" => (name.trim(), Op::Default),
                "+=" => (name.trim(), Op::Append),
                _ => (header, Op::Recursive),
            },
            None => (header, Op::Recursive),
        };
        let mut body = Vec::new();
        let mut depth = 0usize;
        while let Some(&line) = lines.get(i) {
            i += 1;
            let (word, _) = split_word(line.trim());
            if word == "endef" {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            } else if word == "define" {
                depth += 1;
            }
            body.push(line);
        }
        if active {
            let name = self.expand_now(name);
            self.assign(name, op, &body.join("\n"));
        }
        i
    }

    /// Marks `name` exported, everywhere or for `target`'s commands.
    /// At most [`MAX_BUILD_LINES`] are kept.
    fn export(&mut self, name: &str, target: Option<&str>) {
        if self.exported.len() >= MAX_BUILD_LINES {
            return;
        }
        let entry = (name.to_string(), target.map(str::to_string));
        if !self.exported.contains(&entry) {
            self.exported.push(entry);
        }
    }

    /// The `export NAME=value` lines of the variables `target`'s commands
    /// get from the makefile: those exported and defined.
    fn export_lines(&self, target: &str) -> Vec<String> {
        let scopes = [target.to_string()];
        let no_overrides = BTreeMap::new();
        let expander = Expander::new(self, &scopes, &no_overrides, Some(target));
        let mut seen = BTreeSet::new();
        self.exported
            .iter()
            .filter(|(_, only)| only.as_deref().is_none_or(|only| only == target))
            .filter(|(name, _)| seen.insert(name.as_str()))
            .filter(|(name, _)| expander.defined(name, scopes.len()))
            .take(MAX_BUILD_LINES)
            .map(|(name, _)| format!("export {name}={}", expander.expand(&format!("$({name})"))))
            .collect()
    }

    /// `NAME op value`, read where it appears.
    fn assign(&mut self, name: String, op: Op, value: &str) {
        let value = value.trim_start();
        let var = match (op, self.vars.get(&name)) {
            (Op::Default, Some(_)) => return,
            (Op::Recursive | Op::Default, _) | (Op::Append, None) => Var {
                flavor: Flavor::Recursive,
                value: value.into(),
            },
            (Op::Simple, _) => Var {
                flavor: Flavor::Simple,
                value: self.expand_now(value),
            },
            (Op::Shell, _) => Var {
                flavor: Flavor::Simple,
                value: format!("$(shell {value})"),
            },
            (Op::Append, Some(old)) => {
                let added = match old.flavor {
                    Flavor::Simple => self.expand_now(value),
                    Flavor::Recursive => value.to_string(),
                };
                Var {
                    flavor: old.flavor,
                    value: append(&old.value, &added),
                }
            }
        };
        self.vars.insert(name, var);
    }

    /// A new, empty recipe for `targets`; its index in [`Makefile::recipes`].
    fn new_recipe(&mut self, targets: &[String]) -> usize {
        let index = self.recipes.len();
        self.recipes.push(Vec::new());
        for target in targets {
            if let Some(rule) = self.rules.get_mut(target) {
                rule.recipe = Some(index);
            }
        }
        index
    }

    /// A rule line: records its targets' prerequisites or target-specific
    /// variable; returns the targets its recipe lines go to, and the recipe
    /// it gave them on the line (`target: ; command`).
    fn rule(
        &mut self,
        targets: &str,
        rest: &str,
        file: &str,
        notes: &mut Notes<'_>,
    ) -> (Vec<String>, Option<usize>) {
        let targets = self.expand_now(targets);
        let targets: Vec<String> = targets.split_whitespace().map(str::to_string).collect();
        let rest = rest.strip_prefix(':').unwrap_or(rest);
        let exported = rest
            .split_whitespace()
            .take_while(|w| matches!(*w, "override" | "export" | "private"))
            .any(|w| w == "export");
        if let Statement::Assign(name, op, value) = split_statement(strip_modifiers(rest)) {
            let name = self.expand_now(name.trim());
            if exported {
                for target in targets
                    .iter()
                    .filter(|t| ordinary_target(t))
                    .take(MAX_RULE_TARGETS)
                {
                    self.export(&name, Some(target));
                }
            }
            let var = match op {
                Op::Append => TargetVar::Append(value.trim_start().into()),
                Op::Default => TargetVar::Default(value.trim_start().into()),
                Op::Simple => TargetVar::Set(Var {
                    flavor: Flavor::Simple,
                    value: self.expand_now(value.trim_start()),
                }),
                Op::Recursive => TargetVar::Set(Var {
                    flavor: Flavor::Recursive,
                    value: value.trim_start().into(),
                }),
                Op::Shell => TargetVar::Set(Var {
                    flavor: Flavor::Simple,
                    value: format!("$(shell {})", value.trim_start()),
                }),
            };
            for target in targets
                .iter()
                .filter(|t| ordinary_target(t))
                .take(MAX_RULE_TARGETS)
            {
                let vars = self.target_vars.entry(target.clone()).or_default();
                let merged = match (vars.remove(&name), var.clone()) {
                    (Some(TargetVar::Append(old)), TargetVar::Append(new)) => {
                        TargetVar::Append(append(&old, &new))
                    }
                    (Some(TargetVar::Set(old)), TargetVar::Append(new)) => TargetVar::Set(Var {
                        flavor: old.flavor,
                        value: append(&old.value, &new),
                    }),
                    (_, var) => var,
                };
                vars.insert(name.clone(), merged);
            }
            return (Vec::new(), None);
        }
        let (prerequisites, inline) = match split_top_level(rest, ';') {
            Some((before, after)) => (before, Some(after)),
            None => (rest, None),
        };
        if split_top_level(prerequisites, ':').is_some() {
            return (Vec::new(), None);
        }
        if self.first_target.is_none() {
            self.first_target = targets
                .iter()
                .find(|t| !t.contains('%') && !is_special(t))
                .cloned();
        }
        let prerequisites: Vec<String> = self
            .expand_now(prerequisites)
            .split_whitespace()
            .filter(|p| *p != "|")
            .map(str::to_string)
            .collect();
        let mut targets: Vec<String> = targets.into_iter().filter(|t| ordinary_target(t)).collect();
        if targets.len() > MAX_RULE_TARGETS {
            notes.push(format!(
                "build entry point: {file}: a rule has more than {MAX_RULE_TARGETS} targets; only the first were read"
            ));
            targets.truncate(MAX_RULE_TARGETS);
        }
        let room = MAX_TARGETS.saturating_sub(self.order.len());
        let new = targets
            .iter()
            .filter(|t| !self.rules.contains_key(*t))
            .count();
        if new > room {
            notes.push(format!(
                "build entry point: {file} has more than {MAX_TARGETS} targets; the rest were not read"
            ));
            let mut kept = 0;
            targets.retain(|t| {
                let keep = self.rules.contains_key(t) || kept < room;
                kept += usize::from(!self.rules.contains_key(t) && keep);
                keep
            });
        }
        for target in &targets {
            let rule = self.rules.entry(target.clone()).or_insert_with(|| {
                self.order.push(target.clone());
                Rule::default()
            });
            let room = MAX_PREREQUISITES.saturating_sub(rule.prerequisites.len());
            if prerequisites.len() > room {
                notes.push(format!(
                    "build entry point: {file}: `{target}` has more than {MAX_PREREQUISITES} prerequisites; only the first were read"
                ));
            }
            rule.prerequisites
                .extend(prerequisites.iter().take(room).cloned());
        }
        let inline = inline.map(|command| {
            let index = self.new_recipe(&targets);
            if let Some(lines) = self.recipes.get_mut(index) {
                lines.push(command.to_string());
            }
            index
        });
        (targets, inline)
    }

    /// `text` expanded with the variables defined so far.
    fn expand_now(&self, text: &str) -> String {
        Expander::new(self, &[], &BTreeMap::new(), None).expand(text)
    }

    /// Make's default goal: `.DEFAULT_GOAL`, else the first ordinary target.
    fn default_goal(&self) -> Option<String> {
        let set = self.expand_now("$(.DEFAULT_GOAL)");
        let set = set.trim();
        if set.is_empty() {
            self.first_target.clone()
        } else {
            Some(set.to_string())
        }
    }

    /// The entry points this makefile (named `file`) has for the binary,
    /// the default goal's first, at most [`MAX_ENTRY_POINTS`].
    fn entry_points(
        &self,
        file: &str,
        finder: &Finder<'_>,
        notes: &mut Notes<'_>,
    ) -> Vec<EntryPoint> {
        let default_goal = self.default_goal();
        let producing = self.producing(finder, default_goal.as_deref(), notes);
        let order = default_goal
            .iter()
            .filter(|goal| self.rules.contains_key(goal.as_str()))
            .chain(
                self.order
                    .iter()
                    .filter(|t| Some(*t) != default_goal.as_ref()),
            );
        let mut entries = Vec::new();
        let mut too_deep = false;
        // A target named `$(CURDIR)/...` cannot be named on make's command
        // line; it is built as the default goal or as a prerequisite.
        let runnable = |t: &&String| {
            producing.contains_key(t.as_str())
                && target_path(t).is_some()
                && (!t.contains('$') || Some(*t) == default_goal.as_ref())
        };
        for (tried, target) in order.filter(runnable).enumerate() {
            if tried == MAX_ENTRY_POINTS {
                notes.push(format!(
                    "build entry point: {file}: more than {MAX_ENTRY_POINTS} targets build the binary; only the first {MAX_ENTRY_POINTS} were read"
                ));
                break;
            }
            let mut gathered = Gathered::default();
            let gatherer = Gatherer {
                makefile: self,
                finder,
                default_goal: default_goal.as_deref(),
            };
            gatherer.gather(target, &[], &BTreeMap::new(), &mut gathered, notes);
            if gathered.lines.len() >= MAX_BUILD_LINES {
                notes.push(format!(
                    "build entry point: {file}: the commands of `{target}` were cut at {MAX_BUILD_LINES} lines"
                ));
            }
            too_deep |= gathered.too_deep;
            let default = default_goal.as_deref() == Some(target.as_str());
            // `test: build unit` gathers the build but is for testing.
            let builds_itself = producing.get(target.as_str()) == Some(&true);
            if gathered.runs_tests && !default && !builds_itself {
                continue;
            }
            let Some(output) = gathered.outputs.into_iter().next() else {
                continue;
            };
            let command = if default {
                vec!["make".to_string()]
            } else {
                vec!["make".to_string(), target.clone()]
            };
            let mut lines = self.export_lines(target);
            lines.extend(gathered.lines);
            entries.push(EntryPoint {
                command,
                file: file.into(),
                target: Some(target.clone()),
                default,
                output,
                build_text: lines.join("\n"),
            });
        }
        if too_deep {
            notes.push(format!(
                "build entry point: {file}: prerequisites deeper than {MAX_PREREQUISITE_DEPTH} levels were not followed"
            ));
        }
        if self.cut.get() {
            notes.push(format!(
                "build entry point: {file}: an expansion reached {MAX_EXPANDED} bytes and was cut"
            ));
        }
        if self.looped.get() {
            notes.push(format!(
                "build entry point: {file}: variable references nested deeper than \
                 {MAX_EXPANSION_DEPTH} (a variable that refers to itself) were left as written"
            ));
        }
        if self.spent.get() >= MAX_EXPANDED_IN_ALL {
            notes.push(format!(
                "build entry point: {file}: expansions stopped after {MAX_EXPANDED_IN_ALL} bytes; later commands are missing"
            ));
        }
        entries
    }

    /// The targets that make the binary, each with whether it does itself:
    /// those named after it or whose own recipe builds it (itself), and
    /// those without commands but makes of their own whose prerequisites or
    /// made targets do.
    fn producing(
        &self,
        finder: &Finder<'_>,
        default_goal: Option<&str>,
        notes: &mut Notes<'_>,
    ) -> BTreeMap<String, bool> {
        let no_overrides = BTreeMap::new();
        let mut producing = BTreeMap::new();
        let mut queue = Vec::new();
        let mut gatherers: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for target in &self.order {
            let scopes = [target.clone()];
            let expander = Expander::new(self, &scopes, &no_overrides, Some(target));
            let mut builds = file_name(target) == finder.binary && target_path(target).is_some();
            let mut only_makes = true;
            let mut next: Vec<String> = self
                .rules
                .get(target)
                .map(|r| r.prerequisites.clone())
                .unwrap_or_default();
            for line in self.recipe_lines(target, &expander) {
                let effects = finder.effects(&line, notes);
                builds |= !effects.outputs.is_empty();
                only_makes &= !effects.other_commands;
                for make in &effects.makes {
                    next.extend(
                        made_targets(make, default_goal)
                            .into_iter()
                            .map(str::to_string),
                    );
                }
            }
            if builds {
                producing.insert(target.clone(), true);
                queue.push(target.clone());
            } else if only_makes {
                for next in next {
                    gatherers.entry(next).or_default().push(target);
                }
            }
        }
        while let Some(done) = queue.pop() {
            for &gatherer in gatherers.get(&done).into_iter().flatten() {
                if !producing.contains_key(gatherer) {
                    producing.insert(gatherer.to_string(), false);
                    queue.push(gatherer.to_string());
                }
            }
        }
        producing
    }

    /// The recipe lines of `target`, expanded, one command each, without
    /// make's `@-+` prefixes, blank lines and shell comments.
    fn recipe_lines(&self, target: &str, expander: &Expander<'_>) -> Vec<String> {
        let Some(recipe) = self
            .rules
            .get(target)
            .and_then(|rule| rule.recipe)
            .and_then(|index| self.recipes.get(index))
        else {
            return Vec::new();
        };
        recipe
            .iter()
            .flat_map(|line| {
                expander
                    .expand(line)
                    .split('\n')
                    .map(|l| {
                        l.trim_start()
                            .trim_start_matches(['@', '-', '+', ' ', '\t'])
                            .trim_end()
                            .to_string()
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .collect()
    }
}

/// The goals a sub-make builds: those it names, else the default goal.
fn made_targets<'a>(make: &'a SubMake, default_goal: Option<&'a str>) -> Vec<&'a str> {
    if make.targets.is_empty() {
        default_goal.into_iter().collect()
    } else {
        make.targets.iter().map(String::as_str).collect()
    }
}

/// The commands gathered for one entry point, and the outputs they build.
#[derive(Debug, Default)]
struct Gathered {
    lines: Vec<String>,
    outputs: Vec<String>,
    visited: BTreeSet<String>,
    /// Whether a prerequisite lay deeper than [`MAX_PREREQUISITE_DEPTH`].
    too_deep: bool,
    /// Whether a command runs `go test`.
    runs_tests: bool,
}

/// Gathers the commands of a makefile's targets.
struct Gatherer<'a> {
    makefile: &'a Makefile,
    finder: &'a Finder<'a>,
    default_goal: Option<&'a str>,
}

impl Gatherer<'_> {
    /// Adds the commands that build `target` to `gathered`: its
    /// prerequisites' first (with the target-specific variables of
    /// `outer_scopes`, the targets that need it), then its own, each
    /// `$(MAKE) TARGET` line followed by that target's.
    fn gather(
        &self,
        target: &str,
        outer_scopes: &[String],
        overrides: &BTreeMap<String, String>,
        gathered: &mut Gathered,
        notes: &mut Notes<'_>,
    ) {
        if outer_scopes.len() >= MAX_PREREQUISITE_DEPTH {
            gathered.too_deep = true;
            return;
        }
        if gathered.lines.len() >= MAX_BUILD_LINES || !gathered.visited.insert(target.to_string()) {
            return;
        }
        let Some(rule) = self.makefile.rules.get(target) else {
            return;
        };
        let mut scopes = outer_scopes.to_vec();
        scopes.push(target.to_string());
        for prerequisite in &rule.prerequisites {
            self.gather(prerequisite, &scopes, overrides, gathered, notes);
        }
        let expander = Expander::new(self.makefile, &scopes, overrides, Some(target));
        let mut built = Vec::new();
        for line in self.makefile.recipe_lines(target, &expander) {
            if gathered.lines.len() >= MAX_BUILD_LINES {
                return;
            }
            let effects = self.finder.effects(&line, notes);
            gathered.runs_tests |= effects.runs_tests;
            built.extend(effects.outputs);
            gathered.lines.push(line);
            for make in &effects.makes {
                let mut inner = overrides.clone();
                inner.extend(make.overrides.iter().cloned());
                for goal in made_targets(make, self.default_goal) {
                    self.gather(goal, &[], &inner, gathered, notes);
                }
            }
        }
        if built.is_empty() && file_name(target) == self.finder.binary {
            built.extend(target_path(target));
        }
        gathered.outputs.extend(built);
    }
}

/// Whether a target is an ordinary file or phony target: not special
/// (`.PHONY`), not a pattern. Only those with plain names are entry points
/// ([`target_path`]); the others may still build one's prerequisites.
fn ordinary_target(target: &str) -> bool {
    !is_special(target) && !target.contains('%')
}

/// The root-relative path of a target, which may start with `$(CURDIR)/`.
fn target_path(target: &str) -> Option<String> {
    let rooted = ROOT_NAMES
        .iter()
        .find_map(|root| target.strip_prefix(root)?.strip_prefix('/'));
    normalise(rooted.unwrap_or(target))
}

/// Whether a target is one of make's special targets (`.PHONY`,
/// `.DEFAULT`): a name starting with `.`, without `/`.
fn is_special(target: &str) -> bool {
    target.starts_with('.') && !target.contains('/')
}

/// `old value` with `added` after a space (no space when `old` is empty).
fn append(old: &str, added: &str) -> String {
    if old.is_empty() {
        added.to_string()
    } else {
        format!("{old} {added}")
    }
}

/// Whether a line ends in an odd number of backslashes (continues).
fn ends_continued(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// `line` up to its first unescaped `#`.
fn strip_comment(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'#') => {
                out.push('#');
                chars.next();
            }
            '#' => break,
            c => out.push(c),
        }
    }
    out
}

/// The first word of `text` and the rest, trimmed.
fn split_word(text: &str) -> (&str, &str) {
    match text.split_once(char::is_whitespace) {
        Some((word, rest)) => (word, rest.trim()),
        None => (text, ""),
    }
}

/// `statement` without leading `override`, `export` and `private`.
fn strip_modifiers(mut statement: &str) -> &str {
    loop {
        let trimmed = statement.trim_start();
        let (word, _) = split_word(trimmed);
        match word {
            "override" | "export" | "private" => {
                statement = trimmed.get(word.len()..).unwrap_or("");
            }
            _ => return statement,
        }
    }
}

/// Splits a statement at its first assignment operator or rule colon
/// outside `$(...)`.
fn split_statement(statement: &str) -> Statement<'_> {
    let bytes = statement.as_bytes();
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'{' => depth += 1,
            b')' | b'}' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            b'=' => return assign_at(statement, i, i + 1, Op::Recursive),
            b'?' | b'+' | b'!' if bytes.get(i + 1) == Some(&b'=') => {
                let op = match b {
                    b'?' => Op::Default,
                    b'+' => Op::Append,
                    _ => Op::Shell,
                };
                return assign_at(statement, i, i + 2, op);
            }
            b':' => {
                let rest = statement.get(i..).unwrap_or("");
                for op in [":::=", "::=", ":="] {
                    if rest.starts_with(op) {
                        return assign_at(statement, i, i + op.len(), Op::Simple);
                    }
                }
                return Statement::Rule(
                    statement.get(..i).unwrap_or(""),
                    statement.get(i + 1..).unwrap_or(""),
                );
            }
            _ => {}
        }
    }
    Statement::Other
}

/// An assignment whose operator spans `start..end`.
fn assign_at(statement: &str, start: usize, end: usize, op: Op) -> Statement<'_> {
    match (statement.get(..start), statement.get(end..)) {
        (Some(name), Some(value)) => Statement::Assign(name, op, value),
        _ => Statement::Other,
    }
}

/// `text` split at its first `separator` outside `$(...)`.
fn split_top_level(text: &str, separator: char) -> Option<(&str, &str)> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth = depth.saturating_sub(1),
            c if c == separator && depth == 0 => {
                return Some((text.get(..i)?, text.get(i + c.len_utf8()..)?))
            }
            _ => {}
        }
    }
    None
}

/// `text` with the function calls that ask for the build's operating
/// system answered: the images verified are Linux's.
fn linux(text: &str) -> String {
    text.replace("$(shell go env GOOS)", "linux")
        .replace("$(shell $(GO) env GOOS)", "linux")
        .replace("$(shell uname -s)", "Linux")
        .replace("$(shell uname)", "Linux")
}

/// The two operands of `ifeq (a,b)`, `ifeq "a" "b"` or `ifeq 'a' 'b'`.
fn condition_operands(rest: &str) -> Option<(&str, &str)> {
    let rest = rest.trim();
    if let Some(inner) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        let (a, b) = split_top_level(inner, ',')?;
        return Some((a.trim(), b.trim()));
    }
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let (a, after) = rest.get(1..)?.split_once(quote)?;
    let after = after.trim();
    let b = after.strip_prefix(quote)?.strip_suffix(quote)?;
    Some((a, b))
}

/// Make's functions: their calls are left as written.
const FUNCTIONS: &[&str] = &[
    "subst",
    "patsubst",
    "strip",
    "findstring",
    "filter",
    "filter-out",
    "sort",
    "word",
    "wordlist",
    "words",
    "firstword",
    "lastword",
    "dir",
    "notdir",
    "suffix",
    "basename",
    "addsuffix",
    "addprefix",
    "join",
    "wildcard",
    "realpath",
    "abspath",
    "error",
    "warning",
    "info",
    "shell",
    "origin",
    "flavor",
    "foreach",
    "if",
    "or",
    "and",
    "call",
    "eval",
    "file",
    "value",
    "let",
    "intcmp",
    "guile",
];

/// Make's built-in variables a makefile may use without defining them.
const BUILTINS: &[(&str, &str)] = &[
    ("MAKE", "make"),
    ("CC", "cc"),
    ("CXX", "g++"),
    ("RM", "rm -f"),
];

/// Expands makefile text: variables (global, target-specific in `scopes`,
/// command-line `overrides`) and `$@ $< $^`; function calls, `$(CURDIR)`
/// and `$(PWD)` stay as written.
struct Expander<'a> {
    makefile: &'a Makefile,
    scopes: &'a [String],
    overrides: &'a BTreeMap<String, String>,
    target: Option<&'a str>,
    steps: Cell<usize>,
}

impl<'a> Expander<'a> {
    fn new(
        makefile: &'a Makefile,
        scopes: &'a [String],
        overrides: &'a BTreeMap<String, String>,
        target: Option<&'a str>,
    ) -> Self {
        Self {
            makefile,
            scopes,
            overrides,
            target,
            steps: Cell::new(0),
        }
    }

    /// `text` expanded, at most [`MAX_EXPANDED`] bytes; empty once the
    /// makefile's expansions have made [`MAX_EXPANDED_IN_ALL`].
    fn expand(&self, text: &str) -> String {
        let mut out = String::new();
        let spent = self.makefile.spent.get();
        if spent < MAX_EXPANDED_IN_ALL {
            self.expand_into(text, 0, &mut out);
            self.makefile.spent.set(spent.saturating_add(out.len()));
            if out.len() >= MAX_EXPANDED {
                self.makefile.cut.set(true);
            }
        }
        out
    }

    /// Appends `text` expanded at reference depth `depth` to `out`.
    fn expand_into(&self, text: &str, depth: usize, out: &mut String) {
        let mut rest = text;
        while let Some(at) = rest.find('$') {
            push_bounded(out, rest.get(..at).unwrap_or(""));
            rest = rest.get(at + 1..).unwrap_or("");
            if out.len() >= MAX_EXPANDED {
                return;
            }
            let Some(c) = rest.chars().next() else {
                return;
            };
            let after = rest.get(c.len_utf8()..).unwrap_or("");
            match c {
                '$' => {
                    push_bounded(out, "$");
                    rest = after;
                }
                '(' | '{' => {
                    let close = if c == '(' { ')' } else { '}' };
                    let Some(end) = matching(after, c, close) else {
                        push_bounded(out, "$");
                        push_bounded(out, rest);
                        return;
                    };
                    let inner = after.get(..end).unwrap_or("");
                    self.reference(inner, &format!("${c}{inner}{close}"), depth, out);
                    rest = after.get(end + 1..).unwrap_or("");
                }
                c => {
                    let name = c.to_string();
                    self.reference(&name, &format!("${c}"), depth, out);
                    rest = after;
                }
            }
        }
        push_bounded(out, rest);
    }

    /// Appends the value of the reference `inner` (written `written`).
    fn reference(&self, inner: &str, written: &str, depth: usize, out: &mut String) {
        self.steps.set(self.steps.get() + 1);
        let (word, _) = split_word(inner);
        let is_call = FUNCTIONS.contains(&word) && inner.len() > word.len();
        if depth >= MAX_EXPANSION_DEPTH || self.steps.get() > MAX_EXPANSION_STEPS {
            self.makefile.looped.set(true);
            push_bounded(out, written);
            return;
        }
        if is_call || inner.contains(':') {
            push_bounded(out, written);
            return;
        }
        let name = if inner.contains('$') {
            let mut name = String::new();
            self.expand_into(inner, depth + 1, &mut name);
            name
        } else {
            inner.to_string()
        };
        match name.as_str() {
            "@" => push_bounded(out, self.target.unwrap_or("")),
            "@D" => push_bounded(
                out,
                self.target
                    .and_then(|t| t.rsplit_once('/'))
                    .map_or(".", |(dir, _)| dir),
            ),
            "@F" => push_bounded(out, self.target.map_or("", file_name)),
            "<" | "^" => {
                let prerequisites = self
                    .target
                    .and_then(|t| self.makefile.rules.get(t))
                    .map(|r| r.prerequisites.as_slice())
                    .unwrap_or_default();
                let text = if name == "<" {
                    prerequisites.first().cloned().unwrap_or_default()
                } else {
                    prerequisites.join(" ")
                };
                push_bounded(out, &text);
            }
            "*" | "?" | "|" | "+" | "%" => push_bounded(out, written),
            name => self.variable(name, self.scopes.len(), written, depth, out),
        }
    }

    /// Appends the value of variable `name` as seen from the innermost
    /// `scope` target scopes.
    fn variable(&self, name: &str, scope: usize, written: &str, depth: usize, out: &mut String) {
        if let Some(value) = self.overrides.get(name) {
            return self.expand_into(value, depth + 1, out);
        }
        for index in (0..scope).rev() {
            let Some(var) = self
                .scopes
                .get(index)
                .and_then(|t| self.makefile.target_vars.get(t))
                .and_then(|vars| vars.get(name))
            else {
                continue;
            };
            match var {
                TargetVar::Set(var) => self.value(var, depth, out),
                TargetVar::Append(text) => {
                    let mut outer = String::new();
                    self.variable(name, index, written, depth, &mut outer);
                    let mut added = String::new();
                    self.expand_into(text, depth + 1, &mut added);
                    push_bounded(out, &append(&outer, &added));
                }
                TargetVar::Default(text) => {
                    let mut outer = String::new();
                    self.variable(name, index, written, depth, &mut outer);
                    if self.defined(name, index) {
                        push_bounded(out, &outer);
                    } else {
                        self.expand_into(text, depth + 1, out);
                    }
                }
            }
            return;
        }
        if let Some(var) = self.makefile.vars.get(name) {
            return self.value(var, depth, out);
        }
        if matches!(name, "CURDIR" | "PWD") {
            return push_bounded(out, written);
        }
        if let Some((_, value)) = BUILTINS.iter().find(|(builtin, _)| *builtin == name) {
            push_bounded(out, value);
        }
    }

    /// Whether `name` has a value outside the innermost `scope` scopes.
    fn defined(&self, name: &str, scope: usize) -> bool {
        self.makefile.vars.contains_key(name)
            || self
                .scopes
                .get(..scope)
                .unwrap_or_default()
                .iter()
                .any(|t| {
                    self.makefile
                        .target_vars
                        .get(t)
                        .is_some_and(|v| v.contains_key(name))
                })
    }

    /// Appends a variable's value: a recursive one expanded.
    fn value(&self, var: &Var, depth: usize, out: &mut String) {
        match var.flavor {
            Flavor::Simple => push_bounded(out, &var.value),
            Flavor::Recursive => self.expand_into(&var.value, depth + 1, out),
        }
    }
}

/// Appends `text` to `out` up to [`MAX_EXPANDED`] bytes.
fn push_bounded(out: &mut String, text: &str) {
    let room = MAX_EXPANDED.saturating_sub(out.len());
    if text.len() <= room {
        out.push_str(text);
    } else {
        let mut end = room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        out.push_str(text.get(..end).unwrap_or(""));
    }
}

/// The index in `text` of the `close` that ends a reference opened just
/// before it, counting nested `open`s.
fn matching(text: &str, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::infer::files::MemoryFiles;

    /// The entry points of `files` for `binary`, and the notes.
    fn entries(files: &[(&str, &str)], binary: &str) -> (Vec<EntryPoint>, Vec<String>) {
        let mut notes = Vec::new();
        let found = entry_points(&MemoryFiles::new(files.iter().copied()), binary, &mut notes);
        (found, notes)
    }

    /// A Makefile target's entry point.
    fn make(target: &str, default: bool, output: &str, build_text: &str) -> EntryPoint {
        EntryPoint {
            command: if default {
                vec!["make".into()]
            } else {
                vec!["make".into(), target.into()]
            },
            file: "Makefile".into(),
            target: Some(target.into()),
            default,
            output: output.into(),
            build_text: build_text.into(),
        }
    }

    const RUNC_LIKE: &str = "\
GO ?= go
VERSION := $(shell cat VERSION)
COMMIT ?= $(shell git describe --dirty --long --always)
BUILDTAGS := seccomp netgo osusergo
LDFLAGS_COMMON := -X main.gitCommit=$(COMMIT) -X main.version=$(VERSION)
GO_BUILD = $(GO) build -trimpath $(EXTRA_FLAGS) -tags \"$(BUILDTAGS)\" -ldflags \"$(LDFLAGS_COMMON) $(EXTRA_LDFLAGS)\"
.DEFAULT: runc
runc:
\t$(GO_BUILD) -o runc .
static: EXTRA_FLAGS += -buildmode=pie     # target-specific variable
static: EXTRA_LDFLAGS += -linkmode external -extldflags --static-pie
static:
\tCGO_ENABLED=1 $(GO_BUILD) -o runc .
.PHONY: runc static
";

    #[test]
    fn reads_the_default_and_static_targets_of_a_runc_like_makefile() {
        // What `make -n` and `make -n static` print, but for the function calls.
        let (found, notes) = entries(&[("Makefile", RUNC_LIKE)], "runc");
        assert_eq!(
            found,
            [
                make(
                    "runc",
                    true,
                    "runc",
                    "go build -trimpath  -tags \"seccomp netgo osusergo\" -ldflags \
                     \"-X main.gitCommit=$(shell git describe --dirty --long --always) \
                     -X main.version=$(shell cat VERSION) \" -o runc ."
                ),
                make(
                    "static",
                    false,
                    "runc",
                    "CGO_ENABLED=1 go build -trimpath -buildmode=pie      -tags \"seccomp netgo osusergo\" \
                     -ldflags \"-X main.gitCommit=$(shell git describe --dirty --long --always) \
                     -X main.version=$(shell cat VERSION) -linkmode external -extldflags --static-pie\" -o runc ."
                ),
            ]
        );
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn a_simply_expanded_command_sees_neither_later_variables_nor_target_specific_ones() {
        // `GO_BUILD :=` before `GO ?= go`: make runs ` build ...` for both
        // targets, so `static` builds nothing and only `runc`, named after
        // the binary, is an entry point.
        let makefile = RUNC_LIKE
            .replace("GO ?= go\n", "")
            .replace("GO_BUILD = ", "GO_BUILD := ")
            .replace(".DEFAULT: runc\n", "GO ?= go\n.DEFAULT: runc\n");
        let (found, _) = entries(&[("Makefile", &makefile)], "runc");
        assert_eq!(
            found,
            [make(
                "runc",
                true,
                "runc",
                "build -trimpath  -tags \"seccomp netgo osusergo\" -ldflags \
                 \"-X main.gitCommit=$(shell git describe --dirty --long --always) \
                 -X main.version=$(shell cat VERSION) \" -o runc ."
            )]
        );
    }

    #[test]
    fn a_target_named_by_its_path_builds_where_dollar_at_says() {
        let makefile = "SRC := $(wildcard *.go)\nBINDIR = bin\n\n$(BINDIR)/app: $(SRC)\n\tgo build -o $@ ./cmd/app\n";
        let (found, notes) = entries(&[("Makefile", makefile)], "app");
        assert_eq!(
            found,
            [make(
                "bin/app",
                true,
                "bin/app",
                "go build -o bin/app ./cmd/app"
            )]
        );
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn a_target_that_only_gathers_another_builds_what_it_builds() {
        // Neither `install`, which has commands of its own, nor `test`,
        // which runs the tests, is a way to build it.
        let makefile = "all: build\n\nbuild:\n\tgo build -o bin/app ./cmd/app\n\n\
                        install: build\n\tinstall -m 0755 bin/app /usr/local/bin/app\n\n\
                        test: build unit\nunit:\n\tgo test ./...\n";
        let (found, _) = entries(&[("Makefile", makefile)], "app");
        assert_eq!(
            found,
            [
                make("all", true, "bin/app", "go build -o bin/app ./cmd/app"),
                make("build", false, "bin/app", "go build -o bin/app ./cmd/app"),
            ]
        );
    }

    #[test]
    fn a_target_producing_another_binary_is_not_returned() {
        let makefile = "all: other app\nother:\n\tgo build -o bin/other ./cmd/other\napp:\n\tgo build -o bin/app ./cmd/app\n";
        let (found, _) = entries(&[("Makefile", makefile)], "other");
        assert_eq!(
            found,
            [
                make(
                    "all",
                    true,
                    "bin/other",
                    "go build -o bin/other ./cmd/other\ngo build -o bin/app ./cmd/app"
                ),
                make(
                    "other",
                    false,
                    "bin/other",
                    "go build -o bin/other ./cmd/other"
                ),
            ]
        );
        let (found, _) = entries(&[("Makefile", makefile)], "nothing");
        assert_eq!(found, []);
    }

    #[test]
    fn outputs_follow_cd_package_names_output_directories_and_curdir() {
        let makefile = "\
.DEFAULT_GOAL := in-dir
by-package:
\tgo build -trimpath ./cmd/app
by-module:
\tgo build .
into-dir:
\tgo build -o out/ ./cmd/app
in-dir:
\tcd tools && go build -o app .
rooted:
\tgo build -o \"$(CURDIR)/dist/app\" ./cmd/app
with-c:
\t$(CC) -O2 -o build/app main.c
rooted-cd:
\tcd $(CURDIR)/tools && cd . && go build -o ./app .
";
        let go_mod = "module example.com/app/v2\n\ngo 1.22\n";
        let (found, notes) = entries(&[("Makefile", makefile), ("go.mod", go_mod)], "app");
        let outputs: Vec<(&str, &str, bool)> = found
            .iter()
            .map(|e| (e.target.as_deref().unwrap(), e.output.as_str(), e.default))
            .collect();
        assert_eq!(
            outputs,
            [
                ("in-dir", "tools/app", true),
                ("by-package", "app", false),
                ("by-module", "app", false),
                ("into-dir", "out/app", false),
                ("rooted", "dist/app", false),
                ("with-c", "build/app", false),
                ("rooted-cd", "tools/app", false),
            ]
        );
        assert_eq!(found[0].command, ["make"]);
        assert_eq!(found[5].build_text, "cc -O2 -o build/app main.c");
        assert_eq!(
            found[4].build_text,
            "go build -o \"$(CURDIR)/dist/app\" ./cmd/app"
        );
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn a_make_call_brings_its_target_commands_and_variables() {
        let makefile = "\
FLAGS = -trimpath
static:
\t$(MAKE) app FLAGS='-trimpath -buildmode=pie'
app:
\tgo build $(FLAGS) -o app ./cmd/app
docs:
\t$(MAKE) -C docs html
";
        let (found, notes) = entries(&[("Makefile", makefile)], "app");
        assert_eq!(
            found,
            [
                make(
                    "static",
                    true,
                    "app",
                    "make app FLAGS='-trimpath -buildmode=pie'\ngo build -trimpath -buildmode=pie -o app ./cmd/app"
                ),
                make("app", false, "app", "go build -trimpath -o app ./cmd/app"),
            ]
        );
        assert_eq!(
            notes,
            ["build entry point: `make -C docs html` skipped: it runs make in another directory"]
        );
    }

    #[test]
    fn conditionals_it_can_decide_are_decided_and_others_noted() {
        let makefile = "\
STATIC ?= 1
ifeq ($(STATIC),1)
LDFLAGS += -extldflags -static
else
LDFLAGS += -s
endif
ifdef NOPE
LDFLAGS += -nope
endif
ifeq ($(shell uname -m),x86_64)
TAGS := amd64
else
TAGS := other
endif
include extra.mk
app:
\tgo build -tags $(TAGS) -ldflags '$(LDFLAGS)' -o app .
";
        let (found, notes) = entries(&[("Makefile", makefile)], "app");
        assert_eq!(
            found,
            [make(
                "app",
                true,
                "app",
                "go build -tags amd64 -ldflags '-extldflags -static' -o app ."
            )]
        );
        assert_eq!(
            notes,
            [
                "build entry point: Makefile: `ifeq ($(shell uname -m),x86_64)` cannot be decided here; its first branch was read",
                "build entry point: Makefile: `include extra.mk` not read",
            ]
        );
    }

    #[test]
    fn variables_exported_to_the_commands_come_first() {
        let makefile = "\
export CGO_ENABLED := 0
export GOFLAGS = -mod=vendor
LDFLAGS = -s
export LDFLAGS
VERBOSE = 1
export VERBOSE
unexport VERBOSE
static: export CGO_ENABLED = 1
static:
\tgo build -ldflags \"$(LDFLAGS)\" -o bin/app ./cmd/app
";
        let (found, notes) = entries(&[("Makefile", makefile)], "app");
        assert_eq!(
            found,
            [make(
                "static",
                true,
                "bin/app",
                "export CGO_ENABLED=1\nexport GOFLAGS=-mod=vendor\nexport LDFLAGS=-s\n\
                 go build -ldflags \"-s\" -o bin/app ./cmd/app"
            )]
        );
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn a_rooted_target_built_by_go_dash_c_is_reached_through_its_gatherers() {
        // nerdctl's shape: `go -C DIR build`, a `$(CURDIR)/...` target whose
        // name keeps the quotes the shell removes, and make run on itself.
        let makefile = "\
GO ?= go
GOOS ?= $(shell $(GO) env GOOS)
ifeq ($(GOOS),windows)
\tBIN_EXT := .exe
endif
BINARY ?= \"app\"
MAKEFILE_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
GO_BUILD = CGO_ENABLED=0 $(GO) -C $(MAKEFILE_DIR) build
all: binaries
binaries: $(CURDIR)/_output/$(BINARY)$(BIN_EXT)
$(CURDIR)/_output/$(BINARY)$(BIN_EXT):
\t$(GO_BUILD) -o $(CURDIR)/_output/$(BINARY)$(BIN_EXT) ./cmd/app
again:
\t$(MAKE) -C $(CURDIR) -f $(MAKEFILE_DIR)/Makefile binaries
";
        let build =
            "CGO_ENABLED=0 go -C $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST))))) \
                     build -o $(CURDIR)/_output/\"app\" ./cmd/app";
        let (found, notes) = entries(&[("Makefile", makefile)], "app");
        assert_eq!(
            found,
            [
                make("all", true, "_output/app", build),
                make("binaries", false, "_output/app", build),
                make(
                    "again",
                    false,
                    "_output/app",
                    &format!(
                        "make -C $(CURDIR) -f $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))\
                         /Makefile binaries\n{build}"
                    )
                ),
            ]
        );
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn the_first_makefile_make_reads_is_the_one_read() {
        let (found, _) = entries(
            &[
                ("GNUmakefile", "app:\n\tgo build -o app .\n"),
                ("Makefile", "other:\n\tgo build -o bin/app .\n"),
            ],
            "app",
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].file, "GNUmakefile");
        assert_eq!(found[0].target.as_deref(), Some("app"));
    }

    #[test]
    fn a_build_script_that_builds_the_binary_is_run_by_sh() {
        let script =
            "#!/bin/sh\nset -eu\n# build it\ngo build -trimpath \\\n  -o bin/app ./cmd/app\n";
        let (found, notes) = entries(&[("build.sh", script)], "app");
        assert_eq!(
            found,
            [EntryPoint {
                command: vec!["sh".into(), "build.sh".into()],
                file: "build.sh".into(),
                target: None,
                default: true,
                output: "bin/app".into(),
                build_text: "set -eu\ngo build -trimpath   -o bin/app ./cmd/app".into(),
            }]
        );
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn a_bash_script_is_run_by_bash() {
        for first in [
            "#!/bin/bash",
            "#!/usr/bin/env bash",
            "#!/usr/bin/env -S bash -e",
        ] {
            let script = format!("{first}\ngo build -o app .\n");
            let (found, _) = entries(&[("build.sh", &script)], "app");
            assert_eq!(found[0].command, ["bash", "build.sh"], "{first}");
        }
        let (found, _) = entries(
            &[("build.sh", "#!/opt/evil/bash-like\ngo build -o app .\n")],
            "app",
        );
        assert_eq!(found[0].command, ["sh", "build.sh"]);
    }

    #[test]
    fn a_script_output_under_an_unknown_directory_is_noted_and_skipped() {
        let script = "OUT=$(mktemp -d)\ngo build -o \"$OUT\"/app ./cmd/app\n";
        let (found, notes) = entries(&[("hack/build.sh", script)], "app");
        assert_eq!(found, []);
        assert_eq!(
            notes,
            ["build entry point: cannot tell where `go build -o \"$OUT\"/app ./cmd/app` puts $OUT/app"]
        );
    }

    #[test]
    fn a_script_output_under_a_plain_variable_is_placed() {
        let script = "#!/bin/sh\nOUT=${OUT:-dist}\nexport NAME=app\nmkdir -p \"$OUT\"\n\
                      go build -o \"${OUT}/$NAME\" ./cmd/app\n";
        let (found, notes) = entries(&[("script/build", script)], "app");
        assert_eq!(
            found,
            [EntryPoint {
                command: vec!["sh".into(), "script/build".into()],
                file: "script/build".into(),
                target: None,
                default: true,
                output: "dist/app".into(),
                build_text: "OUT=${OUT:-dist}\nexport NAME=app\nmkdir -p \"$OUT\"\n\
                             go build -o \"${OUT}/$NAME\" ./cmd/app"
                    .into(),
            }]
        );
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn makefile_entries_come_before_scripts() {
        let (found, _) = entries(
            &[
                ("Makefile", "app:\n\t./build.sh\n"),
                ("build.sh", "go build -o app .\n"),
                ("scripts/build.sh", "go build -o bin/app ./cmd/app\n"),
            ],
            "app",
        );
        let commands: Vec<Vec<String>> = found.into_iter().map(|e| e.command).collect();
        assert_eq!(
            commands,
            [
                vec!["make".to_string()],
                vec!["sh".into(), "build.sh".into()],
                vec!["sh".into(), "scripts/build.sh".into()],
            ]
        );
    }

    #[test]
    fn outputs_and_targets_outside_the_tree_or_with_odd_bytes_are_rejected() {
        let makefile = "\
escape:
\tgo build -o ../../etc/passwd ./cmd/passwd
absolute:
\tgo build -o /usr/local/bin/passwd ./cmd/passwd
../passwd:
\tgo build -o $@ .
odd:
\tgo build -o 'bin/pass wd' .
";
        let (found, notes) = entries(&[("Makefile", makefile)], "passwd");
        assert_eq!(found, []);
        assert_eq!(
            notes,
            [
                "build entry point: cannot tell where `go build -o ../../etc/passwd ./cmd/passwd` puts ../../etc/passwd",
                "build entry point: cannot tell where `go build -o /usr/local/bin/passwd ./cmd/passwd` puts /usr/local/bin/passwd",
                "build entry point: cannot tell where `go build -o ../passwd .` puts ../passwd",
            ]
        );
        let (found, _) = entries(&[("Makefile", makefile)], "../passwd");
        assert_eq!(found, []);
    }

    #[test]
    fn self_referencing_variables_stop_at_the_depth_limit() {
        let makefile =
            "A = $(B)\nB = $(A)\n$(A)/app:\n\tgo build -o $@ .\napp:\n\tgo build -o app $(A) .\n";
        let (found, notes) = entries(&[("Makefile", makefile)], "app");
        assert_eq!(
            notes,
            [
                "build entry point: cannot tell where `go build -o $(A)/app .` puts $(A)/app"
                    .to_string(),
                format!(
                    "build entry point: Makefile: variable references nested deeper than \
                     {MAX_EXPANSION_DEPTH} (a variable that refers to itself) were left as written"
                )
            ]
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].target.as_deref(), Some("app"));
        assert!(!found[0].default);
        assert_eq!(found[0].build_text, "go build -o app $(A) .");
    }

    #[test]
    fn doubling_variables_are_cut_at_the_expansion_limit() {
        let mut makefile = String::from("V0 = xxxxxxxxxxxxxxxx\n");
        for i in 1..=15 {
            makefile.push_str(&format!("V{i} = $(V{})$(V{})\n", i - 1, i - 1));
        }
        makefile.push_str("app:\n\tgo build -ldflags '$(V15)' -o app .\n");
        let (found, notes) = entries(&[("Makefile", &makefile)], "app");
        assert_eq!(
            notes,
            [format!("build entry point: Makefile: an expansion reached {MAX_EXPANDED} bytes and was cut")]
        );
        assert_eq!(found.len(), 1);
        // The recipe line's tab counts in the expansion, then goes.
        assert_eq!(found[0].build_text.len(), MAX_EXPANDED - 1);
        assert!(found[0]
            .build_text
            .starts_with("go build -ldflags 'xxxxxxxxxxxxxxxxxxxx"));
    }

    #[test]
    fn a_line_of_self_references_and_a_file_of_continuations_are_read_in_bounds() {
        let references = format!(
            "X = {}\napp:\n\tgo build -o app $(X)\n",
            "$(X)".repeat((MAX_ENTRY_FILE - 100) / 4)
        );
        let started = std::time::Instant::now();
        let (found, notes) = entries(&[("Makefile", &references)], "app");
        assert_eq!(found.len(), 1);
        assert_eq!(
            notes,
            [
                format!("build entry point: Makefile: an expansion reached {MAX_EXPANDED} bytes and was cut"),
                format!(
                    "build entry point: Makefile: variable references nested deeper than \
                     {MAX_EXPANSION_DEPTH} (a variable that refers to itself) were left as written"
                ),
            ]
        );
        let continued = format!(
            "X = a \\\n{} c\napp:\n\tgo build -o app .\n",
            " b \\\n".repeat(200_000)
        );
        let (found, notes) = entries(&[("Makefile", &continued)], "app");
        assert_eq!(found, [make("app", true, "app", "go build -o app .")]);
        assert_eq!(notes, Vec::<String>::new());
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }

    #[test]
    fn notes_stop_at_their_limit() {
        let mut makefile = String::new();
        for i in 0..MAX_RULES {
            makefile.push_str(&format!("t{i}:\n\tgo build -o $(shell echo {i})/app .\n"));
        }
        let (found, notes) = entries(&[("Makefile", &makefile)], "app");
        assert_eq!(found, []);
        assert_eq!(notes.len(), MAX_NOTES + 1);
        assert_eq!(
            notes[..2],
            [
                "build entry point: cannot tell where `go build -o $(shell echo 0)/app .` puts $(shell echo 0)/app",
                "build entry point: cannot tell where `go build -o $(shell echo 1)/app .` puts $(shell echo 1)/app",
            ]
        );
        assert_eq!(
            notes[MAX_NOTES],
            format!(
                "build entry point: {} more notes were left out",
                MAX_RULES - MAX_NOTES
            )
        );
    }

    #[test]
    fn a_rule_with_too_many_targets_and_prerequisites_is_read_in_part() {
        let names = |prefix: &str| -> String {
            (0..40_000)
                .map(|i| format!("{prefix}{i} "))
                .collect::<String>()
        };
        let makefile = format!("{}: {}\n\tgo build -o app .\n", names("t"), names("p"));
        let (found, notes) = entries(&[("Makefile", &makefile)], "app");
        assert_eq!(found.len(), MAX_ENTRY_POINTS);
        assert_eq!(found[0], make("t0", true, "app", "go build -o app ."));
        assert_eq!(found[1], make("t1", false, "app", "go build -o app ."));
        assert_eq!(notes.len(), MAX_NOTES + 1);
        assert_eq!(
            notes[..2],
            [
                format!(
                    "build entry point: Makefile: a rule has more than {MAX_RULE_TARGETS} targets; \
                     only the first were read"
                ),
                format!(
                    "build entry point: Makefile: `t0` has more than {MAX_PREREQUISITES} prerequisites; \
                     only the first were read"
                ),
            ]
        );
    }

    #[test]
    fn exported_variables_are_bounded() {
        let exports: String = (0..40_000)
            .map(|i| format!("export V{i} = {i}\n"))
            .collect();
        let makefile = format!("export UNDEFINED\n{exports}app:\n\tgo build -o app .\n");
        let (found, _) = entries(&[("Makefile", &makefile)], "app");
        // The first MAX_BUILD_LINES exports are kept; UNDEFINED, one of
        // them, is not written: 999 lines, then the command.
        let lines: Vec<&str> = found[0].build_text.lines().collect();
        assert_eq!(lines.len(), MAX_BUILD_LINES);
        assert_eq!(lines[..2], ["export V0=0", "export V1=1"]);
        assert_eq!(lines[MAX_BUILD_LINES - 1], "go build -o app .");
    }

    #[test]
    fn a_makefile_over_the_size_limit_is_not_read() {
        let makefile = format!(
            "app:\n\tgo build -o app .\nX = {}\n",
            "y".repeat(MAX_ENTRY_FILE)
        );
        let (found, notes) = entries(&[("Makefile", &makefile)], "app");
        assert_eq!(found, []);
        assert_eq!(
            notes,
            [format!("build entry point: Makefile is larger than {MAX_ENTRY_FILE} bytes and was not read")]
        );
    }

    #[test]
    fn a_long_line_under_the_size_limit_is_read() {
        let makefile = format!(
            "LONG = {}\napp:\n\tgo build -o app .\n",
            "y".repeat(MAX_ENTRY_FILE - 100)
        );
        let (found, notes) = entries(&[("Makefile", &makefile)], "app");
        assert_eq!(found, [make("app", true, "app", "go build -o app .")]);
        assert_eq!(notes, Vec::<String>::new());
    }

    #[test]
    fn rules_past_the_limit_are_not_read() {
        let mut makefile = String::from("app:\n\tgo build -o app .\n");
        for i in 0..10_000 {
            makefile.push_str(&format!("t{i}:\n\techo {i}\n"));
        }
        makefile.push_str("late:\n\tgo build -o bin/app .\n");
        let (found, notes) = entries(&[("Makefile", &makefile)], "app");
        assert_eq!(found, [make("app", true, "app", "go build -o app .")]);
        assert_eq!(
            notes,
            [format!("build entry point: Makefile has more than {MAX_RULES} rules; the rest was not read")]
        );
    }

    #[test]
    fn a_long_chain_of_prerequisites_is_followed_to_the_depth_limit() {
        let mut makefile = String::from("t0:\n\tgo build -o app .\n");
        for i in 1..MAX_RULES {
            makefile.push_str(&format!("t{i}: t{}\n", i - 1));
        }
        let (found, notes) = entries(&[("Makefile", &makefile)], "app");
        let targets: Vec<String> = found.into_iter().filter_map(|e| e.target).collect();
        let expected: Vec<String> = (0..MAX_PREREQUISITE_DEPTH)
            .map(|i| format!("t{i}"))
            .collect();
        assert_eq!(targets, expected);
        assert_eq!(
            notes,
            [
                format!(
                    "build entry point: Makefile: more than {MAX_ENTRY_POINTS} targets build the binary; \
                     only the first {MAX_ENTRY_POINTS} were read"
                ),
                format!(
                    "build entry point: Makefile: prerequisites deeper than {MAX_PREREQUISITE_DEPTH} levels \
                     were not followed"
                ),
            ]
        );
    }

    #[test]
    fn a_binary_name_with_odd_bytes_finds_nothing() {
        let (found, _) = entries(&[("Makefile", "a/b:\n\tgo build -o a/b .\n")], "a/b");
        assert_eq!(found, []);
    }
}
