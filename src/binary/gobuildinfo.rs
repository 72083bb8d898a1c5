//! Go build info and build IDs embedded in a binary.
//!
//! Go (>= 1.13) embeds a `\xff Go buildinf:` blob (the `.go.buildinfo`
//! section in ELF, `__go_buildinfo` in Mach-O, the start of `.data` in PE).
//! Before Go 1.18 it holds two pointers to Go string headers (version and
//! module info); from 1.18 on (flag bit 2) both strings follow inline,
//! each prefixed by its uvarint length. The module info is wrapped in
//! 16-byte sentinels. Also read here: the Go build ID
//! (`.note.go.buildid`, or `\xff Go build ID: "..."` at the start of the
//! text) and the GNU build-id note / Mach-O UUID.

use serde::{Deserialize, Serialize};

use super::debuglink::DebugLink;
use super::layout::Layout;
use object::{Object, ObjectSection};

/// Start of the build info blob.
pub const BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";

/// Start of the Go build ID in the text of any Go binary.
pub const BUILD_ID_PREFIX: &[u8] = b"\xff Go build ID: \"";

const HEADER_LEN: usize = 32;
const FLAG_BIG_ENDIAN: u8 = 1;
const FLAG_INLINE: u8 = 2;

/// Why a build info blob could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoBuildInfoError {
    #[error("Go build info is truncated")]
    Truncated,
    #[error("Go build info has unsupported pointer size {0}")]
    PointerSize(u8),
    #[error("Go build info points to address {0:#x}, which no section contains")]
    Unmapped(u64),
}

/// A module: the main one, a dependency, or a replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoModule {
    pub path: String,
    pub version: String,
    pub sum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace: Option<Box<GoModule>>,
}

/// A `build` line: `-trimpath=true`, `vcs.revision=...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuildSetting {
    pub key: String,
    pub value: String,
}

/// Decoded Go build info.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoBuildInfo {
    /// `go1.21.3`.
    pub go_version: String,
    /// Package path of the main package.
    pub path: Option<String>,
    pub main: Option<GoModule>,
    pub deps: Vec<GoModule>,
    pub settings: Vec<GoBuildSetting>,
    pub encoding: BuildInfoEncoding,
}

/// How the build info blob holds its strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildInfoEncoding {
    /// Inline, after the header (Go >= 1.18).
    Inline,
    /// Behind pointers into the binary's memory (Go 1.13 - 1.17).
    Pointer,
}

impl GoBuildInfo {
    /// The build info of a parsed file, or why it cannot be read (a check
    /// of it must then say it could not run); `None` when the file has none.
    pub fn locate(layout: &Layout<'_>, data: &[u8]) -> Option<Result<Self, GoBuildInfoError>> {
        let (blob, object) = match layout
            .section(".go.buildinfo")
            .or_else(|| layout.section("__go_buildinfo"))
        {
            Some((object, section, _)) => (
                section,
                layout.objects.iter().position(|o| std::ptr::eq(o, object)),
            ),
            None => {
                let at = find_aligned(data, BUILDINFO_MAGIC, 16)?;
                (data.get(at..)?, (!layout.objects.is_empty()).then_some(0))
            }
        };
        let resolve = |address: u64, len: u64| -> Option<Vec<u8>> {
            let object = &layout.objects.get(object?)?.file;
            object.sections().find_map(|section| {
                section
                    .data_range(address, len)
                    .ok()
                    .flatten()
                    .map(<[u8]>::to_vec)
            })
        };
        Some(decode(blob, &resolve))
    }

    /// Key/value view used for the comparison: `go`, `path`, `mod`,
    /// `dep:<path>`, `build:<key>`.
    pub fn flatten(&self) -> Vec<(String, String)> {
        let mut out = vec![("go".to_string(), self.go_version.clone())];
        if let Some(path) = &self.path {
            out.push(("path".to_string(), path.clone()));
        }
        if let Some(main) = &self.main {
            out.push(("mod".to_string(), module_text(main, true)));
        }
        for dep in &self.deps {
            out.push((format!("dep:{}", dep.path), module_text(dep, false)));
        }
        for setting in &self.settings {
            out.push((format!("build:{}", setting.key), setting.value.clone()));
        }
        out
    }
}

