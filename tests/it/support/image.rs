//! In-memory layer and image builders: tar layers (including hostile
//! entries written with raw headers), compression with the matching media
//! type, image configs and multi-platform image sets.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

use serde_json::json;
use sha2::{Digest as _, Sha256};
use tar::{EntryType, Header};

/// How a layer blob is compressed; decides the layer's media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar (`application/vnd.oci.image.layer.v1.tar`).
    None,
    /// gzip (`...tar+gzip`; Docker: `application/vnd.docker.image.rootfs.diff.tar.gzip`).
    Gzip,
    /// zstd (`...tar+zstd`).
    Zstd,
}

/// Which media-type family manifests, configs and layers are written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaTypes {
    /// OCI image spec media types.
    Oci,
    /// Docker schema2 manifest / manifest list media types.
    Docker,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Where a layer blob's bytes live.
#[derive(Clone)]
enum BlobSource {
    Memory(Arc<Vec<u8>>),
    File(Arc<tempfile::TempPath>),
}

/// A finished layer blob: compressed bytes (in memory, or in a temp file for
/// large layers), its digest/size and the diff_id of the uncompressed tar.
#[derive(Clone)]
pub struct Layer {
    /// How the blob is compressed.
    pub compression: Compression,
    /// `sha256:<hex>` of the (compressed) blob, as referenced by manifests.
    pub digest: String,
    /// `sha256:<hex>` of the uncompressed tar, as listed in `rootfs.diff_ids`.
    pub diff_id: String,
    /// Size of the (compressed) blob in bytes.
    pub size: u64,
    blob: BlobSource,
}

impl Layer {
    /// The layer media type for `media` (Docker has `.tar`, `.tar.gzip`, `.tar.zstd`).
    pub fn media_type(&self, media: MediaTypes) -> &'static str {
        match (media, self.compression) {
            (MediaTypes::Oci, Compression::None) => "application/vnd.oci.image.layer.v1.tar",
            (MediaTypes::Oci, Compression::Gzip) => "application/vnd.oci.image.layer.v1.tar+gzip",
            (MediaTypes::Oci, Compression::Zstd) => "application/vnd.oci.image.layer.v1.tar+zstd",
            (MediaTypes::Docker, Compression::None) => {
                "application/vnd.docker.image.rootfs.diff.tar"
            }
            (MediaTypes::Docker, Compression::Gzip) => {
                "application/vnd.docker.image.rootfs.diff.tar.gzip"
            }
            (MediaTypes::Docker, Compression::Zstd) => {
                "application/vnd.docker.image.rootfs.diff.tar.zstd"
            }
        }
    }

    /// The blob bytes (reads the temp file for large layers).
    pub fn blob_bytes(&self) -> Vec<u8> {
        match &self.blob {
            BlobSource::Memory(bytes) => bytes.as_ref().clone(),
            BlobSource::File(path) => fs::read::<&Path>(path).expect("read large layer blob"),
        }
    }

    /// Copies the blob to `dest` (streaming for large layers).
    pub fn write_blob_to(&self, dest: &Path) {
        match &self.blob {
            BlobSource::Memory(bytes) => fs::write(dest, bytes.as_slice()),
            BlobSource::File(path) => fs::copy::<&Path, _>(path, dest).map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("write layer blob {}: {e}", dest.display()));
    }

    /// The uncompressed tar (decompresses the blob; small layers only).
    pub fn tar_bytes(&self) -> Vec<u8> {
        decompress(self.compression, &self.blob_bytes())
    }
}

/// Decompresses `blob` according to `compression`.
pub fn decompress(compression: Compression, blob: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match compression {
        Compression::None => out.extend_from_slice(blob),
        Compression::Gzip => {
            flate2::read::GzDecoder::new(blob)
                .read_to_end(&mut out)
                .expect("gunzip layer");
        }
        Compression::Zstd => out = zstd::decode_all(blob).expect("unzstd layer"),
    }
    out
}

