//! A source package's `.dsc`: its name, version, the files it lists and the
//! build dependencies of an architecture-dependent build, read with
//! [`crate::distro::deb822`] from the OpenPGP cleartext around it.
//!
//! Threat model: the `.dsc` comes from the archive, verified by its sha256
//! against the signed `Sources` index before it reaches here (its own
//! OpenPGP signature is not what is trusted, so it is not checked); its
//! values are still checked before they are used as file names or passed
//! to a shell hook.

use crate::distro::deb822;

/// The largest `.dsc` read (Debian's largest are a few hundred KiB).
pub const MAX_DSC_BYTES: u64 = 4 << 20;

/// What a build takes from a `.dsc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceControl {
    /// `Source:` (`tree`).
    pub source: String,
    /// `Version:` (`2.1.0-1`, `1:2.3-4`).
    pub version: String,
    /// The names of the files it lists (`Files:`, `Checksums-Sha256:`).
    pub files: Vec<String>,
    /// `Build-Depends` and `Build-Depends-Arch` joined with `, `, on one
    /// line, in the syntax `apt-get satisfy` reads; empty when none.
    pub build_depends: String,
}

impl SourceControl {
    /// Parses `.dsc` text, signed (cleartext-signed OpenPGP) or not.
    pub fn parse(text: &str) -> Result<Self, String> {
        let body = cleartext(text)?;
        let paragraphs = deb822::parse(&body, false).map_err(|e| e.to_string())?;
        let [paragraph] = paragraphs.as_slice() else {
            return Err(format!("holds {} paragraphs, not one", paragraphs.len()));
        };
        let field = |name: &str| {
            paragraph
                .get(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("has no {name} field"))
        };
        let source = field("Source")?.to_string();
        if !is_package_name(&source) {
            return Err(format!("Source {source:?} is not a package name"));
        }
        let version = field("Version")?.to_string();
        if !is_version(&version) {
            return Err(format!("Version {version:?} is not a Debian version"));
        }
        let mut files: Vec<String> = Vec::new();
        for field in ["Files", "Checksums-Sha256"] {
            for words in paragraph.lines_of(field) {
                let Some(name) = words.get(2) else {
                    return Err(format!("{field} has a line without a file name"));
                };
                if !is_plain_file_name(name) {
                    return Err(format!(
                        "{field} names {name:?}, which is not a plain file name"
                    ));
                }
                if !files.iter().any(|f| f == name) {
                    files.push((*name).to_string());
                }
            }
        }
        if files.is_empty() {
            return Err("lists no files".to_string());
        }
        let build_depends = ["Build-Depends", "Build-Depends-Arch"]
            .iter()
            .filter_map(|name| paragraph.get(name))
            .map(|value| value.split_whitespace().collect::<Vec<_>>().join(" "))
            .map(|value| value.trim_matches(|c| c == ',' || c == ' ').to_string())
            .filter(|value| !value.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(bad) = build_depends.chars().find(|c| !is_relation_char(*c)) {
            return Err(format!(
                "the build dependencies {build_depends:?} hold {bad:?}, which no package relation has"
            ));
        }
        Ok(Self {
            source,
            version,
            files,
            build_depends,
        })
    }

    /// The upstream version: without epoch and Debian revision (`2.1.0`
    /// for `2.1.0-1`, `2.3` for `1:2.3-4`).
    pub fn upstream_version(&self) -> &str {
        let no_epoch = self
            .version
            .split_once(':')
            .map_or(self.version.as_str(), |(_, rest)| rest);
        no_epoch.rsplit_once('-').map_or(no_epoch, |(up, _)| up)
    }

    /// The directory `dpkg-source -x` unpacks to (`tree-2.1.0`).
    pub fn unpacked_dir(&self) -> String {
        format!("{}-{}", self.source, self.upstream_version())
    }
}

/// The signed text of a cleartext-signed OpenPGP message (dash-escaping
/// undone), or `text` itself when it is not signed.
fn cleartext(text: &str) -> Result<String, String> {
    let mut lines = text.lines().skip_while(|line| line.trim().is_empty());
    match lines.next() {
        Some(first) if first.trim_end() == "-----BEGIN PGP SIGNED MESSAGE-----" => {}
        _ => return Ok(text.to_string()),
    }
    // Armor headers (`Hash: SHA512`) up to the first blank line.
    for line in lines.by_ref() {
        if line.trim().is_empty() {
            break;
        }
    }
    let mut body = String::new();
    for line in lines {
        if line.trim_end() == "-----BEGIN PGP SIGNATURE-----" {
            return Ok(body);
        }
        body.push_str(line.strip_prefix("- ").unwrap_or(line));
        body.push('\n');
    }
    Err("its OpenPGP signed message has no signature block".to_string())
}

/// Debian policy 5.6.1: lower-case letters, digits, `+`, `-`, `.`; two or
/// more characters, starting with a letter or digit.
pub fn is_package_name(name: &str) -> bool {
    name.len() >= 2
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c))
}

