#!/usr/bin/env bash
# tests/bench/backfill.sh - dump backfill throughput: the scan alone on one
# core, and the whole way into an empty Redis on the machine's cores.
#
# The dump is a generated 1,000,000-line RC-style file of ~1.3 KB lines
# compressed with zstd --long=27, cached under build/bench/ with what it
# must produce (counted once, independently of the worker, by a node pass
# over the decompressed lines: the valid comments, their ids' checksum).
#
# 1. The scan: `echostream-ingest --backfill FILE --dry-run` (zstd
#    decompression, JSON scan, watchlist filter; no Redis writes), pinned
#    to one core, beside `zstd -dc --long=31 FILE | wc -l` on the same file:
#    the decompression alone, the ceiling any backfill can reach.
# 2. The Redis path: `echostream-ingest --backfill FILE --all` into a fresh,
#    empty redis-server (unix socket, no persistence) for every run, with
#    nothing in its way: no consumer group (stream.groups empty), no
#    back-pressure (stream.max_len 0) and no trim during the run. After the
#    last run the stream must hold exactly the dump's valid comments, each
#    once (an id checksum walked in Redis), and a replay of the same dump
#    must add nothing. Redis's CPU time (utime + stime of its /proc stat)
#    and the worker's are reported per comment.
#
# Each rate is the median of BENCH_REPS runs (default 5), because the
# machine is shared. The goal of both is 250,000 lines/s. ES_BENCH_INGEST
# names another echostream-ingest binary (to compare two builds).
#
# Prints:
#   backfill: N lines/s (ceiling M lines/s, ratio R)
#   backfill --all: N lines/s (every line decoded)
#   backfill goal: >= 250000 lines/s met|MISSED
#   backfill redis: N lines/s (ceiling M lines/s, ratio R; redis CPU X us
#     per comment, worker CPU Y us per line)
#   backfill redis replay: N lines/s (added 0 of L)
#   backfill redis goal: >= 250000 lines/s met|MISSED
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=${ES_BENCH_INGEST:-$ROOT/build/bin/echostream-ingest}
CACHE=$ROOT/build/bench
DUMP=$CACHE/RC_bench_1m.zst
EXPECT=$CACHE/RC_bench_1m.expect
LINES=1000000
REPS=${BENCH_REPS:-5}
GOAL=250000
STREAM='es:{ingest}:comments'
CHECK_MOD=1000000007 # tests/lib/dumpgen.mjs CHECK_MOD

[ -x "$BIN" ] || { echo "backfill: $BIN missing (run make)" >&2; exit 1; }
mkdir -p "$CACHE"
if [ ! -s "$DUMP" ]; then
    echo "generating $LINES-line dump in $DUMP (once)..." >&2
    node tests/lib/dumpgen.mjs "$CACHE/RC_bench_1m.ndjson" "$LINES" rich >&2
    zstd -q -f -3 --long=27 --rm "$CACHE/RC_bench_1m.ndjson" -o "$DUMP"
    rm -f "$EXPECT"
fi
# what the stream must hold: counted from the text, not from the worker
if [ ! -s "$EXPECT" ] || [ "$EXPECT" -ot "$DUMP" ]; then
    echo "counting the valid comments of $DUMP (once)..." >&2
    # shellcheck disable=SC2016 # the $ signs are JavaScript's, not the shell's
    zstd -dc --long=31 "$DUMP" | node -e '
