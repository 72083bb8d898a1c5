//! Nearest tags: which existing tags a tag that does not exist most likely
//! meant, for the error that names it: a registry repository's tags
//! (`verify`'s published image) and a git repository's (the source).
//!
//! A pure function over tag strings ([`nearest`]): the wanted tag with or
//! without its leading `v` (`1.19.0` → `v1.19.0`); else, for a version, the
//! releases around it in version order (`v1.19.99` → `v1.19.16`,
//! `v1.19.15`, `v1.20.0`); else the tags a few edits away (`stabel` →
//! `stable`). [`Nearest`] says which, and shows as the error's hint
//! with each name made safe to print on one line.

use std::cmp::Ordering;
use std::fmt;

/// How many tags a hint names at most.
const MAX_SUGGESTIONS: usize = 3;

/// Tags longer than this are not compared by spelling (the cost of an edit
/// distance grows with the product of the lengths).
const MAX_SPELLED_LEN: usize = 128;

/// The existing tags nearest to one that does not exist, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nearest {
    /// Nothing close enough to suggest.
    Nothing,
    /// The wanted tag with its leading `v` added or removed.
    WithOrWithoutV(String),
    /// The releases next to the wanted version: those just below it
    /// (nearest first), then the first above it.
    Releases(Vec<String>),
    /// Tags a few edits away, fewest edits first.
    Spelled(Vec<String>),
}

impl Nearest {
    /// The same suggestions with each tag shown as `show` makes it (such as
    /// `registry/repository:tag` for the repository that has it).
    pub fn map(self, mut show: impl FnMut(String) -> String) -> Self {
        match self {
            Nearest::Nothing => Nearest::Nothing,
            Nearest::WithOrWithoutV(tag) => Nearest::WithOrWithoutV(show(tag)),
            Nearest::Releases(tags) => Nearest::Releases(tags.into_iter().map(show).collect()),
            Nearest::Spelled(tags) => Nearest::Spelled(tags.into_iter().map(show).collect()),
        }
    }
}

/// The hint after an error line: `did you mean v1.19.0?`, `the closest
/// releases are v1.19.16, v1.19.15, v1.20.0`, `the closest tags are …`;
/// nothing for [`Nearest::Nothing`]. Control characters and quotes in a
/// tag are escaped.
impl fmt::Display for Nearest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |tags: &[String]| {
            tags.iter()
                .map(|tag| printable(tag))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            Nearest::Nothing => Ok(()),
            Nearest::WithOrWithoutV(tag) => write!(f, "did you mean {}?", printable(tag)),
            Nearest::Releases(tags) if tags.len() == 1 => {
                write!(f, "the closest release is {}", list(tags))
            }
            Nearest::Releases(tags) => write!(f, "the closest releases are {}", list(tags)),
            Nearest::Spelled(tags) if tags.len() == 1 => {
                write!(f, "the closest tag is {}", list(tags))
            }
            Nearest::Spelled(tags) => write!(f, "the closest tags are {}", list(tags)),
        }
    }
}

