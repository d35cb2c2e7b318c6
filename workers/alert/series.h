/*
 * series.h - what a rule's evaluation reads from Redis: the minute and
 * hour buckets of its topic's series, and the records of the window's
 * comments that become an alert's samples.
 *
 * Buckets are read with one HMGET per bucket key (an hour of minutes, a
 * day of hours), all of a rule in one pipeline, fields by name
 * ("MM:n", "MM:neg", "MM:cs"; docs/redis-keys.md): a window of an hour
 * is two round trips' worth of data in one. A field or key that does
 * not exist is a bucket with no comments, as enrich leaves it. Keys are
 * built from the key table (es_keys.h) with the tenant's prefix.
 */
#ifndef ES_ALERT_SERIES_H
#define ES_ALERT_SERIES_H

#include <stddef.h>

#include "es_redis.h"
#include "spike.h"

/*
 * Fills win[0..sp->nminutes) and hours[0..sp->nhours) with topic's
 * buckets of span sp, tenant prefix prefix[0..plen). 0, or -1 (Redis
 * failed or the worker is stopping; logged).
 */
int es_alert_series_load(es_redis *r, const char *prefix, size_t plen,
                         const char *topic, const es_spike_span *sp,
                         es_bucket *win, es_bucket *hours);

/*
 * The comment records of the window [from_ms, to_ms] of topic's recent
 * comments (of label "negative" when negative is set), newest first, at
 * most max: the reply of es_records (lib/redis/read.lua; free with
 * freeReplyObject), whose elements are the record texts or nil; NULL when
 * there are none or Redis failed.
 */
redisReply *es_alert_sample_records(es_redis *r, const char *prefix,
                                    size_t plen, const char *topic,
                                    int negative, long long from_ms,
                                    long long to_ms, size_t max);

#endif
