//! `rebuild-compare ledger DIR --site OUT` on ledgers the tests write
//! (entry.json files and the reports beside them, as `run` leaves them),
//! and the site it builds, read as files and as Chromium renders it.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::cli::{run_in, Run};
use tempfile::TempDir;

/// One finished job to write into a ledger.
struct Job<'a> {
    image: &'a str,
    version: &'a str,
    platform: &'a str,
    verdict: &'a str,
    causes: &'a [&'a str],
    error: Option<&'a str>,
    /// Minutes after 2026-12-01T00:00:00Z the run finished.
    finished: u32,
    verifier: &'a str,
    signed: bool,
    /// Different runs of the same image, version and platform differ here.
    digest: &'a str,
}

impl Default for Job<'_> {
    fn default() -> Self {
        Job {
            image: "127.0.0.1:5000/tools/crictl",
            version: "v1.0.0",
            platform: "linux/amd64",
            verdict: "reproducible",
            causes: &[],
            error: None,
            finished: 0,
            verifier: "urn:rebuild-compare:unnamed-verifier",
            signed: false,
            digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
        }
    }
}

fn time(minutes: u32) -> String {
    format!(
        "2026-12-{:02}T{:02}:{:02}:00Z",
        1 + minutes / 1440,
        minutes / 60 % 24,
        minutes % 60
    )
}

/// A ledger directory and a place for sites, in one temp dir.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ledger-site-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("ledger/jobs")).unwrap();
        Fixture { dir }
    }

    fn ledger(&self) -> PathBuf {
        self.dir.path().join("ledger")
    }

    fn site(&self) -> PathBuf {
        self.dir.path().join("site")
    }

    /// Writes the job's entry.json, its report (unless it is an error)
    /// and its attestation; returns the job id.
    fn add(&self, job: &Job) -> String {
        let text = format!(
            "rebuild-compare-job/1\n{}@{}\n{}\n{}\ninferred\n0.1.0\n",
            job.image, job.digest, job.version, job.platform
        );
        let id = hex::encode(Sha256::digest(text.as_bytes()))[..32].to_string();
        let dir = self.ledger().join("jobs").join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        let report = (job.verdict != "error").then(|| {
            let report = json!({"verdict": job.verdict, "version": job.version});
            std::fs::write(dir.join("report.json"), report.to_string()).unwrap();
            "report.json"
        });
        let attestation = if job.signed {
            "attestation.dsse.json"
        } else {
            "attestation.json"
        };
        std::fs::write(dir.join(attestation), format!("{{\"job\":\"{id}\"}}")).unwrap();
        let entry = json!({
            "schema": "rebuild-compare-ledger-entry/1",
            "tool_version": "0.1.0",
            "job": {
                "id": id, "image": job.image, "tag": job.version, "digest": job.digest,
                "version": job.version, "platform": job.platform, "recipe": null,
                "recipe_sha256": null,
                "args": ["verify", format!("{}@{}", job.image, job.digest), job.version,
                         "--platform", job.platform],
            },
            "verdict": job.verdict,
            "causes": job.causes,
            "exit_code": match job.verdict { "reproducible" => 0, "mismatch" => 1, _ => 2 },
            "error": job.error,
            "started": time(job.finished.saturating_sub(3)),
            "finished": time(job.finished),
            "verifier_id": job.verifier,
            "signer_key_id": job.signed.then_some("8f3a0c1d2e4b5a69"),
            "report": report,
            "attestation": attestation,
        });
        std::fs::write(
            dir.join("entry.json"),
            serde_json::to_string_pretty(&entry).unwrap(),
        )
        .unwrap();
        id
    }

    fn publish(&self) -> Run {
        let ledger = self.ledger();
        let site = self.site();
        run_in(
            self.dir.path(),
            &[
                "ledger",
                ledger.to_str().unwrap(),
                "--site",
                site.to_str().unwrap(),
            ],
        )
    }

    fn published(&self) -> Value {
        let run = self.publish();
        assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
        let text = std::fs::read_to_string(self.site().join("ledger.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn published_json(&self) -> Value {
        serde_json::from_str(&self.read("ledger.json")).unwrap()
    }

    fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.site().join(path)).unwrap()
    }
}

/// `(platform, verdict, causes joined by commas)`.
type Cell = (String, String, String);

