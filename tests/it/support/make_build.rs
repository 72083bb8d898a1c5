//! Releases built by their project's own Makefile, as a release pipeline
//! runs it: a clean checkout of a tag (a git repository, so the Makefile's
//! `git describe` works), bound by bubblewrap where a CI runner keeps it,
//! `make TARGET` with no network, a shared Go build cache and only the
//! environment the pipeline sets.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One Go build cache for every [`MakeBuild`] of the test process (Go keys
/// it by everything that affects the output, so sharing it changes no
/// binary).
fn shared_cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("make-build-cache-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep()
    })
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("test paths are UTF-8")
}

/// `make` of a checkout inside bubblewrap: the checkout bound read-write at
/// a chosen directory, no network, `--clearenv` plus `PATH=/usr/bin:/bin`,
/// `HOME`, `GOCACHE`, `GOPROXY=off`, `GOTOOLCHAIN=local` and what
/// [`MakeBuild::env`] adds; the host's `make`, `git`, Debian's `go` and the
/// machine's C compiler.
pub struct MakeBuild {
    checkout: PathBuf,
    at: String,
    env: Vec<(String, String)>,
}

impl MakeBuild {
    /// Builds `checkout` (a git work tree) bound at `at`.
    pub fn new(checkout: &Path, at: &str) -> Self {
        MakeBuild {
            checkout: checkout.to_path_buf(),
            at: at.to_string(),
            env: Vec::new(),
        }
    }

    /// Sets `key=value` in the build's environment.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs `make ARGS` in the checkout (no `args`: the default target) and
    /// returns the file it made at `output`, relative to the checkout.
    pub fn make(&self, args: &[&str], output: &str) -> Vec<u8> {
        let mut command = Command::new("bwrap");
        command
            .args(["--unshare-all", "--die-with-parent", "--ro-bind", "/", "/"])
            .args(["--tmpfs", "/home", "--tmpfs", "/tmp"])
            .args(["--dev", "/dev", "--proc", "/proc"])
            .args(["--bind", path_str(&self.checkout), &self.at])
            .args([
                "--bind",
                path_str(shared_cache()),
                "/home/runner/.cache/go-build",
            ])
            .args(["--chdir", &self.at, "--clearenv"]);
        let base = [
            ("PATH", "/usr/bin:/bin"),
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
}