fn compress(compression: Compression, tar: &[u8]) -> Vec<u8> {
    match compression {
        Compression::None => tar.to_vec(),
        Compression::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(tar).expect("gzip layer");
            enc.finish().expect("gzip layer")
        }
        Compression::Zstd => zstd::encode_all(tar, 3).expect("zstd layer"),
    }
}

/// Builds one layer tar in memory, entry by entry, in call order.
///
/// All entries are owned by 0:0 with mtime 0. Normal entries use GNU
/// headers, so paths or link targets over 100 bytes become GNU
/// `././@LongLink` records; [`LayerBuilder::pax_file`] writes a PAX `path`
/// record instead. `raw_entry` and the device/fifo helpers write headers as
/// given, bypassing the tar crate's path checks.
pub struct LayerBuilder {
    tar: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    /// An empty layer.
    pub fn new() -> Self {
        let mut tar = tar::Builder::new(Vec::new());
        tar.mode(tar::HeaderMode::Deterministic);
        LayerBuilder { tar }
    }

    fn header(&self, kind: EntryType, mode: u32, size: u64) -> Header {
        let mut h = Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(size);
        h
    }

    /// A regular file at `path` with `content` and permission `mode` (e.g. 0o755).
    pub fn file(mut self, path: &str, content: &[u8], mode: u32) -> Self {
        let mut h = self.header(EntryType::Regular, mode, content.len() as u64);
        self.tar
            .append_data(&mut h, path, content)
            .unwrap_or_else(|e| panic!("append file {path}: {e}"));
        self
    }

