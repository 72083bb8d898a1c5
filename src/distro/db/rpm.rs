//! rpm's database in the image (Fedora, RHEL 9 and their kin): which
//! installed package lists a file, and the digest it recorded for it.
//!
//! The database is `rpmdb.sqlite` (`/usr/lib/sysimage/rpm/`, or
//! `/var/lib/rpm/` on older layouts), whose table `Packages(hnum, blob)`
//! holds one RPM header per package. The file is copied out of the image
//! into a private temporary directory (with its `-wal` journal, which may
//! hold the latest packages) and read with SQLite; each header is parsed
//! here: its index of `(tag, type, offset, count)` entries and its data
//! store, for the name, version, release, epoch, architecture, source rpm
//! and the file list (`DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]`) with its
//! `FILEDIGESTS` in the `FILEDIGESTALGO` algorithm. The Berkeley DB and
//! `ndb` formats of older releases are not read: finding one is an error
//! that says so, not a claim that no package owns the file.
//!
//! Threat model: the database is the image's and untrusted: the copy is
//! capped in size, SQLite runs with its schema untrusted and defensive
//! mode on, each header is capped and every offset and count checked
//! against its data before use.

use std::io::Write;
use std::path::Path;

use super::error::DbError;
use super::image_files::{file_name, ImageFiles};
use super::owned::OwnedFile;
use crate::distro::package::{DigestAlgorithm, FileDigest, Package, PackageManager};
use crate::rootfs::{escape_name, IndexStore, LayerSource};

/// Where rpm keeps its sqlite database, newest layout first.
const SQLITE_DATABASES: [&str; 2] = [
    "/usr/lib/sysimage/rpm/rpmdb.sqlite",
    "/var/lib/rpm/rpmdb.sqlite",
];

/// The databases of older rpm releases, not read.
const OTHER_DATABASES: [&str; 4] = [
    "/usr/lib/sysimage/rpm/Packages.db",
    "/var/lib/rpm/Packages.db",
    "/usr/lib/sysimage/rpm/Packages",
    "/var/lib/rpm/Packages",
];

/// Largest database copied out of the image.
const DATABASE_LIMIT: u64 = 1 << 30;
/// Largest header read (rpm's own limit on a header's data is 256 MiB;
/// real ones are well under 1 MiB).
const HEADER_LIMIT: usize = 64 << 20;

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_FILEDIGESTS: u32 = 1035;
const TAG_SOURCERPM: u32 = 1044;
const TAG_DIRINDEXES: u32 = 1116;
const TAG_BASENAMES: u32 = 1117;
const TAG_DIRNAMES: u32 = 1118;
const TAG_FILEDIGESTALGO: u32 = 5011;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// The package that owns `binary` (an absolute path with its directories
/// resolved, see [`ImageFiles::canonical`]), or `None` when the image has
/// no rpm database or no installed package lists the path.
pub fn find_owner<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    binary: &str,
) -> Result<Option<OwnedFile>, DbError> {
    let mut found = None;
    for database in SQLITE_DATABASES {
        if files.locate(database, DATABASE_LIMIT)?.is_some() {
            found = Some(database);
            break;
        }
    }
    let Some(database) = found else {
        for other in OTHER_DATABASES {
            if files.locate(other, u64::MAX)?.is_some() {
                return Err(DbError::Unsupported {
                    path: other.to_string(),
                    what: "an rpm database in the Berkeley DB or ndb format (only rpmdb.sqlite is read)",
                });
            }
        }
        return Ok(None);
    };
    let copy = tempfile::tempdir().map_err(DbError::Scratch)?;
    let local = copy.path().join("rpmdb.sqlite");
    copy_out(files, database, &local)?;
    copy_out(
        files,
        &format!("{database}-wal"),
        &copy.path().join("rpmdb.sqlite-wal"),
    )?;
    let mut owners = Vec::new();
    for_each_header(&local, database, |record, blob| {
        let header = Header::parse(blob).map_err(|problem| malformed(database, record, problem))?;
        if let Some(owned) =
            owned_in(files, &header, binary).map_err(|e| e.in_record(database, record))?
        {
            owners.push(owned);
        }
        Ok(())
    })?;
    match owners.len() {
        0 | 1 => Ok(owners.pop()),
        _ => Err(DbError::Ambiguous {
            path: binary.to_string(),
            owners: owners.into_iter().map(|o| o.package.name).collect(),
        }),
    }
}

