//! The catalogue: the recipes shipped inside the binary plus any from
//! `--recipes DIR`, looked up by normalised image repository.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::error::RecipeError;
use super::schema::Recipe;
use crate::image::reference::{ImageLocation, Reference};

/// The recipes shipped inside the binary: `(file name, contents)`.
/// Every `recipes/*.toml` file must be listed here (a unit test checks it).
const BUILTIN_RECIPES: &[(&str, &str)] = &[
    (
        "bitnami-kubectl.toml",
        include_str!("../../../recipes/bitnami-kubectl.toml"),
    ),
    (
        "rancher-crictl.toml",
        include_str!("../../../recipes/rancher-crictl.toml"),
    ),
];

/// A recipe of the catalogue, with the text it was parsed from.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The shipped recipe's name (`rancher-crictl`), or the file's path.
    pub name: String,
    pub recipe: Recipe,
    /// The TOML exactly as shipped or read.
    pub text: String,
}

impl Entry {
    /// The repositories the recipe covers: its repository, then its
    /// fallback repositories (where that repository's tags moved).
    fn covers(&self) -> impl Iterator<Item = &str> {
        let image = &self.recipe.image;
        std::iter::once(image.repository.as_str())
            .chain(image.fallback_repositories.iter().map(String::as_str))
    }
}

/// The path of a normalised `registry/repository`.
fn path_of(repository: &str) -> &str {
    repository
        .split_once('/')
        .map_or(repository, |(_, path)| path)
}

/// One line of `rebuild-compare recipe list`.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// What `--recipe builtin:NAME` and `recipe show NAME` take, or the file's path.
    pub name: String,
    /// `builtin:NAME.toml` or the file's path, as reports record it.
    pub origin: String,
    /// The normalised repository the recipe covers.
    pub repository: String,
    /// The source's git URL.
    pub git: String,
    /// The platforms it rebuilds.
    pub platforms: Vec<String>,
}

/// The recipe found for an image, and how it was found.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    pub entry: &'a Entry,
    /// Why this recipe, when the image's repository is not the one it covers
    /// (a mirror): a one-line note for the report.
    pub note: Option<String>,
}

/// What the catalogue holds for an image whose recipe may be inferred.
#[derive(Debug, Clone)]
pub enum Lookup<'a> {
    /// A recipe covers the image.
    Found(Found<'a>),
    /// None does, or the image is a layout or archive (no repository to
    /// look a recipe up by): infer one. The note names close matches.
    Infer { note: Option<String> },
}

/// The recipes known by repository: the shipped ones, plus a directory's.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    by_repository: BTreeMap<String, Entry>,
}

impl Catalogue {
    /// The recipes compiled into the binary.
    pub fn builtin() -> Result<Self, RecipeError> {
        let mut catalogue = Self::default();
        for (file, text) in BUILTIN_RECIPES {
            catalogue.insert(builtin_entry(file, text)?, false)?;
        }
        Ok(catalogue)
    }

    /// The shipped recipes plus every `*.toml` in `dir`; a recipe from `dir`
    /// replaces a shipped one for the same repository.
    pub fn with_dir(dir: &Path) -> Result<Self, RecipeError> {
        let mut catalogue = Self::builtin()?;
        let read_dir = |source| RecipeError::ReadDir {
            path: dir.to_path_buf(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_dir)? {
            let path = entry.map_err(read_dir)?.path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
        files.sort();
        let mut from_dir = Self::default();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| RecipeError::Read {
                path: path.clone(),
                source,
            })?;
            let name = path.display().to_string();
            let recipe = Recipe::parse(&name, &text)?;
            from_dir.insert(Entry { name, recipe, text }, false)?;
        }
        for entry in from_dir.by_repository.into_values() {
            catalogue.insert(entry, true)?;
        }
        Ok(catalogue)
    }

    /// Adds `entry`; with `replace`, in place of the recipe for the same
    /// repository. A repository covered by two recipes (as repository or
    /// fallback repository) is an error.
    fn insert(&mut self, entry: Entry, replace: bool) -> Result<(), RecipeError> {
        let repository = entry.recipe.image.repository.clone();
        if replace {
            self.by_repository.remove(&repository);
        }
        for covered in entry.covers() {
            if let Some(existing) = self.entries().find(|e| e.covers().any(|c| c == covered)) {
                return Err(RecipeError::Duplicate {
                    repository: covered.to_string(),
                    first: existing.recipe.origin.clone(),
                    second: entry.recipe.origin.clone(),
                });
            }
        }
        self.by_repository.insert(repository, entry);
        Ok(())
    }

