//! Proves the shared test harness (`tests/it/support`) works, judged only by
//! external tools: `skopeo inspect` and the registry's HTTP API via reqwest.

use crate::support;

use std::io::Read;

use sha2::{Digest as _, Sha256};
use support::{
    inspect_raw, inspect_raw_json, manifest_of_size, push, sha256_digest, to_docker_archive,
    write_oci_layout, write_oversized_layout, Compression, ImageBuilder, ImageSet, IndexStyle,
    LayerBuilder, MediaTypes, Registry,
};

fn small_image(platform: &str, compression: Compression) -> support::Image {
    let base = LayerBuilder::new()
        .dir("usr", 0o755)
        .dir("usr/bin", 0o755)
        .file("usr/bin/app", platform.as_bytes(), 0o755)
        .symlink("bin", "usr/bin")
        .build(compression);
    let top = LayerBuilder::new()
        .file("etc/motd", b"hello\n", 0o644)
        .hardlink("usr/bin/app-link", "usr/bin/app")
        .whiteout("usr/bin/gone")
        .build(compression);
    ImageBuilder::new(platform)
        .entrypoint(&["/usr/bin/app"])
        .cmd(&["--help"])
        .env("PATH=/usr/bin")
        .working_dir("/")
        .user("1000:1000")
        .layer(base)
        .layer(top)
        .with_history()
        .build()
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

#[test]
fn registry_serves_v2_and_stops_on_drop() {
    let registry = Registry::start();
    let url = format!("{}/v2/", registry.url());
    let resp = http().get(&url).send().expect("GET /v2/");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(
        resp.headers()["docker-distribution-api-version"],
        "registry/2.0"
    );
    let host = registry.host();
    drop(registry);
    assert!(std::net::TcpStream::connect(host).is_err());
}

#[test]
fn pushes_two_platform_oci_index_with_attestations_unchanged() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let set = ImageSet::new(vec![
        small_image("linux/amd64", Compression::Gzip),
        small_image("linux/arm64/v8", Compression::Gzip),
    ])
    .with_attestations();
    let written = write_oci_layout(dir.path(), "v1", &set, IndexStyle::Index, MediaTypes::Oci);
    push(dir.path(), "v1", &registry.reference("multi:v1"), None);

    let raw = inspect_raw(&registry.reference("multi:v1"), None);
    assert_eq!(sha256_digest(&raw), written.top.digest);
    let index: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let entries = index["manifests"].as_array().unwrap();
    let platforms: Vec<String> = entries
        .iter()
        .map(|e| {
            let p = &e["platform"];
            format!(
                "{}/{}{}",
                p["os"].as_str().unwrap(),
                p["architecture"].as_str().unwrap(),
                p["variant"]
                    .as_str()
                    .map(|v| format!("/{v}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        platforms,
        [
            "linux/amd64",
            "unknown/unknown",
            "linux/arm64/v8",
            "unknown/unknown"
        ]
    );
    assert_eq!(
        entries[1]["annotations"]["vnd.docker.reference.type"],
        "attestation-manifest"
    );
    assert_eq!(
        entries[1]["annotations"]["vnd.docker.reference.digest"],
        written.manifests[0].digest.as_str()
    );

    // The arm64 manifest is addressable by digest and its layers are served.
    let arm = &set.images[1];
    let manifest = inspect_raw_json(
        &format!("{}/multi@{}", registry.host(), written.manifests[1].digest),
        None,
    );
    assert_eq!(manifest["config"]["digest"], arm.config_digest.as_str());
    for layer in &arm.layers {
        let url = format!("{}/v2/multi/blobs/{}", registry.url(), layer.digest);
        let body = http().get(&url).send().unwrap().bytes().unwrap();
        assert_eq!(sha256_digest(&body), layer.digest);
        assert_eq!(sha256_digest(&layer.tar_bytes()), layer.diff_id);
    }
}

#[test]
fn pushes_docker_schema2_manifest_list_and_single_manifest() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let list = ImageSet::new(vec![
        small_image("linux/amd64", Compression::Gzip),
        small_image("linux/arm/v7", Compression::Gzip),
    ]);
    let written = write_oci_layout(
        dir.path(),
        "list",
        &list,
        IndexStyle::Index,
        MediaTypes::Docker,
    );
    let single = ImageSet::single(small_image("linux/amd64", Compression::Gzip));
    let one = write_oci_layout(
        dir.path(),
        "one",
        &single,
        IndexStyle::SingleManifest,
        MediaTypes::Docker,
    );
    push(dir.path(), "list", &registry.reference("docker:list"), None);
    push(dir.path(), "one", &registry.reference("docker:one"), None);

    let index = inspect_raw_json(&registry.reference("docker:list"), None);
    assert_eq!(
        index["mediaType"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    assert_eq!(index["manifests"][1]["platform"]["variant"], "v7");

    let url = format!("{}/v2/docker/manifests/one", registry.url());
    let resp = http()
        .get(&url)
        .header("Accept", MANIFEST_ACCEPT)
        .send()
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(
        resp.headers()["docker-content-digest"],
        one.top.digest.as_str()
    );
    let manifest: serde_json::Value = resp.json().unwrap();
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.docker.container.image.v1+json"
    );
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
    assert_eq!(
        sha256_digest(&inspect_raw(&registry.reference("docker:list"), None)),
        written.top.digest
    );

    let archive = dir.path().join("docker.tar");
    to_docker_archive(dir.path(), "one", &archive, "example.test/docker:one");
    let mut tar = tar::Archive::new(std::fs::File::open(&archive).unwrap());
    let has_manifest = tar
        .entries()
        .unwrap()
        .any(|e| e.unwrap().path().unwrap().to_str() == Some("manifest.json"));
    assert!(has_manifest);
}

#[test]
fn pushes_zstd_and_uncompressed_layers_with_their_media_types() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let zstd_layer = LayerBuilder::new()
        .file("data/z.txt", b"zstd content", 0o644)
        .build(Compression::Zstd);
    let plain_layer = LayerBuilder::new()
        .file("data/p.txt", b"plain content", 0o644)
        .build(Compression::None);
    let image = ImageBuilder::new("linux/amd64")
        .layer(zstd_layer.clone())
        .layer(plain_layer.clone())
        .build();
    write_oci_layout(
        dir.path(),
        "z",
        &ImageSet::single(image),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(dir.path(), "z", &registry.reference("zstd:z"), None);

    let manifest = inspect_raw_json(&registry.reference("zstd:z"), None);
    assert_eq!(
        manifest["layers"][0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+zstd"
    );
    assert_eq!(manifest["layers"][0]["digest"], zstd_layer.digest.as_str());
    assert_eq!(
        manifest["layers"][1]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar"
    );
    let url = format!("{}/v2/zstd/blobs/{}", registry.url(), zstd_layer.digest);
    let blob = http().get(&url).send().unwrap().bytes().unwrap();
    let tar = zstd::decode_all(&blob[..]).unwrap();
    assert_eq!(sha256_digest(&tar), zstd_layer.diff_id);
}

#[test]
fn auth_registry_rejects_anonymous_and_accepts_credentials() {
    let registry = Registry::start_with_auth("alice", "s3cret");
    let url = format!("{}/v2/", registry.url());
    let anonymous = http().get(&url).send().unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    let challenge = anonymous.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Basic "), "{challenge}");
    let wrong = http()
        .get(&url)
        .basic_auth("alice", Some("nope"))
        .send()
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let ok = http()
        .get(&url)
        .basic_auth("alice", Some("s3cret"))
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);

    let dir = tempfile::tempdir().unwrap();
    let set = ImageSet::single(small_image("linux/amd64", Compression::Gzip));
    let written = write_oci_layout(
        dir.path(),
        "a",
        &set,
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    let reference = registry.reference("private:a");
    push(dir.path(), "a", &reference, registry.credentials());
    let raw = inspect_raw(&reference, Some(("alice", "s3cret")));
    assert_eq!(sha256_digest(&raw), written.top.digest);
    let denied = support::skopeo::skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{reference}"),
    ]);
    assert!(!denied.status.success());
}

#[test]
fn corrupt_blob_changes_served_bytes_but_not_length() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let image = small_image("linux/amd64", Compression::Gzip);
    let layer = image.layers[0].clone();
    write_oci_layout(
        dir.path(),
        "c",
        &ImageSet::single(image),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(dir.path(), "c", &registry.reference("corrupt:c"), None);
    let url = format!("{}/v2/corrupt/blobs/{}", registry.url(), layer.digest);
    let before = http().get(&url).send().unwrap().bytes().unwrap();
    assert_eq!(sha256_digest(&before), layer.digest);

    registry.corrupt_blob(&layer.digest);
    let resp = http().get(&url).send().unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let after = resp.bytes().unwrap();
    assert_eq!(after.len(), before.len());
    assert_ne!(sha256_digest(&after), layer.digest);
}

#[test]
fn planted_manifest_is_served_under_a_digest_it_does_not_match() {
    let registry = Registry::start();
    let dir = tempfile::tempdir().unwrap();
    let image = small_image("linux/amd64", Compression::Gzip);
    let written = write_oci_layout(
        dir.path(),
        "p",
        &ImageSet::single(image),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(dir.path(), "p", &registry.reference("planted:p"), None);
    let genuine = inspect_raw(&registry.reference("planted:p"), None);
    let mut forged: serde_json::Value = serde_json::from_slice(&genuine).unwrap();
    forged["annotations"] = serde_json::json!({"forged": "yes"});
    let forged = serde_json::to_vec(&forged).unwrap();
    registry.plant_manifest_as("planted", "p", &written.top.digest, &forged);

    let resp = registry.get_manifest("planted", &written.top.digest);
    assert_eq!(resp.status, 200, "{}", registry.stderr_log());
    assert_eq!(resp.body, forged);
    assert_eq!(
        resp.header("docker-content-digest"),
        Some(written.top.digest.as_str())
    );
    assert_ne!(sha256_digest(&resp.body), written.top.digest);
}

#[test]
fn writes_docker_archive_with_repo_tag() {
    let dir = tempfile::tempdir().unwrap();
    let image = small_image("linux/amd64", Compression::Gzip);
    let config_digest = image.config_digest.clone();
    write_oci_layout(
        dir.path(),
        "d",
        &ImageSet::single(image),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    let archive = dir.path().join("image.tar");
    to_docker_archive(dir.path(), "d", &archive, "example.test/app:d");

    let mut tar = tar::Archive::new(std::fs::File::open(&archive).unwrap());
    let mut manifest = None;
    let mut names = Vec::new();
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if name == "manifest.json" {
            let mut s = String::new();
            entry.read_to_string(&mut s).unwrap();
            manifest = Some(serde_json::from_str::<serde_json::Value>(&s).unwrap());
        }
        names.push(name);
    }
    let manifest = manifest.expect("manifest.json in docker-archive");
    assert_eq!(manifest[0]["RepoTags"][0], "example.test/app:d");
    let config_name = manifest[0]["Config"].as_str().unwrap();
    assert!(config_name.contains(config_digest.trim_start_matches("sha256:")));
    assert_eq!(manifest[0]["Layers"].as_array().unwrap().len(), 2);
    assert!(names.iter().any(|n| n == config_name));
}

#[test]
fn registry_limits_manifests_to_4_mib_so_oversized_ones_come_from_layouts() {
    let registry = Registry::start();
    let oci = "application/vnd.oci.image.manifest.v1+json";
    let at_limit = manifest_of_size(&registry, "big", 4 << 20);
    assert_eq!(
        registry.put_manifest("big", "limit", oci, &at_limit).status,
        201
    );
    let over = manifest_of_size(&registry, "big", (4 << 20) + 1);
    let refused = registry.put_manifest("big", "over", oci, &over);
    assert_eq!(refused.status, 400);
    assert!(refused.text().contains("request body too large"));
    let served = http()
        .get(format!("{}/v2/big/manifests/limit", registry.url()))
        .header("Accept", MANIFEST_ACCEPT)
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(served.len(), 4 << 20);

    // Planted in storage, a larger manifest is still not served.
    registry.plant_manifest("big", "planted", &over);
    let planted = registry.get_manifest("big", "planted");
    assert_eq!(planted.status, 500);

    let dir = tempfile::tempdir().unwrap();
    let desc = write_oversized_layout(dir.path(), "huge", (4 << 20) + 1);
    assert_eq!(desc.size, (4 << 20) + 1);
    let on_disk = std::fs::read(support::layout::blob_path(dir.path(), &desc.digest)).unwrap();
    assert_eq!(sha256_digest(&on_disk), desc.digest);
}

#[test]
fn hostile_and_long_entries_read_back_verbatim() {
    let long = format!("deep/{}/file", "d".repeat(120));
    let pax = format!("pax/{}/file", "p".repeat(150));
    let layer = LayerBuilder::new()
        .file(&long, b"gnu", 0o644)
        .pax_file(&pax, b"pax", 0o600)
        .symlink("loop-a", "loop-b")
        .symlink("loop-b", "loop-a")
        .symlink("abs", "/etc/passwd")
        .symlink("up", "../../outside")
        .opaque("etc")
        .raw_entry(b"../escape", tar::EntryType::Regular, b"", b"x", 0o644)
        .raw_entry(b"/abs", tar::EntryType::Regular, b"", b"y", 0o644)
        .raw_entry(
            b"evil-link",
            tar::EntryType::Link,
            b"../../etc/shadow",
            b"",
            0o644,
        )
        .char_device("dev/null", 1, 3)
        .block_device("dev/sda", 8, 0)
        .fifo("run/fifo")
        .build(Compression::Gzip);
    let tar_bytes = layer.tar_bytes();
    assert_eq!(sha256_digest(&tar_bytes), layer.diff_id);

    let mut archive = tar::Archive::new(&tar_bytes[..]);
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let entry = entry.unwrap();
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8(l.into_owned()).unwrap());
        let kind = entry.header().entry_type();
        seen.push((name, format!("{kind:?}"), link));
    }
    let names: Vec<&str> = seen.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            long.as_str(),
            pax.as_str(),
            "loop-a",
            "loop-b",
            "abs",
            "up",
            "etc/.wh..wh..opq",
            "../escape",
            "/abs",
            "evil-link",
            "dev/null",
            "dev/sda",
            "run/fifo",
        ]
    );
    assert_eq!(seen[4].2.as_deref(), Some("/etc/passwd"));
    assert_eq!(seen[9].1, "Link");
    assert_eq!(seen[9].2.as_deref(), Some("../../etc/shadow"));
    assert_eq!(seen[10].1, "Char");
    assert_eq!(seen[11].1, "Block");
    assert_eq!(seen[12].1, "Fifo");
}

#[test]
fn large_file_layer_streams_to_matching_digests() {
    let dir = tempfile::tempdir().unwrap();
    let size = 3 * 1024 * 1024 + 17;
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let layer = LayerBuilder::large_file(dir.path(), "blob.bin", size, 7, compression);
        let blob = layer.blob_bytes();
        assert_eq!(blob.len() as u64, layer.size);
        assert_eq!(sha256_digest(&blob), layer.digest);
        let tar = layer.tar_bytes();
        assert_eq!(sha256_digest(&tar), layer.diff_id);
        let mut archive = tar::Archive::new(&tar[..]);
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        let mut expected = vec![0u8; size as usize];
        support::PseudoRandom::new(7)
            .read_exact(&mut expected)
            .unwrap();
        assert_eq!(Sha256::digest(&content), Sha256::digest(&expected));
    }
}
