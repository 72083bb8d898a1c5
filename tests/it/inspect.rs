//! `rebuild-compare inspect` against a live loopback registry (images pushed
//! by skopeo), OCI layouts and docker archives.

use crate::support;

use std::path::Path;

use support::cli::{run_in, Run};
use support::{
    push, to_docker_archive, write_oci_layout, write_oversized_layout, Compression, ImageBuilder,
    ImageSet, IndexStyle, LayerBuilder, MediaTypes, Registry,
};

fn app_image(platform: &str, compression: Compression) -> support::Image {
    ImageBuilder::new(platform)
        .entrypoint(&["/usr/local/bin/app"])
        .cmd(&["--help"])
        .env("PATH=/usr/local/bin:/usr/bin:/bin")
        .working_dir("/work")
        .user("1000:1000")
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", b"ID=test\n", 0o644)
                .build(compression),
        )
        .layer(
            LayerBuilder::new()
                .file("usr/local/bin/app", platform.as_bytes(), 0o755)
                .build(compression),
        )
        .build()
}

fn two_platforms(media: MediaTypes) -> ImageSet {
    let set = ImageSet::new(vec![
        app_image("linux/amd64", Compression::Gzip),
        app_image("linux/arm64", Compression::Gzip),
    ]);
    match media {
        MediaTypes::Oci => set.with_attestations(),
        MediaTypes::Docker => set,
    }
}

