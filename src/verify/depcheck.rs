//! The dependency cross-check: the binary's recorded dependencies against
//! the tag's lock files (`go.sum`/`go.mod`/`vendor/modules.txt`,
//! `Cargo.lock`), without building.
//!
//! Go: every `dep` line of the build info (module, version, `h1:` sum,
//! `=>` replacement) is compared with the `go.mod` of the binary's main
//! module at the tag (its `require` and `replace` directives, and a
//! root `go.work`'s `use` and `replace` when it names that module), its
//! `go.sum` and, for vendored builds (no sums recorded),
//! `vendor/modules.txt`. Rust: every package of the cargo-auditable list
//! (name, version, source kind), else every crate a registry path in the
//! binary names, is looked up in the tag's `Cargo.lock`.
//! Unreadable lines are skipped; nothing here panics on bad input.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::binary::{GoBuildInfo, GoModule, RustPackage};
use crate::rebuild::infer::files::SourceFiles;

/// Problems listed one by one; past this, one line counts the rest.
pub const MAX_PROBLEMS: usize = 50;

/// `go.mod` files read while looking for the main module's one.
const MAX_GO_MODS: usize = 256;

/// The outcome of the cross-check (`dependencies: {checked, problems}` in
/// the JSON report).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DependencyCheck {
    /// Dependencies compared with the tag.
    pub checked: usize,
    /// One precise line per dependency the tag does not account for.
    pub problems: Vec<String>,
    /// Why nothing could be compared (no `go.mod`, no `Cargo.lock`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Which part of the binary's dependencies was compared, when it is
    /// not all of them (a Rust binary without a dependency list); the
    /// passing cross-check line says so.
    #[serde(skip)]
    pub only: Option<&'static str>,
}

impl DependencyCheck {
    fn skipped(reason: impl Into<String>) -> Self {
        Self {
            skipped: Some(reason.into()),
            ..Self::default()
        }
    }
}

/// Collects problem lines, keeping the first [`MAX_PROBLEMS`].
#[derive(Default)]
struct Problems {
    lines: Vec<String>,
    more: usize,
}

impl Problems {
    fn push(&mut self, line: String) {
        if self.lines.len() < MAX_PROBLEMS {
            self.lines.push(line);
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self, checked: usize) -> DependencyCheck {
        if self.more > 0 {
            self.lines
                .push(format!("... and {} more dependency problems", self.more));
        }
        DependencyCheck {
            checked,
            problems: self.lines,
            skipped: None,
            only: None,
        }
    }
}

fn text(files: &dyn SourceFiles, path: &str) -> Option<String> {
    files
        .read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

// ---------------------------------------------------------------- Go ----

/// A `replace` directive: `old [version] => new [version]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Replace {
    old: String,
    old_version: Option<String>,
    new: String,
    /// `None` for a directory replacement (`=> ../fork`).
    new_version: Option<String>,
}

impl Replace {
    fn target(&self) -> String {
        match &self.new_version {
            Some(version) => format!("{} {version}", self.new),
            None => self.new.clone(),
        }
    }

    /// Whether the binary's `=>` line is this replacement.
    fn applied_as(&self, module: &GoModule) -> bool {
        match &self.new_version {
            Some(version) => module.path == self.new && &module.version == version,
            None => module.path.trim_end_matches('/') == self.new.trim_end_matches('/'),
        }
    }
}

/// What a `go.mod` or `go.work` file says (the parts the check needs).
#[derive(Debug, Default)]
struct GoModFile {
    module: Option<String>,
    /// The `go` directive as (major, minor).
    go: Option<(u32, u32)>,
    require: BTreeMap<String, String>,
    replace: Vec<Replace>,
    /// `use` directories of a `go.work`, normalised (`""` is the root).
    uses: Vec<String>,
}

fn unquote(token: &str) -> &str {
    for quote in ['"', '`'] {
        if let Some(inner) = token
            .strip_prefix(quote)
            .and_then(|t| t.strip_suffix(quote))
        {
            return inner;
        }
    }
    token
}

fn parse_go_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_text: String = parts
        .next()
        .unwrap_or("0")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    Some((major, minor_text.parse().ok()?))
}

