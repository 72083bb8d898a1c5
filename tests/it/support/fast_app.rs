//! A release whose build takes no time, for tests that need whole
//! `verify` runs but not real compilers: a tagged git repository, a recipe
//! whose host build prints `app OS/ARCH`, and images of that output pushed
//! to the loopback registry (or altered, for mismatches).

use std::path::{Path, PathBuf};

use git2::{Repository, Signature, Time};

use super::layout::{write_oci_layout, IndexStyle, WrittenLayout};
use super::skopeo::push;
use super::{
    sha256_digest, Compression, Image, ImageBuilder, ImageSet, LayerBuilder, MediaTypes, Registry,
};

pub const VERSION: &str = "v1.0.0";
pub const AMD64: &str = "linux/amd64";
pub const ARM64: &str = "linux/arm64";
/// The recipes' `source.git`: never read, the tests pass `--source`.
pub const RECIPE_GIT: &str = "https://git.example/upstream/app.git";

/// A build that takes no time: `/out/app` holds `app OS/ARCH\n`.
pub const FAST_BUILD: &str = r#"[build]
builder = "host"
command = ["/bin/sh", "-c", "printf 'app {os}/{arch}\\n' > /out/app"]
artifact = "/out/app"

[build.platforms."linux/amd64"]
[build.platforms."linux/arm64"]
"#;

/// What [`FAST_BUILD`] makes for `platform`.
pub fn fast_binary(platform: &str) -> Vec<u8> {
    format!("app {platform}\n").into_bytes()
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    sha256_digest(bytes)
        .trim_start_matches("sha256:")
        .to_string()
}

pub fn signature() -> Signature<'static> {
    Signature::new(
        "Maintainer",
        "maintainer@example.com",
        &Time::new(1_700_000_000, 0),
    )
    .unwrap()
}

/// A repository whose annotated tag `v1.0.0` holds `files`, with a later
/// commit on the branch (so HEAD is not the tag). Returns the tag's commit.
pub fn tagged_repo(dir: &Path, files: &[(&str, &str)]) -> String {
    let repo = Repository::init(dir).unwrap();
    let mut index = repo.index().unwrap();
    for (name, contents) in files {
        std::fs::write(dir.join(name), contents).unwrap();
        index.add_path(Path::new(name)).unwrap();
    }
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let tagged = repo
        .commit(
            Some("HEAD"),
            &signature(),
            &signature(),
            "release",
            &tree,
            &[],
        )
        .unwrap();
    let object = repo.find_object(tagged, None).unwrap();
    repo.tag(VERSION, &object, &signature(), VERSION, false)
        .unwrap();
    std::fs::write(dir.join("LATER"), "after the release\n").unwrap();
    index.add_path(Path::new("LATER")).unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let parent = repo.find_commit(tagged).unwrap();
    repo.commit(
        Some("HEAD"),
        &signature(),
        &signature(),
        "later work",
        &tree,
        &[&parent],
    )
    .unwrap();
    tagged.to_string()
}

/// A source repository for [`FAST_BUILD`]; returns (path, tag commit).
pub fn fast_source(dir: &Path) -> (PathBuf, String) {
    let source = dir.join("upstream");
    let commit = tagged_repo(&source, &[("README", "the app\n")]);
    (source, commit)
}

/// Writes `dir/NAME.toml` for `repository` with the given `[build]` (and
/// optional further) sections; the source is always given with `--source`.
pub fn write_recipe(dir: &Path, name: &str, repository: &str, rest: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "[image]\nrepository = \"{repository}\"\ntag = \"{{version}}\"\n\n\
         [source]\ngit = \"{RECIPE_GIT}\"\nref = \"{{version}}\"\n\n{rest}"
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// One platform of the app image: `/usr/local/bin/app` (found through the
/// Entrypoint and PATH) over a base layer.
pub fn app_image(platform: &str, binary: &[u8]) -> Image {
    ImageBuilder::new(platform)
        .entrypoint(&["app"])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", b"ID=test\n", 0o644)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .file("usr/local/bin/app", binary, 0o755)
                .build(Compression::Gzip),
        )
        .build()
}

/// An image set with `binary` as `/usr/local/bin/app` for each platform.
pub fn app_image_set(binaries: &[(&str, Vec<u8>)]) -> ImageSet {
    ImageSet::new(binaries.iter().map(|(p, b)| app_image(p, b)).collect())
}

/// An image of [`FAST_BUILD`]'s output for each of `platforms`.
pub fn faithful_set(platforms: &[&str]) -> ImageSet {
    ImageSet::new(
        platforms
            .iter()
            .map(|p| app_image(p, &fast_binary(p)))
            .collect(),
    )
}

/// Writes `set` as an OCI layout in `dir` tagged VERSION and pushes it to
/// `registry` as `repo:VERSION`.
pub fn publish(registry: &Registry, dir: &Path, set: &ImageSet, repo: &str) -> WrittenLayout {
    let written = write_oci_layout(dir, VERSION, set, IndexStyle::Index, MediaTypes::Oci);
    push(
        dir,
        VERSION,
        &registry.reference(&format!("{repo}:{VERSION}")),
        None,
    );
    written
}
