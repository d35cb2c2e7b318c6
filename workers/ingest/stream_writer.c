/*
 * stream_writer.c - batches of XADDs into the stream, exactly once, from a
 * thread of their own (see stream_writer.h).
 *
 * One transaction per batch, in two round trips on one connection:
 *   1. [UNWATCH] WATCH <chunks>; FCALL_RO es_ingest_peek
 *   2. MULTI; XADD ...; FCALL es_ingest_mark; EXEC
 * The XADD bytes go out straight from the batch's buffer (writev), runs of
 * neighbouring commands as one piece. Replies are read with hiredis's
 * reader on the same socket (its output buffer is never used here).
 * Errors follow the sink's rules (sink.c): BACKPRESSURE waits for
 * consumers, a lost function library is loaded again, anything else is
 * logged and retried after a second; a stopping worker gives up after a
 * short grace, leaving the rest for a rerun.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "dedup_plan.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_redis.h"
#include "es_redis_lib.h"
#include "es_worker.h"
#include "stream_writer.h"

#define POOL       3  /* batches: one filling, one queued, one in flight */
#define STOP_TRIES 10 /* attempts a stopping writer still makes */

#define RESP_MULTI "*1\r\n$5\r\nMULTI\r\n"
#define RESP_EXEC  "*1\r\n$4\r\nEXEC\r\n"

enum { DONE = 0, AGAIN = 1, GIVE_UP = -1 };

struct es_swriter {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    es_xbatch pool[POOL];
    es_xbatch *free[POOL];
    int nfree;
    es_xbatch *queue[POOL];
    int qhead, qlen;
    int closing; /* no more batches will come */
    int failed;
    es_swriter_stats stats;

    /* the writer thread's own */
    es_swriter_opts o;
    es_redis *r;
    es_dplan plan;
    es_resp cmd;
    struct iovec *iov;
    int iovcap;
    int watching; /* the connection may hold a WATCH */
    int backpressure_logged;
    int error_logged;
};

static void lost(es_swriter *w, const char *why)
{
    w->watching = 0;
    es_redis_lost(w->r, why);
}

/* Writes every byte of iov[0..n) (advancing it), or -1 with errno. */
static int send_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        ssize_t got = writev(fd, iov, n > IOV_MAX ? IOV_MAX : n);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        while (n > 0 && (size_t)got >= iov->iov_len) {
            got -= (ssize_t)iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + got;
            iov->iov_len -= (size_t)got;
        }
    }
    return 0;
}

static redisReply *next_reply(redisContext *c)
{
    void *reply = NULL;

    if (redisGetReply(c, &reply) != REDIS_OK) {
        return NULL;
    }
    return reply;
}

/* chunk key of range g */
static void range_key(const es_drange *g, char *buf, size_t size)
{
    uint64_t id = g->chunk << ES_DEDUP_CHUNK_BITS;

    if (g->gone) {
        es_key_gone(buf, size, id);
    } else {
        es_key_seen(buf, size, id);
    }
}

/* Phase 1's commands into w->cmd: [UNWATCH] WATCH keys; FCALL_RO peek. */
static int build_peek(es_swriter *w)
{
    const es_dplan *p = &w->plan;
    int nr = p->nranges, nwatch = 0;
    char key[64], prev[64] = "";
    size_t bytes = 64 + strlen(ES_KEY_STREAM) + (size_t)nr * 3 * 64;

    es_resp_clear(&w->cmd);
    if (es_resp_reserve(&w->cmd, 16 + 4 * nr, bytes) != 0) {
        return -1;
    }
    if (w->watching) {
        es_resp_argc(&w->cmd, 1);
        es_resp_arg_str(&w->cmd, "UNWATCH");
    }
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        nwatch += strcmp(key, prev) != 0;
        memcpy(prev, key, sizeof(key));
    }
    es_resp_argc(&w->cmd, 1 + (nwatch ? nwatch : 1));
    es_resp_arg_str(&w->cmd, "WATCH");
    if (nwatch == 0) {
        es_resp_arg_str(&w->cmd, ES_KEY_STREAM); /* an empty batch */
    }
    prev[0] = '\0';
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        if (strcmp(key, prev) != 0) {
            es_resp_arg_str(&w->cmd, key);
        }
        memcpy(prev, key, sizeof(key));
    }
    es_resp_argc(&w->cmd, 5 + 3 * nr);
    es_resp_arg_str(&w->cmd, "FCALL_RO");
    es_resp_arg_str(&w->cmd, "es_ingest_peek");
    es_resp_arg_ull(&w->cmd, (unsigned long long)(1 + nr));
    es_resp_arg_str(&w->cmd, ES_KEY_STREAM);
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        es_resp_arg_str(&w->cmd, key);
    }
    es_resp_arg_ull(&w->cmd, (unsigned long long)w->o.max_len);
    for (int i = 0; i < nr; i++) {
        es_resp_arg_ull(&w->cmd, p->ranges[i].first);
        es_resp_arg_ull(&w->cmd, p->ranges[i].count);
    }
    return 0;
}

