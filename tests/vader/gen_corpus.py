#!/usr/bin/python3
"""gen_corpus.py - a deterministic corpus for the VADER parity test.

    /usr/bin/python3 tests/vader/gen_corpus.py [N] [SEED] > corpus.txt

Writes N lines (default 100000, seed 3) built to hit every rule of NLTK's
VADER and their interactions: lexicon words (picked from the repository's
lexicon, emoticons included) with negations (NEGATE words, "n't", within
one to three words), boosters and dampeners, ALL CAPS words in mixed-case
texts and all-caps texts, "but", "least"/"at least"/"very least", "kind of"
and the other bigrams, "never so"/"never this", the SPECIAL_CASE_IDIOMS,
'!' and '?' runs, punctuation glued to words ("good!", "(good)", "'good'",
"!!good"), repeated words (NLTK scores a repeat at its first occurrence),
non-ASCII words and case (accents, Greek, Turkish dotted I, the Kelvin
sign), emoji, Unicode white space, a few invalid UTF-8 bytes, one-character
tokens, empty lines and long texts. The output is bytes: some lines are not
valid UTF-8 on purpose.
"""
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LEXICON = os.path.join(HERE, "..", "..", "lib", "data", "vader_lexicon.txt")

NEGATE = ("not never none nope nor nothing nowhere without rarely seldom "
          "despite neither cannot cant dont don't isn't wasn't won't aint "
          "ain't couldn't didn't doesn't hasn't haven't shouldn't wouldn't "
          "uh-uh uhuh neednt darent").split()
BOOST = ("absolutely amazingly awfully completely considerably decidedly "
         "deeply effing enormously entirely especially exceptionally "
         "extremely fabulously flipping flippin fricking frickin frigging "
         "friggin fully fucking greatly hella highly hugely incredibly "
         "intensely majorly more most particularly purely quite really "
         "remarkably so substantially thoroughly totally tremendously uber "
         "unbelievably unusually utterly very").split()
DAMPEN = ("almost barely hardly kinda kindof kind-of less little marginally "
          "occasionally partly scarcely slightly somewhat sorta sortof "
          "sort-of").split()
BIGRAMS = ["kind of", "sort of", "just enough", "Kind of", "KIND OF",
           "kind Of", "at least", "very least", "least", "the least",
           "never so", "never this", "Never so", "never SO", "so", "this",
           "without doubt", "without a doubt", "no doubt", "not bad",
           "not good", "never good", "but", "But", "BUT", "however"]
IDIOMS = ["the shit", "the bomb", "bad ass", "yeah right", "cut the mustard",
          "kiss of death", "hand to mouth", "The shit", "THE BOMB",
          "bad ass!", "yeah right."]
FILLER = ("the a an it is was this that movie food service day he she they "
          "we you i me my our place phone time at of to and or in on with "
          "for as really just about very been had has have do does did "
          "kind sort least".split())
PUNCT_FORMS = ["{}", "{}!", "{}.", "{},", "{}?", "{}!!", "{}!!!", "{}??",
               "{}?!?", "{}!?!?", "{}!!!!", "({})", "'{}'", "\"{}\"", "!{}",
               "!!{}", "-{}", ",{}", ":{}", ";{}", "{}:", "{};", "{}-",
               "{}'", "...{}", "{}...", "#{}", "@{}", "{}'s", "*{}*"]
NON_ASCII = ["café", "naïve", "Ünïcödé", "ÉLAN", "élan", "Straße", "STRASSE",
             "ΣΟΦΙΑ", "σοφία", "İstanbul", "ıi", "\u212aind", "\u212aIND",
             "ǅemal", "ǄEMAL", "Ⅻ", "ⅻ", "ℌello", "Ｇood", "ｇｏｏｄ", "日本",
             "中文字", "ДОБРО", "добро", "Ἀθῆναι", "ꞫꞫ", "ᏣᎳᎩ", "ꮳꮃꭹ",
             "Ⓐⓑ", "ⒶⒷ", "🅰🅱", "ǈuBav", "ǇUBAV", "ß", "ẞẞ", "ﬀﬀ",
             "\u0130\u0130", "x\u0307y", "ǰǰ", "Ｈａｐｐｙ"]
EMOJI = ["😀", "😡", "👍", "👎", "❤️", "💔", "🎉🎉", "🙂🙂🙂", "😂😂", "🤬",
         "👩‍👩‍👧", "🇺🇸", "✨", "😭😭😭", "🥳", "🔥🔥", "💯"]
