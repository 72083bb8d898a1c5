//! Debian's signed archive and `.deb` files (`distro::archive`,
//! `distro::deb`): the real archive at deb.debian.org for bookworm's
//! `tree`, and a loopback archive the tests write and sign with a key they
//! make, whose release, index and pool files they then corrupt one at a
//! time; and `.deb` files built here with hostile members.

use crate::support::{Answer, HostileServer};

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rebuild_compare::distro::archive::fetch::FetchError;
use rebuild_compare::distro::archive::keyring::SignatureError;
use rebuild_compare::distro::archive::{Archive, ArchiveConfig, ArchiveError};
use rebuild_compare::distro::deb::{self, DebError};
use rebuild_compare::image::cache::Cache;
use rebuild_compare::image::digest::Digest;

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, KeyType, SecretKeyParamsBuilder, SignedPublicKey,
    SignedSecretKey, SubkeyParamsBuilder,
};
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::ser::Serialize as _;
use pgp::types::{Duration as PgpDuration, KeyDetails as _, Password, Tag, Timestamp};
use rand::SeedableRng;

/// A cache in `dir`, sealed with a key beside it.
fn cache_in(dir: &Path) -> Cache {
    Cache::with_key_path(dir.join("cache"), Some(dir.join("cache.key")))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Digest::of(bytes).hex().to_string()
}

#[test]
fn takes_bookworms_tree_from_the_signed_archive_and_its_binary_from_the_deb() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let archive = Archive::new(ArchiveConfig::default(), &cache_in(tmp.path()))
        .expect("the host's debian-archive-keyring (scripts/install-test-deps.sh)");
    let file = archive
        .binary("bookworm", "tree", "2.1.0-1", "amd64")
        .expect("tree 2.1.0-1 is in bookworm");
    assert_eq!(
        file.sha256.hex(),
        "4c0dc6088e801285717bae2a98a7672f1e4d2eed4e918355987bc6617a8f490b"
    );
    assert_eq!(
        (
            file.suite.as_str(),
            file.url.as_str(),
            file.release_url.as_str()
        ),
        (
            "bookworm",
            "http://deb.debian.org/debian/pool/main/t/tree/tree_2.1.0-1_amd64.deb",
            "http://deb.debian.org/debian/dists/bookworm/InRelease"
        )
    );
    assert_eq!(file.signed_by.len(), 40, "{}", file.signed_by);
    let out = tmp.path().join("tree");
    let size = deb::extract_file(&file.path, "/usr/bin/tree", &out).expect("extracts");
    let bytes = std::fs::read(&out).expect("read");
    assert_eq!(size, Some(bytes.len() as u64));
    assert_eq!(
        sha256_hex(&bytes),
        "d2842697b499df657205c6d7f25a93827678e1395ae73494d55c381dc1f86d28"
    );
    assert_eq!(
        deb::extract_file(&file.path, "/usr/bin/no-such-tool", &tmp.path().join("x"))
            .expect("reads"),
        None
    );
    assert!(!tmp.path().join("x").exists());
}

#[test]
fn takes_bookworms_tree_source_package_with_its_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let archive = Archive::new(ArchiveConfig::default(), &cache_in(tmp.path())).expect("archive");
    let source = archive
        .source("bookworm", "tree", "2.1.0-1")
        .expect("tree 2.1.0-1 source is in bookworm");
    assert_eq!(source.dsc, "tree_2.1.0-1.dsc");
    assert_eq!(
        source.url,
        "http://deb.debian.org/debian/pool/main/t/tree/tree_2.1.0-1.dsc"
    );
    assert_eq!(source.entry.get("Version"), Some("2.1.0-1"));
    let mut names: Vec<String> = std::fs::read_dir(&source.dir)
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "tree_2.1.0-1.debian.tar.xz",
            "tree_2.1.0-1.dsc",
            "tree_2.1.0.orig.tar.gz"
        ]
    );
    let dsc = std::fs::read(source.dir.join(&source.dsc)).expect("dsc");
    assert_eq!(Digest::of(&dsc), source.dsc_sha256);
}

