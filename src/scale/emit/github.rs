//! The plan for GitHub Actions: the `strategy.matrix` JSON of its jobs, or
//! a whole workflow that installs rebuild-compare once (from its
//! repository at a pinned commit, or a published crate version), runs
//! every job of the matrix (`run --job …` in a job of its own; the jobs of
//! one image one at a time when they attach attestations) and uploads each
//! job's ledger directory. Matrix values reach the scripts only through
//! `env:` and are quoted there (`"$VERSION"`), never interpolated into a
//! script.

use serde::Serialize;

use crate::scale::job::{Job, Plan};

/// The most jobs one GitHub Actions matrix may hold.
pub const MAX_MATRIX_JOBS: usize = 256;

/// Why a plan cannot become a matrix.
#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("the plan has no job (every one is in the ledger, or --limit 0): there is no workflow to write")]
    Empty,
    #[error("the plan has {jobs} jobs and a GitHub Actions matrix holds at most {MAX_MATRIX_JOBS}: plan with --limit {MAX_MATRIX_JOBS} (and --ledger DIR, so the next plan goes on where this one stops)")]
    TooManyJobs { jobs: usize },
    #[error("--tool-git {url:?}: {reason}")]
    ToolGit { url: String, reason: &'static str },
    #[error("--tool-rev {rev:?} is not a commit: 40 hex digits (a branch or tag can move; pin the commit)")]
    ToolRev { rev: String },
    #[error("--tool-version {named}: the plan's jobs are for rebuild-compare {planned} (a job's id covers the version that runs it); name {planned}, or plan with rebuild-compare {named}")]
    ToolVersion { named: String, planned: String },
    /// A value GitHub would evaluate (`${{`) or that no YAML line can hold.
    #[error("job {id}: {field} {value:?} holds `${{{{` or a control character, which a workflow cannot carry safely; rename it")]
    Unsafe {
        id: String,
        field: &'static str,
        value: String,
    },
}

/// One `include` entry: the job's fields, with `recipe` empty for an inferred one.
#[derive(Debug, Serialize)]
pub struct MatrixEntry<'a> {
    pub id: &'a str,
    pub image: &'a str,
    pub tag: &'a str,
    pub digest: &'a str,
    pub version: &'a str,
    pub platform: &'a str,
    /// `--recipe`'s value, or empty: infer one.
    pub recipe: &'a str,
    /// The arguments after `rebuild-compare` (data: pass through `env:`, never into a script).
    pub args: &'a [String],
    /// The whole job as JSON: what `rebuild-compare run --job` takes, so the
    /// workflow's jobs write ledger entries as `run` does.
    pub job: String,
}

/// `strategy.matrix`: `{"include": [entry, …]}`, for `matrix: ${{ fromJSON(…) }}`.
#[derive(Debug, Serialize)]
pub struct Matrix<'a> {
    pub include: Vec<MatrixEntry<'a>>,
}

/// What the workflow does besides the plan's jobs.
#[derive(Debug, Clone)]
pub struct WorkflowOptions {
    /// `max-parallel` of the matrix.
    pub parallelism: u32,
    /// Jobs also push their attestation to the image's registry (`run --push-attestation`).
    pub push_attestation: bool,
    /// Where the workflow installs rebuild-compare from.
    pub install: ToolInstall,
}

/// Where the workflow installs rebuild-compare from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolInstall {
    /// Its git repository at one commit (`--tool-git URL --tool-rev COMMIT`):
    /// `cargo install --locked --git URL --rev COMMIT rebuild-compare`.
    Git { url: String, rev: String },
    /// The published crate (`--tool-version VERSION`):
    /// `cargo install --locked rebuild-compare@VERSION`.
    Published { version: String },
}