SPACES = [" ", " ", " ", " ", "  ", "\t", "\u00a0", "\u2003", "\u3000",
          "\u0085", "\u2028", "\u202f", "\x0b", "\x0c", "\x1c", "\r",
          "\u200b", "\ufeff"]
INVALID = [b"\xff", b"\xfe\xfe", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80",
           b"\xf0\x9f\x98", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\x80\x80"]


def load_lexicon():
    pos, neg, emo, allw = [], [], [], []
    with open(LEXICON, encoding="utf-8") as f:
        for line in f.read().split("\n"):
            w, v = line.split("\t")[0:2]
            v = float(v)
            allw.append(w)
            if not w.isalpha():
                emo.append(w)
            elif v > 0:
                pos.append(w)
            else:
                neg.append(w)
    return pos, neg, emo, allw


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 3)
    pos, neg, emo, allw = load_lexicon()
    common_pos = ["good", "great", "love", "nice", "happy", "best", "like",
                  "amazing", "wonderful", "fun", "excellent", "cool"]
    common_neg = ["bad", "hate", "terrible", "awful", "sad", "worst",
                  "horrible", "angry", "boring", "ugly", "poor", "wrong"]

    def lexword():
        r = rng.random()
        if r < 0.35:
            return rng.choice(common_pos + common_neg)
        if r < 0.6:
            return rng.choice(pos)
        if r < 0.85:
            return rng.choice(neg)
        return rng.choice(emo)

    def casing(w):
        r = rng.random()
        if r < 0.75:
            return w
        if r < 0.9:
            return w.upper()
        if r < 0.96:
            return w.capitalize()
        return "".join(c.upper() if rng.random() < 0.5 else c for c in w)

    def piece():
        r = rng.random()
        if r < 0.30:
            w = casing(lexword())
        elif r < 0.42:
            w = casing(rng.choice(NEGATE))
        elif r < 0.54:
            w = casing(rng.choice(BOOST + DAMPEN))
        elif r < 0.64:
            w = rng.choice(BIGRAMS)
        elif r < 0.68:
            w = rng.choice(IDIOMS)
        elif r < 0.72:
            w = rng.choice(NON_ASCII)
        elif r < 0.75:
            w = rng.choice(EMOJI)
        elif r < 0.77:
            w = rng.choice("abcdefghijklmnopqrstuvwxyzIA!?.:;,-'\"()")
        elif r < 0.78:
            w = rng.choice(allw)
        else:
            w = casing(rng.choice(FILLER))
        if rng.random() < 0.18 and " " not in w:
            w = rng.choice(PUNCT_FORMS).format(w)
        return w

    def sentence():
        r = rng.random()
        if r < 0.01:
            return rng.choice(["", " ", "!", "?", "a", "ok", "OK", ":)", ":(",
                               "!!!", "???", "but", "kind of", "least"])
        if r < 0.03:
            k = rng.randint(150, 400)
        elif r < 0.25:
            k = rng.randint(1, 4)
        else:
            k = rng.randint(4, 18)
        words = [piece() for _ in range(k)]
        if rng.random() < 0.15 and len(words) > 2:
            # repeats: NLTK scores a repeated token at its first occurrence
            for _ in range(rng.randint(1, 3)):
                words.insert(rng.randrange(len(words) + 1),
                             rng.choice(words))
        out = []
        for i, w in enumerate(words):
            if i:
                out.append(" " if rng.random() < 0.92 else rng.choice(SPACES))
            out.append(w)
        s = "".join(out)
        r = rng.random()
        if r < 0.15:
            s += rng.choice(["!", "!!", "!!!", "!!!!!", "?", "??", "???",
                             "????", "?!", "!?", " !", " ??", ".", "..."])
        elif r < 0.18:
            s = rng.choice(["!", "?", "¡", "¿"]) + s
        if rng.random() < 0.1:
            s = s.upper()
        if rng.random() < 0.02:
            s += "\r"
        return s

    out = sys.stdout.buffer
    for _ in range(n):
        b = sentence().encode("utf-8")
        if rng.random() < 0.01:
            pos_ = rng.randrange(len(b) + 1)
            b = b[:pos_] + rng.choice(INVALID) + b[pos_:]
        b = b.replace(b"\n", b" ")
        out.write(b + b"\n")


main()
