//! `.goreleaser.yml`/`.goreleaser.yaml` at the tag: its Go builds' main
//! package, binary name, flags, ldflags, env and tags, and goreleaser's
//! `{{ .Field }}` templates filled in from values the caller gives.
//!
//! `mod_timestamp` is not read: it sets the file's modification time,
//! which is not part of the binary's bytes.

use std::collections::BTreeMap;

use serde_yaml_ng::Value;

use crate::rebuild::infer::files::SourceFiles;

/// The file names goreleaser looks for, in its order.
pub const FILE_NAMES: &[&str] = &[
    ".goreleaser.yml",
    ".goreleaser.yaml",
    "goreleaser.yml",
    "goreleaser.yaml",
];

/// Largest configuration read; a larger one is reported and ignored.
pub const MAX_CONFIG: usize = 1024 * 1024;

/// Most builds read from one configuration.
const MAX_BUILDS: usize = 200;

/// goreleaser's `ldflags` when a build gives none.
pub const DEFAULT_LDFLAGS: &str = "-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}} -X main.builtBy=goreleaser";

/// A goreleaser configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The file it came from (`.goreleaser.yaml`).
    pub path: String,
    pub project_name: Option<String>,
    /// Top-level `env` (`KEY=VALUE`), which `{{ .Env.KEY }}` reads.
    pub env: Vec<String>,
    /// The Go builds, in file order (others, `skip: true` ones left out).
    pub builds: Vec<Build>,
}

/// One entry of `builds`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Build {
    /// Position in `builds` (for labels when there is no `id`).
    pub index: usize,
    pub id: Option<String>,
    /// `main`, default `.` (a directory or a `.go` file).
    pub main: String,
    /// `dir`: where goreleaser runs `go build`.
    pub dir: Option<String>,
    /// `binary` (a template), default the project name.
    pub binary: Option<String>,
    /// `ldflags` joined with spaces; `None`: goreleaser's [`DEFAULT_LDFLAGS`].
    pub ldflags: Option<String>,
    pub flags: Vec<String>,
    /// `KEY=VALUE` templates.
    pub env: Vec<String>,
    pub tags: Vec<String>,
    pub goos: Vec<String>,
    pub goarch: Vec<String>,
    pub goamd64: Vec<String>,
    pub goarm: Vec<String>,
}

impl Build {
    /// How reports name it: `builds[0] "app"`.
    pub fn name(&self) -> String {
        match &self.id {
            Some(id) => format!("builds[{}] {id:?}", self.index),
            None => format!("builds[{}]", self.index),
        }
    }

    /// The main package's directory relative to the source root, `/`
    /// separated, empty for the root (`dir` joined with `main`, a `.go`
    /// file's directory); `None` when it leaves the tree.
    pub fn package_dir(&self) -> Option<String> {
        let mut parts: Vec<&str> = Vec::new();
        let main = self.main.as_str();
        let main_dir = if main.ends_with(".go") {
            main.rsplit_once('/').map_or("", |(dir, _)| dir)
        } else {
            main
        };
        for part in self
            .dir
            .as_deref()
            .unwrap_or("")
            .split('/')
            .chain(main_dir.split('/'))
        {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                other => parts.push(other),
            }
        }
        Some(parts.join("/"))
    }

    /// The ldflags as written, or goreleaser's default.
    pub fn ldflags_or_default(&self) -> &str {
        self.ldflags.as_deref().unwrap_or(DEFAULT_LDFLAGS)
    }
}

/// Reads the tag's goreleaser configuration: `Ok(None)` when there is none,
/// `Err` (a sentence for the notes) when it cannot be used.
pub fn read(files: &dyn SourceFiles) -> Result<Option<Config>, String> {
    let Some((path, bytes)) = FILE_NAMES
        .iter()
        .find_map(|name| files.read(name).map(|b| (*name, b)))
    else {
        return Ok(None);
    };
    if bytes.len() > MAX_CONFIG {
        return Err(format!(
            "{path} is over {} KiB, so it was not read",
            MAX_CONFIG / 1024
        ));
    }
    parse(path, &bytes).map(Some)
}