/// Copies `path` out of the image to `local`, when the image has it.
fn copy_out<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    path: &str,
    local: &Path,
) -> Result<(), DbError> {
    if files.locate(path, DATABASE_LIMIT)?.is_none() {
        return Ok(());
    }
    let mut out = std::fs::File::create(local).map_err(DbError::Scratch)?;
    files.copy(path, DATABASE_LIMIT, &mut out)?;
    out.flush().map_err(DbError::Scratch)
}

/// Shows `visit` each `(hnum, blob)` of the copied database's `Packages`
/// table, one at a time.
fn for_each_header(
    local: &Path,
    database: &str,
    mut visit: impl FnMut(i64, &[u8]) -> Result<(), DbError>,
) -> Result<(), DbError> {
    let sqlite = |source| DbError::Sqlite {
        path: database.to_string(),
        source,
    };
    let connection = rusqlite::Connection::open_with_flags(
        local,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(sqlite)?;
    connection
        .set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)
        .map_err(sqlite)?;
    connection
        .set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA,
            false,
        )
        .map_err(sqlite)?;
    let mut statement = connection
        .prepare("SELECT hnum, length(blob), blob FROM Packages ORDER BY hnum")
        .map_err(sqlite)?;
    let mut rows = statement.query([]).map_err(sqlite)?;
    while let Some(row) = rows.next().map_err(sqlite)? {
        let record: i64 = row.get(0).map_err(sqlite)?;
        let length: i64 = row.get(1).map_err(sqlite)?;
        if usize::try_from(length).map_or(true, |length| length > HEADER_LIMIT) {
            return Err(malformed(
                database,
                record,
                format!("the header is {length} bytes, more than {HEADER_LIMIT}"),
            ));
        }
        let blob = row.get_ref(2).map_err(sqlite)?;
        let blob = blob.as_blob().map_err(|e| sqlite(e.into()))?;
        visit(record, blob)?;
    }
    Ok(())
}

/// The file `binary` as `header` lists it, with its package.
fn owned_in<S: LayerSource, I: IndexStore>(
    files: &ImageFiles<'_, S, I>,
    header: &Header<'_>,
    binary: &str,
) -> Result<Option<OwnedFile>, RecordError> {
    let Some(basenames) = header.strings(TAG_BASENAMES)? else {
        return Ok(None);
    };
    let dirnames = header.strings(TAG_DIRNAMES)?.unwrap_or_default();
    let dirindexes = header.int32s(TAG_DIRINDEXES)?.unwrap_or_default();
    let name = file_name(binary);
    let mut found = None;
    for (index, basename) in basenames.iter().enumerate() {
        if escape_name(basename) != name {
            continue;
        }
        let directory = dirindexes
            .get(index)
            .and_then(|&d| dirnames.get(usize::try_from(d).ok()?))
            .ok_or_else(|| RecordError::from("a file's directory index is out of range"))?;
        let listed = format!("{}/{}", escape_name(directory), escape_name(basename));
        let listed = crate::rootfs::clean_join("/", &listed);
        if files.canonical(&listed).map_err(RecordError::Db)? == binary {
            found = Some((index, listed));
            break;
        }
    }
    let Some((index, listed)) = found else {
        return Ok(None);
    };
    let text = |tag: u32, what: &str| -> Result<String, RecordError> {
        header
            .string(tag)?
            .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
            .ok_or_else(|| RecordError::Problem(format!("the header has no {what}")))
    };
    let name = text(TAG_NAME, "NAME")?;
    let version_release = format!(
        "{}-{}",
        text(TAG_VERSION, "VERSION")?,
        text(TAG_RELEASE, "RELEASE")?
    );
    let version = match header.int32s(TAG_EPOCH)?.and_then(|e| e.first().copied()) {
        Some(epoch) => format!("{epoch}:{version_release}"),
        None => version_release.clone(),
    };
    let (source, source_version) = match header.string(TAG_SOURCERPM)? {
        None => (name.clone(), None),
        Some(srpm) => {
            let srpm = String::from_utf8_lossy(srpm);
            let (source, source_version) = parse_source_rpm(&srpm).ok_or_else(|| {
                RecordError::Problem(format!(
                    "SOURCERPM {srpm:?} is not NAME-VERSION-RELEASE.src.rpm"
                ))
            })?;
            let differs = source_version != version_release;
            (source, differs.then_some(source_version))
        }
    };
    let recorded = recorded_digest(header, index)?;
    Ok(Some(OwnedFile {
        package: Package {
            manager: PackageManager::Rpm,
            name,
            version,
            source,
            source_version,
            architecture: text(TAG_ARCH, "ARCH")?,
        },
        path: listed,
        recorded,
    }))
}

