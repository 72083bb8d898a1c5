//! Locating the binary an image runs: Entrypoint/Cmd, PATH order across
//! layers, symlinks inside the image, shell wrappers, and how few layers
//! are read to answer.

use crate::layer_fixtures;

use layer_fixtures::{base_dirs, image, Layer};
use rebuild_compare::image::digest::Digest;
use rebuild_compare::rootfs::locate::{locate, LocateError, Located, RunConfig, DEFAULT_PATH};
use rebuild_compare::rootfs::{
    IndexStore, LayerSource, MemoryIndexStore, MemoryLayerSource, NoIndexStore, Rootfs, RootfsError,
};

fn entrypoint(args: &[&str]) -> RunConfig {
    RunConfig {
        entrypoint: Some(args.iter().map(|s| s.to_string()).collect()),
        ..RunConfig::default()
    }
}

fn with_path(mut config: RunConfig, path: &str) -> RunConfig {
    config.env = Some(vec!["HOME=/root".to_string(), format!("PATH={path}")]);
    config
}

fn locate_in(source: &MemoryLayerSource, config: &RunConfig) -> Result<Located, LocateError> {
    let view = Rootfs::new(source, NoIndexStore).unwrap();
    locate(&view, config, None)
}

fn digest_of(source: &MemoryLayerSource, index: usize) -> Digest {
    source.layers()[index].digest.clone()
}

#[test]
fn finds_binary_through_path_order_across_layers() {
    // /usr/local/bin comes first on PATH, so the older layer's copy wins
    // over the newer layer's /usr/bin copy.
    let source = image(vec![
        base_dirs().exe("usr/local/bin/app", b"older, earlier on PATH"),
        Layer::new()
            .dir("usr")
            .dir("usr/bin")
            .exe("usr/bin/app", b"newer, later on PATH"),
    ]);
    let located = locate_in(&source, &entrypoint(&["app", "--serve"])).unwrap();
    assert_eq!(
        located,
        Located {
            requested: "/usr/local/bin/app".to_string(),
            path: "/usr/local/bin/app".to_string(),
            layer: digest_of(&source, 0),
            layer_index: 0,
            size: 22,
            mode: 0o755,
            entry: 8,
            entry_path: "/usr/local/bin/app".to_string(),
        }
    );
}

#[test]
fn path_from_the_config_env_is_searched_in_order() {
    let source = image(vec![base_dirs()
        .dir("opt")
        .dir("opt/bin")
        .exe("opt/bin/app", b"opt")
        .exe("usr/local/bin/app", b"local")]);
    let located = locate_in(
        &source,
        &with_path(entrypoint(&["app"]), "/opt/bin:/usr/local/bin"),
    )
    .unwrap();
    assert_eq!(located.path, "/opt/bin/app");
    let located = locate_in(&source, &entrypoint(&["app"])).unwrap();
    assert_eq!(located.path, "/usr/local/bin/app");
}

#[test]
fn non_executable_file_is_skipped_in_path_search() {
    let source = image(vec![base_dirs()
        .file("usr/local/bin/app", b"not executable", 0o644)
        .dir("usr/bin/app-dir")
        .exe("usr/bin/app", b"executable")]);
    let located = locate_in(&source, &entrypoint(&["app"])).unwrap();
    assert_eq!(located.path, "/usr/bin/app");
}

#[test]
fn group_or_other_execute_bit_counts_as_executable() {
    let source = image(vec![base_dirs().file("usr/bin/app", b"x", 0o601)]);
    assert_eq!(
        locate_in(&source, &entrypoint(&["app"])).unwrap().mode,
        0o601
    );
}

#[test]
fn whited_out_binary_is_not_found_on_path() {
    let source = image(vec![
        base_dirs()
            .exe("usr/local/bin/app", b"deleted")
            .exe("usr/bin/app", b"kept"),
        Layer::new().whiteout("usr/local/bin/app"),
    ]);
    let located = locate_in(&source, &entrypoint(&["app"])).unwrap();
    assert_eq!(located.path, "/usr/bin/app");
    assert_eq!(located.layer_index, 0);
}

