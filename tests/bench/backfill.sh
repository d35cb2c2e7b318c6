#!/usr/bin/env bash
# tests/bench/backfill.sh - dump backfill throughput on one core.
#
# Measures `echostream-ingest --backfill FILE --dry-run` (zstd decompression,
# JSON scan, watchlist filter; no Redis writes) on a generated 1,000,000-line
# RC-style dump of ~1.3 KB lines compressed with zstd --long=27, beside
# `zstd -dc --long=31 FILE | wc -l` on the same file: the decompression
# alone, the ceiling any backfill can reach. The dump is cached under
# build/bench/. Each figure is the median of BENCH_REPS runs (default 5)
# because the machine is shared. The goal is 250,000 lines/s.
#
# Prints:
#   backfill: N lines/s (ceiling M lines/s, ratio R)
#   backfill --all: N lines/s (every line decoded)
#   backfill goal: >= 250000 lines/s met|MISSED
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/build/bin/echostream-ingest
CACHE=$ROOT/build/bench
DUMP=$CACHE/RC_bench_1m.zst
LINES=1000000
REPS=${BENCH_REPS:-5}
GOAL=250000

[ -x "$BIN" ] || { echo "backfill: $BIN missing (run make)" >&2; exit 1; }
mkdir -p "$CACHE"
if [ ! -s "$DUMP" ]; then
    echo "generating $LINES-line dump in $DUMP (once)..." >&2
    node tests/lib/dumpgen.mjs "$CACHE/RC_bench_1m.ndjson" "$LINES" rich >&2
    zstd -q -f -3 --long=27 --rm "$CACHE/RC_bench_1m.ndjson" -o "$DUMP"
fi

PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
    PIN=(taskset -c 0)
fi

# a private Redis on a unix socket holds the watchlist the filter reads
WORK=$(mktemp -d)
REDIS_PID=
cleanup() {
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
redis-server --port 0 --unixsocket "$WORK/redis.sock" --dir "$WORK" \
    --save '' --appendonly no --logfile "$WORK/redis.log" &
REDIS_PID=$!
for _ in $(seq 50); do
    redis-cli -s "$WORK/redis.sock" ping >/dev/null 2>&1 && break
    sleep 0.1
done
redis-cli -s "$WORK/redis.sock" hset 'es:{watch}:subs' python 1 golang 1 \
    rust 1 machinelearning 1 >/dev/null
redis-cli -s "$WORK/redis.sock" incr 'es:{watch}:version' >/dev/null
export ECHOSTREAM_REDIS="unix://$WORK/redis.sock"
export ECHOSTREAM_LOG_LEVEL=warn

now_ns() { date +%s%N; }

# lines/s of one run of "$@"; fails when the command fails
rate_of() {
    local t0 t1
    t0=$(now_ns)
    "$@" >/dev/null
    t1=$(now_ns)
    echo $((LINES * 1000000000 / (t1 - t0)))
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

ceiling_run() {
    "${PIN[@]}" sh -c 'zstd -dc --long=31 "$1" | wc -l' sh "$DUMP"
}

filtered=() all=() ceiling=()
for _ in $(seq "$REPS"); do
    ceiling+=("$(rate_of ceiling_run)")
    filtered+=("$(rate_of "${PIN[@]}" "$BIN" --backfill "$DUMP" --dry-run)")
    all+=("$(rate_of "${PIN[@]}" "$BIN" --backfill "$DUMP" --dry-run --all)")
done

# the worker must have read every line (guards against a silent early stop)
got=$("${PIN[@]}" "$BIN" --backfill "$DUMP" --dry-run --all \
    --log-level info 2>&1 | sed -n 's/.*backfill done.* lines=\([0-9]*\).*/\1/p')
if [ "$got" != "$LINES" ]; then
    echo "backfill: read $got lines of $LINES" >&2
    exit 1
fi

f=$(printf '%s\n' "${filtered[@]}" | median)
a=$(printf '%s\n' "${all[@]}" | median)
c=$(printf '%s\n' "${ceiling[@]}" | median)
ratio=$(awk -v f="$f" -v c="$c" 'BEGIN {printf "%.2f", f / c}')
echo "backfill: $f lines/s (ceiling $c lines/s, ratio $ratio)"
echo "backfill --all: $a lines/s (every line decoded)"
if [ "$f" -ge "$GOAL" ]; then
    echo "backfill goal: >= $GOAL lines/s met"
else
    echo "backfill goal: >= $GOAL lines/s MISSED"
fi
