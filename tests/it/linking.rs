//! How real executables were linked (issue 26): Go programs, pure and with
//! cgo, built by the machine's `go` in the ways release pipelines link them
//! (Go's own linker, the C toolchain's, PIE, static PIE, stripped), and C
//! programs built by its `gcc`, read by `binary::linking::read`. The C
//! compiler each names must be the machine's `gcc --version`, the static
//! glibc's version the machine's `getconf GNU_LIBC_VERSION`.

use std::path::{Path, PathBuf};
use std::process::Command;

use rebuild_compare::binary::linking::{self, CCompiler, CLibrary, LinkLayout, Linker, Linking};
use tempfile::TempDir;

/// The cgo program: Go calling a C function of its own package, and the
/// packages (`net`, `os/user`) whose C or Go implementation build tags
/// choose.
const CGO_MAIN: &str = r#"package main

// int add(int a, int b);
import "C"

import (
	"fmt"
	"net"
	"os/user"
)

func main() {
	u, _ := user.Current()
	_, err := net.LookupHost("localhost")
	fmt.Println(C.add(1, 2), u != nil, err)
}
"#;

const CGO_ADD_C: &str = "int add(int a, int b) { return a + b; }\n";

const PURE_MAIN: &str = "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hi\") }\n";

/// cgo only through the standard library's `net`: Go links it itself.
const NET_MAIN: &str = r#"package main

import (
	"fmt"
	"net"
)

func main() { fmt.Println(net.LookupHost("localhost")) }
"#;

const HELLO_C: &str = "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 0; }\n";

const LIBC_VERSION_C: &str = "#include <stdio.h>\n#include <gnu/libc-version.h>\n\
    int main(void) { puts(gnu_get_libc_version()); return 0; }\n";

const OPENSSL_VERSION_C: &str = "#include <stdio.h>\n#include <openssl/crypto.h>\n\
    int main(void) { puts(OpenSSL_version(OPENSSL_VERSION)); return 0; }\n";

