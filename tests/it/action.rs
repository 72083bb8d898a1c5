//! The release-day GitHub Action (`action.yml` at the repository root) and
//! what it puts in the run's summary: the README's workflow, using the
//! action, checked by actionlint against the action's own inputs; and
//! `verify --format markdown` for a reproducible, a mismatching and an
//! erroring run (images pushed to a loopback registry, real sandboxed
//! builds of the fast app), with `--report FILE` writing the JSON beside it;
//! and the action's verify step itself, run by bash as a runner runs it.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rebuild_compare::report::markdown::escape;
use serde_json::Value;
use support::cli::{run_in, Run};
use support::fast_app::*;
use support::{sha256_digest, Registry};

/// Where `scripts/install-test-deps.sh` installs actionlint.
const ACTIONLINT: &str = "/opt/rebuild-compare-test/pytools/bin/actionlint";

/// The inputs the action takes: the issue's, and the artifact's name.
const INPUTS: [&str; 7] = [
    "image",
    "version",
    "recipe",
    "platforms",
    "sign-key",
    "push-attestation",
    "artifact-name",
];

fn repository_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn action() -> Value {
    serde_yaml_ng::from_str(&repository_file("action.yml")).expect("action.yml is YAML")
}

/// The README's "Release-day check" workflow, as a user copies it.
fn readme_workflow() -> String {
    let readme = repository_file("README.md");
    let section = readme
        .split_once("\n## Release-day check\n")
        .expect("README has a Release-day check section")
        .1;
    let block = section
        .split_once("```yaml\n")
        .expect("the section shows a workflow")
        .1;
    block
        .split_once("```")
        .expect("a closed block")
        .0
        .to_string()
}

/// A git repository holding the action at its root and `workflow` as
/// `.github/workflows/release.yml`, linted by actionlint there.
fn actionlint(dir: &Path, workflow: &str) -> Output {
    git2::Repository::init(dir).unwrap();
    std::fs::write(dir.join("action.yml"), repository_file("action.yml")).unwrap();
    let workflows = dir.join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let file = workflows.join("release.yml");
    std::fs::write(&file, workflow).unwrap();
    Command::new(ACTIONLINT)
        .arg("-no-color")
        .arg(&file)
        .current_dir(dir)
        .output()
        .expect("run actionlint (scripts/install-test-deps.sh installs it)")
}

#[test]
fn action_is_composite_with_the_release_day_inputs_and_no_input_in_a_script() {
    let action = action();
    assert_eq!(action["runs"]["using"], "composite");
    let inputs = action["inputs"].as_object().expect("inputs");
    let mut names: Vec<&str> = inputs.keys().map(String::as_str).collect();
    names.sort_unstable();
    let mut expected = INPUTS.to_vec();
    expected.sort_unstable();
    assert_eq!(names, expected);
    for name in INPUTS {
        let input = &inputs[name];
        let required = matches!(name, "image" | "version");
        assert_eq!(input["required"], required, "{name}");
        assert!(input["description"].is_string(), "{name}");
    }
    assert_eq!(inputs["push-attestation"]["default"], "false");
    // Inputs reach the scripts through `env:`, never spliced into them.
    let steps = action["runs"]["steps"].as_array().expect("steps");
    for step in steps {
        if let Some(script) = step["run"].as_str() {
            assert!(!script.contains("${{"), "{script}");
        }
    }
    let verify = steps.iter().find(|s| s["id"] == "verify").expect("verify");
    assert_eq!(
        verify["env"]["REBUILD_COMPARE_SIGN_KEY"],
        "${{ inputs.sign-key }}"
    );
    let upload = steps.last().expect("a last step");
    assert_eq!(upload["uses"], "actions/upload-artifact@v4");
    assert_eq!(upload["if"], "always()");
}

