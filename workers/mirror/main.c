/*
 * main.c - echostream-mirror: copies the comment stream into an SQS queue.
 *
 * The mirror reads ES_KEY_STREAM through its own consumer group
 * (mirror.group) and sends every entry as one SQS message, with
 * SendMessageBatch (up to 10 messages, 256 KB). The message body is the
 * entry's fields as a JSON object of strings plus its stream id (details in
 * batch.h):
 *
 *   {"type":"comment","id":"k2x9q1","subreddit":"rust","author":"...",
 *    "body":"...","created_utc":"1732540000","permalink":"...",
 *    "link_id":"t3_...","link_title":"...","score":"3","source":"reddit",
 *    "stream_id":"1732540000000-0"}
 *
 * with "truncated":true added when an entry over 256 KB had to be cut. An
 * entry is acknowledged (XACK) only
 * after SQS accepted it and echoed the right MD5, so delivery is
 * at-least-once: a mirror killed between the send and the XACK leaves its
 * entries in the group's pending list, and a restarted (or any other)
 * mirror claims them once they have been idle mirror.claim_idle_ms and
 * sends them again. SQS may then hold a duplicate; consumers de-duplicate by
 * "stream_id". (With several mirrors in one group, entries that one of them
 * holds through a long SQS outage can also be claimed by another: again a
 * possible duplicate, never a loss.) Nothing is ever dropped silently: entries
 * SQS keeps refusing are logged and left pending, where the next claim sweep
 * finds them again.
 *
 * Failures of a whole request back off with full jitter; every retry spends
 * from a retry budget (mirror.retry_budget) that successes refill, and with
 * the budget spent the mirror waits the longest back-off
 * (mirror.backoff_cap_ms) between attempts instead of hammering a service
 * that is down. SIGTERM ends reading, sends the batch in hand once more
 * (unless the last attempt had just failed), acknowledges what SQS took and
 * exits 0.
 *
 * With mirror.queue_url empty the mirror stays idle: no consumer group is
 * created (a group nobody reads would hold back stream trimming), only the
 * heartbeat runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch.h"
#include "es_aws.h"
#include "es_aws_creds.h"
#include "es_backoff.h"
#include "es_consumer.h"
#include "es_heartbeat.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_redis.h"
#include "es_worker.h"
#include "sqs.h"

#define MIRROR_BLOCK_MS   1000
#define MIRROR_BACKOFF_MS 100

typedef struct {
    es_worker w;
    es_redis *r;
    es_heartbeat hb;
    es_aws_chain *chain;
    es_sqs *sqs;
    const char *queue_url;
    const char *group;
    long long batch_wait_ms;
    long long claim_idle_ms;
    long long backoff_cap_ms;
    long long sender_fault_retries;
    long long heartbeat_ms;
    long long prune_idle_ms; /* worker.consumer_prune_ms */

    es_mirror_msg hand[ES_SQS_MAX_ENTRIES];
    size_t nhand;
    long long first_ms; /* monotonic time the oldest message was taken */
    int flush;          /* send without waiting for a full batch */
    int last_failed;    /* the last send failed as a whole */

    es_consumer c; /* the group's reads and acknowledgements */

    long long sent;
    long long parked;
    char last_error[400];
    es_backoff bo;
    es_retry_budget budget;
} mirror;

static const char *const mirror_prefixes[] = {"mirror.", "aws.", "redis",
                                              "worker.", "log.", NULL};

static const es_worker_info mirror_info = {
    "mirror",
    NULL,
    "Copies every entry of the comment stream into an SQS queue "
    "(SendMessageBatch), at least once. Idle when mirror.queue_url is empty.",
    mirror_prefixes,
};

/* present at zero from the first heartbeat (es_metrics.h) */
static const char *const mirror_metrics[] = {
    "echostream_sqs_messages_sent_total",
    "echostream_sqs_messages_failed_total",
    "echostream_sqs_batches_failed_total",
    "echostream_mirror_send_duration_seconds", NULL};

