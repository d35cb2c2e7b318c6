/*
 * batch.h - SQS messages made from stream entries, and batches of them.
 *
 * One stream entry becomes one SQS message whose body is a JSON object of
 * every field of the entry, all strings, plus the entry's stream id:
 *
 *   {"type":"comment","id":"k2x9q1","subreddit":"rust",…,
 *    "stream_id":"1732540000000-0"}
 *
 * and, only when the entry was too large for SQS, "truncated":true. A
 * message body is at most 256 KB, so an over-size entry has its longest
 * field value (in practice the comment body) cut at a UTF-8 character
 * boundary until the JSON fits: the entry is shortened and marked, never
 * dropped. Text is made valid UTF-8 (invalid bytes become U+FFFD) and the
 * two characters SQS refuses in a body that JSON does not escape (U+FFFE,
 * U+FFFF) become U+FFFD too, so SQS never rejects a body for its contents.
 *
 * A SendMessageBatch carries at most 10 messages and 256 KB of bodies in
 * total; es_mirror_batch_take picks the longest prefix that fits.
 */
#ifndef ES_MIRROR_BATCH_H
#define ES_MIRROR_BATCH_H

#include <stddef.h>

#define ES_SQS_MAX_ENTRIES 10
#define ES_SQS_MAX_BYTES   262144

typedef struct {
    char id[48]; /* stream id, also the batch entry Id */
    char *body;  /* message body, owned (free with es_mirror_msg_free) */
    size_t body_len;
    int truncated;     /* the body was cut to fit */
    int failures;      /* sends of this message that did not succeed */
    int sender_faults; /* of which SQS blamed the message (SenderFault) */
} es_mirror_msg;

/*
 * Builds the message body of one stream entry. fv holds nfv strings
 * alternating field name and value, with their lengths in fvlen (nfv even).
 * The body is at most max_bytes long (see above). Returns a new
 * NUL-terminated string (caller frees) with its length in *len and whether
 * it was cut in *truncated, or NULL when out of memory or when even empty
 * values do not fit in max_bytes.
 */
char *es_mirror_body(const char *stream_id, const char *const *fv,
                     const size_t *fvlen, size_t nfv, size_t max_bytes,
                     size_t *len, int *truncated);

/*
 * How many messages from the start of msgs[0..n) form one batch: at most
 * ES_SQS_MAX_ENTRIES and at most max_bytes of bodies together, but always
 * at least one when n > 0 (a single body never exceeds the limit).
 */
size_t es_mirror_batch_take(const es_mirror_msg *msgs, size_t n,
                            size_t max_bytes);

/* Frees the body and clears the message. */
void es_mirror_msg_free(es_mirror_msg *m);

#endif
