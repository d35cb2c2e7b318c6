/*
 * es_metrics.h - a worker process's counters, gauges and histograms.
 *
 * A worker counts what it does (es_metrics_add), sets what it sees
 * (es_metrics_set) and times its batches (es_metrics_observe_ms) under
 * Prometheus family names ("echostream_enrich_comments_total"); the
 * heartbeat (es_heartbeat.c) publishes the lot in es:workers, and the nginx
 * module's /metrics renders it (docs/workers.md, "Metrics"; docs/module.md).
 * The registry is one per process, because a family belongs to the process, not
 * to one loop: any thread may update it (a mutex guards it; updates happen per
 * batch or per request, never per byte, so the lock costs nothing measurable).
 *
 * Counters only grow while the process lives; a restart starts them at
 * zero again, which Prometheus's rate() handles. Histogram bounds are the
 * fixed list of es_metrics_buckets.h.
 */
#ifndef ES_METRICS_H
#define ES_METRICS_H

#include <jansson.h>

#include "es_metrics_buckets.h"

/* families per process; more are dropped with a log line */
#define ES_METRICS_MAX 48

/* Adds v (>= 0) to counter name, creating it at zero first. */
void es_metrics_add(const char *name, double v);

/* Sets gauge name to v. */
void es_metrics_set(const char *name, double v);

/* Counts one observation of ms milliseconds into histogram name. */
void es_metrics_observe_ms(const char *name, double ms);

/*
 * Makes the families exist (at zero) before their first event, so a
 * scrape shows them from the first heartbeat. names ends with NULL; a name
 * ending in "_seconds" is a histogram, in "_total" a counter, else a gauge.
 */
void es_metrics_declare(const char *const *names);

/*
 * The registry as JSON (new reference, NULL without memory):
 *   {"counters":{name:v,…},"gauges":{name:v,…},
 *    "histograms":{name:{"buckets":[n0,…,n13],"sum_ms":s},…}}
 * buckets holds the count of each bucket alone (not cumulative), the last
 * one +Inf; the reader adds them up.
 */
json_t *es_metrics_json(void);

/* Forgets every family (tests). */
void es_metrics_reset(void);

#endif
