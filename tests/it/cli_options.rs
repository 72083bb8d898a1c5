//! Where options may stand on the command line. The global options
//! (`--authfile`, `--insecure-registry`, `--cache-dir`, `-v`, `-q`) apply
//! before or after any command that reads an image; a command's own
//! options given before it are refused with an error naming the option
//! (exit 2), never silently dropped; `diff`, which reads no image, refuses
//! the access options. Every option `--help` lists is in a table here, so
//! a new option must say where it may go.

use crate::support;

use std::path::{Path, PathBuf};

use git2::Repository;
use support::cli::{run_in, Run};
use support::{
    push, write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle, LayerBuilder,
    MediaTypes, Registry,
};

const VERSION: &str = "v1.0.0";
const AMD64: &str = "linux/amd64";

/// Each command, with one sample of each of its own options (the option
/// and its value, if it takes one), in the order `--help` lists them.
const OWN_OPTIONS: &[(&str, &[&[&str]])] = &[
    (
        "verify",
        &[
            &["--platform", AMD64],
            &["--skip-published"],
            &["--format", "json"],
            &["--report", "report.json"],
            &["--attest", "attestation.json"],
            &["--sign-key", "key.pem"],
            &["--verifier-id", "urn:example:verifier"],
            &["--push-attestation"],
            &["--max-candidates", "2"],
            &["--max-adjustments", "1"],
            &["--no-adjust"],
            &["--source", "upstream"],
            &["--recipe", "recipe.toml"],
            &[
                "--recipe-sha256",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ],
            &["--recipes", "recipes"],
            &["--out-dir", "out"],
            &["--build-timeout", "1m"],
            &["--no-sandbox"],
            &["--tmp-size", "1G"],
        ],
    ),
    ("inspect", &[&["--platform", AMD64], &["--format", "json"]]),
    (
        "recipe infer",
        &[
            &["--output", "recipe.toml"],
            &["--source", "upstream"],
            &["--platform", AMD64],
        ],
    ),
    (
        "digest",
        &[
            &["--platform", AMD64],
            &["--path", "/usr/local/bin/app"],
            &["--format", "json"],
        ],
    ),
    (
        "extract",
        &[
            &["--platform", AMD64],
            &["--path", "/usr/local/bin/app"],
            &["--output", "app"],
            &["--force"],
            &["--max-size", "1000"],
        ],
    ),
    (
        "build",
        &[
            &["--platform", AMD64],
            &["--format", "json"],
            &["--source", "upstream"],
            &["--recipe", "recipe.toml"],
            &[
                "--recipe-sha256",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            ],
            &["--recipes", "recipes"],
            &["--out-dir", "out"],
            &["--build-timeout", "1m"],
            &["--no-sandbox"],
            &["--tmp-size", "1G"],
        ],
    ),
    (
        "attestation verify",
        &[
            &["--key", "rebuilder.pub"],
            &["--verifier-id", "urn:example:verifier"],
            &["--platform", AMD64],
            &["--format", "json"],
        ],
    ),
    (
        "plan",
        &[
            &["--ledger", "ledger"],
            &["--emit", "shell"],
            &["--job-image", "example.com/rebuild-compare:1"],
            &["--limit", "3"],
            &["--parallelism", "2"],
            &["--ledger-claim", "claim"],
            &["--push-attestation"],
            &["--tool-git", "https://example.com/rebuild-compare.git"],
            &["--tool-rev", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"],
            &["--tool-version", "0.1.0"],
            &["--output", "plan.json"],
        ],
    ),
    (
        "run",
        &[
            &["--job", "{}"],
            &["--ledger", "ledger"],
            &["--jobs", "2"],
            &["--index", "0"],
            &["--sign-key", "key.pem"],
            &["--push-attestation"],
            &["--verifier-id", "urn:example:verifier"],
            &["--retry-errors"],
        ],
    ),
    (
        "ledger",
        &[
            &["--site", "site"],
            &["--from-registry", "watch.toml"],
            &["--key", "rebuilder.pub"],
        ],
    ),
    (
        "diff",
        &[
            &["--format", "json"],
            &["--context", "3"],
            &["--max-hunks", "2"],
        ],
    ),
];

/// The options `--help` lists under "Global options" (all of them for the
/// commands that read an image, the first two for `diff`).
const GLOBAL_OPTIONS: &[&str] = &[
    "--verbose",
    "--quiet",
    "--authfile",
    "--insecure-registry",
    "--cache-dir",
    "--registries-conf",
];

/// The arguments that make each command's line complete, after its name.
fn completion(command: &str) -> &'static [&'static str] {
    match command {
        "verify" | "recipe infer" => &["example.com/app", VERSION],
        "inspect" | "digest" => &["example.com/app"],
        "extract" => &["example.com/app", "--platform", AMD64, "-o", "app"],
        "build" => &[VERSION, "example.com/app"],
        "attestation verify" => &["example.com/app", "--key", "rebuilder.pub"],
        "plan" => &["watch.toml"],
        "run" => &["plan.json", "--ledger", "ledger"],
        "ledger" => &["ledger", "--site", "site"],
        "diff" => &["a", "b"],
        other => panic!("no completion for {other}"),
    }
}