/// Parses a configuration's text.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Config, String> {
    let value: Value = serde_yaml_ng::from_slice(bytes)
        .map_err(|e| format!("{path} is not valid YAML ({e}), so its builds were not used"))?;
    let builds = match value.get("builds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(builds)) => builds
            .iter()
            .take(MAX_BUILDS)
            .enumerate()
            .filter_map(|(index, build)| read_build(index, build))
            .collect(),
        Some(_) => return Err(format!("{path}: builds is not a list, so it was not used")),
    };
    Ok(Config {
        path: path.to_string(),
        project_name: value.get("project_name").and_then(scalar),
        env: value.get("env").map(strings).unwrap_or_default(),
        builds,
    })
}

fn read_build(index: usize, build: &Value) -> Option<Build> {
    let get = |key: &str| build.get(key);
    if get("skip").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    if get("builder").and_then(scalar).is_some_and(|b| b != "go") {
        return None;
    }
    let list = |key: &str| get(key).map(strings).unwrap_or_default();
    Some(Build {
        index,
        id: get("id").and_then(scalar),
        main: get("main")
            .and_then(scalar)
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| ".".into()),
        dir: get("dir").and_then(scalar).filter(|d| !d.is_empty()),
        binary: get("binary").and_then(scalar).filter(|b| !b.is_empty()),
        ldflags: get("ldflags").map(|v| strings(v).join(" ")),
        flags: list("flags"),
        env: list("env"),
        tags: list("tags"),
        goos: list("goos"),
        goarch: list("goarch"),
        goamd64: list("goamd64"),
        goarm: list("goarm"),
    })
}

