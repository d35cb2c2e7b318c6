/*
 * main.c - echostream-sentiment: scores texts from stdin, one per line.
 *
 *   echostream-sentiment [--engine vader|comprehend] [--lexicon PATH]
 *
 * Each input line (any length, any bytes; a trailing '\r' is dropped) gives
 * one output line, in order:
 *
 *   {"neg":0.0,"neu":0.508,"pos":0.492,"compound":0.4404,"label":"positive"}
 *
 * with VADER's numbers rounded and printed as NLTK's polarity_scores gives
 * them (es_sentiment_json). A last line without a newline is still scored;
 * an empty line scores as neutral zeros, like an empty text in NLTK.
 *
 * The filter is built for throughput: stdin is read in large blocks and lines
 * are scored in place; only a line that straddles two blocks is copied, into
 * one buffer reused for the whole run; output is gathered in a block and
 * written with write(2). Comprehend (batches of 25 through es_scorer, VADER
 * answering whenever Comprehend cannot) is for trying the engine by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "es_log.h"
#include "es_scorer.h"
#include "es_sentiment.h"
#include "es_vader.h"
#include "es_worker.h"
#include "vjson.h"

#define IN_BLOCK  (1 << 20)
#define OUT_BLOCK (1 << 18)
#define JSON_MAX  160
#define BATCH     25

typedef struct {
    const char *engine;
    const char *lexicon;
} cli_opts;

typedef struct {
    const es_vader *v;
    es_scorer *scorer; /* NULL: VADER directly */
    char out[OUT_BLOCK];
    size_t nout;
    int failed;
    /* Comprehend batches: copies of the texts in hand */
    char *batch_buf[BATCH];
    size_t batch_len[BATCH], batch_cap[BATCH];
    size_t nbatch;
} scorer_ctx;

static const char *const sentiment_prefixes[] = {"sentiment.", "comprehend.",
                                                 "aws.", "log.", NULL};

static const es_worker_info sentiment_info = {
    "sentiment",
    "\n  -e, --engine NAME   vader (default) or comprehend"
    "\n  -L, --lexicon PATH  VADER lexicon file (default: sentiment.lexicon)",
    "Reads one text per line on stdin and writes one JSON object per line "
    "on stdout: {\"neg\",\"neu\",\"pos\",\"compound\",\"label\"}, with "
    "VADER's scores equal to NLTK's.",
    sentiment_prefixes,
};

static const struct option long_opts[] = {
    {"engine", required_argument, NULL, 'e'},
    {"lexicon", required_argument, NULL, 'L'},
    {NULL, 0, NULL, 0},
};

static int on_opt(int opt, const char *arg, void *ud)
{
    cli_opts *o = ud;

    switch (opt) {
    case 'e':
        if (strcmp(arg, "vader") != 0 && strcmp(arg, "comprehend") != 0) {
            fprintf(stderr, "--engine must be vader or comprehend\n");
            return -1;
        }
        o->engine = arg;
        return 0;
    case 'L':
        o->lexicon = arg;
        return 0;
    default:
        return -1;
    }
}

