//! Rendering of computed results for people: turns the plain data produced
//! by the library stages (e.g. [`crate::diff::BinaryDiff`]) into terminal
//! text. Nothing here computes; JSON output is `serde_json` of the data.

pub mod diff;
pub mod digest;
pub mod inspect;
pub mod progress;
pub mod verify;

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
