//! The package database's files as the image holds them: bounded reads
//! from the merged root filesystem, and paths compared the way the image
//! resolves them (a database may list `/bin/x` for the image's `/usr/bin/x`
//! when `/bin` is a symlink to `usr/bin`).
//!
//! Threat model: every file is the image's, so untrusted: each read is
//! capped before a byte is held, symlinks resolve inside the image only.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use super::error::DbError;
use crate::rootfs::locate::Located;
use crate::rootfs::{clean_join, IndexStore, LayerSource, NodeKind, Rootfs};

/// The files of one image's root filesystem, for the database readers.
pub struct ImageFiles<'a, S, I> {
    view: &'a Rootfs<S, I>,
    /// Directories resolved so far: as written -> after symlinks.
    directories: RefCell<HashMap<String, String>>,
}

impl<'a, S: LayerSource, I: IndexStore> ImageFiles<'a, S, I> {
    pub fn new(view: &'a Rootfs<S, I>) -> Self {
        Self {
            view,
            directories: RefCell::new(HashMap::new()),
        }
    }

    /// The regular file at `path` (symlinks followed), at most `limit`
    /// bytes; `None` when the image has nothing there.
    pub fn locate(&self, path: &str, limit: u64) -> Result<Option<Located>, DbError> {
        let node = match self.view.resolve_path(path, true) {
            Ok(node) => node,
            Err(e) if e.is_lookup_failure() => return Ok(None),
            Err(source) => {
                return Err(DbError::Read {
                    path: path.to_string(),
                    source,
                })
            }
        };
        let NodeKind::File(content) = node.kind else {
            return Err(DbError::NotAFile {
                path: path.to_string(),
            });
        };
        if content.size > limit {
            return Err(DbError::TooLarge {
                path: path.to_string(),
                size: content.size,
                limit,
            });
        }
        Ok(Some(Located::new(path.to_string(), node.path, content)))
    }

    /// The bytes of the file at `path`, at most `limit`; `None` when absent.
    pub fn read(&self, path: &str, limit: u64) -> Result<Option<Vec<u8>>, DbError> {
        let Some(located) = self.locate(path, limit)? else {
            return Ok(None);
        };
        let mut bytes = None;
        self.read_all(path, std::slice::from_ref(&located), |_, content| {
            bytes = Some(content.to_vec());
        })?;
        Ok(bytes)
    }

    /// The text of the file at `path`, at most `limit` bytes of UTF-8;
    /// `None` when absent.
    pub fn read_text(&self, path: &str, limit: u64) -> Result<Option<String>, DbError> {
        self.read(path, limit)?
            .map(|bytes| {
                String::from_utf8(bytes).map_err(|_| DbError::NotUtf8 {
                    path: path.to_string(),
                })
            })
            .transpose()
    }

    /// Streams the file at `path`, at most `limit` bytes, to `out`; false
    /// when the image has nothing there.
    pub fn copy(&self, path: &str, limit: u64, out: &mut dyn Write) -> Result<bool, DbError> {
        let Some(located) = self.locate(path, limit)? else {
            return Ok(false);
        };
        self.view
            .copy_file(&located, out)
            .map_err(|source| DbError::Read {
                path: path.to_string(),
                source,
            })?;
        Ok(true)
    }

    /// Reads many located files, each layer once; `visit` gets each file's
    /// position in `files` and its bytes; `what` names them in an error.
    pub fn read_all(
        &self,
        what: &str,
        files: &[Located],
        visit: impl FnMut(usize, &[u8]),
    ) -> Result<(), DbError> {
        self.view
            .read_files(files, visit)
            .map_err(|source| DbError::Read {
                path: what.to_string(),
                source,
            })
    }

    /// The names in the directory `path` of the merged tree (symlinks
    /// followed), sorted; `None` when the image has nothing there. Names
    /// come from every layer's index; each is kept only if the merged view
    /// still holds it (whiteouts and opaque directories apply).
    pub fn list_dir(&self, path: &str) -> Result<Option<Vec<String>>, DbError> {
        let read = |source| DbError::Read {
            path: path.to_string(),
            source,
        };
        let directory = match self.view.resolve_path(path, true) {
            Ok(node) if matches!(node.kind, NodeKind::Directory { .. }) => node.path,
            Ok(_) => {
                return Err(DbError::NotADirectory {
                    path: path.to_string(),
                })
            }
            Err(e) if e.is_lookup_failure() => return Ok(None),
            Err(source) => return Err(read(source)),
        };
        let prefix = format!("{}/", directory.trim_end_matches('/'));
        let mut names = BTreeSet::new();
        for layer in 0..self.view.layers().len() {
            let index = self.view.layer_index(layer).map_err(read)?;
            names.extend(
                index
                    .entries
                    .range(prefix.clone()..)
                    .map(|(child, _)| child)
                    .take_while(|child| child.starts_with(&prefix))
                    .filter_map(|child| child.get(prefix.len()..))
                    .filter(|name| !name.is_empty() && !name.contains('/'))
                    .map(str::to_string),
            );
        }
        let mut present = Vec::with_capacity(names.len());
        for name in names {
            if self
                .view
                .lookup(&format!("{prefix}{name}"))
                .map_err(read)?
                .is_some()
            {
                present.push(name);
            }
        }
        Ok(Some(present))
    }

    /// `path` (absolute, in the escaped form of [`crate::rootfs::escape_name`])
    /// with its directory resolved through the image's symlinks, the final
    /// component left as it is: the form in which two names of one file
    /// compare equal. A directory that does not resolve stays as written.
    pub fn canonical(&self, path: &str) -> Result<String, DbError> {
        let clean = clean_join("/", path);
        let Some((parent, name)) = clean.rsplit_once('/').filter(|(_, name)| !name.is_empty())
        else {
            return Ok(clean);
        };
        let parent = if parent.is_empty() { "/" } else { parent };
        if let Some(resolved) = self.directories.borrow().get(parent) {
            return Ok(clean_join(resolved, name));
        }
        let resolved = match self.view.resolve_path(parent, true) {
            Ok(node) if matches!(node.kind, NodeKind::Directory { .. }) => node.path,
            Ok(_) => parent.to_string(),
            Err(e) if e.is_lookup_failure() => parent.to_string(),
            Err(source) => {
                return Err(DbError::Read {
                    path: parent.to_string(),
                    source,
                })
            }
        };
        let canonical = clean_join(&resolved, name);
        self.directories
            .borrow_mut()
            .insert(parent.to_string(), resolved);
        Ok(canonical)
    }
}

/// The final component of a clean absolute path (empty for `/`).
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or_default()
}
