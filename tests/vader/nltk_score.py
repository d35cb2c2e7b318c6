#!/usr/bin/python3
"""nltk_score.py - the reference: NLTK 3.8's VADER over stdin, one JSON per line.

    /usr/bin/python3 tests/vader/nltk_score.py [LEXICON] < texts > scores

Input lines are split on b"\\n" only (a last line without one still counts),
a trailing b"\\r" is dropped and the bytes are decoded as UTF-8 with
errors="replace", exactly as echostream-sentiment reads its input. Output:
{"neg":..,"neu":..,"pos":..,"compound":..} as polarity_scores returns it.
The lexicon defaults to the repository's lib/data/vader_lexicon.txt, passed
to SentimentIntensityAnalyzer as a file: URL. Run it with Debian's python
(/usr/bin/python3), which has python3-nltk.
"""
import json
import os
import sys

from nltk.sentiment.vader import SentimentIntensityAnalyzer

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    lex = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, "..", "..", "lib", "data", "vader_lexicon.txt")
    sia = SentimentIntensityAnalyzer(lexicon_file="file:" + os.path.abspath(lex))
    data = sys.stdin.buffer.read()
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    dumps = json.dumps
    for raw in lines:
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        s = sia.polarity_scores(raw.decode("utf-8", "replace"))
        out.append(dumps(s, separators=(",", ":")))
    sys.stdout.write("\n".join(out) + ("\n" if out else ""))


main()
