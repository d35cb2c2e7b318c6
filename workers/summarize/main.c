/*
 * main.c - echostream-summarize: the daily AI summaries of every tenant,
 * and the summaries asked for through POST /api/v1/summaries.
 *
 * One loop, two duties:
 *
 *   - the scheduler (schedule.h): every summarize.interval seconds, queue
 *     the previous local day's summaries of each tenant whose summary hour
 *     has come in its time zone (one per topic, one of the whole tenant);
 *   - the jobs (job.h): read es:{summaries}:requests through the consumer
 *     group summarize.group, one request at a time, and write each summary
 *     with Amazon Bedrock (Converse, es_bedrock.h) or, when Bedrock is not
 *     configured, over the tenant's monthly budget or failing after its
 *     retries, with the local extractive summariser (extract.h).
 *
 * Requests the API queues are de-duplicated there (one queued or running
 * request per tenant and topic: es:{t:<tenant>}:summary_pending); the
 * daily ones once per day by es_summary_schedule. One job per tenant runs
 * at a time (the tenant's summary_lock, held by this instance's name and
 * taken over from an instance whose heartbeat stopped). A job is
 * acknowledged only in the atomic call that stores its summary, so a
 * summarizer killed anywhere leaves it pending, and the consumer's claim
 * sweep gives it to a live instance after summarize.claim_idle_ms; that
 * call also makes a second run of a finished request a no-op, so every
 * request ends "done" (or "failed", with a reason) exactly once.
 *
 * Bedrock is used when bedrock.enabled is true or bedrock.endpoint is set.
 * Calls are signed by es_sigv4 (the model id's ':' is escaped twice in the
 * canonical path, as AWS requires), always carry maxTokens, and retry
 * throttling and 5xx with full jitter within a retry budget that successes
 * refill, so a dead Bedrock is not hammered. SIGTERM finishes the job in
 * hand and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_lua.h"
#include "es_redis_lib.h"
#include "job.h"
#include "schedule.h"
#include "summarizer.h"

#define BLOCK_MS   1000
#define BACKOFF_MS 200

static const char *const summarize_prefixes[] = {
    "summarize.", "bedrock.", "mail.", "aws.",
    "redis",      "worker.",  "log.",  NULL};

static const es_worker_info summarize_info = {
    "summarize",
    NULL,
    "Writes every tenant's daily summaries at the tenant's summary hour and "
    "time zone, and the summaries requested through the API: with Amazon "
    "Bedrock when configured and within the tenant's monthly budget, else "
    "with a local extractive summariser.",
    summarize_prefixes,
};

/* present at zero from the first heartbeat (es_metrics.h) */
static const char *const summarize_metrics[] = {
    "echostream_summaries_done_total",
    "echostream_summaries_failed_total",
    "echostream_bedrock_calls_total",
    "echostream_bedrock_failures_total",
    "echostream_bedrock_input_tokens_total",
    "echostream_bedrock_output_tokens_total",
    "echostream_bedrock_spend_usd_total",
    NULL};

static json_t *status_json(const es_summarizer *s) /* new reference */
{
    return json_pack(
        "{s:s, s:b, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
        "s:I, s:I}",
        "group", s->group, "bedrock", s->bedrock_on, "model",
        s->bedrock_on ? s->bc.model : "", "scheduled", (json_int_t)s->scheduled,
        "done", (json_int_t)s->done, "failed", (json_int_t)s->failed, "local",
        (json_int_t)s->local, "bedrock_summaries", (json_int_t)s->bedrock,
        "fallbacks", (json_int_t)s->fallbacks, "input_tokens",
        (json_int_t)s->input_tokens, "output_tokens",
        (json_int_t)s->output_tokens, "digests", (json_int_t)s->digests);
}

static void beat(es_summarizer *s, int start)
{
    json_t *st = status_json(s);

    if (start) {
        es_heartbeat_start(&s->hb, &s->w, s->r, s->heartbeat_ms, st);
    } else {
        es_heartbeat_tick(&s->hb, st);
    }
    json_decref(st);
}