// the rules of docs/ingest.md and docs/redis-keys.md, written again
const rl = require("node:readline").createInterface({ input: process.stdin });
const MOD = BigInt(process.argv[1]);
const idRe = /^(t1_)?[0-9a-z]{1,12}$/;
const subRe = /^[A-Za-z0-9][A-Za-z0-9_]{1,20}$/;
const gone = new Set(["[deleted]", "[removed]", "[ Removed by Reddit ]"]);
const seen = new Set();
let lines = 0, valid = 0, sum = 0n;
rl.on("line", (l) => {
  lines++;
  let o;
  try { o = JSON.parse(l); } catch { return; }
  if (!o || typeof o !== "object" || typeof o.id !== "string" ||
      typeof o.subreddit !== "string" || typeof o.body !== "string") return;
  const t = typeof o.created_utc === "string" && o.created_utc !== ""
    ? Number(o.created_utc) : o.created_utc;
  if (typeof t !== "number" || !Number.isFinite(t) || t < 0) return;
  if (!idRe.test(o.id) || !subRe.test(o.subreddit)) return;
  let id = 0n;
  for (const ch of o.id.replace(/^t1_/, "")) {
    id = id * 36n + BigInt(parseInt(ch, 36));
  }
  // a comment enters the stream once, and not at all when first seen deleted
  if (seen.has(id)) return;
  seen.add(id);
  if (gone.has(o.body)) return;
  valid++;
  sum = (sum + id % MOD) % MOD;
});
rl.on("close", () => console.log(`${lines} ${valid} ${sum}`));
' "$CHECK_MOD" >"$EXPECT.tmp"
    mv "$EXPECT.tmp" "$EXPECT"
fi
read -r want_lines want_comments want_sum <"$EXPECT"
if [ "$want_lines" != "$LINES" ]; then
    echo "backfill: $DUMP holds $want_lines lines, not $LINES" >&2
    exit 1
fi

PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
    PIN=(taskset -c 0)
fi

WORK=$(mktemp -d)
REDIS_PID=
SOCK=$WORK/redis.sock
stop_redis() {
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
        REDIS_PID=
    fi
}
cleanup() {
    stop_redis
    rm -rf "$WORK"
}
trap cleanup EXIT

# a fresh private Redis on a unix socket, without persistence
start_redis() {
    stop_redis
    rm -f "$SOCK"
    redis-server --port 0 --unixsocket "$SOCK" --dir "$WORK" \
        --save '' --appendonly no --logfile "$WORK/redis.log" &
    REDIS_PID=$!
    for _ in $(seq 100); do
        redis-cli -s "$SOCK" ping >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "backfill: redis-server did not start" >&2
    exit 1
}
rcli() { redis-cli -s "$SOCK" "$@"; }

# CPU seconds (user + system) a process has used so far
cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' \
        "/proc/$1/stat"
}

export ECHOSTREAM_REDIS="unix://$SOCK"
export ECHOSTREAM_LOG_LEVEL=warn
# nothing in the way of the Redis path: no group, no back-pressure, no trim
export ECHOSTREAM_STREAM_GROUPS=''
export ECHOSTREAM_STREAM_MAX_LEN=0
export ECHOSTREAM_STREAM_TRIM_INTERVAL=86400

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
    # shellcheck disable=SC2016 # "$1" is the inner sh's argument, on purpose
    "${PIN[@]}" sh -c 'zstd -dc --long=31 "$1" | wc -l' sh "$DUMP"
}

# --- 1. the scan (the watchlist filter reads a Redis) ---
start_redis
rcli hset 'es:{watch}:subs' python 1 golang 1 rust 1 machinelearning 1 \
    >/dev/null
rcli incr 'es:{watch}:version' >/dev/null

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

# --- 2. the Redis path, into an empty Redis each time ---
# one run into a fresh Redis: sets run_ns, run_worker (CPU s), run_redis
# (CPU s); the worker's log is $WORK/run.log
redis_run() {
    local t0 t1 c0 c1
    start_redis
    c0=$(cpu "$REDIS_PID")
    TIMEFORMAT='%U %S'
    t0=$(now_ns)
    { time "$BIN" --backfill "$DUMP" --all --log-level info \
        >/dev/null 2>"$WORK/run.log"; } 2>"$WORK/time"
    t1=$(now_ns)
    c1=$(cpu "$REDIS_PID")
    run_ns=$((t1 - t0))
    run_worker=$(awk '{print $1 + $2}' "$WORK/time")
    run_redis=$(awk -v a="$c1" -v b="$c0" 'BEGIN {print a - b}')
}

stat_of() { sed -n "s/.*backfill done.* $1=\([0-9]*\).*/\1/p" "$WORK/run.log"; }

