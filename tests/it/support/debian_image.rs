//! An image made the way `FROM debian:bookworm` + `apt-get install tree`
//! makes one, from Debian's real bytes: bookworm's `tree 2.1.0-1` amd64
//! package, downloaded once per test process from deb.debian.org and
//! checked against its known sha256, unpacked into a layer with the dpkg
//! database entries dpkg writes for it (`status`, `info/tree.list`,
//! `info/tree.md5sums`), over a base layer with Debian 12's `os-release`,
//! `debian_version`, usrmerge symlinks and base packages' database entries.
//!
//! Variants ([`Variant`]) play an attacker who changed the binary (and
//! forgot, or did not forget, the md5sums) or a database that names another
//! version than the binary's. `dpkg-deb` (Debian's `dpkg`, essential on
//! every Debian system) reads the package; the only network used is
//! Debian's archive.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};

use super::layout::{write_oci_layout, IndexStyle};
use super::skopeo::push;
use super::{
    Compression, Image, ImageBuilder, ImageSet, Layer, LayerBuilder, MediaTypes, Registry,
};

/// The package's URL in Debian's archive (bookworm's `tree`).
pub const TREE_DEB_URL: &str =
    "http://deb.debian.org/debian/pool/main/t/tree/tree_2.1.0-1_amd64.deb";
/// `sha256:<hex>` of the `.deb` at [`TREE_DEB_URL`], as bookworm's index lists it.
pub const TREE_DEB_SHA256: &str =
    "sha256:4c0dc6088e801285717bae2a98a7672f1e4d2eed4e918355987bc6617a8f490b";
/// The package's version, as its control file and the genuine status say.
pub const TREE_VERSION: &str = "2.1.0-1";
/// The version [`Variant::OtherVersionInDb`]'s status file claims.
pub const OTHER_VERSION: &str = "2.1.0-2";
/// Where the package puts the binary, and where the image runs it from.
pub const TREE_PATH: &str = "/usr/bin/tree";
/// `sha256:<hex>` of the package's `/usr/bin/tree`.
pub const TREE_SHA256: &str =
    "sha256:d2842697b499df657205c6d7f25a93827678e1395ae73494d55c381dc1f86d28";
/// `sha256:<hex>` of `/usr/bin/tree` with [`TAMPERED_OFFSET`] changed.
pub const TAMPERED_TREE_SHA256: &str =
    "sha256:de8303ee2d734f6cea07e9e9441180564711f57af35347610d4ccd3a59606db7";
/// The byte a tampering variant changes: the `2` of the first
/// `tree v2.1.0` in `.rodata` (a version string the program prints), made a `9`.
pub const TAMPERED_OFFSET: usize = 62169;
/// The image's `PATH`, as `debian:bookworm` sets it.
pub const PATH_ENV: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The image's platform.
pub const PLATFORM: &str = "linux/amd64";
/// The tag every variant is pushed under (its repository says the variant).
pub const TAG: &str = "2.1.0-1";

/// Bound on the download: the package is 52 KiB.
const DEB_LIMIT: u64 = 1 << 20;
/// Attempts at the download before giving up (the archive is a CDN).
const DOWNLOAD_ATTEMPTS: usize = 3;

/// Debian 12's `/usr/lib/os-release` (base-files 12.4+deb12u11).
pub const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n\
NAME=\"Debian GNU/Linux\"\n\
VERSION_ID=\"12\"\n\
VERSION=\"12 (bookworm)\"\n\
VERSION_CODENAME=bookworm\n\
ID=debian\n\
HOME_URL=\"https://www.debian.org/\"\n\
SUPPORT_URL=\"https://www.debian.org/support\"\n\
BUG_REPORT_URL=\"https://bugs.debian.org/\"\n";

/// Debian 12's `/etc/debian_version`.
pub const DEBIAN_VERSION: &str = "12.11\n";

