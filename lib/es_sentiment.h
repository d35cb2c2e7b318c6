/*
 * es_sentiment.h - the sentiment of one text, whichever engine scored it.
 *
 * VADER gives neg/neu/pos proportions and a normalized compound in [-1, 1];
 * Comprehend gives four class probabilities, mapped into the same shape
 * (neg = Negative, neu = Neutral, pos = Positive, compound = Positive -
 * Negative, label from its Sentiment). Every later stage and the API read
 * only this shape, so engines can be mixed per tenant.
 */
#ifndef ES_SENTIMENT_H
#define ES_SENTIMENT_H

#include <stddef.h>

typedef enum {
    ES_LABEL_NEUTRAL = 0,
    ES_LABEL_POSITIVE,
    ES_LABEL_NEGATIVE,
    ES_LABEL_MIXED
} es_label;

typedef struct {
    double neg, neu, pos, compound;
    es_label label;
} es_sentiment;

/* "positive", "negative", "neutral" or "mixed". */
const char *es_label_name(es_label l);

/* Parses a label name; -1 when unknown. */
int es_label_parse(const char *s, es_label *out);

/* VADER's rule: compound >= 0.05 positive, <= -0.05 negative, else neutral. */
es_label es_label_from_compound(double compound);

/*
 * s rounded as NLTK rounds VADER's scores: Python's round(x, 3) for neg, neu
 * and pos and round(x, 4) for compound (correctly rounded, ties to even);
 * the label is kept. Rounding twice changes nothing.
 */
es_sentiment es_sentiment_nltk_round(const es_sentiment *s);

/*
 * Writes {"neg":…,"neu":…,"pos":…,"compound":…,"label":"…"} into buf with
 * the numbers rounded as es_sentiment_nltk_round does and printed as Python
 * prints them (0.5, 0.0, -0.4767); returns the length, or -1 if it does not
 * fit (128 bytes always do).
 */
int es_sentiment_json(const es_sentiment *s, char *buf, size_t size);

#endif
