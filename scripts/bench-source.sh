#!/usr/bin/env bash
# Benchmarks the source step of `rebuild-compare build` against
# `git clone --depth 1 --branch TAG`, both over loopback smart HTTP (git's
# http-backend behind tests/it/support/git_http_server.py), in the same run.
#
# The repository is built from this machine's files, with >= 100 MiB of
# packed history: Go's source tree and toolchain binaries, then Go's
# compiled packages added, then removed while every 7th .go file changes;
# annotated tag v1.0.0 on the last commit. Its tag's tree is ~195 MB.
#
# rebuild-compare runs `build v1.0.0` of a recipe whose command only writes a
# one-line artifact, so nearly all of its time is the source step; `-v` logs
# give the two parts: pinning the tag into the cache's mirror ("source
# pinned", the fetch) and the platform's checkout ("checked out").
# Cold = empty cache; warm = the same cache again (the mirror holds the tag).
#
# Usage: scripts/bench-source.sh [RUNS]   (median of RUNS, default 3)
# BENCH_REPO_DIR=DIR keeps the generated repository there between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"

for cmd in git python3 go bwrap; do
  command -v "$cmd" >/dev/null || { echo "$cmd is missing: run scripts/install-test-deps.sh" >&2; exit 2; }
done
goroot="$(go env GOROOT)"

cargo build --release --quiet
bin="$PWD/target/release/rebuild-compare"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

root="${BENCH_REPO_DIR:-$work/root}"
repo="$root/bench.git"
if ! git -C "$repo" rev-parse -q --verify refs/tags/v1.0.0 >/dev/null 2>&1; then
  echo "building the benchmark repository in $root (a few minutes)"
  rm -rf "$repo" "$root/work"
  mkdir -p "$root"
  git init -q "$root/work"
  (
    cd "$root/work"
    export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
    export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
    cp -rL "$goroot/src" src
    cp -rL "$goroot/pkg/tool" tool
    git add -A && git commit -qm "go sources and tools"
    cp -rL "$goroot/pkg/linux_amd64" pkg
    git add -A && git commit -qm "compiled packages"
    git rm -rqf pkg
    find src -name '*.go' | sort | awk 'NR % 7 == 0' | while read -r f; do echo "// revised" >>"$f"; done
    git add -A && git commit -qm "drop the packages, revise sources"
    git tag -a v1.0.0 -m v1.0.0
  )
  git clone -q --bare "$root/work" "$repo"
  rm -rf "$root/work"
  git -C "$repo" repack -adq
fi
packed_kib="$(git -C "$repo" count-objects -v | awk '/^size-pack:/ { print $2 }')"
echo "packed history: $((packed_kib / 1024)) MiB"
[ "$packed_kib" -ge $((100 * 1024)) ] || { echo "the repository packs to less than 100 MiB" >&2; exit 2; }

python3 tests/it/support/git_http_server.py "$root" >"$work/port" &
server_pid=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(head -1 "$work/port")/bench.git"

recipe="$work/recipe.toml"
cat >"$recipe" <<EOF
[image]
repository = "example.com/bench/app"
tag = "{version}"

[source]
git = "$url"
ref = "{version}"

[build]
builder = "host"
command = ["/bin/sh", "-c", "echo built > /out/result"]
artifact = "/out/result"

[build.platforms."linux/amd64"]
EOF

median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
now() { date +%s.%N; }
minus() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }

# ours CACHE: one `build`; appends "total fetch checkout" seconds to $work/ours.
ours() {
  local start end log="$work/ours.log"
  rm -rf "$work/out"
  start="$(now)"
  "$bin" -v -q build v1.0.0 --recipe "$recipe" --platform linux/amd64 \
    --cache-dir "$1" --out-dir "$work/out" >/dev/null 2>"$log"
  end="$(now)"
  local fetch checkout
  fetch="$(sed -n 's/.*source pinned.* seconds=\([0-9.e-]*\).*/\1/p' "$log")"
  checkout="$(sed -n 's/.*checked out.* seconds=\([0-9.e-]*\).*/\1/p' "$log")"
  echo "$(minus "$end" "$start") $fetch $checkout"
}

: >"$work/cold"; : >"$work/warm"; : >"$work/git"
for i in $(seq "$runs"); do
  rm -rf "$work/clone"
  start="$(now)"
  git clone -q --depth 1 --branch v1.0.0 "$url" "$work/clone" 2>/dev/null
  echo "$(minus "$(now)" "$start")" >>"$work/git"
  rm -rf "$work/cache"
  ours "$work/cache" >>"$work/cold"
  ours "$work/cache" >>"$work/warm"
  echo "run $i: git $(tail -1 "$work/git") s; cold $(tail -1 "$work/cold"); warm $(tail -1 "$work/warm")"
done

git_s="$(median <"$work/git" | awk '{ printf "%.2f", $1 }')"
column() { awk -v c="$2" '{ print $c }' "$1" | median | awk '{ printf "%.2f", $1 }'; }
cold_total="$(column "$work/cold" 1)"; cold_fetch="$(column "$work/cold" 2)"; cold_checkout="$(column "$work/cold" 3)"
warm_total="$(column "$work/warm" 1)"; warm_fetch="$(column "$work/warm" 2)"; warm_checkout="$(column "$work/warm" 3)"
ratio="$(awk -v a="$cold_total" -v b="$git_s" 'BEGIN { printf "%.2f", a / b }')"

cat <<EOF

Measured by scripts/bench-source.sh $runs on $(date -u +%Y-%m-%d), $(nproc) cores, median of $runs runs each.
Repository: $((packed_kib / 1024)) MiB packed history, served over loopback smart HTTP.

| run | total (s) | fetch / pin (s) | checkout (s) |
| --- | ---: | ---: | ---: |
| git clone --depth 1 --branch v1.0.0 | $git_s | - | - |
| rebuild-compare build, cold cache | $cold_total | $cold_fetch | $cold_checkout |
| rebuild-compare build, warm cache | $warm_total | $warm_fetch | $warm_checkout |

cold total / git clone: ${ratio}x (target <= 2x); warm pin: ${warm_fetch} s (target < 1 s plus the checkout)
EOF
