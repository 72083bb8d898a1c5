//! The archive's package indexes (`Packages`, `Sources`), once their
//! compressed bytes have been verified against the signed release:
//! decompressed under a bound, and searched for one package's paragraphs,
//! which alone are parsed; and the archive paths they name, checked before
//! they become URLs or file names.
//!
//! Threat model: the index is authentic (its hash is signed) but large;
//! decompression is bounded so a mistake upstream cannot exhaust memory,
//! and paths are checked anyway because a path is turned into a URL and a
//! file name.

use std::io::Read;
use std::path::Path;

use crate::distro::deb822::{self, Paragraph};

/// The most bytes a decompressed index may have.
pub const MAX_INDEX: u64 = 512 << 20;

/// Why an index cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("cannot decompress the index {path}: {source}")]
    Decompress {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the index {path} decompresses to more than {limit} bytes")]
    TooLarge { path: String, limit: u64 },
    #[error("the index {path} is not UTF-8 text")]
    NotText { path: String },
    #[error("the index {path}: {source}")]
    Syntax {
        path: String,
        #[source]
        source: deb822::Deb822Error,
    },
}

/// The text of an xz-compressed index file, at most [`MAX_INDEX`] bytes.
pub fn decompress_xz(path: &Path) -> Result<String, IndexError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| IndexError::Decompress {
        path: shown.clone(),
        source,
    })?;
    let mut bytes = Vec::new();
    liblzma::read::XzDecoder::new(std::io::BufReader::new(file))
        .take(MAX_INDEX + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| IndexError::Decompress {
            path: shown.clone(),
            source,
        })?;
    if bytes.len() as u64 > MAX_INDEX {
        return Err(IndexError::TooLarge {
            path: shown,
            limit: MAX_INDEX,
        });
    }
    String::from_utf8(bytes).map_err(|_| IndexError::NotText { path: shown })
}

/// The paragraphs of `text` whose `Package` is `name`, in file order.
pub fn paragraphs_of(text: &str, name: &str, shown: &str) -> Result<Vec<Paragraph>, IndexError> {
    let line = format!("Package: {name}");
    let mut found = Vec::new();
    for chunk in text.split("\n\n") {
        if !(chunk.contains(&line) && chunk.lines().any(|l| l == line)) {
            continue;
        }
        let paragraphs = deb822::parse(chunk, false).map_err(|source| IndexError::Syntax {
            path: shown.to_string(),
            source,
        })?;
        found.extend(
            paragraphs
                .into_iter()
                .filter(|p| p.get("Package") == Some(name)),
        );
    }
    Ok(found)
}

/// Whether `path` is a relative archive path (`pool/main/t/tree/tree_2.1.0-1_amd64.deb`)
/// of plain components: no `..`, `.` or empty ones, and only the bytes
/// Debian's file names use.
pub fn is_archive_path(path: &str) -> bool {
    !path.is_empty() && path.split('/').all(is_file_name)
}

/// Whether `name` is one plain file name of the bytes Debian's use.
pub fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+~-".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_the_paragraphs_of_the_named_package() {
        let text = "Package: tree-extra\nVersion: 1\n\nPackage: tree\nVersion: 2.1.0-1\n\n\
                    Package: other\nSource: tree\n\nPackage: tree\nVersion: 2.0.4-1\n";
        let found = paragraphs_of(text, "tree", "t").expect("parses");
        let versions: Vec<_> = found.iter().filter_map(|p| p.get("Version")).collect();
        assert_eq!(versions, ["2.1.0-1", "2.0.4-1"]);
    }

    #[test]
    fn archive_paths_are_plain_relative_components() {
        assert!(is_archive_path("pool/main/t/tree/tree_2.1.0-1_amd64.deb"));
        assert!(is_archive_path(
            "pool/main/g/gcc-12/gcc-12_12.2.0-14+deb12u1~x.dsc"
        ));
        for bad in [
            "",
            "/pool/x.deb",
            "pool/../x.deb",
            "pool//x.deb",
            "pool/./x.deb",
            "pool/x y.deb",
            "pool/x\n.deb",
            "pool/x%2f.deb",
        ] {
            assert!(!is_archive_path(bad), "{bad:?}");
        }
    }
}