/// The long options listed under `heading` in `rebuild-compare ARGS --help`.
fn listed_options(args: &[&str], heading: &str) -> Vec<String> {
    let home = tempfile::tempdir().unwrap();
    let mut with_help = args.to_vec();
    with_help.push("--help");
    let run = run_in(home.path(), &with_help);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut options = Vec::new();
    let mut inside = false;
    for line in run.stdout.lines() {
        // Long help (possible values with descriptions) puts blank lines
        // between entries: they end nothing.
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            inside = line == heading;
            continue;
        }
        let entry = line.trim_start();
        if !entry.starts_with('-') {
            continue;
        }
        let Some(long) = entry.split_whitespace().take(2).find_map(|word| {
            word.strip_prefix("--")
                .map(|name| format!("--{}", name.trim_end_matches(['.', ','])))
        }) else {
            continue;
        };
        if inside && !matches!(long.as_str(), "--help" | "--version") {
            options.push(long);
        }
    }
    options
}

#[test]
fn the_tables_cover_every_option_help_lists() {
    for (command, options) in OWN_OPTIONS {
        let expected: Vec<String> = options.iter().map(|option| option[0].to_string()).collect();
        let words: Vec<&str> = command.split(' ').collect();
        assert_eq!(listed_options(&words, "Options:"), expected, "{command}");
        // `diff` reads no image: it has no access options.
        let globals = match *command {
            "diff" => &GLOBAL_OPTIONS[..2],
            _ => GLOBAL_OPTIONS,
        };
        assert_eq!(
            listed_options(&words, "Global options (before or after the command):"),
            globals,
            "{command}"
        );
    }
    assert_eq!(
        listed_options(&[], "Global options (before or after the command):"),
        GLOBAL_OPTIONS
    );
    // Without a command: verify's options, then `--generate`, which takes
    // no other argument.
    let verify = OWN_OPTIONS[0].1.iter().map(|o| o[0].to_string());
    let top_level = verify.chain(["--generate".to_string()]);
    assert_eq!(
        listed_options(&[], "Options:"),
        top_level.collect::<Vec<_>>()
    );
}