/// The base image's status paragraphs (before `tree`, which sorts after
/// them), as dpkg wrote them on bookworm.
const BASE_STATUS: &str = "Package: base-files
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 341
Maintainer: Santiago Vila <sanvila@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 12.4+deb12u11
Replaces: base, dpkg (<= 1.15.0), miscutils
Provides: base
Pre-Depends: awk
Breaks: debian-security-support (<< 2019.04.25), initscripts (<< 2.88dsf-13.3), sendfile (<< 2.1b.20080616-5.2~)
Conffiles:
 /etc/debian_version 8031d1483ffa9c819e6be94c6c77fd2a
 /etc/dpkg/origins/debian c47b6815f67ad1aeccb0d4529bd0b990
 /etc/host.conf 4eb63731c9f5e30903ac4fc07a7fe3d6
 /etc/issue 349d61a0e072d678e3e94923f0c3ce0e
 /etc/issue.net 3ae9b9ff69a78d614864f1957778fecb
 /etc/update-motd.d/10-uname 9e1b832b7b06f566156e7c9e0548247b
Description: Debian base system miscellaneous files
 This package contains the basic filesystem hierarchy of a Debian system, and
 several important miscellaneous files, such as /etc/debian_version,
 /etc/host.conf, /etc/issue, /etc/motd, /etc/profile, and others,
 and the text of several common licenses in use on Debian systems.

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 13001
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u14
Replaces: libc6-amd64
Depends: libgcc-s1
Recommends: libidn2-0 (>= 2.0.5~)
Suggests: glibc-doc, debconf | debconf-2.0, libc-l10n, locales, libnss-nis, libnss-nisplus
Breaks: aide (<< 0.17.3-4+b3), busybox (<< 1.30.1-6), chrony (<< 4.2-3~), fakechroot (<< 2.19-3.5), firefox (<< 91~), firefox-esr (<< 91~), gnumach-image-1.8-486 (<< 2:1.8+git20210923~), gnumach-image-1.8-486-dbg (<< 2:1.8+git20210923~), gnumach-image-1.8-xen-486 (<< 2:1.8+git20210923~), gnumach-image-1.8-xen-486-dbg (<< 2:1.8+git20210923~), hurd (<< 1:0.9.git20220301-2), ioquake3 (<< 1.36+u20200211.f2c61c1~dfsg-2~), iraf-fitsutil (<< 2018.07.06-4), libgegl-0.4-0 (<< 0.4.18), libtirpc1 (<< 0.2.3), locales (<< 2.36), locales-all (<< 2.36), macs (<< 2.2.7.1-3~), nocache (<< 1.1-1~), nscd (<< 2.36), openarena (<< 0.8.8+dfsg-4~), openssh-server (<< 1:8.1p1-5), python3-iptables (<< 1.0.0-2), r-cran-later (<< 0.7.5+dfsg-2), tinydns (<< 1:1.05-14), valgrind (<< 1:3.19.0-1~), wcc (<< 0.0.2+dfsg-3)
Conffiles:
 /etc/ld.so.conf.d/x86_64-linux-gnu.conf d4e7a7b88a71b5ffd9e2644e71a0cfab
Description: GNU C Library: Shared libraries
 Contains the standard libraries that are used by nearly all programs on
 the system. This package includes shared versions of the standard C library
 and the standard math library, as well as many others.
Homepage: https://www.gnu.org/software/libc/libc.html
";

/// `base-files.list`, cut down to what the base layer holds (in dpkg's order).
const BASE_FILES_LIST: &str = "/.
/bin
/etc
/etc/debian_version
/lib
/sbin
/usr
/usr/bin
/usr/lib
/usr/lib/os-release
/usr/sbin
/var
/var/lib
/var/lib/dpkg
/etc/os-release
";

/// `base-files.md5sums`, cut down to the base layer's `os-release`.
const BASE_FILES_MD5SUMS: &str = "07d31e7e63800ab1b7966980709c51eb  usr/lib/os-release\n";

