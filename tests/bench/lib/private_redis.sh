# shellcheck shell=bash
# tests/bench/lib/private_redis.sh - a private redis-server for a benchmark
# of the enrich worker (sourced, never run: tests/bench/run.sh runs only
# tests/bench/*.sh).
#
# One Redis on a unix socket, without persistence, in a temporary WORK
# directory, so a benchmark measures the worker and Redis alone and leaves
# nothing behind. At exit the worker (ENRICH_PID, when the benchmark set
# it) and Redis are stopped and WORK is removed.
#
# After sourcing: WORK, SOCK, REDIS_PID, and R, which runs redis-cli on it.

WORK=$(mktemp -d)
REDIS_PID=
ENRICH_PID=
bench_cleanup() {
    if [ -n "$ENRICH_PID" ]; then
        kill "$ENRICH_PID" 2>/dev/null || true
        wait "$ENRICH_PID" 2>/dev/null || true
    fi
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap bench_cleanup EXIT
SOCK=$WORK/redis.sock
redis-server --port 0 --unixsocket "$SOCK" --dir "$WORK" --save '' \
    --appendonly no --logfile "$WORK/redis.log" &
REDIS_PID=$!
for _ in $(seq 50); do
    redis-cli -s "$SOCK" ping >/dev/null 2>&1 && break
    sleep 0.1
done
R() { redis-cli -s "$SOCK" "$@"; }
