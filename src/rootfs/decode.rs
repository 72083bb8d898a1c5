//! Layer media types and streaming decompression.
//!
//! The media type must be one a runtime accepts; the compression actually
//! applied is then recognised from the stream's magic bytes (as containerd
//! does), so a `docker save` layer labelled `.tar` that is really gzip still
//! reads.
//!
//! Some writers (umoci 0.4 among them) end a layer right after the last
//! file's bytes, without the padding to a 512-byte block and without the
//! end-of-archive blocks. Go's `archive/tar`, and so every runtime, reads
//! such a layer; so do we, by completing the last block with zeros and
//! remembering where the real stream ended: a file whose bytes would come
//! from that padding is truncated, never zero-filled (see [`StreamEnd`]).

use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::sync::{Arc, OnceLock};

use super::error::RootfsError;
use super::igzip::GzipDecoder;
use super::layer::LayerInfo;
use crate::image::digest::Digest;

/// Layer media types a container runtime unpacks.
const SUPPORTED_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.foreign.diff.tar",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// Fails for a layer whose media type no runtime would unpack.
pub(crate) fn check_media_type(layer: &LayerInfo) -> Result<(), RootfsError> {
    if SUPPORTED_MEDIA_TYPES.contains(&layer.media_type.as_str()) {
        Ok(())
    } else {
        Err(RootfsError::UnsupportedMediaType {
            media_type: layer.media_type.clone(),
            layer: layer.digest.clone(),
        })
    }
}

type Raw = BufReader<io::Chain<Cursor<Vec<u8>>, Box<dyn Read + Send>>>;

/// A layer's tar stream, decompressed as it is read, its last block completed.
pub(crate) struct LayerReader {
    decoder: Decoder,
    /// Bytes of the tar stream read so far, padding included.
    position: u64,
    /// Zero bytes still to give to complete the last block.
    padding: u64,
    end: StreamEnd,
}

/// Where a layer's tar stream really ended, once it ended inside a
/// 512-byte block; shared with the code that reads its entries.
#[derive(Debug, Clone, Default)]
pub(crate) struct StreamEnd(Arc<OnceLock<u64>>);

impl StreamEnd {
    /// Fails if an entry whose content ends at `content_end` (offset in the
    /// tar stream) had bytes made up by the padding.
    pub(crate) fn check(
        &self,
        layer: &Digest,
        content_end: u64,
        name: &str,
    ) -> Result<(), RootfsError> {
        match self.0.get() {
            Some(&end) if content_end > end => {
                Err(RootfsError::truncated(layer, name, content_end - end))
            }
            _ => Ok(()),
        }
    }
}

enum Decoder {
    Plain(Raw),
    Gzip(GzipDecoder<Raw>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Raw>>),
}

/// The tar block size.
const BLOCK: u64 = 512;

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

impl LayerReader {
    /// Wraps a compressed blob, choosing the decompressor from its first bytes.
    pub(crate) fn new(mut blob: Box<dyn Read + Send>) -> io::Result<Self> {
        let mut magic = Vec::with_capacity(ZSTD_MAGIC.len());
        blob.by_ref()
            .take(ZSTD_MAGIC.len() as u64)
            .read_to_end(&mut magic)?;
        let gzip = magic.starts_with(GZIP_MAGIC);
        let zstd = magic.starts_with(ZSTD_MAGIC);
        let raw = BufReader::with_capacity(64 * 1024, Cursor::new(magic).chain(blob));
        let decoder = if gzip {
            Decoder::Gzip(GzipDecoder::new(raw))
        } else if zstd {
            Decoder::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(raw)?))
        } else {
            Decoder::Plain(raw)
        };
        Ok(Self {
            decoder,
            position: 0,
            padding: 0,
            end: StreamEnd::default(),
        })
    }

    /// Where the stream really ended, known once it has.
    pub(crate) fn end(&self) -> StreamEnd {
        self.end.clone()
    }

    /// Reads the rest of the decompressed stream and then of the blob, so a
    /// verifying reader underneath sees the blob's end and checks it.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        let mut raw = match self.decoder {
            Decoder::Plain(raw) => raw,
            Decoder::Gzip(decoder) => decoder.into_inner(),
            Decoder::Zstd(decoder) => decoder.finish(),
        };
        loop {
            let available = raw.fill_buf()?.len();
            if available == 0 {
                return Ok(());
            }
            raw.consume(available);
        }
    }
}

