//! Release metadata: which `-X` values inference may take from the image
//! binary alone. A value equal to the tag (or the tag without `v`), the
//! content of the tag's `VERSION` file, the tag's commit or a prefix of it,
//! `git describe --long` at the tag, a time stamp, a tree state or a
//! builder name only describes the release; any other value (a URL, an endpoint, a
//! key) is a program input that only the binary supplies, so a rebuild
//! that reproduces with it confirms it as the cause of a mismatch but
//! never makes a pass.

use super::files::SourceFiles;

/// Builder names a binary may record (goreleaser's default `builtBy`, and
/// the names Makefiles and Dockerfiles stamp in).
pub const BUILDER_NAMES: &[&str] = &["goreleaser", "make", "docker"];
/// Tree states a binary may record (Kubernetes-style `gitTreeState`).
pub const TREE_STATES: &[&str] = &["clean", "dirty"];
/// The shortest commit prefix taken as the commit.
pub const MIN_COMMIT_PREFIX: usize = 7;
/// Unix times taken as time stamps: 2000-01-01 up to 2100-01-01.
const UNIX_SECONDS: std::ops::Range<u64> = 946_684_800..4_102_444_800;

/// What a release value was recognised as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metadata {
    Tag,
    TagWithoutV,
    /// The content of the tag's `VERSION` file (`1.2.0`).
    VersionFile,
    Commit,
    /// `git describe --long` at the tag: `v1.2.0-0-g1a2b3c4d`.
    Describe,
    Time,
    TreeState,
    BuilderName,
}

/// The release the values are checked against.
pub struct Release<'a> {
    /// The git tag (`v1.2.0`).
    pub tag: &'a str,
    /// The tag's commit (40 hex digits).
    pub commit: &'a str,
    /// The content of the tag's `VERSION` file, when it has one.
    pub version_file: Option<&'a str>,
}

/// Files at the root of a tree that hold its version, as Makefiles read
/// them (`VERSION := $(shell cat VERSION)`), in the order they are looked for.
pub const VERSION_FILES: &[&str] = &[
    "VERSION",
    "VERSION.txt",
    "version",
    "version.txt",
    ".version",
];
/// The longest version a `VERSION` file may hold.
const MAX_VERSION_LEN: usize = 64;

/// A tree's version file and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFile {
    /// `VERSION`.
    pub path: String,
    /// Its one line, trimmed (`1.2.0`).
    pub value: String,
}

/// The first of [`VERSION_FILES`] at the root of `files` that holds one
/// version: a single line of at most 64 letters, digits, `.`, `_`, `+`,
/// `-` and `~`, blank lines and surrounding spaces aside.
pub fn version_file(files: &dyn SourceFiles) -> Option<VersionFile> {
    VERSION_FILES.iter().find_map(|path| {
        let bytes = files.read(path)?;
        let text = std::str::from_utf8(bytes.get(..bytes.len().min(4096))?).ok()?;
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        let value = lines.next()?;
        let plain = value.len() <= MAX_VERSION_LEN
            && value.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-' | b'~')
            });
        (plain && lines.next().is_none()).then(|| VersionFile {
            path: path.to_string(),
            value: value.to_string(),
        })
    })
}

/// What `value` is as release metadata, or `None` when it is none of it.
pub fn classify(value: &str, release: &Release<'_>) -> Option<Metadata> {
    if value.is_empty() {
        return None;
    }
    if value == release.tag {
        return Some(Metadata::Tag);
    }
    if release.tag.strip_prefix('v') == Some(value) {
        return Some(Metadata::TagWithoutV);
    }
    if release.version_file == Some(value) {
        return Some(Metadata::VersionFile);
    }
    if is_commit_prefix(value, release.commit) {
        return Some(Metadata::Commit);
    }
    if value
        .strip_prefix(release.tag)
        .and_then(|rest| rest.strip_prefix("-0-g"))
        .is_some_and(|short| is_commit_prefix(short, release.commit))
    {
        return Some(Metadata::Describe);
    }
    if is_time(value) {
        return Some(Metadata::Time);
    }
    if TREE_STATES.contains(&value) {
        return Some(Metadata::TreeState);
    }
    if BUILDER_NAMES.contains(&value) {
        return Some(Metadata::BuilderName);
    }
    None
}

