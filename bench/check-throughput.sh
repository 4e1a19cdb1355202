#!/usr/bin/env bash
# Throughput and peak memory of the WHOLE `invoicectl check` process (start-up, file read,
# parse, validate, report), the unit the performance targets are defined on:
#   >= 280 MB/s on the generated 10,000-line invoice, peak RSS <= 3x the document size, and
#   >= 50,000 small invoices/s in one process (the corpus of the bundled valid samples).
#
# Usage: bash bench/check-throughput.sh [RUNS]     (RUNS defaults to 20; env LINES=10000,
#        COPIES=200, CORPUS_RUNS=5, SKIP_BUILD=1 to reuse target/release)
# MB here is 10^6 bytes. Wall times come from bash's $EPOCHREALTIME around each run (it includes
# the ~1 ms fork/exec of /usr/bin/time); peak RSS from /usr/bin/time %M. Without /usr/bin/time,
# python3 times the run and reads os.wait4 rusage; a child's ru_maxrss then never reads below the
# python process's own RSS at fork (~10-15 MB), which only matters for the small baseline.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${1:-20}"
LINES="${LINES:-10000}"
COPIES="${COPIES:-200}"
CORPUS_RUNS="${CORPUS_RUNS:-5}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET_DIR/release/invoicectl"
GEN="$TARGET_DIR/release/gen-invoice"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    echo "building release binaries (cargo build --release -p invoicectl --bins) ..." >&2
    cargo build --release -p invoicectl --bins >&2
fi
[[ -x "$BIN" && -x "$GEN" ]] || { echo "missing $BIN or $GEN" >&2; exit 1; }

TMP="$(mktemp -d "${TMPDIR:-/tmp}/check-throughput.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

DOC="$TMP/large-$LINES.xml"
"$GEN" "$LINES" "$DOC"
SIZE=$(stat -c %s "$DOC")

HAVE_TIME=0
[[ -x /usr/bin/time ]] && HAVE_TIME=1

