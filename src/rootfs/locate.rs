//! Finding the binary an image runs.
//!
//! From the image config's Entrypoint/Cmd, Env `PATH` and WorkingDir (or an
//! explicit `--path`) to one regular file of the merged root filesystem,
//! resolved the way the container runtime would: PATH directories in order,
//! symlinks followed inside the image. Works on any [`MergedView`]; the
//! bytes are then read through [`crate::rootfs::Rootfs::copy_file`].

use super::error::RootfsError;
use super::path::{clean_join, escape_config_path};
pub use super::view::Located;
use super::view::{MergedView, NodeKind};

/// Docker's PATH for a config without one.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Shell names that run a command string given with `-c`.
const SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

/// Longest command shown in a shell-wrapper error.
const SHOWN_COMMAND_CHARS: usize = 80;

/// What the image runs: the image config's `config` object (Entrypoint,
/// Cmd, Env, WorkingDir), read by the manifest stage.
pub use crate::image::manifest::ContainerConfig as RunConfig;

impl RunConfig {
    /// The program and its arguments: Entrypoint followed by Cmd, or Cmd
    /// alone when Entrypoint is empty.
    pub fn command_line(&self) -> Vec<String> {
        let entrypoint = self.entrypoint.clone().unwrap_or_default();
        let cmd = self.cmd.clone().unwrap_or_default();
        entrypoint.into_iter().chain(cmd).collect()
    }

    /// The `PATH` the container starts with.
    pub fn search_path(&self) -> String {
        self.env
            .iter()
            .flatten()
            .rev()
            .find_map(|var| var.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH)
            .to_string()
    }

    /// The absolute working directory (`/` when unset or empty).
    pub fn working_directory(&self) -> String {
        match self.working_dir.as_deref() {
            Some(dir) if !dir.is_empty() => clean_join("/", dir),
            _ => "/".to_string(),
        }
    }
}

/// Why the image's binary could not be located.
#[derive(Debug, thiserror::Error)]
pub enum LocateError {
    #[error("the image config has neither Entrypoint nor Cmd; pass --path")]
    NoProgram,
    #[error("the image runs a shell wrapper (`{command}`); pass --path to name the binary")]
    ShellWrapper { command: String },
    #[error("program {program:?} not found: no executable regular file of that name in PATH {search_path}")]
    NotOnPath {
        program: String,
        search_path: String,
    },
    #[error(
        "program {path} not found in the image{}",
        missing_suffix(path, missing)
    )]
    NotFound { path: String, missing: String },
    #[error("{path} is a directory, not a binary")]
    IsDirectory { path: String },
    #[error("{path} is not a regular file")]
    NotRegularFile { path: String },
    #[error(transparent)]
    Rootfs(RootfsError),
}

fn missing_suffix(path: &str, missing: &str) -> String {
    if path == missing {
        String::new()
    } else {
        format!(" ({missing} does not exist)")
    }
}

/// Locates the binary: `path_override` (`--path`) when given, else the
/// config's program looked up the way the runtime would.
pub fn locate(
    view: &dyn MergedView,
    config: &RunConfig,
    path_override: Option<&str>,
) -> Result<Located, LocateError> {
    if let Some(path) = path_override {
        let requested = clean_join("/", &escape_config_path(path));
        return locate_path(view, &requested);
    }
    let command = config.command_line();
    let Some(program) = command.first().filter(|p| !p.is_empty()) else {
        return Err(LocateError::NoProgram);
    };
    if is_shell_wrapper(&command) {
        return Err(LocateError::ShellWrapper {
            command: shown_command(&command),
        });
    }
    // Config paths are UTF-8; the view keys names in their escaped form.
    let working_dir = escape_config_path(&config.working_directory()).into_owned();
    let escaped_program = escape_config_path(program);
    if program.contains('/') {
        return locate_path(view, &clean_join(&working_dir, &escaped_program));
    }
    let search_path = config.search_path();
    for dir in search_path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let dir = clean_join(&working_dir, &escape_config_path(dir));
        let candidate = clean_join(&dir, &escaped_program);
        match view.resolve(&candidate) {
            Ok(node) => match node.kind {
                NodeKind::File(content) if content.mode & 0o111 != 0 => {
                    return Ok(Located::new(candidate, node.path, content));
                }
                _ => tracing::debug!(candidate, "on PATH but not an executable regular file"),
            },
            Err(e) if e.is_lookup_failure() => {
                tracing::debug!(candidate, error = %e, "not on PATH")
            }
            Err(e) => return Err(LocateError::Rootfs(e)),
        }
    }
    Err(LocateError::NotOnPath {
        program: program.clone(),
        search_path,
    })
}

