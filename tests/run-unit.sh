#!/bin/sh
# tests/run-unit.sh - runs the cmocka unit test binaries and sums them up.
#
#   tests/run-unit.sh DIR BINARY...
#
# Prints one line per binary ("ok NAME (N tests)" or "FAIL NAME (N tests)"),
# the full output of every failing binary, and a last line
# "unit: N passed, N failed" counting individual cmocka tests. cmocka prints
# its summary lines on stderr, so both streams are captured together. A binary
# that dies before its summary (a crash, a sanitizer report) counts as at
# least one failed test, since cmocka never got to count it. When
# ES_UNIT_COUNTS names a file, "passed failed" is written there for the
# top-level runner. Exits non-zero when anything failed.

set -u

if [ $# -lt 1 ]; then
    echo "usage: $0 DIR BINARY..." >&2
    exit 2
fi
dir=$1
shift

total_pass=0
total_fail=0
bad=0
log=$(mktemp "${TMPDIR:-/tmp}/es-unit.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT INT TERM

# Sums the numbers captured by a sed expression over every matching line.
sum_lines() {
    sed -n "$1" "$log" | awk '{ s += $1 } END { print s + 0 }'
}

for bin in "$@"; do
    name=${bin#"$dir"/}
    if [ -x "$bin" ]; then
        "$bin" >"$log" 2>&1
        rc=$?
    else
        echo "cannot execute $bin" >"$log"
        rc=127
    fi
    ran=$(sum_lines 's/.*Running \([0-9][0-9]*\) test(s)\..*/\1/p')
    pass=$(sum_lines 's/.*\[  PASSED  \] \([0-9][0-9]*\) test(s)\..*/\1/p')
    fail=$(sum_lines 's/.*\[  FAILED  \] \([0-9][0-9]*\) test(s).*/\1/p')
    summaries=$(grep -c '\[  PASSED  \]' "$log")
    # no summary, or a non-zero exit cmocka did not account for: a crash
    if [ "$summaries" -eq 0 ] || { [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; }; then
        fail=$((fail + 1))
    fi
    total_pass=$((total_pass + pass))
    total_fail=$((total_fail + fail))
    if [ "$fail" -eq 0 ] && [ "$rc" -eq 0 ]; then
        echo "ok $name ($ran tests)"
    else
        bad=1
        echo "FAIL $name ($ran tests)"
        echo "----- output of $name (exit status $rc) -----"
        cat "$log"
        echo "----- end of $name -----"
    fi
done

echo "unit: $total_pass passed, $total_fail failed"
if [ -n "${ES_UNIT_COUNTS:-}" ]; then
    echo "$total_pass $total_fail" >"$ES_UNIT_COUNTS"
fi
[ "$bad" -eq 0 ]