/// The digest `FILEDIGESTS` records for file `index`, in the header's
/// `FILEDIGESTALGO` (MD5 when absent, as rpm reads it); `None` for a file
/// with no digest or one in an algorithm other than MD5, SHA-1 and SHA-256.
fn recorded_digest(header: &Header<'_>, index: usize) -> Result<Option<FileDigest>, RecordError> {
    let Some(digests) = header.strings(TAG_FILEDIGESTS)? else {
        return Ok(None);
    };
    let Some(hex) = digests.get(index).filter(|hex| !hex.is_empty()) else {
        return Ok(None);
    };
    let algorithm = match header
        .int32s(TAG_FILEDIGESTALGO)?
        .and_then(|a| a.first().copied())
    {
        None | Some(1) => DigestAlgorithm::Md5,
        Some(2) => DigestAlgorithm::Sha1,
        Some(8) => DigestAlgorithm::Sha256,
        Some(_) => return Ok(None),
    };
    let length = match algorithm {
        DigestAlgorithm::Md5 => 32,
        DigestAlgorithm::Sha1 => 40,
        DigestAlgorithm::Sha256 => 64,
    };
    if hex.len() != length || !hex.iter().all(u8::is_ascii_hexdigit) {
        return Err(RecordError::from(
            "a file digest is not hex of its algorithm's length",
        ));
    }
    Ok(Some(FileDigest {
        algorithm,
        hex: String::from_utf8_lossy(hex).to_ascii_lowercase(),
    }))
}

/// `jq-1.6-2.fc38.src.rpm` -> (`jq`, `1.6-2.fc38`).
fn parse_source_rpm(srpm: &str) -> Option<(String, String)> {
    let stem = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))?;
    let mut parts = stem.rsplitn(3, '-');
    let release = parts.next().filter(|s| !s.is_empty())?;
    let version = parts.next().filter(|s| !s.is_empty())?;
    let name = parts.next().filter(|s| !s.is_empty())?;
    Some((name.to_string(), format!("{version}-{release}")))
}

/// What is wrong with one header, before the record is known.
enum RecordError {
    Problem(String),
    Db(DbError),
}

impl From<&str> for RecordError {
    fn from(problem: &str) -> Self {
        Self::Problem(problem.to_string())
    }
}

impl RecordError {
    fn in_record(self, database: &str, record: i64) -> DbError {
        match self {
            Self::Problem(problem) => malformed(database, record, problem),
            Self::Db(error) => error,
        }
    }
}

fn malformed(database: &str, record: i64, problem: String) -> DbError {
    DbError::MalformedRecord {
        path: database.to_string(),
        record,
        problem,
    }
}