impl ToolInstall {
    /// The repository at `url` (https, without credentials, query or
    /// fragment) at commit `rev` (40 hex digits, kept lowercase).
    pub fn git(url: &str, rev: &str) -> Result<Self, GithubError> {
        let refuse = |reason| GithubError::ToolGit {
            url: url.to_string(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|_| refuse("not a URL"))?;
        if parsed.scheme() != "https" {
            return Err(refuse("the workflow fetches the tool over https only"));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(refuse("it names no host"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse(
                "it holds credentials, which a workflow file must not",
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(refuse("a repository URL has no query or fragment"));
        }
        if rev.len() != 40 || !rev.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(GithubError::ToolRev {
                rev: rev.to_string(),
            });
        }
        Ok(Self::Git {
            url: parsed.to_string(),
            rev: rev.to_ascii_lowercase(),
        })
    }
}

/// The matrix of `plan`'s jobs.
pub fn matrix(plan: &Plan) -> Result<Matrix<'_>, GithubError> {
    if plan.jobs.len() > MAX_MATRIX_JOBS {
        return Err(GithubError::TooManyJobs {
            jobs: plan.jobs.len(),
        });
    }
    let include = plan
        .jobs
        .iter()
        .map(|job| {
            check(job)?;
            Ok(MatrixEntry {
                id: &job.id,
                image: &job.image,
                tag: &job.tag,
                digest: &job.digest,
                version: &job.version,
                platform: &job.platform,
                recipe: job.recipe_argument().unwrap_or_default(),
                args: &job.args,
                job: serde_json::to_string(job).unwrap_or_default(),
            })
        })
        .collect::<Result<_, GithubError>>()?;
    Ok(Matrix { include })
}

/// Refuses any value a workflow file would evaluate or could not hold on one line.
fn check(job: &Job) -> Result<(), GithubError> {
    let fields = [
        ("image", &job.image),
        ("tag", &job.tag),
        ("digest", &job.digest),
        ("version", &job.version),
        ("platform", &job.platform),
    ];
    let args = job.args.iter().map(|a| ("argument", a));
    let recipe = job.recipe.iter().map(|r| ("recipe", r));
    for (field, value) in fields.into_iter().chain(args).chain(recipe) {
        if value.contains("${{") || value.chars().any(char::is_control) {
            return Err(GithubError::Unsafe {
                id: job.id.clone(),
                field,
                value: value.clone(),
            });
        }
    }
    Ok(())
}

/// The workflow template; `@@…@@` are filled in by [`workflow`].
const WORKFLOW: &str = r#"# Generated by `rebuild-compare plan --emit github-workflow` (rebuild-compare @@VERSION@@)
# from a plan of @@CREATED@@: @@COUNT@@ jobs, embedded below. Regenerate it to plan new tags;
# with `plan --ledger DIR`, jobs whose ledger entry exists are left out.
name: rebuild-compare

on:
  workflow_dispatch:

permissions:
  contents: read

jobs:
  install:
    name: Install rebuild-compare @@VERSION@@
    runs-on: ubuntu-24.04
    steps:
      - name: Install build dependencies
        run: |
          sudo apt-get update
          sudo apt-get install -y --no-install-recommends gcc nasm make autoconf automake libtool
      - name: Build rebuild-compare @@VERSION@@ (the version that made the plan)
        env:
@@INSTALL@@
      - name: Check that it is the version that made the plan
        env:
          PLAN_VERSION: "@@VERSION@@"
        run: |
          installed=$("$RUNNER_TEMP/rebuild-compare/bin/rebuild-compare" --version)
          if [ "$installed" != "rebuild-compare $PLAN_VERSION" ]; then
            echo "::error::installed $installed, but the plan's jobs are for rebuild-compare $PLAN_VERSION"
            exit 1
          fi
      - uses: actions/upload-artifact@v4
        with:
          name: rebuild-compare
          path: ${{ runner.temp }}/rebuild-compare/bin/rebuild-compare
          retention-days: 1

  verify:
    name: ${{ matrix.image }} ${{ matrix.version }} ${{ matrix.platform }}
    needs: install
    runs-on: ubuntu-24.04
    timeout-minutes: 180
@@CONCURRENCY@@    strategy:
      fail-fast: false
      max-parallel: @@PARALLELISM@@
      matrix:
        include:
@@MATRIX@@
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - uses: actions/download-artifact@v4
        with:
          name: rebuild-compare
          path: ${{ runner.temp }}/bin
      - name: Install the build sandbox (bubblewrap)
        run: |
          sudo apt-get update
          sudo apt-get install -y --no-install-recommends bubblewrap slirp4netns iproute2
          # Ubuntu 24.04 lets AppArmor refuse unprivileged user namespaces, which bwrap needs.
          sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0
      - name: Verify
        env:
          JOB_ID: ${{ matrix.id }}
          JOB: ${{ matrix.job }}
          PUSH_ATTESTATION: "@@PUSH@@"
          REBUILD_COMPARE_SIGN_KEY: ${{ secrets.REBUILD_COMPARE_SIGN_KEY }}
          REBUILD_COMPARE: ${{ runner.temp }}/bin/rebuild-compare
        run: |
          chmod +x "$REBUILD_COMPARE"
          if [ -z "$REBUILD_COMPARE_SIGN_KEY" ]; then
            unset REBUILD_COMPARE_SIGN_KEY
          fi
          args=(run --job "$JOB" --ledger ledger)
          if [ "$PUSH_ATTESTATION" = true ]; then
            args+=(--push-attestation)
          fi
          "$REBUILD_COMPARE" "${args[@]}"
          # `run` records the verdict in the entry; the job fails as `verify` would.
          status=$(jq -r .exit_code "ledger/jobs/$JOB_ID/entry.json")
          echo "exit code $status (0 reproducible, 1 mismatch, 2 error)"
          exit "$status"
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: rebuild-compare-${{ matrix.id }}
          path: ledger/jobs/${{ matrix.id }}/
          if-no-files-found: ignore
"#;

/// With `--push-attestation`: the jobs of one image (one `.att` tag) in
/// one concurrency group, run one at a time. `queue: max` keeps every
/// waiting job (up to 100): by default a group holds one pending job and
/// cancels it when another arrives.
const ATTACH_CONCURRENCY: &str = r#"    concurrency:
      group: rebuild-compare-attach-${{ matrix.image }}@${{ matrix.digest }}
      cancel-in-progress: false
      queue: max
"#;

/// The install step's `env:` values and `run:` line for `install`.
fn install_step(install: &ToolInstall) -> String {
    let quoted = |value: &str| serde_json::to_string(value).unwrap_or_default();
    let root = r#"cargo install --locked --root "$RUNNER_TEMP/rebuild-compare""#;
    match install {
        ToolInstall::Git { url, rev } => format!(
            "          TOOL_GIT: {}\n          TOOL_REV: {}\n        run: {root} --git \"$TOOL_GIT\" --rev \"$TOOL_REV\" rebuild-compare\n",
            quoted(url),
            quoted(rev)
        ),
        ToolInstall::Published { version } => format!(
            "          TOOL_VERSION: {}\n        run: {root} \"rebuild-compare@$TOOL_VERSION\"\n",
            quoted(version)
        ),
    }
}

/// A complete `.github/workflows/rebuild-compare.yml` running `plan`'s jobs.
pub fn workflow(plan: &Plan, options: &WorkflowOptions) -> Result<String, GithubError> {
    if let ToolInstall::Published { version } = &options.install {
        if *version != plan.tool_version {
            return Err(GithubError::ToolVersion {
                named: version.clone(),
                planned: plan.tool_version.clone(),
            });
        }
    }
    let matrix = matrix(plan)?;
    if matrix.include.is_empty() {
        return Err(GithubError::Empty);
    }
    let mut entries = String::new();
    for entry in &matrix.include {
        // JSON is YAML: one flow mapping per job, every string double-quoted.
        let json = serde_json::to_string(entry).unwrap_or_default();
        entries.push_str(&format!("          - {json}\n"));
    }
    Ok(WORKFLOW
        .replace("@@VERSION@@", &plan.tool_version)
        .replace("@@CREATED@@", &plan.created)
        .replace("@@COUNT@@", &plan.jobs.len().to_string())
        .replace("@@PARALLELISM@@", &options.parallelism.max(1).to_string())
        .replace(
            "@@PUSH@@",
            if options.push_attestation {
                "true"
            } else {
                "false"
            },
        )
        .replace("@@INSTALL@@\n", &install_step(&options.install))
        .replace(
            "@@CONCURRENCY@@",
            if options.push_attestation {
                ATTACH_CONCURRENCY
            } else {
                ""
            },
        )
        .replace("@@MATRIX@@\n", &entries))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::scale::job::JobRecipe;

    fn plan_of(count: usize, recipe: Option<&str>) -> Plan {
        let recipe = recipe.map(|path| JobRecipe {
            label: path.to_string(),
            argument: path.to_string(),
            sha256: "00".repeat(32),
        });
        let jobs = (0..count)
            .map(|i| {
                Job::new(
                    "127.0.0.1:5000/tools/app",
                    &format!("v1.0.{i}"),
                    &format!("sha256:{}", "a".repeat(64)),
                    "linux/amd64",
                    recipe.as_ref(),
                )
                .unwrap()
            })
            .collect();
        Plan::new(jobs, SystemTime::UNIX_EPOCH)
    }

    #[test]
    fn a_matrix_holds_at_most_256_jobs() {
        assert_eq!(matrix(&plan_of(256, None)).unwrap().include.len(), 256);
        assert!(matches!(
            matrix(&plan_of(257, None)),
            Err(GithubError::TooManyJobs { jobs: 257 })
        ));
    }

    fn options(push_attestation: bool) -> WorkflowOptions {
        WorkflowOptions {
            parallelism: 1,
            push_attestation,
            install: ToolInstall::git("https://git.example/rebuild-compare", &"a".repeat(40))
                .unwrap(),
        }
    }

    #[test]
    fn an_expression_in_a_recipe_path_is_refused() {
        let plan = plan_of(1, Some("recipes/${{ secrets.TOKEN }}.toml"));
        assert!(matches!(
            workflow(&plan, &options(false)),
            Err(GithubError::Unsafe {
                field: "argument",
                ..
            })
        ));
        assert!(matches!(
            workflow(&plan_of(0, None), &options(false)),
            Err(GithubError::Empty)
        ));
    }

    #[test]
    fn the_tool_comes_from_an_https_repository_at_a_commit() {
        let rev = "0123456789ABCDEF0123456789abcdef01234567";
        assert_eq!(
            ToolInstall::git("https://github.com/o/rebuild-compare.git", rev).unwrap(),
            ToolInstall::Git {
                url: "https://github.com/o/rebuild-compare.git".into(),
                rev: rev.to_ascii_lowercase(),
            }
        );
        for url in [
            "http://github.com/o/r",
            "git@github.com:o/r.git",
            "file:///srv/r",
            "https://user:token@github.com/o/r",
            "https://github.com/o/r?ref=main",
            "https://github.com/o/r#main",
            "github.com/o/r",
        ] {
            assert!(
                matches!(ToolInstall::git(url, rev), Err(GithubError::ToolGit { .. })),
                "{url} accepted"
            );
        }
        for rev in [
            "main",
            "v0.1.0",
            &"a".repeat(39),
            &"a".repeat(41),
            &"g".repeat(40),
        ] {
            assert!(
                matches!(
                    ToolInstall::git("https://github.com/o/r", rev),
                    Err(GithubError::ToolRev { .. })
                ),
                "{rev} accepted"
            );
        }
        // An expression in the URL's path reaches the workflow percent-encoded.
        let install = ToolInstall::git("https://git.example/${{ secrets.X }}", rev).unwrap();
        assert!(!install_step(&install).contains("${{"));
    }

    #[test]
    fn a_published_version_must_be_the_plans() {
        let plan = plan_of(1, None);
        let published = |version: &str| WorkflowOptions {
            install: ToolInstall::Published {
                version: version.into(),
            },
            ..options(false)
        };
        let text = workflow(&plan, &published(&plan.tool_version)).unwrap();
        assert!(text.contains(&format!(
            "TOOL_VERSION: \"{}\"\n        run: cargo install --locked --root \"$RUNNER_TEMP/rebuild-compare\" \"rebuild-compare@$TOOL_VERSION\"\n",
            plan.tool_version
        )), "{text}");
        assert!(matches!(
            workflow(&plan, &published("0.0.1")),
            Err(GithubError::ToolVersion { .. })
        ));
    }

    #[test]
    fn only_attaching_jobs_wait_for_the_other_platforms_of_their_image() {
        let plan = plan_of(2, None);
        assert!(workflow(&plan, &options(true))
            .unwrap()
            .contains(ATTACH_CONCURRENCY));
        assert!(!workflow(&plan, &options(false))
            .unwrap()
            .contains("concurrency:"));
    }
}
