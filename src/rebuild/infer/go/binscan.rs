//! What strings an image binary holds outside its Go build info: the
//! values `-X` may have set (VERSION, the commit, a build date), each
//! found with one linear search of the binary.

use std::cell::OnceCell;
use std::ops::Range;

use memchr::memmem;
use regex::bytes::Regex;

/// `[inputs.NAME] from_binary` for a build time in RFC 3339 (UTC or with an
/// offset) from 2010 on, so Go's reference time `2006-01-02T15:04:05Z07:00`
/// (in every binary that formats RFC 3339) is not one. The byte before it
/// must not be `=`, so the `vcs.time=` of the build info (and a recorded
/// `-ldflags` `-X ...=DATE`) is not counted.
pub const DATE_INPUT_REGEX: &str =
    r"(?-u)[^=](20[1-9]\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d(?:Z|[+-][0-2]\d:[0-5]\d))";

/// `[inputs.NAME] from_binary` for a build time in seconds since the epoch
/// (2017 to 2033): ten digits on their own.
pub const TIMESTAMP_INPUT_REGEX: &str = r"(?-u)[^0-9=](1[5-9]\d{8})[^0-9]";

/// The 16-byte sentinels Go wraps its module info in (`runtime/debug`).
const MODINFO_START: &[u8] = b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6";
const MODINFO_END: &[u8] = b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2";

/// An image binary, with the ranges of its Go module info (the build info
/// lines, which hold `vcs.revision`, module versions, recorded flags) set
/// apart.
pub struct BinaryStrings<'a> {
    data: &'a [u8],
    build_info: Vec<Range<usize>>,
    dates: OnceCell<Vec<String>>,
    timestamps: OnceCell<Vec<String>>,
}

impl<'a> BinaryStrings<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        let mut build_info = Vec::new();
        for start in memmem::find_iter(data, MODINFO_START) {
            let body = start + MODINFO_START.len();
            if build_info
                .last()
                .is_some_and(|r: &Range<usize>| body <= r.end)
            {
                continue;
            }
            if let Some(len) = data
                .get(body..)
                .and_then(|rest| memmem::find(rest, MODINFO_END))
            {
                build_info.push(start..body + len + MODINFO_END.len());
            }
        }
        Self {
            data,
            build_info,
            dates: OnceCell::new(),
            timestamps: OnceCell::new(),
        }
    }

    /// The bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    fn outside(&self, at: usize, len: usize) -> bool {
        !self
            .build_info
            .iter()
            .any(|r| at < r.end && r.start < at + len)
    }

    /// Offsets of `needle` outside the build info.
    pub fn find_all(&self, needle: &[u8]) -> Vec<usize> {
        if needle.is_empty() {
            return Vec::new();
        }
        memmem::find_iter(self.data, needle)
            .filter(|&at| self.outside(at, needle.len()))
            .collect()
    }

    /// Whether `needle` occurs outside the build info.
    pub fn contains(&self, needle: &[u8]) -> bool {
        !needle.is_empty()
            && memmem::find_iter(self.data, needle).any(|at| self.outside(at, needle.len()))
    }

    /// Whether `needle` occurs outside the build info, not right after
    /// `not_after` (`1.2.0` on its own, not as the tail of `v1.2.0`).
    pub fn contains_not_after(&self, needle: &[u8], not_after: u8) -> bool {
        self.find_all(needle)
            .into_iter()
            .any(|at| at == 0 || self.data.get(at - 1) != Some(&not_after))
    }

    /// Whether `needle` occurs outside the build info other than as part
    /// of one of `within` (longer strings that hold it: `v1.2.0` apart
    /// from `v1.2.0-0-g1a2b3c4`).
    pub fn contains_apart(&self, needle: &[u8], within: &[&[u8]]) -> bool {
        let covered: Vec<Range<usize>> = within
            .iter()
            .filter(|w| w.len() > needle.len())
            .flat_map(|w| self.find_all(w).into_iter().map(|at| at..at + w.len()))
            .collect();
        self.find_all(needle).into_iter().any(|at| {
            !covered
                .iter()
                .any(|r| r.start <= at && at + needle.len() <= r.end)
        })
    }

    /// How `commit` (40 hex digits) occurs outside the build info.
    pub fn commit_forms(&self, commit: &str) -> CommitForms {
        let mut forms = CommitForms::default();
        let commit = commit.as_bytes();
        let Some(prefix) = commit.get(..7) else {
            return forms;
        };
        for at in self.find_all(prefix) {
            let rest = self.data.get(at..).unwrap_or_default();
            let same = rest
                .iter()
                .zip(commit)
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .count();
            if same == commit.len() {
                forms.full = true;
            } else if (7..=12).contains(&same) {
                forms.short = forms.short.max(Some(same));
            }
        }
        forms
    }

    /// The distinct values [`DATE_INPUT_REGEX`] captures in the whole
    /// binary, as the recipe's input will read them, in order of first
    /// occurrence (searched once, on first use).
    pub fn dates(&self) -> &[String] {
        self.dates.get_or_init(|| self.distinct(DATE_INPUT_REGEX))
    }

    /// The distinct values [`TIMESTAMP_INPUT_REGEX`] captures in the whole
    /// binary (searched once, on first use).
    pub fn timestamps(&self) -> &[String] {
        self.timestamps
            .get_or_init(|| self.distinct(TIMESTAMP_INPUT_REGEX))
    }

    /// The distinct values of capture group 1 of `pattern`, in order of
    /// first occurrence, as a recipe input reads them.
    fn distinct(&self, pattern: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let Ok(re) = Regex::new(pattern) else {
            return out;
        };
        for captures in re.captures_iter(self.data) {
            if let Some(m) = captures.get(1) {
                let value = String::from_utf8_lossy(m.as_bytes()).into_owned();
                if !out.contains(&value) {
                    out.push(value);
                }
            }
        }
        out
    }
}

