//! The recipe catalogue from the command line: `recipe list`, `recipe show`,
//! `--recipe builtin:NAME`, and finding a shipped recipe for a mirror's
//! reference. Nothing here builds or reaches a registry.

use crate::support;

use serde_json::json;
use support::cli::run_in;

const CRICTL: &str = include_str!("../../recipes/rancher-crictl.toml");
const KUBECTL: &str = include_str!("../../recipes/bitnami-kubectl.toml");

#[test]
fn recipe_list_has_one_line_per_shipped_recipe() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(home.path(), &["recipe", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "bitnami-kubectl  docker.io/bitnami/kubectl  https://github.com/kubernetes/kubernetes\n\
         rancher-crictl   docker.io/rancher/crictl   https://github.com/kubernetes-sigs/cri-tools\n"
    );
}

#[test]
fn recipe_list_as_json_names_origin_repository_source_and_platforms() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(home.path(), &["recipe", "list", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json(),
        json!([
            {"name": "bitnami-kubectl", "origin": "builtin:bitnami-kubectl.toml",
             "repository": "docker.io/bitnami/kubectl",
             "git": "https://github.com/kubernetes/kubernetes",
             "platforms": ["linux/amd64", "linux/arm64"]},
            {"name": "rancher-crictl", "origin": "builtin:rancher-crictl.toml",
             "repository": "docker.io/rancher/crictl",
             "git": "https://github.com/kubernetes-sigs/cri-tools",
             "platforms": ["linux/amd64"]}
        ])
    );
}

#[test]
fn recipe_list_includes_a_recipes_dir_that_replaces_a_shipped_one() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("recipes");
    std::fs::create_dir_all(&dir).unwrap();
    let mine = dir.join("crictl.toml");
    std::fs::write(
        &mine,
        CRICTL.replace(
            "https://github.com/kubernetes-sigs/cri-tools",
            "https://git.example/cri-tools",
        ),
    )
    .unwrap();
    let run = run_in(
        home.path(),
        &["recipe", "list", "--recipes", dir.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mine = mine.display().to_string();
    let width = mine.len();
    assert_eq!(
        run.stdout,
        format!(
            "{:width$}  docker.io/bitnami/kubectl  https://github.com/kubernetes/kubernetes\n\
             {mine}  docker.io/rancher/crictl   https://git.example/cri-tools\n",
            "bitnami-kubectl"
        )
    );
}

#[test]
fn recipe_show_prints_the_toml_exactly_as_shipped() {
    let home = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("rancher-crictl", CRICTL),
        ("rancher-crictl.toml", CRICTL),
        ("builtin:bitnami-kubectl.toml", KUBECTL),
        ("rancher/crictl", CRICTL),
        ("docker.io/bitnami/kubectl:1.33.1", KUBECTL),
    ] {
        let run = run_in(home.path(), &["recipe", "show", name]);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        assert_eq!(run.stdout, text, "{name}");
        assert_eq!(run.stderr, "", "{name}");
    }
}

#[test]
fn recipe_show_for_a_mirror_says_how_it_matched() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(
        home.path(),
        &["recipe", "show", "127.0.0.1:5000/rancher/crictl"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, CRICTL);
    assert_eq!(
        run.stderr,
        "note: recipe builtin:rancher-crictl.toml: covers docker.io/rancher/crictl, \
         matched by repository path rancher/crictl on 127.0.0.1:5000\n"
    );
}

#[test]
fn recipe_show_of_an_unknown_name_lists_the_known_ones() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(home.path(), &["recipe", "show", "crictl"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr,
        "error: no recipe named \"crictl\" or covering it; known: bitnami-kubectl \
         (docker.io/bitnami/kubectl), rancher-crictl (docker.io/rancher/crictl)\n"
    );
}

#[test]
fn recipe_flag_takes_a_builtin_name() {
    let home = tempfile::tempdir().unwrap();
    for name in ["builtin:rancher-crictl.toml", "builtin:rancher-crictl"] {
        // A platform the recipe cannot build stops before any source is fetched.
        let run = run_in(
            home.path(),
            &[
                "build",
                "v1.19.0",
                "--recipe",
                name,
                "--platform",
                "linux/s390x",
            ],
        );
        assert_eq!(run.code, 2);
        assert_eq!(
            run.stderr,
            "error: recipe builtin:rancher-crictl.toml cannot rebuild linux/s390x; it rebuilds linux/amd64\n",
            "{name}"
        );
    }
}

#[test]
fn unknown_builtin_recipe_lists_the_shipped_names() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(
        home.path(),
        &[
            "build",
            "v1.19.0",
            "--recipe",
            "builtin:rancher-critcl.toml",
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: no shipped recipe named \"rancher-critcl.toml\"; shipped: bitnami-kubectl, rancher-crictl\n"
    );
}

#[test]
fn build_finds_the_shipped_recipe_for_a_mirror_and_says_so() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(
        home.path(),
        &[
            "build",
            "v1.19.0",
            "127.0.0.1:5000/rancher/crictl",
            "--platform",
            "linux/s390x",
        ],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "note: recipe builtin:rancher-crictl.toml: covers docker.io/rancher/crictl, matched by \
         repository path rancher/crictl on 127.0.0.1:5000\n\
         error: recipe builtin:rancher-crictl.toml cannot rebuild linux/s390x; it rebuilds linux/amd64\n"
    );
}

#[test]
fn mirror_with_a_typo_names_the_shipped_repository_before_inferring_a_recipe() {
    let home = tempfile::tempdir().unwrap();
    let run = run_in(home.path(), &["127.0.0.1:9/rancher/critcl", "v1.19.0"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "note: no recipe covers 127.0.0.1:9/rancher/critcl (close matches: \
             docker.io/rancher/crictl; pass one with --recipe builtin:NAME if you meant it)"
        )
    );
    assert!(
        run.stderr.contains(
            "error: cannot read the published image 127.0.0.1:9/rancher/critcl:v1.19.0: "
        ),
        "{}",
        run.stderr
    );
}
