//! The build of one source package in the sandbox, as Debian's buildds run
//! it: `dpkg-source -x`, the binNMU changelog entry prepended to
//! `debian/changelog` (as sbuild does for a binary-only upload, so that
//! `dpkg-buildpackage` takes the `+bN` version and the entry's date), then
//! `dpkg-buildpackage -B -us -uc`, each as root of the build's own user
//! namespace (dpkg-buildpackage needs root for the packages' ownership; its
//! `fakeroot` cannot work in a one-uid namespace), without network, with
//! `LC_ALL=C.UTF-8` and `HOME` pointing nowhere as sbuild sets them.
//!
//! The source unpacks to `/build/reproducible-path/SOURCE-UPSTREAM`, the
//! fixed build path current sbuild uses (not checked against a buildd's
//! `.buildinfo` `Build-Path` here: none is reachable). Packages built before
//! it, such as bookworm's originals, were built in a random
//! `/build/SOURCE-XXXXXX/`, so a package that records its build path
//! differs in it whatever path is picked.
//!
//! Threat model: everything in the source package is untrusted code; it
//! runs only in the sandbox, with the build directory as its one writable
//! host directory; the host then copies back only regular files named
//! `*.deb`.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use url::Url;

use super::dsc::{SourceControl, MAX_DSC_BYTES};
use super::error::{io_error, DebianBuildError};
use super::root::{self, BuildRoot, RootSpec};
use crate::image::cache::Cache;
use crate::rebuild::sandbox::{self, BuilderRoot, Mounts, Step, StepUser};

/// Where the build directory sits inside the sandbox.
pub const BUILD_PATH: &str = "/build/reproducible-path";
/// How long the steps in the sandbox may take together.
const BUILD_TIME_LIMIT: Duration = Duration::from_secs(3 * 3600);
/// The largest binNMU changelog entry taken (they are a few lines).
const MAX_BINNMU_BYTES: usize = 64 << 10;
/// The binNMU entry's file in the build directory (no `.dsc` lists a name
/// starting with a dot).
const BINNMU_FILE: &str = ".binnmu-changelog";

/// What to build: a source package's files, where, for which release.
#[derive(Debug, Clone, Copy)]
pub struct DebianBuildRequest<'a> {
    /// Holds the `.dsc` and every file it lists, each already verified.
    pub source_dir: &'a Path,
    /// The `.dsc`'s file name in `source_dir`.
    pub dsc: &'a str,
    /// The release whose packages make the build root (`bookworm`).
    pub release: &'a str,
    /// Debian's architecture name (`amd64`).
    pub architecture: &'a str,
    /// The archive the build root's packages come from.
    pub mirror: &'a Url,
    /// The binary package's binNMU changelog entry (its
    /// `changelog.Debian.ARCH.gz`, uncompressed), prepended to
    /// `debian/changelog` as Debian's buildds do; `None`: no binNMU.
    pub binnmu_changelog: Option<&'a str>,
    /// Keeps the build roots.
    pub cache: &'a Cache,
    /// Receives the `.deb`s and `build.log`; the build itself runs in
    /// `build/` there (removed after a success, kept after a failure).
    pub out_dir: &'a Path,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct DebianBuild {
    /// The `.deb`s `dpkg-buildpackage` wrote, copied to the output directory.
    pub debs: Vec<PathBuf>,
    /// Everything the build root's creation and the build printed.
    pub log: PathBuf,
    pub root: BuildRoot,
}