/* es_ingest_mark's command into w->cmd. */
static int build_mark(es_swriter *w, int appended)
{
    const es_dplan *p = &w->plan;
    int nr = p->nranges;
    char key[64];
    size_t bytes = 64 + strlen(ES_KEY_STREAM) + (size_t)nr * 3 * 32;

    for (int i = 0; i < nr; i++) {
        bytes += 2 * (size_t)p->ranges[i].count;
    }
    es_resp_clear(&w->cmd);
    if (es_resp_reserve(&w->cmd, 6 + 4 * nr, bytes) != 0) {
        return -1;
    }
    es_resp_argc(&w->cmd, 6 + 4 * nr);
    es_resp_arg_str(&w->cmd, "FCALL");
    es_resp_arg_str(&w->cmd, "es_ingest_mark");
    es_resp_arg_ull(&w->cmd, (unsigned long long)(1 + nr));
    es_resp_arg_str(&w->cmd, ES_KEY_STREAM);
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        es_resp_arg_str(&w->cmd, key);
    }
    es_resp_arg_ull(&w->cmd, (unsigned long long)w->o.ttl);
    es_resp_arg_ull(&w->cmd, (unsigned long long)appended);
    for (int i = 0; i < nr; i++) {
        const es_drange *g = &p->ranges[i];
        es_resp_arg_ull(&w->cmd, g->first);
        es_resp_arg(&w->cmd, (const char *)p->old + g->at, g->count);
        es_resp_arg(&w->cmd, (const char *)p->now + g->at, g->count);
    }
    return 0;
}

/* Handles an error reply: AGAIN to retry, GIVE_UP when stopping. */
static int on_error(es_swriter *w, const char *err)
{
    if (strncmp(err, "BACKPRESSURE", 12) == 0) {
        if (!w->backpressure_logged) {
            es_log(ES_WARN, "stream full, waiting for consumers",
                   ES_STR("detail", err), ES_INT("max_len", w->o.max_len),
                   ES_END);
            w->backpressure_logged = 1;
        }
        es_sleep_ms(500);
        return es_stopping() ? GIVE_UP : AGAIN;
    }
    if (strstr(err, "Function not found") || strstr(err, "function not")) {
        es_log(ES_INFO, "reloading redis functions", ES_END);
        return es_redis_load_library(w->r, &es_lua_ingest) == 0 ? AGAIN
                                                                : GIVE_UP;
    }
    if (strncmp(err, "LOADING", 7) == 0) {
        es_sleep_ms(500);
        return es_stopping() ? GIVE_UP : AGAIN;
    }
    es_log(ES_ERROR, "stream append failed", ES_STR("error", err), ES_END);
    w->error_logged = 1;
    es_sleep_ms(1000);
    return es_stopping() ? GIVE_UP : AGAIN;
}

/*
 * The XADDs of the comments to append as iovecs after MULTI, then mark and
 * EXEC. Returns the number of iovecs, or -1 without memory.
 */
