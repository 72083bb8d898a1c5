//! Debian's control-file syntax (deb822): paragraphs of `Name: value`
//! fields, continued on lines that start with a space or tab, separated by
//! blank lines. One parser for every file of this form the tool reads: the
//! image's `/var/lib/dpkg/status`, the archive's `InRelease`, `Packages`
//! and `Sources` indexes, `.dsc` and `.buildinfo` files.
//!
//! Field names compare case-insensitively, as dpkg's do. A continuation
//! line keeps its text after the one leading space or tab; a line that is
//! only ` .` stands for an empty line, as in descriptions. The caller
//! bounds the text it reads; the parser allocates only for what it returns.

/// One paragraph's fields, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paragraph {
    fields: Vec<(String, String)>,
    /// The 1-based line the paragraph starts on, for error messages.
    line: usize,
}

impl Paragraph {
    /// The value of the field `name` (any case), with continuation lines
    /// joined by `\n`; the first line's value is empty for fields such as
    /// `Files:` whose lines all follow.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The fields in file order, names as written.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &str)> {
        self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The 1-based line of the file the paragraph starts on.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The non-empty lines of a multi-line field (`Files`,
    /// `Checksums-Sha256`, `SHA256` of a release file), each split on
    /// whitespace.
    pub fn lines_of(&self, name: &str) -> Vec<Vec<&str>> {
        self.get(name)
            .map(|value| {
                value
                    .lines()
                    .map(|line| line.split_whitespace().collect::<Vec<_>>())
                    .filter(|words| !words.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A line that is not deb822.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct Deb822Error {
    pub line: usize,
    pub problem: &'static str,
}

/// Every paragraph of `text`, in order. Lines starting with `#` are
/// comments only where `comments` is set (dpkg's own files have none; a
/// `#` there is data).
pub fn parse(text: &str, comments: bool) -> Result<Vec<Paragraph>, Deb822Error> {
    let mut paragraphs = Vec::new();
    let mut current = Paragraph::default();
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            if !current.fields.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if comments && line.starts_with('#') {
            continue;
        }
        if let Some(rest) = line.strip_prefix([' ', '\t']) {
            let Some((_, value)) = current.fields.last_mut() else {
                return Err(Deb822Error {
                    line: number,
                    problem: "a continuation line starts a paragraph",
                });
            };
            let rest = if rest.trim_end() == "." { "" } else { rest };
            value.push('\n');
            value.push_str(rest.trim_end());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(Deb822Error {
                line: number,
                problem: "a line is neither `Name: value` nor a continuation",
            });
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(Deb822Error {
                line: number,
                problem: "a field name is empty or holds whitespace",
            });
        }
        if current.fields.is_empty() {
            current.line = number;
        }
        if current.get(name).is_some() {
            return Err(Deb822Error {
                line: number,
                problem: "a field appears twice in one paragraph",
            });
        }
        current
            .fields
            .push((name.to_string(), value.trim().to_string()));
    }
    if !current.fields.is_empty() {
        paragraphs.push(current);
    }
    Ok(paragraphs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_paragraphs_with_continuations_and_case_insensitive_names() {
        let text = "Package: hello\nStatus: install ok installed\nDescription: greets\n a line\n .\n more\n\n\nPackage: jq\nsource: jq (1.6-2.1)\n";
        let paragraphs = parse(text, false).unwrap();
        assert_eq!(paragraphs.len(), 2);
        assert_eq!(paragraphs[0].get("package"), Some("hello"));
        assert_eq!(
            paragraphs[0].get("Description"),
            Some("greets\na line\n\nmore")
        );
        assert_eq!(paragraphs[1].get("Source"), Some("jq (1.6-2.1)"));
        assert_eq!(paragraphs[1].line(), 9);
    }

    #[test]
    fn splits_the_lines_of_a_checksum_field() {
        let text = "Checksums-Sha256:\n 75296f 1721 hello_2.10-3.dsc\n 31e066 725946 hello_2.10.orig.tar.gz\n";
        let paragraph = &parse(text, false).unwrap()[0];
        assert_eq!(
            paragraph.lines_of("checksums-sha256"),
            vec![
                vec!["75296f", "1721", "hello_2.10-3.dsc"],
                vec!["31e066", "725946", "hello_2.10.orig.tar.gz"],
            ]
        );
    }

    #[test]
    fn refuses_lines_that_are_not_fields() {
        assert_eq!(
            parse("Package: a\nno colon here\n", false),
            Err(Deb822Error {
                line: 2,
                problem: "a line is neither `Name: value` nor a continuation"
            })
        );
        assert_eq!(
            parse(" continued\n", false),
            Err(Deb822Error {
                line: 1,
                problem: "a continuation line starts a paragraph"
            })
        );
        assert_eq!(
            parse("Package: a\npackage: b\n", false),
            Err(Deb822Error {
                line: 2,
                problem: "a field appears twice in one paragraph"
            })
        );
    }

    #[test]
    fn skips_comments_only_where_the_format_has_them() {
        let text = "# a comment\nTypes: deb\n";
        assert_eq!(parse(text, true).unwrap()[0].get("Types"), Some("deb"));
        assert!(parse(text, false).is_err());
    }
}
