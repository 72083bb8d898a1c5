//! The merged view of an image's layers: OCI whiteouts, replacement,
//! hardlinks, compression, hostile names, content streaming and unpacking.

use crate::layer_fixtures;

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};

use layer_fixtures::{
    base_dirs, image, Layer, DOCKER_GZIP, DOCKER_TAR, OCI_GZIP, OCI_TAR, OCI_ZSTD,
};
use rebuild_compare::image::digest::Digest;
use rebuild_compare::rootfs::locate::{locate, RunConfig};
use rebuild_compare::rootfs::{
    unpack, ContentObserver, MemoryLayerSource, NoIndexStore, NodeKind, Rootfs, RootfsError,
    UnpackStats,
};
use tar::EntryType;

fn rootfs(source: &MemoryLayerSource) -> Rootfs<&MemoryLayerSource> {
    Rootfs::new(source, NoIndexStore).unwrap()
}

fn kind(view: &Rootfs<&MemoryLayerSource>, path: &str) -> Option<NodeKind> {
    view.lookup(path).unwrap().map(|node| node.kind)
}

/// The bytes of the file at `path`, symlinks followed.
fn content(view: &Rootfs<&MemoryLayerSource>, path: &str) -> Vec<u8> {
    let located = locate(view, &RunConfig::default(), Some(path)).unwrap();
    let mut out = Vec::new();
    let copied = view.copy_file(&located, &mut out).unwrap();
    assert_eq!(copied, out.len() as u64);
    out
}

fn digest_of(source: &MemoryLayerSource, index: usize) -> Digest {
    use rebuild_compare::rootfs::LayerSource;
    source.layers()[index].digest.clone()
}

#[test]
fn whiteout_hides_a_file_of_older_layers() {
    let source = image(vec![
        base_dirs()
            .exe("usr/bin/gone", b"old")
            .exe("usr/bin/kept", b"kept"),
        Layer::new().whiteout("usr/bin/gone"),
    ]);
    let view = rootfs(&source);
    assert_eq!(kind(&view, "/usr/bin/gone"), None);
    assert_eq!(content(&view, "/usr/bin/kept"), b"kept");
}

#[test]
fn whiteout_of_a_directory_hides_everything_below_it() {
    let source = image(vec![
        base_dirs()
            .dir("opt")
            .dir("opt/app")
            .exe("opt/app/run", b"x"),
        Layer::new().whiteout("opt/app"),
    ]);
    let view = rootfs(&source);
    assert_eq!(kind(&view, "/opt/app"), None);
    assert_eq!(kind(&view, "/opt/app/run"), None);
    assert!(matches!(
        kind(&view, "/opt"),
        Some(NodeKind::Directory { .. })
    ));
}

#[test]
fn file_recreated_after_a_whiteout_is_visible_again() {
    let source = image(vec![
        base_dirs().exe("usr/bin/app", b"v1"),
        Layer::new().whiteout("usr/bin/app"),
        Layer::new()
            .dir("usr")
            .dir("usr/bin")
            .exe("usr/bin/app", b"v3"),
    ]);
    assert_eq!(content(&rootfs(&source), "/usr/bin/app"), b"v3");
}

#[test]
fn opaque_directory_hides_older_contents_but_keeps_its_own() {
    let source = image(vec![
        base_dirs()
            .dir("etc")
            .dir("etc/app")
            .file("etc/app/old.conf", b"old", 0o644)
            .dir("etc/app/sub")
            .file("etc/app/sub/deep", b"deep", 0o644),
        Layer::new()
            .dir("etc")
            .dir("etc/app")
            .opaque("etc/app")
            .file("etc/app/new.conf", b"new", 0o644),
    ]);
    let view = rootfs(&source);
    assert_eq!(kind(&view, "/etc/app/old.conf"), None);
    assert_eq!(kind(&view, "/etc/app/sub/deep"), None);
    assert_eq!(kind(&view, "/etc/app/sub"), None);
    assert_eq!(content(&view, "/etc/app/new.conf"), b"new");
}

