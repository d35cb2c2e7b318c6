/*
 * ngx_http_echostream_metrics_heartbeats.c - the workers' own metrics in
 * /metrics, read from their heartbeats.
 *
 * Each worker process keeps its counters, gauges and histograms
 * (workers/common/es_metrics.c) and publishes them in its heartbeat, the
 * field "<worker>:<instance>" of es:workers, every worker.heartbeat
 * seconds. A scrape reads the hash (ngx_http_echostream_metrics_redis.c)
 * and renders every family of the fixed table below with the labels
 * worker="…" and instance="…": HELP and TYPE always, a sample for each
 * live instance that reports the family. The table, not the heartbeat,
 * decides what is printed, so a heartbeat cannot add families, change a
 * type, or smuggle text into the exposition (label values are escaped and
 * bounded). Instances whose beat is older than three intervals are left
 * out: their process is gone, and Prometheus expects a gone target's
 * series to vanish. The numbers are as old as the last heartbeat, at most
 * one interval.
 */

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <math.h>
#include <stdio.h>

#include <jansson.h>

#include "es_metrics_buckets.h"
#include "core/ngx_http_echostream_metrics.h"

typedef enum {
    NGX_HTTP_ECHOSTREAM_MF_COUNTER,
    NGX_HTTP_ECHOSTREAM_MF_GAUGE,
    NGX_HTTP_ECHOSTREAM_MF_HISTOGRAM
} ngx_http_echostream_mf_type_e;

typedef struct {
    const char *name;
    ngx_http_echostream_mf_type_e type;
    const char *help;
} ngx_http_echostream_mf_t;

