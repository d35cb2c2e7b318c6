/*
 * main.c - echostream-ingest: puts Reddit comments into the comment stream.
 *
 * One binary, three sources, chosen on the command line: the Reddit poller
 * (default, a daemon), a dump backfill (--backfill PATH, runs to the end of
 * the file) and a synthetic generator for load tests (--synthetic RATE).
 * The poller and the generator write through the sink; the backfill
 * through its bulk writer (stream_writer.c), which applies the sink's rules
 * to whole batches, so de-duplication and back-pressure are the same
 * whatever the source, and sources can run at once. This file only reads the
 * configuration, wires the parts together and picks the source; a bad
 * configuration exits 2 with a message before anything is touched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"
#include "es_heartbeat.h"
#include "es_log.h"
#include "es_metrics.h"
#include "es_redis.h"
#include "es_worker.h"
#include "poller.h"
#include "reddit_client.h"
#include "sink.h"
#include "synthetic.h"

typedef struct {
    const char *backfill;
    int all;
    int dry_run;
    int once;
    double synthetic; /* comments/s, 0: not synthetic */
} ingest_args;

enum { OPT_BACKFILL = 0x2001, OPT_ALL, OPT_SYNTHETIC, OPT_ONCE, OPT_DRY };

static const char *const prefixes[] = {
    "redis", "log.", "worker.", "stream.", "reddit.", "ingest.", NULL};

static const es_worker_info info = {
    "ingest",
    "\n  [--backfill PATH|- [--all] [--dry-run]] [--synthetic RATE] [--once]",
    "Streams Reddit comments into Redis (es:{ingest}:comments).\n"
    "\n"
    "Without a mode option it polls /r/{sub}/comments for every subreddit\n"
    "some topic watches, within reddit.qpm requests per minute.\n"
    "\n"
    "Ingest options:\n"
    "  --backfill PATH   load a dump (RC_*.zst or NDJSON; - = stdin), exit\n"
    "  --all             with --backfill: keep every subreddit\n"
    "  --dry-run         with --backfill: parse and count only\n"
    "  --synthetic RATE  generate RATE synthetic comments per second\n"
    "  --once            poll every watched subreddit once, then exit",
    prefixes,
};

static int on_opt(int opt, const char *arg, void *ud)
{
    ingest_args *a = ud;
    char *end;

    switch (opt) {
    case OPT_BACKFILL:
        a->backfill = arg;
        return 0;
    case OPT_ALL:
        a->all = 1;
        return 0;
    case OPT_DRY:
        a->dry_run = 1;
        return 0;
    case OPT_ONCE:
        a->once = 1;
        return 0;
    case OPT_SYNTHETIC:
        a->synthetic = strtod(arg, &end);
        if (*end != '\0' || !(a->synthetic > 0) || a->synthetic > 1e7) {
            fprintf(stderr, "ingest: --synthetic needs a rate in "
                            "comments per second (> 0)\n");
            return -1;
        }
        return 0;
    default:
        return -1;
    }
}

typedef struct {
    long long batch, dedup_ttl, max_len, max_body, probe_every;
    double heartbeat, qpm, timeout, trim_interval;
    es_poller_opts poll;
} ingest_cfg;

static int read_cfg(es_worker *w, ingest_cfg *c)
{
    const char *api = es_config_str(w->cfg, "reddit.api_url");
    const char *tok = es_config_str(w->cfg, "reddit.token_url");

    memset(c, 0, sizeof(*c));
    if (es_worker_cfg_int(w, "ingest.batch", 1, 100000, &c->batch) != 0 ||
        es_worker_cfg_int(w, "ingest.dedup_ttl", 60, 10LL * 365 * 86400,
                          &c->dedup_ttl) != 0 ||
        es_worker_cfg_int(w, "stream.max_len", 0, 1LL << 40, &c->max_len) !=
            0 ||
        es_worker_cfg_double(w, "stream.trim_interval", 0.1, 86400,
                             &c->trim_interval) != 0 ||
        es_worker_cfg_double(w, "worker.heartbeat", 0.1, 3600, &c->heartbeat) !=
            0 ||
        es_worker_cfg_double(w, "reddit.qpm", 0.1, 1e6, &c->qpm) != 0 ||
        es_worker_cfg_double(w, "reddit.timeout", 0.1, 600, &c->timeout) != 0 ||
        es_worker_cfg_int(w, "reddit.max_body", 1024, 1LL << 30,
                          &c->max_body) != 0 ||
        es_worker_cfg_double(w, "ingest.min_interval", 0.01, 86400,
                             &c->poll.min_interval) != 0 ||
        es_worker_cfg_double(w, "ingest.max_interval", 0.01, 86400,
                             &c->poll.max_interval) != 0 ||
        es_worker_cfg_double(w, "ingest.watch_refresh", 0.01, 3600,
                             &c->poll.watch_refresh) != 0 ||
        es_worker_cfg_int(w, "ingest.probe_every", 0, 1000000,
                          &c->probe_every) != 0 ||
        es_worker_cfg_double(w, "ingest.lease", 0.5, 3600, &c->poll.lease) !=
            0) {
        return -1;
    }
    if (c->poll.max_interval < c->poll.min_interval) {
        fprintf(stderr,
                "ingest: ingest.max_interval (%g) is below "
                "ingest.min_interval (%g)\n",
                c->poll.max_interval, c->poll.min_interval);
        return -1;
    }
    if ((strncmp(api, "http://", 7) != 0 && strncmp(api, "https://", 8)) ||
        (strncmp(tok, "http://", 7) != 0 && strncmp(tok, "https://", 8))) {
        fprintf(stderr, "ingest: reddit.api_url and reddit.token_url must "
                        "be http:// or https:// URLs\n");
        return -1;
    }
    c->poll.qpm = c->qpm;
    c->poll.probe_every = (int)c->probe_every;
    return 0;
}

