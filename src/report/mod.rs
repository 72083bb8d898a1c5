//! Rendering: turns the plain data each stage returns into text for people
//! (JSON for machines is the data's own serde form). Nothing here computes.

pub mod inspect;
pub mod progress;

/// Shell-like quoting of an argv for display: `["/bin/sh", "-c", "a b"]` -> `/bin/sh -c 'a b'`.
pub fn quote_argv(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
