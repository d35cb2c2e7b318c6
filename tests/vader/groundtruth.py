#!/usr/bin/python3
"""groundtruth.py - helpers for the VADER benchmark's accuracy lines.

    groundtruth.py split SET.txt TEXTS RATINGS
        Reads one human-rated set of the VADER paper (id<TAB>mean<TAB>text per
        line), decoded as nltk.data decodes text (UTF-8, else Latin-1), and
        writes its texts as UTF-8, one per line, and the mean ratings. Both
        NLTK and echostream-sentiment are then fed the same TEXTS file.
    groundtruth.py pearson RATINGS SCORES
        Prints the Pearson r of the "compound" of each JSON line of SCORES
        against RATINGS, to 3 decimals.
"""
import json
import math
import sys


def split(src, texts, ratings):
    raw = open(src, "rb").read()
    try:
        data = raw.decode("utf-8")
    except UnicodeDecodeError:
        data = raw.decode("latin-1")
    with open(texts, "w", encoding="utf-8", newline="\n") as t, \
            open(ratings, "w") as r:
        for line in data.split("\n"):
            line = line.rstrip("\r")
            parts = line.split("\t", 2)
            if len(parts) < 3:
                continue
            t.write(parts[2].replace("\r", " ") + "\n")
            r.write(parts[1] + "\n")


def pearson(ratings, scores):
    x = [float(v) for v in open(ratings).read().split()]
    y = [json.loads(v)["compound"] for v in open(scores).read().splitlines()]
    if len(x) != len(y):
        sys.exit("ratings and scores differ in length")
    n = len(x)
    mx, my = sum(x) / n, sum(y) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    syy = sum((b - my) ** 2 for b in y)
    print("%.3f" % (sxy / math.sqrt(sxx * syy)))


if sys.argv[1] == "split":
    split(*sys.argv[2:5])
else:
    pearson(*sys.argv[2:4])
