//! The host's Rust toolchain, as a `host` builder sees it: the sysroot of
//! the `rustc` on the host's `PATH` (where rustup keeps it, outside the
//! system directories the sandbox shows) and the `cargo-auditable` on
//! that `PATH`, each bound read-only at its own path, first on the
//! sandbox's `PATH`. The `rustc` inference calls the host's is the one a
//! `host` build then runs.

use std::path::PathBuf;
use std::process::Command;

/// What of the host a `host` builder sees besides its system directories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTools {
    /// Bound read-only at their own paths.
    pub binds: Vec<PathBuf>,
    /// Put before the sandbox's `PATH`, in order.
    pub path: Vec<PathBuf>,
}

impl HostTools {
    /// The host's Rust toolchain, or nothing when the host has no `rustc`.
    pub fn rust() -> Self {
        let mut tools = HostTools::default();
        let sysroot = Command::new("rustc")
            .args(["--print", "sysroot"])
            .output()
            .ok()
            .filter(|out| out.status.success())
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .map(|text| PathBuf::from(text.trim()))
            .filter(|dir| dir.is_absolute() && dir.join("bin/cargo").is_file());
        if let Some(sysroot) = sysroot {
            tools.path.push(sysroot.join("bin"));
            tools.binds.push(sysroot);
        }
        if let Some(auditable) = on_path("cargo-auditable") {
            if let Some(dir) = auditable.parent() {
                tools.path.push(dir.to_path_buf());
            }
            tools.binds.push(auditable);
        }
        tools
    }

    /// `PATH` with these tools' directories before `base`.
    pub fn before(&self, base: &str) -> String {
        let mut parts: Vec<String> = self.path.iter().map(|p| p.display().to_string()).collect();
        parts.push(base.to_string());
        parts.join(":")
    }
}

/// The first executable file named `name` in the host's `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(name))
        .find(|file| {
            file.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_come_first_on_the_path() {
        let tools = HostTools {
            binds: vec![PathBuf::from("/root/.rustup/toolchains/x")],
            path: vec![
                PathBuf::from("/root/.rustup/toolchains/x/bin"),
                PathBuf::from("/opt/tools/bin"),
            ],
        };
        assert_eq!(
            tools.before("/usr/bin:/bin"),
            "/root/.rustup/toolchains/x/bin:/opt/tools/bin:/usr/bin:/bin"
        );
        assert_eq!(HostTools::default().before("/usr/bin"), "/usr/bin");
    }
}
