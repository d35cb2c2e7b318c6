/*
 * es_comprehend.c - BatchDetectSentiment and the circuit breaker (see
 * es_comprehend.h).
 *
 * The retry loop follows botocore's standard mode: at most 3 attempts,
 * full jitter rand(0, min(base * 2^(attempt-1), cap)), and a token bucket
 * (500 tokens, 5 per retry, 10 per retry after a timeout, 1 back per
 * success) so a service that fails every call is not asked three times per
 * batch for long. The retry budget lives as long as the client, across
 * calls, which is what makes it a budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_backoff.h"
#include "es_comprehend.h"
#include "es_http.h"
#include "es_log.h"
#include "es_scorer.h"
#include "es_utf8.h"
#include "es_worker.h"

#define BUDGET_MAX        500.0
#define BUDGET_RETRY_COST 5.0
#define BUDGET_TIMEOUT    10.0
#define MAX_ANSWER        (1024 * 1024)

struct es_comprehend {
    char *endpoint;
    char *region;
    char *language;
    long timeout_ms;
    int max_attempts;
    long long backoff_cap_ms;
    es_aws_chain *chain;
    es_http *http;
    es_retry_budget budget;
    es_comprehend_stats stats;
};

size_t es_comprehend_prepare(const char *text, size_t n, char *buf,
                             const char **out)
{
    size_t m;

    if (n <= ES_COMPREHEND_MAX_BYTES && es_utf8_valid(text, n)) {
        *out = text;
        return n;
    }
    /*
     * Repairing a prefix is enough: the first 5,000 input bytes give at
     * least 5,000 output bytes when anything is replaced (U+FFFD is longer
     * than the byte it stands for), so the cut below never runs short.
     */
    m = n < ES_COMPREHEND_MAX_BYTES ? n : ES_COMPREHEND_MAX_BYTES;
    if (es_utf8_valid(text, m)) {
        *out = text;
        return es_utf8_cut(text, m, ES_COMPREHEND_MAX_BYTES);
    }
    m = es_utf8_repair(text, m, buf, ES_COMPREHEND_PREP_SIZE);
    if (m == (size_t)-1) {
        m = 0; /* cannot happen: 3 * n + 1 always fits */
    }
    m = es_utf8_cut(buf, m, ES_COMPREHEND_MAX_BYTES);
    buf[m] = '\0';
    *out = buf;
    return m;
}

/*
 * Billing units as AWS counts them: one unit per 100 characters (Unicode
 * code points) of the text Comprehend receives, at least 3 per text. The
 * text is first prepared as it would be sent (repaired, cut to 5,000
 * bytes), so the count is of what is actually billed.
 */
int es_comprehend_units(const char *text, size_t n)
{
    char buf[ES_COMPREHEND_PREP_SIZE];
    const char *t;
    size_t len = es_comprehend_prepare(text, n, buf, &t);
    size_t chars = 0;
    int units;

    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)t[i] & 0xC0) != 0x80) {
            chars++;
        }
    }
    units = (int)((chars + 99) / 100);
    return units < 3 ? 3 : units;
}

char *es_comprehend_body(const char *const *texts, const size_t *lens, size_t n,
                         const char *lang, size_t *len)
{
    json_t *doc = NULL, *list = NULL;
    char *out = NULL;

    doc = json_object(); /* new */
    list = json_array(); /* new */
    if (doc == NULL || list == NULL) {
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_stringn(texts[i], lens[i]); /* new, NULL if bad */
        if (s == NULL || json_array_append_new(list, s) != 0) {
            goto cleanup;
        }
    }
    if (json_object_set(doc, "TextList", list) != 0 ||
        json_object_set_new(doc, "LanguageCode",
                            json_string(lang && *lang ? lang : "en")) != 0) {
        goto cleanup;
    }
    out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (out) {
        *len = strlen(out);
    }

cleanup:
    json_decref(list);
    json_decref(doc);
    return out;
}

int es_comprehend_label(const char *s, es_label *out)
{
    static const struct {
        const char *name;
        es_label label;
    } map[] = {
        {"POSITIVE", ES_LABEL_POSITIVE},
        {"NEGATIVE", ES_LABEL_NEGATIVE},
        {"NEUTRAL", ES_LABEL_NEUTRAL},
        {"MIXED", ES_LABEL_MIXED},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
        if (s && strcmp(s, map[i].name) == 0) {
            *out = map[i].label;
            return 0;
        }
    }
    return -1;
}

