//! A recipe's values written as recipe TOML: [`RecipeSpec::to_document`]
//! gives a `toml_edit` document, which its caller may annotate with
//! comments, and which [`super::Recipe::parse`] reads back to the same
//! values (inferred recipes are written this way).

use std::collections::BTreeMap;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value};

use super::schema::{
    ArtifactSpec, BuildSpec, Builder, ImageSpec, InputSpec, Published, SourceSpec,
};
use super::template::Template;

/// What a recipe file holds: a [`super::Recipe`] without the origin,
/// text and digest that come from reading one.
#[derive(Debug, Clone)]
pub struct RecipeSpec {
    pub image: ImageSpec,
    pub source: SourceSpec,
    /// `[inputs.NAME]`, by name.
    pub inputs: BTreeMap<String, InputSpec>,
    pub build: BuildSpec,
    pub published: Option<Published>,
}

impl RecipeSpec {
    /// The recipe as TOML: `[image]`, `[source]`, `[inputs.NAME]`,
    /// `[build]` (its `env` and each platform's `env` as inline tables)
    /// and `[published]`, each key in the order `recipes/README.md` gives.
    pub fn to_document(&self) -> DocumentMut {
        let mut document = DocumentMut::new();

        let mut image = Table::new();
        image.insert("repository", text(&self.image.repository));
        if !self.image.fallback_repositories.is_empty() {
            let fallbacks: Array = self.image.fallback_repositories.iter().collect();
            image.insert(
                "fallback_repositories",
                Item::Value(Value::Array(fallbacks)),
            );
        }
        image.insert("tag", template(&self.image.tag));
        if let Some(binary) = &self.image.binary {
            image.insert("binary", text(binary));
        }
        document.insert("image", Item::Table(image));

        let mut source = Table::new();
        source.insert("git", text(&self.source.git));
        source.insert("ref", template(&self.source.git_ref));
        if self.source.submodules {
            source.insert("submodules", Item::Value(Value::from(true)));
        }
        document.insert("source", Item::Table(source));

        if !self.inputs.is_empty() {
            let mut inputs = Table::new();
            inputs.set_implicit(true);
            for (name, input) in &self.inputs {
                let mut table = Table::new();
                table.insert("from_binary", text(&input.pattern));
                inputs.insert(name, Item::Table(table));
            }
            document.insert("inputs", Item::Table(inputs));
        }

        document.insert("build", Item::Table(build_table(&self.build)));

        if let Some(published) = &self.published {
            let mut table = Table::new();
            match published {
                Published::Sha256Sums { url, entry } => {
                    table.insert("sha256sums", template(url));
                    table.insert("entry", template(entry));
                }
                Published::Sha256 { url } => {
                    table.insert("sha256", template(url));
                }
            }
            document.insert("published", Item::Table(table));
        }
        document
    }
}

/// `[build]` and its `[build.platforms."OS/ARCH"]` tables.
fn build_table(build: &BuildSpec) -> Table {
    let mut table = Table::new();
    table.insert(
        "builder",
        match &build.builder {
            Builder::Host => text("host"),
            Builder::Image(image) => template(image),
        },
    );
    if let Some(workdir) = &build.workdir {
        table.insert("workdir", template(workdir));
    }
    if let Some(epoch) = &build.source_date_epoch {
        table.insert("source_date_epoch", template(epoch));
    }
    if build.run_as_root {
        table.insert("root", toml_edit::value(true));
    }
    if let Some(fetch) = &build.fetch {
        table.insert("fetch", argv(fetch));
    }
    table.insert("command", argv(&build.command));
    match &build.output {
        ArtifactSpec::Path(path) => table.insert("artifact", template(path)),
        ArtifactSpec::CargoBin(name) => table.insert("cargo_bin", text(name)),
    };
    if !build.env.is_empty() {
        table.insert("env", env(&build.env));
    }
    let mut platforms = Table::new();
    platforms.set_implicit(true);
    for (platform, vars) in &build.platforms {
        let mut entry = Table::new();
        if !vars.is_empty() {
            entry.insert("env", env(vars));
        }
        platforms.insert(&platform.to_string(), Item::Table(entry));
    }
    table.insert("platforms", Item::Table(platforms));
    table
}

fn text(value: &str) -> Item {
    Item::Value(Value::from(value))
}

fn template(value: &Template) -> Item {
    text(value.as_str())
}

fn argv(args: &[Template]) -> Item {
    Item::Value(Value::Array(
        args.iter().map(Template::as_str).collect::<Array>(),
    ))
}