static int build_iov(es_swriter *w, const es_xbatch *b)
{
    int n = 0, need = b->n + 3;
    const char *base = b->cmds.p;

    if (need > w->iovcap) {
        struct iovec *ni = realloc(w->iov, (size_t)need * sizeof(*ni));
        if (ni == NULL) {
            return -1;
        }
        w->iov = ni;
        w->iovcap = need;
    }
    w->iov[n].iov_base = (void *)RESP_MULTI;
    w->iov[n++].iov_len = sizeof(RESP_MULTI) - 1;
    for (int i = 0; i < b->n; i++) {
        const es_xitem *it = &b->items[i];
        struct iovec *last = &w->iov[n - 1];
        if (w->plan.outcome[i] == ES_DPLAN_DUPLICATE) {
            continue;
        }
        if (n > 1 && (char *)last->iov_base + last->iov_len == base + it->off) {
            last->iov_len += it->len; /* the next command: one piece */
            continue;
        }
        w->iov[n].iov_base = (void *)(base + it->off);
        w->iov[n++].iov_len = it->len;
    }
    w->iov[n].iov_base = w->cmd.p;
    w->iov[n++].iov_len = w->cmd.len;
    w->iov[n].iov_base = (void *)RESP_EXEC;
    w->iov[n++].iov_len = sizeof(RESP_EXEC) - 1;
    return n;
}

/*
 * The mark of a transaction whose XADDs ran while its mark failed (the
 * library vanished between peek and EXEC): marked again on its own, so the
 * appended comments are not appended again. Its bytes are or-ed in.
 */
static int remark(es_swriter *w)
{
    for (int tries = 0; tries < STOP_TRIES; tries++) {
        redisContext *c = es_redis_context(w->r);
        struct iovec iov;
        redisReply *rep;

        if (c == NULL) {
            return GIVE_UP;
        }
        iov.iov_base = w->cmd.p;
        iov.iov_len = w->cmd.len;
        if (send_all(c->fd, &iov, 1) != 0 || (rep = next_reply(c)) == NULL) {
            lost(w, "connection lost");
            continue;
        }
        if (rep->type != REDIS_REPLY_ERROR) {
            freeReplyObject(rep);
            return DONE;
        }
        if (on_error(w, rep->str) != AGAIN) {
            freeReplyObject(rep);
            return GIVE_UP;
        }
        freeReplyObject(rep);
    }
    return GIVE_UP;
}

static void count(es_swriter *w, const es_xbatch *b)
{
    long long add = 0, del = 0, dup = 0;

    for (int i = 0; i < b->n; i++) {
        switch (w->plan.outcome[i]) {
        case ES_DPLAN_ADD:
            add++;
            break;
        case ES_DPLAN_DELETE:
            del++;
            break;
        default:
            dup++;
        }
    }
    pthread_mutex_lock(&w->mu);
    w->stats.added += add;
    w->stats.deletions += del;
    w->stats.duplicates += dup;
    w->stats.batches++;
    pthread_mutex_unlock(&w->mu);
}

/* Reads the replies of phase 2 and judges EXEC's. */
static int finish_exec(es_swriter *w, redisContext *c, int appended)
{
    redisReply *rep, *mark;
    char queue_err[256] = "";
    int failed = 0, rc;

    /* MULTI's +OK, then QUEUED (or a refusal) for each command */
    for (int i = 0; i < appended + 2; i++) {
        rep = next_reply(c);
        if (rep == NULL) {
            lost(w, c->errstr[0] ? c->errstr : "connection lost");
            return AGAIN;
        }
        if (rep->type == REDIS_REPLY_ERROR && queue_err[0] == '\0') {
            snprintf(queue_err, sizeof(queue_err), "%s", rep->str);
        }
        freeReplyObject(rep);
    }
    rep = next_reply(c);
    if (rep == NULL) {
        lost(w, c->errstr[0] ? c->errstr : "connection lost");
        return AGAIN;
    }
    w->watching = 0; /* EXEC, run or not, ends the WATCH */
    if (rep->type == REDIS_REPLY_NIL) {
        /* a chunk changed after the peek: nothing ran, start over */
        freeReplyObject(rep);
        pthread_mutex_lock(&w->mu);
        w->stats.restarts++;
        pthread_mutex_unlock(&w->mu);
        return AGAIN;
    }
    if (rep->type != REDIS_REPLY_ARRAY ||
        rep->elements != (size_t)appended + 1) {
        rc = on_error(w, queue_err[0]                     ? queue_err
                         : rep->type == REDIS_REPLY_ERROR ? rep->str
                                                          : "unexpected reply");
        freeReplyObject(rep);
        return rc;
    }
    for (int i = 0; i < appended; i++) {
        failed += rep->element[i]->type != REDIS_REPLY_STRING;
    }
    mark = rep->element[appended];
    if (mark->type == REDIS_REPLY_ERROR) {
        char why[256];
        snprintf(why, sizeof(why), "%s", mark->str);
        freeReplyObject(rep);
        if (failed == appended) {
            /* the appends failed too (no stream there): nothing changed */
            return on_error(w, why);
        }
        es_log(ES_WARN, "batch appended but not marked; marking it again",
               ES_STR("error", why), ES_END);
        if (on_error(w, why) != AGAIN || remark(w) != DONE) {
            return GIVE_UP;
        }
        rep = NULL;
    } else if (mark->type == REDIS_REPLY_INTEGER && mark->integer > 0) {
        es_log(ES_ERROR,
               "dedup bitmaps changed inside a watched transaction; "
               "kept both",
               ES_INT("ranges", mark->integer), ES_END);
    }
    if (failed > 0) {
        es_log(ES_ERROR, "stream append failed for part of a batch",
               ES_INT("failed", failed), ES_INT("appended", appended), ES_END);
    }
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    if (w->backpressure_logged) {
        es_log(ES_INFO, "stream accepting again", ES_END);
        w->backpressure_logged = 0;
    }
    return DONE;
}

