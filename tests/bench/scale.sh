#!/usr/bin/env bash
# tests/bench/scale.sh - what one comment costs the shared Redis, with one
# and with two processes of each worker (docs/scaling.md).
#
# However many machines run the workers and nginx, they share one Redis,
# and every comment costs it CPU time on its one command thread and bytes
# of memory for the tenants' retention. Those two numbers, not the
# workers, decide how far an installation grows, so this measures them on
# the real pipeline: a private redis-server (unix socket, no persistence,
# the listpack limits of conf/redis.conf.in), TENANTS tenants (default 8)
# with three topics each (one on every watched subreddit, so each tenant
# stores every comment and the count does not depend on which subreddits
# the generator favours; one on three of them; a keyword query over all,
# as memory.sh has it), then K echostream-ingest --synthetic
# (BENCH_SCALE_RATE comments/s in all, default 20,000), K
# echostream-enrich and K echostream-alert (a tick a second) until
# BENCH_SCALE_N comments (default 60,000) are streamed and every one is
# acknowledged. K = 1 is the baseline; K = 2 runs in the same invocation,
# and their ratios are printed (BENCH_SCALE_K="1" runs only the first).
#
# Redis CPU is INFO's used_cpu_user + used_cpu_sys over the run (ingest's
# es_ingest_add, enrich's reads and writes, the alert ticks, heartbeats
# and idle polls all included) divided by the comments streamed, and the
# comments/s one Redis core could take at that cost. The enrich processes
# are stopped (SIGSTOP) while ingest fills the stream and continued
# after, so the cost splits into ingest's and the rest's (enrich reads a
# backlog, as after an outage; enrich.sh measures the same); the idle cost of the
# 3 K processes (blocking reads, heartbeats, alert ticks with nothing to
# do) is measured for 3 s before the comments start. Memory: used_memory
# after the run, less before it, with the stream and ingest's state
# deleted (what stays for the tenants' retention), per comment stored;
# the stream's own bytes per entry (what a backlog costs until trimmed);
# and per tenant: MEMORY USAGE of its keys, its configuration alone and
# the whole of it at the end.
#
# The cost model (deploy/aws/measure.mjs, docs/cost.md) runs it in its own
# mode, K=1:
#   BENCH_SCALE_OWN_TOPICS=n  each tenant has n topics over subreddits of
#       its own (so each stored comment belongs to one tenant, the costliest
#       case per tenant) instead of the three shared ones;
#   BENCH_SCALE_SPREAD=S      the streamed entries are appended again with
#       their creation times spread evenly over the last S seconds (every
#       other field as the generator wrote it; the generator stamps each
#       with the second it made it, which would put a day into one minute
#       and undercount the series, index and term buckets a real day
#       fills); the enrich processes are stopped, not paused, while ingest
#       runs and started after, and the rewrite's CPU is not counted;
#   BENCH_SCALE_JSON=FILE     writes the K=1 run's memory figures there:
#       used_memory before any comment, bytes per stored comment and the
#       part of them kept 48 hours whatever the retention (minute series,
#       hourly terms), a tenant's configuration, a stream entry, and the
#       raw archive's bytes per comment;
#   BENCH_SCALE_SAVE=FILE     saves the K=1 run's Redis (an RDB) there, so
#       the enriched comments can be read again (the summaries' tokens).
#
# Prints:
#   scale k=K: S s, C comments/s, redis U us CPU/comment (ingest I, enrich
#              and alert E; ceiling M comments/s
#              on one core), idle I ms CPU/s, B bytes/comment stored, ...
#   scale 2 vs 1: redis CPU/comment R x, bytes/comment R x, comments/s R x
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${BENCH_SCALE_N:-60000}
RATE=${BENCH_SCALE_RATE:-20000}
TENANTS=${BENCH_SCALE_TENANTS:-8}
OWN=${BENCH_SCALE_OWN_TOPICS:-0}
SPREAD=${BENCH_SCALE_SPREAD:-0}
. "$ROOT/tests/bench/lib/procs.sh"
bench_need scale echostream-ingest echostream-enrich echostream-alert