    /// A regular file whose (long) `path` is carried in a PAX extended header
    /// (`path=` record); the ustar name field holds a truncated placeholder.
    pub fn pax_file(mut self, path: &str, content: &[u8], mode: u32) -> Self {
        self.tar
            .append_pax_extensions([("path", path.as_bytes())])
            .unwrap_or_else(|e| panic!("append pax header for {path}: {e}"));
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::Regular);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_size(content.len() as u64);
        let short = &path.as_bytes()[..path.len().min(99)];
        h.as_old_mut().name[..short.len()].copy_from_slice(short);
        h.set_cksum();
        self.tar
            .append(&h, content)
            .unwrap_or_else(|e| panic!("append pax file {path}: {e}"));
        self
    }

    /// A directory at `path` (no trailing slash needed) with `mode`.
    pub fn dir(mut self, path: &str, mode: u32) -> Self {
        let mut h = self.header(EntryType::Directory, mode, 0);
        self.tar
            .append_data(&mut h, path, io::empty())
            .unwrap_or_else(|e| panic!("append dir {path}: {e}"));
        self
    }

    /// A symlink at `path` pointing to `target` verbatim (absolute, `..`,
    /// dangling or looping targets are all allowed).
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        let mut h = self.header(EntryType::Symlink, 0o777, 0);
        self.tar
            .append_link(&mut h, path, target)
            .unwrap_or_else(|e| panic!("append symlink {path} -> {target}: {e}"));
        self
    }

    /// A hardlink at `path` to `target` (a path inside the image: a file in
    /// this or an earlier layer; tar hardlink names have no leading `/`).
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        let mut h = self.header(EntryType::Link, 0o644, 0);
        self.tar
            .append_link(&mut h, path, target)
            .unwrap_or_else(|e| panic!("append hardlink {path} => {target}: {e}"));
        self
    }

    /// A whiteout deleting `path` from lower layers: writes `dir/.wh.NAME`.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = match path.rsplit_once('/') {
            Some((dir, name)) => (format!("{dir}/"), name),
            None => (String::new(), path),
        };
        self.file(&format!("{dir}.wh.{name}"), b"", 0o644)
    }

    /// An opaque-directory marker `dir/.wh..wh..opq` (hides lower contents of `dir`).
    pub fn opaque(self, dir: &str) -> Self {
        self.file(
            &format!("{}/.wh..wh..opq", dir.trim_end_matches('/')),
            b"",
            0o644,
        )
    }

    /// Any entry with `name` (≤ 100 bytes) written byte-for-byte into the
    /// header — for hostile names such as `../escape` or `/abs` that the tar
    /// crate refuses. `link_name` (≤ 100 bytes) is used for links; `content`
    /// becomes the entry data (use `b""` for non-files).
    pub fn raw_entry(
        mut self,
        name: &[u8],
        kind: EntryType,
        link_name: &[u8],
        content: &[u8],
        mode: u32,
    ) -> Self {
        let mut h = self.header(kind, mode, content.len() as u64);
        write_name(&mut h, name);
        if !link_name.is_empty() {
            assert!(link_name.len() <= 100, "raw link name over 100 bytes");
            h.as_old_mut().linkname[..link_name.len()].copy_from_slice(link_name);
        }
        h.set_cksum();
        self.tar.append(&h, content).unwrap_or_else(|e| {
            panic!("append raw entry {:?}: {e}", String::from_utf8_lossy(name))
        });
        self
    }

    fn device(mut self, kind: EntryType, name: &str, major: u32, minor: u32) -> Self {
        let mut h = self.header(kind, 0o600, 0);
        write_name(&mut h, name.as_bytes());
        h.set_device_major(major).expect("device major");
        h.set_device_minor(minor).expect("device minor");
        h.set_cksum();
        self.tar
            .append(&h, io::empty())
            .unwrap_or_else(|e| panic!("append device {name}: {e}"));
        self
    }

    /// A character device node at `path` (e.g. `dev/null`, 1, 3).
    pub fn char_device(self, path: &str, major: u32, minor: u32) -> Self {
        self.device(EntryType::Char, path, major, minor)
    }

    /// A block device node at `path`.
    pub fn block_device(self, path: &str, major: u32, minor: u32) -> Self {
        self.device(EntryType::Block, path, major, minor)
    }

    /// A FIFO (named pipe) at `path`.
    pub fn fifo(self, path: &str) -> Self {
        self.device(EntryType::Fifo, path, 0, 0)
    }

    /// The uncompressed tar built so far.
    pub fn into_tar(self) -> Vec<u8> {
        self.tar.into_inner().expect("finish layer tar")
    }

    /// Finishes the tar and compresses it into a [`Layer`].
    pub fn build(self, compression: Compression) -> Layer {
        let tar = self.into_tar();
        let blob = compress(compression, &tar);
        Layer {
            compression,
            digest: sha256_digest(&blob),
            diff_id: sha256_digest(&tar),
            size: blob.len() as u64,
            blob: BlobSource::Memory(Arc::new(blob)),
        }
    }

    /// A layer with one regular file `path` (mode 0755) of `size` bytes of
    /// deterministic pseudo-random data from `seed`, streamed through the
    /// compressor into a temp file in `tmp_dir` (never held in memory; the
    /// file is deleted when the last clone of the layer drops). Random data
    /// does not compress: gzip is slow at 1 GiB, prefer `None` or `Zstd`.
    pub fn large_file(
        tmp_dir: &Path,
        path: &str,
        size: u64,
        seed: u64,
        compression: Compression,
    ) -> Layer {
        Self::large_file_from(tmp_dir, path, size, PseudoRandom::new(seed), compression)
    }

    /// Like [`LayerBuilder::large_file`], with the file's `size` bytes read
    /// from `content` (which must yield at least that many).
    pub fn large_file_from(
        tmp_dir: &Path,
        path: &str,
        size: u64,
        content: impl Read,
        compression: Compression,
    ) -> Layer {
        let file = tempfile::Builder::new()
            .prefix("large-layer-")
            .tempfile_in(tmp_dir)
            .expect("create large layer temp file");
        let (file, temp_path) = file.into_parts();
        let blob_hasher = HashingWriter::new(io::BufWriter::with_capacity(1 << 20, file));
        let (blob_hasher, tar_hasher_digest) = match compression {
            Compression::None => {
                // Blob and tar are the same bytes: hash them once.
                let hw = write_large_tar(blob_hasher, path, size, content);
                let (mut buf, digest, blob_size) = hw.finish();
                buf.flush().expect("flush large layer");
                return Layer {
                    compression,
                    diff_id: digest.clone(),
                    digest,
                    size: blob_size,
                    blob: BlobSource::File(Arc::new(temp_path)),
                };
            }
            Compression::Gzip => {
                let enc = flate2::write::GzEncoder::new(blob_hasher, flate2::Compression::fast());
                let hw = write_large_tar(HashingWriter::new(enc), path, size, content);
                let (enc, tar_digest, _) = hw.finish();
                (enc.finish().expect("finish gzip"), tar_digest)
            }
            Compression::Zstd => {
                let enc = zstd::Encoder::new(blob_hasher, 1).expect("zstd encoder");
                let hw = write_large_tar(HashingWriter::new(enc), path, size, content);
                let (enc, tar_digest, _) = hw.finish();
                (enc.finish().expect("finish zstd"), tar_digest)
            }
        };
        let (mut buf, digest, blob_size) = blob_hasher.finish();
        buf.flush().expect("flush large layer");
        Layer {
            compression,
            digest,
            diff_id: tar_hasher_digest,
            size: blob_size,
            blob: BlobSource::File(Arc::new(temp_path)),
        }
    }
}

