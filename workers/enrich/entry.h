/*
 * entry.h - one stream entry as the enrich worker sees it.
 *
 * Entries are parsed in place: every string points into the hiredis reply
 * of the read, so a batch costs no copies; the reply must outlive its
 * entries. Parsing also validates what later becomes part of a key (the
 * comment id, the subreddit) and derives the UTC time buckets of the
 * series, so a malformed entry fails here with a reason, before any write.
 */
#ifndef ES_ENRICH_ENTRY_H
#define ES_ENRICH_ENTRY_H

#include <stddef.h>

#include <hiredis.h>

#include "es_comment.h"

typedef struct {
    const char *stream_id;    /* borrowed from the reply */
    const redisReply *fields; /* [f, v, f, v, …] array, borrowed */
    int is_delete;
    char id[16];        /* canonical base-36 comment id */
    char subreddit[24]; /* lower-case */
    es_strv author, body, permalink, link_title, score;
    long long created_ms;  /* -1: a deletion without its comment's time */
    char t[48];            /* UTC YYYYMMDDHHMM of created */
    long long month_start; /* UTC epoch seconds of its month's first day */
    char day[48];          /* archive partition YYYY-MM-DD */
    char hour[4];          /* archive partition HH */
} es_enrich_entry;

/*
 * Parses one XREADGROUP/XAUTOCLAIM entry [id, [fields]]. Returns 0, or -1
 * with a reason in err (missing or invalid id, subreddit or created_utc,
 * unknown type, a reply that is not an entry). A deletion takes its archive
 * partition from the stream id's time, as it has no created_utc.
 */
int es_enrich_entry_parse(const redisReply *e, es_enrich_entry *out, char *err,
                          size_t errlen);

/*
 * Fills t, month_start, day and hour from a time in epoch milliseconds
 * (UTC). Exposed for the tests.
 */
void es_enrich_entry_set_time(es_enrich_entry *e, long long ms);

#endif
