/*
 * es_heartbeat.h - liveness reports of the workers, read by /healthz.
 *
 * Each running worker instance keeps one field of the ES_KEY_WORKERS hash,
 * "<worker>:<instance>", holding a JSON object:
 *   {"worker":"ingest","instance":"host-123","pid":123,"started_ms":…,
 *    "beat_ms":…,"interval_ms":2000,"status":{…worker specific…},
 *    "metrics":{…es_metrics_json()…}}
 * A reader calls an instance alive while beat_ms is younger than three
 * intervals. A clean exit removes the field; a crashed worker's field goes
 * stale and is pruned by the next worker start after an hour.
 */
#ifndef ES_HEARTBEAT_H
#define ES_HEARTBEAT_H

#include <jansson.h>

#include "es_redis.h"
#include "es_worker.h"

typedef struct {
    es_worker *w;
    es_redis *r;
    long long interval_ms;
    long long last_ms; /* monotonic time of the last report */
} es_heartbeat;

/* Prunes stale fields of crashed instances and reports once. */
void es_heartbeat_start(es_heartbeat *hb, es_worker *w, es_redis *r,
                        long long interval_ms, json_t *status);

/*
 * Reports if an interval has passed since the last report. status (may be
 * NULL) is borrowed. Never blocks longer than one Redis round trip.
 */
void es_heartbeat_tick(es_heartbeat *hb, json_t *status);

/* Reports at once regardless of the interval. */
void es_heartbeat_now(es_heartbeat *hb, json_t *status);

/* Removes this instance's field (clean exit). */
void es_heartbeat_stop(es_heartbeat *hb);

#endif