#[test]
fn later_layer_replaces_a_file_with_a_directory_and_a_directory_with_a_symlink() {
    let source = image(vec![
        base_dirs()
            .file("srv", b"a file", 0o644)
            .dir("data")
            .file("data/inside", b"old data", 0o644)
            .dir("real")
            .file("real/inside", b"real data", 0o644),
        Layer::new()
            .dir("srv")
            .file("srv/now-a-dir", b"child", 0o644)
            .symlink("data", "real"),
    ]);
    let view = rootfs(&source);
    assert!(matches!(
        kind(&view, "/srv"),
        Some(NodeKind::Directory { .. })
    ));
    assert_eq!(content(&view, "/srv/now-a-dir"), b"child");
    assert_eq!(
        kind(&view, "/data"),
        Some(NodeKind::Symlink {
            target: "real".to_string()
        })
    );
    // The old directory's contents are gone; the path now leads through the symlink.
    assert_eq!(kind(&view, "/data/inside"), None);
    assert_eq!(content(&view, "/data/inside"), b"real data");
}

#[test]
fn directory_replaced_by_a_file_hides_the_old_contents() {
    let source = image(vec![
        base_dirs().dir("opt").file("opt/x", b"x", 0o644),
        Layer::new().file("opt", b"now a file", 0o644),
    ]);
    let view = rootfs(&source);
    assert_eq!(kind(&view, "/opt/x"), None);
    assert_eq!(content(&view, "/opt"), b"now a file");
}

#[test]
fn newest_entry_wins_within_and_across_layers() {
    let source = image(vec![
        base_dirs().exe("usr/bin/app", b"layer0"),
        Layer::new()
            .dir("usr")
            .dir("usr/bin")
            .exe("usr/bin/app", b"layer1 first")
            .exe("usr/bin/app", b"layer1 second"),
    ]);
    assert_eq!(content(&rootfs(&source), "/usr/bin/app"), b"layer1 second");
}

#[test]
fn hardlink_to_a_file_of_the_same_layer_reads_the_target_entry() {
    let source = image(vec![base_dirs()
        .exe("usr/bin/real", b"hardlinked bytes")
        .hardlink("usr/bin/alias", "usr/bin/real")]);
    let view = rootfs(&source);
    let located = locate(&view, &RunConfig::default(), Some("/usr/bin/alias")).unwrap();
    assert_eq!(located.path, "/usr/bin/alias");
    assert_eq!(located.entry_path, "/usr/bin/real");
    assert_eq!(located.size, 16);
    assert_eq!(content(&view, "/usr/bin/alias"), b"hardlinked bytes");
}

#[test]
fn hardlink_to_a_file_of_an_earlier_layer_reads_that_layer() {
    let source = image(vec![
        base_dirs().exe("usr/bin/real", b"bottom bytes"),
        Layer::new()
            .dir("usr")
            .dir("usr/bin")
            .hardlink("usr/bin/alias", "/usr/bin/real"),
    ]);
    let view = rootfs(&source);
    let located = locate(&view, &RunConfig::default(), Some("/usr/bin/alias")).unwrap();
    assert_eq!(located.layer_index, 0);
    assert_eq!(located.layer, digest_of(&source, 0));
    assert_eq!(located.mode, 0o755);
    assert_eq!(content(&view, "/usr/bin/alias"), b"bottom bytes");
}

#[test]
fn layers_of_every_supported_compression_and_media_type_read_alike() {
    let layer = || base_dirs().exe("usr/bin/app", b"same bytes");
    let variants: Vec<(&str, Vec<u8>)> = vec![
        (OCI_TAR, layer().tar()),
        (OCI_GZIP, layer().gzip()),
        (OCI_ZSTD, layer().zstd()),
        (DOCKER_GZIP, layer().gzip()),
        (DOCKER_TAR, layer().tar()),
        (
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            layer().gzip(),
        ),
        // docker save labels layers .tar even when they are compressed
        (DOCKER_TAR, layer().gzip()),
    ];
    for (media_type, blob) in variants {
        let mut source = MemoryLayerSource::new();
        source.push(media_type, blob);
        assert_eq!(
            content(&rootfs(&source), "/usr/bin/app"),
            b"same bytes",
            "{media_type}"
        );
    }
}

#[test]
fn unsupported_layer_media_type_is_rejected() {
    let mut source = MemoryLayerSource::new();
    source.push(
        "application/vnd.example.layer+squashfs",
        b"whatever".to_vec(),
    );
    let digest = digest_of(&source, 0);
    let err = Rootfs::new(&source, NoIndexStore).err().unwrap();
    assert_eq!(
        err.to_string(),
        format!(
            "unsupported layer media type application/vnd.example.layer+squashfs (layer {digest})"
        )
    );
    let dest = tempfile::tempdir().unwrap();
    assert!(matches!(
        unpack(&source, dest.path()),
        Err(RootfsError::UnsupportedMediaType { .. })
    ));
}

