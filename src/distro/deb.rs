//! Debian binary packages (`.deb`): the `ar` archive, its `debian-binary`
//! version member and its `data.tar` (plain, xz, zstd or gzip), streamed
//! through the decompressor and `tar` to take out the one file asked for.
//!
//! Threat model: the package may be hostile (a mirror, or a cache restored
//! from elsewhere, handed it over): every header is checked against the
//! file's real length, every size is bounded, paths are compared as bytes
//! after normalisation, a `..` path anywhere in the tar refuses the whole
//! package, and a symlink at the path asked for is reported, never followed.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The `ar` archive's magic.
const AR_MAGIC: &[u8; 8] = b"!<arch>\n";
/// Bytes of one `ar` member header.
const AR_HEADER: usize = 60;
/// The most bytes `extract_file` writes for one file.
pub const MAX_EXTRACTED_FILE: u64 = 2 << 30;
/// The most bytes a decompressed `data.tar` may have.
const MAX_DATA_TAR: u64 = 16 << 30;
/// The most bytes of the `debian-binary` member.
const MAX_VERSION_MEMBER: u64 = 64;
/// The most hardlinks followed from the path asked for.
const MAX_HARDLINK_HOPS: usize = 8;

/// Why a file could not be taken out of a `.deb`.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not a Debian package: it does not start with the ar magic `!<arch>`")]
    NotAr { path: PathBuf },
    #[error("{path}: the ar member header at byte {offset} is {problem}")]
    BadMember {
        path: PathBuf,
        offset: u64,
        problem: String,
    },
    #[error("{path}: the first member is {found:?}, not `debian-binary`")]
    NoVersionMember { path: PathBuf, found: String },
    #[error("{path}: package format {found:?} is not the 2.0 this tool reads")]
    UnsupportedFormat { path: PathBuf, found: String },
    #[error("{path} has no data.tar member (plain, .xz, .zst or .gz)")]
    NoData { path: PathBuf },
    #[error("{path}: its {member} is not a readable tar archive: {source}")]
    Tar {
        path: PathBuf,
        member: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: its data.tar decompresses to more than {limit} bytes")]
    DataTooLarge { path: PathBuf, limit: u64 },
    #[error("{path}: the data.tar entry {entry:?} climbs out of the package root (`..`); the package is refused")]
    UnsafeEntry { path: PathBuf, entry: String },
    #[error("{path}: {file} is a symbolic link to {target:?} in the package, not the file itself")]
    Symlink {
        path: PathBuf,
        file: String,
        target: String,
    },
    #[error(
        "{path}: {file} is a hard link to {target:?}, which the package does not hold as a file"
    )]
    DanglingHardlink {
        path: PathBuf,
        file: String,
        target: String,
    },
    #[error("{path}: {file} is of tar type {kind:?}, not a regular file")]
    NotAFile {
        path: PathBuf,
        file: String,
        kind: String,
    },
    #[error("{path}: {file} is {size} bytes, over the {limit}-byte limit")]
    FileTooLarge {
        path: PathBuf,
        file: String,
        size: u64,
        limit: u64,
    },
    #[error("the path {file:?} to look up is not absolute, or has `.`/`..` or empty components")]
    BadLookup { file: String },
}

/// Writes the package's file at `path` (absolute, as the package lists
/// it: `/usr/bin/tree`) to `dest` and returns its size; `None` when the
/// package holds no such file. A hardlink there is followed within the
/// package; a symlink is an error naming its target.
pub fn extract_file(deb: &Path, path: &str, dest: &Path) -> Result<Option<u64>, DebError> {
    let mut sink = Sink::File {
        path: dest.to_path_buf(),
        file: None,
    };
    let size = find(deb, path, MAX_EXTRACTED_FILE, &mut sink)?;
    if let (Some(_), Sink::File { file, path }) = (size, sink) {
        let write_err = |source| DebError::Write {
            path: path.clone(),
            source,
        };
        // An empty file had no bytes to create it with.
        let mut file = match file {
            Some(file) => file,
            None => File::create(&path).map_err(write_err)?,
        };
        file.flush().map_err(write_err)?;
    }
    Ok(size)
}