static int run_poller(es_worker *w, es_redis *r, es_sink *sink,
                      es_heartbeat *hb, ingest_cfg *c, int once)
{
    es_reddit_client rc;
    es_reddit_client_opts o;
    char api[512];
    size_t n;
    int code;

    /* a trailing slash would double in "/r/…" paths */
    snprintf(api, sizeof(api), "%s", es_config_str(w->cfg, "reddit.api_url"));
    n = strlen(api);
    while (n > 0 && api[n - 1] == '/') {
        api[--n] = '\0';
    }
    memset(&o, 0, sizeof(o));
    o.api_url = api;
    o.token_url = es_config_str(w->cfg, "reddit.token_url");
    o.client_id = es_config_str(w->cfg, "reddit.client_id");
    o.client_secret = es_config_str(w->cfg, "reddit.client_secret");
    o.user_agent = es_config_str(w->cfg, "reddit.user_agent");
    o.qpm = c->qpm;
    o.timeout_ms = (long)(c->timeout * 1000.0);
    o.max_body = (size_t)c->max_body;
    o.max_attempts = 4;
    o.stopping = es_stopping;
    if (es_reddit_client_init(&rc, &o) != 0) {
        es_log(ES_ERROR, "out of memory", ES_END);
        return 1;
    }
    c->poll.once = once;
    /* SIGTERM: finish the request in hand, flush, write cursors */
    code = es_poller_run(w, r, sink, hb, &rc, &c->poll);
    es_reddit_client_cleanup(&rc);
    return code;
}

/* present at zero from the first heartbeat (es_metrics.h) */
static const char *const ingest_metrics[] = {
    "echostream_ingest_comments_total",
    "echostream_ingest_duplicates_total",
    "echostream_ingest_poll_duration_seconds",
    "echostream_reddit_requests_total",
    "echostream_reddit_ratelimited_total",
    "echostream_reddit_ratelimit_remaining",
    "echostream_reddit_ratelimit_used",
    "echostream_reddit_budget_qpm",
    "echostream_reddit_required_qpm",
    NULL};

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"backfill", required_argument, NULL, OPT_BACKFILL},
        {"all", no_argument, NULL, OPT_ALL},
        {"dry-run", no_argument, NULL, OPT_DRY},
        {"synthetic", required_argument, NULL, OPT_SYNTHETIC},
        {"once", no_argument, NULL, OPT_ONCE},
        {NULL, 0, NULL, 0},
    };
    ingest_args a = {0};
    ingest_cfg c;
    es_worker w;
    es_redis *r = NULL;
    es_sink *sink = NULL;
    es_heartbeat hb;
    char err[256];
    int code, hb_started = 0;

    es_metrics_declare(ingest_metrics);
    code = es_worker_init(&w, &info, argc, argv, "", opts, on_opt, &a);
    if (code != 0) {
        es_worker_cleanup(&w);
        return code == 1 ? 0 : 2;
    }
    if (optind < argc || (a.backfill && a.synthetic > 0) ||
        ((a.all || a.dry_run) && !a.backfill) ||
        (a.once && (a.backfill || a.synthetic > 0))) {
        fprintf(stderr, "ingest: conflicting or unexpected arguments; "
                        "try --help\n");
        es_worker_cleanup(&w);
        return 2;
    }
    code = read_cfg(&w, &c);
    if (code == 0) {
        r = es_redis_new(es_config_str(w.cfg, "redis"), err, sizeof(err));
        if (r == NULL) {
            fprintf(stderr, "ingest: bad redis address: %s\n", err);
            code = -1;
        }
    }
    if (w.check_only || code != 0) {
        code = w.check_only ? es_worker_check_done(&w, code) : 2;
        es_redis_free(r);
        es_worker_cleanup(&w);
        return code;
    }
    sink = es_sink_new(r, (int)c.batch, c.dedup_ttl, c.max_len);
    if (sink == NULL) {
        es_log(ES_ERROR, "out of memory", ES_END);
        code = 1;
        goto cleanup;
    }
    es_log(ES_INFO, "starting",
           ES_STR("mode", a.backfill        ? "backfill"
                          : a.synthetic > 0 ? "synthetic"
                                            : "poll"),
           ES_STR("instance", w.instance), ES_END);
    if (!a.dry_run) {
        if (es_sink_prepare(sink) != 0 ||
            es_sink_ensure_groups(sink,
                                  es_config_str(w.cfg, "stream.groups")) != 0) {
            code = es_stopping() ? 0 : 1;
            goto cleanup;
        }
        es_sink_set_trim_interval(sink, (long long)(c.trim_interval * 1000.0));
        es_heartbeat_start(&hb, &w, r, (long long)(c.heartbeat * 1000.0), NULL);
        hb_started = 1;
    }
    if (a.backfill) {
        es_backfill_opts bo = {a.backfill,
                               a.all,
                               -1,
                               a.dry_run,
                               es_config_str(w.cfg, "redis"),
                               (int)c.batch,
                               c.dedup_ttl,
                               c.max_len};
        code = es_backfill_run(&w, r, sink, hb_started ? &hb : NULL, &bo);
    } else if (a.synthetic > 0) {
        code = es_synthetic_run(&w, r, sink, &hb, a.synthetic);
    } else {
        code = run_poller(&w, r, sink, &hb, &c, a.once);
    }

cleanup:
    if (hb_started) {
        es_heartbeat_stop(&hb);
    }
    es_log(ES_INFO, "stopped", ES_INT("code", code), ES_END);
    es_sink_free(sink);
    es_redis_free(r);
    es_worker_cleanup(&w);
    return code;
}
