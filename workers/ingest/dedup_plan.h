/*
 * dedup_plan.h - the exactly-once rules of es_ingest_add, applied by the
 * worker to a whole batch of comments at once (the backfill's bulk path).
 *
 * Every comment id has a bit in a "seen" and one in a "gone" bitmap chunk
 * (docs/redis-keys.md: chunk id >> 20, bit id mod 2^20, most significant
 * bit of a byte first, as SETBIT numbers them). For a batch, the plan
 * lists the byte ranges of the chunks that hold the batch's bits: the
 * batch's ids sorted, with ranges merged across gaps of up to
 * ES_DPLAN_GAP bytes, so a batch of consecutive ids costs one range of
 * about n / 8 bytes and scattered ids cost a few bytes each, never a
 * whole chunk. Given those bytes as Redis holds them, the plan decides
 * each comment in batch order exactly as es_ingest_add does:
 *   - not deleted: appended when its seen bit is 0 (ES_DPLAN_ADD), else
 *     a duplicate; the seen bit is set;
 *   - deleted ("[deleted]"/"[removed]"): a deletion event when its seen
 *     bit is 1 and its gone bit 0 (ES_DPLAN_DELETE); both bits are set;
 * and leaves the bytes to store. A repeated id within the batch sees the
 * bits its earlier copy set. Nothing here talks to Redis (unit-tested).
 */
#ifndef ES_INGEST_DEDUP_PLAN_H
#define ES_INGEST_DEDUP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "xadd_batch.h"

/* Gaps of up to this many bytes between a chunk's bits are read too. */
#define ES_DPLAN_GAP 64

enum { ES_DPLAN_DUPLICATE = 0, ES_DPLAN_ADD = 1, ES_DPLAN_DELETE = 2 };

typedef struct {
    uint64_t chunk;
    int gone;       /* 1: the chunk's gone bitmap, 0: its seen bitmap */
    uint32_t first; /* first byte of the range within the chunk */
    uint32_t count; /* bytes */
    size_t at;      /* where the range's bytes start in old and now */
} es_drange;

typedef struct {
    int nranges;
    es_drange *ranges;      /* seen ranges (by chunk), then gone ranges */
    unsigned char *old;     /* the ranges' bytes as Redis holds them */
    unsigned char *now;     /* the same after the batch (es_dplan_decide) */
    unsigned char *outcome; /* per comment: ES_DPLAN_* */
    /* private */
    int *seen_at, *gone_at;
    void *sorted;
    int rcap, icap;
    size_t bytes, bcap;
} es_dplan;

/*
 * The ranges of the batch's bits; their old bytes start as zeros. 0, or
 * -1 when memory runs out.
 */
int es_dplan_ranges(es_dplan *p, const es_xitem *items, int n);

/*
 * The bytes Redis holds for range i (GETRANGE's answer: shorter than the
 * range when the chunk ends earlier; the rest stays zero).
 */
void es_dplan_set_old(es_dplan *p, int i, const char *bytes, size_t len);

/*
 * Whether range i's old bytes are what Redis answered (bytes, as for
 * es_dplan_set_old: zero past len). 1 or 0.
 */
int es_dplan_old_is(const es_dplan *p, int i, const char *bytes, size_t len);

/*
 * A guess at the old bytes before Redis answers (the backfill's writer
 * sends a batch's appends ahead on it): zeros, except where the ranges
 * overlap those of prev (the batch committed just before, NULL for none),
 * which hold prev's now. Right whenever every chunk byte of the batch is
 * new apart from what prev set, as in a first backfill of a dump.
 */
void es_dplan_guess(es_dplan *p, const es_dplan *prev);

/*
 * Decides every comment (outcome) and computes now. Returns how many
 * entries the batch appends.
 */
int es_dplan_decide(es_dplan *p, const es_xitem *items, int n);

void es_dplan_free(es_dplan *p);

#endif
