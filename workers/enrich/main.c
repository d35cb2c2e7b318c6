/*
 * main.c - echostream-enrich: from the comment stream to every tenant's
 * sentiment series, recent comments, trending terms and share of voice.
 *
 * One loop, one batch at a time (enrich.batch entries), through the
 * consumer group enrich.group on es:{ingest}:comments (es_consumer.h), each
 * batch through these steps (batch.c):
 *
 *   1. parse and validate the entries (entry.h);
 *   2. write them to the raw archive and make it durable (archive.h), on
 *      a thread of its own while steps 3-5 go on;
 *   3. match every comment against all topics of all tenants at once
 *      (topics.h: one es_matcher, rebuilt when es:{topics}:version moves,
 *      which is checked after each batch is read and before it is matched);
 *   4. score each matched comment once per engine (score.h);
 *   5. one es_enrich_write function call per tenant, its increments summed
 *      over the batch here, all calls in one pipeline (aggregate.h):
 *      idempotent, so a replay changes nothing; the new comments' ids go
 *      to the tenant's live feed; a deletion's decrements are computed
 *      here too, from the record it reverses (read first: deletion.h);
 *   6. once the archive is durable, acknowledge what was written; an
 *      entry that failed stays pending and
 *      is retried through the claim sweep, until after
 *      enrich.max_deliveries deliveries it moves to es:{ingest}:dlq.
 *
 * Acknowledging only after steps 2-5 makes delivery at-least-once and the
 * writes exactly-once in effect: a worker killed anywhere leaves its batch
 * pending, a peer (or its restart) claims it after enrich.claim_idle_ms,
 * and the per-comment records turn the repeated writes into no-ops.
 * SIGTERM finishes the batch in hand (archive, writes, acknowledgement)
 * and exits 0. Several copies share the work through the group.
 *
 * Before the loop the stored data is brought to the current schema
 * (migrate.h): the worker migrates it, or waits while another worker
 * does; --migrate does only that and exits.
 *
 * Step 5 of one batch and the read of the next run on a writer and a
 * reader thread, each with a connection of its own, while this thread does
 * steps 1-4 of the batch read before (batch.h): Redis and the worker then
 * share the two cores instead of taking turns. Step 6 waits for the
 * writes, so batches are still written and acknowledged in order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch.h"
#include "es_group.h"
#include "es_heap.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_redis.h"
#include "es_redis_lib.h"
#include "es_schema.h"
#include "migrate.h"

static const char *const enrich_prefixes[] = {
    "enrich.", "lake.", "s3.",     "comprehend.", "sentiment.",
    "aws.",    "redis", "worker.", "log.",        NULL};

static const es_worker_info enrich_info = {
    "enrich",
    "\n  [--migrate]",
    "Matches every comment of the stream against all tenants' topics, scores "
    "its sentiment (VADER or Comprehend) and writes per-tenant series, recent "
    "comments, trending terms and share of voice, idempotently; archives the "
    "raw stream under lake.dir (and S3).\n"
    "\n"
    "At start it migrates stored data of an older schema (or waits while\n"
    "another enrich worker does) before it consumes.\n"
    "\n"
    "Enrich options:\n"
    "  --migrate   only migrate the stored data to the current schema\n"
    "              (progress and a summary), then exit",
    enrich_prefixes,
};

enum { OPT_MIGRATE = 0x2001 };

static int on_opt(int opt, const char *arg, void *ud)
{
    (void)arg;
    if (opt == OPT_MIGRATE) {
        *(int *)ud = 1;
        return 0;
    }
    return -1;
}

/* present at zero from the first heartbeat (es_metrics.h) */
static const char *const enrich_metrics[] = {
    "echostream_enrich_entries_total",
    "echostream_enrich_comments_total",
    "echostream_enrich_failed_total",
    "echostream_enrich_dead_letters_total",
    "echostream_enrich_batch_duration_seconds",
    "echostream_comprehend_calls_total",
    "echostream_comprehend_failures_total",
    "echostream_comprehend_units_total",
    "echostream_comprehend_spend_usd_total",
    NULL};

static json_t *status_json(const es_enrich *x) /* new reference */
{
    const es_topic_set *ts = x->topics.cur;

    return json_pack(
        "{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, "
        "s:I, s:I, s:I}",
        "group", x->c.group, "read", (json_int_t)x->read, "comments",
        (json_int_t)x->comments, "deletions", (json_int_t)x->deletions,
        "matched", (json_int_t)x->matched, "acked", (json_int_t)x->acked,
        "failed", (json_int_t)x->failed, "dead_lettered",
        (json_int_t)x->dead_lettered, "records_created",
        (json_int_t)x->agg.stats.created, "records_replayed",
        (json_int_t)x->agg.stats.replayed, "tenants",
        (json_int_t)(ts ? ts->ntenants : 0), "topics",
        (json_int_t)(ts ? ts->ntopics : 0), "comprehend_breaker_open",
        x->scorer ? es_scorer_breaker_open(x->scorer) : 0, "archive_files",
        (json_int_t)x->lake.files, "s3_uploaded", (json_int_t)x->lake.uploaded,
        "s3_pending", (json_int_t)x->lake.pending);
}

