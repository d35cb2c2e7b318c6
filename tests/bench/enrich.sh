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
# Redis gives the same work: redis-benchmark -P 4 running the worker's own
# function (es_enrich_write) with calls shaped like the run's average call
# (as many new comments per call, their increments summed as the worker
# sums them). The CPU seconds the worker and Redis used during the run are
# printed too: on 2 cores they are the two halves of the budget.
# The goal is 50,000 comments/s.
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
# CPU seconds (user + system) a process has used so far
cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}
redis_cpu0=$(cpu "$REDIS_PID")
t0=$(date +%s%N)
${BENCH_WRAP:-} "$BIN" &
ENRICH_PID=$!
while [ "$(lag)" != "0" ]; do
    sleep 0.05
done
t1=$(date +%s%N)
worker_cpu=$(cpu "$ENRICH_PID")
redis_cpu=$(awk -v a="$(cpu "$REDIS_PID")" -v b="$redis_cpu0" \
    'BEGIN{printf "%.2f", a - b}')
[ -n "${BENCH_PS:-}" ] && R info commandstats >&2
kill "$ENRICH_PID"
wait "$ENRICH_PID" || true
ENRICH_PID=
rate=$((N * 1000000000 / (t1 - t0)))
writes=$(R eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:usage:*')) do n = n + tonumber(redis.call('HGET', k, 'comments')) end return n" 0)

# the ceiling: redis-benchmark -P 4 sending the worker's own calls, each
# the shape of an average call of this run (as many new comments as the
# run wrote per call, over one tenant's three topics, within one minute,
# with bodies like the stream's), the increments summed as the worker sums
# them; record keys and recent-set members are random, so every comment
# is new and every recent member an insert
calls=$(R info commandstats | tr -d '\r' |
    sed -n 's/^cmdstat_fcall:calls=\([0-9]*\),.*/\1/p')
per=$(( ${calls:-0} > 0 ? (writes + calls - 1) / calls : 1 ))
node - "$per" > "$WORK/call.args" <<'NODE'
const per = Number(process.argv[2]);
const now = Math.floor(Date.now() / 1000);
const d = new Date(now * 1000);
const p2 = (x) => String(x).padStart(2, '0');
const t = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}` +
  `${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}`;
const month = Math.floor(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000);
const pre = 'es:{t:bench}:';
const common = ('love great good terrible awful slow fast rust borrow checker compiler ' +
  'release async memory safe crash bug team docs awesome broken fine the and not ' +
  'really very happy sad update version server client api latency cache deploy').split(' ');
const stop = new Set(['the', 'and', 'not', 'very', 'really']);
const vocab = [...common];
for (let i = 0; vocab.length < 5000; i++) vocab.push(`w${i.toString(36)}x`);
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const word = () => vocab[Math.floor(vocab.length * Math.pow(rnd(), 3))];
const labels = [['positive', 'pos'], ['negative', 'neg'], ['neutral', 'neu'], ['mixed', 'mix']];
const keys = new Map(); // key -> {kind, exp, slots: Map}
const add = (kind, key, exp, f, v) => {
  if (!keys.has(key)) keys.set(key, { kind, exp, slots: new Map() });
  const s = keys.get(key).slots;
  s.set(f, kind === 'r' ? v : (s.get(f) || 0) + v);
};
const hour0 = now - now % 3600, day0 = now - now % 86400;
const recs = [];
for (let i = 0; i < per; i++) {
  const topic = `topic${Math.floor(rnd() * 3)}`;
  const [label, lf] = labels[Math.floor(rnd() * 4)];
  const cs = Math.floor(rnd() * 20000) - 10000;
  const terms = [...new Set(Array.from({ length: 8 + Math.floor(rnd() * 25) }, word)
    .filter((w) => w.length >= 3 && !stop.has(w)))].slice(0, 8);
  const id = `__rand_int__${i.toString(36)}`;
  for (const [r, len, exp] of [['m', 10, hour0 + 3600 + 2 * 86400],
    ['h', 8, day0 + 86400 + 90 * 86400], ['d', 6, month + 31 * 86400 + 730 * 86400]]) {
    const k = `${pre}ts:${topic}:${r}:${t.slice(0, len)}`;
    const f = t.slice(len, len + 2);
    add('h', k, exp, `${f}:n`, 1); add('h', k, exp, `${f}:${lf}`, 1);
    add('h', k, exp, `${f}:cs`, cs);
  }
  add('h', `${pre}sov:${t.slice(0, 8)}`, day0 + 86400 + 730 * 86400, topic, 1);
  for (const w of terms) add('z', `${pre}terms:${topic}:${t.slice(0, 10)}`, hour0 + 3600 + 2 * 86400, w, 1);
  add('r', `${pre}recent:${topic}`, 0, id, now * 1000);
  add('r', `${pre}recent:${topic}:${label}`, 0, id, now * 1000);
  const json = JSON.stringify({ id, topics: [topic], label, cs, engine: 'vader', created: now * 1000,
    t, month, terms, body: Array.from({ length: 20 }, word).join(' ') });
  recs.push('c', `${pre}c:${id}`, json, String(cs), '|');
}
const ops = [];
for (const [k, { kind, exp, slots }] of keys) {
  ops.push(kind, k, String(exp), String(slots.size));
  for (const [f, v] of slots) {
    if (kind === 'r') ops.push(String(v), f); else ops.push(f, String(v));
  }
}
const head = [pre, String(now), '2592000', t.slice(0, 6), '0', '0'];
const argv = ['FCALL', 'es_enrich_write', '1', `${pre}meta`, ...head,
  String(head.length + 2 + ops.length), ...ops, ...recs];
process.stdout.write(argv.join('\0') + '\0');
NODE
mapfile -d '' call < "$WORK/call.args"
rps=$( (redis-benchmark -s "$SOCK" -n $((200000 / per + 50)) -P 4 \
    -r 1000000000 -q "${call[@]}" 2>/dev/null || true) | tr '\r' '\n' |
    grep -o '[0-9.]* requests per second' | tail -1 | awk '{printf "%d", $1}')
ceiling=$(( ${rps:-0} * per ))

secs=$(awk -v d="$((t1 - t0))" 'BEGIN{printf "%.2f", d / 1e9}')
echo "enrich cpu: ${secs}s wall, worker ${worker_cpu}s, redis ${redis_cpu}s"
echo "enrich: $rate comments/s (redis ceiling $ceiling comment writes/s via es_enrich_write, $per per call, -P 4; this run made $writes per-tenant writes for $N comments)"
if [ "$rate" -ge "$GOAL" ]; then
    echo "enrich goal: >= $GOAL comments/s met"
else
    echo "enrich goal: >= $GOAL comments/s MISSED"
fi