static json_t *status_json(const mirror *m) /* new reference */
{
    size_t retrying = 0;

    for (size_t i = 0; i < m->nhand; i++) {
        retrying += m->hand[i].failures > 0;
    }
    return json_pack("{s:s, s:I, s:I, s:I, s:s, s:f}", "queue",
                     m->queue_url[0] ? "configured" : "none", "sent",
                     (json_int_t)m->sent, "failed_retrying",
                     (json_int_t)retrying, "parked", (json_int_t)m->parked,
                     "last_error", m->last_error, "budget", m->budget.tokens);
}

static void beat(mirror *m, int now)
{
    json_t *st = status_json(m);

    if (now) {
        es_heartbeat_now(&m->hb, st);
    } else {
        es_heartbeat_tick(&m->hb, st);
    }
    json_decref(st);
}

static void beat_start(mirror *m)
{
    json_t *st = status_json(m);

    es_heartbeat_start(&m->hb, &m->w, m->r, m->heartbeat_ms, st);
    json_decref(st);
}

static int idle(mirror *m)
{
    es_log(ES_INFO, "mirror idle",
           ES_STR("reason", "mirror.queue_url is "
                            "empty: nothing to mirror "
                            "to, no consumer group"),
           ES_END);
    beat_start(m);
    while (!es_stopping()) {
        es_worker_poll_reload(&m->w);
        beat(m, 0);
        es_sleep_ms(m->heartbeat_ms);
    }
    es_heartbeat_stop(&m->hb);
    return 0;
}

