/*
 * figures.h - what a summary is written from: one period's numbers of a
 * topic (or of every topic of a tenant) against the period before, its
 * trending terms and a bounded set of representative comments.
 *
 * Everything is read from what enrich already keeps (docs/redis-keys.md):
 * the hourly and per-minute series, the hourly term sets and the recent
 * sets with their per-comment records. Nothing is recomputed from comment
 * text. The set of comments is bounded twice, as the configuration says:
 * at most max_comments, each cut to max_chars characters, so the input of
 * a summary (and a Bedrock bill) cannot grow with a topic's volume.
 */
#ifndef ES_SUM_FIGURES_H
#define ES_SUM_FIGURES_H

#include <stddef.h>

#include "es_redis.h"

/* the series' integer fields over a period (cs: compound x 1e4, summed) */
typedef struct {
    long long n, pos, neg, neu, mix, cs;
} es_sum_counts;

#define ES_SUM_TERMS 8

typedef struct {
    char term[64];
    long long count;  /* comments of the period containing it */
    long long before; /* the same over the period before (-1: not kept) */
} es_sum_term;

/* why a comment was chosen */
typedef enum {
    ES_SUM_MOST_NEGATIVE,
    ES_SUM_MOST_POSITIVE,
    ES_SUM_TOP_SCORE,
    ES_SUM_SAMPLE
} es_sum_role;

typedef struct {
    es_sum_role role;
    char id[16];
    char topic[72];
    char label[12];
    double compound;
    long long score;
    long long created_ms;
    char subreddit[32];
    char author[40];
    char link[600];    /* https://www.reddit.com + permalink */
    char *body;        /* owned, at most max_chars characters */
    int cut;           /* the body was shortened */
    char terms[4][64]; /* its first trending terms */
    size_t nterms;
} es_sum_comment;

typedef struct {
    char id[72];
    char name[128];
    es_sum_counts now, before;
    es_sum_term terms[ES_SUM_TERMS];
    size_t nterms;
} es_sum_topic;

typedef struct {
    long long start_s, end_s; /* the period: [start, end) */
    long long prev_start_s;   /* the period before: [prev_start, start) */
    int whole;                /* every topic of the tenant */
    es_sum_topic *topics;     /* owned; one unless whole */
    size_t ntopics;
    es_sum_counts now, before;       /* sums over topics (mentions) */
    es_sum_term terms[ES_SUM_TERMS]; /* over topics */
    size_t nterms;
    es_sum_comment *comments; /* owned */
    size_t ncomments;
} es_sum_figures;

typedef struct {
    size_t max_comments;
    size_t max_chars;
} es_sum_limits;

/* one topic as the tenant named it */
typedef struct {
    const char *id;
    const char *name;
} es_sum_topic_ref;

/*
 * Reads the figures of topics[0..ntopics) of tenant (its key prefix
 * "es:{t:<id>}:") over [start_s, end_s) and the equally long period
 * before. whole marks a summary of the whole tenant. 0, or -1 when Redis
 * failed (the worker is stopping); f is then freed.
 */
int es_sum_figures_read(es_redis *r, const char *prefix,
                        const es_sum_topic_ref *topics, size_t ntopics,
                        int whole, long long start_s, long long end_s,
                        const es_sum_limits *lim, es_sum_figures *f);

void es_sum_figures_free(es_sum_figures *f);

/* A part of n in percent; 0 when n is 0. */
static inline double es_sum_share(long long part, long long n)
{
    return n > 0 ? 100.0 * (double)part / (double)n : 0.0;
}

/* Mean compound of a count set (cs / n / 1e4); 0 when n is 0. */
static inline double es_sum_mean(const es_sum_counts *c)
{
    return c->n > 0 ? (double)c->cs / (double)c->n / 10000.0 : 0.0;
}

#endif
