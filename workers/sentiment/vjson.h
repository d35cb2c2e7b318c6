/*
 * vjson.h - the JSON line of a VADER result, printed the fast way.
 *
 * es_vader_score already rounds its numbers as NLTK does, so each is an
 * exact number of thousandths (ten-thousandths for compound): the printer
 * takes those integers back and writes their digits, instead of rounding
 * again and dividing digit by digit as the general es_sentiment_json must.
 * The output is byte for byte es_sentiment_json's (the unit test compares
 * the two on every value VADER can give).
 */
#ifndef ES_SENTIMENT_VJSON_H
#define ES_SENTIMENT_VJSON_H

#include "es_sentiment.h"

/* Room es_vader_json needs (it may write a few bytes past the line). */
#define ES_VADER_JSON_MAX 160

/*
 * Writes {"neg":…,"neu":…,"pos":…,"compound":…,"label":"…"} for s, whose
 * numbers es_sentiment_nltk_round has rounded (as es_vader_score returns
 * them), into buf (room for ES_VADER_JSON_MAX bytes; no NUL is written).
 * Returns the length.
 */
size_t es_vader_json(const es_sentiment *s, char *buf);

#endif