#[test]
fn corrupt_layer_error_names_the_layer() {
    let mut gzip = base_dirs().exe("usr/bin/app", b"x").gzip();
    let middle = gzip.len() / 2;
    gzip.truncate(middle);
    let mut source = MemoryLayerSource::new();
    source.push(OCI_GZIP, gzip);
    let digest = digest_of(&source, 0);
    let err = rootfs(&source).lookup("/usr/bin/app").unwrap_err();
    assert!(matches!(err, RootfsError::CorruptLayer { ref layer, .. } if *layer == digest));
    assert!(
        err.to_string()
            .starts_with(&format!("corrupt layer {digest}: ")),
        "{err}"
    );
}

/// A plain tar of `/usr/bin/app` (content `data`) cut right after that data:
/// no padding to a block and no end-of-archive blocks, as umoci writes them.
fn unpadded_tar(data: &[u8]) -> Vec<u8> {
    let mut tar = Layer::new().exe("usr/bin/app", data).tar();
    tar.truncate(512 + data.len());
    tar
}

#[test]
fn layer_ending_right_after_its_last_entry_data_is_read_and_unpacked() {
    let mut source = MemoryLayerSource::new();
    source.push(OCI_TAR, unpadded_tar(b"no padding after me"));
    let view = rootfs(&source);
    assert_eq!(content(&view, "/usr/bin/app"), b"no padding after me");
    let dest = tempfile::tempdir().unwrap();
    unpack(&source, dest.path()).unwrap();
    assert_eq!(
        fs::read(dest.path().join("usr/bin/app")).unwrap(),
        b"no padding after me"
    );
}

#[test]
fn layer_cut_inside_its_last_entry_data_is_corrupt() {
    let mut tar = unpadded_tar(b"cut short");
    tar.pop();
    let mut source = MemoryLayerSource::new();
    source.push(OCI_TAR, tar);
    let err = rootfs(&source).lookup("/usr/bin/app").unwrap_err();
    assert!(matches!(err, RootfsError::CorruptLayer { .. }), "{err}");
    let dest = tempfile::tempdir().unwrap();
    let err = unpack(&source, dest.path()).unwrap_err();
    assert!(matches!(err, RootfsError::CorruptLayer { .. }), "{err}");
}

#[test]
fn gnu_and_pax_long_names_are_found() {
    let long_dir = format!("opt/{}", "d".repeat(120));
    let gnu_name = format!("{long_dir}/gnu-tool");
    let pax_name = format!("{long_dir}/pax-tool");
    let source = image(vec![base_dirs()
        .gnu_long_file(&gnu_name, b"gnu")
        .pax_file(&pax_name, b"pax")]);
    let view = rootfs(&source);
    assert_eq!(content(&view, &format!("/{gnu_name}")), b"gnu");
    assert_eq!(content(&view, &format!("/{pax_name}")), b"pax");
    assert_eq!(kind(&view, "/stub"), None);
}

#[test]
fn entry_names_normalise_to_absolute_paths() {
    let source = image(vec![Layer::new()
        .dir("./usr/")
        .exe("./usr/one", b"1")
        .exe("/usr/two", b"2")
        .exe("usr//three", b"3")]);
    let view = rootfs(&source);
    assert_eq!(content(&view, "/usr/one"), b"1");
    assert_eq!(content(&view, "/usr/two"), b"2");
    assert_eq!(content(&view, "/usr/three"), b"3");
}

#[test]
fn entries_climbing_above_the_root_are_ignored_and_counted() {
    let source = image(vec![base_dirs()
        .raw(b"../escape", EntryType::Regular, b"", b"evil", 0o755)
        .raw(
            b"usr/../../escape2",
            EntryType::Regular,
            b"",
            b"evil",
            0o755,
        )
        .raw(
            b"usr/bin/link",
            EntryType::Link,
            b"../../../etc/passwd",
            b"",
            0o755,
        )
        .exe("usr/bin/fine", b"fine")]);
    let view = rootfs(&source);
    assert_eq!(kind(&view, "/escape"), None);
    assert_eq!(kind(&view, "/escape2"), None);
    assert_eq!(kind(&view, "/usr/bin/link"), None);
    assert_eq!(view.layer_index(0).unwrap().unsafe_entries, 3);
    assert_eq!(content(&view, "/usr/bin/fine"), b"fine");
}

