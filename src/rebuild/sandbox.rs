//! Sandbox: runs a recipe's build steps inside bubblewrap.
//!
//! The third stage of the rebuild side. Every step runs as an unprivileged
//! build user (uid/gid 1000), or as root of the build's own user namespace
//! when it asks to ([`StepUser::Root`]: uid/gid 0 there, mapped to the
//! calling user outside, no host privileges), with all namespaces unshared, a read-only root
//! (the host's system directories and Rust toolchain, or a builder image's
//! unpacked rootfs), an `/etc` of its own (generated `passwd`, `group`,
//! `hosts`, `resolv.conf`;
//! for `host` only the few host files builds need), the source read-write at
//! `/src` (and at the recipe's workdir, spliced into the read-only root),
//! `/out` and `/cache` writable, a private size-capped `/tmp`, fresh `/dev`
//! and `/proc`, and an environment built from nothing. A network step
//! (`fetch`) gets a network namespace of its own wired to the outside by
//! slirp4netns, without the host's loopback and link-local addresses.
//! A deadline kills the whole process tree. `--no-sandbox` runs the same
//! step as a plain process (same cleared environment) and is reported as
//! unsandboxed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::host_tools::HostTools;

/// Where the source checkout is mounted, read-write.
pub const SOURCE_MOUNT: &str = "/src";
/// Where the build may leave files, writable.
pub const OUT_MOUNT: &str = "/out";
/// Where the dependency cache is mounted, writable (recipes point
/// `GOMODCACHE`, `CARGO_HOME`, ... there through their env).
pub const CACHE_MOUNT: &str = "/cache";
/// `PATH` inside the sandbox unless the builder image's Env sets one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The user and group every sandboxed step runs as, inside its namespace.
pub const BUILD_UID: u32 = 1000;
pub const BUILD_GID: u32 = 1000;
/// Who a step runs as inside its user namespace (it holds one uid and one
/// gid, both mapped to the calling user outside: neither is privileged on
/// the host).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepUser {
    /// The build user, uid/gid [`BUILD_UID`]/[`BUILD_GID`].
    #[default]
    Build,
    /// uid/gid 0 of the namespace: for builds that chown, or whose tools
    /// insist on root (`dpkg-buildpackage`, whose `fakeroot` cannot work in
    /// a one-uid namespace).
    Root,
}

impl StepUser {
    /// The uid and gid inside the namespace.
    pub fn ids(self) -> (u32, u32) {
        match self {
            Self::Build => (BUILD_UID, BUILD_GID),
            Self::Root => (0, 0),
        }
    }
}

/// The size cap of the sandbox's `/tmp` (a tmpfs, in memory) unless `--tmp-size` says otherwise.
pub const DEFAULT_TMP_SIZE: u64 = 4 << 30;
/// The resolver a network step's `/etc/resolv.conf` names: slirp4netns's
/// forwarder to the host's own resolver.
const SLIRP_DNS: &str = "10.0.2.3";
/// Destinations a network step cannot route to, on top of the host's
/// loopback that slirp4netns already refuses: link-local, where cloud
/// metadata endpoints (169.254.169.254) live.
const UNREACHABLE: &[&str] = &["169.254.0.0/16"];

/// The host directories a `host` builder sees, read-only (those that exist).
const HOST_SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
/// What a `host` builder sees of the host's `/etc` (those that exist), all
/// public configuration builds need: alternatives (`cc`, `java`, ...), CA
/// certificates (never `ssl/private`), the dynamic linker's cache and
/// config, name-service and resolver config, protocol and service names,
/// the OS release, the JDK's config. Never `shadow`, `gitconfig`, `ssh`,
/// package-manager credentials (`pip.conf`, `npmrc`), `machine-id` or the
/// host's `hosts`, `passwd` and `group` (generated instead, see [`write_etc`]).
const HOST_ETC: &[&str] = &[
    "alternatives",
    "ca-certificates",
    "ca-certificates.conf",
    "ssl/certs",
    "ssl/openssl.cnf",
    "pki/tls/certs",
    "pki/ca-trust",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "nsswitch.conf",
    "host.conf",
    "gai.conf",
    "protocols",
    "services",
    "os-release",
    "mtab",
];
/// Host `/etc` entries whose name starts with one of these are shown too
/// (the JDK's `java-17-openjdk`, ...).
const HOST_ETC_PREFIXES: &[&str] = &["java-"];
/// The files the sandbox writes for its `/etc` (see [`write_etc`]); they
/// replace the builder image's own.
const GENERATED_ETC: &[&str] = &["passwd", "group", "hosts", "resolv.conf"];
/// The largest image `passwd` or `group` file read to add the build user.
const MAX_ETC_FILE: u64 = 1 << 20;
/// Top-level names the sandbox provides itself, never taken from a rootfs.
const PROVIDED: &[&str] = &["proc", "dev", "tmp", "src", "out", "cache", "etc"];
/// Lines of the log shown when a step fails.
const TAIL_LINES: usize = 20;

/// What a build runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuilderRoot {
    /// The host's system directories, read-only.
    Host,
    /// A builder image: its unpacked rootfs is the read-only root and its
    /// config `Env` (`KEY=VALUE`) the base environment.
    Image {
        rootfs: PathBuf,
        env: Vec<String>,
        reference: String,
        digest: String,
        /// The registries.conf mirror (or rewritten location) it was read
        /// through, if any (not written with the builder; a report notes it).
        served_by: Option<crate::image::mirrors::ServedBy>,
    },
}