# run_once OUTFILE ARGS...: runs invoicectl once, prints "<wall seconds> <max RSS KiB> <exit>".
run_once() {
    local out="$1"
    shift
    if [[ $HAVE_TIME == 1 ]]; then
        local t0 t1 rc=0
        t0=$EPOCHREALTIME
        /usr/bin/time -f '%M' -o "$TMP/rss" "$BIN" "$@" >"$out" 2>&1 || rc=$?
        t1=$EPOCHREALTIME
        printf '%s %s %s\n' "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')" "$(tail -n 1 "$TMP/rss")" "$rc"
    else
        python3 - "$out" "$BIN" "$@" <<'PY'
import os, subprocess, sys, time
out, argv = sys.argv[1], sys.argv[2:]
with open(out, "wb") as f:
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    _, status, ru = os.wait4(p.pid, 0)
    t1 = time.perf_counter()
print(f"{t1 - t0:.6f} {ru.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
PY
    fi
}

# Baseline: the process on one small sample (start-up, allocator, binary pages).
read -r _ BASE_KB rc < <(run_once "$TMP/base.out" check tests/fixtures/cxml/samples/s01-amazon-business-two-sellers.xml)
[[ $rc == 0 ]] || { echo "invoicectl check failed on s01:" >&2; cat "$TMP/base.out" >&2; exit 1; }

# Large invoice: RUNS processes (plus one warm-up that fills the page cache).
run_once "$TMP/warm.out" check "$DOC" >/dev/null
: >"$TMP/large.tsv"
for ((i = 0; i < RUNS; i++)); do
    read -r wall kb rc < <(run_once "$TMP/large.out" check "$DOC")
    if [[ $rc != 0 ]]; then
        echo "invoicectl check failed on the generated invoice (exit $rc):" >&2
        head -20 "$TMP/large.out" >&2
        exit 1
    fi
    printf '%s\t%s\n' "$wall" "$kb" >>"$TMP/large.tsv"
done

# Corpus: every valid sample COPIES times, one process over all of them.
CORPUS="$TMP/corpus"
mkdir -p "$CORPUS"
SAMPLES=(s00-spec-amazon-business-appendix2 s01-amazon-business-two-sellers s02-integer-amounts-empty-net
    s03-tabbed-address-misspelt-terms s04-service-lines-padded-numbers s06-header-level-credit-memo
    s07-eur-vat-accounting-distribution)
for s in "${SAMPLES[@]}"; do
    for ((c = 0; c < COPIES; c++)); do
        cp "tests/fixtures/cxml/samples/$s.xml" "$CORPUS/$s-$c.xml"
    done
done
NFILES=$(find "$CORPUS" -name '*.xml' | wc -l)
CORPUS_BYTES=$(cat "$CORPUS"/*.xml | wc -c)
run_once "$TMP/warm.out" check "$CORPUS"/*.xml >/dev/null
: >"$TMP/corpus.tsv"
for ((i = 0; i < CORPUS_RUNS; i++)); do
    read -r wall kb rc < <(run_once "$TMP/corpus.out" check "$CORPUS"/*.xml)
    if [[ $rc != 0 ]]; then
        echo "invoicectl check reported problems in the corpus (exit $rc):" >&2
        grep -v ': OK' "$TMP/corpus.out" | head -20 >&2
        exit 1
    fi
    printf '%s\t%s\n' "$wall" "$kb" >>"$TMP/corpus.tsv"
done

python3 - "$SIZE" "$BASE_KB" "$TMP/large.tsv" "$NFILES" "$CORPUS_BYTES" "$TMP/corpus.tsv" "$LINES" "$HAVE_TIME" <<'PY'
import statistics, sys
size, base_kb = int(sys.argv[1]), int(sys.argv[2])
large = [tuple(map(float, l.split())) for l in open(sys.argv[3]) if l.strip()]
nfiles, corpus_bytes = int(sys.argv[4]), int(sys.argv[5])
corpus = [tuple(map(float, l.split())) for l in open(sys.argv[6]) if l.strip()]
lines, have_time = int(sys.argv[7]), sys.argv[8] == "1"
MB = 1e6
walls = [w for w, _ in large]
med, best = statistics.median(walls), min(walls)
peak = max(kb for _, kb in large) * 1024
base = base_kb * 1024
mbs = size / MB / med
ratio = peak / size
print(f"tool: {'/usr/bin/time %M for RSS, $EPOCHREALTIME for wall' if have_time else 'python3 os.wait4 for RSS (floor: python RSS), perf_counter for wall'}; {len(walls)} runs")
print(f"large: {size / MB:.1f} MB ({lines} lines), median {med:.3f} s, best {best:.3f} s, "
      f"{mbs:.0f} MB/s (best {size / MB / best:.0f} MB/s), peak RSS {peak / MB:.1f} MB ({ratio:.2f}x document)")
print(f"baseline: peak RSS of one small sample {base / MB:.1f} MB; large above baseline {(peak - base) / MB:.1f} MB "
      f"({(peak - base) / size:.2f}x document)")
cw = [w for w, _ in corpus]
cmed = statistics.median(cw)
cpeak = max(kb for _, kb in corpus) * 1024
print(f"corpus: {nfiles} invoices ({corpus_bytes / MB:.1f} MB) in one process, median {cmed:.3f} s, best {min(cw):.3f} s "
      f"over {len(cw)} runs, {nfiles / cmed:.0f} invoices/s ({corpus_bytes / MB / cmed:.1f} MB/s), peak RSS {cpeak / MB:.1f} MB")
ok_speed, ok_mem, ok_corpus = mbs >= 280, ratio <= 3, nfiles / cmed >= 50000
print(f"targets: >= 280 MB/s: {'met' if ok_speed else 'MISSED'} ({mbs:.0f} MB/s); "
      f"peak RSS <= 3x document: {'met' if ok_mem else 'MISSED'} ({ratio:.2f}x); "
      f">= 50,000 invoices/s: {'met' if ok_corpus else 'MISSED'} ({nfiles / cmed:.0f}/s)")
PY