    /// The normalised repositories covered, sorted.
    pub fn repositories(&self) -> impl Iterator<Item = &str> {
        self.by_repository.keys().map(String::as_str)
    }

    /// Every recipe, sorted by the repository it covers.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.by_repository.values()
    }

    /// What `rebuild-compare recipe list` prints, sorted by repository.
    pub fn list(&self) -> Vec<Listed> {
        self.entries()
            .map(|entry| Listed {
                name: entry.name.clone(),
                origin: entry.recipe.origin.clone(),
                repository: entry.recipe.image.repository.clone(),
                git: entry.recipe.source.git.clone(),
                platforms: entry.recipe.platforms().map(ToString::to_string).collect(),
            })
            .collect()
    }

    /// The recipe for an image (`rancher/crictl`, `docker.io/rancher/crictl:v1.30.0`,
    /// a mirror's `127.0.0.1:5000/rancher/crictl`): the one covering its
    /// repository (as repository or fallback repository), else the only
    /// one covering the same repository path on another registry
    /// (`library/NAME` and `NAME` being the same path). Several recipes
    /// with that path, or none, is an error (the latter listing close matches).
    pub fn lookup(&self, image: &str) -> Result<Found<'_>, RecipeError> {
        let reference = Reference::parse(image)?;
        let repository = reference.name();
        if let Some(entry) = self.entries().find(|e| e.covers().any(|c| c == repository)) {
            return Ok(Found { entry, note: None });
        }
        let path = canonical_path(&reference.repository);
        let same_path: Vec<(&Entry, &str)> = self
            .entries()
            .filter_map(|entry| {
                let covered = entry
                    .covers()
                    .find(|c| canonical_path(path_of(c)) == path)?;
                Some((entry, covered))
            })
            .collect();
        match same_path.as_slice() {
            [(entry, covered)] => Ok(Found {
                entry,
                note: Some(format!(
                    "recipe {}: covers {covered}, matched by repository path {} on {}",
                    entry.recipe.origin, reference.repository, reference.registry
                )),
            }),
            [] => Err(RecipeError::UnknownRepository {
                close: self.close_to(&repository, &path),
                repository,
            }),
            several => Err(RecipeError::AmbiguousPath {
                repository,
                path,
                candidates: several
                    .iter()
                    .map(|(e, covered)| format!("{} (covers {covered})", e.recipe.origin))
                    .collect(),
            }),
        }
    }

    /// The recipe for `image` when one may be inferred instead: the one
    /// [`Catalogue::lookup`] finds, else [`Lookup::Infer`] when none covers
    /// the image, noting close matches (`--recipe builtin:NAME` takes one).
    /// Several recipes for its path on other registries is still an error.
    pub fn lookup_or_infer(&self, image: &ImageLocation) -> Result<Lookup<'_>, RecipeError> {
        let Some(reference) = image.registry_reference() else {
            return Ok(Lookup::Infer { note: None });
        };
        match self.lookup(&reference.name()) {
            Ok(found) => Ok(Lookup::Found(found)),
            Err(RecipeError::UnknownRepository { close, repository }) => Ok(Lookup::Infer {
                note: (!close.is_empty()).then(|| {
                    format!(
                        "no recipe covers {repository} (close matches: {}; pass one with --recipe builtin:NAME if you meant it)",
                        close.join(", ")
                    )
                }),
            }),
            Err(e) => Err(e),
        }
    }

    /// The known repositories within a few edits of `repository`, or of its
    /// `path` on any registry, closest first.
    fn close_to(&self, repository: &str, path: &str) -> Vec<String> {
        let within = |a: &str, b: &str| {
            let distance = edit_distance(a, b);
            (distance <= (b.len() / 3).max(3)).then_some(distance)
        };
        let mut close: Vec<(usize, &String)> = self
            .by_repository
            .iter()
            .filter_map(|(known, entry)| {
                let by_name = within(known, repository);
                let by_path = within(
                    &canonical_path(path_of(&entry.recipe.image.repository)),
                    path,
                );
                let distance = match (by_name, by_path) {
                    (Some(a), Some(b)) => a.min(b),
                    (a, b) => a.or(b)?,
                };
                Some((distance, known))
            })
            .collect();
        close.sort();
        close.into_iter().map(|(_, known)| known.clone()).collect()
    }

    /// The recipe `recipe show NAME` means, with a note when found by
    /// repository path: a recipe's name (a shipped one's with or without
    /// `builtin:` and `.toml`, even when `--recipes DIR` replaced it; a
    /// directory's by its path), else the recipe an image reference looks up
    /// (`rancher/crictl`).
    pub fn find(&self, name: &str) -> Result<(Entry, Option<String>), RecipeError> {
        if let Some(entry) = self.entries().find(|e| e.name == name) {
            return Ok((entry.clone(), None));
        }
        if let Ok(entry) = builtin(name) {
            return Ok((entry, None));
        }
        match self.lookup(name) {
            Ok(found) => Ok((found.entry.clone(), found.note)),
            Err(RecipeError::Reference(_) | RecipeError::UnknownRepository { .. }) => {
                Err(RecipeError::UnknownRecipe {
                    name: name.to_string(),
                    known: self
                        .entries()
                        .map(|e| format!("{} ({})", e.name, e.recipe.image.repository))
                        .collect(),
                })
            }
            Err(other) => Err(other),
        }
    }
}

