//! Unpacking the merged tree into a directory (the read-only root of a build sandbox).
//!
//! Layers are applied bottom to top the way a runtime applies them: an entry
//! replaces whatever was at its path, `.wh.NAME` deletes NAME from the layers
//! below and `.wh..wh..opq` empties its directory of everything the layers
//! below put there. Every path is resolved inside the destination as if it
//! were `/` (symlinked parents are followed but can never lead out of it), so
//! hostile names (`../x`, absolute names, symlink tricks) cannot write outside.
//! Device nodes and fifos are skipped; owners, timestamps and extended
//! attributes are not restored, and setuid/setgid bits are dropped.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::ffi::OsStr;
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tar::EntryType;

use super::decode::{check_media_type, LayerReader};
use super::error::RootfsError;
use super::layer::LayerSource;
use super::path::{clean_components, escape_name, MAX_SYMLINKS};
use crate::image::digest::Digest;

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
const AUFS_META_PREFIX: &[u8] = b".wh..wh.";

/// What an unpack created and skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnpackStats {
    pub layers: usize,
    pub files: u64,
    pub directories: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// Bytes of file content written.
    pub bytes: u64,
    /// `.wh.NAME` entries applied.
    pub whiteouts: u64,
    /// `.wh..wh..opq` entries applied.
    pub opaque_dirs: u64,
    /// Device nodes, fifos and unknown entry types.
    pub skipped_special: u64,
    /// Entries (or hardlink targets) whose names climb above the root.
    pub skipped_unsafe: u64,
    /// Hardlinks whose target does not exist.
    pub skipped_broken_hardlinks: u64,
}

/// Unpacks the merged filesystem of `source`'s layers into `dest`, which
/// must be an existing empty directory.
pub fn unpack<S: LayerSource + ?Sized>(
    source: &S,
    dest: &Path,
) -> Result<UnpackStats, RootfsError> {
    let mut listing = fs::read_dir(dest).map_err(|source| RootfsError::Io {
        action: "read the unpack destination",
        path: dest.to_path_buf(),
        source,
    })?;
    if listing.next().is_some() {
        return Err(RootfsError::DestinationNotEmpty(dest.to_path_buf()));
    }
    for layer in source.layers() {
        check_media_type(layer)?;
    }
    let mut unpacker = Unpacker {
        root: dest.to_path_buf(),
        stats: UnpackStats::default(),
        directory_modes: BTreeMap::new(),
    };
    for (index, layer) in source.layers().iter().enumerate() {
        let blob = source.open(index)?;
        let reader = LayerReader::new(blob).map_err(|e| RootfsError::corrupt(&layer.digest, e))?;
        unpacker.apply_layer(reader, &layer.digest)?;
        unpacker.stats.layers += 1;
    }
    unpacker.apply_directory_modes()?;
    Ok(unpacker.stats)
}

struct Unpacker {
    root: PathBuf,
    stats: UnpackStats,
    /// Final modes of directories, applied last so that read-only
    /// directories can still be filled.
    directory_modes: BTreeMap<PathBuf, u32>,
}

/// Paths that the layer being applied created, with their ancestors.
type Touched = HashSet<PathBuf>;

impl Unpacker {
    fn apply_layer(&mut self, reader: LayerReader, layer: &Digest) -> Result<(), RootfsError> {
        let mut touched = Touched::new();
        let end = reader.end();
        let mut archive = tar::Archive::new(reader);
        let entries = archive
            .entries()
            .map_err(|e| RootfsError::corrupt(layer, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| RootfsError::corrupt(layer, e))?;
            let content_end = entry.raw_file_position() + entry.size();
            let name = escape_name(&entry.path_bytes()).into_owned();
            self.apply_entry(entry, layer, &mut touched)?;
            end.check(layer, content_end, &name)?;
        }
        archive
            .into_inner()
            .finish()
            .map_err(|e| RootfsError::corrupt(layer, e))
    }