static int configure_bedrock(es_summarizer *s)
{
    const es_config *cfg = s->w.cfg;
    const char *endpoint = es_config_str(cfg, "bedrock.endpoint");
    const char *region = es_config_str(cfg, "aws.region");
    long long max_tokens, timeout, attempts, cap, budget;
    int enabled, imds;
    es_aws_chain_opts co;

    if (es_worker_cfg_bool(&s->w, "bedrock.enabled", &enabled) != 0 ||
        es_worker_cfg_int(&s->w, "bedrock.max_tokens", 1, 64000, &max_tokens) !=
            0 ||
        es_worker_cfg_int(&s->w, "bedrock.timeout", 1, 600, &timeout) != 0 ||
        es_worker_cfg_int(&s->w, "bedrock.attempts", 1, 10, &attempts) != 0 ||
        es_worker_cfg_int(&s->w, "bedrock.backoff_cap_ms", 1, 600000, &cap) !=
            0 ||
        es_worker_cfg_int(&s->w, "bedrock.retry_budget", 0, 100000, &budget) !=
            0 ||
        es_worker_cfg_double(&s->w, "bedrock.price_input_per_mtok", 0, 1000,
                             &s->price_in) != 0 ||
        es_worker_cfg_double(&s->w, "bedrock.price_output_per_mtok", 0, 1000,
                             &s->price_out) != 0 ||
        es_worker_cfg_bool(&s->w, "aws.imds", &imds) != 0) {
        return -1;
    }
    s->bedrock_on = enabled || endpoint[0] != '\0';
    if (!s->bedrock_on) {
        return 0;
    }
    if (endpoint[0] == '\0') {
        snprintf(s->endpoint, sizeof(s->endpoint),
                 "https://bedrock-runtime.%s.amazonaws.com", region);
    } else {
        snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint);
    }
    es_retry_budget_init(&s->budget, (double)budget, 1.0, 1.0);
    memset(&s->bc, 0, sizeof(s->bc));
    s->bc.endpoint = s->endpoint;
    s->bc.region = region;
    s->bc.model = es_config_str(cfg, "bedrock.model");
    s->bc.max_tokens = (long)max_tokens;
    s->bc.temperature = 0.2;
    s->bc.timeout_ms = (long)timeout * 1000;
    s->bc.attempts = (int)attempts;
    s->bc.backoff_cap_ms = cap;
    s->bc.budget = &s->budget;
    if (s->bc.model[0] == '\0') {
        fprintf(stderr, "summarize: bedrock.model must not be empty\n");
        return -1;
    }
    memset(&co, 0, sizeof(co));
    co.profile = es_config_str(cfg, "aws.profile");
    co.imds_endpoint = es_config_str(cfg, "aws.imds_endpoint");
    co.imds_enabled = imds;
    s->chain = es_aws_chain_new(&co);
    s->http = es_http_new("echostream-summarize");
    if (s->chain == NULL || s->http == NULL) {
        fprintf(stderr, "summarize: out of memory\n");
        return -1;
    }
    return 0;
}

