/*
 * topics.h - every tenant's topics and settings, as the enrich worker
 * matches against them.
 *
 * Loaded from Redis (es:{tenants}:all, then each tenant's :topics and :meta
 * hashes in one pipeline) and compiled into one es_matcher whose handles
 * index the topic table. es:{topics}:version is read before every batch
 * is matched (and every enrich.topics_refresh_ms while idle); only when it
 * moved is everything reloaded and a new matcher swapped in, so topic edits
 * apply without a restart, from the first comment read after the API
 * answered, at the cost of one GET per batch. A topic whose JSON or query is
 * invalid is logged and left out; it never stops the others.
 */
#ifndef ES_ENRICH_TOPICS_H
#define ES_ENRICH_TOPICS_H

#include <stddef.h>
#include <stdint.h>

#include "es_keys.h"
#include "es_matcher.h"
#include "es_redis.h"
#include "es_scorer.h"

typedef struct {
    char id[72];
    char prefix[96]; /* "es:{t:<id>}:" */
    es_engine engine;
    long long budget_micros; /* monthly Comprehend budget, micro-USD */
    long long retention_s;
} es_enrich_tenant;

typedef struct {
    uint32_t tenant; /* index into the tenant table */
    char id[72];
    char (*subs)[24]; /* owned */
    size_t nsubs;
} es_enrich_topic;

typedef struct {
    es_enrich_tenant *tenants; /* sorted by id */
    size_t ntenants;
    es_enrich_topic *topics;
    size_t ntopics;
    es_matcher *matcher;
} es_topic_set;

typedef struct {
    es_redis *r;
    es_topic_set *cur; /* NULL until the first load succeeded */
    char version[32];
    long long refresh_ms;
    long long next_check_ms; /* monotonic */
    es_engine engine_default;
    long long loads;
} es_topics;

void es_topics_init(es_topics *t, es_redis *r, long long refresh_ms,
                    es_engine engine_default);
void es_topics_cleanup(es_topics *t);

/*
 * Reloads when due and es:{topics}:version moved (force: check now).
 * Returns 1 when a new set was loaded, 0 when unchanged, -1 when loading
 * failed (the previous set stays in use).
 */
int es_topics_refresh(es_topics *t, int force);

/*
 * Whether a reload is due and es:{topics}:version moved (or no set is
 * loaded): 1 then (es_topics_refresh(t, 1) loads it), else 0 (also when
 * Redis could not be asked). Lets the worker keep its writes in flight
 * across checks that find nothing new.
 */
int es_topics_stale(es_topics *t);

/*
 * The same check made now, whatever the interval: one GET. The worker asks
 * before every batch it matches, after the batch was read, so a topic whose
 * creation was answered before its comments entered the stream counts
 * every one of them (the API bumps the version before it answers).
 */
int es_topics_moved(es_topics *t);

/* Frees a topic set. */
void es_topic_set_free(es_topic_set *s);

/*
 * Tenants having a topic on subreddit sub (or on "all"), for deletions:
 * writes their indexes (ascending) into out, returns how many. out must
 * hold s->ntenants entries; mark is scratch of the same size.
 */
size_t es_topic_set_tenants_for(const es_topic_set *s, const char *sub,
                                uint32_t *out, unsigned char *mark);

/*
 * Builds a set from already-fetched replies (exposed for the tests): ids
 * are the tenant ids, topics[i] and meta[i] their HGETALL replies.
 */
es_topic_set *es_topic_set_build(const char *const *ids, size_t n,
                                 const redisReply *const *topics,
                                 const redisReply *const *meta,
                                 es_engine engine_default);

#endif