/// Whether `value` is `commit` or a prefix of it of at least
/// [`MIN_COMMIT_PREFIX`] hex digits (any case).
fn is_commit_prefix(value: &str, commit: &str) -> bool {
    value.len() >= MIN_COMMIT_PREFIX
        && value.bytes().all(|b| b.is_ascii_hexdigit())
        && commit
            .get(..value.len())
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case(value))
}

/// A time stamp in the layouts builds stamp in: RFC 3339 (`Z` or a
/// `±hh:mm` offset, fractional seconds allowed), the same with a space for
/// `T` and no zone (`2006-01-02 15:04:05`), or unix seconds between 2000
/// and 2100.
pub fn is_time(value: &str) -> bool {
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return value
            .parse::<u64>()
            .is_ok_and(|seconds| UNIX_SECONDS.contains(&seconds));
    }
    let utc = match split_offset(value) {
        Some((time, offset)) if valid_offset(offset) => format!("{time}Z"),
        Some(_) => return false,
        None => value.to_string(),
    };
    humantime::parse_rfc3339_weak(&utc).is_ok()
}

/// `2006-01-02T15:04:05+02:00` as (`2006-01-02T15:04:05`, `+02:00`).
fn split_offset(value: &str) -> Option<(&str, &str)> {
    let at = value.len().checked_sub(6)?;
    let offset = value.get(at..)?;
    offset
        .starts_with(['+', '-'])
        .then(|| (value.get(..at).unwrap_or_default(), offset))
}

fn valid_offset(offset: &str) -> bool {
    let bytes = offset.as_bytes();
    let two_digits = |at: usize, max: u8| {
        matches!((bytes.get(at), bytes.get(at + 1)), (Some(a), Some(b))
            if a.is_ascii_digit() && b.is_ascii_digit() && (a - b'0') * 10 + (b - b'0') <= max)
    };
    bytes.len() == 6 && two_digits(1, 23) && bytes.get(3) == Some(&b':') && two_digits(4, 59)
}

/// One `-X` flag of a linker command line: `symbol=value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XFlag {
    /// `main.version`.
    pub symbol: String,
    pub value: String,
}

/// The `-X` flags of an `-ldflags` value, split as the go command splits
/// it (whitespace, with words quoted whole in `'` or `"`): `-X NAME=VALUE`,
/// `-X=NAME=VALUE`, and the same with `--`. A word after `-X` without `=`
/// is kept with an empty symbol and the word as its value, so it is never
/// taken for release metadata by mistake.
pub fn x_flags(ldflags: &str) -> Vec<XFlag> {
    let words = split_words(ldflags);
    let mut out = Vec::new();
    let mut words = words.iter();
    while let Some(word) = words.next() {
        let flag = word.strip_prefix("--").or_else(|| word.strip_prefix('-'));
        let argument = match flag {
            Some("X") => words.next().map(String::as_str),
            Some(flag) => flag.strip_prefix("X="),
            None => None,
        };
        if let Some(argument) = argument {
            out.push(match argument.split_once('=') {
                Some((symbol, value)) => XFlag {
                    symbol: symbol.to_string(),
                    value: value.to_string(),
                },
                None => XFlag {
                    symbol: String::new(),
                    value: argument.to_string(),
                },
            });
        }
    }
    out
}

