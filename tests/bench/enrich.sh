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
# functions (es_enrich_write, protocol 5, with calls carrying the run's
# average content: as many comments, recent entries, distinct
# trending-term and series increments per call as the run had, from
# Redis's command counts and the data written; es_enrich_public with as
# many public parts per call, of the run's average size, as the run's
# batches had) and XRANGEs of a batch's worth of entries (the reads);
# Redis's CPU time per call and per entry gives the comments/s one core of
# Redis sustains on this mix (redis-benchmark's own rate, limited by the
# core it needs itself, is printed too, and so is what Redis's CPU time in
# the run allows). The CPU seconds the worker and Redis used during the run
# are printed: on 2 cores they are the two halves of the budget.
# The goal is 50,000 comments/s.
#
# BENCH_ENRICH_N sets N; BENCH_PS=1 prints Redis's INFO commandstats after
# the run (where the time inside the function goes); BENCH_WRAP prefixes
# the worker's command line (e.g. "perf record -g").
#
# Prints:
#   enrich cpu: Ss wall, worker Ws, redis Rs
#   enrich redis per comment: C us CPU, F us in FCALL (INFO commandstats)
#   enrich: N comments/s (ratio N/M to the redis ceiling of M comments/s
#           for the same command mix: ...)
#   enrich goal: >= 50000 comments/s met|MISSED
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/build/bin/echostream-enrich
N=${BENCH_ENRICH_N:-200000}
GOAL=50000

[ -x "$BIN" ] || { echo "enrich: $BIN missing (run make)" >&2; exit 1; }

