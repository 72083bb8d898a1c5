//! The command line's shape: the top-level `Cli`, the argument groups the
//! commands share (stderr, registry access, rebuilds, output format), and
//! the checks that no global option given before or after a command is
//! silently dropped.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, Parser, ValueEnum};
use rebuild_compare::distro::archive::{self, ArchiveConfig};
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::mirrors::RegistriesConf;
use rebuild_compare::image::reference::ImageLocation;
use rebuild_compare::image::{AccessOptions, Image};
use rebuild_compare::progress::terminal::TerminalProgress;
use rebuild_compare::progress::SharedProgress;
use rebuild_compare::rebuild::build::{self, BuildOptions};
use rebuild_compare::rebuild::recipe::catalogue::Lookup;
use rebuild_compare::rebuild::recipe::{pinned, Catalogue, DebianRecipe, Recipe, RecipeKind};

use crate::commands::{self, Command};

/// Where `--help` lists the options that go before or after any command.
pub const GLOBAL: &str = "Global options (before or after the command)";

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
pub struct Cli {
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `rebuild-compare IMAGE VERSION [OPTIONS]`, without the `verify` word.
    #[command(flatten)]
    pub verify: commands::verify::Args,
    /// Print a man page or a shell's completion script, made from these options, and exit.
    #[arg(long, value_enum, value_name = "KIND", exclusive = true)]
    pub generate: Option<crate::generate::Kind>,
}

/// What stderr shows: global options, given before or after any command.
#[derive(Args, Clone, Default)]
pub struct StderrArgs {
    /// More detail on stderr (-v: info, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = GLOBAL)]
    pub verbose: u8,
    /// No progress output.
    #[arg(short, long, help_heading = GLOBAL)]
    pub quiet: bool,
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
pub enum Format {
    Text,
    Json,
}

/// How to reach images: global options, given before or after any command
/// that reads an image (`diff` has none).
#[derive(Args, Clone, Default)]
pub struct AccessArgs {
    /// Credentials file (Docker config.json format) instead of REGISTRY_AUTH_FILE or ~/.docker/config.json.
    #[arg(long, value_name = "FILE", help_heading = GLOBAL)]
    pub authfile: Option<PathBuf>,
    /// Reach this registry over plain HTTP (loopback registries always are). Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]", help_heading = GLOBAL)]
    pub insecure_registries: Vec<String>,
    /// Cache directory [default: $REBUILD_COMPARE_CACHE, else $XDG_CACHE_HOME/rebuild-compare].
    #[arg(long, value_name = "DIR", help_heading = GLOBAL)]
    pub cache_dir: Option<PathBuf>,
    /// Registry mirrors from this containers-registries.conf(5) [default: $CONTAINERS_REGISTRIES_CONF, else $XDG_CONFIG_HOME/containers/registries.conf or /etc/containers/registries.conf if it exists].
    #[arg(long, value_name = "FILE", help_heading = GLOBAL)]
    pub registries_conf: Option<PathBuf>,
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
            registries_conf: once(
                "registries-conf",
                &self.registries_conf,
                &after.registries_conf,
            )?,
        })
    }

    pub fn options(&self, quiet: bool) -> anyhow::Result<AccessOptions> {
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
            registries: RegistriesConf::load(self.registries_conf.as_deref())?,
            progress: progress(quiet),
            ..AccessOptions::new(Cache::new(cache_dir.as_deref())?)
        })
    }

    /// The image `image` names, opened with these options.
    pub fn open_image(&self, image: &str, quiet: bool) -> anyhow::Result<Image> {
        let location = ImageLocation::parse(image)?;
        Image::open(&location, &self.options(quiet)?)
            .with_context(|| format!("cannot open {location}"))
    }
}

/// Progress bars on stderr when it is a terminal and `--quiet` is not given.
fn progress(quiet: bool) -> SharedProgress {
    if !quiet && std::io::stderr().is_terminal() {
        Arc::new(TerminalProgress::new())
    } else {
        rebuild_compare::progress::silent()
    }
}