static void beat(es_enrich *x, int start)
{
    json_t *st = status_json(x);

    if (start) {
        es_heartbeat_start(&x->hb, &x->w, x->r, x->heartbeat_ms, st);
    } else {
        es_heartbeat_tick(&x->hb, st);
    }
    json_decref(st);
}

/* Grows every per-entry array to n. */
static int run(es_enrich *x)
{
    es_migrate_stats ms;
    int mrc;

    if (es_aggregate_prepare(&x->agg) != 0) {
        return 1;
    }
    /* nothing is consumed before the stored data is of this schema */
    mrc = es_migrate_run(x->r, x->vader, x->w.instance, &ms);
    if (mrc != 0) {
        return mrc < 0 ? 1 : 0;
    }
    if (es_consumer_create_group(&x->c) != 0) {
        return 1;
    }
    /* consumers of finished enrich processes (one per restart) */
    es_group_prune(x->r, ES_KEY_STREAM, x->c.group, x->c.consumer,
                   x->prune_idle_ms);
    es_topics_refresh(&x->topics, 1);
    es_log(ES_INFO, "enrich started", ES_STR("group", x->c.group),
           ES_STR("consumer", x->w.instance),
           ES_STR("lake", x->lake_enabled ? x->lake.dir : "disabled"),
           ES_INT("protocol", ES_ENRICH_PROTOCOL), ES_END);
    beat(x, 1);
    es_archive_upload(&x->lake, 1);
    while (!es_stopping() || x->next != NULL) {
        const redisReply *list;
        int redelivered;
        redisReply *rep;

        /* between batches: the one in hand was written under the old
           settings */
        es_worker_poll_reload(&x->w);
        beat(x, 0);
        if (es_topics_stale(&x->topics)) {
            /* a reload frees the topic set the writes in flight use */
            es_enrich_flush(x);
            es_topics_refresh(&x->topics, 1);
        }
        rep = es_enrich_read(x, &list, &redelivered);
        if (rep != NULL) {
            /* asked after the read: a topic answered 201 before these
               entries were appended is in the version read now, so it
               counts them (the interval check above only saves the idle
               loop a reload on the next batch's path) */
            if (es_topics_moved(&x->topics)) {
                es_enrich_flush(x);
                es_topics_refresh(&x->topics, 1);
            }
            long long t0 = es_mono_ms();

            es_enrich_process(x, rep, list, redelivered);
            /* parse, match, score and archive of this batch, the writes
               of the previous one answered (they overlap: batch.h) */
            es_metrics_observe_ms("echostream_enrich_batch_duration_seconds",
                                  (double)(es_mono_ms() - t0));
        } else {
            es_enrich_flush(x); /* idle: settle what is in flight */
        }
        es_archive_upload(&x->lake, 0);
    }
    es_enrich_flush(x);
    es_log(ES_INFO, "enrich stopped", ES_INT("read", x->read),
           ES_INT("acked", x->acked), ES_INT("failed", x->failed),
           ES_INT("dead_lettered", x->dead_lettered), ES_END);
    es_heartbeat_stop(&x->hb);
    return 0;
}

static int configure_s3(es_enrich *x)
{
    es_s3_opts so;
    long long timeout;
    int path_style;

    if (es_config_str(x->w.cfg, "s3.bucket")[0] == '\0' || !x->lake_enabled) {
        return 0;
    }
    if (es_worker_cfg_int(&x->w, "s3.timeout", 1, 3600, &timeout) != 0 ||
        es_worker_cfg_bool(&x->w, "s3.path_style", &path_style) != 0) {
        return -1;
    }
    memset(&so, 0, sizeof(so));
    so.bucket = es_config_str(x->w.cfg, "s3.bucket");
    so.prefix = es_config_str(x->w.cfg, "s3.prefix");
    so.endpoint = es_config_str(x->w.cfg, "s3.endpoint");
    so.region = es_config_str(x->w.cfg, "aws.region");
    so.path_style = path_style;
    so.timeout_ms = (long)timeout * 1000;
    so.creds = &x->creds;
    x->s3 = es_s3_new(&so);
    return x->s3 ? 0 : -1;
}