    fn apply_entry<R: Read>(
        &mut self,
        mut entry: tar::Entry<'_, R>,
        layer: &Digest,
        touched: &mut Touched,
    ) -> Result<(), RootfsError> {
        let entry_type = entry.header().entry_type();
        if matches!(
            entry_type,
            EntryType::XGlobalHeader
                | EntryType::XHeader
                | EntryType::GNULongName
                | EntryType::GNULongLink
        ) {
            return Ok(());
        }
        let name = entry.path_bytes().into_owned();
        let Some(components) = clean_components(&name) else {
            tracing::warn!(layer = %layer, name = %escape_name(&name), "skipped an entry that climbs above the root");
            self.stats.skipped_unsafe += 1;
            return Ok(());
        };
        let Some((&last, parents)) = components.split_last() else {
            return Ok(()); // the root directory itself
        };
        if last == OPAQUE_MARKER {
            let dir = self
                .resolve_dir(parents, true)?
                .unwrap_or_else(|| self.root.clone());
            self.remove_untouched(&dir, touched)?;
            touch(&self.root, &dir, touched);
            self.stats.opaque_dirs += 1;
            return Ok(());
        }
        if let Some(hidden) = last.strip_prefix(WHITEOUT_PREFIX) {
            if !last.starts_with(AUFS_META_PREFIX) && !hidden.is_empty() {
                if let Some(dir) = self.resolve_dir(parents, false)? {
                    let victim = dir.join(OsStr::from_bytes(hidden));
                    if !touched.contains(&victim) {
                        remove_existing(&victim)?;
                    }
                }
                self.stats.whiteouts += 1;
            }
            return Ok(());
        }
        let mode = entry.header().mode().unwrap_or(0o644);
        match entry_type {
            EntryType::Directory => {
                let path = self.entry_path(parents, last)?;
                ensure_directory(&path)?;
                self.directory_modes.insert(path.clone(), mode & 0o1777);
                touch(&self.root, &path, touched);
                self.stats.directories += 1;
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let path = self.entry_path(parents, last)?;
                remove_existing(&path)?;
                let written = write_file(&mut entry, &path, mode & 0o777, layer)?;
                touch(&self.root, &path, touched);
                self.stats.files += 1;
                self.stats.bytes += written;
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let path = self.entry_path(parents, last)?;
                remove_existing(&path)?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&target), &path).map_err(
                    |source| RootfsError::Io {
                        action: "create the symlink",
                        path: path.clone(),
                        source,
                    },
                )?;
                touch(&self.root, &path, touched);
                self.stats.symlinks += 1;
            }
            EntryType::Link => {
                let target_name = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let Some(target_components) = clean_components(&target_name) else {
                    self.stats.skipped_unsafe += 1;
                    return Ok(());
                };
                let Some(target) = self.existing_link_target(&target_components)? else {
                    tracing::warn!(layer = %layer, name = %escape_name(&name), target = %escape_name(&target_name), "skipped a hardlink whose target is missing");
                    self.stats.skipped_broken_hardlinks += 1;
                    return Ok(());
                };
                let path = self.entry_path(parents, last)?;
                if path != target {
                    remove_existing(&path)?;
                    fs::hard_link(&target, &path).map_err(|source| RootfsError::Io {
                        action: "create the hardlink",
                        path: path.clone(),
                        source,
                    })?;
                }
                touch(&self.root, &path, touched);
                self.stats.hardlinks += 1;
            }
            _ => self.stats.skipped_special += 1,
        }
        Ok(())
    }

    /// The host path for an entry: its parents resolved (and created) inside the root.
    fn entry_path(&self, parents: &[&[u8]], name: &[u8]) -> Result<PathBuf, RootfsError> {
        let dir = self
            .resolve_dir(parents, true)?
            .unwrap_or_else(|| self.root.clone());
        Ok(dir.join(OsStr::from_bytes(name)))
    }

    /// The host path of an existing non-directory a hardlink may point at.
    fn existing_link_target(&self, components: &[&[u8]]) -> Result<Option<PathBuf>, RootfsError> {
        let Some((&last, parents)) = components.split_last() else {
            return Ok(None);
        };
        let Some(dir) = self.resolve_dir(parents, false)? else {
            return Ok(None);
        };
        let target = dir.join(OsStr::from_bytes(last));
        Ok(fs::symlink_metadata(&target)
            .ok()
            .filter(|metadata| !metadata.is_dir())
            .map(|_| target))
    }

    /// Resolves directory components inside the root as if it were `/`:
    /// symlinks are followed (absolute targets restart at the root, `..`
    /// stops there), so the result is always a real directory under the
    /// root. Missing directories (and non-directories in the way) are
    /// created/replaced when `create`, else the answer is `None`.
    fn resolve_dir(
        &self,
        components: &[&[u8]],
        create: bool,
    ) -> Result<Option<PathBuf>, RootfsError> {
        let mut pending: VecDeque<Vec<u8>> = components.iter().map(|c| c.to_vec()).collect();
        let mut resolved = self.root.clone();
        let mut depth = 0usize;
        let mut links = 0usize;
        while let Some(component) = pending.pop_front() {
            match component.as_slice() {
                b"" | b"." => continue,
                b".." => {
                    if depth > 0 {
                        resolved.pop();
                        depth -= 1;
                    }
                    continue;
                }
                _ => {}
            }
            let candidate = resolved.join(OsStr::from_bytes(&component));
            match fs::symlink_metadata(&candidate) {
                Ok(metadata) if metadata.is_dir() => {}
                Ok(metadata) if metadata.file_type().is_symlink() => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(RootfsError::SymlinkLoop {
                            path: candidate.display().to_string(),
                        });
                    }
                    let target = fs::read_link(&candidate).map_err(|source| RootfsError::Io {
                        action: "read the symlink",
                        path: candidate.clone(),
                        source,
                    })?;
                    let target = target.as_os_str().as_bytes();
                    if target.starts_with(b"/") {
                        resolved = self.root.clone();
                        depth = 0;
                    }
                    for part in target.split(|b| *b == b'/').rev() {
                        pending.push_front(part.to_vec());
                    }
                    continue;
                }
                Ok(_) if create => {
                    remove_existing(&candidate)?;
                    create_directory(&candidate)?;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && create => {
                    create_directory(&candidate)?
                }
                Ok(_) => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(source) => {
                    return Err(RootfsError::Io {
                        action: "inspect",
                        path: candidate,
                        source,
                    })
                }
            }
            resolved = candidate;
            depth += 1;
        }
        Ok(Some(resolved))
    }

    /// Removes everything under `dir` that the current layer did not create.
    fn remove_untouched(&self, dir: &Path, touched: &Touched) -> Result<(), RootfsError> {
        let listing = fs::read_dir(dir).map_err(|source| RootfsError::Io {
            action: "list",
            path: dir.to_path_buf(),
            source,
        })?;
        for child in listing {
            let child = child.map_err(|source| RootfsError::Io {
                action: "list",
                path: dir.to_path_buf(),
                source,
            })?;
            let path = child.path();
            if !touched.contains(&path) {
                remove_existing(&path)?;
            } else if fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                self.remove_untouched(&path, touched)?;
            }
        }
        Ok(())
    }

    fn apply_directory_modes(&self) -> Result<(), RootfsError> {
        // Reverse order visits every directory before its parent.
        for (path, mode) in self.directory_modes.iter().rev() {
            if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
                fs::set_permissions(path, Permissions::from_mode(*mode)).map_err(|source| {
                    RootfsError::Io {
                        action: "set the mode of",
                        path: path.clone(),
                        source,
                    }
                })?;
            }
        }
        Ok(())
    }
}

