//! The command line's half of progress: the library's events (see
//! [`super::events`]) drawn on a terminal with `indicatif`: a byte bar per
//! blob download, an object bar per source fetch, an object-file bar per
//! copy from a local repository, a file bar per checkout
//! and a spinner per platform build showing how long it has run and its
//! last log line. A finished build leaves one ordinary line (`build
//! linux/amd64 done in 1m 3s`), ended by a newline, above the bars still
//! running.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::{Progress, SourceEvent, Transfer};

/// A build's spinner: platform, time since it started, last log line.
const SPINNER: &str = "{spinner} build {prefix:.bold} {elapsed:>4} {wide_msg}";
/// A download's bar.
const BAR: &str = "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}";
/// A local repository's copy: its object files (packs, indexes, loose
/// objects) brought so far, of how many, and their bytes.
const COPY_BAR: &str = "{prefix} [{bar:30}] {pos}/{len} object files {msg}";

/// Draws progress on stderr.
pub struct TerminalProgress {
    bars: MultiProgress,
    builds: Mutex<HashMap<String, ProgressBar>>,
    /// Source fetches by URL and checkouts by label.
    sources: Mutex<HashMap<String, ProgressBar>>,
}

impl TerminalProgress {
    /// Progress on stderr (call only when stderr is a terminal).
    pub fn new() -> Self {
        Self {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            builds: Mutex::new(HashMap::new()),
            sources: Mutex::new(HashMap::new()),
        }
    }

    /// The bar of fetch or checkout `key`, made with `template` on first use.
    fn source_bar(&self, key: String, template: &str) -> Option<ProgressBar> {
        let mut sources = self.sources.lock().ok()?;
        let bar = sources.entry(key.clone()).or_insert_with(|| {
            let bar = self.bars.add(ProgressBar::new(0));
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(key);
            bar
        });
        Some(bar.clone())
    }

    fn build_bar(&self, platform: &str) -> Option<ProgressBar> {
        let mut builds = self.builds.lock().ok()?;
        let bar = builds.entry(platform.to_string()).or_insert_with(|| {
            let bar = self.bars.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template(SPINNER)
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_prefix(platform.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Some(bar.clone())
    }
}

impl Default for TerminalProgress {
    fn default() -> Self {
        Self::new()
    }
}

/// The line a finished build leaves: `build linux/amd64 done in 1m 3s`
/// (without the time when the build showed no spinner to time it by).
pub fn build_done_line(platform: &str, ok: bool, elapsed: Option<Duration>) -> String {
    let outcome = if ok { "done" } else { "failed" };
    match elapsed {
        Some(elapsed) => format!(
            "build {platform} {outcome} in {}",
            humantime::format_duration(Duration::from_secs(elapsed.as_secs()))
        ),
        None => format!("build {platform} {outcome}"),
    }
}

impl Progress for TerminalProgress {
    fn download(&self, what: &str, size: u64) -> Box<dyn Transfer> {
        let bar = self.bars.add(ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template(BAR)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_prefix(what.to_string());
        Box::new(BarTransfer(bar))
    }

    fn build_line(&self, platform: &str, line: &str) {
        if let Some(bar) = self.build_bar(platform) {
            bar.set_message(line.chars().take(120).collect::<String>());
        }
    }

    fn build_done(&self, platform: &str, ok: bool) {
        let bar = self
            .builds
            .lock()
            .ok()
            .and_then(|mut builds| builds.remove(platform));
        let line = build_done_line(platform, ok, bar.as_ref().map(ProgressBar::elapsed));
        if let Some(bar) = bar {
            bar.finish_and_clear();
            self.bars.remove(&bar);
        }
        // Written as a plain line with its newline while the bars are off
        // the screen, so whatever follows starts on a line of its own.
        self.bars.suspend(|| eprintln!("{line}"));
    }

    fn source(&self, event: SourceEvent<'_>) {
        match event {
            SourceEvent::Fetch {
                url,
                objects,
                total_objects,
                bytes,
            } => {
                let template = "{prefix} [{bar:30}] {pos}/{len} objects {msg}";
                if let Some(bar) = self.source_bar(format!("fetch {url}"), template) {
                    bar.set_length(total_objects as u64);
                    bar.set_position(objects as u64);
                    bar.set_message(indicatif::HumanBytes(bytes as u64).to_string());
                }
            }
            SourceEvent::Copy {
                from,
                files,
                total_files,
                bytes,
            } => {
                if let Some(bar) = self.source_bar(format!("copy {from}"), COPY_BAR) {
                    bar.set_length(total_files as u64);
                    bar.set_position(files as u64);
                    bar.set_message(indicatif::HumanBytes(bytes as u64).to_string());
                }
            }
            SourceEvent::Checkout {
                label,
                files,
                total_files,
            } => {
                let template = "{prefix} [{bar:30}] {pos}/{len} files";
                if let Some(bar) = self.source_bar(format!("checkout {label}"), template) {
                    bar.set_length(total_files as u64);
                    bar.set_position(files as u64);
                }
            }
            SourceEvent::Done { what } => {
                let Ok(mut sources) = self.sources.lock() else {
                    return;
                };
                for key in [
                    format!("fetch {what}"),
                    format!("copy {what}"),
                    format!("checkout {what}"),
                ] {
                    if let Some(bar) = sources.remove(&key) {
                        bar.finish_and_clear();
                    }
                }
            }
        }
    }
}

/// A download's bar: cleared when the download ends, having first reached
/// its total if the blob verified.
struct BarTransfer(ProgressBar);

impl Transfer for BarTransfer {
    fn advance(&mut self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn restart_at(&mut self, bytes: u64) {
        self.0.set_position(bytes);
    }

    fn finish(&mut self) {
        if let Some(total) = self.0.length() {
            self.0.set_position(total);
        }
        self.0.finish_and_clear();
    }
}

impl Drop for BarTransfer {
    /// A download that stopped without finishing (it failed, or its reader
    /// went away) leaves no bar frozen part way.
    fn drop(&mut self) {
        if !self.0.is_finished() {
            self.0.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_build_says_how_it_ended_and_how_long_it_took() {
        assert_eq!(
            build_done_line("linux/amd64", true, Some(Duration::from_millis(63_400))),
            "build linux/amd64 done in 1m 3s"
        );
        assert_eq!(
            build_done_line("linux/arm64", false, Some(Duration::from_millis(4_900))),
            "build linux/arm64 failed in 4s"
        );
        assert_eq!(
            build_done_line("linux/arm64", true, None),
            "build linux/arm64 done"
        );
    }

    #[test]
    fn the_build_spinner_shows_the_time_it_has_run() {
        assert!(SPINNER.contains("{elapsed"), "{SPINNER}");
        ProgressStyle::with_template(SPINNER).expect("a valid template");
        ProgressStyle::with_template(BAR).expect("a valid template");
        ProgressStyle::with_template(COPY_BAR).expect("a valid template");
    }
}