/// True when the command is a shell running a command string (`sh -c ...`).
pub fn is_shell_wrapper(command: &[String]) -> bool {
    let Some((program, args)) = command.split_first() else {
        return false;
    };
    let name = program.rsplit('/').next().unwrap_or(program);
    SHELLS.contains(&name)
        && args
            .iter()
            .take_while(|arg| arg.starts_with('-') && arg.as_str() != "--")
            .any(|arg| !arg.starts_with("--") && arg.contains('c'))
}

fn shown_command(command: &[String]) -> String {
    let joined = command.join(" ");
    if joined.chars().count() <= SHOWN_COMMAND_CHARS {
        return joined;
    }
    let mut shown: String = joined.chars().take(SHOWN_COMMAND_CHARS).collect();
    shown.push_str("...");
    shown
}

fn locate_path(view: &dyn MergedView, requested: &str) -> Result<Located, LocateError> {
    let node = view.resolve(requested).map_err(|e| match e {
        RootfsError::NotFound { path, missing } => LocateError::NotFound { path, missing },
        other => LocateError::Rootfs(other),
    })?;
    match node.kind {
        NodeKind::File(content) => {
            if content.mode & 0o111 == 0 {
                tracing::warn!(path = %node.path, "the located file is not executable");
            }
            Ok(Located::new(requested.to_string(), node.path, content))
        }
        NodeKind::Directory { .. } => Err(LocateError::IsDirectory { path: node.path }),
        NodeKind::Symlink { .. } | NodeKind::Special => {
            Err(LocateError::NotRegularFile { path: node.path })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn config_fields_deserialise_from_the_oci_names() {
        let config: RunConfig = serde_json::from_str(
            r#"{"Entrypoint":null,"Cmd":["app","-v"],"Env":["A=1","PATH=/opt/bin:/bin"],"WorkingDir":"/srv","User":"1000"}"#,
        )
        .unwrap();
        assert_eq!(config.command_line(), strings(&["app", "-v"]));
        assert_eq!(config.search_path(), "/opt/bin:/bin");
        assert_eq!(config.working_directory(), "/srv");
        let empty: RunConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.search_path(), DEFAULT_PATH);
        assert_eq!(empty.working_directory(), "/");
        assert!(empty.command_line().is_empty());
    }

    #[test]
    fn shells_running_command_strings_are_wrappers() {
        assert!(is_shell_wrapper(&strings(&["/bin/sh", "-c", "exec app"])));
        assert!(is_shell_wrapper(&strings(&["bash", "-ec", "app"])));
        assert!(is_shell_wrapper(&strings(&["dash", "-x", "-c", "app"])));
        assert!(!is_shell_wrapper(&strings(&["/bin/bash"])));
        assert!(!is_shell_wrapper(&strings(&["/bin/sh", "script.sh", "-c"])));
        assert!(!is_shell_wrapper(&strings(&["/usr/bin/app", "-c", "x"])));
    }

    #[test]
    fn long_wrapped_commands_are_shortened() {
        let command = strings(&["/bin/sh", "-c", &"x".repeat(200)]);
        let shown = shown_command(&command);
        assert_eq!(shown.chars().count(), SHOWN_COMMAND_CHARS + 3);
        assert!(shown.starts_with("/bin/sh -c xxx") && shown.ends_with("..."));
    }
}
