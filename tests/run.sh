#!/usr/bin/env bash
# tests/run.sh - every EchoStream test suite, as `make test` runs it.
#
# Installs what is missing (deploy/local/install-deps.sh is quick when all is
# present), builds, then runs: the C unit tests, the same unit tests under
# AddressSanitizer + UBSan, the fuzz targets for a few seconds each
# (ES_FUZZ_SECONDS, default 8), the format check, luacheck over the Redis
# function libraries, the AWS cost model's table (deploy/aws/cost.py,
# printed), and each black-box suite in tests/integration/ (one
# folder per part: api, ingest, enrich, mirror, alert, ops)
# (node's test runner driving the real Redis, nginx and worker binaries).
# Each suite is run on its own with a time limit, so one hung suite fails
# instead of stalling the run. The last line is the total over all suites:
# "N passed, N failed"; the exit status is non-zero if anything failed.
#
# ES_TEST_ONLY=regex limits the integration suites to matching file names.
# A few suites that mostly wait on real clocks run beside the others
# (ES_BACKGROUND_SUITES=regex names them; ES_SERIAL_SUITES=1 turns it off).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
LOGDIR=${ES_TEST_LOGS:-$ROOT/build/test-logs}
mkdir -p "$LOGDIR"

passed=0
failed=0
failed_suites=()

note() { printf '\n== %s\n' "$*"; }

add_counts() { # suite passed failed
    passed=$((passed + $2))
    failed=$((failed + $3))
    if [ "$3" -ne 0 ]; then
        failed_suites+=("$1")
    fi
}

if [ -z "${ES_SKIP_DEPS:-}" ]; then
    note "dependencies"
    if ! deploy/local/install-deps.sh; then
        echo "installing dependencies failed"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

# every Node program below runs under the oldest supported Node's module
# rules, whatever Node this machine has (see the file)
. deploy/local/node-compat.sh
es_node_oldest_rules

note "build"
if ! make -j"$(nproc)" all module-asan fuzz-build >"$LOGDIR/build.log" 2>&1; then
    tail -n 60 "$LOGDIR/build.log"
    echo "build failed (full log: $LOGDIR/build.log)"
    echo "0 passed, 1 failed"
    exit 1
fi
echo "build ok"

run_unit() { # name make-target
    local counts="$LOGDIR/$1.counts"
    note "$1"
    rm -f "$counts"
    ES_UNIT_COUNTS="$counts" make --no-print-directory -j"$(nproc)" "$2"
    if [ -s "$counts" ]; then
        read -r p f <"$counts"
        add_counts "$1" "$p" "$f"
    else
        echo "$1: no result (build or runner failure)"
        add_counts "$1" 0 1
    fi
}

run_unit unit unit
run_unit unit-asan unit-asan

# every parser of outside input under libFuzzer + ASan + UBSan, briefly
# (make fuzz runs them longer); one result per target
note "fuzz"
tests/fuzz/run.sh "${ES_FUZZ_SECONDS:-8}" "${ES_FUZZ_SEED:-1}" |
    tee "$LOGDIR/fuzz.log"