impl Serialize for BuilderRoot {
    /// `"host"`, or `{"reference": ..., "digest": ...}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        match self {
            Self::Host => s.serialize_str("host"),
            Self::Image {
                reference, digest, ..
            } => {
                let mut out = s.serialize_struct("Builder", 2)?;
                out.serialize_field("reference", reference)?;
                out.serialize_field("digest", digest)?;
                out.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for BuilderRoot {
    /// Reads what [`BuilderRoot::serialize`] wrote, as a report read back:
    /// an image's unpacked rootfs and environment are not in it, so they
    /// come back empty (such a value names a builder, it cannot build).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Host(String),
            Image { reference: String, digest: String },
        }
        match Written::deserialize(d)? {
            Written::Host(host) if host == "host" => Ok(Self::Host),
            Written::Host(other) => Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(&other),
                &"\"host\" or an image's reference and digest",
            )),
            Written::Image { reference, digest } => Ok(Self::Image {
                rootfs: PathBuf::new(),
                env: Vec::new(),
                reference,
                digest,
                served_by: None,
            }),
        }
    }
}

/// Why a step could not run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("bwrap (bubblewrap) is not installed: install it (Debian: apt-get install bubblewrap) or pass --no-sandbox to build without isolation")]
    Missing,
    #[error("bwrap cannot create a sandbox here ({reason}): allow unprivileged user namespaces or run where bwrap works, or pass --no-sandbox to build without isolation")]
    Unavailable { reason: String },
    #[error("the recipe's fetch step needs a network namespace of its own, which cannot be set up here ({reason}): install slirp4netns, iproute2 and util-linux (Debian: apt-get install slirp4netns iproute2 util-linux) and allow user namespaces, or pass --no-sandbox to fetch with the host's network")]
    NetworkUnavailable { reason: String },
    #[error("cannot write the sandbox's /etc in {path}: {source}")]
    Etc {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot list the builder rootfs {path}: {source}")]
    Rootfs {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write build log {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot put the source at the workdir {workdir}: {inside} is {what} in the builder's root; pick a workdir whose parent directories are directories there")]
    WorkdirBlocked {
        workdir: String,
        inside: String,
        what: &'static str,
    },
    #[error("cannot start {step} ({program}): {source}")]
    Spawn {
        step: String,
        program: String,
        source: std::io::Error,
    },
    #[error("{step} failed ({status}); log: {}\n{tail}", log.display())]
    Failed {
        step: String,
        status: String,
        log: PathBuf,
        tail: String,
    },
    #[error("{step} exceeded the build time limit of {} and was killed; log: {}\n{tail}", humantime::format_duration(*limit), log.display())]
    TimedOut {
        step: String,
        limit: Duration,
        log: PathBuf,
        tail: String,
    },
}

/// The host directories behind the sandbox's fixed mount points.
#[derive(Debug, Clone)]
pub struct Mounts {
    /// Mounted at [`SOURCE_MOUNT`]; the working directory.
    pub source: PathBuf,
    /// Mounted at [`OUT_MOUNT`].
    pub out: PathBuf,
    /// Mounted at [`CACHE_MOUNT`].
    pub cache: PathBuf,
    /// Holds the sandbox's generated `/etc` files (see [`write_etc`]).
    pub etc: PathBuf,
    /// The recipe's workdir: where `source` is mounted too, and the working
    /// directory. `None`: [`SOURCE_MOUNT`] alone.
    pub workdir: Option<String>,
    /// What of the host a `host` builder sees besides its system directories.
    pub host_tools: HostTools,
}

impl Mounts {
    /// The steps' working directory inside the sandbox.
    pub fn working_dir(&self) -> &str {
        self.workdir.as_deref().unwrap_or(SOURCE_MOUNT)
    }
}

/// One command to run in the sandbox.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// Names the step in logs and errors (`fetch`, `command`).
    pub name: &'a str,
    pub root: &'a BuilderRoot,
    pub mounts: &'a Mounts,
    pub argv: &'a [String],
    /// Who the command runs as inside the sandbox (without the sandbox:
    /// the calling user, whatever this says).
    pub user: StepUser,
    /// The complete environment (see [`base_env`]).
    pub env: &'a BTreeMap<String, String>,
    /// Whether the step has a network: its own namespace, wired to the
    /// outside by slirp4netns (the host's, with `--no-sandbox`).
    pub network: bool,
    /// The size cap of `/tmp`, in bytes.
    pub tmp_size: u64,
    /// `false` (`--no-sandbox`): a plain process in the source directory, with
    /// `/src`, `/out`, `/cache` at the start of arguments and env values
    /// rewritten to the host directories.
    pub sandboxed: bool,
    /// When the step is killed, and the limit that deadline came from (for the message).
    pub deadline: Instant,
    pub limit: Duration,
    /// stdout and stderr are appended here.
    pub log: &'a Path,
    /// If given, stdout goes to this file instead of the log.
    pub stdout: Option<&'a Path>,
}

/// Checks once that bwrap exists and can create all namespaces here.
pub fn probe() -> Result<(), SandboxError> {
    let output = duct::cmd(
        "bwrap",
        [
            "--unshare-all",
            "--die-with-parent",
            "--ro-bind",
            "/",
            "/",
            "true",
        ],
    )
    .stdout_null()
    .stderr_capture()
    .unchecked()
    .run();
    match output {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SandboxError::Missing),
        Err(e) => Err(SandboxError::Unavailable {
            reason: e.to_string(),
        }),
        Ok(out) if out.status.success() => Ok(()),
        Ok(out) => Err(SandboxError::Unavailable {
            reason: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        }),
    }
}

/// The environment every step starts from: fixed `PATH`, `HOME=/tmp`,
/// `TZ=UTC`, `LC_ALL=C.UTF-8`, `SOURCE_DATE_EPOCH`, then the builder image's
/// Env on top. The recipe's env goes on top of this.
pub fn base_env(root: &BuilderRoot, source_date_epoch: i64) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        ("PATH".to_string(), DEFAULT_PATH.to_string()),
        ("HOME".to_string(), "/tmp".to_string()),
        ("TZ".to_string(), "UTC".to_string()),
        ("LC_ALL".to_string(), "C.UTF-8".to_string()),
        (
            "SOURCE_DATE_EPOCH".to_string(),
            source_date_epoch.to_string(),
        ),
    ]);
    if let BuilderRoot::Image { env: image_env, .. } = root {
        for entry in image_env {
            if let Some((key, value)) = entry.split_once('=') {
                env.insert(key.to_string(), value.to_string());
            }
        }
    }
    env
}