static int configure(es_summarizer *s)
{
    long long max_comments, max_chars, interval;
    double heartbeat;
    const char *url, *secret_file;
    char err[256];

    s->group = es_config_str(s->w.cfg, "summarize.group");
    if (es_worker_cfg_int(&s->w, "summarize.max_comments", 1, 200,
                          &max_comments) != 0 ||
        es_worker_cfg_int(&s->w, "summarize.max_chars", 20, 5000, &max_chars) !=
            0 ||
        es_worker_cfg_int(&s->w, "summarize.interval", 1, 3600, &interval) !=
            0 ||
        es_worker_cfg_int(&s->w, "summarize.claim_idle_ms", 100, 86400000,
                          &s->claim_idle_ms) != 0 ||
        es_worker_cfg_double(&s->w, "worker.heartbeat", 0.1, 3600,
                             &heartbeat) != 0 ||
        configure_bedrock(s) != 0) {
        return -1;
    }
    if (s->group[0] == '\0') {
        fprintf(stderr, "summarize: summarize.group must not be empty\n");
        return -1;
    }
    url = es_config_str(s->w.cfg, "mail.base_url");
    snprintf(s->base_url, sizeof(s->base_url), "%s%s", url,
             url[0] && url[strlen(url) - 1] == '/' ? "" : "/");
    secret_file = es_config_str(s->w.cfg, "mail.secret_file");
    if (secret_file[0] != '\0') {
        s->unsub_len = es_unsub_key_read(
            secret_file, s->unsub_key, sizeof(s->unsub_key), err, sizeof(err));
        if (s->unsub_len < 0) {
            fprintf(stderr, "summarize: mail.secret_file: %s\n", err);
            return -1;
        }
    }
    s->lim.max_comments = (size_t)max_comments;
    s->lim.max_chars = (size_t)max_chars;
    s->interval_ms = interval * 1000;
    s->heartbeat_ms = (long long)(heartbeat * 1000.0);
    s->r = es_redis_new(es_config_str(s->w.cfg, "redis"), err, sizeof(err));
    if (s->r == NULL) {
        fprintf(stderr, "summarize: redis: %s\n", err);
        return -1;
    }
    es_redis_set_timeout(s->r, BLOCK_MS + 10000);
    es_consumer_init(&s->c, s->r, ES_KEY_SUMMARY_REQUESTS, s->group,
                     s->w.instance, 1, BLOCK_MS, s->claim_idle_ms);
    return 0;
}

/* Runs the jobs of one read; 0, or -1 when Redis failed. */
static int read_jobs(es_summarizer *s)
{
    const redisReply *list;
    int redelivered, rc = 0;
    redisReply *rep = es_consumer_read(&s->c, &list, &redelivered);

    if (rep == NULL) {
        return 0;
    }
    for (size_t i = 0; list && i < list->elements && rc >= 0; i++) {
        rc = es_sum_job_run(s, list->element[i]);
    }
    freeReplyObject(rep);
    return rc < 0 ? -1 : 0;
}

static int run(es_summarizer *s)
{
    /* the digest's deliveries are added with the alert library's
       es_delivery_add, which may not be loaded yet */
    if (es_redis_load_library(s->r, &es_lua_summarize) != 0 ||
        es_redis_load_library(s->r, &es_lua_read) != 0 ||
        es_redis_load_library(s->r, &es_lua_alert) != 0 ||
        es_consumer_create_group(&s->c) != 0) {
        return 1;
    }
    beat(s, 1);
    es_log(ES_INFO, "summarize started", ES_STR("group", s->group),
           ES_STR("bedrock", s->bedrock_on ? s->bc.model : "off"),
           ES_INT("max_comments", (long long)s->lim.max_comments),
           ES_INT("max_chars", (long long)s->lim.max_chars), ES_END);
    while (!es_stopping()) {
        long long now = es_mono_ms();

        es_worker_poll_reload(&s->w);
        if (now >= s->next_tick_ms) {
            s->next_tick_ms = now + s->interval_ms;
            if (es_sum_schedule_tick(s, es_now_ms() / 1000) != 0 &&
                !es_stopping()) {
                es_sleep_ms(BACKOFF_MS);
            }
        }
        if (read_jobs(s) != 0 && !es_stopping()) {
            es_sleep_ms(BACKOFF_MS);
        }
        beat(s, 0);
    }
    es_log(ES_INFO, "summarize stopped", ES_INT("done", s->done),
           ES_INT("failed", s->failed), ES_END);
    es_heartbeat_stop(&s->hb);
    return 0;
}

int main(int argc, char **argv)
{
    static es_summarizer s;
    int rc;

    es_metrics_declare(summarize_metrics);
    rc = es_worker_init(&s.w, &summarize_info, argc, argv, NULL, NULL, NULL,
                        NULL);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    rc = configure(&s);
    if (s.w.check_only) {
        rc = es_worker_check_done(&s.w, rc);
    } else {
        rc = rc != 0 ? 2 : run(&s);
    }
    es_http_free(s.http);
    es_aws_chain_free(s.chain);
    es_redis_free(s.r);
    es_worker_cleanup(&s.w);
    return rc;
}
