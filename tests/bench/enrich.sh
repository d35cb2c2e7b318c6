#!/usr/bin/env bash
# tests/bench/enrich.sh - enrich end to end: stream -> tenant aggregates.
#
# Fills a private Redis (unix socket, no persistence) with N synthetic
# comments (default 200,000; 8-32 words of a 5,000-word vocabulary, created
# times rising through the last hour as in a live stream) over 60
# subreddits, and 8 tenants with 24 topics (subreddit topics, keyword
# queries over 20 subreddits, a phrase on "all"), then runs
# echostream-enrich (VADER, raw archive on) until its consumer group has
# acknowledged everything, and reports comments/s. Beside it, the ceiling
# Redis gives the same work: redis-benchmark -P 50 running the worker's own
# function (es_enrich_write) with one new comment record per call, the
# shape of one (comment, tenant) write without the batching the worker
# does. The goal is 50,000 comments/s.
#
# BENCH_ENRICH_N sets N; BENCH_PS=1 prints Redis's INFO commandstats after
# the run (where the time inside the function goes); BENCH_WRAP prefixes
# the worker's command line (e.g. "perf record -g").
#
# Prints:
#   enrich: N comments/s (redis ceiling M comment writes/s, ...)
#   enrich goal: >= 50000 comments/s met|MISSED
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/build/bin/echostream-enrich
N=${BENCH_ENRICH_N:-200000}
GOAL=50000

[ -x "$BIN" ] || { echo "enrich: $BIN missing (run make)" >&2; exit 1; }

WORK=$(mktemp -d)
REDIS_PID=
ENRICH_PID=
cleanup() {
    [ -n "$ENRICH_PID" ] && kill "$ENRICH_PID" 2>/dev/null || true
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
SOCK=$WORK/redis.sock
redis-server --port 0 --unixsocket "$SOCK" --dir "$WORK" --save '' \
    --appendonly no --logfile "$WORK/redis.log" &
REDIS_PID=$!
for _ in $(seq 50); do
    redis-cli -s "$SOCK" ping >/dev/null 2>&1 && break
    sleep 0.1
done
R() { redis-cli -s "$SOCK" "$@"; }

# tenants, topics and the stream, as RESP for redis-cli --pipe
node - "$N" > "$WORK/load.resp" <<'NODE'
const n = Number(process.argv[2]);
const out = [];
const cmd = (...a) => {
  let s = `*${a.length}\r\n`;
  for (const x of a) { const b = Buffer.from(String(x)); s += `$${b.length}\r\n${x}\r\n`; }
  out.push(s);
  if (out.length >= 5000) { process.stdout.write(out.join('')); out.length = 0; }
};
const subs = Array.from({ length: 60 }, (_, i) => `sub${i}`);
const common = ('love great good terrible awful slow fast rust borrow checker compiler ' +
  'release async memory safe crash bug team docs awesome broken fine the and not ' +
  'really very happy sad update version server client api latency cache deploy').split(' ');
let seed = 42;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
// a 5,000-word vocabulary with a Zipf-like pull towards the common words
const vocab = [...common];
for (let i = 0; vocab.length < 5000; i++) vocab.push(`w${i.toString(36)}x`);
const word = () => vocab[Math.floor(vocab.length * Math.pow(rnd(), 3))];
for (let t = 0; t < 8; t++) {
  const tenant = `tenant${t}`;
  cmd('SADD', 'es:{tenants}:all', tenant);
  for (let k = 0; k < 3; k++) {
    const id = `topic${k}`;
    let topic;
    // a few subreddits; a keyword query over many; a phrase everywhere
    if (k === 0) topic = { id, subreddits: [subs[t * 3], subs[t * 3 + 1], subs[t * 3 + 2]], query: '' };
    else if (k === 1) topic = { id, subreddits: subs.slice(t * 5, t * 5 + 20), query: `${common[t]} OR ${common[t + 8]}` };
    else topic = { id, subreddits: ['all'], query: `"${common[7]} ${common[8]}"` };
    cmd('HSET', `es:{t:${tenant}}:topics`, id, JSON.stringify(topic));
  }
}
cmd('INCR', 'es:{topics}:version');
// created times rise through the last hour, as a live stream's do
const now = Math.floor(Date.now() / 1000);
for (let i = 0; i < n; i++) {
  const len = 8 + Math.floor(rnd() * 25);
  const body = Array.from({ length: len }, word).join(' ');
  const sub = subs[Math.floor(rnd() * subs.length)];
  cmd('XADD', 'es:{ingest}:comments', '*', 'type', 'comment', 'id', (100000000 + i).toString(36),
      'subreddit', sub, 'author', `user${i % 997}`, 'body', body,
      'created_utc', (now - 3600 + (3600 * i) / n).toFixed(3),
      'permalink', `/r/${sub}/comments/p/x/${i}/`, 'link_id', 't3_p', 'link_title', 'A post',
      'score', '1', 'source', 'synthetic');
}
process.stdout.write(out.join(''));
NODE
R --pipe < "$WORK/load.resp" >/dev/null
R xgroup create 'es:{ingest}:comments' enrich 0 >/dev/null
echo "stream holds $(R xlen 'es:{ingest}:comments') entries" >&2

lag() {
    R xinfo groups 'es:{ingest}:comments' |
        awk 'prev=="pending"{p=$0} prev=="lag"{l=$0} {prev=$0} END{print p+l}'
}

export ECHOSTREAM_REDIS="unix://$SOCK"
export ECHOSTREAM_LOG_LEVEL=warn
export ECHOSTREAM_LAKE_DIR=$WORK/lake
export ECHOSTREAM_AWS_IMDS=false
t0=$(date +%s%N)
${BENCH_WRAP:-} "$BIN" &
ENRICH_PID=$!
while [ "$(lag)" != "0" ]; do
    sleep 0.05
done
t1=$(date +%s%N)
[ -n "${BENCH_PS:-}" ] && R info commandstats >&2
kill "$ENRICH_PID"
wait "$ENRICH_PID" || true
ENRICH_PID=
rate=$((N * 1000000000 / (t1 - t0)))
writes=$(R eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:usage:*')) do n = n + tonumber(redis.call('HGET', k, 'comments')) end return n" 0)

# the ceiling: the worker's function, one new record per call, pipelined
now=$(date +%s)
t=$(date -u +%Y%m%d%H%M)
ms=$(date -u -d "$(date -u +%Y-%m-01)" +%s)
month=$(date -u +%Y%m)
rec='{"id":"x","topics":["topic0"],"label":"positive","compound":0.5,"cs":5000,"engine":"vader","body":"rust borrow checker is great the team docs"}'
ceiling=$( (redis-benchmark -s "$SOCK" -n 200000 -P 50 -r 1000000000 -q \
    FCALL es_enrich_write 1 'es:{t:bench}:meta' 'es:{t:bench}:' "$now" \
    2592000 "$month" 0 0 c __rand_int__ "${now}000" "$t" "$ms" positive \
    5000 1 topic0 6 rust borrow checker great team docs "$rec" 2>/dev/null ||
    true) | tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 |
    awk '{printf "%d", $1}')

echo "enrich: $rate comments/s (redis ceiling $ceiling comment writes/s via es_enrich_write -P 50; this run made $writes per-tenant writes for $N comments)"
if [ "$rate" -ge "$GOAL" ]; then
    echo "enrich goal: >= $GOAL comments/s met"
else
    echo "enrich goal: >= $GOAL comments/s MISSED"
fi