/// Parses a size for `--tmp-size`: bytes, or a number with `K`, `M`, `G`
/// or `T` (powers of 1024, optionally followed by `iB` or `B`): `4G`,
/// `512MiB`, `1048576`. Zero is refused: a tmpfs of size 0 has no cap.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let invalid = || {
        format!("{text:?} is not a size: use bytes or a number with K, M, G or T (1024-based), like 4G or 512M")
    };
    let trimmed = text.trim();
    let digits = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(digits);
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.trim().to_ascii_uppercase();
    let unit = unit
        .strip_suffix("IB")
        .or_else(|| unit.strip_suffix('B'))
        .unwrap_or(&unit);
    let shift = match unit {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(invalid()),
    };
    let bytes = number.checked_mul(1 << shift).ok_or_else(invalid)?;
    if bytes == 0 {
        return Err(format!(
            "{text:?}: the size of /tmp must be above zero (a tmpfs of size 0 is uncapped)"
        ));
    }
    Ok(bytes)
}

/// Checks once that a network step can get a network namespace of its own
/// (`unshare`) wired to the outside (`slirp4netns`, `ip`).
pub fn probe_network() -> Result<(), SandboxError> {
    let checks: [&[&str]; 3] = [
        &["unshare", "--map-root-user", "--net", "true"],
        &["slirp4netns", "--version"],
        &["ip", "-V"],
    ];
    for check in checks {
        let (program, args) = check.split_first().unwrap_or((&"true", &[]));
        let output = duct::cmd(*program, args.iter().copied())
            .stdout_null()
            .stderr_capture()
            .unchecked()
            .run();
        let reason = match output {
            Ok(out) if out.status.success() => continue,
            Ok(out) => format!(
                "{}: {}",
                check.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => format!("{program}: {e}"),
        };
        return Err(SandboxError::NetworkUnavailable { reason });
    }
    Ok(())
}

/// Writes the files the sandbox's `/etc` is made of into `dir`: `passwd`
/// and `group` with root, the build user (uid/gid [`BUILD_UID`]) and
/// nobody; `hosts` naming localhost only; `resolv.conf` naming
/// slirp4netns's resolver. A builder image keeps its own `passwd` and
/// `group` (regular files only, up to 1 MiB), with the build user added
/// when it has no entry with that id.
pub fn write_etc(root: &BuilderRoot, dir: &Path) -> Result<(), SandboxError> {
    let etc_error = |source| SandboxError::Etc {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(etc_error)?;
    let (passwd, group) = match root {
        BuilderRoot::Host => (
            format!(
                "root:x:0:0:root:/root:/usr/sbin/nologin\n\
                 build:x:{BUILD_UID}:{BUILD_GID}:build:/tmp:/bin/sh\n\
                 nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
            ),
            format!("root:x:0:\nbuild:x:{BUILD_GID}:\nnogroup:x:65534:\n"),
        ),
        BuilderRoot::Image { rootfs, .. } => (
            with_entry(
                image_etc_file(rootfs, "passwd"),
                BUILD_UID,
                &format!("build:x:{BUILD_UID}:{BUILD_GID}:build:/tmp:/bin/sh"),
            ),
            with_entry(
                image_etc_file(rootfs, "group"),
                BUILD_GID,
                &format!("build:x:{BUILD_GID}:"),
            ),
        ),
    };
    let files = [
        ("passwd", passwd),
        ("group", group),
        (
            "hosts",
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n".to_string(),
        ),
        ("resolv.conf", format!("nameserver {SLIRP_DNS}\n")),
    ];
    for (name, text) in files {
        std::fs::write(dir.join(name), text).map_err(etc_error)?;
    }
    Ok(())
}

/// An image's `/etc/NAME` if it is a regular file of at most 1 MiB (never
/// following a symlink, which would be read on the host); else empty.
fn image_etc_file(rootfs: &Path, name: &str) -> String {
    let path = rootfs.join("etc").join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) if meta.is_file() && meta.len() <= MAX_ETC_FILE => {
            std::fs::read_to_string(&path).unwrap_or_default()
        }
        _ => String::new(),
    }
}

/// `text` (a `passwd` or `group` file) with `line` added unless an entry
/// already has `id` in its third field.
fn with_entry(mut text: String, id: u32, line: &str) -> String {
    let id = id.to_string();
    if text
        .lines()
        .any(|entry| entry.split(':').nth(2) == Some(id.as_str()))
    {
        return text;
    }
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
    text.push('\n');
    text
}

/// The script a network step starts with, in its new network namespace
/// (as root of a new user namespace, so it may configure it): wait up to
/// 10 s for slirp4netns to bring the default route up, make the
/// [`UNREACHABLE`] ranges unroutable, then become bwrap, whose build user
/// can change none of it.
fn network_script() -> String {
    let routes: String = UNREACHABLE
        .iter()
        .map(|range| format!("ip route add unreachable {range} || exit 1; "))
        .collect();
    format!(
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin; i=0; \
         until ip route show default | grep -q .; do \
         i=$((i+1)); if [ $i -gt 400 ]; then echo 'slirp4netns did not bring the network up' >&2; exit 1; fi; \
         sleep 0.025; done; {routes}exec \"$@\""
    )
}