fn write_name(h: &mut Header, name: &[u8]) {
    assert!(name.len() <= 100, "raw entry name over 100 bytes");
    let field = &mut h.as_old_mut().name;
    field.fill(0);
    field[..name.len()].copy_from_slice(name);
}

fn write_large_tar<W: Write>(out: W, path: &str, size: u64, content: impl Read) -> W {
    let mut tar = tar::Builder::new(out);
    let mut h = Header::new_gnu();
    h.set_entry_type(EntryType::Regular);
    h.set_mode(0o755);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(size);
    tar.append_data(&mut h, path, content.take(size))
        .expect("stream large file into tar");
    tar.into_inner().expect("finish large tar")
}

/// Deterministic pseudo-random bytes (xorshift64*), endless.
pub struct PseudoRandom {
    state: u64,
}

impl PseudoRandom {
    /// A stream determined by `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        PseudoRandom {
            state: seed ^ 0x9e37_79b9_7f4a_7c15,
        }
    }

    fn next_u64(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

impl Read for PseudoRandom {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
        Ok(buf.len())
    }
}

/// Passes writes through while hashing (sha256) and counting them.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn finish(self) -> (W, String, u64) {
        let digest = format!("sha256:{}", hex::encode(self.hasher.finalize()));
        (self.inner, digest, self.count)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `os/arch[/variant]` of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlatformSpec {
    /// e.g. `linux`.
    pub os: String,
    /// e.g. `amd64`, `arm64`, `arm`.
    pub architecture: String,
    /// e.g. `v7`, `v8`.
    pub variant: Option<String>,
}

impl PlatformSpec {
    /// Parses `os/arch[/variant]`; panics on other shapes.
    pub fn parse(s: &str) -> Self {
        let parts: Vec<&str> = s.split('/').collect();
        match parts.as_slice() {
            [os, arch] => PlatformSpec {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: None,
            },
            [os, arch, variant] => PlatformSpec {
                os: os.to_string(),
                architecture: arch.to_string(),
                variant: Some(variant.to_string()),
            },
            _ => panic!("platform must be os/arch[/variant], got {s:?}"),
        }
    }

    /// The OCI `platform` object for index entries.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = json!({"architecture": self.architecture, "os": self.os});
        if let Some(variant) = &self.variant {
            v["variant"] = json!(variant);
        }
        v
    }
}