/// A tag as it may be printed inside one line: control characters,
/// quotes and backslashes escaped, everything else as is.
pub fn printable(tag: &str) -> String {
    tag.chars()
        .flat_map(|c| {
            if c.is_control() || c == '"' || c == '\\' {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The tags of `existing` nearest to `wanted` (which is not among them),
/// at most three: see the module's documentation for the order
/// in which the kinds of nearness are tried.
pub fn nearest<'a>(wanted: &str, existing: impl IntoIterator<Item = &'a str>) -> Nearest {
    let existing: Vec<&str> = existing.into_iter().filter(|tag| *tag != wanted).collect();
    let toggled = match wanted.strip_prefix('v') {
        Some(bare) => bare.to_string(),
        None => format!("v{wanted}"),
    };
    if existing.contains(&toggled.as_str()) {
        return Nearest::WithOrWithoutV(toggled);
    }
    if let Some(version) = Version::parse(wanted) {
        let releases = closest_releases(&version, &existing);
        if !releases.is_empty() {
            return Nearest::Releases(releases);
        }
    }
    let spelled = closest_spelled(wanted, &existing);
    if spelled.is_empty() {
        Nearest::Nothing
    } else {
        Nearest::Spelled(spelled)
    }
}

/// A tag read as a version: a prefix without digits (`v`, `release-`),
/// dot-separated numbers, and whatever follows (`-rc.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version<'a> {
    prefix: &'a str,
    numbers: Vec<u64>,
    suffix: &'a str,
}

impl<'a> Version<'a> {
    fn parse(tag: &'a str) -> Option<Self> {
        let start = tag.find(|c: char| c.is_ascii_digit())?;
        let (prefix, rest) = tag.split_at(start);
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (dotted, suffix) = rest.split_at(end);
        let dotted = dotted.strip_suffix('.').unwrap_or(dotted);
        let numbers = dotted
            .split('.')
            .map(|n| n.parse().ok())
            .collect::<Option<Vec<u64>>>()?;
        Some(Self {
            prefix,
            numbers,
            suffix,
        })
    }

    /// The prefix without a leading `v`: `1.2` and `v1.2` are one series.
    fn series(&self) -> &str {
        self.prefix.strip_prefix('v').unwrap_or(self.prefix)
    }

    /// Version order: by numbers, a pre-release (`-rc.1`) before its release.
    fn order(&self, other: &Self) -> Ordering {
        self.numbers
            .cmp(&other.numbers)
            .then_with(|| self.suffix.is_empty().cmp(&other.suffix.is_empty()))
            .then_with(|| self.suffix.cmp(other.suffix))
    }
}

/// The releases of `wanted`'s series next to it in version order: those
/// below it, nearest first, then one above it (more when fewer are below).
/// Pre-releases count only when a pre-release is wanted.
fn closest_releases(wanted: &Version<'_>, existing: &[&str]) -> Vec<String> {
    let mut releases: Vec<(Version<'_>, &str)> = existing
        .iter()
        .filter_map(|tag| Version::parse(tag).map(|version| (version, *tag)))
        .filter(|(version, _)| {
            version.series() == wanted.series()
                && (version.suffix.is_empty() || !wanted.suffix.is_empty())
        })
        .collect();
    releases.sort_by(|(a, a_tag), (b, b_tag)| a.order(b).then_with(|| a_tag.cmp(b_tag)));
    let split = releases.partition_point(|(version, _)| version.order(wanted) == Ordering::Less);
    let (below, above) = releases.split_at(split);
    let above_wanted = (MAX_SUGGESTIONS - MAX_SUGGESTIONS.min(below.len())).max(1);
    let below_wanted = MAX_SUGGESTIONS - above_wanted.min(above.len());
    below
        .iter()
        .rev()
        .take(below_wanted)
        .chain(above.iter().take(above_wanted))
        .map(|(_, tag)| tag.to_string())
        .collect()
}

/// The tags at most a third of `wanted`'s length of edits away (at least
/// one edit, at most four), fewest first. Only tags whose length is within
/// reach are measured, so the cost stays bounded by [`MAX_SPELLED_LEN`].
fn closest_spelled(wanted: &str, existing: &[&str]) -> Vec<String> {
    let length = wanted.chars().count();
    if length > MAX_SPELLED_LEN {
        return Vec::new();
    }
    let allowed = (length / 3).clamp(1, 4);
    let mut close: Vec<(usize, &str)> = existing
        .iter()
        .filter(|tag| tag.chars().count().abs_diff(length) <= allowed)
        .map(|tag| (strsim::levenshtein(wanted, tag), *tag))
        .filter(|(distance, _)| *distance <= allowed)
        .collect();
    close.sort_unstable();
    close
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, tag)| tag.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RELEASES: [&str; 5] = ["v1.19.0", "v1.19.15", "v1.19.16", "v1.20.0", "main-sync"];

    fn strings(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|tag| tag.to_string()).collect()
    }

    #[test]
    fn a_version_without_or_with_its_v_is_the_one_suggestion() {
        assert_eq!(
            nearest("1.19.0", RELEASES),
            Nearest::WithOrWithoutV("v1.19.0".into())
        );
        assert_eq!(
            nearest("v2.0.0", ["2.0.0", "v2.0.1"]),
            Nearest::WithOrWithoutV("2.0.0".into())
        );
        assert_eq!(
            nearest("1.19.0", RELEASES).to_string(),
            "did you mean v1.19.0?"
        );
    }

    #[test]
    fn a_missing_patch_suggests_the_releases_below_it_then_the_next_above() {
        let nearest = nearest("v1.19.99", RELEASES);
        assert_eq!(
            nearest,
            Nearest::Releases(strings(&["v1.19.16", "v1.19.15", "v1.20.0"]))
        );
        assert_eq!(
            nearest.to_string(),
            "the closest releases are v1.19.16, v1.19.15, v1.20.0"
        );
    }

    #[test]
    fn releases_are_compared_by_number_not_by_spelling() {
        assert_eq!(
            nearest("1.19.2", RELEASES),
            Nearest::Releases(strings(&["v1.19.0", "v1.19.15", "v1.19.16"]))
        );
        assert_eq!(
            nearest("v0.1", RELEASES),
            Nearest::Releases(strings(&["v1.19.0", "v1.19.15", "v1.19.16"]))
        );
        assert_eq!(
            nearest("v9.0.0", RELEASES),
            Nearest::Releases(strings(&["v1.20.0", "v1.19.16", "v1.19.15"]))
        );
    }

    #[test]
    fn pre_releases_and_other_series_are_left_out_of_a_release_suggestion() {
        let tags = ["v1.2.0", "v1.3.0-rc.1", "api/v1.2.9", "v1.3.0"];
        assert_eq!(
            nearest("v1.2.5", tags),
            Nearest::Releases(strings(&["v1.2.0", "v1.3.0"]))
        );
        assert_eq!(
            nearest("v1.3.0-rc.2", tags),
            Nearest::Releases(strings(&["v1.3.0-rc.1", "v1.2.0", "v1.3.0"]))
        );
        assert_eq!(
            nearest("api/v1.2.8", tags),
            Nearest::Releases(strings(&["api/v1.2.9"]))
        );
        assert_eq!(
            nearest("api/v1.2.8", tags).to_string(),
            "the closest release is api/v1.2.9"
        );
    }

    #[test]
    fn other_names_suggest_the_tags_a_few_edits_away() {
        let tags = ["stable", "stabel-old", "nightly", "latest"];
        assert_eq!(
            nearest("stabel", tags),
            Nearest::Spelled(strings(&["stable"]))
        );
        assert_eq!(
            nearest("nigthly", tags).to_string(),
            "the closest tag is nightly"
        );
        assert_eq!(nearest("unrelated", tags), Nearest::Nothing);
        assert_eq!(nearest("unrelated", tags).to_string(), "");
        assert_eq!(nearest("v1.0.0", ["main"]), Nearest::Nothing);
    }

    #[test]
    fn hostile_names_print_on_one_line() {
        let tags = ["v1.0.0\n\u{1b}[31m", "v1.0.1\"x"];
        assert_eq!(
            nearest("v1.0.0-x", tags).to_string(),
            "the closest releases are v1.0.0\\n\\u{1b}[31m, v1.0.1\\\"x"
        );
        let long = "x".repeat(10_000);
        assert_eq!(
            nearest(&long, [long[1..].to_string().as_str()]),
            Nearest::Nothing
        );
    }
}