rrate=() rcpu=() wcpu=()
for _ in $(seq "$REPS"); do
    redis_run
    rrate+=("$((LINES * 1000000000 / run_ns))")
    wcpu+=("$run_worker")
    rcpu+=("$run_redis")
done

# the last run's stream: exactly the valid comments, each once
added=$(stat_of added)
xlen=$(rcli xlen "$STREAM")
read -r count dups sum <<<"$(rcli eval "
local mod, seen, count, dups, sum = tonumber(ARGV[1]), {}, 0, 0, 0
local start = '-'
while true do
  local batch = redis.call('XRANGE', KEYS[1], start, '+', 'COUNT', 10000)
  if #batch == 0 then break end
  for _, e in ipairs(batch) do
    local f, id, typ = e[2], nil, nil
    for i = 1, #f, 2 do
      if f[i] == 'id' then id = f[i + 1]
      elseif f[i] == 'type' then typ = f[i + 1] end
    end
    if typ == 'comment' then
      count = count + 1
      if seen[id] then dups = dups + 1 end
      seen[id] = true
      sum = (sum + tonumber(id, 36) % mod) % mod
    end
  end
  local ms, sq = string.match(batch[#batch][1], '(%d+)-(%d+)')
  start = ms .. '-' .. (tonumber(sq) + 1)
end
return {count, dups, tostring(sum)}
" 1 "$STREAM" "$CHECK_MOD" | tr '\n' ' ')"
if [ "$xlen" != "$want_comments" ] || [ "$count" != "$want_comments" ] ||
    [ "$dups" != 0 ] || [ "$sum" != "$want_sum" ] ||
    [ "$added" != "$want_comments" ]; then
    echo "backfill redis: the stream is wrong: $xlen entries, $count" \
        "comments, $dups repeated, checksum $sum, worker added $added;" \
        "want $want_comments comments, checksum $want_sum" >&2
    tail -5 "$WORK/run.log" >&2
    exit 1
fi

# a replay of the same dump adds nothing
t0=$(now_ns)
"$BIN" --backfill "$DUMP" --all --log-level info >/dev/null 2>"$WORK/run.log"
t1=$(now_ns)
replay=$((LINES * 1000000000 / (t1 - t0)))
readded=$(stat_of added)
if [ "$readded" != 0 ] || [ "$(rcli xlen "$STREAM")" != "$xlen" ]; then
    echo "backfill redis: the replay added $readded" >&2
    exit 1
fi
stop_redis

f=$(printf '%s\n' "${filtered[@]}" | median)
a=$(printf '%s\n' "${all[@]}" | median)
c=$(printf '%s\n' "${ceiling[@]}" | median)
rr=$(printf '%s\n' "${rrate[@]}" | median)
rc=$(printf '%s\n' "${rcpu[@]}" | median)
wc=$(printf '%s\n' "${wcpu[@]}" | median)
ratio=$(awk -v f="$f" -v c="$c" 'BEGIN {printf "%.2f", f / c}')
rratio=$(awk -v f="$rr" -v c="$c" 'BEGIN {printf "%.2f", f / c}')
rper=$(awk -v s="$rc" -v n="$want_comments" \
    'BEGIN {printf "%.2f", s * 1e6 / n}')
wper=$(awk -v s="$wc" -v n="$LINES" 'BEGIN {printf "%.2f", s * 1e6 / n}')
echo "backfill: $f lines/s (ceiling $c lines/s, ratio $ratio)"
echo "backfill --all: $a lines/s (every line decoded)"
if [ "$f" -ge "$GOAL" ]; then
    echo "backfill goal: >= $GOAL lines/s met"
else
    echo "backfill goal: >= $GOAL lines/s MISSED"
fi
echo "backfill redis: $rr lines/s (ceiling $c lines/s, ratio $rratio;" \
    "redis CPU $rper us per comment, worker CPU $wper us per line)"
echo "backfill redis replay: $replay lines/s (added 0 of $LINES)"
if [ "$rr" -ge "$GOAL" ]; then
    echo "backfill redis goal: >= $GOAL lines/s met"
else
    echo "backfill redis goal: >= $GOAL lines/s MISSED"
fi
