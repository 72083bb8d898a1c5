//! Per-layer path indexes: what one layer adds, replaces and deletes.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Read};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use tar::EntryType;

use super::decode::LayerReader;
use super::error::RootfsError;
use super::path::{clean_entry_path, escape_name, split_parent, strict_ancestors};
use crate::image::digest::Digest;

/// Version of the [`LayerIndex`] layout; stored indexes of another version are ignored.
pub const INDEX_FORMAT: u32 = 2;

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// Prefix of aufs bookkeeping names (`.wh..wh.plnk`), which are no whiteouts.
const AUFS_META_PREFIX: &str = ".wh..wh.";

/// Everything one layer says about paths, keyed by absolute clean path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerIndex {
    /// [`INDEX_FORMAT`] of the code that built it.
    pub format: u32,
    /// The layer's own entries (the last of duplicates wins, as on extraction),
    /// plus the parent directories its entries imply.
    pub entries: BTreeMap<String, IndexEntry>,
    /// Paths this layer deletes from the layers below (`.wh.NAME`).
    pub whiteouts: BTreeSet<String>,
    /// Directories whose contents in the layers below this layer hides (`.wh..wh..opq`).
    pub opaque_dirs: BTreeSet<String>,
    /// Entries skipped because their names climb above the root.
    pub unsafe_entries: u64,
}

/// What a layer holds at one path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IndexEntry {
    /// A regular file whose bytes are the data of tar entry number `entry`
    /// (counting from 0), named `entry_path`; for a hardlink to a file of the
    /// same layer that is the link target's entry.
    File {
        size: u64,
        mode: u32,
        entry: u64,
        entry_path: String,
    },
    Directory {
        mode: u32,
    },
    /// A directory this layer has no entry for but which its entries need.
    ImpliedDirectory,
    Symlink {
        target: String,
    },
    /// A hardlink to a path that this layer does not hold, so to a file of a layer below.
    HardlinkBelow {
        target: String,
    },
    /// A device node, fifo or other entry that holds no file content.
    Special,
}

impl IndexEntry {
    fn is_directory(&self) -> bool {
        matches!(self, Self::Directory { .. } | Self::ImpliedDirectory)
    }
}

impl LayerIndex {
    /// True when this layer hides whatever the layers below hold at `path`:
    /// it whites the path or an ancestor out, makes an ancestor opaque, or
    /// replaces an ancestor with a non-directory.
    pub(crate) fn hides_below(&self, path: &str) -> bool {
        self.whiteouts.contains(path)
            || self.opaque_dirs.contains("/")
            || strict_ancestors(path).any(|ancestor| {
                self.whiteouts.contains(ancestor)
                    || self.opaque_dirs.contains(ancestor)
                    || self
                        .entries
                        .get(ancestor)
                        .is_some_and(|entry| !entry.is_directory())
            })
    }
}

/// Persists per-layer path indexes (keyed by layer digest) so a repeat run
/// reads only the layers it needs.
pub trait IndexStore: Sync {
    fn load(&self, layer: &Digest) -> Option<LayerIndex>;
    fn save(&self, layer: &Digest, index: &LayerIndex);
}

impl<T: IndexStore + ?Sized> IndexStore for &T {
    fn load(&self, layer: &Digest) -> Option<LayerIndex> {
        (**self).load(layer)
    }
    fn save(&self, layer: &Digest, index: &LayerIndex) {
        (**self).save(layer, index)
    }
}

impl<T: IndexStore + ?Sized> IndexStore for Box<T> {
    fn load(&self, layer: &Digest) -> Option<LayerIndex> {
        (**self).load(layer)
    }
    fn save(&self, layer: &Digest, index: &LayerIndex) {
        (**self).save(layer, index)
    }
}

impl<T: IndexStore + Send + ?Sized> IndexStore for std::sync::Arc<T> {
    fn load(&self, layer: &Digest) -> Option<LayerIndex> {
        (**self).load(layer)
    }
    fn save(&self, layer: &Digest, index: &LayerIndex) {
        (**self).save(layer, index)
    }
}

/// Keeps no index: every run reads the layers it consults.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoIndexStore;

impl IndexStore for NoIndexStore {
    fn load(&self, _layer: &Digest) -> Option<LayerIndex> {
        None
    }
    fn save(&self, _layer: &Digest, _index: &LayerIndex) {}
}

/// Keeps indexes in memory for the life of the value.
#[derive(Debug, Default)]
pub struct MemoryIndexStore {
    indexes: Mutex<HashMap<Digest, LayerIndex>>,
}

