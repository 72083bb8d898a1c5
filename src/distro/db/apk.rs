//! Alpine's apk database in the image: which installed package lists a
//! file, and the sha1 it recorded for it.
//!
//! `/lib/apk/db/installed` is one block of `X:value` lines per package,
//! blocks separated by blank lines: `P` name, `V` version, `A`
//! architecture, `o` origin (the source package), then for each folder an
//! `F` line (its path without the leading `/`), each of its files an `R`
//! line, and after a file its `Z` checksum (`Q1` + base64 of the sha1).
//!
//! Threat model: the file is the image's and untrusted: it is capped in
//! size, read as bytes (file names need not be UTF-8), and anything
//! malformed, or a path two packages claim, is an error, never a guess.

use base64::Engine as _;

use super::error::DbError;
use super::image_files::{file_name, ImageFiles};
use super::owned::OwnedFile;
use crate::distro::package::{DigestAlgorithm, FileDigest, Package, PackageManager};
use crate::rootfs::{clean_join, escape_name, IndexStore, LayerSource};

/// The database of installed packages.
const INSTALLED: &str = "/lib/apk/db/installed";

/// Largest database read (a few hundred packages take a few MiB).
const INSTALLED_LIMIT: u64 = 64 << 20;

/// The fields of one package block read so far.
#[derive(Default)]
struct Block {
    line: usize,
    name: Option<String>,
    version: Option<String>,
    architecture: Option<String>,
    origin: Option<String>,
    folder: Option<String>,
    /// Whether the last `R` line was the searched file.
    last_file_matched: bool,
    /// The searched file as this block lists it, with its checksum.
    found: Option<(String, Option<FileDigest>)>,
}

/// The package that owns `binary` (an absolute path with its directories
/// resolved, see [`ImageFiles::canonical`]), or `None` when the image has
/// no apk database or no installed package lists the path.
pub fn find_owner<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    binary: &str,
) -> Result<Option<OwnedFile>, DbError> {
    let Some(bytes) = files.read(INSTALLED, INSTALLED_LIMIT)? else {
        return Ok(None);
    };
    let name = file_name(binary);
    let mut owners: Vec<OwnedFile> = Vec::new();
    let mut block = Block::default();
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        if line.is_empty() {
            if let Some(owned) = finish(std::mem::take(&mut block))? {
                owners.push(owned);
            }
            continue;
        }
        if block.line == 0 {
            block.line = number;
        }
        let (key, value) = match line {
            [key, b':', value @ ..] => (*key, value),
            _ => return Err(malformed(number, "the line is not `X:value`".to_string())),
        };
        let text = || {
            std::str::from_utf8(value)
                .map(str::to_string)
                .map_err(|_| malformed(number, format!("the {} value is not UTF-8", key as char)))
        };
        match key {
            b'P' => block.name = Some(text()?),
            b'V' => block.version = Some(text()?),
            b'A' => block.architecture = Some(text()?),
            b'o' => block.origin = Some(text()?),
            b'F' => block.folder = Some(escape_name(value).into_owned()),
            b'R' => {
                let folder = block.folder.as_deref().unwrap_or_default();
                let listed = format!("/{folder}/{}", escape_name(value));
                block.last_file_matched =
                    file_name(&listed) == name && files.canonical(&listed)? == binary;
                if block.last_file_matched {
                    block.found = Some((clean_join("/", &listed), None));
                }
            }
            b'Z' if block.last_file_matched => {
                let digest = parse_checksum(value).ok_or_else(|| {
                    malformed(
                        number,
                        "the checksum is not `Q1` and the base64 of a sha1".to_string(),
                    )
                })?;
                if let Some((_, recorded)) = block.found.as_mut() {
                    *recorded = Some(digest);
                }
            }
            _ => {}
        }
    }
    if let Some(owned) = finish(block)? {
        owners.push(owned);
    }
    match owners.len() {
        0 | 1 => Ok(owners.pop()),
        _ => Err(DbError::Ambiguous {
            path: binary.to_string(),
            owners: owners.into_iter().map(|o| o.package.name).collect(),
        }),
    }
}

/// The owner a finished block names, when it lists the searched file.
fn finish(block: Block) -> Result<Option<OwnedFile>, DbError> {
    let Some((path, recorded)) = block.found else {
        return Ok(None);
    };
    let missing = |field: &str| malformed(block.line, format!("the package has no {field} line"));
    let name = block.name.ok_or_else(|| missing("P"))?;
    let version = block.version.ok_or_else(|| missing("V"))?;
    let architecture = block.architecture.ok_or_else(|| missing("A"))?;
    Ok(Some(OwnedFile {
        package: Package {
            manager: PackageManager::Apk,
            source: block.origin.unwrap_or_else(|| name.clone()),
            name,
            version,
            source_version: None,
            architecture,
        },
        path,
        recorded,
    }))
}

/// `Q1` + base64 of a sha1 -> the sha1.
fn parse_checksum(value: &[u8]) -> Option<FileDigest> {
    let encoded = value.strip_prefix(b"Q1")?;
    let sha1 = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()
        .filter(|bytes| bytes.len() == 20)?;
    Some(FileDigest {
        algorithm: DigestAlgorithm::Sha1,
        hex: hex::encode(sha1),
    })
}

