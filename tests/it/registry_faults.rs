//! `rebuild-compare digest` against a registry that misbehaves: a
//! [`FaultProxy`] sits between the command and a real `docker-registry`
//! and drops connections mid-blob, answers 503 or 429, ignores `Range` on
//! a resumed request, or changes bytes. Each test checks the exact outcome
//! (exit code, the sha256 reported, or the one error line) and what the
//! proxy saw, and that nothing unverified lands at a blob's content
//! address in the cache.
//!
//! One test drives the library instead, to see the progress bar the
//! interrupted layer shows.
//!
//! The faulted blob is a gzip layer of a little over 3 MiB: 3 MiB of
//! pseudo-random (incompressible) bytes followed by the program, so a cut
//! at 1 MiB happens after many chunks reached the layer indexer, and the
//! indexer has to read past it to find the program.

use crate::support;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::reference::ImageLocation;
use rebuild_compare::image::{AccessOptions, Image as RemoteImage};
use rebuild_compare::progress::{Progress, Transfer};
use rebuild_compare::rootfs::extract::{self, BinaryRequest};
use serde_json::Value;
use support::cli::{run_in, Run};
use support::{
    push, sha256_digest, write_oci_layout, Compression, Fault, FaultProxy, Image, ImageBuilder,
    ImageSet, IndexStyle, Layer, LayerBuilder, MediaTypes, PseudoRandom, Registry, Rule,
};

const AMD64: &str = "linux/amd64";
/// Bytes of random data before the program in the faulted layer.
const NOISE: usize = 3 << 20;
/// Where the first connection is cut: 1 MiB and a bit, on no chunk boundary.
const CUT: u64 = (1 << 20) + 12_345;
/// `RETRIES` in src/registry.rs: a failing blob request is tried 1 + 4 times.
const ATTEMPTS: usize = 5;

/// A registry with one image pushed, a proxy in front of it, and a
/// scratch directory that is the command's HOME.
struct Fixture {
    registry: Registry,
    proxy: FaultProxy,
    tmp: tempfile::TempDir,
    /// The program's bytes.
    program: Vec<u8>,
    /// The layer holding the noise and the program.
    layer: Layer,
    /// `127.0.0.1:PROXY/faults:v1`.
    reference: String,
}

impl Fixture {
    fn new() -> Self {
        let registry = Registry::start();
        let tmp = tempfile::tempdir().expect("temp dir");
        let mut noise = vec![0u8; NOISE];
        PseudoRandom::new(17)
            .read_exact(&mut noise)
            .expect("pseudo-random bytes");
        let mut program = b"\x7fELF not really, but the program's own bytes\n".to_vec();
        program.extend_from_slice(&noise[..4096]);
        let layer = LayerBuilder::new()
            .file("usr/share/noise.bin", &noise, 0o644)
            .file("usr/bin/app", &program, 0o755)
            .build(Compression::Gzip);
        assert!(layer.size > NOISE as u64, "random data does not compress");
        let image = ImageBuilder::new(AMD64)
            .entrypoint(&["app"])
            .env("PATH=/usr/bin:/bin")
            .layer(layer.clone())
            .build();
        publish(&registry, tmp.path(), image);
        let proxy = FaultProxy::start(&registry.host());
        let reference = proxy.reference("faults:v1");
        Fixture {
            registry,
            proxy,
            tmp,
            program,
            layer,
            reference,
        }
    }

    fn home(&self) -> &Path {
        self.tmp.path()
    }

    /// `/v2/faults/blobs/<layer digest>`, the path the layer is pulled from.
    fn layer_path(&self) -> String {
        format!("/v2/faults/blobs/{}", self.layer.digest)
    }

    /// Adds a rule for the layer's nth GET.
    fn on_layer_get(&self, nth: usize, faults: &[Fault]) {
        let mut rule = Rule::get(&self.layer_path()).nth(nth);
        for fault in faults {
            rule = rule.fault(fault.clone());
        }
        self.proxy.rule(rule);
    }

    /// The `Range` header of each GET of the layer, in order.
    fn layer_ranges(&self) -> Vec<Option<String>> {
        self.proxy
            .seen_for("GET", &self.layer_path())
            .into_iter()
            .map(|s| s.range)
            .collect()
    }

    /// The status the proxy answered to each GET of the layer, in order.
    fn layer_statuses(&self) -> Vec<u16> {
        self.proxy
            .seen_for("GET", &self.layer_path())
            .into_iter()
            .map(|s| s.status)
            .collect()
    }