/// The program and arguments that run `step`: a `bwrap` command line (for
/// a network step, started by `unshare` in a network namespace of its own),
/// or the step's own argv without the sandbox. Same step, same command line.
pub fn command_line(step: &Step<'_>) -> Result<Vec<String>, SandboxError> {
    if !step.sandboxed {
        return Ok(step
            .argv
            .iter()
            .map(|arg| unsandboxed_value(step.mounts, arg))
            .collect());
    }
    let mut args: Vec<String> = Vec::new();
    if step.network {
        args.extend(["unshare", "--map-root-user", "--net", "--", "sh", "-c"].map(String::from));
        args.push(network_script());
        args.push("sh".into());
    }
    args.extend(["bwrap", "--unshare-all"].map(String::from));
    if step.network {
        // The namespace `unshare` made, which slirp4netns wires up.
        args.push("--share-net".into());
    }
    let (uid, gid) = step.user.ids();
    args.extend(
        [
            "--unshare-user",
            "--uid",
            &uid.to_string(),
            "--gid",
            &gid.to_string(),
            "--die-with-parent",
            "--new-session",
            "--clearenv",
        ]
        .map(String::from),
    );
    let workdir: Vec<&str> = step
        .mounts
        .workdir
        .as_deref()
        .map(|w| w.split('/').filter(|c| !c.is_empty()).collect())
        .unwrap_or_default();
    let mut root_entries: Vec<(PathBuf, String)> = Vec::new();
    match step.root {
        BuilderRoot::Host => {
            for dir in HOST_SYSTEM_DIRS {
                root_entries.push((PathBuf::from(dir), dir.to_string()));
            }
            for tool in &step.mounts.host_tools.binds {
                root_entries.push((tool.clone(), tool.display().to_string()));
            }
        }
        BuilderRoot::Image { rootfs, .. } => {
            for name in sorted_names(rootfs)? {
                let text = name.to_string_lossy();
                if PROVIDED.contains(&text.as_ref()) {
                    continue;
                }
                root_entries.push((rootfs.join(&name), format!("/{text}")));
            }
        }
    }
    for (host, inside) in &root_entries {
        match workdir.split_first() {
            Some((top, rest)) if inside.strip_prefix('/') == Some(*top) => {
                splice(&mut args, host, inside, rest, step.mounts.working_dir())?;
            }
            _ => add_root_entry(&mut args, host, inside),
        }
    }
    add_etc(&mut args, step.root, &step.mounts.etc)?;
    let path = |p: &Path| p.display().to_string();
    args.extend([
        "--proc".into(),
        "/proc".into(),
        "--dev".into(),
        "/dev".into(),
        "--size".into(),
        step.tmp_size.to_string(),
        "--tmpfs".into(),
        "/tmp".into(),
        "--bind".into(),
        path(&step.mounts.source),
        SOURCE_MOUNT.into(),
        "--bind".into(),
        path(&step.mounts.out),
        OUT_MOUNT.into(),
        "--bind".into(),
        path(&step.mounts.cache),
        CACHE_MOUNT.into(),
    ]);
    if let Some(workdir) = &step.mounts.workdir {
        args.extend(["--bind".into(), path(&step.mounts.source), workdir.clone()]);
    }
    args.extend([
        "--remount-ro".into(),
        "/".into(),
        "--chdir".into(),
        step.mounts.working_dir().into(),
    ]);
    for (key, value) in step.env {
        args.extend(["--setenv".into(), key.clone(), value.clone()]);
    }
    args.push("--".into());
    args.extend(step.argv.iter().cloned());
    Ok(args)
}

/// The entries of a directory of the builder's root, sorted.
fn sorted_names(dir: &Path) -> Result<Vec<std::ffi::OsString>, SandboxError> {
    let rootfs_error = |source| SandboxError::Rootfs {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(rootfs_error)? {
        names.push(entry.map_err(rootfs_error)?.file_name());
    }
    names.sort();
    Ok(names)
}

/// The sandbox's `/etc`: a directory of its own (read-only) root holding
/// the generated files of `generated` (see [`write_etc`]) and, for `host`,
/// the [`HOST_ETC`] entries of the host's `/etc`; for an image, every
/// other entry of the image's `/etc` (a directory, not a symlink).
fn add_etc(
    args: &mut Vec<String>,
    root: &BuilderRoot,
    generated: &Path,
) -> Result<(), SandboxError> {
    args.extend(["--dir".into(), "/etc".into()]);
    match root {
        BuilderRoot::Host => {
            let host_etc = Path::new("/etc");
            let mut names: Vec<String> = HOST_ETC.iter().map(|n| n.to_string()).collect();
            if let Ok(entries) = sorted_names(host_etc) {
                for name in entries {
                    let name = name.to_string_lossy().into_owned();
                    if HOST_ETC_PREFIXES.iter().any(|p| name.starts_with(p)) {
                        names.push(name);
                    }
                }
            }
            for name in names {
                add_root_entry(args, &host_etc.join(&name), &format!("/etc/{name}"));
            }
        }
        BuilderRoot::Image { rootfs, .. } => {
            let image_etc = rootfs.join("etc");
            let is_dir = std::fs::symlink_metadata(&image_etc).is_ok_and(|m| m.is_dir());
            if is_dir {
                for name in sorted_names(&image_etc)? {
                    let text = name.to_string_lossy();
                    if !GENERATED_ETC.contains(&text.as_ref()) {
                        add_root_entry(args, &image_etc.join(&name), &format!("/etc/{text}"));
                    }
                }
            }
        }
    }
    for name in GENERATED_ETC {
        args.extend([
            "--ro-bind".into(),
            generated.join(name).display().to_string(),
            format!("/etc/{name}"),
        ]);
    }
    Ok(())
}

/// Without the sandbox the fixed mount points do not exist: a value that
/// starts with `/src`, `/out` or `/cache` (as a whole path component) is
/// rewritten to the host directory behind it, so nothing lands in the host's `/`.
fn unsandboxed_value(mounts: &Mounts, value: &str) -> String {
    for (mount, host) in [
        (SOURCE_MOUNT, &mounts.source),
        (OUT_MOUNT, &mounts.out),
        (CACHE_MOUNT, &mounts.cache),
    ] {
        if let Some(rest) = value.strip_prefix(mount) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("{}{rest}", host.display());
            }
        }
    }
    value.to_string()
}

