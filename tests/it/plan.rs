//! `rebuild-compare plan`: a watch list planned against a live loopback
//! registry (images pushed by skopeo), the ledger's done jobs left out, and
//! the plan emitted as JSON, a GitHub Actions matrix and workflow (checked
//! by actionlint), Kubernetes manifests (checked by kubernetes-validate,
//! offline) and shell lines.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use rebuild_compare::scale::job::{job_id, TOOL_VERSION};
use sha2::{Digest as _, Sha256};
use support::cli::{run_in, Run};
use support::{
    push, write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle, LayerBuilder,
    MediaTypes, Registry,
};

/// Where `scripts/install-test-deps.sh` installs actionlint and kubernetes-validate.
const PYTOOLS: &str = "/opt/rebuild-compare-test/pytools";

fn app(platform: &str, version: &str) -> support::Image {
    ImageBuilder::new(platform)
        .entrypoint(&["/usr/local/bin/app"])
        .layer(
            LayerBuilder::new()
                .file(
                    "usr/local/bin/app",
                    format!("{platform} {version}").as_bytes(),
                    0o755,
                )
                .build(Compression::Gzip),
        )
        .build()
}

/// Pushes `repo:tag` (both platforms in an index, or amd64 alone as a
/// single manifest) and returns the digest the tag names.
fn publish(registry: &Registry, work: &Path, repo: &str, tag: &str, style: IndexStyle) -> String {
    let set = match style {
        IndexStyle::Index => ImageSet::new(vec![app("linux/amd64", tag), app("linux/arm64", tag)])
            .with_attestations(),
        IndexStyle::SingleManifest => ImageSet::single(app("linux/amd64", tag)),
    };
    let dir = work.join(format!("layout-{}-{tag}", repo.replace('/', "-")));
    let written = write_oci_layout(&dir, tag, &set, style, MediaTypes::Oci);
    push(
        &dir,
        tag,
        &registry.reference(&format!("{repo}:{tag}")),
        None,
    );
    written.top.digest
}

/// A registry with `tools/app` at v0.9.0, v1.0.0, v1.1.0 (amd64 only, a
/// single manifest), v1.5.0-rc.1, v2.0.0 and latest, and `tools/other` at
/// v3; the digests of the tags the watch list selects.
struct Fixture {
    registry: Registry,
    home: tempfile::TempDir,
    app_v100: String,
    app_v110: String,
    other_v3: String,
}

impl Fixture {
    fn new() -> Self {
        let registry = Registry::start();
        let home = tempfile::tempdir().unwrap();
        let work = home.path().join("layouts");
        for tag in ["v0.9.0", "v1.5.0-rc.1", "v2.0.0", "latest"] {
            publish(&registry, &work, "tools/app", tag, IndexStyle::Index);
        }
        let app_v100 = publish(&registry, &work, "tools/app", "v1.0.0", IndexStyle::Index);
        let app_v110 = publish(
            &registry,
            &work,
            "tools/app",
            "v1.1.0",
            IndexStyle::SingleManifest,
        );
        let other_v3 = publish(&registry, &work, "tools/other", "v3", IndexStyle::Index);
        let fixture = Fixture {
            registry,
            home,
            app_v100,
            app_v110,
            other_v3,
        };
        std::fs::create_dir_all(fixture.recipe().parent().unwrap()).unwrap();
        std::fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo/recipe.toml"),
            fixture.recipe(),
        )
        .unwrap();
        fixture.write_watchlist(&format!(
            r#"
[[image]]
reference = "{app}"
versions = ">=1.0.0, <2"
recipe = "my recipes/app $x.toml"

[[image]]
reference = "{other}"
versions = ["v3"]
platforms = ["linux/arm64"]
"#,
            app = fixture.registry.reference("tools/app"),
            other = fixture.registry.reference("tools/other"),
        ));
        fixture
    }

    fn watchlist(&self) -> PathBuf {
        self.home.path().join("watch").join("watch.toml")
    }

    /// The app's recipe: a path with a space and a `$` (quoting matters).
    fn recipe(&self) -> PathBuf {
        self.home.path().join("watch/my recipes/app $x.toml")
    }

    fn write_watchlist(&self, text: &str) {
        std::fs::create_dir_all(self.watchlist().parent().unwrap()).unwrap();
        std::fs::write(self.watchlist(), text).unwrap();
    }

    fn plan(&self, extra: &[&str]) -> Run {
        let watchlist = self.watchlist();
        let mut args = vec!["plan", watchlist.to_str().unwrap()];
        args.extend_from_slice(extra);
        run_in(self.home.path(), &args)
    }

    fn ledger(&self) -> PathBuf {
        self.home.path().join("ledger")
    }

    /// The jobs the watch list selects, as (id, image, version, platform,
    /// digest, recipe sha256), in plan order.
    fn expected(&self) -> Vec<[String; 4]> {
        let recipe = hex::encode(Sha256::digest(std::fs::read(self.recipe()).unwrap()));
        let app = self.registry.reference("tools/app");
        let other = self.registry.reference("tools/other");
        [
            (&app, &self.app_v100, "v1.0.0", "linux/amd64", Some(&recipe)),
            (&app, &self.app_v100, "v1.0.0", "linux/arm64", Some(&recipe)),
            (&app, &self.app_v110, "v1.1.0", "linux/amd64", Some(&recipe)),
            (&other, &self.other_v3, "v3", "linux/arm64", None),
        ]
        .into_iter()
        .map(|(image, digest, version, platform, recipe)| {
            [
                job_id(
                    image,
                    digest,
                    version,
                    platform,
                    recipe.map(String::as_str),
                    TOOL_VERSION,
                ),
                image.clone(),
                version.to_string(),
                platform.to_string(),
            ]
        })
        .collect()
    }
}