fn inspect(home: &Path, image: &str, extra: &[&str]) -> Run {
    let mut args = vec!["inspect", image, "--format", "json"];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

#[test]
fn inspects_two_platform_oci_index_and_skips_attestations() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let set = two_platforms(MediaTypes::Oci);
    let written = write_oci_layout(
        &tmp.path().join("lay"),
        "v1",
        &set,
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    push(
        &tmp.path().join("lay"),
        "v1",
        &registry.reference("ns/app:v1"),
        None,
    );

    let run = inspect(tmp.path(), &registry.reference("ns/app:v1"), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(json["reference"], registry.reference("ns/app:v1"));
    assert_eq!(json["digest"], written.top.digest);
    assert_eq!(
        json["media_type"],
        "application/vnd.oci.image.index.v1+json"
    );
    let platforms = json["platforms"].as_array().unwrap();
    assert_eq!(platforms.len(), 2);
    let names = ["linux/amd64", "linux/arm64"];
    for (i, p) in platforms.iter().enumerate() {
        let (image, manifest) = (&set.images[i], &written.manifests[i]);
        assert_eq!(p["platform"], names[i]);
        assert_eq!(p["manifest_digest"], manifest.digest);
        assert_eq!(p["config_digest"], image.config_digest);
        assert_eq!(p["entrypoint"], serde_json::json!(["/usr/local/bin/app"]));
        assert_eq!(p["cmd"], serde_json::json!(["--help"]));
        assert_eq!(
            p["env"],
            serde_json::json!(["PATH=/usr/local/bin:/usr/bin:/bin"])
        );
        assert_eq!(p["working_dir"], "/work");
        assert_eq!(p["user"], "1000:1000");
        let layers = p["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        for (l, want) in layers.iter().zip(&image.layers) {
            assert_eq!(l["digest"], want.digest);
            assert_eq!(l["size"], want.size);
            assert_eq!(
                l["media_type"],
                "application/vnd.oci.image.layer.v1.tar+gzip"
            );
        }
    }

    let run = inspect(
        tmp.path(),
        &registry.reference("ns/app:v1"),
        &["--platform", "linux/arm64"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let platforms = run.json()["platforms"].as_array().unwrap().clone();
    assert_eq!(platforms.len(), 1);
    assert_eq!(platforms[0]["platform"], "linux/arm64");

    let run = inspect(
        tmp.path(),
        &registry.reference("ns/app:v1"),
        &["--platform", "linux/s390x"],
    );
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        "error: platform linux/s390x is not in the image; available: linux/amd64, linux/arm64"
    );
}

#[test]
fn inspects_docker_schema2_manifest_list_and_single_manifest() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    let list = write_oci_layout(
        &lay,
        "list",
        &two_platforms(MediaTypes::Docker),
        IndexStyle::Index,
        MediaTypes::Docker,
    );
    let single_set = ImageSet::single(app_image("linux/amd64", Compression::Gzip));
    let single = write_oci_layout(
        &lay,
        "single",
        &single_set,
        IndexStyle::SingleManifest,
        MediaTypes::Docker,
    );
    push(&lay, "list", &registry.reference("app:list"), None);
    push(&lay, "single", &registry.reference("app:single"), None);

    let json = inspect(tmp.path(), &registry.reference("app:list"), &[]).json();
    assert_eq!(json["digest"], list.top.digest);
    assert_eq!(
        json["media_type"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    assert_eq!(json["platforms"].as_array().unwrap().len(), 2);
    assert_eq!(
        json["platforms"][0]["layers"][0]["media_type"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );

    let json = inspect(tmp.path(), &registry.reference("app:single"), &[]).json();
    assert_eq!(json["digest"], single.top.digest);
    assert_eq!(
        json["media_type"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(json["platforms"][0]["platform"], "linux/amd64");
    assert_eq!(json["platforms"][0]["manifest_digest"], single.top.digest);
    assert_eq!(
        json["platforms"][0]["config_digest"],
        single_set.images[0].config_digest
    );
}

#[test]
fn lists_zstd_and_uncompressed_layers_with_their_media_types() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let image = ImageBuilder::new("linux/amd64")
        .cmd(&["app"])
        .layer(
            LayerBuilder::new()
                .file("a", b"a", 0o644)
                .build(Compression::Zstd),
        )
        .layer(
            LayerBuilder::new()
                .file("b", b"b", 0o644)
                .build(Compression::None),
        )
        .build();
    let lay = tmp.path().join("lay");
    write_oci_layout(
        &lay,
        "v1",
        &ImageSet::single(image),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(&lay, "v1", &registry.reference("z:v1"), None);
    let json = inspect(tmp.path(), &registry.reference("z:v1"), &[]).json();
    let types: Vec<&str> = json["platforms"][0]["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["media_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/vnd.oci.image.layer.v1.tar"
        ]
    );
    assert_eq!(json["platforms"][0]["entrypoint"], serde_json::Value::Null);
    assert_eq!(json["platforms"][0]["cmd"], serde_json::json!(["app"]));
}

#[test]
fn inspects_oci_layouts_by_tag_and_single_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    let set = two_platforms(MediaTypes::Oci);
    let written = write_oci_layout(&lay, "v1", &set, IndexStyle::Index, MediaTypes::Oci);
    let by_tag = format!("oci:{}:v1", lay.display());
    let json = inspect(tmp.path(), &by_tag, &[]).json();
    assert_eq!(json["reference"], by_tag);
    assert_eq!(json["digest"], written.top.digest);
    assert_eq!(json["platforms"].as_array().unwrap().len(), 2);

    let only = format!("oci:{}", lay.display());
    assert_eq!(
        inspect(tmp.path(), &only, &[]).json()["digest"],
        written.top.digest
    );

    let run = inspect(tmp.path(), &format!("oci:{}:v2", lay.display()), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no image tagged \"v2\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("tags: v1"), "{}", run.stderr);
}

#[test]
fn a_run_that_only_reads_sweeps_the_partial_downloads_killed_runs_left_in_the_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    write_oci_layout(
        &lay,
        "v1",
        &two_platforms(MediaTypes::Oci),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    // The cache `run_in` gives the command ($XDG_CACHE_HOME/rebuild-compare).
    let blobs = tmp.path().join("cache/rebuild-compare/blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let killed = blobs.join(".partial-killed");
    let live = blobs.join(".partial-live");
    std::fs::write(&killed, b"half a layer").unwrap();
    std::fs::write(&live, b"a layer being pulled").unwrap();
    // Nothing has written to it for two hours: its run is gone.
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
    std::fs::File::options()
        .write(true)
        .open(&killed)
        .unwrap()
        .set_modified(two_hours_ago)
        .unwrap();

    let run = inspect(tmp.path(), &format!("oci:{}:v1", lay.display()), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let left: Vec<String> = std::fs::read_dir(&blobs)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, [".partial-live"]);
}

#[test]
fn inspects_docker_archives() {
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    let set = ImageSet::single(app_image("linux/amd64", Compression::Gzip));
    write_oci_layout(
        &lay,
        "v1",
        &set,
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    let archive = tmp.path().join("app.tar");
    to_docker_archive(&lay, "v1", &archive, "example.com/app:v1");

    for image in [
        format!("docker-archive:{}", archive.display()),
        format!("docker-archive:{}:example.com/app:v1", archive.display()),
    ] {
        let run = inspect(tmp.path(), &image, &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json = run.json();
        assert_eq!(
            json["media_type"],
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        let p = &json["platforms"][0];
        assert_eq!(p["platform"], "linux/amd64");
        assert_eq!(p["config_digest"], set.images[0].config_digest);
        assert_eq!(p["entrypoint"], serde_json::json!(["/usr/local/bin/app"]));
        let layers = p["layers"].as_array().unwrap();
        assert_eq!(layers.len(), 2);
        // docker save stores layers uncompressed: each is named by its diff_id.
        for (l, want) in layers.iter().zip(&set.images[0].layers) {
            assert_eq!(l["digest"], want.diff_id);
        }
    }
    let run = inspect(
        tmp.path(),
        &format!("docker-archive:{}:other:v9", archive.display()),
        &[],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no image \"other:v9\""),
        "{}",
        run.stderr
    );
}

#[test]
fn authenticates_with_credentials_from_the_auth_file() {
    let registry = Registry::start_with_auth("alice", "s3cret");
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    write_oci_layout(
        &lay,
        "v1",
        &two_platforms(MediaTypes::Oci),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    let reference = registry.reference("private/app:v1");
    push(&lay, "v1", &reference, Some(("alice", "s3cret")));

    let anonymous = inspect(tmp.path(), &reference, &[]);
    assert_eq!(anonymous.code, 2);
    assert!(
        anonymous.stderr.contains("refused the credentials"),
        "{}",
        anonymous.stderr
    );

    let authfile = tmp.path().join("auth.json");
    let auth = base64_encode("alice:s3cret");
    std::fs::write(
        &authfile,
        format!(
            r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let run = inspect(
        tmp.path(),
        &reference,
        &["--authfile", authfile.to_str().unwrap()],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.json()["platforms"].as_array().unwrap().len(), 2);

    // The default location is read too.
    std::fs::create_dir_all(tmp.path().join(".docker")).unwrap();
    std::fs::copy(&authfile, tmp.path().join(".docker/config.json")).unwrap();
    assert_eq!(inspect(tmp.path(), &reference, &[]).code, 0);
}

fn base64_encode(s: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn missing_tag_is_a_clear_error() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let reference = registry.reference("nothing:here");
    let run = inspect(tmp.path(), &reference, &[]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        format!("error: {reference}: not found in the registry (check the repository and tag)")
    );
}

#[test]
fn refuses_a_corrupted_config_blob_naming_its_digest() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    let set = ImageSet::single(app_image("linux/amd64", Compression::Gzip));
    write_oci_layout(
        &lay,
        "v1",
        &set,
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(&lay, "v1", &registry.reference("bad:v1"), None);
    let config = &set.images[0].config_digest;
    registry.corrupt_blob(config);

    let run = inspect(tmp.path(), &registry.reference("bad:v1"), &[]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains(&format!(
            "blob {config} failed verification: its content hashes to sha256:"
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"));
}

#[test]
fn refuses_a_manifest_served_under_the_wrong_digest() {
    let registry = Registry::start();
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    let written = write_oci_layout(
        &lay,
        "v1",
        &two_platforms(MediaTypes::Oci),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    push(&lay, "v1", &registry.reference("liar:v1"), None);
    // The registry now serves other bytes for the amd64 manifest's digest.
    let amd64 = &written.manifests[0];
    let other = registry
        .get_manifest("liar", &written.manifests[1].digest)
        .body;
    registry.plant_manifest_as("liar", "unused", &amd64.digest, &other);

    let run = inspect(
        tmp.path(),
        &registry.reference("liar:v1"),
        &["--platform", "linux/amd64"],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains(&amd64.digest), "{}", run.stderr);
}

#[test]
fn refuses_an_oversized_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let lay = tmp.path().join("lay");
    write_oversized_layout(&lay, "big", 4 * 1024 * 1024 + 1);
    let run = inspect(tmp.path(), &format!("oci:{}:big", lay.display()), &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("4194305 bytes, over the 4194304-byte limit"),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_references_are_exit_2_without_panic() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["UPPER/case", "app@sha256:abc", "dir:/x", "a//b"] {
        let run = inspect(tmp.path(), bad, &[]);
        assert_eq!(run.code, 2, "{bad}");
        assert!(run.stderr.starts_with("error: "), "{bad}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{bad}: {}", run.stderr);
    }
}