/// `libc6:amd64.list` (a `Multi-Arch: same` package's list is named with its
/// architecture), cut down; the base layer has none of its libraries.
const LIBC6_LIST: &str = "/.
/etc
/etc/ld.so.conf.d
/etc/ld.so.conf.d/x86_64-linux-gnu.conf
/lib
/lib/x86_64-linux-gnu
/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
/lib/x86_64-linux-gnu/libc.so.6
/lib64
/usr
/usr/lib
/usr/lib/x86_64-linux-gnu
/usr/share
/lib64/ld-linux-x86-64.so.2
";

/// The order dpkg writes a status paragraph's known fields in; other
/// fields (`Homepage`) follow in their control-file order.
const STATUS_FIELD_ORDER: [&str; 24] = [
    "Package",
    "Essential",
    "Status",
    "Priority",
    "Section",
    "Installed-Size",
    "Origin",
    "Maintainer",
    "Bugs",
    "Architecture",
    "Multi-Arch",
    "Source",
    "Version",
    "Replaces",
    "Provides",
    "Depends",
    "Pre-Depends",
    "Recommends",
    "Suggests",
    "Breaks",
    "Conflicts",
    "Enhances",
    "Conffiles",
    "Description",
];

/// How the image differs from what `apt-get install tree` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// Exactly what apt makes.
    Genuine,
    /// One byte of `/usr/bin/tree` changed ([`TAMPERED_OFFSET`]); the
    /// database untouched, as an attacker who forgot it would leave it.
    TamperedBinary,
    /// The status file says `Version: 2.1.0-2` ([`OTHER_VERSION`]); the
    /// binary, `tree.list` and `tree.md5sums` are 2.1.0-1's.
    OtherVersionInDb,
    /// The binary changed as in [`Variant::TamperedBinary`] and
    /// `tree.md5sums` updated to it, as an attacker who did not forget would.
    TamperedBinaryAndMd5sums,
}

impl Variant {
    /// The repository the variant is pushed to (tag [`TAG`]).
    pub fn repository(self) -> &'static str {
        match self {
            Variant::Genuine => "debian/tree",
            Variant::TamperedBinary => "debian/tree-tampered",
            Variant::OtherVersionInDb => "debian/tree-other-version",
            Variant::TamperedBinaryAndMd5sums => "debian/tree-tampered-md5sums",
        }
    }

    fn tampers_binary(self) -> bool {
        matches!(
            self,
            Variant::TamperedBinary | Variant::TamperedBinaryAndMd5sums
        )
    }

    /// `sha256:<hex>` of the image's `/usr/bin/tree`.
    pub fn tree_sha256(self) -> &'static str {
        if self.tampers_binary() {
            TAMPERED_TREE_SHA256
        } else {
            TREE_SHA256
        }
    }

    /// The version the image's status file gives `tree`.
    pub fn status_version(self) -> &'static str {
        match self {
            Variant::OtherVersionInDb => OTHER_VERSION,
            _ => TREE_VERSION,
        }
    }
}

/// What `dpkg-deb` reads from the verified package, once per process.
pub struct TreeDeb {
    /// The control file's fields in order, each `(name, value)` with the
    /// value as written after `Name: ` (continuation lines included).
    pub control: Vec<(String, String)>,
    /// The control archive's `md5sums`, verbatim.
    pub md5sums: String,
    /// The data archive (`dpkg-deb --fsys-tarfile`), uncompressed.
    pub data_tar: Vec<u8>,
}

/// The package, downloaded from [`TREE_DEB_URL`] and checked against
/// [`TREE_DEB_SHA256`] on first use (panics if the archive serves other
/// bytes), then read with `dpkg-deb`.
pub fn tree_deb() -> &'static TreeDeb {
    static DEB: OnceLock<TreeDeb> = OnceLock::new();
    DEB.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("debian-tree-deb-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .expect("create the package's temp dir")
            .keep();
        let bytes = download(TREE_DEB_URL);
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        assert_eq!(
            digest, TREE_DEB_SHA256,
            "{TREE_DEB_URL} is not bookworm's tree 2.1.0-1"
        );
        let path = dir.join("tree_2.1.0-1_amd64.deb");
        std::fs::write(&path, &bytes).expect("write the package");
        let control = String::from_utf8(dpkg_deb("--field", &path, &[])).expect("UTF-8 control");
        let md5sums =
            String::from_utf8(dpkg_deb("--info", &path, &["md5sums"])).expect("UTF-8 md5sums");
        let data_tar = dpkg_deb("--fsys-tarfile", &path, &[]);
        TreeDeb {
            control: parse_control(&control),
            md5sums,
            data_tar,
        }
    })
}