#[test]
fn merged_usr_symlinked_bin_directory_is_followed() {
    let source = image(vec![
        Layer::new()
            .dir("usr")
            .dir("usr/bin")
            .symlink("bin", "usr/bin")
            .symlink("sbin", "usr/sbin"),
        Layer::new()
            .dir("usr")
            .dir("usr/bin")
            .exe("usr/bin/app", b"app"),
    ]);
    let located = locate_in(&source, &entrypoint(&["/bin/app"])).unwrap();
    assert_eq!(located.requested, "/bin/app");
    assert_eq!(located.path, "/usr/bin/app");
    assert_eq!(located.layer_index, 1);
    let located = locate_in(&source, &with_path(entrypoint(&["app"]), "/bin")).unwrap();
    assert_eq!(located.requested, "/bin/app");
    assert_eq!(located.path, "/usr/bin/app");
}

#[test]
fn program_symlinks_resolve_with_absolute_and_dotdot_targets() {
    let source = image(vec![base_dirs()
        .dir("opt")
        .dir("opt/app")
        .exe("opt/app/server", b"server")
        .symlink("usr/local/bin/server", "/opt/app/server")
        .symlink("usr/bin/escape", "../../../../../../../opt/app/server")]);
    let located = locate_in(&source, &entrypoint(&["server"])).unwrap();
    assert_eq!(located.requested, "/usr/local/bin/server");
    assert_eq!(located.path, "/opt/app/server");
    let located = locate_in(&source, &entrypoint(&["escape"])).unwrap();
    assert_eq!(located.path, "/opt/app/server");
}

