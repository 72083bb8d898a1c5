#!/usr/bin/env bash
# Benchmark: `rebuild-compare digest` against the manual way (skopeo copy +
# umoci unpack + sha256sum) on realistic three-layer images pushed to a
# loopback registry, plus `gzip -dc` over the layers rebuild-compare reads.
#
#   layer 1  base       one of:
#              debian    `debootstrap --variant=minbase bookworm`  (~210 MB)
#              host-usr  /usr/bin and /usr/sbin of this machine     (~450 MB)
#   layer 2  toolchain  /usr/lib/go-1.19                             (~340 MB)
#   layer 3  binary     /usr/local/bin/app (a release build of rebuild-compare)
#
# Each base gives two images: "first-path" runs `app` with
# PATH=/usr/local/bin:... (the binary's directory first, so the top layer
# settles it) and "default-path" runs `app` with Docker's default PATH, whose
# first entry /usr/local/sbin must be proven absent in every layer on a cold
# run.
#
# Usage: scripts/bench-digest.sh [RUNS]   (as root; needs docker-registry,
# skopeo, umoci, debootstrap, golang-go and a Debian mirror, by default
# http://deb.debian.org/debian, or BENCH_MIRROR; prints a Markdown table)
set -euo pipefail
runs=${1:-3}
mirror=${BENCH_MIRROR:-http://deb.debian.org/debian}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/bench-digest.XXXXXX)
# BENCH_KEEP=1 leaves the registry running and the work directory in place.
if [ -z "${BENCH_KEEP:-}" ]; then
  trap 'kill ${registry_pid:-} 2>/dev/null || true; rm -rf "$work"' EXIT
fi

for tool in docker-registry skopeo umoci gzip debootstrap; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install docker-registry skopeo umoci debootstrap)" >&2; exit 2; }
done
[ -d /usr/lib/go-1.19 ] || { echo "missing /usr/lib/go-1.19 (apt-get install golang-go)" >&2; exit 2; }

(cd "$root" && cargo build --release --quiet)
bin="$root/target/release/rebuild-compare"

# A registry on a free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

# The two base trees.
debootstrap --variant=minbase bookworm "$work/base-debian" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { echo "debootstrap failed, see $work/debootstrap.log" >&2; exit 2; }
mkdir -p "$work/base-host-usr/usr"
cp -a /usr/bin /usr/sbin "$work/base-host-usr/usr/"
mkdir -p "$work/app/usr/local/bin"
cp "$bin" "$work/app/usr/local/bin/app"

# The images, assembled with umoci, pushed with skopeo.
export SKOPEO="skopeo --insecure-policy"
umoci init --layout "$work/src"
bases=(debian host-usr)
for base in "${bases[@]}"; do
  # One layer holding the whole base tree, then the toolchain and the binary.
  umoci new --image "$work/src:$base"
  umoci unpack --image "$work/src:$base" "$work/bundle" >/dev/null
  rm -rf "$work/bundle/rootfs"
  mv "$work/base-$base" "$work/bundle/rootfs"
  umoci repack --image "$work/src:$base" "$work/bundle"
  rm -rf "$work/bundle"
  umoci insert --image "$work/src:$base" /usr/lib/go-1.19 /usr/lib/go-1.19
  umoci insert --image "$work/src:$base" "$work/app/usr" /usr
  umoci config --image "$work/src:$base" --tag "$base-first-path" --os linux --architecture amd64 \
    --config.entrypoint app --config.env PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin
  umoci config --image "$work/src:$base" --tag "$base-default-path" --os linux --architecture amd64 \
    --config.entrypoint app
  for tag in "$base-first-path" "$base-default-path"; do
    $SKOPEO copy -q --dest-tls-verify=false "oci:$work/src:$tag" "docker://127.0.0.1:$port/bench:$tag"
  done
done
# Compressed sizes of an image's layers, in MB.
layer_sizes() {
  skopeo inspect --raw --tls-verify=false "docker://127.0.0.1:$port/bench:$1" \
    | python3 -c 'import json, sys; print(", ".join(str(round(l["size"] / 1e6)) for l in json.load(sys.stdin)["layers"]))'
}
expected=$(sha256sum "$bin" | cut -d' ' -f1)

now() { date +%s.%N; }
# median of $runs timings of "$@"
time_median() {
  local t=()
  for _ in $(seq "$runs"); do
    "$prepare"
    local s; s=$(now); "$@" >/dev/null; local e; e=$(now)
    t+=("$(echo "$e - $s" | bc)")
  done
  printf '%s\n' "${t[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p"
}

peer() {
  $SKOPEO copy -q --src-tls-verify=false "docker://127.0.0.1:$port/bench:$1" "oci:$work/peer:x"
  umoci unpack --rootless --image "$work/peer:x" "$work/peer-bundle" >/dev/null 2>>"$work/peer.log"
  sha256sum "$work/peer-bundle/rootfs/usr/local/bin/app" | grep -q "$expected"
}
ours() {
  "$bin" digest "127.0.0.1:$port/bench:$1" --cache-dir "$work/cache" --format json | grep -q "$expected"
}
clean_peer() { rm -rf "$work/peer" "$work/peer-bundle"; }
clean_cache() { rm -rf "$work/cache"; }
nothing() { :; }
# gzip -dc over the layers a cold rebuild-compare run read (listed in $work/read).
gunzip_read() {
  while read -r blob; do
    gzip -dc "$work/gz/blobs/sha256/${blob#sha256:}" >/dev/null
  done <"$work/read"
}

echo "$runs runs each, median seconds"
for base in "${bases[@]}"; do
  echo "$base: layers of $(layer_sizes "$base-default-path") MB (gzip)"
done
[ -n "${BENCH_KEEP:-}" ] && echo "kept: $work, registry 127.0.0.1:$port (pid $registry_pid)"
echo
echo "| image | skopeo copy + umoci unpack + sha256sum | rebuild-compare cold | rebuild-compare warm | gzip -dc of layers read | cold speed-up | warm speed-up | cold / gzip |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for tag in debian-first-path debian-default-path host-usr-first-path host-usr-default-path; do
  prepare=clean_peer; p=$(time_median peer "$tag")
  prepare=clean_cache; c=$(time_median ours "$tag")
  prepare=nothing; w=$(time_median ours "$tag")
  rm -rf "$work/gz"
  "$bin" digest "127.0.0.1:$port/bench:$tag" --cache-dir "$work/gz" -vv 2>&1 >/dev/null \
    | sed -n 's/.*reading layer \(sha256:[0-9a-f]*\).*/\1/p' | sort -u >"$work/read"
  prepare=nothing; g=$(time_median gunzip_read "$tag")
  printf '| %s | %.2f | %.2f | %.3f | %.2f | %.0fx | %.0fx | %.2f |\n' "$tag" "$p" "$c" "$w" "$g" \
    "$(echo "$p / $c" | bc -l)" "$(echo "$p / $w" | bc -l)" "$(echo "$c / $g" | bc -l)"
done