/// (id, image, version, platform) of each job of a JSON plan.
fn jobs_of(plan: &serde_json::Value) -> Vec<[String; 4]> {
    plan["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| {
            ["id", "image", "version", "platform"].map(|k| job[k].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn plan_selects_exactly_the_in_range_tags_not_in_the_ledger() {
    let fixture = Fixture::new();
    let plan = fixture.plan(&[]).report(0);
    assert_eq!(plan["schema"], "rebuild-compare-plan/1");
    assert_eq!(plan["tool_version"], TOOL_VERSION);
    let expected = fixture.expected();
    assert_eq!(jobs_of(&plan), expected);

    let first = &plan["jobs"][0];
    let recipe_path = fixture.recipe();
    assert_eq!(first["tag"], "v1.0.0");
    assert_eq!(first["digest"], fixture.app_v100.as_str());
    assert_eq!(first["recipe"], "my recipes/app $x.toml");
    assert_eq!(
        first["args"],
        serde_json::json!([
            "verify",
            format!(
                "{}@{}",
                fixture.registry.reference("tools/app"),
                fixture.app_v100
            ),
            "v1.0.0",
            "--platform",
            "linux/amd64",
            "--recipe",
            recipe_path.to_str().unwrap(),
        ])
    );
    let other = &plan["jobs"][3];
    assert_eq!(other["recipe"], serde_json::Value::Null);
    assert_eq!(other["recipe_sha256"], serde_json::Value::Null);
    assert_eq!(other["args"].as_array().unwrap().len(), 5);

    // --limit keeps the first jobs in plan order.
    let limited = fixture.plan(&["--limit", "2"]).report(0);
    assert_eq!(jobs_of(&limited), expected[..2]);

    // Two jobs done: the ledger holds their entries, and they are left out.
    for done in [&expected[0], &expected[3]] {
        let dir = fixture.ledger().join("jobs").join(&done[0]);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("entry.json"), "{}").unwrap();
    }
    let ledger = fixture.ledger();
    let ledger_arg = ["--ledger", ledger.to_str().unwrap()];
    let run = fixture.plan(&ledger_arg);
    let replanned = run.report(0);
    assert_eq!(
        jobs_of(&replanned),
        [expected[1].clone(), expected[2].clone()]
    );
    assert!(
        run.stderr
            .contains("planned 2 jobs (2 already in the ledger, 0 over --limit)"),
        "{}",
        run.stderr
    );

    // A changed recipe makes new jobs of the app's releases.
    let mut recipe = std::fs::read_to_string(fixture.recipe()).unwrap();
    recipe.push_str("# fixed\n");
    std::fs::write(fixture.recipe(), recipe).unwrap();
    let changed = fixture.expected();
    let replanned = fixture.plan(&ledger_arg).report(0);
    assert_eq!(jobs_of(&replanned), changed[..3]);
    assert!(changed[..3].iter().all(|job| !expected.contains(job)));
}

#[test]
fn github_matrix_is_valid_json_for_strategy_include() {
    let fixture = Fixture::new();
    let plan = fixture.plan(&[]).report(0);
    let matrix = fixture.plan(&["--emit", "github-matrix"]).report(0);
    let include = matrix["include"].as_array().unwrap();
    assert_eq!(matrix.as_object().unwrap().len(), 1, "{matrix:#}");
    assert_eq!(include.len(), 4);
    for (entry, job) in include.iter().zip(plan["jobs"].as_array().unwrap()) {
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["args", "digest", "id", "image", "job", "platform", "recipe", "tag", "version"]
        );
        let whole: serde_json::Value =
            serde_json::from_str(entry["job"].as_str().unwrap()).unwrap();
        assert_eq!(&whole, job, "the job as `run --job` takes it");
        for key in [
            "id", "image", "tag", "digest", "version", "platform", "args",
        ] {
            assert_eq!(entry[key], job[key], "{key}");
        }
    }
    assert_eq!(include[0]["recipe"], fixture.recipe().to_str().unwrap());
    assert_eq!(include[3]["recipe"], "");
}

/// The commit `--tool-rev` pins in the workflow tests.
const TOOL_REV: &str = "0123456789abcdef0123456789abcdef01234567";

#[test]
fn github_workflow_passes_actionlint() {
    let fixture = Fixture::new();
    let workflows = fixture.home.path().join("repo/.github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let file = workflows.join("rebuild-compare.yml");
    let run = fixture.plan(&[
        "--emit",
        "github-workflow",
        "--parallelism",
        "3",
        "--push-attestation",
        "--tool-git",
        "https://github.com/example/rebuild-compare",
        "--tool-rev",
        TOOL_REV,
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    actionlint(&fixture.home.path().join("repo"), &file);

    let text = std::fs::read_to_string(&file).unwrap();
    let workflow: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    let matrix = fixture.plan(&["--emit", "github-matrix"]).report(0);
    let verify = &workflow["jobs"]["verify"];
    let strategy = &verify["strategy"];
    assert_eq!(strategy["matrix"]["include"], matrix["include"]);
    assert_eq!(strategy["max-parallel"], 3);
    assert_eq!(
        workflow["permissions"],
        serde_json::json!({"contents": "read"})
    );
    // The platforms of one image (one digest, one `.att` tag) attach one at
    // a time: one concurrency group per image digest, every waiting job kept.
    assert_eq!(
        verify["concurrency"],
        serde_json::json!({
            "group": "rebuild-compare-attach-${{ matrix.image }}@${{ matrix.digest }}",
            "cancel-in-progress": false,
            "queue": "max",
        })
    );
    let verify_step = step(verify, "Verify");
    let script = verify_step["run"].as_str().unwrap();
    assert!(!script.contains("${{"), "{script}");
    assert_eq!(verify_step["env"]["JOB"], "${{ matrix.job }}");
    assert!(
        script.contains(r#"args=(run --job "$JOB" --ledger ledger)"#),
        "{script}"
    );
    assert_eq!(verify_step["env"]["PUSH_ATTESTATION"], "true");

    // The tool is built from its repository at the pinned commit, and
    // checked to be the plan's version.
    let install = &workflow["jobs"]["install"];
    let build = step(
        install,
        &format!("Build rebuild-compare {TOOL_VERSION} (the version that made the plan)"),
    );
    assert_eq!(
        build["env"],
        serde_json::json!({
            "TOOL_GIT": "https://github.com/example/rebuild-compare",
            "TOOL_REV": TOOL_REV,
        })
    );
    assert_eq!(
        build["run"],
        r#"cargo install --locked --root "$RUNNER_TEMP/rebuild-compare" --git "$TOOL_GIT" --rev "$TOOL_REV" rebuild-compare"#
    );
    let check = step(install, "Check that it is the version that made the plan");
    assert_eq!(check["env"]["PLAN_VERSION"], TOOL_VERSION);

    // Without --push-attestation nothing attaches, and the jobs run in parallel.
    let unpushed = fixture.home.path().join("unpushed.yml");
    let run = fixture.plan(&[
        "--emit",
        "github-workflow",
        "--tool-version",
        TOOL_VERSION,
        "-o",
        unpushed.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let unpushed: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(&unpushed).unwrap()).unwrap();
    assert_eq!(
        unpushed["jobs"]["verify"]["concurrency"],
        serde_json::Value::Null
    );
    let build = step(
        &unpushed["jobs"]["install"],
        &format!("Build rebuild-compare {TOOL_VERSION} (the version that made the plan)"),
    );
    assert_eq!(
        build["env"],
        serde_json::json!({"TOOL_VERSION": TOOL_VERSION})
    );
}

#[test]
fn github_workflow_installs_only_a_pinned_commit_or_the_plans_published_version() {
    let fixture = Fixture::new();
    let workflow = |extra: &[&str]| {
        let mut args = vec!["--emit", "github-workflow"];
        args.extend_from_slice(extra);
        fixture.plan(&args)
    };
    let run = workflow(&[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--tool-git URL --tool-rev COMMIT")
            && run.stderr.contains("--tool-version VERSION"),
        "{}",
        run.stderr
    );
    for (extra, said) in [
        (
            [
                "--tool-git",
                "https://github.com/example/rebuild-compare",
                "--tool-rev",
                "main",
            ],
            "is not a commit",
        ),
        (
            [
                "--tool-git",
                "http://github.com/example/rebuild-compare",
                "--tool-rev",
                TOOL_REV,
            ],
            "https only",
        ),
        (
            [
                "--tool-git",
                "https://u:token@github.com/example/r",
                "--tool-rev",
                TOOL_REV,
            ],
            "credentials",
        ),
    ] {
        let run = workflow(&extra);
        assert_eq!(run.code, 2, "{extra:?}");
        assert!(run.stderr.contains(said), "{extra:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
    }
    let run = workflow(&["--tool-version", "0.0.1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "the plan's jobs are for rebuild-compare {TOOL_VERSION}"
        )),
        "{}",
        run.stderr
    );
    let run = fixture.plan(&["--emit", "json", "--tool-version", TOOL_VERSION]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("apply only to --emit github-workflow"),
        "{}",
        run.stderr
    );
}

/// The step of `job` named `name`.
fn step<'a>(job: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    job["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no step {name:?} in {job:#}"))
}

/// Fails unless actionlint, run in `repo`, passes `file`.
fn actionlint(repo: &Path, file: &Path) {
    let lint = Command::new(format!("{PYTOOLS}/bin/actionlint"))
        .arg("-no-color")
        .arg(file)
        .current_dir(repo)
        .output()
        .expect("run actionlint (scripts/install-test-deps.sh installs it)");
    assert!(
        lint.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn k8s_job_passes_schema_validation_offline() {
    let fixture = Fixture::new();
    let file = fixture.home.path().join("k8s.yaml");
    let job_image = fixture.registry.reference("tools/rebuild-compare:1");
    let run = fixture.plan(&[
        "--emit",
        "k8s-job",
        "--job-image",
        &job_image,
        "--parallelism",
        "2",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let validate = Command::new("python3")
        .arg(format!("{PYTOOLS}/bin/kubernetes-validate"))
        .args(["--strict", "--kubernetes-version", "1.37.0"])
        .arg(&file)
        .env("PYTHONPATH", PYTOOLS)
        .output()
        .expect("run kubernetes-validate (scripts/install-test-deps.sh installs it)");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&validate.stdout),
        String::from_utf8_lossy(&validate.stderr)
    );
    assert!(validate.status.success(), "kubernetes-validate:\n{said}");
    assert!(!said.contains("ERROR") && !said.contains("WARN"), "{said}");

    let text = std::fs::read_to_string(&file).unwrap();
    let docs: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(&text)
        .map(|doc| serde::Deserialize::deserialize(doc).unwrap())
        .collect();
    let [config_map, job] = docs.as_slice() else {
        panic!("two documents expected:\n{text}");
    };
    assert_eq!(config_map["kind"], "ConfigMap");
    let planned: serde_json::Value =
        serde_json::from_str(config_map["data"]["plan.json"].as_str().unwrap()).unwrap();
    assert_eq!(jobs_of(&planned), fixture.expected());
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 4);
    assert_eq!(job["spec"]["parallelism"], 2);
    let pod = &job["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(container["image"], job_image.as_str());
    assert_eq!(
        container["args"],
        serde_json::json!([
            "run",
            "/plan/plan.json",
            "--ledger",
            "/ledger",
            "--index",
            "$(JOB_COMPLETION_INDEX)"
        ])
    );
    assert_eq!(
        pod["volumes"][0]["configMap"]["name"],
        config_map["metadata"]["name"]
    );

    // Without --job-image there is nothing to run the pods with.
    let run = fixture.plan(&["--emit", "k8s-job"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("needs --job-image REF"),
        "{}",
        run.stderr
    );
}

#[test]
fn shell_emitter_quotes_every_argument() {
    let fixture = Fixture::new();
    let plan = fixture.plan(&[]).report(0);
    let run = fixture.plan(&["--emit", "shell"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("# rebuild-compare "), "{}", run.stdout);
    let jobs = plan["jobs"].as_array().unwrap();
    assert_eq!(lines.len(), 1 + jobs.len(), "{}", run.stdout);
    for (line, job) in lines[1..].iter().zip(jobs) {
        let mut expected = vec!["rebuild-compare".to_string()];
        expected.extend(
            job["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string()),
        );
        assert_eq!(shlex::split(line).unwrap(), expected, "{line}");
        // What a shell makes of the line: the same words, nothing expanded.
        let words = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "printf '%s\\n' {}",
                line.trim_start_matches("rebuild-compare ")
            ))
            .output()
            .unwrap();
        let words: Vec<String> = String::from_utf8(words.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        assert_eq!(words, expected[1..], "{line}");
    }
    assert!(
        lines[1].ends_with(&format!("--recipe '{}'", fixture.recipe().display())),
        "{}",
        lines[1]
    );
}

#[test]
fn malformed_watch_list_names_file_line_and_column() {
    let home = tempfile::tempdir().unwrap();
    let watchlist = home.path().join("watch.toml");
    std::fs::write(
        &watchlist,
        "[[image]]\nreference = \"127.0.0.1:1/tools/app\"\nversions = \">=1.0.0, <2\"\nplatform = [\"linux/amd64\"]\n",
    )
    .unwrap();
    let run = run_in(home.path(), &["plan", watchlist.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(&format!(
            "error: watch list {}:4:1: unknown field `platform`, expected one of",
            watchlist.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn a_range_that_matches_nothing_is_an_error() {
    let fixture = Fixture::new();
    fixture.write_watchlist(&format!(
        "[[image]]\nreference = \"{}\"\nversions = \">=5\"\n",
        fixture.registry.reference("tools/app")
    ));
    let out = fixture.home.path().join("plan.json");
    let run = fixture.plan(&["-o", out.to_str().unwrap()]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "error: no tag of {} is within versions = \">=5\" (its newest semver tags: v2.0.0, v1.5.0-rc.1, v1.1.0); widen the range or fix the reference",
            fixture.registry.reference("tools/app")
        )
    );
    assert!(!out.exists(), "nothing is written on an error");
}

#[test]
fn a_repository_without_tags_is_an_error() {
    let fixture = Fixture::new();
    // Deleting v3's manifest leaves tools/other with no tag.
    let deleted = fixture.registry.api(
        "DELETE",
        &format!("/v2/tools/other/manifests/{}", fixture.other_v3),
        &[],
        b"",
    );
    assert_eq!(deleted.status, 202, "{}", deleted.text());
    let other = fixture.registry.reference("tools/other");
    fixture.write_watchlist(&format!(
        "[[image]]\nreference = \"{other}\"\nversions = \">=1\"\n"
    ));
    let run = fixture.plan(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        format!("error: {other} lists no tags; check the watch list's reference")
    );

    // A repository the registry does not know is refused when listing.
    let missing = fixture.registry.reference("tools/missing");
    fixture.write_watchlist(&format!(
        "[[image]]\nreference = \"{missing}\"\nversions = \">=1\"\n"
    ));
    let run = fixture.plan(&[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot list the tags of {missing}: ")),
        "{}",
        run.stderr
    );
}

#[test]
fn a_hostile_tag_is_refused() {
    let fixture = Fixture::new();
    // No registry API takes such a tag; a hostile registry can still list one.
    let hostile = "v1.2.0$(touch${IFS}pwned)";
    let manifest = fixture.registry.get_manifest("tools/app", "v1.0.0").body;
    fixture
        .registry
        .plant_manifest("tools/app", hostile, &manifest);
    for emit in [
        &["--emit", "json"][..],
        &["--emit", "shell"],
        &["--emit", "github-workflow", "--tool-version", TOOL_VERSION],
    ] {
        let run = fixture.plan(emit);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_eq!(run.stdout, "");
        let app = fixture.registry.reference("tools/app");
        assert!(
            run.stderr.starts_with(&format!(
                "error: cannot list the tags of {app}: {app}: the registry answered a bad tags list: an invalid tag: tag {hostile:?} must be"
            )),
            "{}",
            run.stderr
        );
    }
    assert!(!fixture.home.path().join("pwned").exists());
}
