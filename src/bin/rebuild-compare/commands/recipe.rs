//! `recipe list`, `recipe show NAME`: what the catalogue holds;
//! `recipe infer IMAGE VERSION`: a recipe written from the image's binary.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use rebuild_compare::diff::DiffOptions;
use rebuild_compare::image::platform::Platform;
use rebuild_compare::rebuild::build::BuildOptions;
use rebuild_compare::rebuild::recipe::catalogue;
use rebuild_compare::verify::{self, InferRequest, RecipeInference};

use super::Globals;
use crate::cli::{load_catalogue, AccessArgs, Format, StderrArgs};
use crate::output;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    stderr: StderrArgs,
}

impl Args {
    /// The global options given after the command (`infer` reads an image).
    pub fn globals(&self) -> (&StderrArgs, Option<&AccessArgs>) {
        match &self.action {
            Action::Infer(infer) => (&infer.stderr, Some(&infer.access)),
            _ => (&self.stderr, None),
        }
    }
}

#[derive(Subcommand)]
enum Action {
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

#[derive(clap::Args)]
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

/// Success is exit 0.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    match &args.action {
        Action::Infer(infer) => self::infer(infer, globals)?,
        Action::List { recipes, format } => {
            let listed = load_catalogue(recipes.as_deref())?.list();
            output::print(*format, &listed, |out, _| {
                out.write_all(catalogue::render_list(&listed).as_bytes())
            })?;
        }
        Action::Show { name, recipes } => {
            let catalogue = load_catalogue(recipes.as_deref())?;
            let (entry, note) = catalogue.find(name)?;
            if let Some(note) = note {
                eprintln!("note: {note}");
            }
            let mut out = std::io::stdout().lock();
            out.write_all(entry.text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(true)
}

/// Infers the recipe, says on stderr what the reader should know of it
/// (notes, dependency warnings, other candidates, platforms needing
/// another recipe) and writes it to `-o FILE` or stdout.
fn infer(infer: &InferArgs, globals: &Globals) -> anyhow::Result<()> {
    let access = globals.access.options(globals.quiet)?;
    let work = tempfile::tempdir().context("cannot create a temporary directory")?;
    let inferred = verify::infer_any_recipe(&InferRequest {
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
    let inferred = match inferred {
        RecipeInference::Packaged { text, note } => {
            eprintln!("note: {note}");
            return write_recipe(infer.output.as_deref(), &text);
        }
        RecipeInference::Candidates(inferred) => inferred,
    };
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
    write_recipe(
        infer.output.as_deref(),
        inferred.first_text().unwrap_or_default(),
    )
}

/// Writes an inferred recipe to `-o FILE`, else stdout.
fn write_recipe(output: Option<&std::path::Path>, text: &str) -> anyhow::Result<()> {
    match output {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            let mut out = std::io::stdout().lock();
            write!(out, "{text}")?;
            out.flush()?;
        }
    }
    Ok(())
}