read -r fp ff < <(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' \
    "$LOGDIR/fuzz.log" | tail -n 1)
add_counts fuzz "${fp:-0}" "${ff:-1}"

# formatting is part of done: every C file as the project's .clang-format has
# it (skipped with a note where clang-format is not installed)
note "format"
if command -v clang-format >/dev/null; then
    if make --no-print-directory check-format >"$LOGDIR/format.log" 2>&1; then
        echo "format: 1 passed, 0 failed"
        add_counts format 1 0
    else
        head -n 40 "$LOGDIR/format.log"
        echo "format: 0 passed, 1 failed (run make format)"
        add_counts format 0 1
    fi
else
    echo "format: clang-format not installed, not checked"
fi

# the Redis function libraries (lib/redis/*.lua) pass luacheck: unused or
# misspelt locals, globals Redis would refuse, long lines (install-deps.sh
# installs Debian's lua-check, so this never skips)
note "lua lint"
if make --no-print-directory lint-lua >"$LOGDIR/lua-lint.log" 2>&1; then
    tail -n 1 "$LOGDIR/lua-lint.log"
    echo "lua lint: 1 passed, 0 failed"
    add_counts lua-lint 1 0
else
    cat "$LOGDIR/lua-lint.log"
    echo "lua lint: 0 passed, 1 failed"
    add_counts lua-lint 0 1
fi

# The AWS cost model on its committed measurements (docs/cost.md): the
# monthly cost at 1, 10 and 100 tenants, printed here for the reader; the
# cost_model suite checks the table
note "cost model"
if python3 deploy/aws/cost.py >"$LOGDIR/cost-model.log" 2>&1; then
    cat "$LOGDIR/cost-model.log"
    echo "cost model: 1 passed, 0 failed"
    add_counts cost-model 1 0
else
    cat "$LOGDIR/cost-model.log"
    echo "cost model: 0 passed, 1 failed"
    add_counts cost-model 0 1
fi

# One suite: node's test runner under a time limit, its TAP kept in the log
# directory. Prints nothing; the result is read by suite_result.
suite_run() { # file name
    timeout --kill-after=10 "${ES_SUITE_TIMEOUT:-300}" \
        node --test --test-reporter=tap "$1" >"$LOGDIR/$2.tap" 2>&1
    echo $? >"$LOGDIR/$2.rc"
}

# Adds one finished suite's counts to the totals and prints its line (and
# its failures' tail).
suite_result() { # name
    local log="$LOGDIR/$1.tap" rc p f_
    rc=$(cat "$LOGDIR/$1.rc" 2>/dev/null || echo 1)
    p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -n 1)
    f_=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -n 1)
    p=${p:-0}
    f_=${f_:-0}
    if [ "$rc" -ne 0 ] && [ "$f_" -eq 0 ]; then
        f_=1 # crashed or timed out without reporting a failing test
    fi
    if [ "$f_" -ne 0 ]; then
        grep -vE '^# (Subtest|tests|suites|cancelled|skipped|todo|duration)' \
            "$log" | tail -n 80
    fi
    echo "$1: $p passed, $f_ failed (log: $log)"
    add_counts "$1" "$p" "$f_"
}

# Suites that spend their time waiting on real clocks (a poll budget of 100
# requests a minute, an alert tick of 60 s) and use little CPU run beside
# the others instead of in turn: the run is minutes shorter and they check
# the same guarantees. ES_SERIAL_SUITES=1 runs everything in turn.
BACKGROUND_RE=${ES_BACKGROUND_SUITES:-'^(ingest_freshness|alert_e2e)$'}
[ -n "${ES_SERIAL_SUITES:-}" ] && BACKGROUND_RE='^$'
background=()
for f in tests/integration/*/*.test.mjs; do
    name=$(basename "$f" .test.mjs)
    if [ -n "${ES_TEST_ONLY:-}" ] && ! [[ $name =~ $ES_TEST_ONLY ]]; then
        continue
    fi
    if [[ $name =~ $BACKGROUND_RE ]]; then
        note "integration: $name (started; runs beside the others)"
        suite_run "$f" "$name" &
        background+=("$name:$!")
        continue
    fi
    note "integration: $name"
    suite_run "$f" "$name"
    suite_result "$name"
done
for b in "${background[@]}"; do
    wait "${b##*:}"
    note "integration: ${b%%:*} (ran beside the others)"
    suite_result "${b%%:*}"
done

note "summary"
if [ "${#failed_suites[@]}" -ne 0 ]; then
    echo "failing suites: ${failed_suites[*]}"
    # the end of a long run is what a CI page shows: repeat what failed
    for s in "${failed_suites[@]}"; do
        log=$LOGDIR/$s.log
        [ -f "$log" ] || log=$LOGDIR/$s.tap
        [ -f "$log" ] || continue
        echo "-- $s (from $log):"
        grep -E 'FAILED|^not ok|ERROR|SUMMARY|replay:|input \(base64\)' \
            "$log" | head -n 20 | sed 's/^/   /'
    done
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
