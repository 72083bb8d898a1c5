//! Progress on long-running stages, in two halves: [`events`] is what the
//! library reports (blob downloads, source fetches and checkouts, build
//! output) through the [`Progress`] trait, free of terminal I/O; [`terminal`] draws those events on a
//! terminal with `indicatif` for the command line.

pub mod events;
pub mod terminal;

pub use events::{follow_log, silent, Progress, SharedProgress, Silent, SourceEvent, Transfer};