impl Read for LayerReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.padding == 0 {
            let n = match &mut self.decoder {
                Decoder::Plain(r) => r.read(buf)?,
                Decoder::Gzip(r) => r.read(buf)?,
                Decoder::Zstd(r) => r.read(buf)?,
            };
            self.position += n as u64;
            if n > 0 || buf.is_empty() || self.end.0.get().is_some() {
                return Ok(n);
            }
            let partial = self.position % BLOCK;
            if partial == 0 {
                return Ok(0);
            }
            // Only the last block's completion; what follows is a clean end.
            let _ = self.end.0.set(self.position);
            self.padding = BLOCK - partial;
        }
        let n = buf
            .len()
            .min(usize::try_from(self.padding).unwrap_or(usize::MAX));
        buf[..n].fill(0);
        self.padding -= n as u64;
        self.position += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::digest::Digest;

    fn layer(media_type: &str) -> LayerInfo {
        LayerInfo {
            digest: Digest::of(b"layer"),
            media_type: media_type.to_string(),
            size: 0,
        }
    }

    #[test]
    fn runtime_layer_media_types_are_accepted() {
        for media_type in SUPPORTED_MEDIA_TYPES {
            assert!(check_media_type(&layer(media_type)).is_ok(), "{media_type}");
        }
    }

    #[test]
    fn other_media_types_are_rejected_by_name() {
        let err = check_media_type(&layer("application/vnd.oci.image.config.v1+json")).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "unsupported layer media type application/vnd.oci.image.config.v1+json (layer {})",
                Digest::of(b"layer")
            )
        );
    }

    #[test]
    fn compression_is_recognised_from_the_stream() {
        let plain = b"hello, layer".to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut gz, &plain).unwrap();
        let gz = gz.finish().unwrap();
        let zst = zstd::encode_all(&plain[..], 1).unwrap();
        for blob in [plain.clone(), gz, zst, b"ab".to_vec()] {
            let expected = if blob == b"ab" {
                b"ab".to_vec()
            } else {
                plain.clone()
            };
            let mut reader = LayerReader::new(Box::new(Cursor::new(blob))).unwrap();
            let mut out = Vec::new();
            reader.read_to_end(&mut out).unwrap();
            assert_eq!(out[..expected.len()], expected);
            reader.finish().unwrap();
        }
    }

    #[test]
    fn a_stream_ending_inside_a_block_is_completed_with_zeros_and_its_end_kept() {
        let mut reader = LayerReader::new(Box::new(Cursor::new(vec![7u8; 700]))).unwrap();
        let end = reader.end();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 1024);
        assert_eq!(out[..700], [7u8; 700]);
        assert!(out[700..].iter().all(|&b| b == 0));
        let layer = Digest::of(b"layer");
        assert!(end.check(&layer, 700, "/bin/app").is_ok());
        assert_eq!(
            end.check(&layer, 710, "/bin/app").unwrap_err().to_string(),
            format!(
                "corrupt layer {layer}: the layer ends inside /bin/app: 10 bytes of it are missing"
            )
        );
    }

    #[test]
    fn a_stream_ending_on_a_block_boundary_is_left_alone() {
        let mut reader = LayerReader::new(Box::new(Cursor::new(vec![7u8; 1024]))).unwrap();
        let end = reader.end();
        let mut out = Vec::new();
        reader.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 1024);
        assert!(end.check(&Digest::of(b"layer"), 4096, "/bin/app").is_ok());
    }
}
