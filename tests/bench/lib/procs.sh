# shellcheck shell=bash
# tests/bench/lib/procs.sh - the start of a benchmark that runs several
# worker binaries against a Redis of its own (memory.sh, scale.sh; sourced,
# never run: tests/bench/run.sh runs only tests/bench/*.sh).
#
# bench_need NAME BINARY... stops the benchmark with one clear line when a
# binary is not built, instead of a failure deep inside a run. After
# sourcing: WORK (a temporary directory) and PIDS (append every process
# started); at exit each of PIDS is stopped and WORK removed, however the
# benchmark ends.

bench_need() { # name binary...
    local name=$1 b
    shift
    for b in "$@"; do
        [ -x "$ROOT/build/bin/$b" ] || {
            echo "$name: build/bin/$b missing (run make)" >&2
            exit 1
        }
    done
}

WORK=$(mktemp -d)
PIDS=()
bench_procs_cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap bench_procs_cleanup EXIT

# A Redis of its own in DIR on a unix socket, without persistence, with the
# listpack limits of the shipped configuration (conf/redis.conf.in). Sets
# sock and rp (the caller's locals: bash scopes them dynamically), defines
# R (redis-cli on it) and points the workers at it (ECHOSTREAM_REDIS).
bench_redis() { # dir
    sock=$1/redis.sock
    redis-server --port 0 --unixsocket "$sock" --dir "$1" --save '' \
        --appendonly no --logfile "$1/redis.log" \
        --hash-max-listpack-entries 512 --hash-max-listpack-value 1024 &
    rp=$!
    PIDS+=("$rp")
    for _ in $(seq 50); do
        redis-cli -s "$sock" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    # shellcheck disable=SC2317 # R is called by the benchmarks
    R() { redis-cli -s "$sock" "$@"; }
    export ECHOSTREAM_REDIS="unix://$sock"
}