/// GETs `url` (bounded to [`DEB_LIMIT`]), on a thread of its own so that a
/// `#[tokio::test]` may call it too.
fn download(url: &'static str) -> Vec<u8> {
    std::thread::spawn(move || {
        let mut last_error = String::new();
        for _ in 0..DOWNLOAD_ATTEMPTS {
            match reqwest::blocking::get(url).and_then(|r| r.error_for_status()) {
                Ok(response) => {
                    let mut bytes = Vec::new();
                    match response.take(DEB_LIMIT + 1).read_to_end(&mut bytes) {
                        Ok(_) if bytes.len() as u64 > DEB_LIMIT => {
                            panic!("{url} is over {DEB_LIMIT} bytes")
                        }
                        Ok(_) => return bytes,
                        Err(e) => last_error = e.to_string(),
                    }
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        panic!("download {url}: {last_error}")
    })
    .join()
    .expect("download thread")
}

/// `dpkg-deb OPTION DEB MEMBERS...`'s stdout (panics unless it succeeds).
fn dpkg_deb(option: &str, deb: &Path, members: &[&str]) -> Vec<u8> {
    let out = Command::new("dpkg-deb")
        .arg(option)
        .arg(deb)
        .args(members)
        .output()
        .expect("run dpkg-deb (Debian's dpkg package)");
    assert!(
        out.status.success(),
        "dpkg-deb {option} {} {members:?}: {}",
        deb.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A control paragraph's fields in order: a line not starting with a space
/// or tab starts a field, the others continue it.
fn parse_control(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields.last_mut().expect("continuation after a field");
            value.push('\n');
            value.push_str(line);
        } else if !line.is_empty() {
            let (name, value) = line.split_once(':').expect("control field has a colon");
            fields.push((name.to_string(), value.trim_start().to_string()));
        }
    }
    fields
}

/// The status paragraph dpkg writes for the installed package: the control
/// fields in dpkg's order with `Status: install ok installed`, `Version`
/// set to `version`.
fn status_paragraph(control: &[(String, String)], version: &str) -> String {
    let status = ("Status".to_string(), "install ok installed".to_string());
    let mut fields: Vec<(String, String)> = control
        .iter()
        .map(|(name, value)| match name.as_str() {
            "Version" => (name.clone(), version.to_string()),
            _ => (name.clone(), value.clone()),
        })
        .chain(std::iter::once(status))
        .collect();
    let rank = |name: &str| {
        STATUS_FIELD_ORDER
            .iter()
            .position(|known| *known == name)
            .unwrap_or(STATUS_FIELD_ORDER.len())
    };
    fields.sort_by_key(|(name, _)| rank(name));
    fields
        .iter()
        .map(|(name, value)| format!("{name}: {value}\n"))
        .collect()
}

/// `/usr/bin/tree` with [`TAMPERED_OFFSET`] made a `9`.
fn tamper(binary: &[u8]) -> Vec<u8> {
    let mut tampered = binary.to_vec();
    assert_eq!(
        &tampered[TAMPERED_OFFSET - 6..TAMPERED_OFFSET + 5],
        b"tree v2.1.0",
        "the byte to change is the version's"
    );
    tampered[TAMPERED_OFFSET] = b'9';
    tampered
}

/// The md5sums line dpkg checks `usr/bin/tree` against, for `binary`.
fn md5sums_with(md5sums: &str, binary: &[u8]) -> String {
    let md5 = md5_hex(binary);
    md5sums
        .lines()
        .map(|line| match line.split_once("  ") {
            Some((_, "usr/bin/tree")) => format!("{md5}  usr/bin/tree\n"),
            _ => format!("{line}\n"),
        })
        .collect()
}

/// `md5sum`'s hex of `bytes` (the md5sums format), from coreutils' `md5sum`.
fn md5_hex(bytes: &[u8]) -> String {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut child = Command::new("md5sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run md5sum (coreutils)");
    child
        .stdin
        .take()
        .expect("md5sum stdin")
        .write_all(bytes)
        .expect("feed md5sum");
    let out = child.wait_with_output().expect("md5sum output");
    assert!(out.status.success(), "md5sum: {out:?}");
    String::from_utf8(out.stdout)
        .expect("md5sum prints ASCII")
        .split_whitespace()
        .next()
        .expect("md5sum prints a digest")
        .to_string()
}

/// The base image's layer (`debian:bookworm`, cut down): usrmerge symlinks,
/// `/etc/os-release -> ../usr/lib/os-release` as base-files ships it,
/// `/etc/debian_version`, and the database entries of two base packages
/// (`base-files`; `libc6`, listed as `libc6:amd64`).
pub fn base_layer() -> Layer {
    LayerBuilder::new()
        .symlink("bin", "usr/bin")
        .symlink("lib", "usr/lib")
        .symlink("lib64", "usr/lib64")
        .symlink("sbin", "usr/sbin")
        .dir("etc", 0o755)
        .file("etc/debian_version", DEBIAN_VERSION.as_bytes(), 0o644)
        .symlink("etc/os-release", "../usr/lib/os-release")
        .dir("usr", 0o755)
        .dir("usr/bin", 0o755)
        .dir("usr/lib", 0o755)
        .file("usr/lib/os-release", OS_RELEASE.as_bytes(), 0o644)
        .dir("usr/lib64", 0o755)
        .dir("usr/sbin", 0o755)
        .dir("var", 0o755)
        .dir("var/lib", 0o755)
        .dir("var/lib/dpkg", 0o755)
        .dir("var/lib/dpkg/info", 0o755)
        .file("var/lib/dpkg/status", BASE_STATUS.as_bytes(), 0o644)
        .file(
            "var/lib/dpkg/info/base-files.list",
            BASE_FILES_LIST.as_bytes(),
            0o644,
        )
        .file(
            "var/lib/dpkg/info/base-files.md5sums",
            BASE_FILES_MD5SUMS.as_bytes(),
            0o644,
        )
        .file(
            "var/lib/dpkg/info/libc6:amd64.list",
            LIBC6_LIST.as_bytes(),
            0o644,
        )
        .build(Compression::Gzip)
}

/// What `apt-get install tree` adds: the package's data tree (modes as the
/// package has them), the whole status file again with `tree`'s paragraph,
/// the previous one as `status-old`, `info/tree.list` and
/// `info/tree.md5sums`, changed as `variant` says.
pub fn package_layer(variant: Variant) -> Layer {
    let deb = tree_deb();
    let mut layer = LayerBuilder::new();
    let mut listed = Vec::new();
    let mut archive = tar::Archive::new(deb.data_tar.as_slice());
    let mut genuine_binary = Vec::new();
    for entry in archive.entries().expect("read the data archive") {
        let mut entry = entry.expect("data archive entry");
        let name = entry
            .path()
            .expect("entry path")
            .to_str()
            .expect("UTF-8 path")
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        let mode = entry.header().mode().expect("entry mode");
        listed.push(if name.is_empty() {
            "/.".to_string()
        } else {
            format!("/{name}")
        });
        match entry.header().entry_type() {
            tar::EntryType::Directory if name.is_empty() => {}
            tar::EntryType::Directory => layer = layer.dir(&name, mode),
            tar::EntryType::Regular => {
                let mut content = Vec::new();
                entry.read_to_end(&mut content).expect("read entry");
                if format!("/{name}") == TREE_PATH {
                    genuine_binary = content.clone();
                    if variant.tampers_binary() {
                        content = tamper(&content);
                    }
                }
                layer = layer.file(&name, &content, mode);
            }
            other => panic!("tree's package has no {other:?} entries ({name})"),
        }
    }
    assert!(!genuine_binary.is_empty(), "the package has {TREE_PATH}");
    let md5sums = match variant {
        Variant::TamperedBinaryAndMd5sums => md5sums_with(&deb.md5sums, &tamper(&genuine_binary)),
        _ => deb.md5sums.clone(),
    };
    let status = format!(
        "{BASE_STATUS}\n{}",
        status_paragraph(&deb.control, variant.status_version())
    );
    let list: String = listed.iter().map(|path| format!("{path}\n")).collect();
    layer
        .file("var/lib/dpkg/status", status.as_bytes(), 0o644)
        .file("var/lib/dpkg/status-old", BASE_STATUS.as_bytes(), 0o644)
        .file("var/lib/dpkg/info/tree.list", list.as_bytes(), 0o644)
        .file("var/lib/dpkg/info/tree.md5sums", md5sums.as_bytes(), 0o644)
        .build(Compression::Gzip)
}

/// The image: [`base_layer`], then [`package_layer`] for `variant`;
/// `Entrypoint: ["tree"]`, [`PATH_ENV`] as its only `Env`, [`PLATFORM`].
pub fn tree_image(variant: Variant) -> Image {
    ImageBuilder::new(PLATFORM)
        .entrypoint(&["tree"])
        .env(PATH_ENV)
        .layer(base_layer())
        .layer(package_layer(variant))
        .with_history()
        .build()
}

/// A [`tree_image`] pushed to a registry.
pub struct PushedImage {
    /// `127.0.0.1:PORT/<variant's repository>:2.1.0-1`.
    pub reference: String,
    /// `sha256:<hex>` of the image manifest (OCI media types).
    pub digest: String,
    /// The image, with its layers' digests (base first).
    pub image: Image,
    /// The OCI layout it was pushed from, tagged [`TAG`] (`oci:DIR:2.1.0-1`).
    pub layout: PathBuf,
}

/// Writes [`tree_image`]`(variant)` as an OCI layout under `dir` and pushes
/// it with skopeo to `registry` as [`Variant::repository`]`:`[`TAG`].
pub fn push_tree_image(registry: &Registry, dir: &Path, variant: Variant) -> PushedImage {
    let image = tree_image(variant);
    let layout = dir.join(format!("{}-layout", variant.repository().replace('/', "-")));
    let written = write_oci_layout(
        &layout,
        TAG,
        &ImageSet::single(image.clone()),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    let reference = registry.reference(&format!("{}:{TAG}", variant.repository()));
    push(&layout, TAG, &reference, registry.credentials());
    PushedImage {
        reference,
        digest: written.top.digest,
        image,
        layout,
    }
}

/// The cache every test that builds a Debian package shares, so that the
/// build root (about a minute and a half of mmdebstrap) is made once per
/// test run: its directory, the key that seals it (where `XDG_STATE_HOME`
/// points a run's `rebuild-compare/cache.key`), and a lock that keeps two
/// tests from making the root at once.
pub struct SharedDebianCache {
    pub dir: &'static Path,
    pub state_home: &'static Path,
    _one_at_a_time: std::sync::MutexGuard<'static, ()>,
}

impl SharedDebianCache {
    /// The cache as the library opens it, sealed with the same key the CLI uses.
    pub fn cache(&self) -> rebuild_compare::image::cache::Cache {
        rebuild_compare::image::cache::Cache::with_key_path(
            self.dir.to_path_buf(),
            Some(self.state_home.join("rebuild-compare/cache.key")),
        )
    }
}

/// Takes the shared Debian cache (blocking while another test holds it).
pub fn shared_debian_cache() -> SharedDebianCache {
    static DIRS: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let dirs = DIRS.get_or_init(|| tempfile::tempdir().expect("temp dir"));
    let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir: &'static Path = dirs.path();
    SharedDebianCache {
        dir: Box::leak(dir.join("cache").into_boxed_path()),
        state_home: Box::leak(dir.join("state").into_boxed_path()),
        _one_at_a_time: guard,
    }
}
