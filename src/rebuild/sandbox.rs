//! Sandbox: runs a recipe's build steps inside bubblewrap.
//!
//! The third stage of the rebuild side. Every step runs with all namespaces
//! unshared (network only for `fetch`), a read-only root (the host's system
//! directories or a builder image's unpacked rootfs), the source read-write
//! at `/src` (and at the recipe's workdir, spliced into the read-only root),
//! `/out` and the dependency cache `/cache` writable, a private `/tmp`, fresh
//! `/dev` and `/proc`, and an environment built from nothing.
//! A deadline kills the whole process tree. `--no-sandbox` runs the same
//! step as a plain process (same cleared environment) and is reported as
//! unsandboxed.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};

/// Where the source checkout is mounted, read-write.
pub const SOURCE_MOUNT: &str = "/src";
/// Where the build may leave files, writable.
pub const OUT_MOUNT: &str = "/out";
/// Where the per-recipe dependency cache is mounted, writable (recipes point
/// `GOMODCACHE`, `CARGO_HOME`, ... there through their env).
pub const CACHE_MOUNT: &str = "/cache";
/// `PATH` inside the sandbox unless the builder image's Env sets one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The host directories a `host` builder sees, read-only (those that exist).
const HOST_SYSTEM_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc",
];
/// Top-level names the sandbox provides itself, never taken from a rootfs.
const PROVIDED: &[&str] = &["proc", "dev", "tmp", "src", "out", "cache"];
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

/// Why a step could not run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("bwrap (bubblewrap) is not installed: install it (Debian: apt-get install bubblewrap) or pass --no-sandbox to build without isolation")]
    Missing,
    #[error("bwrap cannot create a sandbox here ({reason}): allow unprivileged user namespaces or run where bwrap works, or pass --no-sandbox to build without isolation")]
    Unavailable { reason: String },
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
    /// The recipe's workdir: where `source` is mounted too, and the working
    /// directory. `None`: [`SOURCE_MOUNT`] alone.
    pub workdir: Option<String>,
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
    /// The complete environment (see [`base_env`]).
    pub env: &'a BTreeMap<String, String>,
    /// Whether the step shares the host's network.
    pub network: bool,
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

/// The program and arguments that run `step`: a `bwrap` command line, or
/// the step's own argv without the sandbox. Same step, same command line.
pub fn command_line(step: &Step<'_>) -> Result<Vec<String>, SandboxError> {
    if !step.sandboxed {
        return Ok(step
            .argv
            .iter()
            .map(|arg| unsandboxed_value(step.mounts, arg))
            .collect());
    }
    let mut args: Vec<String> = ["bwrap", "--unshare-all"].map(String::from).to_vec();
    if step.network {
        args.push("--share-net".into());
    }
    args.extend(["--die-with-parent", "--new-session", "--clearenv"].map(String::from));
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
        }
        BuilderRoot::Image { rootfs, .. } => {
            let rootfs_error = |source| SandboxError::Rootfs {
                path: rootfs.clone(),
                source,
            };
            let mut names = Vec::new();
            for entry in std::fs::read_dir(rootfs).map_err(rootfs_error)? {
                names.push(entry.map_err(rootfs_error)?.file_name());
            }
            names.sort();
            for name in names {
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
    let path = |p: &Path| p.display().to_string();
    args.extend([
        "--proc".into(),
        "/proc".into(),
        "--dev".into(),
        "/dev".into(),
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
    let rootfs_error = |source| SandboxError::Rootfs {
        path: host.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(host).map_err(rootfs_error)? {
        names.push(entry.map_err(rootfs_error)?.file_name());
    }
    names.sort();
    args.extend(["--dir".into(), inside.to_string()]);
    for name in names {
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
            env,
            network,
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

    #[test]
    fn image_rootfs_entries_are_bound_read_only_and_symlinks_recreated() {
        let rootfs = tempfile::tempdir().unwrap();
        std::fs::create_dir(rootfs.path().join("usr")).unwrap();
        std::fs::create_dir(rootfs.path().join("tmp")).unwrap();
        std::os::unix::fs::symlink("usr/bin", rootfs.path().join("bin")).unwrap();
        let root = BuilderRoot::Image {
            rootfs: rootfs.path().to_path_buf(),
            env: Vec::new(),
            reference: "r".into(),
            digest: "sha256:00".into(),
        };
        let mounts = Mounts {
            source: PathBuf::from("/w/src"),
            out: PathBuf::from("/w/out"),
            cache: PathBuf::from("/c"),
            workdir: None,
        };
        let argv = vec!["make".to_string()];
        let env = BTreeMap::from([("A".to_string(), "1".to_string())]);
        let line = command_line(&step(&root, &mounts, &argv, &env, false)).unwrap();
        let usr = rootfs.path().join("usr").display().to_string();
        let expected = format!(
            "bwrap --unshare-all --die-with-parent --new-session --clearenv \
             --symlink usr/bin /bin --ro-bind {usr} /usr \
             --proc /proc --dev /dev --tmpfs /tmp --bind /w/src /src --bind /w/out /out --bind /c /cache \
             --remount-ro / --chdir /src --setenv A 1 -- make"
        );
        assert_eq!(line.join(" "), expected);
        let with_network = command_line(&step(&root, &mounts, &argv, &env, true)).unwrap();
        assert_eq!(
            with_network.get(..3).unwrap(),
            ["bwrap", "--unshare-all", "--share-net"]
        );
    }

    #[test]
    fn workdir_is_the_checkout_again_and_the_working_directory() {
        let mounts = Mounts {
            source: PathBuf::from("/w/src"),
            out: PathBuf::from("/w/out"),
            cache: PathBuf::from("/c"),
            workdir: Some("/home/runner/work/x/x".into()),
        };
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
        };
        let mounts = Mounts {
            source: PathBuf::from("/w/src"),
            out: PathBuf::from("/w/out"),
            cache: PathBuf::from("/c"),
            workdir: Some("/go/src/github.com/org/repo".into()),
        };
        let argv = vec!["make".to_string()];
        let env = BTreeMap::new();
        let line = command_line(&step(&root, &mounts, &argv, &env, false))
            .unwrap()
            .join(" ");
        let r = rootfs.path().display();
        let expected = format!(
            "bwrap --unshare-all --die-with-parent --new-session --clearenv \
             --dir /go --ro-bind {r}/go/bin /go/bin --dir /go/src --ro-bind {r}/go/src/README /go/src/README \
             --dir /go/src/github.com --dir /go/src/github.com/org \
             --ro-bind {r}/go/src/github.com/other /go/src/github.com/other \
             --ro-bind {r}/usr /usr \
             --proc /proc --dev /dev --tmpfs /tmp --bind /w/src /src --bind /w/out /out --bind /c /cache \
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
        let mounts = Mounts {
            source: PathBuf::from("/w/src"),
            out: PathBuf::from("/w/out"),
            cache: PathBuf::from("/c"),
            workdir: None,
        };
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
