/*
 * main.c - echostream-alert: spike detection over every tenant's
 * sentiment series, the alert history, and the e-mails and webhooks of
 * each alert, sent exactly once.
 *
 * One process, one thread, two duties taking turns:
 *
 *   1. every alert.interval seconds a tick (tick.h): every enabled rule
 *      of every tenant is evaluated (spike.h) and an alert that fires is
 *      recorded by one function call (lib/redis/alert.lua, es_alert_fire)
 *      that writes the history entry, the rule's new state and one
 *      delivery record per channel and queues each on es:{deliver}:queue:
 *      an event never exists without its deliveries, nor deliveries
 *      without their event;
 *   2. between ticks, the delivery loop (deliver.h) reads that queue
 *      through the consumer group alert.group and sends each delivery,
 *      recording every message sent in the same record the next attempt
 *      starts from; a crashed worker's entries are claimed after
 *      alert.claim_idle_ms.
 *
 * A spike is seen at the first tick after enrich wrote its comments, so
 * within alert.interval (a minute) of that, plus the time to send. The
 * detection reads only the series enrich writes, so backfilled history
 * counts like live data. SIGTERM finishes the rule or the message in hand,
 * records it, and exits 0; several copies may run (the group shares the
 * deliveries, the compare-and-set of es_alert_fire the alerts).
 *
 * --clock-offset-ms N shifts the worker's clock (ticks, cool-downs,
 * records' times) by N ms: for tests and for replaying history, never
 * needed in production.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "deliver.h"
#include "es_heartbeat.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_lua.h"
#include "es_redis.h"
#include "es_redis_lib.h"
#include "es_time.h"
#include "es_unsub.h"
#include "es_worker.h"
#include "send.h"
#include "tick.h"

#define ALERT_BLOCK_MS 1000

typedef struct {
    es_worker w;
    es_redis *r;
    es_heartbeat hb;
    es_alert_ticker ticker;
    es_deliverer dl;
    es_alert_sender sender;
    long long interval_ms;
    long long heartbeat_ms;
    long long clock_offset_ms;
    long long next_tick; /* monotonic */
    char base_url[1024];
    unsigned char unsub_key[ES_UNSUB_KEY_MAX];
    long unsub_len;
} alert;

static const char *const alert_prefixes[] = {
    "alert.", "mail.", "smtp.",   "ses.", "webhook.",
    "aws.",   "redis", "worker.", "log.", NULL};

static const es_worker_info alert_info = {
    "alert",
    " [--clock-offset-ms N]",
    "Evaluates every tenant's alert rules each alert.interval seconds "
    "(negative share, volume or mean compound of a window against a 7-day "
    "baseline), records each alert in the tenant's history and sends its "
    "e-mails (SMTP or SES) and webhooks exactly once. --clock-offset-ms N "
    "shifts the worker's clock by N ms (tests, replays).",
    alert_prefixes,
};

static int on_option(int opt, const char *arg, void *ud)
{
    alert *a = ud;
    char *end;

    if (opt != 0x2001) {
        return -1;
    }
    a->clock_offset_ms = strtoll(arg, &end, 10);
    if (*arg == '\0' || *end != '\0') {
        fprintf(stderr, "alert: --clock-offset-ms wants an integer\n");
        return -1;
    }
    return 0;
}

static long long now_ms(const alert *a)
{
    return es_now_ms() + a->clock_offset_ms;
}

/* present at zero from the first heartbeat (es_metrics.h) */
static const char *const alert_metrics[] = {
    "echostream_alerts_detected_total", "echostream_alerts_delivered_total",
    "echostream_alerts_delivery_failed_total", NULL};

static json_t *status_json(const alert *a) /* new reference */
{
    char last[ES_TIME_STR_SIZE] = "";

    if (a->ticker.last_tick_ms > 0) {
        es_time_str(a->ticker.last_tick_ms, last);
    }
    return json_pack(
        "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, s:I, s:I, s:I, "
        "s:s}",
        "group", a->dl.c.group, "mail", es_alert_sender_name(&a->sender),
        "ticks", (json_int_t)a->ticker.ticks, "rules_checked",
        (json_int_t)a->ticker.rules_checked, "rules_learning",
        (json_int_t)a->ticker.learning, "rules_malformed",
        (json_int_t)a->ticker.bad_rules, "alerts_fired",
        (json_int_t)a->ticker.alerts_fired, "last_tick_ms",
        (json_int_t)a->ticker.last_tick_ms, "last_tick", last,
        "deliveries_sent", (json_int_t)a->dl.sent, "deliveries_failed",
        (json_int_t)a->dl.failed, "messages_sent", (json_int_t)a->dl.messages,
        "delivery_retries", (json_int_t)a->dl.retries, "last_error",
        a->dl.last_error);
}

static void beat(alert *a, int start)
{
    json_t *st = status_json(a);

    if (start) {
        es_heartbeat_start(&a->hb, &a->w, a->r, a->heartbeat_ms, st);
    } else {
        es_heartbeat_tick(&a->hb, st);
    }
    json_decref(st);
}