#[test]
fn generate_prints_the_man_page_and_completions_and_refuses_other_kinds() {
    let home = tempfile::tempdir().unwrap();
    let man = run_in(home.path(), &["--generate", "man"]);
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert_eq!(man.stderr, "");
    assert!(
        man.stdout.contains(".TH rebuild-compare 1"),
        "{}",
        man.stdout
    );
    for (command, _) in OWN_OPTIONS {
        let name = command.split(' ').next().unwrap();
        assert!(
            man.stdout
                .contains(&format!("rebuild\\-compare\\-{name}(1)")),
            "{name}: {}",
            man.stdout
        );
    }
    for (kind, first_line) in [
        ("complete-bash", "_rebuild__compare() {"),
        ("complete-zsh", "#compdef rebuild-compare"),
        ("complete-fish", "# Print an optspec for argparse to handle cmd's options that are independent of any subcommand."),
    ] {
        let run = run_in(home.path(), &["--generate", kind]);
        assert_eq!(run.code, 0, "{kind}: {}", run.stderr);
        assert_eq!(run.stdout.lines().next(), Some(first_line), "{kind}");
        assert!(run.stdout.contains("platform"), "{kind}: {}", run.stdout);
    }
    let bash = run_in(home.path(), &["--generate", "complete-bash"]);
    assert!(bash.stdout.contains("--platform"), "{}", bash.stdout);

    let unknown = run_in(home.path(), &["--generate", "complete-powershell"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(unknown.stdout, "");
    assert!(
        unknown
            .stderr
            .starts_with("error: invalid value 'complete-powershell' for '--generate <KIND>'"),
        "{}",
        unknown.stderr
    );
    for args in [
        &["--generate", "man", "example.com/app", VERSION][..],
        &["--generate", "man", "--platform", AMD64],
    ] {
        let run = run_in(home.path(), args);
        assert_eq!(run.code, 2, "{args:?}");
        assert_eq!(run.stdout, "", "{args:?}");
        assert!(
            run.stderr
                .starts_with("error: the argument '--generate <KIND>' cannot be used with"),
            "{args:?}: {}",
            run.stderr
        );
    }
    let before_a_command = run_in(
        home.path(),
        &["--generate", "man", "digest", "example.com/app"],
    );
    assert_eq!(before_a_command.code, 2);
    assert_eq!(before_a_command.stdout, "");
    assert_eq!(
        before_a_command.stderr.lines().next(),
        Some(
            "error: --generate is not an option of `digest`; before a command only the global \
             options --authfile, --insecure-registry, --cache-dir, --registries-conf, -v and -q are accepted"
        )
    );
}

#[test]
fn a_commands_own_option_before_the_command_is_refused_naming_it() {
    let home = tempfile::tempdir().unwrap();
    for (command, options) in OWN_OPTIONS {
        for option in *options {
            let mut args: Vec<&str> = option.to_vec();
            args.extend(command.split(' '));
            args.extend_from_slice(completion(command));
            let run = run_in(home.path(), &args);
            assert_eq!(run.code, 2, "{args:?}\n{}", run.stderr);
            assert_eq!(run.stdout, "", "{args:?}");
            let first = run.stderr.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("error: ") && first.contains(option[0]),
                "{args:?}: {}",
                run.stderr
            );
        }
    }
    // verify's options are parsed before a command for `IMAGE VERSION`;
    // given there, the error says where they go, or that they do not apply.
    let run = run_in(
        home.path(),
        &["--platform", "linux/s390x", "digest", "example.com/app"],
    );
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "error: --platform was given before `digest`: put it after the command \
             (rebuild-compare digest ... --platform); before a command only the global \
             options --authfile, --insecure-registry, --cache-dir, --registries-conf, -v and -q are accepted"
        )
    );
    let run = run_in(
        home.path(),
        &["--attest", "a.json", "digest", "example.com/app"],
    );
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "error: --attest is not an option of `digest`; before a command only the global \
             options --authfile, --insecure-registry, --cache-dir, --registries-conf, -v and -q are accepted"
        )
    );
    let run = run_in(home.path(), &["example.com/app", "digest", "x"]);
    assert_eq!(
        run.stderr.lines().next(),
        Some(
            "error: `example.com/app` comes before the command `digest`: the command comes \
             first (rebuild-compare digest ...)"
        )
    );
}

#[test]
fn usage_does_not_show_the_cache_dir_as_required_when_its_variable_is_set() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["example.com/app"][..], &["--help"], &["digest"]] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rebuild-compare"))
            .args(args)
            .env("REBUILD_COMPARE_CACHE", home.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let usage = text
            .lines()
            .skip_while(|l| !l.starts_with("Usage:"))
            .take_while(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        assert!(!usage.is_empty(), "{args:?}: {text}");
        assert!(!usage.contains("--cache-dir"), "{args:?}: {usage}");
    }
}

/// A registry holding `test/app:v1.0.0` (one amd64 image running
/// `/usr/local/bin/app`), the source it is built from and a recipe whose
/// build makes the same bytes.
struct Fixture {
    registry: Registry,
    tmp: tempfile::TempDir,
    source: PathBuf,
    recipe: PathBuf,
    /// The same recipe with a builder image from the registry, which does not exist.
    recipe_with_builder: PathBuf,
}

/// The binary the image runs and the recipe builds.
const APP: &[u8] = b"app linux/amd64\n";

impl Fixture {
    fn new() -> Self {
        let registry = Registry::start();
        let tmp = tempfile::tempdir().unwrap();
        let image = ImageBuilder::new(AMD64)
            .entrypoint(&["app"])
            .env("PATH=/usr/local/bin:/usr/bin:/bin")
            .layer(
                LayerBuilder::new()
                    .file("usr/local/bin/app", APP, 0o755)
                    .build(Compression::Gzip),
            )
            .build();
        let layout = tmp.path().join("layout");
        write_oci_layout(
            &layout,
            VERSION,
            &ImageSet::single(image),
            IndexStyle::Index,
            MediaTypes::Oci,
        );
        push(
            &layout,
            VERSION,
            &registry.reference(&format!("test/app:{VERSION}")),
            None,
        );
        let source = tmp.path().join("upstream");
        let repo = Repository::init(&source).unwrap();
        let tagged = support::git::commit(&repo, &[("README", "the app\n")], "release", 1);
        let object = repo.find_object(tagged, None).unwrap();
        repo.tag(
            VERSION,
            &object,
            &support::git::signature(1),
            VERSION,
            false,
        )
        .unwrap();
        let recipe = |name: &str, builder: &str| {
            let path = tmp.path().join(name);
            std::fs::write(
                &path,
                format!(
                    "[image]\nrepository = \"127.0.0.1/test/app\"\ntag = \"{{version}}\"\n\n\
                     [source]\ngit = \"file:///replaced/by/--source\"\nref = \"{{version}}\"\n\n\
                     [build]\nbuilder = \"{builder}\"\n\
                     command = [\"/bin/sh\", \"-c\", \"printf 'app {{os}}/{{arch}}\\\\n' > /out/app\"]\n\
                     artifact = \"/out/app\"\n\n[build.platforms.\"linux/amd64\"]\n"
                ),
            )
            .unwrap();
            path
        };
        let recipe_with_builder = recipe(
            "with-builder.toml",
            &format!("{}/tools/none:1", unrecognised_loopback(&registry)),
        );
        Fixture {
            recipe: recipe("recipe.toml", "host"),
            recipe_with_builder,
            registry,
            tmp,
            source,
        }
    }