static int write_all(const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, p, n);

        if (w < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int flush_out(scorer_ctx *c)
{
    if (c->nout > 0 && write_all(c->out, c->nout) < 0) {
        if (!c->failed) {
            es_log(ES_ERROR, "stdout write failed",
                   ES_STR("error", strerror(errno)), ES_END);
        }
        c->failed = 1;
    }
    c->nout = 0;
    return c->failed ? -1 : 0;
}

/* Appends the JSON line of s; rounded: s is es_vader_score's result. */
static int emit(scorer_ctx *c, const es_sentiment *s, int rounded)
{
    int n;

    if (OUT_BLOCK - c->nout < JSON_MAX + 2 && flush_out(c) < 0) {
        return -1;
    }
    if (rounded) {
        c->nout += es_vader_json(s, c->out + c->nout);
    } else {
        n = es_sentiment_json(s, c->out + c->nout, OUT_BLOCK - c->nout);
        if (n < 0) {
            return -1;
        }
        c->nout += (size_t)n;
    }
    c->out[c->nout++] = '\n';
    return 0;
}

/* Scores the Comprehend batch in hand and writes its results in order. */
static int flush_batch(scorer_ctx *c)
{
    const char *texts[BATCH];
    es_score res[BATCH];
    size_t i;

    if (c->nbatch == 0) {
        return 0;
    }
    for (i = 0; i < c->nbatch; i++) {
        texts[i] = c->batch_buf[i];
    }
    es_scorer_score(c->scorer, ES_ENGINE_COMPREHEND, texts, c->batch_len,
                    c->nbatch, res);
    for (i = 0; i < c->nbatch; i++) {
        if (emit(c, &res[i].s, 0) < 0) {
            return -1;
        }
    }
    c->nbatch = 0;
    return 0;
}

/* One input line (without its '\n'). */
static int line(scorer_ctx *c, const char *p, size_t n)
{
    es_sentiment s;
    size_t k;

    if (n > 0 && p[n - 1] == '\r') {
        n--;
    }
    if (c->scorer == NULL) {
        s = es_vader_score(c->v, p, n);
        return emit(c, &s, 1);
    }
    k = c->nbatch;
    if (c->batch_cap[k] < n + 1) {
        char *nb = realloc(c->batch_buf[k], n + 1);

        if (nb == NULL) {
            es_log(ES_ERROR, "out of memory", ES_INT("line_bytes", n), ES_END);
            return -1;
        }
        c->batch_buf[k] = nb;
        c->batch_cap[k] = n + 1;
    }
    memcpy(c->batch_buf[k], p, n);
    c->batch_buf[k][n] = '\0';
    c->batch_len[k] = n;
    c->nbatch++;
    return c->nbatch == BATCH ? flush_batch(c) : 0;
}

/* Reads stdin to the end, scoring each line; 0, or -1 on an I/O error. */
static int run(scorer_ctx *c)
{
    char *in = malloc(IN_BLOCK);
    char *carry = NULL; /* a line straddling blocks */
    size_t ncarry = 0, carry_cap = 0;
    int rc = -1, any_carry = 0;

    if (in == NULL) {
        es_log(ES_ERROR, "out of memory", ES_END);
        return -1;
    }
    for (;;) {
        ssize_t got = read(STDIN_FILENO, in, IN_BLOCK);
        const char *p, *end;

        if (got < 0) {
            if (errno == EINTR && !es_stopping()) {
                continue;
            }
            if (errno != EINTR) {
                es_log(ES_ERROR, "stdin read failed",
                       ES_STR("error", strerror(errno)), ES_END);
                goto cleanup;
            }
            break;
        }
        if (got == 0) {
            break;
        }
        p = in;
        end = in + got;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl != NULL ? nl : end) - p);

            if (nl == NULL || any_carry) {
                if (ncarry + n > carry_cap) {
                    size_t cap = (ncarry + n) * 2;
                    char *nc = realloc(carry, cap);

                    if (nc == NULL) {
                        es_log(ES_ERROR, "out of memory",
                               ES_INT("line_bytes", ncarry + n), ES_END);
                        goto cleanup;
                    }
                    carry = nc;
                    carry_cap = cap;
                }
                memcpy(carry + ncarry, p, n);
                ncarry += n;
                any_carry = 1;
                if (nl == NULL) {
                    break;
                }
                if (line(c, carry, ncarry) < 0) {
                    goto cleanup;
                }
                ncarry = 0;
                any_carry = 0;
            } else if (line(c, p, n) < 0) {
                goto cleanup;
            }
            p = nl + 1;
        }
        if (es_stopping()) {
            break;
        }
    }
    if (any_carry && line(c, carry, ncarry) < 0) {
        goto cleanup;
    }
    if (c->scorer != NULL && flush_batch(c) < 0) {
        goto cleanup;
    }
    rc = flush_out(c);

cleanup:
    free(in);
    free(carry);
    return rc;
}

static int comprehend_opts(es_worker *w, es_scorer_opts *o)
{
    long long timeout, failures, cooldown;

    memset(o, 0, sizeof(*o));
    if (es_worker_cfg_int(w, "comprehend.timeout", 1, 600, &timeout) < 0 ||
        es_worker_cfg_int(w, "comprehend.breaker_failures", 1, 1000,
                          &failures) < 0 ||
        es_worker_cfg_int(w, "comprehend.breaker_cooldown", 1, 86400,
                          &cooldown) < 0) {
        return -1;
    }
    o->region = es_config_str(w->cfg, "aws.region");
    o->endpoint = es_config_str(w->cfg, "comprehend.endpoint");
    o->language = es_config_str(w->cfg, "comprehend.language");
    o->timeout_ms = (long)(timeout * 1000);
    o->breaker_failures = (int)failures;
    o->breaker_cooldown_ms = cooldown * 1000;
    return 0;
}

int main(int argc, char **argv)
{
    cli_opts o = {"vader", NULL};
    es_worker w;
    es_vader *v = NULL;
    scorer_ctx *c = NULL;
    const char *path;
    char err[512];
    int rc, i;

    rc = es_worker_init(&w, &sentiment_info, argc, argv, "e:L:", long_opts,
                        on_opt, &o);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    rc = 1;
    path = o.lexicon;
    if (path == NULL || path[0] == '\0') {
        path = es_config_str(w.cfg, "sentiment.lexicon");
    }
    if (path[0] == '\0') {
        path = es_vader_default_lexicon();
    }
    v = es_vader_load(path, err, sizeof(err));
    if (v == NULL) {
        es_log(ES_ERROR, "lexicon load failed", ES_STR("path", path),
               ES_STR("error", err), ES_END);
        if (w.check_only) {
            rc = es_worker_check_done(&w, -1);
        }
        goto cleanup;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        es_log(ES_ERROR, "out of memory", ES_END);
        goto cleanup;
    }
    c->v = v;
    if (strcmp(o.engine, "comprehend") == 0) {
        es_scorer_opts so;

        if (comprehend_opts(&w, &so) < 0) {
            rc = w.check_only ? es_worker_check_done(&w, -1) : 2;
            goto cleanup;
        }
        c->scorer = es_scorer_new(v, &so);
        if (c->scorer == NULL) {
            es_log(ES_ERROR, "comprehend setup failed", ES_END);
            goto cleanup;
        }
    }
    if (w.check_only) {
        rc = es_worker_check_done(&w, 0);
        goto cleanup;
    }
    rc = run(c) == 0 ? 0 : 1;

cleanup:
    if (c != NULL) {
        es_scorer_free(c->scorer);
        for (i = 0; i < BATCH; i++) {
            free(c->batch_buf[i]);
        }
        free(c);
    }
    es_vader_free(v);
    es_worker_cleanup(&w);
    return rc;
}