#[test]
fn readme_workflow_using_the_action_passes_actionlint() {
    let workflow = readme_workflow().replace("OWNER/rebuild-compare@COMMIT", "./");
    assert!(workflow.contains("uses: ./\n"), "{workflow}");
    let tmp = tempfile::tempdir().unwrap();
    let lint = actionlint(tmp.path(), &workflow);
    assert!(
        lint.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[test]
fn actionlint_reads_the_actions_inputs_and_refuses_a_wrong_one() {
    let workflow = readme_workflow()
        .replace("OWNER/rebuild-compare@COMMIT", "./")
        .replace("          version: ", "          release: ");
    let tmp = tempfile::tempdir().unwrap();
    let lint = actionlint(tmp.path(), &workflow);
    let out = String::from_utf8_lossy(&lint.stdout);
    assert_eq!(lint.status.code(), Some(1), "{out}");
    assert!(
        out.contains(r#"missing input "version" which is required by action "rebuild-compare release-day check" defined at "./""#),
        "{out}"
    );
    assert!(
        out.contains(r#"input "release" is not defined in action "rebuild-compare release-day check" defined at "./""#),
        "{out}"
    );
}

/// A published fast app, its source and recipe, in a temporary home.
struct Release {
    registry: Registry,
    home: tempfile::TempDir,
    source: PathBuf,
    commit: String,
    recipe: PathBuf,
}

impl Release {
    fn publish(binaries: &[(&str, Vec<u8>)]) -> Release {
        let registry = Registry::start();
        let home = tempfile::tempdir().unwrap();
        let (source, commit) = fast_source(home.path());
        let recipe = write_recipe(home.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
        publish(
            &registry,
            &home.path().join("layout"),
            &app_image_set(binaries),
            "test/app",
        );
        Release {
            registry,
            home,
            source,
            commit,
            recipe,
        }
    }

    fn image(&self) -> String {
        self.registry.reference("test/app")
    }

    fn report_path(&self) -> PathBuf {
        self.home.path().join("report.json")
    }

    /// `verify IMAGE VERSION --format markdown --report HOME/report.json`.
    fn verify(&self) -> Run {
        let out = self.home.path().join("out");
        let report = self.report_path();
        run_in(
            self.home.path(),
            &[
                "verify",
                &self.image(),
                VERSION,
                "--recipe",
                self.recipe.to_str().unwrap(),
                "--source",
                self.source.to_str().unwrap(),
                "--out-dir",
                out.to_str().unwrap(),
                "--format",
                "markdown",
                "--report",
                report.to_str().unwrap(),
            ],
        )
    }

    /// The summary's first lines, down to the table's header: the image
    /// (its digest from the JSON report), source and recipe.
    fn head(&self, verdict: &str, report: &Value) -> String {
        format!(
            "## rebuild-compare: {verdict}\n\
             \n\
             - Image: {image}:{VERSION} (`{digest}`)\n\
             - Source: {RECIPE_GIT} at {VERSION}, commit {commit}\n\
             - Fetched from: {source}\n\
             - Recipe: {recipe} (`{recipe_sha}`)\n\
             \n\
             | Platform | Verdict | Causes | Rebuilt | Image binary |\n\
             | --- | --- | --- | --- | --- |\n",
            image = self.image(),
            digest = report["image"]["digest"].as_str().unwrap(),
            commit = self.commit,
            source = self.source.display(),
            recipe = self.recipe.display(),
            recipe_sha = report["recipe"]["sha256"].as_str().unwrap(),
        )
    }
}

fn read_report(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("--report wrote the report"))
        .expect("the report is JSON")
}

fn code(run: &Run, expected: i32) {
    assert_eq!(
        run.code, expected,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

#[test]
fn markdown_summary_of_a_reproducible_run_is_one_row_per_platform() {
    let release = Release::publish(&[(AMD64, fast_binary(AMD64)), (ARM64, fast_binary(ARM64))]);
    let run = release.verify();
    code(&run, 0);
    let report = read_report(&release.report_path());
    assert_eq!(report["verdict"], "reproducible");
    let amd64 = sha256_digest(&fast_binary(AMD64));
    let arm64 = sha256_digest(&fast_binary(ARM64));
    assert_eq!(
        run.stdout,
        format!(
            "{}\
             | linux/amd64 | reproducible | - | `{amd64}` | `{amd64}` |\n\
             | linux/arm64 | reproducible | - | `{arm64}` | `{arm64}` |\n",
            release.head("reproducible", &report)
        )
    );
}

#[test]
fn markdown_summary_of_a_mismatch_names_its_causes_and_explanations() {
    let tampered = b"app linux/amd64 beacon\n".to_vec();
    let release = Release::publish(&[(AMD64, tampered.clone()), (ARM64, fast_binary(ARM64))]);
    let run = release.verify();
    code(&run, 1);
    let report = read_report(&release.report_path());
    assert_eq!(report["verdict"], "mismatch");
    let rebuilt = sha256_digest(&fast_binary(AMD64));
    let image = sha256_digest(&tampered);
    let arm64 = sha256_digest(&fast_binary(ARM64));
    assert_eq!(
        run.stdout,
        format!(
            "{}\
             | linux/amd64 | **mismatch** | data | `{rebuilt}` | `{image}` |\n\
             | linux/arm64 | reproducible | - | `{arm64}` | `{arm64}` |\n\
             \n\
             - linux/amd64: strings only in A: \" beacon\"\n\
             - linux/amd64: 1 of 1 sections differs: \\[whole file\\] (7 bytes)\n\
             - A is the image binary, B the rebuild\n",
            release.head("mismatch", &report)
        )
    );
}

#[test]
fn markdown_summary_of_an_erroring_run_says_error_with_its_notes() {
    let release = Release::publish(&[("linux/s390x", fast_binary("linux/s390x"))]);
    let run = release.verify();
    code(&run, 2);
    let report = read_report(&release.report_path());
    assert_eq!(report["verdict"], "error");
    assert_eq!(
        run.stdout,
        format!(
            "{}\
             | linux/s390x | skipped | - | - | - |\n\
             \n\
             - linux/s390x: the recipe cannot build linux/s390x (it builds linux/amd64, linux/arm64)\n\
             - note: 1 platform(s) skipped: the recipe cannot build them; they were not verified\n\
             - note: no platform could be compared, so nothing was verified\n",
            release.head("error", &report)
        )
    );
    assert_eq!(
        run.stderr,
        "error: verification incomplete: 1 platform(s) skipped: the recipe cannot build them; \
         they were not verified; no platform could be compared, so nothing was verified\n"
    );
}

#[test]
fn markdown_error_before_any_report_is_a_heading_and_the_escaped_message() {
    let tmp = tempfile::tempdir().unwrap();
    let (source, _) = fast_source(tmp.path());
    let recipe = write_recipe(tmp.path(), "app", "127.0.0.1/test/app", FAST_BUILD);
    let missing = tmp.path().join("<b>no|such`layout</b>");
    let image = format!("oci:{}", missing.display());
    let report = tmp.path().join("report.json");
    let run = run_in(
        tmp.path(),
        &[
            "verify",
            &image,
            VERSION,
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            source.to_str().unwrap(),
            "--format",
            "markdown",
            "--report",
            report.to_str().unwrap(),
        ],
    );
    code(&run, 2);
    let message = run
        .stderr
        .strip_prefix("error: ")
        .and_then(|m| m.strip_suffix('\n'))
        .unwrap_or_else(|| panic!("one error line: {}", run.stderr));
    assert!(message.contains("<b>no|such`layout</b>"), "{message}");
    assert_eq!(
        run.stdout,
        format!("## rebuild-compare: error\n\nerror: {}\n", escape(message))
    );
    assert!(
        run.stdout.contains("\\<b\\>no\\|such\\`layout\\</b\\>"),
        "{}",
        run.stdout
    );
    assert!(!report.exists(), "no report, so no report file");
}

#[test]
fn markdown_is_verify_only() {
    let tmp = tempfile::tempdir().unwrap();
    let run = run_in(
        tmp.path(),
        &["inspect", "oci:layout", "--format", "markdown"],
    );
    code(&run, 2);
    assert!(
        run.stderr.starts_with(
            "error: invalid value 'markdown' for '--format <FORMAT>'\n  \
             [possible values: text, json]\n"
        ),
        "{}",
        run.stderr
    );
}

/// The action's `verify` step, run as GitHub runs a composite step's
/// `bash` script (`bash --noprofile --norc -eo pipefail`), with its inputs
/// in `env` and the tool under test where the install step puts it.
struct Runner {
    temp: PathBuf,
    summary: PathBuf,
    output: PathBuf,
}

impl Runner {
    fn new(home: &Path) -> Runner {
        let temp = home.join("runner-temp");
        let bin = temp.join("rebuild-compare/bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_rebuild-compare"),
            bin.join("rebuild-compare"),
        )
        .unwrap();
        Runner {
            summary: home.join("step-summary.md"),
            output: home.join("step-output"),
            temp,
        }
    }

    fn run_verify_step(&self, home: &Path, inputs: &[(&str, &str)]) -> Output {
        let action = action();
        let steps = action["runs"]["steps"].as_array().expect("steps");
        let step = steps.iter().find(|s| s["id"] == "verify").expect("verify");
        assert_eq!(step["shell"], "bash");
        let script = step["run"].as_str().expect("a script");
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(home);
        support::cli::isolate(&mut command, home);
        command
            .env("RUNNER_TEMP", &self.temp)
            .env("GITHUB_STEP_SUMMARY", &self.summary)
            .env("GITHUB_OUTPUT", &self.output)
            .envs(inputs.iter().copied());
        command.output().expect("run bash")
    }

    fn result_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.temp.join("rebuild-compare/result"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

#[test]
fn verify_step_writes_the_summary_and_only_this_runs_artifact_signs_with_the_env_key_and_fails_on_a_mismatch(
) {
    let tampered = b"app linux/amd64 beacon\n".to_vec();
    let release = Release::publish(&[(AMD64, tampered), (ARM64, fast_binary(ARM64))]);
    let home = release.home.path();
    // The recipe names the local source, as the action passes no --source.
    let recipe = home.join("local.toml");
    std::fs::write(
        &recipe,
        format!(
            "[image]\nrepository = \"127.0.0.1/test/app\"\ntag = \"{{version}}\"\n\n\
             [source]\ngit = \"{}\"\nref = \"{{version}}\"\n\n{FAST_BUILD}",
            release.source.display()
        ),
    )
    .unwrap();
    let key = support::keys::KeyPair::generate(home, "key", "p256");
    let pem = std::fs::read_to_string(&key.private).unwrap();
    let runner = Runner::new(home);
    // An earlier use of the action in the job left its files.
    let result = runner.temp.join("rebuild-compare/result");
    std::fs::create_dir_all(&result).unwrap();
    std::fs::write(result.join("attestation.linux-s390x.json"), "{}").unwrap();
    let step = runner.run_verify_step(
        home,
        &[
            ("IMAGE", &release.image()),
            ("VERSION", VERSION),
            ("RECIPE", recipe.to_str().unwrap()),
            ("PLATFORMS", "linux/amd64,\nlinux/arm64"),
            ("PUSH_ATTESTATION", "false"),
            ("REBUILD_COMPARE_SIGN_KEY", &pem),
        ],
    );
    let stdout = String::from_utf8_lossy(&step.stdout);
    let stderr = String::from_utf8_lossy(&step.stderr);
    assert_eq!(step.status.code(), Some(1), "{stdout}{stderr}");
    let summary = std::fs::read_to_string(&runner.summary).unwrap();
    assert!(
        summary.starts_with("## rebuild-compare: mismatch\n"),
        "{summary}"
    );
    assert!(
        summary.contains("\n| linux/amd64 | **mismatch** | data | `"),
        "{summary}"
    );
    assert_eq!(
        stdout,
        format!("{summary}exit code 1 (0 reproducible, 1 mismatch, 2 error)\n")
    );
    assert_eq!(
        std::fs::read_to_string(&runner.output).unwrap(),
        "verdict=mismatch\n"
    );
    assert_eq!(
        runner.result_files(),
        [
            "attestation.json",
            "attestation.linux-amd64.json",
            "attestation.linux-arm64.json",
            "report.json"
        ]
    );
    assert_eq!(
        read_report(&result.join("report.json"))["verdict"],
        "mismatch"
    );
    let envelope = read_report(&result.join("attestation.json"));
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert_eq!(envelope["signatures"][0]["keyid"], key.id().as_str());
}

#[test]
fn verify_step_refuses_a_push_attestation_that_is_not_true_or_false() {
    let tmp = tempfile::tempdir().unwrap();
    let runner = Runner::new(tmp.path());
    let step = runner.run_verify_step(
        tmp.path(),
        &[
            ("IMAGE", "oci:layout"),
            ("VERSION", VERSION),
            ("PUSH_ATTESTATION", "yes"),
        ],
    );
    assert_eq!(step.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&step.stdout),
        "::error::push-attestation is true or false, not yes\n"
    );
    assert!(!runner.summary.exists());
}
