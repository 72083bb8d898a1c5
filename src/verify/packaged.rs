//! The main job for a binary that came from a distribution's package
//! (`FROM debian:bookworm` + `apt-get install tree`): three sides per
//! platform instead of two.
//!
//! 1. The image's own package database names the package that owns the
//!    binary ([`crate::distro::db`]); its recorded digest of the file is
//!    checked as a weak, in-image check (whoever wrote the image wrote the
//!    database too).
//! 2. The distribution's archive is the authority: the package is fetched
//!    through the chain keyring → signed release file → index hash → `.deb`
//!    hash ([`crate::distro::archive`]), and the file it holds is the
//!    platform's *published* digest. A binary that differs from its own
//!    package is a mismatch whatever else holds.
//! 3. The source package is fetched the same way and rebuilt in a fresh
//!    build root ([`crate::rebuild::debian`]); the file from the rebuilt
//!    package is compared with the image binary, and a mismatch explained
//!    as for any rebuild.
//!
//! The package, its version and the release come from a Debian recipe
//! when one is given, else from the image's database and `os-release`:
//! what the database says only names what to look up, and the archive
//! decides. The rebuild runs for the architecture of this machine only;
//! other platforms get the archive check and are otherwise skipped.
//!
//! Threat model: the image (binary, database, os-release), the archive
//! mirror and the network are untrusted; the distribution's keyring is the
//! one trust anchor. Nothing is compared before its chain is verified.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::opened::{open_and_extract, OpenedImage, INFERRED_RECIPE_FILE};
use super::outcome::{
    CrossCheck, ImageInfo, PlatformResult, PlatformVerdict, PublishedDigest, RecipeInfo,
    SourceInfo, VerifyReport,
};
use super::pipeline::{conclude, image_name, mirror_note, overall_verdict_skipping, VerifyError};
use crate::diff::DiffOptions;
use crate::distro::archive::{Archive, ArchiveConfig, ArchiveFile, SourcePackage};
use crate::distro::db::{read_provenance, Provenance};
use crate::distro::{deb, DigestAlgorithm, FileDigest, Package, PackageManager};
use crate::image::digest::Digest;
use crate::image::platform::Platform;
use crate::image::reference::ImageLocation;
use crate::image::AccessOptions;
use crate::rebuild::build::{platform_dir_name, BuildOptions, BuiltArtifact};
use crate::rebuild::debian::{DebianBuild, DebianBuildRequest};
use crate::rebuild::recipe::DebianRecipe;
use crate::rootfs::extract::FoundBinary;

/// What to verify and how, for a packaged binary.
pub struct PackagedRequest<'a> {
    /// The release, as typed.
    pub version: &'a str,
    /// A Debian recipe naming the source package; `None`: the image's
    /// package database names it.
    pub recipe: Option<&'a DebianRecipe>,
    pub build: &'a BuildOptions,
    pub access: &'a AccessOptions,
    pub diff: &'a DiffOptions,
    pub archive: &'a ArchiveConfig,
}

/// The packages the image's database says own each platform's binary, read
/// once; `None` when no platform's binary belongs to a package.
pub fn owners(opened: &OpenedImage) -> Result<Option<Vec<Option<Provenance>>>, VerifyError> {
    let mut owners = Vec::new();
    for (platform_image, found) in opened.platforms.iter().zip(&opened.found) {
        let owner = match found {
            Ok(found) => read_provenance(&opened.image, platform_image, &found.located.path)?,
            Err(_) => None,
        };
        owners.push(owner);
    }
    Ok(owners.iter().any(Option::is_some).then_some(owners))
}