/// `(version, [cell])`.
type Row = (String, Vec<Cell>);

/// `(image, [row])` from ledger.json.
fn table(ledger: &Value) -> Vec<(String, Vec<Row>)> {
    let text = |v: &Value| v.as_str().unwrap().to_string();
    ledger["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|image| {
            let versions = image["versions"].as_array().unwrap().iter().map(|version| {
                let cells = version["platforms"].as_array().unwrap().iter().map(|cell| {
                    let causes: Vec<String> = cell["causes"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(text)
                        .collect();
                    (
                        text(&cell["platform"]),
                        text(&cell["verdict"]),
                        causes.join(","),
                    )
                });
                (text(&version["version"]), cells.collect())
            });
            (text(&image["image"]), versions.collect())
        })
        .collect()
}

/// `html` with its no-break spaces (the one between a verdict's symbol
/// and its word) as plain spaces, written out or as Chromium serialises them.
fn spaced(html: &str) -> String {
    html.replace('\u{a0}', " ").replace("&nbsp;", " ")
}

/// The rows of a page's table, each a list of its cells' text: tags
/// dropped, a `<small>` or `<p>` line shown as ` | `, no-break spaces as spaces.
fn rows(html: &str) -> Vec<Vec<String>> {
    let html = spaced(html);
    let body = &html[html.find("<table>").unwrap()..];
    body.split("<tr>")
        .skip(1)
        .filter(|row| !row.contains("<thead>") && !row.starts_with("<th>"))
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = cell.replace("<small>", " | ").replace("<p>", " | ");
                    let mut text = String::new();
                    let mut in_tag = true; // the rest of `<td ...>`
                    for c in cell.chars() {
                        match c {
                            '<' => in_tag = true,
                            '>' if in_tag => in_tag = false,
                            _ if !in_tag => text.push(c),
                            _ => {}
                        }
                    }
                    text.trim().to_string()
                })
                .collect()
        })
        .collect()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn builds_a_site_with_a_row_per_image_version_and_a_cell_per_platform() {
    let fx = Fixture::new();
    let crictl = "127.0.0.1:5000/tools/crictl";
    let amd_old = fx.add(&Job {
        version: "v1.9.0",
        ..Job::default()
    });
    let arm_old = fx.add(&Job {
        version: "v1.9.0",
        platform: "linux/arm64",
        verdict: "mismatch",
        causes: &["paths", "timestamp"],
        signed: true,
        ..Job::default()
    });
    fx.add(&Job {
        version: "v1.10.0",
        finished: 60,
        ..Job::default()
    });
    fx.add(&Job {
        version: "v1.10.0",
        platform: "linux/arm64",
        finished: 61,
        ..Job::default()
    });
    fx.add(&Job {
        image: "docker.io/rancher/alpha",
        version: "v0.1.0",
        verdict: "error",
        error: Some("building linux/amd64: exit status 1"),
        finished: 30,
        verifier: "https://ci.example.org/rebuilder",
        ..Job::default()
    });
    // A job still running: no entry.json yet.
    std::fs::create_dir_all(fx.ledger().join("jobs/0123456789abcdef0123456789abcdef")).unwrap();

    let ledger = fx.published();
    let cell = |p: &str, v: &str, c: &str| (p.to_string(), v.to_string(), c.to_string());
    assert_eq!(
        table(&ledger),
        vec![
            (
                crictl.to_string(),
                vec![
                    (
                        "v1.10.0".to_string(),
                        vec![
                            cell("linux/amd64", "reproducible", ""),
                            cell("linux/arm64", "reproducible", "")
                        ]
                    ),
                    (
                        "v1.9.0".to_string(),
                        vec![
                            cell("linux/amd64", "reproducible", ""),
                            cell("linux/arm64", "mismatch", "paths,timestamp")
                        ]
                    ),
                ]
            ),
            (
                "docker.io/rancher/alpha".to_string(),
                vec![("v0.1.0".to_string(), vec![cell("linux/amd64", "error", "")])]
            ),
        ]
    );
    assert_eq!(
        ledger["totals"],
        json!({"images": 2, "versions": 3, "cells": 5, "runs": 5,
               "reproducible": 3, "mismatch": 1, "error": 1})
    );
    assert_eq!(ledger["schema"], "rebuild-compare-ledger/1");
    assert_eq!(ledger["updated"], "2026-12-01T01:01:00Z");
    assert_eq!(ledger["platforms"], json!(["linux/amd64", "linux/arm64"]));
    assert_eq!(
        ledger["verifiers"],
        json!([
            "https://ci.example.org/rebuilder",
            "urn:rebuild-compare:unnamed-verifier"
        ])
    );
    let image = &ledger["images"][0];
    assert_eq!(image["slug"], "127.0.0.1~3a5000_tools_crictl");
    assert_eq!(image["page"], "images/127.0.0.1~3a5000_tools_crictl.html");
    assert_eq!(image["badge"], "badges/127.0.0.1~3a5000_tools_crictl.svg");
    assert_eq!(
        image["latest"],
        json!({"version": "v1.10.0", "platforms": 2, "reproducible": 2, "mismatch": 0, "error": 0})
    );
    let mismatch = &image["versions"][1]["platforms"][1];
    assert_eq!(mismatch["job_id"], arm_old.as_str());
    assert_eq!(mismatch["report"], format!("r/{arm_old}.json"));
    assert_eq!(mismatch["attestation"], format!("a/{arm_old}.dsse.json"));
    assert_eq!(mismatch["signer_key_id"], "8f3a0c1d2e4b5a69");
    assert_eq!(mismatch["finished"], "2026-12-01T00:00:00Z");
    assert_eq!(mismatch["source"], "ledger");
    assert_eq!(mismatch["runs"], 1);
    let error = &ledger["images"][1]["versions"][0]["platforms"][0];
    assert_eq!(error["report"], Value::Null);
    assert_eq!(error["error"], "building linux/amd64: exit status 1");

    // The files the links point to are in the site, as the ledger has them.
    for (link, file) in [
        (format!("r/{amd_old}.json"), "report.json"),
        (format!("a/{amd_old}.json"), "attestation.json"),
        (format!("a/{arm_old}.dsse.json"), "attestation.dsse.json"),
    ] {
        let id = if file.ends_with("dsse.json") {
            &arm_old
        } else {
            &amd_old
        };
        assert_eq!(
            fx.read(&link),
            std::fs::read_to_string(fx.ledger().join("jobs").join(id).join(file)).unwrap()
        );
    }

    let index = fx.read("index.html");
    assert_eq!(
        rows(&index),
        vec![
            strings(&[
                "v1.10.0",
                "✔ reproducible statement | 2026-12-01 · V2",
                "✔ reproducible statement | 2026-12-01 · V2"
            ]),
            strings(&[
                "v1.9.0",
                "✔ reproducible statement | 2026-12-01 · V2",
                "✘ mismatch DSSE | paths, timestamp | 2026-12-01 · V2"
            ]),
            strings(&[
                "v0.1.0",
                "⚠ error statement | building linux/amd64: exit status 1 | 2026-12-01 · V1",
                "–"
            ]),
        ]
    );
    assert!(index.contains(&format!(
        "<td class=bad><a href=r/{arm_old}.json>✘\u{a0}mismatch</a> \
         <a href=a/{arm_old}.dsse.json>DSSE</a>"
    )));
    assert!(index.contains(
        "<th rowspan=2><a href=images/127.0.0.1~3a5000_tools_crictl.html>127.0.0.1:5000/tools/crictl</a>"
    ));
    assert!(index.contains("<th>linux/amd64<th>linux/arm64</thead>"));
    let badge = fx.read("badges/127.0.0.1~3a5000_tools_crictl.svg");
    assert!(badge.contains(">reproducible 2/2</text>"), "{badge}");
    let badge = fx.read("badges/docker.io_rancher_alpha.svg");
    assert!(badge.contains(">error</text>"), "{badge}");
    assert!(fx.site().join(".rebuild-compare-site").is_file());
}

