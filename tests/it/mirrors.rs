//! Registry mirrors from `containers-registries.conf(5)` end to end: the
//! origin a reference names is a closed loopback port, the mirror a real
//! loopback registry with the images pushed by skopeo. Images, builder
//! images and `plan`'s tags come from the mirror; `pull-from-mirror`,
//! `blocked` and the scope of credentials hold.

use crate::support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::json;
use support::cli::{run_in, Run};
use support::fast_app::*;
use support::{push, write_oci_layout, Compression, ImageBuilder, ImageSet, IndexStyle, Registry};
use support::{LayerBuilder, MediaTypes};

/// `127.0.0.1:PORT` where nothing listens: an origin that cannot be reached.
fn unreachable_origin() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("127.0.0.1:{port}")
}

/// Writes `dir/registries.conf` with `text` and returns its path.
fn registries_conf(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("registries.conf");
    std::fs::write(&path, text).unwrap();
    path
}

/// A `[[registry]]` for `origin` whose one mirror is `mirror`, with
/// `pull-from-mirror = pull_from`.
fn mirrored(origin: &str, mirror: &str, pull_from: &str) -> String {
    format!(
        "[[registry]]\nlocation = \"{origin}\"\n\n\
         [[registry.mirror]]\nlocation = \"{mirror}\"\npull-from-mirror = \"{pull_from}\"\n"
    )
}

/// Pushes a one-platform (host) busybox image to `registry` as `reference`.
fn push_busybox(registry: &Registry, dir: &Path, reference: &str) -> String {
    let busybox = std::fs::read("/bin/busybox").unwrap();
    let mut tools = LayerBuilder::new()
        .dir("bin", 0o755)
        .file("bin/busybox", &busybox, 0o755);
    for tool in ["sh", "printf"] {
        tools = tools.symlink(&format!("bin/{tool}"), "busybox");
    }
    let image = ImageBuilder::new(AMD64)
        .env("PATH=/bin")
        .layer(tools.build(Compression::Gzip))
        .build();
    let layout = dir.join("busybox-layout");
    let written = write_oci_layout(
        &layout,
        "1",
        &ImageSet::single(image),
        IndexStyle::SingleManifest,
        MediaTypes::Oci,
    );
    push(&layout, "1", &registry.reference(reference), None);
    written.top.digest
}

/// `rebuild-compare digest IMAGE --registries-conf CONF` plus `extra`.
fn digest(home: &Path, image: &str, conf: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["digest", image, "--registries-conf", conf.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_in(home, &args)
}

#[test]
fn an_image_and_its_builder_image_pull_through_a_mirror_with_the_origin_unreachable() {
    let mirror = Registry::start();
    let origin = unreachable_origin();
    let tmp = tempfile::tempdir().unwrap();
    let written = publish(
        &mirror,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64]),
        "app",
    );
    let builder_digest = push_busybox(&mirror, tmp.path(), "tools/busybox:1");
    let (source, _) = fast_source(tmp.path());
    let recipe = write_recipe(
        tmp.path(),
        "app",
        &format!("{origin}/app"),
        &format!(
            "[build]\nbuilder = \"{origin}/tools/busybox:1\"\n\
             command = [\"/bin/sh\", \"-c\", \"printf 'app {{os}}/{{arch}}\\\\n' > /out/app\"]\n\
             artifact = \"/out/app\"\n\n[build.platforms.\"linux/amd64\"]\n"
        ),
    );
    let conf = registries_conf(tmp.path(), &mirrored(&origin, &mirror.host(), "all"));
    let out_dir = tmp.path().join("out");
    let run = run_in(
        tmp.path(),
        &[
            &format!("{origin}/app"),
            VERSION,
            "--recipe",
            recipe.to_str().unwrap(),
            "--source",
            source.to_str().unwrap(),
            "--format",
            "json",
            "--out-dir",
            out_dir.to_str().unwrap(),
            "--registries-conf",
            conf.to_str().unwrap(),
        ],
    );
    let report = run.report(0);
    assert_eq!(report["verdict"], "reproducible");
    assert_eq!(
        report["image"]["reference"],
        format!("{origin}/app:{VERSION}")
    );
    assert_eq!(report["image"]["digest"], written.top.digest);
    assert_eq!(
        report["builder"],
        json!({"reference": format!("{origin}/tools/busybox:1"), "digest": builder_digest})
    );
    let conf = conf.display();
    let mirror = mirror.host();
    assert_eq!(
        report["notes"],
        json!([
            format!(
                "{origin}/app:{VERSION} served by mirror {mirror}/app:{VERSION} \
                 (registries.conf {conf}), which resolved the tag {VERSION}"
            ),
            format!(
                "builder {origin}/tools/busybox:1 is not pinned by digest in the recipe; \
                 resolved to {builder_digest} for this run"
            ),
            format!(
                "builder {origin}/tools/busybox:1 served by mirror {mirror}/tools/busybox:1 \
                 (registries.conf {conf}), which resolved the tag 1"
            ),
        ])
    );
}