export ECHOSTREAM_CONFIG='' ECHOSTREAM_LOG_LEVEL=warn
export ECHOSTREAM_AWS_IMDS=false
export AWS_EC2_METADATA_DISABLED=true ECHOSTREAM_STREAM_GROUPS=enrich
# the stream is measured, not trimmed, during a run
export ECHOSTREAM_STREAM_TRIM_INTERVAL=86400
export ECHOSTREAM_ALERT_INTERVAL=1 ECHOSTREAM_MAIL_TRANSPORT=none

info() { R info "$1" | tr -d '\r' | sed -n "s/^$2:\([0-9.]*\).*/\1/p"; }
cpu() { R info cpu | tr -d '\r' | awk -F: '/^used_cpu_(user|sys):/{s += $2} END{printf "%.6f", s}'; }

# one run with K of each worker: prints the result line's numbers
run() {
    local k=$1 dir=$WORK/k$1 sock rp pids=() c0 c1 i0 m0 m1 t0 t1 n
    mkdir -p "$dir"
    export ECHOSTREAM_LAKE_DIR=$dir/lake
    bench_redis "$dir"
    local subs=() rule=tech t j
    for t in $(seq "$TENANTS"); do
        R sadd 'es:{tenants}:all' "tenant$t" >/dev/null
        R hset "es:{t:tenant$t}:meta" owner bench created_ms 0 >/dev/null
        if [ "$OWN" -gt 0 ]; then
            rule=topic1
            for j in $(seq "$OWN"); do
                subs+=("t${t}sub$j" 1)
                R hset "es:{t:tenant$t}:topics" "topic$j" \
                    "{\"id\":\"topic$j\",\"name\":\"Topic $j\",\"subreddits\":[\"t${t}sub$j\"],\"query\":\"\"}" >/dev/null
            done
        else
            R hset "es:{t:tenant$t}:topics" \
            tech '{"id":"tech","name":"Tech","subreddits":["technology","programming","gaming","worldnews","news","askreddit","movies","science"],"query":""}' \
            world '{"id":"world","name":"World","subreddits":["worldnews","news","askreddit"],"query":""}' \
            service '{"id":"service","name":"Service","subreddits":["all"],"query":"\"customer service\" OR pricing OR delivery"}' \
                >/dev/null
        fi
        R hset "es:{t:tenant$t}:alerts:rules" neg \
            "{\"id\":\"neg\",\"topic\":\"$rule\",\"enabled\":true,\"metric\":\"negative_share\",\"window_minutes\":60,\"min_volume\":20,\"sensitivity\":3,\"cooldown_minutes\":60,\"email\":[\"ops@example.com\"],\"webhook\":null}" \
            >/dev/null
    done
    if [ "$OWN" -gt 0 ]; then
        R hset 'es:{watch}:subs' "${subs[@]}" >/dev/null
    else
        R hset 'es:{watch}:subs' technology 1 programming 1 gaming 1 \
            worldnews 1 news 1 askreddit 1 movies 1 science 1 >/dev/null
    fi
    R incr 'es:{watch}:version' >/dev/null
    R incr 'es:{topics}:version' >/dev/null
    local cfg
    cfg=$(R --scan --pattern 'es:{t:tenant1}:*' | while read -r key; do
        R memory usage "$key" samples 0; done | awk '{s += $1} END{print s}')

    # the idle cost: every process up, nothing to do
    for _ in $(seq "$k"); do
        "$ROOT/build/bin/echostream-enrich" & pids+=($!)
        "$ROOT/build/bin/echostream-alert" & pids+=($!)
    done
    PIDS+=("${pids[@]}")
    sleep 1
    i0=$(cpu)
    sleep 3
    local idle
    idle=$(awk -v a="$(cpu)" -v b="$i0" 'BEGIN{printf "%.1f", (a - b) * 1000 / 3}')

    m0=$(info memory used_memory)
    # ingest alone first (the enrich processes stopped), then enrich with
    # the backlog, so Redis's CPU splits between the two
    local enr=() ingc
    for ((j = 0; j < ${#pids[@]}; j += 2)); do enr+=("${pids[j]}"); done
    if [ "$SPREAD" -gt 0 ]; then
        # gone, not paused: a paused process's blocked read would still
        # be handed the first entries, with their generated times
        kill "${enr[@]}"
        wait "${enr[@]}" 2>/dev/null || true
    else
        kill -STOP "${enr[@]}"
    fi
    c0=$(cpu)
    t0=$(date +%s%N)
    local ing=()
    for _ in $(seq "$k"); do
        "$ROOT/build/bin/echostream-ingest" --synthetic \
            "$(awk -v r="$RATE" -v k="$k" 'BEGIN{print r / k}')" &
        ing+=($!)
    done
    PIDS+=("${ing[@]}")
    while [ "$(R xlen 'es:{ingest}:comments')" -lt "$N" ]; do sleep 0.05; done
    kill "${ing[@]}"
    wait "${ing[@]}" 2>/dev/null || true
    ingc=$(cpu)
    local rw=0
    if [ "$SPREAD" -gt 0 ]; then
        # the same entries, creation times spread over the last SPREAD s
        R eval "local e = redis.call('XRANGE', KEYS[1], '-', '+')
            local t0, n = tonumber(ARGV[1]) - tonumber(ARGV[2]), #e
            for i, x in ipairs(e) do
                local f = x[2]
                for j = 1, #f, 2 do
                    if f[j] == 'created_utc' then
                        f[j + 1] = string.format('%.3f', t0 + (i - 1) * tonumber(ARGV[2]) / n)
                    end
                end
                redis.call('XADD', KEYS[2], '*', unpack(f))
            end
            redis.call('RENAME', KEYS[2], KEYS[1])
            redis.call('XGROUP', 'CREATE', KEYS[1], 'enrich', '0')
            return n" 2 'es:{ingest}:comments' 'es:{ingest}:spread' \
            "$(($(date +%s) - 120))" "$SPREAD" >/dev/null
        rw=$(awk -v a="$(cpu)" -v b="$ingc" 'BEGIN{print a - b}')
        enr=()
        for _ in $(seq "$k"); do
            "$ROOT/build/bin/echostream-enrich" & enr+=($!)
        done
        PIDS+=("${enr[@]}")
        pids=("${pids[@]}" "${enr[@]}")
    else
        kill -CONT "${enr[@]}"
    fi
    lag() {
        R xinfo groups 'es:{ingest}:comments' |
            awk 'prev=="pending"{p=$0} prev=="lag"{l=$0} {prev=$0} END{print p+l}'
    }
    while [ "$(lag)" != "0" ]; do sleep 0.05; done
    t1=$(date +%s%N)
    c1=$(awk -v a="$(cpu)" -v b="$rw" 'BEGIN{print a - b}')
    n=$(R xlen 'es:{ingest}:comments')
    local stream
    stream=$(R memory usage 'es:{ingest}:comments' samples 0)
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
    # what stays: not the stream nor ingest's state nor the heartbeats
    R --scan --pattern 'es:{ingest}:*' | xargs -r -n 500 redis-cli -s "$sock" del >/dev/null
    R del es:workers >/dev/null
    R memory purge >/dev/null
    m1=$(info memory used_memory)
    local stored tenant public
    # comments stored: by every tenant (the shared topics), or in all (own)
    stored=$(R eval "local n = 0 for _, k in ipairs(redis.call('KEYS', 'es:{t:*}:usage:*')) do local v = tonumber(redis.call('HGET', k, 'comments') or 0) if ARGV[1] == '0' then n = math.max(n, v) else n = n + v end end return n" 0 "$OWN")
    tenant=$(R --scan --pattern 'es:{t:tenant1}:*' | while read -r key; do
        R memory usage "$key" samples 0; done | awk '{s += $1} END{print s}')
    public=$(R --scan --pattern 'es:{c}:*' | while read -r key; do
        R memory usage "$key" samples 0; done | awk '{s += $1} END{print s + 0}')
    if [ "$k" = 1 ] && [ -n "${BENCH_SCALE_JSON:-}" ]; then
        local short lake
        short=$({
            R --scan --pattern 'es:{t:*:ts:*:m:*'
            R --scan --pattern 'es:{t:*:terms:*'
        } | while read -r key; do R memory usage "$key" samples 0; done |
            awk '{s += $1} END{print s + 0}')
        lake=$(du -sb "$dir/lake" | cut -f1)
        printf '{"tenants": %d, "own_topics": %d, "spread_s": %d, "comments_streamed": %d, "comments_stored": %d,\n "baseline_bytes": %d, "bytes_per_comment_stored": %d, "of_which_48h_bytes_per_comment": %d,\n "tenant_config_bytes": %d, "stream_entry_bytes": %d, "archive_bytes_per_comment_zstd": %.1f}\n' \
            "$TENANTS" "$OWN" "$SPREAD" "$n" "$stored" "$m0" \
            "$(((m1 - m0) / stored))" "$((short / stored))" "$cfg" "$((stream / n))" \
            "$(awk -v a="$lake" -v b="$n" 'BEGIN{print a / b}')" >"$BENCH_SCALE_JSON"
    fi
    if [ "$k" = 1 ] && [ -n "${BENCH_SCALE_SAVE:-}" ]; then
        R save >/dev/null
        cp "$dir/dump.rdb" "$BENCH_SCALE_SAVE"
    fi
    kill "$rp"
    wait "$rp" 2>/dev/null || true
    awk -v n="$n" -v c="$(awk -v a="$c1" -v b="$c0" 'BEGIN{print a - b}')" \
        -v s="$(awk -v a="$t1" -v b="$t0" 'BEGIN{print (a - b) / 1e9}')" \
        -v m="$((m1 - m0))" -v st="$stored" -v str="$stream" -v idle="$idle" \
        -v cfg="$cfg" -v ten="$tenant" -v pub="$public" -v own="$OWN" -v tn="$TENANTS" \
        -v ic="$(awk -v a="$ingc" -v b="$c0" 'BEGIN{print a - b}')" 'BEGIN {
            us = c * 1e6 / n; ius = ic * 1e6 / n
            printf "%.2f %d %.2f %d %s %d %d %d %d %d %d %d %.2f %.2f\n", s, n / s, us,
                1e6 / us, idle, m / st, st, str / n, cfg, ten, (own > 0 ? ten * tn / st : ten / st), pub / st,
                ius, us - ius }'
}

declare -A R1=() R2=()
who="each stored by all $TENANTS tenants"
[ "$OWN" -gt 0 ] && who="each stored by one of $TENANTS tenants, $OWN topics of its own each"
[ "$SPREAD" -gt 0 ] && who="$who, created over $SPREAD s"
for k in ${BENCH_SCALE_K:-1 2}; do
    read -r s rate us ceil idle bpc stored spe cfg ten tpc ppc ius eus < <(run "$k")
    echo "scale k=$k: ${s} s, $rate comments/s, redis $us us CPU/comment (ingest $ius, enrich and alert $eus; ceiling $ceil comments/s on one core), idle $idle ms CPU/s for $((3 * k)) processes, $bpc bytes/comment stored ($stored comments, $who; shared public part $ppc bytes/comment), stream $spe bytes/entry, tenant: configuration $cfg bytes, $ten bytes in all ($tpc bytes/comment it stored)"
    eval "R$k=([rate]=$rate [us]=$us [bpc]=$bpc)"
done
[ -n "${R1[us]:-}" ] && [ -n "${R2[us]:-}" ] || exit 0
awk -v u1="${R1[us]}" -v u2="${R2[us]}" -v b1="${R1[bpc]}" -v b2="${R2[bpc]}" \
    -v r1="${R1[rate]}" -v r2="${R2[rate]}" 'BEGIN {
    printf "scale 2 vs 1: redis CPU/comment %.2f x, bytes/comment %.2f x, comments/s %.2f x (2 cores shared by Redis and every worker)\n",
        u2 / u1, b2 / b1, r2 / r1 }'