#[test]
fn history_page_lists_every_run_newest_first() {
    let fx = Fixture::new();
    let digest = |n: u8| format!("sha256:{}", format!("{n:x}").repeat(64));
    let (d1, d2, d3) = (digest(1), digest(2), digest(3));
    fx.add(&Job {
        verdict: "error",
        error: Some("pulling the builder: connection reset"),
        finished: 10,
        digest: &d1,
        ..Job::default()
    });
    fx.add(&Job {
        verdict: "mismatch",
        causes: &["toolchain"],
        finished: 2000,
        digest: &d2,
        ..Job::default()
    });
    fx.add(&Job {
        finished: 3000,
        digest: &d3,
        signed: true,
        ..Job::default()
    });
    fx.add(&Job {
        version: "v1.1.0",
        platform: "linux/arm64",
        finished: 1500,
        ..Job::default()
    });
    // Another image's runs stay off this page.
    fx.add(&Job {
        image: "127.0.0.1:5000/tools/other",
        finished: 4000,
        ..Job::default()
    });

    let ledger = fx.published();
    let image = &ledger["images"][0];
    assert_eq!(image["runs"], 4);
    // The index shows the newest run of v1.0.0 on amd64, and says there were three.
    let cell = &image["versions"][1]["platforms"][0];
    assert_eq!(
        (&cell["verdict"], &cell["runs"], &cell["digest"]),
        (&json!("reproducible"), &json!(3), &json!(d3))
    );
    let page = fx.read("images/127.0.0.1~3a5000_tools_crictl.html");
    let history: Vec<Vec<String>> = rows(&page)
        .into_iter()
        .map(|row| row[..5].to_vec())
        .collect();
    assert_eq!(
        history,
        vec![
            strings(&[
                "2026-12-03 02:00:00",
                "v1.0.0",
                "linux/amd64",
                "✔ reproducible DSSE",
                ""
            ]),
            strings(&[
                "2026-12-02 09:20:00",
                "v1.0.0",
                "linux/amd64",
                "✘ mismatch statement",
                "toolchain"
            ]),
            strings(&[
                "2026-12-02 01:00:00",
                "v1.1.0",
                "linux/arm64",
                "✔ reproducible statement",
                ""
            ]),
            strings(&[
                "2026-12-01 00:10:00",
                "v1.0.0",
                "linux/amd64",
                "⚠ error statement",
                "pulling the builder: connection reset"
            ]),
        ]
    );
    assert!(page.contains(">8f3a0c1d2e4b5a69</code>"));
    assert!(page.contains("<a href=../index.html>"));
    let index = fx.read("index.html");
    assert!(index.contains("<p>2026-12-03 · V1 · 3 runs<td class=na>"));
}

