//! `skopeo` wrappers, so that an independent client writes what our code
//! reads. Every call runs with `--insecure-policy` and with `HOME`,
//! `REGISTRY_AUTH_FILE`, `DOCKER_CONFIG` and `XDG_*` pointed at a fresh temp
//! dir, so the host's credentials and policy are never read or written.
//!
//! skopeo 1.9's `oci:` transport ignores `index.json` entries whose media
//! type is not OCI, so layouts tagged with Docker media types are first
//! copied to a temp `dir:` layout (which guesses the manifest type from its
//! content) and pushed from there; bytes and digests stay identical.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use super::layout::{blob_path, REF_NAME_ANNOTATION};

/// Runs `skopeo --insecure-policy ARGS` in an isolated environment and
/// returns its output (not checked; see [`skopeo_ok`]).
pub fn skopeo(args: &[&str]) -> Output {
    let home = tempfile::Builder::new()
        .prefix("skopeo-home-")
        .tempdir()
        .expect("create skopeo temp home");
    let h = home.path();
    let run = h.join("run");
    std::fs::create_dir_all(&run).expect("create XDG_RUNTIME_DIR");
    Command::new("skopeo")
        .arg("--insecure-policy")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", h)
        .env("REGISTRY_AUTH_FILE", h.join("auth.json"))
        .env("DOCKER_CONFIG", h.join("docker"))
        .env("XDG_RUNTIME_DIR", &run)
        .env("XDG_CONFIG_HOME", h.join("config"))
        .env("TMPDIR", h)
        .output()
        .expect("run skopeo (apt-get install skopeo)")
}

/// Runs [`skopeo`] and panics with its stderr unless it succeeds; returns stdout.
pub fn skopeo_ok(args: &[&str]) -> Vec<u8> {
    let out = skopeo(args);
    assert!(
        out.status.success(),
        "skopeo {args:?} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn creds_arg(flag: &str, creds: Option<(&str, &str)>) -> Option<String> {
    creds.map(|(u, p)| format!("{flag}={u}:{p}"))
}

/// A skopeo source name for `layout_dir:tag`: `oci:DIR:TAG` when the tag's
/// media type is OCI, else `dir:TMP` holding a converted copy (kept alive by
/// the returned guard).
fn source(layout_dir: &Path, tag: &str) -> (String, Option<tempfile::TempDir>) {
    let index: serde_json::Value = serde_json::from_slice(
        &fs::read(layout_dir.join("index.json")).expect("read layout index.json"),
    )
    .expect("layout index.json is JSON");
    let entry = index["manifests"]
        .as_array()
        .and_then(|m| {
            m.iter()
                .find(|e| e["annotations"][REF_NAME_ANNOTATION].as_str() == Some(tag))
        })
        .unwrap_or_else(|| panic!("tag {tag:?} not in {}/index.json", layout_dir.display()))
        .clone();
    let media_type = entry["mediaType"].as_str().unwrap_or_default();
    if media_type.starts_with("application/vnd.oci.") {
        return (format!("oci:{}:{tag}", layout_dir.display()), None);
    }
    let tmp = tempfile::Builder::new()
        .prefix("skopeo-dir-")
        .tempdir()
        .expect("create dir: transport temp dir");
    let d = tmp.path();
    fs::write(d.join("version"), "Directory Transport Version: 1.1\n").expect("write version");
    let top_digest = entry["digest"].as_str().expect("index entry digest");
    let top = fs::read(blob_path(layout_dir, top_digest)).expect("read top manifest");
    fs::write(d.join("manifest.json"), &top).expect("write manifest.json");
    let top_json: serde_json::Value = serde_json::from_slice(&top).expect("manifest is JSON");
    let copy_blob = |digest: &str, name: String| {
        fs::copy(blob_path(layout_dir, digest), d.join(name))
            .unwrap_or_else(|e| panic!("copy blob {digest} to dir: layout: {e}"));
    };
    let copy_image = |manifest: &serde_json::Value| {
        let config = &manifest["config"]["digest"];
        let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
        for digest in std::iter::once(config).chain(layers.iter().map(|l| &l["digest"])) {
            let digest = digest.as_str().expect("descriptor digest");
            copy_blob(digest, digest.trim_start_matches("sha256:").to_string());
        }
    };
    match top_json["manifests"].as_array() {
        Some(instances) => {
            for instance in instances {
                let digest = instance["digest"].as_str().expect("instance digest");
                let hex = digest.trim_start_matches("sha256:");
                copy_blob(digest, format!("{hex}.manifest.json"));
                let bytes = fs::read(blob_path(layout_dir, digest)).expect("read instance");
                copy_image(&serde_json::from_slice(&bytes).expect("instance is JSON"));
            }
        }
        None => copy_image(&top_json),
    }
    (format!("dir:{}", d.display()), Some(tmp))
}

/// Pushes `layout_dir:tag` to `registry_ref` (`host/repo:tag`) with
/// `skopeo copy --all --preserve-digests` over plain HTTP, so manifests,
/// media types and digests arrive exactly as written.
pub fn push(layout_dir: &Path, tag: &str, registry_ref: &str, creds: Option<(&str, &str)>) {
    let (src, _guard) = source(layout_dir, tag);
    let dst = format!("docker://{registry_ref}");
    let creds = creds_arg("--dest-creds", creds);
    let mut args = vec![
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
    ];
    if let Some(c) = &creds {
        args.push(c);
    }
    args.push(&src);
    args.push(&dst);
    skopeo_ok(&args);
}

/// Writes `layout_dir:tag` (one platform: skopeo picks the host's from an
/// index) as a `docker save`-style archive at `file`, tagged `reference`.
///
/// skopeo 1.9 refuses to write an image with zstd layers into a docker
/// archive ("zstd compression is not supported for docker images"), so the
/// image is first copied to a temp `dir:` with its layers decompressed; a
/// docker archive holds uncompressed layers anyway, so it is the same archive.
pub fn to_docker_archive(layout_dir: &Path, tag: &str, file: &Path, reference: &str) {
    let (src, _guard) = source(layout_dir, tag);
    let plain = tempfile::Builder::new()
        .prefix("skopeo-plain-")
        .tempdir()
        .expect("create dir: transport temp dir");
    let plain = format!("dir:{}", plain.path().display());
    skopeo_ok(&["copy", "--dest-decompress", &src, &plain]);
    let dst = format!("docker-archive:{}:{reference}", file.display());
    skopeo_ok(&["copy", &plain, &dst]);
}

/// `skopeo inspect --raw` of `registry_ref`: the manifest bytes as served.
pub fn inspect_raw(registry_ref: &str, creds: Option<(&str, &str)>) -> Vec<u8> {
    let target = format!("docker://{registry_ref}");
    let creds = creds_arg("--creds", creds);
    let mut args = vec!["inspect", "--raw", "--tls-verify=false"];
    if let Some(c) = &creds {
        args.push(c);
    }
    args.push(&target);
    skopeo_ok(&args)
}

/// `skopeo inspect --raw` parsed as JSON.
pub fn inspect_raw_json(registry_ref: &str, creds: Option<(&str, &str)>) -> serde_json::Value {
    serde_json::from_slice(&inspect_raw(registry_ref, creds)).expect("skopeo inspect --raw is JSON")
}
