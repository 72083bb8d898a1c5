//! Layer media types and streaming decompression.
//!
//! The media type must be one a runtime accepts; the compression actually
//! applied is then recognised from the stream's magic bytes (as containerd
//! does), so a `docker save` layer labelled `.tar` that is really gzip still
//! reads.

use std::io::{self, BufRead, BufReader, Cursor, Read};

use super::{LayerInfo, RootfsError};

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

/// A layer's tar stream, decompressed as it is read.
pub(crate) enum LayerReader {
    Plain(Raw),
    Gzip(Box<flate2::bufread::MultiGzDecoder<Raw>>),
    Zstd(Box<zstd::stream::read::Decoder<'static, Raw>>),
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];

impl LayerReader {
    /// Wraps a compressed blob, choosing the decompressor from its first bytes.
    pub(crate) fn new(mut blob: Box<dyn Read + Send>) -> io::Result<Self> {
        let mut magic = vec![0u8; ZSTD_MAGIC.len()];
        let mut filled = 0;
        while filled < magic.len() {
            match blob.read(&mut magic[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        magic.truncate(filled);
        let gzip = magic.starts_with(GZIP_MAGIC);
        let zstd = magic.starts_with(ZSTD_MAGIC);
        let raw = BufReader::with_capacity(64 * 1024, Cursor::new(magic).chain(blob));
        Ok(if gzip {
            Self::Gzip(Box::new(flate2::bufread::MultiGzDecoder::new(raw)))
        } else if zstd {
            Self::Zstd(Box::new(zstd::stream::read::Decoder::with_buffer(raw)?))
        } else {
            Self::Plain(raw)
        })
    }

    /// Reads the rest of the decompressed stream and then of the blob, so a
    /// verifying reader underneath sees the blob's end and checks it.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        io::copy(&mut self, &mut io::sink())?;
        let mut raw = match self {
            Self::Plain(raw) => raw,
            Self::Gzip(decoder) => decoder.into_inner(),
            Self::Zstd(decoder) => decoder.finish(),
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
        match self {
            Self::Plain(r) => r.read(buf),
            Self::Gzip(r) => r.read(buf),
            Self::Zstd(r) => r.read(buf),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

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
            assert_eq!(out, expected);
            reader.finish().unwrap();
        }
    }
}
