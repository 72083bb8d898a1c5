#!/usr/bin/env bash
# Benchmark: `rebuild-compare plan` over one repository of 2,000 release
# tags on a loopback registry, against the manual way with skopeo: `skopeo
# list-tags`, then `skopeo inspect --raw` of every tag piped to `sha256sum`
# (the digest a tag names), one after the other and 16 at a time.
#
# Every tag v1.M.P names an OCI index of its own (an annotation makes each
# distinct) with a linux/amd64 and a linux/arm64 image and one attestation
# manifest (unknown/unknown, which plan leaves out): 2,000 tags, 4,000 jobs.
# The plan reads each index once; the peers read each once too.
#
# Usage: scripts/bench-plan.sh [RUNS] [TAGS]   (needs docker-registry, skopeo,
# curl and python3; prints a Markdown table of medians, in seconds)
set -euo pipefail
runs=${1:-5}
tags=${2:-2000}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-plan.XXXXXX)
# BENCH_KEEP=1 leaves the registry running and the work directory in place.
if [ -z "${BENCH_KEEP:-}" ]; then
  trap 'kill ${registry_pid:-} 2>/dev/null || true; rm -rf "$work"' EXIT
fi

for tool in docker-registry skopeo curl python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install docker-registry skopeo curl python3)" >&2; exit 2; }
done

(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/rebuild-compare"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

# The images: two small platform images and an attestation, pushed once;
# then one index per tag over them, through the registry API (keep-alive).
python3 - "$port" "$tags" <<'PY'
import hashlib, http.client, json, sys
port, count = int(sys.argv[1]), int(sys.argv[2])
conn = http.client.HTTPConnection("127.0.0.1", port)
def req(method, path, body=b"", headers=None):
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse(); data = r.read()
    if r.status >= 300:
        sys.exit(f"{method} {path}: {r.status} {data[:200]!r}")
    return r
def blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = req("POST", "/v2/bench/app/blobs/uploads/").getheader("Location")
    loc = loc.split(f"127.0.0.1:{port}", 1)[-1]
    sep = "&" if "?" in loc else "?"
    req("PUT", f"{loc}{sep}digest={digest}", data, {"Content-Type": "application/octet-stream"})
    return {"digest": digest, "size": len(data)}
def manifest(doc, media, ref):
    data = json.dumps(doc).encode()
    req("PUT", f"/v2/bench/app/manifests/{ref}", data, {"Content-Type": media})
    return {"mediaType": media, "digest": "sha256:" + hashlib.sha256(data).hexdigest(), "size": len(data)}
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
entries = []
for arch in ("amd64", "arm64"):
    config = blob(json.dumps({"architecture": arch, "os": "linux", "config": {"Entrypoint": ["/app"]},
                              "rootfs": {"type": "layers", "diff_ids": []}}).encode())
    config["mediaType"] = "application/vnd.oci.image.config.v1+json"
    m = manifest({"schemaVersion": 2, "mediaType": MANIFEST, "config": config, "layers": []},
                 MANIFEST, f"platform-{arch}")
    m["platform"] = {"os": "linux", "architecture": arch}
    entries.append(m)
att_config = blob(b"{}")
att_config["mediaType"] = "application/vnd.oci.image.config.v1+json"
att = manifest({"schemaVersion": 2, "mediaType": MANIFEST, "config": att_config, "layers": []},
               MANIFEST, "attestation")
att["platform"] = {"os": "unknown", "architecture": "unknown"}
att["annotations"] = {"vnd.docker.reference.type": "attestation-manifest",
                      "vnd.docker.reference.digest": entries[0]["digest"]}
entries.append(att)
for i in range(count):
    tag = f"v1.{i // 50}.{i % 50}"
    manifest({"schemaVersion": 2, "mediaType": INDEX, "manifests": entries,
              "annotations": {"org.opencontainers.image.version": tag}}, INDEX, tag)
PY
# The helper tags are not releases (not semver): the range skips them.

cat > "$work/watch.toml" <<TOML
[[image]]
reference = "127.0.0.1:$port/bench/app"
versions = ">=1.0.0, <2"
TOML

export REBUILD_COMPARE_CACHE="$work/cache"
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{$(now) - $1:.3f}')"; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR+1)/2; printf "%.2f", (a[int(m)]+a[int(m+0.5)])/2}'; }

ours=()
for _ in $(seq "$runs"); do
  start=$(now)
  "$bin" plan "$work/watch.toml" -q > "$work/plan.json"
  ours+=("$(since "$start")")
done
jobs=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["jobs"]))' "$work/plan.json")

skopeo_digests() {
  local parallel=$1
  skopeo --insecure-policy list-tags --tls-verify=false "docker://127.0.0.1:$port/bench/app" |
    python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["Tags"]))' |
    grep '^v1\.' |
    xargs -P "$parallel" -I{} sh -c \
      'printf "%s %s\n" {} "$(skopeo --insecure-policy inspect --raw --tls-verify=false docker://127.0.0.1:'"$port"'/bench/app:{} | sha256sum | cut -d" " -f1)"' \
      > "$work/skopeo-$parallel.txt"
}
peer1=(); peer16=()
for _ in $(seq "$runs"); do
  start=$(now); skopeo_digests 1; peer1+=("$(since "$start")")
  start=$(now); skopeo_digests 16; peer16+=("$(since "$start")")
done
# The same digests, both ways.
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
plan = {(j["tag"], j["digest"]) for j in json.load(open(f"{work}/plan.json"))["jobs"]}
for n in ("1", "16"):
    peer = {(t, "sha256:" + d) for t, d in (l.split() for l in open(f"{work}/skopeo-{n}.txt"))}
    assert peer == plan, f"skopeo -P{n} digests differ from the plan's"
PY

m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_peer1=$(printf '%s\n' "${peer1[@]}" | median)
m_peer16=$(printf '%s\n' "${peer16[@]}" | median)
echo "tags: $tags, jobs planned: $jobs, runs: $runs (medians, seconds)"
echo
echo "| tags | skopeo list-tags + inspect --raw, one at a time (s) | the same, 16 at a time (s) | rebuild-compare plan (s) | speed-up vs 16 at a time |"
echo "| ---: | ---: | ---: | ---: | ---: |"
echo "| $tags | $m_peer1 | $m_peer16 | $m_ours | $(python3 -c "print(round($m_peer16 / $m_ours))")x |"