/// Builds the source package of `request` and returns its `.deb`s.
pub fn build(request: &DebianBuildRequest<'_>) -> Result<DebianBuild, DebianBuildError> {
    let control = read_dsc(request.source_dir, request.dsc)?;
    let out_dir = request.out_dir;
    fs::create_dir_all(out_dir).map_err(io_error("cannot create", out_dir))?;
    let log = out_dir.join("build.log");
    fs::write(&log, "").map_err(io_error("cannot write", &log))?;

    let work = out_dir.join("build");
    if fs::symlink_metadata(&work).is_ok() {
        fs::remove_dir_all(&work).map_err(io_error("cannot clear", &work))?;
    }
    let mounts = Mounts {
        source: work.join("src"),
        out: work.join("out"),
        cache: work.join("cache"),
        etc: work.join("etc"),
        workdir: Some(BUILD_PATH.to_string()),
        host_tools: Default::default(),
    };
    for dir in [&mounts.source, &mounts.out, &mounts.cache] {
        fs::create_dir_all(dir).map_err(io_error("cannot create", dir))?;
    }
    for name in std::iter::once(request.dsc).chain(control.files.iter().map(String::as_str)) {
        copy_regular(&request.source_dir.join(name), &mounts.source.join(name))?;
    }
    if let Some(entry) = request.binnmu_changelog {
        let entry = entry.trim_end();
        if entry.is_empty() || entry.len() > MAX_BINNMU_BYTES {
            return Err(DebianBuildError::Input(format!(
                "the binNMU changelog entry must be 1 to {MAX_BINNMU_BYTES} bytes, not {}",
                entry.len()
            )));
        }
        let path = mounts.source.join(BINNMU_FILE);
        fs::write(&path, format!("{entry}\n\n")).map_err(io_error("cannot write", &path))?;
    }

    sandbox::probe()?;
    let prepared = root::prepare(
        &RootSpec {
            release: request.release,
            architecture: request.architecture,
            mirror: request.mirror,
            build_depends: &control.build_depends,
        },
        request.cache,
        &log,
    )?;
    describe_root(&log, &prepared)?;
    let builder = BuilderRoot::Image {
        rootfs: prepared.tree.clone(),
        env: Vec::new(),
        reference: format!(
            "mmdebstrap {} {} build root",
            request.release, request.architecture
        ),
        digest: prepared.root.sha256.to_string(),
        served_by: None,
    };
    sandbox::write_etc(&builder, &mounts.etc)?;

    let env = BTreeMap::from([
        ("PATH".to_string(), sandbox::DEFAULT_PATH.to_string()),
        ("LC_ALL".to_string(), "C.UTF-8".to_string()),
        ("HOME".to_string(), "/sbuild-nonexistent".to_string()),
    ]);
    let started = Instant::now();
    let deadline = started + BUILD_TIME_LIMIT;
    let unpacked = control.unpacked_dir();
    let in_source = |script: &str, extra: &[&str]| -> Vec<String> {
        let mut argv: Vec<String> = ["sh", "-ec", script, "sh", unpacked.as_str()]
            .map(String::from)
            .to_vec();
        argv.extend(extra.iter().map(|s| s.to_string()));
        argv
    };
    let mut steps: Vec<(&str, Vec<String>)> = vec![(
        "dpkg-source",
        ["dpkg-source", "-x", request.dsc, unpacked.as_str()]
            .map(String::from)
            .to_vec(),
    )];
    if request.binnmu_changelog.is_some() {
        steps.push((
            "binNMU changelog",
            in_source(
                "cd \"$1\"; cat \"$2\" debian/changelog > /tmp/changelog; cat /tmp/changelog > debian/changelog",
                &[&format!("{BUILD_PATH}/{BINNMU_FILE}")],
            ),
        ));
    }
    steps.push((
        "dpkg-buildpackage",
        in_source("cd \"$1\"; exec dpkg-buildpackage -B -us -uc", &[]),
    ));
    for (name, argv) in &steps {
        sandbox::run(&Step {
            name,
            root: &builder,
            mounts: &mounts,
            argv,
            user: StepUser::Root,
            env: &env,
            network: false,
            tmp_size: sandbox::DEFAULT_TMP_SIZE,
            sandboxed: true,
            deadline,
            limit: BUILD_TIME_LIMIT,
            log: &log,
            stdout: None,
        })?;
    }
    tracing::info!(elapsed = ?started.elapsed(), "dpkg-buildpackage finished");

    let debs = collect_debs(&mounts.source, out_dir)?;
    if debs.is_empty() {
        return Err(DebianBuildError::NoDebs { log });
    }
    if let Err(e) = fs::remove_dir_all(&work) {
        // The build's own files (a directory it left without write
        // permission): the .debs are out already.
        tracing::warn!("cannot remove the build directory {}: {e}", work.display());
    }
    Ok(DebianBuild {
        debs,
        log,
        root: prepared.root,
    })
}