/// The shipped recipe `NAME`, `NAME.toml` or `builtin:NAME[.toml]` (what
/// `--recipe builtin:NAME` takes); an unknown name lists the shipped ones.
pub fn builtin(name: &str) -> Result<Entry, RecipeError> {
    let bare = builtin_name(name);
    match BUILTIN_RECIPES
        .iter()
        .find(|(file, _)| file.strip_suffix(".toml") == Some(bare))
    {
        Some((file, text)) => builtin_entry(file, text),
        None => Err(RecipeError::UnknownBuiltin {
            name: name.to_string(),
            shipped: BUILTIN_RECIPES
                .iter()
                .map(|(file, _)| file.trim_end_matches(".toml").to_string())
                .collect(),
        }),
    }
}

/// `builtin:NAME.toml`, `NAME.toml`, `builtin:NAME` → `NAME`.
fn builtin_name(name: &str) -> &str {
    let name = name.strip_prefix("builtin:").unwrap_or(name);
    name.strip_suffix(".toml").unwrap_or(name)
}

fn builtin_entry(file: &str, text: &str) -> Result<Entry, RecipeError> {
    Ok(Entry {
        name: file.trim_end_matches(".toml").to_string(),
        recipe: Recipe::parse(&format!("builtin:{file}"), text)?,
        text: text.to_string(),
    })
}

/// A repository path as Docker Hub reads it on any registry: `library/NAME`
/// (where Hub keeps official images) is `NAME`.
fn canonical_path(path: &str) -> String {
    match path.strip_prefix("library/") {
        Some(name) if !name.contains('/') => name.to_string(),
        _ => path.to_string(),
    }
}

