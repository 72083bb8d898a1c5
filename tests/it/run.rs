//! `rebuild-compare run PLAN --jobs N --ledger DIR`, the one-machine
//! executor: a plan of six real jobs (three releases × two platforms of an
//! image on a loopback registry, each a sandboxed build that takes a
//! second) made by `plan`, run two at a time, killed midway and resumed;
//! `--index`; plans it must refuse.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::cli::{isolate, run_in, Run};
use support::fast_app::app_image_set;
use support::git::{commit, tag};
use support::skopeo::push;
use support::{write_oci_layout, IndexStyle, MediaTypes, Registry};

const VERSIONS: [&str; 3] = ["v1.0.0", "v1.1.0", "v1.2.0"];
const PLATFORMS: [&str; 2] = ["linux/amd64", "linux/arm64"];
const REPO: &str = "tools/slow";

/// What the recipe's build makes for a release and platform.
fn binary(version: &str, platform: &str) -> Vec<u8> {
    format!("app {version} {platform}\n").into_bytes()
}

/// A registry holding `tools/slow` at every version, its source repository
/// (tagged likewise) and a recipe whose build takes a second, and a watch
/// list naming them; returns the registry and the watch list.
fn watched(home: &Path) -> (Registry, PathBuf) {
    let registry = Registry::start();
    for version in VERSIONS {
        let set = app_image_set(&PLATFORMS.map(|p| (p, binary(version, p))));
        let layout = home.join("layouts").join(version);
        write_oci_layout(&layout, version, &set, IndexStyle::Index, MediaTypes::Oci);
        push(
            &layout,
            version,
            &registry.reference(&format!("{REPO}:{version}")),
            None,
        );
    }
    let source = home.join("upstream");
    let repo = git2::Repository::init(&source).unwrap();
    for (n, version) in VERSIONS.iter().enumerate() {
        let at = 1_700_000_000 + n as i64 * 1000;
        let oid = commit(&repo, &[("VERSION", version)], version, at);
        tag(&repo, version, oid, at);
    }
    let recipe = home.join("slow.toml");
    std::fs::write(
        &recipe,
        format!(
            "[image]\nrepository = \"{}/{REPO}\"\ntag = \"{{version}}\"\n\n\
             [source]\ngit = \"file://{}\"\nref = \"{{version}}\"\n\n\
             [build]\nbuilder = \"host\"\n\
             command = [\"/bin/sh\", \"-c\", \"sleep 1; printf 'app {{version}} {{os}}/{{arch}}\\\\n' > /out/app\"]\n\
             artifact = \"/out/app\"\n\n\
             [build.platforms.\"linux/amd64\"]\n[build.platforms.\"linux/arm64\"]\n",
            registry.host(),
            source.display()
        ),
    )
    .unwrap();
    let watch_list = home.join("watch.toml");
    std::fs::write(
        &watch_list,
        format!(
            "[[image]]\nreference = \"{}\"\nversions = \">=1.0.0, <2\"\nrecipe = \"slow.toml\"\n",
            registry.reference(REPO)
        ),
    )
    .unwrap();
    (registry, watch_list)
}

