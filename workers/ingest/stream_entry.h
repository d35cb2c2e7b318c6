/*
 * stream_entry.h - a comment as the fields of its stream entry.
 *
 * The one place that decides what the stream entry of a comment holds
 * (docs/redis-keys.md): the id in canonical base-36, the subreddit in
 * lower case, text cut at a character boundary to its cap and with invalid
 * UTF-8 replaced by U+FFFD, the time with three decimals; a comment that
 * comes back "[deleted]" or "[removed]" carries only id, subreddit, its
 * creation time when the source gives one (> 0) and source (its entry
 * becomes a deletion event). Both ways into the stream
 * build entries here, the sink (es_ingest_add, for the poller and
 * --synthetic) and the backfill's bulk writer, so the two cannot differ.
 */
#ifndef ES_INGEST_STREAM_ENTRY_H
#define ES_INGEST_STREAM_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "es_comment.h"

#define ES_ENTRY_MAX_FIELDS 10
#define ES_ENTRY_BODY_MAX   (64 * 1024)
#define ES_ENTRY_FIELD_MAX  1024

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t len;
} es_entry_field;

/*
 * One entry: the fields after "type", in the order the stream holds them.
 * Values point into the comment (when it needed no repair) or into the
 * entry itself: valid until the next build or the comment's buffer
 * changes. Zero-initialize once; es_entry_cleanup frees the scratch space.
 */
typedef struct {
    uint64_t id_num;
    int deleted; /* a deletion event: type "delete" */
    int nfields;
    es_entry_field f[ES_ENTRY_MAX_FIELDS];
    char id[16];
    char sub[24];
    char created[64]; /* as "%.3f" prints it, cut to 63 bytes */
    char score[24];
    char *scratch; /* repaired text */
    size_t scratch_cap;
} es_entry;

/*
 * Builds the entry of c. Returns NULL, or why c cannot enter the stream
 * ("invalid comment id", "invalid subreddit name", "out of memory").
 */
const char *es_entry_build(es_entry *e, const es_comment *c);

void es_entry_cleanup(es_entry *e);

#endif
