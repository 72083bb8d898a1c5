//! Date/time stamps among the strings only one file has (RFC 3339,
//! `date`-style, Unix seconds in `-X name=1741723133` values), A's paired
//! with B's and related to the rebuild's `SOURCE_DATE_EPOCH`: a release
//! build that stamped its build time differs from a rebuild only there.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A date/time stamp found in A's one-sided strings and its counterpart in
/// B's (either may be missing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimestampPair {
    /// How the stamps are written: `rfc3339`, `date` or `unix_seconds`.
    pub kind: Kind,
    /// The stamp as written in A (`2025-03-11T19:58:53Z`).
    pub a: Option<String>,
    pub b: Option<String>,
    /// Seconds since 1970 (UTC) of `a` and `b`, when their time zone is known.
    pub a_unix: Option<i64>,
    pub b_unix: Option<i64>,
    /// The stamp equals the rebuild's `SOURCE_DATE_EPOCH` (false when that
    /// is not known).
    pub a_is_source_date_epoch: bool,
    pub b_is_source_date_epoch: bool,
}

/// The kinds of stamps recognised; only stamps of one kind are paired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// `2025-03-11T19:58:53Z`
    Rfc3339,
    /// `Tue Mar 11 19:58:53 UTC 2025`
    Date,
    /// `main.buildTime=1741723133`
    UnixSeconds,
}

/// One stamp found in a string.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    kind: Kind,
    text: String,
    unix: Option<i64>,
}

/// Unix seconds are recognised from 2000 to 2100 only (a 10-digit number
/// is otherwise too often something else).
const UNIX_MIN: i64 = 946_684_800;
const UNIX_MAX: i64 = 4_102_444_800;

/// Pairs listed at most.
pub const MAX_PAIRS: usize = 10;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn rfc3339() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?",
        )
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    })
}

fn date_style() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) ([A-Z]{3,5}|[+-]\d{4}) (\d{4})",
        )
        .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    })
}

fn unix_seconds() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"([A-Za-z_][A-Za-z0-9_.]*=(\d{10}))(?:[^0-9]|$)")
            .unwrap_or_else(|e| unreachable!("constant regex: {e}"))
    })
}

