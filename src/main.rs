//! The `rebuild-compare` command line: parses arguments, calls the library,
//! renders, and maps the outcome to an exit code (0 match, 1 differs, 2 error).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use rebuild_compare::attest;
use rebuild_compare::attest::keys::{self, SigningKey};
use rebuild_compare::diff::{diff_files, DiffOptions};
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::digest::Digest;
use rebuild_compare::image::platform::Platform;
use rebuild_compare::image::reference::ImageLocation;
use rebuild_compare::image::{AccessOptions, Image};
use rebuild_compare::progress::terminal::TerminalProgress;
use rebuild_compare::progress::SharedProgress;
use rebuild_compare::rebuild::build::{self, BuildOptions};
use rebuild_compare::rebuild::builder;
use rebuild_compare::rebuild::recipe::{catalogue, pinned, Catalogue, Recipe, RecipeError};
use rebuild_compare::report;
use rebuild_compare::rootfs::extract::{self, BinaryRequest, DigestReport};
use rebuild_compare::scale::emit::{github, k8s, shell};
use rebuild_compare::scale::plan::{self as scale_plan, PlanOptions};
use rebuild_compare::scale::watchlist::WatchList;
use rebuild_compare::scale::{ledger, site};
use rebuild_compare::verify::{self, InferRequest, Verdict, VerifyRequest};

/// Where `--help` lists the options that go before or after any command.
const GLOBAL: &str = "Global options (before or after the command)";

/// Prove, or disprove, that the binary inside a published container image is
/// the one its public source builds.
///
/// `rebuild-compare IMAGE VERSION` (or `rebuild-compare verify IMAGE VERSION`)
/// rebuilds VERSION from source for every platform of IMAGE and compares.
/// Before a COMMAND only the global options are accepted; a command's own
/// options go after it.
#[derive(Parser)]
#[command(name = "rebuild-compare", version, about, long_about = None)]
#[command(subcommand_negates_reqs = true)]
#[command(
    override_usage = "rebuild-compare [OPTIONS] <IMAGE> <VERSION>\n       \
                            rebuild-compare [GLOBAL OPTIONS] <COMMAND> [ARGS]"
)]
struct Cli {
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
    #[command(subcommand)]
    command: Option<Command>,
    /// `rebuild-compare IMAGE VERSION [OPTIONS]`, without the `verify` word.
    #[command(flatten)]
    verify: VerifyArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Rebuild IMAGE's binary at VERSION for every platform and compare (the default command).
    Verify(VerifyCommand),
    /// Show what an image runs, per platform: digests, Entrypoint, Cmd, Env, layers.
    Inspect(InspectArgs),
    /// Find the binary an image runs (Entrypoint/Cmd through PATH) and print its sha256.
    Digest(DigestArgs),
    /// Write the binary an image runs to a file.
    Extract(ExtractArgs),
    /// Rebuild an image's binary from its public source, per platform, in a sandbox.
    Build(BuildArgs),
    /// Compare two binaries section by section and explain the differences
    /// (exit 0 identical, 1 different, 2 error).
    Diff(DiffArgs),
    /// List the recipes, or print one to copy and edit.
    Recipe(RecipeArgs),
    /// Make a key pair that signs attestations (`verify --sign-key`).
    Key(KeyArgs),
    /// Check signed attestations: those attached to an image, or an envelope file.
    Attestation(AttestationArgs),
    /// Plan a watch list's jobs: every release it selects, per image digest
    /// and platform, that the ledger does not hold yet; as JSON or for a CI engine.
    Plan(PlanArgs),
    /// Run a plan's jobs on this machine, N at a time, into a ledger (resumable).
    Run(RunArgs),
    /// Publish a ledger's verdicts as a static site (index, per-image history, ledger.json, badges).
    Ledger(LedgerArgs),
}

impl Command {
    /// The global options given after the command; no access options for a
    /// command that reads no image.
    fn globals(&self) -> (&StderrArgs, Option<&AccessArgs>) {
        match self {
            Self::Verify(c) => (&c.stderr, Some(&c.access)),
            Self::Inspect(c) => (&c.stderr, Some(&c.access)),
            Self::Digest(c) => (&c.stderr, Some(&c.access)),
            Self::Extract(c) => (&c.stderr, Some(&c.access)),
            Self::Build(c) => (&c.stderr, Some(&c.access)),
            Self::Diff(c) => (&c.stderr, None),
            Self::Plan(c) => (&c.stderr, Some(&c.access)),
            Self::Run(c) => (&c.stderr, Some(&c.access)),
            Self::Ledger(c) => (&c.stderr, Some(&c.access)),
            Self::Recipe(c) => match &c.action {
                RecipeAction::Infer(infer) => (&infer.stderr, Some(&infer.access)),
                _ => (&c.stderr, None),
            },
            Self::Key(c) => (&c.stderr, None),
            Self::Attestation(c) => match &c.action {
                AttestationAction::Verify(verify) => (&verify.stderr, Some(&verify.access)),
            },
        }
    }
}

/// What stderr shows: global options, given before or after any command.
#[derive(Args, Clone, Default)]
struct StderrArgs {
    /// More detail on stderr (-v: info, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    verbose: u8,
    /// No progress output.
    #[arg(short, long, help_heading = GLOBAL)]
    quiet: bool,
}

impl StderrArgs {
    /// Both positions together: `-v` counts wherever it is written.
    fn merged(&self, after: &StderrArgs) -> StderrArgs {
        StderrArgs {
            verbose: self.verbose.saturating_add(after.verbose),
            quiet: self.quiet || after.quiet,
        }
    }
}

/// Output format shared by every command.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// How to reach images: global options, given before or after any command
/// that reads an image (`diff` has none).
#[derive(Args, Clone, Default)]
struct AccessArgs {
    /// Credentials file (Docker config.json format) instead of REGISTRY_AUTH_FILE or ~/.docker/config.json.
    #[arg(long, value_name = "FILE", help_heading = GLOBAL)]
    authfile: Option<PathBuf>,
    /// Reach this registry over plain HTTP (loopback registries always are). Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]", help_heading = GLOBAL)]
    insecure_registries: Vec<String>,
    /// Cache directory [default: $REBUILD_COMPARE_CACHE, else $XDG_CACHE_HOME/rebuild-compare].
    #[arg(long, value_name = "DIR", help_heading = GLOBAL)]
    cache_dir: Option<PathBuf>,
}

impl AccessArgs {
    /// Both positions together (`before` the command, `after` it): the
    /// registries of both; a single-valued option given in both is an error.
    fn merged(&self, after: &AccessArgs, command: &str) -> Result<AccessArgs, String> {
        let once = |name: &str, a: &Option<PathBuf>, b: &Option<PathBuf>| match (a, b) {
            (Some(_), Some(_)) => Err(format!(
                "--{name} was given both before and after `{command}`; give it once"
            )),
            _ => Ok(a.clone().or_else(|| b.clone())),
        };
        Ok(AccessArgs {
            authfile: once("authfile", &self.authfile, &after.authfile)?,
            insecure_registries: [&self.insecure_registries[..], &after.insecure_registries]
                .concat(),
            cache_dir: once("cache-dir", &self.cache_dir, &after.cache_dir)?,
        })
    }