    /// A fresh HOME (and so default cache) for one run.
    fn home(&self, n: usize) -> PathBuf {
        let home = self.tmp.path().join(format!("run-{n}"));
        std::fs::create_dir_all(&home).unwrap();
        home
    }

    /// A command's line (`None`: `IMAGE VERSION` without a command word)
    /// reading the image from `registry_host`, with `recipe`.
    fn line(
        &self,
        command: Option<&str>,
        registry_host: &str,
        recipe: &Path,
        home: &Path,
    ) -> Vec<String> {
        let image = format!("{registry_host}/test/app:{VERSION}");
        let out = home.join("out").display().to_string();
        let source = self.source.display().to_string();
        let recipe = recipe.display().to_string();
        let rebuild = ["--recipe", &recipe, "--source", &source, "--out-dir", &out];
        let mut line: Vec<String> = command.iter().map(|c| c.to_string()).collect();
        let rest: Vec<&str> = match command {
            None | Some("verify") => [&[image.as_str(), VERSION][..], &rebuild].concat(),
            Some("inspect") | Some("digest") => vec![&image],
            Some("extract") => vec![&image, "--platform", AMD64, "-o", &out],
            Some("build") => [&[VERSION][..], &rebuild].concat(),
            Some(other) => panic!("no line for {other}"),
        };
        line.extend(rest.iter().map(|s| s.to_string()));
        line
    }
}

/// `0.0.0.0:PORT`: on Linux it reaches the registry listening on
/// 127.0.0.1, but it is not a loopback address, so plain HTTP to it needs
/// `--insecure-registry`.
fn unrecognised_loopback(registry: &Registry) -> String {
    registry.host().replace("127.0.0.1", "0.0.0.0")
}

/// `options` placed first (before the command word, if any) or last.
fn placed(line: &[String], options: &[&str], before: bool) -> Vec<String> {
    let options = options.iter().map(|s| s.to_string());
    if before {
        options.chain(line.iter().cloned()).collect()
    } else {
        line.iter().cloned().chain(options).collect()
    }
}

fn run(home: &Path, args: &[String]) -> Run {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_in(home, &args)
}

const IMAGE_COMMANDS: &[Option<&str>] = &[
    None,
    Some("verify"),
    Some("inspect"),
    Some("digest"),
    Some("extract"),
    Some("build"),
];

