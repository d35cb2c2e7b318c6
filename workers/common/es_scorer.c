/*
 * es_scorer.c - sentiment with the engine each text asked for (see
 * es_scorer.h).
 *
 * Texts meant for Comprehend are sent in batches of 25 in the order given.
 * A batch the breaker keeps out, a call that fails after its retries, and
 * each text Comprehend lists in ErrorList are scored with VADER instead and
 * say so, with 0 units: AWS bills only the texts it scored. Empty texts are
 * never sent (Comprehend refuses a batch holding one) and get VADER's
 * neutral answer. The prepared copies of a batch live in one buffer owned
 * by the scorer, so scoring allocates only the request body.
 */
#include <stdlib.h>
#include <string.h>

#include "es_comprehend.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_scorer.h"
#include "es_worker.h"

struct es_scorer {
    const es_vader *v;
    es_comprehend *c; /* NULL: VADER only */
    es_breaker br;
    es_scorer_stats stats;
    char *prep; /* ES_COMPREHEND_MAX_BATCH * ES_COMPREHEND_PREP_SIZE */
};

es_scorer *es_scorer_new(const es_vader *v, const es_scorer_opts *opts)
{
    es_scorer *s = calloc(1, sizeof(*s));
    es_comprehend_opts co;

    if (s == NULL) {
        return NULL;
    }
    s->v = v;
    if (opts == NULL) {
        return s;
    }
    memset(&co, 0, sizeof(co));
    co.endpoint = opts->endpoint;
    co.region = opts->region;
    co.language = opts->language;
    co.timeout_ms = opts->timeout_ms;
    co.backoff_cap_ms = opts->backoff_cap_ms;
    co.creds = opts->creds;
    s->c = es_comprehend_new(&co);
    s->prep = malloc((size_t)ES_COMPREHEND_MAX_BATCH * ES_COMPREHEND_PREP_SIZE);
    if (s->c == NULL || s->prep == NULL) {
        es_scorer_free(s);
        return NULL;
    }
    es_breaker_init(&s->br,
                    opts->breaker_failures > 0 ? opts->breaker_failures : 5,
                    opts->breaker_cooldown_ms);
    return s;
}

void es_scorer_free(es_scorer *s)
{
    if (s == NULL) {
        return;
    }
    es_comprehend_free(s->c);
    free(s->prep);
    free(s);
}

static void vader_one(const es_scorer *s, const char *text, size_t n,
                      es_score *out)
{
    out->s = es_vader_score(s->v, text, n);
    out->engine = ES_ENGINE_VADER;
    out->units = 0;
}

/*
 * Scores one batch of up to 25 texts whose positions in the caller's
 * arrays are idx[0..n).
 */
static void comprehend_batch(es_scorer *s, const char *const *texts,
                             const size_t *lens, const size_t *idx, size_t n,
                             es_score *out)
{
    const char *sent[ES_COMPREHEND_MAX_BATCH];
    size_t sent_len[ES_COMPREHEND_MAX_BATCH];
    es_comprehend_result res[ES_COMPREHEND_MAX_BATCH];
    es_aws_result err;
    long long now = es_mono_ms();
    int ok;

    if (!es_breaker_allow(&s->br, now)) {
        s->stats.skipped_calls++;
        goto fallback;
    }
    for (size_t i = 0; i < n; i++) {
        sent_len[i] = es_comprehend_prepare(
            texts[idx[i]], lens[idx[i]],
            s->prep + i * (size_t)ES_COMPREHEND_PREP_SIZE, &sent[i]);
    }
    ok = es_comprehend_batch(s->c, sent, sent_len, n, res, &err) == 0;
    es_metrics_add("echostream_comprehend_calls_total", 1);
    if (!ok) {
        long long opens = s->br.opens;

        es_breaker_failure(&s->br, es_mono_ms());
        s->stats.comprehend_failed++;
        es_metrics_add("echostream_comprehend_failures_total", 1);
        if (s->br.opens != opens) {
            es_log(ES_WARN, "comprehend breaker open",
                   ES_INT("failures", s->br.failures),
                   ES_INT("cooldown_ms", s->br.cooldown_ms),
                   ES_STR("code", err.code), ES_END);
        }
        goto fallback;
    }
    if (s->br.state != ES_BREAKER_CLOSED) {
        es_log(ES_INFO, "comprehend breaker closed", ES_END);
    }
    es_breaker_success(&s->br);
    for (size_t i = 0; i < n; i++) {
        es_score *o = &out[idx[i]];

        if (res[i].ok) {
            o->s = res[i].s;
            o->engine = ES_ENGINE_COMPREHEND;
            o->units = es_comprehend_units(sent[i], sent_len[i]);
            es_metrics_add("echostream_comprehend_units_total", o->units);
            s->stats.comprehend_texts++;
        } else {
            es_log(ES_WARN, "comprehend refused a text",
                   ES_STR("code", res[i].error), ES_END);
            vader_one(s, texts[idx[i]], lens[idx[i]], o);
            s->stats.fallback_texts++;
        }
    }
    return;

fallback:
    for (size_t i = 0; i < n; i++) {
        vader_one(s, texts[idx[i]], lens[idx[i]], &out[idx[i]]);
    }
    s->stats.fallback_texts += (long long)n;
}

void es_scorer_score(es_scorer *s, es_engine want, const char *const *texts,
                     const size_t *lens, size_t n, es_score *out)
{
    size_t idx[ES_COMPREHEND_MAX_BATCH];
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        if (want != ES_ENGINE_COMPREHEND || s->c == NULL || lens[i] == 0) {
            vader_one(s, texts[i], lens[i], &out[i]);
            if (want == ES_ENGINE_COMPREHEND) {
                s->stats.fallback_texts++;
            }
            continue;
        }
        idx[k++] = i;
        if (k == ES_COMPREHEND_MAX_BATCH) {
            comprehend_batch(s, texts, lens, idx, k, out);
            k = 0;
        }
    }
    if (k) {
        comprehend_batch(s, texts, lens, idx, k, out);
    }
}

int es_scorer_breaker_open(const es_scorer *s)
{
    return s->c != NULL && es_breaker_blocking(&s->br, es_mono_ms());
}

es_scorer_stats es_scorer_get_stats(const es_scorer *s)
{
    es_scorer_stats st = s->stats;

    if (s->c) {
        st.comprehend_calls = es_comprehend_get_stats(s->c).attempts;
    }
    st.breaker_opens = s->br.opens;
    return st;
}