fn module_text(module: &GoModule, with_path: bool) -> String {
    let mut text = if with_path {
        format!("{} {}", module.path, module.version)
    } else {
        module.version.clone()
    };
    if let Some(sum) = &module.sum {
        text.push(' ');
        text.push_str(sum);
    }
    if let Some(replace) = &module.replace {
        text.push_str(" => ");
        text.push_str(&module_text(replace, true));
    }
    text
}

/// Decodes a build info blob starting at the magic. `resolve(address, len)`
/// reads memory of the binary (only needed for the pre-1.18 encoding).
pub fn decode(
    blob: &[u8],
    resolve: &dyn Fn(u64, u64) -> Option<Vec<u8>>,
) -> Result<GoBuildInfo, GoBuildInfoError> {
    let header = blob.get(..HEADER_LEN).ok_or(GoBuildInfoError::Truncated)?;
    if !header.starts_with(BUILDINFO_MAGIC) {
        return Err(GoBuildInfoError::Truncated);
    }
    let (pointer_size, flags) = match header.get(14..16) {
        Some(&[pointer_size, flags]) => (pointer_size, flags),
        _ => return Err(GoBuildInfoError::Truncated),
    };
    let (version, modinfo, encoding) = if flags & FLAG_INLINE != 0 {
        let rest = blob.get(HEADER_LEN..).ok_or(GoBuildInfoError::Truncated)?;
        let (version, rest) = varint_string(rest)?;
        let (modinfo, _) = varint_string(rest)?;
        (
            version.to_vec(),
            modinfo.to_vec(),
            BuildInfoEncoding::Inline,
        )
    } else {
        if pointer_size != 4 && pointer_size != 8 {
            return Err(GoBuildInfoError::PointerSize(pointer_size));
        }
        let big_endian = flags & FLAG_BIG_ENDIAN != 0;
        let width = usize::from(pointer_size);
        let read_ptr = |bytes: &[u8]| -> Result<u64, GoBuildInfoError> {
            let bytes = bytes.get(..width).ok_or(GoBuildInfoError::Truncated)?;
            let mut value = 0u64;
            for i in 0..width {
                let byte = if big_endian {
                    bytes[i]
                } else {
                    bytes[width - 1 - i]
                };
                value = (value << 8) | u64::from(byte);
            }
            Ok(value)
        };
        let read_string = |header_address: u64| -> Result<Vec<u8>, GoBuildInfoError> {
            let string_header = resolve(header_address, 2 * width as u64)
                .ok_or(GoBuildInfoError::Unmapped(header_address))?;
            let data = read_ptr(&string_header)?;
            let len = read_ptr(string_header.get(width..).unwrap_or_default())?;
            if len == 0 {
                return Ok(Vec::new());
            }
            resolve(data, len).ok_or(GoBuildInfoError::Unmapped(data))
        };
        let version_address = read_ptr(header.get(16..).unwrap_or_default())?;
        let modinfo_address = read_ptr(header.get(16 + width..).unwrap_or_default())?;
        (
            read_string(version_address)?,
            read_string(modinfo_address)?,
            BuildInfoEncoding::Pointer,
        )
    };
    let modinfo = strip_sentinels(&modinfo);
    let mut info = parse_modinfo(&String::from_utf8_lossy(modinfo));
    info.go_version = String::from_utf8_lossy(&version).into_owned();
    info.encoding = encoding;
    Ok(info)
}

fn varint_string(data: &[u8]) -> Result<(&[u8], &[u8]), GoBuildInfoError> {
    let mut value = 0u64;
    let mut shift = 0;
    for (index, &byte) in data.iter().take(10).enumerate() {
        let used = index + 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            let len = usize::try_from(value).map_err(|_| GoBuildInfoError::Truncated)?;
            let rest = data.get(used..).ok_or(GoBuildInfoError::Truncated)?;
            return Ok((
                rest.get(..len).ok_or(GoBuildInfoError::Truncated)?,
                rest.get(len..).unwrap_or_default(),
            ));
        }
        shift += 7;
    }
    Err(GoBuildInfoError::Truncated)
}

/// Removes the 16-byte sentinels around the module info (as Go does: only
/// when the byte before the trailing sentinel is a newline).
fn strip_sentinels(modinfo: &[u8]) -> &[u8] {
    let n = modinfo.len();
    if n >= 33 && modinfo.get(n - 17) == Some(&b'\n') {
        modinfo.get(16..n - 16).unwrap_or_default()
    } else {
        &[]
    }
}

