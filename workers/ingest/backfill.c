/*
 * backfill.c - a dump file into the comment stream (see backfill.h).
 *
 * Two threads. This one reads a line, parses and filters it, builds the
 * comment's stream entry (stream_entry.h) and writes it as a ready-to-send
 * XADD into the batch being filled; a full batch (ingest.batch comments)
 * goes to the writer thread (stream_writer.h), which commits it to Redis
 * while this one fills the next. Everything per line is allocation-free; the
 * clock is read every 1,024 lines only, to draw the progress line (at most
 * four times a second, on a terminal), to send heartbeats and to let the
 * sink trim the stream. A malformed line never stops the run: the first
 * few are logged with an excerpt, the rest only counted; so are comments
 * whose id or subreddit is invalid.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backfill.h"
#include "dump_comment.h"
#include "dump_reader.h"
#include "es_log.h"
#include "es_utf8.h"
#include "stream_entry.h"
#include "stream_writer.h"
#include "watchlist.h"

#define MALFORMED_LOGGED 5
#define EXCERPT          240
#define BATCH_BYTES      (4u << 20) /* a batch is sent once this large */
#define WAIT_MS          250        /* for a free batch, between heartbeats */

typedef struct {
    long long lines, kept, malformed, rejected;
    long long t0, last_draw;
    long long size;
    int progress;
} run_state;

