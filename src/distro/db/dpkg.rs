//! dpkg's database in the image (Debian and its derivatives): which
//! installed package lists a file, and the md5 it recorded for it.
//!
//! Reads `/var/lib/dpkg/status` for the installed packages, their
//! `info/NAME[:ARCH].list` file lists (all of them, each layer read once,
//! so that two packages claiming one file are caught rather than the first
//! believed), `/var/lib/dpkg/diversions` to tell which of two claimants
//! owns a diverted path, and the owner's `info/NAME[:ARCH].md5sums`.
//! Distroless images have none of these but `/var/lib/dpkg/status.d/`:
//! one control file per package, its `.md5sums` beside it doubling as its
//! file list.
//!
//! Threat model: every file is the image's and untrusted: each is capped
//! in size, package and architecture names are checked before they become
//! paths, and anything malformed is an error naming the file and line.

use super::error::DbError;
use super::image_files::{file_name, ImageFiles};
use super::owned::OwnedFile;
use crate::distro::deb822;
use crate::distro::package::{DigestAlgorithm, FileDigest, Package, PackageManager};
use crate::rootfs::{clean_join, escape_name, IndexStore, LayerSource};

/// The database of installed packages.
const STATUS: &str = "/var/lib/dpkg/status";
/// Where each package's file list and md5sums live.
const INFO: &str = "/var/lib/dpkg/info";
/// distroless's database: one control file per package, each with its
/// `NAME.md5sums` beside it, and no `status` or file lists.
const STATUS_D: &str = "/var/lib/dpkg/status.d";
/// Paths one package moved aside for another's.
const DIVERSIONS: &str = "/var/lib/dpkg/diversions";

/// Largest status file read (a few thousand packages take a few MiB).
const STATUS_LIMIT: u64 = 64 << 20;
/// Largest file list, md5sums or diversions file read.
const LIST_LIMIT: u64 = 16 << 20;

/// An installed package, and the name its info files go by.
struct Installed {
    package: Package,
    /// `NAME` or, for `Multi-Arch: same` packages, `NAME:ARCH`.
    info_name: String,
}

/// One diversion: `from` is moved to `to` for every package but `by`
/// (`None`: a local diversion, made by the administrator).
struct Diversion {
    from: String,
    to: String,
    by: Option<String>,
}

/// Which listing of the searched path may own the file at `binary`.
enum Claim {
    /// Whichever package lists it (there must be one only).
    Any,
    /// The diverting package's own listing.
    Only(String),
    /// The listing of the package a diversion moved the file away from.
    Except(String),
}

/// The package that owns `binary` (an absolute path with its directories
/// resolved, see [`ImageFiles::canonical`]), or `None` when the image has
/// no dpkg database or no installed package lists the path.
pub fn find_owner<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    binary: &str,
) -> Result<Option<OwnedFile>, DbError> {
    let Some(status) = files.read_text(STATUS, STATUS_LIMIT)? else {
        return find_distroless_owner(files, binary);
    };
    let installed = installed_packages(&status)?;
    let diversions = read_diversions(files)?;
    let mut searched = binary.to_string();
    let mut claim = Claim::Any;
    if let Some(diversion) = diversions.iter().find(|d| d.to == binary) {
        searched = diversion.from.clone();
        if let Some(by) = &diversion.by {
            claim = Claim::Except(by.clone());
        }
    } else if let Some(diversion) = diversions.iter().find(|d| d.from == binary) {
        match &diversion.by {
            Some(by) => claim = Claim::Only(by.clone()),
            // The administrator moved the packaged file away: what is at
            // the path now is nobody's package.
            None => return Ok(None),
        }
    }
    let listings = listings_of(files, &installed, &searched)?;
    let owners: Vec<(&Installed, String)> = listings
        .into_iter()
        .filter(|(owner, _)| match &claim {
            Claim::Any => true,
            Claim::Only(by) => owner.package.name == *by,
            Claim::Except(by) => owner.package.name != *by,
        })
        .collect();
    let (owner, listed) = match owners.as_slice() {
        [] => return Ok(None),
        [(owner, listed)] => (*owner, listed.clone()),
        several => {
            return Err(DbError::Ambiguous {
                path: binary.to_string(),
                owners: several
                    .iter()
                    .map(|(owner, _)| owner.info_name.clone())
                    .collect(),
            })
        }
    };
    let recorded = recorded_md5(files, &owner.info_name, &listed)?;
    Ok(Some(OwnedFile {
        package: owner.package.clone(),
        path: listed,
        recorded,
    }))
}

