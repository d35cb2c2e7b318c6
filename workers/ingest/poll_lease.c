/*
 * poll_lease.c - the poller's lease in Redis (see poll_lease.h).
 */
#include <stdio.h>
#include <string.h>

#include "es_keys.h"
#include "es_log.h"
#include "es_worker.h"
#include "poll_lease.h"

void es_poll_lease_init(es_poll_lease *l, es_redis *r, const char *holder,
                        long long ttl_ms)
{
    memset(l, 0, sizeof(*l));
    l->r = r;
    l->holder = holder;
    l->ttl_ms = ttl_ms > 0 ? ttl_ms : 1;
}

/* A standby tries this often: a released lease is taken within it. */
static long long try_every(const es_poll_lease *l)
{
    long long t = l->ttl_ms / 3;

    return t < 100 ? 100 : t > 1000 ? 1000 : t;
}

int es_poll_lease_tick(es_poll_lease *l)
{
    long long now = es_mono_ms();
    redisReply *rep;
    int was = l->held;

    if (now < l->next_mono) {
        return l->held;
    }
    rep = es_redis_cmd(l->r, "FCALL es_ingest_lease 1 %s %s %lld hold",
                       ES_KEY_INGEST_POLLER, l->holder, l->ttl_ms);
    if (rep == NULL || rep->type != REDIS_REPLY_STRING) {
        es_log(ES_WARN, "poller lease not renewed",
               ES_STR("error", rep && rep->type == REDIS_REPLY_ERROR
                                   ? rep->str
                                   : "no answer"),
               ES_END);
        if (rep != NULL) {
            freeReplyObject(rep);
        }
        l->held = l->held && now < l->until_mono;
        l->next_mono = now + try_every(l);
        return l->held;
    }
    l->held = strcmp(rep->str, l->holder) == 0;
    if (l->held) {
        /* measured from before the call: Redis set the TTL after it */
        l->until_mono = now + l->ttl_ms;
        l->next_mono = now + (l->ttl_ms / 3 > 1 ? l->ttl_ms / 3 : 1);
        l->other[0] = '\0';
        if (!was) {
            es_log(ES_INFO, "poller lease taken: this process polls Reddit",
                   ES_INT("ttl_ms", l->ttl_ms), ES_END);
        }
    } else {
        if (was || strcmp(l->other, rep->str) != 0) {
            es_log(ES_INFO,
                   was ? "poller lease lost: standing by"
                       : "poller lease held elsewhere: standing by",
                   ES_STR("holder", rep->str), ES_END);
        }
        snprintf(l->other, sizeof(l->other), "%s", rep->str);
        l->next_mono = now + try_every(l);
    }
    freeReplyObject(rep);
    return l->held;
}

void es_poll_lease_release(es_poll_lease *l)
{
    redisReply *rep;

    if (!l->held) {
        return;
    }
    rep = es_redis_cmd(l->r, "FCALL es_ingest_lease 1 %s %s %lld release",
                       ES_KEY_INGEST_POLLER, l->holder, l->ttl_ms);
    if (rep != NULL) {
        freeReplyObject(rep);
    }
    l->held = 0;
    /* a standby's first try comes after its usual wait, not at once */
    l->next_mono = es_mono_ms() + try_every(l);
    es_log(ES_INFO, "poller lease released", ES_END);
}