/// Builds an image config plus its ordered layers.
pub struct ImageBuilder {
    platform: PlatformSpec,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    env: Vec<String>,
    working_dir: Option<String>,
    user: Option<String>,
    labels: Vec<(String, String)>,
    annotations: Vec<(String, String)>,
    layers: Vec<Layer>,
    history: bool,
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

impl ImageBuilder {
    /// An image for `platform` (`os/arch[/variant]`, e.g. `linux/arm/v7`)
    /// with no layers and an empty config.
    pub fn new(platform: &str) -> Self {
        ImageBuilder {
            platform: PlatformSpec::parse(platform),
            entrypoint: None,
            cmd: None,
            env: Vec::new(),
            working_dir: None,
            user: None,
            labels: Vec::new(),
            annotations: Vec::new(),
            layers: Vec::new(),
            history: false,
        }
    }

    /// Sets `config.Entrypoint`.
    pub fn entrypoint(mut self, args: &[&str]) -> Self {
        self.entrypoint = Some(strings(args));
        self
    }

    /// Sets `config.Cmd`.
    pub fn cmd(mut self, args: &[&str]) -> Self {
        self.cmd = Some(strings(args));
        self
    }

    /// Appends `KEY=VALUE` to `config.Env`.
    pub fn env(mut self, key_value: &str) -> Self {
        self.env.push(key_value.to_string());
        self
    }

    /// Sets `config.WorkingDir`.
    pub fn working_dir(mut self, dir: &str) -> Self {
        self.working_dir = Some(dir.to_string());
        self
    }

    /// Sets `config.User`.
    pub fn user(mut self, user: &str) -> Self {
        self.user = Some(user.to_string());
        self
    }

    /// Adds `config.Labels[key] = value`.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.labels.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds `annotations[key] = value` to the image manifest (as
    /// `docker buildx build --annotation manifest:KEY=VALUE` does).
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.push((key.to_string(), value.to_string()));
        self
    }

    /// Appends a layer (lowest first).
    pub fn layer(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    /// Adds a `history` array with one non-empty entry per layer.
    pub fn with_history(mut self) -> Self {
        self.history = true;
        self
    }

    /// Serialises the config and returns the finished [`Image`].
    pub fn build(self) -> Image {
        let mut config = serde_json::Map::new();
        if let Some(v) = &self.entrypoint {
            config.insert("Entrypoint".into(), json!(v));
        }
        if let Some(v) = &self.cmd {
            config.insert("Cmd".into(), json!(v));
        }
        if !self.env.is_empty() {
            config.insert("Env".into(), json!(self.env));
        }
        if let Some(v) = &self.working_dir {
            config.insert("WorkingDir".into(), json!(v));
        }
        if let Some(v) = &self.user {
            config.insert("User".into(), json!(v));
        }
        if !self.labels.is_empty() {
            let labels: serde_json::Map<String, serde_json::Value> = self
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            config.insert("Labels".into(), serde_json::Value::Object(labels));
        }
        let diff_ids: Vec<&str> = self.layers.iter().map(|l| l.diff_id.as_str()).collect();
        let mut doc = json!({
            "created": "1970-01-01T00:00:00Z",
            "architecture": self.platform.architecture,
            "os": self.platform.os,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        });
        if let Some(variant) = &self.platform.variant {
            doc["variant"] = json!(variant);
        }
        if self.history {
            let history: Vec<serde_json::Value> = (0..self.layers.len())
                .map(|i| {
                    json!({"created": "1970-01-01T00:00:00Z",
                           "created_by": format!("harness layer {i}")})
                })
                .collect();
            doc["history"] = json!(history);
        }
        let config_bytes = serde_json::to_vec(&doc).expect("serialise image config");
        Image {
            platform: self.platform,
            config_digest: sha256_digest(&config_bytes),
            config: config_bytes,
            layers: self.layers,
            annotations: self.annotations,
        }
    }
}

/// A finished single-platform image: config JSON bytes plus layers.
#[derive(Clone)]
pub struct Image {
    /// The platform recorded in the config and in index entries.
    pub platform: PlatformSpec,
    /// The exact config blob bytes.
    pub config: Vec<u8>,
    /// `sha256:<hex>` of `config`.
    pub config_digest: String,
    /// Layers, lowest first.
    pub layers: Vec<Layer>,
    /// The manifest's `annotations` (omitted from the manifest when empty).
    pub annotations: Vec<(String, String)>,
}

impl Image {
    /// The config media type for `media`.
    pub fn config_media_type(media: MediaTypes) -> &'static str {
        match media {
            MediaTypes::Oci => "application/vnd.oci.image.config.v1+json",
            MediaTypes::Docker => "application/vnd.docker.container.image.v1+json",
        }
    }

