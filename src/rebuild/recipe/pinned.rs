//! A recipe pinned by its digest: the exact bytes `--recipe` names (a
//! file's, or a shipped recipe's text for `builtin:NAME`), their sha256
//! (what `plan` records as a job's `recipe_sha256`), and the recipe loaded
//! only when the bytes read are the ones that digest names.

use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::{catalogue, Recipe, RecipeError};

/// The sha256 of recipe bytes, as lowercase hex.
pub fn recipe_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Whether `text` is a sha256 as [`recipe_sha256`] writes it: 64 lowercase hex digits.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The bytes `--recipe ARGUMENT` loads: the shipped recipe's text for
/// `builtin:NAME`, else the file's.
pub fn recipe_bytes(argument: &Path) -> Result<Vec<u8>, RecipeError> {
    match shipped_name(argument) {
        Some(name) => Ok(catalogue::builtin(name)?.text.into_bytes()),
        None => read(argument),
    }
}

/// The recipe `--recipe ARGUMENT` names, read once and refused unless the
/// sha256 of the bytes read is `expected`: what is parsed is what was hashed.
pub fn load_pinned(argument: &Path, expected: &str) -> Result<Recipe, RecipeError> {
    if let Some(name) = shipped_name(argument) {
        let entry = catalogue::builtin(name)?;
        check(argument, entry.text.as_bytes(), expected)?;
        return Ok(entry.recipe);
    }
    let bytes = read(argument)?;
    check(argument, &bytes, expected)?;
    let text = String::from_utf8(bytes).map_err(|e| RecipeError::Read {
        path: argument.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    Recipe::parse(&argument.display().to_string(), &text)
}

/// The recipe `--recipe ARGUMENT` names: the shipped one for
/// `builtin:NAME`, else the file's; with `expected` (`--recipe-sha256`),
/// refused unless its bytes' sha256 is that, as [`load_pinned`].
pub fn load_argument(argument: &Path, expected: Option<&str>) -> Result<Recipe, RecipeError> {
    match (expected, shipped_name(argument)) {
        (Some(expected), _) => load_pinned(argument, expected),
        (None, Some(name)) => Ok(catalogue::builtin(name)?.recipe),
        (None, None) => Recipe::load(argument),
    }
}

/// `NAME` of `builtin:NAME`.
fn shipped_name(argument: &Path) -> Option<&str> {
    argument.to_str()?.strip_prefix("builtin:")
}

fn read(path: &Path) -> Result<Vec<u8>, RecipeError> {
    std::fs::read(path).map_err(|source| RecipeError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Refuses `bytes` unless their sha256 is `expected`.
fn check(argument: &Path, bytes: &[u8], expected: &str) -> Result<(), RecipeError> {
    let found = recipe_sha256(bytes);
    if found == expected {
        return Ok(());
    }
    Err(RecipeError::Changed {
        origin: argument.display().to_string(),
        expected: expected.to_string(),
        found,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_loads_only_with_the_sha256_of_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.toml");
        let shipped = catalogue::builtin("rancher-crictl").unwrap().text;
        std::fs::write(&path, &shipped).unwrap();
        let digest = recipe_sha256(shipped.as_bytes());
        assert!(is_sha256_hex(&digest));
        assert_eq!(recipe_bytes(&path).unwrap(), shipped.as_bytes());
        load_pinned(&path, &digest).unwrap();

        std::fs::write(&path, format!("{shipped}\n# edited\n")).unwrap();
        let err = load_pinned(&path, &digest).unwrap_err();
        let RecipeError::Changed {
            origin,
            expected,
            found,
        } = &err
        else {
            panic!("{err}");
        };
        assert_eq!(origin, &path.display().to_string());
        assert_eq!(expected, &digest);
        assert_eq!(
            found,
            &recipe_sha256(format!("{shipped}\n# edited\n").as_bytes())
        );
        let message = err.to_string();
        assert!(
            message.contains(&digest) && message.contains(found.as_str()),
            "{message}"
        );
    }

    #[test]
    fn a_shipped_recipe_is_pinned_by_the_sha256_of_its_text() {
        let argument = Path::new("builtin:rancher-crictl.toml");
        let text = catalogue::builtin("rancher-crictl").unwrap().text;
        let recipe = load_pinned(argument, &recipe_sha256(text.as_bytes())).unwrap();
        assert_eq!(recipe.origin, "builtin:rancher-crictl.toml");
        assert!(matches!(
            load_pinned(argument, &"0".repeat(64)),
            Err(RecipeError::Changed { .. })
        ));
    }

    #[test]
    fn only_lowercase_hex_of_64_digits_is_a_sha256() {
        assert!(is_sha256_hex(&"ab".repeat(32)));
        for bad in ["", "ab", &"AB".repeat(32), &"g".repeat(64), &"a".repeat(65)] {
            assert!(!is_sha256_hex(bad), "{bad:?}");
        }
    }
}
