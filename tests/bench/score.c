/*
 * score.c - es_scorer from the command line, for the Comprehend
 * integration test and for timing the engines.
 *
 *   score [vader|comprehend] < lines
 *
 * Reads one text per line and scores them in rounds: a line "--" ends a
 * round (the texts so far go to es_scorer_score in one call, so a round of
 * 60 texts makes 3 Comprehend batches), "--sleep MS" ends a round and then
 * waits, and end of input ends the last round. Each text prints one JSON
 * line: the es_sentiment_json fields plus "engine" and "units"; each round
 * then prints {"round":N,"breaker_open":0|1,...} with the scorer's
 * counters. Configuration is the workers': the comprehend.* and aws.* keys
 * from ECHOSTREAM_* variables, credentials from the standard chain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "es_config.h"
#include "es_log.h"
#include "es_scorer.h"
#include "es_vader.h"
#include "es_worker.h"

extern char **environ;

typedef struct {
    char **texts;
    size_t *lens;
    size_t n, cap;
} round_buf;

static int push(round_buf *r, const char *line, size_t len)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 64;
        char **t = realloc(r->texts, cap * sizeof(*t));
        size_t *l;
        if (t == NULL) {
            return -1;
        }
        r->texts = t;
        l = realloc(r->lens, cap * sizeof(*l));
        if (l == NULL) {
            return -1;
        }
        r->lens = l;
        r->cap = cap;
    }
    r->texts[r->n] = malloc(len + 1);
    if (r->texts[r->n] == NULL) {
        return -1;
    }
    memcpy(r->texts[r->n], line, len);
    r->texts[r->n][len] = '\0';
    r->lens[r->n++] = len;
    return 0;
}

static void flush(es_scorer *s, es_engine eng, round_buf *r, int round)
{
    es_score *out = calloc(r->n ? r->n : 1, sizeof(*out));
    es_scorer_stats st;
    char json[256];

    if (out == NULL) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    es_scorer_score(s, eng, (const char *const *)r->texts, r->lens, r->n, out);
    for (size_t i = 0; i < r->n; i++) {
        int n = es_sentiment_json(&out[i].s, json, sizeof(json));
        if (n >= 2) {
            json[n - 1] = '\0'; /* drop the closing brace */
            printf("%s,\"engine\":\"%s\",\"units\":%d}\n", json,
                   out[i].engine == ES_ENGINE_COMPREHEND ? "comprehend"
                                                         : "vader",
                   out[i].units);
        }
        free(r->texts[i]);
    }
    st = es_scorer_get_stats(s);
    printf("{\"round\":%d,\"breaker_open\":%d,\"comprehend_texts\":%lld,"
           "\"fallback_texts\":%lld,\"calls\":%lld,\"failed_calls\":%lld,"
           "\"skipped_calls\":%lld,\"breaker_opens\":%lld}\n",
           round, es_scorer_breaker_open(s), st.comprehend_texts,
           st.fallback_texts, st.comprehend_calls, st.comprehend_failed,
           st.skipped_calls, st.breaker_opens);
    fflush(stdout);
    r->n = 0;
    free(out);
}

int main(int argc, char **argv)
{
    es_engine eng = ES_ENGINE_COMPREHEND;
    es_config *cfg = es_config_new();
    es_aws_chain_opts chain;
    es_scorer_opts o;
    es_vader *v;
    es_scorer *s;
    round_buf r = {0};
    char err[256], *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long long timeout, fails, cooldown, cap_ms;
    int round = 0, imds;

    if (argc > 1 && strcmp(argv[1], "vader") == 0) {
        eng = ES_ENGINE_VADER;
    }
    if (cfg == NULL) {
        return 1;
    }
    es_config_apply_env(cfg, environ);
    if (es_config_int(cfg, "comprehend.timeout", 1, 3600, &timeout, err,
                      sizeof(err)) != 0 ||
        es_config_int(cfg, "comprehend.breaker_failures", 1, 1000, &fails, err,
                      sizeof(err)) != 0 ||
        es_config_int(cfg, "comprehend.breaker_cooldown", 0, 86400, &cooldown,
                      err, sizeof(err)) != 0 ||
        es_config_int(cfg, "comprehend.backoff_cap_ms", 1, 600000, &cap_ms, err,
                      sizeof(err)) != 0 ||
        es_config_bool(cfg, "aws.imds", &imds, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    v = es_vader_load(es_vader_default_lexicon(), err, sizeof(err));
    if (v == NULL) {
        fprintf(stderr, "vader: %s\n", err);
        return 1;
    }
    memset(&chain, 0, sizeof(chain));
    chain.profile = es_config_str(cfg, "aws.profile");
    chain.imds_endpoint = es_config_str(cfg, "aws.imds_endpoint");
    chain.imds_enabled = imds;
    memset(&o, 0, sizeof(o));
    o.region = es_config_str(cfg, "aws.region");
    o.endpoint = es_config_str(cfg, "comprehend.endpoint");
    o.language = es_config_str(cfg, "comprehend.language");
    o.timeout_ms = (long)timeout * 1000;
    o.breaker_failures = (int)fails;
    o.breaker_cooldown_ms = cooldown * 1000;
    o.backoff_cap_ms = cap_ms;
    o.creds = &chain;
    s = es_scorer_new(v, &o);
    if (s == NULL) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (;;) {
        len = getline(&line, &cap, stdin);
        if (len < 0) {
            break;
        }
        if (len > 0 && line[len - 1] == '\n') {
            line[--len] = '\0';
        }
        if (strcmp(line, "--") == 0 || strncmp(line, "--sleep ", 8) == 0) {
            flush(s, eng, &r, ++round);
            if (line[2] == 's') {
                es_sleep_ms(atoll(line + 8));
            }
            continue;
        }
        if (push(&r, line, (size_t)len) != 0) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
    }
    if (r.n) {
        flush(s, eng, &r, ++round);
    }
    free(line);
    free(r.texts);
    free(r.lens);
    es_scorer_free(s);
    es_vader_free(v);
    es_config_free(cfg);
    return 0;
}
