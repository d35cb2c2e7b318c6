#!/usr/bin/env bash
# tests/bench/memory.sh - Redis memory per stored comment.
#
# What EchoStream costs to run is mostly Redis memory, and most of that is
# what enrich keeps per comment for the tenant's retention: the record the
# API shows, the recent-comment indexes, the series and terms. This runs
# the real pipeline on a private redis-server (unix socket, no
# persistence; the listpack limits of conf/redis.conf.in):
# echostream-ingest --synthetic fills the stream with
# BENCH_MEMORY_N comments (default 100,000) over the subreddits the topics
# watch, echostream-enrich (VADER) consumes them, and then the stream, the
# de-duplication bitmaps and the other ingest keys are deleted, so what
# remains is exactly what a stored comment leaves behind. Two runs:
#   1 tenant with three broad topics (two subreddit topics, one keyword
#     query over every subreddit), and
#   10 tenants, each with the same three topics, so every stored comment
#     is matched by ten tenants.
# Bytes are INFO memory's used_memory after the run less used_memory before
# the first comment (the allocator's real footprint of the keys, not an
# estimate), divided by the comments stored (comments any tenant holds a
# record of); MEMORY USAGE summed over every key is printed beside it.
# The goal is at most 350 bytes per comment for one tenant, and ten tenants
# well under ten times that.
#
# Prints:
#   memory: B bytes/comment at 1 tenant (... keys ...)
#   memory 10 tenants: B bytes/comment (R x one tenant's)
#   memory goal: <= 350 bytes/comment at 1 tenant met|MISSED
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${BENCH_MEMORY_N:-100000}
GOAL=350
. "$ROOT/tests/bench/lib/procs.sh"
bench_need memory echostream-ingest echostream-enrich

export ECHOSTREAM_LOG_LEVEL=warn ECHOSTREAM_LAKE_DIR=$WORK/lake
export ECHOSTREAM_AWS_IMDS=false ECHOSTREAM_STREAM_GROUPS=enrich

# one run: TENANTS -> "bytes_per_comment stored keys usage_sum"
run() {
    local tenants=$1 dir=$WORK/run$1 sock rp ip ep before after stored
    mkdir -p "$dir"
    bench_redis "$dir"
    for t in $(seq "$tenants"); do
        R sadd 'es:{tenants}:all' "tenant$t" >/dev/null
        R hset "es:{t:tenant$t}:meta" owner bench created_ms 0 >/dev/null
        R hset "es:{t:tenant$t}:topics" \
            tech '{"id":"tech","name":"Tech","subreddits":["technology","programming","gaming"],"query":""}' \
            world '{"id":"world","name":"World","subreddits":["worldnews","news","askreddit"],"query":""}' \
            service '{"id":"service","name":"Service","subreddits":["all"],"query":"\"customer service\" OR pricing OR delivery"}' \
            >/dev/null
    done
    R hset 'es:{watch}:subs' technology 1 programming 1 gaming 1 \
        worldnews 1 news 1 askreddit 1 movies 1 science 1 >/dev/null
    R incr 'es:{watch}:version' >/dev/null
    R incr 'es:{topics}:version' >/dev/null
    before=$(R info memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)/\1/p')

    "$ROOT/build/bin/echostream-ingest" --synthetic 200000 &
    ip=$!
    PIDS+=("$ip")
    while [ "$(R xlen 'es:{ingest}:comments')" -lt "$N" ]; do sleep 0.2; done
    kill "$ip"
    wait "$ip" 2>/dev/null || true
    "$ROOT/build/bin/echostream-enrich" &
    ep=$!
    PIDS+=("$ep")
    lag() {
        R xinfo groups 'es:{ingest}:comments' |
            awk 'prev=="pending"{p=$0} prev=="lag"{l=$0} {prev=$0} END{print p+l}'
    }
    while [ "$(lag)" != "0" ]; do sleep 0.2; done
    kill "$ep"
    wait "$ep" 2>/dev/null || true
    streamed=$(R xlen 'es:{ingest}:comments')
    # what remains of a stored comment: not the stream nor ingest's state
    R --scan --pattern 'es:{ingest}:*' | xargs -r -n 500 redis-cli -s "$sock" del >/dev/null
    R del es:workers >/dev/null
    R memory purge >/dev/null
    after=$(R info memory | tr -d '\r' | sed -n 's/^used_memory:\([0-9]*\)/\1/p')
    stored=$(R eval "local n, seen = 0, {} for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:usage:*')) do n = math.max(n, tonumber(redis.call('HGET', k, 'comments') or 0)) end return n" 0)
    keys=$(R dbsize)
    usage=$(R --scan | while read -r k; do echo "MEMORY USAGE $k SAMPLES 0"; done |
        R | awk '{s += $1} END {print s}')
    awk -v a="$after" -v b="$before" -v s="$stored" -v k="$keys" -v u="$usage" \
        -v x="$streamed" \
        'BEGIN { printf "%d %d %d %d %d\n", (a - b) / s, s, k, u / s, x }'
    kill "$rp"
    wait "$rp" 2>/dev/null || true
}

read -r one stored1 keys1 use1 str1 < <(run 1)
echo "memory: $one bytes/comment at 1 tenant ($stored1 of $str1 comments streamed stored, in $keys1 keys; MEMORY USAGE summed over the keys: $use1 bytes/comment)"
read -r ten stored10 keys10 use10 str10 < <(run 10)
echo "memory 10 tenants: $ten bytes/comment ($(awk -v a="$ten" -v b="$one" 'BEGIN{printf "%.2f", a / b}') x one tenant's; $stored10 of $str10 comments streamed, each matched by 10 tenants, in $keys10 keys; MEMORY USAGE $use10 bytes/comment)"
if [ "$one" -le "$GOAL" ]; then
    echo "memory goal: <= $GOAL bytes/comment at 1 tenant met"
else
    echo "memory goal: <= $GOAL bytes/comment at 1 tenant MISSED"
fi
