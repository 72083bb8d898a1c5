//! The merged view: path look-ups across layers, newest first, and file content streaming.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::decode::{check_media_type, LayerReader};
use super::error::RootfsError;
use super::index::{
    build_index, ContentObserver, IndexEntry, IndexStore, LayerIndex, NoIndexStore, INDEX_FORMAT,
};
use super::layer::{LayerInfo, LayerSource};
use super::path::{clean_entry_path, join_components, MAX_SYMLINKS};
use crate::image::digest::Digest;

/// A file found in the merged view: the path asked for, the path after
/// symlinks, and the layer entry that holds its bytes (for the program an
/// image runs, what `locate` answers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    /// The path as given or as found on PATH, before symlinks.
    pub requested: String,
    /// The path after every symlink is resolved.
    pub path: String,
    /// The layer that supplied the file content.
    pub layer: Digest,
    /// Index of that layer in the image, 0 = bottom.
    pub layer_index: usize,
    pub size: u64,
    pub mode: u32,
    /// Number of the tar entry holding the bytes within the layer, from 0.
    pub entry: u64,
    /// Name of that tar entry (the link target when the file is a hardlink).
    pub entry_path: String,
}

impl Located {
    /// The file `requested` resolved to, at `path`, with its content.
    pub fn new(requested: String, path: String, content: FileContent) -> Located {
        Located {
            requested,
            path,
            layer: content.layer,
            layer_index: content.layer_index,
            size: content.size,
            mode: content.mode,
            entry: content.entry,
            entry_path: content.entry_path,
        }
    }
}

/// Mode reported for a directory no layer has an entry for.
const IMPLIED_DIRECTORY_MODE: u32 = 0o755;

/// Where a regular file's bytes live: one entry of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileContent {
    /// Index of the layer in the image, 0 = bottom.
    pub layer_index: usize,
    pub layer: Digest,
    /// Number of the tar entry within the layer, counting from 0.
    pub entry: u64,
    /// Name of that tar entry (the link target, for a hardlink).
    pub entry_path: String,
    pub size: u64,
    pub mode: u32,
}

/// What the merged tree holds at a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    File(FileContent),
    Directory {
        mode: u32,
    },
    Symlink {
        target: String,
    },
    /// Device node, fifo, or a hardlink whose target is missing.
    Special,
}

/// One path of the merged tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Absolute clean path (after symlinks, when resolved).
    pub path: String,
    pub kind: NodeKind,
}

/// A merged root filesystem that resolves paths as a process inside the image would.
pub trait MergedView {
    /// Resolves an absolute path, following every symlink inside the image
    /// (absolute targets start at the image root, `..` stops at it).
    fn resolve(&self, path: &str) -> Result<Node, RootfsError>;
}

/// Indexes a layer opened with [`LayerSource::open_to_end`]. If its
/// content looks corrupt, the rest of the blob is read anyway: a blob that
/// is verified only at its end (one still downloading) may turn out not to
/// be the layer the manifest names, and then that verification failure,
/// not the content it happened to hold, is the error.
fn index_to_end(
    blob: Box<dyn Read + Send>,
    layer: &Digest,
    observer: Option<&dyn ContentObserver>,
) -> Result<LayerIndex, RootfsError> {
    let blob = SharedBlob(Arc::new(Mutex::new(blob)));
    let result = LayerReader::new(Box::new(blob.clone()))
        .map_err(|e| RootfsError::reading(layer, e))
        .and_then(|reader| build_index(reader, layer, observer));
    if !matches!(result, Err(RootfsError::CorruptLayer { .. })) {
        return result;
    }
    match io::copy(&mut blob.clone(), &mut io::sink()) {
        Err(e) => match RootfsError::reading(layer, e) {
            source @ RootfsError::Source(_) => Err(source),
            // A read error that is not the source's: the first error stands.
            _ => result,
        },
        Ok(_) => result,
    }
}

/// A layer blob shared by its decoder and, if decoding fails, the read of
/// its remaining bytes.
#[derive(Clone)]
struct SharedBlob(Arc<Mutex<Box<dyn Read + Send>>>);

impl Read for SharedBlob {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other(RootfsError::Poisoned("layer blob")))?
            .read(buf)
    }
}