#[test]
fn names_the_suites_searched_and_the_versions_they_have_for_a_missing_version() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let archive = Archive::new(ArchiveConfig::default(), &cache_in(tmp.path())).expect("archive");
    let err = archive
        .binary("bookworm", "tree", "2.1.0-2", "amd64")
        .expect_err("no such version");
    assert_eq!(
        err.to_string(),
        "tree 2.1.0-2 (amd64) is not in bookworm, bookworm-updates, bookworm-security; they have 2.1.0-1"
    );
}

// The loopback archive.

/// An OpenPGP signing key made for one test.
fn signing_key(seed: u64) -> SignedSecretKey {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .primary_user_id("Test Archive <archive@example.invalid>".into())
        .build()
        .expect("key params")
        .generate(&mut rng)
        .expect("key")
}

/// `text` cleartext-signed by `key`.
fn clearsign(text: &str, key: &SignedSecretKey) -> String {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    CleartextSignedMessage::sign(&mut rng, text, &key.primary_key, &Password::empty())
        .expect("sign")
        .to_armored_string(ArmorOptions::default())
        .expect("armor")
}

/// `bytes` xz-compressed.
fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = liblzma::write::XzEncoder::new(Vec::new(), 1);
    encoder.write_all(bytes).expect("xz");
    encoder.finish().expect("xz")
}

/// An `ar` archive of `members`.
fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = b"!<arch>\n".to_vec();
    for (name, data) in members {
        out.extend_from_slice(
            format!(
                "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                name,
                0,
                0,
                0,
                100644,
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        if data.len() % 2 == 1 {
            out.push(b'\n');
        }
    }
    out
}

/// One entry of a data.tar.
enum TarEntry<'a> {
    File(&'a [u8], &'a [u8]),
    Symlink(&'a [u8], &'a str),
    Hardlink(&'a [u8], &'a str),
}

/// A tar of `entries`, names written as given (`..` included).
fn tar(entries: &[TarEntry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_old();
        let (name, data): (&[u8], &[u8]) = match entry {
            TarEntry::File(name, data) => {
                header.set_entry_type(tar::EntryType::Regular);
                (name, data)
            }
            TarEntry::Symlink(name, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_link_name(target).expect("link name");
                (name, b"")
            }
            TarEntry::Hardlink(name, target) => {
                header.set_entry_type(tar::EntryType::Link);
                header.set_link_name(target).expect("link name");
                (name, b"")
            }
        };
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        header.set_cksum();
        builder.append(&header, data).expect("append");
    }
    builder.into_inner().expect("tar")
}