#[test]
fn symlinks_resolve_inside_the_image_and_never_above_its_root() {
    let source = image(vec![base_dirs()
        .dir("opt")
        .exe("opt/tool", b"tool")
        .symlink("usr/bin/abs", "/opt/tool")
        .symlink("usr/bin/rel", "../../opt/tool")
        .symlink("usr/bin/climb", "../../../../../../opt/tool")
        .symlink("usr/bin/hostish", "/../../../opt/tool")]);
    let view = rootfs(&source);
    for link in ["abs", "rel", "climb", "hostish"] {
        let node = view
            .resolve_path(&format!("/usr/bin/{link}"), true)
            .unwrap();
        assert_eq!(node.path, "/opt/tool", "{link}");
        assert_eq!(content(&view, &format!("/usr/bin/{link}")), b"tool");
    }
}

#[test]
fn symlink_loop_fails_naming_the_path() {
    let source = image(vec![base_dirs()
        .symlink("usr/bin/a", "b")
        .symlink("usr/bin/b", "/usr/bin/a")]);
    let err = rootfs(&source)
        .resolve_path("/usr/bin/a", true)
        .unwrap_err();
    assert!(matches!(err, RootfsError::SymlinkLoop { ref path } if path == "/usr/bin/a"));
    assert_eq!(
        err.to_string(),
        "too many levels of symbolic links resolving /usr/bin/a (symlink loop? more than 40 links)"
    );
}

#[test]
fn chain_of_forty_symlinks_resolves_and_forty_one_do_not() {
    let mut layer = base_dirs().exe("usr/bin/end", b"end");
    for i in 0..41 {
        let target = if i == 0 {
            "end".to_string()
        } else {
            format!("l{}", i - 1)
        };
        layer = layer.symlink(&format!("usr/bin/l{i}"), &target);
    }
    let source = image(vec![layer]);
    let view = rootfs(&source);
    assert_eq!(
        view.resolve_path("/usr/bin/l39", true).unwrap().path,
        "/usr/bin/end"
    );
    assert!(matches!(
        view.resolve_path("/usr/bin/l40", true),
        Err(RootfsError::SymlinkLoop { .. })
    ));
}

#[test]
fn read_head_returns_only_the_first_bytes() {
    let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let source = image(vec![base_dirs().exe("usr/bin/app", &body)]);
    let view = rootfs(&source);
    let located = locate(&view, &RunConfig::default(), Some("/usr/bin/app")).unwrap();
    assert_eq!(view.read_head(&located, 64).unwrap(), body[..64]);
    assert_eq!(view.read_head(&located, 1 << 20).unwrap(), body);
}