static int configure_sentiment(es_enrich *x)
{
    const char *path = es_config_str(x->w.cfg, "sentiment.lexicon");
    long long timeout, failures, cooldown, cap;
    double price;
    es_scorer_opts so;
    char err[512];

    if (path[0] == '\0') {
        path = es_vader_default_lexicon();
    }
    x->vader = es_vader_load(path, err, sizeof(err));
    if (x->vader == NULL) {
        fprintf(stderr, "enrich: VADER lexicon %s: %s\n", path, err);
        return -1;
    }
    if (es_worker_cfg_int(&x->w, "comprehend.timeout", 1, 600, &timeout) != 0 ||
        es_worker_cfg_int(&x->w, "comprehend.breaker_failures", 1, 1000,
                          &failures) != 0 ||
        es_worker_cfg_int(&x->w, "comprehend.breaker_cooldown", 1, 86400,
                          &cooldown) != 0 ||
        es_worker_cfg_int(&x->w, "comprehend.backoff_cap_ms", 1, 3600000,
                          &cap) != 0 ||
        es_worker_cfg_double(&x->w, "comprehend.price_per_unit", 0, 1,
                             &price) != 0) {
        return -1;
    }
    x->price_micros = (long long)(price * 1e6 + 0.5);
    memset(&so, 0, sizeof(so));
    so.region = es_config_str(x->w.cfg, "aws.region");
    so.endpoint = es_config_str(x->w.cfg, "comprehend.endpoint");
    so.language = es_config_str(x->w.cfg, "comprehend.language");
    so.timeout_ms = (long)timeout * 1000;
    so.breaker_failures = (int)failures;
    so.breaker_cooldown_ms = cooldown * 1000;
    so.backoff_cap_ms = cap;
    so.creds = &x->creds;
    x->scorer = es_scorer_new(x->vader, &so);
    return x->scorer ? 0 : -1;
}

static int configure(es_enrich *x)
{
    long long batch, block, idle, refresh, upload_retry;
    double heartbeat;
    const char *engine;
    int imds;
    char err[256];

    x->c.group = es_config_str(x->w.cfg, "enrich.group");
    if (es_worker_cfg_int(&x->w, "enrich.batch", 1, 10000, &batch) != 0 ||
        es_worker_cfg_int(&x->w, "enrich.block_ms", 1, 60000, &block) != 0 ||
        es_worker_cfg_int(&x->w, "enrich.claim_idle_ms", 10, 86400000, &idle) !=
            0 ||
        es_worker_cfg_int(&x->w, "enrich.max_deliveries", 1, 1000,
                          &x->max_deliveries) != 0 ||
        es_worker_cfg_int(&x->w, "enrich.topics_refresh_ms", 10, 3600000,
                          &refresh) != 0 ||
        es_worker_cfg_bool(&x->w, "lake.enabled", &x->lake_enabled) != 0 ||
        es_worker_cfg_int(&x->w, "lake.upload_retry_ms", 10, 86400000,
                          &upload_retry) != 0 ||
        es_worker_cfg_bool(&x->w, "aws.imds", &imds) != 0 ||
        es_worker_cfg_double(&x->w, "worker.heartbeat", 0.1, 3600,
                             &heartbeat) != 0 ||
        es_worker_cfg_int(&x->w, "worker.consumer_prune_ms", 0,
                          365LL * 86400000, &x->prune_idle_ms) != 0) {
        return -1;
    }
    engine = es_config_str(x->w.cfg, "enrich.engine_default");
    if (strcmp(engine, "vader") != 0 && strcmp(engine, "comprehend") != 0) {
        fprintf(stderr, "enrich: enrich.engine_default must be vader or "
                        "comprehend\n");
        return -1;
    }
    if (x->c.group[0] == '\0') {
        fprintf(stderr, "enrich: enrich.group must not be empty\n");
        return -1;
    }
    x->heartbeat_ms = (long long)(heartbeat * 1000.0);
    x->creds.profile = es_config_str(x->w.cfg, "aws.profile");
    x->creds.imds_endpoint = es_config_str(x->w.cfg, "aws.imds_endpoint");
    x->creds.imds_enabled = imds;
    x->r = es_redis_new(es_config_str(x->w.cfg, "redis"), err, sizeof(err));
    if (x->r == NULL) {
        fprintf(stderr, "enrich: redis: %s\n", err);
        return -1;
    }
    es_redis_set_timeout(x->r, block + 10000);
    /* the writes and the reads have a connection each: the writer thread
       sends one batch's calls and the reader thread reads the next batch
       while this thread prepares the current one */
    x->wr = es_redis_new(es_config_str(x->w.cfg, "redis"), err, sizeof(err));
    x->rr = es_redis_new(es_config_str(x->w.cfg, "redis"), err, sizeof(err));
    if (x->wr == NULL || x->rr == NULL) {
        fprintf(stderr, "enrich: redis: %s\n", err);
        return -1;
    }
    es_redis_set_timeout(x->wr, block + 10000);
    es_redis_set_timeout(x->rr, block + 10000);
    es_consumer_init(&x->c, x->r, ES_KEY_STREAM,
                     es_config_str(x->w.cfg, "enrich.group"), x->w.instance,
                     batch, block, idle);
    es_consumer_init(&x->rd, x->rr, ES_KEY_STREAM,
                     es_config_str(x->w.cfg, "enrich.group"), x->w.instance,
                     batch, block, idle);
    es_topics_init(&x->topics, x->r, refresh,
                   strcmp(engine, "comprehend") == 0 ? ES_ENGINE_COMPREHEND
                                                     : ES_ENGINE_VADER);
    es_aggregate_init(&x->agg, x->wr);
    if (configure_sentiment(x) != 0 || configure_s3(x) != 0 ||
        es_archive_init(&x->lake, es_config_str(x->w.cfg, "lake.dir"), x->s3) !=
            0) {
        return -1;
    }
    x->lake.retry_ms = upload_retry;
    return 0;
}

