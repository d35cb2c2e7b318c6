/*
 * stream_writer.c - batches of XADDs into the stream, exactly once, from a
 * thread of their own (see stream_writer.h).
 *
 * One transaction per batch on one connection:
 *   1. [UNWATCH] WATCH <chunks>; FCALL_RO es_ingest_peek
 *   2. MULTI; XADD ...; FCALL es_ingest_mark; EXEC
 * and step 1 of the next batch, when the reader has one ready, goes out in
 * the same write as step 2: Redis then peeks for it right after the EXEC
 * (so it sees what that EXEC wrote) without waiting a round trip for the
 * writer, which only has to read the replies, decide and send the next
 * step 2. Should the EXEC not run, that next peek's replies are read and
 * dropped, and the batch starts over with UNWATCH first.
 *
 * Sent ahead: Redis would still wait for the writer between a batch's
 * peek and its step 2, a round trip per batch. So while the peeks keep
 * showing what the writer could guess without asking (the chunk bytes
 * zero but for those of the batch just before, as in a first backfill),
 * the next batch's MULTI, XADDs and mark are decided on that guess and go
 * out behind its step 1: Redis queues the XADDs while the writer reads
 * the peek's answer, and only the EXEC waits on the writer. The EXEC is sent
 * only when the peek shows exactly the guessed bytes, so the decision is
 * the one the peek's answer gives, and WATCH keeps it true until EXEC; a
 * wrong guess sends DISCARD (which also ends the WATCH) and the batch
 * starts over from the peek, and no further batch goes ahead until a
 * guess is right again (a replay never sends ahead). A batch sent ahead
 * behind an EXEC that does not run is discarded the same way, so batches
 * commit in order.
 * The XADD bytes go out straight from the batch's buffer (writev), runs of
 * neighbouring commands as one piece, and the replies are read straight
 * from the socket (resp.h): hiredis only connects (es_redis_context) and
 * loads the library, never with a reply of ours unread.
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
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include "dedup_plan.h"
#include "es_keys.h"
#include "es_log.h"
#include "es_redis.h"
#include "es_redis_lib.h"
#include "es_worker.h"
#include "stream_writer.h"

#define POOL        10 /* batches: one filling, the rest queued or sent */
#define STOP_TRIES  10 /* attempts a stopping writer still makes */
#define SEND_BUFFER (4 << 20) /* bytes: a whole batch (backfill.c) */

#define RESP_MULTI   "*1\r\n$5\r\nMULTI\r\n"
#define RESP_EXEC    "*1\r\n$4\r\nEXEC\r\n"
#define RESP_DISCARD "*1\r\n$7\r\nDISCARD\r\n"

/* REFUSED: Redis answered an error, in w->err, for on_error to judge once
   the connection holds no unread reply */
enum { DONE = 0, AGAIN = 1, REFUSED = 2, GIVE_UP = -1 };

/* a batch on its way: its plan and its commands */
typedef struct {
    const es_xbatch *b;
    es_dplan plan;
    es_resp peek; /* [UNWATCH] WATCH; FCALL_RO es_ingest_peek */
    es_resp mark; /* FCALL es_ingest_mark */
    int unwatch;  /* peek starts with UNWATCH */
    int sent;     /* peek sent, its replies unread */
    int guessed;  /* plan.old holds a guess (es_dplan_guess), unchecked */
    int ahead;    /* MULTI, the XADDs and the mark sent behind the peek,
                     decided on the guess: EXEC waits for the peek */
    int appended; /* entries the commands sent ahead append */
} flight;

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
    flight fl[2];  /* this batch and the next one */
    es_resp_in in; /* replies, read from the socket */
    struct iovec *iov;
    int iovcap;
    int watching; /* the connection may hold a WATCH */
    int guess_ok; /* the last guess checked was right: send ahead */
    int backpressure_logged;
    char err[256]; /* the error reply behind REFUSED */
};

