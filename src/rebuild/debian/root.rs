//! The build root of a Debian package build: a minimal Debian system of the
//! release and architecture with the source package's build dependencies
//! installed, made once and kept in the cache.
//!
//! Made with `mmdebstrap` because it is Debian's own tool for exactly this
//! (sbuild's build chroots come from it) and needs no host root: in
//! `--mode=unshare` it runs apt and dpkg in a user namespace of its own.
//! `--variant=buildd` installs `build-essential` as Debian's buildds have
//! it, a customize hook runs `apt-get satisfy` on the `.dsc`'s
//! `Build-Depends` and `Build-Depends-Arch` inside the new root, and
//! `--format=tar` writes one tarball, whose sha256 names the root in
//! reports. apt inside checks the release's signature with the host's
//! Debian keyring, so every package comes from the signed archive.
//!
//! The tarball is unpacked (ownership ignored, setuid and setgid bits
//! dropped, entries that would leave the directory skipped by the `tar`
//! crate) into `debian-roots/KEY/tree` of the cache beside `root.json`
//! (the tarball's sha256 and the root's package list), and the whole entry
//! is sealed ([`Cache::seal_tree`]): a later build with the same key reuses
//! it, an entry that is not this machine's sealed tree is made again. The
//! key is everything that decides what mmdebstrap installs and that is
//! known without trusting an unsigned fetch: the release, architecture,
//! mirror and build dependencies. The archive moves on, so a root made
//! later may hold newer versions; `root.json` and [`BuildRoot::toolchain`]
//! say which were used.
//!
//! Debian records the versions its buildd used in `.buildinfo` files, from
//! which the root could be pinned; none is reachable from here
//! (buildinfos.debian.net and snapshot.debian.org are not), so roots use
//! the versions the mirror has now and that path is not built.
//!
//! Threat model: the mirror is untrusted (apt verifies it); the build
//! dependencies come from a `.dsc` verified against the signed index and are
//! checked to be package relations before they reach mmdebstrap's shell
//! hook; the cache directory may have been tampered with (the seal).

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use url::Url;

use super::error::{io_error, DebianBuildError};
use crate::distro::deb822;
use crate::image::cache::Cache;
use crate::image::digest::{hash_reader, Digest};
use crate::rebuild::sandbox;

/// The cache directory the roots live in.
const ROOTS_DIR: &str = "debian-roots";
/// Bumped when the way roots are made changes, so old ones are not reused.
const ROOT_FORMAT: &str = "mmdebstrap --mode=unshare --variant=buildd, v1";
/// How long mmdebstrap may take before it is killed.
const ROOT_TIME_LIMIT: Duration = Duration::from_secs(30 * 60);
/// The largest `/var/lib/dpkg/status` or `root.json` read from a root.
const MAX_STATUS_BYTES: u64 = 64 << 20;
/// The packages whose versions a build reports as its toolchain: exact
/// names, then name prefixes.
const TOOLCHAIN: &[&str] = &["gcc", "dpkg-dev", "debhelper", "libc6-dev", "dwz", "make"];
const TOOLCHAIN_PREFIXES: &[&str] = &["gcc-", "binutils"];

/// The build root a build ran on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildRoot {
    /// The sha256 of the tarball mmdebstrap wrote.
    pub sha256: Digest,
    /// Whether it came from the cache rather than being made for this build.
    pub reused: bool,
    /// Package → version of the compiler, binutils, libc and packaging
    /// tools in it (`gcc-12`, `binutils-x86-64-linux-gnu`, `libc6-dev`,
    /// `dpkg-dev`, `debhelper`, ...).
    pub toolchain: BTreeMap<String, String>,
}

/// A build root ready to be the sandbox's read-only root.
#[derive(Debug, Clone)]
pub struct PreparedRoot {
    /// The unpacked tree.
    pub tree: PathBuf,
    pub root: BuildRoot,
    /// Every installed package and its version.
    pub packages: BTreeMap<String, String>,
}

/// What a root was made for.
#[derive(Debug, Clone, Copy)]
pub struct RootSpec<'a> {
    pub release: &'a str,
    pub architecture: &'a str,
    pub mirror: &'a Url,
    /// On one line, as checked by [`super::dsc::SourceControl`]; empty: none.
    pub build_depends: &'a str,
}