/// Days from 1970-01-01 to the given civil date (proleptic Gregorian).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seconds since 1970 of a UTC civil time, if the fields are in range.
fn unix_time(fields: [i64; 6]) -> Option<i64> {
    let [year, month, day, hour, minute, second] = fields;
    let valid = (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && (0..=23).contains(&hour)
        && (0..=59).contains(&minute)
        && (0..=60).contains(&second);
    valid.then(|| days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Seconds east of UTC of `+hh:mm`/`-hhmm`/`Z`/`UTC`/`GMT`, if known.
fn zone_offset(zone: &str) -> Option<i64> {
    match zone {
        "Z" | "UTC" | "GMT" => return Some(0),
        _ => {}
    }
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = zone.chars().filter(char::is_ascii_digit).collect();
    let hours: i64 = digits.get(..2)?.parse().ok()?;
    let minutes: i64 = digits.get(2..4)?.parse().ok()?;
    Some(sign * (hours * 3600 + minutes * 60))
}

fn number(caps: &regex::Captures<'_>, i: usize) -> Option<i64> {
    caps.get(i)?.as_str().parse().ok()
}

/// The stamps in `s`, in order of appearance.
fn stamps(s: &str) -> Vec<(usize, Stamp)> {
    let mut found = Vec::new();
    for caps in rfc3339().captures_iter(s) {
        let Some(whole) = caps.get(0) else { continue };
        let fields = [1, 2, 3, 4, 5, 6].map(|i| number(&caps, i).unwrap_or(-1));
        // Without a zone, RFC 3339-like stamps are taken as UTC (how build
        // scripts print `date -u`).
        let offset = caps.get(7).map_or(Some(0), |z| zone_offset(z.as_str()));
        let unix = unix_time(fields).and_then(|t| Some(t - offset?));
        if unix.is_some() || caps.get(7).is_some() {
            found.push((
                whole.start(),
                Stamp {
                    kind: Kind::Rfc3339,
                    text: whole.as_str().to_string(),
                    unix,
                },
            ));
        }
    }
    for caps in date_style().captures_iter(s) {
        let Some(whole) = caps.get(0) else { continue };
        let month = caps
            .get(1)
            .and_then(|m| MONTHS.iter().position(|x| *x == m.as_str()))
            .map_or(-1, |m| m as i64 + 1);
        let fields = [
            number(&caps, 7).unwrap_or(-1),
            month,
            number(&caps, 2).unwrap_or(-1),
            number(&caps, 3).unwrap_or(-1),
            number(&caps, 4).unwrap_or(-1),
            number(&caps, 5).unwrap_or(-1),
        ];
        let offset = caps.get(6).and_then(|z| zone_offset(z.as_str()));
        let unix = unix_time(fields).and_then(|t| Some(t - offset?));
        found.push((
            whole.start(),
            Stamp {
                kind: Kind::Date,
                text: whole.as_str().to_string(),
                unix,
            },
        ));
    }
    for caps in unix_seconds().captures_iter(s) {
        let (Some(whole), Some(seconds)) = (caps.get(1), number(&caps, 2)) else {
            continue;
        };
        if (UNIX_MIN..=UNIX_MAX).contains(&seconds) {
            found.push((
                whole.start(),
                Stamp {
                    kind: Kind::UnixSeconds,
                    text: whole.as_str().to_string(),
                    unix: Some(seconds),
                },
            ));
        }
    }
    found.sort_by_key(|(at, _)| *at);
    found
}

/// Distinct stamps of `strings`, in order of first appearance.
fn distinct_stamps<'s>(strings: impl IntoIterator<Item = &'s str>) -> Vec<Stamp> {
    let mut out: Vec<Stamp> = Vec::new();
    for s in strings {
        for (_, stamp) in stamps(s) {
            if !out.iter().any(|x| x.text == stamp.text) {
                out.push(stamp);
            }
        }
    }
    out
}

/// Date/time stamps of A's and B's one-sided strings, paired in order of
/// appearance within each kind (a stamp both have is no difference).
pub fn timestamps<'s>(
    only_a: impl IntoIterator<Item = &'s str>,
    only_b: impl IntoIterator<Item = &'s str>,
    source_date_epoch: Option<i64>,
) -> Vec<TimestampPair> {
    let a = distinct_stamps(only_a);
    let b = distinct_stamps(only_b);
    let a: Vec<Stamp> = a.iter().filter(|s| !b.contains(s)).cloned().collect();
    let b: Vec<Stamp> = b.into_iter().filter(|s| !a.contains(s)).collect();
    let is_sde = |stamp: Option<&Stamp>| {
        stamp
            .and_then(|s| s.unix)
            .is_some_and(|t| Some(t) == source_date_epoch)
    };
    let mut pairs = Vec::new();
    for kind in [Kind::Rfc3339, Kind::Date, Kind::UnixSeconds] {
        let mut side_a = a.iter().filter(|s| s.kind == kind);
        let mut side_b = b.iter().filter(|s| s.kind == kind);
        loop {
            let (x, y) = (side_a.next(), side_b.next());
            if x.is_none() && y.is_none() {
                break;
            }
            pairs.push(TimestampPair {
                kind,
                a: x.map(|s| s.text.clone()),
                b: y.map(|s| s.text.clone()),
                a_unix: x.and_then(|s| s.unix),
                b_unix: y.and_then(|s| s.unix),
                a_is_source_date_epoch: is_sde(x),
                b_is_source_date_epoch: is_sde(y),
            });
        }
    }
    pairs.truncate(MAX_PAIRS);
    pairs
}

/// A `from_binary` pattern of a release input matching a stamp written
/// like `stamp` (recipes/README.md#release-inputs).
pub fn input_pattern(kind: Kind, stamp: &str) -> String {
    match kind {
        Kind::Rfc3339 => r"(20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\dZ)".to_string(),
        Kind::Date => {
            r"((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d [A-Z]{3} 20\d\d)"
                .to_string()
        }
        Kind::UnixSeconds => {
            let name = stamp.split('=').next().unwrap_or_default();
            format!(r"{}=(\d{{10}})", regex::escape(name))
        }
    }
}

/// `6m33s`: a duration in seconds, in its largest units.
pub fn duration(seconds: u64) -> String {
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (hours, rest) = (rest / 3600, rest % 3600);
    let (minutes, secs) = (rest / 60, rest % 60);
    let mut out = String::new();
    for (n, unit) in [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_date_style_and_unix_seconds_are_recognised() {
        let found: Vec<(String, Option<i64>)> = [
            "buildDate=2025-03-11T19:58:53Z",
            "built Tue Mar 11 19:58:53 UTC 2025 by ci",
            "-X main.buildTime=1741723133 -X main.v=1",
            "at 2025-03-11T20:58:53+01:00",
        ]
        .iter()
        .flat_map(|s| stamps(s))
        .map(|(_, s)| (s.text, s.unix))
        .collect();
        assert_eq!(
            found,
            vec![
                ("2025-03-11T19:58:53Z".to_string(), Some(1_741_723_133)),
                (
                    "Tue Mar 11 19:58:53 UTC 2025".to_string(),
                    Some(1_741_723_133)
                ),
                ("main.buildTime=1741723133".to_string(), Some(1_741_723_133)),
                ("2025-03-11T20:58:53+01:00".to_string(), Some(1_741_723_133)),
            ]
        );
    }

    #[test]
    fn version_numbers_and_small_numbers_are_not_stamps() {
        assert!(stamps("v1.2.3 count=12 port=8080 id=12345678901234").is_empty());
        assert!(stamps("2025-13-45T99:99:99").is_empty());
    }

    #[test]
    fn pairs_relate_stamps_to_source_date_epoch() {
        let pairs = timestamps(
            ["-X main.date=2025-03-11T19:58:53Z", "2025-03-11T19:58:53Z"],
            ["-X main.date=2025-03-11T19:52:20Z"],
            Some(1_741_722_740),
        );
        assert_eq!(
            pairs,
            vec![TimestampPair {
                kind: Kind::Rfc3339,
                a: Some("2025-03-11T19:58:53Z".into()),
                b: Some("2025-03-11T19:52:20Z".into()),
                a_unix: Some(1_741_723_133),
                b_unix: Some(1_741_722_740),
                a_is_source_date_epoch: false,
                b_is_source_date_epoch: true,
            }]
        );
        assert_eq!(duration(393), "6m33s");
        assert_eq!(duration(0), "0s");
    }
}