#[test]
fn hostile_names_are_escaped_and_never_escape_the_site_directory() {
    let fx = Fixture::new();
    let image = "../../evil<script>alert(1)</script>/x\"y";
    fx.add(&Job {
        image,
        version: "<img src=x onerror=alert(2)>",
        platform: "linux/amd64'><script>alert(3)</script>",
        verdict: "mismatch",
        causes: &["<b>paths</b>"],
        verifier: "\"><script>alert(4)</script>",
        ..Job::default()
    });
    fx.add(&Job {
        image,
        version: "v2",
        verdict: "error",
        error: Some("</td></table><script>alert(5)</script>\u{7}"),
        ..Job::default()
    });

    let ledger = fx.published();
    let slug = "~2e._.._evil~3cscript~3ealert~281~29~3c_script~3e_x~22y";
    assert_eq!(ledger["images"][0]["slug"], slug);
    assert_eq!(ledger["images"][0]["image"], image);

    // Everything written is inside the site: the temp dir holds only the
    // ledger and the site, and the site no link.
    let mut top: Vec<String> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["ledger", "site"]);
    let mut files = Vec::new();
    walk(&fx.site(), &mut files);
    let mut names: Vec<String> = files
        .iter()
        .map(|f| f.strip_prefix(fx.site()).unwrap().display().to_string())
        .filter(|f| f.starts_with("images/") || f.starts_with("badges/"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [format!("badges/{slug}.svg"), format!("images/{slug}.html")]
    );

    // No markup from an entry survives into a page or the badge.
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "html" || e == "svg"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        for raw in ["<script", "<img src=x", "<b>paths", "onerror=alert(2)>"] {
            assert!(!text.contains(raw), "{raw} in {}:\n{text}", file.display());
        }
    }
    let index = fx.read("index.html");
    assert!(index.contains("../../evil&lt;script&gt;alert(1)&lt;/script&gt;/x&quot;y"));
    assert!(index.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert!(index.contains("&lt;b&gt;paths&lt;/b&gt;"));
    assert!(index.contains("&lt;/td&gt;&lt;/table&gt;&lt;script&gt;alert(5)"));
    assert!(index.contains("linux/amd64&#39;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"));
    assert!(index.contains("&quot;&gt;&lt;script&gt;alert(4)&lt;/script&gt;"));

    // An entry naming a file outside its directory is refused, and the
    // site published before stays as it was.
    let id = fx.add(&Job {
        image: "127.0.0.1:5000/tools/sneaky",
        ..Job::default()
    });
    let entry = fx.ledger().join("jobs").join(&id).join("entry.json");
    let mut value: Value = serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    value["report"] = json!("../../../../etc/passwd");
    std::fs::write(&entry, value.to_string()).unwrap();
    let run = fx.publish();
    assert_eq!(run.code, 2, "stderr:\n{}", run.stderr);
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "error: {}: its report is \"../../../../etc/passwd\"; an entry's report is \
             \"report.json\" or null (fix or remove it, then run again)",
            entry.display()
        )
    );
    assert_eq!(fx.read("index.html"), index);
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(
            !meta.file_type().is_symlink(),
            "{} is a link",
            path.display()
        );
        if meta.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

