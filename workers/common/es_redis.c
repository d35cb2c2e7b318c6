/*
 * es_redis.c - blocking Redis with reconnection (see es_redis.h).
 *
 * Each connection resolves the host anew (hiredis calls getaddrinfo() in
 * redisConnectWithTimeout), so a DNS change such as an ElastiCache
 * failover is followed on the next reconnect. With a redis+sentinel://
 * address the sentinels are asked for the primary before each connection
 * and the node's ROLE is checked (es_redis_sentinel.h); a -READONLY reply
 * (the primary was demoted under us) closes the connection like a lost one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "es_backoff.h"
#include "es_log.h"
#include "es_redis.h"
#include "es_redis_role.h"
#include "es_redis_sentinel.h"
#include "es_redis_url.h"
#include "es_worker.h"

struct es_redis {
    es_redis_url url;
    redisContext *c;
    long long timeout_ms;
    int up;        /* last attempt worked */
    int ever_down; /* logged the outage already */
    es_backoff backoff;
    es_redis_addr primary;     /* where the last connection went */
    unsigned long connections; /* opened so far */
};

es_redis *es_redis_new(const char *url, char *err, size_t errlen)
{
    es_redis *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (es_redis_url_parse(url, &r->url, err, errlen) != 0) {
        free(r);
        return NULL;
    }
    r->timeout_ms = 10000;
    r->up = 1;
    es_backoff_init(&r->backoff, 100, 5000);
    return r;
}

void es_redis_free(es_redis *r)
{
    if (r == NULL) {
        return;
    }
    if (r->c) {
        redisFree(r->c);
    }
    free(r);
}

static struct timeval tv_of(long long ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

void es_redis_set_timeout(es_redis *r, long long ms)
{
    r->timeout_ms = ms;
    if (r->c) {
        redisSetTimeout(r->c, tv_of(ms));
    }
}

unsigned long es_redis_connections(const es_redis *r)
{
    return r->connections;
}

int es_redis_up(const es_redis *r)
{
    return r->up;
}

static void drop(es_redis *r, const char *why)
{
    if (r->up) {
        es_log(ES_WARN, "redis connection lost", ES_STR("error", why), ES_END);
    }
    r->up = 0;
    r->ever_down = 1;
    if (r->c) {
        redisFree(r->c);
        r->c = NULL;
    }
}

/*
 * Where to connect: the URL's host, or the primary the sentinels name now.
 * A change of primary is logged, which is how an operator (and the tests)
 * see a worker follow a failover.
 */
static int find_target(es_redis *r, es_redis_addr *to)
{
    char err[256];

    if (r->url.nsentinels == 0) {
        snprintf(to->host, sizeof(to->host), "%s", r->url.host);
        to->port = r->url.port;
        return 0;
    }
    if (es_redis_sentinel_primary(&r->url, to, err, sizeof(err)) != 0) {
        drop(r, err);
        return -1;
    }
    if (strcmp(to->host, r->primary.host) != 0 || to->port != r->primary.port) {
        es_log(ES_INFO, "redis primary from sentinel", ES_STR("host", to->host),
               ES_INT("port", to->port), ES_STR("master", r->url.master),
               ES_END);
        r->primary = *to;
    }
    return 0;
}

/* Opens the connection if there is none; 0 on success. */
static int connect_once(es_redis *r)
{
    redisReply *reply;
    struct timeval ctv = tv_of(3000);
    es_redis_addr to;

    if (r->c) {
        return 0;
    }
    if (r->url.is_unix) {
        r->c = redisConnectUnixWithTimeout(r->url.path, ctv);
    } else {
        if (find_target(r, &to) != 0) {
            return -1;
        }
        r->c = redisConnectWithTimeout(to.host, to.port, ctv);
    }
    if (r->c == NULL || r->c->err) {
        drop(r, r->c ? r->c->errstr : "cannot allocate context");
        return -1;
    }
    redisSetTimeout(r->c, tv_of(r->timeout_ms));
    if (r->url.user[0] != '\0' || r->url.password[0] != '\0') {
        /* an ACL user's password may be empty (a nopass user) */
        reply =
            r->url.user[0] != '\0'
                ? redisCommand(r->c, "AUTH %s %s", r->url.user, r->url.password)
                : redisCommand(r->c, "AUTH %s", r->url.password);
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            drop(r, reply ? "authentication failed" : r->c->errstr);
            if (reply) {
                freeReplyObject(reply);
            }
            return -1;
        }
        freeReplyObject(reply);
    }
    if (r->url.db) {
        reply = redisCommand(r->c, "SELECT %d", r->url.db);
        if (reply == NULL || reply->type == REDIS_REPLY_ERROR) {
            drop(r, reply ? "cannot select database" : r->c->errstr);
            if (reply) {
                freeReplyObject(reply);
            }
            return -1;
        }
        freeReplyObject(reply);
    }
    if (r->url.nsentinels > 0) {
        char err[160];

        if (es_redis_check_primary(r->c, err, sizeof(err)) != 0) {
            drop(r, err);
            return -1;
        }
    }
    if (!r->up && r->ever_down) {
        es_log(ES_INFO, "redis connection restored", ES_END);
    }
    r->up = 1;
    r->connections++;
    es_backoff_reset(&r->backoff);
    return 0;
}

/*
 * A reply of LOADING means Redis restarted and is reading its AOF: the data
 * is not there yet, so wait rather than act on an empty view.
 */