#[test]
fn a_digest_only_mirror_serves_digest_references_and_leaves_tags_to_the_origin() {
    let mirror = Registry::start();
    let origin = unreachable_origin();
    let tmp = tempfile::tempdir().unwrap();
    let written = publish(
        &mirror,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64]),
        "app",
    );
    let conf = registries_conf(
        tmp.path(),
        &mirrored(&origin, &mirror.host(), "digest-only"),
    );
    let pinned = format!("{origin}/app@{}", written.top.digest);
    let by_digest = digest(tmp.path(), &pinned, &conf, &["--format", "json"]);
    assert_eq!(by_digest.report(0)["digest"], written.top.digest);

    let by_tag = digest(tmp.path(), &format!("{origin}/app:{VERSION}"), &conf, &[]);
    assert_eq!(by_tag.code, 2, "{}", by_tag.stderr);
    assert_eq!(by_tag.stdout, "");
    // The tag went to the origin only, which cannot be reached: its error,
    // with no mirror named.
    let error = by_tag.stderr.lines().last().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "error: {origin}/app:{VERSION}: error sending request for url \
             (http://{origin}/v2/app/manifests/{VERSION})"
        )),
        "{}",
        by_tag.stderr
    );
    assert!(!by_tag.stderr.contains("mirror"), "{}", by_tag.stderr);

    let all = registries_conf(tmp.path(), &mirrored(&origin, &mirror.host(), "all"));
    let by_tag = digest(
        tmp.path(),
        &format!("{origin}/app:{VERSION}"),
        &all,
        &["--format", "json"],
    );
    assert_eq!(by_tag.report(0)["digest"], written.top.digest);
}

#[test]
fn a_blocked_registry_is_refused_naming_the_file_and_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let origin = unreachable_origin();
    let conf = registries_conf(
        tmp.path(),
        &format!("[[registry]]\nprefix = \"{origin}/app\"\nlocation = \"{origin}/app\"\nblocked = true\n"),
    );
    let run = digest(tmp.path(), &format!("{origin}/app:{VERSION}"), &conf, &[]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "error: cannot open {origin}/app:{VERSION}: {origin}/app:{VERSION}: pulls from it \
             are blocked by the [[registry]] with prefix \"{origin}/app\" in {}",
            conf.display()
        )
    );
}

