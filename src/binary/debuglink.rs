//! The `.gnu_debuglink` section of an ELF file: the name of its separate
//! debug file and that file's CRC32, as `objcopy --add-gnu-debuglink`
//! writes them (Debian names the file after the GNU build ID).
//!
//! Read from untrusted files: a section that is not exactly a name, its
//! NUL padding to 4 bytes and a CRC is not read as a debug link.

use serde::{Deserialize, Serialize};

use super::layout::Layout;

/// Longest debug file name read (a build-ID name is 46 bytes).
const MAX_NAME: usize = 4096;

/// Where a file's separate debug information is, by name and checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DebugLink {
    /// The debug file's name (bytes that are not UTF-8 read as U+FFFD,
    /// which no build-ID name holds).
    pub name: String,
    /// CRC32 of the debug file.
    pub crc: u32,
}

impl DebugLink {
    /// The debug link of a parsed file, when it has a well-formed one.
    pub fn find(layout: &Layout<'_>) -> Option<Self> {
        let (object, data, _) = layout.section(".gnu_debuglink")?;
        parse(data, object::Object::is_little_endian(&object.file))
    }

    /// Whether the name is the one derived from the GNU build ID
    /// `build_id` (hex): the ID without its first byte, then `.debug`
    /// (the file's path under `/usr/lib/debug/.build-id/` is the first
    /// byte, a slash and this name).
    pub fn is_derived_from(&self, build_id: &str) -> bool {
        build_id
            .get(2..)
            .is_some_and(|rest| !rest.is_empty() && self.name == format!("{rest}.debug"))
    }
}

/// A section of exactly a non-empty name, a NUL, NULs up to a multiple of
/// 4 bytes and a 4-byte CRC in the file's byte order.
fn parse(data: &[u8], little_endian: bool) -> Option<DebugLink> {
    let end = data.iter().take(MAX_NAME + 1).position(|&b| b == 0)?;
    if end == 0 {
        return None;
    }
    let crc_at = (end + 1).next_multiple_of(4);
    let (name, padding, crc) = (
        data.get(..end)?,
        data.get(end..crc_at)?,
        data.get(crc_at..)?,
    );
    if padding.iter().any(|&b| b != 0) {
        return None;
    }
    let crc: [u8; 4] = crc.try_into().ok()?;
    Some(DebugLink {
        name: String::from_utf8_lossy(name).into_owned(),
        crc: if little_endian {
            u32::from_le_bytes(crc)
        } else {
            u32::from_be_bytes(crc)
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_its_padding_and_a_crc_are_a_debug_link() {
        let section = b"0203.debug\0\0\x01\x02\x03\x04";
        assert_eq!(
            parse(section, true),
            Some(DebugLink {
                name: "0203.debug".to_string(),
                crc: 0x0403_0201
            })
        );
        assert_eq!(parse(section, false).map(|l| l.crc), Some(0x0102_0304));
    }

    #[test]
    fn anything_beside_name_padding_and_crc_is_not_a_debug_link() {
        assert_eq!(parse(b"0203.debug\0X\x01\x02\x03\x04", true), None);
        assert_eq!(parse(b"0203.debug\0\0\x01\x02\x03\x04\x05", true), None);
        assert_eq!(parse(b"0203.debug\0\0\x01\x02\x03", true), None);
        assert_eq!(parse(b"\0\0\0\0\x01\x02\x03\x04", true), None);
        assert_eq!(parse(b"no terminator", true), None);
    }

    #[test]
    fn the_derived_name_is_the_build_id_without_its_first_byte() {
        let link = |name: &str| DebugLink {
            name: name.to_string(),
            crc: 0,
        };
        assert!(link("223344.debug").is_derived_from("11223344"));
        assert!(!link("11223344.debug").is_derived_from("11223344"));
        assert!(!link("tree.debug").is_derived_from("11223344"));
        assert!(!link(".debug").is_derived_from("11"));
    }
}
