//! The command line's half of progress: the library's events (see
//! [`super::events`]) drawn on a terminal with `indicatif`: a byte bar per
//! blob download, an object bar per source fetch, a file bar per checkout
//! and a spinner per platform build showing its last log line.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::{Progress, SourceEvent, Transfer};

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
                ProgressStyle::with_template("{spinner} build {prefix:.bold} {wide_msg}")
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

impl Progress for TerminalProgress {
    fn download(&self, what: &str, size: u64) -> Box<dyn Transfer> {
        let bar = self.bars.add(ProgressBar::new(size));
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
            )
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
        if let Some(bar) = self.build_bar(platform) {
            bar.finish_with_message(if ok { "done" } else { "failed" });
        }
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
                for key in [format!("fetch {what}"), format!("checkout {what}")] {
                    if let Some(bar) = sources.remove(&key) {
                        bar.finish_and_clear();
                    }
                }
            }
        }
    }
}

struct BarTransfer(ProgressBar);

impl Transfer for BarTransfer {
    fn advance(&mut self, bytes: u64) {
        self.0.inc(bytes);
    }

    fn finish(&mut self) {
        self.0.finish_and_clear();
    }
}
