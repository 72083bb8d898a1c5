//! Streaming a large file out of a layer keeps memory bounded. Alone in its
//! own test binary so that the process's peak RSS belongs to this test.

// Shared with tests/it/, of which this test uses one constant.
#[allow(dead_code)]
#[path = "it/layer_fixtures/mod.rs"]
mod layer_fixtures;

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use layer_fixtures::OCI_GZIP;
use rebuild_compare::image::digest::{hash_reader, Digest, VerifyingReader};
use rebuild_compare::rootfs::locate::{locate, RunConfig};
use rebuild_compare::rootfs::{unpack, LayerInfo, LayerSource, NoIndexStore, Rootfs, RootfsError};

const LARGE_FILE_SIZE: u64 = 200 * 1024 * 1024;
const MEMORY_BUDGET_KIB: u64 = 64 * 1024;

const BLOCK: usize = 16 * 1024;

/// Fills `buf` with the test file's bytes from offset `pos`: a fixed
/// pseudo-random 16 KiB block, each copy stamped with its block number, so
/// misplaced or repeated chunks are told apart yet gzip keeps the layer small.
fn fill(base: &[u8], pos: u64, buf: &mut [u8]) {
    let mut done = 0;
    while done < buf.len() {
        let at = pos + done as u64;
        let block = at / BLOCK as u64;
        let offset = (at % BLOCK as u64) as usize;
        let mut stamped = [0u8; BLOCK];
        stamped.copy_from_slice(base);
        stamped[..8].copy_from_slice(&block.to_le_bytes());
        let n = (BLOCK - offset).min(buf.len() - done);
        buf[done..done + n].copy_from_slice(&stamped[offset..offset + n]);
        done += n;
    }
}

fn base_block() -> Vec<u8> {
    let mut state = 1u32;
    (0..BLOCK)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 24) as u8
        })
        .collect()
}

/// The test file's bytes as a reader.
struct Pattern {
    base: Vec<u8>,
    pos: u64,
}

impl Read for Pattern {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min((LARGE_FILE_SIZE - self.pos) as usize);
        fill(&self.base, self.pos, &mut buf[..n]);
        self.pos += n as u64;
        Ok(n)
    }
}

fn pattern() -> Pattern {
    Pattern {
        base: base_block(),
        pos: 0,
    }
}

/// A writer that checks it is handed exactly the test file's bytes.
struct PatternChecker {
    base: Vec<u8>,
    pos: u64,
    scratch: Vec<u8>,
}

impl PatternChecker {
    fn new() -> Self {
        Self {
            base: base_block(),
            pos: 0,
            scratch: Vec::new(),
        }
    }
}

impl Write for PatternChecker {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.scratch.resize(buf.len(), 0);
        fill(&self.base, self.pos, &mut self.scratch);
        assert!(
            self.scratch == buf,
            "content differs near offset {}",
            self.pos
        );
        self.pos += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Layers stored as files, each opened through a digest-verifying reader.
struct FileLayers {
    layers: Vec<LayerInfo>,
    paths: Vec<PathBuf>,
}

impl LayerSource for FileLayers {
    fn layers(&self) -> &[LayerInfo] {
        &self.layers
    }
    fn open(&self, index: usize) -> Result<Box<dyn Read + Send>, RootfsError> {
        let file = File::open(&self.paths[index]).map_err(|e| RootfsError::Source(e.into()))?;
        let info = &self.layers[index];
        Ok(Box::new(VerifyingReader::new(
            file,
            info.digest.clone(),
            Some(info.size),
        )))
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn large_file_streams_and_unpacks_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let layer_path = dir.path().join("layer.tar.gz");
    {
        let gzip = flate2::write::GzEncoder::new(
            BufWriter::new(File::create(&layer_path).unwrap()),
            flate2::Compression::fast(),
        );
        let mut builder = tar::Builder::new(gzip);
        for dir in ["usr", "usr/bin"] {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            builder.append_data(&mut header, dir, io::empty()).unwrap();
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o755);
        header.set_size(LARGE_FILE_SIZE);
        builder
            .append_data(&mut header, "usr/bin/big", pattern())
            .unwrap();
        builder
            .into_inner()
            .unwrap()
            .finish()
            .unwrap()
            .flush()
            .unwrap();
    }
    let (digest, size) = hash_reader(File::open(&layer_path).unwrap()).unwrap();
    let source = FileLayers {
        layers: vec![LayerInfo {
            digest,
            media_type: OCI_GZIP.to_string(),
            size,
        }],
        paths: vec![layer_path],
    };

    let before = peak_rss_kib();
    let view = Rootfs::new(&source, NoIndexStore).unwrap();
    let config = RunConfig {
        entrypoint: Some(vec!["big".to_string()]),
        ..RunConfig::default()
    };
    let located = locate(&view, &config, None).unwrap();
    assert_eq!(located.size, LARGE_FILE_SIZE);
    let mut checker = PatternChecker::new();
    assert_eq!(
        view.copy_file(&located, &mut checker).unwrap(),
        LARGE_FILE_SIZE
    );
    assert_eq!(checker.pos, LARGE_FILE_SIZE);
    let unpacked = tempfile::tempdir().unwrap();
    let stats = unpack(&source, unpacked.path()).unwrap();
    assert_eq!(stats.bytes, LARGE_FILE_SIZE);
    let growth = peak_rss_kib().saturating_sub(before);
    eprintln!("peak RSS grew by {growth} KiB (from {before} KiB) streaming and unpacking a {LARGE_FILE_SIZE}-byte file");
    assert!(growth < MEMORY_BUDGET_KIB, "peak RSS grew by {growth} KiB");

    let mut checker = PatternChecker::new();
    io::copy(
        &mut File::open(unpacked.path().join("usr/bin/big")).unwrap(),
        &mut checker,
    )
    .unwrap();
    assert_eq!(checker.pos, LARGE_FILE_SIZE);
}

#[test]
fn tampered_layer_fails_verification_while_indexing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layer.tar");
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o755);
    header.set_size(4);
    builder
        .append_data(&mut header, "app", &b"good"[..])
        .unwrap();
    let mut blob = builder.into_inner().unwrap();
    let digest = Digest::of(&blob);
    // Same size, different bytes past the end-of-archive marker: only a
    // reader that goes on to the blob's end notices.
    *blob.last_mut().unwrap() ^= 0xff;
    std::fs::write(&path, &blob).unwrap();
    let source = FileLayers {
        layers: vec![LayerInfo {
            digest: digest.clone(),
            media_type: "application/vnd.oci.image.layer.v1.tar".to_string(),
            size: blob.len() as u64,
        }],
        paths: vec![path],
    };
    let view = Rootfs::new(&source, NoIndexStore).unwrap();
    let err = view.lookup("/app").unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "corrupt layer {digest}: blob {digest} failed verification"
        )),
        "{err}"
    );
}
