//! `rebuild-compare digest` and `extract` end to end: each rule of finding
//! the binary an image runs is checked on the same image pushed to a
//! loopback registry with skopeo, read as an OCI layout (`oci:DIR:TAG`) and
//! as a `docker save` archive written by skopeo (`docker-archive:FILE`).
//! Results are compared exactly: the sha256 of the bytes the fixture put
//! there, the paths, the size, format, machine and the layer that supplied it.

use crate::support;

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::write::{Object as WriteObject, StandardSection};
use object::{Architecture, BinaryFormat, Endianness};
use rebuild_compare::image::digest::hash_reader;
use serde_json::{json, Value};
use support::cli::{run_at, run_in, Run};
use support::layout::{tag_in_layout, write_blob};
use support::{
    push, sha256_digest, to_docker_archive, write_oci_layout, Compression, Descriptor, Image,
    ImageBuilder, ImageSet, IndexStyle, Layer, LayerBuilder, MediaTypes, Registry,
};
use tar::EntryType;

const PATH_ENV: &str = "PATH=/usr/local/bin:/usr/bin:/bin";
const AMD64: &str = "linux/amd64";

/// A small relocatable ELF for `arch` carrying `marker`, so that every
/// fixture binary has its own bytes.
fn elf(arch: Architecture, marker: &str) -> Vec<u8> {
    let mut object = WriteObject::new(BinaryFormat::Elf, arch, Endianness::Little);
    let text = object.section_id(StandardSection::Text);
    object.append_section_data(text, &[0x90; 16], 16);
    let data = object.section_id(StandardSection::Data);
    object.append_section_data(data, marker.as_bytes(), 8);
    object.write().expect("write ELF")
}

fn x86_64_elf(marker: &str) -> Vec<u8> {
    elf(Architecture::X86_64, marker)
}

fn aarch64_elf(marker: &str) -> Vec<u8> {
    elf(Architecture::Aarch64, marker)
}

/// How an image reaches the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Registry,
    Oci,
    DockerArchive,
}

/// One image, written the way one transport reads it.
#[derive(Debug)]
struct Case {
    transport: Transport,
    /// The IMAGE argument.
    image: String,
    /// The digest of the top manifest or index, when the fixture knows it
    /// (a docker archive's manifest is made up by the reader).
    digest: Option<String>,
}

impl Case {
    /// The digest a layer goes by through this transport: `docker save`
    /// archives hold layers uncompressed, named by their diff_id.
    fn layer_digest(&self, digest: &str, diff_id: &str) -> String {
        match self.transport {
            Transport::DockerArchive => diff_id.to_string(),
            Transport::Registry | Transport::Oci => digest.to_string(),
        }
    }

    fn layer(&self, layer: &Layer) -> String {
        self.layer_digest(&layer.digest, &layer.diff_id)
    }
}

/// A loopback registry and a scratch directory that is the command's HOME.
struct Fixture {
    registry: Registry,
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            registry: Registry::start(),
            tmp: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn home(&self) -> &Path {
        self.tmp.path()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// Publishes a single-platform image as `name:v1` all three ways.
    fn publish(&self, name: &str, image: Image) -> Vec<Case> {
        self.publish_set(name, &ImageSet::single(image), IndexStyle::SingleManifest)
    }

    /// Writes `set` as an OCI layout tagged `v1`, pushes it with skopeo and
    /// saves it as a docker archive (one platform: skopeo takes the host's).
    fn publish_set(&self, name: &str, set: &ImageSet, style: IndexStyle) -> Vec<Case> {
        let layout = self.path(&format!("{name}-layout"));
        let written = write_oci_layout(&layout, "v1", set, style, MediaTypes::Oci);
        self.publish_layout(name, &layout, Some(written.top.digest))
    }

    /// The three cases for an OCI layout already tagged `v1` at `layout`.
    fn publish_layout(&self, name: &str, layout: &Path, digest: Option<String>) -> Vec<Case> {
        let reference = self.registry.reference(&format!("{name}:v1"));
        push(layout, "v1", &reference, None);
        let archive = self.path(&format!("{name}.tar"));
        to_docker_archive(layout, "v1", &archive, &format!("example.com/{name}:v1"));
        vec![
            Case {
                transport: Transport::Registry,
                image: reference,
                digest: digest.clone(),
            },
            Case {
                transport: Transport::Oci,
                image: format!("oci:{}:v1", layout.display()),
                digest,
            },
            Case {
                transport: Transport::DockerArchive,
                image: format!("docker-archive:{}", archive.display()),
                digest: None,
            },
        ]
    }

    fn run(&self, args: &[&str]) -> Run {
        run_in(self.home(), args)
    }

    /// `digest IMAGE --format json EXTRA...`.
    fn digest(&self, case: &Case, extra: &[&str]) -> Run {
        let mut args = vec!["digest", case.image.as_str(), "--format", "json"];
        args.extend_from_slice(extra);
        self.run(&args)
    }

    /// A successful `digest`'s platform entries, after checking its
    /// reference and digest.
    fn digest_ok(&self, case: &Case, extra: &[&str]) -> Vec<Value> {
        let run = self.digest(case, extra);
        assert_eq!(run.code, 0, "{case:?}\nstderr:\n{}", run.stderr);
        let json = run.json();
        assert_eq!(json["reference"], case.image.as_str(), "{case:?}");
        match &case.digest {
            Some(digest) => assert_eq!(json["digest"], digest.as_str(), "{case:?}"),
            None => assert!(
                json["digest"].as_str().is_some_and(is_sha256),
                "{case:?}: {json}"
            ),
        }
        json["platforms"].as_array().expect("platforms").clone()
    }

    /// The one platform entry of a successful `digest`.
    fn digest_one(&self, case: &Case, extra: &[&str]) -> Value {
        let platforms = self.digest_ok(case, extra);
        assert_eq!(platforms.len(), 1, "{case:?}: {platforms:?}");
        platforms[0].clone()
    }

    /// `extract IMAGE --platform linux/amd64 -o OUTPUT EXTRA...`.
    fn extract(&self, case: &Case, output: &Path, extra: &[&str]) -> Run {
        let output = output.to_str().expect("UTF-8 path");
        let mut args = vec![
            "extract",
            case.image.as_str(),
            "--platform",
            AMD64,
            "-o",
            output,
        ];
        args.extend_from_slice(extra);
        self.run(&args)
    }
}

fn is_sha256(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The platform entry `digest --format json` must print, exactly.
fn entry(
    platform: &str,
    requested: &str,
    path: &str,
    content: &[u8],
    layer: &str,
    (format, machine): (&str, &str),
) -> Value {
    json!({
        "platform": platform,
        "requested": requested,
        "path": path,
        "sha256": sha256_digest(content),
        "size": content.len(),
        "format": format,
        "machine": machine,
        "layer": layer,
        "warnings": [],
    })
}

const ELF_X86_64: (&str, &str) = ("elf", "x86_64");
const ELF_AARCH64: (&str, &str) = ("elf", "aarch64");
const SCRIPT: (&str, &str) = ("script", "any");

/// Asserts that the run failed with exit 2, printed nothing on stdout and
/// exactly `error: MESSAGE` on stderr.
fn assert_error(run: &Run, message: &str, case: &Case) {
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (2, "", format!("error: {message}\n").as_str()),
        "{case:?}"
    );
}

/// Every path under `dir`, relative and sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("dir entry").path();
            let relative = path.strip_prefix(root).expect("under root");
            out.push(relative.display().to_string());
            if path.symlink_metadata().expect("stat").is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).expect("stat").permissions().mode() & 0o7777
}

