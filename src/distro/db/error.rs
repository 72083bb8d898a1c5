//! Why the image's package database could not say who owns a file: every
//! error names the file in the image and what is wrong with it.
//!
//! Threat model: messages quote paths and short values from untrusted
//! databases; they are shown to people, never parsed.

use crate::rootfs::RootfsError;

/// Why the image's package database could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot read {path} in the image")]
    Read {
        path: String,
        #[source]
        source: RootfsError,
    },
    #[error("{path} in the image is not a regular file")]
    NotAFile { path: String },
    #[error("{path} in the image is not a directory")]
    NotADirectory { path: String },
    #[error("{path} in the image is {size} bytes, more than the {limit} bytes a package database file may have")]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("{path} in the image is not UTF-8 text")]
    NotUtf8 { path: String },
    #[error("{path} in the image, line {line}: {problem}")]
    Malformed {
        path: String,
        line: usize,
        problem: String,
    },
    #[error("{path} in the image, package record {record}: {problem}")]
    MalformedRecord {
        path: String,
        record: i64,
        problem: String,
    },
    #[error("cannot read {path} of the image with SQLite")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("{path} in the image is {what}")]
    Unsupported { path: String, what: &'static str },
    #[error("cannot copy the package database out of the image into a temporary directory")]
    Scratch(#[source] std::io::Error),
    #[error("the dpkg database says {package} is installed, but the image has no {list} for it")]
    MissingList { package: String, list: String },
    #[error(
        "{path} is listed by more than one package ({}) and the database does not say which one owns it",
        owners.join(", ")
    )]
    Ambiguous { path: String, owners: Vec<String> },
    #[error("{path} is owned by {first} and also by {second}: the image holds two package databases that disagree")]
    TwoDatabases {
        path: String,
        first: String,
        second: String,
    },
}