/// A `.deb` whose data.tar.xz holds `entries`.
fn deb_of(entries: &[TarEntry<'_>]) -> Vec<u8> {
    let control = xz(&tar(&[TarEntry::File(b"./control", b"Package: hello\n")]));
    ar(&[
        ("debian-binary", b"2.0\n"),
        ("control.tar.xz", &control),
        ("data.tar.xz", &xz(&tar(entries))),
    ])
}

const HELLO: &[u8] = b"\x7fELF hello, world\n";

/// The files of a loopback archive with suite `testrel`, keyed by URL path.
struct LoopbackArchive {
    files: HashMap<String, Vec<u8>>,
    release_text: String,
    deb: Vec<u8>,
}

impl LoopbackArchive {
    /// Release `testrel` holding binary `hello 1.0-1` (amd64) and its
    /// source package, all indexes and files as they should be.
    fn new() -> LoopbackArchive {
        LoopbackArchive::with("1.0-1", "")
    }

    /// Release `testrel` (with `release_fields`) holding binary `hello
    /// VERSION` (amd64) and its source package.
    fn with(version: &str, release_fields: &str) -> LoopbackArchive {
        let mut files = HashMap::new();
        let deb = deb_of(&[TarEntry::File(b"./usr/bin/hello", HELLO)]);
        let deb_path = format!("pool/main/h/hello/hello_{version}_amd64.deb");
        let packages = format!(
            "Package: hello-doc\nVersion: {version}\nArchitecture: all\n\n\
             Package: hello\nSource: hello\nVersion: {version}\nArchitecture: amd64\n\
             Filename: {deb_path}\nSize: {}\nSHA256: {}\n",
            deb.len(),
            sha256_hex(&deb)
        );
        let orig = b"hello source".to_vec();
        let debian = b"hello packaging".to_vec();
        let dsc = format!(
            "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nFormat: 3.0 (quilt)\nSource: hello\n\
             Version: {version}\nChecksums-Sha256:\n {} {} hello_1.0.orig.tar.gz\n {} {} hello_{version}.debian.tar.xz\n\
             \n-----BEGIN PGP SIGNATURE-----\n\nnot checked\n-----END PGP SIGNATURE-----\n",
            sha256_hex(&orig),
            orig.len(),
            sha256_hex(&debian),
            debian.len()
        );
        let listed: Vec<(String, &[u8])> = vec![
            (format!("hello_{version}.dsc"), dsc.as_bytes()),
            ("hello_1.0.orig.tar.gz".to_string(), &orig),
            (format!("hello_{version}.debian.tar.xz"), &debian),
        ];
        let mut sources = format!(
            "Package: hello\nVersion: {version}\nDirectory: pool/main/h/hello\nChecksums-Sha256:\n"
        );
        for (name, bytes) in &listed {
            sources.push_str(&format!(" {} {} {name}\n", sha256_hex(bytes), bytes.len()));
            files.insert(format!("/debian/pool/main/h/hello/{name}"), bytes.to_vec());
        }
        let packages_xz = xz(packages.as_bytes());
        let sources_xz = xz(sources.as_bytes());
        let release_text = format!(
            "Origin: Test\nSuite: stable\nCodename: testrel\n{release_fields}SHA256:\n {} {} main/binary-amd64/Packages.xz\n {} {} main/source/Sources.xz\n",
            sha256_hex(&packages_xz),
            packages_xz.len(),
            sha256_hex(&sources_xz),
            sources_xz.len()
        );
        files.insert(format!("/debian/{deb_path}"), deb.clone());
        files.insert(
            "/debian/dists/testrel/main/binary-amd64/Packages.xz".to_string(),
            packages_xz,
        );
        files.insert(
            "/debian/dists/testrel/main/source/Sources.xz".to_string(),
            sources_xz,
        );
        LoopbackArchive {
            files,
            release_text,
            deb,
        }
    }

    /// Signs the release text with `key` as `InRelease`.
    fn sign_release(&mut self, key: &SignedSecretKey) {
        self.set_in_release(clearsign(&self.release_text, key));
    }

    fn set_in_release(&mut self, text: String) {
        self.files.insert(
            "/debian/dists/testrel/InRelease".to_string(),
            text.into_bytes(),
        );
    }

    /// Serves the files on loopback (404 for any other path).
    fn serve(self) -> HostileServer {
        let files = Arc::new(Mutex::new(self.files));
        HostileServer::start("127.0.0.1", move |request| {
            let files = files.lock().unwrap_or_else(|e| e.into_inner());
            match files.get(request.path()) {
                Some(body) => Answer::Full {
                    status: 200,
                    headers: Vec::new(),
                    body: body.clone(),
                },
                None => Answer::status(404, "not found"),
            }
        })
    }
}

/// The archive at `server`, checked with `keyring_bytes` written to a file.
fn loopback_archive(server: &HostileServer, keyring_bytes: &[u8], dir: &Path) -> Archive {
    let keyring = dir.join("keyring");
    std::fs::write(&keyring, keyring_bytes).expect("keyring");
    let config = ArchiveConfig {
        mirror: format!("{}/debian", server.url()).parse().expect("url"),
        security_mirror: format!("{}/debian-security", server.url())
            .parse()
            .expect("url"),
        keyring,
        snapshot: None,
    };
    Archive::new(config, &cache_in(dir)).expect("archive")
}

/// The binary keyring of `key`'s public part.
fn binary_keyring(key: &SignedSecretKey) -> Vec<u8> {
    key.to_public_key().to_bytes().expect("public key")
}

#[test]
fn takes_a_package_from_a_loopback_archive_signed_by_a_keyring_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(1);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&key);
    let deb_sha256 = sha256_hex(&fixture.deb);
    let server = fixture.serve();
    let armored = key
        .to_public_key()
        .to_armored_bytes(ArmorOptions::default())
        .expect("armor");
    let archive = loopback_archive(&server, &armored, tmp.path());
    let file = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect("hello is in the archive");
    assert_eq!(file.sha256.hex(), deb_sha256);
    assert_eq!(file.signed_by, format!("{:X}", key.fingerprint()));
    assert_eq!(
        file.url,
        format!(
            "{}/debian/pool/main/h/hello/hello_1.0-1_amd64.deb",
            server.url()
        )
    );
    let out = tmp.path().join("hello");
    assert_eq!(
        deb::extract_file(&file.path, "/usr/bin/hello", &out).expect("extract"),
        Some(HELLO.len() as u64)
    );
    assert_eq!(std::fs::read(&out).expect("read"), HELLO);

    let source = archive
        .source("testrel", "hello", "1.0-1")
        .expect("its source is in the archive");
    assert_eq!(source.dsc, "hello_1.0-1.dsc");
    assert_eq!(
        std::fs::read(source.dir.join("hello_1.0.orig.tar.gz")).expect("orig"),
        b"hello source"
    );

    let requests_before = server.requests().len();
    archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect("again");
    let again: Vec<String> = server.requests()[requests_before..]
        .iter()
        .map(|r| r.path().to_string())
        .collect();
    assert_eq!(
        again,
        ["/debian/dists/testrel/InRelease"],
        "a second lookup fetches only the release again"
    );
}