    /// The image manifest JSON bytes for `media` (OCI manifest or Docker schema2).
    pub fn manifest_bytes(&self, media: MediaTypes) -> Vec<u8> {
        let layers: Vec<serde_json::Value> = self
            .layers
            .iter()
            .map(|l| json!({"mediaType": l.media_type(media), "digest": l.digest, "size": l.size}))
            .collect();
        let mut doc = json!({
            "schemaVersion": 2,
            "mediaType": manifest_media_type(media),
            "config": {
                "mediaType": Image::config_media_type(media),
                "digest": self.config_digest,
                "size": self.config.len(),
            },
            "layers": layers,
        });
        if !self.annotations.is_empty() {
            doc["annotations"] = annotations_json(&self.annotations);
        }
        serde_json::to_vec(&doc).expect("serialise manifest")
    }
}

/// `{"key": "value", ...}` of annotation pairs, in order.
pub fn annotations_json(pairs: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(pairs.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// The image manifest media type for `media`.
pub fn manifest_media_type(media: MediaTypes) -> &'static str {
    match media {
        MediaTypes::Oci => "application/vnd.oci.image.manifest.v1+json",
        MediaTypes::Docker => "application/vnd.docker.distribution.manifest.v2+json",
    }
}

/// The index / manifest list media type for `media`.
pub fn index_media_type(media: MediaTypes) -> &'static str {
    match media {
        MediaTypes::Oci => "application/vnd.oci.image.index.v1+json",
        MediaTypes::Docker => "application/vnd.docker.distribution.manifest.list.v2+json",
    }
}

/// One or more platform images published under one tag, optionally with a
/// BuildKit-style attestation manifest per image.
#[derive(Clone)]
pub struct ImageSet {
    /// The platform images, in index order.
    pub images: Vec<Image>,
    /// Whether the index also lists one attestation manifest per image
    /// (platform `unknown/unknown`, annotations
    /// `vnd.docker.reference.type: attestation-manifest` and
    /// `vnd.docker.reference.digest: <image manifest digest>`).
    pub attestations: bool,
    /// The index's own `annotations` (index style only; omitted when empty).
    pub annotations: Vec<(String, String)>,
}

impl ImageSet {
    /// A set of `images` without attestations.
    pub fn new(images: Vec<Image>) -> Self {
        assert!(!images.is_empty(), "an ImageSet needs at least one image");
        ImageSet {
            images,
            attestations: false,
            annotations: Vec::new(),
        }
    }

    /// A set holding one image.
    pub fn single(image: Image) -> Self {
        Self::new(vec![image])
    }

    /// Adds `annotations[key] = value` to the index (as `docker buildx build
    /// --annotation index:KEY=VALUE` does).
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.push((key.to_string(), value.to_string()));
        self
    }

    /// Adds an attestation manifest entry after each image (index style only).
    pub fn with_attestations(mut self) -> Self {
        self.attestations = true;
        self
    }
}