/// The package owning `binary` in distroless's `status.d`: each control
/// file's package owns the files its `.md5sums` lists (a package without
/// one lists none); no diversions exist there.
fn find_distroless_owner<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    binary: &str,
) -> Result<Option<OwnedFile>, DbError> {
    let Some(names) = files.list_dir(STATUS_D)? else {
        return Ok(None);
    };
    let mut installed = Vec::new();
    let mut sums = Vec::new();
    for name in names.iter().filter(|name| !name.ends_with(".md5sums")) {
        let path = format!("{STATUS_D}/{name}");
        let Some(text) = files.read_text(&path, LIST_LIMIT)? else {
            continue;
        };
        let paragraphs = deb822::parse(&text, false).map_err(|e| DbError::Malformed {
            path: path.clone(),
            line: e.line,
            problem: e.problem.to_string(),
        })?;
        let [paragraph] = paragraphs.as_slice() else {
            return Err(DbError::Malformed {
                path,
                line: 1,
                problem: format!(
                    "{} paragraphs, where one package's is expected",
                    paragraphs.len()
                ),
            });
        };
        let Some(package) = installed_package(paragraph, &path, false)? else {
            continue;
        };
        let md5sums = format!("{path}.md5sums");
        if let Some(located) = files.locate(&md5sums, LIST_LIMIT)? {
            installed.push((package, md5sums));
            sums.push(located);
        }
    }
    let name = file_name(binary);
    let mut candidates = Vec::new();
    let mut first_error = None;
    files.read_all(
        &format!("the md5sums in {STATUS_D}"),
        &sums,
        |position, bytes| {
            let Some((_, path)) = installed.get(position) else {
                return;
            };
            match parse_md5sums(bytes, path) {
                Ok(lines) => candidates.extend(
                    lines
                        .into_iter()
                        .filter(|(_, listed)| file_name(listed) == name)
                        .map(|(hex, listed)| (position, hex, listed)),
                ),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        },
    )?;
    if let Some(error) = first_error {
        return Err(error);
    }
    let mut owners = Vec::new();
    for (position, hex, listed) in candidates {
        if files.canonical(&listed)? == binary {
            if let Some((owner, _)) = installed.get(position) {
                owners.push(OwnedFile {
                    package: owner.package.clone(),
                    path: listed,
                    recorded: Some(FileDigest {
                        algorithm: DigestAlgorithm::Md5,
                        hex,
                    }),
                });
            }
        }
    }
    match owners.len() {
        0 | 1 => Ok(owners.pop()),
        _ => Err(DbError::Ambiguous {
            path: binary.to_string(),
            owners: owners.into_iter().map(|o| o.package.name).collect(),
        }),
    }
}

/// The packages `status` says are installed.
fn installed_packages(status: &str) -> Result<Vec<Installed>, DbError> {
    let paragraphs = deb822::parse(status, false).map_err(|e| DbError::Malformed {
        path: STATUS.to_string(),
        line: e.line,
        problem: e.problem.to_string(),
    })?;
    let mut installed = Vec::new();
    for paragraph in &paragraphs {
        installed.extend(installed_package(paragraph, STATUS, true)?);
    }
    Ok(installed)
}

/// The package a status paragraph (of `path`) describes, when it is
/// installed (`install ok installed`, or `hold ok installed`: a held
/// package is installed too). Without `needs_status`, a paragraph with no
/// `Status` field counts as installed (distroless writes none).
fn installed_package(
    paragraph: &deb822::Paragraph,
    path: &str,
    needs_status: bool,
) -> Result<Option<Installed>, DbError> {
    let line = paragraph.line();
    let malformed = |problem: String| DbError::Malformed {
        path: path.to_string(),
        line,
        problem,
    };
    let field = |name: &str| {
        paragraph
            .get(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| malformed(format!("the paragraph has no {name} field")))
    };
    let name = field("Package")?;
    if needs_status || paragraph.get("Status").is_some() {
        let state: Vec<&str> = field("Status")?.split_whitespace().collect();
        let [want, flag, current] = state.as_slice() else {
            return Err(malformed(format!(
                "the Status of {name} is not `WANT FLAG STATUS`"
            )));
        };
        if !matches!(*want, "install" | "hold") || *flag != "ok" || *current != "installed" {
            return Ok(None);
        }
    }
    if !is_package_name(name) {
        return Err(malformed(format!("{name:?} is not a package name")));
    }
    let version = field("Version")?;
    let architecture = field("Architecture")?;
    if !is_architecture(architecture) {
        return Err(malformed(format!(
            "the Architecture of {name} ({architecture:?}) is not an architecture name"
        )));
    }
    let (source, source_version) = match paragraph.get("Source") {
        None => (name.to_string(), None),
        Some(value) => parse_source(value).ok_or_else(|| {
            malformed(format!(
                "the Source of {name} ({value:?}) is not `NAME` or `NAME (VERSION)`"
            ))
        })?,
    };
    let multi_arch_same = paragraph
        .get("Multi-Arch")
        .is_some_and(|value| value == "same");
    Ok(Some(Installed {
        info_name: if multi_arch_same {
            format!("{name}:{architecture}")
        } else {
            name.to_string()
        },
        package: Package {
            manager: PackageManager::Dpkg,
            name: name.to_string(),
            version: version.to_string(),
            source,
            source_version: source_version.filter(|v: &String| v != version),
            architecture: architecture.to_string(),
        },
    }))
}

/// `jq (1.6-2.1)` -> (`jq`, Some(`1.6-2.1`)); `jq` -> (`jq`, None).
fn parse_source(value: &str) -> Option<(String, Option<String>)> {
    let mut words = value.split_whitespace();
    let name = words.next().filter(|name| is_package_name(name))?;
    let version = match words.next() {
        None => None,
        Some(word) => {
            let version = word.strip_prefix('(')?.strip_suffix(')')?;
            if version.is_empty() {
                return None;
            }
            Some(version.to_string())
        }
    };
    if words.next().is_some() {
        return None;
    }
    Some((name.to_string(), version))
}

/// Debian's package names: lowercase letters, digits, `+`, `-`, `.`,
/// starting with a letter or digit (so never a path of their own).
fn is_package_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

/// dpkg architecture names: `amd64`, `all`, `x32`, `arm64`, `armhf`, ...
fn is_architecture(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The diversions the image's dpkg records: three lines each, the
/// original path, where it was moved, and the diverting package (`:` for
/// a local diversion). Paths come back canonical.
fn read_diversions<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
) -> Result<Vec<Diversion>, DbError> {
    let Some(bytes) = files.read(DIVERSIONS, LIST_LIMIT)? else {
        return Ok(Vec::new());
    };
    let lines: Vec<(usize, &[u8])> = numbered_lines(&bytes).collect();
    if !lines.len().is_multiple_of(3) {
        return Err(DbError::Malformed {
            path: DIVERSIONS.to_string(),
            line: lines.last().map_or(0, |(number, _)| *number),
            problem: "the file is not made of three-line diversions".to_string(),
        });
    }
    let mut diversions = Vec::new();
    for chunk in lines.chunks_exact(3) {
        let [(_, from), (_, to), (number, by)] = chunk else {
            continue;
        };
        let by = String::from_utf8_lossy(by).into_owned();
        if by != ":" && !is_package_name(&by) {
            return Err(DbError::Malformed {
                path: DIVERSIONS.to_string(),
                line: *number,
                problem: format!("{by:?} is neither a package name nor `:`"),
            });
        }
        diversions.push(Diversion {
            from: files.canonical(&escape_name(from))?,
            to: files.canonical(&escape_name(to))?,
            by: (by != ":").then_some(by),
        });
    }
    Ok(diversions)
}

/// Every installed package whose file list holds `searched`, with the path
/// as that list writes it. Each list is read, so a second claimant is seen.
fn listings_of<'p, S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    installed: &'p [Installed],
    searched: &str,
) -> Result<Vec<(&'p Installed, String)>, DbError> {
    let mut lists = Vec::with_capacity(installed.len());
    for package in installed {
        let list = format!("{INFO}/{}.list", package.info_name);
        let Some(located) = files.locate(&list, LIST_LIMIT)? else {
            return Err(DbError::MissingList {
                package: package.info_name.clone(),
                list,
            });
        };
        lists.push(located);
    }
    let name = file_name(searched);
    let mut candidates: Vec<(usize, String)> = Vec::new();
    files.read_all(
        &format!("the file lists in {INFO}"),
        &lists,
        |position, bytes| {
            for (_, line) in numbered_lines(bytes) {
                let listed = escape_name(line);
                if file_name(&listed) == name {
                    candidates.push((position, listed.into_owned()));
                }
            }
        },
    )?;
    let mut listings = Vec::new();
    for (position, listed) in candidates {
        if files.canonical(&listed)? == searched {
            if let Some(package) = installed.get(position) {
                listings.push((package, listed));
            }
        }
    }
    Ok(listings)
}