/* every worker family; docs/module.md lists the same */
static const ngx_http_echostream_mf_t ngx_http_echostream_mfs[] = {
    {"echostream_ingest_comments_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Comments ingest added to the stream."},
    {"echostream_ingest_duplicates_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Comments ingest found already streamed."},
    {"echostream_ingest_poll_duration_seconds",
     NGX_HTTP_ECHOSTREAM_MF_HISTOGRAM,
     "Time of one poll of a subreddit or group, pacing waits included."},
    {"echostream_reddit_requests_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Reddit API requests sent (the rate budget used)."},
    {"echostream_reddit_ratelimited_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Reddit answers with HTTP 429."},
    {"echostream_reddit_ratelimit_remaining", NGX_HTTP_ECHOSTREAM_MF_GAUGE,
     "Requests left in Reddit's rate window (x-ratelimit-remaining)."},
    {"echostream_reddit_ratelimit_used", NGX_HTTP_ECHOSTREAM_MF_GAUGE,
     "Requests used in Reddit's rate window (x-ratelimit-used)."},
    {"echostream_reddit_budget_qpm", NGX_HTTP_ECHOSTREAM_MF_GAUGE,
     "Requests per minute ingest may send (reddit.qpm)."},
    {"echostream_reddit_required_qpm", NGX_HTTP_ECHOSTREAM_MF_GAUGE,
     "Requests per minute the watched subreddits need."},
    {"echostream_enrich_entries_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Stream entries enrich read (comments, deletions, redeliveries)."},
    {"echostream_enrich_comments_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Comments enrich processed."},
    {"echostream_enrich_failed_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Entries enrich could not process (left pending or dead-lettered)."},
    {"echostream_enrich_dead_letters_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Entries enrich moved to the dead-letter stream."},
    {"echostream_enrich_batch_duration_seconds",
     NGX_HTTP_ECHOSTREAM_MF_HISTOGRAM,
     "Time enrich spends on one batch (parse, match, score, archive)."},
    {"echostream_comprehend_calls_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Comprehend BatchDetectSentiment calls."},
    {"echostream_comprehend_failures_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Comprehend calls that failed as a whole."},
    {"echostream_comprehend_units_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Comprehend billing units (100 characters, at least 3 a text)."},
    {"echostream_comprehend_spend_usd_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Comprehend spend in US dollars, at the configured price."},
    {"echostream_sqs_messages_sent_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Messages SQS accepted from the mirror."},
    {"echostream_sqs_messages_failed_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Messages the mirror could not send (each attempt)."},
    {"echostream_sqs_batches_failed_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "SendMessageBatch requests that failed as a whole."},
    {"echostream_mirror_send_duration_seconds",
     NGX_HTTP_ECHOSTREAM_MF_HISTOGRAM, "Time of one SendMessageBatch."},
    {"echostream_summaries_done_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Summaries written."},
    {"echostream_summaries_failed_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Summary requests that failed."},
    {"echostream_bedrock_calls_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Bedrock Converse calls."},
    {"echostream_bedrock_failures_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Bedrock calls that gave no summary."},
    {"echostream_bedrock_input_tokens_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Bedrock input tokens billed."},
    {"echostream_bedrock_output_tokens_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Bedrock output tokens billed."},
    {"echostream_bedrock_spend_usd_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Bedrock spend in US dollars, at the configured prices."},
    {"echostream_alerts_detected_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Alerts fired."},
    {"echostream_alerts_delivered_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Alert deliveries (mail, webhook) that ended sent."},
    {"echostream_alerts_delivery_failed_total", NGX_HTTP_ECHOSTREAM_MF_COUNTER,
     "Alert deliveries that ended failed."},
};

#define NGX_HTTP_ECHOSTREAM_NMFS                                               \
    (sizeof(ngx_http_echostream_mfs) / sizeof(ngx_http_echostream_mfs[0]))

/* a label value is cut to this many bytes before escaping */
#define NGX_HTTP_ECHOSTREAM_LABEL_MAX 100
/* the longest sample line: name, two escaped labels, le, a value */
#define NGX_HTTP_ECHOSTREAM_LINE_MAX 512

/* one live instance: its labels, escaped, and its "metrics" object */
typedef struct {
    u_char worker[2 * NGX_HTTP_ECHOSTREAM_LABEL_MAX + 1];
    u_char instance[2 * NGX_HTTP_ECHOSTREAM_LABEL_MAX + 1];
    double age_s;
    json_t *hb; /* owns metrics */
    json_t *metrics;
} ngx_http_echostream_inst_t;

static void ngx_http_echostream_escape(u_char *dst, const char *src)
{
    size_t i;

    for (i = 0; src[i] != '\0' && i < NGX_HTTP_ECHOSTREAM_LABEL_MAX; i++) {
        if (src[i] == '\\' || src[i] == '"') {
            *dst++ = '\\';
            *dst++ = (u_char)src[i];
        } else if (src[i] == '\n') {
            *dst++ = '\\';
            *dst++ = 'n';
        } else {
            *dst++ = (u_char)src[i];
        }
    }
    *dst = '\0';
}

/* A sample value in Prometheus's float form. */
static u_char *ngx_http_echostream_value(u_char *p, u_char *end, double v)
{
    char num[40];

    if (isnan(v)) {
        return ngx_slprintf(p, end, "NaN");
    }
    if (isinf(v)) {
        return ngx_slprintf(p, end, v > 0 ? "+Inf" : "-Inf");
    }
    snprintf(num, sizeof(num), "%.15g", v);
    return ngx_slprintf(p, end, "%s", num);
}

/*
 * Parses one heartbeat into inst; 0 when it is live and usable. A
 * malformed one is logged and skipped, as /healthz does.
 */
static ngx_int_t ngx_http_echostream_inst(ngx_http_request_t *r,
                                          redisReply *field, redisReply *value,
                                          long long now_ms,
                                          ngx_http_echostream_inst_t *in)
{
    json_t *hb, *wname, *inst, *beat, *interval;
    const char *instance;
    long long age;

    if (field->type != REDIS_REPLY_STRING ||
        value->type != REDIS_REPLY_STRING) {
        return NGX_DECLINED;
    }

    hb = json_loadb(value->str, value->len, 0, NULL);
    wname = json_object_get(hb, "worker");
    inst = json_object_get(hb, "instance");
    beat = json_object_get(hb, "beat_ms");
    interval = json_object_get(hb, "interval_ms");

    if (!json_is_string(wname) || json_string_length(wname) == 0 ||
        !json_is_integer(beat) || !json_is_integer(interval) ||
        json_integer_value(interval) <= 0) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "echostream metrics: skipping malformed heartbeat "
                      "\"%*s\"",
                      (size_t)ngx_min(field->len, 80), field->str);
        json_decref(hb);
        return NGX_DECLINED;
    }

    age = now_ms - (long long)json_integer_value(beat);
    if (age >= NGX_HTTP_ECHOSTREAM_ALIVE_INTERVALS *
                   (long long)json_integer_value(interval)) {
        json_decref(hb);
        return NGX_DECLINED;
    }

    instance = ngx_http_echostream_heartbeat_instance(
        field->str, field->len,
        json_is_string(inst) ? json_string_value(inst) : NULL);

    ngx_http_echostream_escape(in->worker, json_string_value(wname));
    ngx_http_echostream_escape(in->instance, instance);
    in->age_s = age < 0 ? 0 : (double)age / 1000;
    in->hb = hb;
    in->metrics = json_object_get(hb, "metrics");
    return NGX_OK;
}

