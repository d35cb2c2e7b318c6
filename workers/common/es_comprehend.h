/*
 * es_comprehend.h - Amazon Comprehend BatchDetectSentiment, and the circuit
 * breaker that keeps a failing Comprehend out of the hot path.
 *
 * The call is the JSON 1.1 protocol: `POST /` with X-Amz-Target
 * Comprehend_20171127.BatchDetectSentiment and a body
 * {"TextList":[…at most 25…],"LanguageCode":"en"}. Comprehend refuses the
 * whole batch when one text exceeds 5,000 bytes of UTF-8 or is empty, and
 * jansson cannot encode invalid UTF-8, so every text goes through
 * es_comprehend_prepare first (repaired, cut at a character boundary). The
 * answer lists a result per scored index (ResultList) and an error per
 * refused index (ErrorList); an index in neither is treated as refused.
 *
 * The pieces are separate functions so they can be tested without a
 * network: building the body, parsing the answer, counting billing units
 * and the breaker's state machine (which takes the clock as an argument).
 * es_comprehend_batch puts them together with SigV4 (es_aws.h), bounded
 * full-jitter retries (3 attempts, botocore's standard mode) and a retry
 * budget, so a dead endpoint costs one failed attempt per call, not three.
 */
#ifndef ES_COMPREHEND_H
#define ES_COMPREHEND_H

#include <stddef.h>

#include "es_aws.h"
#include "es_aws_creds.h"
#include "es_sentiment.h"

#define ES_COMPREHEND_MAX_BATCH 25
#define ES_COMPREHEND_MAX_BYTES 5000 /* per text, bytes of UTF-8 */
/* room es_comprehend_prepare needs: repair can triple invalid bytes */
#define ES_COMPREHEND_PREP_SIZE (3 * ES_COMPREHEND_MAX_BYTES + 1)
#define ES_COMPREHEND_TARGET    "Comprehend_20171127.BatchDetectSentiment"

/*
 * The text as it is sent: valid UTF-8 (each invalid sequence and NUL
 * replaced by U+FFFD) of at most ES_COMPREHEND_MAX_BYTES bytes, cut at a
 * character boundary. When text is already valid and short enough, *out
 * points into text and buf is unused; otherwise the text is written into
 * buf (ES_COMPREHEND_PREP_SIZE bytes, caller's) and *out points there.
 * Returns the length of *out.
 */
size_t es_comprehend_prepare(const char *text, size_t n, char *buf,
                             const char **out);

/*
 * The request body for n (1..25) prepared texts in language lang. Returns
 * a malloc'd NUL-terminated string (caller frees) with its length in *len,
 * or NULL when out of memory or a text is not valid UTF-8.
 */
char *es_comprehend_body(const char *const *texts, const size_t *lens, size_t n,
                         const char *lang, size_t *len);

/* The outcome for one text of a batch. */
typedef struct {
    int ok;         /* 1: s holds Comprehend's answer */
    es_sentiment s; /* neg=Negative, neu=Neutral, pos=Positive,
                       compound=Positive-Negative, label=Sentiment */
    char error[64]; /* ErrorList's ErrorCode (or "Missing") when !ok */
} es_comprehend_result;

/*
 * Parses a BatchDetectSentiment answer for a batch of n texts into out[n].
 * Returns 0, or -1 when the body is not the expected JSON (then out says
 * nothing). Entries with an index outside [0, n) are ignored.
 */
int es_comprehend_parse(const char *body, size_t len, size_t n,
                        es_comprehend_result *out);

/* Parses a Sentiment value (POSITIVE, NEGATIVE, NEUTRAL, MIXED); -1 if not. */
int es_comprehend_label(const char *s, es_label *out);

/*
 * Circuit breaker. Closed: calls go through, consecutive failures are
 * counted; `threshold` of them open it. Open: no calls until cooldown_ms
 * has passed since it opened, then half-open: exactly one trial call is let
 * through; its success closes the breaker, its failure opens it again for
 * another cooldown. The clock is the caller's (monotonic milliseconds).
 */
typedef enum {
    ES_BREAKER_CLOSED = 0,
    ES_BREAKER_OPEN,
    ES_BREAKER_HALF_OPEN
} es_breaker_state;

typedef struct {
    es_breaker_state state;
    int failures;  /* consecutive failed calls */
    int threshold; /* failures that open it (at least 1) */
    long long cooldown_ms;
    long long opened_ms;
    int trial;       /* 1 while the half-open trial call is out */
    long long opens; /* times it opened, for status reports */
} es_breaker;

void es_breaker_init(es_breaker *b, int threshold, long long cooldown_ms);

/* 1 when a call may be made now (and, half-open, claims the trial). */
int es_breaker_allow(es_breaker *b, long long now_ms);

void es_breaker_success(es_breaker *b);
void es_breaker_failure(es_breaker *b, long long now_ms);

/* 1 while calls are kept out (open, or half-open with the trial out). */
int es_breaker_blocking(const es_breaker *b, long long now_ms);

typedef struct {
    const char *endpoint; /* "" or NULL: https://comprehend.<region>... */
    const char *region;
    const char *language;           /* "" or NULL: "en" */
    long timeout_ms;                /* per attempt */
    int max_attempts;               /* 0: 3 */
    long long backoff_cap_ms;       /* 0: 20000; base is min(1000, cap) */
    const es_aws_chain_opts *creds; /* NULL: the default chain */
} es_comprehend_opts;

typedef struct es_comprehend es_comprehend;

/* A client with copies of opts' strings; NULL when out of memory. */
es_comprehend *es_comprehend_new(const es_comprehend_opts *opts);
void es_comprehend_free(es_comprehend *c);

/*
 * Scores n (1..25) prepared texts. Retries throttling, 5xx and transport
 * errors with full jitter while attempts and the retry budget last.
 * Returns 0 when Comprehend answered (per-text outcome in out[n]), -1 when
 * the call failed; res (may be NULL) holds the last attempt's error. Each
 * failed attempt is logged (code, status, request id; never credentials).
 */
int es_comprehend_batch(es_comprehend *c, const char *const *texts,
                        const size_t *lens, size_t n, es_comprehend_result *out,
                        es_aws_result *res);

/* Calls made (attempts) and answered, for status reports and tests. */
typedef struct {
    long long attempts;
    long long calls_ok;
    long long calls_failed;
    long long retries;
} es_comprehend_stats;

es_comprehend_stats es_comprehend_get_stats(const es_comprehend *c);

#endif