/// Makes room for the workdir inside a directory of the root (`host`, seen
/// at `inside`) instead of binding it whole: `inside` becomes a directory of
/// the sandbox's own (read-only) root holding every entry of `host` bound as
/// usual, except the next component of the workdir (`rest[0]`), which is
/// spliced the same way, or, as the last component, left for the checkout's
/// bind. A symlink or file on the way is an error: the checkout cannot sit
/// below it.
fn splice(
    args: &mut Vec<String>,
    host: &Path,
    inside: &str,
    rest: &[&str],
    workdir: &str,
) -> Result<(), SandboxError> {
    let Some((next, deeper)) = rest.split_first() else {
        // The workdir itself: the checkout's bind replaces whatever the root has here.
        return Ok(());
    };
    let blocked = |what| SandboxError::WorkdirBlocked {
        workdir: workdir.to_string(),
        inside: inside.to_string(),
        what,
    };
    let Ok(meta) = std::fs::symlink_metadata(host) else {
        // Not in the root: bwrap creates the directories on the way in the sandbox's own root.
        return Ok(());
    };
    if meta.file_type().is_symlink() {
        return Err(blocked("a symlink"));
    }
    if !meta.is_dir() {
        return Err(blocked("a file"));
    }
    args.extend(["--dir".into(), inside.to_string()]);
    for name in sorted_names(host)? {
        let text = name.to_string_lossy();
        let child_inside = format!("{inside}/{text}");
        if text == *next {
            splice(args, &host.join(&name), &child_inside, deeper, workdir)?;
        } else {
            add_root_entry(args, &host.join(&name), &child_inside);
        }
    }
    Ok(())
}

/// Binds one top-level entry of the root: symlinks are recreated (merged-usr
/// `/bin -> usr/bin`), directories and files bound read-only, missing ones skipped.
fn add_root_entry(args: &mut Vec<String>, host: &Path, inside: &str) {
    let Ok(meta) = std::fs::symlink_metadata(host) else {
        return;
    };
    if meta.file_type().is_symlink() {
        if let Ok(target) = std::fs::read_link(host) {
            args.extend([
                "--symlink".into(),
                target.display().to_string(),
                inside.to_string(),
            ]);
        }
    } else {
        args.extend([
            "--ro-bind".into(),
            host.display().to_string(),
            inside.to_string(),
        ]);
    }
}