/// What `root.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct RootRecord {
    tarball_sha256: String,
    packages: BTreeMap<String, String>,
}

impl RootSpec<'_> {
    /// The cache key: the sha256 of everything that decides the root.
    fn key(&self) -> String {
        let text = format!(
            "{ROOT_FORMAT}\nrelease={}\narchitecture={}\nmirror={}\nbuild-depends={}\n",
            self.release,
            self.architecture,
            self.mirror.as_str(),
            self.build_depends
        );
        Digest::of(text.as_bytes()).hex().to_string()
    }

    /// The mmdebstrap command line writing the root's tarball to `tarball`.
    pub fn mmdebstrap_argv(&self, tarball: &Path) -> Vec<String> {
        let mut argv: Vec<String> = [
            "mmdebstrap",
            "--mode=unshare",
            "--variant=buildd",
            "--format=tar",
        ]
        .map(String::from)
        .to_vec();
        argv.push(format!("--architectures={}", self.architecture));
        if !self.build_depends.is_empty() {
            // Safe in single quotes: the relation holds no quote (checked
            // by `SourceControl::parse`).
            argv.push(format!(
                "--customize-hook=chroot \"$1\" apt-get satisfy -y --no-install-recommends '{}'",
                self.build_depends
            ));
        }
        argv.extend([
            self.release.to_string(),
            tarball.display().to_string(),
            self.mirror.as_str().to_string(),
        ]);
        argv
    }
}

/// The root for `spec` from the cache, or made, unpacked and sealed there;
/// mmdebstrap's output goes to `log`.
pub fn prepare(
    spec: &RootSpec<'_>,
    cache: &Cache,
    log: &Path,
) -> Result<PreparedRoot, DebianBuildError> {
    check_word("release", spec.release)?;
    check_word("architecture", spec.architecture)?;
    if !matches!(spec.mirror.scheme(), "http" | "https") {
        return Err(DebianBuildError::Input(format!(
            "the mirror {} is not an http(s) URL",
            spec.mirror
        )));
    }
    let roots = cache.dir(ROOTS_DIR)?;
    let key = spec.key();
    let entry = roots.join(&key);
    let seal_name = format!("debian-root-{key}");
    if entry.is_dir() {
        if cache.tree_is_sealed(&seal_name, &entry) {
            return read_entry(&entry, true);
        }
        tracing::warn!(
            "the build root {} is not the tree this machine sealed; making it again",
            entry.display()
        );
        fs::remove_dir_all(&entry).map_err(io_error("cannot remove", &entry))?;
    }
    let staging = tempfile::Builder::new()
        .prefix(".making-")
        .tempdir_in(&roots)
        .map_err(io_error("cannot create a directory in", &roots))?;
    let tarball = staging.path().join("root.tar");
    run_mmdebstrap(&spec.mmdebstrap_argv(&tarball), log)?;
    let (tarball_sha256, _) = File::open(&tarball)
        .and_then(hash_reader)
        .map_err(io_error("cannot read", &tarball))?;
    let tree = staging.path().join("tree");
    unpack(&tarball, &tree)?;
    fs::remove_file(&tarball).map_err(io_error("cannot remove", &tarball))?;
    let record = RootRecord {
        tarball_sha256: tarball_sha256.hex().to_string(),
        packages: installed_packages(&tree)?,
    };
    let record_path = staging.path().join("root.json");
    let json = serde_json::to_vec_pretty(&record)
        .map_err(|e| DebianBuildError::Input(format!("cannot write root.json: {e}")))?;
    fs::write(&record_path, json).map_err(io_error("cannot write", &record_path))?;
    let staged = staging.keep();
    if fs::rename(&staged, &entry).is_err() {
        // Another build made the same root first: use theirs.
        let _ = fs::remove_dir_all(&staged);
        return read_entry(&entry, true);
    }
    cache
        .seal_tree(&seal_name, &entry)
        .map_err(io_error("cannot seal", &entry))?;
    read_entry(&entry, false)
}

/// A release or architecture name: lower-case letters, digits, `-`.
fn check_word(what: &str, value: &str) -> Result<(), DebianBuildError> {
    let valid = !value.is_empty()
        && !value.starts_with('-')
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(DebianBuildError::Input(format!(
            "{what} {value:?} is not a Debian {what} name"
        )))
    }
}