/// Records `path` and its ancestors below `root` as created by the current layer.
fn touch(root: &Path, path: &Path, touched: &mut Touched) {
    let mut current = Some(path);
    while let Some(p) = current {
        if p == root || !p.starts_with(root) || !touched.insert(p.to_path_buf()) {
            break;
        }
        current = p.parent();
    }
}

fn create_directory(path: &Path) -> Result<(), RootfsError> {
    DirBuilder::new()
        .mode(0o755)
        .create(path)
        .map_err(|source| RootfsError::Io {
            action: "create the directory",
            path: path.to_path_buf(),
            source,
        })
}

/// Makes `path` a directory, keeping an existing one (and its contents).
fn ensure_directory(path: &Path) -> Result<(), RootfsError> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => {
            remove_existing(path)?;
            create_directory(path)
        }
        Err(_) => create_directory(path),
    }
}

/// Removes whatever is at `path` (a directory with its contents), never
/// following a symlink.
fn remove_existing(path: &Path) -> Result<(), RootfsError> {
    let removed = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Ok(metadata) if metadata.is_dir() => fs::remove_dir_all(path),
        _ => fs::remove_file(path),
    };
    removed.map_err(|source| RootfsError::Io {
        action: "remove",
        path: path.to_path_buf(),
        source,
    })
}

fn write_file(
    from: &mut impl Read,
    path: &Path,
    mode: u32,
    layer: &Digest,
) -> Result<u64, RootfsError> {
    let io_error = |action, source| RootfsError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_error("create the file", e))?;
    let mut buffer = vec![0u8; 64 * 1024];
    let mut written = 0u64;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(RootfsError::corrupt(layer, e)),
        };
        file.write_all(buffer.get(..n).unwrap_or_default())
            .map_err(|e| io_error("write", e))?;
        written += n as u64;
    }
    file.set_permissions(Permissions::from_mode(mode))
        .map_err(|e| io_error("set the mode of", e))?;
    Ok(written)
}
