//! Lexical path handling for tar entry names and image paths.
//!
//! Layer entry names and link targets are bytes; the merged view keys them
//! by [`escape_name`], a lossless text form in which two different byte
//! strings never meet (a lossy conversion would let a file named with an
//! invalid byte stand in for one named with U+FFFD). Paths from the image
//! config, which are UTF-8, enter the view through [`escape_config_path`],
//! so a look-up finds exactly the entry whose bytes it names, and anything
//! shown to a user shows the escapes.

/// Most symlinks one resolution follows, as Linux (`ELOOP`).
pub const MAX_SYMLINKS: usize = 40;

use std::borrow::Cow;

/// Splits a tar entry name into clean components (`.`, empty and `..`
/// resolved lexically); `None` when a `..` would climb above the root.
/// The root itself yields an empty list.
pub(crate) fn clean_components(name: &[u8]) -> Option<Vec<&[u8]>> {
    let mut components: Vec<&[u8]> = Vec::new();
    for component in name.split(|b| *b == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                components.pop()?;
            }
            other => components.push(other),
        }
    }
    Some(components)
}

/// A tar entry name as an absolute clean image path (`./usr/bin/x/` ->
/// `/usr/bin/x`), in the [`escape_name`] form; `None` when it climbs above
/// the root.
pub(crate) fn clean_entry_path(name: &[u8]) -> Option<String> {
    let components = clean_components(name)?;
    Some(join_components(components.iter().map(|c| escape_name(c))))
}

/// Bytes as text without losing any: valid UTF-8 stays as it is except `\`,
/// written `\\`; each byte of an invalid sequence is written `\xNN`. The
/// mapping is one to one, so distinct names stay distinct.
pub fn escape_name(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return escape_config_path(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape_config_path(chunk.valid()));
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    Cow::Owned(out)
}

/// A path from the image config or the command line (always UTF-8) in the
/// [`escape_name`] form of the same bytes.
pub fn escape_config_path(text: &str) -> Cow<'_, str> {
    if text.contains('\\') {
        Cow::Owned(text.replace('\\', "\\\\"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Joins components into an absolute path; no components gives `/`.
pub(crate) fn join_components<S: AsRef<str>>(components: impl IntoIterator<Item = S>) -> String {
    let mut path = String::new();
    for component in components {
        path.push('/');
        path.push_str(component.as_ref());
    }
    if path.is_empty() {
        path.push('/');
    }
    path
}

/// Splits a clean absolute path into its parent and final component
/// (`/a/b` -> (`/a`, `b`)); the root has no parent.
pub(crate) fn split_parent(path: &str) -> Option<(&str, &str)> {
    let (parent, name) = path.rsplit_once('/')?;
    if name.is_empty() {
        return None;
    }
    Some((if parent.is_empty() { "/" } else { parent }, name))
}

/// The strict ancestors of a clean absolute path, excluding the root,
/// outermost first (`/a/b/c` -> `/a`, `/a/b`).
pub(crate) fn strict_ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/')
        .map(|(i, _)| i)
        .filter(|&i| i > 0)
        .map(move |i| &path[..i])
}

/// Joins `name` onto the absolute directory `dir` and cleans the result
/// lexically, never climbing above the root.
pub fn clean_join(dir: &str, name: &str) -> String {
    let combined = if name.starts_with('/') {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    };
    let mut components: Vec<&str> = Vec::new();
    for component in combined.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                components.pop();
            }
            other => components.push(other),
        }
    }
    join_components(components)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_names_keep_every_byte_and_never_meet() {
        assert_eq!(escape_name(b"plain/\xc3\xa9"), "plain/\u{e9}");
        assert_eq!(escape_name(b"app\xff"), "app\\xff");
        assert_eq!(escape_name(b"a\\xff"), "a\\\\xff");
        assert_eq!(escape_name("app\u{FFFD}".as_bytes()), "app\u{FFFD}");
        assert_eq!(escape_config_path("C:\\x"), "C:\\\\x");
        let names: [&[u8]; 5] = [
            b"app\xff",
            b"app\\xff",
            "app\u{FFFD}".as_bytes(),
            b"app\xef\xbf",
            b"app\\\\xff",
        ];
        let escaped: std::collections::BTreeSet<String> =
            names.iter().map(|n| escape_name(n).into_owned()).collect();
        assert_eq!(escaped.len(), names.len());
    }

    #[test]
    fn entry_names_normalise_to_absolute_clean_paths() {
        for name in [
            "./usr/bin/x",
            "usr/bin/x",
            "/usr/bin/x",
            "usr/bin/x/",
            "usr//bin/./x",
        ] {
            assert_eq!(
                clean_entry_path(name.as_bytes()).as_deref(),
                Some("/usr/bin/x")
            );
        }
        assert_eq!(clean_entry_path(b"./").as_deref(), Some("/"));
        assert_eq!(clean_entry_path(b"usr/../etc").as_deref(), Some("/etc"));
    }

    #[test]
    fn entry_names_climbing_above_the_root_are_rejected() {
        assert_eq!(clean_entry_path(b"../x"), None);
        assert_eq!(clean_entry_path(b"usr/../../x"), None);
        assert_eq!(clean_entry_path(b"/.."), None);
    }

    #[test]
    fn parents_and_ancestors_of_clean_paths() {
        assert_eq!(split_parent("/a/b"), Some(("/a", "b")));
        assert_eq!(split_parent("/a"), Some(("/", "a")));
        assert_eq!(split_parent("/"), None);
        assert_eq!(
            strict_ancestors("/a/b/c").collect::<Vec<_>>(),
            ["/a", "/a/b"]
        );
        assert_eq!(strict_ancestors("/a").count(), 0);
    }

    #[test]
    fn joining_never_climbs_above_the_root() {
        assert_eq!(clean_join("/srv", "bin/app"), "/srv/bin/app");
        assert_eq!(clean_join("/srv", "/bin/app"), "/bin/app");
        assert_eq!(clean_join("/srv", "../../../x"), "/x");
        assert_eq!(clean_join("/", "."), "/");
    }
}