# WORK, SOCK, REDIS_PID, R: a private Redis, stopped at exit
. "$ROOT/tests/bench/lib/private_redis.sh"

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
# microseconds Redis spent in the worker's function calls so far (INFO
# commandstats; FCALL's time includes the commands the function runs,
# which are counted again under their own names, so only FCALL is taken)
cmd_usec() {
    R info commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_fcall:calls=[0-9]*,usec=\([0-9]*\),.*/\1/p' |
        awk '{s += $1} END {print s + 0}'
}
redis_cpu0=$(cpu "$REDIS_PID")
usec0=$(cmd_usec)
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
usec1=$(cmd_usec)
[ -n "${BENCH_PS:-}" ] && R info commandstats >&2
kill "$ENRICH_PID"
wait "$ENRICH_PID" || true
ENRICH_PID=
rate=$((N * 1000000000 / (t1 - t0)))
writes=$(R eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:usage:*')) do n = n + tonumber(redis.call('HGET', k, 'comments')) end return n" 0)

# the ceiling: redis-benchmark -P 4 sending the worker's own calls, each
# with the run's average call's content. es_enrich_write: as many comments
# (tenant parts of the run's average size), recent entries, distinct
# trending-term increments and series/share-of-voice increments per call
# as this run had (from Redis's command counts and the data it wrote),
# over one tenant's three topics; es_enrich_public: as many public parts
# (and post titles) per call, of the run's average size, as the run's
# batches had. Ids are random, so every comment is new and every recent
# entry an append, as in the run. A tenant's hour is filled only as full
# as the run's were on average (its records per tenant and hour), then
# the next round starts on a fresh tenant: an hour's record bucket is
# split for the records it is expected to hold, and one hour filled with
# every call would measure buckets many times fuller than the run's
stat() {
    R info commandstats | tr -d '\r' |
        sed -n "s/^cmdstat_$1:calls=\([0-9]*\),.*/\1/p"
}
fcalls=$(stat fcall)
fcalls=${fcalls:-0}
# every es_enrich_write call of the run created records (all comments are
# new), so each left one live entry; the other FCALLs are the batches'
# es_enrich_public calls
calls=$(R eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:live')) do n = n + redis.call('XLEN', k) end return n" 0)
pcalls=$((fcalls - calls))
entries=$(R eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:rc:*')) do local _, c = string.gsub(redis.call('GET', k), ';', '') n = n + c end return n" 0)
# average tenant part, and public parts (number, average size; a long
# part's text is in its hour's :l)
recsize=$(R eval "local n, s = 0, 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:cr:*')) do for _, v in ipairs(redis.call('HVALS', k)) do s = s + #v n = n + 1 end end return n > 0 and math.floor(s / n) or 20" 0)
pp=$(R eval "local n, s = 0, 0 for _, k in ipairs(redis.call('KEYS', 'es:{c}:2*')) do if not string.find(k, ':[tl]$') then local h = string.match(k, '^es:{c}:(%d+)') local v = redis.call('HGETALL', k) for i = 2, #v, 2 do local p = v[i] if p == '\29' then p = redis.call('HGET', 'es:{c}:' .. h .. ':l', v[i - 1]) or '' end s = s + #p n = n + 1 end end end return {n, n > 0 and math.floor(s / n) or 200}" 0 | tr '\n' ' ')
read -r parts pubsize <<< "$pp"
# the run's tenant hours (record buckets before any split)
thours=$(R eval "local s, n = {}, 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:cr:*')) do local b = string.match(k, '^(es:{t:[^}]*}:cr:%d+)') if b and not s[b] then s[b] = true n = n + 1 end end return n" 0)
avg() { echo $(( calls > 0 ? (${1:-0} + calls / 2) / calls : 1 )); }
per=$(avg "$writes")
pper=$(( pcalls > 0 ? (parts + pcalls / 2) / pcalls : 1 ))
shape="$per $(avg "$(stat zincrby)") $(avg "$(stat hincrby)") $(avg "$entries") $recsize $pper $pubsize"
echo "(average write call: comments, term increments, series increments, recent entries, tenant part bytes; public call: parts, part bytes: $shape; $calls write calls, $pcalls public calls)" >&2
# calls per round (one tenant's hour filled as the run's were) and rounds
# (about 200,000 comments in all)
cpr=$(( thours > 0 && per > 0 ? (writes / thours + per / 2) / per : 1 ))
cpr=$(( cpr > 0 ? cpr : 1 ))
rounds=$(( (200000 + cpr * per - 1) / (cpr * per) ))
rounds=$(( rounds > 64 ? 64 : rounds ))
echo "(the ceiling's write calls: $rounds rounds of $cpr calls, each round a fresh tenant; the run had $thours tenant hours)" >&2
# shellcheck disable=SC2086
node - $shape "$WORK/pcall.args" "$WORK/call" "$rounds" <<'NODE'
const [per, nterms, nfields, nentries, recsize, pper, pubsize] =
  process.argv.slice(2, 9).map(Number);
const pubFile = process.argv[9];
const callBase = process.argv[10];
const rounds = Number(process.argv[11]);
const now = Math.floor(Date.now() / 1000);
const d = new Date(now * 1000);
const p2 = (x) => String(x).padStart(2, '0');
const t = `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}` +
  `${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}`;
const hour = t.slice(0, 10);
const month = Math.floor(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000);
const pre = 'es:{t:bench}:';
let seed = 7;
const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const vocab = [];
for (let i = 0; vocab.length < 5000; i++) vocab.push(`w${i.toString(36)}x`);
const letters = ['p', 'n', 'u', 'm'];
const hour0 = now - now % 3600, day0 = now - now % 86400;
const ret = 2592000;
const ops = [];
const key = (kind, k, exp, pairs) => {
  ops.push(kind, k, String(exp), String(pairs.length / 2), ...pairs.map(String));
};
// series and share-of-voice fields over the topics' minute/hour/day keys
const hkeys = [];
for (let k = 0; k < 3; k++) {
  for (const [r, len, exp] of [['m', 10, hour0 + 3600 + 2 * 86400],
    ['h', 8, day0 + 86400 + 90 * 86400], ['d', 6, month + 31 * 86400 + 730 * 86400]]) {
    hkeys.push({ k: `${pre}ts:topic${k}:${r}:${t.slice(0, len)}`, exp, f: [] });
  }
}
hkeys.push({ k: `${pre}sov:${t.slice(0, 8)}`, exp: day0 + 86400 + 730 * 86400, f: [] });
const fields = ['n', 'pos', 'neg', 'neu', 'mix', 'cs'];
for (let i = 0; i < nfields; i++) {
  const h = hkeys[i % hkeys.length];
  const j = Math.floor(i / hkeys.length);
  h.f.push(`${p2(j % 100)}:${fields[Math.floor(j / 100) % fields.length]}${Math.floor(j / 600) || ''}`, 1 + (i % 7));
}
for (const h of hkeys) if (h.f.length) key('h', h.k, h.exp, h.f);
// distinct trending-term increments over the topics' hour keys
for (let k = 0; k < 3; k++) {
  const f = [];
  for (let i = k; i < nterms; i += 3) f.push(vocab[Math.floor(i / 3) % vocab.length] + (i >= 15000 ? i : ''), 1 + Math.floor(rnd() * 3));
  if (f.length) key('z', `${pre}terms:topic${k}:${hour}`, hour0 + 3600 + 2 * 86400, f);
}
// recent entries: (comment, topic) pairs, each an entry of the topic's
// index of the hour ("<id>:<label letter><ms into the hour>;")
const recent = new Map();
const recs = [];
const pairs = Math.max(1, nentries);
for (let i = 0; i < per; i++) {
  const letter = letters[Math.floor(rnd() * 4)];
  const id = `__rand_int__${i.toString(36)}`;
  const off = ((now % 3600) * 1000 - per + i).toString(36);
  const topics = [];
  for (let j = i; j < pairs; j += per) topics.push(`topic${j % 3}`);
  for (const tp of topics) {
    const k = `${pre}rc:${tp}:${hour}`;
    if (!recent.has(k)) recent.set(k, []);
    recent.get(k).push(`${id}:${letter}${off};`, 1);
  }
  const cs = Math.floor(rnd() * 20000) - 10000;
  // the tenant part: topics, engine, ms into the hour; padded in the
  // topics field to the run's average size
  let part = `${topics.join(',')}\x1fv\x1f${off}`;
  if (part.length < recsize) part = `${'t'.repeat(recsize - part.length)},${part}`;
  recs.push(hour, id, part, `${cs}||`);
}
for (const [k, m] of recent) key('a', k, Math.max(hour0 + 3600, now) + ret, m);
const head = [pre, String(now), String(ret), t.slice(0, 6), '0', '0'];
const argv = ['FCALL', 'es_enrich_write', '2', `${pre}meta`, `${pre}live`, ...head,
  String(head.length + 2 + ops.length), ...ops, ...recs];
// one call file per round, each for a tenant of its own
const call = argv.join('\0') + '\0';
for (let r = 1; r <= rounds; r++) {
  require('fs').writeFileSync(`${callBase}.${r}.args`,
    call.split(pre).join(`es:{t:bench${r}}:`));
}
// the public call: per comment its part (subreddit, author, score, title
// reference, link, VADER's sentiment, body padded to the run's average
// size) and its post's title
const pub = ['FCALL', 'es_enrich_public', '0'];
const pexp = String(Math.max(hour0 + 3600, now) + ret);
for (let i = 0; i < pper; i++) {
  const id = `__rand_int__${i.toString(36)}`;
  const f = ['sub7', `user${i % 997}`, '1', '#0123456789ab', '~p/x', 'p', '5000', '',
    '0', '5000', '5000', ''];
  const len = f.join('\x1f').length;
  f[11] = 'w'.repeat(Math.max(1, pubsize - len));
  pub.push('P', hour, pexp, id, f.join('\x1f'), 'T', hour, pexp, '0123456789ab', 'A post');
}
require('fs').writeFileSync(pubFile, pub.join('\0') + '\0');
NODE
mapfile -d '' pcall < "$WORK/pcall.args"
# redis-benchmark itself needs a core to build and parse such big
# commands, and this machine has two: what it reaches is a floor. The
# ceiling is what Redis's own CPU time per call says it could do with a
# core to itself.
ncalls=$((rounds * cpr))
c0=$(cpu "$REDIS_PID")
rsum=0
for r in $(seq 1 "$rounds"); do
    mapfile -d '' call < "$WORK/call.$r.args"
    rps=$( (redis-benchmark -s "$SOCK" -n "$cpr" -P 4 \
        -r 1000000000 -q "${call[@]}" 2>/dev/null || true) | tr '\r' '\n' |
        grep -o '[0-9.]* requests per second' | tail -1 | awk '{printf "%d", $1}')
    rsum=$((rsum + ${rps:-0}))
done
rps=$((rsum / rounds)) # the rounds' mean rate
wsec=$(awk -v a="$(cpu "$REDIS_PID")" -v b="$c0" 'BEGIN{print a - b}')
# the public parts: one es_enrich_public per batch
npcalls=$((200000 / pper + 50))
c0=$(cpu "$REDIS_PID")
prps=$( (redis-benchmark -s "$SOCK" -n "$npcalls" -P 4 \
    -r 1000000000 -q "${pcall[@]}" 2>/dev/null || true) | tr '\r' '\n' |
    grep -o '[0-9.]* requests per second' | tail -1 | awk '{printf "%d", $1}')
psec=$(awk -v a="$(cpu "$REDIS_PID")" -v b="$c0" 'BEGIN{print a - b}')
# the reads of the same entries: XRANGE of a batch's worth (the reply
# XREADGROUP builds)
batch=${ECHOSTREAM_ENRICH_BATCH:-4000} # enrich.batch (its default)
nreads=300
c0=$(cpu "$REDIS_PID")
xrps=$( (redis-benchmark -s "$SOCK" -n "$nreads" -P 4 -q XRANGE \
    'es:{ingest}:comments' - + COUNT "$batch" 2>/dev/null || true) |
    tr '\r' '\n' | grep -o '[0-9.]* requests per second' | tail -1 |
    awk '{printf "%d", $1}')
rsec=$(awk -v a="$(cpu "$REDIS_PID")" -v b="$c0" 'BEGIN{print a - b}')
# comments/s of one core of Redis doing only this: per comment, writes/N
# per-tenant writes, parts/N public parts and one entry read
read -r ceiling wceil pceil rceil < <(awk -v n="$N" -v w="$writes" -v per="$per" \
    -v nc="$ncalls" -v ws="$wsec" -v m="$parts" -v pper="$pper" \
    -v npc="$npcalls" -v ps="$psec" -v nr="$nreads" -v b="$batch" -v rs="$rsec" \
    'BEGIN {
        if (ws <= 0 || ps <= 0 || rs <= 0) { print 0, 0, 0, 0; exit }
        wc = nc * per / ws; pc = npc * pper / ps; rc = nr * b / rs
        printf "%d %d %d %d\n", 1 / (w / n / wc + m / n / pc + 1 / rc), wc, pc, rc }')
secs=$(awk -v d="$((t1 - t0))" 'BEGIN{printf "%.2f", d / 1e9}')
echo "enrich cpu: ${secs}s wall, worker ${worker_cpu}s, redis ${redis_cpu}s"
awk -v n="$N" -v c="$redis_cpu" -v u="$((usec1 - usec0))" 'BEGIN {
    printf "enrich redis per comment: %.2f us CPU, %.2f us in FCALL (INFO commandstats)\n", c * 1e6 / n, u / n }'
own=$(awk -v n="$N" -v c="$redis_cpu" 'BEGIN{ if (c > 0) printf "%d", n / c; else print 0 }')
ratio=$(awk -v r="$rate" -v c="$ceiling" 'BEGIN{ if (c > 0) printf "%.2f", r / c; else print "n/a" }')
echo "enrich: $rate comments/s (ratio $ratio to the redis ceiling of $ceiling comments/s for the same command mix: Redis CPU time per call of redis-benchmark -P 4 sending es_enrich_write calls of this run's average content ($per comments each: $wceil per-tenant writes/s), es_enrich_public calls of its average batch ($pper public parts each: $pceil parts/s) and XRANGE of $batch entries ($rceil entries/s); redis-benchmark itself reached $((rps * per)) writes/s, $((prps * pper)) public parts/s and $((xrps * batch)) entries/s; Redis's CPU time in this run allows $own comments/s; this run made $writes per-tenant writes and $parts public parts for $N comments)"
if [ "$rate" -ge "$GOAL" ]; then
    echo "enrich goal: >= $GOAL comments/s met"
else
    echo "enrich goal: >= $GOAL comments/s MISSED"
fi
