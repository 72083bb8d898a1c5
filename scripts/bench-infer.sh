#!/usr/bin/env bash
# Benchmarks recipe inference (everything before the first build) on a
# >= 50 MB Go binary: `rebuild-compare recipe infer` on an OCI layout of an
# image whose binary is a generated Go program (std packages, 4000
# generated functions, 46 MB of embedded data) built goreleaser-style
# (-trimpath -s -w -X version/commit/date), with the source a local git
# repository tagged v1.0.0 holding a .goreleaser.yaml. Cold: an empty
# cache; warm: the same run again. Beside it, the peer step a person runs
# first, `go version -m` on the extracted binary. Then the same program
# built as a cgo release by its own Makefile (`make static`: -trimpath,
# -buildmode=pie, -linkmode external -extldflags --static-pie, -X values
# from VERSION and git describe --long): inference then also reads the
# ELF's linking, `.comment` and C libraries and the tag's Makefile.
# Writes docs/bench-infer.md.
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
  echo '	fmt.Println("big", version, commit, date, len(assets), dispatch(len(assets)%4000), cside())'
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
# The C side, compiled in only with cgo.
cat >"$repo/c_cgo.go" <<'EOF'
//go:build cgo

package main

// static int answer(void) { return 42; }
import "C"

func cside() int { return int(C.answer()) }
EOF
cat >"$repo/c_nocgo.go" <<'EOF'
//go:build !cgo

package main

func cside() int { return 0 }
EOF
echo 1.0.0 >"$repo/VERSION"
printf '%s\n' \
  'VERSION := $(shell cat VERSION)' \
  'COMMIT := $(shell git describe --dirty --long --always)' \
  'LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)' \
  '' \
  'static:' \
  '	CGO_ENABLED=1 go build -trimpath -buildmode=pie -tags "netgo osusergo" -ldflags "$(LDFLAGS) -linkmode external -extldflags --static-pie" -o big .' \
  '.PHONY: static' >"$repo/Makefile"
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

# The cgo release, by its own Makefile, in a clean clone of the tag.
git clone -q "$repo" "$work/cgo-checkout"
git -C "$work/cgo-checkout" checkout -q --detach v1.0.0
(cd "$work/cgo-checkout" && GOCACHE="$work/gocache" make -s static)
cp "$work/cgo-checkout/big" "$work/big-cgo-bin"
cgo_size="$(stat -c %s "$work/big-cgo-bin")"

image() { # binary layout -> an OCI layout at layout:v1.0.0 running the binary
  umoci init --layout "$2"
  umoci new --image "$2:v1.0.0"
  umoci unpack --rootless --image "$2:v1.0.0" "$2.bundle" >/dev/null
  mkdir -p "$2.bundle/rootfs/usr/local/bin"
  cp "$1" "$2.bundle/rootfs/usr/local/bin/big"
  umoci repack --image "$2:v1.0.0" "$2.bundle" >/dev/null
  umoci config --image "$2:v1.0.0" --config.entrypoint big \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin >/dev/null
}
layout="$work/layout"
image "$work/big-bin" "$layout"
cgo_layout="$work/cgo-layout"
image "$work/big-cgo-bin" "$cgo_layout"

seconds() { # command... -> wall seconds of one run
  local start end
  start="$(date +%s.%N)"
  "$@" >/dev/null 2>&1
  end="$(date +%s.%N)"
  echo "$end - $start" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

cold=() warm=() peer=() cgo_cold=() cgo_warm=()
infer() { # layout cache -> seconds of one `recipe infer`
  seconds "$tool" recipe infer "oci:$1:v1.0.0" v1.0.0 --source "$repo" \
    --cache-dir "$2" -q -o "$work/recipe.toml"
}
for i in $(seq "$runs"); do
  cold+=("$(infer "$layout" "$work/cache-$i")")
  warm+=("$(infer "$layout" "$work/cache-$i")")
  peer+=("$(seconds go version -m "$work/big-bin")")
  cgo_cold+=("$(infer "$cgo_layout" "$work/cgo-cache-$i")")
  cgo_warm+=("$(infer "$cgo_layout" "$work/cgo-cache-$i")")
done
"$tool" recipe infer "oci:$layout:v1.0.0" v1.0.0 --source "$repo" --cache-dir "$work/cache-1" \
  -q -o "$work/recipe.toml"
grep -q 'main.date={input:' "$work/recipe.toml" || { echo "the inferred recipe does not read the build date:" >&2; cat "$work/recipe.toml" >&2; exit 2; }
"$tool" recipe infer "oci:$cgo_layout:v1.0.0" v1.0.0 --source "$repo" --cache-dir "$work/cgo-cache-1" \
  -q -o "$work/cgo-recipe.toml"
grep -q '^command = \["make"\]' "$work/cgo-recipe.toml" || { echo "the inferred cgo recipe is not make (its default goal, static):" >&2; cat "$work/cgo-recipe.toml" >&2; exit 2; }

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
  echo "| \`rebuild-compare recipe infer\` of the cgo static-PIE release ($((cgo_size / 1000000)) MB, its Makefile's default goal \`static\`), cold | $(printf '%s\n' "${cgo_cold[@]}" | median) |"
  echo "| the same, warm | $(printf '%s\n' "${cgo_warm[@]}" | median) |"
} >"$out"
cat "$out"