/// The merged root filesystem of one image, read lazily from its layers.
pub struct Rootfs<S, I = NoIndexStore> {
    source: S,
    store: I,
    indexes: Mutex<Vec<Option<Arc<LayerIndex>>>>,
    observer: Option<Box<dyn ContentObserver>>,
}

impl<S: LayerSource, I: IndexStore> Rootfs<S, I> {
    /// A view of `source`'s layers; fails for a layer media type no runtime unpacks.
    pub fn new(source: S, store: I) -> Result<Self, RootfsError> {
        for layer in source.layers() {
            check_media_type(layer)?;
        }
        let count = source.layers().len();
        Ok(Self {
            source,
            store,
            indexes: Mutex::new(vec![None; count]),
            observer: None,
        })
    }

    /// Shows `observer` the files it wants in every layer this view indexes.
    pub fn with_observer(mut self, observer: impl ContentObserver + 'static) -> Self {
        self.observer = Some(Box::new(observer));
        self
    }

    pub fn layers(&self) -> &[LayerInfo] {
        self.source.layers()
    }

    pub fn source(&self) -> &S {
        &self.source
    }

    /// The index of layer `index` (0 = bottom), from memory, the store, or
    /// by reading the layer once.
    pub fn layer_index(&self, index: usize) -> Result<Arc<LayerIndex>, RootfsError> {
        if let Some(Some(known)) = self.lock_indexes()?.get(index) {
            return Ok(Arc::clone(known));
        }
        let info = self.layer_info(index)?;
        let layer_index = match self
            .store
            .load(&info.digest)
            .filter(|stored| stored.format == INDEX_FORMAT)
        {
            Some(stored) => stored,
            None => {
                tracing::debug!(layer = %info.digest, index, "indexing layer");
                let blob = self.source.open_to_end(index)?;
                let built = index_to_end(blob, &info.digest, self.observer.as_deref())?;
                self.store.save(&info.digest, &built);
                built
            }
        };
        let layer_index = Arc::new(layer_index);
        if let Some(slot) = self.lock_indexes()?.get_mut(index) {
            *slot = Some(Arc::clone(&layer_index));
        }
        Ok(layer_index)
    }

    /// What the merged tree holds at the absolute clean `path`, following no symlink.
    pub fn lookup(&self, path: &str) -> Result<Option<Node>, RootfsError> {
        if path == "/" {
            return Ok(Some(Node {
                path: path.to_string(),
                kind: NodeKind::Directory {
                    mode: IMPLIED_DIRECTORY_MODE,
                },
            }));
        }
        match self.layers().len().checked_sub(1) {
            Some(top) => self.lookup_from(path, top),
            None => Ok(None),
        }
    }

