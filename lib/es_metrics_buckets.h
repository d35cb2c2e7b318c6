/*
 * es_metrics_buckets.h - the bucket bounds of every worker histogram.
 *
 * Workers count observations into these buckets (workers/common/
 * es_metrics.c) and publish the counts in their heartbeat; the nginx module
 * renders them as Prometheus "_bucket{le=…}" lines. Both sides include this
 * one list, so a heartbeat's array of counts always means the same bounds.
 * One fixed list for all histograms keeps the heartbeat small and the
 * dashboards uniform: 5 ms to 2 min covers a Redis write and a Reddit
 * listing as well as a Bedrock call. Bounds in milliseconds, ascending; an
 * implicit last bucket is +Inf.
 */
#ifndef ES_METRICS_BUCKETS_H
#define ES_METRICS_BUCKETS_H

#define ES_METRICS_BUCKETS_MS                                                  \
    {                                                                          \
        5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 120000   \
    }

/* the bounds above plus +Inf */
#define ES_METRICS_NBUCKETS 14

#endif
