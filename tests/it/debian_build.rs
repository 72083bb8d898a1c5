//! Rebuilding a Debian source package from the real archive
//! (http://deb.debian.org): bookworm's `tree 2.1.0-1`, whose rebuilt
//! `/usr/bin/tree` differs from the archive's only in its build ID; and the
//! sandbox's root inside the build's own user namespace that such builds
//! (`[build] root = true`) run as.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support;
use crate::support::debian_image::shared_debian_cache;
use object::{Object, ObjectSection};
use rebuild_compare::image::digest::Digest;
use rebuild_compare::rebuild::debian::{self, DebianBuildRequest};
use url::Url;

const POOL: &str = "http://deb.debian.org/debian/pool/main/t/tree/";
/// From bookworm's `main/source/Sources` entry for tree 2.1.0-1.
const SOURCE_FILES: &[(&str, &str)] = &[
    (
        "tree_2.1.0-1.dsc",
        "57da9be8a9c455077bae9e4909fab01cc62b25dbdea64042b4afbc403d599410",
    ),
    (
        "tree_2.1.0.orig.tar.gz",
        "0160c535bff2b0dc6a830b9944e981e3427380f63e748da96ced7071faebabf6",
    ),
    (
        "tree_2.1.0-1.debian.tar.xz",
        "0ae973a28a78f2cb490d98d92897d1582ef9aac7ecd61cae91a6fdb0fea61db6",
    ),
];
/// bookworm's binary package and its `/usr/bin/tree`.
const ARCHIVE_DEB: (&str, &str) = (
    "tree_2.1.0-1_amd64.deb",
    "4c0dc6088e801285717bae2a98a7672f1e4d2eed4e918355987bc6617a8f490b",
);
const ARCHIVE_TREE_SHA256: &str =
    "d2842697b499df657205c6d7f25a93827678e1395ae73494d55c381dc1f86d28";
/// A binNMU entry as Debian's buildds prepend it.
const BINNMU_ENTRY: &str = "tree (2.1.0-1+b1) bookworm; urgency=low, binary-only=yes

  * Binary-only non-maintainer upload for amd64; no source changes.
  * Rebuild for the test suite.

 -- Debian build daemon <buildd_amd64@buildd.debian.org>  Mon, 01 Jan 2024 00:00:00 +0000
";

/// Downloads `name` from the pool into `dir`, checking its sha256.
fn download(dir: &Path, name: &str, sha256: &str) -> PathBuf {
    let url = format!("{POOL}{name}");
    let bytes = reqwest::blocking::get(&url)
        .and_then(|r| r.error_for_status())
        .and_then(|r| r.bytes())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert_eq!(Digest::of(&bytes).hex(), sha256, "{url}");
    let path = dir.join(name);
    std::fs::write(&path, &bytes).unwrap();
    path
}

/// `dpkg-deb -x DEB DIR`, then DIR/usr/bin/tree's bytes.
fn extract_tree(deb: &Path, dir: &Path) -> Vec<u8> {
    let status = Command::new("dpkg-deb")
        .arg("-x")
        .arg(deb)
        .arg(dir)
        .status()
        .expect("dpkg-deb (dpkg) must be installed");
    assert!(status.success(), "dpkg-deb -x {}", deb.display());
    std::fs::read(dir.join("usr/bin/tree")).unwrap()
}

fn deb_field(deb: &Path, field: &str) -> String {
    let output = Command::new("dpkg-deb")
        .arg("-f")
        .arg(deb)
        .arg(field)
        .output()
        .expect("dpkg-deb (dpkg) must be installed");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// The file offsets where `a` and `b` differ, as `(section name, count)`
/// of `a`'s sections holding them (`"-"`: outside every section).
fn differing_sections(a: &[u8], b: &[u8]) -> Vec<(String, usize)> {
    assert_eq!(a.len(), b.len(), "the binaries differ in size");
    let file = object::File::parse(a).unwrap();
    let ranges: Vec<(String, u64, u64)> = file
        .sections()
        .filter_map(|s| {
            let (start, size) = s.file_range()?;
            Some((s.name().unwrap().to_string(), start, start + size))
        })
        .collect();
    let mut found: Vec<(String, usize)> = Vec::new();
    for (offset, (x, y)) in a.iter().zip(b).enumerate() {
        if x == y {
            continue;
        }
        let offset = offset as u64;
        let name = ranges
            .iter()
            .find(|(_, start, end)| (*start..*end).contains(&offset))
            .map_or("-".to_string(), |(name, _, _)| name.clone());
        match found.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => found.push((name, 1)),
        }
    }
    found.sort();
    found
}