    /// `digest IMAGE --format json` through the proxy.
    fn digest(&self) -> Run {
        run_in(
            self.home(),
            &["digest", &self.reference, "--format", "json"],
        )
    }

    /// Asserts a successful run that found the program in the layer.
    fn assert_found(&self, run: &Run) {
        assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
        let json: Value = run.json();
        let platforms = json["platforms"].as_array().expect("platforms");
        assert_eq!(platforms.len(), 1, "{json}");
        let entry = &platforms[0];
        assert_eq!(entry["path"], "/usr/bin/app", "{json}");
        assert_eq!(entry["sha256"], sha256_digest(&self.program), "{json}");
        assert_eq!(entry["size"], self.program.len(), "{json}");
        assert_eq!(entry["layer"], self.layer.digest.as_str(), "{json}");
        assert!(
            self.cached(&self.layer.digest).is_file(),
            "the verified layer is cached"
        );
        assert_eq!(self.partials(), Vec::<PathBuf>::new());
    }

    /// The error line for the layer arriving as `served` instead.
    fn verification_error(&self, served: &[u8]) -> String {
        format!(
            "error: {AMD64}: blob {} failed verification: its content hashes to {}",
            self.layer.digest,
            sha256_digest(served)
        )
    }

    /// Where the cache keeps blob `digest`.
    fn cached(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        self.blobs_dir().join(hex)
    }

    fn blobs_dir(&self) -> PathBuf {
        self.home().join("cache/rebuild-compare/blobs/sha256")
    }

    /// Temporary `.partial-*` files left in the blob cache.
    fn partials(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(self.blobs_dir()) else {
            return Vec::new();
        };
        entries
            .map(|e| e.expect("cache dir entry").path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(".partial-"))
            })
            .collect()
    }

    /// Asserts a failed run: exit 2, nothing on stdout, stderr ending in
    /// one `error:` line and nothing else but retry warnings, and nothing
    /// cached for the layer. Returns the error line.
    fn assert_failed(&self, run: &Run) -> String {
        assert_eq!(
            run.code, 2,
            "stdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        assert_eq!(run.stdout, "");
        let (warnings, errors): (Vec<&str>, Vec<&str>) = run
            .stderr
            .lines()
            .partition(|l| l.contains(" WARN ") && l.contains("; retrying in "));
        assert_eq!(errors.len(), 1, "one error line:\n{}", run.stderr);
        let line = errors[0];
        assert!(line.starts_with("error: "), "{line}");
        assert!(
            run.stderr.ends_with(&format!("{line}\n")),
            "the error comes last:\n{}",
            run.stderr
        );
        assert!(warnings.len() < ATTEMPTS, "{}", run.stderr);
        assert!(
            !self.cached(&self.layer.digest).exists(),
            "nothing at the layer's content address"
        );
        assert_eq!(self.partials(), Vec::<PathBuf>::new());
        line.to_string()
    }
}