static int run(alert *a)
{
    if (es_redis_load_library(a->r, &es_lua_alert) != 0 ||
        es_redis_load_library(a->r, &es_lua_read) != 0 ||
        es_consumer_create_group(&a->dl.c) != 0) {
        return 1;
    }
    es_log(ES_INFO, "alert started", ES_STR("group", a->dl.c.group),
           ES_STR("consumer", a->w.instance),
           ES_STR("mail", es_alert_sender_name(&a->sender)),
           ES_INT("interval_ms", a->interval_ms),
           ES_INT("clock_offset_ms", a->clock_offset_ms), ES_END);
    beat(a, 1);
    a->next_tick = es_mono_ms();
    while (!es_stopping()) {
        long long mono = es_mono_ms(), wait;

        es_worker_poll_reload(&a->w);
        beat(a, 0);
        if (mono >= a->next_tick) {
            es_alert_tick(&a->ticker, now_ms(a));
            a->next_tick += a->interval_ms;
            if (a->next_tick <= es_mono_ms()) {
                /* a tick longer than the interval: skip, do not pile up */
                a->next_tick = es_mono_ms() + a->interval_ms;
            }
            continue;
        }
        wait = a->next_tick - mono;
        es_deliver_step(&a->dl, wait < ALERT_BLOCK_MS ? wait : ALERT_BLOCK_MS);
    }
    es_log(ES_INFO, "alert stopped",
           ES_INT("alerts_fired", a->ticker.alerts_fired),
           ES_INT("deliveries_sent", a->dl.sent),
           ES_INT("deliveries_failed", a->dl.failed), ES_END);
    es_heartbeat_stop(&a->hb);
    return 0;
}

static int configure(alert *a)
{
    long long claim_idle, prune;
    double interval, heartbeat;
    const char *url, *secret_file;
    char err[256];

    if (es_worker_cfg_double(&a->w, "alert.interval", 0.05, 86400, &interval) !=
            0 ||
        es_worker_cfg_int(&a->w, "alert.claim_idle_ms", 100, 86400000,
                          &claim_idle) != 0 ||
        es_worker_cfg_int(&a->w, "worker.consumer_prune_ms", 0,
                          365LL * 86400000, &prune) != 0 ||
        es_worker_cfg_double(&a->w, "worker.heartbeat", 0.1, 3600,
                             &heartbeat) != 0) {
        return -1;
    }
    if (es_config_str(a->w.cfg, "alert.group")[0] == '\0') {
        fprintf(stderr, "alert: alert.group must not be empty\n");
        return -1;
    }
    a->interval_ms = (long long)(interval * 1000.0);
    a->heartbeat_ms = (long long)(heartbeat * 1000.0);
    url = es_config_str(a->w.cfg, "mail.base_url");
    snprintf(a->base_url, sizeof(a->base_url), "%s%s", url,
             url[0] && url[strlen(url) - 1] == '/' ? "" : "/");
    if (es_alert_sender_init(&a->sender, &a->w) != 0) {
        return -1;
    }
    secret_file = es_config_str(a->w.cfg, "mail.secret_file");
    if (secret_file[0] != '\0') {
        a->unsub_len = es_unsub_key_read(
            secret_file, a->unsub_key, sizeof(a->unsub_key), err, sizeof(err));
        if (a->unsub_len < 0) {
            fprintf(stderr, "alert: mail.secret_file: %s\n", err);
            return -1;
        }
    }
    a->r = es_redis_new(es_config_str(a->w.cfg, "redis"), err, sizeof(err));
    if (a->r == NULL) {
        fprintf(stderr, "alert: redis: %s\n", err);
        return -1;
    }
    es_redis_set_timeout(a->r, ALERT_BLOCK_MS + 10000);
    es_alert_ticker_init(&a->ticker, a->r);
    es_deliver_init(&a->dl, a->r, es_config_str(a->w.cfg, "alert.group"),
                    a->w.instance, claim_idle);
    a->dl.c.prune_idle_ms = prune;
    a->dl.tx = &a->sender.base;
    a->dl.base_url = a->base_url;
    a->dl.clock_offset_ms = a->clock_offset_ms;
    if (a->unsub_len > 0) {
        a->dl.unsub_key = a->unsub_key;
        a->dl.unsub_len = (size_t)a->unsub_len;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option extra[] = {
        {"clock-offset-ms", required_argument, NULL, 0x2001},
        {NULL, 0, NULL, 0},
    };
    static alert a;
    int rc;

    es_metrics_declare(alert_metrics);
    rc = es_worker_init(&a.w, &alert_info, argc, argv, NULL, extra, on_option,
                        &a);
    if (rc != 0) {
        return rc == 1 ? 0 : 2;
    }
    rc = configure(&a);
    if (a.w.check_only) {
        rc = es_worker_check_done(&a.w, rc);
        goto cleanup;
    }
    if (rc != 0) {
        rc = 2;
        goto cleanup;
    }
    rc = run(&a);

cleanup:
    es_alert_sender_free(&a.sender);
    es_redis_free(a.r);
    es_worker_cleanup(&a.w);
    return rc;
}
