/*
 * matcher.c - throughput of es_matcher_match with 10,000 topics.
 *
 * Generates, from a fixed seed, a Zipf-distributed vocabulary (real stop
 * words first, then made-up words), 2,000 subreddits of Zipf popularity,
 * 10,000 topics (1-3 subreddits each, 1% "all"; queries of 1-6 terms
 * mixing words, phrases, OR groups, negations, prefixes and authors) and
 * COMMENTS comments of 5-60 words with capitals, punctuation and accents.
 * It then times one pass over every comment with all topics, the same with
 * a single topic (the baseline: what tokenizing alone costs), and a naive
 * loop evaluating every topic's query on its own on a sample. Each timing
 * is the best of REPS passes, the machine being shared.
 *
 *   build/bench/matcher [COMMENTS] [REPS]
 *
 * Prints "matcher: N comments/s with 10000 topics (1 topic: M comments/s;
 * naive loop: K comments/s)", the mean matches per comment, and the goal.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es_matcher.h"
#include "es_query.h"

#define NTOPICS 10000
#define NSUBS   2000
#define NWORDS  20000
#define GOAL    100000

static uint64_t rs = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd64(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

static uint32_t rnd(uint32_t n)
{
    return (uint32_t)(rnd64() % n);
}

typedef struct {
    double *cdf;
    uint32_t n;
} zipf;

static int zipf_init(zipf *z, uint32_t n, double s)
{
    double sum = 0;

    z->cdf = malloc(n * sizeof(double));
    if (z->cdf == NULL) {
        return -1;
    }
    z->n = n;
    for (uint32_t i = 0; i < n; i++) {
        sum += 1.0 / __builtin_pow(i + 1.0, s);
        z->cdf[i] = sum;
    }
    for (uint32_t i = 0; i < n; i++) {
        z->cdf[i] /= sum;
    }
    return 0;
}

static uint32_t zipf_draw(const zipf *z)
{
    double u = (double)(rnd64() >> 11) / 9007199254740992.0;
    uint32_t lo = 0, hi = z->n - 1;

    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (z->cdf[mid] < u) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static const char *const stop[] = {
    "the",  "to",   "and",   "a",     "of",     "i",     "it",    "is",
    "that", "you",  "in",    "for",   "this",   "not",   "but",   "on",
    "be",   "with", "are",   "have",  "just",   "if",    "they",  "was",
    "so",   "like", "can",   "my",    "or",     "what",  "as",    "do",
    "at",   "all",  "would", "there", "people", "get",   "think", "about",
    "more", "your", "one",   "from",  "me",     "don't", "it's",  "we"};
#define NSTOP (sizeof(stop) / sizeof(stop[0]))

static char words[NWORDS][16];

static void make_words(void)
{
    const char *syl[] = {"ka", "ro",  "mi",  "ten", "su",  "la",  "vor", "ne",
                         "pi", "dex", "tra", "gon", "li",  "mar", "qu",  "zel",
                         "bo", "rin", "sa",  "to",  "fer", "na",  "cy",  "lum"};
    for (uint32_t i = 0; i < NWORDS; i++) {
        if (i < NSTOP) {
            snprintf(words[i], sizeof(words[i]), "%s", stop[i]);
            continue;
        }
        uint32_t ns = 1 + rnd(3) + (i > 2000);
        words[i][0] = '\0';
        for (uint32_t k = 0; k < ns; k++) {
            strcat(words[i], syl[rnd(24)]);
        }
    }
}

typedef struct {
    char *body;
    size_t len;
    uint32_t sub;
    char author[12];
} comment;

static char subnames[NSUBS][12];

static int make_query(char *q, const zipf *wz)
{
    int terms = 1 + (int)rnd(6), o = 0;

    if (rnd(100) == 0) {
        q[0] = '\0';
        return 0;
    }
    for (int t = 0; t < terms; t++) {
        uint32_t k = rnd(100);
        uint32_t w;
        do {
            w = zipf_draw(wz);
        } while (w < 300);
        if (t > 0) {
            o += sprintf(q + o, " ");
        }
        if (k < 15 && t > 0) {
            o += sprintf(q + o, "-%s", words[w]);
        } else if (k < 35) {
            o += sprintf(q + o, "\"%s %s\"", words[w], words[zipf_draw(wz)]);
        } else if (k < 50) {
            o += sprintf(q + o, "(%s OR %s)", words[w], words[w + 1]);
        } else if (k < 60 && strlen(words[w]) >= 5) {
            o += sprintf(q + o, "%.4s*", words[w]);
        } else if (k < 62) {
            o += sprintf(q + o, "author:user%u", rnd(5000));
        } else {
            o += sprintf(q + o, "%s", words[w]);
        }
    }
    return o;
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Best comments/s of reps passes; *matches gets the matches of a pass. */
static double time_matcher(es_matcher *m, const comment *c, size_t n, int reps,
                           size_t *matches)
{
    uint32_t out[256];
    double best = 0;

    for (int r = 0; r < reps; r++) {
        double t0 = now(), rate;
        size_t total = 0;
        for (size_t i = 0; i < n; i++) {
            total += es_matcher_match(m, subnames[c[i].sub], c[i].author,
                                      c[i].body, c[i].len, out, 256);
        }
        rate = (double)n / (now() - t0);
        if (rate > best) {
            best = rate;
        }
        *matches = total;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t ncom = argc > 1 ? (size_t)atol(argv[1]) : 200000;
    int reps = argc > 2 ? atoi(argv[2]) : 3;
    zipf wz, sz;
    comment *cs = calloc(ncom, sizeof(comment));
    es_query **qs = calloc(NTOPICS, sizeof(*qs));
    uint32_t(*tsubs)[3] = calloc(NTOPICS, sizeof(*tsubs));
    uint8_t *tnsubs = calloc(NTOPICS, 1);
    es_matcher *big = es_matcher_new(), *one = es_matcher_new();
    size_t matches = 0, naive_n = ncom < 2000 ? ncom : 2000, nm = 0;
    double rate_big, rate_one, rate_naive, t0;

    if (!cs || !qs || !tsubs || !tnsubs || !big || !one ||
        zipf_init(&wz, NWORDS, 1.0) < 0 || zipf_init(&sz, NSUBS, 1.1) < 0) {
        fprintf(stderr, "matcher: out of memory\n");
        return 1;
    }
    make_words();
    for (uint32_t i = 0; i < NSUBS; i++) {
        snprintf(subnames[i], sizeof(subnames[i]), "sub%u", i);
    }
    for (uint32_t t = 0; t < NTOPICS; t++) {
        char q[512];
        const char *names[3];
        int len;
        es_query_error err;
        do {
            len = make_query(q, &wz);
            qs[t] = es_query_parse(q, (size_t)len, &err);
        } while (qs[t] == NULL);
        tnsubs[t] = (uint8_t)(1 + rnd(3));
        for (uint32_t k = 0; k < tnsubs[t]; k++) {
            tsubs[t][k] = rnd(100) == 0 ? NSUBS : zipf_draw(&sz);
            names[k] = tsubs[t][k] == NSUBS ? "all" : subnames[tsubs[t][k]];
        }
        if (es_matcher_add(big, t, names, tnsubs[t], qs[t]) < 0 ||
            (t == 0 && es_matcher_add(one, t, names, tnsubs[t], qs[t]) < 0)) {
            fprintf(stderr, "matcher: add failed\n");
            return 1;
        }
    }
    if (es_matcher_build(big) < 0 || es_matcher_build(one) < 0) {
        fprintf(stderr, "matcher: build failed\n");
        return 1;
    }
    for (size_t i = 0; i < ncom; i++) {
        char buf[2048];
        size_t o = 0, nw = 5 + rnd(56);
        for (size_t k = 0; k < nw; k++) {
            const char *w = words[zipf_draw(&wz)];
            uint32_t style = rnd(40);
            if (style == 0) {
                o += (size_t)sprintf(buf + o, "%c%s", w[0] - 32, w + 1);
            } else if (style == 1) {
                o += (size_t)sprintf(buf + o, "%sé", w);
            } else {
                o += (size_t)sprintf(buf + o, "%s", w);
            }
            o += (size_t)sprintf(buf + o, "%s",
                                 rnd(8) == 0    ? ", "
                                 : rnd(12) == 0 ? ". "
                                                : " ");
        }
        cs[i].body = malloc(o + 1);
        if (cs[i].body == NULL) {
            return 1;
        }
        memcpy(cs[i].body, buf, o + 1);
        cs[i].len = o;
        cs[i].sub = zipf_draw(&sz);
        snprintf(cs[i].author, sizeof(cs[i].author), "User%u", rnd(5000));
    }

    rate_big = time_matcher(big, cs, ncom, reps, &matches);
    rate_one = time_matcher(one, cs, ncom, reps, &nm);
    t0 = now();
    nm = 0;
    for (size_t i = 0; i < naive_n; i++) {
        for (uint32_t t = 0; t < NTOPICS; t++) {
            int in = 0;
            for (uint32_t k = 0; k < tnsubs[t]; k++) {
                in |= tsubs[t][k] == NSUBS || tsubs[t][k] == cs[i].sub;
            }
            if (in && es_query_match(qs[t], cs[i].author, cs[i].body,
                                     cs[i].len) == 1) {
                nm++;
            }
        }
    }
    rate_naive = (double)naive_n / (now() - t0);

    printf("matcher: %.0f comments/s with %d topics (1 topic: %.0f "
           "comments/s; naive loop: %.0f comments/s)\n",
           rate_big, NTOPICS, rate_one, rate_naive);
    printf("matcher matches: %.2f topics per comment over %zu comments\n",
           (double)matches / (double)ncom, ncom);
    printf("matcher goal: >= %d comments/s %s\n", GOAL,
           rate_big >= GOAL ? "met" : "MISSED");
    for (size_t i = 0; i < ncom; i++) {
        free(cs[i].body);
    }
    for (uint32_t t = 0; t < NTOPICS; t++) {
        es_query_free(qs[t]);
    }
    es_matcher_free(big);
    es_matcher_free(one);
    free(cs);
    free(qs);
    free(tsubs);
    free(tnsubs);
    free(wz.cdf);
    free(sz.cdf);
    return 0;
}