#[test]
fn takes_a_release_signed_by_a_signing_subkey_of_a_certify_only_keyring_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut rng = rand::rngs::StdRng::seed_from_u64(16);
    let key = SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(false)
        .primary_user_id("Subkey Archive <sub@example.invalid>".into())
        .subkey(
            SubkeyParamsBuilder::default()
                .key_type(KeyType::Ed25519Legacy)
                .can_sign(true)
                .build()
                .expect("subkey params"),
        )
        .build()
        .expect("key params")
        .generate(&mut rng)
        .expect("key");
    let subkey = &key.secret_subkeys[0].key;
    let mut fixture = LoopbackArchive::new();
    let signed =
        CleartextSignedMessage::sign(&mut rng, &fixture.release_text, subkey, &Password::empty())
            .expect("sign")
            .to_armored_string(ArmorOptions::default())
            .expect("armor");
    fixture.set_in_release(signed);
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&key), tmp.path());
    let file = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect("the subkey is bound to a keyring key");
    assert_eq!(file.signed_by, format!("{:X}", subkey.fingerprint()));

    let mut by_primary = LoopbackArchive::new();
    by_primary.sign_release(&key);
    let server = by_primary.serve();
    let other = tempfile::tempdir().expect("tempdir");
    let archive = loopback_archive(&server, &binary_keyring(&key), other.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("the primary may not sign");
    assert!(
        matches!(
            err,
            ArchiveError::Signature(SignatureError::UnknownKey { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_a_signed_release_of_another_suite_served_as_the_one_asked_for() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(17);
    let mut fixture = LoopbackArchive::new();
    fixture.release_text = fixture
        .release_text
        .replace("Codename: testrel", "Codename: oldrel")
        .replace("Suite: stable", "Suite: oldstable");
    fixture.sign_release(&key);
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&key), tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("another suite");
    assert_eq!(
        err.to_string(),
        format!(
            "{}/debian/dists/testrel/InRelease is the release of suite \"oldstable/oldrel\", not of \"testrel\"",
            server.url()
        )
    );
}

#[test]
fn refuses_a_release_whose_signed_text_was_changed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(2);
    let mut fixture = LoopbackArchive::new();
    let signed = clearsign(&fixture.release_text, &key);
    fixture.set_in_release(signed.replacen("Origin: Test", "Origin: Tesu", 1));
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&key), tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("altered");
    assert!(
        matches!(
            err,
            ArchiveError::Signature(SignatureError::BadSignature { .. })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}/debian/dists/testrel/InRelease: the signature by {:X} does not verify: the signed text was altered, or the signature is forged",
            server.url(),
            key.fingerprint()
        )
    );
}