/// Reads and parses `source_dir/dsc`, a plain `.dsc` file name.
fn read_dsc(source_dir: &Path, dsc: &str) -> Result<SourceControl, DebianBuildError> {
    let path = source_dir.join(dsc);
    let error = |message: String| DebianBuildError::Dsc {
        path: path.clone(),
        message,
    };
    let plain = dsc.ends_with(".dsc")
        && !dsc.starts_with('.')
        && !dsc.contains('/')
        && dsc.chars().all(|c| c.is_ascii_graphic());
    if !plain {
        return Err(error("not a plain .dsc file name".to_string()));
    }
    let meta = fs::symlink_metadata(&path).map_err(|e| error(e.to_string()))?;
    if !meta.is_file() || meta.len() > MAX_DSC_BYTES {
        return Err(error(format!(
            "not a regular file of at most {MAX_DSC_BYTES} bytes"
        )));
    }
    let text = fs::read_to_string(&path).map_err(|e| error(e.to_string()))?;
    SourceControl::parse(&text).map_err(error)
}

/// Copies `from` to `to` if it is a regular file (never through a symlink).
fn copy_regular(from: &Path, to: &Path) -> Result<u64, DebianBuildError> {
    let meta = fs::symlink_metadata(from).map_err(io_error("cannot read", from))?;
    if !meta.is_file() {
        return Err(DebianBuildError::Input(format!(
            "{} is not a regular file",
            from.display()
        )));
    }
    fs::copy(from, to).map_err(io_error("cannot copy to", to))
}

/// The regular `*.deb` files the build left in `build_dir`, copied to `out_dir`.
fn collect_debs(build_dir: &Path, out_dir: &Path) -> Result<Vec<PathBuf>, DebianBuildError> {
    let mut debs = Vec::new();
    for entry in fs::read_dir(build_dir).map_err(io_error("cannot list", build_dir))? {
        let entry = entry.map_err(io_error("cannot list", build_dir))?;
        let name = entry.file_name();
        let Some(text) = name.to_str() else {
            continue;
        };
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if is_file && text.ends_with(".deb") && !text.starts_with('.') {
            let dest = out_dir.join(text);
            copy_regular(&entry.path(), &dest)?;
            debs.push(dest);
        }
    }
    debs.sort();
    Ok(debs)
}

/// Writes the root's identity, toolchain and packages to the log.
fn describe_root(log: &Path, prepared: &root::PreparedRoot) -> Result<(), DebianBuildError> {
    let mut file = fs::OpenOptions::new()
        .append(true)
        .open(log)
        .map_err(io_error("cannot write", log))?;
    let mut text = format!(
        "== build root {} (tarball {}, {})\n",
        prepared.tree.display(),
        prepared.root.sha256,
        if prepared.root.reused {
            "reused from the cache"
        } else {
            "made for this build"
        }
    );
    for (name, version) in &prepared.packages {
        text.push_str(&format!("   {name} {version}\n"));
    }
    file.write_all(text.as_bytes())
        .map_err(io_error("cannot write", log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_deb_files_the_build_left_are_taken() {
        let tmp = tempfile::tempdir().unwrap();
        let build_dir = tmp.path().join("build");
        let out_dir = tmp.path().join("out");
        fs::create_dir_all(build_dir.join("sub.deb")).unwrap();
        fs::create_dir_all(&out_dir).unwrap();
        fs::write(build_dir.join("tree_2.1.0-1_amd64.deb"), "deb").unwrap();
        fs::write(build_dir.join("tree_2.1.0-1_amd64.buildinfo"), "info").unwrap();
        fs::write(build_dir.join(".hidden.deb"), "deb").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", build_dir.join("passwd.deb")).unwrap();
        assert_eq!(
            collect_debs(&build_dir, &out_dir).unwrap(),
            [out_dir.join("tree_2.1.0-1_amd64.deb")]
        );
        assert_eq!(
            fs::read_to_string(out_dir.join("tree_2.1.0-1_amd64.deb")).unwrap(),
            "deb"
        );
        assert!(!out_dir.join("passwd.deb").exists());
    }

    #[test]
    fn a_dsc_name_that_is_a_path_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        for name in ["../x.dsc", "sub/x.dsc", ".x.dsc", "x.tar.gz"] {
            assert_eq!(
                read_dsc(tmp.path(), name).unwrap_err().to_string(),
                format!(
                    "{}: not a plain .dsc file name",
                    tmp.path().join(name).display()
                ),
            );
        }
    }
}