/// A scalar as text (`goarm: 7` is `"7"`).
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string or a list of scalars, as a list (`flags: -trimpath` or
/// `flags: [-trimpath]`); lines of a block string are one item each.
fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::Sequence(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other)
            .map(|s| {
                s.split('\n')
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// A template with its fields replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    pub text: String,
    /// The fields it used (`Version`, `Date`, `Env.GOFLAGS`).
    pub used: Vec<String>,
    /// `{{ .Env.X }}` fields without a value, replaced by the empty string
    /// (as goreleaser does for an unset variable).
    pub unset_env: Vec<String>,
}

/// Replaces goreleaser's `{{ .Field }}` and `{{ .Env.NAME }}` in `text`
/// with `values[Field]` / `values["Env.NAME"]` (an unset `Env.NAME` is the
/// empty string). Anything else inside `{{ }}` (pipelines, functions,
/// conditionals, `{{-` trimming) is refused with the template named, rather
/// than guessed.
pub fn fill(text: &str, values: &BTreeMap<String, String>) -> Result<Filled, String> {
    let mut out = String::with_capacity(text.len());
    let mut used = Vec::new();
    let mut unset_env = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        out.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 2..).unwrap_or_default();
        let Some(close) = after.find("}}") else {
            return Err(format!("unterminated template in {text:?}"));
        };
        let inner = after.get(..close).unwrap_or_default();
        let field = inner
            .trim()
            .strip_prefix('.')
            .filter(|f| {
                !f.is_empty()
                    && f.split('.').count() <= 2
                    && f.split('.').all(|p| {
                        !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    })
                    && (!f.contains('.') || f.starts_with("Env."))
            })
            .ok_or_else(|| format!("unsupported goreleaser template {{{{{inner}}}}}"))?;
        match values.get(field) {
            Some(value) => out.push_str(value),
            None if field.starts_with("Env.") => unset_env.push(field.to_string()),
            None => return Err(format!("unsupported goreleaser template {{{{{inner}}}}}")),
        }
        if !used.iter().any(|u| u == field) {
            used.push(field.to_string());
        }
        rest = after.get(close + 2..).unwrap_or_default();
    }
    out.push_str(rest);
    Ok(Filled {
        text: out,
        used,
        unset_env,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rebuild::infer::files::MemoryFiles;

    const CONFIG: &str = r#"
version: 2
project_name: acme
env:
  - GO111MODULE=on
builds:
  - id: server
    main: ./cmd/server
    binary: acme-server
    ldflags:
      - -s -w
      - -X main.version={{.Version}} -X main.commit={{ .Commit }}
    flags: [-trimpath]
    env: [CGO_ENABLED=0]
    tags: [netgo, osusergo]
    goos: [linux]
    goarch: [amd64, arm]
    goarm: [7]
    goamd64: [v3]
    mod_timestamp: "{{ .CommitTimestamp }}"
  - main: cmd/cli/main.go
    dir: tools
    ldflags: -s -w -X main.v={{.Tag}}
    flags: -trimpath
  - id: docs
    skip: true
  - id: rusty
    builder: rust
"#;

    #[test]
    fn reads_the_go_builds_of_a_config() {
        let files = MemoryFiles::new([(".goreleaser.yaml", CONFIG)]);
        let config = read(&files).unwrap().unwrap();
        assert_eq!(config.path, ".goreleaser.yaml");
        assert_eq!(config.project_name.as_deref(), Some("acme"));
        assert_eq!(config.env, vec!["GO111MODULE=on"]);
        assert_eq!(config.builds.len(), 2);
        assert_eq!(
            config.builds[0],
            Build {
                index: 0,
                id: Some("server".into()),
                main: "./cmd/server".into(),
                dir: None,
                binary: Some("acme-server".into()),
                ldflags: Some(
                    "-s -w -X main.version={{.Version}} -X main.commit={{ .Commit }}".into()
                ),
                flags: vec!["-trimpath".into()],
                env: vec!["CGO_ENABLED=0".into()],
                tags: vec!["netgo".into(), "osusergo".into()],
                goos: vec!["linux".into()],
                goarch: vec!["amd64".into(), "arm".into()],
                goamd64: vec!["v3".into()],
                goarm: vec!["7".into()],
            }
        );
        let cli = &config.builds[1];
        assert_eq!(cli.name(), "builds[1]");
        assert_eq!(cli.package_dir().as_deref(), Some("tools/cmd/cli"));
        assert_eq!(cli.flags, vec!["-trimpath"]);
        assert_eq!(cli.ldflags_or_default(), "-s -w -X main.v={{.Tag}}");
        assert_eq!(
            config.builds[0].package_dir().as_deref(),
            Some("cmd/server")
        );
    }

    #[test]
    fn a_build_without_ldflags_gets_goreleasers_default() {
        let config = parse(".goreleaser.yml", b"builds:\n  - main: .\n").unwrap();
        assert_eq!(config.builds[0].ldflags_or_default(), DEFAULT_LDFLAGS);
        assert_eq!(config.builds[0].package_dir().as_deref(), Some(""));
    }

    #[test]
    fn no_config_and_bad_configs() {
        assert_eq!(read(&MemoryFiles::default()).unwrap(), None);
        let err = read(&MemoryFiles::new([(".goreleaser.yml", "builds: [")])).unwrap_err();
        assert!(
            err.starts_with(".goreleaser.yml is not valid YAML"),
            "{err}"
        );
        let err = parse("g.yml", b"builds: 3").unwrap_err();
        assert_eq!(err, "g.yml: builds is not a list, so it was not used");
        let big = format!("# {}\n", "x".repeat(MAX_CONFIG));
        let err = read(&MemoryFiles::new([(".goreleaser.yaml", big.as_str())])).unwrap_err();
        assert_eq!(err, ".goreleaser.yaml is over 1024 KiB, so it was not read");
        let escape = Build {
            main: "../x".into(),
            ..Build::default()
        };
        assert_eq!(escape.package_dir(), None);
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        text.push_str("builds: *a11\n");
        assert!(parse("bomb.yml", text.as_bytes()).is_err());
    }

    fn values() -> BTreeMap<String, String> {
        [
            ("Version", "{version_bare}"),
            ("Commit", "abc"),
            ("Env.GOFLAGS", "-mod=vendor"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn fills_fields_with_or_without_spaces() {
        let filled = fill(
            "-X main.version={{.Version}} -X main.commit={{ .Commit }} {{.Version}} {{ .Env.GOFLAGS }}{{.Env.UNSET}}",
            &values(),
        )
        .unwrap();
        assert_eq!(
            filled,
            Filled {
                text:
                    "-X main.version={version_bare} -X main.commit=abc {version_bare} -mod=vendor"
                        .into(),
                used: vec![
                    "Version".into(),
                    "Commit".into(),
                    "Env.GOFLAGS".into(),
                    "Env.UNSET".into()
                ],
                unset_env: vec!["Env.UNSET".into()],
            }
        );
    }

    #[test]
    fn refuses_templates_it_does_not_know() {
        for text in [
            "{{.Branch}}",
            "{{ .Version | tolower }}",
            "{{ if .IsSnapshot }}x{{ end }}",
            "{{- .Version }}",
            "{{.Version",
            "{{ .Env }}",
            "{{ .Env.A.B }}",
        ] {
            assert!(fill(text, &values()).is_err(), "{text}");
        }
        assert_eq!(
            fill("a {{.Nope}} b", &values()).unwrap_err(),
            "unsupported goreleaser template {{.Nope}}"
        );
    }
}