/// Whether some platform's package can be checked against Debian's
/// archive; else why not (the first owner's reason: another package
/// manager, another distribution, no release name).
pub fn check_against_archive(owners: &[Option<Provenance>]) -> Result<(), String> {
    let mut first_reason = None;
    for owner in owners.iter().flatten() {
        match target(Some(owner), None, &mut Vec::new()) {
            Ok(_) => return Ok(()),
            Err(reason) => {
                first_reason.get_or_insert(reason);
            }
        }
    }
    Err(first_reason
        .unwrap_or_else(|| "no package of the image's database lists the binary".into()))
}

/// The Debian recipe for the first platform whose binary a Debian package
/// owns, and a note saying where it came from; `None` when no platform's
/// package can be checked against Debian's archive. What `recipe infer`
/// writes for such an image, without fetching or building anything.
pub fn recipe_from_database(
    opened: &OpenedImage,
    owners: &[Option<Provenance>],
) -> Option<(String, String)> {
    let (owner, target) = owners
        .iter()
        .flatten()
        .find_map(|owner| Some((owner, target(Some(owner), None, &mut Vec::new()).ok()?)))?;
    let note = format!(
        "the image's {} database says {} owns {}: a Debian recipe rebuilds its source package {}={} for {}",
        owner.owned.package.manager,
        owner.owned.package,
        owner.owned.path,
        target.package.source,
        target.package.source_version(),
        target.release
    );
    Some((
        inferred_recipe(&recipe_repository(&opened.location, &target), &target),
        note,
    ))
}

/// The repository an inferred recipe names: the image's, or for a layout
/// or archive, one named after the package.
fn recipe_repository(location: &ImageLocation, target: &Target) -> String {
    match location {
        ImageLocation::Registry(reference) => reference.name(),
        _ => format!("localhost/{}", target.package.name),
    }
}

/// Pins the image (an untagged reference at the recipe's tag for the
/// version), extracts each platform's binary and verifies it as a Debian
/// recipe says.
pub fn verify_with_recipe(
    request: &PackagedRequest<'_>,
    recipe: &DebianRecipe,
    image: &str,
    platforms: &[Platform],
) -> Result<VerifyReport, VerifyError> {
    let tag = recipe
        .image
        .tag
        .render(&crate::rebuild::recipe::TemplateVars::version(
            request.version,
        ));
    let opened = open_and_extract(
        image,
        &tag,
        platforms,
        request.access,
        &request.build.out_dir,
    )?;
    let owners = owners(&opened)?.unwrap_or_else(|| vec![None; opened.platforms.len()]);
    let archive = ArchiveConfig {
        mirror: recipe
            .source
            .mirror
            .clone()
            .unwrap_or_else(|| request.archive.mirror.clone()),
        ..request.archive.clone()
    };
    let request = PackagedRequest {
        recipe: Some(recipe),
        archive: &archive,
        ..*request
    };
    verify_packaged(&request, opened, owners)
}

