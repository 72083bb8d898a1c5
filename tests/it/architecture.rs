//! The module tree reads as the pipeline: every stage imports only the
//! stages `lib.rs` lists before it, no file of a folder imports the
//! module that declares it, and no files or top-level folders import each
//! other in a circle. Checked on the source text, so a new `use` that
//! breaks the layering fails here with the edge named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

/// Every module of `src/` (the library's: `src/bin/` holds the binary),
/// by path, with its non-test source.
fn modules() -> BTreeMap<Module, (bool, String)> {
    fn walk(dir: &Path, out: &mut BTreeMap<Module, (bool, String)>, prefix: &[String]) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            if path.is_dir() {
                if prefix.is_empty() && name == "bin" {
                    continue;
                }
                let mut p = prefix.to_vec();
                p.push(name);
                walk(&path, out, &p);
            } else if let Some(stem) = name.strip_suffix(".rs") {
                let mut module = prefix.to_vec();
                let is_mod = stem == "mod" || (prefix.is_empty() && stem == "lib");
                if !is_mod {
                    module.push(stem.to_string());
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                let code: String = code
                    .lines()
                    .map(|l| l.split("//").next().unwrap_or(""))
                    .collect::<Vec<_>>()
                    .join("\n");
                out.insert(module, (is_mod, code));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut out,
        &[],
    );
    out
}

/// The modules each module names through `crate::` or `super::` paths.
fn edges(modules: &BTreeMap<Module, (bool, String)>) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut edges = BTreeMap::new();
    for (module, (is_mod, code)) in modules {
        let mut deps = BTreeSet::new();
        for (at, _) in code
            .match_indices("crate::")
            .chain(code.match_indices("super::"))
        {
            let rest = &code[at..];
            let path: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':' || *c == '{')
                .filter(|c| *c != '{')
                .collect();
            let mut segments = path.split("::").filter(|s| !s.is_empty());
            let mut target: Module = match segments.next() {
                Some("crate") => Vec::new(),
                // `super` of a file is its folder; of a folder's mod.rs, the folder's parent.
                _ if *is_mod => module[..module.len().saturating_sub(1)].to_vec(),
                _ => module[..module.len() - 1].to_vec(),
            };
            for segment in segments {
                let mut next = target.clone();
                next.push(segment.to_string());
                if !modules.contains_key(&next) {
                    break;
                }
                target = next;
            }
            if &target != module {
                deps.insert(target);
            }
        }
        edges.insert(module.clone(), deps);
    }
    edges
}

fn reaches(edges: &BTreeMap<Module, BTreeSet<Module>>, from: &Module, to: &Module) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.clone()];
    while let Some(m) = stack.pop() {
        for d in edges.get(&m).into_iter().flatten() {
            if d == to {
                return true;
            }
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    false
}

#[test]
fn no_module_imports_the_folder_that_declares_it() {
    let modules = modules();
    let mut offending = Vec::new();
    for (module, deps) in edges(&modules) {
        for dep in deps {
            if !dep.is_empty() && dep.len() < module.len() && module.starts_with(&dep) {
                offending.push(format!("{} -> {}", module.join("/"), dep.join("/")));
            }
        }
    }
    assert_eq!(offending, Vec::<String>::new());
}

#[test]
fn no_files_or_folders_import_each_other_in_a_circle() {
    let modules = modules();
    let edges = edges(&modules);
    let mut circles = Vec::new();
    for (module, deps) in &edges {
        for dep in deps {
            if module < dep && reaches(&edges, dep, module) {
                circles.push(format!("{} <-> {}", module.join("/"), dep.join("/")));
            }
        }
    }
    assert_eq!(circles, Vec::<String>::new());

    let mut folders: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, deps) in &edges {
        for dep in deps {
            if !module.is_empty() && !dep.is_empty() && module[0] != dep[0] {
                folders
                    .entry(vec![module[0].clone()])
                    .or_default()
                    .insert(vec![dep[0].clone()]);
            }
        }
    }
    let mut folder_circles = Vec::new();
    for (folder, deps) in &folders {
        for dep in deps {
            if folder < dep && reaches(&folders, dep, folder) {
                folder_circles.push(format!("{} <-> {}", folder[0], dep[0]));
            }
        }
    }
    assert_eq!(folder_circles, Vec::<String>::new());
}

/// The modules `src/<file>` declares at its top level (`pub mod x;`, `mod x;`).
fn declared_in(file: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .expect("a crate root");
    text.lines()
        .filter_map(|line| line.strip_prefix("pub mod ").or(line.strip_prefix("mod ")))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(str::to_string)
        .collect()
}

/// The stages in the order `lib.rs` states them: its module list
/// (`//! - [`binary`]: ...`), which must name every module it declares.
fn stated_order() -> Vec<String> {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    let listed: Vec<String> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("//! - [`"))
        .filter_map(|rest| rest.split_once("`]"))
        .map(|(name, _)| name.to_string())
        .collect();
    let mut declared = declared_in("src/lib.rs");
    declared.sort();
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(
        sorted, declared,
        "lib.rs must list every module it declares, once"
    );
    listed
}

#[test]
fn every_stage_imports_only_the_stages_lib_rs_lists_before_it() {
    let order = stated_order();
    let modules = modules();
    let mut offending = BTreeSet::new();
    for (module, deps) in edges(&modules) {
        let Some(stage) = module.first() else {
            continue;
        };
        let at = order
            .iter()
            .position(|s| s == stage)
            .unwrap_or_else(|| panic!("src/{stage} is not in lib.rs's module list"));
        for dep in deps {
            let Some(target) = dep.first() else {
                continue;
            };
            if !order[..=at].contains(target) {
                offending.insert(format!("{} -> {}", module.join("/"), dep.join("/")));
            }
        }
    }
    assert_eq!(offending, BTreeSet::<String>::new());
}
