//! Writes the site: every page, badge and file into a directory beside
//! OUT, then puts it in OUT's place, so OUT is never half written.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::badge::Badge;
use super::history::History;
use super::html::Page;
use super::index::Index;
use super::model::{aggregate, Totals, LEDGER_SCHEMA};
use crate::scale::ledger::Record;

/// The file that marks a directory as a site this tool wrote: only such a
/// directory (or an empty one) is replaced.
pub const MARKER: &str = ".rebuild-compare-site";

/// Why the site was not written. OUT is unchanged in every case.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error(
        "{out} exists and is not a site rebuild-compare wrote (it has no {MARKER}); \
         give --site a new or empty directory, or remove it first"
    )]
    NotASite { out: PathBuf },
    #[error("--site {out} names no directory to write; give a path such as ./site")]
    NoName { out: PathBuf },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot copy {from} into the site: {source}")]
    Copy {
        from: PathBuf,
        source: std::io::Error,
    },
}

/// Builds the site of `records` at `out`: `index.html`, `ledger.json`,
/// `images/<slug>.html`, `badges/<slug>.svg`, and each run's report and
/// attestation as `r/<id>.json` and `a/<id>.json` or `a/<id>.dsse.json`
/// (short names: the index links to each twice per cell; hard-linked when the
/// ledger is on the same filesystem, copied otherwise). `out` may be
/// absent, empty, or a site written before, which is replaced whole.
/// Returns the counts the index shows.
pub fn write_site(records: &[Record], out: &Path) -> Result<Totals, SiteError> {
    let replace = existing_site(out)?;
    let name = out
        .file_name()
        .ok_or_else(|| SiteError::NoName {
            out: out.to_path_buf(),
        })?
        .to_string_lossy()
        .into_owned();
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| SiteError::Write { path, source }
    };
    fs::create_dir_all(parent).map_err(write_err(parent))?;
    let stage = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(parent)
        .map_err(write_err(parent))?;
    let root = stage.path();
    let ledger = aggregate(records);
    for dir in ["images", "badges", "r", "a"] {
        fs::create_dir(root.join(dir)).map_err(write_err(&root.join(dir)))?;
    }
    let title = "Rebuild ledger";
    write_text(
        &root.join("index.html"),
        Page {
            title,
            body: Index(&ledger),
        },
    )?;
    let json = root.join("ledger.json");
    let file = fs::File::create(&json).map_err(write_err(&json))?;
    let mut writer = BufWriter::new(file);
    serde_json::to_writer_pretty(&mut writer, &ledger)
        .map_err(std::io::Error::from)
        .and_then(|()| writer.write_all(b"\n"))
        .and_then(|()| writer.flush())
        .map_err(write_err(&json))?;
    for image in &ledger.images {
        let page = Page {
            title: image.image,
            body: History(image),
        };
        write_text(&root.join(&image.page), page)?;
        write_text(&root.join(&image.badge), Badge(image))?;
        for run in &image.history {
            let files = [
                (run.record.report_path(), &run.report),
                (run.record.attestation_path(), &run.attestation),
            ];
            for (from, to) in files {
                if let (Some(from), Some(to)) = (from, to) {
                    link_or_copy(&from, &root.join(to))?;
                }
            }
        }
    }
    write_text(&root.join(MARKER), format_args!("{LEDGER_SCHEMA}\n"))?;
    set_public(root).map_err(write_err(root))?;
    let totals = ledger.totals.clone();
    put_in_place(stage, out, parent, &name, replace)?;
    Ok(totals)
}

/// Whether `out` holds a site to replace (`true`), is absent (`false`),
/// or must not be touched (an error).
fn existing_site(out: &Path) -> Result<bool, SiteError> {
    let not_a_site = || SiteError::NotASite {
        out: out.to_path_buf(),
    };
    match fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(SiteError::Write {
            path: out.to_path_buf(),
            source,
        }),
        Ok(meta) if !meta.is_dir() => Err(not_a_site()),
        Ok(_) => {
            let ours = out.join(MARKER).is_file();
            let empty = fs::read_dir(out)
                .map_err(|source| SiteError::Write {
                    path: out.to_path_buf(),
                    source,
                })?
                .next()
                .is_none();
            if ours || empty {
                Ok(true)
            } else {
                Err(not_a_site())
            }
        }
    }
}

/// Renames the staged site to `out`; a site already there is moved aside
/// first (onto an empty directory beside it, then removed), and moved back
/// if the new one cannot take its place.
fn put_in_place(
    stage: tempfile::TempDir,
    out: &Path,
    parent: &Path,
    name: &str,
    replace: bool,
) -> Result<(), SiteError> {
    let write_err = |source| SiteError::Write {
        path: out.to_path_buf(),
        source,
    };
    if !replace {
        fs::rename(stage.path(), out).map_err(write_err)?;
        let _moved = stage.keep();
        return Ok(());
    }
    let old = tempfile::Builder::new()
        .prefix(&format!(".{name}.old-"))
        .tempdir_in(parent)
        .map_err(write_err)?;
    fs::rename(out, old.path()).map_err(write_err)?;
    if let Err(source) = fs::rename(stage.path(), out) {
        let _ = fs::rename(old.path(), out);
        return Err(write_err(source));
    }
    let _moved = stage.keep();
    // `old` now holds the previous site; dropping it removes it.
    Ok(())
}

/// Writes `content` to a new file at `path`.
fn write_text(path: &Path, content: impl std::fmt::Display) -> Result<(), SiteError> {
    let file = fs::File::create(path).map_err(|source| SiteError::Write {
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer = BufWriter::new(file);
    write!(writer, "{content}")
        .and_then(|()| writer.flush())
        .map_err(|source| SiteError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// A hard link when the filesystem allows it, a copy otherwise.
fn link_or_copy(from: &Path, to: &Path) -> Result<(), SiteError> {
    if fs::hard_link(from, to).is_ok() {
        return Ok(());
    }
    fs::copy(from, to)
        .map(|_| ())
        .map_err(|source| SiteError::Copy {
            from: from.to_path_buf(),
            source,
        })
}

/// The staged directory is created private (0700); a published site is
/// readable by all (0755).
fn set_public(root: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(root, fs::Permissions::from_mode(0o755))
}