fn mode_of(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
fn unpack_applies_whiteouts_opaque_directories_and_replacements() {
    let source = image(vec![
        base_dirs()
            .exe("usr/bin/gone", b"gone")
            .exe("usr/bin/app", b"v1")
            .dir("etc")
            .dir("etc/app")
            .file("etc/app/old.conf", b"old", 0o644)
            .dir("etc/app/sub")
            .file("etc/app/sub/deep", b"deep", 0o644)
            .file("srv", b"a file", 0o644)
            .dir("data")
            .file("data/inside", b"x", 0o644),
        Layer::new()
            .whiteout("usr/bin/gone")
            .dir("usr")
            .dir("usr/bin")
            .exe("usr/bin/app", b"v2")
            .dir("etc/app")
            .opaque("etc/app")
            .dir("etc/app/sub")
            .file("etc/app/sub/new", b"new", 0o600)
            .dir("srv")
            .symlink("data", "/srv"),
    ]);
    let dest = tempfile::tempdir().unwrap();
    let root = dest.path();
    let stats = unpack(&source, root).unwrap();
    assert!(!root.join("usr/bin/gone").exists());
    assert_eq!(fs::read(root.join("usr/bin/app")).unwrap(), b"v2");
    assert!(!root.join("etc/app/old.conf").exists());
    assert!(!root.join("etc/app/sub/deep").exists());
    assert_eq!(fs::read(root.join("etc/app/sub/new")).unwrap(), b"new");
    assert!(root.join("srv").is_dir());
    assert_eq!(fs::read_link(root.join("data")).unwrap(), Path::new("/srv"));
    assert_eq!(mode_of(&root.join("etc/app/sub/new")), 0o600);
    assert_eq!(
        stats,
        UnpackStats {
            layers: 2,
            files: 8,
            directories: 12 + 5,
            symlinks: 1,
            hardlinks: 0,
            bytes: (4 + 2 + 3 + 4 + 6 + 1) + (2 + 3),
            whiteouts: 1,
            opaque_dirs: 1,
            skipped_special: 0,
            skipped_unsafe: 0,
            skipped_broken_hardlinks: 0,
        }
    );
}

#[test]
fn unpack_never_writes_outside_the_destination() {
    let outside = tempfile::tempdir().unwrap();
    let outside_path = outside.path().to_str().unwrap().to_string();
    let absolute_name = format!("{outside_path}/absolute");
    let source = image(vec![
        Layer::new()
            .raw(b"../escape", EntryType::Regular, b"", b"evil", 0o644)
            .raw(b"a/../../escape2", EntryType::Regular, b"", b"evil", 0o644)
            .raw(
                absolute_name.as_bytes(),
                EntryType::Regular,
                b"",
                b"abs",
                0o644,
            )
            .symlink("to-outside", &outside_path)
            .symlink("climb", "../../../../../../../../")
            .raw(
                b"passwd",
                EntryType::Link,
                b"../../../../etc/passwd",
                b"",
                0o644,
            ),
        Layer::new()
            .file("to-outside/through-abs-symlink", b"in", 0o644)
            .file("climb/through-dotdot-symlink", b"in", 0o644),
    ]);
    let dest = tempfile::tempdir().unwrap();
    let root = dest.path();
    let stats = unpack(&source, root).unwrap();
    assert_eq!(
        fs::read_dir(outside.path()).unwrap().count(),
        0,
        "nothing lands outside"
    );
    assert!(!root.parent().unwrap().join("escape").exists());
    // Absolute names and symlinked parents stay inside, as if the destination were `/`.
    let inside = root.join(outside_path.trim_start_matches('/'));
    assert_eq!(fs::read(inside.join("absolute")).unwrap(), b"abs");
    assert_eq!(fs::read(inside.join("through-abs-symlink")).unwrap(), b"in");
    assert_eq!(
        fs::read(root.join("through-dotdot-symlink")).unwrap(),
        b"in"
    );
    // Symlinks themselves are created verbatim.
    assert_eq!(
        fs::read_link(root.join("to-outside")).unwrap(),
        outside.path()
    );
    assert!(!root.join("passwd").exists());
    assert_eq!(stats.skipped_unsafe, 3);
}

#[test]
fn unpack_skips_devices_and_fifos_and_keeps_modes_and_links() {
    let source = image(vec![
        base_dirs()
            .fifo("usr/pipe")
            .char_device("usr/null")
            .file("usr/bin/readonly", b"ro", 0o444)
            .file("usr/bin/setuid", b"su", 0o4755)
            .exe("usr/bin/real", b"bytes")
            .hardlink("usr/bin/same-layer", "usr/bin/real")
            .dir_mode("locked", 0o555)
            .file("locked/inside", b"i", 0o644)
            .symlink("usr/bin/dangling", "/nowhere/at/all"),
        Layer::new().hardlink("usr/bin/earlier-layer", "usr/bin/real"),
    ]);
    let dest = tempfile::tempdir().unwrap();
    let root = dest.path();
    let stats = unpack(&source, root).unwrap();
    assert!(!root.join("usr/pipe").exists());
    assert!(!root.join("usr/null").exists());
    assert_eq!(stats.skipped_special, 2);
    assert_eq!(stats.hardlinks, 2);
    assert_eq!(mode_of(&root.join("usr/bin/readonly")), 0o444);
    assert_eq!(mode_of(&root.join("usr/bin/setuid")), 0o755);
    assert_eq!(mode_of(&root.join("locked")), 0o555);
    assert_eq!(fs::read(root.join("locked/inside")).unwrap(), b"i");
    let real = fs::metadata(root.join("usr/bin/real")).unwrap();
    for link in ["same-layer", "earlier-layer"] {
        let linked = fs::metadata(root.join("usr/bin").join(link)).unwrap();
        assert_eq!(linked.ino(), real.ino(), "{link}");
    }
    assert_eq!(
        fs::read_link(root.join("usr/bin/dangling")).unwrap(),
        Path::new("/nowhere/at/all")
    );
    // Let the temporary directory be removed.
    fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn unpack_follows_symlinked_directories_inside_the_destination() {
    let source = image(vec![
        Layer::new()
            .dir("usr")
            .dir("usr/bin")
            .symlink("bin", "usr/bin"),
        Layer::new().exe("bin/tool", b"tool"),
    ]);
    let dest = tempfile::tempdir().unwrap();
    unpack(&source, dest.path()).unwrap();
    assert_eq!(fs::read(dest.path().join("usr/bin/tool")).unwrap(), b"tool");
    assert!(fs::symlink_metadata(dest.path().join("bin"))
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn unpack_requires_an_empty_destination() {
    let source = image(vec![base_dirs()]);
    let dest = tempfile::tempdir().unwrap();
    fs::write(dest.path().join("already-here"), b"x").unwrap();
    let err = unpack(&source, dest.path()).unwrap_err();
    assert!(matches!(err, RootfsError::DestinationNotEmpty(_)), "{err}");
}

/// Records what a [`ContentObserver`] is shown, in order.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn log(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl ContentObserver for Recorder {
    fn wants(&self, path: &str) -> bool {
        path.ends_with("/app")
    }

    fn observe(&self, _layer: &Digest, entry: u64, data: &mut dyn Read) -> io::Result<()> {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)?;
        let line = format!("entry {entry}: {}", String::from_utf8_lossy(&bytes));
        self.0.lock().unwrap().push(line);
        Ok(())
    }

    fn verified(&self, layer: &Digest) {
        self.0.lock().unwrap().push(format!("verified {layer}"));
    }
}

#[test]
fn observer_sees_the_files_it_wants_and_hears_when_their_layer_verified() {
    let source = image(vec![base_dirs()
        .exe("usr/bin/app", b"the app")
        .exe("usr/bin/other", b"not wanted")]);
    let recorder = Recorder::default();
    let view = rootfs(&source).with_observer(recorder.clone());
    let located = locate(&view, &RunConfig::default(), Some("/usr/bin/app")).unwrap();
    assert_eq!(
        recorder.log(),
        vec![
            format!("entry {}: the app", located.entry),
            format!("verified {}", digest_of(&source, 0)),
        ]
    );
}

#[test]
fn observer_is_not_told_a_layer_verified_when_it_turns_out_corrupt() {
    let mut tar = unpadded_tar(b"cut short");
    tar.pop();
    let mut source = MemoryLayerSource::new();
    source.push(OCI_TAR, tar);
    let recorder = Recorder::default();
    let view = rootfs(&source).with_observer(recorder.clone());
    let err = view.lookup("/usr/bin/app").unwrap_err();
    assert!(matches!(err, RootfsError::CorruptLayer { .. }), "{err}");
    // The observer was shown a zero of the padding that completes the last
    // block, and is never told that what it saw holds.
    assert_eq!(recorder.log(), vec!["entry 0: cut shor\0".to_string()]);
}

#[test]
fn read_files_reads_each_layer_once_and_gives_each_file_its_bytes() {
    let source = image(vec![
        base_dirs()
            .file("usr/bin/a", b"first", 0o644)
            .file("usr/bin/b", b"second", 0o644)
            .file("usr/bin/c", b"third", 0o644),
        Layer::new()
            .file("usr/bin/b", b"replaced", 0o644)
            .hardlink("usr/bin/d", "usr/bin/b"),
    ]);
    let view = rootfs(&source);
    let paths = ["/usr/bin/c", "/usr/bin/b", "/usr/bin/a", "/usr/bin/d"];
    let files: Vec<_> = paths
        .iter()
        .map(|path| locate(&view, &RunConfig::default(), Some(path)).unwrap())
        .collect();
    source.reset_open_counts();
    let mut read = vec![Vec::new(); files.len()];
    view.read_files(&files, |position, bytes| read[position] = bytes.to_vec())
        .unwrap();
    assert_eq!(source.open_counts(), [1, 1]);
    assert_eq!(read, [&b"third"[..], b"replaced", b"first", b"replaced"]);
}
