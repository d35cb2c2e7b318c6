#!/usr/bin/env bash
# tests/bench/vader.sh - VADER throughput beside NLTK's, and its accuracy.
#
# Scores the same 200,000 generated texts (tests/vader/gen_corpus.py, cached
# under build/bench/) with `echostream-sentiment --engine vader` on one core
# and with NLTK 3.8 (tests/vader/nltk_score.py, Debian's python3-nltk). The C
# figure is the median of BENCH_REPS runs (default 5), NLTK's of one run (it
# takes half a minute). Both include reading the texts and writing JSON.
# When the human-rated sets of the VADER paper are present in
# $ROOT/../shared/data/vader-groundtruth, each is scored by both and the
# Pearson r of compound against the human mean is printed for each: with
# exact parity the two are identical. The goal is 100x NLTK's throughput.
#
# Prints:
#   vader: N texts/s (NLTK M texts/s, ratio R)
#   vader goal: >= 100x NLTK met|MISSED
#   vader r SET: X (NLTK Y)           (one per set)
#   or: vader groundtruth: groundtruth sets not present, skipped
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
BIN=$ROOT/build/bin/echostream-sentiment
PY=/usr/bin/python3
LEX=$ROOT/lib/data/vader_lexicon.txt
CACHE=$ROOT/build/bench
CORPUS=$CACHE/vader_200k.txt
LINES=200000
REPS=${BENCH_REPS:-5}
GT=$ROOT/../shared/data/vader-groundtruth

[ -x "$BIN" ] || { echo "vader: $BIN missing (run make)" >&2; exit 1; }
mkdir -p "$CACHE"
if [ ! -s "$CORPUS" ]; then
    "$PY" tests/vader/gen_corpus.py "$LINES" 7 >"$CORPUS"
fi

PIN=()
if command -v taskset >/dev/null && taskset -c 0 true 2>/dev/null; then
    PIN=(taskset -c 0)
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

# texts/s of one run of "$@" <CORPUS >$WORK/out
rate_of() {
    local t0 t1
    t0=$(now_ns)
    "$@" <"$CORPUS" >"$WORK/out"
    t1=$(now_ns)
    echo $((LINES * 1000000000 / (t1 - t0)))
}

ours=()
for _ in $(seq "$REPS"); do
    ours+=("$(rate_of "${PIN[@]}" "$BIN" --engine vader --lexicon "$LEX")")
done
o=$(printf '%s\n' "${ours[@]}" | median)
cp "$WORK/out" "$WORK/ours.json"
n=$(rate_of "${PIN[@]}" "$PY" tests/vader/nltk_score.py "$LEX")
sed 's/,"label":"[a-z]*"}/}/' "$WORK/ours.json" >"$WORK/ours.cmp"
if ! cmp -s "$WORK/ours.cmp" "$WORK/out"; then
    echo "vader: output differs from NLTK on the benchmark corpus" >&2
fi
ratio=$(awk -v o="$o" -v n="$n" 'BEGIN {printf "%.0f", o / n}')
echo "vader: $o texts/s (NLTK $n texts/s, ratio $ratio)"
if [ "$ratio" -ge 100 ]; then
    echo "vader goal: >= 100x NLTK met"
else
    echo "vader goal: >= 100x NLTK MISSED"
fi

if [ ! -d "$GT" ]; then
    echo "vader groundtruth: groundtruth sets not present, skipped"
    exit 0
fi
for f in "$GT"/*_GroundTruth.txt; do
    set_name=$(basename "$f" _GroundTruth.txt)
    "$PY" tests/vader/groundtruth.py split "$f" "$WORK/t.txt" "$WORK/r.txt"
    "$BIN" --lexicon "$LEX" <"$WORK/t.txt" >"$WORK/o.json"
    "$PY" tests/vader/nltk_score.py "$LEX" <"$WORK/t.txt" >"$WORK/n.json"
    ro=$("$PY" tests/vader/groundtruth.py pearson "$WORK/r.txt" "$WORK/o.json")
    rn=$("$PY" tests/vader/groundtruth.py pearson "$WORK/r.txt" "$WORK/n.json")
    echo "vader r $set_name: $ro (NLTK $rn)"
done