fn malformed(line: usize, problem: String) -> DbError {
    DbError::Malformed {
        path: INSTALLED.to_string(),
        line,
        problem,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro::db::test_image::{self, source, Layer};
    use crate::rootfs::MemoryLayerSource;

    const JQ: &[u8] = b"\x7fELF jq";

    fn sha1_of(data: &[u8]) -> [u8; 20] {
        use sha1::Digest as _;
        sha1::Sha1::digest(data).into()
    }

    fn q1(data: &[u8]) -> String {
        format!(
            "Q1{}",
            base64::engine::general_purpose::STANDARD.encode(sha1_of(data))
        )
    }

    fn installed() -> String {
        format!(
            "C:Q1Mh5mDRTrDN1ocRmP0ZGiRuRSlvQ=\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nS:383152\nT:the musl c library\no:musl\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:{}\n\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\nF:usr\nF:usr/lib\nR:libcrypto.so.3\nZ:{}\n\nP:jq\nV:1.7.1-r0\nA:x86_64\no:jq\nF:usr/bin\nR:jq\na:0:0:755\nZ:{}\n",
            q1(b"musl"),
            q1(b"libcrypto"),
            q1(JQ)
        )
    }

    /// An Alpine-like image whose `/lib` is a directory (Alpine is not usrmerged).
    fn alpine_image(installed: &str) -> MemoryLayerSource {
        source(vec![Layer::new()
            .dir("lib")
            .file("lib/ld-musl-x86_64.so.1", b"musl")
            .dir("usr/lib")
            .file("usr/lib/libcrypto.so.3", b"libcrypto")
            .dir("usr/bin")
            .file("usr/bin/jq", JQ)
            .dir("lib/apk/db")
            .file("lib/apk/db/installed", installed.as_bytes())])
    }

    fn owner_in(source: &MemoryLayerSource, path: &str) -> Result<Option<OwnedFile>, DbError> {
        test_image::owner_in(source, path, find_owner)
    }

    #[test]
    fn finds_the_package_owning_a_file_with_its_recorded_sha1() {
        let image = alpine_image(&installed());
        assert_eq!(
            owner_in(&image, "/usr/bin/jq").unwrap(),
            Some(OwnedFile {
                package: Package {
                    manager: PackageManager::Apk,
                    name: "jq".to_string(),
                    version: "1.7.1-r0".to_string(),
                    source: "jq".to_string(),
                    source_version: None,
                    architecture: "x86_64".to_string(),
                },
                path: "/usr/bin/jq".to_string(),
                recorded: Some(FileDigest {
                    algorithm: DigestAlgorithm::Sha1,
                    hex: hex::encode(sha1_of(JQ)),
                }),
            })
        );
    }

    #[test]
    fn the_origin_is_the_source_package() {
        let image = alpine_image(&installed());
        let owned = owner_in(&image, "/usr/lib/libcrypto.so.3")
            .unwrap()
            .unwrap();
        assert_eq!(owned.package.name, "libcrypto3");
        assert_eq!(owned.package.source, "openssl");
        assert_eq!(owned.path, "/usr/lib/libcrypto.so.3");
    }

    #[test]
    fn a_file_no_package_lists_has_no_owner() {
        let mut installed = installed();
        installed.push_str("\nP:other\nV:1\nA:x86_64\nF:usr/bin\nR:jqx\n");
        let image = alpine_image(&installed);
        assert_eq!(owner_in(&image, "/lib/apk/db/installed").unwrap(), None);
        let image = source(vec![Layer::new().file("usr/bin/jq", JQ)]);
        assert_eq!(owner_in(&image, "/usr/bin/jq").unwrap(), None);
    }

    #[test]
    fn two_packages_listing_one_file_is_an_error() {
        let mut installed = installed();
        installed.push_str("\nP:jq-too\nV:1\nA:x86_64\nF:usr/bin\nR:jq\n");
        let error = owner_in(&alpine_image(&installed), "/usr/bin/jq").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/usr/bin/jq is listed by more than one package (jq, jq-too) and the database does not say which one owns it"
        );
    }

    #[test]
    fn malformed_lines_and_checksums_are_errors_naming_the_line() {
        let error = owner_in(&alpine_image("P:jq\nnot a field\n"), "/usr/bin/jq").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/lib/apk/db/installed in the image, line 2: the line is not `X:value`"
        );
        let text = "P:jq\nV:1\nA:x86_64\nF:usr/bin\nR:jq\nZ:Q1bm90IGEgc2hhMQ==\n";
        let error = owner_in(&alpine_image(text), "/usr/bin/jq").unwrap_err();
        assert_eq!(
            error.to_string(),
            "/lib/apk/db/installed in the image, line 6: the checksum is not `Q1` and the base64 of a sha1"
        );
        let error = owner_in(
            &alpine_image("V:1\nA:x86_64\nF:usr/bin\nR:jq\n"),
            "/usr/bin/jq",
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "/lib/apk/db/installed in the image, line 1: the package has no P line"
        );
    }
}