/* One attempt at a batch: DONE, AGAIN or GIVE_UP. */
static int attempt(es_swriter *w, const es_xbatch *b)
{
    redisContext *c = es_redis_context(w->r);
    redisReply *rep;
    struct iovec iov;
    int appended, n, rc;

    if (c == NULL) {
        return GIVE_UP;
    }
    if (build_peek(w) != 0) {
        es_log(ES_ERROR, "out of memory building a batch", ES_END);
        return GIVE_UP;
    }
    iov.iov_base = w->cmd.p;
    iov.iov_len = w->cmd.len;
    if (send_all(c->fd, &iov, 1) != 0) {
        lost(w, strerror(errno));
        return AGAIN;
    }
    /* [UNWATCH's +OK,] WATCH's +OK, then the peek */
    for (int i = w->watching ? 0 : 1; i < 3; i++) {
        rep = next_reply(c);
        if (rep == NULL) {
            lost(w, c->errstr[0] ? c->errstr : "connection lost");
            return AGAIN;
        }
        if (i < 2) {
            freeReplyObject(rep);
        }
    }
    w->watching = 1;
    if (rep->type == REDIS_REPLY_ERROR) {
        rc = on_error(w, rep->str);
        freeReplyObject(rep);
        return rc;
    }
    if (rep->type != REDIS_REPLY_ARRAY ||
        rep->elements != (size_t)w->plan.nranges) {
        freeReplyObject(rep);
        return on_error(w, "unexpected reply to es_ingest_peek");
    }
    for (int i = 0; i < w->plan.nranges; i++) {
        const redisReply *e = rep->element[i];
        es_dplan_set_old(&w->plan, i,
                         e->type == REDIS_REPLY_STRING ? e->str : "",
                         e->type == REDIS_REPLY_STRING ? e->len : 0);
    }
    freeReplyObject(rep);

    appended = es_dplan_decide(&w->plan, b->items, b->n);
    if (build_mark(w, appended) != 0 || (n = build_iov(w, b)) < 0) {
        es_log(ES_ERROR, "out of memory building a batch", ES_END);
        return GIVE_UP;
    }
    if (send_all(c->fd, w->iov, n) != 0) {
        lost(w, strerror(errno));
        return AGAIN;
    }
    return finish_exec(w, c, appended);
}

static int write_batch(es_swriter *w, const es_xbatch *b)
{
    int stop_tries = 0;

    if (es_dplan_ranges(&w->plan, b->items, b->n) != 0) {
        es_log(ES_ERROR, "out of memory planning a batch", ES_END);
        return GIVE_UP;
    }
    for (;;) {
        int rc;

        if (es_stopping() && stop_tries++ >= STOP_TRIES) {
            return GIVE_UP;
        }
        rc = attempt(w, b);
        if (rc != AGAIN) {
            if (rc == DONE) {
                count(w, b);
            }
            return rc;
        }
    }
}

