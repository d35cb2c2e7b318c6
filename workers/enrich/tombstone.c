/*
 * tombstone.c - the public tombstones of a batch's deletions (see
 * tombstone.h).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argbuf.h"
#include "es_log.h"
#include "tombstone.h"

/* marks the entries given an "X" in the call (seen) as failed with err */
static void fail_all(const es_aggregate_job *j, const unsigned char *seen,
                     size_t nent, const char *err)
{
    for (size_t k = 0; k < nent; k++) {
        if (seen[k]) {
            snprintf(j->errors[k], ES_ENRICH_ERR_MAX, "%s", err);
        }
    }
}

int es_tombstone_public(es_redis *r, const es_aggregate_job *j)
{
    const es_stored_set *st = &j->stored;
    unsigned char *seen; /* per entry: given its "X" already */
    size_t n = 0, nent;
    es_argbuf b;
    es_redis_cmdv cmd;
    redisReply *rep = NULL;
    int rc = 0;

    if (st->hour == NULL || st->npairs == 0) {
        return 0;
    }
    nent = es_aggregate_job_entries(j);
    if ((seen = calloc(nent + 1, 1)) == NULL) {
        return -1; /* nothing sent: the entries stay as they are */
    }
    es_argbuf_init(&b);
    es_argbuf_ref(&b, "FCALL", 5);
    es_argbuf_ref(&b, "es_enrich_public", 16);
    es_argbuf_ref(&b, "0", 1);
    for (size_t i = 0; i < j->npairs && i < st->npairs; i++) {
        uint32_t en = j->pairs[i].entry;

        if (j->pairs[i].topic != ES_PAIR_DELETE || st->hour[i][0] == '\0' ||
            j->errors[en][0] != '\0' || seen[en]) {
            continue;
        }
        seen[en] = 1;
        n++;
        es_argbuf_ref(&b, "X", 1);
        es_argbuf_str(&b, st->hour[i]);
        es_argbuf_str(&b, j->entries[en].id);
    }
    if (n == 0) {
        goto done;
    }
    if (es_argbuf_finish(&b) != 0) {
        fail_all(j, seen, nent, "out of memory");
        rc = -1;
        goto done;
    }
    cmd.argc = (int)es_argbuf_count(&b);
    cmd.argv = b.argv;
    cmd.lens = b.lens;
    if (es_redis_pipeline(r, &cmd, 1, &rep) != 0) {
        fail_all(j, seen, nent,
                 "public tombstones not written: redis unreachable");
        rc = -1;
    } else if (rep->type != REDIS_REPLY_INTEGER) {
        const char *err =
            rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply";
        es_log(ES_ERROR, "public tombstones not written", ES_STR("error", err),
               ES_END);
        fail_all(j, seen, nent, err);
        rc = -1;
    }
done:
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    es_argbuf_free(&b);
    free(seen);
    return rc;
}