static void lost(es_swriter *w, const char *why)
{
    w->watching = 0;
    w->fl[0].sent = w->fl[1].sent = 0;
    w->fl[0].ahead = w->fl[1].ahead = 0; /* a lost MULTI did nothing */
    es_resp_in_reset(&w->in);
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

/* One reply line (see es_resp_in_line); -1 after dropping the connection. */
static int reply_line(es_swriter *w, redisContext *c, char *type,
                      const char **s, size_t *n)
{
    if (es_resp_in_line(&w->in, c->fd, type, s, n) != 0) {
        lost(w, errno ? strerror(errno) : "connection lost");
        return -1;
    }
    return 0;
}

/* Reads one whole reply and drops it; -1 after dropping the connection. */
static int skip_reply(es_swriter *w, redisContext *c)
{
    const char *s, *bulk;
    size_t n;
    long long v;
    char type;

    if (reply_line(w, c, &type, &s, &n) != 0) {
        return -1;
    }
    if (type == '$' && es_resp_in_num(s, n, &v) == 0 && v >= 0) {
        if (es_resp_in_bulk(&w->in, c->fd, (size_t)v, &bulk) != 0) {
            lost(w, "bad reply");
            return -1;
        }
    } else if (type == '*' && es_resp_in_num(s, n, &v) == 0) {
        for (long long i = 0; i < v; i++) {
            if (skip_reply(w, c) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* text[0..n) as a C string in buf */
static const char *text(char *buf, size_t size, const char *s, size_t n)
{
    if (n >= size) {
        n = size - 1;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
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

/*
 * Plans a batch and builds its step 1: [UNWATCH] WATCH keys; FCALL_RO
 * es_ingest_peek. 0, or -1 without memory.
 */
static int prepare(es_swriter *w, flight *f, const es_xbatch *b, int unwatch)
{
    const es_dplan *p = &f->plan;
    char key[64], prev[64] = "";
    size_t bytes;
    int nr, nwatch = 0;

    if (f->b != b) {
        if (es_dplan_ranges(&f->plan, b->items, b->n) != 0) {
            return -1;
        }
        f->b = b;
    }
    nr = p->nranges;
    bytes = 64 + strlen(ES_KEY_STREAM) + (size_t)nr * 3 * 64;
    es_resp_clear(&f->peek);
    if (es_resp_reserve(&f->peek, 16 + 4 * nr, bytes) != 0) {
        return -1;
    }
    f->unwatch = unwatch;
    if (unwatch) {
        es_resp_argc(&f->peek, 1);
        es_resp_arg_str(&f->peek, "UNWATCH");
    }
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        nwatch += strcmp(key, prev) != 0;
        memcpy(prev, key, sizeof(key));
    }
    es_resp_argc(&f->peek, 1 + nwatch);
    es_resp_arg_str(&f->peek, "WATCH");
    prev[0] = '\0';
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        if (strcmp(key, prev) != 0) {
            es_resp_arg_str(&f->peek, key);
        }
        memcpy(prev, key, sizeof(key));
    }
    es_resp_argc(&f->peek, 5 + 3 * nr);
    es_resp_arg_str(&f->peek, "FCALL_RO");
    es_resp_arg_str(&f->peek, "es_ingest_peek");
    es_resp_arg_ull(&f->peek, (unsigned long long)(1 + nr));
    es_resp_arg_str(&f->peek, ES_KEY_STREAM);
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        es_resp_arg_str(&f->peek, key);
    }
    es_resp_arg_ull(&f->peek, (unsigned long long)w->o.max_len);
    for (int i = 0; i < nr; i++) {
        es_resp_arg_ull(&f->peek, p->ranges[i].first);
        es_resp_arg_ull(&f->peek, p->ranges[i].count);
    }
    return 0;
}

/* es_ingest_mark's command into f->mark. */
static int build_mark(es_swriter *w, flight *f, int appended)
{
    const es_dplan *p = &f->plan;
    int nr = p->nranges;
    char key[64];
    size_t bytes = 64 + strlen(ES_KEY_STREAM) + (size_t)nr * 3 * 32;

    for (int i = 0; i < nr; i++) {
        bytes += 2 * (size_t)p->ranges[i].count;
    }
    es_resp_clear(&f->mark);
    if (es_resp_reserve(&f->mark, 6 + 4 * nr, bytes) != 0) {
        return -1;
    }
    es_resp_argc(&f->mark, 6 + 4 * nr);
    es_resp_arg_str(&f->mark, "FCALL");
    es_resp_arg_str(&f->mark, "es_ingest_mark");
    es_resp_arg_ull(&f->mark, (unsigned long long)(1 + nr));
    es_resp_arg_str(&f->mark, ES_KEY_STREAM);
    for (int i = 0; i < nr; i++) {
        range_key(&p->ranges[i], key, sizeof(key));
        es_resp_arg_str(&f->mark, key);
    }
    es_resp_arg_ull(&f->mark, (unsigned long long)w->o.ttl);
    es_resp_arg_ull(&f->mark, (unsigned long long)appended);
    for (int i = 0; i < nr; i++) {
        const es_drange *g = &p->ranges[i];
        es_resp_arg_ull(&f->mark, g->first);
        es_resp_arg(&f->mark, (const char *)p->old + g->at, g->count);
        es_resp_arg(&f->mark, (const char *)p->now + g->at, g->count);
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
    es_sleep_ms(1000);
    return es_stopping() ? GIVE_UP : AGAIN;
}

/* room for n more iovecs */
static int iov_room(es_swriter *w, int n)
{
    if (n > w->iovcap) {
        struct iovec *ni = realloc(w->iov, (size_t)n * sizeof(*ni));
        if (ni == NULL) {
            return -1;
        }
        w->iov = ni;
        w->iovcap = n;
    }
    return 0;
}

/* MULTI, the XADDs of f's comments to append, f's mark: from iov[n] on */
static int put_transaction(es_swriter *w, int n, const flight *f)
{
    const es_xbatch *b = f->b;
    const char *base = b->cmds.p;
    int first = n;

    w->iov[n].iov_base = (void *)RESP_MULTI;
    w->iov[n++].iov_len = sizeof(RESP_MULTI) - 1;
    for (int i = 0; i < b->n; i++) {
        const es_xitem *it = &b->items[i];
        struct iovec *last = &w->iov[n - 1];
        if (f->plan.outcome[i] == ES_DPLAN_DUPLICATE) {
            continue;
        }
        if (n > first + 1 &&
            (char *)last->iov_base + last->iov_len == base + it->off) {
            last->iov_len += it->len; /* the next command: one piece */
            continue;
        }
        w->iov[n].iov_base = (void *)(base + it->off);
        w->iov[n++].iov_len = it->len;
    }
    w->iov[n].iov_base = f->mark.p;
    w->iov[n++].iov_len = f->mark.len;
    return n;
}

/*
 * Step 2 as iovecs: MULTI, the XADDs of the comments to append and mark
 * (unless sent ahead), EXEC, then the next batch's step 1 when there is
 * one, with its transaction when it goes ahead. Returns the number of
 * iovecs, or -1 without memory.
 */
static int build_iov(es_swriter *w, const flight *f, const flight *next)
{
    int n = 0;

    if (iov_room(w, f->b->n + (next ? next->b->n : 0) + 8) != 0) {
        return -1;
    }
    if (!f->ahead) {
        n = put_transaction(w, n, f);
    }
    w->iov[n].iov_base = (void *)RESP_EXEC;
    w->iov[n++].iov_len = sizeof(RESP_EXEC) - 1;
    if (next != NULL) {
        w->iov[n].iov_base = next->peek.p;
        w->iov[n++].iov_len = next->peek.len;
        if (next->ahead) {
            n = put_transaction(w, n, next);
        }
    }
    return n;
}

/*
 * The mark of a transaction whose XADDs ran while its mark failed (the
 * library vanished between peek and EXEC): marked again on its own, so the
 * appended comments are not appended again. Its bytes are or-ed in.
 */
static int remark(es_swriter *w, flight *f)
{
    for (int tries = 0; tries < STOP_TRIES; tries++) {
        redisContext *c = es_redis_context(w->r);
        struct iovec iov;
        const char *s;
        size_t n;
        char type, msg[256];

        if (c == NULL) {
            return GIVE_UP;
        }
        iov.iov_base = f->mark.p;
        iov.iov_len = f->mark.len;
        if (send_all(c->fd, &iov, 1) != 0) {
            lost(w, strerror(errno));
            continue;
        }
        if (reply_line(w, c, &type, &s, &n) != 0) {
            continue;
        }
        if (type != '-') {
            return DONE;
        }
        if (on_error(w, text(msg, sizeof(msg), s, n)) != AGAIN) {
            return GIVE_UP;
        }
    }
    return GIVE_UP;
}

static void count(es_swriter *w, const flight *f)
{
    long long add = 0, del = 0, dup = 0;

    for (int i = 0; i < f->b->n; i++) {
        switch (f->plan.outcome[i]) {
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

/*
 * Reads step 1's replies into f's plan: DONE, AGAIN or REFUSED. A plan
 * whose old bytes were a guess sets w->guess_ok to whether it was right.
 */
static int read_peek(es_swriter *w, redisContext *c, flight *f)
{
    const char *s, *bulk;
    size_t n;
    long long v;
    char type;
    int right = 1;

    f->sent = 0;
    /* [UNWATCH's +OK,] WATCH's +OK, then the peek */
    for (int i = f->unwatch ? 0 : 1; i < 2; i++) {
        if (reply_line(w, c, &type, &s, &n) != 0) {
            return AGAIN;
        }
    }
    w->watching = 1;
    if (reply_line(w, c, &type, &s, &n) != 0) {
        return AGAIN;
    }
    if (type == '-') {
        text(w->err, sizeof(w->err), s, n);
        return REFUSED;
    }
    if (type != '*' || es_resp_in_num(s, n, &v) != 0 || v != f->plan.nranges) {
        lost(w, "unexpected reply to es_ingest_peek");
        return AGAIN;
    }
    for (int i = 0; i < f->plan.nranges; i++) {
        if (reply_line(w, c, &type, &s, &n) != 0) {
            return AGAIN;
        }
        if (type != '$' || es_resp_in_num(s, n, &v) != 0 || v < 0 ||
            es_resp_in_bulk(&w->in, c->fd, (size_t)v, &bulk) != 0) {
            lost(w, "unexpected reply to es_ingest_peek");
            return AGAIN;
        }
        if (f->guessed && right) {
            right = es_dplan_old_is(&f->plan, i, bulk, (size_t)v);
        }
        es_dplan_set_old(&f->plan, i, bulk, (size_t)v);
    }
    if (f->guessed) {
        w->guess_ok = right;
        f->guessed = 0; /* a retry's peek compares with Redis's bytes */
    }
    return DONE;
}

/*
 * Ends the transaction f sent ahead (its MULTI, XADDs and mark queued,
 * their replies unread, the peek's read): DISCARD, which also ends the
 * WATCH. 0, or -1 after dropping the connection.
 */
static int discard(es_swriter *w, redisContext *c, flight *f)
{
    struct iovec iov;

    f->ahead = 0;
    iov.iov_base = (void *)RESP_DISCARD;
    iov.iov_len = sizeof(RESP_DISCARD) - 1;
    if (send_all(c->fd, &iov, 1) != 0) {
        lost(w, strerror(errno));
        return -1;
    }
    /* MULTI's +OK, a QUEUED per command, DISCARD's +OK */
    for (int i = 0; i < f->appended + 3; i++) {
        if (skip_reply(w, c) != 0) {
            return -1;
        }
    }
    w->watching = 0;
    return 0;
}

/*
 * Reads step 2's replies and judges EXEC's: DONE, AGAIN or GIVE_UP. A
 * next batch's step 1 sent behind it stays unread when EXEC ran.
 */
static int read_exec(es_swriter *w, redisContext *c, flight *f, int appended)
{
    char queue_err[256] = "", why[256], type;
    const char *s, *bulk;
    size_t n;
    long long v, conflicts = 0;
    int failed = 0, mark_failed = 0;

    /* MULTI's +OK, then QUEUED (or a refusal, which is longer) for each
     * command: all there before the writer looks */
    if (es_resp_in_wait(&w->in, c->fd,
                        5 + (sizeof("+QUEUED\r\n") - 1) *
                                (size_t)(appended + 1)) != 0) {
        lost(w, "no reply to MULTI");
        return AGAIN;
    }
    for (int i = 0; i < appended + 2; i++) {
        if (reply_line(w, c, &type, &s, &n) != 0) {
            return AGAIN;
        }
        if (type == '-' && queue_err[0] == '\0') {
            text(queue_err, sizeof(queue_err), s, n);
        }
    }
    if (reply_line(w, c, &type, &s, &n) != 0) {
        return AGAIN;
    }
    w->watching = 0; /* EXEC, run or not, ends the WATCH */
    if (type == '*' && es_resp_in_num(s, n, &v) == 0 && v < 0) {
        /* a chunk changed after the peek: nothing ran, start over */
        pthread_mutex_lock(&w->mu);
        w->stats.restarts++;
        pthread_mutex_unlock(&w->mu);
        return AGAIN;
    }
    if (type != '*' || es_resp_in_num(s, n, &v) != 0 ||
        v != (long long)appended + 1) {
        text(w->err, sizeof(w->err),
             queue_err[0]  ? queue_err
             : type == '-' ? s
                           : "unexpected reply to EXEC",
             queue_err[0]  ? strlen(queue_err)
             : type == '-' ? n
                           : strlen("unexpected reply to EXEC"));
        return REFUSED;
    }
    /* the XADDs' ids (or errors), then the mark's answer */
    for (int i = 0; i <= appended; i++) {
        if (reply_line(w, c, &type, &s, &n) != 0) {
            return AGAIN;
        }
        if (type == '$') {
            if (es_resp_in_num(s, n, &v) != 0 ||
                (v >= 0 &&
                 es_resp_in_bulk(&w->in, c->fd, (size_t)v, &bulk) != 0)) {
                lost(w, "bad reply to EXEC");
                return AGAIN;
            }
        } else if (type == '*') {
            lost(w, "bad reply to EXEC");
            return AGAIN;
        }
        if (i < appended) {
            failed += type != '$';
        } else if (type == '-') {
            mark_failed = 1;
            text(why, sizeof(why), s, n);
        } else if (type == ':' && es_resp_in_num(s, n, &v) == 0) {
            conflicts = v;
        }
    }
    if (mark_failed) {
        if (failed == appended) {
            /* the appends failed too (no stream there): nothing changed */
            return on_error(w, why);
        }
        es_log(ES_WARN, "batch appended but not marked; marking it again",
               ES_STR("error", why), ES_END);
        /* what follows on the connection is the next peek: read it first */
        if (w->fl[0].sent + w->fl[1].sent > 0) {
            lost(w, "marking again");
        }
        if (on_error(w, why) != AGAIN || remark(w, f) != DONE) {
            return GIVE_UP;
        }
    } else if (conflicts > 0) {
        es_log(ES_ERROR,
               "dedup bitmaps changed inside a watched transaction; "
               "kept both",
               ES_INT("ranges", conflicts), ES_END);
    }
    if (failed > 0) {
        es_log(ES_ERROR, "stream append failed for part of a batch",
               ES_INT("failed", failed), ES_INT("appended", appended), ES_END);
    }
    if (w->backpressure_logged) {
        es_log(ES_INFO, "stream accepting again", ES_END);
        w->backpressure_logged = 0;
    }
    return DONE;
}

/* The batch after the one in hand, if the reader submitted it already. */
static const es_xbatch *queued_next(es_swriter *w)
{
    const es_xbatch *b = NULL;

    pthread_mutex_lock(&w->mu);
    if (w->qlen >= 2) {
        b = w->queue[(w->qhead + 1) % POOL];
    }
    pthread_mutex_unlock(&w->mu);
    return b;
}

/*
 * Lets the socket take a whole batch at once (best effort: the kernel caps
 * it at net.core.wmem_max), so the writer is not woken for every piece
 * Redis reads while it parses the batch.
 */
static void roomy(redisContext *c)
{
    int size = SEND_BUFFER;

    setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/*
 * Plans the batch after f's, nb, into next: its step 1, and when the
 * guesses have been right, its transaction decided on the guess, to go
 * out ahead of the peek's answer. 0, or -1 without memory.
 */
static int plan_next(es_swriter *w, const flight *f, flight *next,
                     const es_xbatch *nb)
{
    next->ahead = 0;
    if (prepare(w, next, nb, 0) != 0) {
        return -1;
    }
    /* the chunks as they will be once f's EXEC ran, if nothing else
       wrote them: zeros, and f's new bytes where the two overlap */
    es_dplan_guess(&next->plan, &f->plan);
    next->guessed = 1;
    if (w->guess_ok && !w->backpressure_logged) {
        next->appended = es_dplan_decide(&next->plan, nb->items, nb->n);
        if (build_mark(w, next, next->appended) != 0) {
            return -1;
        }
        next->ahead = 1;
    }
    return 0;
}

/* One attempt at f's batch: DONE, AGAIN or GIVE_UP. */
static int attempt(es_swriter *w, flight *f, flight *next)
{
    redisContext *c = es_redis_context(w->r);
    const es_xbatch *nb;
    struct iovec iov;
    int appended, niov, rc;

    if (c == NULL) {
        return GIVE_UP;
    }
    roomy(c); /* each attempt: a reconnect may have replaced c */
    if (!f->sent) {
        f->ahead = 0;
        if (es_resp_in_pending(&w->in)) {
            lost(w, "unexpected bytes from redis");
            return AGAIN;
        }
        if (prepare(w, f, f->b, w->watching) != 0) {
            es_log(ES_ERROR, "out of memory building a batch", ES_END);
            return GIVE_UP;
        }
        iov.iov_base = f->peek.p;
        iov.iov_len = f->peek.len;
        if (send_all(c->fd, &iov, 1) != 0) {
            lost(w, strerror(errno));
            return AGAIN;
        }
    }
    rc = read_peek(w, c, f);
    if (f->ahead && (rc != DONE || !w->guess_ok)) {
        /* refused, or the guess was wrong: the transaction sent ahead
           goes, and the batch starts over from the peek */
        if (discard(w, c, f) != 0) {
            return AGAIN;
        }
        if (rc == DONE) {
            pthread_mutex_lock(&w->mu);
            w->stats.missed++;
            pthread_mutex_unlock(&w->mu);
            return AGAIN;
        }
    }
    if (rc == REFUSED) {
        return on_error(w, w->err);
    }
    if (rc != DONE) {
        return rc;
    }
    if (f->ahead) {
        /* the guess was Redis's answer: what went ahead is what
           deciding now would send */
        appended = f->appended;
    } else {
        appended = es_dplan_decide(&f->plan, f->b->items, f->b->n);
        if (build_mark(w, f, appended) != 0) {
            es_log(ES_ERROR, "out of memory building a batch", ES_END);
            return GIVE_UP;
        }
    }
    /* the next batch's peek rides along, behind this EXEC, and its
       transaction too when the guesses have been right */
    nb = queued_next(w);
    if (nb != NULL && plan_next(w, f, next, nb) != 0) {
        next->ahead = 0;
        nb = NULL;
    }
    if ((niov = build_iov(w, f, nb ? next : NULL)) < 0) {
        es_log(ES_ERROR, "out of memory building a batch", ES_END);
        return GIVE_UP;
    }
    if (send_all(c->fd, w->iov, niov) != 0) {
        lost(w, strerror(errno));
        return AGAIN;
    }
    f->ahead = 0;
    next->sent = nb != NULL;
    rc = read_exec(w, c, f, appended);
    if (rc != DONE && next->sent) {
        /* the batch starts over: the next peek's answer is stale, and
           what went ahead with it must not run before this batch */
        if (skip_reply(w, c) != 0 || skip_reply(w, c) != 0) {
            return rc == GIVE_UP ? GIVE_UP : AGAIN;
        }
        next->sent = 0;
        w->watching = 1;
        if (next->ahead && discard(w, c, next) != 0) {
            return rc == GIVE_UP ? GIVE_UP : AGAIN;
        }
    }
    if (rc == REFUSED) {
        return on_error(w, w->err);
    }
    return rc;
}

/* Writes f's batch (its peek perhaps sent already): DONE or GIVE_UP. */
static int write_batch(es_swriter *w, flight *f, flight *next)
{
    int stop_tries = 0;

    for (;;) {
        int rc;

        if (es_stopping() && stop_tries++ >= STOP_TRIES) {
            return GIVE_UP;
        }
        rc = attempt(w, f, next);
        if (rc != AGAIN) {
            if (rc == DONE) {
                count(w, f);
            }
            return rc;
        }
    }
}

static void *writer_main(void *arg)
{
    es_swriter *w = arg;
    int cur = 0, committed = 0;

    for (;;) {
        flight *f = &w->fl[cur], *next = &w->fl[cur ^ 1];
        es_xbatch *b;
        int rc;

        pthread_mutex_lock(&w->mu);
        if (w->qlen == 0 && !w->closing) {
            long long t0 = es_mono_ms();
            while (w->qlen == 0 && !w->closing) {
                pthread_cond_wait(&w->cv, &w->mu);
            }
            w->stats.idle_ms += es_mono_ms() - t0;
        }
        if (w->qlen == 0) {
            pthread_mutex_unlock(&w->mu);
            break;
        }
        b = w->queue[w->qhead];
        pthread_mutex_unlock(&w->mu);

        if (f->b != b) {
            f->sent = 0; /* not planned ahead: planned in attempt */
            f->ahead = 0;
            if (es_dplan_ranges(&f->plan, b->items, b->n) != 0) {
                es_log(ES_ERROR, "out of memory planning a batch", ES_END);
                rc = GIVE_UP;
                goto done;
            }
            /* next's plan is the batch committed just before, if any */
            es_dplan_guess(&f->plan, committed ? &next->plan : NULL);
            f->guessed = 1;
            f->b = b;
        }
        next->b = NULL;
        next->sent = 0;
        next->ahead = 0;
        rc = write_batch(w, f, next);
        f->b = NULL;
        f->sent = 0;

    done:
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
        committed = 1;
        cur ^= 1;
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
    w->guess_ok = 1; /* a first backfill: every chunk byte is new */
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
    if (w->nfree == 0 && !w->failed) {
        long long t0 = es_mono_ms();
        while (w->nfree == 0 && !w->failed) {
            if (pthread_cond_timedwait(&w->cv, &w->mu, &until) != 0) {
                break;
            }
        }
        w->stats.full_ms += es_mono_ms() - t0;
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
    for (int i = 0; i < 2; i++) {
        es_dplan_free(&w->fl[i].plan);
        es_resp_free(&w->fl[i].peek);
        es_resp_free(&w->fl[i].mark);
    }
    es_resp_in_free(&w->in);
    free(w->iov);
    es_redis_free(w->r);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