fn env(vars: &BTreeMap<String, Template>) -> Item {
    Item::Value(Value::InlineTable(
        vars.iter()
            .map(|(name, value)| (name.as_str(), Value::from(value.as_str())))
            .collect::<InlineTable>(),
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::rebuild::recipe::schema::tests::MINIMAL;
    use crate::rebuild::recipe::Recipe;

    /// Asserts that `recipe`, as read from `text`, holds exactly the values
    /// of `spec`.
    pub(crate) fn assert_reads_back(spec: &RecipeSpec, text: &str) {
        let recipe = Recipe::parse("written", text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            format!("{:?}", recipe.image),
            format!("{:?}", spec.image),
            "{text}"
        );
        assert_eq!(
            format!("{:?}", recipe.source),
            format!("{:?}", spec.source),
            "{text}"
        );
        assert_eq!(
            format!("{:?}", recipe.build),
            format!("{:?}", spec.build),
            "{text}"
        );
        assert_eq!(
            format!("{:?}", recipe.published),
            format!("{:?}", spec.published),
            "{text}"
        );
        let patterns = |inputs: &BTreeMap<String, InputSpec>| -> Vec<(String, String)> {
            inputs
                .iter()
                .map(|(name, input)| (name.clone(), input.pattern.clone()))
                .collect()
        };
        assert_eq!(patterns(&recipe.inputs), patterns(&spec.inputs), "{text}");
    }

    fn spec_of(recipe: Recipe) -> RecipeSpec {
        RecipeSpec {
            image: recipe.image,
            source: recipe.source,
            inputs: recipe.inputs,
            build: recipe.build,
            published: recipe.published,
        }
    }

    #[test]
    fn a_written_recipe_reads_back_to_its_values_in_the_schemas_order() {
        let text = MINIMAL
            .replace(
                "tag = ",
                "fallback_repositories = [\"quay.io/legacy/crictl\"]\ntag = ",
            )
            .replace("ref = \"{version}\"", "ref = \"{version}\"\nsubmodules = true")
            .replace(
                "[build]\n",
                "[inputs.build_date]\nfrom_binary = '(20\\d\\d-\\d\\d-\\d\\d)'\n\n[build]\nworkdir = \"/home/runner/{version_bare}\"\nsource_date_epoch = \"{input:build_date}\"\nfetch = [\"make\", \"deps\"]\n",
            )
            + "\n[published]\nsha256sums = \"https://example.com/{version}/SHA256SUMS\"\nentry = \"crictl-{os}-{arch}\"\n";
        let spec = spec_of(Recipe::parse("test.toml", &text).unwrap());
        let written = spec.to_document().to_string();
        assert_reads_back(&spec, &written);
        assert_eq!(
            written,
            r#"[image]
repository = "docker.io/rancher/crictl"
fallback_repositories = ["quay.io/legacy/crictl"]
tag = "{version}"

[source]
git = "https://example.com/cri-tools"
ref = "{version}"
submodules = true

[inputs.build_date]
from_binary = '(20\d\d-\d\d-\d\d)'

[build]
builder = "host"
workdir = "/home/runner/{version_bare}"
source_date_epoch = "{input:build_date}"
fetch = ["make", "deps"]
command = ["make", "crictl"]
artifact = "build/bin/{os}/{arch}/crictl"

[build.platforms."linux/amd64"]
env = { GOARCH = "{arch}", GOOS = "{os}" }

[build.platforms."linux/arm64"]
env = { GOARCH = "{arch}{variant}" }

[published]
sha256sums = "https://example.com/{version}/SHA256SUMS"
entry = "crictl-{os}-{arch}"
"#
        );
    }

    #[test]
    fn a_single_digest_and_a_cargo_binary_are_written_as_such() {
        let text = MINIMAL.replace(
            r#"artifact = "build/bin/{os}/{arch}/crictl""#,
            "cargo_bin = \"crictl\"\nenv = { CARGO_HOME = \"/cache/cargo\" }",
        ) + "\n[published]\nsha256 = \"https://example.com/{arch}.sha256\"\n";
        let spec = spec_of(Recipe::parse("test.toml", &text).unwrap());
        let written = spec.to_document().to_string();
        assert_reads_back(&spec, &written);
        assert!(
            written.contains("cargo_bin = \"crictl\"\nenv = { CARGO_HOME = \"/cache/cargo\" }\n")
        );
        assert!(written.ends_with("[published]\nsha256 = \"https://example.com/{arch}.sha256\"\n"));
    }
}