/// Verifies each platform's packaged binary against the archive and the
/// rebuild of its source package.
pub fn verify_packaged(
    request: &PackagedRequest<'_>,
    opened: OpenedImage,
    owners: Vec<Option<Provenance>>,
) -> Result<VerifyReport, VerifyError> {
    let archive = Archive::new(request.archive.clone(), &request.access.cache)?;
    let host = Platform::host();
    let mut platforms = Vec::new();
    let mut seen = Seen::default();
    let mut notes: Vec<String> = mirror_note(&opened.resolved).into_iter().collect();
    for ((platform_image, found), owner) in opened.platforms.iter().zip(opened.found).zip(owners) {
        let mut result =
            PlatformResult::skipped(platform_image.platform.to_string(), String::new());
        result.error = None;
        result.manifest_digest = Some(platform_image.manifest_digest.clone());
        let side = PlatformSide {
            request,
            archive: &archive,
            platform: &platform_image.platform,
            rebuild: platform_image.platform.matches(&host)
                || host.matches(&platform_image.platform),
        };
        let result = match found {
            Ok(found) => side.verify(result, found, owner, &mut seen),
            Err(error) => {
                result.verdict = PlatformVerdict::Error;
                result.error = Some(error);
                result
            }
        };
        platforms.push(result);
    }
    let (verdict, verdict_notes) = overall_verdict_skipping(
        &platforms,
        "their binaries agree with their packages, but source packages are rebuilt for this machine's architecture only",
    );
    notes.extend(verdict_notes);
    if !request.build.sandboxed {
        notes.push(
            "--no-sandbox does not apply: a source package is always built in the sandbox, as root of the build's own user namespace".into(),
        );
    }
    let source = seen.sources.first();
    let (recipe_text, recipe_origin) = match (request.recipe, seen.targets.first()) {
        (Some(recipe), _) => (recipe.text.clone(), recipe.origin.clone()),
        (None, None) => (String::new(), "none: no package to rebuild".to_string()),
        (None, Some(target)) => {
            let text = inferred_recipe(&recipe_repository(&opened.location, target), target);
            let path = std::path::absolute(&request.build.out_dir)
                .unwrap_or_else(|_| request.build.out_dir.clone())
                .join(INFERRED_RECIPE_FILE);
            write_file(&path, text.as_bytes())?;
            (text, path.display().to_string())
        }
    };
    Ok(VerifyReport {
        verdict,
        image: ImageInfo {
            reference: opened.resolved.reference.clone(),
            digest: opened.resolved.digest.clone(),
            name: image_name(&opened.location),
            index_platforms: crate::image::index_platforms(&opened.resolved),
        },
        source: SourceInfo {
            url: source.map(|s| s.url.clone()).unwrap_or_default(),
            git_ref: seen
                .targets
                .first()
                .map(|t| format!("{}={}", t.package.source, t.package.source_version()))
                .unwrap_or_default(),
            commit: source.map(|s| s.dsc_sha256.to_string()).unwrap_or_default(),
            fetched_from: None,
        },
        recipe: RecipeInfo {
            path: recipe_origin,
            sha256: Digest::of(recipe_text.as_bytes()),
            inferred: request.recipe.is_none(),
        },
        sandboxed: true,
        builder: None,
        platforms,
        notes,
    })
}

/// One platform's three sides.
struct PlatformSide<'a> {
    request: &'a PackagedRequest<'a>,
    archive: &'a Archive,
    platform: &'a Platform,
    /// Whether this machine rebuilds the platform (its own architecture).
    rebuild: bool,
}

