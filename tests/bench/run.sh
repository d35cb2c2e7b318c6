#!/usr/bin/env bash
# tests/bench/run.sh - every EchoStream benchmark, as `make bench` runs it.
#
# Each tests/bench/*.sh other than this one is a benchmark that prints its
# result lines ("<name>: ..."). They run one after another, never in
# parallel, so they do not disturb each other's numbers. The result lines
# are repeated together at the end; the exit status is non-zero when a
# benchmark failed to run.
set -uo pipefail

cd "$(dirname "$0")/../.." || exit 1
results=()
status=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

for b in tests/bench/*.sh; do
    [ "$(basename "$b")" = run.sh ] && continue
    printf '\n== %s\n' "$b"
    bash "$b" 2>&1 | tee "$tmp"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -ne 0 ]; then
        results+=("$(basename "$b" .sh): FAILED (exit $rc)")
        status=1
        continue
    fi
    while IFS= read -r line; do
        results+=("$line")
    done < <(grep -E '^[a-z][A-Za-z0-9_ -]*: ' "$tmp")
done

printf '\n== results\n'
printf '%s\n' "${results[@]}"
exit $status