/// The words of a flag value as the go command splits `-ldflags`
/// (`cmd/internal/quoted`): whitespace separates, a word that starts with
/// `'` or `"` runs to the matching quote. An unterminated quote takes the
/// rest.
pub fn split_words(text: &str) -> Vec<String> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(is_space);
        let Some(first) = rest.chars().next() else {
            break;
        };
        if first == '\'' || first == '"' {
            let body = rest.get(1..).unwrap_or_default();
            let end = body.find(first).unwrap_or(body.len());
            out.push(body.get(..end).unwrap_or_default().to_string());
            rest = body.get(end + 1..).unwrap_or_default();
        } else {
            let end = rest.find(is_space).unwrap_or(rest.len());
            out.push(rest.get(..end).unwrap_or_default().to_string());
            rest = rest.get(end..).unwrap_or_default();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
    const RELEASE: Release<'static> = Release {
        tag: "v1.2.0",
        commit: COMMIT,
        version_file: Some("1.2.0~rc1"),
    };

    fn kind(value: &str) -> Option<Metadata> {
        classify(value, &RELEASE)
    }

    #[test]
    fn the_tag_with_and_without_its_v_is_release_metadata() {
        assert_eq!(kind("v1.2.0"), Some(Metadata::Tag));
        assert_eq!(kind("1.2.0"), Some(Metadata::TagWithoutV));
        assert_eq!(kind("v1.2.1"), None);
        assert_eq!(kind("1.2"), None);
    }

    #[test]
    fn the_tags_version_file_is_release_metadata() {
        assert_eq!(kind("1.2.0~rc1"), Some(Metadata::VersionFile));
        let files = crate::rebuild::infer::files::MemoryFiles::new([
            ("version", "ignored\n"),
            ("VERSION", "\n 1.2.0~rc1 \n\n"),
        ]);
        assert_eq!(
            version_file(&files),
            Some(VersionFile {
                path: "VERSION".into(),
                value: "1.2.0~rc1".into()
            })
        );
        for not_one in ["1.2.0\n1.3.0\n", "1.2.0 beta\n", "{version}\n", ""] {
            let files = crate::rebuild::infer::files::MemoryFiles::new([("VERSION", not_one)]);
            assert_eq!(version_file(&files), None, "{not_one:?}");
        }
    }

    #[test]
    fn the_commit_and_its_prefixes_of_seven_or_more_digits_are_release_metadata() {
        assert_eq!(kind(COMMIT), Some(Metadata::Commit));
        assert_eq!(kind("0123456"), Some(Metadata::Commit));
        assert_eq!(kind("0123456789AB"), Some(Metadata::Commit));
        assert_eq!(kind("012345"), None, "six digits are too few");
        assert_eq!(kind("1234567"), None, "not a prefix");
        assert_eq!(kind(&format!("{COMMIT}0")), None, "longer than the commit");
    }

    #[test]
    fn git_describe_long_at_the_tag_is_release_metadata() {
        assert_eq!(kind("v1.2.0-0-g0123456"), Some(Metadata::Describe));
        assert_eq!(kind("v1.2.0-0-g0123456789ab"), Some(Metadata::Describe));
        assert_eq!(kind("v1.2.0-3-g0123456"), None, "commits after the tag");
        assert_eq!(kind("v1.2.0-0-g1234567"), None, "not the tag's commit");
        assert_eq!(kind("v1.2.0-0-g0123456-dirty"), None, "a modified tree");
    }

    #[test]
    fn time_stamps_in_the_usual_layouts_are_release_metadata() {
        for time in [
            "2023-11-14T22:20:20Z",
            "2023-11-14T22:20:20.123456789Z",
            "2023-11-14T23:20:20+01:00",
            "2023-11-14T17:20:20-05:00",
            "2023-11-14 22:20:20",
            "1700000000",
        ] {
            assert_eq!(kind(time), Some(Metadata::Time), "{time}");
        }
        for not_time in [
            "2023-11-14T25:20:20Z",
            "2023-11-14T22:20:20+24:00",
            "2023-11-14",
            "123",
            "99999999999",
            "8080",
        ] {
            assert_eq!(kind(not_time), None, "{not_time}");
        }
    }

    #[test]
    fn tree_states_and_builder_names_are_release_metadata() {
        assert_eq!(kind("clean"), Some(Metadata::TreeState));
        assert_eq!(kind("dirty"), Some(Metadata::TreeState));
        assert_eq!(kind("goreleaser"), Some(Metadata::BuilderName));
        assert_eq!(kind("make"), Some(Metadata::BuilderName));
    }

    #[test]
    fn urls_words_and_empty_values_are_not_release_metadata() {
        for value in [
            "https://evil.example/x",
            "evil.example:443",
            "banana",
            "",
            "v1.2.0 ",
            "Clean",
        ] {
            assert_eq!(kind(value), None, "{value:?}");
        }
    }

    #[test]
    fn x_flags_are_read_in_every_form_the_linker_accepts() {
        let flags = x_flags(
            "-s -w -X main.version=v1.2.0 -X=main.commit=0123456 --X 'main.url=https://a b' --X=main.date=\"x\" -extldflags -static",
        );
        let pairs: Vec<(&str, &str)> = flags
            .iter()
            .map(|f| (f.symbol.as_str(), f.value.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("main.version", "v1.2.0"),
                ("main.commit", "0123456"),
                ("main.url", "https://a b"),
                ("main.date", "\"x\""),
            ]
        );
    }

    #[test]
    fn an_x_flag_without_a_name_keeps_its_word_as_the_value() {
        assert_eq!(
            x_flags("-X https://evil.example"),
            [XFlag {
                symbol: String::new(),
                value: "https://evil.example".into()
            }]
        );
        assert_eq!(x_flags("-s -w"), []);
    }
}