static void fmt_eta(char *buf, size_t size, double secs)
{
    long long s = (long long)(secs + 0.5);

    if (s >= 3600) {
        snprintf(buf, size, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    } else {
        snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
    }
}

static void draw_progress(const run_state *st, es_dump_reader *rd,
                          long long now)
{
    double secs = (double)(now - st->t0) / 1000.0;
    double rate = secs > 0 ? (double)st->lines / secs : 0;
    char line[200], eta[32];
    int n;

    n = snprintf(line, sizeof(line),
                 "\rbackfill: %lld lines, %lld kept, "
                 "%.0f lines/s",
                 st->lines, st->kept, rate);
    if (st->size > 0 && n > 0 && (size_t)n < sizeof(line)) {
        double done = (double)es_dump_reader_offset(rd) / (double)st->size;
        double left = done > 0 ? secs * (1 - done) / done : 0;
        fmt_eta(eta, sizeof(eta), left);
        snprintf(line + n, sizeof(line) - (size_t)n, ", %.1f%%, ETA %s   ",
                 done * 100, eta);
    }
    fputs(line, stderr);
    fflush(stderr);
}

static void beat(es_heartbeat *hb, const run_state *st, long long now)
{
    double secs = (double)(now - st->t0) / 1000.0;
    json_t *status;

    if (hb == NULL) {
        return;
    }
    status = json_pack("{s:s, s:I, s:I, s:I, s:f}", "mode", "backfill", "lines",
                       (json_int_t)st->lines, "kept", (json_int_t)st->kept,
                       "malformed", (json_int_t)st->malformed, "rate",
                       secs > 0 ? (double)st->lines / secs : 0.0);
    es_heartbeat_tick(hb, status);
    json_decref(status);
}

static void log_malformed(const run_state *st, const es_dump_parser *p,
                          const char *line, size_t n)
{
    char excerpt[EXCERPT + 1];
    size_t k = es_utf8_cut(line, n, EXCERPT);

    memcpy(excerpt, line, k);
    excerpt[k] = '\0';
    es_log(ES_WARN, "malformed dump line", ES_INT("line", st->lines),
           ES_STR("reason", p->error ? p->error : "unknown"),
           ES_INT("offset", p->error_off), ES_INT("bytes", n),
           ES_STR("excerpt", excerpt), ES_END);
    if (st->malformed == MALFORMED_LOGGED) {
        es_log(ES_WARN, "further malformed lines are only counted", ES_END);
    }
}

static void log_rejected(const run_state *st, const char *why,
                         const es_comment *c)
{
    char id[32];
    size_t n = c->id.n < sizeof(id) - 1 ? c->id.n : sizeof(id) - 1;

    es_utf8_repair(c->id.s ? c->id.s : "", c->id.s ? n : 0, id, sizeof(id));
    es_log(ES_WARN, "comment rejected", ES_STR("reason", why), ES_STR("id", id),
           ES_STR("source", c->source), ES_INT("line", st->lines), ES_END);
    if (st->rejected == MALFORMED_LOGGED) {
        es_log(ES_WARN, "further rejected comments are only counted", ES_END);
    }
}

/* Periodic work: progress line, heartbeat, stream trim. */
static void tick(run_state *st, es_dump_reader *rd, es_heartbeat *hb,
                 es_sink *sink, long long now)
{
    if (now - st->last_draw < 250) {
        return;
    }
    st->last_draw = now;
    if (st->progress) {
        draw_progress(st, rd, now);
    }
    beat(hb, st, now);
    if (sink != NULL) {
        es_sink_tick(sink);
    }
}

/*
 * The next batch to fill, once the writer hands one back; meanwhile the
 * periodic work goes on. NULL when stopping or the writer gave up.
 */
static es_xbatch *next_batch(es_swriter *wr, run_state *st, es_dump_reader *rd,
                             es_heartbeat *hb, es_sink *sink)
{
    for (;;) {
        es_xbatch *b = es_swriter_batch(wr, WAIT_MS);
        if (b != NULL || es_swriter_failed(wr) || es_stopping()) {
            return b;
        }
        tick(st, rd, hb, sink, es_mono_ms());
    }
}

/* Loads the watchlist for the filter; NULL when stopping or empty memory. */
static es_watchlist *load_watchlist(es_redis *r)
{
    es_watchlist *wl = es_watchlist_new();

    if (wl == NULL) {
        es_log(ES_ERROR, "out of memory", ES_END);
        return NULL;
    }
    if (es_watchlist_refresh(wl, r) < 0) {
        es_watchlist_free(wl);
        return NULL;
    }
    if (es_watchlist_count(wl) == 0) {
        es_log(ES_WARN,
               "watchlist is empty: no comment will be kept "
               "(--all keeps every subreddit)",
               ES_END);
    }
    return wl;
}

int es_backfill_run(es_worker *w, es_redis *r, es_sink *sink, es_heartbeat *hb,
                    const es_backfill_opts *o)
{
    es_dump_parser parser = {0};
    es_dump_reader *rd = NULL;
    es_watchlist *wl = NULL;
    es_swriter *wr = NULL;
    es_xbatch *cur = NULL;
    es_entry entry = {0};
    run_state st = {0};
    es_swriter_stats ws = {0};
    char err[512];
    int rc = 0, stopped = 0, write_stop = 0;
    double secs;

    (void)w;
    if (!o->all) {
        wl = load_watchlist(r);
        if (wl == NULL) {
            rc = es_stopping() ? 0 : 1;
            goto cleanup;
        }
    }
    rd = es_dump_reader_open(o->path, 0, err, sizeof(err));
    if (rd == NULL) {
        es_log(ES_ERROR, "backfill failed", ES_STR("error", err), ES_END);
        rc = 1;
        goto cleanup;
    }
    if (!o->dry_run) {
        es_swriter_opts wo = {o->redis_url, o->dedup_ttl, o->max_len};
        wr = es_swriter_start(&wo, err, sizeof(err));
        if (wr == NULL) {
            es_log(ES_ERROR, "backfill failed", ES_STR("error", err), ES_END);
            rc = 1;
            goto cleanup;
        }
        cur = es_swriter_batch(wr, 0); /* the pool starts full */
    }
    st.progress = o->progress < 0 ? isatty(STDERR_FILENO) : o->progress;
    st.size = es_dump_reader_size(rd);
    st.t0 = st.last_draw = es_mono_ms();
    es_log(ES_INFO, "backfill started", ES_STR("path", o->path),
           ES_STR("filter", o->all ? "all" : "watchlist"),
           ES_INT("size", st.size), ES_INT("dry_run", o->dry_run),
           ES_INT("batch", o->batch), ES_END);

    for (;;) {
        const char *line, *why;
        size_t n;
        es_comment c;
        es_dump_result res;
        int got;

        if ((st.lines & 1023) == 0) {
            if (es_stopping()) {
                stopped = 1;
                break;
            }
            tick(&st, rd, hb, sink, es_mono_ms());
        }
        got = es_dump_reader_next(rd, &line, &n);
        if (got == 0) {
            break;
        }
        if (got < 0) {
            if (es_dump_reader_interrupted(rd)) {
                if (es_stopping()) {
                    stopped = 1;
                    break;
                }
                continue;
            }
            es_log(ES_ERROR, "dump unreadable, stopping",
                   ES_STR("path", o->path),
                   ES_STR("error", es_dump_reader_error(rd)),
                   ES_INT("lines", st.lines), ES_END);
            rc = 1;
            break;
        }
        st.lines++;
        res = es_dump_comment_parse(&parser, line, n, wl, &c);
        if (res == ES_DUMP_FILTERED) {
            continue;
        }
        if (res == ES_DUMP_MALFORMED) {
            st.malformed++;
            if (st.malformed <= MALFORMED_LOGGED) {
                log_malformed(&st, &parser, line, n);
            }
            continue;
        }
        st.kept++;
        if (o->dry_run) {
            continue;
        }
        why = es_entry_build(&entry, &c);
        if (why == NULL && es_xbatch_add(cur, &entry) != 0) {
            why = "out of memory";
        }
        if (why != NULL) {
            st.rejected++;
            if (st.rejected <= MALFORMED_LOGGED) {
                log_rejected(&st, why, &c);
            }
            continue;
        }
        if (cur->n >= o->batch || es_xbatch_bytes(cur) >= BATCH_BYTES) {
            es_swriter_submit(wr, cur);
            cur = next_batch(wr, &st, rd, hb, sink);
            if (cur == NULL) {
                if (es_swriter_failed(wr)) {
                    write_stop = 1;
                } else {
                    stopped = 1;
                }
                break;
            }
        }
    }
    if (wr != NULL) {
        if (cur != NULL) {
            es_swriter_submit(wr, cur);
        }
        while (!es_swriter_drain(wr, WAIT_MS)) {
            tick(&st, rd, hb, sink, es_mono_ms());
        }
        if (es_swriter_finish(wr) != 0) {
            write_stop = 1;
        }
        ws = es_swriter_get_stats(wr);
    }
    if (st.progress) {
        draw_progress(&st, rd, es_mono_ms());
        fputc('\n', stderr);
    }
    if (write_stop) {
        es_log(ES_WARN,
               "stopped before the last batch was written; "
               "running the same backfill again is safe "
               "(comments are de-duplicated)",
               ES_END);
    } else if (stopped) {
        es_log(ES_INFO,
               "backfill stopped by signal after flushing; "
               "running it again resumes safely "
               "(comments are de-duplicated)",
               ES_END);
    }
    secs = (double)(es_mono_ms() - st.t0) / 1000.0;
    es_log(
        rc == 0 ? ES_INFO : ES_WARN, "backfill done", ES_INT("lines", st.lines),
        ES_INT("kept", st.kept), ES_INT("added", ws.added),
        ES_INT("duplicates", ws.duplicates), ES_INT("deletions", ws.deletions),
        ES_INT("rejected", st.rejected), ES_INT("malformed", st.malformed),
        ES_INT("too_long", es_dump_reader_skipped(rd)),
        ES_INT("restarts", ws.restarts), ES_INT("missed", ws.missed),
        ES_DBL("waited_for_redis", (double)ws.full_ms / 1000.0),
        ES_DBL("waited_for_lines", (double)ws.idle_ms / 1000.0),
        ES_DBL("seconds", secs),
        ES_DBL("rate", secs > 0 ? (double)st.lines / secs : 0.0),
        ES_STR("complete", rc == 0 && !stopped && !write_stop ? "yes" : "no"),
        ES_END);

cleanup:
    es_swriter_free(wr);
    es_entry_cleanup(&entry);
    es_dump_reader_close(rd);
    es_dump_comment_cleanup(&parser);
    es_watchlist_free(wl);
    return rc;
}
