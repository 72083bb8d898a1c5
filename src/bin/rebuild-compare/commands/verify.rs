//! `rebuild-compare [verify] IMAGE VERSION`: pins the image, rebuilds every
//! platform the recipe can build, compares, explains mismatches, and
//! reports (text, JSON or markdown, optionally an attestation, signed and
//! attached).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use rebuild_compare::attest;
use rebuild_compare::attest::keys::{self, SigningKey};
use rebuild_compare::diff::DiffOptions;
use rebuild_compare::image::digest::Digest;
use rebuild_compare::image::platform::Platform;
use rebuild_compare::image::reference::ImageLocation;
use rebuild_compare::report;
use rebuild_compare::verify::packaged::PackagedRequest;
use rebuild_compare::verify::{self, InferRequest, Verdict, VerifyRequest};

use super::Globals;
use crate::cli::{AccessArgs, ArchiveArgs, Format, RebuildArgs, StderrArgs};
use crate::output;

/// `verify`: its own options, and the global ones given after it.
#[derive(clap::Args)]
pub struct CommandArgs {
    #[command(flatten)]
    pub args: Args,
    #[command(flatten)]
    pub stderr: StderrArgs,
    #[command(flatten)]
    pub access: AccessArgs,
}

#[derive(clap::Args)]
pub struct Args {
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
    format: VerifyFormat,
    /// Also write the JSON report here, whatever --format prints.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
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
    #[command(flatten)]
    archive: Box<ArchiveArgs>,
}

/// `verify --format`: text and JSON as every command prints, or markdown
/// for a CI run's summary (`$GITHUB_STEP_SUMMARY`).
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Text,
    Json,
    Markdown,
}

/// Matches when every compared platform was reproduced; a mismatch is
/// exit 1; nothing compared or an error, exit 2. With `--format markdown`
/// an error is printed as markdown too (a report whose verdict is `error`
/// already says so), also when it ends the run before any report exists.
pub fn run(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let result = verify_and_report(args, globals);
    if let (VerifyFormat::Markdown, Err(err)) = (args.format, &result) {
        if !err.is::<verify::Incomplete>() {
            let message = rebuild_compare::error_chain(err.as_ref());
            output::print_text(|out| report::markdown::render_error_markdown(&message, out))?;
        }
    }
    result
}

fn verify_and_report(args: &Args, globals: &Globals) -> anyhow::Result<bool> {
    let quiet = globals.quiet;
    let (Some(image), Some(version)) = (&args.image, &args.release) else {
        anyhow::bail!("usage: rebuild-compare IMAGE VERSION (see --help)");
    };
    let sign_key = signing_key(args, globals)?;
    let archive = args.archive.config();
    let debian_recipe = args.rebuild.debian_recipe()?;
    let (recipe, recipe_note) = match &debian_recipe {
        Some(_) => (None, None),
        None => args.rebuild.recipe_or_infer(image)?,
    };
    if let (None, Some(note), false) = (&recipe, &recipe_note, quiet) {
        eprintln!("note: {note}");
    }
    let access = globals.access.options(quiet)?;
    let report = match (&recipe, &debian_recipe) {
        (_, Some(debian)) => verify::packaged::verify_with_recipe(
            &PackagedRequest {
                version,
                recipe: None,
                build: &args.rebuild.options(version, &access),
                access: &access,
                diff: &DiffOptions::default(),
                archive: &archive,
            },
            debian,
            image,
            &args.platforms,
        )?,
        (Some(recipe), None) => verify::verify(&VerifyRequest {
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
        (None, None) => {
            let mut report = verify::verify_inferred(
                &InferRequest {
                    image,
                    version,
                    source_override: args.rebuild.source.as_deref(),
                    platforms: &args.platforms,
                    build: args.rebuild.options(version, &access),
                    access: &access,
                    diff: DiffOptions::default(),
                    max_candidates: args.max_candidates as usize,
                },
                &archive,
            )?;
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
    if let Some(path) = &args.report {
        let mut json = serde_json::to_vec_pretty(&report)?;
        json.push(b'\n');
        output::write_file(path, &json)?;
    }
    let render_text =
        |out: &mut output::Stdout<'_>, color| report::verify::render_text(&report, out, color);
    match args.format {
        VerifyFormat::Text => output::print(Format::Text, &report, render_text)?,
        VerifyFormat::Json => output::print(Format::Json, &report, render_text)?,
        VerifyFormat::Markdown => {
            output::print_text(|out| report::markdown::render_markdown(&report, out))?
        }
    }
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

/// The key that signs the attestation ([`keys::attestation_key`]), and
/// `--push-attestation` refused for an image outside a registry.
fn signing_key(args: &Args, globals: &Globals) -> anyhow::Result<Option<SigningKey>> {
    use std::os::unix::ffi::OsStrExt;
    let key = keys::attestation_key(
        args.sign_key.as_deref(),
        globals.sign_key_env.as_deref().map(|pem| pem.as_bytes()),
        args.attest.is_some(),
        args.push_attestation,
    )?;
    if args.push_attestation {
        let in_registry = args
            .image
            .as_deref()
            .and_then(|image| ImageLocation::parse(image).ok())
            .is_some_and(|location| location.registry_reference().is_some());
        if !in_registry {
            anyhow::bail!("--push-attestation needs an image in a registry: attestations are attached next to it there (an oci: or docker-archive: image has none)");
        }
    }
    Ok(key.map(|chosen| chosen.key))
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
    args: &Args,
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
            output::write_file(path, index)?;
            for (platform, bytes) in platforms {
                output::write_file(&platform_attestation_path(path, platform), bytes)?;
            }
        }
        (None, [(_, bytes)]) => output::write_file(path, bytes)?,
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
                output::write_file(&beside, bytes)?;
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
