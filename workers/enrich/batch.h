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

#include <pthread.h>

#include <hiredis.h>

#include "aggregate.h"
#include "archive.h"
#include "deadletter.h"
#include "es_consumer.h"
#include "entry.h"
#include "es_aws_creds.h"
#include "es_heartbeat.h"
#include "es_s3.h"
#include "es_scorer.h"
#include "es_vader.h"
#include "es_worker.h"
#include "score.h"
#include "es_terms.h"
#include "topics.h"

#define MATCH_MAX 4096 /* topics one comment can match in one batch */

/*
 * The arrays of one batch, kept from its read to its acknowledgement: the
 * write calls borrow the entries (and so the reply they point into).
 */
typedef struct {
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
    size_t np;         /* pairs */
    long long now_s;   /* the batch's time, for its calls */
    int deferred;      /* holds deletions: built after the writes before */
    size_t n;          /* entries */
    redisReply *reply; /* the read the entries point into (owned) */
    es_aggregate_job job;
    /* the raw archive of the batch, written on a thread of its own while
       the batch is matched, scored and written (joined before its
       acknowledgement, which must follow it) */
    es_archive *lake;
    es_enrich_entry *arch_v; /* the valid entries */
    size_t arch_k, arch_cap;
    const char *arch_first, *arch_last;
    pthread_t arch_thread;
    int arch_running; /* the thread runs (join before reading arch_rc) */
    int arch_rc;      /* 0: durable (or nothing to archive) */
} es_batch;

typedef struct {
    es_worker w;
    es_redis *r;  /* reads, acknowledgements, everything but the writes */
    es_redis *wr; /* the writes (es_aggregate, on the writer thread) */
    es_redis *rr; /* the reads (x->rd; ahead on the reader thread) */
    es_heartbeat hb;
    es_consumer c;  /* acknowledgements, delivery counts, dead letters */
    es_consumer rd; /* reads, on a connection of their own (batch.c) */
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
    long long prune_idle_ms; /* worker.consumer_prune_ms */

    /* two batches: one being prepared (b), and one whose writes are built
       and wait for the next read (ready) or are in flight on the writer
       thread (fly); NULL when none */
    es_batch bufs[2];
    es_batch *b;
    es_batch *ready;
    es_batch *fly;
    pthread_t writer, reader;
    int fly_thread;   /* writer runs fly's writes (join before using it) */
    int read_thread;  /* reader reads ahead into next (join first) */
    redisReply *next; /* a read made ahead, during the writes */
    int drained;      /* that read found nothing new */
    const redisReply *next_list;
    int next_redelivered;
    const es_topic_set *fly_ts; /* the topic set ready/fly was built with */
    long long *fly_micros;      /* per tenant: its Comprehend charges */

    /* per-batch scratch, grown as needed */
    size_t tcap;
    long long *remaining, *units, *micros;
    uint32_t *tenant_list;
    unsigned char *mark;
    uint32_t handles[MATCH_MAX];
    es_terms_scratch tscratch;

    /* counters for the heartbeat */
    long long read, comments, deletions, matched, acked, failed;
    long long dead_lettered;
} es_enrich;

enum { ST_OK = 0, ST_BAD, ST_GONE, ST_DONE };

/* Sets up the two batches (x->b, no writes in flight). */
void es_enrich_batch_init(es_enrich *x);

/*
 * Processes the entries of one read (rep: the reply, owned from here on;
 * list: its [id, fields] entries; redelivered: they came from a pending
 * list). First the previous batch's writes, built and waiting, go to the
 * writer thread, while the reader thread reads the next batch
 * (es_enrich_read returns it); this batch is parsed, matched and scored
 * (its archive written on a thread of its own) while Redis works on them; then
 * they are waited for and their batch settled, and this batch's writes are
 * built and left waiting for the next read (or es_enrich_flush). Writes thus
 * reach Redis in batch order, each batch after the previous one was settled.
 * Returns 0, or -1 when this batch or the previous one could not be finished:
 * nothing of that one was acknowledged, so it is retried after
 * enrich.claim_idle_ms.
 */
int es_enrich_process(es_enrich *x, redisReply *rep, const redisReply *list,
                      int redelivered);

/*
 * The next read: the one the reader thread made during the writes, or a
 * read now (when that one found nothing, after settling the batch built
 * meanwhile). Arguments and result as es_consumer_read.
 */
redisReply *es_enrich_read(es_enrich *x, const redisReply **list,
                           int *redelivered);

/*
 * Sends the waiting writes, if any, waits for them and settles their batch
 * (acknowledges what was written; failures stay pending or are
 * dead-lettered). Called when no entries came, before the topic set is
 * reloaded (the writes borrow it) and at exit. 0, or -1 when the batch
 * could not be finished.
 */
int es_enrich_flush(es_enrich *x);

/*
 * Starts archiving the valid entries of x->b (n entries, stream ids first
 * to last) on a thread (inline when none can be started; batch_lake.c).
 * 0, or -1 out of memory.
 */
int es_batch_archive_start(es_enrich *x, size_t n, const char *first,
                           const char *last);

/*
 * Waits for batch b's archive; 0 when its files are durable (or it had
 * nothing to archive). Its entries must stay valid until this returned.
 */
int es_batch_archive_join(es_batch *b);

/* Frees the per-batch arrays (after es_enrich_flush). */
void es_enrich_batch_free(es_enrich *x);

#endif