impl PlatformSide<'_> {
    fn verify(
        &self,
        mut result: PlatformResult,
        found: FoundBinary,
        owner: Option<Provenance>,
        seen: &mut Seen,
    ) -> PlatformResult {
        let mut checks = Vec::new();
        result.package = owner.as_ref().map(|o| o.owned.package.clone());
        let recipe = self.request.recipe.map(|r| (r, self.request.version));
        let target = match target(owner.as_ref(), recipe, &mut checks) {
            Ok(target) => target,
            Err(error) => {
                result.cross_checks = checks;
                return failed(result, error);
            }
        };
        seen.targets.push(target.clone());
        if let Some(owner) = &owner {
            checks.extend(recorded_check(owner, &found.extracted));
        }
        let published = self.published(&target);
        let published_digest = published
            .as_ref()
            .map(|p| (p.sha256.clone(), p.deb.url.clone()))
            .map_err(Clone::clone);
        if let Ok(published) = &published {
            let package = &target.package;
            checks.push(CrossCheck::passed(format!(
                "{} {} is in the archive's {}: {} signed by {}, its index names {}",
                package.name,
                package.version,
                published.deb.suite,
                published.deb.release_url,
                published.deb.signed_by,
                published.deb.url
            )));
            checks.push(if published.sha256 == found.sha256 {
                CrossCheck::passed(format!(
                    "the image binary is the {} that {} {} holds",
                    target.path, package.name, package.version
                ))
            } else {
                CrossCheck::failed(format!(
                    "the image binary {} differs from the {} that {} {} holds ({}): the image changed it",
                    found.sha256, target.path, package.name, package.version, published.sha256
                ))
            });
        }
        if !self.rebuild {
            return self.archive_only(result, found, published_digest, checks);
        }
        let built = published
            .map_err(|_| "not rebuilt: the archive's package could not be had".to_string())
            .and_then(|published| {
                self.rebuild(&target, &published, &mut seen.sources)
                    .map_err(|e| format!("rebuild: {e}"))
            });
        let (built, root) = match built {
            Ok((artifact, root)) => (Ok(artifact), Some(root)),
            Err(e) => (Err(e), None),
        };
        if let Some(root) = &root {
            checks.push(CrossCheck::passed(format!(
                "rebuilt in a {} build root ({}{}): {}",
                target.release,
                root.sha256,
                if root.reused { ", reused" } else { "" },
                root.toolchain
                    .iter()
                    .map(|(name, version)| format!("{name} {version}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut result = conclude(
            result,
            Ok(found),
            built,
            "",
            Some(published_digest),
            None,
            self.request.diff,
        );
        let mut all = checks;
        all.append(&mut result.cross_checks);
        result.cross_checks = all;
        result
    }

    /// The archive's package and the digest of the file it holds at the binary's path.
    fn published(&self, target: &Target) -> Result<Published, String> {
        let package = &target.package;
        let deb = self
            .archive
            .binary(
                &target.release,
                &package.name,
                &package.version,
                &package.architecture,
            )
            .map_err(|e| crate::error_chain(&e))?;
        let dir = self.platform_dir().join("archive");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let dest = dir.join(file_name(&target.path));
        deb::extract_file(&deb.path, &target.path, &dest)
            .map_err(|e| crate::error_chain(&e))?
            .ok_or_else(|| {
                format!(
                    "{} {} from the archive holds no {}",
                    package.name, package.version, target.path
                )
            })?;
        let (sha256, _) = sha256_of(&dest)?;
        Ok(Published { deb, sha256 })
    }

    /// The source package, fetched and verified, rebuilt; the file at the
    /// binary's path from the rebuilt package.
    fn rebuild(
        &self,
        target: &Target,
        published: &Published,
        sources: &mut Vec<SourcePackage>,
    ) -> Result<(BuiltArtifact, crate::rebuild::debian::BuildRoot), String> {
        let package = &target.package;
        let source = self
            .archive
            .source(&target.release, &package.source, package.source_version())
            .map_err(|e| crate::error_chain(&e))?;
        let binnmu = binnmu_entry(published, package)?;
        let out_dir = self.platform_dir().join("rebuild");
        let request = DebianBuildRequest {
            source_dir: &source.dir,
            dsc: &source.dsc,
            release: &target.release,
            architecture: &package.architecture,
            mirror: &self.request.archive.mirror,
            binnmu_changelog: binnmu.as_deref(),
            cache: &self.request.access.cache,
            out_dir: &out_dir,
        };
        // The build root and the build write one log; its last line is
        // what the terminal shows meanwhile.
        let progress = self.request.access.progress.as_ref();
        let label = self.platform.to_string();
        let done = AtomicBool::new(false);
        let followed = out_dir.join("build.log");
        let built = std::thread::scope(|scope| {
            let follower =
                scope.spawn(|| crate::progress::follow_log(&followed, &label, progress, &done));
            let built = crate::rebuild::debian::build(&request);
            done.store(true, Ordering::Relaxed);
            let _ = follower.join();
            progress.build_done(&label, built.is_ok());
            built
        });
        let DebianBuild { debs, log, root } = built.map_err(|e| crate::error_chain(&e))?;
        sources.push(source);
        let wanted = format!(
            "{}_{}_{}.deb",
            package.name,
            without_epoch(&package.version),
            package.architecture
        );
        let built_deb = debs
            .iter()
            .find(|d| d.file_name().is_some_and(|n| n == wanted.as_str()))
            .ok_or_else(|| {
                format!(
                    "the build wrote no {wanted} (it wrote {}); see {}",
                    debs.iter()
                        .filter_map(|d| d.file_name())
                        .map(|n| n.to_string_lossy().into_owned())
                        .collect::<Vec<_>>()
                        .join(", "),
                    log.display()
                )
            })?;
        let dest = out_dir.join(file_name(&target.path));
        deb::extract_file(built_deb, &target.path, &dest)
            .map_err(|e| crate::error_chain(&e))?
            .ok_or_else(|| format!("the rebuilt {wanted} holds no {}", target.path))?;
        let (sha256, size) = sha256_of(&dest)?;
        Ok((
            BuiltArtifact {
                platform: self.platform.clone(),
                sha256,
                size,
                path: dest,
                log,
            },
            root,
        ))
    }

    /// A platform this machine does not rebuild: the archive check alone.
    fn archive_only(
        &self,
        mut result: PlatformResult,
        found: FoundBinary,
        published: Result<(Digest, String), String>,
        checks: Vec<CrossCheck>,
    ) -> PlatformResult {
        let not_rebuilt = format!(
            "not rebuilt: the source package is built for this machine's architecture ({}) only",
            Platform::host()
        );
        result = conclude(
            result,
            Ok(found),
            Err(not_rebuilt),
            "",
            Some(published),
            None,
            self.request.diff,
        );
        result.verdict = unrebuilt_verdict(result.published.as_ref());
        let mut all = checks;
        all.append(&mut result.cross_checks);
        result.cross_checks = all;
        result
    }

    fn platform_dir(&self) -> PathBuf {
        self.request
            .build
            .out_dir
            .join(platform_dir_name(self.platform))
    }
}

/// What the platforms looked up, for the report's source and recipe.
#[derive(Default)]
struct Seen {
    targets: Vec<Target>,
    sources: Vec<SourcePackage>,
}

/// The package, release and file path a platform is checked against.
#[derive(Clone)]
struct Target {
    package: Package,
    release: String,
    /// The binary's path as the package lists it.
    path: String,
}

/// The archive's package and its file's digest.
struct Published {
    deb: ArchiveFile,
    sha256: Digest,
}

/// The in-image check: the database's recorded digest of the file.
fn recorded_check(owner: &Provenance, binary: &Path) -> Option<CrossCheck> {
    let recorded = owner.owned.recorded.as_ref()?;
    let database = owner.owned.package.manager;
    let weak = "a weak check: whoever wrote the image wrote its database too";
    Some(match FileDigest::of_file(recorded.algorithm, binary) {
        Ok(actual) if actual == *recorded => CrossCheck::passed(format!(
            "the {database} database's {} of {} agrees ({weak})",
            algorithm_name(recorded.algorithm),
            owner.owned.path
        )),
        Ok(actual) => CrossCheck::failed(format!(
            "the image binary's {} {} is not the {} the {database} database records for {}",
            algorithm_name(recorded.algorithm),
            actual.hex,
            recorded.hex,
            owner.owned.path
        )),
        Err(e) => CrossCheck::failed(format!(
            "the {database} database's digest of {} was not checked: {e}",
            owner.owned.path
        )),
    })
}

fn algorithm_name(algorithm: DigestAlgorithm) -> &'static str {
    match algorithm {
        DigestAlgorithm::Md5 => "md5sum",
        DigestAlgorithm::Sha1 => "sha1",
        DigestAlgorithm::Sha256 => "sha256",
    }
}

/// A binNMU's changelog entry, which Debian's buildds prepend to the
/// source's changelog: the first entry of the archive package's
/// `changelog.Debian.ARCH.gz`. `None` for a build of the source's own version.
fn binnmu_entry(published: &Published, package: &Package) -> Result<Option<String>, String> {
    if package.source_version() == package.version {
        return Ok(None);
    }
    let path = format!(
        "/usr/share/doc/{}/changelog.Debian.{}.gz",
        package.name, package.architecture
    );
    let gz = deb::data_file(&published.deb.path, &path, 1 << 20)
        .map_err(|e| crate::error_chain(&e))?
        .ok_or_else(|| {
            format!(
                "{} {} is a binNMU of {} {}, but its package holds no {path}",
                package.name,
                package.version,
                package.source,
                package.source_version()
            )
        })?;
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(flate2::read::GzDecoder::new(gz.as_slice()), 1 << 20),
        &mut text,
    )
    .map_err(|e| format!("{path}: {e}"))?;
    Ok(Some(first_entry(&text)))
}

/// The package and release to check. The binary package is the one the
/// image's database says owns the binary; a recipe names its source
/// package and release (a database that disagrees is a failed check),
/// else the database and the image's os-release do.
fn target(
    owner: Option<&Provenance>,
    recipe: Option<(&DebianRecipe, &str)>,
    checks: &mut Vec<CrossCheck>,
) -> Result<Target, String> {
    let owner = owner.ok_or(
        "no package of the image's database lists the binary, so there is no package to check it against",
    )?;
    let mut package = owner.owned.package.clone();
    if package.manager != PackageManager::Dpkg {
        return Err(format!(
            "the image's {} database says {package} owns the binary, but only Debian's archive is checked and rebuilt from",
            package.manager
        ));
    }
    let codename = match &owner.os {
        Some(os) if os.id == "debian" => os.codename.clone(),
        Some(os) if recipe.is_none() => {
            return Err(format!(
                "the image's os-release says ID={}: only Debian's archive is supported",
                os.id
            ))
        }
        _ => None,
    };
    let release = match recipe {
        Some((recipe, typed)) => {
            let version = recipe
                .source
                .render_version(&recipe.origin, typed)
                .map_err(|e| e.to_string())?;
            if package.source != recipe.source.package || package.source_version() != version
            {
                checks.push(CrossCheck::failed(format!(
                    "the image's package database says {package} comes from source {} {}; the recipe says {} {version}",
                    package.source,
                    package.source_version(),
                    recipe.source.package
                )));
            }
            package.source = recipe.source.package.clone();
            package.source_version = (version != package.version).then_some(version);
            recipe.source.release.clone().or(codename)
        }
        None => codename,
    }
    .ok_or("the image's os-release names no Debian VERSION_CODENAME: pass a Debian recipe naming its release ([source] release)")?;
    Ok(Target {
        package,
        release,
        path: owner.owned.path.clone(),
    })
}

/// The verdict of a platform checked against its package but not rebuilt:
/// a binary that differs from its own package is a mismatch without a
/// rebuild; one that agrees is still unverified against its source
/// (skipped); one whose package could not be had is an error.
fn unrebuilt_verdict(published: Option<&PublishedDigest>) -> PlatformVerdict {
    match published {
        Some(published) if !published.matches_image => PlatformVerdict::Mismatch,
        Some(_) => PlatformVerdict::Skipped,
        None => PlatformVerdict::Error,
    }
}

/// The sha256 and size of a file this run wrote.
fn sha256_of(path: &Path) -> Result<(Digest, u64), String> {
    std::fs::File::open(path)
        .and_then(crate::image::digest::hash_reader)
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The first entry of a Debian changelog, through its ` -- ` signature
/// line, followed by the blank line that separates entries.
fn first_entry(changelog: &str) -> String {
    let mut entry = Vec::new();
    for line in changelog.lines() {
        entry.push(line);
        if line.starts_with(" -- ") {
            break;
        }
    }
    format!("{}\n\n", entry.join("\n"))
}

fn without_epoch(version: &str) -> &str {
    version.split_once(':').map_or(version, |(_, v)| v)
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn failed(mut result: PlatformResult, error: String) -> PlatformResult {
    result.verdict = PlatformVerdict::Error;
    result.error = Some(error);
    result
}

/// The Debian recipe that says what was inferred, for `--recipe` next
/// time: the image's repository at the typed version, the source package
/// at its version, and the release.
fn inferred_recipe(repository: &str, target: &Target) -> String {
    let mut recipe = toml_edit::DocumentMut::new();
    recipe.decor_mut().set_prefix(
        "# Inferred by rebuild-compare from the image's package database and os-release.\n",
    );
    let mut image = toml_edit::Table::new();
    image.insert("repository", toml_edit::value(repository));
    image.insert("tag", toml_edit::value("{version}"));
    recipe.insert("image", toml_edit::Item::Table(image));
    let mut source = toml_edit::Table::new();
    let package = &target.package;
    source.insert(
        "debian",
        toml_edit::value(format!("{}={}", package.source, package.source_version())),
    );
    source.insert("release", toml_edit::value(target.release.as_str()));
    recipe.insert("source", toml_edit::Item::Table(source));
    recipe.to_string()
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), VerifyError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| VerifyError::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, bytes).map_err(|source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(matches_image: bool) -> PublishedDigest {
        PublishedDigest {
            sha256: Digest::of(b"tree"),
            url: "http://deb.debian.org/debian/pool/main/t/tree/tree_2.1.0-1_arm64.deb".into(),
            matches_image,
            matches_rebuilt: None,
        }
    }

    fn owned_by(manager: PackageManager, os_id: &str) -> Provenance {
        Provenance {
            owned: crate::distro::db::OwnedFile {
                package: Package {
                    manager,
                    name: "jq".into(),
                    version: "1.7.1-r0".into(),
                    source: "jq".into(),
                    source_version: None,
                    architecture: "x86_64".into(),
                },
                path: "/usr/bin/jq".into(),
                recorded: None,
            },
            os: Some(crate::distro::db::OsRelease {
                id: os_id.into(),
                version_id: None,
                codename: Some("bookworm".into()),
            }),
        }
    }

    #[test]
    fn only_a_debian_package_of_a_named_release_is_checked_against_the_archive() {
        assert_eq!(
            check_against_archive(&[Some(owned_by(PackageManager::Apk, "alpine"))]),
            Err("the image's apk database says apk jq=1.7.1-r0 (x86_64) owns the binary, but only Debian's archive is checked and rebuilt from".into())
        );
        assert_eq!(
            check_against_archive(&[None, Some(owned_by(PackageManager::Dpkg, "debian"))]),
            Ok(())
        );
    }

    #[test]
    fn a_platform_not_rebuilt_is_a_mismatch_only_when_it_differs_from_its_package() {
        assert_eq!(
            unrebuilt_verdict(Some(&published(false))),
            PlatformVerdict::Mismatch
        );
        assert_eq!(
            unrebuilt_verdict(Some(&published(true))),
            PlatformVerdict::Skipped
        );
        assert_eq!(unrebuilt_verdict(None), PlatformVerdict::Error);
    }

    #[test]
    fn a_binnmu_entry_is_the_first_changelog_entry() {
        let changelog = "tree (2.1.0-1+b1) sid; urgency=low, binary-only=yes\n\n  * Binary-only non-maintainer upload for amd64; no source changes.\n\n -- amd64 Build Daemon <buildd@example.org>  Sat, 01 Jun 2024 10:00:00 +0000\n\ntree (2.1.0-1) unstable; urgency=medium\n";
        assert_eq!(
            first_entry(changelog),
            "tree (2.1.0-1+b1) sid; urgency=low, binary-only=yes\n\n  * Binary-only non-maintainer upload for amd64; no source changes.\n\n -- amd64 Build Daemon <buildd@example.org>  Sat, 01 Jun 2024 10:00:00 +0000\n\n"
        );
    }
}