/// The bytes of a small file of the package (a changelog, a copyright
/// file), at most `limit` of them; `None` when the package has no such file.
pub fn data_file(deb: &Path, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DebError> {
    let mut sink = Sink::Memory(Vec::new());
    let found = find(deb, path, limit, &mut sink)?;
    Ok(match (found, sink) {
        (Some(_), Sink::Memory(bytes)) => Some(bytes),
        _ => None,
    })
}

/// Where the bytes of the file found go: a file created only once the
/// file is found, or memory.
enum Sink {
    File { path: PathBuf, file: Option<File> },
    Memory(Vec<u8>),
}

impl Sink {
    fn write(&mut self, chunk: &[u8]) -> Result<(), DebError> {
        match self {
            Sink::Memory(bytes) => {
                bytes.extend_from_slice(chunk);
                Ok(())
            }
            Sink::File { path, file } => {
                let write_err = |source| DebError::Write {
                    path: path.clone(),
                    source,
                };
                let out = match file {
                    Some(out) => out,
                    None => file.insert(File::create(&*path).map_err(write_err)?),
                };
                out.write_all(chunk).map_err(write_err)
            }
        }
    }
}

/// Finds `path` in the package's data.tar, following hardlinks.
/// Returns the file's size once its bytes went to `sink`.
fn find(deb: &Path, path: &str, limit: u64, sink: &mut Sink) -> Result<Option<u64>, DebError> {
    let wanted = lookup_key(path)?;
    let mut wanted = wanted.into_bytes();
    for hop in 0..=MAX_HARDLINK_HOPS {
        match scan_data(deb, &wanted, limit, sink)? {
            Scan::Missing if hop == 0 => return Ok(None),
            Scan::Missing => break,
            Scan::File(size) => return Ok(Some(size)),
            Scan::Hardlink(target) => {
                let normalised = normalise(&target).ok_or_else(|| DebError::UnsafeEntry {
                    path: deb.to_path_buf(),
                    entry: String::from_utf8_lossy(&target).into_owned(),
                })?;
                if normalised == wanted {
                    break;
                }
                wanted = normalised;
            }
        }
    }
    Err(DebError::DanglingHardlink {
        path: deb.to_path_buf(),
        file: path.to_string(),
        target: String::from_utf8_lossy(&wanted).into_owned(),
    })
}

/// The lookup path without its leading `/`, refused unless absolute and clean.
fn lookup_key(path: &str) -> Result<String, DebError> {
    let bad = || DebError::BadLookup {
        file: path.to_string(),
    };
    let rest = path.strip_prefix('/').ok_or_else(bad)?;
    if rest
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(bad());
    }
    Ok(rest.to_string())
}

/// A tar path without `./` prefixes, leading or doubled slashes and `.`
/// components; `None` when it has a `..` component.
fn normalise(raw: &[u8]) -> Option<Vec<u8>> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return None,
            _ => parts.push(part),
        }
    }
    Some(parts.join(&b'/'))
}

/// What the tar holds at the path looked for.
enum Scan {
    Missing,
    /// A regular file, its bytes written to the sink; its size.
    File(u64),
    Hardlink(Vec<u8>),
}

/// Streams the package's data.tar looking for `wanted` (normalised).
fn scan_data(deb: &Path, wanted: &[u8], limit: u64, sink: &mut Sink) -> Result<Scan, DebError> {
    let io_err = |source| DebError::Io {
        path: deb.to_path_buf(),
        source,
    };
    let mut file = File::open(deb).map_err(io_err)?;
    let length = file.metadata().map_err(io_err)?.len();
    let (member, size) = find_data_member(deb, &mut file, length)?;
    let raw = BufReader::new(file.take(size));
    let decompressed: Box<dyn Read> = match member.as_str() {
        "data.tar" => Box::new(raw),
        "data.tar.xz" => Box::new(liblzma::read::XzDecoder::new(raw)),
        "data.tar.gz" => Box::new(flate2::read::GzDecoder::new(raw)),
        _ => Box::new(zstd::Decoder::with_buffer(raw).map_err(io_err)?),
    };
    let tar_err = |source| DebError::Tar {
        path: deb.to_path_buf(),
        member: member.clone(),
        source,
    };
    let mut bounded = Bounded {
        inner: decompressed,
        left: MAX_DATA_TAR,
    };
    let mut archive = tar::Archive::new(&mut bounded);
    let entries = archive.entries().map_err(tar_err)?;
    for entry in entries {
        let mut entry = entry.map_err(|e| data_error(deb, &member, e))?;
        let raw_path = entry.path_bytes().into_owned();
        let Some(normalised) = normalise(&raw_path) else {
            return Err(DebError::UnsafeEntry {
                path: deb.to_path_buf(),
                entry: String::from_utf8_lossy(&raw_path).into_owned(),
            });
        };
        if normalised != wanted {
            continue;
        }
        let shown = format!("/{}", String::from_utf8_lossy(wanted));
        let kind = entry.header().entry_type();
        let link = || {
            entry
                .link_name_bytes()
                .map(|l| l.into_owned())
                .unwrap_or_default()
        };
        if kind.is_symlink() {
            return Err(DebError::Symlink {
                path: deb.to_path_buf(),
                file: shown,
                target: String::from_utf8_lossy(&link()).into_owned(),
            });
        }
        if kind.is_hard_link() {
            return Ok(Scan::Hardlink(link()));
        }
        if !kind.is_file() {
            return Err(DebError::NotAFile {
                path: deb.to_path_buf(),
                file: shown,
                kind: format!("{kind:?}"),
            });
        }
        let size = entry.header().size().map_err(tar_err)?;
        if size > limit {
            return Err(DebError::FileTooLarge {
                path: deb.to_path_buf(),
                file: shown,
                size,
                limit,
            });
        }
        let mut copied = 0u64;
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| data_error(deb, &member, e))?;
            if n == 0 {
                break;
            }
            copied += n as u64;
            if copied > size {
                break;
            }
            sink.write(&buf[..n])?;
        }
        if copied != size {
            return Err(tar_err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{shown} has {copied} bytes where its header declares {size}"),
            )));
        }
        return Ok(Scan::File(size));
    }
    if bounded.left == 0 {
        return Err(DebError::DataTooLarge {
            path: deb.to_path_buf(),
            limit: MAX_DATA_TAR,
        });
    }
    Ok(Scan::Missing)
}