#[test]
fn finds_binary_through_path_order_across_layers() {
    let fx = Fixture::new();
    let older = x86_64_elf("older layer, earlier on PATH");
    let newer = x86_64_elf("newer layer, later on PATH");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app", "--serve"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .dir("usr", 0o755)
                .dir("usr/local", 0o755)
                .dir("usr/local/bin", 0o755)
                .file("usr/local/bin/app", &older, 0o755)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .file("usr/bin/app", &newer, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("order", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/local/bin/app",
                "/usr/local/bin/app",
                &older,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        // The newer copy is still there for --path.
        assert_eq!(
            fx.digest_one(&case, &["--path", "/usr/bin/app"]),
            entry(
                AMD64,
                "/usr/bin/app",
                "/usr/bin/app",
                &newer,
                &case.layer(&layers[1]),
                ELF_X86_64
            ),
            "{case:?}"
        );
    }
}

#[test]
fn whited_out_binary_falls_through_to_the_next_path_directory() {
    let fx = Fixture::new();
    let deleted = x86_64_elf("deleted by a whiteout");
    let kept = x86_64_elf("kept in /usr/bin");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("usr/local/bin/app", &deleted, 0o755)
                .file("usr/bin/app", &kept, 0o755)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .whiteout("usr/local/bin/app")
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("whiteout", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/bin/app",
                "/usr/bin/app",
                &kept,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        assert_error(
            &fx.digest(&case, &["--path", "/usr/local/bin/app"]),
            "linux/amd64: program /usr/local/bin/app not found in the image",
            &case,
        );
    }
}

#[test]
fn opaque_directory_hides_the_older_copy_on_path() {
    let fx = Fixture::new();
    let hidden = x86_64_elf("hidden by an opaque directory");
    let fallback = x86_64_elf("fallback in /usr/bin");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app"])
        .env("PATH=/opt/bin:/usr/bin")
        .layer(
            LayerBuilder::new()
                .file("opt/bin/app", &hidden, 0o755)
                .file("usr/bin/app", &fallback, 0o755)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .dir("opt", 0o755)
                .dir("opt/bin", 0o755)
                .opaque("opt/bin")
                .file("opt/bin/other", b"#!/bin/sh\n", 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("opaque", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/bin/app",
                "/usr/bin/app",
                &fallback,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        assert_error(
            &fx.digest(&case, &["--path", "/opt/bin/app"]),
            "linux/amd64: program /opt/bin/app not found in the image",
            &case,
        );
    }
}

#[test]
fn absolute_and_dotdot_symlinks_resolve_inside_the_image_root() {
    let fx = Fixture::new();
    let server = x86_64_elf("the server");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["server"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("opt/app/server", &server, 0o755)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .symlink("usr/local/bin/server", "/opt/app/server")
                .symlink("usr/bin/escape", "../../../../../../../opt/app/server")
                // The host has /etc/passwd; the image does not.
                .symlink("usr/bin/host-passwd", "../../../../../../../etc/passwd")
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("symlinks", image) {
        let layer = case.layer(&layers[0]);
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/local/bin/server",
                "/opt/app/server",
                &server,
                &layer,
                ELF_X86_64
            ),
            "{case:?}"
        );
        assert_eq!(
            fx.digest_one(&case, &["--path", "/usr/bin/escape"]),
            entry(
                AMD64,
                "/usr/bin/escape",
                "/opt/app/server",
                &server,
                &layer,
                ELF_X86_64
            ),
            "{case:?}"
        );
        assert_error(
            &fx.digest(&case, &["--path", "/usr/bin/host-passwd"]),
            "linux/amd64: program /usr/bin/host-passwd not found in the image (/etc does not exist)",
            &case,
        );
    }
}

#[test]
fn merged_usr_symlinked_bin_directory_is_followed() {
    let fx = Fixture::new();
    let app = x86_64_elf("merged /usr app");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/bin/app"])
        .env("PATH=/bin")
        .layer(
            LayerBuilder::new()
                .dir("usr", 0o755)
                .dir("usr/bin", 0o755)
                .symlink("bin", "usr/bin")
                .symlink("sbin", "usr/sbin")
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .dir("usr", 0o755)
                .dir("usr/bin", 0o755)
                .file("usr/bin/app", &app, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("merged-usr", image) {
        let expected = entry(
            AMD64,
            "/bin/app",
            "/usr/bin/app",
            &app,
            &case.layer(&layers[1]),
            ELF_X86_64,
        );
        assert_eq!(fx.digest_one(&case, &[]), expected, "{case:?}");
        // Found through PATH=/bin too.
        assert_eq!(
            fx.digest_one(&case, &["--path", "bin/app"]),
            expected,
            "{case:?}"
        );

        // The text output is a table with the same answer.
        let run = fx.run(&["digest", &case.image]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        let lines: Vec<&str> = run.stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{case:?}: {}", run.stdout);
        assert!(
            lines[0].starts_with(&format!("{}  sha256:", case.image)),
            "{}",
            lines[0]
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2].split_whitespace().collect::<Vec<_>>(),
            ["PLATFORM", "SHA256", "SIZE", "FORMAT", "MACHINE", "PATH"]
        );
        let size = app.len().to_string();
        let sha = sha256_digest(&app);
        assert_eq!(
            lines[3].split_whitespace().collect::<Vec<_>>(),
            [
                AMD64,
                sha.as_str(),
                size.as_str(),
                "elf",
                "x86_64",
                "/bin/app",
                "->",
                "/usr/bin/app"
            ]
        );
    }
}

#[test]
fn hardlinks_resolve_to_files_of_the_same_and_lower_layers() {
    let fx = Fixture::new();
    let real = x86_64_elf("linked from the layer above");
    let tool = x86_64_elf("linked within its own layer");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app"])
        .env("PATH=/usr/local/bin:/usr/bin")
        .layer(
            LayerBuilder::new()
                .file("usr/bin/real", &real, 0o755)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .hardlink("usr/bin/app", "usr/bin/real")
                .file("usr/local/bin/tool", &tool, 0o755)
                .hardlink("usr/local/bin/app", "usr/local/bin/tool")
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("hardlinks", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/local/bin/app",
                "/usr/local/bin/app",
                &tool,
                &case.layer(&layers[1]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        assert_eq!(
            fx.digest_one(&case, &["--path", "/usr/bin/app"]),
            entry(
                AMD64,
                "/usr/bin/app",
                "/usr/bin/app",
                &real,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        // extract reads the bytes from the link target's entry.
        for (path, want) in [("/usr/local/bin/app", &tool), ("/usr/bin/app", &real)] {
            let out = fx.path("hardlinked");
            let run = fx.extract(&case, &out, &["--path", path, "--force"]);
            assert_eq!(run.code, 0, "{case:?} {path}: {}", run.stderr);
            assert_eq!(&fs::read(&out).unwrap(), want, "{case:?} {path}");
        }
    }
}

#[test]
fn symlink_loop_is_exit_2_naming_the_path() {
    let fx = Fixture::new();
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/usr/bin/a"])
        .layer(
            LayerBuilder::new()
                .symlink("usr/bin/a", "b")
                .symlink("usr/bin/b", "/usr/bin/a")
                .build(Compression::Gzip),
        )
        .build();
    for case in fx.publish("loop", image) {
        let message = "linux/amd64: too many levels of symbolic links resolving /usr/bin/a \
                       (symlink loop? more than 40 links)";
        assert_error(&fx.digest(&case, &[]), message, &case);
        let out = fx.path("loop-out");
        let run = fx.extract(&case, &out, &[]);
        assert_error(&run, message.trim_start_matches("linux/amd64: "), &case);
        assert!(!out.exists());
    }
}

#[test]
fn missing_program_is_exit_2_listing_the_path_searched() {
    let fx = Fixture::new();
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["nope", "--flag"])
        .env("PATH=/opt/bin:/usr/local/bin:/usr/bin")
        .layer(
            LayerBuilder::new()
                .file("usr/bin/other", &x86_64_elf("other"), 0o755)
                // Not executable, and a directory: neither is the program.
                .file("opt/bin/nope", b"data", 0o644)
                .dir("usr/local/bin/nope", 0o755)
                .build(Compression::Gzip),
        )
        .build();
    for case in fx.publish("missing", image) {
        assert_error(
            &fx.digest(&case, &[]),
            "linux/amd64: program \"nope\" not found: no executable regular file of that name \
             in PATH /opt/bin:/usr/local/bin:/usr/bin",
            &case,
        );
    }
}

#[test]
fn cmd_only_image_runs_its_first_cmd_word() {
    let fx = Fixture::new();
    let app = x86_64_elf("run by Cmd");
    let image = ImageBuilder::new(AMD64)
        .cmd(&["app", "serve", "--port", "80"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("usr/bin/app", &app, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("cmd-only", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/bin/app",
                "/usr/bin/app",
                &app,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
    }
}

#[test]
fn shell_form_entrypoint_is_a_shell_wrapper_and_path_names_the_binary() {
    let fx = Fixture::new();
    let shell = b"#!/bin/busybox sh\n".to_vec();
    let app = x86_64_elf("started by a shell");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/bin/sh", "-c", "exec app --serve"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("bin/sh", &shell, 0o755)
                .file("usr/bin/app", &app, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("shell-form", image) {
        assert_error(
            &fx.digest(&case, &[]),
            "linux/amd64: the image runs a shell wrapper (`/bin/sh -c exec app --serve`); \
             pass --path to name the binary",
            &case,
        );
        assert_eq!(
            fx.digest_one(&case, &["--path", "/usr/bin/app"]),
            entry(
                AMD64,
                "/usr/bin/app",
                "/usr/bin/app",
                &app,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        // --path may name the shell itself, a script.
        assert_eq!(
            fx.digest_one(&case, &["--path", "/bin/sh"]),
            entry(
                AMD64,
                "/bin/sh",
                "/bin/sh",
                &shell,
                &case.layer(&layers[0]),
                ("script", "any")
            ),
            "{case:?}"
        );
    }
}

#[test]
fn names_that_differ_only_in_invalid_utf8_stay_distinct() {
    // The runtime runs the file whose name is the Entrypoint's bytes
    // ("app" + U+FFFD, in the lower layer). The upper layer's "app\xff" is
    // another file: a lossy conversion would turn its name into the same
    // text and report the upper file's harmless bytes instead.
    let fx = Fixture::new();
    let run_by_the_runtime = x86_64_elf("the file the runtime runs");
    let decoy = x86_64_elf("a decoy with an invalid name");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/usr/bin/app\u{FFFD}"])
        .layer(
            LayerBuilder::new()
                .raw_entry(
                    "usr/bin/app\u{FFFD}".as_bytes(),
                    EntryType::Regular,
                    b"",
                    &run_by_the_runtime,
                    0o755,
                )
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .raw_entry(b"usr/bin/app\xff", EntryType::Regular, b"", &decoy, 0o755)
                .raw_entry(b"usr/bin/link", EntryType::Symlink, b"app\xff", b"", 0o777)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("invalid-utf8", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/bin/app\u{FFFD}",
                "/usr/bin/app\u{FFFD}",
                &run_by_the_runtime,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        // The decoy is reachable only under its own (escaped) name.
        assert_eq!(
            fx.digest_one(&case, &["--path", "/usr/bin/link"]),
            entry(
                AMD64,
                "/usr/bin/link",
                "/usr/bin/app\\xff",
                &decoy,
                &case.layer(&layers[1]),
                ELF_X86_64
            ),
            "{case:?}"
        );
    }
}

#[test]
fn hostile_tar_entries_never_create_anything_outside_the_output_file() {
    let fx = Fixture::new();
    let app = x86_64_elf("among hostile entries");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/usr/bin/app"])
        .layer(
            LayerBuilder::new()
                .raw_entry(b"../escape-dotdot", EntryType::Regular, b"", b"x", 0o755)
                .raw_entry(
                    b"usr/../../escape-climb",
                    EntryType::Regular,
                    b"",
                    b"x",
                    0o755,
                )
                .raw_entry(
                    b"../../../../../../tmp/escape-tmp",
                    EntryType::Regular,
                    b"",
                    b"x",
                    0o755,
                )
                .raw_entry(b"/abs-entry", EntryType::Regular, b"", b"x", 0o755)
                .raw_entry(
                    b"usr/bin/evil-link",
                    EntryType::Link,
                    b"../../../etc/passwd",
                    b"",
                    0o755,
                )
                .char_device("dev/evil", 1, 3)
                .block_device("dev/disk", 8, 0)
                .fifo("dev/fifo")
                .file("usr/bin/app", &app, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("hostile", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/bin/app",
                "/usr/bin/app",
                &app,
                &case.layer(&layers[0]),
                ELF_X86_64
            ),
            "{case:?}"
        );
        // A relative -o from a working directory of its own: afterwards it
        // holds the output file and nothing else.
        let work = fx.path(&format!("work-{:?}", case.transport));
        fs::create_dir_all(work.join("out")).unwrap();
        let run = run_at(
            fx.home(),
            &work,
            &["extract", &case.image, "--platform", AMD64, "-o", "out/app"],
        );
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert_eq!(tree(&work), ["out", "out/app"], "{case:?}");
        assert_eq!(fs::read(work.join("out/app")).unwrap(), app);
        for escaped in ["escape-dotdot", "escape-climb", "abs-entry"] {
            assert!(!fx.path(escaped).exists(), "{escaped}");
            assert!(!work.join(escaped).exists(), "{escaped}");
            assert!(!Path::new("/").join(escaped).exists(), "{escaped}");
        }
        assert!(!Path::new("/tmp/escape-tmp").exists());

        // Device nodes and fifos are not binaries; nothing is written for them.
        for special in ["/dev/evil", "/dev/disk", "/dev/fifo"] {
            assert_error(
                &fx.digest(&case, &["--path", special]),
                &format!("linux/amd64: {special} is not a regular file"),
                &case,
            );
            let run = run_at(
                fx.home(),
                &work,
                &[
                    "extract",
                    &case.image,
                    "--platform",
                    AMD64,
                    "--path",
                    special,
                    "-o",
                    "out/special",
                ],
            );
            assert_error(&run, &format!("{special} is not a regular file"), &case);
        }
        // Entries that climb above the root were dropped, not re-rooted.
        assert_error(
            &fx.digest(&case, &["--path", "/escape-dotdot"]),
            "linux/amd64: program /escape-dotdot not found in the image",
            &case,
        );
        assert_error(
            &fx.digest(&case, &["--path", "/usr/bin/evil-link"]),
            "linux/amd64: program /usr/bin/evil-link not found in the image",
            &case,
        );
        assert_eq!(tree(&work), ["out", "out/app"], "{case:?}");
    }
}

/// Mostly zeros, with a 4 KiB pseudo-random block at the start of every
/// MiB: a large file that compresses well but is not trivially uniform.
struct SparseIsh {
    offset: u64,
    random: support::PseudoRandom,
}

impl SparseIsh {
    const BLOCK: u64 = 4096;
    const STRIDE: u64 = 1 << 20;

    fn new() -> Self {
        Self {
            offset: 0,
            random: support::PseudoRandom::new(7),
        }
    }
}

impl Read for SparseIsh {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let within = self.offset % Self::STRIDE;
        let n = if within < Self::BLOCK {
            let n = buf.len().min((Self::BLOCK - within) as usize);
            self.random.read_exact(&mut buf[..n])?;
            n
        } else {
            let n = buf.len().min((Self::STRIDE - within) as usize);
            buf[..n].fill(0);
            n
        };
        self.offset += n as u64;
        Ok(n)
    }
}

fn sha256_of_file(path: &Path) -> (String, u64) {
    let (digest, size) = hash_reader(fs::File::open(path).unwrap()).unwrap();
    (digest.to_string(), size)
}

#[test]
fn extract_refuses_a_decompression_bomb_and_writes_nothing() {
    // 300 MiB of zeros in a layer of a few KiB: written out, it would be a
    // disk filled from a tar header's claim.
    let fx = Fixture::new();
    let size: u64 = 300 << 20;
    let bomb = LayerBuilder::large_file_from(
        fx.home(),
        "usr/bin/bomb",
        size,
        io::repeat(0),
        Compression::Zstd,
    );
    let small = x86_64_elf("small");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["bomb"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("usr/bin/small", &small, 0o755)
                .build(Compression::Gzip),
        )
        .layer(bomb.clone())
        .build();
    // A docker archive holds its layers uncompressed: there the layer is as
    // large as the file it holds, and nothing is a bomb.
    let compressed = fx
        .publish("bomb", image)
        .into_iter()
        .filter(|case| case.transport != Transport::DockerArchive);
    for case in compressed {
        let output = fx.path(&format!("bomb-{:?}", case.transport));
        let run = fx.extract(&case, &output, &[]);
        let layer_size = bomb.size;
        assert_eq!(run.code, 2, "{case:?}: {}", run.stderr);
        assert_eq!(
            run.stderr,
            format!(
                "error: /usr/bin/bomb is {size} bytes, from a layer of {layer_size} bytes: more \
                 than 268435456 bytes looks like a decompression bomb; pass --max-size {size} \
                 to write it anyway\n"
            ),
            "{case:?}"
        );
        assert!(!output.exists(), "{case:?}");
        assert_eq!(
            tree(output.parent().unwrap())
                .iter()
                .filter(|n| n.starts_with(".rebuild-compare-"))
                .count(),
            0
        );

        // --max-size sets the limit for any file.
        let run = fx.extract(
            &case,
            &output,
            &["--path", "/usr/bin/small", "--max-size", "100"],
        );
        assert_eq!(run.code, 2, "{case:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("/usr/bin/small is {} bytes", small.len())),
            "{case:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn large_file_is_streamed_and_extracted_byte_for_byte() {
    let fx = Fixture::new();
    let size: u64 = 208 * 1024 * 1024 + 123;
    let sha256 = hash_reader(SparseIsh::new().take(size))
        .unwrap()
        .0
        .to_string();
    let big = LayerBuilder::large_file_from(
        fx.home(),
        "usr/bin/big",
        size,
        SparseIsh::new(),
        Compression::Gzip,
    );
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["big"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", b"ID=test\n", 0o644)
                .build(Compression::Gzip),
        )
        .layer(big.clone())
        .build();
    for case in fx.publish("large", image) {
        assert_eq!(
            fx.digest_one(&case, &[]),
            json!({
                "platform": AMD64,
                "requested": "/usr/bin/big",
                "path": "/usr/bin/big",
                "sha256": sha256,
                "size": size,
                "format": "unknown",
                "machine": "unknown",
                "layer": case.layer(&big),
                "warnings": [],
            }),
            "{case:?}"
        );
        let out = fx.path("big.out");
        let run = fx.extract(&case, &out, &[]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert_eq!(sha256_of_file(&out), (sha256.clone(), size), "{case:?}");
        assert_eq!(mode(&out), 0o755);
        fs::remove_file(&out).unwrap();
    }
}

#[test]
fn two_platforms_are_both_reported_and_platform_selects_one() {
    let fx = Fixture::new();
    let amd64 = x86_64_elf("amd64 build");
    let arm64 = aarch64_elf("arm64 build");
    let image = |platform: &str, content: &[u8]| {
        ImageBuilder::new(platform)
            .entrypoint(&["/usr/local/bin/app"])
            .layer(
                LayerBuilder::new()
                    .file("usr/local/bin/app", content, 0o755)
                    .build(Compression::Gzip),
            )
            .build()
    };
    let set = ImageSet::new(vec![image(AMD64, &amd64), image("linux/arm64", &arm64)]);
    let (amd64_layer, arm64_layer) = (
        set.images[0].layers[0].clone(),
        set.images[1].layers[0].clone(),
    );
    let app = "/usr/local/bin/app";
    for case in fx.publish_set("multi", &set, IndexStyle::Index) {
        let amd64_entry = entry(
            AMD64,
            app,
            app,
            &amd64,
            &case.layer(&amd64_layer),
            ELF_X86_64,
        );
        let arm64_entry = entry(
            "linux/arm64",
            app,
            app,
            &arm64,
            &case.layer(&arm64_layer),
            ELF_AARCH64,
        );
        if case.transport == Transport::DockerArchive {
            // A docker archive holds one platform (skopeo saved the host's).
            assert_eq!(fx.digest_ok(&case, &[]), [amd64_entry], "{case:?}");
            assert_error(
                &fx.digest(&case, &["--platform", "linux/arm64"]),
                "platform linux/arm64 is not in the image; available: linux/amd64",
                &case,
            );
            continue;
        }
        assert_eq!(
            fx.digest_ok(&case, &[]),
            [amd64_entry.clone(), arm64_entry.clone()],
            "{case:?}"
        );
        assert_eq!(
            fx.digest_ok(&case, &["--platform", "linux/arm64"]),
            vec![arm64_entry.clone()],
            "{case:?}"
        );
        assert_eq!(
            fx.digest_ok(&case, &["--platform", "linux/arm64", "--platform", AMD64]),
            [arm64_entry, amd64_entry],
            "{case:?}"
        );
        assert_error(
            &fx.digest(&case, &["--platform", "linux/s390x"]),
            "platform linux/s390x is not in the image; available: linux/amd64, linux/arm64",
            &case,
        );
        let out = fx.path("arm64-app");
        let run = fx.run(&[
            "extract",
            &case.image,
            "--platform",
            "linux/arm64",
            "-o",
            out.to_str().unwrap(),
            "--force",
        ]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert_eq!(fs::read(&out).unwrap(), arm64);
        let run = fx.run(&[
            "extract",
            &case.image,
            "--platform",
            "linux/riscv64",
            "-o",
            out.to_str().unwrap(),
            "--force",
        ]);
        assert_error(
            &run,
            "platform linux/riscv64 is not in the image; available: linux/amd64, linux/arm64",
            &case,
        );
    }
}

#[test]
fn gzip_zstd_and_uncompressed_layers_are_read() {
    let fx = Fixture::new();
    let contents = [
        (Compression::Gzip, "gz-app", x86_64_elf("from a gzip layer")),
        (
            Compression::Zstd,
            "zstd-app",
            x86_64_elf("from a zstd layer"),
        ),
        (
            Compression::None,
            "tar-app",
            x86_64_elf("from a plain tar layer"),
        ),
    ];
    let mut builder = ImageBuilder::new(AMD64)
        .entrypoint(&["tar-app"])
        .env(PATH_ENV);
    for (compression, name, content) in &contents {
        builder = builder.layer(
            LayerBuilder::new()
                .file(&format!("usr/bin/{name}"), content, 0o755)
                .build(*compression),
        );
    }
    let image = builder.build();
    let layers = image.layers.clone();
    for case in fx.publish("compression", image) {
        for (i, (_, name, content)) in contents.iter().enumerate() {
            let path = format!("/usr/bin/{name}");
            assert_eq!(
                fx.digest_one(&case, &["--path", &path]),
                entry(
                    AMD64,
                    &path,
                    &path,
                    content,
                    &case.layer(&layers[i]),
                    ELF_X86_64
                ),
                "{case:?}"
            );
        }
        assert_eq!(
            fx.digest_one(&case, &[])["sha256"],
            sha256_digest(&contents[2].2),
            "{case:?}"
        );
    }
}

#[test]
fn unsupported_layer_media_type_is_exit_2_naming_it() {
    let fx = Fixture::new();
    let layer = LayerBuilder::new()
        .file("usr/bin/app", &x86_64_elf("in a squashfs?"), 0o755)
        .build(Compression::None);
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/usr/bin/app"])
        .layer(layer.clone())
        .build();
    // An OCI manifest whose only layer claims a media type no runtime unpacks.
    let media_type = "application/vnd.example.layer.v1.squashfs";
    let layout = fx.path("odd-layout");
    write_blob(&layout, &image.config);
    write_blob(&layout, &layer.blob_bytes());
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": image.config_digest,
            "size": image.config.len(),
        },
        "layers": [{"mediaType": media_type, "digest": layer.digest, "size": layer.size}],
    }))
    .unwrap();
    let top = Descriptor {
        media_type: "application/vnd.oci.image.manifest.v1+json".to_string(),
        digest: write_blob(&layout, &manifest),
        size: manifest.len() as u64,
    };
    tag_in_layout(&layout, "v1", &top);
    let reference = fx.registry.reference("odd:v1");
    push(&layout, "v1", &reference, None);
    // A docker archive has no layer media types, so only two transports.
    for image in [reference, format!("oci:{}:v1", layout.display())] {
        let case = Case {
            transport: Transport::Oci,
            image,
            digest: Some(top.digest.clone()),
        };
        let message = format!(
            "unsupported layer media type {media_type} (layer {})",
            layer.digest
        );
        assert_error(
            &fx.digest(&case, &[]),
            &format!("linux/amd64: {message}"),
            &case,
        );
        let out = fx.path("odd-out");
        assert_error(&fx.extract(&case, &out, &[]), &message, &case);
        assert!(!out.exists());
    }
}

#[test]
fn target_that_is_a_directory_is_exit_2() {
    let fx = Fixture::new();
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/usr/local/bin"])
        .layer(
            LayerBuilder::new()
                .dir("usr/local/bin", 0o755)
                .file("usr/local/bin/app", &x86_64_elf("app"), 0o755)
                .symlink("opt/current", "/usr/local/bin")
                .build(Compression::Gzip),
        )
        .build();
    for case in fx.publish("directory", image) {
        assert_error(
            &fx.digest(&case, &[]),
            "linux/amd64: /usr/local/bin is a directory, not a binary",
            &case,
        );
        assert_error(
            &fx.digest(&case, &["--path", "/opt/current"]),
            "linux/amd64: /usr/local/bin is a directory, not a binary",
            &case,
        );
        let out = fx.path("dir-out");
        assert_error(
            &fx.extract(&case, &out, &[]),
            "/usr/local/bin is a directory, not a binary",
            &case,
        );
        assert!(!out.exists());
    }
}

#[test]
fn extract_writes_the_bytes_digest_hashed_with_mode_0755() {
    let fx = Fixture::new();
    let app = x86_64_elf("extracted");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                // Owner-only in the image; the extracted copy is 0755 all the same.
                .file("usr/bin/app", &app, 0o700)
                .build(Compression::Zstd),
        )
        .build();
    for case in fx.publish("extract", image) {
        let digested = fx.digest_one(&case, &[]);
        let dir = fx.path(&format!("out-{:?}", case.transport));
        fs::create_dir(&dir).unwrap();
        let out = dir.join("app");
        let run = fx.extract(&case, &out, &[]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        assert_eq!(
            run.stderr,
            format!(
                "wrote {} ({} bytes, {}) from /usr/bin/app\n",
                out.display(),
                app.len(),
                sha256_digest(&app)
            )
        );
        assert_eq!(fs::read(&out).unwrap(), app);
        assert_eq!(
            sha256_of_file(&out),
            (
                digested["sha256"].as_str().unwrap().to_string(),
                digested["size"].as_u64().unwrap()
            )
        );
        assert_eq!(mode(&out), 0o755);
        // Written atomically: no temporary file is left beside it.
        assert_eq!(tree(&dir), ["app"], "{case:?}");
        // -q silences the summary line.
        let quiet = dir.join("quiet");
        let run = fx.extract(&case, &quiet, &["-q"]);
        assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{case:?}");
        assert_eq!(fs::read(&quiet).unwrap(), app);
    }
}

#[test]
fn extract_refuses_an_existing_file_without_force_and_replaces_it_with_force() {
    let fx = Fixture::new();
    let app = x86_64_elf("replaces the old file");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/usr/bin/app"])
        .layer(
            LayerBuilder::new()
                .file("usr/bin/app", &app, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    for case in fx.publish("force", image) {
        let dir = fx.path(&format!("force-{:?}", case.transport));
        fs::create_dir(&dir).unwrap();
        let out = dir.join("app");
        fs::write(&out, b"old contents").unwrap();
        fs::set_permissions(&out, fs::Permissions::from_mode(0o600)).unwrap();

        let run = fx.extract(&case, &out, &[]);
        assert_error(
            &run,
            &format!("{} exists; pass --force to overwrite it", out.display()),
            &case,
        );
        assert_eq!(fs::read(&out).unwrap(), b"old contents");
        assert_eq!(mode(&out), 0o600);
        assert_eq!(tree(&dir), ["app"]);

        let run = fx.extract(&case, &out, &["--force"]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert_eq!(fs::read(&out).unwrap(), app);
        assert_eq!(mode(&out), 0o755);
        assert_eq!(tree(&dir), ["app"]);

        // A dangling symlink in the way counts as existing too, and --force
        // replaces the link itself, never writing through it.
        let link = dir.join("link");
        let target = dir.join("link-target");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let run = fx.extract(&case, &link, &[]);
        assert_error(
            &run,
            &format!("{} exists; pass --force to overwrite it", link.display()),
            &case,
        );
        let run = fx.extract(&case, &link, &["--force"]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert!(!target.exists());
        assert!(!link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(fs::read(&link).unwrap(), app);
    }
}

#[test]
fn second_digest_with_the_same_cache_dir_gives_the_same_answer() {
    let fx = Fixture::new();
    let app = x86_64_elf("cached");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("usr/bin/app", &app, 0o755)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .file("etc/motd", b"hello\n", 0o644)
                .build(Compression::Zstd),
        )
        .build();
    let layers = image.layers.clone();
    for case in fx.publish("cache", image) {
        let cache = fx.path(&format!("cache-{:?}", case.transport));
        let cache_arg = cache.to_str().unwrap();
        let cold = fx.digest(&case, &["--cache-dir", cache_arg]);
        assert_eq!(cold.code, 0, "{case:?}: {}", cold.stderr);
        let expected = entry(
            AMD64,
            "/usr/bin/app",
            "/usr/bin/app",
            &app,
            &case.layer(&layers[0]),
            ELF_X86_64,
        );
        assert_eq!(cold.json()["platforms"], json!([expected]), "{case:?}");
        if case.transport == Transport::Oci {
            // The top layer only says where the binary is not; with its path
            // index in the cache, the warm run need not read it at all.
            let motd = layers[1].digest.trim_start_matches("sha256:");
            let layout = fx.path("cache-layout");
            fs::remove_file(layout.join("blobs/sha256").join(motd)).unwrap();
            let cold_again = fx.path("cache-cold-again");
            let run = fx.digest(&case, &["--cache-dir", cold_again.to_str().unwrap()]);
            assert_eq!(run.code, 2, "a cold run needs the layer: {}", run.stdout);
        }
        let warm = fx.digest(&case, &["--cache-dir", cache_arg]);
        assert_eq!(warm.code, 0, "{case:?}: {}", warm.stderr);
        assert_eq!(warm.stdout, cold.stdout, "{case:?}");
        // The default cache (under HOME) was not used.
        assert!(!fx.path("cache/rebuild-compare/index").exists(), "{case:?}");
    }
}

#[test]
fn a_restored_cache_cannot_change_a_reported_digest() {
    // CI caches are restored from places a pull request can write to: an
    // edited digest of a file, an index replayed from another layer, or a
    // cached blob swapped for another must not change what is reported.
    let fx = Fixture::new();
    let app = x86_64_elf("the real binary");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["app"])
        .env(PATH_ENV)
        .layer(
            LayerBuilder::new()
                .file("usr/bin/app", &app, 0o755)
                .build(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .file("etc/motd", b"hello\n", 0o644)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    let files_in = |dir: &Path| -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = fs::read_dir(dir)
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    };
    for case in fx.publish("restored", image) {
        let cache = fx.path(&format!("restored-{:?}", case.transport));
        let cache_arg = cache.to_str().unwrap();
        let cold = fx.digest(&case, &["--cache-dir", cache_arg]);
        assert_eq!(cold.code, 0, "{case:?}: {}", cold.stderr);
        let expected = entry(
            AMD64,
            "/usr/bin/app",
            "/usr/bin/app",
            &app,
            &case.layer(&layers[0]),
            ELF_X86_64,
        );
        assert_eq!(cold.json()["platforms"], json!([expected]), "{case:?}");

        // A forged digest, written as the cache writes it, and one written
        // after the real entry's first bytes.
        let hashed = files_in(&cache.join("hashed"));
        assert!(
            !hashed.is_empty(),
            "{case:?}: the binary's digest was cached"
        );
        for (i, file) in hashed.iter().enumerate() {
            let forged = json!({"format": 1, "sha256": format!("sha256:{}", "e".repeat(64)),
                                "size": app.len(), "kind": {"format": "elf", "machine": "x86_64"}});
            let mut bytes = if i % 2 == 0 {
                Vec::new()
            } else {
                fs::read(file).unwrap()[..32].to_vec()
            };
            bytes.extend_from_slice(forged.to_string().as_bytes());
            fs::write(file, bytes).unwrap();
        }
        // Each layer's path index replaced by the other's.
        let indexes = files_in(&cache.join("index"));
        assert_eq!(indexes.len(), 2, "{case:?}");
        let (first, second) = (
            fs::read(&indexes[0]).unwrap(),
            fs::read(&indexes[1]).unwrap(),
        );
        fs::write(&indexes[0], &second).unwrap();
        fs::write(&indexes[1], &first).unwrap();
        // The binary's layer swapped for the other layer's bytes.
        if case.transport == Transport::Registry {
            let blobs = cache.join("blobs/sha256");
            let hex = |l: &Layer| l.digest.trim_start_matches("sha256:").to_string();
            fs::copy(blobs.join(hex(&layers[1])), blobs.join(hex(&layers[0]))).unwrap();
        }

        let warm = fx.digest(&case, &["--cache-dir", cache_arg]);
        assert_eq!(warm.code, 0, "{case:?}: {}", warm.stderr);
        assert_eq!(warm.json()["platforms"], json!([expected]), "{case:?}");
        assert!(
            warm.stderr
                .contains("does not carry this machine's seal; ignored"),
            "{case:?}: {}",
            warm.stderr
        );
        let extracted = fx.path(&format!("restored-{:?}.bin", case.transport));
        let run = fx.extract(&case, &extracted, &["--cache-dir", cache_arg]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert_eq!(fs::read(&extracted).unwrap(), app, "{case:?}");
    }
}

#[test]
fn binary_for_another_machine_than_the_manifest_claims_is_a_loud_warning() {
    let fx = Fixture::new();
    let arm = aarch64_elf("an arm64 binary in an amd64 image");
    let image = ImageBuilder::new(AMD64)
        .entrypoint(&["/usr/bin/app"])
        .layer(
            LayerBuilder::new()
                .file("usr/bin/app", &arm, 0o755)
                .build(Compression::Gzip),
        )
        .build();
    let layers = image.layers.clone();
    let warning = "PLATFORM MISMATCH: the manifest says linux/amd64, but /usr/bin/app is an ELF \
                   binary for aarch64";
    for case in fx.publish("claim", image) {
        let run = fx.digest(&case, &[]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        let mut expected = entry(
            AMD64,
            "/usr/bin/app",
            "/usr/bin/app",
            &arm,
            &case.layer(&layers[0]),
            ELF_AARCH64,
        );
        expected["warnings"] = json!([warning]);
        assert_eq!(run.json()["platforms"], json!([expected]), "{case:?}");
        assert!(run.stderr.contains("WARN"), "{case:?}: {}", run.stderr);
        assert!(run.stderr.contains(warning), "{case:?}: {}", run.stderr);

        let text = fx.run(&["digest", &case.image]);
        assert_eq!(text.code, 0, "{case:?}: {}", text.stderr);
        assert_eq!(
            text.stdout.lines().last(),
            Some(format!("warning: linux/amd64: {warning}").as_str()),
            "{case:?}"
        );

        let out = fx.path("claim-out");
        let run = fx.extract(&case, &out, &["--force"]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert!(run.stderr.contains(warning), "{case:?}: {}", run.stderr);
        assert_eq!(fs::read(&out).unwrap(), arm);
    }
}

/// Runs `umoci ARGS` and panics with its stderr unless it succeeds.
fn umoci(args: &[&str]) {
    let out = Command::new("umoci")
        .args(args)
        .output()
        .expect("run umoci (apt-get install umoci)");
    assert!(
        out.status.success(),
        "umoci {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&fs::read(path).unwrap()).unwrap()
}

#[test]
fn image_built_by_umoci_is_digested() {
    let fx = Fixture::new();
    let app = x86_64_elf("built into an image by umoci");
    let helper = b"#!/bin/sh\necho helper\n".to_vec();
    let files = fx.path("files");
    fs::create_dir(&files).unwrap();
    fs::write(files.join("app"), &app).unwrap();
    fs::write(files.join("helper"), &helper).unwrap();
    for name in ["app", "helper"] {
        fs::set_permissions(files.join(name), fs::Permissions::from_mode(0o755)).unwrap();
    }
    let layout = fx.path("umoci-layout");
    let layout_arg = layout.to_str().unwrap();
    let image = format!("{layout_arg}:v1");
    umoci(&["init", "--layout", layout_arg]);
    umoci(&["new", "--image", &image]);
    let app_source = files.join("app");
    let helper_source = files.join("helper");
    umoci(&[
        "insert",
        "--image",
        &image,
        app_source.to_str().unwrap(),
        "/usr/local/bin/app",
    ]);
    umoci(&[
        "insert",
        "--image",
        &image,
        helper_source.to_str().unwrap(),
        "/usr/bin/helper",
    ]);
    umoci(&[
        "config",
        "--image",
        &image,
        "--config.entrypoint",
        "app",
        "--config.env",
        PATH_ENV,
        "--os",
        "linux",
        "--architecture",
        "amd64",
    ]);

    // What umoci wrote: the manifest's layers and the config's diff_ids.
    let index = read_json(&layout.join("index.json"));
    let top = index["manifests"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let blob = |digest: &str| {
        layout
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    };
    let manifest = read_json(&blob(&top));
    let config = read_json(&blob(manifest["config"]["digest"].as_str().unwrap()));
    let layer = |i: usize| {
        (
            manifest["layers"][i]["digest"]
                .as_str()
                .unwrap()
                .to_string(),
            config["rootfs"]["diff_ids"][i]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 2);

    for case in fx.publish_layout("umoci", &layout, Some(top.clone())) {
        let (digest, diff_id) = layer(0);
        assert_eq!(
            fx.digest_one(&case, &[]),
            entry(
                AMD64,
                "/usr/local/bin/app",
                "/usr/local/bin/app",
                &app,
                &case.layer_digest(&digest, &diff_id),
                ELF_X86_64
            ),
            "{case:?}"
        );
        let (digest, diff_id) = layer(1);
        assert_eq!(
            fx.digest_one(&case, &["--path", "/usr/bin/helper"]),
            entry(
                AMD64,
                "/usr/bin/helper",
                "/usr/bin/helper",
                &helper,
                &case.layer_digest(&digest, &diff_id),
                SCRIPT
            ),
            "{case:?}"
        );
        let out = fx.path("umoci-app");
        let run = fx.extract(&case, &out, &["--force"]);
        assert_eq!(run.code, 0, "{case:?}: {}", run.stderr);
        assert_eq!(fs::read(&out).unwrap(), app);
    }
}
