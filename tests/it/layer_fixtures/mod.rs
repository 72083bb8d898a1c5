//! Builds image layers in memory for the rootfs and locate tests: tar
//! entries written header by header (so hostile names are possible),
//! optionally gzip- or zstd-compressed, stacked in a `MemoryLayerSource`.

use std::io::Write;

use rebuild_compare::rootfs::MemoryLayerSource;
use tar::{EntryType, Header};

pub const OCI_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
pub const OCI_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
pub const DOCKER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// One layer's tar stream, built entry by entry.
pub struct Layer {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for Layer {
    fn default() -> Self {
        Self::new()
    }
}

impl Layer {
    pub fn new() -> Self {
        Self {
            builder: tar::Builder::new(Vec::new()),
        }
    }

    /// Appends an entry whose name and link name bytes go into the header
    /// verbatim (both at most 100 bytes), so `../x` and `/abs` are possible.
    pub fn raw(
        mut self,
        name: &[u8],
        entry_type: EntryType,
        link: &[u8],
        data: &[u8],
        mode: u32,
    ) -> Self {
        assert!(
            name.len() <= 100 && link.len() <= 100,
            "raw names are limited to 100 bytes"
        );
        let mut header = Header::new_gnu();
        header.set_entry_type(entry_type);
        header.set_size(data.len() as u64);
        header.set_mode(mode);
        header.set_mtime(0);
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        old.linkname[..link.len()].copy_from_slice(link);
        header.set_cksum();
        self.builder.append(&header, data).unwrap();
        self
    }

    pub fn dir(self, name: &str) -> Self {
        self.dir_mode(name, 0o755)
    }

    pub fn dir_mode(self, name: &str, mode: u32) -> Self {
        self.raw(name.as_bytes(), EntryType::Directory, b"", b"", mode)
    }

    pub fn file(self, name: &str, content: &[u8], mode: u32) -> Self {
        self.raw(name.as_bytes(), EntryType::Regular, b"", content, mode)
    }

    /// An executable regular file (mode 0755).
    pub fn exe(self, name: &str, content: &[u8]) -> Self {
        self.file(name, content, 0o755)
    }

    pub fn symlink(self, name: &str, target: &str) -> Self {
        self.raw(
            name.as_bytes(),
            EntryType::Symlink,
            target.as_bytes(),
            b"",
            0o777,
        )
    }

    pub fn hardlink(self, name: &str, target: &str) -> Self {
        self.raw(
            name.as_bytes(),
            EntryType::Link,
            target.as_bytes(),
            b"",
            0o755,
        )
    }

    pub fn fifo(self, name: &str) -> Self {
        self.raw(name.as_bytes(), EntryType::Fifo, b"", b"", 0o644)
    }

    pub fn char_device(self, name: &str) -> Self {
        self.raw(name.as_bytes(), EntryType::Char, b"", b"", 0o666)
    }

    /// `.wh.NAME` beside `path`, deleting `path` from the layers below.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&marker, b"", 0o644)
    }

    /// `.wh..wh..opq` in `dir`, hiding what the layers below hold there.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"", 0o644)
    }

    /// A file with a long name, stored the GNU way (`././@LongLink`).
    pub fn gnu_long_file(mut self, name: &str, content: &[u8]) -> Self {
        let mut header = Header::new_gnu();
        header.set_entry_type(EntryType::Regular);
        header.set_size(content.len() as u64);
        header.set_mode(0o755);
        self.builder
            .append_data(&mut header, name, content)
            .unwrap();
        self
    }

    /// A file whose name is given by a PAX `path` record (the ustar name is a stub).
    pub fn pax_file(mut self, name: &str, content: &[u8]) -> Self {
        let record_body = format!(" path={name}\n");
        let mut length = record_body.len() + 1;
        while format!("{length}{record_body}").len() != length {
            length += 1;
        }
        let record = format!("{length}{record_body}");
        let mut pax = Header::new_ustar();
        pax.set_entry_type(EntryType::XHeader);
        pax.set_size(record.len() as u64);
        pax.set_mode(0o644);
        pax.as_old_mut().name[..9].copy_from_slice(b"PaxHeader");
        pax.set_cksum();
        self.builder.append(&pax, record.as_bytes()).unwrap();
        let mut header = Header::new_ustar();
        header.set_entry_type(EntryType::Regular);
        header.set_size(content.len() as u64);
        header.set_mode(0o755);
        header.as_old_mut().name[..4].copy_from_slice(b"stub");
        header.set_cksum();
        self.builder.append(&header, content).unwrap();
        self
    }

    pub fn tar(self) -> Vec<u8> {
        self.builder.into_inner().unwrap()
    }

    pub fn gzip(self) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&self.tar()).unwrap();
        encoder.finish().unwrap()
    }

    pub fn zstd(self) -> Vec<u8> {
        zstd::encode_all(&self.tar()[..], 1).unwrap()
    }
}

/// An image of gzip layers, bottom first.
pub fn image(layers: Vec<Layer>) -> MemoryLayerSource {
    let mut source = MemoryLayerSource::new();
    for layer in layers {
        source.push(OCI_GZIP, layer.gzip());
    }
    source
}

/// The usual directory skeleton (`/usr`, `/usr/bin`, `/usr/local/bin`, ...).
pub fn base_dirs() -> Layer {
    Layer::new()
        .dir("bin")
        .dir("usr")
        .dir("usr/bin")
        .dir("usr/sbin")
        .dir("usr/local")
        .dir("usr/local/bin")
        .dir("usr/local/sbin")
        .dir("sbin")
}