/// A read error inside the data.tar: over the size bound, or unreadable.
fn data_error(deb: &Path, member: &str, source: io::Error) -> DebError {
    if source.kind() == io::ErrorKind::FileTooLarge {
        return DebError::DataTooLarge {
            path: deb.to_path_buf(),
            limit: MAX_DATA_TAR,
        };
    }
    DebError::Tar {
        path: deb.to_path_buf(),
        member: member.to_string(),
        source,
    }
}

/// A reader that fails once more than its bound has been read.
struct Bounded<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::new(
                    io::ErrorKind::FileTooLarge,
                    "decompressed data over its bound",
                )),
            };
        }
        let cap = usize::try_from(self.left)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..cap])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// One `ar` member header.
struct Member {
    name: String,
    size: u64,
}

/// Reads the `ar` members up to the data.tar, checking `debian-binary`;
/// leaves `file` at the start of the data member and returns its name and size.
fn find_data_member(deb: &Path, file: &mut File, length: u64) -> Result<(String, u64), DebError> {
    let io_err = |source| DebError::Io {
        path: deb.to_path_buf(),
        source,
    };
    let mut magic = [0u8; 8];
    if length < 8 {
        return Err(DebError::NotAr {
            path: deb.to_path_buf(),
        });
    }
    file.read_exact(&mut magic).map_err(io_err)?;
    if &magic != AR_MAGIC {
        return Err(DebError::NotAr {
            path: deb.to_path_buf(),
        });
    }
    let mut offset = 8u64;
    let mut first = true;
    loop {
        if offset + 1 >= length {
            return Err(DebError::NoData {
                path: deb.to_path_buf(),
            });
        }
        let member = read_member_header(deb, file, offset, length)?;
        offset += AR_HEADER as u64;
        if first {
            first = false;
            if member.name != "debian-binary" {
                return Err(DebError::NoVersionMember {
                    path: deb.to_path_buf(),
                    found: member.name,
                });
            }
            check_version(deb, file, member.size)?;
        } else if matches!(
            member.name.as_str(),
            "data.tar" | "data.tar.xz" | "data.tar.zst" | "data.tar.gz"
        ) {
            return Ok((member.name, member.size));
        }
        offset += member.size + (member.size % 2);
        file.seek(SeekFrom::Start(offset.min(length)))
            .map_err(io_err)?;
    }
}

/// Reads and checks the member header at `offset`: complete, well formed,
/// and its member within the file.
fn read_member_header(
    deb: &Path,
    file: &mut File,
    offset: u64,
    length: u64,
) -> Result<Member, DebError> {
    let bad = |problem: String| DebError::BadMember {
        path: deb.to_path_buf(),
        offset,
        problem,
    };
    if length - offset < AR_HEADER as u64 {
        return Err(bad(format!(
            "truncated: {} bytes where a header needs {AR_HEADER}",
            length - offset
        )));
    }
    let mut header = [0u8; AR_HEADER];
    file.read_exact(&mut header)
        .map_err(|source| DebError::Io {
            path: deb.to_path_buf(),
            source,
        })?;
    if &header[58..60] != b"`\n" {
        return Err(bad("malformed: it does not end in \"`\\n\"".to_string()));
    }
    let name = String::from_utf8_lossy(&header[0..16])
        .trim_end()
        .trim_end_matches('/')
        .to_string();
    let size_field = std::str::from_utf8(&header[48..58])
        .ok()
        .map(str::trim_end)
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| bad("malformed: its size is not a decimal number".to_string()))?;
    let room = length - offset - AR_HEADER as u64;
    if size_field > room {
        return Err(bad(format!(
            "oversized: member {name:?} declares {size_field} bytes, but only {room} follow"
        )));
    }
    Ok(Member {
        name,
        size: size_field,
    })
}

/// Checks the `debian-binary` member says `2.0`.
fn check_version(deb: &Path, file: &mut File, size: u64) -> Result<(), DebError> {
    let mut text = Vec::new();
    file.take(size.min(MAX_VERSION_MEMBER))
        .read_to_end(&mut text)
        .map_err(|source| DebError::Io {
            path: deb.to_path_buf(),
            source,
        })?;
    if text != b"2.0\n" {
        return Err(DebError::UnsupportedFormat {
            path: deb.to_path_buf(),
            found: String::from_utf8_lossy(&text).into_owned(),
        });
    }
    Ok(())
}