#[test]
fn refuses_a_release_signed_by_a_key_outside_the_keyring() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let trusted = signing_key(3);
    let stranger = signing_key(4);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&stranger);
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&trusted), tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("unknown key");
    assert_eq!(
        err.to_string(),
        format!(
            "{}/debian/dists/testrel/InRelease is signed only by keys not in the archive keyring ({:X}); pass --archive-keyring FILE with the distribution's keyring",
            server.url(),
            stranger.fingerprint()
        )
    );
}

/// A key made at [`KEY_CREATED`] (seconds since the epoch).
const KEY_CREATED: u32 = 1_600_000_000;

/// [`signing_key`], made at [`KEY_CREATED`].
fn old_signing_key(seed: u64) -> SignedSecretKey {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    SecretKeyParamsBuilder::default()
        .key_type(KeyType::Ed25519Legacy)
        .can_certify(true)
        .can_sign(true)
        .created_at(Timestamp::from_secs(KEY_CREATED))
        .primary_user_id("Old Archive <old@example.invalid>".into())
        .build()
        .expect("key params")
        .generate(&mut rng)
        .expect("key")
}

/// `key`'s public key whose one self-signature says it expires
/// `lifetime` seconds after it was made.
fn expiring_public_key(key: &SignedSecretKey, lifetime: u32) -> SignedPublicKey {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut public = key.to_public_key();
    let mut config =
        SignatureConfig::from_key(&mut rng, &key.primary_key, SignatureType::CertPositive)
            .expect("config");
    config.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::from_secs(
            KEY_CREATED,
        )))
        .expect("subpacket"),
        Subpacket::regular(SubpacketData::KeyExpirationTime(PgpDuration::from_secs(
            lifetime,
        )))
        .expect("subpacket"),
        Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint())).expect("subpacket"),
    ];
    let user = &mut public.details.users[0];
    let certification = config
        .sign_certification(
            &key.primary_key,
            &public.primary_key,
            &Password::empty(),
            Tag::UserId,
            &user.id,
        )
        .expect("certify");
    user.signatures = vec![certification];
    public
}

/// `key`'s public key with a revocation its owner signed.
fn revoked_public_key(key: &SignedSecretKey) -> SignedPublicKey {
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let mut public = key.to_public_key();
    let mut config =
        SignatureConfig::from_key(&mut rng, &key.primary_key, SignatureType::KeyRevocation)
            .expect("config");
    config.hashed_subpackets = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::now()))
            .expect("subpacket"),
        Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint())).expect("subpacket"),
    ];
    let revocation = config
        .sign_key(&key.primary_key, &Password::empty(), &public.primary_key)
        .expect("revoke");
    public.details.revocation_signatures.push(revocation);
    public
}

#[test]
fn refuses_a_release_signed_by_an_expired_keyring_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = old_signing_key(13);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&key);
    let server = fixture.serve();
    let keyring = expiring_public_key(&key, 1000).to_bytes().expect("key");
    let archive = loopback_archive(&server, &keyring, tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("expired");
    assert_eq!(
        err.to_string(),
        format!(
            "{}/debian/dists/testrel/InRelease is signed by {:X}, which expired 2020-09-13T12:43:20Z; update the archive keyring",
            server.url(),
            key.fingerprint()
        )
    );
}