#[test]
fn global_options_apply_before_and_after_every_command_that_reads_an_image() {
    let fx = Fixture::new();
    let loopback = fx.registry.host();
    let unrecognised = unrecognised_loopback(&fx.registry);
    let mut n = 0;
    let mut next_home = || {
        n += 1;
        fx.home(n)
    };
    for &command in IMAGE_COMMANDS {
        let name = command.unwrap_or("IMAGE VERSION");
        // --cache-dir: everything cached goes there, nothing to the default cache.
        for before in [true, false] {
            let home = next_home();
            let cache = home.join("elsewhere");
            let line = fx.line(command, &loopback, &fx.recipe, &home);
            let options = ["--cache-dir", cache.to_str().unwrap()];
            let run = run(&home, &placed(&line, &options, before));
            assert_eq!(run.code, 0, "{name} before={before}: {}", run.stderr);
            let cached = if command == Some("build") {
                "git"
            } else {
                "blobs"
            };
            assert!(
                cache.join(cached).is_dir(),
                "{name} before={before}: nothing in --cache-dir"
            );
            assert!(
                !home.join("cache/rebuild-compare").exists(),
                "{name} before={before}: the default cache was used"
            );
        }
        // --authfile: the named file is the one read (here: missing, an error).
        let recipe = match command {
            Some("build") => &fx.recipe_with_builder,
            _ => &fx.recipe,
        };
        for before in [true, false] {
            let home = next_home();
            let missing = home.join("no-such-auth.json");
            let line = fx.line(command, &loopback, recipe, &home);
            let options = ["--authfile", missing.to_str().unwrap()];
            let run = run(&home, &placed(&line, &options, before));
            assert_eq!(run.code, 2, "{name} before={before}: {}", run.stderr);
            assert!(
                run.stderr.contains(missing.to_str().unwrap()),
                "{name} before={before}: {}",
                run.stderr
            );
        }
        // --insecure-registry: plain HTTP to a host that would otherwise get
        // HTTPS (and fail: see the next test).
        let recipe = match command {
            Some("build") => &fx.recipe_with_builder,
            _ => &fx.recipe,
        };
        for before in [true, false] {
            let home = next_home();
            let line = fx.line(command, &unrecognised, recipe, &home);
            let options = ["--insecure-registry", unrecognised.as_str()];
            let run = run(&home, &placed(&line, &options, before));
            let reached = match command {
                // The builder image does not exist: over HTTP the registry says so.
                Some("build") => run.stderr.contains(&format!(
                    "{unrecognised}/tools/none:1: not found in the registry"
                )),
                _ => run.code == 0,
            };
            assert!(reached, "{name} before={before}: {}", run.stderr);
        }
        // -v: info lines on stderr; -q: accepted (progress only shows on a terminal).
        for before in [true, false] {
            for (option, logs) in [("-v", true), ("-q", false)] {
                let home = next_home();
                let line = fx.line(command, &loopback, &fx.recipe, &home);
                let run = run(&home, &placed(&line, &[option], before));
                assert_eq!(
                    run.code, 0,
                    "{name} {option} before={before}: {}",
                    run.stderr
                );
                assert_eq!(
                    run.stderr.contains(" INFO "),
                    logs,
                    "{name} {option} before={before}: {}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn insecure_registries_before_and_after_the_command_all_count_and_one_cache_dir_is_allowed() {
    let fx = Fixture::new();
    let unrecognised = unrecognised_loopback(&fx.registry);
    let image = format!("{unrecognised}/test/app:{VERSION}");
    let home = fx.home(0);
    let without = run_in(&home, &["digest", &image]);
    assert_eq!(without.code, 2, "{}", without.stderr);
    assert!(
        without.stderr.contains(&format!(
            "error sending request for url (https://{unrecognised}/"
        )),
        "{}",
        without.stderr
    );
    let registries = |first: &str, second: &str| {
        run_in(
            &home,
            &[
                "--insecure-registry",
                first,
                "digest",
                &image,
                "--insecure-registry",
                second,
            ],
        )
    };
    for (first, second) in [
        (unrecognised.as_str(), "other.example:5000"),
        ("other.example:5000", unrecognised.as_str()),
    ] {
        let run = registries(first, second);
        assert_eq!(run.code, 0, "{first} {second}: {}", run.stderr);
    }
    let twice = run_in(
        &home,
        &["--cache-dir", "a", "digest", &image, "--cache-dir", "b"],
    );
    assert_eq!(twice.code, 2);
    assert_eq!(
        twice.stderr.lines().next(),
        Some("error: --cache-dir was given both before and after `digest`; give it once")
    );
}

#[test]
fn diff_refuses_the_access_options_in_either_position_and_takes_v_and_q() {
    let home = tempfile::tempdir().unwrap();
    let a = home.path().join("a");
    std::fs::write(&a, b"same bytes\n").unwrap();
    let a = a.to_str().unwrap();
    for (option, value) in [
        ("--authfile", "auth.json"),
        ("--insecure-registry", "registry.example"),
        ("--cache-dir", "cache"),
    ] {
        let before = run_in(home.path(), &[option, value, "diff", a, a]);
        assert_eq!(before.code, 2, "{option}");
        assert_eq!(
            before.stderr.lines().next(),
            Some(
                format!("error: {option} does not apply to `diff`, which reads no image").as_str()
            ),
        );
        let after = run_in(home.path(), &["diff", a, a, option, value]);
        assert_eq!(after.code, 2, "{option}");
        assert_eq!(
            after.stderr.lines().next(),
            Some(format!("error: unexpected argument '{option}' found").as_str()),
        );
    }
    for option in ["-v", "-q"] {
        for args in [[option, "diff", a, a], ["diff", a, a, option]] {
            let run = run_in(home.path(), &args);
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
            assert!(run.stdout.ends_with("identical\n"), "{}", run.stdout);
        }
    }
}
