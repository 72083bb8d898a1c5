//! The catalogue: the recipes shipped inside the binary plus any from
//! `--recipes DIR`, looked up by normalised image repository.

use std::collections::BTreeMap;
use std::path::Path;

use super::error::RecipeError;
use super::schema::Recipe;
use crate::image::reference::Reference;

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

/// The recipes known by repository: the shipped ones, plus a directory's.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    by_repository: BTreeMap<String, Recipe>,
}

impl Catalogue {
    /// The recipes compiled into the binary.
    pub fn builtin() -> Result<Self, RecipeError> {
        let mut catalogue = Self::default();
        for (name, text) in BUILTIN_RECIPES {
            catalogue.insert(Recipe::parse(&format!("builtin:{name}"), text)?, false)?;
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
            from_dir.insert(Recipe::load(&path)?, false)?;
        }
        for recipe in from_dir.by_repository.into_values() {
            catalogue.insert(recipe, true)?;
        }
        Ok(catalogue)
    }

    fn insert(&mut self, recipe: Recipe, replace: bool) -> Result<(), RecipeError> {
        if !replace {
            if let Some(existing) = self.by_repository.get(&recipe.image.repository) {
                return Err(RecipeError::Duplicate {
                    repository: recipe.image.repository.clone(),
                    first: existing.origin.clone(),
                    second: recipe.origin,
                });
            }
        }
        self.by_repository
            .insert(recipe.image.repository.clone(), recipe);
        Ok(())
    }

    /// The normalised repositories covered, sorted.
    pub fn repositories(&self) -> impl Iterator<Item = &str> {
        self.by_repository.keys().map(String::as_str)
    }

    /// The recipe for an image (`rancher/crictl`, `docker.io/rancher/crictl:v1.30.0`, ...).
    /// An unknown repository is an error listing close matches.
    pub fn lookup(&self, image: &str) -> Result<&Recipe, RecipeError> {
        let repository = Reference::parse(image)?.name();
        if let Some(recipe) = self.by_repository.get(&repository) {
            return Ok(recipe);
        }
        let limit = (repository.len() / 3).max(3);
        let mut close: Vec<(usize, &String)> = self
            .by_repository
            .keys()
            .map(|known| (edit_distance(known, &repository), known))
            .filter(|(distance, _)| *distance <= limit)
            .collect();
        close.sort();
        Err(RecipeError::UnknownRepository {
            repository,
            close: close.into_iter().map(|(_, k)| k.clone()).collect(),
        })
    }
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
    use crate::rebuild::recipe::{ArtifactSpec, TemplateVars};

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
        for (name, _) in BUILTIN_RECIPES {
            let recipe = catalogue
                .by_repository
                .values()
                .find(|r| r.origin == format!("builtin:{name}"))
                .unwrap();
            assert!(recipe.platforms().count() > 0, "{name} builds no platform");
            for platform in recipe.platforms() {
                let vars = TemplateVars {
                    version: "v1.2.3",
                    platform: Some(platform),
                };
                let mut rendered = vec![
                    recipe.image.tag.render(&vars),
                    recipe.source.git_ref.render(&vars),
                ];
                rendered.extend(recipe.build.command.iter().map(|t| t.render(&vars)));
                rendered.extend(recipe.build.fetch.iter().flatten().map(|t| t.render(&vars)));
                rendered.extend(recipe.build.env.values().map(|t| t.render(&vars)));
                if let ArtifactSpec::Path(artifact) = &recipe.build.output {
                    rendered.push(artifact.render(&vars));
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
                catalogue.lookup(spelling).map(|r| r.origin.as_str()).ok(),
                Some("builtin:rancher-crictl.toml"),
                "{spelling}"
            );
        }
        assert_eq!(
            catalogue.lookup("library/ubuntu").unwrap_err().to_string(),
            "no recipe for docker.io/library/ubuntu; write one (see recipes/README.md) and pass it with --recipe FILE"
        );
    }

    #[test]
    fn recipes_dir_replaces_a_shipped_recipe() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        let catalogue = Catalogue::with_dir(dir.path()).unwrap();
        let origin = &catalogue.lookup("rancher/crictl").unwrap().origin;
        assert_eq!(origin, &dir.path().join("mine.toml").display().to_string());
    }
}
