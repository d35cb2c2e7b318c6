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
