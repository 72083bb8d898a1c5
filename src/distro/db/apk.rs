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
pub const INSTALLED: &str = "/lib/apk/db/installed";

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