#[test]
fn a_malformed_entry_is_an_error_naming_the_file() {
    let fx = Fixture::new();
    fx.add(&Job::default());
    let before = fx.published();
    let index = fx.read("index.html");

    let bad = fx.ledger().join("jobs/00000000000000000000000000000000");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("entry.json"),
        "{\"schema\": \"rebuild-compare-ledger-entry/1\", ",
    )
    .unwrap();
    let run = fx.publish();
    assert_eq!(run.code, 2, "stderr:\n{}", run.stderr);
    let path = bad.join("entry.json");
    assert!(
        run.stderr.starts_with(&format!(
            "error: {} is not a ledger entry: EOF while parsing a value at line 1 column 45 \
             (fix or remove it, then run again)",
            path.display()
        )),
        "{}",
        run.stderr
    );
    assert_eq!(fx.read("index.html"), index);
    assert_eq!(fx.published_json(), before);

    std::fs::write(
        bad.join("entry.json"),
        json!({"schema": "rebuild-compare-ledger-entry/9", "job": {}}).to_string(),
    )
    .unwrap();
    let run = fx.publish();
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "error: {}: its schema is \"rebuild-compare-ledger-entry/9\"; this rebuild-compare \
             reads rebuild-compare-ledger-entry/1 (publish it with the rebuild-compare version \
             that wrote it) (fix or remove it, then run again)",
            path.display()
        )
    );
    // No staging directory is left beside the site.
    let mut top: Vec<String> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["ledger", "site"]);
}

#[test]
fn refuses_to_replace_a_directory_that_is_not_a_site() {
    let fx = Fixture::new();
    fx.add(&Job::default());
    std::fs::create_dir_all(fx.site()).unwrap();
    std::fs::write(fx.site().join("notes.txt"), "mine").unwrap();
    let run = fx.publish();
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim_end(),
        format!(
            "error: {} exists and is not a site rebuild-compare wrote (it has no \
             .rebuild-compare-site); give --site a new or empty directory, or remove it first",
            fx.site().display()
        )
    );
    assert_eq!(
        std::fs::read_to_string(fx.site().join("notes.txt")).unwrap(),
        "mine"
    );
    let run = fx.publish();
    assert_eq!(run.code, 2);

    // An empty directory is taken, and a site is replaced by the next one.
    std::fs::remove_file(fx.site().join("notes.txt")).unwrap();
    assert_eq!(fx.published()["totals"]["runs"], 1);
    fx.add(&Job {
        version: "v2.0.0",
        ..Job::default()
    });
    assert_eq!(fx.published()["totals"]["runs"], 2);
}