#[test]
fn takes_a_release_signed_by_a_keyring_key_that_has_not_expired() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = old_signing_key(14);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&key);
    let server = fixture.serve();
    let keyring = expiring_public_key(&key, u32::MAX - KEY_CREATED)
        .to_bytes()
        .expect("key");
    let archive = loopback_archive(&server, &keyring, tmp.path());
    archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect("the key is still valid");
}

#[test]
fn refuses_a_release_signed_by_a_revoked_keyring_key() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(15);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&key);
    let server = fixture.serve();
    let keyring = revoked_public_key(&key).to_bytes().expect("key");
    let archive = loopback_archive(&server, &keyring, tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("revoked");
    assert_eq!(
        err.to_string(),
        format!(
            "{}/debian/dists/testrel/InRelease is signed by {:X}, which its owner revoked",
            server.url(),
            key.fingerprint()
        )
    );
}

#[test]
fn refuses_a_release_with_no_signature() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(5);
    let mut fixture = LoopbackArchive::new();
    let text = fixture.release_text.clone();
    fixture.set_in_release(text);
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&key), tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("unsigned");
    assert!(
        matches!(
            err,
            ArchiveError::Signature(SignatureError::NotSigned { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_an_index_whose_bytes_differ_from_the_signed_release() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(6);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&key);
    let index = "/debian/dists/testrel/main/binary-amd64/Packages.xz";
    let mut packages = fixture.files[index].clone();
    let last = packages.len() - 1;
    packages[last] ^= 1;
    fixture.files.insert(index.to_string(), packages);
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&key), tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("tampered index");
    assert!(
        matches!(err, ArchiveError::Fetch(FetchError::Mismatch { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "{}{index} does not match the archive's signed index: blob sha256:",
            server.url()
        )),
        "{err}"
    );
}

#[test]
fn refuses_a_package_whose_bytes_differ_from_the_index() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(7);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&key);
    let pool = "/debian/pool/main/h/hello/hello_1.0-1_amd64.deb";
    let mut deb = fixture.deb.clone();
    deb[70] ^= 1;
    fixture.files.insert(pool.to_string(), deb);
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&key), tmp.path());
    let err = archive
        .binary("testrel", "hello", "1.0-1", "amd64")
        .expect_err("tampered deb");
    assert!(
        matches!(err, ArchiveError::Fetch(FetchError::Mismatch { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "{}{pool} does not match the archive's signed index: blob sha256:{} failed verification: its content hashes to sha256:",
            server.url(),
            sha256_hex(&fixture_deb())
        )),
        "{err}"
    );
}

/// The unaltered `.deb` of [`LoopbackArchive`].
fn fixture_deb() -> Vec<u8> {
    LoopbackArchive::new().deb
}

#[test]
fn says_which_versions_the_loopback_archive_has_instead() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(8);
    let mut fixture = LoopbackArchive::new();
    fixture.sign_release(&key);
    let server = fixture.serve();
    let archive = loopback_archive(&server, &binary_keyring(&key), tmp.path());
    let err = archive
        .source("testrel", "hello", "2.0-1")
        .expect_err("no such version");
    assert_eq!(
        err.to_string(),
        "source package hello 2.0-1 is not in testrel; they have 1.0-1"
    );
}

/// The moment the loopback snapshot archive kept `hello 0.9-1`.
const SNAPSHOT_TIME: &str = "20240101T000000Z";