/// Parses the text module info (`path`, `mod`, `dep`, `=>`, `build` lines).
pub fn parse_modinfo(text: &str) -> GoBuildInfo {
    let mut info = GoBuildInfo {
        go_version: String::new(),
        path: None,
        main: None,
        deps: Vec::new(),
        settings: Vec::new(),
        encoding: BuildInfoEncoding::Inline,
    };
    let mut last_is_main = false;
    for line in text.lines() {
        let Some((kind, rest)) = line.split_once('\t') else {
            continue;
        };
        match kind {
            "path" => info.path = Some(rest.to_string()),
            "mod" => {
                info.main = Some(module(rest));
                last_is_main = true;
            }
            "dep" => {
                info.deps.push(module(rest));
                last_is_main = false;
            }
            "=>" => {
                let replacement = Some(Box::new(module(rest)));
                let target = if last_is_main {
                    info.main.as_mut()
                } else {
                    info.deps.last_mut()
                };
                if let Some(target) = target {
                    target.replace = replacement;
                }
            }
            "build" => {
                if let Some((key, value)) = build_setting(rest) {
                    info.settings.push(GoBuildSetting { key, value });
                }
            }
            _ => {}
        }
    }
    info
}

fn module(fields: &str) -> GoModule {
    let mut parts = fields.split('\t');
    GoModule {
        path: parts.next().unwrap_or_default().to_string(),
        version: parts.next().unwrap_or_default().to_string(),
        sum: parts.next().filter(|s| !s.is_empty()).map(str::to_string),
        replace: None,
    }
}

/// `key=value`, where key and value may be Go-quoted.
fn build_setting(kv: &str) -> Option<(String, String)> {
    let (key, raw_value) = if kv.starts_with('"') || kv.starts_with('`') {
        let end = quoted_prefix_len(kv)?;
        let key = unquote(kv.get(..end)?)?;
        (key, kv.get(end..)?.strip_prefix('=')?)
    } else {
        let (key, value) = kv.split_once('=')?;
        (key.to_string(), value)
    };
    let value = if raw_value.starts_with('"') || raw_value.starts_with('`') {
        unquote(raw_value)?
    } else {
        raw_value.to_string()
    };
    Some((key, value))
}

/// Length of the quoted string at the start of `s` (including quotes).
fn quoted_prefix_len(s: &str) -> Option<usize> {
    let quote = s.chars().next()?;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        if quote == '"' && escaped {
            escaped = false;
        } else if quote == '"' && c == '\\' {
            escaped = true;
        } else if c == quote {
            return Some(i + 1);
        }
    }
    None
}

