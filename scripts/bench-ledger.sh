#!/usr/bin/env bash
# Times `rebuild-compare ledger DIR --site OUT` over a generated ledger of
# IMAGES x VERSIONS x PLATFORMS finished jobs (default 1000 x 5 x 2 = 10,000
# entries, each with a report and an attestation), RUNS times, and prints a
# Markdown table: median and slowest wall time, median CPU time (user + sys:
# what the run costs whatever else the machine is doing), index.html and
# ledger.json sizes. Target (issue 17): under 2 s, index.html under 2 MB.
# Needs GNU time (/usr/bin/time) and bc.
#
#   scripts/bench-ledger.sh [RUNS] [IMAGES] [VERSIONS] [PLATFORMS]
set -euo pipefail
runs=${1:-5}
images=${2:-1000}
versions=${3:-5}
platforms=${4:-2}
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=$PWD/target/release/rebuild-compare
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-ledger.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The ledger: entry.json as `run` writes it (job ids per the plan format),
# a ~2 KB report.json, and a statement or DSSE envelope. 80% reproducible,
# 15% mismatch, 5% error (no report); two verifiers; every third image signed.
python3 - "$work/ledger" "$images" "$versions" "$platforms" <<'PY'
import hashlib, json, os, sys
root, images, versions, platforms = sys.argv[1], *map(int, sys.argv[2:])
arches = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x", "linux/ppc64le"]
filler = "x" * 1500
n = 0
for i in range(images):
    image = f"registry.example.org/team{i % 37}/tool-{i:04d}"
    for v in range(versions):
        version = f"v1.{v}.{i % 7}"
        digest = "sha256:" + hashlib.sha256(f"{image}{version}".encode()).hexdigest()
        for p in range(platforms):
            platform = arches[p % len(arches)]
            text = f"rebuild-compare-job/1\n{image}@{digest}\n{version}\n{platform}\ninferred\n0.1.0\n"
            job_id = hashlib.sha256(text.encode()).hexdigest()[:32]
            roll = n % 20
            verdict = "reproducible" if roll < 16 else "mismatch" if roll < 19 else "error"
            signed = i % 3 == 0
            d = os.path.join(root, "jobs", job_id)
            os.makedirs(d)
            report = None
            if verdict != "error":
                report = "report.json"
                with open(os.path.join(d, report), "w") as f:
                    json.dump({"verdict": verdict, "image": image, "version": version, "notes": [filler]}, f)
            attestation = "attestation.dsse.json" if signed else "attestation.json"
            with open(os.path.join(d, attestation), "w") as f:
                json.dump({"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": digest[7:]}}]}, f)
            entry = {
                "schema": "rebuild-compare-ledger-entry/1", "tool_version": "0.1.0",
                "job": {"id": job_id, "image": image, "tag": version, "digest": digest, "version": version,
                        "platform": platform, "recipe": None, "recipe_sha256": None,
                        "args": ["verify", f"{image}@{digest}", version, "--platform", platform]},
                "verdict": verdict,
                "causes": ["paths", "timestamp"] if verdict == "mismatch" else [],
                "exit_code": {"reproducible": 0, "mismatch": 1, "error": 2}[verdict],
                "error": "building linux/arm64: go: module lookup disabled by GOPROXY=off" if verdict == "error" else None,
                "started": f"2026-12-{1 + v:02d}T02:{n % 60:02d}:00Z",
                "finished": f"2026-12-{1 + v:02d}T03:{n % 60:02d}:10Z",
                "verifier_id": "https://ci.example.org/rebuilder" if i % 2 else "urn:rebuild-compare:unnamed-verifier",
                "signer_key_id": hashlib.sha256(b"key").hexdigest() if signed else None,
                "report": report, "attestation": attestation,
            }
            with open(os.path.join(d, "entry.json"), "w") as f:
                json.dump(entry, f, indent=2)
            n += 1
print(f"generated {n} entries", file=sys.stderr)
PY
load=$(cut -d' ' -f1-3 /proc/loadavg)

# GNU time: wall seconds, then user + system CPU seconds, per run.
times=()
cpus=()
for _ in $(seq "$runs"); do
  read -r wall user sys < <(/usr/bin/time -f "%e %U %S" "$bin" -q ledger "$work/ledger" --site "$work/site" 2>&1 >/dev/null)
  times+=("$wall")
  cpus+=("$(echo "$user + $sys" | bc)")
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
slowest=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
entries=$(find "$work/ledger/jobs" -name entry.json | wc -l)
index=$(stat -c %s "$work/site/index.html")
json=$(stat -c %s "$work/site/ledger.json")
pages=$(find "$work/site/images" -name '*.html' | wc -l)
echo
echo "load average before the runs: $load"
echo
echo "| entries | images | runs | median wall (s) | slowest wall (s) | median CPU, user + sys (s) | index.html (MB) | ledger.json (MB) | image pages |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '| %d | %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f | %d |\n' "$entries" "$images" "$runs" \
  "$(median "${times[@]}")" "$slowest" "$(median "${cpus[@]}")" \
  "$(echo "$index / 1000000" | bc -l)" "$(echo "$json / 1000000" | bc -l)" "$pages"
