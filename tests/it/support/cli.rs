//! Runs the `rebuild-compare` binary under test with an isolated cache and
//! environment, and captures what it did.

use std::path::Path;
use std::process::Command;

/// What one run of the binary did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON report on stdout, after checking the exit code (panics
    /// with both streams otherwise).
    pub fn report(&self, code: i32) -> serde_json::Value {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self.json()
    }

    /// stdout parsed as JSON (panics with both streams if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e})\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Runs `rebuild-compare ARGS` with `--cache-dir`-free isolation: HOME,
/// XDG_CACHE_HOME, DOCKER_CONFIG and REGISTRY_AUTH_FILE point into `home`.
pub fn run_in(home: &Path, args: &[&str]) -> Run {
    run(command(home, args))
}

/// [`run_in`] with `env` added to the environment.
pub fn run_in_env(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut command = command(home, args);
    command.envs(env.iter().copied());
    run(command)
}

/// [`run_in`] with `cwd` as the working directory.
pub fn run_at(home: &Path, cwd: &Path, args: &[&str]) -> Run {
    let mut command = command(home, args);
    command.current_dir(cwd);
    run(command)
}

fn command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rebuild-compare"));
    command.args(args);
    isolate(&mut command, home);
    command
}

/// The environment [`run_in`] gives the command: HOME, XDG_CACHE_HOME,
/// XDG_CONFIG_HOME and DOCKER_CONFIG in `home`, no inherited credentials,
/// cache, signing key, log filter, CA overrides or colour, and, unless the
/// test wrote a user registries.conf in `home`, an empty registries.conf
/// named by `CONTAINERS_REGISTRIES_CONF` (kept outside `home`, so tests that
/// list what a command wrote there see only that), so that the host's
/// /etc/containers/registries.conf is never read.
pub fn isolate(command: &mut Command, home: &Path) {
    let config = home.join(".config");
    if config.join("containers/registries.conf").exists() {
        command.env_remove("CONTAINERS_REGISTRIES_CONF");
    } else {
        command.env("CONTAINERS_REGISTRIES_CONF", empty_registries_conf());
    }
    command
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_CONFIG_HOME", config)
        .env("DOCKER_CONFIG", home.join(".docker"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("REBUILD_COMPARE_CACHE")
        .env_remove("REBUILD_COMPARE_SIGN_KEY")
        .env_remove("RUST_LOG")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env("NO_COLOR", "1");
}

/// An empty registries.conf shared by every command a test process runs.
fn empty_registries_conf() -> &'static Path {
    static EMPTY: std::sync::OnceLock<tempfile::NamedTempFile> = std::sync::OnceLock::new();
    EMPTY
        .get_or_init(|| tempfile::NamedTempFile::new().expect("write an empty registries.conf"))
        .path()
}

fn run(mut command: Command) -> Run {
    let out = command.output().expect("run rebuild-compare");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A verify report's entry for `platform` (panics naming the report if it
/// has none).
pub fn platform_entry<'a>(report: &'a serde_json::Value, platform: &str) -> &'a serde_json::Value {
    report["platforms"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["platform"] == platform))
        .unwrap_or_else(|| panic!("no {platform} in {report:#}"))
}