#[test]
fn symlink_loop_in_the_program_path_is_an_error_naming_it() {
    let source = image(vec![base_dirs()
        .symlink("usr/bin/a", "b")
        .symlink("usr/bin/b", "a")]);
    let err = locate_in(&source, &entrypoint(&["/usr/bin/a"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "too many levels of symbolic links resolving /usr/bin/a (symlink loop? more than 40 links)"
    );
}

#[test]
fn missing_program_error_lists_the_path_searched() {
    let source = image(vec![base_dirs()]);
    let err = locate_in(&source, &entrypoint(&["nope"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("program \"nope\" not found: no executable regular file of that name in PATH {DEFAULT_PATH}")
    );
    let err = locate_in(&source, &entrypoint(&["/opt/nope/bin/x"])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "program /opt/nope/bin/x not found in the image (/opt does not exist)"
    );
}

#[test]
fn cmd_only_image_runs_its_first_cmd_word() {
    let source = image(vec![base_dirs().exe("usr/bin/app", b"app")]);
    let config = RunConfig {
        entrypoint: Some(vec![]),
        cmd: Some(vec!["app".to_string(), "run".to_string()]),
        ..RunConfig::default()
    };
    assert_eq!(locate_in(&source, &config).unwrap().path, "/usr/bin/app");
}

#[test]
fn config_without_entrypoint_or_cmd_asks_for_path() {
    let source = image(vec![base_dirs()]);
    let err = locate_in(&source, &RunConfig::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the image config has neither Entrypoint nor Cmd; pass --path"
    );
}

#[test]
fn shell_form_entrypoint_is_rejected_and_path_override_wins() {
    let source = image(vec![base_dirs()
        .exe("bin/sh", b"shell")
        .exe("usr/bin/app", b"app")]);
    let config = entrypoint(&["/bin/sh", "-c", "exec app --serve"]);
    let err = locate_in(&source, &config).unwrap_err();
    assert!(matches!(err, LocateError::ShellWrapper { .. }));
    assert_eq!(
        err.to_string(),
        "the image runs a shell wrapper (`/bin/sh -c exec app --serve`); pass --path to name the binary"
    );
    let view = Rootfs::new(&source, NoIndexStore).unwrap();
    let located = locate(&view, &config, Some("/usr/bin/app")).unwrap();
    assert_eq!(located.path, "/usr/bin/app");
}

#[test]
fn shell_wrapper_in_cmd_after_an_empty_entrypoint_is_rejected() {
    let source = image(vec![base_dirs().exe("bin/sh", b"shell")]);
    let config = RunConfig {
        cmd: Some(vec!["sh".into(), "-c".into(), "app".into()]),
        ..RunConfig::default()
    };
    assert!(matches!(
        locate_in(&source, &config),
        Err(LocateError::ShellWrapper { .. })
    ));
}

#[test]
fn relative_program_with_a_slash_resolves_against_working_dir() {
    let source = image(vec![base_dirs()
        .dir("srv")
        .dir("srv/bin")
        .exe("srv/bin/app", b"app")]);
    let config = RunConfig {
        entrypoint: Some(vec!["./bin/app".to_string()]),
        working_dir: Some("/srv".to_string()),
        ..RunConfig::default()
    };
    let located = locate_in(&source, &config).unwrap();
    assert_eq!(located.requested, "/srv/bin/app");
}

#[test]
fn directory_and_special_files_are_not_binaries() {
    let source = image(vec![base_dirs().fifo("usr/bin/pipe")]);
    let err = locate_in(&source, &entrypoint(&["/usr/bin"])).unwrap_err();
    assert_eq!(err.to_string(), "/usr/bin is a directory, not a binary");
    let err = locate_in(&source, &entrypoint(&["/usr/bin/pipe"])).unwrap_err();
    assert_eq!(err.to_string(), "/usr/bin/pipe is not a regular file");
}

/// Three layers; the binary sits in the top one at an absolute Entrypoint.
fn three_layer_image() -> MemoryLayerSource {
    image(vec![
        base_dirs().exe("usr/bin/base-tool", b"base"),
        Layer::new().dir("etc").file("etc/config", b"c", 0o644),
        Layer::new()
            .dir("usr")
            .dir("usr/local")
            .dir("usr/local/bin")
            .exe("usr/local/bin/app", b"top layer app"),
    ])
}

#[test]
fn locating_a_binary_in_the_top_layer_opens_only_the_top_layer() {
    let source = three_layer_image();
    let view = Rootfs::new(&source, NoIndexStore).unwrap();
    let located = locate(&view, &entrypoint(&["/usr/local/bin/app"]), None).unwrap();
    assert_eq!(source.open_counts(), [0, 0, 1]);
    let mut out = Vec::new();
    view.copy_file(&located, &mut out).unwrap();
    assert_eq!(out, b"top layer app");
    assert_eq!(source.open_counts(), [0, 0, 2]);
    // So does a PATH search whose first directory holds it.
    let view = Rootfs::new(&source, NoIndexStore).unwrap();
    source.reset_open_counts();
    let config = with_path(entrypoint(&["app"]), "/usr/local/bin:/usr/bin");
    assert_eq!(locate(&view, &config, None).unwrap(), located);
    assert_eq!(source.open_counts(), [0, 0, 1]);
}

#[test]
fn second_locate_with_a_filled_index_store_reads_only_the_layer_holding_the_file() {
    let source = three_layer_image();
    let store = MemoryIndexStore::new();
    let config = entrypoint(&["base-tool"]);
    let first = locate(&Rootfs::new(&source, &store).unwrap(), &config, None).unwrap();
    assert_eq!(first.layer_index, 0);
    assert_eq!(source.open_counts(), [1, 1, 1]);
    assert_eq!(store.len(), 3);
    assert!(store.load(&digest_of(&source, 1)).is_some());

    source.reset_open_counts();
    let view = Rootfs::new(&source, &store).unwrap();
    let second = locate(&view, &config, None).unwrap();
    assert_eq!(second, first);
    assert_eq!(
        source.open_counts(),
        [0, 0, 0],
        "the look-up reads no layer"
    );
    let mut out = Vec::new();
    view.copy_file(&second, &mut out).unwrap();
    assert_eq!(out, b"base");
    assert_eq!(source.open_counts(), [1, 0, 0]);
}

#[test]
fn layer_that_fails_to_open_is_reported_not_skipped() {
    struct Unreachable(MemoryLayerSource);
    impl LayerSource for Unreachable {
        fn layers(&self) -> &[rebuild_compare::rootfs::LayerInfo] {
            self.0.layers()
        }
        fn open(&self, index: usize) -> Result<Box<dyn std::io::Read + Send>, RootfsError> {
            Err(RootfsError::Source(
                format!("registry refused layer {index}").into(),
            ))
        }
    }
    let source = Unreachable(image(vec![base_dirs().exe("usr/bin/app", b"x")]));
    let view = Rootfs::new(&source, NoIndexStore).unwrap();
    let err = locate(&view, &entrypoint(&["app"]), None).unwrap_err();
    assert_eq!(err.to_string(), "registry refused layer 0");
}