/// A loopback mirror with `hello 1.0-1` and, in snapshot.debian.org's
/// layout beside it, the archive of [`SNAPSHOT_TIME`] with `hello 0.9-1`,
/// whose release's `Valid-Until` has long passed; both signed by `key`.
fn mirror_with_snapshot(key: &SignedSecretKey) -> HostileServer {
    let mut current = LoopbackArchive::new();
    current.sign_release(key);
    let mut old = LoopbackArchive::with("0.9-1", "Valid-Until: Mon, 01 Jan 2024 00:00:00 UTC\n");
    old.sign_release(key);
    for (path, bytes) in old.files {
        let moved = path.replacen("/debian/", &format!("/archive/debian/{SNAPSHOT_TIME}/"), 1);
        current.files.insert(moved, bytes);
    }
    let sha1 = "0123456789abcdef0123456789abcdef01234567";
    let answer = |name: &str, architecture: &str| {
        format!(
            r#"{{"_comment":"foo","result":[{{"hash":"{sha1}"{architecture}}}],"fileinfo":{{"{sha1}":[{{"archive_name":"debian","first_seen":"{SNAPSHOT_TIME}","name":"{name}","path":"/pool/main/h/hello","size":1}}]}}}}"#
        )
        .into_bytes()
    };
    current.files.insert(
        "/mr/binary/hello/0.9-1/binfiles".to_string(),
        answer("hello_0.9-1_amd64.deb", r#","architecture":"amd64""#),
    );
    current.files.insert(
        "/mr/package/hello/0.9-1/srcfiles".to_string(),
        answer("hello_0.9-1.dsc", ""),
    );
    current.serve()
}

/// [`loopback_archive`] with the server's snapshot archive configured.
fn archive_with_snapshot(server: &HostileServer, key: &SignedSecretKey, dir: &Path) -> Archive {
    let keyring = dir.join("keyring");
    std::fs::write(&keyring, binary_keyring(key)).expect("keyring");
    let config = ArchiveConfig {
        mirror: format!("{}/debian", server.url()).parse().expect("url"),
        security_mirror: format!("{}/debian-security", server.url())
            .parse()
            .expect("url"),
        keyring,
        snapshot: Some(server.url().parse().expect("url")),
    };
    Archive::new(config, &cache_in(dir)).expect("archive")
}

#[test]
fn takes_a_version_gone_from_the_mirror_from_the_snapshot_archive() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let key = signing_key(9);
    let server = mirror_with_snapshot(&key);
    let archive = archive_with_snapshot(&server, &key, tmp.path());
    let file = archive
        .binary("testrel", "hello", "0.9-1", "amd64")
        .expect("0.9-1 is in the snapshot archive");
    let root = format!("{}/archive/debian/{SNAPSHOT_TIME}", server.url());
    assert_eq!(
        (
            file.url.as_str(),
            file.release_url.as_str(),
            file.suite.as_str()
        ),
        (
            format!("{root}/pool/main/h/hello/hello_0.9-1_amd64.deb").as_str(),
            format!("{root}/dists/testrel/InRelease").as_str(),
            "testrel"
        )
    );
    assert_eq!(file.sha256.hex(), sha256_hex(&fixture_deb()));
    let source = archive
        .source("testrel", "hello", "0.9-1")
        .expect("its source too");
    assert_eq!(
        source.url,
        format!("{root}/pool/main/h/hello/hello_0.9-1.dsc")
    );
    let err = archive
        .binary("testrel", "hello", "0.8-1", "amd64")
        .expect_err("in neither");
    assert_eq!(
        err.to_string(),
        format!(
            "hello 0.8-1 (amd64) is not in testrel, the snapshot archive {}/; they have 1.0-1",
            server.url()
        )
    );
}

// `.deb` files.

