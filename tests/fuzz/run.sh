#!/usr/bin/env bash
#
# tests/fuzz/run.sh - runs every fuzz target (build/fuzz/*_fuzz, built by
# `make fuzz-build`) for SECONDS seconds each over its seed corpus.
#
#   tests/fuzz/run.sh SECONDS [SEED]
#
# `make test` runs it briefly (ES_FUZZ_SECONDS, default 8 s a target) with
# a fixed seed (ES_FUZZ_SEED, default 1): the same inputs in the same order
# on every machine, so a failure in a test run is a failure of the code at
# hand and replays anywhere, never a draw of the clock. `make fuzz` runs
# longer (FUZZ_SECONDS, default 300 s) and seeds from the clock, to explore
# further each time. The committed seeds
# in tests/fuzz/corpus/<target>/ are only read: what a run finds goes to a
# scratch corpus under build/fuzz/corpus/ (kept between unseeded runs, so
# longer runs build on earlier ones; a seeded run uses a fresh one). A crash, a sanitizer report or a failed
# invariant fails the target; its input is saved as build/fuzz/crash-* and
# the command that replays it is printed. Prints one line a target and
# "N passed, N failed" last; exits non-zero when any failed.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
SECONDS_EACH=${1:-8}
SEED=${2:-0} # 0: libFuzzer picks one
OUT=build/fuzz
passed=0
failed=0

for bin in "$OUT"/*_fuzz; do
    [ -x "$bin" ] || continue
    name=$(basename "$bin" _fuzz)
    seeds=tests/fuzz/corpus/$name
    work=$OUT/corpus/$name
    # a seeded run starts from the committed seeds alone, as on a fresh
    # machine: what an earlier run found must not change what this one does
    if [ "$SEED" != 0 ]; then
        work=$OUT/seeded/$name
        rm -rf "$work"
    fi
    log=$OUT/$name.log
    mkdir -p "$work"
    # -timeout: one input that takes a second is a hang worth reporting;
    # -rss_limit_mb: a leak or a blow-up is a failure, not a slow machine
    if "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -seed="$SEED" \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$OUT/crash-$name-" "$work" "$seeds" \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        echo "fuzz $name: ok, ${runs:-?} inputs, $cov"
        passed=$((passed + 1))
    else
        echo "fuzz $name: FAILED (log: $log)"
        grep -E 'ERROR|SUMMARY|invariant|runtime error|Test unit written' \
            "$log" | head -n 8 | sed 's/^/    /'
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" |
            tail -n 1)
        if [ -n "$crash" ]; then
            echo "    replay: $bin $crash"
            # the input itself, so a failure seen only in a CI log can be
            # replayed elsewhere (base64 -d > crash-file)
            if [ "$(stat -c %s "$crash")" -le 4096 ]; then
                echo "    input (base64): $(base64 -w 0 "$crash")"
            fi
        fi
        failed=$((failed + 1))
    fi
done

if [ $((passed + failed)) -eq 0 ]; then
    echo "fuzz: no targets in $OUT (make fuzz-build)"
    failed=1
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
