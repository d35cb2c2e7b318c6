#!/usr/bin/env bash
# tests/bench/vader.sh - VADER throughput beside NLTK's, and its accuracy.
#
# Side by side on the same texts, both pinned to one core, both from
# reading the texts to writing JSON (process start included):
#   - the 200,000 generated texts of the parity test's generator
#     (tests/vader/gen_corpus.py, cached under build/bench/): NLTK 3.8
#     (tests/vader/nltk_score.py, Debian's python3-nltk) scores them once,
#     `echostream-sentiment --engine vader` scores them five times over in
#     one run (1,000,000 texts), BENCH_REPS runs (default 5);
#   - when the human-rated sets of the VADER paper are present in
#     $ROOT/../shared/data/vader-groundtruth, the same on those real
#     sentences (23,703 tweets, reviews and editorial snippets): NLTK once,
#     the C port ten times over per run.
# The C port runs over enough texts that its start (about 10 ms: loading
# and hashing the lexicon, the dynamic linker) weighs as little as Python's
# start does in NLTK's 25 s run. Rates are texts per second of CPU time
# (user + system of the process): on a machine shared with other work, CPU
# time is what each program costs, while wall time also counts the waits
# for a core that the other work causes (wall rates are printed too). The
# C figure is the median run; min and max are shown. The outputs are
# compared with NLTK's (they must be identical), and on the human-rated
# sets the Pearson r of compound against the human mean is printed for
# both: with exact parity the two are equal. The goal is 100x NLTK's
# throughput, on each corpus.
#
# Prints:
#   vader: N texts/s (NLTK M texts/s, ratio R; ...)        generated texts
#   vader real: N texts/s (NLTK M texts/s, ratio R; ...)   human-rated sets
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

# "CPU WALL" seconds of "$@" <$1 >$2
timed() {
    local in=$1 out=$2
    shift 2
    "$PY" tests/vader/timeit.py "$in" "$out" "$@"
}
# texts/s of N texts in S seconds
rate() { awk -v n="$1" -v s="$2" 'BEGIN {printf "%d", n / s}'; }
stats() { sort -n | awk '{a[NR]=$1} END {printf "%d %d %d\n", a[1], a[int((NR + 1) / 2)], a[NR]}'; }

# One corpus: NAME TEXTS COPIES LABEL. Sets RATIO (C over NLTK, rounded);
# prints the line.
bench() {
    local name=$1 texts=$2 copies=$3 label=$4 n big cpu wall runs walls
    local o_min o_med o_max w_med nl ncpu nwall ratio
    n=$(wc -l <"$texts")
    big=$WORK/$name.x$copies
    for _ in $(seq "$copies"); do cat "$texts"; done >"$big"
    runs=()
    walls=()
    for _ in $(seq "$REPS"); do
        read -r cpu wall < <(timed "$big" "$WORK/$name.ours" "${PIN[@]}" \
            "$BIN" --engine vader --lexicon "$LEX")
        runs+=("$(rate $((n * copies)) "$cpu")")
        walls+=("$(rate $((n * copies)) "$wall")")
    done
    read -r o_min o_med o_max < <(printf '%s\n' "${runs[@]}" | stats)
    read -r _ w_med _ < <(printf '%s\n' "${walls[@]}" | stats)
    read -r ncpu nwall < <(timed "$texts" "$WORK/$name.nltk" "${PIN[@]}" \
        "$PY" tests/vader/nltk_score.py "$LEX")
    nl=$(rate "$n" "$ncpu")
    head -n "$n" "$WORK/$name.ours" | sed 's/,"label":"[a-z]*"}/}/' \
        >"$WORK/$name.cmp"
    if ! cmp -s "$WORK/$name.cmp" "$WORK/$name.nltk"; then
        echo "vader: output differs from NLTK on the $label" >&2
    fi
    ratio=$(awk -v o="$o_med" -v n="$nl" 'BEGIN {printf "%.0f", o / n}')
    RATIO=$ratio
    echo "$label: $o_med texts/s (NLTK $nl texts/s, ratio $ratio; C min" \
        "$o_min max $o_max over $REPS runs of $((n * copies)) texts, CPU" \
        "time; by wall time C $w_med, NLTK $(rate "$n" "$nwall"))"
}

bench gen "$CORPUS" 5 "vader"
ok=$((RATIO >= 100))

if [ ! -d "$GT" ]; then
    if [ "$ok" = 1 ]; then
        echo "vader goal: >= 100x NLTK met"
    else
        echo "vader goal: >= 100x NLTK MISSED"
    fi
    echo "vader groundtruth: groundtruth sets not present, skipped"
    exit 0
fi
sets=()
for f in "$GT"/*_GroundTruth.txt; do
    s=$(basename "$f" _GroundTruth.txt)
    sets+=("$s")
    "$PY" tests/vader/groundtruth.py split "$f" "$WORK/$s.t" "$WORK/$s.r"
done
for s in "${sets[@]}"; do cat "$WORK/$s.t"; done >"$WORK/real.txt"
bench real "$WORK/real.txt" 10 "vader real"
ok=$((ok && RATIO >= 100))
if [ "$ok" = 1 ]; then
    echo "vader goal: >= 100x NLTK met"
else
    echo "vader goal: >= 100x NLTK MISSED"
fi
# accuracy per set, from the outputs of the runs above
off=0
for s in "${sets[@]}"; do
    k=$(wc -l <"$WORK/$s.t")
    sed -n "$((off + 1)),$((off + k))p" "$WORK/real.ours" >"$WORK/$s.o"
    sed -n "$((off + 1)),$((off + k))p" "$WORK/real.nltk" >"$WORK/$s.n"
    off=$((off + k))
    ro=$("$PY" tests/vader/groundtruth.py pearson "$WORK/$s.r" "$WORK/$s.o")
    rn=$("$PY" tests/vader/groundtruth.py pearson "$WORK/$s.r" "$WORK/$s.n")
    echo "vader r $s: $ro (NLTK $rn)"
done