/// Builds the package of `files` (module `example.com/app`) with
/// `go build FLAGS`, offline, `CGO_ENABLED` set to `cgo`, and reads how it
/// was linked.
fn go_build(files: &[(&str, &str)], cgo: bool, flags: &[&str]) -> Linking {
    let dir = TempDir::new().unwrap();
    std::fs::write(
        dir.path().join("go.mod"),
        "module example.com/app\n\ngo 1.19\n",
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let out = dir.path().join("app");
    let output = Command::new("go")
        .arg("build")
        .args(flags)
        .arg("-o")
        .arg(&out)
        .arg(".")
        .current_dir(dir.path())
        .env("GOCACHE", crate::support::go::shared_cache())
        .env("GOPATH", dir.path().join("gopath"))
        .env("GOPROXY", "off")
        .env("GOFLAGS", "-buildvcs=false")
        .env("CGO_ENABLED", if cgo { "1" } else { "0" })
        .output()
        .expect("go is needed: apt-get install golang-go");
    assert!(
        output.status.success(),
        "go build {flags:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    read(&out)
}

/// Compiles `source` with `gcc ARGS` and returns the program's path (in
/// `dir`).
fn gcc_build(dir: &Path, source: &str, args: &[&str]) -> PathBuf {
    let c = dir.join("main.c");
    std::fs::write(&c, source).unwrap();
    let out = dir.join("main");
    let output = Command::new("gcc")
        .arg("-o")
        .arg(&out)
        .arg(&c)
        .args(args)
        .output()
        .expect("gcc is needed: apt-get install gcc");
    assert!(
        output.status.success(),
        "gcc {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

fn read(path: &Path) -> Linking {
    linking::read(&std::fs::read(path).unwrap()).expect("an ELF executable")
}

/// The first line `program ARGS` prints.
fn first_line(program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The machine's C compiler, as `gcc --version` names it.
fn host_gcc() -> CCompiler {
    let line = first_line("gcc", &["--version"]);
    CCompiler::parse(&line).unwrap_or_else(|| panic!("gcc --version: {line:?}"))
}

/// The machine's glibc version (`2.36`).
fn host_glibc() -> String {
    let line = first_line("getconf", &["GNU_LIBC_VERSION"]);
    line.strip_prefix("glibc ")
        .unwrap_or_else(|| panic!("getconf GNU_LIBC_VERSION: {line:?}"))
        .to_string()
}

/// The dynamic loader the machine's `gcc` links programs against.
fn host_interpreter() -> String {
    let dir = TempDir::new().unwrap();
    read(&gcc_build(dir.path(), HELLO_C, &[]))
        .interpreter
        .expect("a dynamically linked C program names its loader")
}

/// The machine's glibc as a static binary shows it, its version read
/// `place` (`at __nptl_version`, `in .rodata`).
fn static_glibc(place: &str) -> CLibrary {
    let glibc = host_glibc();
    CLibrary {
        name: "glibc".to_string(),
        evidence: format!(
            "the static glibc's \"Fatal glibc error\" strings and \"{glibc}\" {place}"
        ),
        version: Some(glibc),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The compilers of an externally linked binary: the machine's `gcc`
/// first (the program's own objects), then the crt objects' if another.
fn assert_machine_gcc_first(linking: &Linking) {
    assert_eq!(linking.compilers.first(), Some(&host_gcc()), "{linking:?}");
    assert!(
        linking.compilers.iter().all(|c| c.name == "GCC"),
        "{linking:?}"
    );
}

#[test]
fn a_pure_go_binary_is_static_and_linked_by_go_itself() {
    let linking = go_build(&[("main.go", PURE_MAIN)], false, &[]);
    let go_arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let entry = format!("the Go entry _rt0_{go_arch}_linux");
    assert_eq!(
        linking,
        Linking {
            layout: LinkLayout::Static,
            interpreter: None,
            linker: Linker::GoInternal,
            evidence: strings(&[
                "ELF type EXEC",
                "no PT_INTERP",
                &entry,
                "a Go build-ID note",
            ]),
            compilers: Vec::new(),
            libraries: Vec::new(),
        }
    );
}

#[test]
fn a_stripped_pure_go_binary_is_known_by_its_missing_crt_objects() {
    let linking = go_build(&[("main.go", PURE_MAIN)], false, &["-ldflags=-s -w"]);
    assert_eq!(linking.layout, LinkLayout::Static);
    assert_eq!(linking.linker, Linker::GoInternal);
    assert_eq!(
        linking.evidence,
        strings(&[
            "ELF type EXEC",
            "no PT_INTERP",
            "a Go build-ID note",
            "no crt entry, .init or C compiler .comment",
        ])
    );
}

#[test]
fn cgo_through_the_standard_library_alone_is_dynamic_and_linked_by_go_itself() {
    let linking = go_build(&[("main.go", NET_MAIN)], true, &[]);
    assert_eq!(linking.layout, LinkLayout::Dynamic);
    assert_eq!(linking.interpreter, Some(host_interpreter()));
    assert_eq!(linking.linker, Linker::GoInternal);
    assert_eq!(linking.compilers, Vec::new());
    assert_eq!(linking.libraries, Vec::new());
}

#[test]
fn a_cgo_binary_is_dynamic_and_linked_externally_by_the_machines_gcc() {
    let linking = go_build(&[("main.go", CGO_MAIN), ("add.c", CGO_ADD_C)], true, &[]);
    assert_eq!(linking.layout, LinkLayout::Dynamic);
    assert_eq!(linking.interpreter, Some(host_interpreter()));
    assert_eq!(linking.linker, Linker::External);
    let interpreter = format!("PT_INTERP {}", host_interpreter());
    assert_eq!(
        linking.evidence,
        strings(&[
            "ELF type EXEC",
            &interpreter,
            "the crt entry _start",
            "a .init section (crti)",
            "a GNU build-ID note",
            ".comment names GCC",
            "a Go build-ID note",
        ])
    );
    assert_machine_gcc_first(&linking);
    assert_eq!(
        linking.libraries,
        Vec::new(),
        "glibc is the loader's, not linked in"
    );
}

#[test]
fn a_cgo_pie_build_is_a_dynamic_pie() {
    let linking = go_build(
        &[("main.go", CGO_MAIN), ("add.c", CGO_ADD_C)],
        true,
        &["-buildmode=pie"],
    );
    assert_eq!(linking.layout, LinkLayout::DynamicPie);
    assert_eq!(linking.interpreter, Some(host_interpreter()));
    assert_eq!(linking.linker, Linker::External);
    assert_machine_gcc_first(&linking);
    assert_eq!(linking.libraries, Vec::new());
}

#[test]
fn reads_static_pie_and_its_glibc_from_a_cgo_binary_linked_externally() {
    let linking = go_build(
        &[("main.go", CGO_MAIN), ("add.c", CGO_ADD_C)],
        true,
        &[
            "-buildmode=pie",
            "-tags=netgo osusergo",
            "-ldflags=-linkmode external -extldflags --static-pie",
        ],
    );
    assert_eq!(linking.layout, LinkLayout::StaticPie);
    assert_eq!(linking.interpreter, None);
    assert_eq!(linking.linker, Linker::External);
    assert_eq!(
        linking.evidence,
        strings(&[
            "ELF type DYN",
            "no PT_INTERP",
            "the crt entry _start",
            "a .init section (crti)",
            "a GNU build-ID note",
            ".comment names GCC",
            "a Go build-ID note",
        ])
    );
    assert_machine_gcc_first(&linking);
    assert_eq!(linking.libraries, vec![static_glibc("at __nptl_version")]);
}

#[test]
fn reads_static_pie_and_its_glibc_from_a_stripped_cgo_binary() {
    let linking = go_build(
        &[("main.go", CGO_MAIN), ("add.c", CGO_ADD_C)],
        true,
        &[
            "-buildmode=pie",
            "-tags=netgo osusergo",
            "-ldflags=-s -w -linkmode external -extldflags --static-pie",
        ],
    );
    assert_eq!(linking.layout, LinkLayout::StaticPie);
    assert_eq!(linking.linker, Linker::External);
    assert_eq!(
        linking.evidence,
        strings(&[
            "ELF type DYN",
            "no PT_INTERP",
            "a .init section (crti)",
            "a GNU build-ID note",
            ".comment names GCC",
            "a Go build-ID note",
        ])
    );
    assert_machine_gcc_first(&linking);
    assert_eq!(linking.libraries, vec![static_glibc("in .rodata")]);
}

#[test]
fn a_static_c_program_shows_the_glibc_version_it_asks_for() {
    let dir = TempDir::new().unwrap();
    let program = gcc_build(dir.path(), LIBC_VERSION_C, &["-static"]);
    let glibc = host_glibc();
    assert_eq!(first_line(&program, &[]), glibc);
    assert_eq!(
        read(&program),
        Linking {
            layout: LinkLayout::Static,
            interpreter: None,
            linker: Linker::External,
            evidence: strings(&[
                "ELF type EXEC",
                "no PT_INTERP",
                "the crt entry _start",
                "a .init section (crti)",
                "a GNU build-ID note",
                ".comment names GCC",
            ]),
            compilers: vec![host_gcc()],
            libraries: vec![static_glibc("at __libc_version")],
        }
    );
}

#[test]
fn a_static_c_program_that_never_names_its_glibc_version_shows_none() {
    let dir = TempDir::new().unwrap();
    let linking = read(&gcc_build(dir.path(), HELLO_C, &["-static"]));
    assert_eq!(linking.layout, LinkLayout::Static);
    assert_eq!(linking.linker, Linker::External);
    assert_eq!(
        linking.libraries,
        vec![CLibrary {
            name: "glibc".to_string(),
            version: None,
            evidence: "the static glibc's \"Fatal glibc error\" strings".to_string(),
        }]
    );
}

#[test]
fn a_static_pie_c_program_is_a_static_pie() {
    let dir = TempDir::new().unwrap();
    let linking = read(&gcc_build(dir.path(), HELLO_C, &["-static-pie"]));
    assert_eq!(linking.layout, LinkLayout::StaticPie);
    assert_eq!(linking.linker, Linker::External);
    assert_eq!(linking.compilers, vec![host_gcc()]);
}

#[test]
fn a_dynamic_c_program_with_libcrypto_linked_in_shows_openssls_version() {
    let dir = TempDir::new().unwrap();
    let program = gcc_build(
        dir.path(),
        OPENSSL_VERSION_C,
        &["-Wl,-Bstatic", "-lcrypto", "-Wl,-Bdynamic"],
    );
    let text = first_line(&program, &[]);
    let version = text
        .strip_prefix("OpenSSL ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("OpenSSL_version: {text:?}"));
    let linking = read(&program);
    assert_eq!(linking.layout, LinkLayout::DynamicPie);
    assert_eq!(linking.compilers, vec![host_gcc()]);
    assert_eq!(
        linking.libraries,
        vec![CLibrary {
            name: "OpenSSL".to_string(),
            version: Some(version.to_string()),
            evidence: format!("OpenSSL's version text \"OpenSSL {version} …\""),
        }]
    );
}

#[test]
fn the_sqlite_bundled_into_rebuild_compare_shows_its_version() {
    let linking = read(Path::new(env!("CARGO_BIN_EXE_rebuild-compare")));
    let version = rusqlite::version();
    let sqlite: Vec<&CLibrary> = linking
        .libraries
        .iter()
        .filter(|library| library.name == "SQLite")
        .collect();
    assert_eq!(sqlite.len(), 1, "{linking:?}");
    assert_eq!(sqlite[0].version.as_deref(), Some(version));
    assert!(
        sqlite[0]
            .evidence
            .ends_with(&format!("\" and \"{version}\" at sqlite3_version")),
        "{linking:?}"
    );
}