static int in_hand(const mirror *m, const char *id)
{
    for (size_t i = 0; i < m->nhand; i++) {
        if (strcmp(m->hand[i].id, id) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Takes one entry [id, [f, v, …]] into the hand. */
static void take_entry(mirror *m, const redisReply *e)
{
    const redisReply *id, *fields;
    const char *fv[256];
    size_t fvlen[256];
    size_t nfv = 0;
    es_mirror_msg *msg;

    if (e->type != REDIS_REPLY_ARRAY || e->elements < 2) {
        return;
    }
    id = e->element[0];
    fields = e->element[1];
    if (id->type != REDIS_REPLY_STRING || id->len >= sizeof(msg->id) ||
        in_hand(m, id->str) || m->nhand >= ES_SQS_MAX_ENTRIES) {
        return;
    }
    if (fields->type != REDIS_REPLY_ARRAY) {
        /* pending but trimmed from the stream: nothing left to mirror */
        const char *ids[1] = {id->str};
        es_log(ES_WARN, "pending entry no longer in the stream",
               ES_STR("stream_id", id->str), ES_END);
        es_consumer_ack(&m->c, ids, 1);
        return;
    }
    if (fields->elements > 256) {
        es_log(ES_WARN, "entry has more than 128 fields; extra ones not sent",
               ES_STR("stream_id", id->str),
               ES_INT("fields", fields->elements / 2), ES_END);
    }
    for (size_t i = 0; i + 1 < fields->elements && nfv + 2 <= 256; i += 2) {
        fv[nfv] = fields->element[i]->str;
        fvlen[nfv++] = fields->element[i]->len;
        fv[nfv] = fields->element[i + 1]->str;
        fvlen[nfv++] = fields->element[i + 1]->len;
    }
    msg = &m->hand[m->nhand];
    memset(msg, 0, sizeof(*msg));
    memcpy(msg->id, id->str, id->len + 1);
    msg->body = es_mirror_body(id->str, fv, fvlen, nfv, ES_SQS_MAX_BYTES,
                               &msg->body_len, &msg->truncated);
    if (msg->body == NULL) {
        /* stays pending; the next claim sweep offers it again */
        es_log(ES_ERROR, "cannot build message", ES_STR("stream_id", id->str),
               ES_END);
        return;
    }
    if (msg->truncated) {
        es_log(ES_WARN, "entry truncated to fit SQS",
               ES_STR("stream_id", msg->id), ES_INT("bytes", msg->body_len),
               ES_END);
    }
    if (m->nhand == 0) {
        m->first_ms = es_mono_ms();
    }
    m->nhand++;
}

static void take_entries(mirror *m, const redisReply *list)
{
    for (size_t i = 0;
         list && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        take_entry(m, list->element[i]);
    }
}

/*
 * One read into the hand (es_consumer.h: own pending list, a claim sweep,
 * or new entries), as many as the hand has room for, waiting for new ones
 * no longer than the batch being filled may wait.
 */
static void fill(mirror *m)
{
    long long now = es_mono_ms(), left;
    size_t before = m->nhand;
    const redisReply *list;
    int redelivered;
    redisReply *rep;

    m->c.batch = ES_SQS_MAX_ENTRIES - (long long)m->nhand;
    m->c.block_ms = MIRROR_BLOCK_MS;
    if (m->nhand > 0) {
        /* bounded by MIRROR_BLOCK_MS too, so SIGTERM is seen soon */
        left = m->batch_wait_ms - (now - m->first_ms);
        m->c.block_ms = left < 1                 ? 1
                        : left < MIRROR_BLOCK_MS ? left
                                                 : MIRROR_BLOCK_MS;
    }
    rep = es_consumer_read(&m->c, &list, &redelivered);
    if (rep == NULL) {
        return;
    }
    take_entries(m, list);
    if (redelivered && m->nhand > before) {
        /* entries from a pending list have waited long enough already */
        m->flush = 1;
    }
    freeReplyObject(rep);
}

static void set_error(mirror *m, const es_aws_result *res)
{
    snprintf(m->last_error, sizeof(m->last_error), "%.100s%s%.200s", res->code,
             res->message[0] ? ": " : "", res->message);
}

/* Drops msgs whose flag in gone[] is set, keeping the order of the rest. */
static void compact(mirror *m, const int *gone)
{
    size_t j = 0;

    for (size_t i = 0; i < m->nhand; i++) {
        if (gone[i]) {
            es_mirror_msg_free(&m->hand[i]);
            continue;
        }
        if (j != i) {
            m->hand[j] = m->hand[i];
            memset(&m->hand[i], 0, sizeof(m->hand[i]));
        }
        j++;
    }
    m->nhand = j;
}

/* Waits after a failure: back-off while the budget lasts, else the cap. */
static void pause_after_failure(mirror *m, int retryable)
{
    long long wait = es_backoff_next(&m->bo);

    if (!retryable || !es_retry_budget_take(&m->budget)) {
        wait = m->backoff_cap_ms;
    }
    es_sleep_ms(wait);
}

/* Sends one batch from the hand; sleep says whether to back off. */
static void send_batch(mirror *m, int sleep)
{
    es_sqs_entry_result results[ES_SQS_MAX_ENTRIES];
    const char *acked[ES_SQS_MAX_ENTRIES];
    int gone[ES_SQS_MAX_ENTRIES] = {0};
    size_t k = es_mirror_batch_take(m->hand, m->nhand, ES_SQS_MAX_BYTES);
    size_t nacked = 0, nfailed = 0;
    es_aws_result res;
    long long t0 = es_mono_ms();
    int failed = es_sqs_send_batch(m->sqs, m->hand, k, results, &res) != 0;

    /* one SendMessageBatch, retries of the HTTP client included */
    es_metrics_observe_ms("echostream_mirror_send_duration_seconds",
                          (double)(es_mono_ms() - t0));
    if (failed) {
        es_metrics_add("echostream_sqs_batches_failed_total", 1);
        es_metrics_add("echostream_sqs_messages_failed_total", (double)k);
        set_error(m, &res);
        es_log(res.retryable ? ES_WARN : ES_ERROR, "sqs batch failed",
               ES_INT("entries", k), ES_INT("status", res.status),
               ES_STR("code", res.code), ES_STR("message", res.message),
               ES_STR("request_id", res.request_id),
               ES_INT("retryable", res.retryable), ES_END);
        for (size_t i = 0; i < k; i++) {
            m->hand[i].failures++;
        }
        m->last_failed = 1;
        beat(m, 1);
        if (sleep) {
            pause_after_failure(m, res.retryable);
        }
        return;
    }
    m->last_failed = 0;
    es_retry_budget_success(&m->budget);
    for (size_t i = 0; i < k; i++) {
        es_mirror_msg *msg = &m->hand[i];

        if (results[i].ok) {
            acked[nacked++] = msg->id;
            gone[i] = 1;
            continue;
        }
        nfailed++;
        msg->failures++;
        msg->sender_faults += results[i].sender_fault;
        snprintf(m->last_error, sizeof(m->last_error), "%s: %s",
                 results[i].code, results[i].message);
        if (results[i].sender_fault &&
            msg->sender_faults >= m->sender_fault_retries) {
            es_log(ES_ERROR, "sqs keeps refusing entry; left pending",
                   ES_STR("stream_id", msg->id),
                   ES_STR("code", results[i].code),
                   ES_STR("message", results[i].message),
                   ES_INT("attempts", msg->failures), ES_END);
            m->parked++;
            gone[i] = 1;
            continue;
        }
        es_log(ES_WARN, "sqs entry failed; will retry",
               ES_STR("stream_id", msg->id), ES_STR("code", results[i].code),
               ES_STR("message", results[i].message),
               ES_INT("sender_fault", results[i].sender_fault), ES_END);
    }
    es_consumer_ack(&m->c, acked, nacked);
    m->sent += (long long)nacked;
    es_metrics_add("echostream_sqs_messages_sent_total", (double)nacked);
    es_metrics_add("echostream_sqs_messages_failed_total", (double)nfailed);
    compact(m, gone);
    if (m->nhand > 0) {
        m->flush = 1;
    } else {
        m->flush = 0;
    }
    if (nfailed == 0) {
        es_backoff_reset(&m->bo);
        if (m->nhand == 0) {
            m->last_error[0] = '\0';
        }
    } else if (sleep) {
        es_sleep_ms(es_backoff_next(&m->bo));
    }
}

static int run(mirror *m)
{
    if (es_consumer_create_group(&m->c) != 0) {
        return 1;
    }
    es_log(ES_INFO, "mirror started", ES_STR("queue_url", m->queue_url),
           ES_STR("group", m->group), ES_STR("consumer", m->w.instance),
           ES_END);
    beat_start(m);
    while (!es_stopping()) {
        es_worker_poll_reload(&m->w);
        beat(m, 0);
        if (m->nhand < ES_SQS_MAX_ENTRIES) {
            fill(m);
        }
        if (es_stopping() || m->nhand == 0) {
            continue;
        }
        if (m->nhand < ES_SQS_MAX_ENTRIES && !m->flush &&
            es_mono_ms() - m->first_ms < m->batch_wait_ms) {
            continue;
        }
        send_batch(m, 1);
    }
    if (m->nhand > 0 && !m->last_failed) {
        es_log(ES_INFO, "stopping: sending the batch in hand",
               ES_INT("entries", m->nhand), ES_END);
        send_batch(m, 0);
    }
    if (m->nhand > 0) {
        es_log(ES_WARN, "stopping with entries unsent; they stay pending",
               ES_INT("entries", m->nhand), ES_END);
    }
    es_log(ES_INFO, "mirror stopped", ES_INT("sent", m->sent), ES_END);
    es_heartbeat_stop(&m->hb);
    return 0;
}

static int configure(mirror *m)
{
    long long budget, timeout;
    double heartbeat;
    int imds;
    char err[256];
    es_aws_chain_opts co;

    m->queue_url = es_config_str(m->w.cfg, "mirror.queue_url");
    m->group = es_config_str(m->w.cfg, "mirror.group");
    if (es_worker_cfg_int(&m->w, "mirror.batch_wait_ms", 0, 600000,
                          &m->batch_wait_ms) != 0 ||
        es_worker_cfg_int(&m->w, "mirror.claim_idle_ms", 100, 86400000,
                          &m->claim_idle_ms) != 0 ||
        es_worker_cfg_int(&m->w, "mirror.backoff_cap_ms", 100, 3600000,
                          &m->backoff_cap_ms) != 0 ||
        es_worker_cfg_int(&m->w, "mirror.sender_fault_retries", 1, 1000,
                          &m->sender_fault_retries) != 0 ||
        es_worker_cfg_int(&m->w, "mirror.retry_budget", 0, 100000, &budget) !=
            0 ||
        es_worker_cfg_int(&m->w, "mirror.timeout", 1, 600, &timeout) != 0 ||
        es_worker_cfg_int(&m->w, "worker.consumer_prune_ms", 0,
                          365LL * 86400000, &m->prune_idle_ms) != 0 ||
        es_worker_cfg_double(&m->w, "worker.heartbeat", 0.1, 3600,
                             &heartbeat) != 0 ||
        es_worker_cfg_bool(&m->w, "aws.imds", &imds) != 0) {
        return -1;
    }
    if (m->group[0] == '\0') {
        fprintf(stderr, "mirror: mirror.group must not be empty\n");
        return -1;
    }
    m->heartbeat_ms = (long long)(heartbeat * 1000.0);
    es_retry_budget_init(&m->budget, (double)budget, 5.0, 1.0);
    es_backoff_init(&m->bo, MIRROR_BACKOFF_MS, m->backoff_cap_ms);

    m->r = es_redis_new(es_config_str(m->w.cfg, "redis"), err, sizeof(err));
    if (m->r == NULL) {
        fprintf(stderr, "mirror: redis: %s\n", err);
        return -1;
    }
    es_redis_set_timeout(m->r, MIRROR_BLOCK_MS + 10000);
    es_consumer_init(&m->c, m->r, ES_KEY_STREAM, m->group, m->w.instance,
                     ES_SQS_MAX_ENTRIES, MIRROR_BLOCK_MS, m->claim_idle_ms);
    m->c.prune_idle_ms = m->prune_idle_ms;
    if (m->queue_url[0] == '\0') {
        return 0;
    }
    memset(&co, 0, sizeof(co));
    co.profile = es_config_str(m->w.cfg, "aws.profile");
    co.imds_endpoint = es_config_str(m->w.cfg, "aws.imds_endpoint");
    co.imds_enabled = imds;
    m->chain = es_aws_chain_new(&co);
    m->sqs = es_sqs_new(m->queue_url, es_config_str(m->w.cfg, "aws.region"),
                        m->chain, (long)timeout * 1000);
    if (m->chain == NULL || m->sqs == NULL) {
        fprintf(stderr, "mirror: mirror.queue_url must be an http(s) URL\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static mirror m;
    int rc;

    es_metrics_declare(mirror_metrics);
    rc = es_worker_init(&m.w, &mirror_info, argc, argv, NULL, NULL, NULL, NULL);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    rc = configure(&m);
    if (m.w.check_only) {
        rc = es_worker_check_done(&m.w, rc);
        goto cleanup;
    }
    if (rc != 0) {
        rc = 2;
        goto cleanup;
    }
    rc = m.queue_url[0] ? run(&m) : idle(&m);

cleanup:
    for (size_t i = 0; i < m.nhand; i++) {
        es_mirror_msg_free(&m.hand[i]);
    }
    es_sqs_free(m.sqs);
    es_aws_chain_free(m.chain);
    es_redis_free(m.r);
    es_worker_cleanup(&m.w);
    return rc;
}