static double score_of(json_t *scores, const char *key)
{
    json_t *v = json_object_get(scores, key); /* borrowed */
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* Fills one result from a ResultList entry; -1 when it is malformed. */
static int parse_result(json_t *r, es_comprehend_result *out)
{
    json_t *scores = json_object_get(r, "SentimentScore"); /* borrowed */
    json_t *label = json_object_get(r, "Sentiment");
    es_sentiment *s = &out->s;

    if (!json_is_object(scores) ||
        es_comprehend_label(json_string_value(label), &s->label) != 0) {
        return -1;
    }
    s->pos = score_of(scores, "Positive");
    s->neg = score_of(scores, "Negative");
    s->neu = score_of(scores, "Neutral");
    s->compound = s->pos - s->neg;
    out->ok = 1;
    out->error[0] = '\0';
    return 0;
}

int es_comprehend_parse(const char *body, size_t len, size_t n,
                        es_comprehend_result *out)
{
    json_t *doc, *results, *errors, *e;
    size_t i;
    int rc = -1;

    doc = json_loadb(body, len, 0, NULL);         /* new */
    results = json_object_get(doc, "ResultList"); /* borrowed */
    errors = json_object_get(doc, "ErrorList");
    if (!json_is_object(doc) || !json_is_array(results) ||
        (errors && !json_is_array(errors))) {
        goto cleanup;
    }
    for (i = 0; i < n; i++) {
        memset(&out[i], 0, sizeof(out[i]));
        snprintf(out[i].error, sizeof(out[i].error), "Missing");
    }
    json_array_foreach(results, i, e)
    {
        json_t *idx = json_object_get(e, "Index");
        json_int_t k = json_is_integer(idx) ? json_integer_value(idx) : -1;

        if (k < 0 || (size_t)k >= n) {
            continue;
        }
        if (parse_result(e, &out[k]) != 0) {
            snprintf(out[k].error, sizeof(out[k].error), "BadResult");
        }
    }
    json_array_foreach(errors, i, e)
    {
        json_t *idx = json_object_get(e, "Index");
        json_t *code = json_object_get(e, "ErrorCode");
        json_int_t k = json_is_integer(idx) ? json_integer_value(idx) : -1;

        if (k < 0 || (size_t)k >= n) {
            continue;
        }
        out[k].ok = 0;
        snprintf(out[k].error, sizeof(out[k].error), "%s",
                 json_is_string(code) ? json_string_value(code) : "Error");
    }
    rc = 0;

cleanup:
    json_decref(doc);
    return rc;
}

void es_breaker_init(es_breaker *b, int threshold, long long cooldown_ms)
{
    memset(b, 0, sizeof(*b));
    b->threshold = threshold < 1 ? 1 : threshold;
    b->cooldown_ms = cooldown_ms < 0 ? 0 : cooldown_ms;
}

int es_breaker_allow(es_breaker *b, long long now_ms)
{
    switch (b->state) {
    case ES_BREAKER_CLOSED:
        return 1;
    case ES_BREAKER_OPEN:
        if (now_ms - b->opened_ms < b->cooldown_ms) {
            return 0;
        }
        b->state = ES_BREAKER_HALF_OPEN;
        b->trial = 1;
        return 1;
    case ES_BREAKER_HALF_OPEN:
        if (b->trial) {
            return 0; /* one trial at a time */
        }
        b->trial = 1;
        return 1;
    }
    return 0;
}

void es_breaker_success(es_breaker *b)
{
    b->state = ES_BREAKER_CLOSED;
    b->failures = 0;
    b->trial = 0;
}

void es_breaker_failure(es_breaker *b, long long now_ms)
{
    if (b->failures < b->threshold) {
        b->failures++;
    }
    if (b->state == ES_BREAKER_HALF_OPEN || b->failures >= b->threshold) {
        if (b->state != ES_BREAKER_OPEN) {
            b->opens++;
        }
        b->state = ES_BREAKER_OPEN;
        b->opened_ms = now_ms;
        b->trial = 0;
    }
}

int es_breaker_blocking(const es_breaker *b, long long now_ms)
{
    if (b->state == ES_BREAKER_OPEN) {
        return now_ms - b->opened_ms < b->cooldown_ms;
    }
    return b->state == ES_BREAKER_HALF_OPEN && b->trial;
}

es_comprehend *es_comprehend_new(const es_comprehend_opts *o)
{
    es_comprehend *c = calloc(1, sizeof(*c));
    es_aws_chain_opts def = {NULL, "http://169.254.169.254", 1, 1000};
    const char *region = o->region && *o->region ? o->region : "us-east-1";
    char url[512];

    if (c == NULL) {
        return NULL;
    }
    if (o->endpoint && *o->endpoint) {
        if (es_aws_endpoint_of(o->endpoint, url, sizeof(url)) != 0) {
            snprintf(url, sizeof(url), "%s", o->endpoint);
        }
    } else {
        snprintf(url, sizeof(url), "https://comprehend.%s.amazonaws.com",
                 region);
    }
    c->endpoint = strdup(url);
    c->region = strdup(region);
    c->language = strdup(o->language && *o->language ? o->language : "en");
    c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
    c->max_attempts = o->max_attempts > 0 ? o->max_attempts : 3;
    c->backoff_cap_ms = o->backoff_cap_ms > 0 ? o->backoff_cap_ms : 20000;
    c->chain = es_aws_chain_new(o->creds ? o->creds : &def);
    c->http = es_http_new("echostream-comprehend");
    es_retry_budget_init(&c->budget, BUDGET_MAX, BUDGET_RETRY_COST, 1.0);
    if (!c->endpoint || !c->region || !c->language || !c->chain || !c->http) {
        es_comprehend_free(c);
        return NULL;
    }
    return c;
}

void es_comprehend_free(es_comprehend *c)
{
    if (c == NULL) {
        return;
    }
    es_aws_chain_free(c->chain);
    es_http_free(c->http);
    free(c->endpoint);
    free(c->region);
    free(c->language);
    free(c);
}

es_comprehend_stats es_comprehend_get_stats(const es_comprehend *c)
{
    return c->stats;
}

/* One signed attempt; 0 with out filled, -1 with res filled. */
static int attempt(es_comprehend *c, const char *body, size_t len, size_t n,
                   es_comprehend_result *out, es_aws_result *res)
{
    const es_aws_creds *creds;
    es_aws_request req;
    char err[256];

    creds = es_aws_chain_get(c->chain, err, sizeof(err));
    if (creds == NULL) {
        memset(res, 0, sizeof(*res));
        snprintf(res->code, sizeof(res->code), "NoCredentials");
        snprintf(res->message, sizeof(res->message), "%s", err);
        return -1;
    }
    memset(&req, 0, sizeof(req));
    req.endpoint = c->endpoint;
    req.region = c->region;
    req.service = "comprehend";
    req.target = ES_COMPREHEND_TARGET;
    req.content_type = "application/x-amz-json-1.1";
    req.body = body;
    req.body_len = len;
    req.timeout_ms = c->timeout_ms;
    req.max_body = MAX_ANSWER;
    if (es_aws_json_call(c->http, creds, &req, res) != 0) {
        if (res->auth) {
            /* rotated or expired keys: look them up again next time */
            es_aws_chain_invalidate(c->chain);
        }
        return -1;
    }
    if (es_comprehend_parse(res->body, res->body_len, n, out) != 0) {
        snprintf(res->code, sizeof(res->code), "BadAnswer");
        snprintf(res->message, sizeof(res->message),
                 "BatchDetectSentiment answer is not the expected JSON");
        res->retryable = 1;
        return -1;
    }
    return 0;
}

int es_comprehend_batch(es_comprehend *c, const char *const *texts,
                        const size_t *lens, size_t n, es_comprehend_result *out,
                        es_aws_result *res)
{
    es_aws_result local;
    es_backoff bo;
    char *body = NULL;
    size_t len = 0;
    int rc = -1;

    if (res == NULL) {
        res = &local;
    }
    memset(res, 0, sizeof(*res));
    if (n == 0 || n > ES_COMPREHEND_MAX_BATCH) {
        snprintf(res->code, sizeof(res->code), "BadBatch");
        return -1;
    }
    body = es_comprehend_body(texts, lens, n, c->language, &len);
    if (body == NULL) {
        snprintf(res->code, sizeof(res->code), "OutOfMemory");
        snprintf(res->message, sizeof(res->message), "building the batch");
        return -1;
    }
    es_backoff_init(&bo, c->backoff_cap_ms < 1000 ? c->backoff_cap_ms : 1000,
                    c->backoff_cap_ms);
    for (int a = 1;; a++) {
        long long wait;
        int timeout;

        c->stats.attempts++;
        if (attempt(c, body, len, n, out, res) == 0) {
            es_retry_budget_success(&c->budget);
            c->stats.calls_ok++;
            rc = 0;
            break;
        }
        es_log(ES_WARN, "comprehend call failed", ES_INT("attempt", a),
               ES_INT("texts", n), ES_INT("status", res->status),
               ES_STR("code", res->code), ES_STR("message", res->message),
               ES_STR("request_id", res->request_id), ES_END);
        if (!res->retryable || a >= c->max_attempts || es_stopping()) {
            break;
        }
        /* a timeout may mean an overloaded service: it costs double */
        timeout = res->status == 0 && strstr(res->message, "imeout") != NULL;
        c->budget.retry_cost = timeout ? BUDGET_TIMEOUT : BUDGET_RETRY_COST;
        if (!es_retry_budget_take(&c->budget)) {
            es_log(ES_WARN, "comprehend retry budget spent",
                   ES_STR("code", res->code), ES_END);
            break;
        }
        c->stats.retries++;
        wait = es_backoff_next(&bo);
        es_sleep_ms(wait);
    }
    if (rc != 0) {
        c->stats.calls_failed++;
    }
    free(body);
    return rc;
}