    fn options(&self, quiet: bool) -> anyhow::Result<AccessOptions> {
        // Read here rather than by clap's `env`, which would show the
        // variable's value in usage lines as if `--cache-dir` were required.
        let cache_dir = self.cache_dir.clone().or_else(|| {
            std::env::var_os("REBUILD_COMPARE_CACHE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        Ok(AccessOptions {
            authfile: self.authfile.clone(),
            insecure_registries: self.insecure_registries.clone(),
            progress: progress(quiet),
            ..AccessOptions::new(Cache::new(cache_dir.as_deref())?)
        })
    }
}

/// How rebuilds run: shared by `build` and `verify`.
#[derive(Args)]
struct RebuildArgs {
    /// Build from this git URL or local repository instead of the recipe's `source.git`.
    #[arg(long, value_name = "URL|PATH")]
    source: Option<String>,
    /// Use this recipe file (or `builtin:NAME`, a shipped one) instead of looking one up by image.
    #[arg(long, value_name = "FILE", conflicts_with = "recipes")]
    recipe: Option<PathBuf>,
    /// Refuse the --recipe unless the sha256 of its bytes (a shipped one's text) is this (64 hex digits; `run` passes the plan's).
    #[arg(long, value_name = "HEX", requires = "recipe", value_parser = parse_recipe_sha256)]
    recipe_sha256: Option<String>,
    /// Look recipes up in this directory's `*.toml` files too (they override shipped ones).
    #[arg(long, value_name = "DIR")]
    recipes: Option<PathBuf>,
    /// Where artifacts and logs go [default: ./rebuild-out/VERSION].
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Kill a platform's build after this long (`30m`, `2h`).
    #[arg(long, value_name = "DURATION", default_value = "2h", value_parser = humantime::parse_duration)]
    build_timeout: Duration,
    /// Build without bubblewrap isolation (reported as `"sandboxed": false`).
    #[arg(long)]
    no_sandbox: bool,
    /// Cap the build sandbox's in-memory /tmp at this size (`4G`, `512M`, bytes).
    #[arg(long, value_name = "SIZE", default_value = "4G", value_parser = rebuild_compare::rebuild::sandbox::parse_size)]
    tmp_size: u64,
}

impl RebuildArgs {
    /// The recipe: `--recipe` (a file or `builtin:NAME`), else the one the
    /// catalogue finds for `image`, with a note when it was found by
    /// repository path on another registry.
    fn recipe(&self, image: Option<&str>) -> anyhow::Result<(Recipe, Option<String>)> {
        if let Some(path) = &self.recipe {
            let recipe = match (
                &self.recipe_sha256,
                path.to_str().and_then(|p| p.strip_prefix("builtin:")),
            ) {
                (Some(expected), _) => pinned::load_pinned(path, expected)?,
                (None, Some(name)) => catalogue::builtin(name)?.recipe,
                (None, None) => Recipe::load(path)?,
            };
            return Ok((recipe, None));
        }
        let Some(image) = image else {
            anyhow::bail!("give an IMAGE or --recipe FILE");
        };
        let location = ImageLocation::parse(image)?;
        let Some(reference) = location.registry_reference() else {
            anyhow::bail!(
                "{location} names no repository to look a recipe up by; pass --recipe FILE"
            );
        };
        let catalogue = load_catalogue(self.recipes.as_deref())?;
        let found = catalogue.lookup(&reference.name())?;
        Ok((found.entry.recipe.clone(), found.note))
    }

    /// The recipe for `verify`: as [`RebuildArgs::recipe`], or `None` when
    /// none covers the image (or it is a layout or archive and no
    /// `--recipe` is given), so that one is inferred; with a note naming
    /// any close matches.
    fn recipe_or_infer(&self, image: &str) -> anyhow::Result<(Option<Recipe>, Option<String>)> {
        if self.recipe.is_some() {
            let (recipe, note) = self.recipe(Some(image))?;
            return Ok((Some(recipe), note));
        }
        let location = ImageLocation::parse(image)?;
        let Some(reference) = location.registry_reference() else {
            return Ok((None, None));
        };
        let catalogue = load_catalogue(self.recipes.as_deref())?;
        match catalogue.lookup(&reference.name()) {
            Ok(found) => Ok((Some(found.entry.recipe.clone()), found.note)),
            Err(RecipeError::UnknownRepository { close, .. }) if !close.is_empty() => Ok((
                None,
                Some(format!(
                    "no recipe covers {} (close matches: {}; pass one with --recipe builtin:NAME if you meant it)",
                    reference.name(),
                    close.join(", ")
                )),
            )),
            Err(RecipeError::UnknownRepository { .. }) => Ok((None, None)),
            Err(e) => Err(e.into()),
        }
    }