/// One index entry of a header.
struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// An RPM header as rpmdb stores it: `il` and `dl` (big-endian u32), `il`
/// 16-byte index entries, then `dl` bytes of data.
struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Self, String> {
        let word = |at: usize| -> Option<u32> {
            let bytes: [u8; 4] = blob.get(at..at.checked_add(4)?)?.try_into().ok()?;
            Some(u32::from_be_bytes(bytes))
        };
        let (Some(il), Some(dl)) = (word(0), word(4)) else {
            return Err("the header is shorter than its 8-byte preamble".to_string());
        };
        let (il, dl) = (il as usize, dl as usize);
        let data_start = il
            .checked_mul(16)
            .and_then(|index| index.checked_add(8))
            .filter(|&start| start <= blob.len())
            .ok_or("the header's index runs past its end")?;
        let data = data_start
            .checked_add(dl)
            .and_then(|end| blob.get(data_start..end))
            .ok_or("the header's data runs past its end")?;
        let mut entries = Vec::with_capacity(il);
        for number in 0..il {
            let at = 8 + number * 16;
            let field = |n: usize| word(at + 4 * n).ok_or("the header's index is cut short");
            entries.push(Entry {
                tag: field(0)?,
                kind: field(1)?,
                offset: field(2)? as usize,
                count: field(3)? as usize,
            });
        }
        Ok(Self { entries, data })
    }

    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.tag == tag)
    }

    /// A `STRING` (or the first of a string array) tag's bytes.
    fn string(&self, tag: u32) -> Result<Option<&'a [u8]>, RecordError> {
        Ok(self
            .strings(tag)?
            .and_then(|strings| strings.first().copied()))
    }

    /// A string or string-array tag's strings, without their NULs.
    fn strings(&self, tag: u32) -> Result<Option<Vec<&'a [u8]>>, RecordError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        let count = match entry.kind {
            TYPE_STRING => 1,
            TYPE_STRING_ARRAY | TYPE_I18NSTRING => entry.count,
            _ => return Err(RecordError::Problem(format!("tag {tag} is not a string"))),
        };
        let cut = || RecordError::Problem(format!("tag {tag}'s strings run past the data"));
        let mut rest = self.data.get(entry.offset..).ok_or_else(cut)?;
        if count > rest.len() {
            return Err(cut());
        }
        let mut strings = Vec::with_capacity(count);
        for _ in 0..count {
            let end = rest.iter().position(|b| *b == 0).ok_or_else(cut)?;
            let (string, after) = rest.split_at(end);
            strings.push(string);
            rest = after.get(1..).unwrap_or_default();
        }
        Ok(Some(strings))
    }

    /// An `INT32` tag's values.
    fn int32s(&self, tag: u32) -> Result<Option<Vec<u32>>, RecordError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if entry.kind != TYPE_INT32 {
            return Err(RecordError::Problem(format!("tag {tag} is not INT32")));
        }
        let bytes = entry
            .count
            .checked_mul(4)
            .and_then(|length| entry.offset.checked_add(length))
            .and_then(|end| self.data.get(entry.offset..end))
            .ok_or_else(|| RecordError::Problem(format!("tag {tag}'s values run past the data")))?;
        Ok(Some(
            bytes
                .chunks_exact(4)
                .map(|chunk| u32::from_be_bytes(chunk.try_into().unwrap_or_default()))
                .collect(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro::db::test_image::{self, source, Layer};
    use crate::rootfs::MemoryLayerSource;

    const JQ: &[u8] = b"\x7fELF jq";

    enum Value<'a> {
        Text(&'a str),
        Texts(&'a [&'a str]),
        Ints(&'a [u32]),
    }

    /// An RPM header as rpmdb stores it, entries in the order given.
    fn header(entries: &[(u32, Value<'_>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, value) in entries {
            let (kind, count, bytes) = match value {
                Value::Text(text) => (TYPE_STRING, 1, format!("{text}\0").into_bytes()),
                Value::Texts(texts) => (
                    TYPE_STRING_ARRAY,
                    texts.len(),
                    texts
                        .iter()
                        .flat_map(|t| format!("{t}\0").into_bytes())
                        .collect(),
                ),
                Value::Ints(ints) => {
                    while data.len() % 4 != 0 {
                        data.push(0);
                    }
                    (
                        TYPE_INT32,
                        ints.len(),
                        ints.iter().flat_map(|i| i.to_be_bytes()).collect(),
                    )
                }
            };
            for word in [*tag, kind, data.len() as u32, count as u32] {
                index.extend(word.to_be_bytes());
            }
            data.extend(bytes);
        }
        let mut blob = Vec::new();
        blob.extend((entries.len() as u32).to_be_bytes());
        blob.extend((data.len() as u32).to_be_bytes());
        blob.extend(index);
        blob.extend(data);
        blob
    }

    fn sha256_hex(data: &[u8]) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(data))
    }

    fn jq_header() -> Vec<u8> {
        let digest = sha256_hex(JQ);
        header(&[
            (TAG_NAME, Value::Text("jq")),
            (TAG_VERSION, Value::Text("1.6")),
            (TAG_RELEASE, Value::Text("2.fc38")),
            (TAG_ARCH, Value::Text("x86_64")),
            (TAG_SOURCERPM, Value::Text("jq-1.6-2.fc38.src.rpm")),
            (TAG_DIRINDEXES, Value::Ints(&[0, 1])),
            (TAG_BASENAMES, Value::Texts(&["jq", "README"])),
            (
                TAG_DIRNAMES,
                Value::Texts(&["/usr/bin/", "/usr/share/doc/jq/"]),
            ),
            (TAG_FILEDIGESTS, Value::Texts(&[&digest, ""])),
            (TAG_FILEDIGESTALGO, Value::Ints(&[8])),
        ])
    }

    fn tool_header() -> Vec<u8> {
        header(&[
            (TAG_NAME, Value::Text("tool-libs")),
            (TAG_EPOCH, Value::Ints(&[1])),
            (TAG_VERSION, Value::Text("2.0")),
            (TAG_RELEASE, Value::Text("1.fc38.1")),
            (TAG_ARCH, Value::Text("x86_64")),
            (TAG_SOURCERPM, Value::Text("tool-2.0-1.fc38.src.rpm")),
            (TAG_DIRINDEXES, Value::Ints(&[0])),
            (TAG_BASENAMES, Value::Texts(&["tool"])),
            (TAG_DIRNAMES, Value::Texts(&["/bin/"])),
        ])
    }

    /// A `rpmdb.sqlite` holding `headers` as records 1, 2, ...
    fn database(headers: &[Vec<u8>]) -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rpmdb.sqlite");
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection
            .execute_batch("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);")
            .unwrap();
        for blob in headers {
            connection
                .execute("INSERT INTO Packages (blob) VALUES (?1)", [blob])
                .unwrap();
        }
        drop(connection);
        std::fs::read(&path).unwrap()
    }

    /// A usrmerged Fedora-like image whose `/var/lib/rpm` points into `/usr`.
    fn fedora_image(headers: &[Vec<u8>]) -> MemoryLayerSource {
        source(vec![Layer::new()
            .dir("usr/bin")
            .symlink("bin", "usr/bin")
            .file("usr/bin/jq", JQ)
            .file("usr/bin/tool", b"tool")
            .dir("usr/lib/sysimage/rpm")
            .file("usr/lib/sysimage/rpm/rpmdb.sqlite", &database(headers))
            .dir("var/lib")
            .symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm")])
    }

    fn owner_in(source: &MemoryLayerSource, path: &str) -> Result<Option<OwnedFile>, DbError> {
        test_image::owner_in(source, path, find_owner)
    }

    #[test]
    fn finds_the_package_owning_a_file_with_its_recorded_sha256() {
        let image = fedora_image(&[tool_header(), jq_header()]);
        assert_eq!(
            owner_in(&image, "/usr/bin/jq").unwrap(),
            Some(OwnedFile {
                package: Package {
                    manager: PackageManager::Rpm,
                    name: "jq".to_string(),
                    version: "1.6-2.fc38".to_string(),
                    source: "jq".to_string(),
                    source_version: None,
                    architecture: "x86_64".to_string(),
                },
                path: "/usr/bin/jq".to_string(),
                recorded: Some(FileDigest {
                    algorithm: DigestAlgorithm::Sha256,
                    hex: sha256_hex(JQ),
                }),
            })
        );
    }

    #[test]
    fn reads_the_epoch_the_source_rpm_and_a_usrmerged_path() {
        let image = fedora_image(&[tool_header(), jq_header()]);
        assert_eq!(
            owner_in(&image, "/usr/bin/tool").unwrap(),
            Some(OwnedFile {
                package: Package {
                    manager: PackageManager::Rpm,
                    name: "tool-libs".to_string(),
                    version: "1:2.0-1.fc38.1".to_string(),
                    source: "tool".to_string(),
                    source_version: Some("2.0-1.fc38".to_string()),
                    architecture: "x86_64".to_string(),
                },
                path: "/bin/tool".to_string(),
                recorded: None,
            })
        );
    }

    #[test]
    fn a_file_no_package_lists_has_no_owner() {
        let image = fedora_image(&[tool_header()]);
        assert_eq!(owner_in(&image, "/usr/bin/jq").unwrap(), None);
        let image = source(vec![Layer::new().file("usr/bin/jq", JQ)]);
        assert_eq!(owner_in(&image, "/usr/bin/jq").unwrap(), None);
    }

    #[test]
    fn two_packages_listing_one_file_is_an_error() {
        let image = fedora_image(&[jq_header(), jq_header()]);
        assert_eq!(
            owner_in(&image, "/usr/bin/jq").unwrap_err().to_string(),
            "/usr/bin/jq is listed by more than one package (jq, jq) and the database does not say which one owns it"
        );
    }

    #[test]
    fn a_header_cut_short_is_an_error_naming_its_record() {
        let mut cut = jq_header();
        cut.truncate(cut.len() - 10);
        let image = fedora_image(&[tool_header(), cut]);
        assert_eq!(
            owner_in(&image, "/usr/bin/jq").unwrap_err().to_string(),
            "/usr/lib/sysimage/rpm/rpmdb.sqlite in the image, package record 2: the header's data runs past its end"
        );
    }

    #[test]
    fn an_offset_past_the_data_is_an_error_naming_its_record() {
        let mut bad = jq_header();
        // The first index entry's offset (NAME), far past the data.
        bad[16..20].copy_from_slice(&0x7fff_fff0u32.to_be_bytes());
        let image = fedora_image(&[bad]);
        assert_eq!(
            owner_in(&image, "/usr/bin/jq").unwrap_err().to_string(),
            "/usr/lib/sysimage/rpm/rpmdb.sqlite in the image, package record 1: tag 1000's strings run past the data"
        );
    }

    #[test]
    fn a_berkeley_db_database_is_an_error_not_an_absent_owner() {
        let image = source(vec![Layer::new()
            .file("usr/bin/jq", JQ)
            .dir("var/lib/rpm")
            .file("var/lib/rpm/Packages", b"\0\0\0\0\x61\x15\x06\0")]);
        assert_eq!(
            owner_in(&image, "/usr/bin/jq").unwrap_err().to_string(),
            "/var/lib/rpm/Packages in the image is an rpm database in the Berkeley DB or ndb format (only rpmdb.sqlite is read)"
        );
    }

    #[test]
    fn source_rpm_names_split_into_name_and_version() {
        assert_eq!(
            parse_source_rpm("python3-foo-bar-1.2.3-4.el9.src.rpm"),
            Some(("python3-foo-bar".to_string(), "1.2.3-4.el9".to_string()))
        );
        assert_eq!(parse_source_rpm("jq-1.6.src.rpm"), None);
        assert_eq!(parse_source_rpm("jq-1.6-2.x86_64.rpm"), None);
    }
}