/*
 * --migrate: the migration alone, with the Redis address and the VADER
 * lexicon of the configuration (nothing else is set up: no archive, no
 * Comprehend). Exits 0 when the data is of the current schema, 1 when it
 * is not (stopped by a signal, or failed: logged).
 */
static int migrate_only(es_worker *w)
{
    const char *path = es_config_str(w->cfg, "sentiment.lexicon");
    es_redis *r;
    es_vader *v;
    es_migrate_stats st;
    char err[512];
    int rc, mrc = -1;

    r = es_redis_new(es_config_str(w->cfg, "redis"), err, sizeof(err));
    if (r == NULL) {
        fprintf(stderr, "enrich: redis: %s\n", err);
        return 2;
    }
    v = es_vader_load(path[0] ? path : es_vader_default_lexicon(), err,
                      sizeof(err));
    if (v == NULL) {
        fprintf(stderr, "enrich: VADER lexicon: %s\n", err);
        es_redis_free(r);
        return 2;
    }
    if (es_redis_load_library(r, &es_lua_read) == 0 &&
        es_redis_load_library(r, &es_lua_enrich) == 0) {
        mrc = es_migrate_run(r, v, w->instance, &st);
    }
    if (mrc != 0) {
        printf("migration %s before its end (see the log): run it again to "
               "resume\n",
               mrc > 0 ? "stopped" : "failed");
    }
    rc = mrc == 0 ? 0 : 1;
    if (rc == 0 && st.migrated) {
        printf("migrated to schema %s: %lld tenants, %lld records read, "
               "%lld converted, %lld already in schema %s, %lld tombstones "
               "dropped, %lld malformed left, %lld recent sets deleted, "
               "%lld ms (%lld records/s)\n",
               ES_SCHEMA_CURRENT, st.tenants, st.records, st.converted,
               st.existed, ES_SCHEMA_CURRENT, st.tombstones, st.malformed,
               st.recent_sets, st.ms,
               st.ms > 0 ? st.records * 1000 / st.ms : 0);
    } else if (rc == 0) {
        printf("the stored data is schema %s: nothing to migrate\n",
               ES_SCHEMA_CURRENT);
    }
    es_vader_free(v);
    es_redis_free(r);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"migrate", no_argument, NULL, OPT_MIGRATE},
        {NULL, 0, NULL, 0},
    };
    static es_enrich x;
    int rc, migrate = 0;

    es_heap_keep();
    es_metrics_declare(enrich_metrics);
    es_enrich_batch_init(&x);
    rc = es_worker_init(&x.w, &enrich_info, argc, argv, "", opts, on_opt,
                        &migrate);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    if (optind < argc) {
        fprintf(stderr, "enrich: unexpected argument %s; try --help\n",
                argv[optind]);
        rc = 2;
        goto cleanup;
    }
    if (migrate && !x.w.check_only) {
        rc = migrate_only(&x.w);
        goto cleanup;
    }
    rc = configure(&x);
    if (x.w.check_only) {
        rc = es_worker_check_done(&x.w, rc);
        goto cleanup;
    }
    if (rc != 0) {
        rc = 2;
        goto cleanup;
    }
    rc = run(&x);

cleanup:
    es_topics_cleanup(&x.topics);
    es_aggregate_cleanup(&x.agg);
    es_archive_cleanup(&x.lake);
    es_scorer_free(x.scorer);
    es_s3_free(x.s3);
    es_vader_free(x.vader);
    es_enrich_batch_free(&x);
    es_redis_free(x.rr);
    es_redis_free(x.wr);
    es_redis_free(x.r);
    es_worker_cleanup(&x.w);
    return rc;
}