fn write_deb(dir: &Path, bytes: &[u8]) -> PathBuf {
    let path = dir.join("p.deb");
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn extracts_a_file_listed_with_or_without_its_dot_slash_and_follows_hardlinks() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let deb = write_deb(
        tmp.path(),
        &deb_of(&[
            TarEntry::File(b"usr/bin/real", HELLO),
            TarEntry::Hardlink(b"./usr/bin/alias", "./usr/bin/real"),
            TarEntry::File(b"./usr/share/doc/empty", b""),
            TarEntry::Hardlink(b"./usr/bin/dangling", "./usr/bin/gone"),
        ]),
    );
    assert_eq!(
        deb::data_file(&deb, "/usr/bin/real", 1024).expect("read"),
        Some(HELLO.to_vec())
    );
    assert_eq!(
        deb::data_file(&deb, "/usr/bin/alias", 1024).expect("read"),
        Some(HELLO.to_vec())
    );
    assert_eq!(
        deb::data_file(&deb, "/usr/bin/other", 1024).expect("read"),
        None
    );
    let err = deb::data_file(&deb, "/usr/bin/real", 4).expect_err("over the limit");
    assert!(
        matches!(
            err,
            DebError::FileTooLarge {
                size: 18,
                limit: 4,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn reads_data_tar_compressed_with_zstd_gzip_or_not_at_all() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tar(&[TarEntry::File(b"usr/bin/hello", HELLO)]);
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&data).expect("gzip");
    let variants = [
        (
            "data.tar.zst",
            zstd::encode_all(&data[..], 1).expect("zstd"),
        ),
        ("data.tar.gz", gzip.finish().expect("gzip")),
        ("data.tar", data.clone()),
    ];
    for (member, bytes) in variants {
        let deb = write_deb(
            tmp.path(),
            &ar(&[("debian-binary", b"2.0\n"), (member, &bytes)]),
        );
        assert_eq!(
            deb::data_file(&deb, "/usr/bin/hello", 1024).expect(member),
            Some(HELLO.to_vec()),
            "{member}"
        );
    }
}

#[test]
fn reports_a_symlink_at_the_path_with_its_target() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let deb = write_deb(
        tmp.path(),
        &deb_of(&[TarEntry::Symlink(b"./usr/bin/hello", "/bin/busybox")]),
    );
    let err =
        deb::extract_file(&deb, "/usr/bin/hello", &tmp.path().join("out")).expect_err("a symlink");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: /usr/bin/hello is a symbolic link to \"/bin/busybox\" in the package, not the file itself",
            deb.display()
        )
    );
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn refuses_a_package_whose_tar_climbs_out_with_dot_dot() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let deb = write_deb(
        tmp.path(),
        &deb_of(&[
            TarEntry::File(b"./../etc/cron.d/x", b"evil"),
            TarEntry::File(b"./usr/bin/hello", HELLO),
        ]),
    );
    let err = deb::data_file(&deb, "/usr/bin/hello", 1024).expect_err("..");
    assert!(
        matches!(&err, DebError::UnsafeEntry { entry, .. } if entry == "./../etc/cron.d/x"),
        "{err:?}"
    );
}

#[test]
fn refuses_truncated_and_oversized_ar_members() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let good = deb_of(&[TarEntry::File(b"./usr/bin/hello", HELLO)]);

    let truncated = write_deb(tmp.path(), &good[..8 + 30]);
    let err = deb::data_file(&truncated, "/usr/bin/hello", 1024).expect_err("truncated");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the ar member header at byte 8 is truncated: 30 bytes where a header needs 60",
            truncated.display()
        )
    );

    let mut oversized = ar(&[("debian-binary", b"2.0\n")]);
    oversized[8 + 48..8 + 58].copy_from_slice(b"9999999999");
    let oversized = write_deb(tmp.path(), &oversized);
    let err = deb::data_file(&oversized, "/usr/bin/hello", 1024).expect_err("oversized");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the ar member header at byte 8 is oversized: member \"debian-binary\" declares 9999999999 bytes, but only 4 follow",
            oversized.display()
        )
    );

    let cut_data = write_deb(tmp.path(), &good[..good.len() - 20]);
    let err = deb::data_file(&cut_data, "/usr/bin/hello", 1024).expect_err("cut data");
    assert!(matches!(err, DebError::BadMember { .. }), "{err:?}");

    let not_ar = write_deb(tmp.path(), b"PK\x03\x04 a zip");
    let err = deb::data_file(&not_ar, "/usr/bin/hello", 1024).expect_err("not ar");
    assert!(matches!(err, DebError::NotAr { .. }), "{err:?}");

    let version_3 = write_deb(tmp.path(), &ar(&[("debian-binary", b"3.0\n")]));
    let err = deb::data_file(&version_3, "/usr/bin/hello", 1024).expect_err("3.0");
    assert!(
        matches!(&err, DebError::UnsupportedFormat { found, .. } if found == "3.0\n"),
        "{err:?}"
    );
}
