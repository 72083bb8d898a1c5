//! Which existing tags are nearest a tag that does not exist, for the
//! "did you mean" of an error: plain strings in, plain strings out.

/// At most `limit` of `tags` nearest `wanted`, nearest first.
///
/// A release tag (`1.20.0`, `v1.20.0`, `1.20.0-debian-12`: optional `v`,
/// dot-separated numbers, optional `-suffix`) is compared with the tags of
/// the same shape (the `v`, the count of numbers, a suffix or none) by
/// release order: the releases just before and just after it come first,
/// those sharing more leading numbers first among equally near ones
/// (`1.20.0` missing: `1.20.1` before `1.19.3`; a typo'd `1.20.99`: the
/// newest `1.20.x`, then `1.21.0`). Any other tag, or a release with no tag
/// of its shape, is compared by edit distance, within a third of its
/// length (at least 2 edits).
pub fn nearest(wanted: &str, tags: &[String], limit: usize) -> Vec<String> {
    let mut ranked = match Release::parse(wanted) {
        Some(release) => by_release_order(&release, tags),
        None => Vec::new(),
    };
    if ranked.is_empty() {
        ranked = by_edit_distance(wanted, tags);
    }
    ranked.truncate(limit);
    ranked
}

/// A release tag's parts: `v1.20.0-debian-12` is (`v`, [1, 20, 0], suffix).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Release {
    numbers: Vec<u64>,
    leading_v: bool,
    suffixed: bool,
}

impl Release {
    fn parse(tag: &str) -> Option<Self> {
        let (bare, leading_v) = match tag.strip_prefix('v') {
            Some(rest) => (rest, true),
            None => (tag, false),
        };
        let (numbers, suffixed) = match bare.split_once('-') {
            Some((numbers, _)) => (numbers, true),
            None => (bare, false),
        };
        let numbers = numbers
            .split('.')
            .map(|n| {
                n.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| n.parse().ok())
                    .flatten()
            })
            .collect::<Option<Vec<u64>>>()?;
        Some(Self {
            numbers,
            leading_v,
            suffixed,
        })
    }

    fn same_shape(&self, other: &Self) -> bool {
        self.leading_v == other.leading_v
            && self.suffixed == other.suffixed
            && self.numbers.len() == other.numbers.len()
    }

    fn shared_prefix(&self, other: &Self) -> usize {
        self.numbers
            .iter()
            .zip(&other.numbers)
            .take_while(|(a, b)| a == b)
            .count()
    }
}

/// The tags of `wanted`'s shape by their distance from it in release order.
fn by_release_order(wanted: &Release, tags: &[String]) -> Vec<String> {
    let mut releases: Vec<(Release, &String)> = tags
        .iter()
        .filter_map(|tag| Some((Release::parse(tag)?, tag)))
        .filter(|(release, _)| release.same_shape(wanted))
        .collect();
    releases.sort();
    let before = releases
        .iter()
        .filter(|(release, _)| release.numbers < wanted.numbers)
        .count();
    let mut ranked: Vec<(usize, usize, &String)> = releases
        .iter()
        .enumerate()
        .map(|(index, (release, tag))| {
            let steps = if index < before {
                before - index
            } else {
                index + 1 - before
            };
            (steps, usize::MAX - release.shared_prefix(wanted), *tag)
        })
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(_, _, tag)| tag.clone()).collect()
}

/// The tags within a third of `wanted`'s length in edits (at least 2),
/// nearest first.
fn by_edit_distance(wanted: &str, tags: &[String]) -> Vec<String> {
    let within = (wanted.chars().count() / 3).max(2);
    let mut ranked: Vec<(usize, &String)> = tags
        .iter()
        .map(|tag| (strsim::levenshtein(wanted, tag), tag))
        .filter(|(distance, _)| *distance <= within)
        .collect();
    ranked.sort();
    ranked.into_iter().map(|(_, tag)| tag.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn a_missing_release_is_near_the_releases_around_it_sharing_most_numbers_first() {
        let listed = tags(&[
            "latest", "1.18.0", "1.19.0", "1.19.3", "1.20.1", "1.20.2", "1.21.0", "2.0.0",
        ]);
        assert_eq!(
            nearest("1.20.0", &listed, 3),
            ["1.20.1", "1.19.3", "1.20.2"]
        );
        assert_eq!(nearest("1.20.99", &listed, 2), ["1.20.2", "1.21.0"]);
        assert_eq!(nearest("3.0.0", &listed, 2), ["2.0.0", "1.21.0"]);
        assert_eq!(nearest("0.1.0", &listed, 1), ["1.18.0"]);
    }

    #[test]
    fn only_tags_of_the_same_shape_are_releases_to_compare() {
        let listed = tags(&["v1.20.1", "1.20.0-debian-12-r0", "1.19.0", "1.19", "1.21.0"]);
        assert_eq!(nearest("1.20.0", &listed, 5), ["1.19.0", "1.21.0"]);
        assert_eq!(nearest("v1.20.0", &listed, 5), ["v1.20.1"]);
        assert_eq!(
            nearest("1.20.1-debian-12-r0", &listed, 5),
            ["1.20.0-debian-12-r0"]
        );
    }

    #[test]
    fn other_tags_are_near_within_a_third_of_their_length_in_edits() {
        let listed = tags(&["latest", "stable", "edge", "1.19.0"]);
        assert_eq!(nearest("lastest", &listed, 3), ["latest"]);
        assert_eq!(nearest("stabel", &listed, 3), ["stable"]);
        assert!(nearest("nightly", &listed, 3).is_empty());
        // A release with no tag of its shape falls back to edits too.
        assert_eq!(nearest("1.19.0-r1", &listed, 3), ["1.19.0"]);
        assert!(nearest("1.20.0", &[], 3).is_empty());
    }
}