/// The recipe list as text: one line per recipe, name, repository and git URL in columns.
pub fn render_list(listed: &[Listed]) -> String {
    let width = |f: fn(&Listed) -> &str| listed.iter().map(|l| f(l).len()).max().unwrap_or(0);
    let (name_width, repository_width) = (width(|l| &l.name), width(|l| &l.repository));
    listed
        .iter()
        .map(|l| {
            format!(
                "{:name_width$}  {:repository_width$}  {}\n",
                l.name, l.repository, l.git
            )
        })
        .collect()
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            let deletion = previous[j + 1] + 1;
            let insertion = current[j] + 1;
            current.push(substitution.min(deletion).min(insertion));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::recipe::schema::tests::MINIMAL;
    use crate::rebuild::recipe::TemplateVars;
    use std::collections::BTreeMap;

    fn origin_for(catalogue: &Catalogue, image: &str) -> Result<(String, Option<String>), String> {
        catalogue
            .lookup(image)
            .map(|found| (found.entry.recipe.origin.clone(), found.note))
            .map_err(|e| e.to_string())
    }

    /// A catalogue of the shipped recipes plus `recipes` (repository, file stem).
    fn with_recipes(recipes: &[(&str, &str)]) -> (tempfile::TempDir, Catalogue) {
        let dir = tempfile::tempdir().unwrap();
        for (repository, name) in recipes {
            let text = MINIMAL.replace("\"rancher/crictl\"", &format!("{repository:?}"));
            std::fs::write(dir.path().join(format!("{name}.toml")), text).unwrap();
        }
        let catalogue = Catalogue::with_dir(dir.path()).unwrap();
        (dir, catalogue)
    }

    #[test]
    fn builtin_catalogue_ships_every_recipe_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("recipes");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".toml"))
            .collect();
        on_disk.sort();
        let mut shipped: Vec<String> = BUILTIN_RECIPES.iter().map(|(n, _)| n.to_string()).collect();
        shipped.sort();
        assert_eq!(on_disk, shipped);
        let catalogue = Catalogue::builtin().unwrap();
        assert_eq!(
            catalogue.repositories().collect::<Vec<_>>(),
            ["docker.io/bitnami/kubectl", "docker.io/rancher/crictl"]
        );
    }

    #[test]
    fn every_shipped_recipe_renders_for_each_of_its_platforms() {
        let catalogue = Catalogue::builtin().unwrap();
        for entry in catalogue.entries() {
            let (name, recipe) = (&entry.name, &entry.recipe);
            assert!(recipe.platforms().count() > 0, "{name} builds no platform");
            for platform in recipe.platforms() {
                let inputs: BTreeMap<String, String> = recipe
                    .used_inputs()
                    .into_iter()
                    .map(|name| (name, "1.2.3".to_string()))
                    .collect();
                let vars = TemplateVars {
                    version: "v1.2.3",
                    platform: Some(platform),
                    inputs: Some(&inputs),
                };
                let mut rendered = vec![
                    recipe.image.tag.render(&vars),
                    recipe.source.git_ref.render(&vars),
                ];
                for template in recipe.build_templates() {
                    rendered.push(
                        template
                            .render_checked(&vars, crate::rebuild::recipe::template::ValueUse::Word)
                            .unwrap_or_else(|e| panic!("{name}: {e}")),
                    );
                }
                for text in rendered {
                    for placeholder in
                        ["{version}", "{version_bare}", "{os}", "{arch}", "{variant}"]
                    {
                        assert!(
                            !text.contains(placeholder),
                            "{name}: {placeholder} left in {text:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn lookup_accepts_any_spelling_of_the_repository() {
        let catalogue = Catalogue::builtin().unwrap();
        for spelling in [
            "rancher/crictl",
            "docker.io/rancher/crictl:v1.30.0",
            "index.docker.io/rancher/crictl",
        ] {
            assert_eq!(
                origin_for(&catalogue, spelling),
                Ok(("builtin:rancher-crictl.toml".to_string(), None)),
                "{spelling}"
            );
        }
        assert_eq!(
            origin_for(&catalogue, "library/ubuntu"),
            Err("no recipe for docker.io/library/ubuntu; `rebuild-compare recipe list` shows the known ones; \
                 write one (see recipes/README.md) and pass it with --recipe FILE"
                .to_string())
        );
    }

    #[test]
    fn finds_recipe_for_a_mirror_registry_reference_by_repository_path() {
        let catalogue = Catalogue::builtin().unwrap();
        for (image, registry, path) in [
            (
                "127.0.0.1:5000/rancher/crictl:v1.19.0",
                "127.0.0.1:5000",
                "rancher/crictl",
            ),
            (
                "mirror.gcr.io/rancher/crictl",
                "mirror.gcr.io",
                "rancher/crictl",
            ),
        ] {
            assert_eq!(
                origin_for(&catalogue, image),
                Ok((
                    "builtin:rancher-crictl.toml".to_string(),
                    Some(format!(
                        "recipe builtin:rancher-crictl.toml: covers docker.io/rancher/crictl, \
                         matched by repository path {path} on {registry}"
                    ))
                ))
            );
        }
        assert_eq!(
            origin_for(&catalogue, "public.ecr.aws/bitnami/kubectl").map(|(origin, _)| origin),
            Ok("builtin:bitnami-kubectl.toml".to_string())
        );
    }

    #[test]
    fn library_namespace_is_the_same_path_as_a_bare_name() {
        let (_dir, catalogue) = with_recipes(&[("ubuntu", "ubuntu")]);
        for image in [
            "127.0.0.1:5000/ubuntu",
            "mirror.gcr.io/library/ubuntu:22.04",
        ] {
            assert!(
                origin_for(&catalogue, image)
                    .unwrap()
                    .0
                    .ends_with("ubuntu.toml"),
                "{image}"
            );
        }
        assert!(origin_for(&catalogue, "127.0.0.1:5000/other/ubuntu").is_err());
    }

    #[test]
    fn exact_repository_wins_over_a_path_on_another_registry_and_two_paths_are_an_error() {
        let (dir, catalogue) = with_recipes(&[("quay.io/rancher/crictl", "quay")]);
        let quay = dir.path().join("quay.toml").display().to_string();
        assert_eq!(
            origin_for(&catalogue, "quay.io/rancher/crictl"),
            Ok((quay.clone(), None))
        );
        assert_eq!(
            origin_for(&catalogue, "rancher/crictl"),
            Ok(("builtin:rancher-crictl.toml".to_string(), None))
        );
        assert_eq!(
            origin_for(&catalogue, "127.0.0.1:5000/rancher/crictl"),
            Err(format!(
                "no recipe covers 127.0.0.1:5000/rancher/crictl itself, and recipes for several \
                 registries cover its path rancher/crictl: builtin:rancher-crictl.toml (covers \
                 docker.io/rancher/crictl), {quay} (covers quay.io/rancher/crictl); pass the one \
                 you mean with --recipe FILE (or --recipe builtin:NAME)"
            ))
        );
    }

    /// A catalogue of the shipped recipes plus one recipe per
    /// `(repository, fallback_repositories, file stem)`.
    fn with_fallback_recipes(recipes: &[(&str, &str, &str)]) -> Result<Catalogue, String> {
        let dir = tempfile::tempdir().unwrap();
        for (repository, fallbacks, name) in recipes {
            let text = MINIMAL.replace(
                "repository = \"rancher/crictl\"",
                &format!("repository = {repository:?}\nfallback_repositories = {fallbacks}"),
            );
            std::fs::write(dir.path().join(format!("{name}.toml")), text).unwrap();
        }
        Catalogue::with_dir(dir.path()).map_err(|e| {
            e.to_string()
                .replace(&dir.path().display().to_string(), "DIR")
        })
    }

    #[test]
    fn a_fallback_repository_finds_its_recipe_by_name_and_by_path() {
        let catalogue = Catalogue::builtin().unwrap();
        assert_eq!(
            origin_for(&catalogue, "docker.io/bitnamilegacy/kubectl:1.20.0"),
            Ok(("builtin:bitnami-kubectl.toml".to_string(), None))
        );
        assert_eq!(
            origin_for(&catalogue, "127.0.0.1:5000/bitnamilegacy/kubectl"),
            Ok((
                "builtin:bitnami-kubectl.toml".to_string(),
                Some(
                    "recipe builtin:bitnami-kubectl.toml: covers docker.io/bitnamilegacy/kubectl, \
                     matched by repository path bitnamilegacy/kubectl on 127.0.0.1:5000"
                        .to_string()
                )
            ))
        );
    }

    #[test]
    fn two_recipes_covering_one_repository_as_repository_or_fallback_are_an_error() {
        assert_eq!(
            with_fallback_recipes(&[
                ("old/app", "[\"legacy/app\"]", "a"),
                ("legacy/app", "[]", "b"),
            ])
            .map(|_| ()),
            Err("recipes DIR/a.toml and DIR/b.toml both cover docker.io/legacy/app".to_string())
        );
        assert_eq!(
            with_fallback_recipes(&[
                ("old/app", "[\"legacy/app\"]", "a"),
                ("new/app", "[\"legacy/app\"]", "b"),
            ])
            .map(|_| ()),
            Err("recipes DIR/a.toml and DIR/b.toml both cover docker.io/legacy/app".to_string())
        );
        assert_eq!(
            with_fallback_recipes(&[("mine/kubectl", "[\"bitnamilegacy/kubectl\"]", "a")])
                .map(|_| ()),
            Err(
                "recipes builtin:bitnami-kubectl.toml and DIR/a.toml both cover docker.io/bitnamilegacy/kubectl"
                    .to_string()
            )
        );
        // A recipe replacing the shipped one may keep its fallback.
        let replaced =
            with_fallback_recipes(&[("bitnami/kubectl", "[\"bitnamilegacy/kubectl\"]", "kubectl")])
                .unwrap();
        let (origin, _) = origin_for(&replaced, "bitnamilegacy/kubectl").unwrap();
        assert!(
            origin.starts_with('/') && origin.ends_with("/kubectl.toml"),
            "{origin}"
        );
    }

    #[test]
    fn close_matches_count_edits_to_the_path_on_any_registry() {
        let catalogue = Catalogue::builtin().unwrap();
        assert_eq!(
            origin_for(&catalogue, "127.0.0.1:5000/rancher/critcl"),
            Err("no recipe for 127.0.0.1:5000/rancher/critcl (close matches: docker.io/rancher/crictl); \
                 `rebuild-compare recipe list` shows the known ones; write one (see recipes/README.md) \
                 and pass it with --recipe FILE"
                .to_string())
        );
    }

    #[test]
    fn lookup_or_infer_infers_for_layouts_and_uncovered_images_noting_close_matches() {
        let catalogue = Catalogue::builtin().unwrap();
        let lookup = |image: &str| match catalogue
            .lookup_or_infer(&ImageLocation::parse(image).unwrap())
            .unwrap()
        {
            Lookup::Found(found) => Ok((found.entry.recipe.origin.clone(), found.note)),
            Lookup::Infer { note } => Err(note),
        };
        assert_eq!(
            lookup("rancher/crictl:v1.30.0"),
            Ok(("builtin:rancher-crictl.toml".to_string(), None))
        );
        assert_eq!(lookup("oci:/tmp/layout:v1"), Err(None));
        assert_eq!(lookup("127.0.0.1:5000/tools/app"), Err(None));
        assert_eq!(
            lookup("127.0.0.1:5000/rancher/critcl"),
            Err(Some(
                "no recipe covers 127.0.0.1:5000/rancher/critcl (close matches: \
                 docker.io/rancher/crictl; pass one with --recipe builtin:NAME if you meant it)"
                    .to_string()
            ))
        );
    }

    #[test]
    fn builtin_recipes_are_named_with_or_without_prefix_and_extension() {
        for name in [
            "rancher-crictl",
            "rancher-crictl.toml",
            "builtin:rancher-crictl.toml",
        ] {
            let entry = builtin(name).unwrap();
            assert_eq!(entry.recipe.origin, "builtin:rancher-crictl.toml");
            assert_eq!(
                entry.text,
                include_str!("../../../recipes/rancher-crictl.toml")
            );
        }
        assert_eq!(
            builtin("rancher-critcl").unwrap_err().to_string(),
            "no shipped recipe named \"rancher-critcl\"; shipped: bitnami-kubectl, rancher-crictl"
        );
    }

    #[test]
    fn find_takes_a_name_or_a_repository() {
        let catalogue = Catalogue::builtin().unwrap();
        for name in [
            "bitnami-kubectl",
            "builtin:bitnami-kubectl.toml",
            "bitnami/kubectl",
        ] {
            assert_eq!(catalogue.find(name).unwrap().0.name, "bitnami-kubectl");
        }
        assert_eq!(
            catalogue.find("Nope").unwrap_err().to_string(),
            "no recipe named \"Nope\" or covering it; known: bitnami-kubectl (docker.io/bitnami/kubectl), \
             rancher-crictl (docker.io/rancher/crictl)"
        );
    }

    #[test]
    fn list_has_one_line_per_recipe() {
        let catalogue = Catalogue::builtin().unwrap();
        assert_eq!(
            render_list(&catalogue.list()),
            "bitnami-kubectl  docker.io/bitnami/kubectl  https://github.com/kubernetes/kubernetes\n\
             rancher-crictl   docker.io/rancher/crictl   https://github.com/kubernetes-sigs/cri-tools\n"
        );
    }

    #[test]
    fn recipes_dir_replaces_a_shipped_recipe() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let catalogue = Catalogue::with_dir(dir.path()).unwrap();
        let found = catalogue.lookup("rancher/crictl").unwrap();
        let path = dir.path().join("mine.toml").display().to_string();
        assert_eq!(found.entry.recipe.origin, path);
        assert_eq!(found.entry.name, path);
        assert_eq!(found.entry.text, MINIMAL);
        let (shipped, _) = catalogue.find("rancher-crictl").unwrap();
        assert_eq!(shipped.recipe.origin, "builtin:rancher-crictl.toml");
        assert_eq!(catalogue.find(&path).unwrap().0.text, MINIMAL);
    }
}