static u_char *ngx_http_echostream_histogram(u_char *p, u_char *end,
                                             const char *name,
                                             ngx_http_echostream_inst_t *in,
                                             json_t *h)
{
    static const ngx_uint_t bounds[] = ES_METRICS_BUCKETS_MS;
    json_t *buckets = json_object_get(h, "buckets");
    double sum = json_number_value(json_object_get(h, "sum_ms"));
    json_int_t cum = 0;
    ngx_uint_t b;

    if (json_array_size(buckets) != ES_METRICS_NBUCKETS) {
        return p; /* from a worker with other bounds: not comparable */
    }

    for (b = 0; b < ES_METRICS_NBUCKETS; b++) {
        cum += json_integer_value(json_array_get(buckets, b));
        if (b + 1 < ES_METRICS_NBUCKETS) {
            p = ngx_slprintf(p, end,
                             "%s_bucket{worker=\"%s\",instance=\"%s\","
                             "le=\"%ui.%03ui\"} %L\n",
                             name, in->worker, in->instance, bounds[b] / 1000,
                             bounds[b] % 1000, (int64_t)cum);
        } else {
            p = ngx_slprintf(p, end,
                             "%s_bucket{worker=\"%s\",instance=\"%s\","
                             "le=\"+Inf\"} %L\n",
                             name, in->worker, in->instance, (int64_t)cum);
        }
    }

    p = ngx_slprintf(p, end, "%s_sum{worker=\"%s\",instance=\"%s\"} ", name,
                     in->worker, in->instance);
    p = ngx_http_echostream_value(p, end, sum / 1000);
    return ngx_slprintf(p, end,
                        "\n%s_count{worker=\"%s\",instance=\"%s\"} %L\n", name,
                        in->worker, in->instance, (int64_t)cum);
}

ngx_buf_t *ngx_http_echostream_metrics_heartbeats(ngx_http_request_t *r,
                                                  redisReply *all)
{
    static const char *kinds[] = {"counters", "gauges", "histograms"};
    static const char *types[] = {"counter", "gauge", "histogram"};
    ngx_http_echostream_inst_t *insts;
    const ngx_http_echostream_mf_t *mf;
    ngx_uint_t i, k, n;
    ngx_time_t *tp;
    long long now_ms;
    ngx_buf_t *buf;
    json_t *v;
    size_t size;
    u_char *p, *end;

    n = 0;
    insts = NULL;

    if (all != NULL && all->type == REDIS_REPLY_ARRAY && all->elements > 1) {
        insts = ngx_pcalloc(r->pool, all->elements / 2 * sizeof(*insts));
        if (insts == NULL) {
            return NULL;
        }

        tp = ngx_timeofday();
        now_ms = (long long)tp->sec * 1000 + (long long)tp->msec;

        for (i = 0; i + 1 < all->elements; i += 2) {
            if (ngx_http_echostream_inst(r, all->element[i],
                                         all->element[i + 1], now_ms,
                                         &insts[n]) == NGX_OK) {
                n++;
            }
        }
    }

    /* every instance may report every family; a histogram is 16 lines */
    size = 8192 + NGX_HTTP_ECHOSTREAM_NMFS * 256 +
           (n + 1) *
               (NGX_HTTP_ECHOSTREAM_NMFS * (ES_METRICS_NBUCKETS + 2) + 2) *
               NGX_HTTP_ECHOSTREAM_LINE_MAX;

    buf = ngx_create_temp_buf(r->pool, size);
    if (buf == NULL) {
        goto done;
    }

    p = buf->pos;
    end = buf->end;

    p = ngx_slprintf(p, end,
                     "# HELP echostream_worker_up 1 for each worker instance "
                     "whose heartbeat is current.\n"
                     "# TYPE echostream_worker_up gauge\n");
    for (k = 0; k < n; k++) {
        p = ngx_slprintf(p, end,
                         "echostream_worker_up{worker=\"%s\",instance=\"%s\"} "
                         "1\n",
                         insts[k].worker, insts[k].instance);
    }

    p = ngx_slprintf(p, end,
                     "# HELP echostream_worker_heartbeat_age_seconds Age of "
                     "each worker instance's last heartbeat, the age of its "
                     "numbers below.\n"
                     "# TYPE echostream_worker_heartbeat_age_seconds gauge\n");
    for (k = 0; k < n; k++) {
        p = ngx_slprintf(
            p, end,
            "echostream_worker_heartbeat_age_seconds{worker=\"%s\","
            "instance=\"%s\"} ",
            insts[k].worker, insts[k].instance);
        p = ngx_http_echostream_value(p, end, insts[k].age_s);
        p = ngx_slprintf(p, end, "\n");
    }

    for (i = 0; i < NGX_HTTP_ECHOSTREAM_NMFS; i++) {
        mf = &ngx_http_echostream_mfs[i];

        p = ngx_slprintf(p, end, "# HELP %s %s\n# TYPE %s %s\n", mf->name,
                         mf->help, mf->name, types[mf->type]);

        for (k = 0; k < n; k++) {
            v = json_object_get(
                json_object_get(insts[k].metrics, kinds[mf->type]), mf->name);
            if (v == NULL) {
                continue;
            }

            if (mf->type == NGX_HTTP_ECHOSTREAM_MF_HISTOGRAM) {
                p = ngx_http_echostream_histogram(p, end, mf->name, &insts[k],
                                                  v);
                continue;
            }

            if (!json_is_number(v)) {
                continue;
            }

            p = ngx_slprintf(p, end, "%s{worker=\"%s\",instance=\"%s\"} ",
                             mf->name, insts[k].worker, insts[k].instance);
            p = ngx_http_echostream_value(p, end, json_number_value(v));
            p = ngx_slprintf(p, end, "\n");
        }
    }

    buf->last = p;

done:

    for (k = 0; k < n; k++) {
        json_decref(insts[k].hb);
    }

    return buf;
}