/// The forms of a commit found in a binary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitForms {
    /// All 40 hex digits.
    pub full: bool,
    /// The longest abbreviation of 7 to 12 digits found on its own.
    pub short: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "3e0ddc0c43cd90ea33d77a68ef093be434f5af7e";

    fn with_build_info(inside: &str, outside: &str) -> Vec<u8> {
        let mut data = b"\0\0junk".to_vec();
        data.extend_from_slice(MODINFO_START);
        data.extend_from_slice(inside.as_bytes());
        data.extend_from_slice(MODINFO_END);
        data.extend_from_slice(b"\0\0");
        data.extend_from_slice(outside.as_bytes());
        data.extend_from_slice(b"\0\0");
        data
    }

    #[test]
    fn strings_inside_the_build_info_do_not_count() {
        let data = with_build_info(
            &format!("mod\tex.com/app\tv1.2.0\nbuild\tvcs.revision={COMMIT}\n"),
            "hello",
        );
        let strings = BinaryStrings::new(&data);
        assert!(!strings.contains(b"v1.2.0"));
        assert!(strings.contains(b"hello"));
        assert_eq!(strings.commit_forms(COMMIT), CommitForms::default());
    }

    #[test]
    fn finds_full_and_short_commits_outside_the_build_info() {
        let data = with_build_info(
            &format!("build\tvcs.revision={COMMIT}\n"),
            &format!("{COMMIT}\0\0\0{}deadline", &COMMIT[..9]),
        );
        let forms = BinaryStrings::new(&data).commit_forms(COMMIT);
        assert_eq!(
            forms,
            CommitForms {
                full: true,
                short: Some(9)
            }
        );
    }

    #[test]
    fn bare_version_on_its_own_is_told_from_the_tail_of_the_typed_one() {
        let data = with_build_info("", "xxv1.2.0yy");
        let strings = BinaryStrings::new(&data);
        assert!(strings.contains(b"1.2.0"));
        assert!(!strings.contains_not_after(b"1.2.0", b'v'));
        let data = with_build_info("", "xxv1.2.0yy1.2.0");
        assert!(BinaryStrings::new(&data).contains_not_after(b"1.2.0", b'v'));
    }

    #[test]
    fn dates_leave_out_the_vcs_time() {
        let data = with_build_info(
            "build\tvcs.time=2024-01-02T03:04:05Z\n",
            "frame too large2024-01-02T03:09:10Z\0\x002024-01-02T03:09:10Z1\x002006-01-02T15:04:05Z07:00",
        );
        assert_eq!(
            BinaryStrings::new(&data).dates(),
            vec!["2024-01-02T03:09:10Z".to_string()]
        );
        let data = with_build_info("", "x2024-01-02T03:09:10+02:00");
        assert_eq!(
            BinaryStrings::new(&data).dates(),
            vec!["2024-01-02T03:09:10+02:00".to_string()]
        );
    }

    #[test]
    fn timestamps_are_ten_digits_on_their_own() {
        let data = with_build_info(
            "",
            "x1714979289y\0\x00123456789012345\0=1700000000\x001516171819202122",
        );
        assert_eq!(
            BinaryStrings::new(&data).timestamps(),
            vec!["1714979289".to_string()]
        );
    }
}
