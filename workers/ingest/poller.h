/*
 * poller.h - the Reddit poller: which subreddit to ask next, and when.
 *
 * The watch set is the union of every tenant's topics (es:{watch}:subs),
 * re-read whenever its version counter moves, so each distinct subreddit is
 * polled once however many tenants watch it, and changes apply without a
 * restart. Each subreddit keeps a cursor in es:{ingest}:cursor:<sub>: the
 * fullname of the newest comment already streamed plus its rate estimate.
 *
 * A poll of a subreddit alone asks for the comments right after its
 * cursor (?before=<cursor>), following pages while they come back full,
 * and hands them to the sink oldest first. The cursor moves only after the sink
 * has flushed, so a crash at any point at worst fetches comments again (the
 * sink drops repeats) and never skips one. When the cursor comment vanishes
 * Reddit answers ?before= with nothing forever; a probe (newest page, then
 * pages back with ?after= down to the cursor) runs when polls come back empty
 * although comments were due, and every ingest.probe_every polls anyway,
 * which also re-reads recent comments so deletions reach the sink.
 *
 * The whole budget (reddit.qpm requests a minute, token requests included)
 * is spent, shared fairly: quiet subreddits are read in groups through one
 * combined listing (/r/a+b+c/comments, poll_group.h; poll_plan.h says
 * which), busy ones alone, and each request goes to the unit, group or
 * subreddit, that is most overdue (reddit_pacing.h: es_poll_urgency), no
 * unit more often than every ingest.min_interval. With 60 subreddits that
 * is every few seconds each, instead of every 36 s one request apiece
 * would allow, or the 120 s a quiet subreddit's interval used to back off
 * to. Each subreddit's rate is an EWMA; subreddits that would overflow
 * Reddit's ~1,000 item listing in a cycle are reported (log on change,
 * heartbeat, es:{ingest}:budget).
 *
 * Several ingest processes may run (a spare, or one per machine): only the
 * holder of the poller's lease polls (poll_lease.h), the others stand by
 * and take over when it stops or its lease runs out.
 */
#ifndef ES_INGEST_POLLER_H
#define ES_INGEST_POLLER_H

#include "es_heartbeat.h"
#include "es_redis.h"
#include "es_worker.h"
#include "reddit_client.h"
#include "sink.h"

typedef struct {
    double min_interval;  /* seconds */
    double max_interval;  /* seconds */
    double watch_refresh; /* seconds */
    double qpm;           /* budget, requests per minute */
    double lease;         /* seconds the poller's lease lasts unrenewed */
    int probe_every;      /* polls between probes (0: only when stuck) */
    int once;             /* one round over every subreddit, then return */
} es_poller_opts;

/*
 * Runs until SIGTERM (or one round with once). SIGTERM ends the loop after
 * the request in hand; Redis calls still get a short grace period
 * (es_redis.h), so the final flush, cursors and heartbeat are written. The
 * client, sink and heartbeat are borrowed. Returns
 * the process exit code: 0 after a clean stop (sink flushed, cursors written),
 * 1 on a fatal error.
 */
int es_poller_run(es_worker *w, es_redis *r, es_sink *sink, es_heartbeat *hb,
                  es_reddit_client *rc, const es_poller_opts *o);

#endif