/// Debian policy 5.6.12's characters: letters, digits, `.+~-:`, starting
/// with a digit.
pub fn is_version(version: &str) -> bool {
    version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".+~-:".contains(c))
}

fn is_plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.~_".contains(c))
}

/// What a package relation field may hold: names, versions, operators,
/// alternatives, architecture and profile restrictions.
fn is_relation_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || " ,|()<>=:.+~-[]!".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNED: &str = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n\
Format: 3.0 (quilt)\nSource: tree\nBinary: tree\nVersion: 2.1.0-1\n\
Build-Depends: debhelper-compat (= 13),\n libfoo-dev [linux-any] <!nocheck>\n\
Build-Depends-Arch: libbar-dev | libbaz-dev\n\
Files:\n cdb55e2299a99c6d77fdb515a50076c1 59189 tree_2.1.0.orig.tar.gz\n 1931e13db189da303cb3474e040d5765 7028 tree_2.1.0-1.debian.tar.xz\n\
Checksums-Sha256:\n 0160c535bff2b0dc6a830b9944e981e3427380f63e748da96ced7071faebabf6 59189 tree_2.1.0.orig.tar.gz\n\
- Vcs-Git: x\n\n-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n";

    #[test]
    fn reads_a_signed_dsc_with_its_files_and_arch_build_dependencies() {
        let control = SourceControl::parse(SIGNED).unwrap();
        assert_eq!(
            control,
            SourceControl {
                source: "tree".into(),
                version: "2.1.0-1".into(),
                files: vec![
                    "tree_2.1.0.orig.tar.gz".into(),
                    "tree_2.1.0-1.debian.tar.xz".into()
                ],
                build_depends:
                    "debhelper-compat (= 13), libfoo-dev [linux-any] <!nocheck>, libbar-dev | libbaz-dev"
                        .into(),
            }
        );
        assert_eq!(control.unpacked_dir(), "tree-2.1.0");
    }

    #[test]
    fn upstream_version_drops_epoch_and_revision() {
        let with = |version: &str| SourceControl {
            source: "x1".into(),
            version: version.into(),
            files: Vec::new(),
            build_depends: String::new(),
        };
        assert_eq!(with("1:2.3-4").upstream_version(), "2.3");
        assert_eq!(with("2.3-4-5").upstream_version(), "2.3-4");
        assert_eq!(with("7.1").upstream_version(), "7.1");
    }

    #[test]
    fn refuses_file_names_and_relations_that_could_escape() {
        let path = SIGNED.replace("tree_2.1.0-1.debian.tar.xz", "../x");
        assert_eq!(
            SourceControl::parse(&path).unwrap_err(),
            "Files names \"../x\", which is not a plain file name"
        );
        let shell = SIGNED.replace("libbar-dev", "libbar-dev'; rm -rf /; '");
        assert!(SourceControl::parse(&shell)
            .unwrap_err()
            .contains("which no package relation has"));
        let unsigned_end = SIGNED.replace("-----BEGIN PGP SIGNATURE-----", "");
        assert_eq!(
            SourceControl::parse(&unsigned_end).unwrap_err(),
            "its OpenPGP signed message has no signature block"
        );
    }
}