fn run_mmdebstrap(argv: &[String], log: &Path) -> Result<(), DebianBuildError> {
    let log_file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(io_error("cannot write", log))?;
    let clone = |file: &File| file.try_clone().map_err(io_error("cannot write", log));
    use std::io::Write;
    writeln!(&log_file, "== build root\n$ {}", sandbox::shell_words(argv))
        .map_err(io_error("cannot write", log))?;
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| DebianBuildError::Input("empty mmdebstrap command".to_string()))?;
    let spawn_error = |source| DebianBuildError::Root {
        message: format!(
            "cannot start {program}: {source} (Debian: apt-get install mmdebstrap uidmap)"
        ),
        log: log.to_path_buf(),
    };
    let handle = duct::cmd(program, args)
        .stdin_null()
        .stdout_file(clone(&log_file)?)
        .stderr_file(clone(&log_file)?)
        .unchecked()
        .start()
        .map_err(spawn_error)?;
    let deadline = Instant::now() + ROOT_TIME_LIMIT;
    let status = loop {
        if let Some(output) = handle.try_wait().map_err(spawn_error)? {
            break output.status;
        }
        if Instant::now() >= deadline {
            let _ = handle.kill();
            return Err(DebianBuildError::Root {
                message: format!(
                    "mmdebstrap exceeded {} and was killed\n{}",
                    humantime::format_duration(ROOT_TIME_LIMIT),
                    sandbox::tail(log)
                ),
                log: log.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if status.success() {
        return Ok(());
    }
    Err(DebianBuildError::Root {
        message: format!("mmdebstrap failed ({status})\n{}", sandbox::tail(log)),
        log: log.to_path_buf(),
    })
}

/// Unpacks the root's tarball into `tree`: ownership not restored,
/// permissions without setuid, setgid and sticky bits, no extended
/// attributes, entries outside `tree` skipped.
fn unpack(tarball: &Path, tree: &Path) -> Result<(), DebianBuildError> {
    fs::create_dir_all(tree).map_err(io_error("cannot create", tree))?;
    let file = File::open(tarball).map_err(io_error("cannot read", tarball))?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    archive.set_preserve_ownerships(false);
    archive.set_preserve_permissions(false);
    archive.set_unpack_xattrs(false);
    archive.set_overwrite(false);
    archive
        .unpack(tree)
        .map_err(io_error("cannot unpack the build root into", tree))
}

/// Every installed package of the root, from its `/var/lib/dpkg/status`.
fn installed_packages(tree: &Path) -> Result<BTreeMap<String, String>, DebianBuildError> {
    let path = tree.join("var/lib/dpkg/status");
    let meta = fs::symlink_metadata(&path).map_err(io_error("cannot read", &path))?;
    if !meta.is_file() || meta.len() > MAX_STATUS_BYTES {
        return Err(DebianBuildError::Input(format!(
            "{} is not a regular file of at most {MAX_STATUS_BYTES} bytes",
            path.display()
        )));
    }
    let text = fs::read_to_string(&path).map_err(io_error("cannot read", &path))?;
    let paragraphs = deb822::parse(&text, false)
        .map_err(|e| DebianBuildError::Input(format!("{}: {e}", path.display())))?;
    Ok(paragraphs
        .iter()
        .filter(|p| p.get("Status").is_some_and(|s| s.ends_with(" installed")))
        .filter_map(|p| Some((p.get("Package")?.to_string(), p.get("Version")?.to_string())))
        .collect())
}

/// The toolchain's packages among `packages`.
fn toolchain(packages: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    packages
        .iter()
        .filter(|(name, _)| {
            TOOLCHAIN.contains(&name.as_str())
                || TOOLCHAIN_PREFIXES.iter().any(|p| name.starts_with(p))
        })
        .map(|(name, version)| (name.clone(), version.clone()))
        .collect()
}

fn read_entry(entry: &Path, reused: bool) -> Result<PreparedRoot, DebianBuildError> {
    let path = entry.join("root.json");
    let meta = fs::symlink_metadata(&path).map_err(io_error("cannot read", &path))?;
    if !meta.is_file() || meta.len() > MAX_STATUS_BYTES {
        return Err(DebianBuildError::Input(format!(
            "{} is not a regular file of at most {MAX_STATUS_BYTES} bytes",
            path.display()
        )));
    }
    let bytes = fs::read(&path).map_err(io_error("cannot read", &path))?;
    let record: RootRecord = serde_json::from_slice(&bytes)
        .map_err(|e| DebianBuildError::Input(format!("{}: {e}", path.display())))?;
    let sha256 = Digest::from_hex(&record.tarball_sha256).ok_or_else(|| {
        DebianBuildError::Input(format!(
            "{}: tarball_sha256 is not a sha256",
            path.display()
        ))
    })?;
    Ok(PreparedRoot {
        tree: entry.join("tree"),
        root: BuildRoot {
            sha256,
            reused,
            toolchain: toolchain(&record.packages),
        },
        packages: record.packages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_installs_the_build_dependencies_and_the_key_follows_every_input() {
        let mirror = Url::parse("http://deb.debian.org/debian").unwrap();
        let spec = RootSpec {
            release: "bookworm",
            architecture: "amd64",
            mirror: &mirror,
            build_depends: "debhelper-compat (= 13)",
        };
        assert_eq!(
            spec.mmdebstrap_argv(Path::new("/c/root.tar")),
            [
                "mmdebstrap",
                "--mode=unshare",
                "--variant=buildd",
                "--format=tar",
                "--architectures=amd64",
                "--customize-hook=chroot \"$1\" apt-get satisfy -y --no-install-recommends 'debhelper-compat (= 13)'",
                "bookworm",
                "/c/root.tar",
                "http://deb.debian.org/debian",
            ]
        );
        let other_deps = RootSpec {
            build_depends: "debhelper-compat (= 12)",
            ..spec
        };
        let other_release = RootSpec {
            release: "trixie",
            ..spec
        };
        assert_ne!(spec.key(), other_deps.key());
        assert_ne!(spec.key(), other_release.key());
        assert_eq!(spec.key(), spec.key());
    }

    #[test]
    fn the_toolchain_is_the_compiler_binutils_libc_and_packaging_tools() {
        let packages: BTreeMap<String, String> = [
            ("gcc-12", "12.2.0-14"),
            ("gcc-12-base", "12.2.0-14"),
            ("binutils-x86-64-linux-gnu", "2.40-2"),
            ("libc6-dev", "2.36-9+deb12u10"),
            ("dpkg-dev", "1.21.22"),
            ("bash", "5.2.15-2+b7"),
            ("gccgo", "x"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
        assert_eq!(
            toolchain(&packages).keys().collect::<Vec<_>>(),
            [
                "binutils-x86-64-linux-gnu",
                "dpkg-dev",
                "gcc-12",
                "gcc-12-base",
                "libc6-dev"
            ]
        );
    }

    #[test]
    fn unpacking_drops_setuid_bits_and_skips_entries_leaving_the_tree() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let tarball = tmp.path().join("root.tar");
        let mut builder = tar::Builder::new(File::create(&tarball).unwrap());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o4755);
        builder
            .append_data(&mut header, "usr/bin/su", &b"su"[..])
            .unwrap();
        builder.into_inner().unwrap();
        let tree = tmp.path().join("tree");
        unpack(&tarball, &tree).unwrap();
        let mode = fs::metadata(tree.join("usr/bin/su"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755);

        let escaping = tmp.path().join("escaping.tar");
        let mut raw = tar::Header::new_gnu();
        raw.set_size(1);
        raw.set_mode(0o644);
        raw.as_gnu_mut().unwrap().name[..10].copy_from_slice(b"../outside");
        raw.set_cksum();
        let mut builder = tar::Builder::new(File::create(&escaping).unwrap());
        builder.append(&raw, &b"x"[..]).unwrap();
        builder.into_inner().unwrap();
        let tree = tmp.path().join("tree2");
        unpack(&escaping, &tree).unwrap();
        assert!(!tmp.path().join("outside").exists());
        assert_eq!(fs::read_dir(&tree).unwrap().count(), 0);
    }

    #[test]
    fn release_and_architecture_are_plain_names() {
        assert!(check_word("release", "bookworm-backports").is_ok());
        assert_eq!(
            check_word("release", "--help").unwrap_err().to_string(),
            "release \"--help\" is not a Debian release name"
        );
    }
}