/// Writes `image` as an OCI layout and pushes it as `faults:v1`.
fn publish(registry: &Registry, dir: &Path, image: Image) {
    let layout = dir.join("layout");
    write_oci_layout(
        &layout,
        "v1",
        &ImageSet::single(image),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(&layout, "v1", &registry.reference("faults:v1"), None);
}

fn range_from(offset: u64) -> Option<String> {
    Some(format!("bytes={offset}-"))
}

#[test]
fn connection_dropped_mid_layer_resumes_from_the_bytes_received() {
    let fx = Fixture::new();
    fx.on_layer_get(1, &[Fault::CutAfter(CUT)]);
    let run = fx.digest();
    fx.assert_found(&run);
    // Every request asks for a range from the first byte not yet received.
    // The proxy writes exactly CUT body bytes and then closes cleanly, and
    // the client hands every byte it read to the cache before it sees the
    // early end, so the resume starts at CUT itself, not at some chunk
    // boundary below it.
    assert_eq!(fx.layer_ranges(), vec![range_from(0), range_from(CUT)]);
    assert_eq!(fx.layer_statuses(), vec![206, 206]);
}

#[test]
fn server_errors_are_retried_until_the_layer_arrives() {
    let fx = Fixture::new();
    fx.on_layer_get(1, &[Fault::Status(503)]);
    fx.on_layer_get(2, &[Fault::Status(503)]);
    let run = fx.digest();
    fx.assert_found(&run);
    assert_eq!(fx.layer_statuses(), vec![503, 503, 206]);
    assert_eq!(fx.layer_ranges(), vec![range_from(0); 3]);
}

#[test]
fn throttling_is_retried_until_the_layer_arrives() {
    let fx = Fixture::new();
    fx.on_layer_get(1, &[Fault::Status(429)]);
    let run = fx.digest();
    fx.assert_found(&run);
    assert_eq!(fx.layer_statuses(), vec![429, 206]);
    assert_eq!(fx.layer_ranges(), vec![range_from(0); 2]);
}

#[test]
fn whole_blob_resent_with_other_first_bytes_is_changed_on_retry() {
    let fx = Fixture::new();
    fx.on_layer_get(1, &[Fault::CutAfter(CUT)]);
    fx.on_layer_get(2, &[Fault::IgnoreRange, Fault::Flip(0..16)]);
    let run = fx.digest();
    let line = fx.assert_failed(&run);
    assert_eq!(
        line,
        format!(
            "error: {AMD64}: {}/faults: blob {} changed between two download attempts",
            fx.proxy.host(),
            fx.layer.digest
        )
    );
    assert_eq!(fx.layer_ranges(), vec![range_from(0), range_from(CUT)]);
    assert_eq!(fx.layer_statuses(), vec![206, 200]);
}

#[test]
fn whole_blob_resent_unchanged_restarts_the_download() {
    let fx = Fixture::new();
    fx.on_layer_get(1, &[Fault::CutAfter(CUT)]);
    fx.on_layer_get(2, &[Fault::IgnoreRange]);
    let run = fx.digest();
    fx.assert_found(&run);
    assert_eq!(fx.layer_ranges(), vec![range_from(0), range_from(CUT)]);
    assert_eq!(fx.layer_statuses(), vec![206, 200]);
}

#[test]
fn layer_tampered_in_the_registry_is_refused_naming_both_digests() {
    let fx = Fixture::new();
    fx.registry.corrupt_blob(&fx.layer.digest);
    // What the registry now serves: every byte inverted.
    let served: Vec<u8> = fx.layer.blob_bytes().iter().map(|b| b ^ 0xff).collect();
    let run = fx.digest();
    let line = fx.assert_failed(&run);
    assert_eq!(line, fx.verification_error(&served));
}

#[test]
fn bytes_changed_in_transit_are_refused_naming_both_digests() {
    let fx = Fixture::new();
    // One byte inside the noise file's data, past the gzip and tar headers.
    let at = 2_000_000;
    fx.proxy
        .rule(Rule::get(&fx.layer_path()).fault(Fault::Flip(at..at + 1)));
    let mut served = fx.layer.blob_bytes();
    served[at as usize] ^= 0xff;
    let run = fx.digest();
    let line = fx.assert_failed(&run);
    assert_eq!(line, fx.verification_error(&served));
    assert_eq!(fx.layer_ranges(), vec![range_from(0)]);
}

#[test]
fn registry_that_keeps_failing_is_one_error_after_bounded_retries() {
    let fx = Fixture::new();
    fx.proxy
        .rule(Rule::get(&fx.layer_path()).fault(Fault::Status(503)));
    let run = fx.digest();
    let line = fx.assert_failed(&run);
    let host = fx.proxy.host();
    assert_eq!(
        line,
        format!(
            "error: {AMD64}: {host}/faults: Server error: url http://{host}{}, code: 503, \
             message: {}",
            fx.layer_path(),
            support::proxy::status_body(503)
        )
    );
    let seen = fx.proxy.seen_for("GET", &fx.layer_path());
    assert_eq!(seen.len(), ATTEMPTS, "{seen:?}");
    assert!(seen.iter().all(|s| s.status == 503), "{seen:?}");
    let retries = run
        .stderr
        .lines()
        .filter(|l| l.contains("; retrying in "))
        .count();
    assert_eq!(retries, ATTEMPTS - 1, "{}", run.stderr);
}

/// What a progress observer saw of one download.
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    what: String,
    size: u64,
    position: u64,
    /// The highest position it ever showed.
    highest: u64,
    finished: bool,
}

/// A progress observer that records every download's bar.
#[derive(Default)]
struct Bars(Arc<Mutex<Vec<Bar>>>);

struct RecordedBar {
    bars: Arc<Mutex<Vec<Bar>>>,
    index: usize,
}

impl RecordedBar {
    fn update(&self, change: impl FnOnce(&mut Bar)) {
        let mut bars = self.bars.lock().unwrap();
        let bar = &mut bars[self.index];
        change(bar);
        bar.highest = bar.highest.max(bar.position);
    }
}

