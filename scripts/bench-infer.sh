#!/usr/bin/env bash
# Benchmarks recipe inference (everything before the first build) on a
# >= 50 MB Go binary: `rebuild-compare recipe infer` on an OCI layout of an
# image whose binary is a generated Go program (std packages, 4000
# generated functions, 46 MB of embedded data) built goreleaser-style
# (-trimpath -s -w -X version/commit/date), with the source a local git
# repository tagged v1.0.0 holding a .goreleaser.yaml. Cold: an empty
# cache; warm: the same run again. Beside it, the peer step a person runs
# first, `go version -m` on the extracted binary. Writes docs/bench-infer.md.
#
# Prerequisites (Debian, installed when missing): golang-go, umoci, git, bc.
# Usage: scripts/bench-infer.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"

declare -A need=([go]=golang-go [umoci]=umoci [git]=git [bc]=bc)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

cargo build --release --quiet
tool="$PWD/target/release/rebuild-compare"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
repo="$work/big"
mkdir -p "$repo"

# The program: many std packages, generated functions, embedded data.
cat >"$repo/go.mod" <<'EOF'
module github.com/example/big

go 1.19
EOF
{
  echo 'package main'
  echo
  echo 'import ('
  echo '	_ "embed"'
  for p in archive/tar archive/zip compress/gzip crypto/tls crypto/x509 database/sql \
    encoding/json encoding/xml go/parser go/types html/template image/png net/http \
    net/smtp net/rpc os/exec regexp text/template; do
    echo "	_ \"$p\""
  done
  echo '	"fmt"'
  echo ')'
  echo
  echo 'var ('
  echo '	version = "dev"'
  echo '	commit  = "none"'
  echo '	date    = "unknown"'
  echo ')'
  echo
  echo '//go:embed assets.bin'
  echo 'var assets []byte'
  echo
  echo 'func main() {'
  echo '	fmt.Println("big", version, commit, date, len(assets), dispatch(len(assets)%4000))'
  echo '}'
} >"$repo/main.go"
{
  echo 'package main'
  echo
  echo 'func dispatch(n int) int {'
  echo '	switch n {'
  for i in $(seq 0 3999); do echo "	case $i: return f$i(n)"; done
  echo '	}'
  echo '	return 0'
  echo '}'
  for i in $(seq 0 3999); do
    echo "func f$i(x int) int { s := \"generated function $i of the benchmark\"; for j := 0; j < len(s); j++ { x = x*31 + int(s[j]) ^ $i }; return x }"
  done
} >"$repo/gen.go"
head -c 46000000 /dev/urandom >"$repo/assets.bin"
cat >"$repo/.goreleaser.yaml" <<'EOF'
builds:
  - env: [CGO_ENABLED=0]
    flags: [-trimpath]
    ldflags: ["-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}}"]
    goos: [linux]
    goarch: [amd64]
EOF
git -C "$repo" init -q
git -C "$repo" add -A
GIT_COMMITTER_DATE="2025-03-11T19:50:00Z" GIT_AUTHOR_DATE="2025-03-11T19:50:00Z" \
  git -C "$repo" -c user.name=bench -c user.email=bench@example.com commit -qm release
git -C "$repo" -c user.name=bench -c user.email=bench@example.com tag -a v1.0.0 -m v1.0.0
commit="$(git -C "$repo" rev-parse HEAD)"

# Built as goreleaser would, with a build time after the commit.
(cd "$repo" && CGO_ENABLED=0 GOFLAGS=-buildvcs=true GOCACHE="$work/gocache" go build -trimpath \
  -ldflags "-s -w -X main.version=1.0.0 -X main.commit=$commit -X main.date=2025-03-11T19:58:53Z" \
  -o "$work/big-bin" .)
size="$(stat -c %s "$work/big-bin")"
[ "$size" -ge 50000000 ] || { echo "the generated binary is only $size bytes" >&2; exit 2; }

layout="$work/layout"
umoci init --layout "$layout"
umoci new --image "$layout:v1.0.0"
umoci unpack --rootless --image "$layout:v1.0.0" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/usr/local/bin"
cp "$work/big-bin" "$work/bundle/rootfs/usr/local/bin/big"
umoci repack --image "$layout:v1.0.0" "$work/bundle" >/dev/null
umoci config --image "$layout:v1.0.0" --config.entrypoint big \
  --config.env PATH=/usr/local/bin:/usr/bin:/bin >/dev/null

seconds() { # command... -> wall seconds of one run
  local start end
  start="$(date +%s.%N)"
  "$@" >/dev/null 2>&1
  end="$(date +%s.%N)"
  echo "$end - $start" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cold=() warm=() peer=()
for i in $(seq "$runs"); do
  cache="$work/cache-$i"
  cold+=("$(seconds "$tool" recipe infer "oci:$layout:v1.0.0" v1.0.0 --source "$repo" \
    --cache-dir "$cache" -q -o "$work/recipe.toml")")
  warm+=("$(seconds "$tool" recipe infer "oci:$layout:v1.0.0" v1.0.0 --source "$repo" \
    --cache-dir "$cache" -q -o "$work/recipe.toml")")
  peer+=("$(seconds go version -m "$work/big-bin")")
done
"$tool" recipe infer "oci:$layout:v1.0.0" v1.0.0 --source "$repo" --cache-dir "$work/cache-1" \
  -q -o "$work/recipe.toml"
grep -q 'main.date={input:' "$work/recipe.toml" || { echo "the inferred recipe does not read the build date:" >&2; cat "$work/recipe.toml" >&2; exit 2; }

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
out=docs/bench-infer.md
{
  echo "Recipe inference on a $((size / 1000000)) MB Go binary (generated, goreleaser-style build), median of $runs runs, $(date -u +%Y-%m-%d), $cpu, $(nproc) cores."
  echo
  echo "| step | seconds |"
  echo "| --- | --- |"
  echo "| \`rebuild-compare recipe infer\`, cold (empty cache: layer read and verified, binary extracted, source mirrored, inferred) | $(printf '%s\n' "${cold[@]}" | median) |"
  echo "| \`rebuild-compare recipe infer\`, warm (same cache) | $(printf '%s\n' "${warm[@]}" | median) |"
  echo "| \`go version -m\` on the binary alone (peer: reads the build info only) | $(printf '%s\n' "${peer[@]}" | median) |"
} >"$out"
cat "$out"