/// `plan WATCH --emit json -o HOME/plan.json`; returns the plan's path and jobs.
fn plan(home: &Path, watch_list: &Path) -> (PathBuf, Vec<Value>) {
    let path = home.join("plan.json");
    let run = run_in(
        home,
        &[
            "plan",
            watch_list.to_str().unwrap(),
            "--emit",
            "json",
            "-o",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "plan: {}", run.stderr);
    let plan: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let jobs = plan["jobs"].as_array().unwrap().clone();
    (path, jobs)
}

fn run_plan(home: &Path, plan: &Path, ledger: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "run",
        plan.to_str().unwrap(),
        "--jobs",
        "2",
        "--ledger",
        ledger.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

/// The ledger's finished entries: job id → entry.
fn entries(ledger: &Path) -> Vec<(String, Value)> {
    let Ok(dirs) = std::fs::read_dir(ledger.join("jobs")) else {
        return Vec::new();
    };
    let mut entries: Vec<(String, Value)> = dirs
        .flatten()
        .filter_map(|d| {
            let bytes = std::fs::read(d.path().join("entry.json")).ok()?;
            Some((
                d.file_name().to_string_lossy().into_owned(),
                serde_json::from_slice(&bytes).unwrap(),
            ))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// Starts `run` in its own process group (so the test can kill it and
/// every job it started, as a terminal's Ctrl-C or a node's eviction does).
fn spawn_run(home: &Path, plan: &Path, ledger: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_rebuild-compare"));
    command
        .args(["run", plan.to_str().unwrap(), "--jobs", "2", "--ledger"])
        .arg(ledger)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    isolate(&mut command, home);
    command.spawn().unwrap()
}

fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let status = Command::new("kill")
        .args(["-KILL", "--", &group])
        .status()
        .unwrap();
    assert!(status.success());
    child.wait().unwrap();
}

#[test]
fn a_killed_run_resumes_without_redoing_a_finished_job() {
    let home = tempfile::tempdir().unwrap();
    let (_registry, watch_list) = watched(home.path());
    let (plan, jobs) = plan(home.path(), &watch_list);
    assert_eq!(jobs.len(), 6);
    let ledger = home.path().join("ledger");

    let mut child = spawn_run(home.path(), &plan, &ledger);
    let started = Instant::now();
    while entries(&ledger).len() < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no job finished"
        );
        assert!(child.try_wait().unwrap().is_none(), "run ended early");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_group(&mut child);
    let before = entries(&ledger);
    assert!(
        (2..6).contains(&before.len()),
        "killed midway: {} of 6 done",
        before.len()
    );

    let run = run_plan(home.path(), &plan, &ledger, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains(&format!("{} already in the ledger", before.len())),
        "{}",
        run.stdout
    );
    let after = entries(&ledger);
    assert_eq!(after.len(), 6);
    for (id, entry) in &before {
        let again = &after.iter().find(|(i, _)| i == id).unwrap().1;
        assert_eq!(again, entry, "job {id} was not redone");
    }
    let mut done: Vec<(String, String, String)> = after
        .iter()
        .map(|(id, e)| {
            assert_eq!(e["job"]["id"], id.as_str());
            assert_eq!(
                e["exit_code"],
                0,
                "{e:#}\n{}",
                std::fs::read_to_string(ledger.join("jobs").join(id).join("stderr.log"))
                    .unwrap_or_default()
            );
            assert_eq!(e["report"], "report.json");
            assert_eq!(e["attestation"], "attestation.json");
            assert!(ledger.join("jobs").join(id).join("report.json").is_file());
            (
                e["job"]["version"].as_str().unwrap().to_string(),
                e["job"]["platform"].as_str().unwrap().to_string(),
                e["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    done.sort();
    let expected: Vec<(String, String, String)> = VERSIONS
        .iter()
        .flat_map(|v| PLATFORMS.map(|p| (v.to_string(), p.to_string(), "reproducible".to_string())))
        .collect();
    assert_eq!(done, expected);
    let work: Vec<_> = std::fs::read_dir(ledger.join(".work")).unwrap().collect();
    assert!(
        work.is_empty(),
        "the killed run's work directories are cleared"
    );

    let again = run_plan(home.path(), &plan, &ledger, &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("6 already in the ledger"),
        "{}",
        again.stdout
    );
}

#[test]
fn index_runs_exactly_that_job_of_the_plan() {
    let home = tempfile::tempdir().unwrap();
    let (_registry, watch_list) = watched(home.path());
    let (plan, jobs) = plan(home.path(), &watch_list);
    let ledger = home.path().join("ledger");
    let run = run_plan(home.path(), &plan, &ledger, &["--index", "4"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let done = entries(&ledger);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].1["job"], jobs[4]);

    // One job given as JSON (a GitHub matrix entry's `job`) runs the same way.
    let job = serde_json::to_string(&jobs[1]).unwrap();
    let other = home.path().join("ledger-one");
    let run = run_in(
        home.path(),
        &["run", "--job", &job, "--ledger", other.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let one = entries(&other);
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].1["job"], jobs[1]);
    let mut moved = jobs[1].clone();
    moved["digest"] = format!("sha256:{}", "0".repeat(64)).into();
    let run = run_in(
        home.path(),
        &[
            "run",
            "--job",
            &moved.to_string(),
            "--ledger",
            other.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("has an id that is not its fields'"),
        "{}",
        run.stderr
    );

    let run = run_plan(home.path(), &plan, &ledger, &["--index", "6"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error: the plan has no job 6 (it has 6: 0 to 5)\n"
    );
}

#[test]
fn plans_of_another_version_or_with_other_arguments_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let (_registry, watch_list) = watched(home.path());
    let (plan, _) = plan(home.path(), &watch_list);
    let ledger = home.path().join("ledger");
    let original: Value = serde_json::from_slice(&std::fs::read(&plan).unwrap()).unwrap();

    let mut older = original.clone();
    older["tool_version"] = "0.0.1".into();
    std::fs::write(&plan, serde_json::to_vec(&older).unwrap()).unwrap();
    let run = run_plan(home.path(), &plan, &ledger, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("0.0.1"), "{}", run.stderr);

    let mut widened = original.clone();
    widened["jobs"][0]["args"]
        .as_array_mut()
        .unwrap()
        .push("--no-sandbox".into());
    std::fs::write(&plan, serde_json::to_vec(&widened).unwrap()).unwrap();
    let run = run_plan(home.path(), &plan, &ledger, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--no-sandbox"), "{}", run.stderr);

    let mut renamed = original;
    renamed["jobs"][1]["id"] = "0".repeat(32).into();
    std::fs::write(&plan, serde_json::to_vec(&renamed).unwrap()).unwrap();
    let run = run_plan(home.path(), &plan, &ledger, &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains(&"0".repeat(32)), "{}", run.stderr);
    assert!(entries(&ledger).is_empty(), "nothing ran");
}

/// The cells of a site's `ledger.json`: (version, platform, verdict, source).
fn cells(site: &Path) -> Vec<(String, String, String, String)> {
    let ledger: Value =
        serde_json::from_slice(&std::fs::read(site.join("ledger.json")).unwrap()).unwrap();
    let mut cells = Vec::new();
    for image in ledger["images"].as_array().unwrap() {
        for version in image["versions"].as_array().unwrap() {
            for cell in version["platforms"].as_array().unwrap() {
                cells.push((
                    version["version"].as_str().unwrap().to_string(),
                    cell["platform"].as_str().unwrap().to_string(),
                    cell["verdict"].as_str().unwrap().to_string(),
                    cell["source"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    cells.sort();
    cells
}

/// `ledger LEDGER --from-registry WATCH --key PUB --site OUT`.
fn site_from_registry(
    home: &Path,
    ledger: &Path,
    watch_list: &Path,
    keys: &support::keys::KeyPair,
    out: &Path,
) -> Run {
    run_in(
        home,
        &[
            "ledger",
            ledger.to_str().unwrap(),
            "--from-registry",
            watch_list.to_str().unwrap(),
            "--key",
            keys.public.to_str().unwrap(),
            "--site",
            out.to_str().unwrap(),
        ],
    )
}

#[test]
fn a_signed_run_publishes_the_same_ledger_from_files_and_from_the_registry() {
    let home = tempfile::tempdir().unwrap();
    let (_registry, watch_list) = watched(home.path());
    let (plan, _) = plan(home.path(), &watch_list);
    let keys = support::keys::KeyPair::generate(home.path(), "keys", "p256");
    let ledger = home.path().join("ledger");
    let key = keys.private.to_str().unwrap();
    let run = run_plan(
        home.path(),
        &plan,
        &ledger,
        &[
            "--sign-key",
            key,
            "--push-attestation",
            "--verifier-id",
            "urn:test:worker",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for (_, entry) in entries(&ledger) {
        assert_eq!(entry["attestation"], "attestation.dsse.json");
        assert_eq!(entry["signer_key_id"], keys.id());
        assert_eq!(entry["verifier_id"], "urn:test:worker");
    }

    let expected = |source: &str| -> Vec<(String, String, String, String)> {
        let mut all: Vec<_> = VERSIONS
            .iter()
            .flat_map(|v| {
                PLATFORMS.map(|p| {
                    (
                        v.to_string(),
                        p.to_string(),
                        "reproducible".to_string(),
                        source.to_string(),
                    )
                })
            })
            .collect();
        all.sort();
        all
    };
    let from_files = home.path().join("site");
    let built = run_in(
        home.path(),
        &[
            "ledger",
            ledger.to_str().unwrap(),
            "--site",
            from_files.to_str().unwrap(),
        ],
    );
    assert_eq!(built.code, 0, "{}", built.stderr);
    assert_eq!(cells(&from_files), expected("ledger"));

    // A site made from the registry alone: an empty ledger, the watch list
    // and the worker's public key.
    let empty = home.path().join("empty-ledger");
    std::fs::create_dir_all(empty.join("jobs")).unwrap();
    let from_registry = home.path().join("site-registry");
    let built = site_from_registry(home.path(), &empty, &watch_list, &keys, &from_registry);
    assert_eq!(built.code, 0, "{}", built.stderr);
    assert_eq!(cells(&from_registry), expected("registry"));
    let index = std::fs::read_to_string(from_registry.join("index.html")).unwrap();
    assert!(index.contains("urn:test:worker"), "{index}");

    // Another key's site holds nothing from the registry.
    let stranger = support::keys::KeyPair::generate(home.path(), "stranger", "ed25519");
    let none = home.path().join("site-stranger");
    let built = site_from_registry(home.path(), &empty, &watch_list, &stranger, &none);
    assert_eq!(built.code, 0, "{}", built.stderr);
    assert!(cells(&none).is_empty());
    assert!(
        built.stderr.contains("none of the envelope's"),
        "{}",
        built.stderr
    );
}

/// The files of job `id`'s ledger directory, sorted.
fn job_files(ledger: &Path, id: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(ledger.join("jobs").join(id))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Asserts that `run` refused job `id` as its recipe at `recipe` now hashes
/// to `found`: an error entry naming the recipe and both digests, nothing
/// built, exit 2.
fn assert_refused(run: &Run, ledger: &Path, job: &Value, recipe: &Path, found: &str) {
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("ran 1 jobs: 0 reproducible, 0 mismatch, 1 error"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.ends_with(
            "\nerror: refused 1 job(s) whose recipe is not the one planned (each entry names \
             both sha256s); plan again to verify with the recipes as they are now\n"
        ),
        "{}",
        run.stderr
    );
    let id = job["id"].as_str().unwrap();
    let entry: Value = serde_json::from_slice(
        &std::fs::read(ledger.join("jobs").join(id).join("entry.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(entry["verdict"], "error");
    assert_eq!(entry["exit_code"], 2);
    assert_eq!(entry["report"], Value::Null);
    assert_eq!(
        entry["error"],
        format!(
            "error: recipe {} has sha256 {found}, not the expected {} (the one it was planned \
             with): it changed since; nothing is built from it",
            recipe.display(),
            job["recipe_sha256"].as_str().unwrap()
        )
    );
    assert_eq!(job_files(ledger, id), ["entry.json"], "nothing was built");
}

#[test]
fn a_recipe_edited_after_plan_is_refused_and_retried_once_restored() {
    let home = tempfile::tempdir().unwrap();
    let (_registry, watch_list) = watched(home.path());
    let (plan, jobs) = plan(home.path(), &watch_list);
    let ledger = home.path().join("ledger");
    let recipe = home.path().join("slow.toml");
    let original = std::fs::read(&recipe).unwrap();
    assert_eq!(
        jobs[0]["recipe_sha256"].as_str().unwrap(),
        sha256_hex(&original)
    );

    // The same recipe with one more build step: what it builds is no longer
    // what was planned.
    let edited = String::from_utf8(original.clone())
        .unwrap()
        .replace("sleep 1;", "sleep 1; echo planted >> /out/app;");
    std::fs::write(&recipe, &edited).unwrap();
    let run = run_plan(home.path(), &plan, &ledger, &["--index", "0"]);
    // `run_plan` gives the plan's path as written: the recipe's path is the one `plan` wrote.
    let planned_path = PathBuf::from(jobs[0]["args"][6].as_str().unwrap());
    assert_refused(
        &run,
        &ledger,
        &jobs[0],
        &planned_path,
        &sha256_hex(edited.as_bytes()),
    );

    // Restored: the refused job stays an error until errors are retried;
    // a job with a verdict is never redone.
    std::fs::write(&recipe, &original).unwrap();
    let run = run_plan(home.path(), &plan, &ledger, &["--index", "1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = run_plan(home.path(), &plan, &ledger, &["--index", "0"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("ran 0 jobs") && again.stdout.contains("1 already in the ledger"),
        "{}",
        again.stdout
    );
    let before = entries(&ledger);
    for index in ["0", "1"] {
        let retried = run_plan(
            home.path(),
            &plan,
            &ledger,
            &["--index", index, "--retry-errors"],
        );
        assert_eq!(retried.code, 0, "{}", retried.stderr);
    }
    let after = entries(&ledger);
    let entry = |all: &[(String, Value)], n: usize| {
        all.iter()
            .find(|(id, _)| id == jobs[n]["id"].as_str().unwrap())
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(entry(&after, 0)["verdict"], "reproducible");
    assert_eq!(entry(&after, 0)["error"], Value::Null);
    assert_eq!(
        entry(&after, 1),
        entry(&before, 1),
        "the reproducible job was not redone"
    );
}

#[test]
fn a_recipe_swapped_for_another_file_of_its_name_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let (_registry, watch_list) = watched(home.path());
    let (plan, jobs) = plan(home.path(), &watch_list);
    let ledger = home.path().join("ledger");
    let recipe = home.path().join("slow.toml");
    let other = home.path().join("other.toml");
    let swapped = String::from_utf8(std::fs::read(&recipe).unwrap())
        .unwrap()
        .replace("app {version}", "forged {version}");
    std::fs::write(&other, &swapped).unwrap();
    std::fs::remove_file(&recipe).unwrap();
    std::os::unix::fs::symlink(&other, &recipe).unwrap();
    let run = run_plan(home.path(), &plan, &ledger, &["--index", "0"]);
    let planned_path = PathBuf::from(jobs[0]["args"][6].as_str().unwrap());
    assert_refused(
        &run,
        &ledger,
        &jobs[0],
        &planned_path,
        &sha256_hex(swapped.as_bytes()),
    );
}

#[test]
fn verify_builds_only_from_a_recipe_with_the_pinned_sha256() {
    // What `run` passes each job, so that the recipe checked is the one built.
    let home = tempfile::tempdir().unwrap();
    let (_registry, watch_list) = watched(home.path());
    let (_, jobs) = plan(home.path(), &watch_list);
    let recipe = home.path().join("slow.toml");
    let actual = sha256_hex(&std::fs::read(&recipe).unwrap());
    let other = "ab".repeat(32);
    let out = home.path().join("out");
    let run = run_in(
        home.path(),
        &[
            "verify",
            jobs[0]["args"][1].as_str().unwrap(),
            "v1.0.0",
            "--platform",
            "linux/amd64",
            "--recipe",
            recipe.to_str().unwrap(),
            "--recipe-sha256",
            &other,
            "--out-dir",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        format!(
            "error: recipe {} has sha256 {actual}, not the expected {other} (the one it was \
             planned with): it changed since; nothing is built from it\n",
            recipe.display()
        )
    );
    assert!(!out.exists(), "nothing was built");
}