/// `./a/b/` -> `a/b`, `.` -> `` (paths relative to the tree's root).
fn normalise_dir(dir: &str) -> String {
    dir.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

fn parse_go_mod(text: &str) -> GoModFile {
    let mut out = GoModFile::default();
    let mut block: Option<String> = None;
    for line in text.lines() {
        let line = line.split("//").next().unwrap_or("");
        let tokens: Vec<&str> = line.split_whitespace().map(unquote).collect();
        let (verb, args): (&str, &[&str]) = match (&block, tokens.as_slice()) {
            (_, []) => continue,
            (Some(_), [")"]) => {
                block = None;
                continue;
            }
            (Some(verb), args) => (verb.as_str(), args),
            (None, [verb, "("]) => {
                block = Some(verb.to_string());
                continue;
            }
            (None, [verb, args @ ..]) => (verb, args),
        };
        match (verb, args) {
            ("module", [path]) => out.module = Some(path.to_string()),
            ("go", [version]) => out.go = parse_go_version(version),
            ("require", [path, version, ..]) => {
                out.require.insert(path.to_string(), version.to_string());
            }
            ("use", [dir]) => out.uses.push(normalise_dir(dir)),
            ("replace", args) => {
                let Some(arrow) = args.iter().position(|t| *t == "=>") else {
                    continue;
                };
                let (left, right) = (&args[..arrow], &args[arrow + 1..]);
                let (old, old_version) = match left {
                    [old] => (old, None),
                    [old, version] => (old, Some(version.to_string())),
                    _ => continue,
                };
                let (new, new_version) = match right {
                    [new] => (new, None),
                    [new, version] => (new, Some(version.to_string())),
                    _ => continue,
                };
                out.replace.push(Replace {
                    old: old.to_string(),
                    old_version,
                    new: new.to_string(),
                    new_version,
                });
            }
            _ => {}
        }
    }
    out
}

/// `go.sum`'s module sums: (path, version) -> `h1:...` (the `/go.mod`
/// lines are sums of go.mod files, not of modules, and are left out).
fn parse_go_sum(text: &str, into: &mut BTreeMap<(String, String), String>) {
    for line in text.lines() {
        if let [path, version, hash] = line.split_whitespace().collect::<Vec<_>>().as_slice() {
            if !version.ends_with("/go.mod") && hash.starts_with("h1:") {
                into.entry((path.to_string(), version.to_string()))
                    .or_insert_with(|| hash.to_string());
            }
        }
    }
}

/// `vendor/modules.txt`: module path -> vendored version, from its
/// `# path version [=> ...]` lines.
fn parse_modules_txt(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# ") else {
            continue;
        };
        if let [path, version, ..] = rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            if *version != "=>" {
                out.insert(path.to_string(), version.to_string());
            }
        }
    }
    out
}

/// Everything the tag says about the main module's dependencies.
struct GoTag {
    /// `go` directive at 1.17 or later: go.mod lists every module that
    /// provides a package of the build (module graph pruning).
    complete_go_mod: bool,
    /// path -> the versions required (one per module of a workspace).
    require: BTreeMap<String, BTreeSet<String>>,
    /// In order of precedence (`go.work` first).
    replace: Vec<Replace>,
    /// `None` when the tag has no `go.sum`.
    sums: Option<BTreeMap<(String, String), String>>,
    /// The vendored versions, when the tag has `vendor/modules.txt`.
    vendor: Option<BTreeMap<String, String>>,
    /// Other modules of the workspace (`(devel)` in the binary).
    workspace_modules: BTreeSet<String>,
}

impl GoTag {
    /// The replacement declared for `path version`: a version-specific one
    /// before one for every version.
    fn replacement(&self, path: &str, version: &str) -> Option<&Replace> {
        self.replace
            .iter()
            .find(|r| r.old == path && r.old_version.as_deref() == Some(version))
            .or_else(|| {
                self.replace
                    .iter()
                    .find(|r| r.old == path && r.old_version.is_none())
            })
    }

    fn summed_versions(&self, path: &str) -> Vec<&str> {
        self.sums
            .iter()
            .flatten()
            .filter(|((p, _), _)| p == path)
            .map(|((_, v), _)| v.as_str())
            .collect()
    }

    fn has_sum(&self, path: &str, version: &str) -> bool {
        self.sums
            .as_ref()
            .is_some_and(|sums| sums.contains_key(&(path.to_string(), version.to_string())))
    }
}