/// Runs `step`, appending its output to the log; kills it at the deadline.
pub fn run(step: &Step<'_>) -> Result<(), SandboxError> {
    let argv = command_line(step)?;
    let log_error = |source| SandboxError::Log {
        path: step.log.to_path_buf(),
        source,
    };
    let mut log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(step.log)
        .map_err(log_error)?;
    writeln!(
        log,
        "== {} ({}{})\n$ {}",
        step.name,
        if step.sandboxed {
            "sandboxed"
        } else {
            "NOT sandboxed"
        },
        if step.network {
            ", with network"
        } else {
            ", no network"
        },
        shell_words(&argv)
    )
    .map_err(log_error)?;
    tracing::info!(step = step.name, command = %shell_words(&argv), "running build step");

    let (program, args) = argv.split_first().ok_or_else(|| SandboxError::Spawn {
        step: step.name.to_string(),
        program: String::new(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "empty command"),
    })?;
    let mut expression = duct::cmd(program, args)
        .stdin_null()
        .stderr_file(log.try_clone().map_err(log_error)?)
        .unchecked();
    expression = match step.stdout {
        Some(path) => expression.stdout_path(path),
        None => expression.stdout_file(log.try_clone().map_err(log_error)?),
    };
    if step.sandboxed {
        expression = expression.full_env(std::iter::empty::<(String, String)>());
    } else {
        expression = expression
            .full_env(
                step.env
                    .iter()
                    .map(|(key, value)| (key, unsandboxed_value(step.mounts, value))),
            )
            .dir(&step.mounts.source)
            .before_spawn(|command| {
                std::os::unix::process::CommandExt::process_group(command, 0);
                Ok(())
            });
    }
    let spawn_error = |source| SandboxError::Spawn {
        step: step.name.to_string(),
        program: program.clone(),
        source,
    };
    let handle = expression.start().map_err(spawn_error)?;
    // Stopped when dropped, whichever way this function returns.
    let _network = if step.sandboxed && step.network {
        match Slirp::attach(&handle, &log) {
            Ok(network) => network,
            Err(e) => {
                kill_tree(&handle, step.sandboxed);
                return Err(e);
            }
        }
    } else {
        None
    };
    let status = loop {
        if let Some(output) = handle.try_wait().map_err(spawn_error)? {
            break output.status;
        }
        if Instant::now() >= step.deadline {
            kill_tree(&handle, step.sandboxed);
            writeln!(log, "== {} killed: build time limit reached", step.name)
                .map_err(log_error)?;
            return Err(SandboxError::TimedOut {
                step: step.name.to_string(),
                limit: step.limit,
                log: step.log.to_path_buf(),
                tail: tail(step.log),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if status.success() {
        return Ok(());
    }
    let status = match status.code() {
        Some(code) => format!("exit status {code}"),
        None => "killed by a signal".to_string(),
    };
    Err(SandboxError::Failed {
        step: step.name.to_string(),
        status,
        log: step.log.to_path_buf(),
        tail: tail(step.log),
    })
}

/// The slirp4netns process that wires a network step's namespace to the
/// outside; it exits when [`Slirp::exit`] closes (dropped, or this process
/// dies) and is killed if it lingers.
struct Slirp {
    handle: duct::Handle,
    exit: Option<os_pipe::PipeWriter>,
}

impl Slirp {
    /// Waits (up to 10 s) for the step started as `handle` to be in its new
    /// network namespace, then starts slirp4netns on it, without the host's
    /// loopback (`--disable-host-loopback`), with its own seccomp filter and,
    /// when this runs as root, dropping its privileges (`--enable-sandbox`).
    /// `None` when the step ended first.
    fn attach(handle: &duct::Handle, log: &File) -> Result<Option<Self>, SandboxError> {
        let unavailable = |reason: String| SandboxError::NetworkUnavailable { reason };
        let Some(&pid) = handle.pids().first() else {
            return Ok(None);
        };
        let ours = std::fs::read_link("/proc/self/ns/net")
            .map_err(|e| unavailable(format!("/proc/self/ns/net: {e}")))?;
        let waited = Instant::now();
        loop {
            if handle.try_wait().ok().flatten().is_some() {
                return Ok(None);
            }
            let theirs = std::fs::read_link(format!("/proc/{pid}/ns/net"));
            let mapped = std::fs::read_to_string(format!("/proc/{pid}/uid_map"))
                .is_ok_and(|map| !map.trim().is_empty());
            if mapped && theirs.is_ok_and(|theirs| theirs != ours) {
                break;
            }
            if waited.elapsed() > Duration::from_secs(10) {
                return Err(unavailable(
                    "the step did not get a network namespace of its own within 10 s".into(),
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut args = vec![
            "--configure".to_string(),
            "--mtu=65520".into(),
            "--disable-host-loopback".into(),
            "--enable-seccomp".into(),
            "--exit-fd=0".into(),
        ];
        let root = std::os::unix::fs::MetadataExt::uid(
            &std::fs::metadata("/proc/self")
                .map_err(|e| unavailable(format!("/proc/self: {e}")))?,
        ) == 0;
        if root {
            args.push("--enable-sandbox".into());
        }
        args.extend([
            "--netns-type=path".into(),
            format!("--userns-path=/proc/{pid}/ns/user"),
            format!("/proc/{pid}/ns/net"),
            "tap0".into(),
        ]);
        let mut log = log
            .try_clone()
            .map_err(|e| unavailable(format!("build log: {e}")))?;
        let _ = writeln!(log, "== network: slirp4netns {}", shell_words(&args));
        let (reader, writer) = os_pipe::pipe().map_err(|e| unavailable(format!("pipe: {e}")))?;
        let err_log = log
            .try_clone()
            .map_err(|e| unavailable(format!("build log: {e}")))?;
        let started = duct::cmd("slirp4netns", &args)
            .stdin_file(reader)
            .stdout_file(log)
            .stderr_file(err_log)
            .full_env(std::iter::empty::<(String, String)>())
            .unchecked()
            .start()
            .map_err(|e| unavailable(format!("slirp4netns: {e}")))?;
        Ok(Some(Self {
            handle: started,
            exit: Some(writer),
        }))
    }
}

impl Drop for Slirp {
    fn drop(&mut self) {
        drop(self.exit.take());
        for _ in 0..100 {
            if self.handle.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.handle.kill();
        let _ = self.handle.wait();
    }
}

/// Kills the step's whole process tree: bwrap's sandbox dies with it
/// (`--die-with-parent`, its own PID namespace); an unsandboxed step is the
/// leader of its own process group, which is killed as a whole.
fn kill_tree(handle: &duct::Handle, sandboxed: bool) {
    if !sandboxed {
        for pid in handle.pids() {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
    if let Err(e) = handle.kill() {
        tracing::warn!("cannot kill timed-out build: {e}");
    }
    let _ = handle.wait();
}

/// The last lines of a log, for error messages.
pub fn tail(log: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(log) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
        let mut bytes = Vec::new();
        let _ = file.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .skip(lines.len().saturating_sub(TAIL_LINES))
        .map(|line| format!("  | {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A command line as a shell would read it (for logs).
pub fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
            if plain {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The mounts of a build under `/w` with its cache at `/c`, for tests.
#[cfg(test)]
pub(crate) fn test_mounts(workdir: Option<&str>) -> Mounts {
    Mounts {
        source: PathBuf::from("/w/src"),
        out: PathBuf::from("/w/out"),
        cache: PathBuf::from("/c"),
        etc: PathBuf::from("/w/etc"),
        workdir: workdir.map(String::from),
        host_tools: HostTools::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step<'a>(
        root: &'a BuilderRoot,
        mounts: &'a Mounts,
        argv: &'a [String],
        env: &'a BTreeMap<String, String>,
        network: bool,
    ) -> Step<'a> {
        Step {
            name: "command",
            root,
            mounts,
            argv,
            user: StepUser::Build,
            env,
            network,
            tmp_size: 1 << 20,
            sandboxed: true,
            deadline: Instant::now(),
            limit: Duration::from_secs(1),
            log: Path::new("/nonexistent/log"),
            stdout: None,
        }
    }

    #[test]
    fn image_env_overrides_the_fixed_base_environment() {
        let root = BuilderRoot::Image {
            rootfs: PathBuf::from("/nonexistent"),
            env: vec![
                "PATH=/go/bin:/usr/bin".into(),
                "GOLANG_VERSION=1.22.5".into(),
                "junk".into(),
            ],
            reference: "golang".into(),
            digest: "sha256:00".into(),
            served_by: None,
        };
        let env = base_env(&root, 1_700_000_000);
        let pairs: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            pairs,
            [
                "GOLANG_VERSION=1.22.5",
                "HOME=/tmp",
                "LC_ALL=C.UTF-8",
                "PATH=/go/bin:/usr/bin",
                "SOURCE_DATE_EPOCH=1700000000",
                "TZ=UTC"
            ]
        );
        assert_eq!(base_env(&BuilderRoot::Host, 0)["PATH"], DEFAULT_PATH);
    }

    /// What every command line binds at `/etc/` from the generated files in `/w/etc`.
    const GENERATED: &str =
        "--ro-bind /w/etc/passwd /etc/passwd --ro-bind /w/etc/group /etc/group \
         --ro-bind /w/etc/hosts /etc/hosts --ro-bind /w/etc/resolv.conf /etc/resolv.conf";

    #[test]
    fn image_rootfs_entries_are_bound_read_only_and_symlinks_recreated() {
        let rootfs = tempfile::tempdir().unwrap();
        std::fs::create_dir(rootfs.path().join("usr")).unwrap();
        std::fs::create_dir(rootfs.path().join("tmp")).unwrap();
        std::fs::create_dir_all(rootfs.path().join("etc/ssl")).unwrap();
        std::fs::write(
            rootfs.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\n",
        )
        .unwrap();
        std::os::unix::fs::symlink("usr/bin", rootfs.path().join("bin")).unwrap();
        let root = BuilderRoot::Image {
            rootfs: rootfs.path().to_path_buf(),
            env: Vec::new(),
            reference: "r".into(),
            digest: "sha256:00".into(),
            served_by: None,
        };
        let mounts = test_mounts(None);
        let argv = vec!["make".to_string()];
        let env = BTreeMap::from([("A".to_string(), "1".to_string())]);
        let line = command_line(&step(&root, &mounts, &argv, &env, false)).unwrap();
        let r = rootfs.path().display();
        let expected = format!(
            "bwrap --unshare-all --unshare-user --uid 1000 --gid 1000 --die-with-parent --new-session --clearenv \
             --symlink usr/bin /bin --ro-bind {r}/usr /usr \
             --dir /etc --ro-bind {r}/etc/ssl /etc/ssl {GENERATED} \
             --proc /proc --dev /dev --size 1048576 --tmpfs /tmp --bind /w/src /src --bind /w/out /out --bind /c /cache \
             --remount-ro / --chdir /src --setenv A 1 -- make"
        );
        assert_eq!(line.join(" "), expected);
        let with_network = command_line(&step(&root, &mounts, &argv, &env, true)).unwrap();
        assert_eq!(
            with_network.get(..4).unwrap(),
            ["unshare", "--map-root-user", "--net", "--"]
        );
        assert_eq!(
            with_network.get(7..11).unwrap(),
            ["sh", "bwrap", "--unshare-all", "--share-net"]
        );
        assert_eq!(
            with_network.get(11..).unwrap(),
            line.get(2..).unwrap(),
            "the same sandbox otherwise"
        );
    }

    #[test]
    fn a_root_step_is_uid_0_of_its_own_user_namespace_and_otherwise_the_same_sandbox() {
        let mounts = test_mounts(None);
        let argv = vec!["id".to_string()];
        let env = BTreeMap::new();
        let build_user = step(&BuilderRoot::Host, &mounts, &argv, &env, false);
        let as_root = Step {
            user: StepUser::Root,
            ..build_user.clone()
        };
        let build_line = command_line(&build_user).unwrap();
        let root_line = command_line(&as_root).unwrap();
        assert_eq!(
            root_line.get(..7).unwrap(),
            [
                "bwrap",
                "--unshare-all",
                "--unshare-user",
                "--uid",
                "0",
                "--gid",
                "0"
            ]
        );
        assert_eq!(
            build_line.get(3..7).unwrap(),
            ["--uid", "1000", "--gid", "1000"]
        );
        assert_eq!(root_line.get(7..), build_line.get(7..));
    }

    #[test]
    fn host_builder_sees_the_host_rust_toolchain_read_only_and_an_image_builder_does_not() {
        let toolchain = tempfile::tempdir().unwrap();
        let sysroot = toolchain.path().join("toolchains/stable");
        std::fs::create_dir_all(sysroot.join("bin")).unwrap();
        let mounts = Mounts {
            host_tools: HostTools {
                binds: vec![sysroot.clone()],
                path: vec![sysroot.join("bin")],
            },
            ..test_mounts(None)
        };
        let argv = vec!["cargo".to_string()];
        let env = BTreeMap::new();
        let line = command_line(&step(&BuilderRoot::Host, &mounts, &argv, &env, false)).unwrap();
        let at = sysroot.display().to_string();
        assert!(
            line.windows(3)
                .any(|w| w[0] == "--ro-bind" && w[1] == at && w[2] == at),
            "{line:?}"
        );
        let rootfs = tempfile::tempdir().unwrap();
        let image = BuilderRoot::Image {
            rootfs: rootfs.path().to_path_buf(),
            env: Vec::new(),
            reference: "r".into(),
            digest: "sha256:00".into(),
            served_by: None,
        };
        let line = command_line(&step(&image, &mounts, &argv, &env, false)).unwrap();
        assert!(!line.contains(&at), "{line:?}");
    }

    #[test]
    fn host_builder_sees_only_the_listed_host_etc_entries() {
        let mounts = test_mounts(None);
        let argv = vec!["make".to_string()];
        let env = BTreeMap::new();
        let line = command_line(&step(&BuilderRoot::Host, &mounts, &argv, &env, false)).unwrap();
        let etc: Vec<&str> = line
            .windows(3)
            .filter(|w| w[0] == "--ro-bind" || w[0] == "--symlink")
            .filter_map(|w| w[2].strip_prefix("/etc/"))
            .collect();
        for name in ["passwd", "group", "hosts", "resolv.conf"] {
            assert!(etc.contains(&name), "{etc:?}");
        }
        for entry in &etc {
            let listed = HOST_ETC.contains(entry)
                || HOST_ETC_PREFIXES.iter().any(|p| entry.starts_with(p))
                || GENERATED_ETC.contains(entry);
            assert!(listed, "{entry} is not on the lists");
        }
        for hidden in [
            "shadow",
            "gshadow",
            "gitconfig",
            "ssl",
            "ssl/private",
            "machine-id",
        ] {
            assert!(!etc.contains(&hidden), "{hidden} is shown");
        }
        assert!(
            !line.windows(2).any(|w| w[0] == "/etc" && w[1] == "/etc"),
            "the host's /etc is bound whole"
        );
    }

    #[test]
    fn generated_etc_has_the_build_user_and_keeps_an_images_own_users() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("etc");
        write_etc(&BuilderRoot::Host, &dir).unwrap();
        let passwd = std::fs::read_to_string(dir.join("passwd")).unwrap();
        assert_eq!(
            passwd,
            "root:x:0:0:root:/root:/usr/sbin/nologin\nbuild:x:1000:1000:build:/tmp:/bin/sh\n\
             nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("resolv.conf")).unwrap(),
            "nameserver 10.0.2.3\n"
        );

        let rootfs = tmp.path().join("rootfs");
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0::/root:/bin/sh").unwrap();
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\nnode:x:1000:\n").unwrap();
        let image = BuilderRoot::Image {
            rootfs: rootfs.clone(),
            env: Vec::new(),
            reference: "r".into(),
            digest: "sha256:00".into(),
            served_by: None,
        };
        write_etc(&image, &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("passwd")).unwrap(),
            "root:x:0:0::/root:/bin/sh\nbuild:x:1000:1000:build:/tmp:/bin/sh\n"
        );
        assert_eq!(
            std::fs::read_to_string(dir.join("group")).unwrap(),
            "root:x:0:\nnode:x:1000:\n"
        );
        // An image's passwd that is a symlink is never followed onto the host.
        std::fs::remove_file(rootfs.join("etc/passwd")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", rootfs.join("etc/passwd")).unwrap();
        write_etc(&image, &dir).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("passwd")).unwrap(),
            "build:x:1000:1000:build:/tmp:/bin/sh\n"
        );
    }

    #[test]
    fn tmp_sizes_are_bytes_or_1024_based_units() {
        assert_eq!(parse_size("4G"), Ok(4 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("64k"), Ok(64 << 10));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(
            parse_size("0"),
            Err(
                "\"0\": the size of /tmp must be above zero (a tmpfs of size 0 is uncapped)".into()
            )
        );
        assert_eq!(
            parse_size("4 potatoes"),
            Err("\"4 potatoes\" is not a size: use bytes or a number with K, M, G or T (1024-based), like 4G or 512M".into())
        );
        assert!(parse_size("99999999999T").is_err());
    }

    #[test]
    fn workdir_is_the_checkout_again_and_the_working_directory() {
        let mounts = test_mounts(Some("/home/runner/work/x/x"));
        let argv = vec!["make".to_string()];
        let env = BTreeMap::new();
        let line = command_line(&step(&BuilderRoot::Host, &mounts, &argv, &env, false))
            .unwrap()
            .join(" ");
        assert!(
            line.ends_with(
                "--bind /w/src /src --bind /w/out /out --bind /c /cache \
                 --bind /w/src /home/runner/work/x/x --remount-ro / --chdir /home/runner/work/x/x -- make"
            ),
            "{line}"
        );
    }

    #[test]
    fn workdir_inside_a_root_directory_is_spliced_into_it() {
        let rootfs = tempfile::tempdir().unwrap();
        for dir in [
            "go/bin",
            "go/src/github.com/other",
            "go/src/github.com/org/repo/old",
            "usr",
        ] {
            std::fs::create_dir_all(rootfs.path().join(dir)).unwrap();
        }
        std::fs::write(rootfs.path().join("go/src/README"), "x").unwrap();
        let root = BuilderRoot::Image {
            rootfs: rootfs.path().to_path_buf(),
            env: Vec::new(),
            reference: "r".into(),
            digest: "sha256:00".into(),
            served_by: None,
        };
        let mounts = test_mounts(Some("/go/src/github.com/org/repo"));
        let argv = vec!["make".to_string()];
        let env = BTreeMap::new();
        let line = command_line(&step(&root, &mounts, &argv, &env, false))
            .unwrap()
            .join(" ");
        let r = rootfs.path().display();
        let expected = format!(
            "bwrap --unshare-all --unshare-user --uid 1000 --gid 1000 --die-with-parent --new-session --clearenv \
             --dir /go --ro-bind {r}/go/bin /go/bin --dir /go/src --ro-bind {r}/go/src/README /go/src/README \
             --dir /go/src/github.com --dir /go/src/github.com/org \
             --ro-bind {r}/go/src/github.com/other /go/src/github.com/other \
             --ro-bind {r}/usr /usr --dir /etc {GENERATED} \
             --proc /proc --dev /dev --size 1048576 --tmpfs /tmp --bind /w/src /src --bind /w/out /out --bind /c /cache \
             --bind /w/src /go/src/github.com/org/repo --remount-ro / --chdir /go/src/github.com/org/repo -- make"
        );
        assert_eq!(line, expected);

        std::fs::remove_dir_all(rootfs.path().join("go/src/github.com")).unwrap();
        std::os::unix::fs::symlink("/elsewhere", rootfs.path().join("go/src/github.com")).unwrap();
        assert_eq!(
            command_line(&step(&root, &mounts, &argv, &env, false))
                .unwrap_err()
                .to_string(),
            "cannot put the source at the workdir /go/src/github.com/org/repo: /go/src/github.com is a symlink \
             in the builder's root; pick a workdir whose parent directories are directories there"
        );
    }

    #[test]
    fn without_sandbox_mount_paths_become_host_paths() {
        let mounts = test_mounts(None);
        let argv = [
            "go",
            "build",
            "-o",
            "/out/hello",
            "/cache",
            "/output",
            "/src2/x",
            "a/out/b",
        ]
        .map(String::from);
        let env = BTreeMap::new();
        let mut unsandboxed = step(&BuilderRoot::Host, &mounts, &argv, &env, false);
        unsandboxed.sandboxed = false;
        assert_eq!(
            command_line(&unsandboxed).unwrap(),
            [
                "go",
                "build",
                "-o",
                "/w/out/hello",
                "/c",
                "/output",
                "/src2/x",
                "a/out/b"
            ]
        );
    }

    #[test]
    fn shell_words_quote_only_what_needs_it() {
        let argv = ["sh", "-c", "echo 'hi' $X", ""].map(String::from);
        assert_eq!(shell_words(&argv), r"sh -c 'echo '\''hi'\'' $X' ''");
    }
}