static void *writer_main(void *arg)
{
    es_swriter *w = arg;

    for (;;) {
        es_xbatch *b;
        int rc;

        pthread_mutex_lock(&w->mu);
        while (w->qlen == 0 && !w->closing) {
            pthread_cond_wait(&w->cv, &w->mu);
        }
        if (w->qlen == 0) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        b = w->queue[w->qhead];
        pthread_mutex_unlock(&w->mu);

        rc = write_batch(w, b);

        pthread_mutex_lock(&w->mu);
        w->qhead = (w->qhead + 1) % POOL;
        w->qlen--;
        es_xbatch_clear(b);
        w->free[w->nfree++] = b;
        if (rc != DONE) {
            w->failed = 1;
            /* what is queued stays unwritten: a rerun adds it */
            while (w->qlen > 0) {
                es_xbatch *q = w->queue[w->qhead];
                w->qhead = (w->qhead + 1) % POOL;
                w->qlen--;
                es_xbatch_clear(q);
                w->free[w->nfree++] = q;
            }
        }
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        if (rc != DONE) {
            break;
        }
    }
    return NULL;
}

es_swriter *es_swriter_start(const es_swriter_opts *o, char *err, size_t errlen)
{
    es_swriter *w = calloc(1, sizeof(*w));
    sigset_t block, old;
    int rc;

    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->o = *o;
    w->r = es_redis_new(o->redis_url, err, errlen);
    if (w->r == NULL) {
        free(w);
        return NULL;
    }
    for (int i = 0; i < POOL; i++) {
        w->free[w->nfree++] = &w->pool[i];
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    /* signals are the reader thread's: its blocking read must see them */
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = pthread_create(&w->thread, NULL, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the writer thread: %s",
                 strerror(rc));
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        es_redis_free(w->r);
        free(w);
        return NULL;
    }
    return w;
}

static struct timespec deadline(long long wait_ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += wait_ms / 1000;
    until.tv_nsec += (wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return until;
}

es_xbatch *es_swriter_batch(es_swriter *w, long long wait_ms)
{
    struct timespec until = deadline(wait_ms);
    es_xbatch *b = NULL;

    pthread_mutex_lock(&w->mu);
    while (w->nfree == 0 && !w->failed) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0) {
            break;
        }
    }
    if (w->nfree > 0 && !w->failed) {
        b = w->free[--w->nfree];
    }
    pthread_mutex_unlock(&w->mu);
    return b;
}

void es_swriter_submit(es_swriter *w, es_xbatch *b)
{
    pthread_mutex_lock(&w->mu);
    if (b->n == 0 || w->failed) {
        es_xbatch_clear(b);
        w->free[w->nfree++] = b;
    } else {
        w->queue[(w->qhead + w->qlen) % POOL] = b;
        w->qlen++;
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int es_swriter_failed(es_swriter *w)
{
    int failed;

    pthread_mutex_lock(&w->mu);
    failed = w->failed;
    pthread_mutex_unlock(&w->mu);
    return failed;
}

es_swriter_stats es_swriter_get_stats(es_swriter *w)
{
    es_swriter_stats st;

    pthread_mutex_lock(&w->mu);
    st = w->stats;
    pthread_mutex_unlock(&w->mu);
    return st;
}

int es_swriter_drain(es_swriter *w, long long wait_ms)
{
    struct timespec until = deadline(wait_ms);
    int done;

    pthread_mutex_lock(&w->mu);
    while (w->qlen > 0 && !w->failed) {
        if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0) {
            break;
        }
    }
    done = w->qlen == 0 || w->failed;
    pthread_mutex_unlock(&w->mu);
    return done;
}

int es_swriter_finish(es_swriter *w)
{
    pthread_mutex_lock(&w->mu);
    w->closing = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    return w->failed ? -1 : 0;
}

void es_swriter_free(es_swriter *w)
{
    if (w == NULL) {
        return;
    }
    for (int i = 0; i < POOL; i++) {
        es_xbatch_free(&w->pool[i]);
    }
    es_dplan_free(&w->plan);
    es_resp_free(&w->cmd);
    free(w->iov);
    es_redis_free(w->r);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