/// The md5 the package's `md5sums` records for `listed`; `None` when it
/// has no md5sums file or the file has no line for the path (conffiles
/// are not in it).
fn recorded_md5<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    info_name: &str,
    listed: &str,
) -> Result<Option<FileDigest>, DbError> {
    let path = format!("{INFO}/{info_name}.md5sums");
    let Some(bytes) = files.read(&path, LIST_LIMIT)? else {
        return Ok(None);
    };
    Ok(parse_md5sums(&bytes, &path)?
        .into_iter()
        .find(|(_, file)| file == listed)
        .map(|(hex, _)| FileDigest {
            algorithm: DigestAlgorithm::Md5,
            hex,
        }))
}

/// The `(md5, path)` lines of the md5sums file `path` (lines
/// `HEX  path-without-leading-slash`), paths absolute and escaped.
fn parse_md5sums(bytes: &[u8], path: &str) -> Result<Vec<(String, String)>, DbError> {
    let mut sums = Vec::new();
    for (number, line) in numbered_lines(bytes) {
        let malformed = || DbError::Malformed {
            path: path.to_string(),
            line: number,
            problem: "the line is not `MD5  path`".to_string(),
        };
        let space = line.iter().position(|b| *b == b' ').ok_or_else(malformed)?;
        let (hex, rest) = line.split_at(space);
        let file = rest.strip_prefix(b"  ").ok_or_else(malformed)?;
        let is_md5 = hex.len() == 32 && hex.iter().all(|b| b.is_ascii_hexdigit());
        if !is_md5 || file.is_empty() {
            return Err(malformed());
        }
        sums.push((
            String::from_utf8_lossy(hex).to_ascii_lowercase(),
            clean_join("/", &escape_name(file)),
        ));
    }
    Ok(sums)
}

