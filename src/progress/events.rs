//! The library's half of progress: events from long-running stages (blob
//! downloads, builds) sent to a [`Progress`] observer, so the command line
//! can draw them (see [`super::terminal`]) while the library stays free of
//! terminal I/O. The default observer ignores everything.

use std::sync::Arc;

/// Receives progress events; implementations must be cheap and thread-safe.
pub trait Progress: Send + Sync {
    /// A blob download of `size` bytes starts; returns the observer of its bytes.
    fn download(&self, _what: &str, _size: u64) -> Box<dyn Transfer> {
        Box::new(Silent)
    }
    /// A build for `platform` printed a line of output.
    fn build_line(&self, _platform: &str, _line: &str) {}
    /// A build for `platform` finished.
    fn build_done(&self, _platform: &str, _ok: bool) {}
    /// The source step fetched objects or wrote files of a checkout.
    fn source(&self, _event: SourceEvent<'_>) {}
}

impl std::fmt::Debug for dyn Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

/// What the source step reports through [`Progress::source`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEvent<'a> {
    /// Objects received from `url` so far (`total_objects` is 0 until the
    /// server has said).
    Fetch {
        url: &'a str,
        objects: usize,
        total_objects: usize,
        bytes: usize,
    },
    /// Object files copied (or hard-linked) so far from the local
    /// repository `from` (a path or `file://` URL), of `total_files`, and
    /// their bytes.
    Copy {
        from: &'a str,
        files: usize,
        total_files: usize,
        bytes: usize,
    },
    /// Files written so far by the checkout for `label` (a platform).
    Checkout {
        label: &'a str,
        files: usize,
        total_files: usize,
    },
    /// The fetch or copy from `what` (a URL or path) or the checkout for
    /// `what` (a label) ended.
    Done { what: &'a str },
}

/// Observes the bytes of one transfer, from its start to its end (dropped
/// without [`Transfer::finish`]: the transfer stopped without completing).
pub trait Transfer: Send {
    /// `bytes` more arrived.
    fn advance(&mut self, _bytes: u64) {}
    /// A new request starts with `bytes` already held (a resumed or
    /// restarted download).
    fn restart_at(&mut self, _bytes: u64) {}
    /// The whole blob arrived and verified.
    fn finish(&mut self) {}
}

/// The observer that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {}
impl Transfer for Silent {}

/// A shared observer.
pub type SharedProgress = Arc<dyn Progress>;

/// The observer that shows nothing, shared.
pub fn silent() -> SharedProgress {
    Arc::new(Silent)
}

/// Reports the last line of a growing log file every 200 ms until `done`
/// is set: how a build's spinner shows what the build is doing.
pub fn follow_log(
    log: &std::path::Path,
    label: &str,
    progress: &dyn Progress,
    done: &std::sync::atomic::AtomicBool,
) {
    use std::io::{Read, Seek, SeekFrom};
    let mut shown = String::new();
    while !done.load(std::sync::atomic::Ordering::Relaxed) {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let Ok(mut file) = std::fs::File::open(log) else {
            continue;
        };
        let len = file.metadata().map_or(0, |m| m.len());
        let mut tail = Vec::new();
        if file
            .seek(SeekFrom::Start(len.saturating_sub(4096)))
            .is_err()
            || file.read_to_end(&mut tail).is_err()
        {
            continue;
        }
        let text = String::from_utf8_lossy(&tail);
        if let Some(line) = text.lines().rev().find(|l| !l.trim().is_empty()) {
            if line != shown {
                shown = line.to_string();
                progress.build_line(label, line.trim());
            }
        }
    }
}
