//! A suite's release file, read from the text its signature verified:
//! which suite it is, until when it is valid, and the size and sha256 of
//! each index it names.
//!
//! Threat model: the text is authentic (its signature verified) but may be
//! old: a replayed release is refused by its `Valid-Until` and by naming
//! another suite than the one asked for.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::distro::deb822;
use crate::image::digest::Digest;

/// Why a verified release file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("{url}: the signed release is not a control file: {source}")]
    Syntax {
        url: String,
        #[source]
        source: deb822::Deb822Error,
    },
    #[error("{url} is the release of suite {found:?}, not of {wanted:?}")]
    WrongSuite {
        url: String,
        wanted: String,
        found: String,
    },
    #[error("{url} was valid until {valid_until}; the mirror serves a stale release")]
    Expired { url: String, valid_until: String },
    #[error("{url}: its Valid-Until {value:?} is not a date")]
    BadDate { url: String, value: String },
    #[error("{url}: its SHA256 line {line:?} is not `<sha256> <size> <path>`")]
    BadEntry { url: String, line: String },
    #[error("{url} names no {path} (its suite has no such index)")]
    NoIndex { url: String, path: String },
}

/// An index file as the release names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub sha256: Digest,
    pub size: u64,
}

/// The parts of a verified release file this tool uses.
#[derive(Debug, Clone)]
pub struct Release {
    /// Where it was fetched.
    pub url: String,
    /// Whether indexes may be fetched by their hash (`Acquire-By-Hash: yes`).
    pub by_hash: bool,
    entries: BTreeMap<String, IndexEntry>,
}

impl Release {
    /// Reads the verified `text` of the release of `suite` fetched from
    /// `url`, refusing one for another suite or, when `now` is given, one
    /// past its `Valid-Until` (a snapshot archive's past releases are
    /// read without it).
    pub fn parse(
        url: &str,
        suite: &str,
        text: &str,
        now: Option<SystemTime>,
    ) -> Result<Release, ReleaseError> {
        let paragraphs = deb822::parse(text, false).map_err(|source| ReleaseError::Syntax {
            url: url.to_string(),
            source,
        })?;
        let fields = paragraphs.into_iter().next().unwrap_or_default();
        let names: Vec<&str> = ["Suite", "Codename"]
            .iter()
            .filter_map(|name| fields.get(name))
            .collect();
        if !names.contains(&suite) {
            return Err(ReleaseError::WrongSuite {
                url: url.to_string(),
                wanted: suite.to_string(),
                found: names.join("/"),
            });
        }
        if let (Some(value), Some(now)) = (fields.get("Valid-Until"), now) {
            let until = parse_date(value).ok_or_else(|| ReleaseError::BadDate {
                url: url.to_string(),
                value: value.to_string(),
            })?;
            let now = now
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            if until < now {
                return Err(ReleaseError::Expired {
                    url: url.to_string(),
                    valid_until: value.to_string(),
                });
            }
        }
        let mut entries = BTreeMap::new();
        for line in fields.lines_of("SHA256") {
            let bad = || ReleaseError::BadEntry {
                url: url.to_string(),
                line: line.join(" "),
            };
            let [hex, size, path] = line[..] else {
                return Err(bad());
            };
            let sha256 = Digest::from_hex(hex).ok_or_else(bad)?;
            let size = size.parse::<u64>().map_err(|_| bad())?;
            entries.insert(path.to_string(), IndexEntry { sha256, size });
        }
        Ok(Release {
            url: url.to_string(),
            by_hash: fields
                .get("Acquire-By-Hash")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("yes")),
            entries,
        })
    }

    /// The index at `path` (`main/binary-amd64/Packages.xz`).
    pub fn index(&self, path: &str) -> Result<&IndexEntry, ReleaseError> {
        self.entries.get(path).ok_or_else(|| ReleaseError::NoIndex {
            url: self.url.clone(),
            path: path.to_string(),
        })
    }
}

/// Seconds since the epoch of an RFC 2822 date as release files write it
/// (`Sat, 14 Dec 2024 20:15:01 UTC`; `+0000` and no weekday too).
pub fn parse_date(value: &str) -> Option<u64> {
    let value = value.trim();
    let value = value.split_once(", ").map_or(value, |(_, rest)| rest);
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [day, month, year, time, zone] = parts[..] else {
        return None;
    };
    if !matches!(zone, "UTC" | "GMT" | "Z" | "+0000") {
        return None;
    }
    let day: u64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m.eq_ignore_ascii_case(month))? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let hms: Vec<u64> = time
        .split(':')
        .map(|part| part.parse().ok())
        .collect::<Option<_>>()?;
    let [hour, minute, second] = hms[..] else {
        return None;
    };
    if !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a Gregorian date from 1970 on (Howard
/// Hinnant's algorithm).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_release_file_dates_as_seconds_since_the_epoch() {
        assert_eq!(parse_date("Thu, 01 Jan 1970 00:00:00 UTC"), Some(0));
        assert_eq!(
            parse_date("Sat, 14 Dec 2024 20:15:01 UTC"),
            Some(1_734_207_301)
        );
        assert_eq!(
            parse_date("29 Feb 2024 12:00:00 +0000"),
            Some(1_709_208_000)
        );
        assert_eq!(parse_date("Sat, 14 Dec 2024 20:15:01 CET"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    const RELEASE: &str = "Origin: Debian\nSuite: stable-updates\nCodename: bookworm-updates\n\
        Valid-Until: Sat, 14 Dec 2024 20:15:01 UTC\nAcquire-By-Hash: yes\nSHA256:\n \
        0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef 42 main/source/Sources.xz\n";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + std::time::Duration::from_secs(secs)
    }

    #[test]
    fn takes_the_index_sizes_and_hashes_of_a_current_release() {
        let release = Release::parse("u", "bookworm-updates", RELEASE, Some(at(1_734_207_000)))
            .expect("valid release");
        assert!(release.by_hash);
        let entry = release.index("main/source/Sources.xz").expect("entry");
        assert_eq!(entry.size, 42);
        assert_eq!(
            entry.sha256.hex(),
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        );
        assert_eq!(
            release
                .index("main/binary-amd64/Packages.xz")
                .unwrap_err()
                .to_string(),
            "u names no main/binary-amd64/Packages.xz (its suite has no such index)"
        );
    }

    #[test]
    fn refuses_a_release_past_its_valid_until() {
        let err =
            Release::parse("u", "stable-updates", RELEASE, Some(at(1_734_207_302))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "u was valid until Sat, 14 Dec 2024 20:15:01 UTC; the mirror serves a stale release"
        );
    }

    #[test]
    fn refuses_the_release_of_another_suite() {
        let err = Release::parse("u", "bookworm", RELEASE, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "u is the release of suite \"stable-updates/bookworm-updates\", not of \"bookworm\""
        );
    }
}