impl Progress for Bars {
    fn download(&self, what: &str, size: u64) -> Box<dyn Transfer> {
        let mut bars = self.0.lock().unwrap();
        bars.push(Bar {
            what: what.to_string(),
            size,
            position: 0,
            highest: 0,
            finished: false,
        });
        Box::new(RecordedBar {
            bars: self.0.clone(),
            index: bars.len() - 1,
        })
    }
}

impl Transfer for RecordedBar {
    fn advance(&mut self, bytes: u64) {
        self.update(|bar| bar.position += bytes);
    }
    fn restart_at(&mut self, bytes: u64) {
        self.update(|bar| bar.position = bytes);
    }
    fn finish(&mut self) {
        self.update(|bar| bar.finished = true);
    }
}

#[test]
fn a_resumed_or_restarted_layer_shows_one_bar_that_ends_at_its_size() {
    for resend_whole in [false, true] {
        let fx = Fixture::new();
        fx.on_layer_get(1, &[Fault::CutAfter(CUT)]);
        if resend_whole {
            fx.on_layer_get(2, &[Fault::IgnoreRange]);
        }
        let bars = Bars::default();
        let recorded = bars.0.clone();
        let access = AccessOptions {
            progress: Arc::new(bars),
            ..AccessOptions::new(Cache::new(Some(&fx.home().join("cache"))).unwrap())
        };
        let image =
            RemoteImage::open(&ImageLocation::parse(&fx.reference).unwrap(), &access).unwrap();
        let resolved = image.resolve().unwrap();
        let platform = image.platforms(&resolved, &[]).unwrap().remove(0);
        let found =
            extract::digest_binary(&image, &platform, &BinaryRequest { path: None }).unwrap();
        assert_eq!(found.sha256.to_string(), sha256_digest(&fx.program));
        assert_eq!(fx.layer_statuses().len(), 2, "resend_whole={resend_whole}");

        let hex = fx.layer.digest.trim_start_matches("sha256:");
        let layer_bars: Vec<Bar> = recorded
            .lock()
            .unwrap()
            .iter()
            .filter(|b| b.what == format!("sha256:{}", &hex[..12]))
            .cloned()
            .collect();
        let size = fx.layer.size;
        assert_eq!(
            layer_bars,
            [Bar {
                what: format!("sha256:{}", &hex[..12]),
                size,
                position: size,
                highest: size,
                finished: true,
            }],
            "resend_whole={resend_whole}"
        );
    }
}

#[test]
fn retry_after_is_waited_before_the_retry() {
    let fx = Fixture::new();
    fx.on_layer_get(1, &[Fault::Status(503), Fault::RetryAfter(2)]);
    let run = fx.digest();
    fx.assert_found(&run);
    assert_eq!(fx.layer_statuses(), vec![503, 206]);
    // 2 s asked for, more than the first backoff of 0.5 s.
    let retries: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("; retrying in "))
        .collect();
    assert_eq!(retries.len(), 1, "{}", run.stderr);
    assert!(retries[0].ends_with("; retrying in 2s"), "{}", retries[0]);
}

/// The one line the low-speed limit ends a blob download attempt with.
fn too_slow(fx: &Fixture) -> String {
    format!(
        "{}/faults: blob {}: fewer than 10240 bytes arrived in 10s of waiting; \
         the registry is stalled or too slow",
        fx.proxy.host(),
        fx.layer.digest
    )
}

#[test]
fn stalled_layer_download_is_abandoned_and_resumed_from_the_bytes_received() {
    let fx = Fixture::new();
    fx.on_layer_get(1, &[Fault::StallAfter(CUT)]);
    let run = fx.digest();
    fx.assert_found(&run);
    assert_eq!(fx.layer_ranges(), vec![range_from(0), range_from(CUT)]);
    assert_eq!(fx.layer_statuses(), vec![206, 206]);
    let retries: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("; retrying in "))
        .collect();
    assert_eq!(retries.len(), 1, "{}", run.stderr);
    assert!(retries[0].contains(&too_slow(&fx)), "{}", retries[0]);
}

#[test]
fn registry_that_keeps_stalling_is_one_error_after_bounded_retries() {
    let fx = Fixture::new();
    fx.proxy
        .rule(Rule::get(&fx.layer_path()).fault(Fault::StallAfter(0)));
    let run = fx.digest();
    let line = fx.assert_failed(&run);
    assert_eq!(line, format!("error: {AMD64}: {}", too_slow(&fx)));
    assert_eq!(fx.layer_statuses(), vec![206; ATTEMPTS]);
    assert_eq!(fx.layer_ranges(), vec![range_from(0); ATTEMPTS]);
}
