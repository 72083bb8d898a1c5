//! The command line's half of progress: the library's events (see
//! [`super::events`]) drawn on a terminal with `indicatif`, a byte bar per
//! blob download and a spinner per platform build showing its last log line.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::events::{Progress, Transfer};

/// Draws progress on stderr.
pub struct TerminalProgress {
    bars: MultiProgress,
    builds: Mutex<HashMap<String, ProgressBar>>,
}

impl TerminalProgress {
    /// Progress on stderr (call only when stderr is a terminal).
    pub fn new() -> Self {
        Self {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            builds: Mutex::new(HashMap::new()),
        }
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