/// How rebuilds run: shared by `build` and `verify`.
#[derive(Args)]
pub struct RebuildArgs {
    /// Build from this git URL or local repository instead of the recipe's `source.git`.
    #[arg(long, value_name = "URL|PATH")]
    pub source: Option<String>,
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
    pub fn recipe(&self, image: Option<&str>) -> anyhow::Result<(Recipe, Option<String>)> {
        if let Some(path) = &self.recipe {
            let recipe = pinned::load_argument(path, self.recipe_sha256.as_deref())?;
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

    /// `--recipe FILE` when the file is a Debian source recipe
    /// (`[source] debian`), checked against `--recipe-sha256` when given.
    pub fn debian_recipe(&self) -> anyhow::Result<Option<DebianRecipe>> {
        let Some(path) = &self.recipe else {
            return Ok(None);
        };
        let bytes = pinned::recipe_bytes(path)?;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Ok(None);
        };
        let RecipeKind::Debian(recipe) = RecipeKind::parse(&path.display().to_string(), text)?
        else {
            return Ok(None);
        };
        if let Some(expected) = &self.recipe_sha256 {
            let actual = pinned::recipe_sha256(&bytes);
            if &actual != expected {
                anyhow::bail!(
                    "{} has sha256 {actual}, not the {expected} --recipe-sha256 names: the recipe changed since it was pinned",
                    path.display()
                );
            }
        }
        Ok(Some(recipe))
    }

    /// The recipe for `verify`: as [`RebuildArgs::recipe`], or `None` when
    /// the catalogue says to infer one ([`Catalogue::lookup_or_infer`]),
    /// with a note naming any close matches.
    pub fn recipe_or_infer(&self, image: &str) -> anyhow::Result<(Option<Recipe>, Option<String>)> {
        if self.recipe.is_some() {
            let (recipe, note) = self.recipe(Some(image))?;
            return Ok((Some(recipe), note));
        }
        let location = ImageLocation::parse(image)?;
        let catalogue = load_catalogue(self.recipes.as_deref())?;
        Ok(match catalogue.lookup_or_infer(&location)? {
            Lookup::Found(found) => (Some(found.entry.recipe.clone()), found.note),
            Lookup::Infer { note } => (None, note),
        })
    }

    pub fn options(&self, version: &str, access: &AccessOptions) -> BuildOptions {
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

/// Where a binary from a distribution package is checked and its source
/// package fetched: `verify`'s archive options.
#[derive(Args)]
pub struct ArchiveArgs {
    /// The Debian archive mirror a packaged binary is checked against and its source package and build root come from.
    #[arg(long, value_name = "URL", default_value = archive::DEBIAN_MIRROR, help_heading = PACKAGES)]
    archive_mirror: url::Url,
    /// The mirror of the release's `-security` suite.
    #[arg(long, value_name = "URL", default_value = archive::DEBIAN_SECURITY_MIRROR, help_heading = PACKAGES)]
    archive_security_mirror: url::Url,
    /// The OpenPGP keyring (binary or armored) the archive's release files must be signed with.
    #[arg(long, value_name = "FILE", default_value = archive::DEBIAN_KEYRING, help_heading = PACKAGES)]
    archive_keyring: PathBuf,
    /// A snapshot archive in snapshot.debian.org's layout (`https://snapshot.debian.org`) for package versions gone from the mirror's suites; its releases are checked with the same keyring.
    #[arg(long, value_name = "URL", help_heading = PACKAGES)]
    snapshot_archive: Option<url::Url>,
}

/// The help heading of [`ArchiveArgs`].
const PACKAGES: &str = "Distribution packages";

impl ArchiveArgs {
    pub fn config(&self) -> ArchiveConfig {
        ArchiveConfig {
            mirror: self.archive_mirror.clone(),
            security_mirror: self.archive_security_mirror.clone(),
            keyring: self.archive_keyring.clone(),
            snapshot: self.snapshot_archive.clone(),
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

/// The shipped recipes, plus `--recipes DIR`'s.
pub fn load_catalogue(dir: Option<&Path>) -> anyhow::Result<Catalogue> {
    Ok(match dir {
        Some(dir) => Catalogue::with_dir(dir)?,
        None => Catalogue::builtin()?,
    })
}

/// The global options from both sides of the command, or why the command
/// line must be refused because an option would otherwise be dropped:
/// one of `verify`'s own options (parsed at the top level for
/// `rebuild-compare IMAGE VERSION`) or `--generate` given before another
/// command, an access option before a command that reads no image, or a
/// single-valued global option given on both sides.
pub fn globals(cli: &Cli, matches: &ArgMatches) -> Result<(StderrArgs, AccessArgs), String> {
    let (Some(command), Some((name, _))) = (&cli.command, matches.subcommand()) else {
        return Ok((cli.stderr.clone(), cli.access.clone()));
    };
    let given = |id: &str| matches.value_source(id) == Some(ValueSource::CommandLine);
    let accepted = "before a command only the global options --authfile, \
                    --insecure-registry, --cache-dir, --registries-conf, -v and -q are accepted";
    if given("generate") {
        return Err(format!(
            "--generate is not an option of `{name}`; {accepted}"
        ));
    }
    let verify_args = commands::verify::Args::augment_args(clap::Command::new("verify"));
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