#[test]
fn a_mirror_gets_its_own_hosts_credentials_never_the_origins() {
    let mirror = Registry::start_with_auth("mirror-user", "mirror-pass");
    let origin = unreachable_origin();
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    let written = write_oci_layout(
        &layout,
        VERSION,
        &faithful_set(&[AMD64]),
        IndexStyle::Index,
        MediaTypes::Oci,
    );
    push(
        &layout,
        VERSION,
        &mirror.reference(&format!("app:{VERSION}")),
        mirror.credentials(),
    );
    let conf = registries_conf(tmp.path(), &mirrored(&origin, &mirror.host(), "all"));
    let auth = base64::engine::general_purpose::STANDARD.encode("mirror-user:mirror-pass");
    let authfile = |hosts: &[&str]| {
        let path = tmp.path().join("auth.json");
        let entries: serde_json::Map<String, serde_json::Value> = hosts
            .iter()
            .map(|host| (host.to_string(), json!({ "auth": auth })))
            .collect();
        std::fs::write(&path, json!({ "auths": entries }).to_string()).unwrap();
        path
    };
    let image = format!("{origin}/app:{VERSION}");

    // The credentials the mirror would accept, filed under the origin's
    // host: the mirror is asked without them and refuses, then the origin
    // cannot be reached.
    let origin_only = authfile(&[&origin]);
    let run = digest(
        tmp.path(),
        &image,
        &conf,
        &["--authfile", origin_only.to_str().unwrap()],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    let error = run.stderr.lines().last().unwrap_or_default();
    assert!(
        error.starts_with(&format!(
            "error: no mirror served {image} (mirror {}/app:{VERSION}: the registry refused \
             the credentials; log in (docker login / skopeo login) or pass --authfile), \
             and then: {image}: error sending request",
            mirror.host(),
        )),
        "{}",
        run.stderr
    );

    let mirror_host = mirror.host();
    let for_the_mirror = authfile(&[&mirror_host]);
    let run = digest(
        tmp.path(),
        &image,
        &conf,
        &[
            "--authfile",
            for_the_mirror.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(run.report(0)["digest"], written.top.digest);
}

#[test]
fn plan_lists_tags_and_resolves_them_through_a_mirror() {
    let mirror = Registry::start();
    let origin = unreachable_origin();
    let tmp = tempfile::tempdir().unwrap();
    let digests: Vec<String> = ["v1.0.0", "v1.1.0", "v2.0.0"]
        .iter()
        .map(|tag| {
            let layout = tmp.path().join(format!("layout-{tag}"));
            let image = app_image(AMD64, tag.as_bytes());
            let written = write_oci_layout(
                &layout,
                tag,
                &ImageSet::single(image),
                IndexStyle::SingleManifest,
                MediaTypes::Oci,
            );
            push(
                &layout,
                tag,
                &mirror.reference(&format!("tools/app:{tag}")),
                None,
            );
            written.top.digest
        })
        .collect();
    let watchlist = tmp.path().join("watch.toml");
    std::fs::write(
        &watchlist,
        format!("[[image]]\nreference = \"{origin}/tools/app\"\nversions = \">=1.0.0, <2\"\n"),
    )
    .unwrap();
    let conf = registries_conf(tmp.path(), &mirrored(&origin, &mirror.host(), "all"));
    let run = run_in(
        tmp.path(),
        &[
            "plan",
            watchlist.to_str().unwrap(),
            "--registries-conf",
            conf.to_str().unwrap(),
        ],
    );
    let plan = run.report(0);
    let jobs: Vec<[&str; 3]> = plan["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| ["image", "tag", "digest"].map(|k| job[k].as_str().unwrap()))
        .collect();
    let image = format!("{origin}/tools/app");
    assert_eq!(
        jobs,
        [
            [image.as_str(), "v1.0.0", digests[0].as_str()],
            [image.as_str(), "v1.1.0", digests[1].as_str()],
        ]
    );
}

#[test]
fn a_mirror_that_cannot_be_reached_passes_the_request_to_the_next_in_file_order() {
    let mirror = Registry::start();
    let origin = unreachable_origin();
    let down = unreachable_origin();
    let tmp = tempfile::tempdir().unwrap();
    let written = publish(
        &mirror,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64]),
        "app",
    );
    let conf = registries_conf(
        tmp.path(),
        &format!(
            "[[registry]]\nlocation = \"{origin}\"\n\n\
             [[registry.mirror]]\nlocation = \"{down}/cache\"\n\n\
             [[registry.mirror]]\nlocation = \"{}\"\n",
            mirror.host()
        ),
    );
    let run = digest(
        tmp.path(),
        &format!("{origin}/app:{VERSION}"),
        &conf,
        &["--format", "json"],
    );
    assert_eq!(run.report(0)["digest"], written.top.digest);
    assert!(
        run.stderr.contains(&format!(
            "mirror {down}/cache/app:{VERSION}: error sending request"
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn a_mirror_serving_other_bytes_for_a_pinned_digest_is_passed_over() {
    let liar = Registry::start();
    let honest = Registry::start();
    let origin = unreachable_origin();
    let tmp = tempfile::tempdir().unwrap();
    let written = publish(
        &honest,
        &tmp.path().join("honest"),
        &faithful_set(&[AMD64]),
        "app",
    );
    publish(
        &liar,
        &tmp.path().join("liar"),
        &faithful_set(&[ARM64]),
        "app",
    );
    let other = support::inspect_raw(&liar.reference(&format!("app:{VERSION}")), None);
    liar.plant_manifest_as("app", "planted", &written.top.digest, &other);
    let conf = registries_conf(
        tmp.path(),
        &format!(
            "[[registry]]\nlocation = \"{origin}\"\n\n\
             [[registry.mirror]]\nlocation = \"{}\"\n\n\
             [[registry.mirror]]\nlocation = \"{}\"\n",
            liar.host(),
            honest.host()
        ),
    );
    let pinned = format!("{origin}/app@{}", written.top.digest);
    let run = digest(tmp.path(), &pinned, &conf, &["--format", "json"]);
    assert_eq!(run.report(0)["digest"], written.top.digest);
    // The liar's answer was read, hashed and refused, then the next mirror asked.
    let refused = run
        .stderr
        .lines()
        .find(|line| line.contains(&format!("mirror {}/app@", liar.host())))
        .unwrap_or_else(|| panic!("no warning about the liar:\n{}", run.stderr));
    assert!(
        refused.contains(&support::sha256_digest(&other)),
        "{}",
        run.stderr
    );
}

#[test]
fn the_flag_then_the_variable_then_the_users_file_choose_the_registries_conf() {
    let mirror = Registry::start();
    let origin = unreachable_origin();
    let tmp = tempfile::tempdir().unwrap();
    let written = publish(
        &mirror,
        &tmp.path().join("layout"),
        &faithful_set(&[AMD64]),
        "app",
    );
    let image = format!("{origin}/app:{VERSION}");
    let user_file = tmp.path().join(".config/containers/registries.conf");
    std::fs::create_dir_all(user_file.parent().unwrap()).unwrap();
    std::fs::write(&user_file, mirrored(&origin, &mirror.host(), "all")).unwrap();
    let from_user_file = run_in(tmp.path(), &["digest", &image, "--format", "json"]);
    assert_eq!(from_user_file.report(0)["digest"], written.top.digest);

    let blocking = tmp.path().join("blocking.conf");
    std::fs::write(
        &blocking,
        format!("[[registry]]\nlocation = \"{origin}\"\nblocked = true\n"),
    )
    .unwrap();
    let blocked = format!(
        "error: cannot open {image}: {image}: pulls from it are blocked by the [[registry]] \
         with prefix \"{origin}\" in {}",
        blocking.display()
    );
    let from_variable = support::cli::run_in_env(
        tmp.path(),
        &[("CONTAINERS_REGISTRIES_CONF", blocking.to_str().unwrap())],
        &["digest", &image],
    );
    assert_eq!(from_variable.code, 2);
    assert_eq!(from_variable.stderr.trim_end(), blocked);

    let from_flag = support::cli::run_in_env(
        tmp.path(),
        &[("CONTAINERS_REGISTRIES_CONF", "/nonexistent/registries.conf")],
        &[
            "digest",
            &image,
            "--registries-conf",
            blocking.to_str().unwrap(),
        ],
    );
    assert_eq!(from_flag.code, 2);
    assert_eq!(from_flag.stderr.trim_end(), blocked);

    let missing = tmp.path().join("missing.conf");
    let named_but_missing = run_in(
        tmp.path(),
        &[
            "digest",
            &image,
            "--registries-conf",
            missing.to_str().unwrap(),
        ],
    );
    assert_eq!(named_but_missing.code, 2);
    assert_eq!(
        named_but_missing.stderr.trim_end(),
        format!(
            "error: cannot read registries.conf {}: No such file or directory (os error 2)",
            missing.display()
        )
    );
}