fn dir_file(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The directory and parsed `go.mod` of module `main` at the tag: the
/// root's when it declares `main`, else another `go.mod` that does.
/// `Err(Some(module))` when the root's `go.mod` declares another module
/// (or none), `Err(None)` when the tag has no root `go.mod` either.
fn find_main_go_mod(
    files: &dyn SourceFiles,
    main: &str,
) -> Result<(String, GoModFile), Option<Option<String>>> {
    let root_module = match text(files, "go.mod").map(|t| parse_go_mod(&t)) {
        Some(root) if root.module.as_deref() == Some(main) => return Ok((String::new(), root)),
        Some(root) => Some(root.module),
        None => None,
    };
    let nested = files
        .paths()
        .into_iter()
        .filter(|p| p.ends_with("/go.mod"))
        .filter(|p| {
            !p.split('/')
                .any(|part| part == "vendor" || part == "testdata")
        })
        .take(MAX_GO_MODS);
    for path in nested {
        let Some(parsed) = text(files, &path).map(|t| parse_go_mod(&t)) else {
            continue;
        };
        if parsed.module.as_deref() == Some(main) {
            let dir = path.trim_end_matches("go.mod").trim_end_matches('/');
            return Ok((dir.to_string(), parsed));
        }
    }
    Err(root_module)
}

fn load_go_tag(files: &dyn SourceFiles, dir: &str, main_mod: GoModFile) -> GoTag {
    let mut tag = GoTag {
        complete_go_mod: main_mod.go.is_some_and(|go| go >= (1, 17)),
        require: BTreeMap::new(),
        replace: Vec::new(),
        sums: None,
        vendor: None,
        workspace_modules: BTreeSet::new(),
    };
    let mut sums = BTreeMap::new();
    let mut have_sums = false;
    let mut modules = vec![(dir.to_string(), main_mod)];
    let work = text(files, "go.work")
        .map(|t| parse_go_mod(&t))
        .filter(|work| work.uses.iter().any(|u| u == dir));
    let vendor_dir = if let Some(work) = work {
        tag.replace.extend(work.replace);
        if let Some(work_sum) = text(files, "go.work.sum") {
            parse_go_sum(&work_sum, &mut sums);
            have_sums = true;
        }
        for used in work.uses.iter().filter(|u| *u != dir) {
            if let Some(parsed) = text(files, &dir_file(used, "go.mod")).map(|t| parse_go_mod(&t)) {
                if let Some(module) = &parsed.module {
                    tag.workspace_modules.insert(module.clone());
                }
                modules.push((used.clone(), parsed));
            }
        }
        String::new()
    } else {
        dir.to_string()
    };
    for (module_dir, parsed) in modules {
        for (path, version) in parsed.require {
            tag.require.entry(path).or_default().insert(version);
        }
        tag.replace.extend(parsed.replace);
        if let Some(go_sum) = text(files, &dir_file(&module_dir, "go.sum")) {
            parse_go_sum(&go_sum, &mut sums);
            have_sums = true;
        }
    }
    tag.sums = have_sums.then_some(sums);
    tag.vendor =
        text(files, &dir_file(&vendor_dir, "vendor/modules.txt")).map(|t| parse_modules_txt(&t));
    tag
}

fn module_text(module: &GoModule) -> String {
    format!("{} {}", module.path, module.version)
}

/// Compares the binary's Go dependencies with the tag's module files.
pub fn check_go(info: &GoBuildInfo, files: &dyn SourceFiles) -> DependencyCheck {
    let Some(main) = &info.main else {
        return DependencyCheck::skipped(
            "the binary records no main module (built outside module mode): no go.mod to compare its dependencies with",
        );
    };
    let (dir, main_mod) = match find_main_go_mod(files, &main.path) {
        Ok(found) => found,
        Err(None) => {
            return DependencyCheck::skipped(format!(
                "the tag has no go.mod declaring module {} (a GOPATH-era tree?): its dependencies cannot be compared",
                main.path
            ))
        }
        Err(Some(declared)) => {
            let declared = match declared {
                Some(module) => format!("declares module {module}"),
                None => "declares no module".to_string(),
            };
            let mut problems = Problems::default();
            problems.push(format!(
                "main module {}: the tag's go.mod {declared}, and no other go.mod of the tag declares {}",
                main.path, main.path
            ));
            return problems.finish(0);
        }
    };
    let tag = load_go_tag(files, &dir, main_mod);
    let vendored = tag.vendor.is_some()
        && info
            .deps
            .iter()
            .all(|d| d.sum.is_none() && d.replace.as_ref().is_none_or(|r| r.sum.is_none()));
    let mut problems = Problems::default();
    let go_mod = dir_file(&dir, "go.mod");
    let go_sum = dir_file(&dir, "go.sum");
    if !vendored && tag.sums.is_none() && tag.complete_go_mod {
        let summed = info.deps.iter().filter(|d| d.sum.is_some()).count();
        if summed > 0 {
            problems.push(format!(
                "the binary records the sums of {summed} modules, but the tag has no {go_sum}"
            ));
        }
    }
    for dep in &info.deps {
        check_go_dep(&tag, dep, vendored, &go_mod, &go_sum, &mut problems);
    }
    problems.finish(info.deps.len())
}

fn check_go_dep(
    tag: &GoTag,
    dep: &GoModule,
    vendored: bool,
    go_mod: &str,
    go_sum: &str,
    problems: &mut Problems,
) {
    let name = module_text(dep);
    if tag.workspace_modules.contains(&dep.path) && dep.version == "(devel)" {
        return;
    }
    // The replacement.
    let declared = tag.replacement(&dep.path, &dep.version);
    match (&dep.replace, declared) {
        (Some(used), None) => problems.push(format!(
            "{name} => {}: the tag declares no replacement of {}",
            module_text(used),
            dep.path
        )),
        (Some(used), Some(declared)) if !declared.applied_as(used) => problems.push(format!(
            "{name} => {}: the tag replaces {} with {}",
            module_text(used),
            dep.path,
            declared.target()
        )),
        (None, Some(declared)) => problems.push(format!(
            "{name}: the tag replaces {} with {}, but the binary was built without that replacement",
            dep.path,
            declared.target()
        )),
        _ => {}
    }
    // The version.
    let required = tag.require.get(&dep.path);
    let version_problem = match required {
        Some(versions) if versions.contains(&dep.version) => None,
        Some(_) if !tag.complete_go_mod && tag.has_sum(&dep.path, &dep.version) => None,
        Some(versions) => Some(format!(
            "{name}: the tag's {go_mod} requires {}",
            versions.iter().cloned().collect::<Vec<_>>().join(", ")
        )),
        None if tag.complete_go_mod => Some(format!(
            "{name}: not a dependency of the tag ({go_mod} does not require {})",
            dep.path
        )),
        None if vendored => None,
        None if tag.has_sum(&dep.path, &dep.version) => None,
        None => match tag.summed_versions(&dep.path).as_slice() {
            [] => Some(format!(
                "{name}: not a dependency of the tag ({go_mod} does not require {} and {go_sum} has no sum of it)",
                dep.path
            )),
            others => Some(format!(
                "{name}: {go_mod} does not require {} and {go_sum} has its sum only at {}",
                dep.path,
                others.join(", ")
            )),
        },
    };
    let version_ok = version_problem.is_none();
    if let Some(problem) = version_problem {
        problems.push(problem);
    } else if vendored {
        match tag.vendor.as_ref().and_then(|v| v.get(&dep.path)) {
            None => problems.push(format!("{name}: not in the tag's vendor/modules.txt")),
            Some(version) if *version != dep.version => problems.push(format!(
                "{name}: the tag's vendor/modules.txt has {version}"
            )),
            Some(_) => {}
        }
    }
    // The sum (of the module, or of its module replacement).
    let summed = match &dep.replace {
        Some(replacement) => replacement.as_ref(),
        None => dep,
    };
    if let (Some(sum), Some(sums)) = (&summed.sum, &tag.sums) {
        match sums.get(&(summed.path.clone(), summed.version.clone())) {
            Some(expected) if expected != sum => problems.push(format!(
                "{}: sum {sum} differs from the tag's {go_sum} ({expected})",
                module_text(summed)
            )),
            // After a version problem, a missing sum says nothing more.
            None if tag.complete_go_mod && version_ok => problems.push(format!(
                "{}: the tag's {go_sum} has no sum for it",
                module_text(summed)
            )),
            _ => {}
        }
    }
}

// -------------------------------------------------------------- Rust ----

/// A `[[package]]` of `Cargo.lock`.
struct LockedPackage {
    name: String,
    version: String,
    /// `None` for path packages (workspace members).
    source: Option<String>,
}

const CRATES_IO_SOURCES: [&str; 2] = [
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
];

/// Whether cargo-auditable's source kind (`crates.io`, `registry`,
/// `sparse`, `git`, `local`) names the lock file's source. Older
/// cargo-auditable recorded `registry` (or `sparse`) for crates.io too.
fn source_matches(recorded: Option<&str>, locked: Option<&str>) -> bool {
    let Some(recorded) = recorded else {
        return true;
    };
    let locked_kind = match locked {
        None => "local",
        Some(source) if CRATES_IO_SOURCES.contains(&source) => "crates.io",
        Some(source) => source.split('+').next().unwrap_or(source),
    };
    match (recorded, locked_kind) {
        ("registry", "crates.io" | "registry" | "sparse") => true,
        ("sparse", "crates.io" | "sparse") => true,
        (recorded, locked) => recorded == locked,
    }
}

/// The tag's `Cargo.lock`: the root's, else the shallowest one.
fn find_cargo_lock(files: &dyn SourceFiles) -> Option<(String, String)> {
    if let Some(lock) = text(files, "Cargo.lock") {
        return Some(("Cargo.lock".to_string(), lock));
    }
    let mut locks: Vec<String> = files
        .paths()
        .into_iter()
        .filter(|p| p.ends_with("/Cargo.lock"))
        .collect();
    locks.sort_by_key(|p| p.matches('/').count());
    let path = locks.into_iter().next()?;
    text(files, &path).map(|lock| (path, lock))
}

fn parse_cargo_lock(text: &str) -> Result<Vec<LockedPackage>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let packages = table
        .get("package")
        .and_then(toml::Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    Ok(packages
        .iter()
        .filter_map(|package| {
            let field = |key: &str| package.get(key).and_then(toml::Value::as_str);
            Some(LockedPackage {
                name: field("name")?.to_string(),
                version: field("version")?.to_string(),
                source: field("source").map(str::to_string),
            })
        })
        .collect())
}

/// Compares the cargo-auditable package list with the tag's `Cargo.lock`.
pub fn check_rust(packages: &[RustPackage], files: &dyn SourceFiles) -> DependencyCheck {
    let Some((path, lock)) = find_cargo_lock(files) else {
        return DependencyCheck::skipped(
            "the tag has no Cargo.lock: the binary's crates cannot be compared",
        );
    };
    let locked = match parse_cargo_lock(&lock) {
        Ok(locked) => locked,
        Err(err) => {
            return DependencyCheck::skipped(format!(
                "the tag's {path} is not valid TOML ({err}): the binary's crates cannot be compared"
            ))
        }
    };
    let mut problems = Problems::default();
    for package in packages {
        let name = format!(
            "crate {} {} ({})",
            package.name,
            package.version,
            package.source.as_deref().unwrap_or("source not recorded")
        );
        let same_name: Vec<&LockedPackage> =
            locked.iter().filter(|l| l.name == package.name).collect();
        let same_version: Vec<&&LockedPackage> = same_name
            .iter()
            .filter(|l| l.version == package.version)
            .collect();
        if same_name.is_empty() {
            problems.push(format!("{name}: not in the tag's {path}"));
        } else if same_version.is_empty() {
            let versions: BTreeSet<&str> = same_name.iter().map(|l| l.version.as_str()).collect();
            problems.push(format!(
                "{name}: the tag's {path} has {} {}",
                package.name,
                versions.into_iter().collect::<Vec<_>>().join(", ")
            ));
        } else if !same_version
            .iter()
            .any(|l| source_matches(package.source.as_deref(), l.source.as_deref()))
        {
            let sources: BTreeSet<&str> = same_version
                .iter()
                .map(|l| l.source.as_deref().unwrap_or("a path"))
                .collect();
            problems.push(format!(
                "{name}: the tag's {path} has it from {}",
                sources.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    problems.finish(packages.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::infer::files::MemoryFiles;

    const SUM_A: &str = "h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    const SUM_B: &str = "h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=";
    const SUM_C: &str = "h1:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=";

    fn module(path: &str, version: &str, sum: Option<&str>) -> GoModule {
        GoModule {
            path: path.into(),
            version: version.into(),
            sum: sum.map(str::to_string),
            replace: None,
        }
    }

    fn replaced(dep: GoModule, by: GoModule) -> GoModule {
        GoModule {
            replace: Some(Box::new(by)),
            ..dep
        }
    }

    fn info(main: &str, deps: Vec<GoModule>) -> GoBuildInfo {
        GoBuildInfo {
            go_version: "go1.22.5".into(),
            path: Some(format!("{main}/cmd/app")),
            main: Some(module(main, "(devel)", None)),
            deps,
            settings: Vec::new(),
            encoding: crate::binary::gobuildinfo::BuildInfoEncoding::Inline,
        }
    }

    const GO_MOD: &str = "module example.com/app\n\ngo 1.21\n\nrequire (\n\tgithub.com/a/one v1.2.0\n\tgithub.com/b/two v0.3.1 // indirect\n)\n";

    fn go_sum() -> String {
        format!(
            "github.com/a/one v1.2.0 {SUM_A}\ngithub.com/a/one v1.2.0/go.mod {SUM_C}\ngithub.com/b/two v0.3.1 {SUM_B}\ngithub.com/b/two v0.3.1/go.mod {SUM_C}\n"
        )
    }

    fn tree(extra: &[(&str, &str)]) -> MemoryFiles {
        let sum = go_sum();
        let mut files = MemoryFiles::new([("go.mod", GO_MOD), ("go.sum", sum.as_str())]);
        for (path, text) in extra {
            files.0.insert(path.to_string(), text.as_bytes().to_vec());
        }
        files
    }

    fn matching_deps() -> Vec<GoModule> {
        vec![
            module("github.com/a/one", "v1.2.0", Some(SUM_A)),
            module("github.com/b/two", "v0.3.1", Some(SUM_B)),
        ]
    }

    #[test]
    fn dependencies_that_match_the_tag_have_no_problems() {
        let check = check_go(&info("example.com/app", matching_deps()), &tree(&[]));
        assert_eq!(
            check,
            DependencyCheck {
                checked: 2,
                problems: Vec::new(),
                skipped: None,
                only: None,
            }
        );
        assert_eq!(
            serde_json::to_value(&check).expect("serialises"),
            serde_json::json!({"checked": 2, "problems": []})
        );
    }

    #[test]
    fn a_dependency_the_tag_does_not_require_is_a_problem() {
        let mut deps = matching_deps();
        deps.push(module("github.com/evil/x", "v1.0.0", Some(SUM_C)));
        let check = check_go(&info("example.com/app", deps), &tree(&[]));
        assert_eq!(check.checked, 3);
        assert_eq!(
            check.problems,
            vec!["github.com/evil/x v1.0.0: not a dependency of the tag (go.mod does not require github.com/evil/x)"]
        );
    }

    #[test]
    fn another_version_than_go_mod_requires_is_a_problem() {
        let deps = vec![
            module("github.com/a/one", "v1.2.1", Some(SUM_A)),
            module("github.com/b/two", "v0.3.1", Some(SUM_B)),
        ];
        let check = check_go(&info("example.com/app", deps), &tree(&[]));
        assert_eq!(
            check.problems,
            vec!["github.com/a/one v1.2.1: the tag's go.mod requires v1.2.0"]
        );
    }

    #[test]
    fn a_sum_other_than_go_sum_has_is_a_problem() {
        let deps = vec![
            module("github.com/a/one", "v1.2.0", Some(SUM_B)),
            module("github.com/b/two", "v0.3.1", Some(SUM_B)),
        ];
        let check = check_go(&info("example.com/app", deps), &tree(&[]));
        assert_eq!(
            check.problems,
            vec![format!(
                "github.com/a/one v1.2.0: sum {SUM_B} differs from the tag's go.sum ({SUM_A})"
            )]
        );
    }

    #[test]
    fn a_replacement_the_tag_does_not_declare_is_a_problem() {
        let deps = vec![
            replaced(
                module("github.com/a/one", "v1.2.0", None),
                module("/tmp/fork", "(devel)", None),
            ),
            module("github.com/b/two", "v0.3.1", Some(SUM_B)),
        ];
        let check = check_go(&info("example.com/app", deps), &tree(&[]));
        assert_eq!(
            check.problems,
            vec!["github.com/a/one v1.2.0 => /tmp/fork (devel): the tag declares no replacement of github.com/a/one"]
        );
    }

    #[test]
    fn declared_replacements_must_be_the_ones_applied() {
        let go_mod = format!(
            "{GO_MOD}replace github.com/a/one => ../fork\nreplace github.com/b/two v0.3.1 => github.com/c/two v0.4.0\n"
        );
        let sum = format!("{}github.com/c/two v0.4.0 {SUM_C}\n", go_sum());
        let files = MemoryFiles::new([("go.mod", go_mod.as_str()), ("go.sum", sum.as_str())]);
        // Both applied as declared.
        let applied = vec![
            replaced(
                module("github.com/a/one", "v1.2.0", None),
                module("../fork", "(devel)", None),
            ),
            replaced(
                module("github.com/b/two", "v0.3.1", None),
                module("github.com/c/two", "v0.4.0", Some(SUM_C)),
            ),
        ];
        let check = check_go(&info("example.com/app", applied), &files);
        assert_eq!(check.problems, Vec::<String>::new());
        // Another target, and a declared replacement not applied.
        let other = vec![
            replaced(
                module("github.com/a/one", "v1.2.0", None),
                module("/tmp/other", "(devel)", None),
            ),
            module("github.com/b/two", "v0.3.1", Some(SUM_B)),
        ];
        let check = check_go(&info("example.com/app", other), &files);
        assert_eq!(
            check.problems,
            vec![
                "github.com/a/one v1.2.0 => /tmp/other (devel): the tag replaces github.com/a/one with ../fork",
                "github.com/b/two v0.3.1: the tag replaces github.com/b/two with github.com/c/two v0.4.0, but the binary was built without that replacement",
            ]
        );
    }

    #[test]
    fn a_replacement_s_sum_is_checked_against_go_sum() {
        let go_mod = format!("{GO_MOD}replace github.com/b/two => github.com/c/two v0.4.0\n");
        let sum = format!("{}github.com/c/two v0.4.0 {SUM_C}\n", go_sum());
        let files = MemoryFiles::new([("go.mod", go_mod.as_str()), ("go.sum", sum.as_str())]);
        let deps = vec![
            module("github.com/a/one", "v1.2.0", Some(SUM_A)),
            replaced(
                module("github.com/b/two", "v0.3.1", None),
                module("github.com/c/two", "v0.4.0", Some(SUM_A)),
            ),
        ];
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!(
            check.problems,
            vec![format!(
                "github.com/c/two v0.4.0: sum {SUM_A} differs from the tag's go.sum ({SUM_C})"
            )]
        );
    }

    #[test]
    fn another_main_module_than_go_mod_declares_is_a_problem() {
        let check = check_go(&info("example.com/fork", matching_deps()), &tree(&[]));
        assert_eq!(
            check,
            DependencyCheck {
                checked: 0,
                problems: vec!["main module example.com/fork: the tag's go.mod declares module example.com/app, and no other go.mod of the tag declares example.com/fork".into()],
                skipped: None,
                only: None,
            }
        );
    }

    #[test]
    fn the_main_module_may_live_in_a_subdirectory() {
        let sum = go_sum();
        let files = MemoryFiles::new([
            ("go.mod", "module example.com/root\n\ngo 1.22\n"),
            ("tools/app/go.mod", GO_MOD),
            ("tools/app/go.sum", sum.as_str()),
        ]);
        let check = check_go(&info("example.com/app", matching_deps()), &files);
        assert_eq!((check.checked, check.problems), (2, Vec::<String>::new()));
        let mut deps = matching_deps();
        deps[0].version = "v1.3.0".into();
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!(
            check.problems[0],
            "github.com/a/one v1.3.0: the tag's tools/app/go.mod requires v1.2.0"
        );
    }

    #[test]
    fn a_gopath_era_tag_is_skipped() {
        let files = MemoryFiles::new([("main.go", "package main\n")]);
        let check = check_go(&info("example.com/app", matching_deps()), &files);
        assert_eq!(
            check,
            DependencyCheck {
                checked: 0,
                problems: Vec::new(),
                skipped: Some("the tag has no go.mod declaring module example.com/app (a GOPATH-era tree?): its dependencies cannot be compared".into()),
                only: None,
            }
        );
        let mut no_main = info("example.com/app", Vec::new());
        no_main.main = None;
        assert!(check_go(&no_main, &tree(&[])).skipped.is_some());
    }

    #[test]
    fn pre_1_17_go_mod_falls_back_to_go_sum_for_unlisted_modules() {
        let go_mod = "module example.com/app\n\ngo 1.16\n\nrequire github.com/a/one v1.2.0\n";
        let sum = format!("{}github.com/c/old v0.1.0/go.mod {SUM_C}\n", go_sum());
        let files = MemoryFiles::new([("go.mod", go_mod), ("go.sum", sum.as_str())]);
        let deps = vec![
            module("github.com/a/one", "v1.2.0", Some(SUM_A)),
            // Indirect: not in a pre-1.17 go.mod, but go.sum has it.
            module("github.com/b/two", "v0.3.1", Some(SUM_B)),
            // Unknown to both files.
            module("github.com/b/two/v2", "v2.0.0", Some(SUM_B)),
            // go.sum has only the sum of its go.mod, at another version.
            module("github.com/c/old", "v0.2.0", Some(SUM_C)),
        ];
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!(
            check.problems,
            vec![
                "github.com/b/two/v2 v2.0.0: not a dependency of the tag (go.mod does not require github.com/b/two/v2 and go.sum has no sum of it)",
                "github.com/c/old v0.2.0: not a dependency of the tag (go.mod does not require github.com/c/old and go.sum has no sum of it)",
            ]
        );
        let unlisted = "module example.com/app\n\ngo 1.16\n";
        let files = MemoryFiles::new([("go.mod", unlisted), ("go.sum", sum.as_str())]);
        let deps = vec![module("github.com/a/one", "v1.3.0", Some(SUM_A))];
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!(
            check.problems,
            vec!["github.com/a/one v1.3.0: go.mod does not require github.com/a/one and go.sum has its sum only at v1.2.0"]
        );
    }

    #[test]
    fn vendored_builds_are_checked_against_modules_txt() {
        let modules_txt = "# github.com/a/one v1.2.0\n## explicit; go 1.20\ngithub.com/a/one\n# github.com/b/two v0.3.1\n## explicit\ngithub.com/b/two/pkg\n";
        let files = MemoryFiles::new([("go.mod", GO_MOD), ("vendor/modules.txt", modules_txt)]);
        let deps = vec![
            module("github.com/a/one", "v1.2.0", None),
            module("github.com/b/two", "v0.3.1", None),
        ];
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!((check.checked, check.problems), (2, Vec::<String>::new()));
        let vendor_only = "# github.com/a/one v1.2.0\n## explicit\n";
        let files = MemoryFiles::new([("go.mod", GO_MOD), ("vendor/modules.txt", vendor_only)]);
        let deps = vec![
            module("github.com/a/one", "v1.2.0", None),
            module("github.com/b/two", "v0.3.1", None),
        ];
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!(
            check.problems,
            vec!["github.com/b/two v0.3.1: not in the tag's vendor/modules.txt"]
        );
    }

    #[test]
    fn workspace_modules_and_go_work_replacements_are_accepted() {
        let go_work = "go 1.22\n\nuse (\n\t.\n\t./staging/lib\n)\n\nreplace github.com/b/two => ./third_party/two\n";
        let sum = go_sum();
        let files = MemoryFiles::new([
            ("go.work", go_work),
            ("go.mod", GO_MOD),
            ("go.sum", sum.as_str()),
            (
                "staging/lib/go.mod",
                "module example.com/lib\n\ngo 1.22\n\nrequire github.com/a/one v1.2.0\n",
            ),
        ]);
        let deps = vec![
            module("example.com/lib", "(devel)", None),
            module("github.com/a/one", "v1.2.0", Some(SUM_A)),
            replaced(
                module("github.com/b/two", "v0.3.1", None),
                module("./third_party/two", "(devel)", None),
            ),
        ];
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!((check.checked, check.problems), (3, Vec::<String>::new()));
    }

    #[test]
    fn malformed_module_files_are_read_line_by_line_without_panicking() {
        let go_mod = "module example.com/app\ngo\nrequire\nrequire (\n  github.com/a/one\n  github.com/a/one v1.2.0\n)\nreplace => \nreplace a b c => d e f\n)\n(\n";
        let sum = "garbage\ngithub.com/a/one v1.2.0\n\u{0}\u{1}\n";
        let files = MemoryFiles::new([
            ("go.mod", go_mod),
            ("go.sum", sum),
            ("vendor/modules.txt", "#\n# \n# x\n"),
        ]);
        let deps = vec![module("github.com/a/one", "v1.2.0", Some(SUM_A))];
        let check = check_go(&info("example.com/app", deps), &files);
        assert_eq!((check.checked, check.problems), (1, Vec::<String>::new()));
    }

    #[test]
    fn problems_past_the_limit_are_counted_on_one_line() {
        let deps: Vec<GoModule> = (0..MAX_PROBLEMS + 3)
            .map(|i| module(&format!("example.com/m{i}"), "v1.0.0", Some(SUM_A)))
            .collect();
        let check = check_go(&info("example.com/app", deps), &tree(&[]));
        assert_eq!(check.checked, MAX_PROBLEMS + 3);
        assert_eq!(check.problems.len(), MAX_PROBLEMS + 1);
        assert_eq!(
            check.problems.last().map(String::as_str),
            Some("... and 3 more dependency problems")
        );
    }

    fn crate_(name: &str, version: &str, source: &str) -> RustPackage {
        RustPackage {
            name: name.into(),
            version: version.into(),
            source: Some(source.into()),
        }
    }

    const CARGO_LOCK: &str = r#"# This file is automatically @generated by Cargo.
version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["serde", "mylib"]

[[package]]
name = "serde"
version = "1.0.190"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "91d3c334ca1ee894a2c6f6ad698fe8c435b76d504b13d436f0685d648d6d96f7"

[[package]]
name = "mylib"
version = "0.2.0"
source = "git+https://github.com/org/mylib?branch=main#0123456789abcdef0123456789abcdef01234567"

[[package]]
name = "ours"
version = "0.3.0"
source = "sparse+https://crates.example.com/index/"
"#;

    fn matching_crates() -> Vec<RustPackage> {
        vec![
            crate_("app", "0.1.0", "local"),
            crate_("serde", "1.0.190", "crates.io"),
            crate_("mylib", "0.2.0", "git"),
            crate_("ours", "0.3.0", "registry"),
        ]
    }

    #[test]
    fn crates_that_match_cargo_lock_have_no_problems() {
        let files = MemoryFiles::new([("Cargo.lock", CARGO_LOCK)]);
        let check = check_rust(&matching_crates(), &files);
        assert_eq!(
            check,
            DependencyCheck {
                checked: 4,
                problems: Vec::new(),
                skipped: None,
                only: None,
            }
        );
    }

    #[test]
    fn crates_missing_from_cargo_lock_at_another_version_or_source_are_problems() {
        let files = MemoryFiles::new([("Cargo.lock", CARGO_LOCK)]);
        let packages = vec![
            crate_("app", "0.1.0", "local"),
            crate_("serde", "1.0.191", "crates.io"),
            crate_("mylib", "0.2.0", "crates.io"),
            crate_("evil", "0.0.1", "crates.io"),
            crate_("serde", "1.0.190", "local"),
        ];
        let check = check_rust(&packages, &files);
        assert_eq!(check.checked, 5);
        assert_eq!(
            check.problems,
            vec![
                "crate serde 1.0.191 (crates.io): the tag's Cargo.lock has serde 1.0.190",
                "crate mylib 0.2.0 (crates.io): the tag's Cargo.lock has it from git+https://github.com/org/mylib?branch=main#0123456789abcdef0123456789abcdef01234567",
                "crate evil 0.0.1 (crates.io): not in the tag's Cargo.lock",
                "crate serde 1.0.190 (local): the tag's Cargo.lock has it from registry+https://github.com/rust-lang/crates.io-index",
            ]
        );
    }

    #[test]
    fn no_or_broken_cargo_lock_skips_the_rust_check() {
        let none = check_rust(&matching_crates(), &MemoryFiles::new([("src/main.rs", "")]));
        assert_eq!(
            none.skipped.as_deref(),
            Some("the tag has no Cargo.lock: the binary's crates cannot be compared")
        );
        assert_eq!((none.checked, none.problems.len()), (0, 0));
        let broken = check_rust(
            &matching_crates(),
            &MemoryFiles::new([("Cargo.lock", "[[package]\nname = ")]),
        );
        assert!(broken
            .skipped
            .as_deref()
            .is_some_and(|s| s.starts_with("the tag's Cargo.lock is not valid TOML")));
        // Entries without a name or version are skipped, not fatal.
        let partial = check_rust(
            &[crate_("serde", "1.0.190", "crates.io")],
            &MemoryFiles::new([(
                "Cargo.lock",
                "[[package]]\nname = 1\n[[package]]\nversion = \"1\"\n[[package]]\nname = \"serde\"\nversion = \"1.0.190\"\nsource = \"sparse+https://index.crates.io/\"\n",
            )]),
        );
        assert_eq!(
            (partial.checked, partial.problems),
            (1, Vec::<String>::new())
        );
    }

    #[test]
    fn a_nested_cargo_lock_is_used_when_the_root_has_none() {
        let files = MemoryFiles::new([("rust/Cargo.lock", CARGO_LOCK)]);
        let check = check_rust(&[crate_("evil", "1.0.0", "crates.io")], &files);
        assert_eq!(
            check.problems,
            vec!["crate evil 1.0.0 (crates.io): not in the tag's rust/Cargo.lock"]
        );
    }
}
