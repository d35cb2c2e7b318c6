/*
 * batch.h - one batch of the enrich worker, from stream entries to
 * acknowledgements (the steps are listed in main.c), and the worker state
 * it works on.
 *
 * The per-batch arrays are kept in the worker and grown as needed, so a
 * batch allocates nothing in the common case.
 */
#ifndef ES_ENRICH_BATCH_H
#define ES_ENRICH_BATCH_H

#include <hiredis.h>

#include "aggregate.h"
#include "archive.h"
#include "consume.h"
#include "entry.h"
#include "es_aws_creds.h"
#include "es_heartbeat.h"
#include "es_s3.h"
#include "es_scorer.h"
#include "es_vader.h"
#include "es_worker.h"
#include "score.h"
#include "terms.h"
#include "topics.h"

#define MATCH_MAX 4096 /* topics one comment can match in one batch */

typedef struct {
    es_worker w;
    es_redis *r;
    es_heartbeat hb;
    es_consumer c;
    es_topics topics;
    es_aggregate agg;
    es_archive lake;
    es_vader *vader;
    es_scorer *scorer;
    es_s3 *s3;
    es_aws_chain_opts creds;
    int lake_enabled;
    long long max_deliveries;
    long long price_micros;
    long long heartbeat_ms;

    /* per-batch scratch, grown as needed */
    size_t cap;
    es_enrich_entry *entries;
    char (*errors)[ES_ENRICH_ERR_MAX];
    unsigned char *state;
    long long *deliveries;
    const char **ids;
    es_terms *terms;
    es_entry_score *scores;
    es_enrich_pair *pairs;
    size_t pcap;
    size_t tcap;
    long long *remaining, *units, *micros;
    uint32_t *tenant_list;
    unsigned char *mark;
    uint32_t handles[MATCH_MAX];
    es_terms_scratch tscratch;

    /* counters for the heartbeat */
    long long read, comments, deletions, matched, acked, failed;
} es_enrich;

enum { ST_OK = 0, ST_BAD, ST_GONE, ST_DONE };

/*
 * Processes the entries of one read (list: the [id, fields] entries;
 * redelivered: they came from a pending list). Returns 0 when the batch
 * was settled (written and acknowledged, failures left pending or
 * dead-lettered), -1 when it could not be finished: nothing of it was
 * acknowledged, so it is retried after enrich.claim_idle_ms.
 */
int es_enrich_process(es_enrich *x, const redisReply *list, int redelivered);

/* Frees the per-batch arrays. */
void es_enrich_batch_free(es_enrich *x);

#endif