    fn options(&self, version: &str, access: &AccessOptions) -> BuildOptions {
        BuildOptions {
            out_dir: self
                .out_dir
                .clone()
                .unwrap_or_else(|| build::default_out_dir(version)),
            cache_dir: access.cache.root().to_path_buf(),
            timeout: self.build_timeout,
            sandboxed: !self.no_sandbox,
            progress: access.progress.clone(),
            tmp_size: self.tmp_size,
        }
    }
}

/// `--recipe-sha256`: 64 hex digits, read in either case.
fn parse_recipe_sha256(text: &str) -> Result<String, String> {
    let digest = text.to_ascii_lowercase();
    if pinned::is_sha256_hex(&digest) {
        Ok(digest)
    } else {
        Err("a sha256 is 64 hex digits".to_string())
    }
}

/// `verify`: its own options, and the global ones given after it.
#[derive(Args)]
struct VerifyCommand {
    #[command(flatten)]
    args: VerifyArgs,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct VerifyArgs {
    /// The published image: REF (its tag defaults to the recipe's for VERSION), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    #[arg(required = true)]
    image: Option<String>,
    /// The release to rebuild, as tagged (`v1.20.0`).
    #[arg(required = true, value_name = "VERSION")]
    release: Option<String>,
    /// Only this platform (os/arch[/variant]); repeatable. Default: every platform of the image.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    /// Do not fetch the recipe's [published] checksums (a check that cannot
    /// run is otherwise an error); the report and attestation say it was skipped.
    #[arg(long)]
    skip_published: bool,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Also write an in-toto attestation (SLSA verification summary) here;
    /// a signed DSSE envelope with --sign-key.
    #[arg(long, value_name = "FILE")]
    attest: Option<PathBuf>,
    /// Sign the attestation with this private key (PKCS#8 PEM, ECDSA P-256 or
    /// Ed25519) [default: the PEM in $REBUILD_COMPARE_SIGN_KEY, if set].
    #[arg(long, value_name = "FILE")]
    sign_key: Option<PathBuf>,
    /// The verifier's URI recorded in the attestation.
    #[arg(long, value_name = "URI", default_value = attest::DEFAULT_VERIFIER_ID)]
    verifier_id: String,
    /// Attach the signed attestation to the image in its registry (cosign's
    /// `sha256-<digest>.att` tag, and an OCI referrer); needs a signing key
    /// and push access.
    #[arg(long)]
    push_attestation: bool,
    /// When no recipe covers the image and one is inferred: at most this many candidate builds per platform.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    max_candidates: u32,
    /// On a platform's mismatch: at most this many rebuilds with the inputs its published binary records (build directory, -ldflags, build settings, toolchain, build time) instead of the recipe's.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=16))]
    max_adjustments: u32,
    /// Compare with the recipe's rebuild only: no rebuilds with inputs taken from the published binary.
    #[arg(long, conflicts_with = "max_adjustments")]
    no_adjust: bool,
    #[command(flatten)]
    rebuild: RebuildArgs,
}

#[derive(Args)]
struct InspectArgs {
    /// The image: REF (registry), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    image: String,
    /// Only this platform (os/arch[/variant]); repeatable. Default: every platform.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct DigestArgs {
    /// The image: REF (registry), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    image: String,
    /// Only this platform (os/arch[/variant]); repeatable. Default: every platform.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    /// The binary's absolute path in the image, instead of Entrypoint/Cmd through PATH.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct ExtractArgs {
    /// The image: REF (registry), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    image: String,
    /// The platform to extract from (os/arch[/variant]).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    platform: Platform,
    /// The binary's absolute path in the image, instead of Entrypoint/Cmd through PATH.
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// Where to write the binary (mode 0755).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    force: bool,
    /// Write a file up to this many bytes [default: 20 times its compressed layer, at least 256 MiB].
    #[arg(long, value_name = "BYTES")]
    max_size: Option<u64>,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct BuildArgs {
    /// The version to rebuild, as tagged (`v1.30.0`).
    #[arg(value_name = "VERSION")]
    release: String,
    /// The image whose recipe to use, looked up in the catalogue (`rancher/crictl`).
    #[arg(required_unless_present = "recipe")]
    image: Option<String>,
    /// Build only this platform (repeatable; default: every platform of the recipe).
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    rebuild: RebuildArgs,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct DiffArgs {
    /// The first file (e.g. the binary from the image).
    a: PathBuf,
    /// The second file (e.g. the rebuilt binary).
    b: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// Unchanged hex-dump lines shown around each change.
    #[arg(long, default_value_t = 2)]
    context: usize,
    /// Hex-dump hunks shown per differing section.
    #[arg(long, default_value_t = 8)]
    max_hunks: usize,
    #[command(flatten)]
    stderr: StderrArgs,
}

#[derive(Args)]
struct LedgerArgs {
    /// The ledger directory (`LEDGER/jobs/<id>/entry.json`, as `run` writes it).
    dir: PathBuf,
    /// Write the site here: a new or empty directory, or a site written before (replaced whole).
    #[arg(long, value_name = "OUT", required = true)]
    site: PathBuf,
    /// Also publish the signed attestations attached to this watch list's releases in their registries (needs --key).
    #[arg(long, value_name = "WATCHLIST", requires = "keys")]
    from_registry: Option<PathBuf>,
    /// With --from-registry: a public key (SPKI PEM) whose attestations count; repeatable.
    #[arg(long = "key", value_name = "PUB", requires = "from_registry")]
    keys: Vec<PathBuf>,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct RunArgs {
    /// The plan (`rebuild-compare plan WATCHLIST --emit json`).
    #[arg(required_unless_present = "job")]
    plan: Option<PathBuf>,
    /// Instead of a plan: one job, as JSON (a GitHub matrix entry's `job`).
    #[arg(long, value_name = "JSON", conflicts_with_all = ["plan", "index"])]
    job: Option<String>,
    /// The ledger directory each job is written into (`LEDGER/jobs/<id>/`).
    #[arg(long, value_name = "DIR", required = true)]
    ledger: PathBuf,
    /// Jobs run at a time.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    jobs: u32,
    /// Only job N of the plan (from 0; a Kubernetes Indexed Job's JOB_COMPLETION_INDEX).
    #[arg(long, value_name = "N")]
    index: Option<usize>,
    /// Sign each job's attestation with this private key [default: the PEM in $REBUILD_COMPARE_SIGN_KEY, if set].
    #[arg(long, value_name = "FILE")]
    sign_key: Option<PathBuf>,
    /// Each job attaches its signed attestation to its image in the registry (needs a signing key).
    #[arg(long)]
    push_attestation: bool,
    /// The verifier's URI each job's attestation records.
    #[arg(long, value_name = "URI", default_value = attest::DEFAULT_VERIFIER_ID)]
    verifier_id: String,
    /// Run again the jobs whose ledger entry is an error (a job with a verdict is never redone).
    #[arg(long)]
    retry_errors: bool,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct RecipeArgs {
    #[command(subcommand)]
    action: RecipeAction,
    #[command(flatten)]
    stderr: StderrArgs,
}

#[derive(Subcommand)]
enum RecipeAction {
    /// One line per recipe: name, repository it covers, source git URL.
    List {
        /// Include this directory's `*.toml` recipes (they override shipped ones).
        #[arg(long, value_name = "DIR")]
        recipes: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Write a recipe for IMAGE's binary, inferred from what the image and the binary record (Go build info; Rust cargo-auditable data) and the source at the tag.
    Infer(InferArgs),
    /// Print a recipe's TOML exactly as shipped.
    Show {
        /// A shipped recipe's name (`rancher-crictl`) or a repository it covers (`rancher/crictl`).
        name: String,
        /// Include this directory's `*.toml` recipes (they override shipped ones).
        #[arg(long, value_name = "DIR")]
        recipes: Option<PathBuf>,
    },
}

#[derive(Args)]
struct InferArgs {
    /// The published image: REF (read at tag VERSION unless it names one), oci:DIR[:TAG] or docker-archive:FILE[:REF].
    image: String,
    /// The release, as tagged (`v1.20.0`): the git tag the recipe builds.
    #[arg(value_name = "VERSION")]
    release: String,
    /// Write the recipe here instead of to stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// The git URL or local repository of the source, when the image's annotations and the binary's module path do not say (or to read another copy).
    #[arg(long, value_name = "URL|PATH")]
    source: Option<String>,
    /// Only these platforms (os/arch[/variant]); repeatable. Default: every platform of the image.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

#[derive(Args)]
struct KeyArgs {
    #[command(subcommand)]
    action: KeyAction,
    #[command(flatten)]
    stderr: StderrArgs,
}

#[derive(Subcommand)]
enum KeyAction {
    /// Write DIR/rebuild-compare.key (private, mode 0600) and DIR/rebuild-compare.pub; never overwrites.
    Generate {
        /// The directory to write the key pair in (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(long, value_enum, default_value = "p256")]
        algorithm: KeyAlgorithm,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum KeyAlgorithm {
    /// ECDSA on P-256 with SHA-256 (cosign's default).
    #[value(name = "p256")]
    P256,
    Ed25519,
}

#[derive(Args)]
struct AttestationArgs {
    #[command(subcommand)]
    action: AttestationAction,
}

#[derive(Subcommand)]
enum AttestationAction {
    /// Check the attestations attached to IMAGE (or the envelope in FILE)
    /// against the given public keys, per platform: the newest valid one
    /// that covers a platform decides it. Exit 0 when every platform
    /// passed, 1 when any failed, 2 otherwise (one unattested or invalid).
    Verify(AttestationVerifyArgs),
}

#[derive(Args)]
struct AttestationVerifyArgs {
    /// An image in a registry (REF; its attached attestations are read), or a DSSE envelope file (as `verify --sign-key K --attest FILE` writes).
    #[arg(value_name = "IMAGE|FILE")]
    target: String,
    /// A public key (SPKI PEM, as `key generate` writes) whose signatures count; repeatable.
    #[arg(long = "key", value_name = "PUB", required = true)]
    keys: Vec<PathBuf>,
    /// Only attestations by this verifier (their `--verifier-id`) count.
    #[arg(long, value_name = "URI")]
    verifier_id: Option<String>,
    /// Only this platform of the image (os/arch[/variant]), which it must ship; repeatable. Default: every platform of the image.
    #[arg(long = "platform", value_name = "OS/ARCH[/VARIANT]")]
    platforms: Vec<Platform>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

/// What `plan` writes.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Emit {
    /// The plan (`rebuild-compare-plan/1`), the input of `run`.
    Json,
    /// `strategy.matrix` JSON for GitHub Actions.
    GithubMatrix,
    /// A whole GitHub Actions workflow running the plan.
    GithubWorkflow,
    /// A ConfigMap and an Indexed Job for Kubernetes.
    K8sJob,
    /// One `rebuild-compare verify …` command line per job.
    Shell,
}

#[derive(Args)]
struct PlanArgs {
    /// The watch list (TOML: `[[image]]` with reference, versions, recipe, platforms).
    #[arg(value_name = "WATCHLIST")]
    watchlist: PathBuf,
    /// Leave out the jobs this ledger holds (DIR/jobs/ID/entry.json exists).
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "json")]
    emit: Emit,
    /// For k8s-job (required there): the container image the jobs run in (with rebuild-compare and bwrap).
    #[arg(long, value_name = "REF")]
    job_image: Option<String>,
    /// At most N jobs: the first in watch-list order, then version ascending, then platform.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// For github-workflow and k8s-job: jobs run at a time.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    parallelism: u32,
    /// For k8s-job: the PersistentVolumeClaim the ledger is written to.
    #[arg(long, value_name = "NAME", default_value = k8s::DEFAULT_LEDGER_CLAIM)]
    ledger_claim: String,
    /// For github-workflow: each job also pushes its attestation to the image's registry.
    #[arg(long)]
    push_attestation: bool,
    /// For github-workflow: install rebuild-compare from this https git repository.
    #[arg(
        long,
        value_name = "URL",
        requires = "tool_rev",
        conflicts_with = "tool_version"
    )]
    tool_git: Option<String>,
    /// For github-workflow: the commit of --tool-git to install (40 hex digits).
    #[arg(long, value_name = "COMMIT", requires = "tool_git")]
    tool_rev: Option<String>,
    /// For github-workflow: install this published crate version instead (the plan's version).
    #[arg(long, value_name = "VERSION")]
    tool_version: Option<String>,
    /// Write to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    stderr: StderrArgs,
    #[command(flatten)]
    access: AccessArgs,
}

/// The environment variable whose value is a signing key's PEM.
const SIGN_KEY_ENV: &str = "REBUILD_COMPARE_SIGN_KEY";

fn main() -> ExitCode {
    // Taken out of the environment before any thread or child process
    // starts, so that no build, credential helper or tool ever sees it.
    let sign_key_env = std::env::var_os(SIGN_KEY_ENV).filter(|v| !v.is_empty());
    std::env::remove_var(SIGN_KEY_ENV);
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let (stderr, access) = globals(&cli, &matches).unwrap_or_else(|message| {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, message)
            .exit()
    });
    init_logging(stderr.verbose);
    let quiet = stderr.quiet;
    let result = match &cli.command {
        Some(Command::Verify(c)) => verify(&c.args, sign_key_env, &access, quiet),
        Some(Command::Inspect(args)) => inspect(args, &access, quiet),
        Some(Command::Digest(args)) => digest(args, &access, quiet),
        Some(Command::Extract(args)) => extract(args, &access, quiet),
        Some(Command::Build(args)) => build(args, &access, quiet),
        Some(Command::Diff(args)) => diff(args),
        Some(Command::Recipe(args)) => recipe(args, &access, quiet),
        Some(Command::Key(args)) => key(args),
        Some(Command::Attestation(args)) => attestation(args, &access, quiet),
        Some(Command::Plan(args)) => plan(args, &access, quiet),
        Some(Command::Run(args)) => run(args, sign_key_env, &access, quiet),
        Some(Command::Ledger(args)) => ledger(args, &access, quiet),
        None => verify(&cli.verify, sign_key_env, &access, quiet),
    };
    exit_code(result)
}

/// The global options from both sides of the command, or why the command
/// line must be refused because an option would otherwise be dropped:
/// one of `verify`'s own options (parsed at the top level for
/// `rebuild-compare IMAGE VERSION`) given before another command, an access
/// option before a command that reads no image, or a single-valued global
/// option given on both sides.
fn globals(cli: &Cli, matches: &ArgMatches) -> Result<(StderrArgs, AccessArgs), String> {
    let (Some(command), Some((name, _))) = (&cli.command, matches.subcommand()) else {
        return Ok((cli.stderr.clone(), cli.access.clone()));
    };
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let accepted = "before a command only the global options --authfile, \
                    --insecure-registry, --cache-dir, -v and -q are accepted";
    let verify_args = VerifyArgs::augment_args(clap::Command::new("verify"));
    if let Some(arg) = verify_args
        .get_arguments()
        .find(|a| given(a.get_id().as_str()))
    {
        if arg.is_positional() {
            let value = matches
                .get_raw(arg.get_id().as_str())
                .and_then(|mut values| values.next())
                .map_or_else(String::new, |v| v.to_string_lossy().into_owned());
            return Err(format!(
                "`{value}` comes before the command `{name}`: the command comes first \
                 (rebuild-compare {name} ...)"
            ));
        }
        let option = arg_name(arg);
        let has_it = Cli::command()
            .find_subcommand(name)
            .is_some_and(|c| c.get_arguments().any(|a| a.get_id() == arg.get_id()));
        return Err(if has_it {
            format!(
                "{option} was given before `{name}`: put it after the command \
                 (rebuild-compare {name} ... {option}); {accepted}"
            )
        } else {
            format!("{option} is not an option of `{name}`; {accepted}")
        });
    }
    let (stderr, access) = command.globals();
    let stderr = cli.stderr.merged(stderr);
    if let Some(access) = access {
        return Ok((stderr, cli.access.merged(access, name)?));
    }
    let access_args = AccessArgs::augment_args(clap::Command::new("access"));
    if let Some(arg) = access_args
        .get_arguments()
        .find(|a| given(a.get_id().as_str()))
    {
        return Err(format!(
            "{} does not apply to `{name}`, which reads no image",
            arg_name(arg)
        ));
    }
    Ok((stderr, AccessArgs::default()))
}

/// `--long` (or `-s`) as the option is written.
fn arg_name(arg: &clap::Arg) -> String {
    match (arg.get_long(), arg.get_short()) {
        (Some(long), _) => format!("--{long}"),
        (None, Some(short)) => format!("-{short}"),
        (None, None) => arg.get_id().to_string(),
    }
}

/// `rebuild-compare IMAGE VERSION`: pins the image, rebuilds every platform
/// the recipe can build, compares, explains mismatches, and reports (text or
/// JSON, optionally an attestation). Matches when every compared platform
/// was reproduced; a mismatch is exit 1; nothing compared or an error, exit 2.
fn verify(
    args: &VerifyArgs,
    sign_key_env: Option<std::ffi::OsString>,
    access: &AccessArgs,
    quiet: bool,
) -> anyhow::Result<bool> {
    let (Some(image), Some(version)) = (&args.image, &args.release) else {
        anyhow::bail!("usage: rebuild-compare IMAGE VERSION (see --help)");
    };
    let sign_key = signing_key(args, sign_key_env)?;
    let (recipe, recipe_note) = args.rebuild.recipe_or_infer(image)?;
    if let (None, Some(note), false) = (&recipe, &recipe_note, quiet) {
        eprintln!("note: {note}");
    }
    let access = access.options(quiet)?;
    let report = match &recipe {
        Some(recipe) => verify::verify(&VerifyRequest {
            image,
            version,
            recipe,
            recipe_note,
            source_override: args.rebuild.source.as_deref(),
            platforms: &args.platforms,
            skip_published: args.skip_published,
            build: args.rebuild.options(version, &access),
            access: &access,
            diff: DiffOptions::default(),
            max_adjustments: if args.no_adjust {
                0
            } else {
                args.max_adjustments as usize
            },
        })?,
        None => {
            let mut report = verify::verify_inferred(&InferRequest {
                image,
                version,
                source_override: args.rebuild.source.as_deref(),
                platforms: &args.platforms,
                build: args.rebuild.options(version, &access),
                access: &access,
                diff: DiffOptions::default(),
                max_candidates: args.max_candidates as usize,
            })?;
            report.notes.splice(0..0, recipe_note);
            report
        }
    };
    let attestations = if args.attest.is_some() || sign_key.is_some() {
        attestations_of(&report, args, sign_key.as_ref())?
    } else {
        Attestations::default()
    };
    if let Some(path) = &args.attest {
        write_attestations(path, &attestations, quiet)?;
    }
    let stdout = std::io::stdout();
    let color = color_for(&stdout);
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => report::verify::render_text(&report, &mut out, color)?,
    }
    out.flush()?;
    if let (true, Some(_)) = (args.push_attestation, &sign_key) {
        let envelopes = attestations.platforms.iter().map(|(_, bytes)| bytes);
        for envelope in envelopes.chain(&attestations.index) {
            let attached = attest::lookup::attach_to_image(
                &report.image.name,
                &report.image.digest,
                envelope,
                &access,
            )
            .context("the verification is reported above, but its attestation was not attached")?;
            if !quiet {
                eprintln!("{}", attached_note(&report.image.name, &attached));
            }
        }
    }
    match report.verdict {
        Verdict::Reproducible => Ok(true),
        Verdict::Mismatch => Ok(false),
        Verdict::Error => Err(verify::Incomplete {
            notes: report.notes,
        }
        .into()),
    }
}

/// The attestations of a finished verification, as written and attached
/// (DSSE envelopes when signed, else bare statements; pretty JSON and a
/// newline, so that a file's sha256 is its attached layer's digest).
#[derive(Default)]
struct Attestations {
    /// One per compared platform: the platform and its statement.
    platforms: Vec<(String, Vec<u8>)>,
    /// The index-level statement, when every platform of an index was compared.
    index: Option<Vec<u8>>,
}

fn attestations_of(
    report: &verify::VerifyReport,
    args: &VerifyArgs,
    key: Option<&SigningKey>,
) -> anyhow::Result<Attestations> {
    let options = attest::AttestOptions {
        verifier_id: args.verifier_id.clone(),
        time: SystemTime::now(),
    };
    let encode = |statement: &attest::Statement| -> anyhow::Result<Vec<u8>> {
        let mut bytes = match key {
            Some(key) => serde_json::to_vec_pretty(&attest::dsse::sign_statement(statement, key)?)?,
            None => serde_json::to_vec_pretty(statement)?,
        };
        bytes.push(b'\n');
        Ok(bytes)
    };
    let platforms = attest::platform_statements(report, &options)
        .into_iter()
        .map(|(platform, statement)| Ok((platform.platform.clone(), encode(&statement)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let index = if attest::covers_every_platform(report) {
        let rests_on: Vec<(String, Digest)> = platforms
            .iter()
            .map(|(platform, bytes)| (platform.clone(), Digest::of(bytes)))
            .collect();
        Some(encode(&attest::index_statement(
            report, &options, &rests_on,
        ))?)
    } else {
        None
    };
    Ok(Attestations { platforms, index })
}

/// `--attest FILE`: FILE holds the index-level statement (each platform's
/// beside it, see [`platform_attestation_path`]), or the one platform's
/// statement when one was compared; a run that compared several platforms
/// but not all has no index-level statement, only the per-platform files.
fn write_attestations(path: &Path, attestations: &Attestations, quiet: bool) -> anyhow::Result<()> {
    match (&attestations.index, attestations.platforms.as_slice()) {
        (Some(index), platforms) => {
            write_file(path, index)?;
            for (platform, bytes) in platforms {
                write_file(&platform_attestation_path(path, platform), bytes)?;
            }
        }
        (None, [(_, bytes)]) => write_file(path, bytes)?,
        (None, []) => {
            if !quiet {
                eprintln!(
                    "note: no platform was compared, so there is no attestation; {} was not written",
                    path.display()
                );
            }
        }
        (None, platforms) => {
            let mut written = Vec::new();
            for (platform, bytes) in platforms {
                let beside = platform_attestation_path(path, platform);
                write_file(&beside, bytes)?;
                written.push(beside.display().to_string());
            }
            if !quiet {
                eprintln!(
                    "note: the run compared {} platforms but not every platform of the image, so there is no index-level statement and {} was not written; each platform's is in {}",
                    platforms.len(),
                    path.display(),
                    written.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// Where `--attest DIR/NAME.EXT` puts a platform's statement beside the
/// index-level one: `DIR/NAME.linux-arm64.EXT`.
fn platform_attestation_path(path: &Path, platform: &str) -> PathBuf {
    let slug = platform.replace('/', "-");
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let name = match path.extension() {
        Some(ext) => format!("{stem}.{slug}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{slug}"),
    };
    path.with_file_name(name)
}

/// Says where `--push-attestation` put the envelope.
fn attached_note(name: &str, attached: &attest::attach::Attached) -> String {
    let att = match &attached.att_manifest {
        Some(digest) => format!("{name}:{} (now {digest})", attached.att_tag),
        None => format!(
            "{name}:{} (it already held this envelope)",
            attached.att_tag
        ),
    };
    let referrer = match &attached.referrer_index {
        attest::attach::ReferrerIndex::Api => "listed by the registry's referrers API".to_string(),
        attest::attach::ReferrerIndex::Tag(tag) => {
            format!("listed under {name}:{tag}, the registry having no referrers API")
        }
    };
    format!(
        "attached the signed attestation: {att}; referrer {name}@{} {referrer}",
        attached.referrer
    )
}

/// The key that signs the attestation: `--sign-key FILE`, else the PEM
/// `REBUILD_COMPARE_SIGN_KEY` held when an attestation is written. Read
/// before anything is pulled or built, so that a bad key fails at once.
fn signing_key(
    args: &VerifyArgs,
    env: Option<std::ffi::OsString>,
) -> anyhow::Result<Option<SigningKey>> {
    let writes_attestation = args.attest.is_some() || args.push_attestation;
    if args.push_attestation {
        if args.sign_key.is_none() && env.is_none() {
            anyhow::bail!("--push-attestation needs a signing key: add --sign-key FILE (or set {SIGN_KEY_ENV}); `rebuild-compare key generate --out DIR` makes one");
        }
        let in_registry = args
            .image
            .as_deref()
            .and_then(|image| ImageLocation::parse(image).ok())
            .is_some_and(|location| location.registry_reference().is_some());
        if !in_registry {
            anyhow::bail!("--push-attestation needs an image in a registry: attestations are attached next to it there (an oci: or docker-archive: image has none)");
        }
    }
    Ok(match (&args.sign_key, env) {
        (Some(_), _) if !writes_attestation => {
            anyhow::bail!("--sign-key signs an attestation, but none is written: add --attest FILE or --push-attestation")
        }
        (Some(path), _) => Some(SigningKey::read(path)?),
        (None, Some(pem)) if writes_attestation => {
            use std::os::unix::ffi::OsStringExt;
            Some(SigningKey::from_pem(&pem.into_vec(), SIGN_KEY_ENV)?)
        }
        (None, _) => None,
    })
}

/// `attestation verify`: checks the attestations attached to an image, or
/// an envelope file, against the given keys, and decides each platform.
/// Exit 0 when every platform passed, 1 when one failed, 2 otherwise.
fn attestation(args: &AttestationArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    let AttestationAction::Verify(args) = &args.action;
    let keys = args
        .keys
        .iter()
        .map(|path| keys::PublicKey::read(path))
        .collect::<Result<Vec<_>, _>>()?;
    let options = attest::check::CheckOptions {
        keys: &keys,
        verifier_id: args.verifier_id.as_deref(),
    };
    let path = Path::new(&args.target);
    let report = if path.is_file() {
        attest::lookup::verify_file(path, &args.platforms, &options)?
    } else {
        attest::lookup::verify_image(
            &args.target,
            &args.platforms,
            &access.options(quiet)?,
            &options,
        )?
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => report::attestation::render_text(&report, &mut out)?,
    }
    out.flush()?;
    match report.outcome {
        attest::check::Outcome::Passed => Ok(true),
        attest::check::Outcome::Failed => Ok(false),
        attest::check::Outcome::Unverified if report.platforms.is_empty() => anyhow::bail!(
            "no attestation signed by the given key(s) is valid for {}",
            args.target
        ),
        attest::check::Outcome::Unverified => anyhow::bail!(
            "not every platform of {} has a valid attestation signed by the given key(s)",
            args.target
        ),
    }
}

/// `key generate`: a new key pair in `--out DIR`, its paths and key id on stdout.
fn key(args: &KeyArgs) -> anyhow::Result<bool> {
    let KeyAction::Generate { out, algorithm } = &args.action;
    let key = SigningKey::generate(match algorithm {
        KeyAlgorithm::P256 => keys::Algorithm::P256,
        KeyAlgorithm::Ed25519 => keys::Algorithm::Ed25519,
    })?;
    let pair = keys::write_pair(&key, out)?;
    println!(
        "private key: {} (keep it secret: give it to `verify --sign-key`)",
        pair.private_key.display()
    );
    println!(
        "public key:  {} (publish it: verifiers check signatures with it)",
        pair.public_key.display()
    );
    println!("key id:      {}", key.key_id());
    Ok(true)
}

/// `inspect`: resolves the image and prints, per platform, what it runs.
/// Always "matches": success is exit 0.
fn inspect(args: &InspectArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    let image = open_image(&args.image, access, quiet)?;
    let report = image.inspect(&args.platforms)?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => report::inspect::render_text(&report, &mut out)?,
    }
    Ok(true)
}

/// `digest`: locates the binary each platform runs and prints its sha256,
/// reading only the layers the answer needs. Success is exit 0.
fn digest(args: &DigestArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    let image = open_image(&args.image, access, quiet)?;
    let resolved = image.resolve()?;
    let request = BinaryRequest {
        path: args.path.as_deref(),
    };
    let mut platforms = Vec::new();
    for platform_image in image.platforms(&resolved, &args.platforms)? {
        let found = extract::digest_binary(&image, &platform_image, &request).map_err(|error| {
            PlatformFailed {
                platform: platform_image.platform.clone(),
                error,
            }
        })?;
        platforms.push((&found).into());
    }
    let report = DigestReport {
        reference: resolved.reference,
        digest: resolved.digest,
        platforms,
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        Format::Text => report::digest::render_text(&report, &mut out)?,
    }
    Ok(true)
}

/// One platform's failure, with the platform and the reason on one line
/// (`linux/arm64: program "app" not found: ...`); the reason's own causes follow.
#[derive(Debug)]
struct PlatformFailed {
    platform: Platform,
    error: extract::ExtractError,
}

impl std::fmt::Display for PlatformFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.platform, self.error)
    }
}

impl std::error::Error for PlatformFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.error)
    }
}

/// `extract`: writes the binary one platform runs to `-o FILE` (atomically,
/// mode 0755, never over an existing file without `--force`).
fn extract(args: &ExtractArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    let image = open_image(&args.image, access, quiet)?;
    let resolved = image.resolve()?;
    let platform_image = image
        .platforms(&resolved, std::slice::from_ref(&args.platform))?
        .into_iter()
        .next()
        .context("the image has no such platform")?;
    let request = BinaryRequest {
        path: args.path.as_deref(),
    };
    let found = extract::extract_to(
        &image,
        &platform_image,
        &request,
        &args.output,
        args.force,
        args.max_size,
    )?;
    if !quiet {
        eprintln!(
            "wrote {} ({} bytes, {}) from {}",
            args.output.display(),
            found.size,
            found.sha256,
            found.located.path
        );
    }
    Ok(true)
}

/// `build`: rebuilds every requested platform of the recipe and prints where
/// the artifacts are with their digests. A platform that failed is reported
/// with the others and then makes it an error (exit 2).
fn build(args: &BuildArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    let (recipe, note) = args.rebuild.recipe(args.image.as_deref())?;
    if let (Some(note), false) = (note, quiet) {
        eprintln!("note: {note}");
    }
    let platforms = build::select_platforms(&recipe, &args.platforms)?;
    build::check_standalone(&recipe)?;
    let access = access.options(quiet)?;
    let resolve_builder = |reference: &str| builder::resolve(reference, &access);
    let plan = build::plan(
        &recipe,
        &args.release,
        args.rebuild.source.as_deref(),
        args.rebuild.options(&args.release, &access),
        &resolve_builder,
    )?;
    let report = build::build_all(&plan, &platforms);
    match args.format {
        Format::Text => print!("{}", build::render_text(&report)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    if report.failed.is_empty() {
        return Ok(true);
    }
    let failed: Vec<String> = report
        .failed
        .iter()
        .map(|f| format!("{}: {}", f.platform, f.error))
        .collect();
    anyhow::bail!(
        "{} of {} platform builds failed\n{}",
        report.failed.len(),
        platforms.len(),
        failed.join("\n")
    )
}

/// `diff A B`: compares the two files, prints the text report (coloured only
/// on a terminal without NO_COLOR) or the JSON, and returns whether they are identical.
fn diff(args: &DiffArgs) -> anyhow::Result<bool> {
    let options = DiffOptions {
        context_lines: args.context,
        max_hunks: args.max_hunks,
        ..DiffOptions::default()
    };
    let result = diff_files(&args.a, &args.b, &options)?;
    let stdout = std::io::stdout();
    let color = color_for(&stdout);
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        Format::Text => {
            report::diff::render_text(&result, &mut out, color).context("writing the report")?
        }
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &result).context("writing JSON")?;
            writeln!(out).context("writing JSON")?;
        }
    }
    out.flush().context("writing the report")?;
    Ok(result.identical)
}

/// `recipe list` and `recipe show NAME`: what the catalogue holds;
/// `recipe infer`: a recipe written from the image binary.
fn recipe(args: &RecipeArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    let mut out = std::io::stdout().lock();
    match &args.action {
        RecipeAction::Infer(infer) => {
            let access = access.options(quiet)?;
            let work = tempfile::tempdir().context("cannot create a temporary directory")?;
            let inferred = verify::infer_recipe(&InferRequest {
                image: &infer.image,
                version: &infer.release,
                source_override: infer.source.as_deref(),
                platforms: &infer.platforms,
                build: BuildOptions {
                    out_dir: work.path().to_path_buf(),
                    cache_dir: access.cache.root().to_path_buf(),
                    timeout: Duration::ZERO,
                    sandboxed: true,
                    progress: access.progress.clone(),
                    tmp_size: rebuild_compare::rebuild::sandbox::DEFAULT_TMP_SIZE,
                },
                access: &access,
                diff: DiffOptions::default(),
                max_candidates: 1,
            })?;
            for note in &inferred.notes {
                eprintln!("note: {note}");
            }
            for (platform, problems) in inferred.dependency_problems() {
                for problem in problems {
                    eprintln!("warning: {platform}: {problem}");
                }
            }
            let others = inferred
                .groups
                .first()
                .map_or(0, |g| g.inference.candidates.len())
                .saturating_sub(1);
            if others > 0 {
                eprintln!(
                    "note: wrote the most likely of {} candidates; `rebuild-compare {} {}` tries them in order",
                    others + 1,
                    infer.image,
                    infer.release
                );
            }
            if let [first, rest @ ..] = inferred.groups.as_slice() {
                if !rest.is_empty() {
                    eprintln!(
                        "note: the platforms need different recipes: this one is for {}; `recipe infer --platform P` writes another platform's",
                        first
                            .platforms
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    );
                }
            }
            let text = inferred.first_text().unwrap_or_default();
            match &infer.output {
                Some(path) => {
                    std::fs::write(path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                }
                None => write!(out, "{text}")?,
            }
        }
        RecipeAction::List { recipes, format } => {
            let listed = load_catalogue(recipes.as_deref())?.list();
            match format {
                Format::Text => write!(out, "{}", catalogue::render_list(&listed))?,
                Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&listed)?)?,
            }
        }
        RecipeAction::Show { name, recipes } => {
            let catalogue = load_catalogue(recipes.as_deref())?;
            let (entry, note) = catalogue.find(name)?;
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            write!(out, "{}", entry.text)?;
        }
    }
    out.flush()?;
    Ok(true)
}

/// `ledger DIR --site OUT`: reads every finished job's entry.json and
/// writes the site. Success is exit 0 whatever the verdicts.
fn ledger(args: &LedgerArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    let mut records = ledger::read_ledger(&args.dir)?;
    let scratch = tempfile::tempdir().context("cannot make a temporary directory")?;
    if let Some(watch_list) = &args.from_registry {
        let keys = args
            .keys
            .iter()
            .map(|path| keys::PublicKey::read(path))
            .collect::<Result<Vec<_>, _>>()?;
        let watch_list = WatchList::load(watch_list)?;
        let attested = ledger::attested::registry_records(
            &watch_list,
            &keys,
            &access.options(quiet)?,
            scratch.path(),
        )?;
        if !quiet {
            for note in &attested.notes {
                eprintln!("note: {note}");
            }
            eprintln!(
                "read {} verdicts from signed attestations in the registries",
                attested.records.len()
            );
        }
        records.extend(attested.records);
    }
    let totals = site::write_site(&records, &args.site)?;
    if !quiet {
        eprintln!(
            "wrote {}: {} images, {} versions, {} runs ({} reproducible, {} mismatch, {} error)",
            args.site.display(),
            totals.images,
            totals.versions,
            totals.runs,
            totals.reproducible,
            totals.mismatch,
            totals.error
        );
    }
    Ok(true)
}

/// `run`: the plan's jobs not yet in the ledger, N at a time, each a child
/// `verify` with this run's signing and access options. Success (exit 0)
/// once every job has its entry, whatever the verdicts: they are the
/// ledger's; a run that could not go on, or that refused a job whose
/// recipe changed since it was planned, is exit 2.
fn run(
    args: &RunArgs,
    sign_key_env: Option<std::ffi::OsString>,
    access: &AccessArgs,
    quiet: bool,
) -> anyhow::Result<bool> {
    use rebuild_compare::scale::job::Plan;
    use rebuild_compare::scale::run::{self as scale_run, RunEvent, RunOptions};
    if args.push_attestation && args.sign_key.is_none() && sign_key_env.is_none() {
        anyhow::bail!(
            "--push-attestation needs a signing key: add --sign-key FILE (or set {SIGN_KEY_ENV})"
        );
    }
    let mut verify_args = vec!["--verifier-id".to_string(), args.verifier_id.clone()];
    let mut env = Vec::new();
    let signed = match (&args.sign_key, sign_key_env) {
        (Some(path), _) => {
            SigningKey::read(path)?;
            let path = std::path::absolute(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            verify_args.extend(["--sign-key".to_string(), path.display().to_string()]);
            true
        }
        (None, Some(pem)) => {
            use std::os::unix::ffi::OsStrExt;
            SigningKey::from_pem(pem.as_bytes(), SIGN_KEY_ENV)?;
            env.push((SIGN_KEY_ENV.to_string(), pem));
            true
        }
        (None, None) => false,
    };
    if let Some(authfile) = &access.authfile {
        verify_args.extend(["--authfile".to_string(), authfile.display().to_string()]);
    }
    for host in &access.insecure_registries {
        verify_args.extend(["--insecure-registry".to_string(), host.clone()]);
    }
    if let Some(dir) = &access.cache_dir {
        verify_args.extend(["--cache-dir".to_string(), dir.display().to_string()]);
    }
    let plan = match (&args.plan, &args.job) {
        (Some(path), _) => Plan::from_json(&read_bounded(path, MAX_PLAN_BYTES)?)?,
        (None, Some(job)) => Plan::new(
            vec![serde_json::from_str(job)
                .context("--job is not a job's JSON (a GitHub matrix entry's `job`)")?],
            SystemTime::now(),
        ),
        (None, None) => {
            anyhow::bail!("usage: rebuild-compare run PLAN --ledger DIR (or --job JSON)")
        }
    };
    let options = RunOptions {
        program: std::env::current_exe().context("cannot find this program to run the jobs")?,
        ledger: args.ledger.clone(),
        jobs: args.jobs as usize,
        index: args.index,
        verify_args,
        env,
        signed,
        attach: match args.push_attestation {
            true => Some(access.options(quiet)?),
            false => None,
        },
        verifier_id: args.verifier_id.clone(),
        retry_errors: args.retry_errors,
    };
    let on_event = |event: RunEvent| {
        if quiet {
            return;
        }
        match event {
            RunEvent::Starting {
                to_run,
                already_done,
            } => eprintln!("running {to_run} jobs ({already_done} already in the ledger)"),
            RunEvent::Started { .. } => {}
            RunEvent::Finished {
                job,
                entry,
                done,
                to_run,
            } => {
                let took = entry
                    .finished
                    .duration_since(entry.started)
                    .unwrap_or_default();
                eprintln!(
                    "[{done}/{to_run}] {}:{} {}: {} ({:.1} s)",
                    job.image,
                    job.version,
                    job.platform,
                    serde_json::to_value(entry.verdict)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default(),
                    took.as_secs_f64()
                );
            }
        }
    };
    let summary = scale_run::run(&plan, &options, &on_event)?;
    println!(
        "ran {} jobs: {} reproducible, {} mismatch, {} error; {} already in the ledger",
        summary.reproducible + summary.mismatch + summary.error,
        summary.reproducible,
        summary.mismatch,
        summary.error,
        summary.already_done
    );
    if summary.refused > 0 {
        anyhow::bail!(
            "refused {} job(s) whose recipe is not the one planned (each entry names both sha256s); plan again to verify with the recipes as they are now",
            summary.refused
        );
    }
    Ok(true)
}

/// The largest plan file read.
const MAX_PLAN_BYTES: u64 = 64 * 1024 * 1024;

/// The text of `path`, refused when larger than `max` bytes.
fn read_bounded(path: &Path, max: u64) -> anyhow::Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(file, max + 1), &mut text)
        .with_context(|| format!("cannot read {} as text", path.display()))?;
    if text.len() as u64 > max {
        anyhow::bail!("{} is larger than {max} bytes: not a plan", path.display());
    }
    Ok(text)
}

/// `plan`: reads the watch list, plans it against the registries and
/// writes the plan in the form asked for. Options that need another
/// `--emit` are refused before any registry is asked.
fn plan(args: &PlanArgs, access: &AccessArgs, quiet: bool) -> anyhow::Result<bool> {
    if args.emit == Emit::K8sJob && args.job_image.is_none() {
        anyhow::bail!("--emit k8s-job needs --job-image REF: the container image whose rebuild-compare and bwrap run the jobs");
    }
    if args.emit != Emit::K8sJob && args.job_image.is_some() {
        anyhow::bail!("--job-image applies only to --emit k8s-job");
    }
    if args.emit != Emit::GithubWorkflow && args.push_attestation {
        anyhow::bail!("--push-attestation applies only to --emit github-workflow (`run` decides for json plans)");
    }
    if let Some(image) = &args.job_image {
        rebuild_compare::image::reference::Reference::parse(image)?;
    }
    let install = match (&args.tool_git, &args.tool_rev, &args.tool_version) {
        _ if args.emit != Emit::GithubWorkflow => {
            if args.tool_git.is_some() || args.tool_version.is_some() {
                anyhow::bail!("--tool-git, --tool-rev and --tool-version apply only to --emit github-workflow");
            }
            None
        }
        (Some(url), Some(rev), None) => Some(github::ToolInstall::git(url, rev)?),
        (None, None, Some(version)) => Some(github::ToolInstall::Published {
            version: version.clone(),
        }),
        _ => anyhow::bail!(
            "--emit github-workflow needs where the workflow installs rebuild-compare from: \
             --tool-git URL --tool-rev COMMIT (its repository at a pinned commit), \
             or --tool-version VERSION (a published crate)"
        ),
    };
    let watchlist = WatchList::load(&args.watchlist)?;
    let access = access.options(quiet)?;
    let planned = scale_plan::plan(
        &watchlist,
        &access,
        &PlanOptions {
            ledger: args.ledger.as_deref(),
            limit: args.limit,
            concurrency: scale_plan::CONCURRENCY,
        },
        SystemTime::now(),
    )?;
    let plan = &planned.plan;
    let text = match args.emit {
        Emit::Json => serde_json::to_string_pretty(plan)? + "\n",
        Emit::GithubMatrix => serde_json::to_string(&github::matrix(plan)?)? + "\n",
        Emit::GithubWorkflow => github::workflow(
            plan,
            &github::WorkflowOptions {
                parallelism: args.parallelism,
                push_attestation: args.push_attestation,
                install: install.context("the workflow's install is checked above")?,
            },
        )?,
        Emit::K8sJob => k8s::manifests(
            plan,
            &k8s::K8sOptions {
                job_image: args.job_image.clone().unwrap_or_default(),
                parallelism: args.parallelism,
                ledger_claim: args.ledger_claim.clone(),
            },
        )?,
        Emit::Shell => shell::script(plan)?,
    };
    match &args.output {
        Some(path) => write_file(path, text.as_bytes())?,
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    if !quiet {
        for note in &planned.notes {
            eprintln!("note: {note}");
        }
        eprintln!(
            "planned {} jobs ({} already in the ledger, {} over --limit)",
            plan.jobs.len(),
            planned.in_ledger,
            planned.over_limit
        );
    }
    Ok(true)
}

/// The shipped recipes, plus `--recipes DIR`'s.
fn load_catalogue(dir: Option<&Path>) -> anyhow::Result<Catalogue> {
    Ok(match dir {
        Some(dir) => Catalogue::with_dir(dir)?,
        None => Catalogue::builtin()?,
    })
}

fn open_image(image: &str, access: &AccessArgs, quiet: bool) -> anyhow::Result<Image> {
    let location = ImageLocation::parse(image)?;
    Image::open(&location, &access.options(quiet)?)
        .with_context(|| format!("cannot open {location}"))
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
fn color_for(stdout: &std::io::Stdout) -> bool {
    stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// Progress bars on stderr when it is a terminal and `--quiet` is not given.
fn progress(quiet: bool) -> SharedProgress {
    if !quiet && std::io::stderr().is_terminal() {
        Arc::new(TerminalProgress::new())
    } else {
        rebuild_compare::progress::silent()
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, renamed
/// over it once complete, so nothing is ever written half.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Sends library tracing to stderr: `-v` info, `-vv` debug, or whatever `RUST_LOG` says.
fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_timer(tracing_subscriber::fmt::time::Uptime::default())
        .init();
}

/// Maps a command's outcome to the exit code contract: 0 when it matched
/// (identical, reproducible, or plain success), 1 when it differs, 2 on any
/// error. A closed stdout (`| head`) ends the program quietly.
fn exit_code(result: anyhow::Result<bool>) -> ExitCode {
    match result {
        Ok(true) => ExitCode::from(0),
        Ok(false) => ExitCode::from(1),
        Err(err) => {
            let broken_pipe = err.chain().any(|cause| {
                cause
                    .downcast_ref::<std::io::Error>()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            });
            if broken_pipe {
                return ExitCode::from(0);
            }
            for line in error_lines(&err) {
                eprintln!("{line}");
            }
            ExitCode::from(2)
        }
    }
}

/// `error: MESSAGE`, then a `caused by:` line for each cause whose text
/// the lines before do not already contain (many errors put their cause in
/// their own message).
fn error_lines(err: &anyhow::Error) -> Vec<String> {
    let mut said = err.to_string();
    let mut lines = vec![format!("error: {said}")];
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !said.contains(&text) {
            lines.push(format!("  caused by: {text}"));
            said.push('\n');
            said.push_str(&text);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[derive(Debug, thiserror::Error)]
    #[error("reading {what}: {source}")]
    struct Says {
        what: &'static str,
        source: std::io::Error,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("reading {what}")]
    struct Hides {
        what: &'static str,
        source: std::io::Error,
    }

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let err = anyhow::Error::new(Says {
            what: "the layer",
            source: std::io::Error::other("connection reset"),
        });
        assert_eq!(
            super::error_lines(&err),
            ["error: reading the layer: connection reset"]
        );
    }

    #[test]
    fn a_cause_not_in_the_message_gets_its_own_line() {
        let err = anyhow::Error::new(Hides {
            what: "the layer",
            source: std::io::Error::other("connection reset"),
        });
        assert_eq!(
            super::error_lines(&err),
            ["error: reading the layer", "  caused by: connection reset"]
        );
    }

    #[test]
    fn command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