impl MemoryIndexStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many layer indexes it holds.
    pub fn len(&self) -> usize {
        self.indexes.lock().map_or(0, |indexes| indexes.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl IndexStore for MemoryIndexStore {
    fn load(&self, layer: &Digest) -> Option<LayerIndex> {
        self.indexes.lock().ok()?.get(layer).cloned()
    }
    fn save(&self, layer: &Digest, index: &LayerIndex) {
        if let Ok(mut indexes) = self.indexes.lock() {
            indexes.insert(layer.clone(), index.clone());
        }
    }
}

/// Sees the data of chosen regular files while their layer is indexed, so
/// a caller that will want a file's digest need not read the layer again.
pub trait ContentObserver: Send + Sync {
    /// Whether the regular file at this absolute clean path is of interest.
    fn wants(&self, path: &str) -> bool;
    /// Reads the data of tar entry `entry` of `layer`. The layer's bytes are
    /// verified only when indexing ends: keep what is learnt until
    /// [`ContentObserver::verified`] says so.
    fn observe(&self, layer: &Digest, entry: u64, data: &mut dyn Read) -> io::Result<()>;
    /// The layer was read to its end and verified: what was observed of it holds.
    fn verified(&self, layer: &Digest);
}

/// Reads a whole layer and indexes it, showing `observer` the files it wants.
pub(crate) fn build_index(
    reader: LayerReader,
    layer: &Digest,
    observer: Option<&dyn ContentObserver>,
) -> Result<LayerIndex, RootfsError> {
    let end = reader.end();
    let mut archive = tar::Archive::new(reader);
    let mut index = LayerIndex {
        format: INDEX_FORMAT,
        entries: BTreeMap::new(),
        whiteouts: BTreeSet::new(),
        opaque_dirs: BTreeSet::new(),
        unsafe_entries: 0,
    };
    let entries = archive
        .entries()
        .map_err(|e| RootfsError::reading(layer, e))?;
    let mut last_entry = None;
    for (ordinal, entry) in (0u64..).zip(entries) {
        let mut entry = entry.map_err(|e| RootfsError::reading(layer, e))?;
        add_entry(&mut index, &entry, ordinal, layer);
        if let Some(observer) = observer {
            let regular = matches!(
                entry.header().entry_type(),
                EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse
            );
            let wanted = regular
                && clean_entry_path(&entry.path_bytes()).is_some_and(|path| observer.wants(&path));
            if wanted {
                observer
                    .observe(layer, ordinal, &mut entry)
                    .map_err(|e| RootfsError::reading(layer, e))?;
            }
        }
        last_entry = Some((
            entry.raw_file_position() + entry.size(),
            escape_name(&entry.path_bytes()).into_owned(),
        ));
    }
    // Whatever follows the end-of-archive marker is read too, so the blob's
    // verification runs to its end.
    archive
        .into_inner()
        .finish()
        .map_err(|e| RootfsError::reading(layer, e))?;
    if let Some((content_end, name)) = last_entry {
        end.check(layer, content_end, &name)?;
    }
    if let Some(observer) = observer {
        observer.verified(layer);
    }
    add_implied_directories(&mut index);
    if index.unsafe_entries > 0 {
        tracing::warn!(
            layer = %layer,
            count = index.unsafe_entries,
            "ignored layer entries whose names climb above the root"
        );
    }
    Ok(index)
}

fn add_entry<R: Read>(
    index: &mut LayerIndex,
    entry: &tar::Entry<'_, R>,
    ordinal: u64,
    layer: &Digest,
) {
    let header = entry.header();
    let entry_type = header.entry_type();
    if matches!(
        entry_type,
        EntryType::XGlobalHeader
            | EntryType::XHeader
            | EntryType::GNULongName
            | EntryType::GNULongLink
    ) {
        return;
    }
    let Some(path) = clean_entry_path(&entry.path_bytes()) else {
        tracing::debug!(layer = %layer, name = %escape_name(&entry.path_bytes()), "entry climbs above the root");
        index.unsafe_entries += 1;
        return;
    };
    let Some((parent, name)) = split_parent(&path) else {
        return; // the root directory itself
    };
    if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
        if name == OPAQUE_MARKER {
            index.opaque_dirs.insert(parent.to_string());
        } else if !name.starts_with(AUFS_META_PREFIX) && !hidden.is_empty() {
            let hidden_path = if parent == "/" {
                format!("/{hidden}")
            } else {
                format!("{parent}/{hidden}")
            };
            index.whiteouts.insert(hidden_path);
        }
        return;
    }
    let mode = header.mode().unwrap_or(0o644) & 0o7777;
    let indexed = match entry_type {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => IndexEntry::File {
            size: entry.size(),
            mode,
            entry: ordinal,
            entry_path: path.clone(),
        },
        EntryType::Directory => IndexEntry::Directory { mode },
        EntryType::Symlink => IndexEntry::Symlink {
            target: entry
                .link_name_bytes()
                .map(|target| escape_name(&target).into_owned())
                .unwrap_or_default(),
        },
        EntryType::Link => {
            let target = entry
                .link_name_bytes()
                .and_then(|target| clean_entry_path(&target));
            match target {
                None => {
                    index.unsafe_entries += 1;
                    return;
                }
                Some(target) => match index.entries.get(&target) {
                    Some(file @ IndexEntry::File { .. }) => file.clone(),
                    Some(
                        link @ (IndexEntry::Symlink { .. } | IndexEntry::HardlinkBelow { .. }),
                    ) => link.clone(),
                    Some(_) => IndexEntry::Special,
                    None => IndexEntry::HardlinkBelow { target },
                },
            }
        }
        _ => IndexEntry::Special,
    };
    index.entries.insert(path, indexed);
}

/// Records the parent directories that entries, whiteouts and opaque markers
/// need but the layer has no entry for.
fn add_implied_directories(index: &mut LayerIndex) {
    let mut implied = BTreeSet::new();
    let paths = index
        .entries
        .keys()
        .chain(index.whiteouts.iter())
        .map(String::as_str);
    for path in paths {
        for ancestor in strict_ancestors(path) {
            if !index.entries.contains_key(ancestor) {
                implied.insert(ancestor.to_string());
            }
        }
    }
    for dir in &index.opaque_dirs {
        for ancestor in strict_ancestors(dir).chain(std::iter::once(dir.as_str())) {
            if ancestor != "/" && !index.entries.contains_key(ancestor) {
                implied.insert(ancestor.to_string());
            }
        }
    }
    for path in implied {
        index.entries.insert(path, IndexEntry::ImpliedDirectory);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::decode::LayerReader;

    fn tar(entries: &[(&str, tar::EntryType, &str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, entry_type, link, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*entry_type);
            header.set_size(data.len() as u64);
            header.set_mode(0o755);
            header.set_path(name).unwrap();
            if !link.is_empty() {
                header.set_link_name(link).unwrap();
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn index_of(blob: Vec<u8>) -> LayerIndex {
        let reader = LayerReader::new(Box::new(std::io::Cursor::new(blob))).unwrap();
        build_index(reader, &Digest::of(b"layer"), None).unwrap()
    }

    #[test]
    fn index_records_entries_whiteouts_opaque_dirs_and_implied_parents() {
        use tar::EntryType::{Directory, Link, Regular, Symlink};
        let index = index_of(tar(&[
            ("usr/", Directory, "", b""),
            ("usr/bin/app", Regular, "", b"app"),
            ("usr/bin/alias", Link, "usr/bin/app", b""),
            ("usr/bin/old", Link, "usr/bin/gone-below", b""),
            ("usr/bin/sh", Symlink, "dash", b""),
            ("etc/.wh.passwd", Regular, "", b""),
            ("var/lib/.wh..wh..opq", Regular, "", b""),
            (".wh..wh.plnk", Regular, "", b""),
        ]));
        let app = IndexEntry::File {
            size: 3,
            mode: 0o755,
            entry: 1,
            entry_path: "/usr/bin/app".to_string(),
        };
        let expected: BTreeMap<String, IndexEntry> = [
            ("/etc", IndexEntry::ImpliedDirectory),
            ("/usr", IndexEntry::Directory { mode: 0o755 }),
            ("/usr/bin", IndexEntry::ImpliedDirectory),
            ("/usr/bin/alias", app.clone()),
            ("/usr/bin/app", app),
            (
                "/usr/bin/old",
                IndexEntry::HardlinkBelow {
                    target: "/usr/bin/gone-below".to_string(),
                },
            ),
            (
                "/usr/bin/sh",
                IndexEntry::Symlink {
                    target: "dash".to_string(),
                },
            ),
            ("/var", IndexEntry::ImpliedDirectory),
            ("/var/lib", IndexEntry::ImpliedDirectory),
        ]
        .into_iter()
        .map(|(path, entry)| (path.to_string(), entry))
        .collect();
        assert_eq!(index.entries, expected);
        assert_eq!(index.whiteouts, BTreeSet::from(["/etc/passwd".to_string()]));
        assert_eq!(index.opaque_dirs, BTreeSet::from(["/var/lib".to_string()]));
        assert!(index.hides_below("/etc/passwd"));
        assert!(index.hides_below("/var/lib/dpkg/status"));
        assert!(!index.hides_below("/var/lib"));
        assert!(!index.hides_below("/usr/bin/other"));
    }

    #[test]
    fn index_survives_a_json_round_trip() {
        let index = index_of(tar(&[("usr/bin/app", tar::EntryType::Regular, "", b"app")]));
        let json = serde_json::to_string(&index).unwrap();
        assert_eq!(serde_json::from_str::<LayerIndex>(&json).unwrap(), index);
    }

    #[test]
    fn memory_store_returns_what_was_saved() {
        let store = MemoryIndexStore::new();
        let index = index_of(tar(&[("app", tar::EntryType::Regular, "", b"x")]));
        let digest = Digest::of(b"layer");
        assert!(store.load(&digest).is_none());
        store.save(&digest, &index);
        assert_eq!(store.load(&digest), Some(index));
        assert_eq!(NoIndexStore.load(&digest), None);
    }
}
