//! File names for images: safe (no `/`, `..`, control characters or
//! leading dot), distinct for distinct names, and stable across runs.

use sha2::{Digest, Sha256};

/// The longest slug kept whole; longer ones end in a hash instead.
const MAX_LEN: usize = 150;

/// `image` as one file-name segment: lowercase ASCII letters, digits, `-`
/// and `.` (not first) stay, `/` becomes `_`, and every other byte
/// becomes `~XX` (its hex), so distinct names never share a slug
/// (`docker.io/rancher/crictl` → `docker.io_rancher_crictl`). A slug over
/// 150 bytes is cut and ends in `~~` and 16 hex of the name's sha256
/// (`~~` appears in no other slug).
pub fn slug(image: &str) -> String {
    let mut out = String::with_capacity(image.len());
    for (i, byte) in image.bytes().enumerate() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' | b'-' => out.push(char::from(byte)),
            b'.' if i > 0 => out.push('.'),
            b'/' => out.push('_'),
            _ => out.push_str(&format!("~{byte:02x}")),
        }
    }
    if out.len() > MAX_LEN {
        let hash = hex::encode(Sha256::digest(image.as_bytes()));
        out.truncate(MAX_LEN - 18);
        out.push_str("~~");
        out.push_str(&hash[..16]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn a_registry_image_keeps_its_readable_name() {
        assert_eq!(slug("docker.io/rancher/crictl"), "docker.io_rancher_crictl");
        assert_eq!(
            slug("127.0.0.1:5000/tools/crictl"),
            "127.0.0.1~3a5000_tools_crictl"
        );
    }

    #[test]
    fn hostile_names_become_one_safe_segment() {
        assert_eq!(slug("../../etc"), "~2e._.._etc");
        assert_eq!(slug(".hidden"), "~2ehidden");
        assert_eq!(slug("<script>\n"), "~3cscript~3e~0a");
        assert_eq!(slug("a_b"), "a~5fb");
        assert_ne!(slug("a_b"), slug("a/b"));
    }

    #[test]
    fn a_long_name_is_cut_and_ends_in_its_hash() {
        let long = "r/".repeat(200);
        let cut = slug(&long);
        assert_eq!(cut.len(), 150);
        assert!(cut.starts_with("r_r_"));
        assert_eq!(&cut[132..134], "~~");
        assert_ne!(cut, slug(&format!("{long}x")));
    }
}