#[test]
fn rebuilds_bookworms_tree_but_for_its_build_id_and_reuses_the_root_for_a_binnmu() {
    let tmp = tempfile::tempdir().unwrap();
    let source_dir = tmp.path().join("source");
    std::fs::create_dir(&source_dir).unwrap();
    for (name, sha256) in SOURCE_FILES {
        download(&source_dir, name, sha256);
    }
    let archive_deb = download(tmp.path(), ARCHIVE_DEB.0, ARCHIVE_DEB.1);
    let archive_tree = extract_tree(&archive_deb, &tmp.path().join("archive"));
    assert_eq!(Digest::of(&archive_tree).hex(), ARCHIVE_TREE_SHA256);

    let shared = shared_debian_cache();
    let cache = shared.cache();
    let mirror = Url::parse("http://deb.debian.org/debian").unwrap();
    let request = DebianBuildRequest {
        source_dir: &source_dir,
        dsc: "tree_2.1.0-1.dsc",
        release: "bookworm",
        architecture: "amd64",
        mirror: &mirror,
        binnmu_changelog: None,
        cache: &cache,
        out_dir: &tmp.path().join("out"),
    };
    let started = std::time::Instant::now();
    let built = debian::build(&request).unwrap();
    eprintln!(
        "first build (making the root unless another test made it): {:?}",
        started.elapsed()
    );
    assert!(
        built.root.toolchain.contains_key("gcc-12"),
        "{:?}",
        built.root.toolchain
    );
    assert!(built.root.toolchain.contains_key("dpkg-dev"));
    let names: Vec<String> = built
        .debs
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"tree_2.1.0-1_amd64.deb".to_string()),
        "{names:?}"
    );
    let rebuilt_deb = tmp.path().join("out/tree_2.1.0-1_amd64.deb");
    let rebuilt_tree = extract_tree(&rebuilt_deb, &tmp.path().join("rebuilt"));
    let differing: Vec<String> = differing_sections(&archive_tree, &rebuilt_tree)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert!(
        differing
            .iter()
            .all(|name| name == ".note.gnu.build-id" || name == ".gnu_debuglink"),
        "{differing:?}"
    );

    let binnmu = DebianBuildRequest {
        binnmu_changelog: Some(BINNMU_ENTRY),
        out_dir: &tmp.path().join("out-binnmu"),
        ..request
    };
    let started = std::time::Instant::now();
    let built = debian::build(&binnmu).unwrap();
    eprintln!("binNMU build, reusing the root: {:?}", started.elapsed());
    assert!(built.root.reused);
    let deb = tmp.path().join("out-binnmu/tree_2.1.0-1+b1_amd64.deb");
    assert!(built.debs.contains(&deb), "{:?}", built.debs);
    assert_eq!(deb_field(&deb, "Version"), "2.1.0-1+b1");
    assert_eq!(deb_field(&deb, "Source"), "tree (2.1.0-1)");
}

/// `build v1.0.0 ARGS` of a host recipe whose command writes `id -u` and
/// `id -g` to `/out/result`, with `root_line` in its `[build]`.
fn build_an_id_recipe(dir: &Path, root_line: &str, args: &[&str]) -> std::process::Output {
    let source = dir.join("upstream");
    if !source.exists() {
        let repo = git2::Repository::init(&source).unwrap();
        let tagged = support::git::commit(&repo, &[("README", "x\n")], "release", 1_700_000_000);
        support::git::tag(&repo, "v1.0.0", tagged, 1_700_000_000);
    }
    let recipe = dir.join("recipe.toml");
    std::fs::write(
        &recipe,
        format!(
            "[image]\nrepository = \"example.com/test/app\"\ntag = \"{{version}}\"\n\n\
             [source]\ngit = \"{}\"\nref = \"{{version}}\"\n\n\
             [build]\nbuilder = \"host\"\n{root_line}\n\
             command = [\"sh\", \"-c\", \"{{ id -u; id -g; }} > /out/result\"]\n\
             artifact = \"/out/result\"\n\n[build.platforms.\"linux/amd64\"]\n",
            source.display()
        ),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_rebuild-compare"))
        .args(["build", "v1.0.0", "--recipe"])
        .arg(&recipe)
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .args(args)
        .output()
        .unwrap()
}

/// The ids [`build_an_id_recipe`] records, built into `dir/OUT`.
fn ids_seen(dir: &Path, root_line: &str, out: &str) -> String {
    let out_dir = dir.join(out);
    let output = build_an_id_recipe(dir, root_line, &["--out-dir", out_dir.to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read_to_string(out_dir.join("linux-amd64/result")).unwrap()
}

#[test]
fn a_recipe_declaring_root_runs_as_uid_0_of_its_namespace_and_others_as_the_build_user() {
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(ids_seen(tmp.path(), "root = true", "as-root"), "0\n0\n");
    assert_eq!(ids_seen(tmp.path(), "", "as-build-user"), "1000\n1000\n");
}

#[test]
fn a_recipe_declaring_root_is_refused_without_the_sandbox() {
    let tmp = tempfile::tempdir().unwrap();
    let output = build_an_id_recipe(tmp.path(), "root = true", &["--no-sandbox"]);
    assert!(!output.status.success());
    let recipe = tmp.path().join("recipe.toml");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains(&format!(
            "recipe {} sets build.root, which only the sandbox can provide (root of the build's own user namespace): drop --no-sandbox",
            recipe.display()
        )),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