    /// Resolves `path` inside the image; `follow_final` says whether a
    /// symlink in the last component is followed too.
    pub fn resolve_path(&self, path: &str, follow_final: bool) -> Result<Node, RootfsError> {
        let mut pending: VecDeque<String> = split(path).collect();
        let mut resolved: Vec<String> = Vec::new();
        let mut directory_mode = IMPLIED_DIRECTORY_MODE;
        let mut links = 0usize;
        while let Some(component) = pending.pop_front() {
            if component == ".." {
                resolved.pop();
                continue;
            }
            let candidate = join_components(resolved.iter().chain(std::iter::once(&component)));
            let is_final = pending.is_empty();
            let Some(node) = self.lookup(&candidate)? else {
                return Err(RootfsError::NotFound {
                    path: path.to_string(),
                    missing: candidate,
                });
            };
            match node.kind {
                NodeKind::Directory { mode } => {
                    directory_mode = mode;
                    resolved.push(component);
                }
                NodeKind::Symlink { target } if !is_final || follow_final => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(RootfsError::SymlinkLoop {
                            path: path.to_string(),
                        });
                    }
                    if target.is_empty() {
                        return Err(RootfsError::NotFound {
                            path: path.to_string(),
                            missing: candidate,
                        });
                    }
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    for component in split(&target).collect::<Vec<_>>().into_iter().rev() {
                        pending.push_front(component);
                    }
                }
                _ if !is_final => {
                    return Err(RootfsError::NotADirectory {
                        path: path.to_string(),
                        component: candidate,
                    });
                }
                kind => {
                    return Ok(Node {
                        path: candidate,
                        kind,
                    })
                }
            }
        }
        Ok(Node {
            path: join_components(&resolved),
            kind: NodeKind::Directory {
                mode: directory_mode,
            },
        })
    }

    /// Streams the located file's bytes to `out`, reading its layer only up
    /// to its entry; returns the number of bytes written.
    pub fn copy_file(&self, located: &Located, out: &mut dyn Write) -> Result<u64, RootfsError> {
        self.stream_entry(located, out, u64::MAX)
    }

    /// The first `limit` bytes of the located file (fewer if it is shorter),
    /// enough to recognise ELF, PE, Mach-O or a script.
    pub fn read_head(&self, located: &Located, limit: usize) -> Result<Vec<u8>, RootfsError> {
        let mut head = Vec::with_capacity(limit.min(1 << 20));
        self.stream_entry(located, &mut head, limit as u64)?;
        Ok(head)
    }

    fn stream_entry(
        &self,
        located: &Located,
        out: &mut dyn Write,
        limit: u64,
    ) -> Result<u64, RootfsError> {
        let info = self.layer_info(located.layer_index)?;
        if info.digest != located.layer {
            return Err(RootfsError::LayerMismatch {
                index: located.layer_index,
                expected: located.layer.clone(),
                actual: info.digest.clone(),
            });
        }
        let layer = &info.digest;
        let reader = self.open_layer(located.layer_index)?;
        let end = reader.end();
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| RootfsError::reading(layer, e))?;
        for (ordinal, entry) in (0u64..).zip(entries) {
            let entry = entry.map_err(|e| RootfsError::reading(layer, e))?;
            if ordinal < located.entry {
                continue;
            }
            let name = clean_entry_path(&entry.path_bytes());
            let entry_type = entry.header().entry_type();
            let is_file = matches!(
                entry_type,
                tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse
            );
            if name.as_deref() != Some(located.entry_path.as_str()) || !is_file {
                return Err(RootfsError::corrupt(
                    layer,
                    format!(
                        "entry {} is no longer the file {} (the layer changed since it was indexed)",
                        located.entry, located.entry_path
                    ),
                ));
            }
            let size = entry.size();
            let content_end = entry.raw_file_position() + size;
            let copied = copy_bounded(entry.take(limit), out, layer, &located.path)?;
            if copied < size.min(limit) {
                return Err(RootfsError::truncated(
                    layer,
                    &located.entry_path,
                    size.min(limit) - copied,
                ));
            }
            end.check(layer, content_end, &located.entry_path)?;
            return Ok(copied);
        }
        Err(RootfsError::corrupt(
            layer,
            format!(
                "entry {} ({}) is missing",
                located.entry, located.entry_path
            ),
        ))
    }

    /// Reads several located files whole, each layer once and only up to
    /// the last of them it holds, for callers that need many small files
    /// (a package database's lists); `visit` gets each file's position in
    /// `files` and its bytes. The caller bounds the sizes: every file is
    /// held in memory while it is visited.
    pub fn read_files(
        &self,
        files: &[Located],
        mut visit: impl FnMut(usize, &[u8]),
    ) -> Result<(), RootfsError> {
        let mut by_layer: BTreeMap<usize, Vec<(u64, usize)>> = BTreeMap::new();
        for (position, file) in files.iter().enumerate() {
            by_layer
                .entry(file.layer_index)
                .or_default()
                .push((file.entry, position));
        }
        for (layer_index, mut wanted) in by_layer {
            wanted.sort_unstable();
            let info = self.layer_info(layer_index)?;
            let layer = &info.digest;
            for &(_, position) in &wanted {
                if let Some(file) = files.get(position).filter(|f| f.layer != *layer) {
                    return Err(RootfsError::LayerMismatch {
                        index: layer_index,
                        expected: file.layer.clone(),
                        actual: layer.clone(),
                    });
                }
            }
            let reader = self.open_layer(layer_index)?;
            let end = reader.end();
            let mut archive = tar::Archive::new(reader);
            let entries = archive
                .entries()
                .map_err(|e| RootfsError::reading(layer, e))?;
            let mut pending = wanted.iter().filter_map(|&(entry, position)| {
                files.get(position).map(|file| (entry, position, file))
            });
            let mut next = pending.next();
            for (ordinal, entry) in (0u64..).zip(entries) {
                let Some((wanted_entry, _, file)) = next else {
                    break;
                };
                let entry = entry.map_err(|e| RootfsError::reading(layer, e))?;
                if ordinal < wanted_entry {
                    continue;
                }
                let name = clean_entry_path(&entry.path_bytes());
                let is_file = matches!(
                    entry.header().entry_type(),
                    tar::EntryType::Regular
                        | tar::EntryType::Continuous
                        | tar::EntryType::GNUSparse
                );
                if ordinal > wanted_entry
                    || name.as_deref() != Some(file.entry_path.as_str())
                    || !is_file
                {
                    return Err(RootfsError::corrupt(
                        layer,
                        format!(
                            "entry {} is no longer the file {} (the layer changed since it was indexed)",
                            file.entry, file.entry_path
                        ),
                    ));
                }
                let content_end = entry.raw_file_position() + entry.size();
                let mut bytes = Vec::new();
                copy_bounded(entry.take(file.size), &mut bytes, layer, &file.path)?;
                if (bytes.len() as u64) < file.size {
                    return Err(RootfsError::truncated(
                        layer,
                        &file.entry_path,
                        file.size - bytes.len() as u64,
                    ));
                }
                end.check(layer, content_end, &file.entry_path)?;
                // One entry may be wanted more than once (hardlinks to it).
                while let Some((_, position, _)) = next.filter(|n| n.0 == ordinal) {
                    visit(position, &bytes);
                    next = pending.next();
                }
            }
            if let Some((_, _, file)) = next {
                return Err(RootfsError::corrupt(
                    layer,
                    format!("entry {} ({}) is missing", file.entry, file.entry_path),
                ));
            }
        }
        Ok(())
    }

    /// Indexes every layer from `top` down that is not indexed yet, several
    /// at a time, biggest first: a look-up that falls through the top layer
    /// usually has to reach the bottom (the default PATH starts with
    /// `/usr/local/sbin`, which hardly any image has), so reading the rest of
    /// the stack in parallel is what makes a cold answer fast.
    fn index_down_from(&self, top: usize) -> Result<(), RootfsError> {
        let mut missing: Vec<usize> = {
            let known = self.lock_indexes()?;
            (0..=top)
                .filter(|&i| known.get(i).is_some_and(Option::is_none))
                .collect()
        };
        missing.sort_by_key(|&i| std::cmp::Reverse(self.layers().get(i).map_or(0, |l| l.size)));
        let workers = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(missing.len());
        if workers <= 1 {
            return missing
                .iter()
                .try_for_each(|&i| self.layer_index(i).map(drop));
        }
        let next = AtomicUsize::new(0);
        let work = || -> Result<(), RootfsError> {
            while let Some(&i) = missing.get(next.fetch_add(1, Ordering::Relaxed)) {
                if let Err(e) = self.layer_index(i) {
                    next.store(missing.len(), Ordering::Relaxed);
                    return Err(e);
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
            handles.into_iter().try_for_each(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
        })
    }

    fn lookup_from(&self, path: &str, top: usize) -> Result<Option<Node>, RootfsError> {
        let mut implied_directory = false;
        let image_top = self.layers().len().saturating_sub(1);
        for layer_index in (0..=top).rev() {
            if layer_index < image_top && !self.is_indexed(layer_index)? {
                self.index_down_from(layer_index)?;
            }
            let index = self.layer_index(layer_index)?;
            match index.entries.get(path) {
                Some(IndexEntry::ImpliedDirectory) => implied_directory = true,
                Some(entry) => return self.node(path, layer_index, entry).map(Some),
                None => {}
            }
            if index.hides_below(path) {
                break;
            }
        }
        Ok(implied_directory.then(|| Node {
            path: path.to_string(),
            kind: NodeKind::Directory {
                mode: IMPLIED_DIRECTORY_MODE,
            },
        }))
    }

    fn node(
        &self,
        path: &str,
        layer_index: usize,
        entry: &IndexEntry,
    ) -> Result<Node, RootfsError> {
        let kind = match entry {
            IndexEntry::File {
                size,
                mode,
                entry,
                entry_path,
            } => NodeKind::File(FileContent {
                layer_index,
                layer: self.layer_info(layer_index)?.digest.clone(),
                entry: *entry,
                entry_path: entry_path.clone(),
                size: *size,
                mode: *mode,
            }),
            IndexEntry::Directory { mode } => NodeKind::Directory { mode: *mode },
            IndexEntry::ImpliedDirectory => NodeKind::Directory {
                mode: IMPLIED_DIRECTORY_MODE,
            },
            IndexEntry::Symlink { target } => NodeKind::Symlink {
                target: target.clone(),
            },
            IndexEntry::Special => NodeKind::Special,
            IndexEntry::HardlinkBelow { target } => {
                let below = match layer_index.checked_sub(1) {
                    Some(below) => self.lookup_from(target, below)?,
                    None => None,
                };
                match below.map(|node| node.kind) {
                    Some(kind @ (NodeKind::File(_) | NodeKind::Symlink { .. })) => kind,
                    _ => NodeKind::Special,
                }
            }
        };
        Ok(Node {
            path: path.to_string(),
            kind,
        })
    }

    fn layer_info(&self, index: usize) -> Result<&LayerInfo, RootfsError> {
        self.layers().get(index).ok_or(RootfsError::NoSuchLayer {
            index,
            count: self.layers().len(),
        })
    }

    fn open_layer(&self, index: usize) -> Result<LayerReader, RootfsError> {
        let info = self.layer_info(index)?;
        let blob = self.source.open(index)?;
        LayerReader::new(blob).map_err(|e| RootfsError::reading(&info.digest, e))
    }

    fn is_indexed(&self, index: usize) -> Result<bool, RootfsError> {
        Ok(self.lock_indexes()?.get(index).is_some_and(Option::is_some))
    }

    fn lock_indexes(
        &self,
    ) -> Result<std::sync::MutexGuard<'_, Vec<Option<Arc<LayerIndex>>>>, RootfsError> {
        self.indexes
            .lock()
            .map_err(|_| RootfsError::Poisoned("layer indexes"))
    }
}

