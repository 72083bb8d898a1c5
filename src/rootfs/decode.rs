//! Layer media types and streaming decompression.
//!
//! The media type must be one a runtime accepts; the compression actually
//! applied is then recognised from the stream's magic bytes (as containerd
//! does), so a `docker save` layer labelled `.tar` that is really gzip still
//! reads. [`TarStream`] reads the tar inside leniently where real writers
//! are sloppy: umoci, for one, ends a layer right after its last entry's
//! data, without the padding to a 512-byte block or the two zero blocks that
//! mark the end of the archive.

use std::cell::Cell;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::rc::Rc;

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

/// Size of a tar block: headers and the padding after entry data.
const TAR_BLOCK: u64 = 512;

/// A layer's tar stream that counts the bytes read from it, so that a stream
/// ending right after the last entry's data (no padding, no end-of-archive
/// blocks) can be told from one that was cut inside an entry.
pub(crate) struct TarStream {
    reader: LayerReader,
    read: Rc<Cell<u64>>,
}

/// Where the data of the last entry handed out by a [`TarStream`]'s archive
/// ends, compared with where the stream ended.
pub(crate) struct TarEnd {
    read: Rc<Cell<u64>>,
    data_end: Option<u64>,
}

impl TarStream {
    /// Wraps a layer's decompressed stream; the [`TarEnd`] watches it.
    pub(crate) fn new(reader: LayerReader) -> (Self, TarEnd) {
        let read = Rc::new(Cell::new(0));
        let end = TarEnd {
            read: Rc::clone(&read),
            data_end: None,
        };
        (Self { reader, read }, end)
    }

    /// Reads the rest of the layer, see [`LayerReader::finish`].
    pub(crate) fn finish(self) -> io::Result<()> {
        self.reader.finish()
    }
}

impl Read for TarStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl TarEnd {
    /// Notes an entry the archive handed out (call before reading the next one).
    pub(crate) fn saw<R: Read>(&mut self, entry: &tar::Entry<'_, R>) {
        self.data_end = entry.raw_file_position().checked_add(entry.size());
    }

    /// True when the stream ended exactly where the last entry's data did,
    /// short of a block boundary: the archive lacks only the padding after
    /// that data (and the end-of-archive blocks), so the error reading past
    /// it means the end of the archive, not a truncated entry.
    pub(crate) fn ended_without_padding(&self) -> bool {
        let read = self.read.get();
        self.data_end == Some(read) && read % TAR_BLOCK != 0
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

    /// Reads every entry's name and data, as the index and unpacker do.
    fn entries(tar_bytes: Vec<u8>) -> io::Result<Vec<(String, Vec<u8>)>> {
        let reader = LayerReader::new(Box::new(Cursor::new(tar_bytes)))?;
        let (stream, mut end) = TarStream::new(reader);
        let mut archive = tar::Archive::new(stream);
        let mut found = Vec::new();
        for entry in archive.entries()? {
            let mut entry = match entry {
                Ok(entry) => entry,
                Err(_) if end.ended_without_padding() => break,
                Err(e) => return Err(e),
            };
            end.saw(&entry);
            let mut data = Vec::new();
            entry.read_to_end(&mut data)?;
            found.push((
                String::from_utf8_lossy(&entry.path_bytes()).into_owned(),
                data,
            ));
        }
        archive.into_inner().finish()?;
        Ok(found)
    }

    fn two_entry_tar() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, data) in [("a", &b"first"[..]), ("b", &b"second entry"[..])] {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o755);
            header.set_cksum();
            builder.append_data(&mut header, name, data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn tar_without_final_padding_or_end_blocks_reads_to_its_last_entry() {
        let full = two_entry_tar();
        let expected = vec![
            ("a".to_string(), b"first".to_vec()),
            ("b".to_string(), b"second entry".to_vec()),
        ];
        assert_eq!(entries(full.clone()).unwrap(), expected);
        // Without the two zero blocks, then without the last entry's padding too.
        let data_end = 3 * 512 + b"second entry".len();
        for cut in [full.len() - 1024, data_end] {
            assert_eq!(entries(full[..cut].to_vec()).unwrap(), expected, "{cut}");
        }
    }

    #[test]
    fn tar_cut_inside_an_entry_is_still_an_error() {
        let full = two_entry_tar();
        let data_end = 3 * 512 + b"second entry".len();
        for cut in [data_end - 1, 3 * 512 + 1, 3 * 512 - 100] {
            let result = entries(full[..cut].to_vec());
            assert!(result.is_err(), "cut at {cut}: {result:?}");
        }
    }
}
