//! The order of release names, newest first: semantic versions (with or
//! without a leading `v`) by precedence, then any other names in natural
//! order (`v1.10` before `v1.9`; digits before letters, so `latest` is
//! the newest of those).

use std::cmp::Ordering;

/// A release name's place in the order. Derived comparison: a total order.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key<'a> {
    semver: Option<semver::Version>,
    chunks: Vec<Chunk<'a>>,
    text: &'a str,
}

/// A run of digits (compared as a number) or of anything else.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Chunk<'a> {
    /// Digits without leading zeros, compared by length then text.
    Number(usize, &'a str),
    Text(&'a str),
}

fn key(version: &str) -> Key<'_> {
    let bare = version
        .strip_prefix('v')
        .or_else(|| version.strip_prefix('V'))
        .unwrap_or(version);
    let mut chunks = Vec::new();
    let mut rest = bare;
    while let Some(first) = rest.chars().next() {
        let digit = first.is_ascii_digit();
        let end = rest
            .find(|c: char| c.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (chunk, tail) = rest.split_at(end);
        chunks.push(if digit {
            let number = chunk.trim_start_matches('0');
            Chunk::Number(number.len(), number)
        } else {
            Chunk::Text(chunk)
        });
        rest = tail;
    }
    Key {
        semver: semver::Version::parse(bare).ok(),
        chunks,
        text: version,
    }
}

/// `a` before `b` when `a` is the newer release.
pub fn newest_first(a: &str, b: &str) -> Ordering {
    key(b).cmp(&key(a))
}

#[cfg(test)]
mod tests {
    use super::newest_first;

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        names.sort_by(|a, b| newest_first(a, b));
        names
    }

    #[test]
    fn semantic_versions_sort_by_precedence_newest_first() {
        assert_eq!(
            sorted(&["v1.9.0", "v1.10.0", "v1.10.0-rc.1", "v2.0.0", "1.9.1"]),
            ["v2.0.0", "v1.10.0", "v1.10.0-rc.1", "1.9.1", "v1.9.0"]
        );
    }

    #[test]
    fn other_names_sort_naturally_after_semantic_versions() {
        assert_eq!(
            sorted(&["v1.9", "v1.10", "v1.0.0", "2024.01", "latest"]),
            ["v1.0.0", "latest", "2024.01", "v1.10", "v1.9"]
        );
    }
}