impl<S: LayerSource, I: IndexStore> MergedView for Rootfs<S, I> {
    fn resolve(&self, path: &str) -> Result<Node, RootfsError> {
        self.resolve_path(path, true)
    }
}

/// The meaningful components of a path (no empty or `.` ones; `..` kept).
fn split(path: &str) -> impl Iterator<Item = String> + '_ {
    path.split('/')
        .filter(|component| !component.is_empty() && *component != ".")
        .map(str::to_string)
}

/// Copies with a fixed buffer, telling layer read errors from output write errors.
fn copy_bounded(
    mut from: impl Read,
    out: &mut dyn Write,
    layer: &Digest,
    path: &str,
) -> Result<u64, RootfsError> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut copied = 0u64;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RootfsError::reading(layer, e)),
        };
        out.write_all(buffer.get(..n).unwrap_or_default())
            .map_err(|source| RootfsError::Output {
                path: path.to_string(),
                source,
            })?;
        copied += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rootfs::error::SourceFailure;

    /// Bytes, then, at their end, the failure of a source that verifies
    /// a blob only once it has been read through.
    struct FailsAtEnd(io::Cursor<Vec<u8>>);

    impl Read for FailsAtEnd {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.read(buf)? {
                0 if !buf.is_empty() => Err(io::Error::other(SourceFailure(
                    "the blob failed verification".into(),
                ))),
                n => Ok(n),
            }
        }
    }

    fn garbage() -> Vec<u8> {
        vec![0xe0; 64 * 1024]
    }

    #[test]
    fn corrupt_looking_layer_that_fails_verification_reports_the_verification() {
        let blob = Box::new(FailsAtEnd(io::Cursor::new(garbage())));
        let err = index_to_end(blob, &Digest::of(b"layer"), None).unwrap_err();
        assert!(matches!(err, RootfsError::Source(_)), "{err:?}");
        assert_eq!(err.to_string(), "the blob failed verification");
    }

    #[test]
    fn corrupt_layer_that_verifies_is_reported_corrupt() {
        let layer = Digest::of(b"layer");
        let blob = Box::new(io::Cursor::new(garbage()));
        let err = index_to_end(blob, &layer, None).unwrap_err();
        assert!(
            matches!(&err, RootfsError::CorruptLayer { layer: l, .. } if *l == layer),
            "{err:?}"
        );
    }
}