/// Headless Chromium on a `file://` URL, with a profile of its own and no
/// network activity of its own; returns stdout.
fn chromium(profile: &Path, args: &[&str], page: &Path) -> String {
    let out = Command::new("timeout")
        .arg("120")
        .arg("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .env("HOME", profile)
        .output()
        .expect("run /usr/bin/chromium (scripts/install-test-deps.sh installs it)");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn chromium_renders_every_verdict_from_disk() {
    let fx = Fixture::new();
    let jobs = [
        (
            "docker.io/rancher/crictl",
            "v1.31.1",
            "linux/amd64",
            "reproducible",
            900,
        ),
        (
            "docker.io/rancher/crictl",
            "v1.31.1",
            "linux/arm64",
            "reproducible",
            905,
        ),
        (
            "docker.io/rancher/crictl",
            "v1.31.1",
            "linux/arm/v7",
            "mismatch",
            910,
        ),
        (
            "docker.io/rancher/crictl",
            "v1.30.0",
            "linux/amd64",
            "reproducible",
            20,
        ),
        (
            "docker.io/rancher/crictl",
            "v1.30.0",
            "linux/arm64",
            "reproducible",
            25,
        ),
        (
            "docker.io/rancher/crictl",
            "v1.30.0",
            "linux/arm/v7",
            "reproducible",
            30,
        ),
        (
            "ghcr.io/example/webhook",
            "v0.9.2",
            "linux/amd64",
            "mismatch",
            700,
        ),
        (
            "ghcr.io/example/webhook",
            "v0.9.2",
            "linux/arm64",
            "error",
            705,
        ),
        (
            "ghcr.io/example/webhook",
            "v0.9.1",
            "linux/amd64",
            "reproducible",
            300,
        ),
        (
            "quay.io/example/agent",
            "2.4.0",
            "linux/amd64",
            "reproducible",
            1000,
        ),
        (
            "quay.io/example/agent",
            "2.4.0",
            "linux/arm64",
            "reproducible",
            1002,
        ),
        (
            "quay.io/example/agent",
            "2.3.9",
            "linux/amd64",
            "error",
            400,
        ),
    ];
    for (image, version, platform, verdict, finished) in jobs {
        fx.add(&Job {
            image,
            version,
            platform,
            verdict,
            finished,
            causes: if verdict == "mismatch" {
                &["paths", "timestamp"]
            } else {
                &[]
            },
            error: (verdict == "error").then_some("fetching modules: proxy.golang.org: 403"),
            signed: image != "quay.io/example/agent",
            verifier: if image == "ghcr.io/example/webhook" {
                "https://ci.example.org/rebuilder"
            } else {
                "urn:rebuild-compare:unnamed-verifier"
            },
            ..Job::default()
        });
    }
    fx.published();
    let profile = TempDir::new().unwrap();
    let index = fx.site().join("index.html");
    let dom = spaced(&chromium(profile.path(), &["--dump-dom"], &index));
    // The rendered DOM, not just the file, holds every verdict, version and platform.
    let rendered = rows(&dom);
    assert_eq!(rendered.len(), 6, "{dom}");
    for word in [
        "✔ reproducible",
        "✘ mismatch",
        "⚠ error",
        "v1.31.1",
        "v1.30.0",
        "v0.9.2",
        "v0.9.1",
        "2.4.0",
        "2.3.9",
        "<th>linux/amd64",
        "<th>linux/arm/v7",
        "<th>linux/arm64",
        "docker.io/rancher/crictl",
        "ghcr.io/example/webhook",
        "quay.io/example/agent",
        "paths, timestamp",
        "fetching modules: proxy.golang.org: 403",
    ] {
        assert!(dom.contains(word), "{word} not rendered:\n{dom}");
    }
    assert_eq!(
        rendered[0],
        strings(&[
            "v1.31.1",
            "✔ reproducible DSSE | 2026-12-01 · V2",
            "✘ mismatch DSSE | paths, timestamp | 2026-12-01 · V2",
            "✔ reproducible DSSE | 2026-12-01 · V2",
        ])
    );
    let history = fx.site().join("images/ghcr.io_example_webhook.html");
    let dom = chromium(profile.path(), &["--dump-dom"], &history);
    assert_eq!(rows(&dom).len(), 3, "{dom}");

    // A screenshot of each, kept as test artifacts.
    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    for (page, name) in [(&index, "ledger-index.png"), (&history, "ledger-image.png")] {
        let png = artifacts.join(name);
        let _ = std::fs::remove_file(&png);
        chromium(
            profile.path(),
            &[
                &format!("--screenshot={}", png.display()),
                "--window-size=1280,900",
                "--hide-scrollbars",
            ],
            page,
        );
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(
            &bytes[..8],
            b"\x89PNG\r\n\x1a\n",
            "{} is not a PNG",
            png.display()
        );
    }
}
