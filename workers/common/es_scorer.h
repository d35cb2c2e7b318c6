/*
 * es_scorer.h - sentiment for batches of texts with the engine each text's
 * owner chose: the built-in VADER, or Amazon Comprehend with VADER as the
 * fallback.
 *
 * Comprehend is called with BatchDetectSentiment (25 texts per call, each
 * cut at a UTF-8 boundary under 5 KB), retried with full jitter on
 * throttling and 5xx, behind a circuit breaker: after repeated failures the
 * scorer stops calling it for a cool-down and answers with VADER, then lets
 * one trial batch through. Each result says which engine produced it, and
 * for Comprehend how many billing units it cost (AWS bills per 100
 * characters, at least 3 units per text), so callers can charge budgets.
 */
#ifndef ES_SCORER_H
#define ES_SCORER_H

#include <stddef.h>

#include "es_aws_creds.h"
#include "es_sentiment.h"
#include "es_vader.h"

typedef enum { ES_ENGINE_VADER = 0, ES_ENGINE_COMPREHEND } es_engine;

typedef struct es_scorer es_scorer;

typedef struct {
    const char *region;   /* signing region */
    const char *endpoint; /* "" = https://comprehend.<region>.amazonaws.com */
    const char *language; /* "en" */
    long timeout_ms;
    int breaker_failures; /* consecutive failed calls that open it */
    long long breaker_cooldown_ms;
    long long backoff_cap_ms;       /* longest retry wait; 0 = 20000 */
    const es_aws_chain_opts *creds; /* NULL: the default chain */
} es_scorer_opts;

/*
 * A scorer using the VADER lexicon v (borrowed, must outlive it). With opts
 * NULL only VADER is available. AWS credentials come from the standard chain
 * (es_aws_creds.h) on first use. NULL when out of memory.
 */
es_scorer *es_scorer_new(const es_vader *v, const es_scorer_opts *opts);
void es_scorer_free(es_scorer *s);

typedef struct {
    es_sentiment s;
    es_engine engine; /* the engine that produced s */
    int units;        /* Comprehend billing units charged (0 for VADER) */
} es_score;

/*
 * Scores n texts with the engine asked for. Texts whose Comprehend call
 * failed (after retries), or every text while the breaker is open, are
 * scored with VADER and say so in engine. Never fails: VADER always answers.
 */
void es_scorer_score(es_scorer *s, es_engine want, const char *const *texts,
                     const size_t *lens, size_t n, es_score *out);

/*
 * Comprehend billing units for a text of n bytes: ceil(chars/100), min 3,
 * where chars are the Unicode code points of the text as it is sent
 * (invalid UTF-8 repaired, cut to at most 5,000 bytes), as AWS counts them.
 */
int es_comprehend_units(const char *text, size_t n);

/* 1 while the breaker keeps Comprehend out. */
int es_scorer_breaker_open(const es_scorer *s);

/* Counters for status reports (heartbeat) and tests. */
typedef struct {
    long long comprehend_texts;  /* texts Comprehend scored */
    long long fallback_texts;    /* texts meant for Comprehend, VADER scored */
    long long comprehend_calls;  /* attempts sent, retries included */
    long long comprehend_failed; /* calls that failed after retries */
    long long skipped_calls;     /* batches the open breaker kept out */
    long long breaker_opens;
} es_scorer_stats;

es_scorer_stats es_scorer_get_stats(const es_scorer *s);

#endif