static int is_loading(const redisReply *reply)
{
    return reply && reply->type == REDIS_REPLY_ERROR &&
           strncmp(reply->str, "LOADING", 7) == 0;
}

static void wait_retry(es_redis *r)
{
    long long ms = es_backoff_next(&r->backoff);

    if (es_stopping()) {
        /* es_sleep_ms returns at once while stopping: pace the grace tries */
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
        return;
    }
    es_sleep_ms(ms);
}

/*
 * Whether another attempt may be made. A stop request does not cut Redis
 * off: a worker told to stop still writes and acknowledges the batch in
 * hand, so while stopping a call gets a few more tries (about two seconds)
 * before it gives up, instead of retrying without end.
 */
static int may_try(int *stop_tries)
{
    if (!es_stopping()) {
        return 1;
    }
    return (*stop_tries)++ < 10;
}

redisReply *es_redis_argv(es_redis *r, int argc, const char **argv,
                          const size_t *lens)
{
    int stop_tries = 0;

    while (may_try(&stop_tries)) {
        redisReply *reply;

        if (connect_once(r) != 0) {
            wait_retry(r);
            continue;
        }
        reply = redisCommandArgv(r->c, argc, argv, lens);
        if (reply == NULL) {
            drop(r, r->c->errstr);
            wait_retry(r);
            continue;
        }
        if (is_loading(reply)) {
            freeReplyObject(reply);
            wait_retry(r);
            continue;
        }
        if (es_redis_is_readonly(reply)) {
            freeReplyObject(reply);
            drop(r, "the node became a replica (READONLY)");
            wait_retry(r);
            continue;
        }
        return reply;
    }
    return NULL;
}

redisContext *es_redis_context(es_redis *r)
{
    int stop_tries = 0;

    while (may_try(&stop_tries)) {
        if (connect_once(r) == 0) {
            return r->c;
        }
        wait_retry(r);
    }
    return NULL;
}

void es_redis_lost(es_redis *r, const char *why)
{
    drop(r, why);
    wait_retry(r);
}

static redisReply *vcmd(es_redis *r, int retry, const char *fmt, va_list ap)
{
    int stop_tries = 0;

    while (may_try(&stop_tries)) {
        redisReply *reply;
        va_list cp;

        if (connect_once(r) != 0) {
            if (!retry) {
                return NULL;
            }
            wait_retry(r);
            continue;
        }
        va_copy(cp, ap);
        reply = redisvCommand(r->c, fmt, cp);
        va_end(cp);
        if (reply == NULL) {
            drop(r, r->c->errstr);
            if (!retry) {
                return NULL;
            }
            wait_retry(r);
            continue;
        }
        if (retry && is_loading(reply)) {
            freeReplyObject(reply);
            wait_retry(r);
            continue;
        }
        if (es_redis_is_readonly(reply)) {
            /* a demoted primary: the next connection asks again */
            freeReplyObject(reply);
            drop(r, "the node became a replica (READONLY)");
            if (!retry) {
                return NULL;
            }
            wait_retry(r);
            continue;
        }
        return reply;
    }
    return NULL;
}

redisReply *es_redis_cmd(es_redis *r, const char *fmt, ...)
{
    va_list ap;
    redisReply *reply;

    va_start(ap, fmt);
    reply = vcmd(r, 1, fmt, ap);
    va_end(ap);
    return reply;
}

redisReply *es_redis_cmd_on(es_redis *r, unsigned long conn, const char *fmt,
                            ...)
{
    va_list ap;
    redisReply *reply;

    if (r->c == NULL || r->connections != conn) {
        return NULL;
    }
    va_start(ap, fmt);
    reply = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    if (reply == NULL) {
        drop(r, r->c->errstr);
        return NULL;
    }
    if (es_redis_is_readonly(reply)) {
        freeReplyObject(reply);
        drop(r, "the node became a replica (READONLY)");
        return NULL;
    }
    return reply;
}

redisReply *es_redis_try(es_redis *r, const char *fmt, ...)
{
    va_list ap;
    redisReply *reply;

    va_start(ap, fmt);
    reply = vcmd(r, 0, fmt, ap);
    va_end(ap);
    return reply;
}

int es_redis_pipeline(es_redis *r, const es_redis_cmdv *cmds, int n,
                      redisReply **replies)
{
    int stop_tries = 0;

    while (may_try(&stop_tries)) {
        int i, got = 0, loading = 0, readonly = 0;

        if (connect_once(r) != 0) {
            wait_retry(r);
            continue;
        }
        for (i = 0; i < n; i++) {
            if (redisAppendCommandArgv(r->c, cmds[i].argc, cmds[i].argv,
                                       cmds[i].lens) != REDIS_OK) {
                break;
            }
        }
        if (i == n) {
            for (got = 0; got < n; got++) {
                void *rep = NULL;
                if (redisGetReply(r->c, &rep) != REDIS_OK || rep == NULL) {
                    break;
                }
                replies[got] = rep;
                loading |= is_loading(rep);
                readonly |= es_redis_is_readonly(rep);
            }
        }
        if (got == n && !loading && !readonly) {
            return 0;
        }
        for (i = 0; i < got; i++) {
            freeReplyObject(replies[i]);
            replies[i] = NULL;
        }
        if (loading) {
            wait_retry(r);
            continue;
        }
        drop(r, readonly          ? "the node became a replica (READONLY)"
                : r->c->errstr[0] ? r->c->errstr
                                  : "pipeline failed");
        wait_retry(r);
    }
    return -1;
}
