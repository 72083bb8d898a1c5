//! Progress events from long-running stages (blob downloads, builds), so
//! the binary can draw progress bars on a terminal while the library stays
//! free of terminal I/O. The default observer ignores everything.

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
}

/// Observes the bytes of one transfer.
pub trait Transfer: Send {
    fn advance(&mut self, _bytes: u64) {}
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