/// The non-empty lines of a file, without their `\n`, each with its
/// 1-based line number.
fn numbered_lines(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line))
        .filter(|(_, line)| !line.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro::db::test_image::{debian_base, push, source, view, Layer};
    use crate::rootfs::MemoryLayerSource;

    const TREE: &[u8] = b"\x7fELF tree";

    const STATUS_TEXT: &str = "\
Package: base-files
Status: install ok installed
Architecture: amd64
Version: 12.4+deb12u5

Package: tree
Status: install ok installed
Priority: optional
Architecture: amd64
Version: 2.1.0-1
Description: displays an indented directory tree
 a continuation line

Package: jq
Status: hold ok installed
Architecture: amd64
Source: jq (1.6-2.1)
Version: 1.6-2.1+b1

Package: libjq1
Status: install ok installed
Multi-Arch: same
Architecture: amd64
Source: jq (1.6-2.1)
Version: 1.6-2.1+b1

Package: oldpkg
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
";

    fn md5_hex(data: &[u8]) -> String {
        use md5::Digest as _;
        hex::encode(md5::Md5::digest(data))
    }

    /// A bookworm-like image: `tree` installed in a layer of its own.
    fn debian_image(status: &str) -> MemoryLayerSource {
        let tree_md5sums = format!(
            "0123456789abcdef0123456789abcdef  usr/share/doc/tree/copyright\n{}  usr/bin/tree\n",
            md5_hex(TREE)
        );
        source(vec![
            debian_base()
                .file("etc/debian_version", b"12.5\n")
                .file("usr/bin/jq", b"jq")
                .dir("usr/lib/x86_64-linux-gnu")
                .file("usr/lib/x86_64-linux-gnu/libjq.so.1", b"libjq")
                .file("usr/bin/old", b"old")
                .file(
                    "var/lib/dpkg/info/base-files.list",
                    b"/.\n/etc\n/etc/debian_version\n",
                )
                .file("var/lib/dpkg/info/jq.list", b"/.\n/bin\n/bin/jq\n")
                .file(
                    "var/lib/dpkg/info/libjq1:amd64.list",
                    b"/.\n/usr/lib/x86_64-linux-gnu\n/usr/lib/x86_64-linux-gnu/libjq.so.1\n",
                )
                .file("var/lib/dpkg/info/oldpkg.list", b"/usr/bin/old\n"),
            Layer::new()
                .file("usr/bin/tree", TREE)
                .file("var/lib/dpkg/status", status.as_bytes())
                .file(
                    "var/lib/dpkg/info/tree.list",
                    b"/.\n/usr\n/usr/bin\n/usr/bin/tree\n/usr/share/doc/tree/copyright\n",
                )
                .file("var/lib/dpkg/info/tree.md5sums", tree_md5sums.as_bytes()),
        ])
    }

    fn owner_in(source: &MemoryLayerSource, path: &str) -> Result<Option<OwnedFile>, DbError> {
        let view = view(source);
        let files = ImageFiles::new(&view);
        let binary = files.canonical(path)?;
        find_owner(&files, &binary)
    }

    fn package(name: &str, version: &str, source: &str, source_version: Option<&str>) -> Package {
        Package {
            manager: PackageManager::Dpkg,
            name: name.to_string(),
            version: version.to_string(),
            source: source.to_string(),
            source_version: source_version.map(str::to_string),
            architecture: "amd64".to_string(),
        }
    }

    #[test]
    fn finds_the_package_owning_a_file_through_its_list_with_the_recorded_md5() {
        let image = debian_image(STATUS_TEXT);
        assert_eq!(
            owner_in(&image, "/usr/bin/tree").unwrap(),
            Some(OwnedFile {
                package: package("tree", "2.1.0-1", "tree", None),
                path: "/usr/bin/tree".to_string(),
                recorded: Some(FileDigest {
                    algorithm: DigestAlgorithm::Md5,
                    hex: md5_hex(TREE),
                }),
            })
        );
    }

    #[test]
    fn finds_a_multi_arch_package_through_its_name_and_architecture_list() {
        let image = debian_image(STATUS_TEXT);
        assert_eq!(
            owner_in(&image, "/usr/lib/x86_64-linux-gnu/libjq.so.1").unwrap(),
            Some(OwnedFile {
                package: package("libjq1", "1.6-2.1+b1", "jq", Some("1.6-2.1")),
                path: "/usr/lib/x86_64-linux-gnu/libjq.so.1".to_string(),
                recorded: None,
            })
        );
    }

    #[test]
    fn finds_the_package_owning_a_usrmerged_path_and_its_binnmu_source_version() {
        let image = debian_image(STATUS_TEXT);
        let owned = owner_in(&image, "/usr/bin/jq").unwrap().unwrap();
        assert_eq!(
            owned,
            OwnedFile {
                package: package("jq", "1.6-2.1+b1", "jq", Some("1.6-2.1")),
                path: "/bin/jq".to_string(),
                recorded: None,
            }
        );
        assert_eq!(owned.package.source_version(), "1.6-2.1");
    }

    #[test]
    fn ignores_packages_that_are_not_installed() {
        let image = debian_image(STATUS_TEXT);
        assert_eq!(owner_in(&image, "/usr/bin/old").unwrap(), None);
    }

    #[test]
    fn a_file_no_package_lists_has_no_owner() {
        let image = source(vec![
            Layer::new()
                .file("var/lib/dpkg/status", b"")
                .dir("usr/local/bin"),
            Layer::new().file("usr/local/bin/app", b"app"),
        ]);
        assert_eq!(owner_in(&image, "/usr/local/bin/app").unwrap(), None);
        let image = source(vec![debian_base().file("usr/bin/app", b"app")]);
        assert_eq!(owner_in(&image, "/usr/bin/app").unwrap(), None);
    }

    #[test]
    fn a_source_without_a_version_is_the_binary_version() {
        let status =
            STATUS_TEXT.replace("Version: 2.1.0-1\n", "Version: 2.1.0-1\nSource: tree-src\n");
        let image = debian_image(&status);
        let owned = owner_in(&image, "/usr/bin/tree").unwrap().unwrap();
        assert_eq!(owned.package, package("tree", "2.1.0-1", "tree-src", None));
    }

    #[test]
    fn a_malformed_status_line_is_an_error_naming_file_and_line() {
        let image = debian_image("Package: tree\nStatus install ok installed\n");
        let error = owner_in(&image, "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/var/lib/dpkg/status in the image, line 2: a line is neither `Name: value` nor a continuation"
        );
        let image =
            debian_image("Package: tree\nStatus: install ok installed\nArchitecture: amd64\n");
        let error = owner_in(&image, "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/var/lib/dpkg/status in the image, line 1: the paragraph has no Version field"
        );
    }

    #[test]
    fn a_package_name_that_is_a_path_is_refused() {
        let status = STATUS_TEXT.replace("Package: tree\n", "Package: ../../../etc/x\n");
        let error = owner_in(&debian_image(&status), "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/var/lib/dpkg/status in the image, line 6: \"../../../etc/x\" is not a package name"
        );
    }

    #[test]
    fn an_oversized_status_file_is_an_error_naming_it() {
        let huge = vec![b'#'; (STATUS_LIMIT + 1) as usize];
        let image = source(vec![debian_base()
            .file("usr/bin/tree", TREE)
            .file("var/lib/dpkg/status", &huge)]);
        let error = owner_in(&image, "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "/var/lib/dpkg/status in the image is {} bytes, more than the {STATUS_LIMIT} bytes a package database file may have",
                STATUS_LIMIT + 1
            )
        );
    }

    #[test]
    fn a_non_utf8_status_file_is_an_error_naming_it() {
        let image = source(vec![debian_base()
            .file("usr/bin/tree", TREE)
            .file("var/lib/dpkg/status", b"Package: \xff\n")]);
        let error = owner_in(&image, "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/var/lib/dpkg/status in the image is not UTF-8 text"
        );
    }

    #[test]
    fn an_installed_package_without_its_list_is_an_error() {
        let status = format!("{STATUS_TEXT}\nPackage: ghost\nStatus: install ok installed\nArchitecture: all\nVersion: 1\n");
        let error = owner_in(&debian_image(&status), "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the dpkg database says ghost is installed, but the image has no /var/lib/dpkg/info/ghost.list for it"
        );
    }

    #[test]
    fn two_packages_listing_one_path_without_a_diversion_is_an_error() {
        let status = format!("{STATUS_TEXT}\nPackage: tree-too\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n");
        let mut image = debian_image(&status);
        push(
            &mut image,
            Layer::new().file("var/lib/dpkg/info/tree-too.list", b"/bin/tree\n"),
        );
        let error = owner_in(&image, "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/usr/bin/tree is listed by more than one package (tree, tree-too) and the database does not say which one owns it"
        );
    }

    #[test]
    fn a_diverted_path_belongs_to_the_diverting_package_and_the_moved_file_to_the_other() {
        let status = format!("{STATUS_TEXT}\nPackage: tree-wrapper\nStatus: install ok installed\nArchitecture: all\nVersion: 3\n");
        let mut image = debian_image(&status);
        push(
            &mut image,
            Layer::new()
                .file("usr/bin/tree", b"#!/bin/sh\n")
                .file("usr/bin/tree.real", TREE)
                .file("var/lib/dpkg/info/tree-wrapper.list", b"/usr/bin/tree\n")
                .file(
                    "var/lib/dpkg/diversions",
                    b"/bin/tree\n/usr/bin/tree.real\ntree-wrapper\n",
                ),
        );
        let wrapper = owner_in(&image, "/usr/bin/tree").unwrap().unwrap();
        assert_eq!(wrapper.package.name, "tree-wrapper");
        assert_eq!(wrapper.path, "/usr/bin/tree");
        assert_eq!(wrapper.recorded, None);
        let real = owner_in(&image, "/usr/bin/tree.real").unwrap().unwrap();
        assert_eq!(real.package, package("tree", "2.1.0-1", "tree", None));
        assert_eq!(real.path, "/usr/bin/tree");
        assert_eq!(
            real.recorded,
            Some(FileDigest {
                algorithm: DigestAlgorithm::Md5,
                hex: md5_hex(TREE),
            })
        );
    }

    #[test]
    fn a_local_diversion_leaves_the_path_to_no_package() {
        let mut image = debian_image(STATUS_TEXT);
        push(
            &mut image,
            Layer::new().file(
                "var/lib/dpkg/diversions",
                b"/usr/bin/tree\n/usr/bin/tree.distrib\n:\n",
            ),
        );
        assert_eq!(owner_in(&image, "/usr/bin/tree").unwrap(), None);
    }

    #[test]
    fn a_malformed_md5sums_line_is_an_error_naming_file_and_line() {
        let mut image = debian_image(STATUS_TEXT);
        push(
            &mut image,
            Layer::new().file(
                "var/lib/dpkg/info/tree.md5sums",
                b"0123456789abcdef0123456789abcdef  usr/share/doc/tree/copyright\n\nnot-hex  usr/bin/tree\n",
            ),
        );
        let error = owner_in(&image, "/usr/bin/tree").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/var/lib/dpkg/info/tree.md5sums in the image, line 3: the line is not `MD5  path`"
        );
    }

    #[test]
    fn finds_the_package_owning_a_file_in_a_distroless_status_directory() {
        let python = b"\x7fELF python";
        let image = source(vec![
            debian_base()
                .file("usr/bin/python3.11", python)
                .dir("var/lib/dpkg/status.d")
                .file(
                    "var/lib/dpkg/status.d/base-files",
                    b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
                )
                .file(
                    "var/lib/dpkg/status.d/base-files.md5sums",
                    b"0123456789abcdef0123456789abcdef  etc/debian_version\n",
                )
                .file(
                    "var/lib/dpkg/status.d/gone",
                    b"Package: gone\nVersion: 1\nArchitecture: amd64\n",
                )
                .file(
                    "var/lib/dpkg/status.d/gone.md5sums",
                    b"0123456789abcdef0123456789abcdef  usr/bin/python3.11\n",
                ),
            Layer::new()
                .whiteout("var/lib/dpkg/status.d/gone")
                .whiteout("var/lib/dpkg/status.d/gone.md5sums")
                .file(
                    "var/lib/dpkg/status.d/python3.11-minimal",
                    b"Package: python3.11-minimal\nSource: python3.11\nVersion: 3.11.2-6+deb12u2\nArchitecture: amd64\n",
                )
                .file(
                    "var/lib/dpkg/status.d/python3.11-minimal.md5sums",
                    format!("{}  usr/bin/python3.11\n", md5_hex(python)).as_bytes(),
                ),
        ]);
        assert_eq!(
            owner_in(&image, "/usr/bin/python3.11").unwrap(),
            Some(OwnedFile {
                package: package("python3.11-minimal", "3.11.2-6+deb12u2", "python3.11", None),
                path: "/usr/bin/python3.11".to_string(),
                recorded: Some(FileDigest {
                    algorithm: DigestAlgorithm::Md5,
                    hex: md5_hex(python),
                }),
            })
        );
        assert_eq!(
            owner_in(&image, "/etc/debian_version")
                .unwrap()
                .map(|owned| owned.package.name),
            Some("base-files".to_string())
        );
    }
}
