#!/usr/bin/env bash
# tests/bench/matcher.sh - topic matching throughput on one core.
#
# Runs build/bench/matcher (tests/bench/matcher.c): 10,000 generated topics
# against 200,000 generated comments through es_matcher_match, beside the
# same comments against 1 topic (the cost of tokenizing alone: the ratio
# shows the cost does not grow with the number of topics) and a naive loop
# evaluating every topic on a sample. Pinned to CPU 0 when taskset works.
# The goal is 100,000 comments/s.
#
# Prints:
#   matcher: N comments/s with 10000 topics (1 topic: M comments/s; naive
#   loop: K comments/s)
#   matcher matches: X topics per comment over N comments
#   matcher goal: >= 100000 comments/s met|MISSED
set -euo pipefail

cd "$(dirname "$0")/../.."
BIN=build/bench/matcher
[ -x "$BIN" ] || { echo "matcher: $BIN missing (run make bench)" >&2; exit 1; }
PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
    PIN=(taskset -c 0)
fi
"${PIN[@]}" "$BIN" "${BENCH_COMMENTS:-200000}" "${BENCH_REPS:-3}"