/// Go `strconv.Unquote` for `"..."` and `` `...` `` strings.
fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('`') {
        return inner.strip_suffix('`').map(str::to_string);
    }
    let inner = s.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let escaped = chars.next()?;
        let simple = match escaped {
            'n' => Some(b'\n'),
            't' => Some(b'\t'),
            'r' => Some(b'\r'),
            'a' => Some(7),
            'b' => Some(8),
            'f' => Some(12),
            'v' => Some(11),
            '\\' => Some(b'\\'),
            '"' => Some(b'"'),
            '\'' => Some(b'\''),
            _ => None,
        };
        if let Some(byte) = simple {
            out.push(byte);
            continue;
        }
        let take = |chars: &mut std::str::Chars, n: usize, radix: u32| -> Option<u32> {
            let digits: String = chars.by_ref().take(n).collect();
            (digits.len() == n).then_some(())?;
            u32::from_str_radix(&digits, radix).ok()
        };
        match escaped {
            'x' => out.push(u8::try_from(take(&mut chars, 2, 16)?).ok()?),
            'u' | 'U' => {
                let n = if escaped == 'u' { 4 } else { 8 };
                let c = char::from_u32(take(&mut chars, n, 16)?)?;
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            '0'..='7' => {
                let rest = take(&mut chars, 2, 8)?;
                let value = escaped.to_digit(8)? * 64 + rest;
                out.push(u8::try_from(value).ok()?);
            }
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// First offset of `needle` in `data` that is a multiple of `align`.
fn find_aligned(data: &[u8], needle: &[u8], align: usize) -> Option<usize> {
    (0..data.len())
        .step_by(align)
        .find(|&at| data.get(at..).is_some_and(|rest| rest.starts_with(needle)))
}

/// First offset of `needle` in `data`.
pub fn find_bytes(data: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = data.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if data.get(at + 1..)?.starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Build identifiers of one file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildIds {
    /// GNU build-id note, hex.
    pub gnu: Option<String>,
    /// Go build ID (`actionID/contentID`).
    pub go: Option<String>,
    /// Mach-O `LC_UUID`, hex.
    pub macho_uuid: Option<String>,
    /// The separate debug file's name and CRC (`.gnu_debuglink`), which
    /// Debian derives from the GNU build ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gnu_debuglink: Option<DebugLink>,
}

impl BuildIds {
    /// Reads the build IDs of a parsed file (Go's by scanning when the file
    /// has no `.note.go.buildid`).
    pub fn find(layout: &Layout<'_>, data: &[u8]) -> Self {
        let mut ids = BuildIds::default();
        for object in &layout.objects {
            if ids.gnu.is_none() {
                ids.gnu = object.file.build_id().ok().flatten().map(hex::encode);
            }
            if ids.macho_uuid.is_none() {
                ids.macho_uuid = object.file.mach_uuid().ok().flatten().map(hex::encode);
            }
        }
        ids.go = layout
            .section(".note.go.buildid")
            .and_then(|(_, note, _)| go_note_build_id(note))
            .or_else(|| scan_go_build_id(data));
        ids.gnu_debuglink = DebugLink::find(layout);
        ids
    }
}

/// The descriptor of a `Go` ELF note (type 4) holding the build ID.
fn go_note_build_id(note: &[u8]) -> Option<String> {
    let field = |at: usize| -> Option<[u8; 4]> { note.get(at..at + 4)?.try_into().ok() };
    let little = u32::from_le_bytes(field(0)?) == 4;
    let read = |at: usize| {
        field(at).map(|b| {
            if little {
                u32::from_le_bytes(b)
            } else {
                u32::from_be_bytes(b)
            }
        })
    };
    let (name_len, desc_len) = (read(0)? as usize, read(4)? as usize);
    if name_len != 4 || note.get(12..16)? != b"Go\0\0" {
        return None;
    }
    let desc = note.get(16..16 + desc_len)?;
    Some(String::from_utf8_lossy(desc).into_owned())
}

fn scan_go_build_id(data: &[u8]) -> Option<String> {
    let start = find_bytes(data, BUILD_ID_PREFIX)? + BUILD_ID_PREFIX.len();
    let rest = data.get(start..)?;
    let end = rest.iter().take(1024).position(|&b| b == b'"')?;
    Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODINFO: &str = "path\texample.com/hello\n\
        mod\texample.com/hello\t(devel)\t\n\
        dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n\
        =>\t../sys\t(devel)\t\n\
        build\t-ldflags=\"-X main.version=1.2 -s\"\n\
        build\t-trimpath=true\n\
        build\tCGO_ENABLED=0\n\
        build\tvcs.modified=false\n";

    fn wrapped(modinfo: &str) -> Vec<u8> {
        let mut v = vec![0x30u8; 16];
        v.extend_from_slice(modinfo.as_bytes());
        v.extend_from_slice(&[0x31u8; 16]);
        v
    }

    fn uvarint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    fn no_memory(_: u64, _: u64) -> Option<Vec<u8>> {
        None
    }

    #[test]
    fn decodes_inline_varint_build_info() {
        let mut blob = BUILDINFO_MAGIC.to_vec();
        blob.extend_from_slice(&[8, FLAG_INLINE]);
        blob.resize(HEADER_LEN, 0);
        uvarint(8, &mut blob);
        blob.extend_from_slice(b"go1.21.3");
        let modinfo = wrapped(MODINFO);
        uvarint(modinfo.len(), &mut blob);
        blob.extend_from_slice(&modinfo);
        let info = decode(&blob, &no_memory).expect("decodes");
        assert_eq!(info.go_version, "go1.21.3");
        assert_eq!(info.encoding, BuildInfoEncoding::Inline);
        assert_eq!(info.path.as_deref(), Some("example.com/hello"));
        assert_eq!(
            info.main.as_ref().map(|m| m.version.as_str()),
            Some("(devel)")
        );
        assert_eq!(info.deps.len(), 1);
        assert_eq!(info.deps[0].sum.as_deref(), Some("h1:abc="));
        assert_eq!(
            info.deps[0].replace.as_ref().map(|r| r.path.as_str()),
            Some("../sys")
        );
        let settings: Vec<(&str, &str)> = info
            .settings
            .iter()
            .map(|s| (s.key.as_str(), s.value.as_str()))
            .collect();
        assert_eq!(
            settings,
            vec![
                ("-ldflags", "-X main.version=1.2 -s"),
                ("-trimpath", "true"),
                ("CGO_ENABLED", "0"),
                ("vcs.modified", "false"),
            ]
        );
    }

    #[test]
    fn decodes_pointer_based_build_info_of_go_before_1_18() {
        // 32-bit big-endian: header points at two string headers at 0x1000
        // and 0x1008, whose data live at 0x2000 and 0x3000.
        let mut blob = BUILDINFO_MAGIC.to_vec();
        blob.extend_from_slice(&[4, FLAG_BIG_ENDIAN]);
        blob.extend_from_slice(&0x1000u32.to_be_bytes());
        blob.extend_from_slice(&0x1008u32.to_be_bytes());
        blob.resize(HEADER_LEN, 0);
        let modinfo = wrapped("path\tex.com/old\nmod\tex.com/old\tv1.0.0\th1:x=\n");
        let mut memory: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut headers = Vec::new();
        headers.extend_from_slice(&0x2000u32.to_be_bytes());
        headers.extend_from_slice(&8u32.to_be_bytes());
        headers.extend_from_slice(&0x3000u32.to_be_bytes());
        headers.extend_from_slice(&(modinfo.len() as u32).to_be_bytes());
        memory.push((0x1000, headers));
        memory.push((0x2000, b"go1.16.5".to_vec()));
        memory.push((0x3000, modinfo));
        let resolve = move |address: u64, len: u64| {
            memory.iter().find_map(|(base, bytes)| {
                let start = address.checked_sub(*base)? as usize;
                bytes.get(start..start + len as usize).map(<[u8]>::to_vec)
            })
        };
        let info = decode(&blob, &resolve).expect("decodes");
        assert_eq!(info.go_version, "go1.16.5");
        assert_eq!(info.encoding, BuildInfoEncoding::Pointer);
        assert_eq!(
            info.main,
            Some(GoModule {
                path: "ex.com/old".into(),
                version: "v1.0.0".into(),
                sum: Some("h1:x=".into()),
                replace: None
            })
        );
        assert!(info.settings.is_empty());
    }

    #[test]
    fn truncated_blob_is_an_error_not_a_panic() {
        let mut blob = BUILDINFO_MAGIC.to_vec();
        blob.extend_from_slice(&[8, FLAG_INLINE]);
        blob.resize(HEADER_LEN, 0);
        blob.push(0x7f);
        blob.extend_from_slice(b"go1");
        assert_eq!(decode(&blob, &no_memory), Err(GoBuildInfoError::Truncated));
        assert_eq!(
            decode(&blob[..20], &no_memory),
            Err(GoBuildInfoError::Truncated)
        );
    }

    #[test]
    fn modinfo_without_sentinels_is_ignored_like_go_does() {
        assert_eq!(strip_sentinels(b"path\tx\n"), b"");
    }

    #[test]
    fn quoted_keys_and_values_are_unquoted() {
        assert_eq!(
            build_setting(r#""we ird"="a\tb\x41\u00e9""#),
            Some(("we ird".to_string(), "a\tbA\u{e9}".to_string()))
        );
        assert_eq!(
            build_setting("`k`=`v\"`"),
            Some(("k".to_string(), "v\"".to_string()))
        );
    }

    #[test]
    fn go_build_id_is_read_from_the_note_and_from_text() {
        let mut note = Vec::new();
        note.extend_from_slice(&4u32.to_le_bytes());
        note.extend_from_slice(&7u32.to_le_bytes());
        note.extend_from_slice(&4u32.to_le_bytes());
        note.extend_from_slice(b"Go\0\0abc/def\0");
        assert_eq!(go_note_build_id(&note).as_deref(), Some("abc/def"));
        let text = b"\x00\x00\xff Go build ID: \"x1/y2\"\n \xff";
        assert_eq!(scan_go_build_id(text).as_deref(), Some("x1/y2"));
    }
}
